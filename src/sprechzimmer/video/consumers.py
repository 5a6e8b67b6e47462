"""Signalling over websockets (docs/signalling.md). Consumers are thin: parse, authorise, relay.
The server never sees media; it relays SDP and ICE candidates between the two seats of a room."""

from __future__ import annotations

import contextlib
from importlib import import_module
from time import monotonic as _clock

from allauth.mfa.utils import is_mfa_enabled
from channels.consumer import get_handler_name
from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from sprechzimmer import inputs, metrics
from sprechzimmer.accounts import devices, screenlock
from sprechzimmer.accounts.access import device_approved, is_practice_member
from sprechzimmer.accounts.models import Device, User
from sprechzimmer.dbthread import database_sync_to_async
from sprechzimmer.duty import videoduty
from sprechzimmer.video import seats, services
from sprechzimmer.video.ice import ice_servers
from sprechzimmer.video.models import Appointment

MAX_MESSAGE = 64 * 1024
MAX_NAME = 2048

CLOSE_INVALID = 4001
CLOSE_REFUSED = 4003
CLOSE_NOT_FOUND = 4004

REFUSALS = {
    "invalid": "Ihr Zugang ist ungültig oder abgelaufen. Bitte geben Sie den Zugangscode erneut ein.",
    "ended": "Die Videosprechstunde ist beendet. Vielen Dank!",
    "consent": "Bitte bestätigen Sie zuerst die Einwilligung zur Videosprechstunde.",
    "room-full": "Diese Videosprechstunde ist bereits auf einem anderen Gerät geöffnet. Es können nur zwei "
    "Personen teilnehmen.",
    "doctor-present": "Diese Videosprechstunde ist bereits bei einer Kollegin oder einem Kollegen geöffnet.",
    "replaced": "Die Videosprechstunde wurde in einem anderen Fenster geöffnet.",
    "revoked": "Dieses Endgerät oder Ihr Zugang wurde gesperrt. Bitte wenden Sie sich an den Hauptnutzer Ihrer Praxis.",
    "duty-over": "Ihr Video-Bereitschaftsdienst ist zu Ende; vermittelte Patienten holt jetzt die Ärztin oder der Arzt "
    "im Dienst herein.",
}


def room_group(appointment_id: int) -> str:
    return f"room.{appointment_id}"


def practice_group(organisation_id: int) -> str:
    return f"practice.{organisation_id}"


@database_sync_to_async
def _appointment_state(appointment_id: int) -> dict:
    return services.room_state(Appointment.objects.get(pk=appointment_id))


