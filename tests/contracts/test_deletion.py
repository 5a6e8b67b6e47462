"""At the end of the contract the task queue deletes the practice irrevocably; afterwards a scan
of every table of the database finds nothing that refers to it but the operator's invoices."""

import datetime as dt
import socket
import sqlite3
from decimal import Decimal

import pytest
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.accounts import loginguard
from sprechzimmer.accounts.models import Device, Invitation, Organisation, User, token_digest
from sprechzimmer.billing.models import QuarterReport
from sprechzimmer.contracts import deletion, invoicing, metering, tasks
from sprechzimmer.contracts.models import AvvConfirmation, Contract, Invoice, UsageDay
from sprechzimmer.records.models import EncryptedRecord
from sprechzimmer.video.models import Appointment, CallSession, VideoContact
from tests import factories

#: Tables the operator keeps by law (§ 147 AO): its invoices, apart from the practice's data.
RETAINED_TABLES = {"contracts_invoice", "contracts_invoiceline"}


def fill(practice: Organisation, owner: User, colleague: User) -> None:
    """Every kind of row a practice has."""
    Device.objects.create(user=colleague, token_hash=token_digest("g"), name="Firefox", approved_by=owner)
    Invitation.objects.create(
        organisation=practice,
        email=f"eingeladen-{practice.bsnr}@example.org",
        full_name="Eingeladen",
        role="staff",
        token_hash=token_digest(f"t{practice.bsnr}"),
        invited_by=owner,
        expires_at=timezone.now() + dt.timedelta(days=3),
    )
    appointment = Appointment.objects.create(
        organisation=practice,
        doctor=owner,
        start=timezone.now(),
        patient_ciphertext=factories.envelope("AES-GCM"),
        created_by=colleague,
        doctor_seat_user=owner,
    )
    CallSession.objects.create(appointment=appointment)
    VideoContact.objects.create(
        organisation=practice, appointment=appointment, doctor=owner, started_at=timezone.now(), duration_seconds=600
    )
    EncryptedRecord.objects.create(organisation=practice, kind="practice-note", ciphertext="x", updated_by=colleague)
    QuarterReport.objects.create(
        organisation=practice,
        year=2026,
        number=3,
        ruleset="x",
        filename="q.con",
        uploaded_by=owner,
        cases=1,
        counted_cases=1,
        video_only_cases=0,
        errors=0,
        report={},
    )
    Contract.objects.get_or_create(organisation=practice)
    AvvConfirmation.objects.create(
        organisation=practice,
        version="2026-11",
        confirmed_by=owner,
        confirmed_by_name=owner.full_name,
        confirmed_by_email=owner.email,
    )


def markers_of(practice: Organisation) -> set[str]:
    users = list(User.objects.filter(organisation=practice))
    return (
        {practice.name, practice.bsnr}
        | {u.email for u in users}
        | {u.full_name for u in users}
        | {i.email for i in practice.invitations.all()}
    )


