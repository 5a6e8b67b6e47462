"""What happens to a conference: opened, participants invited, admitted, removed, ended; and the
access an admitted participant's browser gets for Janus (docs/operations.md, docs/e2ee.md).

Janus holds only the state Django gives it: a room per conference whose ``allowed`` list has the
room tokens of the admitted participants. Django is the source of truth; Janus is told on every
change, and a change Janus could not take is refused as a whole (nothing half-done).
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sprechzimmer.accounts import keyblobs
from sprechzimmer.conference import janusconf
from sprechzimmer.conference.janus import ROOM_EXISTS, Janus, JanusError
from sprechzimmer.conference.models import Conference, Participant
from sprechzimmer.video.domain import code_digest, code_window, new_access_code, normalise_code
from sprechzimmer.video.ice import ice_servers
from sprechzimmer.video.models import Appointment

log = logging.getLogger(__name__)

#: At most this many people in a conference (the grid of the call view, issue 18), doctor included.
MAX_PARTICIPANTS = 9
#: Roles the doctor invites; the doctor and the patient belong to every conference.
GUEST_ROLES = (Participant.Role.INTERPRETER, Participant.Role.RELATIVE, Participant.Role.COLLEAGUE)
MAX_NAME_CIPHERTEXT = 2048
OVER = Appointment.OVER

NOT_SET_UP = "Konferenzen sind auf diesem Server nicht eingerichtet. Bitte wenden Sie sich an den Betreiber."
UNREACHABLE = "Der Konferenzserver ist gerade nicht erreichbar. Bitte versuchen Sie es in einer Minute erneut."
OVER_TEXT = "Dieser Termin ist beendet. Eine Konferenz ist nicht mehr möglich."


class ConferenceRefused(Exception):
    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.message, self.status = message, status


def janus() -> Janus:
    if not (settings.JANUS_URL and settings.JANUS_SECRET):
        # 409, not 503: nothing is down, this instance does not offer conferences.
        raise ConferenceRefused(NOT_SET_UP, 409)
    return Janus(settings.JANUS_URL, settings.JANUS_SECRET)


def appointment_over(appointment: Appointment, now: datetime | None = None) -> bool:
    return appointment.is_over(now)


def _new_participant(conference: Conference, role: str, **fields) -> Participant:
    return Participant.objects.create(
        conference=conference,
        role=role,
        public_id=secrets.token_urlsafe(12),
        room_token=secrets.token_urlsafe(32),
        **fields,
    )


def open_conference(appointment: Appointment) -> Conference:
    """The appointment's conference, made with its Janus room on first use: the doctor in it and
    admitted, the patient in it and waiting to be admitted."""
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        existing = Conference.objects.filter(appointment=locked).first()
        if existing is not None:
            if existing.ended_at is not None:
                raise ConferenceRefused(OVER_TEXT)
            return existing
        if appointment_over(locked):
            raise ConferenceRefused(OVER_TEXT)
        server = janus()
        conference = Conference.objects.create(appointment=locked, room=secrets.token_urlsafe(18))
        doctor = _new_participant(conference, Participant.Role.DOCTOR, user=locked.doctor, admitted_at=timezone.now())
        _new_participant(conference, Participant.Role.PATIENT)
        try:
            with server.videoroom() as room:
                room.create(conference.room, publishers=MAX_PARTICIPANTS, tokens=[doctor.room_token])
        except JanusError as exc:
            log.warning("conference %s: Janus refused the room: %s", conference.pk, exc)
            raise ConferenceRefused(UNREACHABLE, 503) from exc
    return conference


def clean_name(value: object, key_version: int) -> str:
    """The encrypted display name: an A256GCM record under the practice key's current version
    ``key_version``, made in the browser."""
    return keyblobs.check_record(value if isinstance(value, str) else "", MAX_NAME_CIPHERTEXT, key_version=key_version)


def _unused_code() -> tuple[str, str]:
    while True:
        code = new_access_code()
        digest = code_digest(normalise_code(code) or "", settings.SECRET_KEY)
        taken = Appointment.objects.filter(access_code_digest=digest).exists()
        if not taken and not Participant.objects.filter(access_code_digest=digest).exists():
            return code, digest


def invite(conference: Conference, role: str, name_ciphertext: str) -> tuple[Participant, str]:
    """A further participant with an access code of their own (returned once, stored as HMAC)."""
    if role not in GUEST_ROLES:
        raise ConferenceRefused(
            "Bitte wählen Sie, wer hinzukommt: Dolmetschende, Angehörige oder Kollegin/Kollege.", 400
        )
    with transaction.atomic():
        locked = Conference.objects.select_for_update().get(pk=conference.pk)
        if locked.ended_at is not None or appointment_over(locked.appointment):
            raise ConferenceRefused(OVER_TEXT)
        if locked.participants.filter(removed_at=None).count() >= MAX_PARTICIPANTS:
            raise ConferenceRefused(f"Eine Konferenz hat höchstens {MAX_PARTICIPANTS} Teilnehmende.")
        code, digest = _unused_code()
        participant = _new_participant(locked, role, name_ciphertext=name_ciphertext, access_code_digest=digest)
    return participant, code


def ensure_room(conference: Conference, room) -> None:
    """Makes sure Janus has the conference's room. Janus keeps rooms in memory only: after a restart
    the room is made again from Django's rows (the room tokens of the admitted participants who
    were not removed), so nobody Django let out comes back in with it."""
    if room.exists(conference.room):
        return
    tokens = list(
        conference.participants.filter(admitted_at__isnull=False, removed_at=None).values_list("room_token", flat=True)
    )
    log.info("conference %s: room missing on Janus, made again", conference.pk)
    try:
        room.create(conference.room, publishers=MAX_PARTICIPANTS, tokens=tokens)
    except JanusError as exc:
        if exc.code != ROOM_EXISTS:  # another request made it a moment ago
            raise


def admit(participant: Participant) -> Participant:
    """The doctor lets the participant in: their room token goes into the room's list on Janus."""
    with transaction.atomic():
        locked = (
            Participant.objects.select_for_update().select_related("conference__appointment").get(pk=participant.pk)
        )
        if locked.removed_at is not None:
            raise ConferenceRefused("Diese Person wurde aus der Konferenz entfernt. Bitte laden Sie sie neu ein.")
        if locked.conference.ended_at is not None or appointment_over(locked.conference.appointment):
            raise ConferenceRefused(OVER_TEXT)
        if locked.admitted_at is None:
            try:
                with janus().videoroom() as room:
                    ensure_room(locked.conference, room)
                    room.allow(locked.conference.room, [locked.room_token])
            except JanusError as exc:
                raise ConferenceRefused(UNREACHABLE, 503) from exc
            locked.admitted_at = timezone.now()
            locked.save(update_fields=["admitted_at"])
    return locked


