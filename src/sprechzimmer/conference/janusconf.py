"""The Janus configuration the project runs with, generated (docs/operations.md, issue 18).

Pure Python, no Django: the tests' fixture, ``sprechzimmer janusconf`` and an operator's deployment
script write the same folder. Only what a conference needs is loaded: the VideoRoom plugin, the
HTTP transport (Django's server-side calls and the admin API, both on loopback) and the WebSocket
transport (the browsers, behind the reverse proxy). The plugin and transport folders of the
generated configuration hold links to those three libraries only, so a plugin a Debian update adds
is never loaded by accident.

Who may use Janus (docs/e2ee.md, "What the SFU sees"):

- **Janus itself** (``token_auth`` with ``token_auth_secret``): every request carries an
  HMAC-signed token ``<expiry>,janus,janus.plugin.videoroom:<signature>`` that Django issues. Janus
  checks signature and expiry on every request (keep-alives too), so an expired token is refused by
  Janus with no list to clean up, and a session whose browser holds no fresh token times out.
- **The room** (VideoRoom ``allowed``): every participant has a random room token of their own in
  the room's list; Django removes it (and kicks the participant) when the participant is removed or
  the appointment ends, and destroys the room. Subscriptions need the ``private_id`` of a joined
  publisher (``require_pvtid``), so a kicked participant cannot subscribe either.
- Rooms are created only with the VideoRoom ``admin_key``; each room has a secret of its own.

All those secrets are derived from one operator secret (``JANUS_SECRET``) with labelled HMACs, so
Django and the generated configuration agree without a second place to keep them.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

#: Where Debian's janus package puts its libraries (bookworm, amd64/arm64 alike via the triplet).
DEBIAN_LIBRARY_ROOTS = (Path("/usr/lib/x86_64-linux-gnu/janus"), Path("/usr/lib/aarch64-linux-gnu/janus"))
PLUGINS = ("libjanus_videoroom.so",)
TRANSPORTS = ("libjanus_http.so", "libjanus_websockets.so")
PLUGIN_PACKAGE = "janus.plugin.videoroom"


def derive(secret: str, label: str) -> str:
    """One of the secrets Janus and Django share, from the operator's ``JANUS_SECRET``."""
    digest = hmac.new(secret.encode(), f"sprechzimmer/janus/{label}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def admin_secret(secret: str) -> str:
    return derive(secret, "admin-api")


def token_secret(secret: str) -> str:
    return derive(secret, "token-auth")


def room_admin_key(secret: str) -> str:
    return derive(secret, "videoroom-admin-key")


def room_secret(secret: str, room: str) -> str:
    return derive(secret, f"room:{room}")


def signed_token(secret: str, expiry: int) -> str:
    """A Janus token for the VideoRoom plugin, valid until ``expiry`` (Unix seconds): Janus's own
    format, HMAC-SHA1 under ``token_auth_secret`` in standard base64 (janus-gateway src/auth.c)."""
    data = f"{int(expiry)},janus,{PLUGIN_PACKAGE}"
    signature = hmac.new(token_secret(secret).encode(), data.encode(), hashlib.sha1).digest()
    return f"{data}:{base64.b64encode(signature).decode()}"


@dataclass
class JanusConfig:
    """What differs between a test run and a production server."""

    secret: str
    http_port: int = 8088
    admin_port: int = 7088
    ws_port: int = 8188
    #: The HTTP and admin API listen here only; the WebSocket transport too (the proxy forwards).
    bind_ip: str = "127.0.0.1"
    rtp_ports: tuple[int, int] = (20000, 40000)
    #: Public address(es) for the host candidates behind a 1:1 NAT (nat_1_1_mapping); empty = none.
    public_ip: str = ""
    #: Addresses or interfaces ICE uses, empty = all (the tests keep it to loopback).
    ice_enforce: list[str] = field(default_factory=list)
    stun_server: str = ""
    stun_port: int = 3478
    #: Janus's own relay (rarely needed: Janus has a public address; browsers get TURN from Django).
    turn_server: str = ""
    turn_port: int = 3478
    turn_type: str = "udp"
    turn_user: str = ""
    turn_password: str = ""
    session_timeout: int = 60
    debug_level: int = 4
    library_root: Path | None = None


def library_root() -> Path:
    for root in DEBIAN_LIBRARY_ROOTS:
        if (root / "plugins" / PLUGINS[0]).exists():
            return root
    raise FileNotFoundError("Janus is not installed (apt-get install janus): no libjanus_videoroom.so found")


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    # libconfig strings: JSON's escaping of quotes and backslashes is the same.
    return json.dumps(str(value))


def _jcfg(sections: dict[str, dict[str, object]]) -> str:
    lines = ["# Generated by sprechzimmer.conference.janusconf; edit the generator, not this file."]
    for name, items in sections.items():
        lines.append(f"{name}: {{")
        lines.extend(f"\t{key} = {_value(value)}" for key, value in items.items() if value is not None)
        lines.append("}")
    return "\n".join(lines) + "\n"


def files(config: JanusConfig, folder: Path) -> dict[str, str]:
    """The configuration files by name (without the library links)."""
    nat: dict[str, object] = {"nice_debug": False, "ignore_mdns": True}
    if config.stun_server:
        nat |= {"stun_server": config.stun_server, "stun_port": config.stun_port}
    if config.public_ip:
        nat["nat_1_1_mapping"] = config.public_ip
    if config.ice_enforce:
        nat["ice_enforce_list"] = ",".join(config.ice_enforce)
    if config.turn_server:
        nat |= {
            "turn_server": config.turn_server,
            "turn_port": config.turn_port,
            "turn_type": config.turn_type,
            "turn_user": config.turn_user,
            "turn_pwd": config.turn_password,
        }
    janus: dict[str, dict[str, object]] = {
        "general": {
            "configs_folder": str(folder),
            "plugins_folder": str(folder / "plugins"),
            "transports_folder": str(folder / "transports"),
            "events_folder": str(folder / "events"),
            "loggers_folder": str(folder / "loggers"),
            "log_to_stdout": True,
            "debug_level": config.debug_level,
            "server_name": "sprechzimmer",
            "session_timeout": config.session_timeout,
            "reclaim_session_timeout": 0,
            "admin_secret": admin_secret(config.secret),
            "token_auth": True,
            "token_auth_secret": token_secret(config.secret),
            # No recordings or file playback anywhere the plugins could write (nothing is recorded).
            "protected_folders": ["/bin", "/boot", "/dev", "/etc", "/home", "/initrd", "/lib", "/proc", "/root"],
        },
        "media": {"rtp_port_range": f"{config.rtp_ports[0]}-{config.rtp_ports[1]}"},
        "nat": nat,
        "events": {"broadcast": False},
    }
    http: dict[str, dict[str, object]] = {
        "general": {
            "json": "compact",
            "base_path": "/janus",
            "http": True,
            "port": config.http_port,
            "ip": config.bind_ip,
            "https": False,
        },
        "admin": {
            "admin_base_path": "/admin",
            "admin_http": True,
            "admin_port": config.admin_port,
            "admin_ip": config.bind_ip,
            "admin_https": False,
        },
    }
    websockets: dict[str, dict[str, object]] = {
        "general": {
            "json": "compact",
            "ws": True,
            "ws_port": config.ws_port,
            "ws_ip": config.bind_ip,
            "wss": False,
        },
        "admin": {"admin_ws": False, "admin_wss": False},
    }
    videoroom: dict[str, dict[str, object]] = {
        "general": {
            "admin_key": room_admin_key(config.secret),
            "lock_rtp_forward": True,
            "string_ids": True,
        }
    }
    return {
        "janus.jcfg": _jcfg(janus),
        "janus.transport.http.jcfg": _jcfg(http),
        "janus.transport.websockets.jcfg": _jcfg(websockets),
        "janus.plugin.videoroom.jcfg": _jcfg(videoroom),
    }


def write(config: JanusConfig, folder: Path) -> Path:
    """Writes the configuration folder (readable by its owner only: it holds the secrets) and
    returns the path of janus.jcfg. Start Janus with ``janus -F <folder> -C <folder>/janus.jcfg``."""
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    root = config.library_root or library_root()
    for kind, names in (("plugins", PLUGINS), ("transports", TRANSPORTS), ("events", ()), ("loggers", ())):
        sub = folder / kind
        sub.mkdir(exist_ok=True)
        for stale in sub.iterdir():
            stale.unlink()
        for name in names:
            (sub / name).symlink_to(root / kind / name)
    for name, text in files(config, folder).items():
        path = folder / name
        path.write_text(text)
        path.chmod(0o600)
    return folder / "janus.jcfg"


def command(folder: Path) -> list[str]:
    folder = Path(folder).resolve()
    return ["janus", "-F", str(folder), "-C", str(folder / "janus.jcfg")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Writes the Janus configuration folder (docs/operations.md).")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--public-ip", default="", help="public address for the host candidates (1:1 NAT)")
    parser.add_argument("--rtp-ports", default="20000-40000", help="UDP port range for media, e.g. 20000-40000")
    parser.add_argument("--stun", default="", help="STUN server host[:port] for Janus behind NAT")
    args = parser.parse_args(argv)
    secret = os.environ.get("JANUS_SECRET", "")
    if len(secret) < 32:
        print("JANUS_SECRET must be set (at least 32 characters), the same as Django's.", file=sys.stderr)
        return 2
    try:
        low, high = (int(part) for part in args.rtp_ports.split("-"))
        if not 1024 <= low < high <= 65535:
            raise ValueError
    except ValueError:
        print("--rtp-ports must be two port numbers like 20000-40000.", file=sys.stderr)
        return 2
    stun_host, _, stun_port = args.stun.partition(":")
    config = JanusConfig(
        secret=secret,
        rtp_ports=(low, high),
        public_ip=args.public_ip,
        stun_server=stun_host,
        stun_port=int(stun_port or 3478),
    )
    print(write(config, args.folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
