"""The K-Arzt half-year bonus from the Notfallpraxen's quarter files, duties without GKV patients
and their pseudo billing cases (docs/k-aerzte.md)."""

from __future__ import annotations

import io
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from sprechzimmer.billing.domain.model import BillingError, Quarter
from sprechzimmer.billing.domain.run import CheckRun
from sprechzimmer.duty.domain import pay
from sprechzimmer.duty.errors import DutyError
from sprechzimmer.duty.models import Area, Duty, DutyDoctor, DutyType, Plan, QuarterRevenue
from sprechzimmer.duty.payment import monthly_statement, terms_history


def record_revenue(practice, stream, quarter=None, filename: str = "") -> tuple:
    """Reads a Notfallpraxis's quarter file (KVDT, patient fields stripped; privacy mode refuses
    any that are not) with the billing engine and stores the EBM revenue per LANR; a second
    upload for the same practice and quarter replaces the first."""
    run = CheckRun(stream, quarter=quarter, privacy=True)
    if run.format != "kvdt":
        raise DutyError("Bitte laden Sie die KVDT-Quartalsdatei der Notfallpraxis hoch.")
    results = run.results()
    check = run.check
    if check.orientation_value_year != check.quarter.year:
        # Pay is not computed with a provisional value (the EBM check only shows it as such).
        raise DutyError(
            f"Für {check.quarter.year} ist noch kein Orientierungswert hinterlegt; ein Update von Sprechzimmer "
            "trägt ihn nach. Bis dahin lässt sich der Umsatz nicht berechnen."
        )
    totals = pay.revenue_by_lanr(results, check.orientation_value_ct)
    with transaction.atomic():
        QuarterRevenue.objects.filter(practice=practice, year=check.quarter.year, number=check.quarter.number).delete()
        QuarterRevenue.objects.bulk_create(
            QuarterRevenue(
                practice=practice,
                year=check.quarter.year,
                number=check.quarter.number,
                lanr=lanr,
                cases=cases,
                points_x100=points,
                revenue=euros,
                filename=filename[:200],
            )
            for lanr, (cases, points, euros) in sorted(totals.items())
        )
    return check.quarter, totals


def bonus_statement(doctor: DutyDoctor, payout_year: int, payout_month: int):
    """50 % × (EBM revenue of the doctor's duty cases − hourly pay) for the half-year the payout
    month covers; revenue from the Notfallpraxen files of the KV, hourly pay from the statements."""
    quarters = pay.bonus_quarters(payout_year, payout_month)
    which = Q()
    for quarter in quarters:
        which |= Q(year=quarter.year, number=quarter.number)
    revenue = QuarterRevenue.objects.filter(which, practice__area__kv=doctor.kv, lanr=doctor.lanr).aggregate(
        total=Sum("revenue")
    )["total"] or Decimal(0)
    hourly = Decimal(0)
    for quarter in quarters:
        for month in range(3 * quarter.number - 2, 3 * quarter.number + 1):
            hourly += monthly_statement(doctor, quarter.year, month).gross
    return pay.half_year_bonus(payout_year, payout_month, revenue, hourly, history=terms_history(doctor.kv))


def mark_without_gkv(duty: Duty, doctor: DutyDoctor, value: bool) -> None:
    if duty.serving != doctor:
        raise DutyError("Das ist nicht Ihr Dienst.")
    if duty.start > timezone.now():
        raise DutyError("Das lässt sich erst nach Dienstbeginn angeben.")
    Duty.objects.filter(pk=duty.pk).update(without_gkv_patients=value)


def pseudo_cases_file(area: Area, year: int, number: int) -> tuple[str, bytes]:
    """KVDT with a pseudo billing case for each duty of the quarter without GKV patients, under the
    LANR billed (the responsible doctor's), for the area's Notfallpraxis."""
    try:
        quarter = Quarter(year, number)
    except BillingError as error:
        raise DutyError(str(error)) from error
    # The area's Notfallpraxis of the duties in person: a video duty bills under a BSNR of its own.
    practice = area.practices.exclude(dutytype__kind=DutyType.Kind.VIDEO).order_by("pk").first()
    if practice is None:
        raise DutyError("Der Bereich hat keine Notfallpraxis.")
    first, last = pay.quarter_range(quarter)
    duties = (
        Duty.objects.filter(
            plan__area=area,
            plan__status=Plan.Status.PUBLISHED,
            without_gkv_patients=True,
            day__gte=first,
            day__lte=last,
            doctor__isnull=False,
        )
        .select_related("doctor__user")
        .order_by("start")
    )
    out = io.BytesIO()
    pay.write_pseudo_cases([(d.local_start, d.billing_lanr) for d in duties], quarter, practice.bsnr, out)
    return f"Z01{practice.bsnr}_pseudofaelle_{number}_{year}.con", out.getvalue()
