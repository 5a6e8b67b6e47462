"""A whole KV planned at once, against a greedy round robin per area (issue 21, "A whole KV").

    .venv/bin/python bench/kv_planning.py [--areas 60] [--doctors 6000] [--days 365] [--work 10]
                                          [--threads 2] [--nfdz 0.05] [--seed 7] [--limit 600]
                                          [--through-queue]

The KV comes from ``duty.domain.kvgen.generate_kv`` (areas of 0.7–1.3 times the mean size, two duty
types, weights 1/0,75/0,5, ~10 % blocked days, qualifications, weekday wishes, ``--nfdz`` of the
doctors NFD-Z with one or two neighbouring areas, K-Ärzte in several areas who are not planned) and
is planned by ``duty.domain.kv.plan_kv``, the function the KV-wide planning task runs: the split of
the cross-area doctors' weights, then every area with ``--work`` units of deterministic time (as
``DUTY_PLAN_WORK``), ``--threads`` areas side by side. Prints the time to the first feasible plan
(the sum over the areas of the time to their first feasible plan) and to the returned plan (wall
clock of the whole KV; the CPU time beside it, which a busy machine does not inflate),
and the fairness over all areas (``kv.totals``: each doctor's hours and
weekend/holiday duties over the KV against the sum of their weighted shares) for everyone and for the
cross-area doctors, next to the greedy baseline (each area by round robin with its own doctors) and
the ratio baseline / planner. It checks that no cross-area doctor is double-booked or short of rest
across areas. The plans and their fairness are the same on every run (deterministic budget, fixed
seeds); only the seconds depend on the machine and its load.

``--through-queue`` measures what the KV staff wait for instead: the same KV is written into a fresh
SQLite database in a temporary DATA_DIR (areas with a Sitzdienst and a Fahrdienst, the doctors as
users with their duty profiles, blocked days and "Auch einsetzbar in" areas), a run is started as the
staff page starts it (``duty.kvruns.start``, the next calendar year), and a real task worker
(``sprechzimmer run_huey``) plans it with ``DUTY_KV_THREADS`` = ``--threads`` and writes a draft
per area. Prints the progress as the page shows it, the time to the last area planned and to the
run done (the drafts written), and checks every duty row has a doctor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

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
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--nfdz", type=float, default=0.05, help="share of NFD-Z doctors")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--through-queue", action="store_true", help="plan through the task queue into a database")
    args = parser.parse_args()
    if args.through_queue:
        through_queue(args)
        return
    rules = Rules(work_limit=args.work, time_limit=args.limit)
    last = args.first + dt.timedelta(days=args.days - 1)
    kv = generate_kv(args.areas, args.doctors, args.first, last, seed=args.seed, nfdz_share=args.nfdz, rules=rules)
    duties = sum(len(area.duties) for area in kv.areas)
    print(
        f"KV: {args.areas} areas, {number(args.doctors)} obliged doctors ({number(len(kv.nfdz))} NFD-Z), "
        f"{number(len(kv.cooperating))} K-Ärzte (not planned), {number(duties)} duties "
        f"{args.first:%d.%m.%Y}–{last:%d.%m.%Y}; budget {number(args.work)} per area, {args.threads} threads, "
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

    result = plan_kv(kv.areas, kv.home, threads=args.threads, on_area=progress)
    cpu = sum(
        usage.ru_utime + usage.ru_stime
        for usage in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    )
    print(f"CPU time of the planning (all threads) {seconds(cpu)}; load average after: {number(os.getloadavg()[0], 2)}")
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


def seed_database(kv, first: dt.date):
    """The generated KV as rows: a KV, its areas with two duty types, every obliged doctor as a user
    with a duty profile (weight, qualification, wishes, blocked days, further areas), a staff user."""
    from sprechzimmer.accounts.models import Organisation, User
    from sprechzimmer.duty.models import Area, BlockedDay, DutyDoctor, DutyType

    organisation = Organisation.objects.create(
        kind=Organisation.Kind.KV, name="KV Bench", bsnr="KV99", street="Weg 1", postcode="70567", city="Stuttgart"
    )
    areas = {a.id: Area.objects.create(kv=organisation, name=f"Bereich {a.id}") for a in kv.areas}
    DutyType.objects.bulk_create(
        DutyType(area=area, kind=kind)
        for area in areas.values()
        for kind in (DutyType.Kind.SITTING, DutyType.Kind.DRIVING)
    )
    people = {d.id: d for a in kv.areas for d in a.doctors}
    ids = sorted(people)
    users = User.objects.bulk_create(
        [User(email=f"arzt{n}@bench.test", full_name=f"Ärztin {n}", role=User.Role.DOCTOR) for n in range(len(ids))],
        batch_size=2000,
    )
    profiles = DutyDoctor.objects.bulk_create(
        [
            DutyDoctor(
                kv=organisation,
                user=user,
                area=areas[kv.home[doctor_id]],
                weight=people[doctor_id].weight,
                qualifications=[] if len(people[doctor_id].qualified) == 2 else [DutyType.Kind.SITTING],
                preferred_weekdays=sorted(people[doctor_id].preferred_weekdays),
            )
            for doctor_id, user in zip(ids, users, strict=True)
        ],
        batch_size=2000,
    )
    profile = dict(zip(ids, profiles, strict=True))
    # The generator's blocked days are of its own year: the same days of the year planned here.
    shift = first - min(duty.slot.day for a in kv.areas for duty in a.duties)
    BlockedDay.objects.bulk_create(
        (BlockedDay(doctor=profile[d], day=day + shift) for d in ids for day in people[d].blocked), batch_size=5000
    )
    through = DutyDoctor.extra_areas.through
    through.objects.bulk_create(
        through(dutydoctor_id=profile[d].pk, area_id=areas[a].pk) for d, further in kv.nfdz.items() for a in further
    )
    staff = User.objects.create(
        email="staff@bench.test", full_name="KV Planung", role=User.Role.STAFF, organisation=organisation
    )
    return organisation, staff


def through_queue(args) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.browser.conftest import BIN, instance_env

    data_dir = tempfile.mkdtemp(prefix="sz-bench-kv-")
    env = instance_env(
        Path(data_dir),
        "bench-kv-planning-secret-key-0123456789abcdef",
        DJANGO_SETTINGS_MODULE="sprechzimmer.settings",
        TASKS_QUEUE="bench-kv",
        LOG_LEVEL="WARNING",
        DUTY_PLAN_WORK=str(round(args.work)),
        DUTY_PLAN_SECONDS=str(round(args.limit)),
        DUTY_KV_THREADS=str(args.threads),
    )
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    first = dt.date(dt.date.today().year + 1, 1, 1)
    last = first + dt.timedelta(days=args.days - 1)
    kv = generate_kv(args.areas, args.doctors, first, last, seed=args.seed, nfdz_share=args.nfdz)
    started = time.perf_counter()
    organisation, staff = seed_database(kv, first)
    print(
        f"KV in the database: {args.areas} areas, {number(args.doctors)} doctors ({number(len(kv.nfdz))} NFD-Z) "
        f"in {seconds(time.perf_counter() - started)}; run {first:%d.%m.%Y}–{last:%d.%m.%Y}, "
        f"DUTY_PLAN_WORK {round(args.work)}, DUTY_KV_THREADS {args.threads}",
        flush=True,
    )
    from sprechzimmer.duty import kvruns
    from sprechzimmer.duty.models import Duty, KvPlanningRun

    log = open(Path(data_dir) / "worker.log", "wb")  # noqa: SIM115 (the worker writes until the end)
    worker = subprocess.Popen(
        [str(BIN / "sprechzimmer"), "run_huey", "-k", "process", "-w", "1", "--no-periodic"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        started = time.perf_counter()
        run = kvruns.start(organisation, first, last, staff)
        shown, planned_at = None, None
        while True:
            time.sleep(2)
            run.refresh_from_db()
            now = time.perf_counter() - started
            page = f"{run.get_status_display()}: Bereich {run.areas_done} von {run.areas_total} geplant"
            if page != shown and (run.areas_done % 10 == 0 or run.status != KvPlanningRun.Status.RUNNING):
                print(f"  after {seconds(now)}: {page}", flush=True)
                shown = page
            if planned_at is None and run.areas_total and run.areas_done == run.areas_total:
                planned_at = now
            if run.status in (KvPlanningRun.Status.DONE, KvPlanningRun.Status.FAILED):
                break
            if worker.poll() is not None:
                raise SystemExit(f"the worker ended; see {data_dir}/worker.log")
        done_at = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(30)
    if run.status == KvPlanningRun.Status.FAILED:
        raise SystemExit(f"the run failed: {run.error}")
    duties = Duty.objects.filter(plan__planning_runs=run)
    open_duties = duties.filter(doctor__isnull=True).count()
    print(
        f"through the queue: last area planned after {seconds(planned_at or done_at)}, run done (drafts "
        f"written) after {seconds(done_at)} ({number(done_at / 60, 1)} min); {run.plans.count()} drafts, "
        f"{number(duties.count())} duties, {open_duties} without a doctor; "
        f"load average {number(os.getloadavg()[0], 2)}; data in {data_dir}"
    )


if __name__ == "__main__":
    main()
