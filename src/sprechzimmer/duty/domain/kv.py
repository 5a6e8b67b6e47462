"""Planning a whole KV: every area, with doctors who may serve in several areas. Pure Python, no Django.

``planner.plan`` plans one area. A KV has some 60 of them, and some doctors may be planned in more
than one: obliged doctors registered as **NFD-Z** for areas beside their own (seed 004: "Sofern Sie
zusätzlich Dienste außerhalb Ihres eigenen Notfalldienstbereiches übernehmen möchten, können Sie
sich als NFD-Z-Arzt bei uns registrieren lassen"). Such a doctor must never be double-booked across
areas, and their fairness counts over all their areas. ``plan_kv`` does it by decomposition:

1. **Coupling** (``split_weights``): each cross-area doctor's weight is divided among the areas
   they may serve in (hundredths of a weight unit), so that every area's weight comes as close as
   possible to its share of the KV's hours (the same hours per unit of weight everywhere; largest
   gap first, then the sum); of equally close splits, the one that leaves most weight at home. A few
   hundred integers, CP-SAT, deterministic. A doctor's fair share over the KV is the sum of their
   shares in their areas, about one full share for their weight: serving in two areas halves the
   load in each, it does not double it.
2. **A fixed order of parts.** Areas that share a doctor are coloured differently (greedy colouring
   by id, ``colour_order``); the areas are planned by colour, then id, and each area's period in
   parts of ``chunk_days`` (a quarter) in time order. Each part is one ``planner.plan`` call with
   the area's doctors at their (split) weight, and for every doctor
   - every day on which a duty of the part would overlap a duty they already serve in an earlier
     part (of this area or another), or leave less than the rest period (the longer of both areas'),
     is a blocked day: no double booking, and the rest period holds across areas and parts;
   - their balance is the one their previous part left them with (``balance_hours_after``, which
     includes the balance they came with): hours served beyond or below their share there are carried
     into this part's target, so their deviation over all parts and areas is that of their last part,
     and its ``balance_after`` is their balance over the whole KV and period.

**Why this is correct**: every part satisfies all hard rules of its area (``planner.plan``), and the
blocked days make every later duty of a doctor compatible with all their earlier ones; every pair of
a doctor's duties lies in parts planned one after the other, so the later part checked it
(``double_bookings`` verifies the whole plan; the tests do). **What it gives up**: an earlier part
cannot take into account what a later part will need from a shared doctor (the order decides who
moves first; the carry-over evens out hours, not dates); blocked days are whole days (a duty type of
a later area starting late enough on an otherwise conflicting day is not offered); "never three
weekends in a row" and the 14-day spread hold within a part of one area, not across parts or areas; and
the optimum of one model over the KV and the year, which would not be solved in minutes (a year of
100 doctors in one area already takes CP-SAT longer than its budget; a quarter is optimal in seconds).

**Reproducible**: the split and every part are solved with deterministic limits and fixed seeds
(each part gets the area's ``work_limit`` in proportion to its duties), everything is sorted before
it enters a model, and a part's input depends only on the results of the parts before it that share
a doctor with it. Parts that share none are independent, so with ``threads`` > 1 they are solved
side by side: the same plans as one after another, sooner. Threads, not processes: CP-SAT lets go of
the GIL while it solves (most of a part's time), and the task worker's processes are daemonic, which
may not start processes of their own (a process pool failed every run there). Each part's derived
input (blocked days, split weight, carried balance) is an ordinary ``planner.plan`` input and is
re-created on its own (``encode_input``).
"""

from __future__ import annotations

import bisect
import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from decimal import Decimal

from ortools.sat.python import cp_model

from .planner import (
    Doctor,
    Duty,
    Plan,
    PlanningError,
    PlanStatus,
    Rules,
    _conflict,
    explain,
    greedy_round_robin,
    plan,
    targets,
)

#: Weights are split in hundredths (the model field has two decimal places).
HUNDRED = 100
#: Deterministic budget of the coupling model (it is small: optimal far sooner).
SPLIT_WORK = 5.0


@dataclass(frozen=True)
class AreaInput:
    """One area of the KV: its duties, the rules of its plan, and everyone who may serve there.

    ``doctors`` holds the area's own obliged doctors and the cross-area doctors who may also serve
    here, each as a ``planner.Doctor`` in this area's terms (qualifications name this area's duty
    types). A doctor appears with the same id and weight in every area they may serve in."""

    id: Hashable
    duties: tuple[Duty, ...]
    doctors: tuple[Doctor, ...]
    rules: Rules = Rules()


