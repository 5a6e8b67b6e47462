"""KV-wide planning (issue 21, "A whole KV"): KV staff start a run for a period; the task queue plans
every area of the KV at once (``duty.domain.kv.plan_kv``: cross-area doctors, "Auch einsetzbar in",
never double-booked and fair over all their areas) and makes a draft plan per area, each with the
planning record that re-creates it (``plans.recreate``). The run's row carries the progress the
staff see ("Bereich 12 von 60 geplant") and the outcome or the error in German (docs/duty.md).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Hashable
from dataclasses import replace

import ortools
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sprechzimmer.duty.domain import kv as kv_domain
from sprechzimmer.duty.domain import planner
from sprechzimmer.duty.domain.calendar import duty_slots
from sprechzimmer.duty.errors import DutyError
from sprechzimmer.duty.models import Area, Duty, DutyDoctor, KvPlanningRun, Plan
from sprechzimmer.duty.plans import PLAN_SEED, _domain_doctor, _report, plan_period_problem

log = logging.getLogger("sprechzimmer.duty")

FAILED_UNEXPECTEDLY = (
    "Die Planung ist unerwartet abgebrochen; es wurden keine Pläne angelegt. Bitte versuchen Sie es erneut "
    "oder wenden Sie sich an den Betrieb."
)


def _areas(kv) -> list[Area]:
    return list(Area.objects.filter(kv=kv).prefetch_related("duty_types").order_by("pk"))


def start_problem(kv, first: dt.date, last: dt.date, *, today: dt.date | None = None) -> str | None:
    """Why a KV-wide run for first … last cannot start (German), or None."""
    problem = plan_period_problem(first, last, today or timezone.localdate())
    if problem:
        return problem[1]
    plannable = [area for area in _areas(kv) if area.duty_types.all()]
    if not plannable:
        return "Ihre KV hat noch keinen Bereich mit Dienstarten."
    if not any(area.pk in _staffed(kv) for area in plannable):
        return "In keinem Bereich ist bisher jemand zum Dienst eingeteilt. Tragen Sie zuerst Ärztinnen und Ärzte ein."
    overlap = _overlap_problem(plannable, first, last)
    if overlap:
        return overlap
    if KvPlanningRun.objects.filter(kv=kv, status__in=[KvPlanningRun.Status.QUEUED, KvPlanningRun.Status.RUNNING]):
        return "Eine Planung der ganzen KV läuft bereits; bitte warten Sie, bis sie fertig ist."
    return None


def _staffed(kv) -> set[int]:
    """The areas of the KV where at least one active obliged doctor serves (home or extra area)."""
    doctors = DutyDoctor.objects.filter(kv=kv, kind=DutyDoctor.Kind.OBLIGED, user__is_active=True)
    home = set(doctors.exclude(area=None).values_list("area_id", flat=True))
    return home | set(doctors.values_list("extra_areas", flat=True).exclude(extra_areas=None))


def _overlap_problem(areas: list[Area], first: dt.date, last: dt.date) -> str | None:
    taken = Plan.objects.filter(area__in=areas, first__lte=last, last__gte=first).select_related("area")
    names = sorted({str(plan.area) for plan in taken})
    if names:
        return "Für diesen Zeitraum gibt es schon Pläne in: " + ", ".join(names[:5]) + (" …" if len(names) > 5 else "")
    return None


def start(kv, first: dt.date, last: dt.date, user) -> KvPlanningRun:
    """A run for the KV's period, queued for the task worker once the row is committed."""
    from sprechzimmer.jobs.tasks import plan_whole_kv

    problem = start_problem(kv, first, last)
    if problem:
        raise DutyError(problem)
    with transaction.atomic():
        run = KvPlanningRun.objects.create(kv=kv, first=first, last=last, started_by=user)
        transaction.on_commit(lambda: plan_whole_kv(run.pk))
    return run


def _inputs(
    run: KvPlanningRun,
) -> tuple[list[kv_domain.AreaInput], dict[Hashable, Hashable], dict[Hashable, tuple[Area, list]], dict, list[str]]:
    """The planner's view of the KV: per area its duties (ids ``area:type:day`` until the rows
    exist), its own obliged doctors and those who may also serve there, in that area's terms; and
    the names of the areas left out because nobody serves there yet."""
    rules_base = planner.Rules(
        work_limit=float(settings.DUTY_PLAN_WORK), time_limit=float(settings.DUTY_PLAN_SECONDS), seed=PLAN_SEED
    )
    doctors = list(
        DutyDoctor.objects.filter(kv=run.kv, kind=DutyDoctor.Kind.OBLIGED, user__is_active=True)
        .select_related("user")
        .prefetch_related("blocked_days", "extra_areas")
        .order_by("pk")
    )
    areas = []
    skipped: list[str] = []
    slots_by_area: dict[Hashable, tuple[Area, list]] = {}
    home = {d.pk: d.area_id for d in doctors if d.area_id}
    people = {d.pk: d for d in doctors}
    for area in _areas(run.kv):
        types = list(area.duty_types.all())
        if not types:
            continue
        made = [(t, slot) for t in types for slot in duty_slots(run.first, run.last, t.times())]
        duties = [planner.Duty(f"{area.pk}:{t.pk}:{slot.day.isoformat()}", str(t.pk), slot) for t, slot in made]
        serving = [d for d in doctors if d.area_id == area.pk or any(a.pk == area.pk for a in d.extra_areas.all())]
        domain_doctors = [_domain_doctor(d, types, {b.day for b in d.blocked_days.all()}) for d in serving]
        if not domain_doctors:
            # Not ready yet (a new area, nobody entered): the others are planned, the run says so.
            skipped.append(str(area))
            continue
        rules = replace(rules_base, rest_hours=area.rest_hours)
        areas.append(kv_domain.AreaInput(area.pk, tuple(duties), tuple(domain_doctors), rules))
        slots_by_area[area.pk] = (area, made)
    if not areas:
        raise DutyError(
            "In keinem Bereich ist jemand zum Dienst eingeteilt."
            if skipped
            else "Ihre KV hat noch keinen Bereich mit Dienstarten."
        )
    return areas, home, slots_by_area, people, skipped


