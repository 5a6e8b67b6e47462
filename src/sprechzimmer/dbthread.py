"""The consumers' way to the database: Channels' ``database_sync_to_async`` with Django's connection
health check once per idle spell instead of once per call.

Channels closes old connections around every database call of a consumer, as Django does around a
request, and that re-arms the health check (``CONN_HEALTH_CHECKS``): every call began with a
``SELECT 1`` round trip on the process's single database thread, where a patient's join is one
call and a heartbeat another (docs/capacity.md). Here a connection that finished a call without an
error less than ``TRUSTED_FOR`` ago is not checked again. What that gives up: a connection the
database server dropped within that second fails the next call instead of being replaced quietly;
the error marks it, and the call after it replaces it as before (the websocket that saw the error
reconnects, as after any server error).
"""

from __future__ import annotations

import time

from asgiref.sync import SyncToAsync
from channels import db as channels_db
from django.db import connections

#: How long after a call that ended without a database error its connection counts as healthy.
TRUSTED_FOR = 1.0

_USED_AT = "_sprechzimmer_used_at"


class DatabaseSyncToAsync(SyncToAsync):
    """``channels.db.DatabaseSyncToAsync`` with the health check skipped for recently used
    connections (the module's docstring says why)."""

    def thread_handler(self, loop, *args, **kwargs):
        # Through Channels' module, as its own wrapper does: its test communicator replaces
        # ``channels.db.close_old_connections`` by a no-op so that a test's transaction survives.
        channels_db.close_old_connections()
        _trust_recently_used()
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            channels_db.close_old_connections()
            _note_used()


database_sync_to_async = DatabaseSyncToAsync


def _trust_recently_used() -> None:
    now = time.monotonic()
    for connection in connections.all(initialized_only=True):
        used_at = getattr(connection, _USED_AT, None)
        if (
            connection.connection is not None
            and not connection.errors_occurred
            and used_at is not None
            and now - used_at < TRUSTED_FOR
        ):
            connection.health_check_done = True


def _note_used() -> None:
    now = time.monotonic()
    for connection in connections.all(initialized_only=True):
        healthy = connection.connection is not None and not connection.errors_occurred
        setattr(connection, _USED_AT, now if healthy else None)
