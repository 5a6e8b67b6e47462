"""What staff and doctors do with duty plans; every function keeps the database consistent on error.

Views call these with objects already scoped to the user's KV (views.py); here the domain rules
are enforced: hard planning rules when taking a duty, deadlines, who may answer a handover.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sprechzimmer import mail
from sprechzimmer.accounts.models import token_digest
from sprechzimmer.duty.domain import planner
from sprechzimmer.duty.domain.calendar import BERLIN, DutySlot, duty_slots
from sprechzimmer.duty.models import Area, Duty, DutyDoctor, DutyType, Plan

MAX_PLAN_DAYS = 366
PLAN_AHEAD = dt.timedelta(days=731)  # a plan begins at most two years ahead


class DutyError(Exception):
    """A rule stops the action; the message (German) is shown to the user as it is."""


# --- plans (KV staff) ---------------------------------------------------------------------------


def plan_period_problem(first: dt.date, last: dt.date, today: dt.date) -> tuple[str | None, str] | None:
    """Why a plan cannot cover first … last (German), with the form field it concerns; or None.

    A plan begins today at the earliest: a plan for a past period would mail doctors about duties
    nobody can serve any more and, published, rewrite the balances carried since. It begins at
    most two years ahead and spans at most a year."""
    if last < first:
        return None, "Das Ende des Zeitraums liegt vor dem Anfang."
    if first < today:
        return "first", (f"Ein Plan beginnt frühestens heute ({today:%d.%m.%Y}); für vergangene Zeiträume lassen sich "
                         "keine Pläne anlegen.")
    if first > today + PLAN_AHEAD:
        return "first", "Ein Plan beginnt höchstens zwei Jahre im Voraus."
    if (last - first).days + 1 > MAX_PLAN_DAYS:
        return "last", "Ein Plan umfasst höchstens ein Jahr."
    return None


def generate_plan(area: Area, first: dt.date, last: dt.date, *, today: dt.date | None = None) -> Plan:
    """A draft plan with the duties of the period, solved by the fair planner. ``today`` is the
    day the plan is made (the real today; tests that need a plan of the past make it as of then)."""
    problem = plan_period_problem(first, last, today or timezone.localdate())
    if problem:
        raise DutyError(problem[1])
    types = list(area.duty_types.all())
    if not types:
        raise DutyError("Für diesen Bereich sind keine Dienstarten angelegt.")
    if area.plans.filter(first__lte=last, last__gte=first).exists():
        raise DutyError("Für diesen Zeitraum gibt es in diesem Bereich schon einen Plan.")
    with transaction.atomic():
        plan = Plan.objects.create(area=area, first=first, last=last)
        Duty.objects.bulk_create(
            Duty(plan=plan, duty_type=duty_type, day=slot.day, start=slot.start, end=slot.end, kind=slot.kind,
                 holiday=slot.holiday)
            for duty_type in types for slot in duty_slots(first, last, duty_type.times()))
        solve(plan)
    return plan


def _domain_doctor(doctor: DutyDoctor, types: list[DutyType], blocked: set[dt.date]) -> planner.Doctor:
    allowed = {str(t.pk) for t in types if not doctor.qualifications or t.kind in doctor.qualifications}
    preferred = {str(t.pk) for t in types if t.kind in doctor.preferred_kinds}
    return planner.Doctor(doctor.pk, doctor.weight, frozenset(allowed), frozenset(blocked),
                          frozenset(doctor.preferred_weekdays), frozenset(preferred),
                          doctor.balance_hours, doctor.balance_special)


def _domain_inputs(plan: Plan):
    types = list(plan.area.duty_types.all())
    duties = list(plan.duties.select_related("duty_type"))
    domain_duties = [planner.Duty(d.pk, str(d.duty_type_id), DutySlot(d.day, d.start.astimezone(BERLIN),
                                                                      d.end.astimezone(BERLIN), d.kind, d.holiday))
                     for d in duties]
    doctors = list(plan.area.doctors.filter(kind=DutyDoctor.Kind.OBLIGED, user__is_active=True)
                   .select_related("user").prefetch_related("blocked_days"))
    domain_doctors = [_domain_doctor(d, types, {b.day for b in d.blocked_days.all()}) for d in doctors]
    return duties, domain_duties, doctors, domain_doctors


def solve(plan: Plan) -> Plan:
    """(Re-)plan a draft. Duties the staff set by hand (pinned) stay as they are."""
    if not plan.is_draft:
        raise DutyError("Ein veröffentlichter Plan wird nicht neu berechnet.")
    duties, domain_duties, doctors, domain_doctors = _domain_inputs(plan)
    pinned = {d.pk: d.doctor_id for d in duties if d.pinned and d.doctor_id}
    # Re-planning a draft keeps what it can: of equally fair plans, the one closest to this one.
    current = {d.pk: d.doctor_id for d in duties if not d.pinned and d.doctor_id}
    rules = planner.Rules(rest_hours=plan.area.rest_hours, time_limit=settings.DUTY_PLAN_SECONDS)
    try:
        result = planner.plan(domain_duties, domain_doctors, rules, fixed=pinned, previous=current)
    except planner.PlanningError as error:
        raise DutyError(str(error)) from error
    with transaction.atomic():
        for duty in duties:
            if not duty.pinned:
                duty.doctor_id = result.assignment[duty.pk]
        Duty.objects.bulk_update(duties, ["doctor"])
        plan.report = _report(result, doctors)
        plan.save(update_fields=["report"])
    return plan


def _report(result: planner.Plan, doctors: list[DutyDoctor]) -> dict:
    names = {d.pk: str(d) for d in doctors}
    return {
        "status": result.status,
        "seconds": round(result.seconds, 2),
        "relaxed": result.relaxed,
        "spread": {"max_hours": str(result.spread.max_deviation_hours),
                   "mean_hours": str(result.spread.mean_deviation_hours),
                   "max_special": str(result.spread.max_special_deviation)},
        "lines": [{"doctor": line.doctor, "name": names.get(line.doctor, ""), "weight": str(line.weight),
                   "target_hours": str(line.target_hours), "assigned_hours": str(line.assigned_hours),
                   "duties": line.duties, "special": line.special_duties, "target_special": str(line.target_special),
                   "holidays": line.holidays, "wishes_met": line.wishes_met,
                   "balance_before": str(line.balance_hours_before), "balance_after": str(line.balance_hours_after),
                   "balance_special_after": str(line.balance_special_after)}
                  for line in result.lines],
    }


def explain(plan: Plan) -> dict:
    """The report for the current assignment (after manual changes), without solving."""
    duties, domain_duties, doctors, domain_doctors = _domain_inputs(plan)
    assignment = {d.pk: d.doctor_id for d in duties if d.doctor_id}
    lines, spread = planner.explain(domain_duties, domain_doctors, assignment)
    return _report(planner.Plan(assignment, lines, spread, plan.report.get("status", "")), doctors) | {
        "seconds": plan.report.get("seconds"), "relaxed": plan.report.get("relaxed", [])}


def assign_by_hand(plan: Plan, duty: Duty, doctor: DutyDoctor | None) -> None:
    """A manual change in the draft; kept when the rest is re-planned. None releases the pin."""
    if not plan.is_draft:
        raise DutyError("Veröffentlichte Pläne ändern sich nur noch über die Dienstbörse.")
    if doctor is None:
        duty.pinned = False
        duty.save(update_fields=["pinned"])
        return
    if doctor.area_id != plan.area_id or doctor.kind != DutyDoctor.Kind.OBLIGED:
        raise DutyError("Diese Person ist in diesem Bereich nicht zum Dienst verpflichtet.")
    _check_may_serve(doctor, duty, ignore={duty.pk}, plan_draft=plan)
    duty.doctor, duty.pinned = doctor, True
    duty.save(update_fields=["doctor", "pinned"])
    plan.report = explain(plan)
    plan.save(update_fields=["report"])


@dataclass
class PublishSummary:
    """What publishing a draft will do: shown to the staff, who confirm it."""

    duties: int
    unassigned: int
    started: int  # duties that have begun already (a draft published late)
    recipients: list[tuple[DutyDoctor, int]]  # who is mailed, with their number of duties
    balances_kept: list[DutyDoctor]  # their balances already include a later plan (see publish)
    fingerprint: str  # names this assignment: a confirmation of another one is refused
    problem: str  # why it cannot be published (German), or ""


def _balances_kept(plan: Plan, doctor_ids) -> set[int]:
    """Doctors of ``plan`` whose balances already include a published plan that ends later.

    Balances never move backwards in time: a plan published out of order (a forgotten draft)
    must not overwrite what later plans carried forward, so those doctors keep theirs."""
    later = Plan.objects.filter(area__kv_id=plan.area.kv_id, status=Plan.Status.PUBLISHED,
                                last__gt=plan.last).exclude(pk=plan.pk).values_list("report", flat=True)
    included = {line.get("doctor") for report in later for line in (report or {}).get("lines", [])}
    return {pk for pk in doctor_ids if pk in included}


def _fingerprint(plan: Plan) -> str:
    assignment = sorted(plan.duties.values_list("pk", "doctor_id"))
    return hashlib.sha256(repr((plan.pk, plan.first, plan.last, assignment)).encode()).hexdigest()[:32]


def publish_summary(plan: Plan, *, today: dt.date | None = None) -> PublishSummary:
    today = today or timezone.localdate()
    duties = plan.duties.all()
    counts: dict[int, int] = {}
    for doctor_id in duties.exclude(doctor__isnull=True).values_list("doctor_id", flat=True):
        counts[doctor_id] = counts.get(doctor_id, 0) + 1
    doctors = {d.pk: d for d in DutyDoctor.objects.filter(pk__in=counts).select_related("user")}
    recipients = sorted(((doctors[pk], n) for pk, n in counts.items()), key=lambda item: str(item[0]))
    report_ids = [line["doctor"] for line in plan.report.get("lines", [])] if plan.report else []
    kept = _balances_kept(plan, set(report_ids) | set(counts))
    unassigned = duties.filter(doctor__isnull=True).count()
    problem = ""
    if not plan.is_draft:
        problem = "Dieser Plan ist bereits veröffentlicht."
    elif plan.last < today:
        problem = ("Der Zeitraum dieses Plans ist vorbei; ein vergangener Plan wird nicht veröffentlicht "
                   "(niemand kann die Dienste mehr leisten, die Salden blieben falsch).")
    elif unassigned:
        problem = "Es sind noch nicht alle Dienste besetzt."
    kept_doctors = sorted(DutyDoctor.objects.filter(pk__in=kept).select_related("user"), key=str)
    return PublishSummary(duties=duties.count(), unassigned=unassigned,
                          started=duties.filter(start__lt=timezone.now()).count(), recipients=recipients,
                          balances_kept=kept_doctors, fingerprint=_fingerprint(plan), problem=problem)


def publish(plan: Plan, *, fingerprint: str | None = None, today: dt.date | None = None) -> None:
    """Publish a draft: balances carried forward, everyone with duties told by e-mail.

    With ``fingerprint`` (from the confirmation the staff saw) the plan must still be exactly
    the one summarised. A plan whose period is over is not published. A doctor whose balance
    already includes a later published plan keeps it (``_balances_kept``); the report says so."""
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = Plan.objects.select_for_update().select_related("area").get(pk=plan.pk)
        if not locked.is_draft:
            raise DutyError("Dieser Plan ist bereits veröffentlicht.")
        if locked.last < today:
            raise DutyError("Der Zeitraum dieses Plans ist vorbei; ein vergangener Plan wird nicht veröffentlicht.")
        if locked.duties.filter(doctor__isnull=True).exists():
            raise DutyError("Es sind noch nicht alle Dienste besetzt.")
        if fingerprint is not None and fingerprint != _fingerprint(locked):
            raise DutyError("Der Plan wurde geändert, seit Sie die Zusammenfassung gesehen haben. Bitte prüfen Sie "
                            "sie erneut.")
        report = explain(locked)
        kept = {d.pk: d for d in DutyDoctor.objects.filter(
            pk__in=_balances_kept(locked, {line["doctor"] for line in report["lines"]}))}
        for line in report["lines"]:
            if line["doctor"] in kept:  # the balance stays; the report shows it unchanged
                doctor = kept[line["doctor"]]
                line.update(balance_after=str(doctor.balance_hours), balance_special_after=str(doctor.balance_special),
                            balance_kept=True)
                continue
            DutyDoctor.objects.filter(pk=line["doctor"]).update(
                balance_hours=Decimal(line["balance_after"]), balance_special=Decimal(line["balance_special_after"]))
        locked.status, locked.published_at, locked.report = Plan.Status.PUBLISHED, timezone.now(), report
        locked.save(update_fields=["status", "published_at", "report"])
        plan.status, plan.published_at, plan.report = locked.status, locked.published_at, report
        recipients = DutyDoctor.objects.filter(duties__plan=locked).distinct().select_related("user")
        for doctor in recipients:
            count = locked.duties.filter(doctor=doctor).count()
            _notify(doctor, f"Dienstplan veröffentlicht: {locked}",
                    f"der Dienstplan {locked} ist veröffentlicht. Sie sind für {count} Dienst(e) eingeteilt.\n\n"
                    "Ihre Dienste, die Dienstbörse und Ihren Kalender-Link finden Sie unter „Dienste“.")


# --- the exchange (doctors) ---------------------------------------------------------------------


def _check_may_serve(doctor: DutyDoctor, duty: Duty, ignore: set[int] = frozenset(), plan_draft: Plan | None = None):
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
        mine = mine.filter(plan__status=Plan.Status.PUBLISHED).filter(
            _serving_q(doctor))
    clash = mine.select_related("duty_type").first()
    if clash:
        raise DutyError(f"Das geht nicht: Ihr Dienst am {clash.local_start:%d.%m.%Y %H:%M} liegt zu nah "
                        f"(Ruhezeit {duty.plan.area.rest_hours} Stunden).")


def _serving_q(doctor: DutyDoctor):
    from django.db.models import Q

    return (Q(doctor=doctor) & Q(substitute__isnull=True)) | Q(substitute=doctor)


def _in_future(duty: Duty) -> None:
    if duty.start <= timezone.now():
        raise DutyError("Dieser Dienst hat bereits begonnen.")


def take(duty_id: int, taker: DutyDoctor) -> Duty:
    """Take an open or offered duty. Two doctors at the same moment: exactly one gets it — the
    taker's row is locked (one take per doctor at a time, for the rest-period check), and the duty
    changes hands only by a conditional UPDATE that the second writer finds no longer matching."""
    with transaction.atomic():
        DutyDoctor.objects.select_for_update().get(pk=taker.pk)
        duty = (Duty.objects.select_related("plan__area", "duty_type", "doctor__user")
                .get(pk=duty_id, plan__area__kv_id=taker.kv_id, plan__status=Plan.Status.PUBLISHED))
        if duty.status == Duty.Status.ASSIGNED:
            raise DutyError("Dieser Dienst ist bereits vergeben.")
        if duty.doctor_id == taker.pk:
            raise DutyError("Das ist Ihr eigener Dienst. Ziehen Sie das Angebot zurück, um ihn zu behalten.")
        _in_future(duty)
        notice = getattr(taker, "notice", None) if taker.is_cooperating else None
        if notice is not None and duty.day > notice.ends:
            raise DutyError(f"Ihre Kooperationsvereinbarung endet am {notice.ends:%d.%m.%Y}.")
        _check_may_serve(taker, duty)
        previous = duty.doctor
        won = Duty.objects.filter(pk=duty.pk, status=duty.status, doctor=duty.doctor_id).update(
            status=Duty.Status.ASSIGNED, doctor=taker, substitute=None, pending_substitute=None)
        if not won:
            raise DutyError("Diesen Dienst hat gerade jemand anderes übernommen.")
        duty.refresh_from_db()
    if previous is not None:
        _notify(previous, f"Ihr Dienst am {duty.local_start:%d.%m.%Y} wurde übernommen",
                f"{taker} hat Ihren angebotenen Dienst ({duty.duty_type.get_kind_display()}, "
                f"{duty.local_start:%d.%m.%Y %H:%M} – {duty.local_end:%d.%m.%Y %H:%M}) übernommen. "
                "Sie sind für diesen Dienst nicht mehr eingeteilt.")
    return duty


def offer(duty: Duty, doctor: DutyDoctor) -> None:
    """An obliged doctor offers their duty in the exchange; they stay responsible until taken."""
    _own(duty, doctor)
    _in_future(duty)
    if duty.pending_substitute_id or duty.substitute_id:
        raise DutyError("Für diesen Dienst ist eine Vertretung eingetragen oder angefragt.")
    Duty.objects.filter(pk=duty.pk, status=Duty.Status.ASSIGNED, doctor=doctor).update(status=Duty.Status.OFFERED)


def withdraw(duty: Duty, doctor: DutyDoctor) -> None:
    _own(duty, doctor)
    if not Duty.objects.filter(pk=duty.pk, status=Duty.Status.OFFERED, doctor=doctor).update(status=Duty.Status.ASSIGNED):
        raise DutyError("Dieser Dienst ist nicht (mehr) angeboten.")


def give_back(duty: Duty, doctor: DutyDoctor) -> None:
    """A K-Arzt returns a duty they took, until the area's deadline before it starts."""
    _own(duty, doctor)
    if not doctor.is_cooperating:
        raise DutyError("Verpflichtete Ärzte bieten ihren Dienst in der Dienstbörse an oder geben ihn an eine Vertretung.")
    deadline = duty.start - dt.timedelta(days=duty.plan.area.giveback_days)
    if timezone.now() > deadline:
        raise DutyError(f"Die Rückgabe war nur bis {deadline.astimezone(BERLIN):%d.%m.%Y %H:%M} möglich "
                        f"({duty.plan.area.giveback_days} Tage vor Dienstbeginn).")
    Duty.objects.filter(pk=duty.pk, doctor=doctor).update(status=Duty.Status.OPEN, doctor=None, substitute=None,
                                                          pending_substitute=None)