@dataclass
class Part:
    """One planned part of an area's period (``chunk_days`` long) and the exact input it was planned
    from, with blocked days, split weights and carried balances derived: ``planner.encode_input`` of
    ``duties``, ``doctors`` and ``rules`` re-creates ``plan`` on its own."""

    duties: list[Duty]
    doctors: list[Doctor]
    rules: Rules
    plan: Plan


@dataclass
class AreaResult:
    """An area's plan over the whole period: the parts' assignments together, explained against the
    area's doctors at their split weights and with the balances they came with."""

    id: Hashable
    duties: list[Duty]
    doctors: list[Doctor]
    rules: Rules
    plan: Plan
    parts: list[Part]


@dataclass
class KvPlan:
    areas: list[AreaResult]
    split: dict[tuple[Hashable, Hashable], Decimal]  # (doctor id, area id) -> weight planned there
    cross: frozenset[Hashable]  # doctors planned in more than one area
    order: list[Hashable]  # the areas in the order they are planned (colour, then id)
    seconds: float = 0.0
    seconds_to_first: float = 0.0  # sum over all parts of the time to their first feasible plan
    work: float = 0.0
    relaxed: dict[Hashable, list[str]] = field(default_factory=dict)

    @property
    def assignment(self) -> dict[Hashable, Hashable]:
        return {duty: doctor for area in self.areas for duty, doctor in area.plan.assignment.items()}


#: Called after each area is complete with (areas done, areas in all, id of the area).
Progress = Callable[[int, int, Hashable], None]


def _order(areas: Iterable[AreaInput]) -> list[AreaInput]:
    return sorted(areas, key=lambda a: str(a.id))


def _hours(area: AreaInput) -> Decimal:
    return sum((duty.slot.hours for duty in area.duties), Decimal(0))


def split_weights(
    areas: list[AreaInput], home: Mapping[Hashable, Hashable], rules: Rules | None = None
) -> dict[tuple[Hashable, Hashable], Decimal]:
    """Step 1: each doctor's weight per area. Doctors of one area keep their weight there; the
    weight of a doctor who may serve in several areas is divided among them so that each area's
    weight comes as close as possible to its share of the KV's hours (largest gap first, then the
    sum of the gaps), and of equally close splits the one that moves the least weight from home."""
    rules = rules or Rules()
    areas = _order(areas)
    where: dict[Hashable, list[Hashable]] = defaultdict(list)
    weight: dict[Hashable, Decimal] = {}
    for area in areas:
        for d in sorted(area.doctors, key=lambda d: str(d.id)):
            if d.id in weight and weight[d.id] != d.weight:
                raise PlanningError(f"{d.id} hat in verschiedenen Bereichen verschiedene Gewichte.")
            weight[d.id] = d.weight
            where[d.id].append(area.id)
    result: dict[tuple[Hashable, Hashable], Decimal] = {}
    cross = sorted((d for d, places in where.items() if len(places) > 1), key=str)
    for doctor_id, places in where.items():
        if len(places) == 1:
            result[doctor_id, places[0]] = weight[doctor_id]
    if not cross:
        return result
    hours = {area.id: int(_hours(area)) for area in areas}
    total_hours = sum(hours.values()) or 1
    total_weight = sum(int(w * HUNDRED) for w in weight.values())
    fixed_weight: dict[Hashable, int] = defaultdict(int)
    for (_doctor, area_id), w in result.items():
        fixed_weight[area_id] += int(w * HUNDRED)
    model = cp_model.CpModel()
    share: dict[tuple[Hashable, Hashable], cp_model.IntVar] = {}
    away: list[cp_model.IntVar] = []
    for doctor_id in cross:
        units = int(weight[doctor_id] * HUNDRED)
        mine = []
        for area_id in where[doctor_id]:
            var = model.new_int_var(0, units, "")
            share[doctor_id, area_id] = var
            mine.append(var)
            if area_id != home.get(doctor_id, where[doctor_id][0]):
                away.append(var)
        model.add(sum(mine) == units)
    per_area: dict[Hashable, list[cp_model.IntVar]] = defaultdict(list)
    for (_doctor, area_id), var in share.items():
        per_area[area_id].append(var)
    largest = model.new_int_var(0, total_weight, "largest")
    gaps = []
    for area in areas:
        # The area's share of the KV's weight by its share of the hours, in hundredths.
        want = round(hours[area.id] * total_weight / total_hours)
        gap = model.new_int_var(0, total_weight, "")
        have = fixed_weight[area.id] + sum(per_area[area.id])
        model.add(gap >= have - want)
        model.add(gap >= want - have)
        model.add(largest >= gap)
        gaps.append(gap)
    # Moving a hundredth of weight must never beat a closer split: scale the gaps above it.
    scale = sum(int(weight[d] * HUNDRED) for d in cross) + 1
    model.minimize(scale * (len(areas) * largest + sum(gaps)) + sum(away))
    # Start from everyone at home, so that the search has a plan at once.
    for (doctor_id, area_id), var in share.items():
        at_home = area_id == home.get(doctor_id, where[doctor_id][0])
        model.add_hint(var, int(weight[doctor_id] * HUNDRED) if at_home else 0)
    solver = cp_model.CpSolver()
    solver.parameters.max_deterministic_time = SPLIT_WORK
    solver.parameters.max_time_in_seconds = rules.time_limit
    solver.parameters.num_workers = rules.workers
    solver.parameters.interleave_search = True
    solver.parameters.interleave_batch_size = 1
    solver.parameters.random_seed = rules.seed
    status = solver.solve(model)
    for (doctor_id, area_id), var in share.items():
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            units = solver.value(var)
        else:  # cannot happen with the hint; stay at home rather than fail
            units = int(weight[doctor_id] * HUNDRED) if area_id == home.get(doctor_id) else 0
        if units:
            result[doctor_id, area_id] = Decimal(units) / HUNDRED
    return result


