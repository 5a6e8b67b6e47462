"""Who may serve which duty: the hard rules that planning by hand, the exchange and handovers share
(a K-Arzt's agreement, qualification, no overlap, the rest period), and which duties a doctor serves."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from sprechzimmer.core import formats
from sprechzimmer.duty.errors import DutyError
from sprechzimmer.duty.models import Duty, DutyDoctor, Plan


def check_may_serve(doctor: DutyDoctor, duty: Duty, ignore: set[int] = frozenset(), plan_draft: Plan | None = None):
    """Hard rules for one more duty: a K-Arzt's agreement still runs on its day, qualification, no
    overlap, rest period. Every way to a duty asks here (the exchange, swaps, a handover to a
    substitute, the KV's hand planning). The doctor acts and is addressed ("Ihr Dienst"), except in
    the KV's draft (``plan_draft``), where the KV's staff act and the doctor is named."""
    staff = plan_draft is not None
    last_day = doctor.agreement_ends
    if last_day is not None and duty.day > last_day:
        ends = "endete" if last_day < timezone.localdate() else "endet"
        whose = f"Die Kooperationsvereinbarung von {doctor}" if staff else "Ihre Kooperationsvereinbarung"
        raise DutyError(f"{whose} {ends} am {formats.date(last_day)}.")
    if doctor.qualifications and duty.duty_type.kind not in doctor.qualifications:
        who = f"{doctor} ist" if staff else "Sie sind"
        raise DutyError(f"{who} für den {duty.duty_type.get_kind_display()} nicht qualifiziert.")
    if doctor.blocked_days.filter(day=duty.day).exists() and staff:
        raise DutyError(f"{doctor} hat den {formats.date(duty.day)} gesperrt.")
    rest = dt.timedelta(hours=duty.plan.area.rest_hours)
    mine = Duty.objects.filter(start__lt=duty.end + rest, end__gt=duty.start - rest).exclude(pk__in=ignore)
    if plan_draft is not None:
        mine = mine.filter(plan=plan_draft, doctor=doctor)
    else:
        mine = mine.filter(plan__status=Plan.Status.PUBLISHED).filter(serving_q(doctor))
    clash = mine.select_related("duty_type").first()
    if clash:
        whose = f"der Dienst von {doctor}" if staff else "Ihr Dienst"
        raise DutyError(
            f"Das geht nicht: {whose} am {clash.local_start:%d.%m.%Y %H:%M} liegt zu nah "
            f"(Ruhezeit {duty.plan.area.rest_hours} Stunden)."
        )


def serving_q(doctor: DutyDoctor) -> Q:
    """The duties the doctor serves: their own without a substitute, and those they substitute in."""
    return (Q(doctor=doctor) & Q(substitute__isnull=True)) | Q(substitute=doctor)
