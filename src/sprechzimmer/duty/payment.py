"""K-Arzt pay: the duties of a month, the monthly statement with the dated terms, missed duties
and the written notice (docs/k-aerzte.md). The arithmetic is pure (domain/pay.py)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from sprechzimmer.core import formats
from sprechzimmer.duty.domain import pay
from sprechzimmer.duty.domain.calendar import BERLIN
from sprechzimmer.duty.domain.cooperation import notice_end
from sprechzimmer.duty.errors import DutyError
from sprechzimmer.duty.models import Duty, DutyDoctor, DutyTerms, MissedDuty, Notice, Plan
from sprechzimmer.duty.notify import notify


def _month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """Midnight (Europe/Berlin) starting the month and the next one."""
    return (
        dt.datetime(year, month, 1, tzinfo=BERLIN),
        dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=BERLIN),
    )


def month_duties(doctor: DutyDoctor, year: int, month: int):
    """Duties the doctor served under their own LANR that started in the month (Europe/Berlin)."""
    first, after = _month_bounds(year, month)
    return (
        Duty.objects.filter(
            plan__status=Plan.Status.PUBLISHED,
            doctor=doctor,
            substitute__isnull=True,
            start__gte=first,
            start__lt=after,
            missed__isnull=True,
        )
        .select_related("duty_type__practice", "duty_type__area")
        .order_by("start")
    )


def terms_history(kv) -> tuple:
    """The KV's dated K-Arzt terms; the seed's (50 €/h, 1 000 €, 50 %, six weeks) where it has none."""
    rows = [
        pay.Terms(t.valid_from, t.hourly_rate, t.missed_duty_fee, t.bonus_share, t.notice_weeks)
        for t in DutyTerms.objects.filter(kv=kv)
    ]
    return pay.TERMS + tuple(rows)


def monthly_statement(doctor: DutyDoctor, year: int, month: int):
    served = [
        pay.ServedDuty(d.local_start, d.duty_type.get_kind_display(), d.duty_type.place, d.hours)
        for d in month_duties(doctor, year, month)
    ]
    first, after = _month_bounds(year, month)
    missed = [
        pay.MissedDuty(m.duty.day, m.duty.duty_type.place)
        for m in MissedDuty.objects.filter(doctor=doctor, duty__start__gte=first, duty__start__lt=after).select_related(
            "duty__duty_type__practice", "duty__duty_type__area"
        )
    ]
    return pay.monthly_statement(year, month, served, missed, history=terms_history(doctor.kv))


def record_missed(duty: Duty) -> None:
    """A K-Arzt did not serve and named no substitute: the flat fee is due."""
    if duty.doctor is None or not duty.doctor.is_cooperating:
        raise DutyError("Die Pauschale bei Nichtantritt gilt für Kooperationsärzte.")
    if duty.substitute_id:
        raise DutyError("Für diesen Dienst war eine Vertretung eingetragen.")
    if duty.start > timezone.now():
        raise DutyError("Der Dienst hat noch nicht begonnen.")
    if MissedDuty.objects.filter(duty=duty).exists():
        raise DutyError("Der Nichtantritt ist bereits erfasst.")
    MissedDuty.objects.create(duty=duty, doctor=duty.doctor)


def record_notice(doctor: DutyDoctor, received: dt.date) -> dt.date:
    """Written notice of a K-Arzt: the agreement ends six weeks to a month end; their duties after
    that go back to the exchange and the doctor is told."""
    if not doctor.is_cooperating:
        raise DutyError("Eine Kündigung der Kooperationsvereinbarung gibt es nur für Kooperationsärzte.")
    weeks = pay.terms_on(received, terms_history(doctor.kv)).notice_weeks
    ends = notice_end(received, weeks)
    if ends < timezone.localdate():
        # A typo like 1999 would end the agreement in the past: duties served since then would lose
        # their doctor and the doctor would get a mail about a notice they never gave.
        raise DutyError(
            f"Mit dem Eingangsdatum {formats.date(received)} wäre die Kooperation schon am {formats.date(ends)} "
            "beendet. Bitte prüfen Sie das Datum; eine Kündigung wird mit dem Tag ihres Eingangs erfasst."
        )
    after = dt.datetime.combine(ends + dt.timedelta(days=1), dt.time(0), BERLIN)
    with transaction.atomic():
        Notice.objects.update_or_create(doctor=doctor, defaults={"received": received, "ends": ends})
        returned = list(
            Duty.objects.filter(doctor=doctor, start__gte=after).select_related(
                "duty_type__area", "duty_type__practice"
            )
        )
        Duty.objects.filter(pk__in=[d.pk for d in returned]).update(
            status=Duty.Status.OPEN, doctor=None, pending_substitute=None
        )
        Duty.objects.filter(substitute=doctor, start__gte=after).update(substitute=None)
        listing = (
            "\n".join(
                f"- {d.local_start:%d.%m.%Y %H:%M} {d.duty_type.get_kind_display()}, {d.duty_type.place}"
                for d in returned
            )
            or "- keine"
        )
        notify(
            doctor,
            "Ihre Kündigung der Kooperationsvereinbarung",
            f"Ihre schriftliche Kündigung vom {received:%d.%m.%Y} ist eingegangen. Die Kooperationsvereinbarung endet "
            f"mit Ablauf des {ends:%d.%m.%Y} ({weeks} Wochen zum Monatsende).\n\nDiese Dienste nach dem Ende sind "
            f"wieder in der Dienstbörse:\n{listing}",
        )
    return ends
