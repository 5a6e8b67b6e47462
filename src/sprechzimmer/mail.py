"""The one way the product sends e-mail (docs/architecture.md).

Subject and body come from German templates (``templates/mail/<name>.subject.txt`` and
``<name>.txt``), are rendered when the mail is decided, and go to the task queue once the
transaction commits: a mail is never sent for a change that was rolled back, the request never waits
for the mail server, and a mail server that is down delays the mail instead of losing it
(``jobs.tasks.deliver_mail`` retries). Logs name the mail by template and a short reference, never
by the address.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string


def render(template: str, context: dict) -> tuple[str, str]:
    context = {"site_name": settings.SITE_NAME, **context}
    subject = " ".join(render_to_string(f"mail/{template}.subject.txt", context).split())
    body = render_to_string(f"mail/{template}.txt", context)
    return f"[{settings.SITE_NAME}] {subject}", body


def send(template: str, to: str | list[str], context: dict) -> None:
    """Renders the mail now and hands it to the queue after the current transaction commits."""
    subject, body = render(template, context)
    queue(subject, body, [to] if isinstance(to, str) else list(to), template)


def queue(subject: str, body: str, to: list[str], name: str) -> None:
    from sprechzimmer.jobs.tasks import deliver_mail

    task = deliver_mail.s(subject, body, to, f"{name}:{secrets.token_hex(3)}")
    # The retry policy travels with the task, so it is this process's settings that count.
    task.retries, task.retry_delay = settings.MAIL_RETRIES, settings.MAIL_RETRY_SECONDS
    transaction.on_commit(lambda: deliver_mail.huey.enqueue(task))
