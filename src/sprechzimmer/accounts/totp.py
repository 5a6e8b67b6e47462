"""RFC 6238 time-based one-time codes (SHA-1, 6 digits, 30 s), as authenticator apps compute them.

allauth checks the codes; this computes them for the demo command and for tests that play the
authenticator app.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

PERIOD = 30


def code_at(secret: str, at: float) -> str:
    key = base64.b32decode(secret.replace(" ", "").upper() + "=" * (-len(secret.replace(" ", "")) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at) // PERIOD), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def code_now(secret: str) -> str:
    return code_at(secret, time.time())
