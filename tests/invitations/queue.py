"""The task queue with its clock in the test's hand: Huey on a real SQLite storage file, tasks run
by the test at a time it names (what the worker would do at that time)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.utils import timezone


class TestQueue:
    __test__ = False

    def __init__(self, path: Path):
        from huey.contrib import djhuey
        from huey.contrib.djhuey import HUEY
        from huey.storage import SqliteStorage

        self.huey, self.path = HUEY, path
        self.original = HUEY.storage
        HUEY.immediate = False
        HUEY.storage = SqliteStorage(name="invitations-test", filename=str(path))
        # The worker closes its database connection around each task; here the tasks run in the
        # test's process, on the test's own connection (on PostgreSQL, closing it ends the test's
        # transaction: "the connection is closed").
        self.djhuey, self.close_connections = djhuey, djhuey.close_old_connections
        djhuey.close_old_connections = lambda: None

    def close(self) -> None:
        self.huey.storage = self.original
        self.huey.immediate = True
        self.djhuey.close_old_connections = self.close_connections

    def run_until(self, when: dt.datetime) -> int:
        """Runs every task that is due at ``when``: queued ones and scheduled ones whose time has come
        (retries included). Returns how many ran."""
        stamp = when.astimezone(dt.UTC).replace(tzinfo=None)
        ran = 0
        while True:
            tasks = list(self.huey.read_schedule(stamp))
            while (task := self.huey.dequeue()) is not None:
                tasks.append(task)
            due = [t for t in tasks if t.eta is None or t.eta <= stamp]
            for task in tasks:
                if task not in due:
                    self.huey.add_schedule(task)
            if not due:
                return ran
            for task in due:
                self.huey.execute(task, stamp)
                ran += 1

    def run_now(self) -> int:
        return self.run_until(timezone.now())

    def pending_arguments(self) -> list[tuple]:
        return [t.args for t in self.huey.scheduled()] + [t.args for t in self.huey.pending()]

    def storage_bytes(self) -> bytes:
        """The queue's storage as the operator's disk holds it (the SQLite file and its journal)."""
        return b"".join(p.read_bytes() for p in self.path.parent.glob(self.path.name + "*"))
