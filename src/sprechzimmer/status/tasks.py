"""Every minute the worker checks each component (checks.py) for the status page."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="*"))
def check_components() -> None:
    from sprechzimmer.status import checks

    checks.run_all()
