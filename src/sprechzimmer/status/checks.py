"""Is each part of the service reachable, seen from the task worker as a user would reach it:

- ``web``: an HTTP GET of SITE_URL answers without a server error;
- ``signalling``: a websocket to SITE_URL/ws/status/ opens and the server answers through its
  channel layer (in production Redis) — the path every call's signalling takes;
- ``turn``: every TURN server of TURN_URLS answers a STUN binding request (RFC 5389 § 6), over
  UDP, TCP or TLS as its URL says; "not set up" when TURN_URLS is empty.

Each check has a short timeout and never raises; run_all() stores the results (models.py). The
conference server joins the list with issue 18.
"""

from __future__ import annotations

import base64
import os
import socket
import ssl
import struct
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from sprechzimmer.status.models import ComponentStatus

TIMEOUT = 4.0
COMPONENTS = {"web": "Webseite", "signalling": "Verbindungsaufbau (Signalisierung)", "turn": "TURN-Server"}


def web(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(base_url + "/", timeout=TIMEOUT) as response:
            return response.status < 500
    except urllib.error.HTTPError as error:
        return error.code < 500
    except (OSError, ValueError):
        return False


def _connect(host: str, port: int, tls: bool) -> socket.socket:
    raw = socket.create_connection((host, port), timeout=TIMEOUT)
    return ssl.create_default_context().wrap_socket(raw, server_hostname=host) if tls else raw


def signalling(base_url: str) -> bool:
    """Opens /ws/status/ and waits for the server's "ok" text frame (StatusConsumer)."""
    parts = urlsplit(base_url)
    tls = parts.scheme == "https"
    host, port = parts.hostname or "", parts.port or (443 if tls else 80)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /ws/status/ HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {parts.scheme}://{parts.netloc}\r\n\r\n"
    )
    try:
        with _connect(host, port, tls) as sock:
            sock.sendall(request.encode())
            received = b""
            while b"\r\n\r\n" not in received and len(received) < 8192:
                chunk = sock.recv(4096)
                if not chunk:
                    return False
                received += chunk
            head, _, rest = received.partition(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 101"):
                return False
            while len(rest) < 4:
                chunk = sock.recv(4096)
                if not chunk:
                    return False
                rest += chunk
            # An unmasked text frame from the server: 0x81, length, payload.
            return rest[0] == 0x81 and rest[2 : 2 + rest[1]] == b"ok"
    except (OSError, ValueError, IndexError):
        return False


def _turn_target(url: str) -> tuple[str, int, str] | None:
    """(host, port, transport) of "turn:host:port?transport=udp" / "turns:host:port"."""
    scheme, _, rest = url.partition(":")
    if scheme not in ("turn", "turns", "stun") or not rest:
        return None
    address, _, query = rest.partition("?")
    transport = "tls" if scheme == "turns" else ("tcp" if "transport=tcp" in query else "udp")
    host, _, port = address.rpartition(":") if address.count(":") == 1 or address.startswith("[") else (address, "", "")
    host = host.strip("[]") or address
    try:
        number = int(port) if port else (5349 if scheme == "turns" else 3478)
    except ValueError:
        return None
    return host, number, transport


def stun_binding(host: str, port: int, transport: str) -> bool:
    """A STUN binding request; True on a binding success response with our transaction id."""
    transaction = os.urandom(12)
    request = struct.pack("!HHI", 0x0001, 0, 0x2112A442) + transaction
    try:
        if transport == "udp":
            with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.settimeout(TIMEOUT / 2)
                for _ in range(2):  # UDP: one retransmission
                    sock.sendto(request, (host, port))
                    try:
                        answer = sock.recv(2048)
                        break
                    except TimeoutError:
                        continue
                else:
                    return False
        else:
            with _connect(host, port, transport == "tls") as sock:
                sock.sendall(request)
                answer = sock.recv(2048)
    except OSError:
        return False
    return len(answer) >= 20 and answer[:2] == b"\x01\x01" and answer[8:20] == transaction


def turn(urls: list[str]) -> bool | None:
    """None when no TURN server is set up; otherwise whether every one answers."""
    targets = [_turn_target(url) for url in urls]
    if not targets:
        return None
    return all(target is not None and stun_binding(*target) for target in targets)


def run_all() -> dict[str, bool | None]:
    base = settings.SITE_URL.rstrip("/")
    results: dict[str, bool | None] = {
        "web": web(base),
        "signalling": signalling(base),
        "turn": turn(settings.TURN_URLS),
    }
    now = timezone.now()
    for name, up in results.items():
        if up is None:
            ComponentStatus.objects.filter(name=name).delete()
            continue
        row = ComponentStatus.objects.filter(name=name).first()
        since = row.since if row is not None and row.up == up else now
        ComponentStatus.objects.update_or_create(name=name, defaults={"up": up, "checked_at": now, "since": since})
    return results