def execute(run_id: int) -> None:
    """The task: plan the whole KV and write a draft plan per area, or record why not."""
    run = KvPlanningRun.objects.select_related("kv").get(pk=run_id)
    if run.status != KvPlanningRun.Status.QUEUED:
        return  # a task delivered twice does not plan twice
    run.status = KvPlanningRun.Status.RUNNING
    run.save(update_fields=["status"])
    try:
        areas, home, made, people, skipped = _inputs(run)
        KvPlanningRun.objects.filter(pk=run.pk).update(areas_total=len(areas))

        def progress(done: int, total: int, area_id: Hashable) -> None:
            KvPlanningRun.objects.filter(pk=run.pk).update(areas_done=done, areas_total=total)

        try:
            result = kv_domain.plan_kv(areas, home, threads=settings.DUTY_KV_THREADS, on_area=progress)
        except planner.PlanningError as error:
            raise DutyError(str(error)) from error
        plans = _write(run, result, made, people)
    except DutyError as error:
        _finish(run, KvPlanningRun.Status.FAILED, str(error))
        return
    except Exception:
        log.exception("KV-wide planning run %s failed", run.pk)
        _finish(run, KvPlanningRun.Status.FAILED, FAILED_UNEXPECTEDLY)
        return
    run.plans.set(plans)
    note = ""
    if skipped:
        note = "Nicht geplant, weil dort noch niemand zum Dienst eingeteilt ist: " + ", ".join(skipped) + "."
    _finish(run, KvPlanningRun.Status.DONE, note)


def _finish(run: KvPlanningRun, status: str, error: str) -> None:
    run.refresh_from_db(fields=["areas_done", "areas_total"])
    run.status, run.error, run.finished_at = status, error, timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])


def _write(run: KvPlanningRun, result: kv_domain.KvPlan, made: dict, people: dict) -> list[Plan]:
    """A draft plan per area with its duties, report and planning record, all or none."""
    plans = []
    with transaction.atomic():
        problem = _overlap_problem([made[area.id][0] for area in result.areas], run.first, run.last)
        if problem:
            raise DutyError(problem)  # a plan made meanwhile by hand: nothing is written
        for area_result in result.areas:
            area, slots = made[area_result.id]
            plan = Plan.objects.create(area=area, first=run.first, last=run.last)
            rows = Duty.objects.bulk_create(
                Duty.from_slot(
                    plan,
                    duty_type,
                    slot,
                    doctor_id=area_result.plan.assignment[f"{area.pk}:{duty_type.pk}:{slot.day.isoformat()}"],
                )
                for duty_type, slot in slots
            )
            pk_of = {f"{area.pk}:{row.duty_type_id}:{row.day.isoformat()}": row.pk for row in rows}
            plan.report = _report(area_result.plan, [people[d.id] for d in area_result.doctors])
            plan.planning_record = _record(run, area_result, pk_of)
            plan.save(update_fields=["report", "planning_record"])
            plans.append(plan)
    return plans


def _record(run: KvPlanningRun, area: kv_domain.AreaResult, pk_of: dict[str, int]) -> dict:
    """What re-creates the area's plan: each part's whole input (duties under their row ids) and
    assignment; the weights the area's doctors were planned with (split for cross-area doctors)."""
    parts = []
    for part in area.parts:
        duties = [replace(duty, id=pk_of[str(duty.id)]) for duty in part.duties]
        parts.append(
            {
                "input": planner.encode_input(duties, part.doctors, part.rules),
                "assignment": sorted([pk_of[str(k)], v] for k, v in part.plan.assignment.items()),
                "work": part.plan.work,
                "capped": part.plan.capped,
            }
        )
    return {
        "ortools": ortools.__version__,
        "kv_run": run.pk,
        "weights": sorted([d.id, str(d.weight)] for d in area.doctors),
        "parts": parts,
        "assignment": sorted([pk_of[str(k)], v] for k, v in area.plan.assignment.items()),
        "work": area.plan.work,
        "capped": area.plan.capped,
    }
