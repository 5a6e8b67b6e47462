import os
from urllib.parse import urlparse

import pytest
from hypothesis import settings as hypothesis_settings


def _redis_of_this_worker() -> None:
    """Under pytest-xdist each worker gets a Redis database of its own (the base URL's number plus
    one plus the worker's): tests clear the cache (FLUSHDB), count rate limits per address and join
    channel groups named by database ids that both workers' databases share. The browser tests' live
    servers inherit it through the environment. Django's settings are read before this conftest, so
    the in-process cache and channel layer are pointed at it too (nothing has connected yet)."""
    worker, base = os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("REDIS_URL")
    if not (worker and base):
        return
    parsed = urlparse(base)
    number = int(parsed.path.lstrip("/") or 0) + 1 + int(worker.removeprefix("gw"))
    url = parsed._replace(path=f"/{number}").geturl()
    os.environ["REDIS_URL"] = url
    from django.conf import settings

    settings.REDIS_URL = url
    settings.CACHES["default"]["LOCATION"] = url
    settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"] = [url]


_redis_of_this_worker()

_skipped: list[str] = []


# Hypothesis's per-example deadline (200 ms) measures the machine, not our code: on the shared
# 2-core CI machine a slow first example failed tests that assert nothing about time. Timing is for
# bench/ scripts; the properties keep every example.
hypothesis_settings.register_profile("sprechzimmer", deadline=None)
hypothesis_settings.load_profile("sprechzimmer")


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


# Tests that need a service are left out without it (deselected, and said so), not skipped: two
# server processes can only reach each other through Redis; real write concurrency needs
# PostgreSQL (SQLite serialises writers). CI runs them in its PostgreSQL/Redis leg.
_NEEDS = {"redis": "REDIS_URL", "postgres": "DATABASE_URL"}


def pytest_collection_modifyitems(config, items):
    missing = {marker for marker, variable in _NEEDS.items() if not os.environ.get(variable)}
    left_out = [item for item in items if missing & set(item.keywords)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]


def pytest_sessionfinish(session, exitstatus):
    # In CI nothing may skip: a browser test that skips there hides a broken setup.
    if os.environ.get("CI") and _skipped and exitstatus == 0:
        session.exitstatus = 1
        print(f"\nCI: {len(_skipped)} Test(s) übersprungen – das zählt als Fehler: {_skipped[:5]}")


@pytest.fixture(autouse=True, scope="session")
def _close_database_thread_connections(django_db_setup, django_db_blocker):
    """Async tests reach the database through asgiref's single database thread, whose connection
    outlives the test (DATABASE_CONN_MAX_AGE): at the end of a run it would still be open when the
    test database is dropped ("is being accessed by other users" on PostgreSQL). Closed here, in
    that thread, before the drop."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    with django_db_blocker.unblock():
        SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=30)


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test gets a channel layer of its own. The Redis layer keeps asyncio locks bound to the
    event loop that made them, and pytest-asyncio gives every test a new loop; a layer carried over
    from an earlier test fails with "bound to a different event loop" (a test artefact: a server
    process has one loop)."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield


@pytest.fixture(autouse=True)
def _documents_in_tmp(settings, tmp_path):
    """Encrypted application documents of a test go to its own directory, not the project's var/."""
    settings.DOCUMENTS_DIR = tmp_path / "documents"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and blocks of one test never reach the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """What the server stores is Django's hash of a 256-bit secret derived in the browser; the
    hasher's cost only slows the tests down (the live server in browser tests keeps the real one)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def _tasks_run_at_once():
    """In the test process the queue runs each task as it is enqueued (after commit), so a mail
    lands in Django's test outbox. The browser tests' live server runs the real worker, and
    tests/jobs/ test the worker with a real queue."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield
