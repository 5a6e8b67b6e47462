"""ICE servers for WebRTC from settings, with time-limited TURN credentials.

TURN uses coturn's REST-API scheme (``use-auth-secret``): username ``<expiry>:<id>``, credential
base64(HMAC-SHA1(shared secret, username)). coturn checks the same HMAC and refuses the credential
after the expiry; nothing is stored (docs/operations.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from django.conf import settings


def turn_credentials(secret: str, ttl: int, now: float | None = None) -> tuple[str, str]:
    expiry = int((now if now is not None else time.time()) + ttl)
    username = f"{expiry}:{secrets.token_hex(6)}"
    credential = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return username, credential


def ice_servers() -> list[dict]:
    """What RTCPeerConnection gets: nothing on one machine, STUN and TURN when configured."""
    servers: list[dict] = []
    if settings.STUN_URLS:
        servers.append({"urls": settings.STUN_URLS})
    if settings.TURN_URLS and settings.TURN_SECRET:
        username, credential = turn_credentials(settings.TURN_SECRET, settings.TURN_TTL)
        servers.append({"urls": settings.TURN_URLS, "username": username, "credential": credential})
    return servers
