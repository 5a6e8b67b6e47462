"""The embedded default's channel layer (sprechzimmer/layers.py): the same delivery as Channels'
in-memory layer, expired messages still swept, but the sweep at most once a second."""

from __future__ import annotations

import time

import pytest
from channels.layers import InMemoryChannelLayer, get_channel_layer

from sprechzimmer import layers


def test_the_embedded_default_uses_the_sweeping_layer(settings):
    if settings.REDIS_URL:
        assert get_channel_layer().__class__.__name__ == "RedisChannelLayer"
    else:
        assert isinstance(get_channel_layer(), layers.SweepingInMemoryChannelLayer)


@pytest.mark.asyncio
async def test_group_messages_arrive_as_before():
    layer = layers.SweepingInMemoryChannelLayer()
    first, second = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("room.1", first)
    await layer.group_add("room.1", second)
    await layer.group_send("room.1", {"type": "room.signal", "n": 1})
    assert await layer.receive(first) == {"type": "room.signal", "n": 1}
    assert await layer.receive(second) == {"type": "room.signal", "n": 1}
    await layer.group_discard("room.1", second)
    await layer.group_send("room.1", {"type": "room.signal", "n": 2})
    assert await layer.receive(first) == {"type": "room.signal", "n": 2}
    assert second not in layer.channels


@pytest.mark.asyncio
async def test_the_sweep_runs_at_most_once_a_second_and_still_expires(monkeypatch):
    sweeps = []
    original = InMemoryChannelLayer._clean_expired

    def counted(self):
        sweeps.append(time.monotonic())
        original(self)

    monkeypatch.setattr(InMemoryChannelLayer, "_clean_expired", counted)
    layer = layers.SweepingInMemoryChannelLayer(expiry=0.01)
    gone, listener = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("practice.1", gone)
    await layer.group_add("practice.1", listener)
    for _ in range(200):
        await layer.group_send("practice.1", {"type": "appointment.changed"})
    assert len(sweeps) == 1  # Channels' own layer walked everything 200 times here
    # A message nobody read expires; the next sweep (a second later) takes its channel out of the
    # group, as Channels' layer does, and leaves the channel that reads its messages.
    layer = layers.SweepingInMemoryChannelLayer(expiry=0.05)
    await layer.group_add("practice.1", gone)
    await layer.group_add("practice.1", listener)
    await layer.group_send("practice.1", {"type": "appointment.changed"})
    assert await layer.receive(listener) == {"type": "appointment.changed"}
    time.sleep(0.06)
    await layer.group_send("practice.1", {"type": "appointment.changed"})
    assert gone in layer.groups["practice.1"]  # swept less than a second ago
    layer._swept_at -= layers.SWEEP_EVERY
    await layer.group_send("practice.1", {"type": "appointment.changed"})
    assert gone not in layer.groups["practice.1"] and listener in layer.groups["practice.1"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_socket_reaches_the_database_only_through_the_database_thread(monkeypatch, later):
    """Our consumers skip Channels' thread hop before every handler (video/consumers.py,
    JsonConsumer.dispatch), and still close old database connections around every database call
    (sprechzimmer.dbthread.DatabaseSyncToAsync, whose cleanup Channels' test communicator replaces by a
    no-op, so what is checked here is that every call goes that way): a patient's join and heartbeat
    work, each through the database thread, and the hop never runs."""
    import json

    from channels import consumer as channels_consumer

    from sprechzimmer import dbthread as consumers_db
    from sprechzimmer.dbthread import database_sync_to_async
    from sprechzimmer.video import consent, services
    from sprechzimmer.video.models import Appointment
    from tests.video.helpers import connect, video_practice

    @database_sync_to_async
    def prepare() -> tuple[int, str]:
        _, _, appointment, _ = video_practice("Praxis Schicht")
        appointment.consent_at, appointment.consent_version = appointment.start, consent.CURRENT_VERSION
        appointment.save(update_fields=["consent_at", "consent_version"])
        return appointment.pk, services.patient_token(Appointment.objects.get(pk=appointment.pk))

    pk, token = await prepare()
    hops, calls = [], []
    handler = consumers_db.DatabaseSyncToAsync.thread_handler

    async def hop():
        hops.append(1)

    def counted(self, *args, **kwargs):  # where Channels closes old connections around a call
        calls.append(self.func.__name__)
        return handler(self, *args, **kwargs)

    monkeypatch.setattr(channels_consumer, "aclose_old_connections", hop)
    monkeypatch.setattr(consumers_db.DatabaseSyncToAsync, "thread_handler", counted)
    communicator, connected = await connect(f"/ws/sprechstunde/{token}/")
    assert connected
    assert json.loads((await communicator.receive_output(timeout=10))["text"])["type"] == "waiting"
    assert "patient_joins" in calls
    before = len(calls)
    later(30)  # a ping that writes the seat (the join wrote it just now)
    await communicator.send_to(text_data=json.dumps({"type": "ping"}))
    assert json.loads((await communicator.receive_output(timeout=10))["text"])["type"] == "pong"
    assert calls[before:] == ["heartbeat"]  # the heartbeat's write, in the database thread
    seen = await database_sync_to_async(lambda: Appointment.objects.get(pk=pk).patient_seen_at)()
    assert seen is not None
    await communicator.disconnect()
    assert hops == []