def busy_days(duties: Iterable[Duty], rest_hours: int, served: list[tuple[Duty, int]]) -> set[dt.date]:
    """Days of ``duties`` on which one of them conflicts (overlap, or less than the longer rest
    period) with a duty in ``served`` (duty, rest hours of its area), which is sorted by start."""
    days: set[dt.date] = set()
    if not served:
        return days
    starts = [duty.slot.start for duty, _ in served]
    reach = max(duty.slot.end - duty.slot.start for duty, _ in served) + dt.timedelta(
        hours=max(rest_hours, *(rest for _, rest in served))
    )
    for duty in duties:
        lo = bisect.bisect_left(starts, duty.slot.start - reach)
        hi = bisect.bisect_right(starts, duty.slot.end + reach)
        for other, rest in served[lo:hi]:
            if _conflict(duty, other, dt.timedelta(hours=max(rest, rest_hours))):
                days.add(duty.slot.day)
                break
    return days


def colour_order(areas: list[AreaInput], split: Mapping[tuple[Hashable, Hashable], Decimal]) -> list[Hashable]:
    """The fixed order of the areas: greedy colouring of "shares a doctor" (areas by id, each the
    least colour none of its neighbours has), then by colour and id. Areas of one colour share no
    doctor, so they can be planned side by side; the order is a function of the input alone."""
    ids = [area.id for area in _order(areas)]
    places: dict[Hashable, list[Hashable]] = defaultdict(list)
    for doctor_id, area_id in sorted(split, key=lambda key: (str(key[0]), str(key[1]))):
        places[doctor_id].append(area_id)
    neighbours: dict[Hashable, set[Hashable]] = defaultdict(set)
    for mine in places.values():
        for a in mine:
            neighbours[a].update(b for b in mine if b != a)
    colour: dict[Hashable, int] = {}
    for area_id in ids:
        taken = {colour[b] for b in neighbours[area_id] if b in colour}
        colour[area_id] = next(c for c in range(len(ids) + 1) if c not in taken)
    return sorted(ids, key=lambda a: (colour[a], str(a)))


def _windows(areas: list[AreaInput], chunk_days: int) -> list[tuple[dt.date, dt.date]]:
    days = [duty.slot.day for area in areas for duty in area.duties]
    if not days:
        return []
    first, last = min(days), max(days)
    result = []
    while first <= last:
        result.append((first, min(last, first + dt.timedelta(days=chunk_days - 1))))
        first += dt.timedelta(days=chunk_days)
    return result


