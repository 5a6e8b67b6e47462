"""Anonymous uploads cannot exhaust the server (issue 11, item 3): files are checked while they
arrive, limited per request, per application and per address, stored encrypted on disk in chunks,
and a body over REQUEST_MAX_BYTES is refused before anything reads it."""

import asyncio
import io
import os
import time

import pytest
from cryptography.exceptions import InvalidTag
from django.core.files.uploadedfile import SimpleUploadedFile

from sprechzimmer.bodylimit import BodyLimit
from sprechzimmer.duty import documents
from sprechzimmer.duty.models import ApplicationDocument

from .test_applications import PDF, facts

pytestmark = pytest.mark.django_db


def pdf(size: int) -> bytes:
    return PDF + b"%" * (size - len(PDF))


def one(anlage="approbation", size=2000, name=None):
    return {f"file-{anlage}": SimpleUploadedFile(name or f"{anlage}.pdf", pdf(size))}


def test_documents_are_sealed_in_chunks_that_cannot_be_moved_or_cut(settings):
    data = os.urandom(3 * documents.CHUNK + 123)
    name = documents.store(io.BytesIO(data), 7, "police")
    path = documents.path_of(name)
    assert path.stat().st_mode & 0o777 == 0o600 and data[:64] not in path.read_bytes()
    assert b"".join(documents.read(name, 7, "police")) == data
    with pytest.raises(InvalidTag):  # another application's or Anlage's document
        b"".join(documents.read(name, 8, "police"))
    sealed = path.read_bytes()
    path.write_bytes(sealed[: -(documents.CHUNK // 2)])  # the last chunk cut short
    with pytest.raises(InvalidTag):
        b"".join(documents.read(name, 7, "police"))
    first = len(documents.MAGIC) + documents.PREFIX_BYTES + documents.CHUNK + documents.TAG
    path.write_bytes(sealed[:first])  # whole chunks dropped: the first is not marked as the last
    with pytest.raises(InvalidTag):
        b"".join(documents.read(name, 7, "police"))


def test_files_per_request_are_limited_and_the_facts_kept(client, applicant, settings):
    settings.DUTY_UPLOAD_FILES_PER_REQUEST = 2
    files = one("approbation") | one("specialist") | one("police")
    response = client.post(applicant.url, facts(clinical_months="30") | files)
    page = response.content.decode()
    assert response.status_code == 400 and "höchstens 2 Dateien auf einmal" in page
    assert 'name="clinical_months" value="30"' in page
    assert not ApplicationDocument.objects.exists() and not list(documents.root().glob("*/*"))


def test_a_file_over_the_limit_is_dropped_while_it_arrives(client, applicant, settings):
    settings.DUTY_DOCUMENT_MAX_BYTES = 4096
    response = client.post(
        applicant.url, facts() | one("approbation", size=200_000, name="riesig.pdf") | one("specialist", size=1000)
    )
    assert response.status_code == 400 and "„riesig.pdf“ ist größer als" in response.content.decode()
    assert not ApplicationDocument.objects.exists()


def test_documents_and_bytes_per_application_are_limited(client, applicant, settings):
    settings.DUTY_APPLICATION_MAX_FILES = 3
    assert client.post(applicant.url, facts() | one("approbation") | one("specialist")).status_code == 302
    response = client.post(applicant.url, facts() | one("police") | one("liability"))
    assert response.status_code == 400 and "höchstens 3 Dokumente" in response.content.decode()
    assert ApplicationDocument.objects.count() == 2
    settings.DUTY_APPLICATION_MAX_FILES = 25
    settings.DUTY_APPLICATION_MAX_BYTES = 10_000
    response = client.post(applicant.url, facts() | one("police", size=7000))
    assert response.status_code == 400 and "zusammen höchstens" in response.content.decode()
    assert ApplicationDocument.objects.count() == 2


def test_bytes_per_address_are_limited_with_backoff(client, applicant, settings):
    settings.DUTY_UPLOAD_BYTES_PER_HOUR = 5000
    for anlage in ("approbation", "specialist"):
        assert client.post(applicant.url, facts() | one(anlage, size=3000)).status_code == 302
    response = client.post(applicant.url, facts() | one("police", size=1000), follow=True)
    assert "sehr viele Dokumente hochgeladen" in response.content.decode()
    assert ApplicationDocument.objects.count() == 2
    other = client.__class__(REMOTE_ADDR="10.20.30.40")
    assert other.post(applicant.url, facts() | one("police", size=1000)).status_code == 302


def test_a_deleted_document_takes_its_file_along(client, applicant, django_capture_on_commit_callbacks):
    client.post(applicant.url, facts() | one("approbation"))
    doc = ApplicationDocument.objects.get()
    path = documents.path_of(doc.stored_name)
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        doc.delete()
    assert not path.exists()


def test_orphaned_files_are_purged_by_the_daily_job(client, applicant):
    from django.core.management import call_command

    client.post(applicant.url, facts() | one("approbation"))
    kept = documents.path_of(ApplicationDocument.objects.get().stored_name)
    orphan = documents.path_of(documents.store(io.BytesIO(PDF), applicant.app.pk, "police"))
    old = time.time() - 2 * 24 * 3600
    for path in (kept, orphan):
        os.utime(path, (old, old))
    call_command("purge_metadata", stdout=io.StringIO())
    assert kept.exists() and not orphan.exists()


def _asgi(app, scope_headers, chunks):
    sent = []

    async def receive():
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": scope_headers}
    asyncio.run(BodyLimit(app)(scope, receive, send))
    return sent


def test_a_body_over_the_limit_is_refused_before_it_is_read(settings):
    settings.REQUEST_MAX_BYTES = 1024 * 1024
    reached = []

    async def app(scope, receive, send):
        # Like Django's ASGI handler: read the whole body; a disconnect aborts without a response.
        reached.append(True)
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})

    sent = _asgi(app, [(b"content-length", str(2 * 1024 * 1024).encode())], [])
    assert sent[0]["status"] == 413 and "höchstens 1 MB" in sent[1]["body"].decode() and not reached
    # Without a declared length (chunked), the body is cut off once it passes the limit.
    chunks = [{"type": "http.request", "body": b"x" * 600_000, "more_body": True} for _ in range(3)]
    sent = _asgi(app, [], chunks)
    assert sent[-2]["status"] == 413
    assert _asgi(app, [(b"content-length", b"abc")], [])[0]["status"] == 400
