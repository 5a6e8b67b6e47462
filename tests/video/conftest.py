from __future__ import annotations

import pytest


@pytest.fixture
def later(monkeypatch):
    """Sets the signalling consumers' clock the seconds given ahead of the real one (each call from
    the real clock, not from the last call): a patient's ping writes the seat only when the last
    write is old enough (``seat_write_every``)."""
    from time import monotonic

    from sprechzimmer.video import consumers

    def advance(seconds: float) -> None:
        monkeypatch.setattr(consumers, "_clock", lambda: monotonic() + seconds)

    return advance
