"""A whole KV planned at once, against a greedy round robin per area (issue 21, "A whole KV").

    .venv/bin/python bench/kv_planning.py [--areas 60] [--doctors 6000] [--days 365] [--work 10]
                                          [--processes 2] [--nfdz 0.05] [--seed 7] [--limit 600]

The KV comes from ``duty.domain.kvgen.generate_kv`` (areas of 0.7–1.3 times the mean size, two duty
types, weights 1/0,75/0,5, ~10 % blocked days, qualifications, weekday wishes, ``--nfdz`` of the
doctors NFD-Z with one or two neighbouring areas, K-Ärzte in several areas who are not planned) and
is planned by ``duty.domain.kv.plan_kv``, the function the KV-wide planning task runs: the split of
the cross-area doctors' weights, then every area with ``--work`` units of deterministic time (as
``DUTY_PLAN_WORK``), ``--processes`` areas side by side. Prints the time to the first feasible plan
(the sum over the areas of the time to their first feasible plan) and to the returned plan (wall
clock of the whole KV; the CPU time of all processes beside it, which a busy machine does not inflate),
and the fairness over all areas (``kv.totals``: each doctor's hours and
weekend/holiday duties over the KV against the sum of their weighted shares) for everyone and for the
cross-area doctors, next to the greedy baseline (each area by round robin with its own doctors) and
the ratio baseline / planner. It checks that no cross-area doctor is double-booked or short of rest
across areas. The plans and their fairness are the same on every run (deterministic budget, fixed
seeds); only the seconds depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import time
from decimal import Decimal

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from sprechzimmer.core.formats import number
from sprechzimmer.duty.domain.kv import Fairness, double_bookings, fairness, greedy_kv, plan_kv, totals
from sprechzimmer.duty.domain.kvgen import generate_kv
from sprechzimmer.duty.domain.planner import Rules


def seconds(value: float) -> str:
    return f"{number(value, 1)} s"


def ratio(baseline: Decimal, planned: Decimal) -> str:
    return f"{number(baseline / max(planned, Decimal('0.01')), 1)}×"


def row(label: str, planned: Fairness, greedy: Fairness) -> str:
    return (
        f"  {label:<22} planner max {number(planned.max_hours, 2)} h, mean {number(planned.mean_hours, 2)} h, "
        f"weekend/holiday max {number(planned.max_special, 2)} | greedy max {number(greedy.max_hours, 2)} h, "
        f"mean {number(greedy.mean_hours, 2)} h, weekend/holiday max {number(greedy.max_special, 2)} | "
        f"ratio max {ratio(greedy.max_hours, planned.max_hours)}, mean {ratio(greedy.mean_hours, planned.mean_hours)}, "
        f"weekend/holiday {ratio(greedy.max_special, planned.max_special)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areas", type=int, default=60)
    parser.add_argument("--doctors", type=int, default=6000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--first", type=dt.date.fromisoformat, default=dt.date(2026, 1, 1))
    parser.add_argument("--work", type=float, default=10.0, help="deterministic time per area (DUTY_PLAN_WORK)")
    parser.add_argument("--limit", type=float, default=600.0, help="wall-clock safety cap per area (seconds)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--nfdz", type=float, default=0.05, help="share of NFD-Z doctors")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rules = Rules(work_limit=args.work, time_limit=args.limit)
    last = args.first + dt.timedelta(days=args.days - 1)
    kv = generate_kv(args.areas, args.doctors, args.first, last, seed=args.seed, nfdz_share=args.nfdz, rules=rules)
    duties = sum(len(area.duties) for area in kv.areas)
    print(
        f"KV: {args.areas} areas, {number(args.doctors)} obliged doctors ({number(len(kv.nfdz))} NFD-Z), "
        f"{number(len(kv.cooperating))} K-Ärzte (not planned), {number(duties)} duties "
        f"{args.first:%d.%m.%Y}–{last:%d.%m.%Y}; budget {number(args.work)} per area, {args.processes} processes, "
        f"cap {number(args.limit)} s per area, cores {os.cpu_count()}"
    )
    started = time.perf_counter()
    print(f"load average before: {number(os.getloadavg()[0], 2)}", flush=True)

    def progress(done: int, total: int, area: object) -> None:
        if done == 1 or done % 10 == 0 or done == total:
            print(
                f"  Bereich {done} von {total} geplant ({area}) after {seconds(time.perf_counter() - started)}",
                flush=True,
            )

    result = plan_kv(kv.areas, kv.home, processes=args.processes, on_area=progress)
    cpu = sum(
        usage.ru_utime + usage.ru_stime
        for usage in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    )
    print(
        f"CPU time of the planning (all processes) {seconds(cpu)}; load average after: {number(os.getloadavg()[0], 2)}"
    )
    baseline_split, baseline = greedy_kv(kv.areas, kv.home)
    conflicts = double_bookings(result)
    capped = [area.id for area in result.areas if area.plan.capped]
    statuses: dict[str, int] = {}
    for area in result.areas:
        statuses[area.plan.status] = statuses.get(area.plan.status, 0) + 1
    print(
        f"first feasible (sum over areas) {seconds(result.seconds_to_first)}, returned after "
        f"{seconds(result.seconds)} (wall clock), deterministic work {number(result.work, 1)}; "
        f"status {statuses}; capped {capped or 'none'}; relaxed in {len(result.relaxed)} areas"
    )
    print(
        f"cross-area doctors planned in more than one area: {number(len(result.cross))}; "
        f"double bookings or rest violations (across areas and parts): {len(conflicts)}"
    )
    planned = totals(kv.areas, result.split, result.assignment)
    greedy = totals(kv.areas, baseline_split, baseline)
    uncovered = duties - len(baseline)
    print("fairness over all areas (deviation from the weighted share; weekend/holiday duties):")
    print(row("all doctors", fairness(planned), fairness(greedy)))
    print(row("cross-area doctors", fairness(planned, result.cross), fairness(greedy, result.cross)))
    if uncovered:
        print(f"  (the greedy baseline left {number(uncovered)} duties uncovered)")
    rates = {}
    for name, lines in (("planner", planned), ("greedy", greedy)):
        per_weight = [line.assigned_hours / line.weight for line in lines if line.weight]
        rates[name] = (min(per_weight), max(per_weight))
    print(
        "hours per unit of weight over the KV: planner "
        f"{number(rates['planner'][0], 1)}–{number(rates['planner'][1], 1)} h, greedy "
        f"{number(rates['greedy'][0], 1)}–{number(rates['greedy'][1], 1)} h"
    )


if __name__ == "__main__":
    main()
