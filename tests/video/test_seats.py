"""The patient's seat as the join and the heartbeat write it: statements written out once in
``video/seats.py`` instead of built by the ORM, so what is checked here is that they store and read
times and statuses exactly as the ORM would (time zone, freshness), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import signing
from django.utils import timezone

from sprechzimmer.video import consent, seats, services
from sprechzimmer.video.models import Appointment
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def appointment():
    practice = factories.practice("Praxis Sitz")
    doctor = factories.member(practice, main=True)
    made = Appointment.objects.create(
        organisation=practice,
        doctor=doctor,
        start=(timezone.now() + dt.timedelta(minutes=10)).replace(microsecond=0),
        patient_ciphertext=factories.envelope("A256GCM"),
    )
    services.issue_code(made)
    made.refresh_from_db()
    made.consent_at, made.consent_version = timezone.now(), consent.CURRENT_VERSION
    made.save(update_fields=["consent_at", "consent_version"])
    return made


def near_now(value) -> bool:
    return value is not None and abs((timezone.now() - value).total_seconds()) < 5


def test_a_join_stores_the_seat_and_the_waiting_status_with_the_right_time(appointment):
    join = services.patient_joins(services.patient_token(appointment), "specific.inmemory!first")
    assert not join.refusal and not join.in_call and join.replaced == ""
    row = Appointment.objects.get(pk=appointment.pk)
    assert row.status == Appointment.Status.WAITING
    assert row.patient_channel == "specific.inmemory!first" and row.patient_seat
    # Aware and in UTC as the ORM stores it: a time off by the zone's hours would make the seat look
    # stale at once (another device could take it) or fresh for hours.
    assert near_now(row.patient_seen_at) and near_now(row.updated_at)
    assert join.state == services.room_state(row)


def test_a_second_device_is_refused_while_the_seat_is_held_and_takes_it_when_stale(appointment):
    first = services.patient_token(appointment)
    assert not services.patient_joins(first, "specific.inmemory!first").refusal
    second = services.patient_token(appointment)  # another browser: another seat
    assert services.patient_joins(second, "specific.inmemory!second").refusal == "room-full"
    assert Appointment.objects.get(pk=appointment.pk).patient_channel == "specific.inmemory!first"

    stale = timezone.now() - seats.STALE_AFTER - dt.timedelta(seconds=1)
    Appointment.objects.filter(pk=appointment.pk).update(patient_seen_at=stale)
    join = services.patient_joins(second, "specific.inmemory!second")
    assert not join.refusal and join.replaced == "specific.inmemory!first"
    row = Appointment.objects.get(pk=appointment.pk)
    assert row.patient_channel == "specific.inmemory!second" and near_now(row.patient_seen_at)
    assert row.status == Appointment.Status.WAITING  # entered once; a take-over changes no status


def test_a_reload_takes_its_own_seat_over_and_keeps_the_status(appointment):
    token = services.patient_token(appointment)
    services.patient_joins(token, "specific.inmemory!old")
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.IN_CALL)
    join = services.patient_joins(token, "specific.inmemory!new")
    assert not join.refusal and join.in_call and join.replaced == "specific.inmemory!old"
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.IN_CALL


def test_the_heartbeat_refreshes_only_the_seat_of_the_socket_holding_it(appointment):
    services.patient_joins(services.patient_token(appointment), "specific.inmemory!held")
    long_ago = timezone.now() - dt.timedelta(minutes=5)
    Appointment.objects.filter(pk=appointment.pk).update(patient_seen_at=long_ago, doctor_seen_at=long_ago)

    seats.heartbeat(appointment.pk, "patient", "specific.inmemory!taken-over")  # an old socket
    assert Appointment.objects.get(pk=appointment.pk).patient_seen_at == long_ago
    seats.heartbeat(appointment.pk, "patient", "specific.inmemory!held")
    row = Appointment.objects.get(pk=appointment.pk)
    assert near_now(row.patient_seen_at) and row.doctor_seen_at == long_ago


@pytest.mark.parametrize(
    "payload",
    [
        {"a": "1", "d": "x", "seat": "s"},
        {"a": 1, "d": None, "seat": "s"},
        {"a": 1, "d": "x"},
        {"a": [1], "d": "x", "seat": "s"},
        {},
    ],
)
def test_a_signed_token_of_the_wrong_shape_is_refused_without_a_query(payload, django_assert_num_queries):
    """Tokens are signed by the server, so a wrong shape means an old format or a bug, never input
    to put into SQL: refused as invalid before the transaction."""
    token = signing.dumps(payload, salt=services.TOKEN_SALT)
    with django_assert_num_queries(0):
        assert services.patient_joins(token, "specific.inmemory!x").refusal == "invalid"


def test_an_unknown_appointment_or_a_replaced_code_is_invalid(appointment):
    token = services.patient_token(appointment)
    services.issue_code(appointment)  # the practice issued a new code: the old token is void
    assert services.patient_joins(token, "specific.inmemory!x").refusal == "invalid"
    Appointment.objects.filter(pk=appointment.pk).delete()
    assert services.patient_joins(token, "specific.inmemory!x").refusal == "invalid"


# -- Over the websocket ----------------------------------------------------------------------------


async def _waiting_patient(name: str):
    """A consented appointment and its patient token (the database prepared in the test's thread)."""
    from channels.db import database_sync_to_async

    from tests.video.helpers import video_practice

    @database_sync_to_async
    def prepare() -> tuple[int, str]:
        _, _, made, _ = video_practice(name)
        made.consent_at, made.consent_version = made.start, consent.CURRENT_VERSION
        made.save(update_fields=["consent_at", "consent_version"])
        return made.pk, services.patient_token(Appointment.objects.get(pk=made.pk))

    return await prepare()


async def _message(communicator) -> dict:
    import json

    return json.loads((await communicator.receive_output(timeout=10))["text"])


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_join_succeeds_when_the_replaced_connections_inbox_is_full():
    """After a restart every seat still names a connection of the process that is gone; its inbox
    (on Redis: a list nobody reads) is full after 100 "close, you are replaced" messages. The join
    that took the seat must not fail on that (in the reconnect storm every patient's first attempt
    did, bench/reconnect_storm.py)."""
    import secrets

    from channels.db import database_sync_to_async
    from channels.exceptions import ChannelFull
    from channels.layers import get_channel_layer

    from tests.video.helpers import connect

    pk, token = await _waiting_patient("Praxis Neustart")
    gone = f"specific.{secrets.token_hex(8)}!gone"  # a process that no longer runs
    layer = get_channel_layer()
    with pytest.raises(ChannelFull):
        for _ in range(layer.capacity + 1):
            await layer.send(gone, {"type": "seat.replaced"})
    # The patient's page had the seat on that process (same token: same seat, a reload).
    await database_sync_to_async(
        lambda: Appointment.objects.filter(pk=pk).update(
            patient_seat=services.read_token(token)["seat"], patient_channel=gone, patient_seen_at=timezone.now()
        )
    )()
    communicator, connected = await connect(f"/ws/sprechstunde/{token}/")
    assert connected
    assert (await _message(communicator))["type"] == "waiting"
    row = await database_sync_to_async(Appointment.objects.get)(pk=pk)
    assert row.patient_channel not in ("", gone) and row.status == Appointment.Status.WAITING
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_connection_whose_seat_was_taken_is_closed_at_its_next_heartbeat(later):
    """If the message asking it to close was lost, the heartbeat finds the seat held by another
    connection and closes this one as replaced; an empty seat (the call was ended) is no reason."""
    from channels.db import database_sync_to_async

    from sprechzimmer.video.consumers import CLOSE_REFUSED
    from tests.video.helpers import connect

    pk, token = await _waiting_patient("Praxis Herzschlag")
    communicator, connected = await connect(f"/ws/sprechstunde/{token}/")
    assert connected and (await _message(communicator))["type"] == "waiting"

    await database_sync_to_async(lambda: Appointment.objects.filter(pk=pk).update(patient_channel=""))()
    later(30)  # the seat's last write is old enough for the ping to write it
    await communicator.send_json_to({"type": "ping"})
    assert (await _message(communicator))["type"] == "pong"

    await database_sync_to_async(
        lambda: Appointment.objects.filter(pk=pk).update(patient_channel="specific.elsewhere!other")
    )()
    later(60)
    await communicator.send_json_to({"type": "ping"})
    refused = await _message(communicator)
    assert refused["type"] == "refused" and refused["reason"] == "replaced"
    assert (await communicator.receive_output(timeout=10)) == {"type": "websocket.close", "code": CLOSE_REFUSED}
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_patients_ping_writes_the_seat_only_every_other_time(later):
    """The page pings every 15 s; the seat's time is written when the last write is 25 s old or
    more (a held seat stays under ``seats.STALE_AFTER``, 45 s), so half the pings of the waiting
    room reach the database (docs/capacity.md). Each ping is answered."""
    from channels.db import database_sync_to_async

    from sprechzimmer.video.consumers import PatientConsumer
    from tests.video.helpers import connect

    assert seats.STALE_AFTER.total_seconds() > 2 * 15 and 15 < PatientConsumer.seat_write_every <= 30
    pk, token = await _waiting_patient("Praxis Takt")
    communicator, connected = await connect(f"/ws/sprechstunde/{token}/")
    assert connected and (await _message(communicator))["type"] == "waiting"

    def seen_at():
        return Appointment.objects.get(pk=pk).patient_seen_at

    joined = await database_sync_to_async(seen_at)()
    later(15)
    await communicator.send_json_to({"type": "ping"})
    assert (await _message(communicator))["type"] == "pong"
    assert await database_sync_to_async(seen_at)() == joined  # 15 s after the join's write: none
    later(30)
    await communicator.send_json_to({"type": "ping"})
    assert (await _message(communicator))["type"] == "pong"
    written = await database_sync_to_async(seen_at)()
    assert written > joined
    later(45)
    await communicator.send_json_to({"type": "ping"})
    assert (await _message(communicator))["type"] == "pong"
    assert await database_sync_to_async(seen_at)() == written
    await communicator.disconnect()


async def _joined(communicator):
    """Returns once the consumer has finished its connect handler (which sends "waiting" before it
    tells the groups): it handles one message at a time, so its answer to a ping comes after."""
    await communicator.send_json_to({"type": "ping"})
    assert (await _message(communicator))["type"] == "pong"


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_join_tells_the_room_only_when_a_doctor_is_in_it(monkeypatch):
    """The practice's live lists hear of every join; the room's group only when a doctor holds its
    seat (otherwise the patient would be telling nobody but itself, a Redis round trip per join)."""
    from channels.db import database_sync_to_async
    from channels.layers import get_channel_layer

    from tests.video.helpers import connect

    layer = get_channel_layer()
    sent = []
    original = layer.group_send

    async def recording(group, message):
        sent.append((group.split(".")[0], message["type"]))
        return await original(group, message)

    monkeypatch.setattr(layer, "group_send", recording)
    pk, token = await _waiting_patient("Praxis Raum")
    communicator, connected = await connect(f"/ws/sprechstunde/{token}/")
    assert connected and (await _message(communicator))["type"] == "waiting"
    await _joined(communicator)
    assert sent == [("practice", "appointment.changed")]
    await communicator.disconnect()

    sent.clear()
    await database_sync_to_async(
        lambda: Appointment.objects.filter(pk=pk).update(
            doctor_channel="specific.doctor!x", doctor_seen_at=timezone.now()
        )
    )()
    communicator, connected = await connect(f"/ws/sprechstunde/{token}/")
    assert connected and (await _message(communicator))["type"] == "waiting"
    await _joined(communicator)
    assert sent == [("practice", "appointment.changed"), ("room", "room.state")]
    await communicator.disconnect()
