"""The browser's login key scheme (static/sprechzimmer/js/lib/e2ee.js) in Python, for demo data.

Used only to make demo data and test fixtures whose keys and ciphertexts are real, i.e. that a
browser can unlock with the demo password. Production key material is always made in the browser;
the server never runs this with a real user's password.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from sprechzimmer.accounts import keyblobs

# The envelope, ECIES and record steps are the encrypting API client's (one implementation).
from sprechzimmer_client.crypto import (
    b64u,
    decrypt_record,
    encrypt_record,
    record_context,
    seal,
    unwrap_from_public_key,
    wrap_to_public_key,
)
from sprechzimmer_client.crypto import hkdf as _hkdf

__all__ = [
    "b64u",
    "decrypt_record",
    "encrypt_record",
    "record_context",
    "unwrap_from_public_key",
    "wrap_to_public_key",
]

PBKDF2_ITERATIONS = 600_000
_B32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def derive_login_secrets(email: str, password: str) -> tuple[str, bytes]:
    salt = ("sprechzimmer/v1/" + email.strip().lower()).encode()
    master = PBKDF2HMAC(hashes.SHA256(), 32, salt, PBKDF2_ITERATIONS).derive(
        unicodedata.normalize("NFC", password).encode()
    )
    return b64u(_hkdf(master, "sprechzimmer/v1/auth")), _hkdf(master, "sprechzimmer/v1/key-wrap")


@dataclass
class MemberKeys:
    auth_secret: str
    public_key: str
    wrapped_private_key: str
    private_key: ec.EllipticCurvePrivateKey


def member_keys(email: str, password: str) -> MemberKeys:
    auth_secret, kek = derive_login_secrets(email, password)
    private_key = ec.generate_private_key(ec.SECP256R1())
    spki = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pkcs8 = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    wrapped = seal(kek, pkcs8, "sprechzimmer/v1/private-key", keyblobs.ALG_PASSWORD_WRAP)
    return MemberKeys(auth_secret, b64u(spki), wrapped, private_key)


def new_recovery_key() -> tuple[str, bytes]:
    raw = os.urandom(20)
    bits = "".join(f"{b:08b}" for b in raw)
    text = "".join(_B32[int(bits[i : i + 5], 2)] for i in range(0, 160, 5))
    return "-".join(text[i : i + 4] for i in range(0, 32, 4)), raw


def parse_recovery_key(text: str) -> bytes | None:
    """The 20 bytes of a typed recovery key, as e2ee.js parseRecoveryKey reads it (case, spaces,
    dashes and the look-alikes O, I, L do not matter); None when it is not one."""
    clean = text.upper().replace(" ", "").replace("-", "").replace("O", "0").replace("I", "1").replace("L", "1")
    if len(clean) != 32 or any(c not in _B32 for c in clean):
        return None
    return int("".join(f"{_B32.index(c):05b}" for c in clean), 2).to_bytes(20, "big")


def wrap_with_recovery_key(raw: bytes, recovery_bytes: bytes) -> str:
    key = _hkdf(recovery_bytes, "sprechzimmer/v1/recovery")
    return seal(key, raw, "sprechzimmer/v1/recovery", keyblobs.ALG_RECOVERY_WRAP)
