"""Irrevocable deletion of a practice at the end of its contract (Art. 17 DSGVO).

Everything that refers to the practice goes: the organisation and every row that refers to it or
to its users (members, e-mail addresses, second factors, devices, invitations, appointments, call
sessions, video contacts, encrypted records, billing reports, contract, metered days), their
sessions, their cache entries, their queued mails and tasks (removed from the queue's storage, not
just revoked), and the practice's files. What stays is what the law makes the operator keep: its
own invoices (``Invoice``), which never referred to the practice row but carry a snapshot of the
billing data (§ 14 UStG) and are kept 8 years (§ 147 AO).

Rows are found from the models, not listed by hand: a model added later that refers to a practice
or a user is deleted too, and tests/contracts/test_deletion.py scans every table afterwards.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import models, transaction
from django.utils import timezone

from sprechzimmer.accounts import devices, loginguard
from sprechzimmer.accounts.models import Organisation, User
from sprechzimmer.contracts import invoicing
from sprechzimmer.contracts.models import Contract

log = logging.getLogger("sprechzimmer.contracts")


def practice_files_dir(organisation_id: int) -> Path:
    """Where files of a practice live (uploads of later features go here, one directory each)."""
    return Path(settings.DATA_DIR) / "practices" / str(organisation_id)


def due_for_deletion(today=None):
    """Practices whose contract ended before ``today``."""
    today = today or timezone.localdate()
    return Contract.objects.filter(ends_on__lt=today).values_list("organisation_id", flat=True)


def delete_practice(organisation_id: int, today=None) -> bool:
    """Deletes the practice if its contract has ended (a revocation in between leaves it alone).
    Returns whether it deleted."""
    today = today or timezone.localdate()
    organisation = Organisation.objects.filter(pk=organisation_id, kind=Organisation.Kind.PRACTICE).first()
    if organisation is None:
        return False
    contract = Contract.objects.filter(organisation=organisation).first()
    if contract is None or contract.ends_on is None or contract.ends_on >= today:
        return False
    # Its last month is invoiced before the usage it is computed from goes.
    invoicing.invoice_open_months(organisation, today)
    users = list(User.objects.filter(organisation=organisation))
    user_ids = [u.pk for u in users]
    with transaction.atomic():
        _delete_protected_rows(organisation, user_ids)
        _delete_sessions(user_ids)
        organisation.delete()
    devices.end_live_connections(user_ids=user_ids)
    for user in users:
        loginguard.forget(user)
    shutil.rmtree(practice_files_dir(organisation_id), ignore_errors=True)
    _remove_queued_tasks(organisation_id, {u.email.lower() for u in users} | {contract.billing_email.lower()} - {""})
    log.info("practice %s deleted at the end of its contract", organisation_id)
    return True


def _delete_protected_rows(organisation: Organisation, user_ids: list[int]) -> None:
    """Rows that protect a practice's users or the practice from deletion (appointments and video
    contacts keep their doctor) are the practice's own: they go first, the cascade does the rest.
    Rows that only point at a user with SET_NULL are cleared of that reference too."""
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not field.is_relation or field.related_model not in (User, Organisation):
                continue
            ids = user_ids if field.related_model is User else [organisation.pk]
            on_delete = field.remote_field.on_delete
            rows = model._default_manager.filter(**{f"{field.name}__in": ids})
            if on_delete is models.PROTECT:
                rows.delete()
            elif on_delete is models.SET_NULL:
                rows.update(**{field.name: None})


def _delete_sessions(user_ids: list[int]) -> None:
    wanted = {str(pk) for pk in user_ids}
    doomed = [s.pk for s in Session.objects.iterator() if s.get_decoded().get("_auth_user_id") in wanted]
    Session.objects.filter(pk__in=doomed).delete()


def _remove_queued_tasks(organisation_id: int, addresses: set[str]) -> None:
    """Removes from the task queue's storage every message of the practice: mails to its addresses
    (pending, or scheduled for a retry up to about a day and a half later) and deletion tasks for
    it. A revoked message would stay in the storage, addresses and all, until the worker dequeued
    it. Invoice batches (``invoice_batch``) stay: they carry only customer numbers of the operator's
    retained invoices, together with other practices'."""
    from huey.contrib.djhuey import HUEY

    from sprechzimmer.contracts.tasks import delete_practice
    from sprechzimmer.jobs.tasks import deliver_mail

    def of_the_practice(data: bytes):
        try:
            task = HUEY.deserialize_task(data)
        except Exception:  # a message of a task this version no longer has: not ours
            return None
        if isinstance(task, deliver_mail.task_class):
            to = task.kwargs.get("to", task.args[2] if len(task.args) > 2 else [])
            return task if any(str(r).lower() in addresses for r in to) else None
        if isinstance(task, delete_practice.task_class):
            target = task.kwargs.get("organisation_id", task.args[0] if task.args else None)
            return task if target == organisation_id else None
        return None

    if HUEY.immediate:  # tests: the queue runs each task as it is enqueued, nothing waits
        return
    storage = HUEY.storage
    queued = {data: task for data in storage.enqueued_items() if (task := of_the_practice(data))}
    scheduled = {data: task for data in storage.scheduled_items() if (task := of_the_practice(data))}
    _remove_messages(storage, list(queued), list(scheduled))
    for task in [*queued.values(), *scheduled.values()]:
        HUEY.restore(task)  # the revocation flag (r:<task id>) an earlier version set for it


def _remove_messages(storage, queued: list[bytes], scheduled: list[bytes]) -> None:
    """Huey's API reads the queue and the schedule but only flushes them whole, so single messages
    are removed through the storage's own connection, each by its exact serialised bytes (unique,
    they hold the task id). A message the worker dequeued meanwhile is simply not found. The
    storages are those settings.HUEY configures: SQLite (embedded) and Redis (REDIS_URL)."""
    from huey.storage import RedisPriorityQueue, RedisStorage, SqliteStorage

    if isinstance(storage, SqliteStorage):  # tables task and schedule, pickled message in column data
        for table, rows in (("task", queued), ("schedule", scheduled)):
            for data in rows:
                storage.sql(
                    f"delete from {table} where queue = ? and data = ?",  # table: one of the two names above
                    (storage.name, storage.to_blob(data)),
                    commit=True,
                )
    elif isinstance(storage, RedisStorage):  # queue: a list (sorted set with priorities); schedule: a sorted set
        for data in queued:
            if isinstance(storage, RedisPriorityQueue):
                storage.conn.zrem(storage.queue_key, data)
            else:
                storage.conn.lrem(storage.queue_key, 0, data)
        if scheduled:
            storage.conn.zrem(storage.schedule_key, *scheduled)
    else:
        raise NotImplementedError(f"removing single messages from {type(storage).__name__}")
