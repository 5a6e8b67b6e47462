"""Shape checks for key material and ciphertext produced in the browser (docs/e2ee.md).

The server cannot decrypt any of it; it checks only that what it stores has the documented form,
so a broken or hostile client cannot leave a member with garbage instead of a key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from django.core.exceptions import ValidationError

PUBLIC_KEY_BYTES = 91  # SubjectPublicKeyInfo of an uncompressed P-256 point
IV_BYTES = 12
MAX_BLOB = 64 * 1024


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or any(c not in _B64URL for c in text):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


_B64URL = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

_INVALID = "Die Schlüsseldaten aus Ihrem Browser sind unvollständig. Bitte laden Sie die Seite neu und versuchen Sie es erneut."


def check_public_key(text: str) -> str:
    try:
        if len(b64url_decode(text)) != PUBLIC_KEY_BYTES:
            raise ValueError
    except ValueError:
        raise ValidationError(_INVALID, code="key") from None
    return text


def fingerprint(public_key: str) -> str:
    """A short SHA-256 fingerprint of a public key (first 80 bits, groups of four), shown to people
    who compare keys; sprechzimmer_client.crypto.fingerprint prints the same for a client's key."""
    digest = hashlib.sha256(b64url_decode(public_key)).hexdigest()[:20].upper()
    return " ".join(digest[i : i + 4] for i in range(0, 20, 4))


def check_blob(text: str, alg: str, *, extra: tuple[str, ...] = (), max_bytes: int = MAX_BLOB) -> str:
    """A JSON envelope ``{"v":1,"alg":alg,"iv":…,"ct":…, …extra}`` with base64url values."""
    if not text or len(text) > max_bytes:
        raise ValidationError(_INVALID, code="blob")
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("v") != 1 or data.get("alg") != alg:
            raise ValueError
        if len(b64url_decode(data["iv"])) != IV_BYTES or len(b64url_decode(data["ct"])) < 16:
            raise ValueError
        for name in extra:
            b64url_decode(data[name])
    except (ValueError, KeyError, TypeError):
        raise ValidationError(_INVALID, code="blob") from None
    return text


# The envelope kinds, named after what they wrap (algorithms as in docs/e2ee.md).
ALG_PASSWORD_WRAP = "PBKDF2-HKDF-A256GCM"  # private key under the password-derived key
ALG_ECIES = "ECDH-P256-HKDF-A256GCM"  # practice key to a member's public key
ALG_RECOVERY_WRAP = "RECOVERY-HKDF-A256GCM"  # practice key under the recovery key
ALG_RECORD = "A256GCM"  # a record under the practice key


def check_private_key_wrap(text: str) -> str:
    return check_blob(text, ALG_PASSWORD_WRAP)


def check_practice_key_wrap(text: str) -> str:
    return check_blob(text, ALG_ECIES, extra=("epk",))


def check_recovery_wrap(text: str) -> str:
    return check_blob(text, ALG_RECOVERY_WRAP)


def check_record(text: str, max_bytes: int) -> str:
    return check_blob(text, ALG_RECORD, max_bytes=max_bytes)
