"""GDT round trip (issue 19): from a PVS's request file (6302) in the inbox to the answer (6310) in
the outbox, through the encrypting client and the API over real HTTP.

    .venv/bin/python bench/gdt_roundtrip.py [--requests 100]

Starts the product as it runs (Daphne, demo data, SQLite), gives the demo practice an API client
whose key the practice has granted (written into the instance's database by this script). Each
round writes a request file, runs the bridge once (read, parse, encrypt, POST /api/v1/appointments,
write the answer) and takes the time; the PVS's own polling interval comes on top. Prints p50,
p90 and p99 and the share the HTTP request takes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

REQUEST = (
    b"01380006302\r\n014810000150\r\n0138315SZVS\r\n0138316MEDI\r\n014921802.10\r\n01092062\r\n"
    b"01330004711\r\n0193101Mustermann\r\n0143102Erika\r\n017310312081961\r\n01031102\r\n"
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "src"))
    from tests.browser.conftest import start_demo_instance

    data_dir = tempfile.mkdtemp(prefix="sz-bench-gdt-")
    process, url = start_demo_instance("sz-bench-gdt-", {"DATA_DIR": data_dir})
    # this process writes the API client into the instance's own database
    os.environ.update(
        {
            "DATA_DIR": data_dir,
            "SECRET_KEY": "demo-instance-secret-key-0123456789abcdef",
            "DJANGO_SETTINGS_MODULE": "sprechzimmer.settings",
            "LOG_LEVEL": "ERROR",
        }
    )
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    import django

    django.setup()
    try:
        run(args, url)
    finally:
        process.terminate()
        process.wait(30)


def run(args, url: str) -> None:
    from sprechzimmer.accounts.models import User
    from sprechzimmer.api.models import SCOPES, ApiClient
    from sprechzimmer.core.formats import number
    from sprechzimmer_client import Client, bridge
    from sprechzimmer_client.crypto import wrap_to_public_key

    doctor = User.objects.get(email="arzt@demo.sprechzimmer.test")
    practice = doctor.organisation
    api_client, token = ApiClient.create(practice, "GDT", list(SCOPES), doctor)
    work = Path(tempfile.mkdtemp(prefix="sz-bench-gdt-files-"))
    client = Client(url, token, work / "bridge.pem")
    client.register_key()
    api_client.refresh_from_db()
    ApiClient.objects.filter(pk=api_client.pk).update(
        wrapped_practice_key=wrap_to_public_key(os.urandom(32), api_client.public_key)
    )
    settings = bridge.Settings(work / "in", work / "out", doctor.pk)
    settings.inbox.mkdir()
    settings.outbox.mkdir()
    client.practice_key()  # the first unwrap, once per bridge process
    rounds, http = [], []
    original = client.create_appointment

    def timed(*a, **k):
        t0 = time.perf_counter()
        try:
            return original(*a, **k)
        finally:
            http.append((time.perf_counter() - t0) * 1000)

    client.create_appointment = timed  # type: ignore[method-assign]
    base = dt.datetime.now(bridge.BERLIN)
    for n in range(args.requests):
        (settings.inbox / "SZVSMEDI.GDT").write_bytes(REQUEST)
        t0 = time.perf_counter()
        [answer] = bridge.process(client, settings, now=base + dt.timedelta(minutes=15 * n))
        rounds.append((time.perf_counter() - t0) * 1000)
        assert b"Zugangscode" in answer.read_bytes()
        answer.unlink()
    print(f"{args.requests} GDT-Anfragen (6302 → Termin → 6310) über HTTP auf {url}")
    print(
        f"Rundreise p50 {number(percentile(rounds, 0.5), 1)} ms, p90 {number(percentile(rounds, 0.9), 1)} ms, "
        f"p99 {number(percentile(rounds, 0.99), 1)} ms; davon die API-Anfrage im Median "
        f"{number(statistics.median(http), 1)} ms ({number(100 * statistics.median(http) / statistics.median(rounds), 0)} %)."
    )
    print(f"Last (1 min): {number(os.getloadavg()[0], 2)}")


if __name__ == "__main__":
    main()
