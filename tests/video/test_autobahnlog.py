"""Autobahn's debug arguments are built only when a debug line is written (sprechzimmer/autobahnlog.py)."""

from __future__ import annotations

import pprint

from autobahn.websocket import protocol

import sprechzimmer.asgi  # noqa: F401  (installs it, as the server does)


def test_the_configuration_is_formatted_only_when_written():
    built = []

    class Watched(list):
        def __repr__(self):
            built.append(1)
            return super().__repr__()

    config = Watched([("openHandshakeTimeout", 5, "factory")])
    argument = protocol.pformat(config)
    assert built == []  # what autobahn does on every connection: nothing formatted yet
    assert f"\n{argument}" == "\n" + pprint.pformat(config)  # what a written debug line shows
    assert built


def test_timings_still_print_as_text():
    timings = protocol.Timings()
    timings.track("onOpen")
    assert str(timings).startswith("{'onOpen'")
