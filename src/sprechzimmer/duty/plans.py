"""Duty plans (KV staff): generate a draft for a period, solve it with the fair planner, change it by
hand, explain it, and publish it after a confirmed summary (docs/duty.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, replace
from decimal import Decimal

import ortools
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sprechzimmer.duty.domain import kv as kv_domain
from sprechzimmer.duty.domain import planner
from sprechzimmer.duty.domain.calendar import BERLIN, DutySlot, duty_slots
from sprechzimmer.duty.errors import DutyError
from sprechzimmer.duty.models import Area, Duty, DutyDoctor, DutyType, Plan
from sprechzimmer.duty.notify import duties_link, notify
from sprechzimmer.duty.serving import check_may_serve

MAX_PLAN_DAYS = 366
#: The planner's random seed for every plan: fixed, so that the same input gives the same plan.
PLAN_SEED = 0
PLAN_AHEAD = dt.timedelta(days=731)  # a plan begins at most two years ahead


def plan_period_problem(first: dt.date, last: dt.date, today: dt.date) -> tuple[str | None, str] | None:
    """Why a plan cannot cover first … last (German), with the form field it concerns; or None.

    A plan begins today at the earliest: a plan for a past period would mail doctors about duties
    nobody can serve any more and, published, rewrite the balances carried since. It begins at
    most two years ahead and spans at most a year."""
    if last < first:
        return None, "Das Ende des Zeitraums liegt vor dem Anfang."
    if first < today:
        return "first", (
            f"Ein Plan beginnt frühestens heute ({today:%d.%m.%Y}); für vergangene Zeiträume lassen sich "
            "keine Pläne anlegen."
        )
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
            Duty.from_slot(plan, duty_type, slot)
            for duty_type in types
            for slot in duty_slots(first, last, duty_type.times())
        )
        solve(plan)
    return plan


def _domain_doctor(doctor: DutyDoctor, types: list[DutyType], blocked: set[dt.date]) -> planner.Doctor:
    allowed = {str(t.pk) for t in types if not doctor.qualifications or t.kind in doctor.qualifications}
    preferred = {str(t.pk) for t in types if t.kind in doctor.preferred_kinds}
    return planner.Doctor(
        doctor.pk,
        doctor.weight,
        frozenset(allowed),
        frozenset(blocked),
        frozenset(doctor.preferred_weekdays),
        frozenset(preferred),
        doctor.balance_hours,
        doctor.balance_special,
    )


def _domain_inputs(plan: Plan):
    types = list(plan.area.duty_types.all())
    duties = list(plan.duties.select_related("duty_type"))
    domain_duties = [
        planner.Duty(
            d.pk,
            str(d.duty_type_id),
            DutySlot(d.day, d.start.astimezone(BERLIN), d.end.astimezone(BERLIN), d.kind, d.holiday),
        )
        for d in duties
    ]
    weights = kv_weights(plan)
    if weights is None:
        chosen = plan.area.doctors.all()
    else:  # a plan of a KV-wide run: the doctors it was planned with, at their (split) weights
        chosen = DutyDoctor.objects.filter(pk__in=weights)
    doctors = list(
        chosen.filter(kind=DutyDoctor.Kind.OBLIGED, user__is_active=True)
        .select_related("user")
        .prefetch_related("blocked_days")
        .order_by("pk")
    )
    domain_doctors = [_domain_doctor(d, types, {b.day for b in d.blocked_days.all()}) for d in doctors]
    if weights is not None:
        domain_doctors = [replace(d, weight=weights[d.id]) for d in domain_doctors]
        domain_doctors = _busy_elsewhere(plan, domain_duties, domain_doctors)
    return duties, domain_duties, doctors, domain_doctors


def kv_weights(plan: Plan) -> dict[int, Decimal] | None:
    """For a plan of a KV-wide run (duty/kvruns.py): doctor id -> the weight it was planned with
    (a cross-area doctor's share of their weight in this area); None for a plan of one area."""
    recorded = (plan.planning_record or {}).get("weights")
    if recorded is None:
        return None
    return {doctor_id: Decimal(weight) for doctor_id, weight in recorded}


def _busy_elsewhere(plan: Plan, duties: list[planner.Duty], doctors: list[planner.Doctor]) -> list[planner.Doctor]:
    """Cross-area doctors re-planned in one area keep clear of their duties in other plans: every
    day on which a duty here would overlap one there, or leave less than the rest period, is blocked."""
    if not duties:
        return doctors
    near = dt.timedelta(days=3)
    others: dict[int, list[tuple[planner.Duty, int]]] = {}
    for duty in (
        Duty.objects.filter(doctor_id__in=[d.id for d in doctors], start__lt=max(d.slot.end for d in duties) + near)
        .filter(end__gt=min(d.slot.start for d in duties) - near)
        .exclude(plan=plan)
        .select_related("plan__area")
        .order_by("start")
    ):
        slot = DutySlot(duty.day, duty.start.astimezone(BERLIN), duty.end.astimezone(BERLIN), duty.kind, duty.holiday)
        others.setdefault(duty.doctor_id, []).append((planner.Duty(duty.pk, "", slot), duty.plan.area.rest_hours))
    return [
        replace(d, blocked=d.blocked | kv_domain.busy_days(duties, plan.area.rest_hours, others[d.id]))
        if d.id in others
        else d
        for d in doctors
    ]


def solve(plan: Plan) -> Plan:
    """(Re-)plan a draft. Duties the staff set by hand (pinned) stay as they are."""
    if not plan.is_draft:
        raise DutyError("Ein veröffentlichter Plan wird nicht neu berechnet.")
    duties, domain_duties, doctors, domain_doctors = _domain_inputs(plan)
    pinned = {d.pk: d.doctor_id for d in duties if d.pinned and d.doctor_id}
    # Re-planning a draft keeps what it can: of equally fair plans, the one closest to this one.
    current = {d.pk: d.doctor_id for d in duties if not d.pinned and d.doctor_id}
    rules = planner.Rules(
        rest_hours=plan.area.rest_hours,
        work_limit=float(settings.DUTY_PLAN_WORK),
        time_limit=float(settings.DUTY_PLAN_SECONDS),
        seed=PLAN_SEED,
    )
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
        kept = {key: plan.planning_record[key] for key in ("weights", "kv_run") if key in (plan.planning_record or {})}
        plan.planning_record = kept | {
            "ortools": ortools.__version__,
            "input": planner.encode_input(domain_duties, domain_doctors, rules, fixed=pinned, previous=current),
            "assignment": sorted([duty_id, doctor_id] for duty_id, doctor_id in result.assignment.items()),
            "work": result.work,
            "capped": result.capped,
        }
        plan.save(update_fields=["report", "planning_record"])
    return plan


@dataclass
class Recreated:
    """A plan's last solve run again from its record: the assignment now, and the duties (ids) whose
    doctor differs from the recorded one (none when the plan is reproduced)."""

    assignment: dict[int, int]
    differing: list[int]


def recreate(plan: Plan) -> Recreated:
    """Run the planner again on the input stored with ``plan`` (its last solve), with the recorded
    rules, seed and deterministic budget: the same planner and OR-Tools versions give the same
    assignment. Changes by hand after that solve are not part of it (they are marked on the plan)."""
    record = plan.planning_record
    if not record:
        raise DutyError("Zu diesem Plan ist keine Berechnung gespeichert (vor der Umstellung berechnet).")
    # A plan of a KV-wide run was planned in parts, each with its whole input (kvruns._record).
    inputs = [part["input"] for part in record["parts"]] if "parts" in record else [record["input"]]
    data = inputs[0]
    if data.get("planner") != planner.PLANNER_VERSION or record.get("ortools") != ortools.__version__:
        raise DutyError(
            f"Dieser Plan wurde mit Planer-Version {data.get('planner')} und OR-Tools {record.get('ortools')} "
            f"berechnet; installiert sind {planner.PLANNER_VERSION} und {ortools.__version__}. Zum Nachrechnen "
            "braucht es dieselben Versionen."
        )
    assignment: dict = {}
    for data in inputs:
        duties, doctors, rules, fixed, previous = planner.decode_input(data)
        try:
            assignment |= planner.plan(duties, doctors, rules, fixed=fixed, previous=previous).assignment
        except planner.PlanningError as error:
            raise DutyError(str(error)) from error
    recorded = {duty_id: doctor_id for duty_id, doctor_id in record["assignment"]}
    differing = sorted(k for k in recorded.keys() | assignment.keys() if recorded.get(k) != assignment.get(k))
    return Recreated(assignment, differing)


def _report(result: planner.Plan, doctors: list[DutyDoctor]) -> dict:
    names = {d.pk: str(d) for d in doctors}
    return {
        "status": result.status,
        "seconds": round(result.seconds, 2),
        "relaxed": result.relaxed,
        "spread": {
            "max_hours": str(result.spread.max_deviation_hours),
            "mean_hours": str(result.spread.mean_deviation_hours),
            "max_special": str(result.spread.max_special_deviation),
        },
        "lines": [
            {
                "doctor": line.doctor,
                "name": names.get(line.doctor, ""),
                "weight": str(line.weight),
                "target_hours": str(line.target_hours),
                "assigned_hours": str(line.assigned_hours),
                "duties": line.duties,
                "special": line.special_duties,
                "target_special": str(line.target_special),
                "holidays": line.holidays,
                "wishes_met": line.wishes_met,
                "balance_before": str(line.balance_hours_before),
                "balance_after": str(line.balance_hours_after),
                "balance_special_after": str(line.balance_special_after),
            }
            for line in result.lines
        ],
    }


def explain(plan: Plan) -> dict:
    """The report for the current assignment (after manual changes), without solving."""
    duties, domain_duties, doctors, domain_doctors = _domain_inputs(plan)
    assignment = {d.pk: d.doctor_id for d in duties if d.doctor_id}
    lines, spread = planner.explain(domain_duties, domain_doctors, assignment)
    return _report(planner.Plan(assignment, lines, spread, plan.report.get("status", "")), doctors) | {
        "seconds": plan.report.get("seconds"),
        "relaxed": plan.report.get("relaxed", []),
    }


def assign_by_hand(plan: Plan, duty: Duty, doctor: DutyDoctor | None) -> None:
    """A manual change in the draft; kept when the rest is re-planned. None releases the pin."""
    if not plan.is_draft:
        raise DutyError("Veröffentlichte Pläne ändern sich nur noch über die Dienstbörse.")
    if doctor is None:
        duty.pinned = False
        duty.save(update_fields=["pinned"])
        return
    weights = kv_weights(plan)
    planned_here = doctor.area_id == plan.area_id if weights is None else doctor.pk in weights
    if not planned_here or doctor.kind != DutyDoctor.Kind.OBLIGED:
        raise DutyError("Diese Person ist in diesem Bereich nicht zum Dienst verpflichtet.")
    check_may_serve(doctor, duty, ignore={duty.pk}, plan_draft=plan)
    duty.doctor, duty.pinned = doctor, True
    duty.save(update_fields=["doctor", "pinned"])
    # The solver's verdict ("optimal") was about its own plan, not this one changed by hand.
    plan.report = explain(plan) | {"status": "changed"}
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
    later = (
        Plan.objects.filter(area__kv_id=plan.area.kv_id, status=Plan.Status.PUBLISHED, last__gt=plan.last)
        .exclude(pk=plan.pk)
        .values_list("report", flat=True)
    )
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
        problem = (
            "Der Zeitraum dieses Plans ist vorbei; ein vergangener Plan wird nicht veröffentlicht "
            "(niemand kann die Dienste mehr leisten, die Salden blieben falsch)."
        )
    elif unassigned:
        problem = "Es sind noch nicht alle Dienste besetzt."
    kept_doctors = sorted(DutyDoctor.objects.filter(pk__in=kept).select_related("user"), key=str)
    return PublishSummary(
        duties=duties.count(),
        unassigned=unassigned,
        started=duties.filter(start__lt=timezone.now()).count(),
        recipients=recipients,
        balances_kept=kept_doctors,
        fingerprint=_fingerprint(plan),
        problem=problem,
    )


def publish(plan: Plan, *, fingerprint: str | None = None, today: dt.date | None = None, base_url: str = "") -> None:
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
            raise DutyError(
                "Der Plan wurde geändert, seit Sie die Zusammenfassung gesehen haben. Bitte prüfen Sie sie erneut."
            )
        report = explain(locked)
        kept = {
            d.pk: d
            for d in DutyDoctor.objects.filter(
                pk__in=_balances_kept(locked, {line["doctor"] for line in report["lines"]})
            )
        }
        for line in report["lines"]:
            if line["doctor"] in kept:  # the balance stays; the report shows it unchanged
                doctor = kept[line["doctor"]]
                line.update(
                    balance_after=str(doctor.balance_hours),
                    balance_special_after=str(doctor.balance_special),
                    balance_kept=True,
                )
                continue
            DutyDoctor.objects.filter(pk=line["doctor"]).update(
                balance_hours=Decimal(line["balance_after"]), balance_special=Decimal(line["balance_special_after"])
            )
        locked.status, locked.published_at, locked.report = Plan.Status.PUBLISHED, timezone.now(), report
        locked.save(update_fields=["status", "published_at", "report"])
        plan.status, plan.published_at, plan.report = locked.status, locked.published_at, report
        recipients = DutyDoctor.objects.filter(duties__plan=locked).distinct().select_related("user")
        for doctor in recipients:
            count = locked.duties.filter(doctor=doctor).count()
            notify(
                doctor,
                f"Dienstplan veröffentlicht: {locked}",
                f"der Dienstplan {locked} ist veröffentlicht. Sie sind für {count} {'Dienst' if count == 1 else 'Dienste'} eingeteilt.\n\n"
                "Ihre Dienste, die Dienstbörse und Ihren Kalender-Link finden Sie unter „Dienste“:",
                link=duties_link(base_url),
            )