def request_handover(duty: Duty, doctor: DutyDoctor, substitute: DutyDoctor) -> None:
    """Hand a duty to a named substitute (Vertreter), who must accept."""
    _own(duty, doctor)
    _in_future(duty)
    if substitute.pk == doctor.pk:
        raise DutyError("Sie können sich nicht selbst vertreten.")
    if substitute.kv_id != doctor.kv_id:
        raise DutyError("Die Vertretung muss bei derselben KV registriert sein.")
    if duty.status == Duty.Status.OFFERED:
        raise DutyError("Der Dienst ist in der Dienstbörse angeboten. Ziehen Sie das Angebot erst zurück.")
    Duty.objects.filter(pk=duty.pk).update(pending_substitute=substitute)
    _notify(substitute, f"Vertretungsanfrage für den {duty.local_start:%d.%m.%Y}",
            f"{doctor} bittet Sie, den {duty.duty_type.get_kind_display()} am {duty.local_start:%d.%m.%Y} von "
            f"{duty.local_start:%H:%M} bis {duty.local_end:%d.%m.%Y %H:%M} ({duty.duty_type.place}) zu übernehmen. "
            "Abgerechnet wird unter der LANR der vertretenen Person.\n\nBitte nehmen Sie unter „Dienste“ an oder lehnen Sie ab.")


