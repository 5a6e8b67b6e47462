"""The embedded default's channel layer: Channels' in-memory layer, with its expiry sweep run at most
once a second instead of on every ``receive`` and ``group_send``.

Channels' ``InMemoryChannelLayer._clean_expired`` walks every channel queue and every group member.
Each held websocket waits in ``receive`` and each join sends to two groups, so with N sockets held
a join cost O(N): at 4 000 waiting patients it was a quarter of a join's CPU (docs/capacity.md,
"Where a join's CPU goes"). Messages expire after a minute and group memberships after a day, so
sweeping once a second changes when an expired message goes by at most that second; what is
delivered, and to whom, stays the same. Production uses Redis (``channels_redis``), which expires by
itself; this layer is only the one-process default.
"""

from __future__ import annotations

import time

from channels.layers import InMemoryChannelLayer

SWEEP_EVERY = 1.0  # seconds


class SweepingInMemoryChannelLayer(InMemoryChannelLayer):
    _swept_at = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._swept_at < SWEEP_EVERY:
            return
        self._swept_at = now
        super()._clean_expired()