class JsonConsumer(AsyncJsonWebsocketConsumer):
    """What every socket of ours does with what a client sends: a text frame of at most 64 KiB that
    holds a JSON object goes to ``receive_json``. Anything else is dropped: binary frames, malformed
    JSON, 1e400, and every frame that arrives after the server refused the socket (``ready`` is set
    only once ``connect`` admitted the client; frames can still be on their way after a refusal)."""

    ready = False
    #: Set once the server closed (or refused) the socket: a revocation arriving after that only
    #: leaves the groups, as there is nobody to tell.
    closing = False

    async def close(self, code=None, reason=None):
        self.closing = True
        await super().close(code, reason)

    async def dispatch(self, message):
        """Channels' dispatch without its ``aclose_old_connections()`` before every handler: a hop
        to a worker thread for each message a socket receives (its opening, every ping and every
        relayed signal), a tenth of a join's CPU (docs/capacity.md). Our consumers reach the
        database only through ``database_sync_to_async``, which closes old connections in the
        database thread before and after each call, so the hop did nothing ours needs."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if not self.ready or text_data is None or len(text_data) > MAX_MESSAGE:
            return
        try:
            content = inputs.json_object(text_data)
        except inputs.InputError:
            return
        await self.receive_json(content)


class SignallingConsumer(JsonConsumer):
    """What both seats share: relaying, heartbeats, refusing with a reason, telling the practice."""

    role = ""
    appointment_id: int | None = None
    organisation_id: int | None = None
    #: A heartbeat writes the seat's time only if the last write is at least this old (seconds). The
    #: page pings every 15 s and a seat counts as free after ``seats.STALE_AFTER`` (45 s) without a
    #: write: at 25 s every other ping writes, and a held seat is at most about 30 s old. Patients
    #: (``PatientConsumer``) are the bulk of all sockets: 5 000 waiting were 333 writes a second, one
    #: per ping (docs/capacity.md). A connection whose seat was taken while the message telling it
    #: was lost learns it at the next write, ≤ 30 s later rather than ≤ 15 s. The doctor's seat
    #: writes at every ping (0).
    seat_write_every = 0.0
    seat_written = 0.0

    async def refuse(self, reason: str, code: int) -> None:
        await self.send_json({"type": "refused", "reason": reason, "message": REFUSALS[reason]})
        await self.close(code)

    async def relay(self, payload) -> None:
        await self.channel_layer.group_send(
            room_group(self.appointment_id), {"type": "room.signal", "sender": self.channel_name, "payload": payload}
        )

    async def room_signal(self, event):
        if event["sender"] != self.channel_name:
            await self.send_json({"type": "signal", "payload": event["payload"]})

    async def seat_replaced(self, event):
        await self.refuse("replaced", CLOSE_REFUSED)

    async def tell_replaced(self, channel: str) -> None:
        """Asks the connection that held the seat before to close. Best effort: after a restart the
        seat still names a connection of the process that is gone, whose inbox (Redis) nobody reads
        and which fills up after 100 messages; that must not fail the join that took the seat (it
        did, for every patient of a reconnect storm). A connection still open that misses the
        message learns at its next heartbeat that the seat is no longer its own."""
        with contextlib.suppress(ChannelFull):
            await self.channel_layer.send(channel, {"type": "seat.replaced"})

    async def tell_practice(self, state: dict | None = None, *, room: bool = True) -> None:
        """Tells the practice's live lists and (``room``) the doctor's room the state (read now if
        not given)."""
        state = state or await _appointment_state(self.appointment_id)
        await self.channel_layer.group_send(
            practice_group(self.organisation_id), {"type": "appointment.changed", "appointment": state}
        )
        if room:
            await self.channel_layer.group_send(
                room_group(self.appointment_id), {"type": "room.state", "appointment": state}
            )

    async def room_state(self, event):
        if self.role == "doctor":
            await self.send_json({"type": "state", "appointment": event["appointment"]})

    async def heartbeat(self) -> bool:
        """Keeps the seat fresh (written when the last write is ``seat_write_every`` old); if
        another connection has taken it meanwhile, closes this one as replaced and returns False."""
        if _clock() - self.seat_written < self.seat_write_every:
            return True
        if await database_sync_to_async(seats.heartbeat)(self.appointment_id, self.role, self.channel_name):
            self.seat_written = _clock()
            return True
        await self.refuse("replaced", CLOSE_REFUSED)
        return False

    async def leave_room(self) -> bool:
        if self.appointment_id is None:
            return False
        await self.channel_layer.group_discard(room_group(self.appointment_id), self.channel_name)
        return await database_sync_to_async(seats.release)(self.appointment_id, self.role, self.channel_name)


class PatientConsumer(SignallingConsumer):
    """The patient's seat, opened with the token the access code was exchanged for."""

    role = "patient"
    seat_write_every = 25.0

    async def connect(self):
        await self.accept()
        join = await database_sync_to_async(services.patient_joins)(
            self.scope["url_route"]["kwargs"]["token"], self.channel_name
        )
        if join.refusal:
            code = CLOSE_INVALID if join.refusal in ("invalid", "ended") else CLOSE_REFUSED
            return await self.refuse(join.refusal, code)
        if join.replaced:
            await self.tell_replaced(join.replaced)
        self.seat_written = _clock()
        self.appointment_id, self.organisation_id = join.appointment_id, join.organisation_id
        await self.channel_layer.group_add(room_group(join.appointment_id), self.channel_name)
        self.ready = True
        if join.in_call:
            # Back after a network interruption or a reload: the call goes on.
            await self.send_json({"type": "in-call", "ice_servers": ice_servers()})
        else:
            # ICE servers now, so the browser can prepare its connection while it waits.
            await self.send_json({"type": "waiting", "ice_servers": ice_servers()})
        await self.tell_practice(join.state, room=join.doctor_present)

    async def receive_json(self, content, **kwargs):
        kind = content.get("type")
        if kind == "hello":
            name = content.get("name")
            if isinstance(name, str) and len(name) <= MAX_NAME:
                # A referral to the video duty keeps nothing about the patient, not even sealed.
                await database_sync_to_async(
                    Appointment.objects.filter(
                        pk=self.appointment_id, patient_channel=self.channel_name, duty_referral__isnull=True
                    ).update
                )(waiting_name=name)
                await self.tell_practice()
        elif kind == "signal":
            await self.relay(content.get("payload"))
        elif kind == "ping":
            if await self.heartbeat():
                await self.send_json({"type": "pong"})
        elif kind == "leave":
            self.left = True
            await self.depart()
            await self.close(1000)

    left = False
    departed = False

    async def room_admitted(self, event):
        await self.send_json({"type": "admitted"})

    async def room_ended(self, event):
        await self.send_json({"type": "ended"})

    async def room_peer_left(self, event):
        if event["sender"] != self.channel_name:
            await self.send_json({"type": "peer-left"})

    async def disconnect(self, code):
        await self.depart()

    async def depart(self):
        if self.departed or not await self.leave_room():
            return
        self.departed = True
        status = (await _appointment_state(self.appointment_id))["status"]
        # A lost websocket during a call is not the end of it (media flows browser to browser and
        # the client reconnects); leaving on purpose, or leaving the waiting room, is, unless the
        # patient is already back on another connection (then nobody left).
        if status == Appointment.Status.WAITING:
            gone = await database_sync_to_async(services.patient_left_waiting_room)(self.appointment_id)
        else:
            gone = status != Appointment.Status.IN_CALL
        if self.left or gone:
            await self.channel_layer.group_send(
                room_group(self.appointment_id), {"type": "room.peer_left", "sender": self.channel_name}
            )
        await self.tell_practice()