def answer_handover(duty: Duty, substitute: DutyDoctor, accept: bool) -> None:
    if duty.pending_substitute_id != substitute.pk:
        raise DutyError("Diese Anfrage gilt nicht (mehr) für Sie.")
    with transaction.atomic():
        if accept:
            _in_future(duty)
            _check_may_serve(substitute, duty, ignore={duty.pk})
            Duty.objects.filter(pk=duty.pk, pending_substitute=substitute).update(substitute=substitute,
                                                                                  pending_substitute=None)
        else:
            Duty.objects.filter(pk=duty.pk, pending_substitute=substitute).update(pending_substitute=None)
    verb = "übernimmt" if accept else "übernimmt nicht"
    _notify(duty.doctor, f"Vertretung für den {duty.local_start:%d.%m.%Y}: {substitute} {verb}",
            f"{substitute} {verb} Ihren Dienst am {duty.local_start:%d.%m.%Y %H:%M}."
            + (" Abgerechnet wird weiter unter Ihrer LANR." if accept else " Sie bleiben eingeteilt."))


def _own(duty: Duty, doctor: DutyDoctor) -> None:
    if duty.doctor_id != doctor.pk or duty.plan.status != Plan.Status.PUBLISHED:
        raise DutyError("Das ist nicht Ihr Dienst.")


