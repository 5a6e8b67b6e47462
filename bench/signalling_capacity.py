"""Signalling capacity of one server process: how many waiting-room websockets it holds, and the
p50/p99 latency of relaying a signalling message between two peers in a call while they are held.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/signalling_capacity.py [--connections 5000] [--pairs 50] [--messages 2000]

Starts its own server process (SQLite, in-memory channel layer; --redis uses REDIS_URL): Daphne
as `sprechzimmer serve` runs it, or with --server uvicorn the same ASGI application under uvicorn
(uvloop, httptools, websockets; `pip install 'uvicorn[standard]'`), to choose by measurement
(issue 20). Each waiting patient is a real appointment with its own code, token and consent, as in
production.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from procstat import cpu_seconds, memory_kb  # noqa: E402

from sprechzimmer.core.formats import number  # noqa: E402
from tests.browser.conftest import free_port, start_daphne, wait_listening  # noqa: E402
from tests.browser.waiting_patients import open_waiting, waiting_appointments  # noqa: E402


def start_uvicorn(env: dict, port: int, log_path: Path, ws: str = "websockets"):
    """The project's ASGI application under uvicorn on 127.0.0.1:port with the websocket protocol
    implementation ws; waits until it listens."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "sprechzimmer.asgi:application", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning", "--no-access-log", "--ws-max-size", "65536",
             "--ws", ws],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return wait_listening(process, port, log_path)


