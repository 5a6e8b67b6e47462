"""Reconnect storm on the production shape: N patients wait through HAProxy on three Daphne processes
(tests/browser/shape.py, PostgreSQL and Redis); then every process is restarted at once, as after a
crash of the machine's service or a release without a rolling restart. How long until all N wait
again? (Issue 20 aims at 5 000 absorbed by three processes in at most 5 s.)

    .venv/bin/python bench/reconnect_storm.py [--patients 5000]

Needs Debian's haproxy, DATABASE_URL (a PostgreSQL server; the bench makes and drops a database of
its own beside the named one) and REDIS_URL; defaults are the CI machine's 127.0.0.1 services. The
patients are websocket clients that reconnect as the page does (0,5 s … 5 s, ±50 % jitter; a ping
every 15 s). Prints the time to the first full waiting room, what holding them costs while they
only wait (--hold seconds of pings: the server's and PostgreSQL's CPU), the storm's time from the
restart and from the processes listening again, the joins per second, and each process's CPU per
join and memory per held websocket.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from procstat import cpu_seconds, memory_kb, pids_named  # noqa: E402

from sprechzimmer.core.formats import number  # noqa: E402
from tests.browser.conftest import _create_pg_database, _drop_pg_database, instance_env, set_up_instance  # noqa: E402
from tests.browser.shape import ProductionShape  # noqa: E402
from tests.browser.waiting_patients import Crowd, waiting_room  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--hold", type=float, default=60.0, help="seconds of waiting measured before the storm")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    directory = Path(tempfile.mkdtemp(prefix="sz-storm-"))
    env = instance_env(
        directory,
        secrets.token_urlsafe(48),
        DATABASE_URL=_create_pg_database(base),
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        TASKS_QUEUE=f"sz-storm-{secrets.token_hex(4)}",
        LOG_LEVEL="WARNING",
    )
    shape = crowd = None
    try:
        set_up_instance(env, demo=False)
        shape = ProductionShape(env, directory).start(worker=False)
        rooms = waiting_room(shape.env, args.patients)
        idle = {name: memory_kb(p.pid) for name, p in shape.daphnes.items()}
        cpu = {name: cpu_seconds(p.pid) for name, p in shape.daphnes.items()}
        crowd = Crowd(shape.url, [token for _, token in rooms])
        first = crowd.wait_all(600)
        per_process = {name: int(row["scur"]) for name, row in shape.stats().items()}
        joins_cpu = sum(cpu_seconds(p.pid) - cpu[name] for name, p in shape.daphnes.items())
        held = {name: (memory_kb(p.pid) - idle[name]) / max(1, per_process[name]) for name, p in shape.daphnes.items()}

        # Holding them: nothing happens but the pages' pings (every 15 s, each keeps its seat).
        time.sleep(5)  # the last joins' bookkeeping is done
        daphnes = [p.pid for p in shape.daphnes.values()]
        before = cpu_seconds(*daphnes), cpu_seconds(*pids_named("postgres"), children=True), time.monotonic()
        time.sleep(args.hold)
        hold = (
            cpu_seconds(*daphnes) - before[0],
            cpu_seconds(*pids_named("postgres"), children=True) - before[1],
            time.monotonic() - before[2],
        )

        # The storm: every process stops at once and starts again.
        stopped = time.monotonic()
        for process in shape.daphnes.values():
            process.terminate()
        for process in shape.daphnes.values():
            process.wait(60)
        for name in shape.ports:
            shape.start_process(name)
        listening = time.monotonic()
        cpu = {name: cpu_seconds(p.pid) for name, p in shape.daphnes.items()}
        shape.wait_up(*shape.ports)
        # every patient notices the drop before the clock for their return starts
        while crowd.waiting() == args.patients and time.monotonic() - stopped < 10:
            time.sleep(0.05)
        crowd.wait_all(600)
        back = time.monotonic()
        storm_cpu = sum(cpu_seconds(p.pid) - cpu[name] for name, p in shape.daphnes.items())

        n = args.patients
        print(
            f"reconnect storm, {n} waiting patients, HAProxy + {len(shape.ports)} Daphne processes (PostgreSQL, Redis)"
        )
        print(f"  first full waiting room: {number(first, 1)} s ({number(n / first, 0)} joins/s)")
        print(
            f"  after all processes restart at once: all back {number(back - stopped, 1)} s after the stop, "
            f"{number(back - listening, 1)} s after the processes listened again (aim ≤ 5 s); "
            f"{number(n / (back - listening), 0)} joins/s"
        )
        print(
            f"  server CPU per join: {number(1000 * joins_cpu / n, 2)} ms (first), "
            f"{number(1000 * storm_cpu / n, 2)} ms (storm); spread over the processes: {per_process}"
        )
        per_minute = 60 / hold[2] / n * 1000
        print(
            f"  holding them ({number(hold[2], 0)} s of waiting, pings only): server CPU "
            f"{number(hold[0] * per_minute, 2)} ms, PostgreSQL CPU {number(hold[1] * per_minute, 2)} ms "
            f"per waiting patient and minute ({number(100 * (hold[0] + hold[1]) / hold[2], 1)} % of a core together)"
        )
        print(f"  failed attempts by reason (all retried): {dict(crowd.failures()) or 'none'}")
        print(f"  memory per held websocket: {', '.join(f'{k} {number(v, 1)} KB' for k, v in held.items())}")
        print(f"  load (1 min): {number(os.getloadavg()[0], 2)} on {os.cpu_count()} cores")
    finally:
        if crowd is not None:
            crowd.stop()
        if shape is not None:
            shape.stop()
        _drop_pg_database(base, env["DATABASE_URL"])


if __name__ == "__main__":
    main()
