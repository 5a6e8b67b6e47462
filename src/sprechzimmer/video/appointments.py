"""The rules of an appointment that every way in shares: the practice's pages (video/views.py) and
the API (api/endpoints.py). What may be set and how it is checked (German messages per field), the
appointments of a period, a change under optimistic locking, and when a new access code makes sense.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from sprechzimmer import inputs
from sprechzimmer.accounts import keyblobs
from sprechzimmer.accounts.models import User
from sprechzimmer.video.domain import BERLIN, booking_problem, code_window
from sprechzimmer.video.models import Appointment

PATIENT_MAX_BYTES = 16 * 1024


def doctors(organisation):
    return organisation.members.filter(role=User.Role.DOCTOR, is_active=True).order_by("full_name")


def clean_fields(data: dict, organisation, *, current: Appointment | None = None) -> dict:
    """Validates what the browser may set on a new appointment, or on ``current`` (only the fields
    sent); German messages per field. Every value is checked for its type first: an id that is a
    string or an object, a duration of 1e400 or a start with a +99:00 offset is a message on its
    field, not an exception. A start that is set must lie between 30 minutes ago and two years
    ahead (``domain.booking_problem``); an unchanged start is not checked, so a past appointment
    can still be marked done or corrected."""
    partial = current is not None
    cleaned, errors = {}, {}
    if "doctor_id" in data or not partial:
        doctor_id = inputs.parse_id(data.get("doctor_id"))
        doctor = doctors(organisation).filter(pk=doctor_id).first() if doctor_id else None
        if doctor is None:
            errors["doctor_id"] = "Bitte wählen Sie eine Ärztin oder einen Arzt Ihrer Praxis."
        cleaned["doctor"] = doctor
    if "start" in data or not partial:
        start = parse_start(data.get("start"))
        unchanged = current is not None and start == current.start
        if start is None:
            errors["start"] = "Bitte geben Sie Datum und Uhrzeit an."
        elif not unchanged and (problem := booking_problem(start, timezone.now())):
            errors["start"] = problem
        else:
            cleaned["start"] = start
    if "duration_minutes" in data or not partial:
        duration = inputs.parse_int(data.get("duration_minutes"), minimum=5, maximum=240)
        if duration is None:
            errors["duration_minutes"] = "Die Dauer liegt zwischen 5 und 240 Minuten."
        cleaned["duration_minutes"] = duration
    if "patient" in data or not partial:
        patient = data.get("patient")
        try:
            cleaned["patient_ciphertext"] = keyblobs.check_record(
                patient if isinstance(patient, str) else "", PATIENT_MAX_BYTES, key_version=organisation.key_version
            )
        except ValidationError as exc:
            errors["patient"] = (
                ValidationError(keyblobs.STALE_KEY, code="stale_key")  # the code tells API clients to reload keys
                if exc.code == "stale_key"
                else "Die Patientendaten sind nicht verschlüsselt angekommen. Bitte laden Sie die Seite neu."
            )
    if "status" in data:
        allowed = {
            Appointment.Status.PLANNED,
            Appointment.Status.CANCELLED,
            Appointment.Status.NO_SHOW,
            Appointment.Status.DONE,
        }
        if not isinstance(data["status"], str) or data["status"] not in allowed:
            errors["status"] = "Dieser Status kann hier nicht gesetzt werden."
        cleaned["status"] = data.get("status")
    if errors:
        raise ValidationError(errors)
    return cleaned


def parse_start(value) -> datetime | None:
    """An ISO date and time; without an offset it is Europe/Berlin. None for anything else,
    including offsets beyond ±24 h and dates whose day or offset arithmetic would overflow."""
    if not isinstance(value, str):
        return None
    try:
        start = parse_datetime(value)
    except ValueError:  # well-formed but impossible: 2026-02-30, +99:00
        return None
    if start is None or not inputs.EARLIEST_DATE <= start.date() <= inputs.LATEST_DATE:
        return None
    return start if timezone.is_aware(start) else start.replace(tzinfo=BERLIN)


def summary(a: Appointment) -> dict:
    """What every way out shows of an appointment (the API as it is; the practice's pages add the
    doctor's name, consent, eGK check and messages): patient data only as ciphertext."""
    opens, closes = code_window(a.start)
    return {
        "id": a.pk,
        "doctor_id": a.doctor_id,
        "start": a.start,
        "duration_minutes": a.duration_minutes,
        "status": a.status,
        "patient": a.patient_ciphertext,
        "version": a.version,
        "has_code": a.access_code_digest is not None,
        "code_opens": opens,
        "code_closes": closes,
        "booked_online": a.booked_online,
        "confirmed": not a.booked_online or a.booking_confirmed_at is not None,
    }


def in_period(organisation, first: date, last: date, doctor_id: int | None = None):
    """The practice's appointments from ``first`` to ``last`` (Berlin days), with their doctors."""
    start = datetime.combine(first, datetime.min.time(), tzinfo=BERLIN)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=BERLIN)
    query = organisation.appointments.select_related("doctor").filter(start__gte=start, start__lt=end)
    return query.filter(doctor_id=doctor_id) if doctor_id is not None else query


class Conflict(Exception):
    """A change that cannot be made now; ``current`` is the appointment as it is, when that helps."""

    def __init__(self, message: str, current: Appointment | None = None):
        super().__init__(message)
        self.message, self.current = message, current


def apply_change(appointment: Appointment, fields: dict, base_version: int) -> Appointment:
    """Applies checked ``fields`` if nobody changed the appointment since ``base_version``."""
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if locked.version != base_version:
            raise Conflict(
                "Der Termin wurde inzwischen von jemand anderem geändert. Ihre Eingaben sind noch im "
                "Formular; bitte prüfen Sie und speichern Sie erneut.",
                locked,
            )
        if locked.status in (Appointment.Status.IN_CALL,) and "status" in fields:
            raise Conflict("Der Termin läuft gerade als Videosprechstunde.")
        old_start, old_status = locked.start, locked.status
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.version += 1
        locked.updated_at = timezone.now()
        locked.save()
        # Invitations and reminders follow the change (a notice, new reminders, or none after a
        # cancellation), whichever way it came in: the practice's page or the API.
        from sprechzimmer.invitations import actions as invitation_actions

        invitation_actions.appointment_changed(locked, old_start=old_start, old_status=old_status)
        if locked.status == Appointment.Status.CANCELLED and old_status != Appointment.Status.CANCELLED:
            from sprechzimmer.api import webhooks

            data = {
                "appointment_id": locked.pk,
                "doctor_id": locked.doctor_id,
                "start": locked.start,
                "cancelled_at": locked.updated_at,
            }
            webhooks.emit(locked.organisation_id, "appointment.cancelled", data)
    return locked


def code_problem(appointment: Appointment) -> str:
    """Why no new access code should be issued for the appointment, or ""."""
    if appointment.status in (Appointment.Status.CANCELLED, Appointment.Status.DONE):
        return "Für abgesagte oder abgeschlossene Termine gibt es keinen Zugangscode."
    if code_window(appointment.start)[1] <= timezone.now():
        return "Dieser Termin ist vorbei; ein neuer Zugangscode würde nicht mehr gelten."
    return ""
