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
    """A JSON envelope ``{"v":1,"alg":alg,"iv":…,"ct":…, …extra}`` with base64url values and, where
    it names the practice key version that sealed it, a ``kid`` of 1 or more."""
    if not text or not isinstance(text, str) or len(text) > max_bytes:
        raise ValidationError(_INVALID, code="blob")
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("v") != 1 or data.get("alg") != alg:
            raise ValueError
        kid = data.get("kid", 1)
        if type(kid) is not int or kid < 1:
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
    """The practice key for the recovery sheet: ECIES to the recovery key pair (since issue 22) or
    the symmetric wrap of older practices."""
    try:
        return check_practice_key_wrap(text)
    except ValidationError:
        return check_blob(text, ALG_RECOVERY_WRAP)


STALE_KEY = (
    "Der Eintrag wurde mit einem älteren Praxisschlüssel verschlüsselt; die Praxis hat ihren Schlüssel "
    "inzwischen gewechselt. Bitte laden Sie die Seite neu und speichern Sie erneut."
)


def envelope_kid(text: str) -> int:
    """The practice key version an envelope names (docs/e2ee.md); envelopes from before key versions
    name none and are version 1. Only for envelopes check_blob accepted."""
    kid = json.loads(text).get("kid", 1)
    return kid if type(kid) is int else 1


def check_record(text: str, max_bytes: int, *, key_version: int) -> str:
    """A record sealed with the practice key's current version ``key_version``: one sealed with an
    older version (a browser that has not yet loaded the rotated key) is refused with code
    ``stale_key``, one naming a version that does not exist yet as damaged."""
    check_blob(text, ALG_RECORD, max_bytes=max_bytes)
    kid = envelope_kid(text)
    if kid < key_version:
        raise ValidationError(STALE_KEY, code="stale_key")
    if kid > key_version:
        raise ValidationError(_INVALID, code="blob")
    return text


def check_keyring_wrap(text: str) -> str:
    """The previous version's key sealed with the new one (PracticeKeyVersion.wrapped_previous)."""
    return check_blob(text, ALG_RECORD)