def remove(participant: Participant) -> Participant:
    """Out of the conference: the room token leaves Janus's list and the participant is kicked."""
    if participant.role == Participant.Role.DOCTOR:
        raise ConferenceRefused("Die behandelnde Ärztin oder der behandelnde Arzt bleibt in der Konferenz.")
    with transaction.atomic():
        locked = Participant.objects.select_for_update().select_related("conference").get(pk=participant.pk)
        if locked.removed_at is None:
            if locked.admitted_at is not None and locked.conference.ended_at is None:
                try:
                    with janus().videoroom() as room:
                        room.disallow(locked.conference.room, [locked.room_token])
                        room.kick(locked.conference.room, locked.public_id)
                except JanusError as exc:
                    raise ConferenceRefused(UNREACHABLE, 503) from exc
            locked.removed_at = timezone.now()
            locked.save(update_fields=["removed_at"])
    return locked


def leave(participant: Participant) -> Participant:
    """The participant hung up (issue 18): their room token leaves Janus's list, they are kicked if
    still there, and they are no longer admitted; their call key and grant are dropped, so the
    doctor's browser takes them out of the key (a new epoch for those who stay) exactly as after a
    removal. Unlike a removal their code still opens the waiting room; the doctor admits again."""
    if participant.role == Participant.Role.DOCTOR:
        raise ConferenceRefused("Die behandelnde Ärztin oder der behandelnde Arzt beendet den Termin im Raum.")
    with transaction.atomic():
        locked = (
            Participant.objects.select_for_update().select_related("conference__appointment").get(pk=participant.pk)
        )
        running = locked.conference.ended_at is None and not appointment_over(locked.conference.appointment)
        if locked.removed_at is None and locked.admitted_at is not None and running:
            try:
                with janus().videoroom() as room:
                    room.disallow(locked.conference.room, [locked.room_token])
                    room.kick(locked.conference.room, locked.public_id)
            except JanusError as exc:
                raise ConferenceRefused(UNREACHABLE, 503) from exc
        if locked.removed_at is None:
            locked.admitted_at, locked.call_key, locked.grant = None, "", ""
            locked.left_at = timezone.now()
            locked.save(update_fields=["admitted_at", "call_key", "grant", "left_at"])
    return locked


