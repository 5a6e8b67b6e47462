"""The daily usage meter: one ``UsageDay`` per practice and day (plan, active users, SMS)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q

from sprechzimmer.accounts.models import Organisation
from sprechzimmer.contracts.domain import Plan
from sprechzimmer.contracts.models import Contract, UsageDay


def meter_day(day: dt.date) -> int:
    """Records ``day`` for every practice (again: the later count wins). Returns the practices."""
    plans = dict(Contract.objects.values_list("organisation_id", "plan"))
    practices = Organisation.objects.filter(kind=Organisation.Kind.PRACTICE).annotate(
        active=Count("members", filter=Q(members__is_active=True))
    )
    rows = [
        UsageDay(organisation_id=p.pk, day=day, plan=plans.get(p.pk, Plan.BASIS), users=p.active)
        for p in practices.iterator()
    ]
    UsageDay.objects.bulk_create(
        rows,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["organisation", "day"],
        update_fields=["plan", "users"],
    )
    return len(rows)