def one_process_environment(*, redis: bool) -> Path:
    """Sets up this process's environment for one server process of the product, inherited by it: a
    data directory of its own (returned), production mode over plain http, SQLite, the in-memory
    layer unless ``redis`` (then REDIS_URL), no mail; and as many open files as the system allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by the server process
    data_dir = Path(tempfile.mkdtemp(prefix="sz-bench-"))
    (data_dir / "static").mkdir()
    os.environ.update(
        {
            "SECRET_KEY": "bench-secret-key-0123456789abcdefghijkl",
            "DATA_DIR": str(data_dir),
            "DEBUG": "false",
            "SECURE_HTTPS": "false",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "sprechzimmer.settings",
        }
    )
    for name in ("DATABASE_URL", "EMAIL_HOST") + (() if redis else ("REDIS_URL",)):
        os.environ.pop(name, None)
    return data_dir


def prepare(n_rooms: int):
    """Creates a practice, n_rooms appointments with consent, and returns (tokens, room ids, cookie)."""

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from sprechzimmer.demo import provisioning
    from sprechzimmer.demo.keys import b64u

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    organisation, doctor, _, _ = provisioning.create_practice(
        name="Bench-Praxis",
        bsnr="981234567",
        main_email="bench@example.org",
        main_name="Dr. Bench",
        password="Bench-Passwort-1",
    )
    provisioning.enable_totp(doctor, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    organisation.public_key = b64u(os.urandom(91))
    organisation.save()
    rooms = waiting_appointments(organisation, doctor, n_rooms)
    tokens = [token for _, token in rooms]
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(doctor)
    assert client.get("/praxis/").status_code == 200  # binds the session to a device
    return tokens, [pk for pk, _ in rooms], client.cookies["sessionid"].value


async def run(url: str, pid: int, tokens, room_ids, cookie, pairs: int, messages: int, burst: int):
    import websockets

    baseline = memory_kb(pid) / 1024
    waiting_tokens = tokens[pairs:]
    sockets, failures = [], 0
    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()
    for start in range(0, len(waiting_tokens), burst):
        results = await asyncio.gather(
            *(open_waiting(url, t) for t in waiting_tokens[start : start + burst]), return_exceptions=True
        )
        for result in results:
            if isinstance(result, Exception):
                failures += 1
            else:
                sockets.append(result)
    connect_seconds = time.perf_counter() - started
    connect_cpu = cpu_seconds(pid) - cpu_before
    held_rss = memory_kb(pid) / 1024

    # Calls in progress while all those patients wait: doctor and patient per room.
    calls = []
    for token, room in zip(tokens[:pairs], room_ids[:pairs], strict=True):
        doctor = await websockets.connect(
            f"{url}/ws/raum/{room}/",
            origin=url.replace("ws://", "http://"),
            additional_headers={"Cookie": f"sessionid={cookie}"},
            ping_interval=None,
        )
        assert json.loads(await doctor.recv())["type"] == "state"
        patient = await open_waiting(url, token)
        await doctor.send(json.dumps({"type": "admit"}))
        while json.loads(await patient.recv())["type"] != "admitted":
            pass
        calls.append((doctor, patient))

    async def receive_signal(socket):
        while True:
            message = json.loads(await socket.recv())
            if message["type"] == "signal":
                return message

    latencies = []
    for i in range(messages):
        doctor, patient = calls[i % len(calls)]
        sent = time.perf_counter()
        await patient.send(json.dumps({"type": "signal", "payload": {"candidate": {"candidate": "x", "n": i}}}))
        await receive_signal(doctor)
        latencies.append((time.perf_counter() - sent) * 1000)

    # Everyone still there?
    alive = sum(1 for s in sockets if s.state.name == "OPEN")
    for s in sockets + [s for pair in calls for s in pair]:
        await s.close()
    return dict(
        connections=len(sockets),
        failures=failures,
        alive=alive,
        connect_seconds=connect_seconds,
        connect_cpu=connect_cpu,
        rss_base=baseline,
        rss_held=held_rss,
        latencies=latencies,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--pairs", type=int, default=50)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--burst", type=int, default=50, help="websockets opened at the same moment")
    parser.add_argument("--redis", action="store_true", help="use REDIS_URL for the channel layer")
    parser.add_argument("--server", choices=("daphne", "uvicorn"), default="daphne", help="the ASGI server measured")
    parser.add_argument(
        "--ws",
        choices=("websockets", "websockets-sansio", "wsproto"),
        default="websockets",
        help="uvicorn's websocket implementation",
    )
    args = parser.parse_args()

    data_dir = one_process_environment(redis=args.redis)
    tokens, room_ids, cookie = prepare(args.connections + args.pairs)
    port = free_port()
    if args.server == "uvicorn":
        process = start_uvicorn(dict(os.environ), port, data_dir / "server.log", args.ws)
    else:
        process = start_daphne(dict(os.environ), port, data_dir / "server.log")
    try:
        result = asyncio.run(
            run(f"ws://127.0.0.1:{port}", process.pid, tokens, room_ids, cookie, args.pairs, args.messages, args.burst)
        )
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:  # uvicorn waits for connections it still counts as open
            process.kill()
    lat = sorted(result["latencies"])
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]  # noqa: E731
    layer = "Redis" if args.redis else "in-memory"
    server = f"uvicorn ({args.ws})" if args.server == "uvicorn" else args.server
    print(f"signalling capacity, one {server} process, {layer} channel layer")
    print(
        f"  waiting-room websockets held: {number(result['connections'])} (failed {number(result['failures'])}, "
        f"still open at end {number(result['alive'])}), opened in {number(result['connect_seconds'], 1)} s "
        f"({number(result['connections'] / result['connect_seconds'], 0)}/s)"
    )
    per_join = result["connect_cpu"] / max(result["connections"], 1)
    print(
        f"  server CPU per join: {number(per_join * 1000, 2)} ms ({number(1 / per_join if per_join else 0, 0)} joins "
        f"per CPU-second of the server process; aim ≥ {number(1000)}/s per process)"
    )
    print(
        f"  server memory: {number(result['rss_base'], 0)} MB idle → {number(result['rss_held'], 0)} MB holding them "
        f"({number((result['rss_held'] - result['rss_base']) * 1024 / max(result['connections'], 1), 0)} KB each)"
    )
    print(
        f"  relay latency patient → doctor, {number(len(lat))} messages over {number(args.pairs)} calls: "
        f"p50 {number(statistics.median(lat), 2)} ms, p99 {number(p(0.99), 2)} ms, max {number(lat[-1], 2)} ms "
        f"(aim p99 < 100 ms)"
    )


if __name__ == "__main__":
    main()
