"""Fair automatic duty planning (Dienstplanung) with OR-Tools CP-SAT. Pure Python, no Django.

One call plans one area (Notfalldienstbereich): its duties and its obliged doctors. The model
avoids one boolean per doctor × duty with absolute hour deviations, which does not scale to a
year, and solves in two steps:

1. **Shares** (small CP-SAT model): how many duties of each *category* (duty type × weekday /
   weekend / holiday × length in minutes) each doctor gets, so that everybody's hours are as
   close as possible to the weighted target, weekends and holidays are spread the same way, and
   preferred duty types are used where that costs no fairness. A few hundred integers: optimal in
   well under a second.
2. **Dates** (CP-SAT over doctor × duty booleans, only where the doctor may serve): every duty
   covered once, those counts met exactly, nobody on a blocked day or without the qualification,
   the rest period between any two duties, never three weekends in a row, and duties spread over
   the period (at most the doctor's fair share in any 14 days); preferred weekdays as objective.
   Should the spread or the exact counts make it infeasible (many blocked days, pinned duties),
   the step is repeated without the spread, then with counts as soft targets.

**Reproducible:** the same input gives the same plan. Every search is bounded by CP-SAT's
*deterministic* time (``Rules.work_limit``, a count of work done, not of seconds passed) with a fixed
``seed``, and runs its workers interleaved in fixed batches (``interleave_search``), which makes the
result independent of the machine, its load and even of the number of workers. The wall clock
(``Rules.time_limit``) is only an outer safety cap: should it end a search (an overloaded machine),
``Plan.capped`` says so and that plan cannot be re-created. ``encode_input`` / ``decode_input``
turn the whole input into JSON that is stored with the plan (docs/duty.md, "Re-creating a plan").

**Carry-over:** each doctor brings a balance from earlier plans — hours and weekend/holiday
duties done beyond (+) or below (−) the fair share. This plan's target is the weighted share of
its hours corrected by the balance, so fairness holds over the year, not per month. Balances are
renormalised to sum to zero over the doctors of the plan (a doctor who left takes theirs along).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, NamedTuple, TypeAlias

from ortools.sat.python import cp_model

from sprechzimmer.core.money import round_to
from sprechzimmer.core.timezones import BERLIN

from .calendar import HOLIDAY, WEEKDAY, WEEKEND, DutySlot, SlotKind

MINUTE = Decimal(60)
#: Changes whenever a change of this module can give another plan for the same input: stored with
#: each plan, so that a plan is re-created with the planner (and OR-Tools version) that made it.
PLANNER_VERSION = 2

#: Duty id -> doctor id (ids are whatever the caller uses: primary keys, names in tests).
Assignment: TypeAlias = dict[Hashable, Hashable]
#: A linear expression of a CP-SAT model: a variable, a weighted sum of variables, or a constant.
Expr: TypeAlias = cp_model.LinearExpr | int
#: Whether a doctor serves a duty: a boolean model variable, or the constant 1 for a duty fixed to them.
Serves: TypeAlias = cp_model.IntVar | int
PlanStatus: TypeAlias = Literal["optimal", "feasible", "greedy"]
#: Per doctor id, (target hours, target weekend/holiday duties): ``targets``.
Goal: TypeAlias = dict[Hashable, tuple[Decimal, Decimal]]
#: Per doctor id, linear expressions of (minutes served, weekend/holiday duties, wishes met).
PerDoctor: TypeAlias = dict[Hashable, tuple[Expr, Expr, Expr]]


class Category(NamedTuple):
    """Duties that step 1 counts together: the same duty type, kind of day and length."""

    duty_type: str
    kind: SlotKind
    minutes: int


#: Step 1's result: (doctor id, category) -> how many duties of the category the doctor serves.
Counts: TypeAlias = dict[tuple[Hashable, Category], int]


@dataclass(frozen=True)
class Duty:
    """One duty to fill: a slot of the calendar in one duty type (Sitzdienst, Fahrdienst)."""

    id: Hashable
    duty_type: str
    slot: DutySlot

    @property
    def minutes(self) -> int:
        return int(self.slot.hours * MINUTE)


@dataclass(frozen=True)
class Doctor:
    """An obliged doctor of the area with the weight of their obligation (1.0, 0.75, 0.5 …)."""

    id: Hashable
    weight: Decimal = Decimal(1)
    qualified: frozenset[str] = frozenset()  # duty types; empty = all
    blocked: frozenset[dt.date] = frozenset()  # no duty starts on these days
    preferred_weekdays: frozenset[int] = frozenset()  # 0 = Monday
    preferred_types: frozenset[str] = frozenset()
    balance_hours: Decimal = Decimal(0)  # carried over: + = served more than the fair share
    balance_special: Decimal = Decimal(0)  # weekend and holiday duties, same sign

    def may_serve(self, duty: Duty) -> bool:
        return (not self.qualified or duty.duty_type in self.qualified) and duty.slot.day not in self.blocked


@dataclass(frozen=True)
class Rules:
    rest_hours: int = 24  # free hours between the end of one duty and the start of the next
    spread_days: int = 14  # window in which a doctor gets at most their fair share of duties
    #: The budget of the whole plan in CP-SAT's deterministic time (about a second of search on
    #: an ordinary core): what decides the plan, the same on every machine.
    work_limit: float = 20.0
    #: Wall-clock safety cap in seconds, an outer bound only: a search it ends makes the plan
    #: ``capped`` (not reproducible). Far above what ``work_limit`` takes on a loaded machine.
    time_limit: float = 600.0
    workers: int = 2
    seed: int = 0


@dataclass(frozen=True)
class DoctorLine:
    """The plan explained for one doctor."""

    doctor: Hashable
    weight: Decimal
    target_hours: Decimal
    assigned_hours: Decimal
    duties: int
    special_duties: int  # weekends and holidays
    target_special: Decimal
    holidays: int
    wishes_met: int
    balance_hours_before: Decimal
    balance_hours_after: Decimal
    balance_special_after: Decimal

    @property
    def deviation(self) -> Decimal:
        return self.assigned_hours - self.target_hours


@dataclass(frozen=True)
class Spread:
    max_deviation_hours: Decimal
    mean_deviation_hours: Decimal
    max_special_deviation: Decimal
    mean_special_deviation: Decimal


@dataclass
class Plan:
    assignment: Assignment
    lines: list[DoctorLine]
    spread: Spread
    status: PlanStatus
    seconds_to_first: float | None = None  # first complete feasible plan
    seconds: float = 0.0
    relaxed: list[str] = field(default_factory=list)  # rules given up to find a plan, in German
    work: float = 0.0  # deterministic time used
    capped: bool = False  # the wall-clock cap ended a search: this plan may not be re-created


class _Budget:
    """What the searches of one plan may spend: deterministic time (which decides the plan) and
    the wall-clock cap (which only guards the machine). Each solve is given its share of both."""

    def __init__(self, rules: Rules):
        self.left = rules.work_limit
        self.least = min(0.5, rules.work_limit * MIN_SHARE)
        self.deadline = time.perf_counter() + rules.time_limit
        self.workers, self.seed = rules.workers, rules.seed
        self.capped = False

    def solver(self, work: float) -> cp_model.CpSolver:
        solver = cp_model.CpSolver()
        solver.parameters.max_deterministic_time = max(0.01, work)
        solver.parameters.max_time_in_seconds = max(0.01, self.deadline - time.perf_counter())
        solver.parameters.num_workers = self.workers
        # Workers interleaved in fixed batches: deterministic, whatever the number of cores. A
        # batch of one task keeps the search within its budget (larger batches overran a budget of
        # 0.75 units by a factor of 2 to 4, which made small plans slow).
        solver.parameters.interleave_search = True
        solver.parameters.interleave_batch_size = 1
        solver.parameters.random_seed = self.seed
        return solver

    def spent(self, solver: cp_model.CpSolver, status: cp_model.CpSolverStatus) -> None:
        self.left -= solver.deterministic_time
        # Capped: the wall clock, not the deterministic budget, ended an unfinished search.
        budget = solver.parameters.max_deterministic_time
        if status != cp_model.OPTIMAL and solver.deterministic_time < budget and time.perf_counter() >= self.deadline:
            self.capped = True


#: Plans with at most this many (doctor, duty) pairs may be solved in one model (a few weeks of an
#: area) when the two steps do not fit together.
DIRECT_LIMIT = 3000
#: The least share of the budget a search step gets, even when earlier steps used it up (at most
#: half a unit of deterministic time).
MIN_SHARE = 0.25


class PlanningError(Exception):
    """No plan satisfies the hard rules (German message for the staff)."""


#: The wall-clock safety cap ended the search before any plan was found (not a verdict on the rules).
CAPPED = (
    "Die Berechnung wurde durch die Zeitgrenze des Servers abgebrochen, bevor ein Plan gefunden war "
    "(der Server ist ausgelastet). Bitte versuchen Sie es später erneut."
)


#: What ``encode_input`` stores: JSON, ids as the caller gives them (ints or strings).
Json: TypeAlias = dict[str, Any]


def encode_input(
    duties: Iterable[Duty],
    doctors: Iterable[Doctor],
    rules: Rules,
    fixed: Assignment | None = None,
    previous: Assignment | None = None,
) -> Json:
    """The whole input of ``plan`` as JSON, to be stored with the plan: ``decode_input`` of it and
    the same planner version give the same plan again."""
    return {
        "planner": PLANNER_VERSION,
        "rules": {
            "rest_hours": rules.rest_hours,
            "spread_days": rules.spread_days,
            "work_limit": rules.work_limit,
            "time_limit": rules.time_limit,
            "workers": rules.workers,
            "seed": rules.seed,
        },
        "duties": [
            [d.id, d.duty_type, d.slot.day.isoformat(), d.slot.start.isoformat(), d.slot.end.isoformat(), d.slot.kind]
            + [d.slot.holiday]
            for d in duties
        ],
        "doctors": [
            [
                d.id,
                str(d.weight),
                sorted(d.qualified),
                sorted(day.isoformat() for day in d.blocked),
                sorted(d.preferred_weekdays),
                sorted(d.preferred_types),
                str(d.balance_hours),
                str(d.balance_special),
            ]
            for d in doctors
        ],
        "fixed": [[duty, doctor] for duty, doctor in (fixed or {}).items()],
        "previous": [[duty, doctor] for duty, doctor in (previous or {}).items()],
    }


def decode_input(data: Json) -> tuple[list[Duty], list[Doctor], Rules, Assignment, Assignment]:
    """``encode_input`` undone: (duties, doctors, rules, fixed, previous) for ``plan``."""
    duties = [
        Duty(
            duty_id,
            duty_type,
            DutySlot(
                dt.date.fromisoformat(day),
                dt.datetime.fromisoformat(start).astimezone(BERLIN),
                dt.datetime.fromisoformat(end).astimezone(BERLIN),
                kind,
                holiday,
            ),
        )
        for duty_id, duty_type, day, start, end, kind, holiday in data["duties"]
    ]
    doctors = [
        Doctor(
            doctor_id,
            Decimal(weight),
            frozenset(qualified),
            frozenset(dt.date.fromisoformat(day) for day in blocked),
            frozenset(weekdays),
            frozenset(types),
            Decimal(balance_hours),
            Decimal(balance_special),
        )
        for doctor_id, weight, qualified, blocked, weekdays, types, balance_hours, balance_special in data["doctors"]
    ]
    rules = Rules(**data["rules"])
    return duties, doctors, rules, dict(map(tuple, data["fixed"])), dict(map(tuple, data["previous"]))


def _q(value: Decimal, places: str = "0.01") -> Decimal:
    return round_to(value, Decimal(places))


def targets(duties: list[Duty], doctors: list[Doctor]) -> Goal:
    """Per doctor (target hours, target weekend/holiday duties) of this plan, balances applied."""
    total_weight = sum((d.weight for d in doctors), Decimal(0))
    if total_weight <= 0:
        raise PlanningError("Die Summe der Gewichte der Ärztinnen und Ärzte muss größer als 0 sein.")
    hours = sum((duty.slot.hours for duty in duties), Decimal(0))
    special = Decimal(sum(1 for duty in duties if duty.slot.special))
    carried_hours = sum((d.balance_hours for d in doctors), Decimal(0))
    carried_special = sum((d.balance_special for d in doctors), Decimal(0))
    result = {}
    for d in doctors:
        share = d.weight / total_weight
        result[d.id] = (
            (hours + carried_hours) * share - d.balance_hours,
            (special + carried_special) * share - d.balance_special,
        )
    return result


def explain(duties: list[Duty], doctors: list[Doctor], assignment: Assignment) -> tuple[list[DoctorLine], Spread]:
    """Target vs. assigned hours, weekend/holiday counts and the balance carried forward."""
    goal = targets(duties, doctors)
    by_doctor: dict[Hashable, list[Duty]] = defaultdict(list)
    for duty in duties:
        if duty.id in assignment:
            by_doctor[assignment[duty.id]].append(duty)
    lines = []
    for d in doctors:
        mine = by_doctor.get(d.id, [])
        target_hours, target_special = goal[d.id]
        assigned = sum((duty.slot.hours for duty in mine), Decimal(0))
        special = sum(1 for duty in mine if duty.slot.special)
        lines.append(
            DoctorLine(
                doctor=d.id,
                weight=d.weight,
                target_hours=_q(target_hours),
                assigned_hours=assigned,
                duties=len(mine),
                special_duties=special,
                target_special=_q(target_special),
                holidays=sum(1 for duty in mine if duty.slot.kind == HOLIDAY),
                wishes_met=sum(1 for duty in mine if _wished(d, duty)),
                balance_hours_before=d.balance_hours,
                balance_hours_after=_q(assigned - target_hours),
                balance_special_after=_q(special - target_special),
            )
        )
    count = Decimal(len(lines) or 1)
    deviations = [abs(line.deviation) for line in lines] or [Decimal(0)]
    special_dev = [abs(line.special_duties - line.target_special) for line in lines] or [Decimal(0)]
    spread = Spread(max(deviations), _q(sum(deviations) / count), max(special_dev), _q(sum(special_dev) / count))
    return lines, spread


def _wished(doctor: Doctor, duty: Duty) -> bool:
    return duty.slot.day.weekday() in doctor.preferred_weekdays or duty.duty_type in doctor.preferred_types


def _category(duty: Duty) -> Category:
    return Category(duty.duty_type, duty.slot.kind, duty.minutes)


def _conflict(a: Duty, b: Duty, rest: dt.timedelta) -> bool:
    """The same doctor cannot serve both: they overlap or leave less than the rest period."""
    first, second = (a, b) if a.slot.start <= b.slot.start else (b, a)
    return second.slot.start < first.slot.end + rest


def _weekend_key(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday() - 5) if day.weekday() >= 5 else day


class _Progress(cp_model.CpSolverSolutionCallback):
    """Remembers when the first and the latest improving solution came."""

    def __init__(self, started: float):
        super().__init__()
        self.started = started
        self.first: float | None = None
        self.last: float | None = None

    def on_solution_callback(self) -> None:
        now = time.perf_counter()
        if self.first is None:
            self.first = now - self.started
        self.last = now


def plan(
    duties: Iterable[Duty],
    doctors: Iterable[Doctor],
    rules: Rules | None = None,
    fixed: Assignment | None = None,
    previous: Assignment | None = None,
) -> Plan:
    """Assign every duty to a doctor. ``fixed`` (duty id -> doctor id) are manual decisions of the
    staff: kept as they are, and counted towards the doctors' hours. ``previous`` (duty id ->
    doctor id) is the plan being re-planned: among equally fair plans the one that changes fewest of
    its duties wins, and the search starts from it."""
    rules = rules or Rules()
    started = time.perf_counter()
    budget = _Budget(rules)
    # A fixed order of everything that enters the model: the same input in another order (rows
    # from the database) builds the same model, and so gives the same plan.
    duties = sorted(duties, key=lambda d: (d.slot.start, str(d.duty_type), str(d.id)))
    doctors = sorted(doctors, key=lambda d: str(d.id))
    fixed = dict(sorted((fixed or {}).items(), key=lambda item: str(item[0])))
    known = {d.id for d in doctors}
    previous = {
        duty_id: doctor_id
        for duty_id, doctor_id in sorted((previous or {}).items(), key=lambda item: str(item[0]))
        if doctor_id in known and duty_id not in fixed
    }
    for duty_id, doctor_id in fixed.items():
        if doctor_id not in known:
            raise PlanningError(f"Der fest eingetragene Dienst {duty_id} gehört zu niemandem dieses Bereichs.")
    if not duties:
        lines, spread = explain(duties, doctors, {})
        return Plan({}, lines, spread, "optimal", 0.0, 0.0)
    if not doctors:
        raise PlanningError("In diesem Bereich ist niemand zum Dienst eingeteilt.")
    uncovered = [duty for duty in duties if duty.id not in fixed and not any(d.may_serve(duty) for d in doctors)]
    if uncovered:
        duty = uncovered[0]
        raise PlanningError(
            f"Den Dienst am {duty.slot.day:%d.%m.%Y} ({duty.duty_type}) kann niemand übernehmen: "
            "alle sind gesperrt oder nicht dafür qualifiziert."
        )

    # Two steps: counts per duty category first (fair by construction), then the dates. When the
    # dates cannot meet the counts (rest periods in a short, tight plan), a small plan is solved in
    # one model (a boolean per doctor and duty, fairness as the objective); a large one keeps the
    # counts as a guide and the hours fair directly (docs/duty.md).
    try:
        counts = _shares(duties, doctors, fixed, budget, work=min(rules.work_limit * 0.15, 3.0), previous=previous)
    except PlanningError:
        if time.perf_counter() >= budget.deadline:
            raise PlanningError(CAPPED) from None
        raise
    attempts: list[tuple[Counts | None, bool, bool]] = [(counts, True, True), (counts, False, True)]
    pairs = sum(1 for duty in duties if duty.id not in fixed for d in doctors if d.may_serve(duty))
    if pairs <= DIRECT_LIMIT:
        attempts += [(None, True, True), (None, False, True)]
    else:
        attempts.append((counts, False, False))
    for guide, spread_rule, exact in attempts:
        if time.perf_counter() >= budget.deadline:
            budget.capped = True
            break
        attempt_started = time.perf_counter()
        # With the spread rule the search gets half of what is left, so that a plan without it
        # still has time when the spread cannot be had. Every variant gets at least a little: a
        # search may overrun its share (CP-SAT stops between tasks), and a plan is still due.
        work = max(budget.least, budget.left / 2 if spread_rule else budget.left)
        solved = _dates(duties, doctors, fixed, guide, rules, spread_rule, exact, budget, work, previous)
        if solved is not None:
            assignment, status, first = solved
            lines, spread = explain(duties, doctors, assignment)
            relaxed = ([] if spread_rule else ["gleichmäßige Verteilung über den Zeitraum"]) + (
                [] if exact else ["exakte Dienstanzahl je Art"]
            )
            return Plan(
                assignment,
                lines,
                spread,
                status,
                (attempt_started - started) + first if first is not None else None,
                time.perf_counter() - started,
                relaxed,
                round(rules.work_limit - budget.left, 3),
                budget.capped,
            )
    if budget.capped:
        raise PlanningError(CAPPED)
    raise PlanningError(
        "Es wurde kein Plan gefunden, der alle festen Regeln einhält (Sperrtage, Ruhezeit, "
        "Qualifikation). Bitte prüfen Sie Sperrtage und fest eingetragene Dienste."
    )


def _shares(
    duties: list[Duty],
    doctors: list[Doctor],
    fixed: Assignment,
    budget: _Budget,
    work: float,
    previous: Assignment | None = None,
) -> Counts:
    """Step 1: duties per doctor and category. The search starts from the previous plan's counts
    when it covers every open duty, else from a greedy apportionment."""
    goal = targets(duties, doctors)
    open_duties = [duty for duty in duties if duty.id not in fixed]
    per_category: dict[Category, list[Duty]] = defaultdict(list)
    for duty in open_duties:
        per_category[_category(duty)].append(duty)
    fixed_minutes: dict[Hashable, int] = defaultdict(int)
    fixed_special: dict[Hashable, int] = defaultdict(int)
    by_id = {duty.id: duty for duty in duties}
    for duty_id, doctor_id in fixed.items():
        if duty_id in by_id:
            fixed_minutes[doctor_id] += by_id[duty_id].minutes
            fixed_special[doctor_id] += by_id[duty_id].slot.special

    model = cp_model.CpModel()
    n: dict[tuple[Hashable, Category], cp_model.IntVar] = {}
    for category, members in per_category.items():
        for d in doctors:
            available = sum(1 for duty in members if d.may_serve(duty))
            if available:
                n[d.id, category] = model.new_int_var(0, available, "")
        model.add(sum(n[d.id, category] for d in doctors if (d.id, category) in n) == len(members))
    per_doctor: PerDoctor = {}
    for d in doctors:
        mine = [(category, var) for (doctor_id, category), var in n.items() if doctor_id == d.id]
        per_doctor[d.id] = (
            fixed_minutes[d.id] + sum(var * category.minutes for category, var in mine),
            fixed_special[d.id] + sum(var for category, var in mine if category.kind != WEEKDAY),
            sum(
                var
                for category, var in mine
                if category.duty_type in d.preferred_types or _mostly_on(per_category[category], d.preferred_weekdays)
            ),
        )
    unfairness = _unfairness(model, duties, doctors, goal, per_doctor)
    if previous and all(duty.id in previous for duty in open_duties):
        start: Counts = defaultdict(int)
        for category, members in per_category.items():
            for duty in members:
                start[previous[duty.id], category] += 1
        # Re-planning: of equally fair counts, those closest to the previous plan's (the distance
        # is at most twice the open duties, so scaled below a single minute of unfairness).
        distance = []
        for key, var in n.items():
            gap = model.new_int_var(0, len(open_duties), "")
            model.add(gap >= var - start.get(key, 0))
            model.add(gap >= start.get(key, 0) - var)
            distance.append(gap)
        model.minimize((2 * len(open_duties) + 1) * unfairness + sum(distance))
    else:
        model.minimize(unfairness)
        start = _greedy_shares(per_category, doctors, goal, fixed_minutes, fixed_special)
    for key, var in n.items():
        model.add_hint(var, start.get(key, 0))
    # CP-SAT's portfolio does not always start from the hint within a short budget: keep the
    # start (previous or greedy) when the search ends worse than it.
    best_value: float | None = None
    best: Counts | None = None
    for fix_to_hint in (True, False):
        solver = budget.solver(work)
        solver.parameters.fix_variables_to_their_hinted_value = fix_to_hint
        status = solver.solve(model)
        budget.spent(solver, status)
        work = max(budget.least, work - solver.deterministic_time)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) and (
            best_value is None or solver.objective_value < best_value
        ):
            best_value, best = solver.objective_value, {key: solver.value(var) for key, var in n.items()}
    if best is None:
        raise PlanningError("Die Dienste lassen sich nicht auf die Qualifizierten verteilen.")
    return best


def _unfairness(
    model: cp_model.CpModel, duties: list[Duty], doctors: list[Doctor], goal: Goal, per_doctor: PerDoctor
) -> Expr:
    """What a plan is minimised by: the largest and every doctor's distance from their target hours
    (minutes) and weekend/holiday duties (hundredths), less the wishes met. ``per_doctor`` maps a
    doctor id to linear expressions of (minutes, special duties, wishes met)."""
    total_minutes = sum(duty.minutes for duty in duties)
    max_dev = model.new_int_var(0, total_minutes, "max_dev")
    max_special_dev = model.new_int_var(0, 100 * len(duties), "max_special_dev")
    objective: list[Expr] = []
    for d in doctors:
        minutes, special, wished = per_doctor[d.id]
        target_minutes, target_special = goal[d.id]
        dev = model.new_int_var(0, total_minutes * 2, "")
        target = int(_q(target_minutes * MINUTE, "1"))
        model.add(dev >= minutes - target)
        model.add(dev >= target - minutes)
        model.add(max_dev >= dev)
        special_dev = model.new_int_var(0, 100 * len(duties) * 2, "")
        special_target = int(_q(target_special * 100, "1"))
        model.add(special_dev >= 100 * special - special_target)
        model.add(special_dev >= special_target - 100 * special)
        model.add(max_special_dev >= special_dev)
        # A special duty off target weighs like a day's hours; hours beat wishes.
        objective += [dev, 14 * special_dev, -30 * wished]
    return 5 * max_dev + 5 * 14 * max_special_dev + sum(objective)


def _mostly_on(members: list[Duty], weekdays: frozenset[int]) -> bool:
    """Wednesday and Friday duties have categories of their own (other hours), so a wish for
    those weekdays can already be honoured in step 1."""
    return bool(weekdays) and 2 * sum(1 for duty in members if duty.slot.day.weekday() in weekdays) > len(members)


def _greedy_shares(
    per_category: dict[Category, list[Duty]],
    doctors: list[Doctor],
    goal: Goal,
    fixed_minutes: dict[Hashable, int],
    fixed_special: dict[Hashable, int],
) -> Counts:
    """A good start for step 1: weekends and holidays first, then the duty types few may serve,
    longest duties first; each to whoever may serve and is furthest below their target."""
    hours_left = {d.id: goal[d.id][0] * MINUTE - fixed_minutes[d.id] for d in doctors}
    special_left = {d.id: goal[d.id][1] - fixed_special[d.id] for d in doctors}
    counts: Counts = defaultdict(int)
    # Duty types few may serve go first, so the others' hours are left for the rest.
    eligible = {c: sum(1 for d in doctors if d.may_serve(per_category[c][0])) for c in per_category}
    order = sorted(per_category, key=lambda c: (c.kind == WEEKDAY, eligible[c], -c.minutes))
    for category in order:
        special = category.kind != WEEKDAY
        for duty in per_category[category]:
            options = [d for d in doctors if d.may_serve(duty)]
            best = max(
                options, key=lambda d: (special_left[d.id], hours_left[d.id]) if special else (hours_left[d.id],)
            )
            counts[best.id, category] += 1
            hours_left[best.id] -= category.minutes
            special_left[best.id] -= special
    return counts


def _dates(
    duties: list[Duty],
    doctors: list[Doctor],
    fixed: Assignment,
    counts: Counts | None,
    rules: Rules,
    spread_rule: bool,
    exact: bool,
    budget: _Budget,
    work: float,
    previous: Assignment | None = None,
) -> tuple[Assignment, PlanStatus, float | None] | None:
    """Step 2: which duty each doctor serves. None when this variant is infeasible or unsolved.
    With ``counts`` None, the only step: the duties per doctor are free and the objective is the
    fairness of step 1 (``_unfairness``) on the booleans themselves. With a ``previous`` plan, the
    duties it keeps break ties (scaled so that they never outweigh anything else) and hint the search."""
    goal = targets(duties, doctors)
    rest = dt.timedelta(hours=rules.rest_hours)
    model = cp_model.CpModel()
    x: dict[tuple[Hashable, int], Serves] = {}  # (doctor id, duty index) -> bool var or 1 for fixed
    doctor_by_id = {d.id: d for d in doctors}
    for i, duty in enumerate(duties):
        if duty.id in fixed:
            x[fixed[duty.id], i] = 1
            continue
        options = [d for d in doctors if d.may_serve(duty)]
        for d in options:
            x[d.id, i] = model.new_bool_var("")
        model.add_exactly_one(x[d.id, i] for d in options)

    starts = [duty.slot.start for duty in duties]
    shortest = min(duty.slot.end - duty.slot.start for duty in duties)
    days = max(1, (duties[-1].slot.day - duties[0].slot.day).days + 1)
    penalties: list[Expr] = []
    objective: list[Expr] = []
    per_doctor: PerDoctor = {}
    mean_minutes = Decimal(sum(duty.minutes for duty in duties)) / len(duties)
    for d in doctors:
        mine = [i for i in range(len(duties)) if (d.id, i) in x]
        variables = [x[d.id, i] for i in mine]
        doctor = doctor_by_id[d.id]
        if counts is None:
            per_doctor[d.id] = (
                sum(duties[i].minutes * v for i, v in zip(mine, variables, strict=True)),
                sum(v for i, v in zip(mine, variables, strict=True) if duties[i].slot.special),
                sum(
                    v
                    for i, v in zip(mine, variables, strict=True)
                    if duties[i].id not in fixed and _wished(doctor, duties[i])
                ),
            )
        if not mine:
            continue
        # Rest period: every pair closer than (shortest duty + rest) conflicts with all others of
        # its window, so one at-most-one per window; longer duties add single pairs.
        for position, i in enumerate(mine):
            window = [i]
            for j in mine[position + 1 :]:
                if starts[j] >= starts[i] + shortest + rest:
                    if starts[j] >= duties[i].slot.end + rest:
                        break
                    _forbid_pair(model, x[d.id, i], x[d.id, j])
                else:
                    window.append(j)
            if len(window) > 1:
                _at_most_one(model, [x[d.id, k] for k in window])
        # Never three weekends in a row.
        weekends: dict[dt.date, list[Serves]] = defaultdict(list)
        for i in mine:
            if duties[i].slot.kind == WEEKEND:
                weekends[_weekend_key(duties[i].slot.day)].append(x[d.id, i])
        for saturday in weekends:
            run = [weekends.get(saturday + dt.timedelta(weeks=k), []) for k in range(3)]
            if all(run):
                _at_most(model, [v for week in run for v in week], 2)
        # Counts per category from step 1.
        by_category: dict[Category, list[Serves]] = defaultdict(list)
        for i in mine:
            if duties[i].id not in fixed:
                by_category[_category(duties[i])].append(x[d.id, i])
        if counts is not None:
            for category, members in by_category.items():
                wanted = counts.get((d.id, category), 0)
                if exact:
                    model.add(sum(members) == wanted)
                else:
                    over = model.new_int_var(0, len(members), "")
                    under = model.new_int_var(0, wanted, "")
                    model.add(sum(members) + under - over == wanted)
                    penalties += [100 * over, 100 * under]
        if not exact:
            # Counts are only a guide now; keep the hours fair directly (the slow model, but
            # started from step 1's counts and only needed when those cannot be met).
            minutes = sum(v * duties[i].minutes for i, v in zip(mine, variables, strict=True))
            target = int(_q(goal[d.id][0] * MINUTE, "1"))
            dev = model.new_int_var(0, 2 * sum(duty.minutes for duty in duties), "")
            model.add(dev >= minutes - target)
            model.add(dev >= target - minutes)
            penalties.append(10 * dev)
        # Spread: in any window of spread_days, at most the fair share (rounded up) of duties.
        if counts is None:  # the share of a duty of average length
            total = max(0, math.ceil(goal[d.id][0] * MINUTE / mean_minutes))
        else:
            total = sum(counts.get((d.id, c), 0) for c in by_category) + sum(
                1 for duty_id, doctor_id in fixed.items() if doctor_id == d.id
            )
        if spread_rule and total:
            limit = max(1, -(-total * rules.spread_days // days))
            if limit < total:
                first_day = duties[0].slot.day
                step = max(1, rules.spread_days // 2)
                for offset in range(0, days, step):
                    lo = first_day + dt.timedelta(days=offset)
                    hi = lo + dt.timedelta(days=rules.spread_days)
                    in_window = [x[d.id, i] for i in mine if lo <= duties[i].slot.day < hi]
                    if len(in_window) > limit:
                        _at_most(model, in_window, limit)
        if doctor.preferred_weekdays:
            objective += [
                v
                for i, v in zip(mine, variables, strict=True)
                if duties[i].slot.day.weekday() in doctor.preferred_weekdays and duties[i].id not in fixed
            ]
    # Constants (fixed duties) in the rest windows above can make a variable forced to 0; fine.
    kept: list[cp_model.IntVar] = []
    if previous:
        for (doctor_id, i), var in x.items():
            if not isinstance(var, int):
                was = previous.get(duties[i].id) == doctor_id
                model.add_hint(var, was)
                if was:
                    kept.append(var)
    scale = len(kept) + 1  # the kept duties only decide between otherwise equal plans
    if counts is None:
        model.minimize(scale * _unfairness(model, duties, doctors, goal, per_doctor) - sum(kept))
    else:
        model.maximize(scale * (sum(objective) - sum(penalties)) + sum(kept))
    solver = budget.solver(work)
    callback = _Progress(time.perf_counter())
    status = solver.solve(model, callback)
    budget.spent(solver, status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    assignment: Assignment = {}
    for (doctor_id, i), var in x.items():
        if isinstance(var, int) or solver.value(var):
            assignment[duties[i].id] = doctor_id
    return assignment, "optimal" if status == cp_model.OPTIMAL else "feasible", callback.first


def _forbid_pair(model: cp_model.CpModel, a: Serves, b: Serves) -> None:
    if isinstance(a, int) and isinstance(b, int):
        return  # two fixed duties: the staff decided so, the plan shows the conflict
    if isinstance(a, int):
        model.add(b == 0)
    elif isinstance(b, int):
        model.add(a == 0)
    else:
        model.add_bool_or([a.negated(), b.negated()])


def _at_most_one(model: cp_model.CpModel, items: list[Serves]) -> None:
    constants = sum(1 for v in items if isinstance(v, int))
    variables = [v for v in items if not isinstance(v, int)]
    if constants:
        for v in variables:
            model.add(v == 0)
    elif len(variables) > 1:
        model.add_at_most_one(variables)


def _at_most(model: cp_model.CpModel, items: list[Serves], limit: int) -> None:
    constants = sum(1 for v in items if isinstance(v, int))
    variables = [v for v in items if not isinstance(v, int)]
    if variables:
        model.add(sum(variables) <= max(0, limit - constants))


def greedy_round_robin(duties: Iterable[Duty], doctors: Iterable[Doctor], rules: Rules | None = None) -> Plan:
    """The baseline: duties in time order, each to the next doctor in turn who may serve and has
    had the rest period; weights and wishes ignored (how plans are often made by hand)."""
    rules = rules or Rules()
    started = time.perf_counter()
    duties = sorted(duties, key=lambda d: (d.slot.start, str(d.duty_type), str(d.id)))
    doctors = list(doctors)
    rest = dt.timedelta(hours=rules.rest_hours)
    free_from: dict[Hashable, dt.datetime] = {}
    assignment = {}
    turn = 0
    for duty in duties:
        for step in range(len(doctors)):
            d = doctors[(turn + step) % len(doctors)]
            if d.may_serve(duty) and (d.id not in free_from or duty.slot.start >= free_from[d.id]):
                assignment[duty.id] = d.id
                free_from[d.id] = duty.slot.end + rest
                turn = (turn + step + 1) % len(doctors)
                break
    lines, spread = explain(duties, doctors, assignment)
    seconds = time.perf_counter() - started
    return Plan(assignment, lines, spread, "greedy", seconds, seconds)


__all__ = [
    "Doctor",
    "DoctorLine",
    "Duty",
    "HOLIDAY",
    "PLANNER_VERSION",
    "Plan",
    "PlanningError",
    "Rules",
    "Spread",
    "WEEKDAY",
    "WEEKEND",
    "decode_input",
    "encode_input",
    "explain",
    "greedy_round_robin",
    "plan",
    "targets",
]
