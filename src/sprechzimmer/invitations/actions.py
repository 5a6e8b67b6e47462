"""Sending invitations, keeping reminders in step with the appointment, and letting go of the
contact as soon as nothing waits (docs/invitations.md). Views and the worker call these; nothing
here puts an address anywhere but into the sealed hold."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from sprechzimmer.invitations import contacts
from sprechzimmer.invitations.models import Channel, ContactHold, OutgoingMessage
from sprechzimmer.video.domain import code_digest, normalise_code
from sprechzimmer.video.models import Appointment

log = logging.getLogger("sprechzimmer.invitations")

Kind, Status = OutgoingMessage.Kind, OutgoingMessage.Status
OVER = Appointment.OVER
#: A reminder due sooner than this after the invitation would only repeat it.
REMINDER_MIN_GAP = timedelta(minutes=15)


class InvitationRefused(Exception):
    """The invitation cannot be sent; ``message`` is German, ``field`` names the input at fault."""

    def __init__(self, message: str, field: str = "", status: int = 400):
        super().__init__(message)
        self.message, self.field, self.status = message, field, status


def clean_email(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > 254:
        raise InvitationRefused("Bitte geben Sie die E-Mail-Adresse des Patienten an.", "to")
    try:
        validate_email(text)
    except ValidationError:
        raise InvitationRefused("Diese E-Mail-Adresse ist ungültig. Bitte prüfen Sie die Eingabe.", "to") from None
    return text


def clean_number(value: object) -> str:
    from sprechzimmer.invitations import sms

    try:
        return sms.normalise_number(value)
    except sms.NumberRefused as refused:
        raise InvitationRefused(str(refused), "to") from None


def check_code(appointment: Appointment, value: object) -> str:
    """The code must be the appointment's current one: the mail carries no other text than ours."""
    code = normalise_code(value) if isinstance(value, str) else None
    if code is None or appointment.access_code_digest != code_digest(code, settings.SECRET_KEY):
        raise InvitationRefused(
            "Dieser Zugangscode gilt für den Termin nicht mehr. Bitte erzeugen Sie einen neuen Code und senden Sie erneut.",
            "code",
            409,
        )
    return value.strip().upper() if isinstance(value, str) else code


def reminder_times(start: datetime, now: datetime) -> list[datetime]:
    """When reminders go (REMINDER_HOURS before the start), those still far enough ahead."""
    times = [start - timedelta(hours=h) for h in settings.REMINDER_HOURS]
    return [t for t in times if t >= now + REMINDER_MIN_GAP]


def invite(appointment: Appointment, channel: str, to: str, code: str) -> list[OutgoingMessage]:
    """Seals the contact and schedules the invitation now and the reminders. Call in a
    transaction with the appointment locked; the tasks are queued when it commits."""
    if appointment.status != Appointment.Status.PLANNED or appointment.end <= timezone.now():
        raise InvitationRefused("Für diesen Termin können keine Einladungen mehr versendet werden.", status=409)
    now = timezone.now()
    _drop(appointment, channel)
    ContactHold.objects.update_or_create(
        appointment=appointment,
        channel=channel,
        defaults={"sealed": contacts.seal(contacts.Contact(to, code), appointment.pk, channel), "created_at": now},
    )
    messages = [_message(appointment, channel, Kind.INVITATION, now)]
    messages += [_message(appointment, channel, Kind.REMINDER, t) for t in reminder_times(appointment.start, now)]
    return messages


#: When the doctor may nudge a patient who is not in the waiting room (issue 16).
LATE_AFTER = timedelta(minutes=3)


def nudge(appointment: Appointment, channel: str, to: str) -> OutgoingMessage:
    """The one-click reminder for a patient not in the waiting room three minutes after the start:
    the browser hands the contact over again (the hold of the reminders is gone by then); it is
    sealed for the one message and deleted once that has gone. The text points to the invitation's
    link: no code is needed, and none is issued (the patient's link keeps working)."""
    now = timezone.now()
    if appointment.status != Appointment.Status.PLANNED or not (
        appointment.start + LATE_AFTER <= now < appointment.end
    ):
        raise InvitationRefused(
            "Eine Nachfrage ist möglich, solange der Termin läuft und der Patient noch nicht im Wartezimmer ist "
            "(ab drei Minuten nach Beginn).",
            status=409,
        )
    ContactHold.objects.update_or_create(
        appointment=appointment,
        channel=channel,
        defaults={"sealed": contacts.seal(contacts.Contact(to, ""), appointment.pk, channel), "created_at": now},
    )
    _drop(appointment, channel)
    return _message(appointment, channel, Kind.LATE, now)


