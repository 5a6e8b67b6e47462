"""The direct call of the doctor and one guest (issue 18, "back to two").

When the patient has left a conference and one guest (interpreter, relative, colleague) is left
with the doctor, the two talk peer to peer, as the doctor and the patient do, instead of through
Janus. A guest has no appointment socket, so each of the two opens a *pair socket*: the guest's
page with its guest token (``/ws/konferenz/<token>/``, like the key relay), the doctor's page with
the member's session (``/ws/raum/<appointment>/konferenz/<participant>/``, the appointment's
doctor only). The server relays SDP and ICE between the two sockets of one participant's pair and
nothing else; media go browser to browser (docs/conferences.md, "Back to peer-to-peer").

Access is checked when the socket opens and again at every heartbeat: a guest must be admitted,
not removed and not gone (hung up), in a conference that has not ended, of an appointment that is
not over; the doctor must be an approved member of the appointment's practice and the conference's
own doctor. A refused socket is closed with 4003 and is not reopened by the page.
"""

from __future__ import annotations

from sprechzimmer.conference import actions
from sprechzimmer.conference.models import Participant
from sprechzimmer.dbthread import database_sync_to_async
from sprechzimmer.video.consumers import CLOSE_REFUSED, JsonConsumer, MemberConnection, room_access
from sprechzimmer.video.ice import ice_servers

REFUSED = "Die direkte Verbindung ist nicht möglich: Sie sind nicht (mehr) in dieser Konferenz."


def pair_group(participant_id: int) -> str:
    return f"conference.pair.{participant_id}"


def _guest_in(participant: Participant | None) -> bool:
    """Admitted now (not waiting, not hung up), not removed, and the conference still on."""
    return (
        participant is not None
        and participant.role not in (Participant.Role.DOCTOR, Participant.Role.PATIENT)
        and participant.admitted_at is not None
        and participant.removed_at is None
        and participant.conference.ended_at is None
        and not actions.appointment_over(participant.conference.appointment)
    )


def guest_pair(token: str) -> Participant | None:
    participant = actions.guest_for_token(token)
    return participant if _guest_in(participant) else None


def doctor_pair(scope, appointment_id: int, participant_id: int) -> tuple | None:
    """(participant, user, device) if the connecting member is the doctor of the appointment's
    conference and ``participant_id`` is a guest in it now; else None."""
    found = room_access(scope, appointment_id)
    if found is None:
        return None
    appointment, user, device, _duty = found
    participant = (
        Participant.objects.select_related("conference__appointment")
        .filter(pk=participant_id, conference__appointment=appointment)
        .first()
    )
    if not _guest_in(participant):
        return None
    if not participant.conference.participants.filter(role=Participant.Role.DOCTOR, user=user).exists():
        return None
    return participant, user, device


class PairConsumer(JsonConsumer):
    """Relays ``signal`` payloads between the two sockets of one pair; answers heartbeats after
    checking access again."""

    participant_id: int | None = None

    async def still_allowed(self) -> bool:
        raise NotImplementedError

    async def join_pair(self, participant_id: int) -> None:
        self.participant_id = participant_id
        await self.channel_layer.group_add(pair_group(participant_id), self.channel_name)
        self.ready = True
        await self.send_json({"type": "config", "ice_servers": ice_servers()})

    async def refuse_pair(self) -> None:
        self.ready = False
        await self.send_json({"type": "refused", "reason": "not-in-conference", "message": REFUSED})
        await self.close(CLOSE_REFUSED)

    async def receive_json(self, content, **kwargs):
        kind = content.get("type")
        if kind == "signal":
            await self.channel_layer.group_send(
                pair_group(self.participant_id),
                {"type": "pair.signal", "sender": self.channel_name, "payload": content.get("payload")},
            )
        elif kind == "ping":
            if not await self.still_allowed():
                return await self.refuse_pair()
            await self.send_json({"type": "pong"})

    async def pair_signal(self, event):
        if event["sender"] != self.channel_name:
            await self.send_json({"type": "signal", "payload": event["payload"]})

    async def disconnect(self, code):
        if self.participant_id is not None:
            await self.channel_layer.group_discard(pair_group(self.participant_id), self.channel_name)


class GuestPairConsumer(PairConsumer):
    """The guest's side, opened with the guest token its code was exchanged for."""

    async def still_allowed(self) -> bool:
        return await database_sync_to_async(guest_pair)(self.scope["url_route"]["kwargs"]["token"]) is not None

    async def connect(self):
        await self.accept()
        participant = await database_sync_to_async(guest_pair)(self.scope["url_route"]["kwargs"]["token"])
        if participant is None:
            return await self.refuse_pair()
        await self.join_pair(participant.pk)


class DoctorPairConsumer(MemberConnection, PairConsumer):
    """The doctor's side: revoking the device or the member closes it at once (MemberConnection)."""

    async def still_allowed(self) -> bool:
        kwargs = self.scope["url_route"]["kwargs"]
        found = await database_sync_to_async(doctor_pair)(
            self.scope, kwargs["appointment_id"], kwargs["participant_id"]
        )
        return found is not None

    async def connect(self):
        await self.accept()
        await self.join_member_groups()
        kwargs = self.scope["url_route"]["kwargs"]
        found = await database_sync_to_async(doctor_pair)(
            self.scope, kwargs["appointment_id"], kwargs["participant_id"]
        )
        if found is None:
            return await self.refuse_pair()
        await self.join_pair(found[0].pk)

    async def disconnect(self, code):
        await self.leave_member_groups()
        await super().disconnect(code)