def _approved_user(scope, *, practice_member: bool) -> tuple | None:
    """(user, device) if the connecting user is active, on an approved device with a second factor
    and an unlocked screen, and (``practice_member``) a member of a practice, not KV staff — the
    HTTP access rules (accounts/access.py) for websockets; otherwise None. Read fresh from the
    database on every call."""
    user = scope.get("user")
    if user is None or not user.is_authenticated:
        return None
    user = User.objects.select_related("organisation").filter(pk=user.pk, is_active=True).first()
    if user is None or (practice_member and not is_practice_member(user)) or not is_mfa_enabled(user):
        return None
    session = _session_now(scope)
    if session.get(screenlock.LOCKED):
        return None  # a locked screen sees nothing live until the password unlocks it
    device_id = devices.session_device(session)  # the same id the socket's device group was named by
    if device_id is None:
        return None
    device = Device.objects.filter(pk=device_id).first()
    return (user, device) if device_approved(user, device) else None


def _session_now(scope):
    """The session as stored now, not the copy Channels read when the socket opened: a screen
    locked or a logout since then shows at the next heartbeat (a logout leaves an empty session)."""
    key = scope["session"].session_key
    return import_module(settings.SESSION_ENGINE).SessionStore(key) if key else {}


def _approved_member(scope) -> tuple | None:
    return _approved_user(scope, practice_member=True)


def _duty_access(scope, appointment_id: int) -> tuple | str:
    """(user, device) if the appointment is a referral to the video duty and the connecting user
    serves a video duty of its area right now (duty/videoduty.py); otherwise why not, a key of
    REFUSALS: "revoked" (the account or device) or "duty-over"."""
    approved = _approved_user(scope, practice_member=False)
    if approved is None:
        return "revoked"
    if videoduty.serving_doctor(approved[0], appointment_id) is None:
        return "duty-over"
    return approved


def room_access(scope, appointment_id: int) -> tuple | None:
    """(appointment, user, device, duty) for the doctor's seat: an approved member of the practice
    the appointment belongs to (duty False), or the doctor serving the video duty the appointment
    is a referral to (duty True)."""
    member = _approved_member(scope)
    if member is not None:
        user, device = member
        appointment = Appointment.objects.filter(pk=appointment_id, organisation_id=user.organisation_id).first()
        if appointment is not None:
            return appointment, user, device, False
    on_duty = _duty_access(scope, appointment_id)
    if isinstance(on_duty, str):
        return None
    return Appointment.objects.get(pk=appointment_id), *on_duty, True


class MemberConnection:
    """What a member's websocket shares: it joins its device's and its member's group, so that
    revoking the device or deactivating the member closes it at once (accounts/devices.py), and it
    checks again on every heartbeat in case such a message was lost.

    The groups are joined *before* access is read (``join_member_groups`` first, the database
    after): a revocation committed after the read is then announced to a socket already listening,
    and one committed before it is seen by the read. The other order loses a revocation that falls
    between the two."""

    member_groups: list[str] = []

    async def join_member_groups(self) -> None:
        """Joins the groups of the member and device this socket claims to be (the user and session
        Channels' AuthMiddleware already resolved, no database here); access is read afterwards."""
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return
        # The session was loaded when AuthMiddleware resolved the user: this reads its cache.
        device_id = devices.session_device(self.scope["session"])
        self.member_groups = [devices.member_group(user.pk)]
        if device_id is not None:
            self.member_groups.append(devices.device_group(device_id))
        for group in self.member_groups:
            await self.channel_layer.group_add(group, self.channel_name)

    async def leave_member_groups(self) -> None:
        for group in self.member_groups:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def still_allowed(self) -> bool:
        return await database_sync_to_async(_approved_member)(self.scope) is not None

    #: Why the connection is closed when ``still_allowed`` says no (a key of REFUSALS).
    refusal_reason = "revoked"

    async def access_revoked(self, event):
        # Give up the seat now, not when the browser acknowledges the close; ignore what still comes.
        self.ready = False
        await self.disconnect(CLOSE_REFUSED)
        if self.closing:
            return
        reason = self.refusal_reason
        await self.send_json({"type": "refused", "reason": reason, "message": REFUSALS[reason]})
        await self.close(CLOSE_REFUSED)


