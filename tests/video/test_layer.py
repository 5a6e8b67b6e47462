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