def _notify(doctor: DutyDoctor | None, subject: str, text: str) -> None:
    """A mail to the doctor once the change is committed (a mail outage delays it, never undoes it)."""
    if doctor is None:
        return
    mail.send("duty_notice", doctor.user.email, {"full_name": doctor.user.full_name, "subject": subject, "text": text})


# --- calendar feed ------------------------------------------------------------------------------


def new_calendar_token(doctor: DutyDoctor) -> str:
    """A new secret feed URL token; the old link stops working. Only the digest is stored."""
    token = secrets.token_urlsafe(32)
    DutyDoctor.objects.filter(pk=doctor.pk).update(ical_token_hash=token_digest(token))
    return token


def revoke_calendar_token(doctor: DutyDoctor) -> None:
    DutyDoctor.objects.filter(pk=doctor.pk).update(ical_token_hash="")


def doctor_for_token(token: str) -> DutyDoctor | None:
    if not token or len(token) > 100:
        return None
    return DutyDoctor.objects.filter(ical_token_hash=token_digest(token)).select_related("user").first()


def serving_duties(doctor: DutyDoctor):
    return (Duty.objects.filter(plan__status=Plan.Status.PUBLISHED).filter(_serving_q(doctor))
            .select_related("duty_type__practice", "duty_type__area", "doctor__user", "substitute__user"))


