"""The tasks the worker runs. Huey's Django integration imports every app's ``tasks`` module, so
the worker knows them by name.

Why Huey (docs/architecture.md): it runs on the embedded default with no extra service (its SQLite
storage in DATA_DIR) and on Redis in production, retries with backoff, runs a task at a given time
(ETA) and periodic tasks like cron, and is small and well kept. django-tasks (Django 6's task API)
has no retries or periodic tasks of its own yet; Dramatiq and Celery need a broker even for a
single practice.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core import management
from django.core.mail import EmailMessage
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

log = logging.getLogger("sprechzimmer.mail")


class MailNotDelivered(Exception):
    """Raised for a failed delivery so that the worker retries; it names no address (an SMTP error
    such as SMTPRecipientsRefused would, in the worker's log)."""


@db_task(retries=settings.MAIL_RETRIES, retry_delay=settings.MAIL_RETRY_SECONDS, retry_backoff=2)
def deliver_mail(subject: str, body: str, to: list[str], reference: str) -> None:
    """Sends one rendered mail. A failure is retried with a growing delay (by default after 1, 2, 4 …
    minutes, about a day and a half in all) and logged by its reference, never by its address."""
    try:
        EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, to).send()
    except Exception as error:
        log.warning("mail %s not delivered (%s); it is tried again later", reference, type(error).__name__)
        raise MailNotDelivered(f"{reference}: {type(error).__name__}") from None
    log.info("mail %s delivered", reference)


@db_periodic_task(crontab(hour="2", minute="15"))
def purge_metadata_daily() -> None:
    """Call metadata older than METADATA_RETENTION_DAYS, and orphaned document files (A8)."""
    management.call_command("purge_metadata")


@db_periodic_task(crontab(minute="*/5"))
def end_abandoned_calls() -> None:
    """Calls that nobody hung up and both sides left without a word (video/services.py)."""
    from sprechzimmer.video import services

    services.end_abandoned_calls()


@db_periodic_task(crontab(minute="*/5"))
def end_finished_conferences() -> None:
    """Janus rooms of appointments that are over (cancelled, no-show, their day past, or a room
    Janus could not destroy when the call ended): destroyed, every token in them gone."""
    from sprechzimmer.conference import actions

    actions.end_finished()


@db_periodic_task(crontab(day="15", hour="6", minute="0"))
def duty_statements_monthly() -> None:
    """On the 15th: each K-Arzt is told that last month's pay statement is ready."""
    management.call_command("duty_statements", base_url=settings.SITE_URL)


@db_task(retries=0)
def plan_whole_kv(run_id: int) -> None:
    """A KV-wide planning run (duty/kvruns.py): minutes of solving, progress in the run's row. Not
    retried: a failed run says why, and the staff start it again."""
    from sprechzimmer.duty import kvruns

    kvruns.execute(run_id)