class DoctorConsumer(MemberConnection, SignallingConsumer):
    """The practice's seat in one appointment's room: sees the waiting patient, admits, calls."""

    role = "doctor"
    #: Seated as the doctor serving the video duty (not as a member of the practice).
    on_duty = False

    async def connect(self):
        await self.accept()
        await self.join_member_groups()
        found = await database_sync_to_async(room_access)(
            self.scope, self.scope["url_route"]["kwargs"]["appointment_id"]
        )
        if found is None:
            await self.send_json(
                {"type": "refused", "reason": "not-found", "message": "Diesen Termin gibt es nicht in Ihrer Praxis."}
            )
            return await self.close(CLOSE_NOT_FOUND)
        appointment, _user, _device, self.on_duty = found
        ok, replaced = await database_sync_to_async(seats.take_doctor_seat)(
            appointment.pk, self.channel_name, self.scope["user"].pk
        )
        if not ok:
            return await self.refuse("doctor-present", CLOSE_REFUSED)
        if replaced:
            await self.tell_replaced(replaced)
        self.appointment_id, self.organisation_id = appointment.pk, appointment.organisation_id
        await self.channel_layer.group_add(room_group(appointment.pk), self.channel_name)
        self.ready = True
        await self.send_json({"type": "state", "appointment": await _appointment_state(appointment.pk)})
        await self.send_json({"type": "config", "ice_servers": ice_servers()})

    async def receive_json(self, content, **kwargs):
        kind = content.get("type")
        if kind == "admit":
            await self.admit()
        elif kind == "signal":
            await self.relay(content.get("payload"))
        elif kind == "connected":
            await database_sync_to_async(services.mark_connected)(self.appointment_id)
        elif kind == "hangup":
            await database_sync_to_async(services.end_call)(self.appointment_id, completed=True)
            await self.channel_layer.group_send(room_group(self.appointment_id), {"type": "room.ended"})
            await self.tell_practice()
        elif kind == "ping":
            if not await self.still_allowed():
                return await self.access_revoked({})
            if await self.heartbeat():
                await self.send_json({"type": "pong"})

    async def still_allowed(self) -> bool:
        if self.on_duty:  # the duty may have ended, or been handed to a colleague, since
            access = await database_sync_to_async(_duty_access)(self.scope, self.appointment_id)
            if isinstance(access, str):
                self.refusal_reason = access
                return False
            return True
        return await super().still_allowed()

    async def admit(self):
        # The patient first (only a patient in the room's group hears it), the bookkeeping after:
        # call setup time is what the people wait for.
        await self.channel_layer.group_send(room_group(self.appointment_id), {"type": "room.admitted"})
        appointment = await database_sync_to_async(Appointment.objects.get)(pk=self.appointment_id)
        if not appointment.patient_channel:
            return await self.send_json({"type": "error", "message": "Im Wartezimmer ist niemand."})
        await self.send_json({"type": "admitted"})
        if self.on_duty:
            await database_sync_to_async(videoduty.take_over)(self.appointment_id, self.scope["user"].pk)
        await database_sync_to_async(services.start_call)(appointment)
        metrics.CALL_SETUPS.inc()
        await self.tell_practice()

    async def room_admitted(self, event):
        pass

    async def room_ended(self, event):
        await self.send_json({"type": "ended"})

    async def room_peer_left(self, event):
        if event["sender"] != self.channel_name:
            # The patient left or lost the connection; an open call ends without a contact.
            await database_sync_to_async(services.end_call)(self.appointment_id, completed=False)
            await self.send_json({"type": "peer-left"})
            # The call's end changed the appointment (back to planned, or waiting): the room and the
            # practice's lists showed it "in call" until the next change otherwise.
            await self.tell_practice()

    async def disconnect(self, code):
        await self.leave_member_groups()
        if await self.leave_room():
            await self.tell_practice()


class PracticeConsumer(MemberConnection, JsonConsumer):
    """Live changes of the practice's appointments (who is waiting) for the calendar."""

    async def connect(self):
        await self.join_member_groups()
        member = await database_sync_to_async(_approved_member)(self.scope)
        await self.accept()
        if member is None:
            return await self.close(CLOSE_NOT_FOUND)
        self.group = practice_group(member[0].organisation_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.ready = True

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":  # the feed's heartbeat (lib/practicefeed.js)
            if not await self.still_allowed():
                return await self.access_revoked({})
            await self.send_json({"type": "pong"})

    async def appointment_changed(self, event):
        await self.send_json({"type": "appointment", "appointment": event["appointment"]})

    async def disconnect(self, code):
        await self.leave_member_groups()
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
