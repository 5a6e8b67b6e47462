"""A doctor's blocked days and wishes, which the next plans take into account."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from sprechzimmer.duty.models import BlockedDay, DutyDoctor


def save_preferences(doctor: DutyDoctor, blocked: list[dt.date], weekdays: list[int], kinds: list[str]) -> None:
    with transaction.atomic():
        doctor.blocked_days.all().delete()
        BlockedDay.objects.bulk_create(BlockedDay(doctor=doctor, day=day) for day in blocked)
        doctor.preferred_weekdays, doctor.preferred_kinds = weekdays, kinds
        doctor.save(update_fields=["preferred_weekdays", "preferred_kinds"])
