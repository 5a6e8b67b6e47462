"""The daily usage meter: one ``UsageDay`` per practice and day (plan, active users, SMS)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Q

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


def count_sms(organisation: Organisation, day: dt.date, segments: int) -> None:
    """Adds sent SMS (segments, each billed at PRICE_PER_SMS) to the practice's day. The day's row
    is made if the meter has not run yet; the meter later sets plan and users and keeps the count."""
    updated = UsageDay.objects.filter(organisation=organisation, day=day).update(sms=F("sms") + segments)
    if updated:
        return
    contract = Contract.objects.filter(organisation=organisation).first()
    _, created = UsageDay.objects.get_or_create(
        organisation=organisation,
        day=day,
        defaults={
            "plan": contract.plan if contract else Plan.BASIS,
            "users": organisation.members.filter(is_active=True).count(),
            "sms": segments,
        },
    )
    if not created:  # made by the meter or another sender meanwhile
        UsageDay.objects.filter(organisation=organisation, day=day).update(sms=F("sms") + segments)
