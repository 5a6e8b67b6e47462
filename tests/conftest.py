import os

import pytest

_skipped: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_collection_modifyitems(config, items):
    # Concurrency tests need PostgreSQL: without DATABASE_URL they are left out (deselected, and
    # said so), not skipped; CI runs them in its PostgreSQL leg.
    if os.environ.get("DATABASE_URL"):
        return
    keep = [item for item in items if "postgres" not in item.keywords]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if "postgres" in item.keywords])
        items[:] = keep


def pytest_sessionfinish(session, exitstatus):
    # In CI nothing may skip: a browser test that skips there hides a broken setup.
    if os.environ.get("CI") and _skipped and exitstatus == 0:
        session.exitstatus = 1
        print(f"\nCI: {len(_skipped)} Test(s) übersprungen – das zählt als Fehler: {_skipped[:5]}")


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test gets a channel layer of its own. The Redis layer keeps asyncio locks bound to the
    event loop that made them, and pytest-asyncio gives every test a new loop; a layer carried over
    from an earlier test fails with "bound to a different event loop" (a test artefact: a server
    process has one loop)."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