def calendar_feed(doctor: DutyDoctor) -> bytes:
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//Sprechzimmer//Bereitschaftsdienst//DE")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Bereitschaftsdienste")
    for duty in serving_duties(doctor).filter(end__gte=timezone.now() - dt.timedelta(days=90)):
        event = Event()
        event.add("uid", f"duty-{duty.pk}@sprechzimmer")
        event.add("dtstamp", timezone.now())
        event.add("dtstart", duty.start)
        event.add("dtend", duty.end)
        event.add("summary", f"Bereitschaftsdienst: {duty.duty_type.get_kind_display()}")
        event.add("location", duty.duty_type.place)
        if duty.substitute_id:
            event.add("description", f"Vertretung für {duty.doctor}; abgerechnet unter LANR {duty.billing_lanr}")
        calendar.add_component(event)
    return calendar.to_ical()


# --- pay (K-Ärzte) -------------------------------------------------------------------------------


def _month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """Midnight (Europe/Berlin) starting the month and the next one."""
    return (dt.datetime(year, month, 1, tzinfo=BERLIN),
            dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=BERLIN))


def month_duties(doctor: DutyDoctor, year: int, month: int):
    """Duties the doctor served under their own LANR that started in the month (Europe/Berlin)."""
    first, after = _month_bounds(year, month)
    return (Duty.objects.filter(plan__status=Plan.Status.PUBLISHED, doctor=doctor, substitute__isnull=True,
                                start__gte=first, start__lt=after, missed__isnull=True)
            .select_related("duty_type__practice", "duty_type__area").order_by("start"))


