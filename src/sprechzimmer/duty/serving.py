"""Who may serve which duty: the hard rules that planning by hand, the exchange and handovers share
(qualification, no overlap, the rest period), and which duties a doctor serves."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from sprechzimmer.duty.errors import DutyError
from sprechzimmer.duty.models import Duty, DutyDoctor, Plan


def check_may_serve(doctor: DutyDoctor, duty: Duty, ignore: set[int] = frozenset(), plan_draft: Plan | None = None):
    """Hard rules for one more duty: qualification, no overlap, rest period."""
    if doctor.qualifications and duty.duty_type.kind not in doctor.qualifications:
        raise DutyError(f"Sie sind für den {duty.duty_type.get_kind_display()} nicht qualifiziert.")
    if doctor.blocked_days.filter(day=duty.day).exists() and plan_draft is not None:
        raise DutyError(f"{doctor} hat den {duty.day:%d.%m.%Y} gesperrt.")
    rest = dt.timedelta(hours=duty.plan.area.rest_hours)
    mine = Duty.objects.filter(start__lt=duty.end + rest, end__gt=duty.start - rest).exclude(pk__in=ignore)
    if plan_draft is not None:
        mine = mine.filter(plan=plan_draft, doctor=doctor)
    else:
        mine = mine.filter(plan__status=Plan.Status.PUBLISHED).filter(serving_q(doctor))
    clash = mine.select_related("duty_type").first()
    if clash:
        raise DutyError(
            f"Das geht nicht: Ihr Dienst am {clash.local_start:%d.%m.%Y %H:%M} liegt zu nah "
            f"(Ruhezeit {duty.plan.area.rest_hours} Stunden)."
        )


def serving_q(doctor: DutyDoctor) -> Q:
    """The duties the doctor serves: their own without a substitute, and those they substitute in."""
    return (Q(doctor=doctor) & Q(substitute__isnull=True)) | Q(substitute=doctor)