def rows_referring_to(organisation_id: int, user_ids: set[int], markers: set[str]) -> list[str]:
    """Every table, by the models (foreign keys to the practice or its users) and by the raw rows
    of every table the database has (any column holding a name, BSNR or address of the practice)."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table in RETAINED_TABLES:
            continue
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is Organisation:
                ids = {organisation_id}
            elif field.is_relation and field.related_model is User:
                ids = user_ids
            else:
                continue
            count = model._default_manager.filter(**{f"{field.attname}__in": ids}).count()
            if count:
                found.append(f"{model._meta.db_table}.{field.attname}: {count}")
    tables = connection.introspection.table_names()
    assert {m._meta.db_table for m in apps.get_models(include_auto_created=True)} <= set(tables)
    with connection.cursor() as cursor:
        for table in tables:
            if table in RETAINED_TABLES:
                continue
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                text = " ".join(str(value) for value in row)
                hits = [m for m in markers if m and m in text]
                if hits:
                    found.append(f"{table}: {hits}")
    return found


@pytest.fixture
def ended(db, client, settings, tmp_path, operator):
    settings.DATA_DIR = tmp_path
    practice = factories.practice("Praxis Abschied")
    owner = factories.member(practice, main=True, password="x" * 43)
    colleague = factories.member(practice, role="staff")
    fill(practice, owner, colleague)
    other = factories.practice("Praxis Bleibt")
    other_owner = factories.member(other, main=True)
    fill(other, other_owner, factories.member(other, role="staff"))
    # plus in the last month: its invoice is issued before the deletion and kept
    Contract.objects.filter(organisation=practice).update(plan="plus")
    last_month = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    metering.meter_day(last_month)
    # and a day of this month, not invoiced yet (on the 1st that is today: two days back would be
    # last month again, and its invoice would count four user-days)
    metering.meter_day(max(timezone.localdate() - dt.timedelta(days=2), timezone.localdate().replace(day=1)))
    # a logged-in session, failure counters in the cache, and a file of the practice
    client.force_login(colleague)
    loginguard.ACCOUNT.failed(loginguard.password_account(colleague.email), amount=60)
    assert loginguard.ACCOUNT.blocked_for(loginguard.password_account(colleague.email))
    files = deletion.practice_files_dir(practice.pk)
    files.mkdir(parents=True)
    (files / "upload.bin").write_bytes(b"\x00" * 10)
    Contract.objects.filter(organisation=practice).update(
        ends_on=timezone.localdate() - dt.timedelta(days=1), cancelled_at=timezone.now()
    )
    return type(
        "E",
        (),
        dict(
            practice=practice,
            pk=practice.pk,
            owner=owner,
            colleague=colleague,
            other=other,
            user_ids={owner.pk, colleague.pk},
            markers=markers_of(practice),
            other_markers=markers_of(other),
            files=files,
        ),
    )


def cache_keys() -> list[str]:
    """Every key in the cache of this test run: Django's local-memory cache (embedded default) or the
    Redis database of this worker (CI's PostgreSQL leg)."""
    store = cache._cache  # type: ignore[attr-defined]
    if isinstance(store, dict):
        return [str(key) for key in store]
    return [key.decode() for key in store.get_client().scan_iter()]


def test_the_daily_task_deletes_every_row_file_and_cache_entry_of_the_practice(ended, client):
    assert rows_referring_to(ended.pk, ended.user_ids, ended.markers)  # the scan sees the practice
    assert Session.objects.count() == 1
    tasks.contracts_daily()  # the periodic job; it queues one deletion task per ended practice

    assert rows_referring_to(ended.pk, ended.user_ids, ended.markers) == []
    assert not ended.files.exists()
    # only the operator's invoice stays, with the data § 14 UStG needs, and its PDF
    (kept,) = Invoice.objects.all()
    assert kept.recipient_name == "Praxis Abschied" and kept.recipient_bsnr == ended.practice.bsnr
    last_month = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    assert kept.period_end == last_month
    assert kept.lines.first().quantity == round(Decimal(2) / last_month.day, 4)  # 2 users on one metered day
    assert invoicing.invoice_pdf_bytes(kept).startswith(b"%PDF")
    assert Session.objects.count() == 0
    assert not loginguard.ACCOUNT.blocked_for(loginguard.password_account(ended.colleague.email))
    assert not [k for k in cache_keys() if ended.colleague.email in k]
    # the other practice is untouched
    assert not [m for m in ended.other_markers if not rows_referring_to(ended.other.pk, set(), {m})]
    assert Appointment.objects.filter(organisation=ended.other).count() == 1
    assert Authenticator.objects.filter(user__organisation=ended.other).count() == 2
    assert UsageDay.objects.filter(organisation=ended.other).count() == 2


def test_after_deletion_nobody_logs_in_and_the_practice_can_sign_up_again(ended, client):
    from django.test import Client

    login = {"login": ended.owner.email, "password": "x" * 43}
    before = Client().post(reverse("account_login"), login)
    assert before.status_code == 302 and before["Location"] == reverse("mfa_authenticate")  # password right
    tasks.contracts_daily()
    assert client.get(reverse("dashboard")).status_code == 302  # the old session is gone
    after = Client().post(reverse("account_login"), login)
    assert after.status_code == 200 and "_auth_user_id" not in after.client.session
    assert 'role="alert"' in after.content.decode() or "error" in after.content.decode()
    response = client.post(
        reverse("signup_check"),
        {
            "email": ended.owner.email,
            "practice_name": "Praxis Abschied",
            "street": "Weg 1",
            "postcode": "70173",
            "city": "Stuttgart",
            "bsnr": ended.practice.bsnr,
            "full_name": "Neu",
            "role": "staff",
        },
    )
    assert response.json() == {"ok": True, "errors": {}}


def test_a_revoked_or_running_contract_is_not_deleted(ended):
    Contract.objects.filter(organisation=ended.practice).update(ends_on=None, cancelled_at=None)
    tasks.contracts_daily()
    assert deletion.delete_practice(ended.pk) is False
    assert Organisation.objects.filter(pk=ended.pk).exists() and ended.files.exists()
    Contract.objects.filter(organisation=ended.practice).update(ends_on=timezone.localdate())
    assert deletion.delete_practice(ended.pk) is False  # the last day of the contract is still its own
    assert Organisation.objects.filter(pk=ended.pk).exists()


@pytest.fixture
def real_queue(monkeypatch, settings, tmp_path):
    """The queue not run at once but kept in a real storage of the kind the settings configure: a
    SQLite file (embedded default) or, with REDIS_URL, this worker's Redis database (CI's
    PostgreSQL leg). The registered tasks stay those of the project's queue."""
    from huey.contrib.djhuey import HUEY
    from huey.storage import RedisStorage, SqliteStorage

    if settings.REDIS_URL:
        storage = RedisStorage(HUEY.name, url=settings.REDIS_URL)
    else:
        storage = SqliteStorage(HUEY.name, filename=str(tmp_path / "tasks.sqlite3"))
    storage.flush_all()
    monkeypatch.setattr(HUEY, "storage", storage)
    monkeypatch.setattr(HUEY, "_immediate", False)  # the setter would open the settings' storage instead
    yield HUEY
    storage.flush_all()
    storage.close()


def raw_messages(storage) -> list[bytes]:
    """Everything the queue's storage holds, read past huey: the pending queue, the schedule and the
    key-value/result store (where revocation flags live)."""
    if hasattr(storage, "filename"):
        with sqlite3.connect(storage.filename) as db:
            return [
                bytes(value)
                for table, column in (("task", "data"), ("schedule", "data"), ("kv", "value"))
                for (value,) in db.execute(f"SELECT {column} FROM {table}")
            ]
    conn = storage.conn
    return [
        *conn.lrange(storage.queue_key, 0, -1),
        *conn.zrange(storage.schedule_key, 0, -1),
        *conn.hgetall(storage.result_key).values(),
    ]


def test_the_practice_s_queued_mails_and_retries_are_removed_from_the_queue_s_storage(
    ended, real_queue, settings, django_capture_on_commit_callbacks, monkeypatch
):
    from sprechzimmer import mail

    owner, colleague, other = (
        ended.owner.email,
        ended.colleague.email,
        User.objects.filter(organisation=ended.other).first().email,
    )
    # a mail to the owner fails (nothing listens on the port) and waits in the schedule for its retry
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        settings.EMAIL_PORT = closed.getsockname()[1]
    settings.EMAIL_BACKEND, settings.EMAIL_HOST = "django.core.mail.backends.smtp.EmailBackend", "127.0.0.1"
    with django_capture_on_commit_callbacks(execute=True):
        mail.queue("[Sprechzimmer] Rechnung", "Hallo.", [owner], "test:retry")
    with monkeypatch.context() as patch:
        # the worker closes its database connection around each task; here it is the test's own
        patch.setattr("huey.contrib.djhuey.close_old_connections", lambda: None)
        real_queue.execute(real_queue.dequeue())
    assert real_queue.scheduled_count() == 1 and real_queue.pending_count() == 0
    # one to the colleague pending, one to the other practice, and a second deletion task for later
    with django_capture_on_commit_callbacks(execute=True):
        mail.queue("[Sprechzimmer] Termin", "Hallo.", [colleague], "test:pending")
        mail.queue("[Sprechzimmer] Termin", "Hallo.", [other], "test:other")
    tasks.delete_practice.schedule(args=(ended.pk,), delay=600)
    before = b"".join(raw_messages(real_queue.storage))
    assert owner.encode() in before and colleague.encode() in before and other.encode() in before

    assert deletion.delete_practice(ended.pk) is True

    raw = raw_messages(real_queue.storage)
    assert not [m for m in raw if owner.encode() in m or colleague.encode() in m]
    assert len([m for m in raw if other.encode() in m]) == 1  # the other practice's mail still waits
    assert len(raw) == 1  # no deletion task, no revocation flag
    (left,) = real_queue.pending()
    assert left.args[2] == [other]
