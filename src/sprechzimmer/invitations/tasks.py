"""The worker's part of integrated invitations (docs/invitations.md): one task per message, with
only the message's id as its argument, so the queue's storage never holds an address."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from sprechzimmer.contracts import metering
from sprechzimmer.core import formats
from sprechzimmer.invitations import actions, contacts, sms
from sprechzimmer.invitations.models import Channel, ContactHold, OutgoingMessage

log = logging.getLogger("sprechzimmer.invitations")
Status = OutgoingMessage.Status


class MessageNotSent(Exception):
    """A failed send, so that the worker retries. It names the message id and the error class only:
    an SMTP error's text can quote the recipient, and Huey logs the exception."""


def render(message: OutgoingMessage, code: str) -> tuple[str, str, str]:
    """(subject, text, html) of a patient mail, in German, without the patient's name."""
    appointment = message.appointment
    start = timezone.localtime(appointment.start)
    context = {
        "site_name": settings.SITE_NAME,
        "practice": appointment.organisation.name,
        "doctor": appointment.doctor.full_name,
        "date": formats.long_date(start),
        "time": f"{start:%H:%M}",
        "link": f"{settings.SITE_URL}/sprechstunde/#code={code}",
        "join_url": f"{settings.SITE_URL}/sprechstunde/",
        "device_check_link": f"{settings.SITE_URL}{reverse('device_check')}#code={code}",
        "code": code,
        "kind": message.kind,
    }
    name = f"mail/patient_{message.kind}"
    subject = " ".join(render_to_string(f"{name}.subject.txt", context).split())
    text = render_to_string(f"{name}.txt", context)
    html = render_to_string(f"{name}.html", context)
    return subject, text, html


def render_sms(message: OutgoingMessage, code: str) -> str:
    """The SMS text (``templates/sms/patient_<kind>.txt``): short enough for one GSM segment with
    a practice name of up to about 30 characters; no patient name."""
    appointment = message.appointment
    start = timezone.localtime(appointment.start)
    context = {
        "practice": appointment.organisation.name,
        "date": f"{start:%d.%m.}",
        "time": f"{start:%H:%M}",
        "link": f"{settings.SITE_URL}/sprechstunde/#code={code}",
    }
    return " ".join(render_to_string(f"sms/patient_{message.kind}.txt", context).split())


def _settle(message_id: int, status: str, sent: sms.Sent | None = None) -> None:
    with transaction.atomic():
        message = OutgoingMessage.objects.select_for_update().select_related("organisation").get(pk=message_id)
        if sent is not None:
            # Sent is sent, even if the appointment changed meanwhile: the SMSC has it and bills it.
            message.segments, message.provider_id = sent.segments, sent.message_id[:65]
            metering.count_sms(message.organisation, timezone.localdate(), sent.segments)
        elif message.status not in OutgoingMessage.WAITING:
            return  # dropped meanwhile
        message.status = status
        message.sent_at = timezone.now() if status == Status.SENT else None
        message.save(update_fields=["status", "sent_at", "segments", "provider_id"])
        actions.release_if_done(message.appointment_id, message.channel)


@db_task(retries=settings.MAIL_RETRIES, retry_delay=settings.MAIL_RETRY_SECONDS, retry_backoff=2, context=True)
def send_message(message_id: int, task=None) -> None:
    """Sends one message if it is still due; records sent, retrying or failed."""
    message = (
        OutgoingMessage.objects.select_related("appointment__organisation", "appointment__doctor")
        .filter(pk=message_id)
        .first()
    )
    if message is None or message.status not in OutgoingMessage.WAITING:
        return
    hold = ContactHold.objects.filter(appointment_id=message.appointment_id, channel=message.channel).first()
    if hold is None:
        OutgoingMessage.objects.filter(pk=message_id).update(status=Status.DROPPED)
        return
    contact = contacts.open_sealed(hold.sealed, message.appointment_id, message.channel)
    OutgoingMessage.objects.filter(pk=message_id).update(attempts=message.attempts + 1)
    try:
        if message.channel == Channel.SMS:
            sent = sms.send(contact.to, render_sms(message, contact.code))
        else:
            subject, text, html = render(message, contact.code)
            mail = EmailMultiAlternatives(
                f"[{settings.SITE_NAME}] {subject}", text, settings.DEFAULT_FROM_EMAIL, [contact.to]
            )
            mail.attach_alternative(html, "text/html")
            mail.send()
            sent = None
    except Exception as error:
        last = task is None or not task.retries
        _settle(message_id, Status.FAILED if last else Status.RETRYING)
        log.warning(
            "message %s not sent (%s)%s", message_id, type(error).__name__, "" if last else "; tried again later"
        )
        raise MessageNotSent(f"message {message_id}: {type(error).__name__}") from None
    _settle(message_id, Status.SENT, sent)
    log.info("message %s sent", message_id)


@db_periodic_task(crontab(minute="7"))
def purge_contact_holds() -> None:
    """Contacts of appointments that are over (docs/e2ee.md: no hold outlives its appointment by
    more than an hour)."""
    actions.purge_over()


@db_periodic_task(crontab(minute="*"))
def collect_sms_receipts() -> None:
    """Delivery receipts from the SMSC: "zugestellt" or "fehlgeschlagen" on the message."""
    if settings.SMS_BACKEND == "smpp":
        receipts = sms.collect_receipts(settings.SMPP_RECEIPT_SECONDS)
        actions.record_delivery((message_id, sms.receipt_meaning(state)) for message_id, state in receipts)