def end(conference: Conference) -> bool:
    """The appointment is over: the room is destroyed on Janus (everyone in it is out, every room
    token gone). True once done; False if Janus could not be reached (the job tries again)."""
    with transaction.atomic():
        locked = Conference.objects.select_for_update().get(pk=conference.pk)
        if locked.ended_at is None:
            try:
                with janus().videoroom() as room:
                    room.destroy(locked.room)
            except (JanusError, ConferenceRefused) as exc:
                log.warning("conference %s: room not destroyed yet: %s", locked.pk, exc)
                return False
            locked.ended_at = timezone.now()
            locked.save(update_fields=["ended_at"])
    conference.ended_at = locked.ended_at
    return True


def end_finished(now: datetime | None = None) -> int:
    """Ends the conferences whose appointment is over (done, cancelled, no-show, or its day past).
    The periodic job's work; ``video.services.end_call`` ends a conference at once."""
    now = now or timezone.now()
    candidates = Conference.objects.filter(ended_at=None).select_related("appointment")
    candidates = candidates.filter(Q(appointment__status__in=OVER) | Q(appointment__start__lt=now - timedelta(hours=1)))
    return sum(end(c) for c in candidates if appointment_over(c.appointment, now))


def access(participant: Participant) -> dict:
    """What an admitted participant's browser needs for Janus: the WebSocket address, the room,
    its id there, its room token and a Janus token valid for JANUS_TOKEN_TTL (not past the
    appointment's day). The browser asks again before ``expires``; a removed participant gets none."""
    conference = participant.conference
    appointment = conference.appointment
    if participant.removed_at is not None:
        raise ConferenceRefused("Sie nehmen an dieser Konferenz nicht mehr teil.", 403)
    if conference.ended_at is not None or appointment_over(appointment):
        raise ConferenceRefused(OVER_TEXT, 403)
    if participant.admitted_at is None:
        raise ConferenceRefused("Bitte warten Sie, bis die Praxis Sie hereinbittet.", 409)
    if not settings.JANUS_WS_URL:
        raise ConferenceRefused(NOT_SET_UP, 409)
    with transaction.atomic():
        # Under the conference's lock, so a room being destroyed by ``end`` is not made again.
        locked = Conference.objects.select_for_update().get(pk=conference.pk)
        if locked.ended_at is not None:
            raise ConferenceRefused(OVER_TEXT, 403)
        try:
            with janus().videoroom() as room:
                ensure_room(locked, room)
        except JanusError as exc:
            raise ConferenceRefused(UNREACHABLE, 503) from exc
    expiry = min(int(time.time()) + settings.JANUS_TOKEN_TTL, int(code_window(appointment.start)[1].timestamp()))
    return {
        "server": settings.JANUS_WS_URL,
        "room": conference.room,
        "id": participant.public_id,
        "room_token": participant.room_token,
        "token": janusconf.signed_token(settings.JANUS_SECRET, expiry),
        "expires": datetime.fromtimestamp(expiry, tz=timezone.get_current_timezone()).isoformat(),
        "role": participant.role,
        "ice_servers": ice_servers(),
    }


MAX_GRANT = 4096


# --- presence: a participant's page asks for its key every 2 s (ConferenceSeat, pages/guest.js and
# pages/patient.js). One that has not asked for PRESENCE_SECONDS is gone (tab closed, device off,
# network lost): the doctor's page takes them out of the key until they ask again (docs/e2ee.md).
PRESENCE_SECONDS = 15


def _seen_key(pk: int) -> str:
    return f"conference:seen:{pk}"


def mark_present(participant: Participant) -> None:
    cache.set(_seen_key(participant.pk), time.time(), PRESENCE_SECONDS * 4)


def present_ids(pks: list[int]) -> set[int]:
    """Which of these participants' pages asked for their key in the last PRESENCE_SECONDS (one
    trip to the cache for all)."""
    now, seen = time.time(), cache.get_many([_seen_key(pk) for pk in pks])
    return {pk for pk in pks if now - seen.get(_seen_key(pk), 0.0) <= PRESENCE_SECONDS}


