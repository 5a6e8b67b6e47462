"""Monthly invoices of 10 000 plus practices through the task queue (issue 15).

    .venv/bin/python bench/invoices.py [--practices 10000] [--workers 2]

Makes a fresh SQLite database in a temporary DATA_DIR with N practices on plus, each with 30
metered days (1–8 users, some SMS) in November 2026, then does what the monthly job does: queues
the invoices in batches of 200 (contracts.tasks.invoice_month_for) and lets a real worker
(`sprechzimmer run_huey -k process -w W`) issue them: number, PDF/A-3, Factur-X XML, file.
Prints the time to the last invoice, invoices per second, the CPU time the workers spent per
invoice (from /proc: the figure that does not depend on what else runs on the machine), the time
10 000 invoices take projected from it (CPU per invoice × 10 000 ÷ workers, each worker on a
core of its own), the workers' resident memory at each quarter of the run (flat memory = the
batches leave nothing behind) and their peak (VmHWM), and checks that the numbers are gap-free.
The load average is printed too: on a shared machine the wall-clock figures are only as good as
the cores that were free.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from procstat import cpu_seconds, memory_kb

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def environment(data_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        {
            "DATA_DIR": data_dir,
            "SECRET_KEY": "bench-invoices-secret-key-0123456789abcdef",
            "DJANGO_SETTINGS_MODULE": "sprechzimmer.settings",
            "TASKS_QUEUE": "bench-invoices",
            "LOG_LEVEL": "WARNING",
            "OPERATOR_NAME": "Sprechzimmer Betrieb GmbH",
            "OPERATOR_STREET": "Königstraße 1",
            "OPERATOR_POSTCODE": "70173",
            "OPERATOR_CITY": "Stuttgart",
            "OPERATOR_VAT_ID": "DE123456789",
            "OPERATOR_IBAN": "DE89370400440532013000",
            "OPERATOR_BIC": "COBADEFFXXX",
            "OPERATOR_CREDITOR_ID": "DE98ZZZ09999999999",
        }
    )
    return env


def minutes(seconds: float) -> str:
    from sprechzimmer.core.formats import number

    return f"{number(seconds, 0)} s ({number(seconds / 60, 1)} min)"


def worker_pids(parent: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(parent)], capture_output=True, text=True).stdout
    return [parent] + [int(p) for p in out.split()]


def seed(practices: int) -> None:
    from sprechzimmer.accounts.models import Organisation
    from sprechzimmer.contracts.models import Contract, UsageDay

    rng = random.Random(15)
    orgs = Organisation.objects.bulk_create(
        [
            Organisation(name=f"Praxis {n}", street=f"Weg {n}", postcode="70173", city="Stuttgart", bsnr=f"52{n:07d}")
            for n in range(practices)
        ],
        batch_size=2000,
    )
    Contract.objects.bulk_create(
        [Contract(organisation=o, plan="plus", plan_since=dt.date(2026, 1, 1)) for o in orgs], batch_size=2000
    )
    days = []
    for o in orgs:
        users = rng.randint(1, 8)
        for d in range(1, 31):
            days.append(
                UsageDay(
                    organisation=o, day=dt.date(2026, 11, d), plan="plus", users=users, sms=rng.choice([0, 0, 1, 3])
                )
            )
        if len(days) > 20000:
            UsageDay.objects.bulk_create(days, batch_size=5000)
            days = []
    UsageDay.objects.bulk_create(days, batch_size=5000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--practices", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="sz-bench-invoices-")
    env = environment(data_dir)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    seed(args.practices)
    from sprechzimmer.core.formats import number

    print(f"{number(args.practices)} practices with 30 metered days each in {number(time.monotonic() - started, 1)} s")

    from sprechzimmer.contracts import tasks
    from sprechzimmer.contracts.models import Invoice

    log = open(Path(data_dir) / "worker.log", "wb")  # noqa: SIM115 (the worker writes until the end)
    worker = subprocess.Popen(
        [str(BIN / "sprechzimmer"), "run_huey", "-k", "process", "-w", str(args.workers), "--no-periodic"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        pids = worker_pids(worker.pid)
        for _ in range(120):  # until the consumer has started its worker processes
            if len(pids) > args.workers:
                break
            time.sleep(0.5)
            pids = worker_pids(worker.pid)
        time.sleep(1)
        cpu_before = cpu_seconds(*pids)
        started = time.monotonic()
        queued = tasks.invoice_month_for(2026, 11, dt.date(2026, 12, 1))
        samples, marks, done = [], [0.25, 0.5, 0.75, 1.0], 0
        while done < queued:
            time.sleep(1)
            done = Invoice.objects.count()
            if marks and done >= marks[0] * queued:
                samples.append((marks.pop(0), done, 1024 * memory_kb(*worker_pids(worker.pid))))
            if worker.poll() is not None:
                raise SystemExit(f"worker ended; see {data_dir}/worker.log")
        elapsed = time.monotonic() - started
        cpu = cpu_seconds(*pids) - cpu_before
        load = os.getloadavg()[0]
        peak = 1024 * memory_kb(*worker_pids(worker.pid), field="VmHWM")
    finally:
        worker.terminate()
        worker.wait(30)
    numbers = sorted(int(n.split("-")[1]) for n in Invoice.objects.values_list("number", flat=True))
    assert numbers == list(range(1, queued + 1)), "numbers are not gap-free"
    total = sum((i.gross_total for i in Invoice.objects.only("gross_total")), Decimal(0))
    size = sum(p.stat().st_size for p in (Path(data_dir) / "invoices").rglob("*.pdf"))

    cpu_ms = cpu / queued * 1000
    projected = 10_000 * cpu_ms / 1000 / args.workers
    print(
        f"{number(queued)} invoices (PDF/A-3 + Factur-X XML), {args.workers} worker processes: "
        f"{minutes(elapsed)}, {number(queued / elapsed, 1)} invoices/s; gap-free numbers 1–{number(numbers[-1])}; "
        f"total {number(total, 2)} €; {number(size / queued / 1024, 0)} KiB per PDF"
    )
    print(f"  workers' CPU: {number(cpu_ms, 1)} ms per invoice (load average at the end: {number(load, 1)})")
    print(
        f"  10.000 invoices: projected {minutes(projected)} with {args.workers} workers on free cores"
        + (
            f"; measured {minutes(elapsed)}"
            if queued == 10_000
            else f"; at this run's rate {minutes(10_000 / queued * elapsed)}"
        )
    )
    for share, count, rss in samples:
        print(
            f"  at {number(share * 100, 0)} % ({number(count)} invoices): workers' resident memory {number(rss / 2**20, 0)} MiB"
        )
    print(f"  workers' peak resident memory (VmHWM, summed): {number(peak / 2**20, 0)} MiB")
    print(f"data in {data_dir}")


if __name__ == "__main__":
    main()