def terms_history(kv) -> tuple:
    """The KV's dated K-Arzt terms; the seed's (50 €/h, 1 000 €, 50 %, six weeks) where it has none."""
    from sprechzimmer.duty.domain import pay
    from sprechzimmer.duty.models import DutyTerms

    rows = [pay.Terms(t.valid_from, t.hourly_rate, t.missed_duty_fee, t.bonus_share, t.notice_weeks)
            for t in DutyTerms.objects.filter(kv=kv)]
    return pay.TERMS + tuple(rows)


def monthly_statement(doctor: DutyDoctor, year: int, month: int):
    from sprechzimmer.duty.domain import pay
    from sprechzimmer.duty.models import MissedDuty

    served = [pay.ServedDuty(d.local_start, d.duty_type.get_kind_display(), d.duty_type.place, d.hours)
              for d in month_duties(doctor, year, month)]
    first, after = _month_bounds(year, month)
    missed = [pay.MissedDuty(m.duty.day, m.duty.duty_type.place) for m in MissedDuty.objects.filter(
        doctor=doctor, duty__start__gte=first, duty__start__lt=after).select_related("duty__duty_type__practice",
                                                                                    "duty__duty_type__area")]
    return pay.monthly_statement(year, month, served, missed, history=terms_history(doctor.kv))


