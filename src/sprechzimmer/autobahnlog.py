"""Autobahn (Daphne's websocket protocol) formats its whole configuration with ``pprint.pformat`` for
a debug line on every new connection, and its transport details on every handshake, before the
logger decides whether to log them at all: 2 % of a websocket join's CPU (docs/capacity.md). The
lines are never logged at our levels. ``install`` makes those two arguments lazy: the text is built
only if a debug line is written."""

from __future__ import annotations

import pprint


class _Lazy:
    __slots__ = ("value",)

    def __init__(self, value) -> None:
        self.value = value

    def __format__(self, spec: str) -> str:
        return format(pprint.pformat(self.value), spec)

    def __str__(self) -> str:
        return pprint.pformat(self.value)

    __repr__ = __str__


def install() -> None:
    try:
        from autobahn.websocket import protocol
    except ImportError:  # another ASGI server
        return
    protocol.pformat = _Lazy  # the module's own name; pprint itself is untouched
    # The one other use of that name must still return text (a string from __str__).
    protocol.Timings.__str__ = lambda self: pprint.pformat(self._timings)
