"""Fair duty planning against a greedy round-robin baseline (issue 5).

    .venv/bin/python bench/duty_planning.py [--doctors 250] [--areas 3] [--year 2026] [--work 20] [--limit 600]

One year of duties in BW for N areas × 2 duty types (Sitzdienst, Fahrdienst) and the obliged
doctors spread over the areas (weights 1.0 / 0.75 / 0.5; ~10 % blocked days; 70 % qualified for
the Fahrdienst; a third with preferred weekdays). Each area is planned on its own, as the KV does.
Prints per area and in total: time to the first feasible plan, time to the returned plan, and the
fairness spread (max and mean deviation from the weighted target hours; weekend/holiday spread),
next to the greedy baseline on the same input, and the ratio baseline / planner. The planner's
budget is deterministic (``--work``, CP-SAT's deterministic time per area): the plans, their
fairness and the work done are the same on every run and machine; only the seconds vary with the
machine and its load. ``--limit`` is the wall-clock safety cap per area (a plan it cut short says
"capped").
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from decimal import Decimal

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from sprechzimmer.core.formats import number
from sprechzimmer.duty.domain.calendar import duty_slots
from sprechzimmer.duty.domain.planner import Doctor, Duty, Rules, greedy_round_robin, plan

TYPES = ("Sitzdienst", "Fahrdienst")


def instance(doctors: int, areas: int, year: int, seed: int = 7):
    rng = random.Random(seed)
    slots = duty_slots(dt.date(year, 1, 1), dt.date(year, 12, 31))
    days = [slot.day for slot in slots]
    result = []
    for area in range(areas):
        duties = [Duty(f"{area}-{t}-{slot.day}", t, slot) for slot in slots for t in TYPES]
        people = []
        for k in range(doctors // areas + (1 if area < doctors % areas else 0)):
            weight = rng.choice([Decimal(1)] * 6 + [Decimal("0.75")] * 2 + [Decimal("0.5")] * 2)
            blocked = frozenset(rng.sample(days, round(len(days) * 0.1)))
            qualified = frozenset(TYPES) if rng.random() < 0.7 else frozenset({"Sitzdienst"})
            wishes = frozenset(rng.sample(range(7), 2)) if rng.random() < 0.33 else frozenset()
            people.append(Doctor(f"{area}-{k}", weight, qualified, blocked, wishes))
        result.append((duties, people))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--doctors", type=int, default=250)
    parser.add_argument("--areas", type=int, default=3)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--work", type=float, default=20.0, help="deterministic time per area")
    parser.add_argument("--limit", type=float, default=600.0, help="wall-clock safety cap per area (seconds)")
    args = parser.parse_args()
    rules = Rules(work_limit=args.work, time_limit=args.limit)
    print(
        f"{args.areas} areas × {len(TYPES)} types, {number(args.doctors)} doctors, year {args.year}, "
        f"rest {number(rules.rest_hours)} h, {rules.workers} workers, budget {number(args.work)} deterministic units "
        f"per area (cap {number(args.limit, 0)} s)"
    )
    header = (
        f"{'area':>4} {'duties':>6} {'docs':>4} | {'first s':>7} {'total s':>7} {'work':>5} {'status':>8} "
        f"{'max h':>7} {'mean h':>7} {'max we':>6} | {'greedy max h':>12} {'mean h':>7} {'max we':>6}"
    )
    print(header)
    totals = {"first": 0.0, "seconds": 0.0}
    worst = {"plan": [], "greedy": []}
    started = time.perf_counter()
    for area, (duties, doctors) in enumerate(instance(args.doctors, args.areas, args.year)):
        result = plan(duties, doctors, rules)
        baseline = greedy_round_robin(duties, doctors, rules)
        totals["first"] += result.seconds_to_first or result.seconds
        totals["seconds"] += result.seconds
        worst["plan"].append(result.spread)
        worst["greedy"].append(baseline.spread)
        s, g = result.spread, baseline.spread
        uncovered = len(duties) - len(baseline.assignment)
        print(
            f"{area:>4} {number(len(duties)):>6} {number(len(doctors)):>4} | "
            f"{number(result.seconds_to_first or 0, 1):>7} {number(result.seconds, 1):>7} {number(result.work, 1):>5} "
            f"{result.status + ('/capped' if result.capped else ''):>8} {number(s.max_deviation_hours, 2):>7} "
            f"{number(s.mean_deviation_hours, 2):>7} {number(s.max_special_deviation, 2):>6} | "
            f"{number(g.max_deviation_hours, 2):>12} {number(g.mean_deviation_hours, 2):>7} "
            f"{number(g.max_special_deviation, 2):>6}"
            + (f"  (greedy left {number(uncovered)} uncovered)" if uncovered else "")
            + (f"  relaxed: {', '.join(result.relaxed)}" if result.relaxed else "")
        )
    wall = time.perf_counter() - started

    def agg(spreads, name):
        return max(getattr(s, name) for s in spreads), sum(getattr(s, name) for s in spreads) / len(spreads)

    p_max, p_mean = agg(worst["plan"], "max_deviation_hours")[0], agg(worst["plan"], "mean_deviation_hours")[1]
    g_max, g_mean = agg(worst["greedy"], "max_deviation_hours")[0], agg(worst["greedy"], "mean_deviation_hours")[1]
    pw, gw = agg(worst["plan"], "max_special_deviation")[0], agg(worst["greedy"], "max_special_deviation")[0]
    print(
        f"all areas: first feasible after {number(totals['first'], 1)} s, "
        f"returned after {number(totals['seconds'], 1)} s (wall incl. baseline {number(wall, 1)} s)"
    )
    print(
        f"  hours deviation  planner max {number(p_max, 2)} h mean {number(p_mean, 2)} h | "
        f"greedy max {number(g_max, 2)} h mean {number(g_mean, 2)} h | "
        f"ratio max {number(g_max / max(p_max, Decimal('0.01')), 1)}× "
        f"mean {number(g_mean / max(p_mean, Decimal('0.01')), 1)}×"
    )
    print(
        f"  weekend/holiday  planner max {number(pw, 2)} | greedy max {number(gw, 2)} | "
        f"ratio {number(gw / max(pw, Decimal('0.01')), 1)}×"
    )


if __name__ == "__main__":
    main()
