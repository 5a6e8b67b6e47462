"""Where a held websocket's memory goes: Python's allocations in one Daphne process per waiting
patient, by library and by line of ours (issue 20 aims at 30 KB per held connection).

    .venv/bin/python bench/socket_memory.py [--connections 2000] [--redis]

Starts one server process as `sprechzimmer serve` (SQLite, in-memory channel layer; --redis uses
REDIS_URL) with a signal handler that starts tracemalloc and writes snapshots; opens --warm-up
waiting patients, takes a snapshot, opens --connections more, takes another, and prints the
difference per socket. tracemalloc counts Python's allocations only (not the kernel's socket
buffers). Measured 2.12.2026: 36 KB of Python allocations per socket, 1,8 KB of them the
project's own (docs/capacity.md, "Memory per socket").
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from procstat import memory_kb  # noqa: E402
from signalling_capacity import one_process_environment, prepare  # noqa: E402

from sprechzimmer.core.formats import number  # noqa: E402
from tests.browser.conftest import free_port, wait_listening  # noqa: E402
from tests.browser.waiting_patients import open_waiting  # noqa: E402

#: Run in the server process before `sprechzimmer serve`: the first SIGUSR1 starts tracemalloc (so
#: that start-up is not slowed by it), each further one writes a snapshot to SNAPSHOTS/N.
HOOK = """
import os, signal, sys, tracemalloc
from pathlib import Path
folder, taken = Path(os.environ["SNAPSHOTS"]), [0]
def snapshot(signum, frame):
    if not tracemalloc.is_tracing():
        tracemalloc.start(12)
    else:
        taken[0] += 1
        tracemalloc.take_snapshot().dump(str(folder / f"{taken[0]}.part"))
        os.replace(folder / f"{taken[0]}.part", folder / str(taken[0]))
    (folder / f"signalled-{taken[0]}").touch()
signal.signal(signal.SIGUSR1, snapshot)
sys.argv = ["sprechzimmer", *sys.argv[1:]]
from sprechzimmer.__main__ import main
main()
"""

#: Libraries by a piece of their path, in the order they are looked for.
LIBRARIES = ("twisted", "autobahn", "daphne", "channels_redis", "channels", "asyncio", "django", "sprechzimmer")


def library(filename: str) -> str:
    for name in LIBRARIES:
        if f"/{name}/" in filename:
            return name
    return "other"


def signal_and_wait(pid: int, folder: Path, marker: str) -> None:
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + 300
    while not (folder / marker).exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the server wrote no snapshot")
        time.sleep(0.2)


async def open_patients(url: str, tokens: list[str], burst: int = 50) -> list:
    sockets = []
    for start in range(0, len(tokens), burst):
        sockets.extend(await asyncio.gather(*(open_waiting(url, token) for token in tokens[start : start + burst])))
    return sockets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=2000, help="sockets measured")
    parser.add_argument("--warm-up", type=int, default=300, help="sockets opened before the first snapshot")
    parser.add_argument("--redis", action="store_true", help="use REDIS_URL for the channel layer")
    parser.add_argument("--lines", type=int, default=12, help="lines of the project shown")
    args = parser.parse_args()

    data_dir = one_process_environment(redis=args.redis)
    snapshots = data_dir / "snapshots"
    snapshots.mkdir()
    tokens, _, _ = prepare(args.warm_up + args.connections)
    port = free_port()
    log_path = data_dir / "server.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", HOOK, "serve", "--bind", "127.0.0.1", "--port", str(port)],
            env={**os.environ, "SNAPSHOTS": str(snapshots)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    wait_listening(process, port, log_path)
    url = f"ws://127.0.0.1:{port}"

    async def run() -> tuple[int, int]:
        signal_and_wait(process.pid, snapshots, "signalled-0")
        held = await open_patients(url, tokens[: args.warm_up])
        await asyncio.sleep(2)
        signal_and_wait(process.pid, snapshots, "signalled-1")
        rss_before = memory_kb(process.pid)
        held += await open_patients(url, tokens[args.warm_up :])
        await asyncio.sleep(2)
        rss_after = memory_kb(process.pid)
        signal_and_wait(process.pid, snapshots, "signalled-2")
        for socket in held:
            await socket.close()
        return rss_before, rss_after

    try:
        rss_before, rss_after = asyncio.run(run())
    finally:
        process.terminate()
        process.wait(30)

    n = args.connections
    before = tracemalloc.Snapshot.load(str(snapshots / "1"))
    after = tracemalloc.Snapshot.load(str(snapshots / "2"))
    by_file = after.compare_to(before, "filename")
    total = sum(stat.size_diff for stat in by_file)
    by_library = collections.Counter()
    for stat in by_file:
        by_library[library(stat.traceback[0].filename)] += stat.size_diff
    layer = "Redis" if args.redis else "in-memory"
    print(f"memory per held websocket, one daphne process, {layer} channel layer, {number(n)} sockets")
    print(
        f"  Python allocations: {number(total / n / 1024, 1)} KB per socket; "
        f"resident memory {number((rss_after - rss_before) / n, 1)} KB per socket while tracemalloc keeps its own "
        f"record of each allocation (without it: signalling_capacity.py; aim ≤ 30 KB)"
    )
    for name, size in by_library.most_common():
        print(f"  {name:>15}: {number(size / n / 1024, 2):>6} KB")
    print("  the project's lines:")
    ours = [
        stat
        for stat in after.compare_to(before, "lineno")
        if "/sprechzimmer/" in stat.traceback[0].filename and stat.size_diff >= n
    ]
    for stat in ours[: args.lines]:
        frame = stat.traceback[0]
        where = frame.filename.split("/src/")[-1]
        print(f"  {number(stat.size_diff / n, 0):>6} B  {where}:{frame.lineno}")


if __name__ == "__main__":
    main()