def key_state(participant: Participant, call_key: str | None) -> dict:
    """The participant's side of the key relay: stores the call key they sent (a new one drops the
    grant sealed to the old), and answers where they stand and the grant the doctor left for them."""
    mark_present(participant)
    if call_key is not None and call_key != participant.call_key:
        participant.call_key, participant.grant = call_key, ""
        participant.save(update_fields=["call_key", "grant"])
    conference = participant.conference
    return {
        "admitted": participant.admitted_at is not None,
        "removed": participant.removed_at is not None,
        "ended": conference.ended_at is not None or appointment_over(conference.appointment),
        "conference": str(conference.pk),
        "grant": participant.grant or None,
    }


def leave_grant(participant: Participant, grant: str, call_key: str) -> Participant:
    """The doctor's browser leaves a grant sealed to ``call_key``; refused when the participant has
    another call key by now (they reloaded: the doctor seals again to the new one)."""
    with transaction.atomic():
        locked = (
            Participant.objects.select_for_update().select_related("conference__appointment").get(pk=participant.pk)
        )
        if locked.removed_at is not None:
            raise ConferenceRefused("Diese Person nimmt an der Konferenz nicht mehr teil.")
        if locked.admitted_at is None:
            raise ConferenceRefused("Bitte lassen Sie die Person zuerst herein.")
        if locked.conference.ended_at is not None or appointment_over(locked.conference.appointment):
            raise ConferenceRefused(OVER_TEXT)
        if not locked.call_key or locked.call_key != call_key:
            raise ConferenceRefused(
                "Der Browser dieser Person hat einen neuen Schlüssel. Bitte versuchen Sie es erneut."
            )
        locked.grant = grant
        locked.save(update_fields=["grant"])
    return locked


def participant_json(p: Participant, present: bool | None = None) -> dict:
    """``present``: the participant's page asked for its key lately (present_ids); looked up when
    not given."""
    if present is None:
        present = p.pk in present_ids([p.pk])
    return {
        "id": p.pk,
        "public_id": p.public_id,
        "role": p.role,
        "role_label": p.get_role_display(),
        "name": p.name_ciphertext or None,
        "call_key": p.call_key or None,
        "admitted": p.admitted_at is not None,
        "removed": p.removed_at is not None,
        "left": p.left_at is not None and p.admitted_at is None,
        "present": present,
    }


def conference_json(conference: Conference) -> dict:
    participants = list(conference.participants.all())
    present = present_ids([p.pk for p in participants])
    return {
        "id": conference.pk,
        "appointment": conference.appointment_id,
        "ended": conference.ended_at is not None,
        "participants": [participant_json(p, p.pk in present) for p in participants],
    }


# --- guests: the access code is exchanged for a signed token, as for the patient --------------

TOKEN_SALT = "sprechzimmer.conference.guest"
TOKEN_MAX_AGE = 12 * 3600


def guest_problem(participant: Participant, now: datetime | None = None) -> str | None:
    """Why a guest's code does not open the conference now (German), or None: the same window as
    the patient's code (30 minutes before the start to the end of that day)."""
    now = now or timezone.now()
    appointment = participant.conference.appointment
    if participant.conference.ended_at is not None or appointment_over(appointment, now):
        return "Dieser Zugangscode ist abgelaufen. Der Termin ist beendet."
    opens, _ = code_window(appointment.start)
    if now < opens:
        return (
            f"Der Termin beginnt am {timezone.localtime(appointment.start):%d.%m.%Y um %H:%M} Uhr. "
            "Sie können das Wartezimmer 30 Minuten vorher betreten."
        )
    return None


def guest_for_code(text: str) -> Participant | None:
    code = normalise_code(text)
    if code is None:
        return None
    return (
        Participant.objects.select_related("conference__appointment__organisation", "conference__appointment__doctor")
        .filter(access_code_digest=code_digest(code, settings.SECRET_KEY), removed_at=None)
        .first()
    )


def guest_token(participant: Participant) -> str:
    return signing.dumps({"p": participant.pk, "d": participant.access_code_digest}, salt=TOKEN_SALT)


def guest_for_token(token: str) -> Participant | None:
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    return (
        Participant.objects.select_related("conference__appointment")
        .filter(pk=data.get("p"), access_code_digest=data.get("d"))
        .exclude(access_code_digest=None)
        .first()
    )
