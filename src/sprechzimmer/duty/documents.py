"""Application documents: checked before use, encrypted at rest, on disk, never whole in memory.

Only PDF, JPEG and PNG, recognised by their first bytes (the browser's content type and the file
name are not trusted), up to DUTY_DOCUMENT_MAX_BYTES each; per application at most
DUTY_APPLICATION_MAX_FILES documents and DUTY_APPLICATION_MAX_BYTES in all.

Why on disk and not in the database: a police certificate scan is megabytes; as a database value
it is read whole into memory on every access, bloats every backup and dump, and one request with
20 files used to grow the database by 360 MB. On disk (``DOCUMENTS_DIR``, default
``DATA_DIR/documents``) each file is written and read in 64 KiB chunks, and deleting a document
frees its space at once. Several server processes must share that directory (docs/operations.md).

Format: ``SZD1`` + an 8-byte random nonce prefix, then chunks of at most 64 KiB plaintext, each
sealed with AES-256-GCM under the nonce prefix + its 4-byte number; the associated data names the
application, the Anlage, the file and the chunk number and marks the last chunk, so chunks cannot
be reordered, dropped or moved to another document (a STREAM construction, Hoang et al. 2015). A
chunk is released only after its tag verified. The key is DOCUMENT_KEY, or derived from SECRET_KEY
with HKDF-SHA256.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from sprechzimmer.atrest import derive_key

TYPES = ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))
MAGIC = b"SZD1"
PREFIX_BYTES = 8
CHUNK = 64 * 1024
TAG = 16


class DocumentError(ValueError):
    """German message for the uploader; nothing was stored."""


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB"


def check(uploaded) -> str:
    """The file's content type after the checks of its size and first bytes, or DocumentError."""
    limit = settings.DUTY_DOCUMENT_MAX_BYTES
    if uploaded.size > limit:
        raise DocumentError(f"„{uploaded.name}“ ist größer als {megabytes(limit)}.")
    if not uploaded.size:
        raise DocumentError(f"„{uploaded.name}“ ist leer.")
    uploaded.seek(0)
    head = uploaded.read(16)
    uploaded.seek(0)
    for magic, content_type in TYPES:
        if head.startswith(magic):
            return content_type
    raise DocumentError(f"„{uploaded.name}“ ist kein PDF-, JPEG- oder PNG-Dokument.")


def _key() -> bytes:
    if settings.DOCUMENT_KEY:
        key = base64.urlsafe_b64decode(settings.DOCUMENT_KEY + "=" * (-len(settings.DOCUMENT_KEY) % 4))
        if len(key) != 32:
            raise ValueError("DOCUMENT_KEY must be 32 bytes, base64url")
        return key
    return derive_key(settings.SECRET_KEY, "sprechzimmer application documents")


def _aad(application_pk: int, anlage: str, name: str, number: int, last: bool) -> bytes:
    return f"sprechzimmer:application-document:{application_pk}:{anlage}:{name}:{number}:{int(last)}".encode()


def root() -> Path:
    return Path(settings.DOCUMENTS_DIR)


def path_of(stored_name: str) -> Path:
    path = (root() / stored_name).resolve()
    if root().resolve() not in path.parents:
        raise ValueError("stored name outside the documents directory")
    return path


def _chunks(source, size: int = CHUNK) -> Iterator[tuple[bytes, bool]]:
    """(chunk, is_last) from a file object, reading one chunk ahead."""
    current = source.read(size)
    while True:
        following = source.read(size)
        yield current, not following
        if not following:
            return
        current = following


def store(source, application_pk: int, anlage: str) -> str:
    """Encrypts ``source`` (a file object, read in chunks) into a new file; returns its stored name."""
    name = f"{application_pk}/{uuid.uuid4().hex}.szd"
    path = path_of(name)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    aead, prefix = AESGCM(_key()), os.urandom(PREFIX_BYTES)
    source.seek(0)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(MAGIC + prefix)
            for number, (chunk, last) in enumerate(_chunks(source)):
                nonce = prefix + number.to_bytes(4, "big")
                out.write(aead.encrypt(nonce, chunk, _aad(application_pk, anlage, name, number, last)))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return name


def read(stored_name: str, application_pk: int, anlage: str) -> Iterator[bytes]:
    """The plaintext of a stored document, chunk by chunk, each verified before it is given out."""
    aead = AESGCM(_key())
    with open(path_of(stored_name), "rb") as source:
        header = source.read(len(MAGIC) + PREFIX_BYTES)
        if not header.startswith(MAGIC):
            raise ValueError("not a sealed document")
        prefix = header[len(MAGIC) :]
        for number, (sealed, last) in enumerate(_chunks(source, CHUNK + TAG)):
            nonce = prefix + number.to_bytes(4, "big")
            yield aead.decrypt(nonce, sealed, _aad(application_pk, anlage, stored_name, number, last))


def delete(stored_name: str) -> None:
    if stored_name:
        path_of(stored_name).unlink(missing_ok=True)


def delete_orphans(referenced: set[str], older_than_seconds: int = 24 * 3600) -> int:
    """Deletes encrypted files no document row refers to (an upload whose transaction rolled back
    after its files were written), once they are older than a day; returns how many."""
    import time

    if not root().exists():
        return 0
    deleted, cut_off = 0, time.time() - older_than_seconds
    for path in root().glob("*/*.szd"):
        name = f"{path.parent.name}/{path.name}"
        if name not in referenced and path.stat().st_mtime < cut_off:
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted


def open_legacy(blob: bytes, application_pk: int, anlage: str) -> bytes:
    """Documents sealed in one piece into the database before they moved to disk (migration 0004)."""
    blob = bytes(blob)
    aad = f"sprechzimmer:application-document:{application_pk}:{anlage}".encode()
    return AESGCM(_key()).decrypt(blob[:12], blob[12:], aad)