def _plan_part(duties: list[Duty], doctors: list[Doctor], rules: Rules) -> Plan:
    return plan(duties, doctors, rules)


#: Parts of an area's period planned one after another: a quarter of 100 doctors is solved to the
#: optimum in seconds, a year of them not within minutes (docs/duty.md, "A whole KV").
CHUNK_DAYS = 91


def plan_kv(
    areas: Iterable[AreaInput],
    home: Mapping[Hashable, Hashable] | None = None,
    *,
    chunk_days: int = CHUNK_DAYS,
    threads: int = 1,
    on_area: Progress | None = None,
) -> KvPlan:
    """Plan every area of a KV (see the module docstring). ``home`` names each cross-area doctor's
    own area (default: the first area they appear in). Each area's period is planned in parts of
    ``chunk_days``, the balances carried from part to part. ``threads`` > 1 solves parts that
    share no doctor side by side, with the same result. ``on_area`` is told when an area is complete."""
    started = time.perf_counter()
    given = _order(areas)
    if len({a.id for a in given}) != len(given):
        raise PlanningError("Jeder Bereich darf nur einmal vorkommen.")
    by_id = {area.id: area for area in given}
    home = dict(home or {})
    split = split_weights(given, home, given[0].rules if given else None)
    placed: dict[Hashable, list[Hashable]] = defaultdict(list)
    for doctor_id, area_id in split:
        placed[doctor_id].append(area_id)
    cross = frozenset(d for d, places in placed.items() if len(places) > 1)
    order = colour_order(given, split)
    windows = _windows(given, chunk_days)
    # Units of work: (window, area) in a fixed order: the areas by colour and id, each area's parts
    # in time order. An area is complete before the next of its chain begins (progress by areas).
    units: list[tuple[int, Hashable]] = []
    unit_duties: dict[tuple[int, Hashable], list[Duty]] = {}
    for area_id in order:
        for w, (lo, hi) in enumerate(windows):
            mine = [duty for duty in by_id[area_id].duties if lo <= duty.slot.day <= hi]
            if mine:
                units.append((w, area_id))
                unit_duties[w, area_id] = mine
    position = {unit: k for k, unit in enumerate(units)}
    members = {
        unit: sorted(
            (d for d in by_id[unit[1]].doctors if split.get((d.id, unit[1]))),
            key=lambda d: str(d.id),
        )
        for unit in units
    }
    # A unit waits for the unit before it of each of its doctors (and so, in turn, for all earlier
    # ones): what it derives from them is then complete, and units that share no doctor are free.
    depends: dict[tuple[int, Hashable], set[tuple[int, Hashable]]] = {unit: set() for unit in units}
    last_unit: dict[Hashable, tuple[int, Hashable]] = {}
    for unit in units:
        for d in members[unit]:
            if d.id in last_unit:
                depends[unit].add(last_unit[d.id])
            last_unit[d.id] = unit
    parts: dict[tuple[int, Hashable], Part] = {}
    served: dict[Hashable, list[tuple[Duty, int]]] = defaultdict(list)
    balance: dict[Hashable, tuple[Decimal, Decimal]] = {}
    units_left = {area_id: sum(1 for unit in units if unit[1] == area_id) for area_id in order}
    areas_done: list[Hashable] = []
    budget = {area.id: (area.rules.work_limit, len(area.duties)) for area in given}

    def prepare(unit: tuple[int, Hashable]) -> tuple[list[Duty], list[Doctor], Rules]:
        area = by_id[unit[1]]
        duties = unit_duties[unit]
        doctors = []
        for d in members[unit]:
            mine = sorted(served[d.id], key=lambda item: item[0].slot.start)
            hours, special = balance.get(d.id, (d.balance_hours, d.balance_special))
            doctors.append(
                replace(
                    d,
                    weight=split[d.id, area.id],
                    blocked=d.blocked | busy_days(duties, area.rules.rest_hours, mine),
                    balance_hours=hours,
                    balance_special=special,
                )
            )
        work, total = budget[area.id]
        rules = replace(area.rules, work_limit=round(work * len(duties) / total, 3))
        return duties, doctors, rules

    def finish(
        unit: tuple[int, Hashable], duties: list[Duty], doctors: list[Doctor], rules: Rules, result: Plan
    ) -> None:
        parts[unit] = Part(duties, doctors, rules, result)
        rest = by_id[unit[1]].rules.rest_hours
        for duty in duties:
            served[result.assignment[duty.id]].append((duty, rest))
        for line in result.lines:
            balance[line.doctor] = (line.balance_hours_after, line.balance_special_after)
        units_left[unit[1]] -= 1
        if not units_left[unit[1]]:
            areas_done.append(unit[1])
            if on_area:
                on_area(len(areas_done), len(order), unit[1])

    if threads <= 1:
        for unit in units:
            duties, doctors, rules = prepare(unit)
            finish(unit, duties, doctors, rules, _plan_part(duties, doctors, rules))
    else:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="kv-part") as pool:
            waiting = list(units)
            running: dict[Future[Plan], tuple[tuple[int, Hashable], list[Duty], list[Doctor], Rules]] = {}
            while waiting or running:
                for unit in list(waiting):
                    if len(running) >= threads:
                        break
                    if depends[unit] <= parts.keys():
                        waiting.remove(unit)
                        duties, doctors, rules = prepare(unit)
                        running[pool.submit(_plan_part, duties, doctors, rules)] = (unit, duties, doctors, rules)
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in sorted(finished, key=lambda f: position[running[f][0]]):
                    unit, duties, doctors, rules = running.pop(future)
                    finish(unit, duties, doctors, rules, future.result())
    results = []
    for area in given:
        area_parts = [parts[unit] for unit in units if unit[1] == area.id]
        results.append(_whole_area(area, split, area_parts))
    all_parts = list(parts.values())
    return KvPlan(
        results,
        split,
        cross,
        order,
        time.perf_counter() - started,
        sum(part.plan.seconds_to_first or part.plan.seconds for part in all_parts),
        round(sum(part.plan.work for part in all_parts), 3),
        {r.id: r.plan.relaxed for r in results if r.plan.relaxed},
    )


