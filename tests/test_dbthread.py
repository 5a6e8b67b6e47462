"""The consumers' database calls (sprechzimmer.dbthread): Django's connection health check runs
once per idle spell, not before every call, and after a database error as before."""

from __future__ import annotations

import time

import pytest
from asgiref.sync import async_to_sync
from django.db import DatabaseError, connection

from sprechzimmer import dbthread as db
from sprechzimmer.accounts.models import User


@pytest.fixture
def kept_open(monkeypatch):
    """The connection kept open between calls as in production (DATABASE_CONN_MAX_AGE; the test
    database's is closed after each call), and closed after the test."""
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", None)
    connection.ensure_connection()
    yield
    connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_connection_used_a_moment_ago_is_not_checked_again(monkeypatch, kept_open):
    checks = []
    is_usable = connection.is_usable

    def counted():
        checks.append(1)
        return is_usable()

    monkeypatch.setattr(connection, "is_usable", counted)
    assert connection.settings_dict["CONN_HEALTH_CHECKS"]
    count = db.database_sync_to_async(lambda: User.objects.count())

    async_to_sync(count)()
    assert len(checks) == 1  # not used through here yet: checked
    for _ in range(3):
        async_to_sync(count)()
    assert len(checks) == 1  # used a moment ago: trusted

    setattr(connection, db._USED_AT, time.monotonic() - db.TRUSTED_FOR - 1)  # idle for a while
    async_to_sync(count)()
    assert len(checks) == 2

    def broken():
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_here")

    with pytest.raises(DatabaseError):
        async_to_sync(db.database_sync_to_async(broken))()
    assert len(checks) == 3  # the error is checked for right after the call, as Django does
    async_to_sync(count)()
    assert len(checks) == 3  # and the connection found healthy then is trusted again
