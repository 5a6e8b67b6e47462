"""Server-side secrets at rest: AES-256-GCM under keys that live in the environment, not the database.

Used for what the server itself must be able to read back, such as TOTP secrets (it must compute
codes to verify them) — unlike patient data, which only browsers can decrypt (docs/e2ee.md).

A keyring holds one or more 32-byte keys: the first encrypts, all decrypt. Every ciphertext names
the key that made it (``kid``, the first 8 hex digits of the key's SHA-256), so a new key can be put
in front, the data re-encrypted (``sprechzimmer rotate_keys``), and the old key removed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "sz1"
NONCE_BYTES = 12


class KeyFormatError(ValueError):
    """A key that is not 32 bytes of base64url; the message is German (shown at start-up)."""


class SealedDataError(ValueError):
    """Ciphertext that none of the keys opens (wrong key, damaged or not sealed by us)."""


def parse_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError):
        raise KeyFormatError("ist kein Base64url-Text") from None
    if len(key) != 32:
        raise KeyFormatError(f"muss 32 Bytes lang sein (Base64url), hat {len(key)}")
    return key


def new_key_text() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def derive_key(secret: str, purpose: str) -> bytes:
    """A key of its own for ``purpose`` from SECRET_KEY (HKDF-SHA256), for setups without one."""
    return HKDF(hashes.SHA256(), 32, salt=None, info=purpose.encode()).derive(secret.encode())


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


@dataclass(frozen=True)
class Keyring:
    keys: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("a keyring needs at least one key")

    @property
    def current_id(self) -> str:
        return key_id(self.keys[0])

    def key(self, kid: str) -> bytes:
        for key in self.keys:
            if key_id(key) == kid:
                return key
        raise SealedDataError(f"no key with id {kid}")

    def seal_text(self, text: str, aad: bytes) -> str:
        nonce = os.urandom(NONCE_BYTES)
        blob = nonce + AESGCM(self.keys[0]).encrypt(nonce, text.encode(), aad)
        return f"{PREFIX}.{self.current_id}.{base64.urlsafe_b64encode(blob).decode().rstrip('=')}"

    def open_text(self, sealed: str, aad: bytes) -> str:
        prefix, _, rest = (sealed or "").partition(".")
        kid, _, body = rest.partition(".")
        if prefix != PREFIX or not kid or not body:
            raise SealedDataError("not sealed by this server")
        try:
            blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return AESGCM(self.key(kid)).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad).decode()
        except (binascii.Error, ValueError, InvalidTag):
            raise SealedDataError("damaged or sealed for another purpose") from None

    def sealed_with_current(self, sealed: str) -> bool:
        return sealed.startswith(f"{PREFIX}.{self.current_id}.")


@lru_cache(maxsize=16)
def keyring_for(keys: tuple[bytes, ...], secret_key: str, purpose: str) -> Keyring:
    """The keyring of a setting's keys or, where none are set, of one key derived from SECRET_KEY
    for ``purpose`` (cached: settings change only in tests, and then the arguments differ)."""
    return Keyring(keys or (derive_key(secret_key, purpose),))
