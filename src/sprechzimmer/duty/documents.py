"""Application documents: checked before use, encrypted at rest.

Only PDF, JPEG and PNG, recognised by their first bytes (the browser's content type and the file
name are not trusted), up to DUTY_DOCUMENT_MAX_BYTES. Stored as AES-256-GCM ciphertext whose
associated data names the application and the Anlage, so a blob copied to another row does not
decrypt there. The key is DOCUMENT_KEY, or derived from SECRET_KEY with HKDF-SHA256.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

TYPES = ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))
NONCE = 12


class DocumentError(ValueError):
    """German message for the uploader; nothing was stored."""


def check(uploaded) -> tuple[bytes, str]:
    """The file's bytes and content type, or DocumentError."""
    limit = settings.DUTY_DOCUMENT_MAX_BYTES
    if uploaded.size > limit:
        raise DocumentError(f"„{uploaded.name}“ ist größer als {limit // (1024 * 1024)} MB.")
    data = uploaded.read(limit + 1)
    if len(data) > limit:
        raise DocumentError(f"„{uploaded.name}“ ist größer als {limit // (1024 * 1024)} MB.")
    if not data:
        raise DocumentError(f"„{uploaded.name}“ ist leer.")
    for magic, content_type in TYPES:
        if data.startswith(magic):
            return data, content_type
    raise DocumentError(f"„{uploaded.name}“ ist kein PDF-, JPEG- oder PNG-Dokument.")


def _key() -> bytes:
    if settings.DOCUMENT_KEY:
        key = base64.urlsafe_b64decode(settings.DOCUMENT_KEY + "=" * (-len(settings.DOCUMENT_KEY) % 4))
        if len(key) != 32:
            raise ValueError("DOCUMENT_KEY must be 32 bytes, base64url")
        return key
    return HKDF(hashes.SHA256(), 32, salt=None, info=b"sprechzimmer application documents").derive(
        settings.SECRET_KEY.encode())


def _aad(application_pk: int, anlage: str) -> bytes:
    return f"sprechzimmer:application-document:{application_pk}:{anlage}".encode()


def seal(data: bytes, application_pk: int, anlage: str) -> bytes:
    nonce = os.urandom(NONCE)
    return nonce + AESGCM(_key()).encrypt(nonce, data, _aad(application_pk, anlage))


def unseal(blob: bytes, application_pk: int, anlage: str) -> bytes:
    blob = bytes(blob)
    return AESGCM(_key()).decrypt(blob[:NONCE], blob[NONCE:], _aad(application_pk, anlage))
