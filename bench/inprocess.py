"""The product in this process, on a fresh database of its own, for benches that send requests
through the whole Django stack with its test client (no server, no network): SQLite in a temporary
DATA_DIR, or PostgreSQL when DATABASE_URL is set (a database is then created beside the one named
and dropped afterwards). Production settings otherwise; no Redis (the in-memory layer and cache)."""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def product(prefix: str, *, static_files: bool = False) -> Iterator[object]:
    """Sets up Django and a fresh database; yields the database connection. ``static_files``
    collects the static files first (pages that render ``{% static %}`` read their manifest)."""
    os.environ.update(
        {
            "DATA_DIR": tempfile.mkdtemp(prefix=prefix),
            "SECRET_KEY": secrets.token_urlsafe(40),
            "DJANGO_SETTINGS_MODULE": "sprechzimmer.settings",
            "LOG_LEVEL": "ERROR",
            "ALLOWED_HOSTS": "testserver",
        }
    )
    os.environ.pop("REDIS_URL", None)
    for path in (str(ROOT / "src"), str(ROOT)):
        if path not in sys.path:
            sys.path.insert(0, path)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.runner import DiscoverRunner

    if static_files:
        call_command("collectstatic", interactive=False, verbosity=0)
    runner = DiscoverRunner(verbosity=0, interactive=False)
    old = runner.setup_databases()
    try:
        yield connection
    finally:
        runner.teardown_databases(old)