def _whole_area(area: AreaInput, split: Mapping[tuple[Hashable, Hashable], Decimal], parts: list[Part]) -> AreaResult:
    """The parts of an area as one plan, explained against the area's doctors at their split weights
    with the balances they came with."""
    doctors = [replace(d, weight=split[d.id, area.id]) for d in area.doctors if split.get((d.id, area.id))]
    doctors.sort(key=lambda d: str(d.id))
    duties = sorted(area.duties, key=lambda d: (d.slot.start, str(d.duty_type), str(d.id)))
    assignment = {duty: doctor for part in parts for duty, doctor in part.plan.assignment.items()}
    lines, spread = explain(duties, doctors, assignment)
    relaxed: list[str] = []
    for part in parts:
        relaxed += [reason for reason in part.plan.relaxed if reason not in relaxed]
    status: PlanStatus = "optimal" if parts and all(part.plan.status == "optimal" for part in parts) else "feasible"
    whole = Plan(
        assignment,
        lines,
        spread,
        status,
        sum(part.plan.seconds_to_first or part.plan.seconds for part in parts),
        sum(part.plan.seconds for part in parts),
        relaxed,
        round(sum(part.plan.work for part in parts), 3),
        any(part.plan.capped for part in parts),
    )
    return AreaResult(area.id, duties, doctors, area.rules, whole, parts)


def double_bookings(result: KvPlan) -> list[tuple[Hashable, Hashable, Hashable]]:
    """(doctor, duty, duty) for every two duties of one doctor, in any areas and parts, that overlap
    or leave less than the rest period (the longer of both areas'). Empty for a plan of ``plan_kv``."""
    served: dict[Hashable, list[tuple[Duty, int]]] = defaultdict(list)
    for area in result.areas:
        for duty in area.duties:
            doctor = area.plan.assignment.get(duty.id)
            if doctor is not None:
                served[doctor].append((duty, area.rules.rest_hours))
    found = []
    for doctor, items in sorted(served.items(), key=lambda item: str(item[0])):
        items.sort(key=lambda item: item[0].slot.start)
        for k, (duty, rest) in enumerate(items):
            for other, other_rest in items[k + 1 :]:
                if _conflict(duty, other, dt.timedelta(hours=max(rest, other_rest))):
                    found.append((doctor, duty.id, other.id))
                elif other.slot.start >= duty.slot.end + dt.timedelta(hours=96):
                    break
    return found


