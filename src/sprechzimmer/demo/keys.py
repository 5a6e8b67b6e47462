"""The browser's key scheme (static/sprechzimmer/js/lib/e2ee.js) written once more in Python.

Used only to make demo data and test fixtures whose keys and ciphertexts are real, i.e. that a
browser can unlock with the demo password. Production key material is always made in the browser;
the server never runs this with a real user's password.
"""

from __future__ import annotations

import json
import os
import unicodedata
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from sprechzimmer.accounts import keyblobs
from sprechzimmer.accounts.keyblobs import b64url_decode

PBKDF2_ITERATIONS = 600_000
_B32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def b64u(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hkdf(secret: bytes, info: str, salt: bytes | None = None) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=salt, info=info.encode()).derive(secret)


def _seal(key: bytes, plaintext: bytes, aad: str, alg: str, **extra: str) -> str:
    iv = os.urandom(12)
    ct = AESGCM(key).encrypt(iv, plaintext, aad.encode())
    return json.dumps({"v": 1, "alg": alg, **extra, "iv": b64u(iv), "ct": b64u(ct)})


def _open(key: bytes, envelope: str, aad: str) -> bytes:
    data = json.loads(envelope)
    return AESGCM(key).decrypt(b64url_decode(data["iv"]), b64url_decode(data["ct"]), aad.encode())


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
    wrapped = _seal(kek, pkcs8, "sprechzimmer/v1/private-key", keyblobs.ALG_PASSWORD_WRAP)
    return MemberKeys(auth_secret, b64u(spki), wrapped, private_key)


def wrap_to_public_key(raw: bytes, recipient_public_key: str) -> str:
    recipient = serialization.load_der_public_key(b64url_decode(recipient_public_key))
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    epk = ephemeral.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key = _hkdf(ephemeral.exchange(ec.ECDH(), recipient), "sprechzimmer/v1/ecies", salt=epk)
    return _seal(key, raw, recipient_public_key, keyblobs.ALG_ECIES, epk=b64u(epk))


def unwrap_from_public_key(envelope: str, private_key: ec.EllipticCurvePrivateKey, own_public_key: str) -> bytes:
    data = json.loads(envelope)
    epk = b64url_decode(data["epk"])
    shared = private_key.exchange(ec.ECDH(), serialization.load_der_public_key(epk))
    return _open(_hkdf(shared, "sprechzimmer/v1/ecies", salt=epk), envelope, own_public_key)


def new_recovery_key() -> tuple[str, bytes]:
    raw = os.urandom(20)
    bits = "".join(f"{b:08b}" for b in raw)
    text = "".join(_B32[int(bits[i : i + 5], 2)] for i in range(0, 160, 5))
    return "-".join(text[i : i + 4] for i in range(0, 32, 4)), raw


def wrap_with_recovery_key(raw: bytes, recovery_bytes: bytes) -> str:
    key = _hkdf(recovery_bytes, "sprechzimmer/v1/recovery")
    return _seal(key, raw, "sprechzimmer/v1/recovery", keyblobs.ALG_RECOVERY_WRAP)


def record_context(organisation_id: int, kind: str) -> str:
    return f"sprechzimmer/v1/record/{organisation_id}/{kind}"


def encrypt_record(practice_key: bytes, context: str, value) -> str:
    return _seal(practice_key, json.dumps(value).encode(), context, keyblobs.ALG_RECORD)


def decrypt_record(practice_key: bytes, context: str, envelope: str):
    return json.loads(_open(practice_key, envelope, context))