def _message(appointment: Appointment, channel: str, kind: str, due_at: datetime) -> OutgoingMessage:
    message = OutgoingMessage.objects.create(
        organisation_id=appointment.organisation_id, appointment=appointment, channel=channel, kind=kind, due_at=due_at
    )
    message_id = message.pk
    transaction.on_commit(lambda: enqueue(message_id, due_at))
    return message


def enqueue(message_id: int, due_at: datetime) -> None:
    from sprechzimmer.invitations.tasks import send_message

    # Only the id travels: Huey stores a task's arguments in its queue (SQLite file or Redis).
    task = send_message.s(message_id, eta=due_at) if due_at > timezone.now() else send_message.s(message_id)
    # The retry policy travels with the task, so it is this process's settings that count.
    task.retries, task.retry_delay = settings.MAIL_RETRIES, settings.MAIL_RETRY_SECONDS
    send_message.huey.enqueue(task)


def _drop(appointment: Appointment, channel: str | None = None) -> int:
    """Marks the waiting messages dropped (their tasks find them so and do nothing)."""
    query = OutgoingMessage.objects.filter(appointment=appointment, status__in=OutgoingMessage.WAITING)
    if channel:
        query = query.filter(channel=channel)
    return query.update(status=Status.DROPPED)


def release_if_done(appointment_id: int, channel: str) -> None:
    """Deletes the sealed contact once no message of ``channel`` waits for it."""
    waiting = OutgoingMessage.objects.filter(
        appointment_id=appointment_id, channel=channel, status__in=OutgoingMessage.WAITING
    )
    if not waiting.exists():
        ContactHold.objects.filter(appointment_id=appointment_id, channel=channel).delete()


def appointment_changed(appointment: Appointment, *, old_start: datetime, old_status: str) -> None:
    """Keeps the messages in step after a change (call in the change's transaction): moved → notice
    and new reminders; cancelled → cancellation, nothing else; done or not attended → nothing more,
    contact deleted."""
    channels = list(ContactHold.objects.filter(appointment=appointment).values_list("channel", flat=True))
    if not channels:
        return
    now = timezone.now()
    for channel in channels:
        if appointment.status == Appointment.Status.CANCELLED and old_status != Appointment.Status.CANCELLED:
            _drop(appointment, channel)
            _message(appointment, channel, Kind.CANCELLED, now)
        elif appointment.status in OVER:
            _drop(appointment, channel)
            release_if_done(appointment.pk, channel)
        elif appointment.start != old_start:
            _drop(appointment, channel)
            _message(appointment, channel, Kind.MOVED, now)
            for t in reminder_times(appointment.start, now):
                _message(appointment, channel, Kind.REMINDER, t)


def purge_over(now: datetime | None = None) -> int:
    """Drops what waits for appointments that are over and deletes their contacts. Returns the
    holds deleted."""
    now = now or timezone.now()
    deleted = 0
    for hold in ContactHold.objects.select_related("appointment"):
        appointment = hold.appointment
        if appointment.end + timedelta(hours=1) <= now or appointment.status in OVER:
            with transaction.atomic():
                waiting = OutgoingMessage.objects.filter(
                    appointment=appointment, channel=hold.channel, status__in=OutgoingMessage.WAITING
                )
                # A cancellation still on its way is left to go; anything else is too late now.
                waiting.exclude(kind=Kind.CANCELLED).update(status=Status.DROPPED)
                if not waiting.exists():
                    hold.delete()
                    deleted += 1
    return deleted


def messages_json(appointment: Appointment) -> list[dict]:
    """What the appointments page shows: no address, no text."""
    return [
        {
            "id": m.pk,
            "channel": m.channel,
            "channel_label": m.get_channel_display(),
            "kind": m.kind,
            "kind_label": m.get_kind_display(),
            "due_at": m.due_at.isoformat(),
            "status": m.status,
            "status_label": m.get_status_display(),
        }
        for m in appointment.outgoing_messages.all()
    ]


__all__ = ["Channel", "InvitationRefused", "appointment_changed", "invite", "messages_json", "purge_over"]


#: Provider ids that name no message: the console backend's, and an HTTP API's that answered none.
NO_PROVIDER_ID = ("", "console", "http")


def record_delivery(reports: Iterable[tuple[str, str]]) -> int:
    """Sets each sent SMS that a delivery report names (by the provider's message id: an SMPP
    receipt or an HTTP API's report) to delivered or failed. "sent", a report that comes twice or one
    naming no message of ours change nothing. Returns how many messages changed."""
    changed = 0
    for provider_id, meaning in reports:
        if provider_id in NO_PROVIDER_ID or meaning not in (Status.DELIVERED, Status.FAILED):
            continue
        changed += OutgoingMessage.objects.filter(
            channel=Channel.SMS, provider_id=provider_id, status=Status.SENT
        ).update(status=meaning)
    return changed
