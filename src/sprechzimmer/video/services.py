"""Appointment and call operations shared by views and websocket consumers."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sprechzimmer.video import seats
from sprechzimmer.video.domain import code_digest, code_problem, new_access_code, normalise_code
from sprechzimmer.video.models import Appointment, CallSession, VideoContact


def issue_code(appointment: Appointment) -> str:
    """A new access code; the old one stops working at once. Returns the code (shown once)."""
    while True:
        code = new_access_code()
        digest = code_digest(normalise_code(code), settings.SECRET_KEY)
        if not Appointment.objects.filter(access_code_digest=digest).exists():
            break
    appointment.access_code_digest = digest
    appointment.code_issued_at = timezone.now()
    appointment.save(update_fields=["access_code_digest", "code_issued_at"])
    return code


CODE_UNKNOWN = "Dieser Zugangscode ist nicht bekannt. Bitte prüfen Sie ihn oder fragen Sie Ihre Praxis."


def appointment_for_code(text: str) -> tuple[Appointment | None, str]:
    """The appointment a typed code opens, or None with the German reason."""
    code = normalise_code(text)
    if code is None:
        return None, code_problem(text)
    appointment = (
        Appointment.objects.select_related("organisation", "doctor")
        .filter(access_code_digest=code_digest(code, settings.SECRET_KEY))
        .first()
    )
    if appointment is None:
        return None, CODE_UNKNOWN
    if appointment.status == Appointment.Status.CANCELLED:
        return None, "Dieser Termin wurde abgesagt. Bitte wenden Sie sich an Ihre Praxis."
    if appointment.booked_online and appointment.booking_confirmed_at is None:
        return (
            None,
            "Die Praxis hat Ihren online gebuchten Termin noch nicht bestätigt. Bitte versuchen Sie es später erneut.",
        )
    if appointment.status == Appointment.Status.DONE:
        return None, "Diese Videosprechstunde ist bereits beendet. Bei Fragen wenden Sie sich bitte an Ihre Praxis."
    if not appointment.code_is_open():
        if timezone.now() < appointment.start:
            return None, (
                f"Ihr Termin beginnt am {timezone.localtime(appointment.start):%d.%m.%Y um %H:%M} Uhr. "
                "Sie können das Wartezimmer 30 Minuten vorher betreten."
            )
        return None, "Dieser Zugangscode ist abgelaufen. Bitte fragen Sie Ihre Praxis nach einem neuen Termin."
    return appointment, ""


def set_status(appointment_id: int, status: str, *, only_from: tuple[str, ...] = ()) -> bool:
    query = Appointment.objects.filter(pk=appointment_id)
    if only_from:
        query = query.filter(status__in=only_from)
    return bool(query.update(status=status, updated_at=timezone.now()))


def patient_left_waiting_room(appointment_id: int) -> bool:
    """Waiting → planned when the patient's websocket went, but only while no websocket holds the
    patient's seat: the disconnect of an old connection (its server process restarted, its network
    gone) is often handled after the patient is back on a new one, and must not take them out of
    the waiting room then. One conditional UPDATE, so no join can slip in between."""
    return bool(
        Appointment.objects.filter(pk=appointment_id, status=Appointment.Status.WAITING, patient_channel="").update(
            status=Appointment.Status.PLANNED, updated_at=timezone.now()
        )
    )


@transaction.atomic
def patient_waiting(appointment: Appointment) -> bool:
    """The patient entered the waiting room (planned → waiting); the practice's webhooks hear of it
    (ids and times only). False when the appointment was not planned (waiting already, in a call)."""
    if not set_status(appointment.pk, Appointment.Status.WAITING, only_from=(Appointment.Status.PLANNED,)):
        return False
    _announce_waiting(appointment)
    return True


def _announce_waiting(appointment: Appointment) -> None:
    from sprechzimmer.api import webhooks

    data = {
        "appointment_id": appointment.pk,
        "doctor_id": appointment.doctor_id,
        "start": appointment.start,
        "waiting_since": timezone.now(),
    }
    webhooks.emit(appointment.organisation_id, "patient.waiting", data)


@transaction.atomic
def start_call(appointment: Appointment) -> CallSession:
    """Admits the patient; a call still open (the doctor reloaded) goes on as the same session, so
    one conversation is one video contact."""
    set_status(appointment.pk, Appointment.Status.IN_CALL)
    open_session = CallSession.objects.filter(appointment=appointment, ended_at=None).last()
    return open_session or CallSession.objects.create(appointment=appointment)


def mark_connected(appointment_id: int) -> None:
    CallSession.objects.filter(appointment_id=appointment_id, ended_at=None, connected_at=None).update(
        connected_at=timezone.now()
    )


@transaction.atomic
def end_call(appointment_id: int, *, completed: bool) -> VideoContact | None:
    """Ends the open call; a call that was connected becomes a video contact for billing."""
    now = timezone.now()
    session = CallSession.objects.select_for_update().filter(appointment_id=appointment_id, ended_at=None).last()
    contact = None
    if session is not None:
        session.ended_at = now
        session.save(update_fields=["ended_at"])
        if session.connected_at is not None:
            appointment = Appointment.objects.get(pk=appointment_id)
            contact = VideoContact.objects.create(
                organisation_id=appointment.organisation_id,
                appointment=appointment,
                doctor_id=appointment.doctor_id,
                started_at=session.connected_at,
                duration_seconds=int((now - session.connected_at).total_seconds()),
                egk_checked=appointment.egk_checked_at is not None,
            )
    if session is not None:
        from sprechzimmer.api import webhooks

        appointment = Appointment.objects.get(pk=appointment_id)
        data = {
            "appointment_id": appointment_id,
            "doctor_id": appointment.doctor_id,
            "admitted_at": session.admitted_at,
            "connected_at": session.connected_at,
            "ended_at": now,
            "duration_seconds": contact.duration_seconds if contact else 0,
            "completed": completed,
        }
        webhooks.emit(appointment.organisation_id, "call.ended", data)
    if completed:
        status = Appointment.Status.DONE
        # The conference (if any) ends with the call: its Janus room goes, and every token with it.
        # After commit, so a rolled-back end leaves the room; the periodic job retries a failure.
        transaction.on_commit(lambda: _end_conference(appointment_id))
    else:
        # Interrupted: back to the waiting room if the patient is still there.
        present = Appointment.objects.filter(pk=appointment_id).exclude(patient_channel="").exists()
        status = Appointment.Status.WAITING if present else Appointment.Status.PLANNED
    set_status(appointment_id, status, only_from=(Appointment.Status.IN_CALL, Appointment.Status.WAITING))
    return contact


def _end_conference(appointment_id: int) -> None:
    from sprechzimmer.conference import actions
    from sprechzimmer.conference.models import Conference

    conference = Conference.objects.filter(appointment_id=appointment_id, ended_at=None).first()
    if conference is not None:
        actions.end(conference)


ABANDONED_AFTER = timedelta(minutes=15)


def end_abandoned_calls(now=None) -> int:
    """Ends calls that neither side hung up or left: no heartbeat from either seat for 15 minutes (a
    crashed browser, a closed laptop). A call that was connected becomes its video contact and is
    done; one that never connected goes back to planned. Returns how many were ended."""
    now = now or timezone.now()
    cut_off = now - ABANDONED_AFTER
    quiet = (
        Appointment.objects.filter(status=Appointment.Status.IN_CALL)
        .filter(Q(doctor_seen_at__isnull=True) | Q(doctor_seen_at__lt=cut_off))
        .filter(Q(patient_seen_at__isnull=True) | Q(patient_seen_at__lt=cut_off))
    )
    ended = 0
    for appointment_id in quiet.values_list("pk", flat=True):
        connected = CallSession.objects.filter(
            appointment_id=appointment_id, ended_at=None, connected_at__isnull=False
        ).exists()
        Appointment.objects.filter(pk=appointment_id).update(patient_channel="", doctor_channel="")
        end_call(appointment_id, completed=connected)
        ended += 1
    return ended


def delete_old_metadata(older_than) -> int:
    """Call metadata older than the cut-off (A8: three months): call sessions."""
    deleted, _ = CallSession.objects.filter(Q(admitted_at__lt=older_than)).delete()
    return deleted


# --- the patient's token (what the access code is exchanged for) --------------------------------

TOKEN_SALT = "sprechzimmer.video.patient"
TOKEN_MAX_AGE = 12 * 3600


def patient_token(appointment: Appointment) -> str:
    """Signed by the server: the appointment, the code's digest (a re-issued code invalidates it) and
    a random seat that names this browser (a reload keeps its place, a second device is refused)."""
    return signing.dumps(
        {"a": appointment.pk, "d": appointment.access_code_digest, "seat": secrets.token_urlsafe(9)}, salt=TOKEN_SALT
    )


def read_token(token: str) -> dict | None:
    try:
        return signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None


def room_state(appointment: Appointment) -> dict:
    """What the doctor's page and the practice's live lists see of a room (docs/signalling.md)."""
    channel = appointment.patient_channel
    return {
        "id": appointment.pk,
        "status": appointment.status,
        "waiting_name": appointment.waiting_name or None,
        "patient_present": bool(channel),
        # Which connection holds the seat (an opaque short digest of the channel): a reloaded page
        # takes the seat over before the old socket is gone, so "present" alone never changes and
        # the doctor's page would keep its connection to the page that is no longer there.
        "patient_seat": hashlib.sha256(channel.encode()).hexdigest()[:12] if channel else None,
    }


@dataclass(frozen=True)
class PatientJoin:
    """The outcome of a patient's websocket opening: a refusal (a key of the consumer's REFUSALS),
    or the seat taken, with the channel it was taken over from and the room state after."""

    refusal: str = ""
    appointment_id: int = 0
    organisation_id: int = 0
    in_call: bool = False
    replaced: str = ""
    state: dict | None = None
    #: Whether a doctor's connection holds the room's seat: if not, nobody but the patient is in the
    #: room's group, and the room need not be told (a doctor who connects later reads the state
    #: after taking the seat, under the same row lock).
    doctor_present: bool = False


def patient_joins(token: str, channel: str) -> PatientJoin:
    """Everything the database does when a patient's websocket opens, in one call on the consumers'
    single database thread: the appointment read once under the row lock (with whether the practice
    has webhooks at all), the seat and (planned → waiting) the status written in one UPDATE, the
    webhooks told only when the patient really entered the waiting room. Two statements in one
    transaction, written out once in ``seats`` rather than built by the ORM per join (what a join
    costs is what limits joins per second, bench/signalling_capacity.py)."""
    data = read_token(token)  # the signature first: a forged token costs no transaction
    if data is None:
        return PatientJoin(refusal="invalid")
    pk, digest = data.get("a"), data.get("d")
    if not isinstance(pk, int) or not isinstance(digest, str) or not isinstance(data.get("seat"), str):
        return PatientJoin(refusal="invalid")
    with transaction.atomic():
        appointment = seats.read_for_join(pk, digest)
        if appointment is None or not appointment.code_is_open():
            # A patient whose socket was away (network, server restart) while the doctor hung up
            # comes back to an ended call, not to an "invalid access".
            return PatientJoin(refusal="ended" if token_call_ended(data) else "invalid")
        if appointment.consent_at is None:
            return PatientJoin(refusal="consent")
        ok, replaced = seats.seat_patient(appointment, data["seat"], channel)
        if not ok:
            return PatientJoin(refusal="room-full")
        entered = appointment.status == Appointment.Status.PLANNED
        if entered:
            appointment.status, appointment.updated_at = Appointment.Status.WAITING, timezone.now()
        seats.save_patient_seat(appointment, entered=entered)
        if entered and appointment.has_webhooks:
            _announce_waiting(appointment)
    return PatientJoin(
        appointment_id=appointment.pk,
        organisation_id=appointment.organisation_id,
        in_call=appointment.status == Appointment.Status.IN_CALL,
        replaced=replaced,
        state=room_state(appointment),
        doctor_present=bool(appointment.doctor_channel),
    )


def token_call_ended(data: dict) -> bool:
    """Whether a genuine patient token (already read) belongs to an appointment whose call the
    practice has completed."""
    return Appointment.objects.filter(
        pk=data.get("a"), access_code_digest=data.get("d"), status=Appointment.Status.DONE
    ).exists()


def appointment_for_token(token: str, *, over_too: bool = False) -> Appointment | None:
    """The appointment a patient token admits to, while its code is unchanged and open. With
    ``over_too`` also one that is over (done, cancelled, no-show, its day past): for answers that
    only tell a page still open that it ended, instead of refusing it as a stranger."""
    data = read_token(token)
    return _appointment_for_token_data(data, over_too=over_too) if data is not None else None


def _appointment_for_token_data(data: dict, *, over_too: bool = False) -> Appointment | None:
    appointment = (
        Appointment.objects.select_related("organisation", "doctor")
        .filter(pk=data.get("a"), access_code_digest=data.get("d"))
        .exclude(access_code_digest=None)
        .first()
    )
    if appointment is None or not (appointment.code_is_open() or (over_too and appointment.is_over())):
        return None
    return appointment
