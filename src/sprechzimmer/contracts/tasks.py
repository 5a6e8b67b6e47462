"""The contract's jobs on the task queue (Huey, docs/architecture.md): switches down that are due,
the daily usage meter, and the deletion of practices whose contract has ended."""

from __future__ import annotations

import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

log = logging.getLogger("sprechzimmer.contracts")


@db_periodic_task(crontab(hour="0", minute="20"))
def contracts_daily() -> None:
    """After midnight (Berlin): switches down that take effect today, and the deletion of every
    practice whose contract ended yesterday or before, each as a task of its own."""
    from sprechzimmer.contracts import deletion
    from sprechzimmer.contracts.gate import apply_due_switch
    from sprechzimmer.contracts.models import Contract

    today = timezone.localdate()
    for contract in Contract.objects.filter(pending_from__lte=today).exclude(pending_plan=""):
        apply_due_switch(contract, today)
    for organisation_id in list(deletion.due_for_deletion(today)):
        delete_practice(organisation_id)


@db_periodic_task(crontab(hour="21", minute="50"))  # UTC: before midnight in Berlin, summer and winter
def meter_usage_daily() -> None:
    """Records each practice's plan and active users of the day (the base of proration)."""
    from sprechzimmer.contracts import metering

    metering.meter_day(timezone.localdate())


@db_task(retries=3, retry_delay=600)
def delete_practice(organisation_id: int) -> None:
    from sprechzimmer.contracts import deletion

    deletion.delete_practice(organisation_id)


#: Practices per invoicing task: small enough that a failing task repeats little, large enough
#: that the queue's own cost does not count.
INVOICE_BATCH = 200


def invoice_month_for(year: int, month: int, issued_on=None) -> int:
    """Queues the month's invoices in batches (several workers share them); returns the practices."""
    from sprechzimmer.contracts import invoicing

    ids = invoicing.practices_to_invoice(year, month)
    issued_on = issued_on or timezone.localdate()
    for start in range(0, len(ids), INVOICE_BATCH):
        invoice_batch(ids[start : start + INVOICE_BATCH], year, month, issued_on)
    return len(ids)


@db_periodic_task(crontab(day="1", hour="3", minute="0"))
def invoices_monthly() -> None:
    """On the 1st: last month's invoices (after the deletions of 00:20 invoiced their own)."""
    from sprechzimmer.contracts import invoicing

    year, month = invoicing.previous_month(timezone.localdate())
    try:
        invoicing.operator()
    except invoicing.OperatorNotConfigured as missing:
        log.warning("no invoices for %s-%s: %s", year, month, missing)
        return
    invoice_month_for(year, month)


@db_task(retries=3, retry_delay=300)
def invoice_batch(organisation_ids: list[int], year: int, month: int, issued_on) -> None:
    from sprechzimmer.contracts import invoicing

    invoicing.invoice_batch(organisation_ids, year, month, issued_on)