@dataclass(frozen=True)
class DoctorTotal:
    """A doctor's hours and weekend/holiday duties over all areas against their fair share there."""

    doctor: Hashable
    weight: Decimal
    target_hours: Decimal
    assigned_hours: Decimal
    target_special: Decimal
    special: int

    @property
    def deviation(self) -> Decimal:
        return self.assigned_hours - self.target_hours

    @property
    def special_deviation(self) -> Decimal:
        return self.special - self.target_special


def totals(
    areas: Iterable[AreaInput],
    split: Mapping[tuple[Hashable, Hashable], Decimal],
    assignment: Mapping[Hashable, Hashable],
) -> list[DoctorTotal]:
    """Per doctor: hours and weekend/holiday duties over the KV against the sum of their weighted
    shares in the areas they were planned in (``split``), with their carried balance counted once
    (spread over their areas by weight). This is the measure of fairness over all areas; it does not
    depend on the order the areas were planned in."""
    target_hours: dict[Hashable, Decimal] = defaultdict(Decimal)
    target_special: dict[Hashable, Decimal] = defaultdict(Decimal)
    hours: dict[Hashable, Decimal] = defaultdict(Decimal)
    special: dict[Hashable, int] = defaultdict(int)
    weight: dict[Hashable, Decimal] = {}
    for area in _order(areas):
        doctors = []
        for d in area.doctors:
            w = split.get((d.id, area.id))
            if w:
                part = w / d.weight
                weight[d.id] = d.weight
                doctors.append(
                    replace(d, weight=w, balance_hours=d.balance_hours * part, balance_special=d.balance_special * part)
                )
        if not doctors:
            continue
        for doctor_id, (h, s) in targets(list(area.duties), doctors).items():
            target_hours[doctor_id] += h
            target_special[doctor_id] += s
        for duty in area.duties:
            doctor_id = assignment.get(duty.id)
            if doctor_id is not None:
                hours[doctor_id] += duty.slot.hours
                special[doctor_id] += duty.slot.special
    return [
        DoctorTotal(d, weight[d], target_hours[d], hours[d], target_special[d], special[d])
        for d in sorted(weight, key=str)
    ]


@dataclass(frozen=True)
class Fairness:
    max_hours: Decimal
    mean_hours: Decimal
    max_special: Decimal
    mean_special: Decimal
    doctors: int


def fairness(lines: Iterable[DoctorTotal], only: Iterable[Hashable] | None = None) -> Fairness:
    """Largest and mean deviation (hours; weekend/holiday duties) of ``lines``, or of ``only`` those."""
    chosen = set(only) if only is not None else None
    picked = [line for line in lines if chosen is None or line.doctor in chosen]
    if not picked:
        return Fairness(Decimal(0), Decimal(0), Decimal(0), Decimal(0), 0)
    hours = [abs(line.deviation) for line in picked]
    special = [abs(line.special_deviation) for line in picked]
    n = Decimal(len(picked))
    return Fairness(max(hours), sum(hours) / n, max(special), sum(special) / n, len(picked))


def greedy_kv(
    areas: Iterable[AreaInput], home: Mapping[Hashable, Hashable] | None = None
) -> tuple[dict[tuple[Hashable, Hashable], Decimal], dict[Hashable, Hashable]]:
    """The baseline: each area by round robin (``planner.greedy_round_robin``) with its own doctors
    only, as areas are planned by hand one at a time; cross-area doctors serve at home. Returns
    the split it implies (everyone at home) and the assignment."""
    home = dict(home or {})
    split: dict[tuple[Hashable, Hashable], Decimal] = {}
    assignment: dict[Hashable, Hashable] = {}
    seen: set[Hashable] = set()
    for area in _order(areas):
        own = [d for d in area.doctors if home.get(d.id, area.id if d.id not in seen else None) == area.id]
        seen.update(d.id for d in area.doctors)
        for d in own:
            split[d.id, area.id] = d.weight
        if own:
            assignment.update(greedy_round_robin(list(area.duties), own, area.rules).assignment)
    return split, assignment


__all__ = [
    "CHUNK_DAYS",
    "AreaInput",
    "AreaResult",
    "DoctorTotal",
    "Fairness",
    "KvPlan",
    "Part",
    "colour_order",
    "busy_days",
    "double_bookings",
    "fairness",
    "greedy_kv",
    "plan_kv",
    "split_weights",
    "totals",
]
