"""Webhooks of the API (docs/api.md, "Webhooks"): registering an address, telling it of events and
signing each delivery.

An event carries ids and times only, never patient data (the practice's software fetches the rest
with its token). Each delivery is one row and one task with the row's id (``api.tasks``); the body
is signed as ``Sprechzimmer-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` with the
webhook's secret, so the receiver can check origin, integrity and age.

The server must not become a tool to probe its own network (SSRF): an address must resolve to
public IP addresses only, checked when it is registered and again at each delivery, and the
connection goes to the address that was checked (no second lookup a DNS answer could change in
between); redirects are not followed. ``WEBHOOK_ALLOW_PRIVATE`` lifts this for software in the
practice's own network (and for tests).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sprechzimmer.api.models import EVENTS, Webhook, WebhookDelivery
from sprechzimmer.atrest import Keyring, keyring_for

SIGNATURE_HEADER = "Sprechzimmer-Signature"
SECRET_PREFIX = "whsec_"
MAX_WEBHOOKS = 10


class UrlRefused(ValueError):
    """An address we do not send to; the message is German."""


def keyring() -> Keyring:
    return keyring_for(tuple(settings.WEBHOOK_KEYS), settings.SECRET_KEY, "sprechzimmer/v1/webhook-secret")


def _aad(organisation_id: int) -> bytes:
    return f"sprechzimmer/v1/webhook/{organisation_id}".encode()


def secret_of(webhook: Webhook) -> str:
    return keyring().open_text(webhook.secret_sealed, _aad(webhook.organisation_id))


def rotate() -> int:
    """Re-seals every webhook secret not sealed with the first of ``WEBHOOK_KEYS`` (``rotate_keys``).
    Returns how many changed."""
    ring, changed = keyring(), 0
    for hook in Webhook.objects.select_for_update().order_by("pk"):
        if not ring.sealed_with_current(hook.secret_sealed):
            hook.secret_sealed = ring.seal_text(secret_of(hook), _aad(hook.organisation_id))
            hook.save(update_fields=["secret_sealed"])
            changed += 1
    return changed


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The header's value: ``t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>." + body>``."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


# --- the address ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked IP address the connection goes to


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: object) -> Target:
    """The address parsed and resolved, or UrlRefused with the reason."""
    if not isinstance(url, str) or not url.strip():
        raise UrlRefused("Bitte geben Sie die Adresse an, an die Sprechzimmer die Ereignisse senden soll.")
    url = url.strip()
    if len(url) > 500:
        raise UrlRefused("Die Adresse ist zu lang (höchstens 500 Zeichen).")
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UrlRefused("Das ist keine gültige Adresse (z. B. https://pvs.example.de/sprechzimmer).") from None
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE
    if parts.scheme not in (("https", "http") if allow_private else ("https",)) or not parts.hostname:
        raise UrlRefused("Die Adresse muss mit https:// beginnen (z. B. https://pvs.example.de/sprechzimmer).")
    if parts.username or parts.password:
        raise UrlRefused("Die Adresse darf keinen Benutzernamen und kein Passwort enthalten.")
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise UrlRefused("Die Adresse enthält Leer- oder Steuerzeichen.")
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UrlRefused(f"Den Rechner „{host}“ gibt es nicht (der Name lässt sich nicht auflösen).") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise UrlRefused(f"Den Rechner „{host}“ gibt es nicht (der Name lässt sich nicht auflösen).")
    if not allow_private and not all(_public(a) for a in addresses):
        raise UrlRefused(
            "Diese Adresse liegt in einem privaten oder lokalen Netz. Webhooks gehen nur an öffentlich "
            "erreichbare Adressen."
        )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path, addresses[0])


# --- registering ---------------------------------------------------------------------------------


def register(organisation, url: str, events: list[str], created_by) -> tuple[Webhook, str]:
    """The new webhook and its secret, shown once; UrlRefused for an address we do not send to."""
    check_url(url)
    if organisation.webhooks.count() >= MAX_WEBHOOKS:
        raise UrlRefused(f"Höchstens {MAX_WEBHOOKS} Webhooks je Praxis.")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    webhook = Webhook.objects.create(
        organisation=organisation,
        url=url.strip(),
        events=",".join(e for e in EVENTS if e in events),
        secret_sealed=keyring().seal_text(secret, _aad(organisation.pk)),
        created_by=created_by,
    )
    return webhook, secret


# --- events --------------------------------------------------------------------------------------


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def emit(organisation_id: int, event: str, data: dict[str, object]) -> int:
    """Records a delivery of ``event`` for each of the practice's webhooks that wants it and hands
    each to the task queue once the transaction commits. ``data`` holds ids and times only.
    Returns how many deliveries were made."""
    from sprechzimmer.api import tasks

    hooks = [h for h in Webhook.objects.filter(organisation_id=organisation_id) if event in h.event_list]
    ids = []
    for hook in hooks:
        body = {
            "id": str(uuid.uuid4()),
            "event": event,
            "created": _stamp(timezone.now()),
            "practice_id": organisation_id,
            "data": {k: _stamp(v) if isinstance(v, dt.datetime) else v for k, v in data.items()},
        }
        ids.append(WebhookDelivery.objects.create(webhook=hook, event=event, body=json.dumps(body)).pk)
    for pk in ids:
        task = tasks.deliver_webhook.s(pk)
        # The retry policy travels with the task, so it is this process's settings that count.
        task.retries, task.retry_delay = settings.WEBHOOK_RETRIES, settings.WEBHOOK_RETRY_SECONDS
        transaction.on_commit(lambda task=task: tasks.deliver_webhook.huey.enqueue(task))
    return len(ids)


# --- sending -------------------------------------------------------------------------------------


class DeliveryFailed(Exception):
    """An attempt that did not reach a 2xx answer; ``reason`` is German and names no secret."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the checked address, not to a second lookup of the name."""

    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self.target = target

    def connect(self) -> None:
        self.sock = socket.create_connection((self.target.address, self.target.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """TLS to the checked address; the certificate is checked against the name."""

    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self.target = target

    def connect(self) -> None:
        sock = socket.create_connection((self.target.address, self.target.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.target.host)  # type: ignore[attr-defined]


def post(webhook: Webhook, delivery: WebhookDelivery) -> None:
    """One attempt: the body, signed now, to the webhook's address; DeliveryFailed unless 2xx."""
    try:
        target = check_url(webhook.url)
    except UrlRefused as refused:
        raise DeliveryFailed(str(refused)) from None
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Sprechzimmer-Webhook/1",
        "Sprechzimmer-Event": delivery.event,
        "Sprechzimmer-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: signature(secret_of(webhook), int(time.time()), body),
    }
    kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    connection = kind(target, settings.WEBHOOK_TIMEOUT)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(1024)
    except TimeoutError:
        raise DeliveryFailed("keine Antwort in der Wartezeit") from None
    except ConnectionRefusedError:
        raise DeliveryFailed("Verbindung abgelehnt") from None
    except ssl.SSLError:
        raise DeliveryFailed("TLS-Fehler (Zertifikat ungültig?)") from None
    except (OSError, http.client.HTTPException) as error:
        raise DeliveryFailed(f"keine Verbindung ({type(error).__name__})") from None
    finally:
        connection.close()
    if not 200 <= response.status < 300:
        raise DeliveryFailed(f"HTTP {response.status}")