def record_missed(duty: Duty) -> None:
    """A K-Arzt did not serve and named no substitute: the flat fee is due."""
    from sprechzimmer.duty.models import MissedDuty

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
    from sprechzimmer.duty.domain.cooperation import notice_end
    from sprechzimmer.duty.domain.pay import terms_on
    from sprechzimmer.duty.models import Notice

    if not doctor.is_cooperating:
        raise DutyError("Eine Kündigung der Kooperationsvereinbarung gibt es nur für Kooperationsärzte.")
    weeks = terms_on(received, terms_history(doctor.kv)).notice_weeks
    ends = notice_end(received, weeks)
    after = dt.datetime.combine(ends + dt.timedelta(days=1), dt.time(0), BERLIN)
    with transaction.atomic():
        Notice.objects.update_or_create(doctor=doctor, defaults={"received": received, "ends": ends})
        returned = list(Duty.objects.filter(doctor=doctor, start__gte=after).select_related("duty_type__area",
                                                                                            "duty_type__practice"))
        Duty.objects.filter(pk__in=[d.pk for d in returned]).update(status=Duty.Status.OPEN, doctor=None,
                                                                    pending_substitute=None)
        Duty.objects.filter(substitute=doctor, start__gte=after).update(substitute=None)
        listing = "\n".join(f"- {d.local_start:%d.%m.%Y %H:%M} {d.duty_type.get_kind_display()}, {d.duty_type.place}"
                            for d in returned) or "- keine"
        _notify(doctor, "Ihre Kündigung der Kooperationsvereinbarung",
                f"Ihre schriftliche Kündigung vom {received:%d.%m.%Y} ist eingegangen. Die Kooperationsvereinbarung endet "
                f"mit Ablauf des {ends:%d.%m.%Y} ({weeks} Wochen zum Monatsende).\n\nDiese Dienste nach dem Ende sind "
                f"wieder in der Dienstbörse:\n{listing}")
    return ends


# --- half-year bonus and pseudo cases -------------------------------------------------------------


def record_revenue(practice, stream, quarter=None, filename: str = "") -> tuple:
    """Reads a Notfallpraxis's quarter file (KVDT, patient fields stripped; privacy mode refuses
    any that are not) with the billing engine and stores the EBM revenue per LANR; a second
    upload for the same practice and quarter replaces the first."""
    from sprechzimmer.billing.domain.run import CheckRun
    from sprechzimmer.duty.domain.pay import revenue_by_lanr
    from sprechzimmer.duty.models import QuarterRevenue

    run = CheckRun(stream, quarter=quarter, privacy=True)
    if run.format != "kvdt":
        raise DutyError("Bitte laden Sie die KVDT-Quartalsdatei der Notfallpraxis hoch.")
    results = run.results()
    check = run.check
    totals = revenue_by_lanr(results, check.orientation_value_ct)
    with transaction.atomic():
        QuarterRevenue.objects.filter(practice=practice, year=check.quarter.year, number=check.quarter.number).delete()
        QuarterRevenue.objects.bulk_create(
            QuarterRevenue(practice=practice, year=check.quarter.year, number=check.quarter.number, lanr=lanr,
                           cases=cases, points_x100=points, revenue=euros, filename=filename[:200])
            for lanr, (cases, points, euros) in sorted(totals.items()))
    return check.quarter, totals


def bonus_statement(doctor: DutyDoctor, payout_year: int, payout_month: int):
    """50 % × (EBM revenue of the doctor's duty cases − hourly pay) for the half-year the payout
    month covers; revenue from the Notfallpraxen files of the KV, hourly pay from the statements."""
    from django.db.models import Q, Sum

    from sprechzimmer.duty.domain import pay
    from sprechzimmer.duty.models import QuarterRevenue

    quarters = pay.bonus_quarters(payout_year, payout_month)
    which = Q()
    for quarter in quarters:
        which |= Q(year=quarter.year, number=quarter.number)
    revenue = (QuarterRevenue.objects.filter(which, practice__area__kv=doctor.kv, lanr=doctor.lanr)
               .aggregate(total=Sum("revenue"))["total"] or Decimal(0))
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
    import io

    from sprechzimmer.billing.domain.model import BillingError, Quarter
    from sprechzimmer.duty.domain.pay import quarter_range, write_pseudo_cases

    try:
        quarter = Quarter(year, number)
    except BillingError as error:
        raise DutyError(str(error)) from error
    practice = area.practices.first()
    if practice is None:
        raise DutyError("Der Bereich hat keine Notfallpraxis.")
    first, last = quarter_range(quarter)
    duties = (Duty.objects.filter(plan__area=area, plan__status=Plan.Status.PUBLISHED, without_gkv_patients=True,
                                  day__gte=first, day__lte=last, doctor__isnull=False)
              .select_related("doctor__user").order_by("start"))
    out = io.BytesIO()
    write_pseudo_cases([(d.local_start, d.billing_lanr) for d in duties], quarter, practice.bsnr, out)
    return f"Z01{practice.bsnr}_pseudofaelle_{number}_{year}.con", out.getvalue()
