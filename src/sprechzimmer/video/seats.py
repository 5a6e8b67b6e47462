"""Who is in a room: one patient seat and one doctor seat per appointment, kept in the database so
that the limit of two participants holds across server processes (A2, A3)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from sprechzimmer.video.models import Appointment

# A seat whose holder has not sent a heartbeat for this long counts as free (a crashed tab).
STALE_AFTER = timedelta(seconds=45)


def _fresh(seen_at, now) -> bool:
    return seen_at is not None and now - seen_at < STALE_AFTER


def seat_patient(appointment: Appointment, seat: str, channel: str) -> tuple[bool, str]:
    """Seats the patient on an appointment read under its row lock (``select_for_update`` in the
    caller's transaction), without saving: the caller writes the seat's fields with its own. The
    same seat (a reload) takes over; another device is refused while the seat is held. Returns (ok,
    channel to close because it was taken over)."""
    now = timezone.now()
    previous = appointment.patient_channel
    if previous and appointment.patient_seat != seat and _fresh(appointment.patient_seen_at, now):
        return False, ""
    appointment.patient_seat, appointment.patient_channel, appointment.patient_seen_at = seat, channel, now
    return True, previous if previous and previous != channel else ""


@transaction.atomic
def take_doctor_seat(appointment_id: int, channel: str, user_id: int) -> tuple[bool, str]:
    """Takes the practice's seat. The same user takes it over (a reconnect after a network or server
    interruption, or a new tab); a colleague is refused while it is held."""
    now = timezone.now()
    appointment = Appointment.objects.select_for_update().get(pk=appointment_id)
    previous = appointment.doctor_channel
    if (
        previous
        and previous != channel
        and _fresh(appointment.doctor_seen_at, now)
        and appointment.doctor_seat_user_id != user_id
    ):
        return False, ""
    appointment.doctor_channel, appointment.doctor_seen_at = channel, now
    appointment.doctor_seat_user_id = user_id
    appointment.save(update_fields=["doctor_channel", "doctor_seen_at", "doctor_seat_user"])
    return True, previous if previous and previous != channel else ""


def heartbeat(appointment_id: int, role: str, channel: str) -> None:
    Appointment.objects.filter(pk=appointment_id, **{f"{role}_channel": channel}).update(
        **{f"{role}_seen_at": timezone.now()}
    )


def release(appointment_id: int, role: str, channel: str) -> bool:
    fields = {f"{role}_channel": "", f"{role}_seen_at": None}
    if role == "patient":
        fields["waiting_name"] = ""
    return bool(Appointment.objects.filter(pk=appointment_id, **{f"{role}_channel": channel}).update(**fields))
