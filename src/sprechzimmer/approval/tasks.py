"""Huey imports this module (djhuey) so that the worker knows the task by name."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(hour="6", minute="30"))
def certificate_expiry_daily() -> None:
    """From 60 days before an operator certificate expires: one warning to OPERATOR_EMAIL."""
    from sprechzimmer.approval import certificates

    certificates.warn_expiring()
