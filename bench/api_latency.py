"""API latency: listing a week of appointments in a practice that holds 10 000 (issue 19).

    .venv/bin/python bench/api_latency.py [--appointments 10000] [--requests 300]

Makes a fresh database (SQLite in a temporary DATA_DIR; PostgreSQL when DATABASE_URL is set — the
bench then creates and drops its own database beside the one named), one practice with five doctors
and N appointments spread over a year (each with a patient envelope of realistic size), and an API
client. Then sends GET /api/v1/appointments?von=<Monday>&bis=<Sunday> through the whole Django
stack in-process (middleware, token check, rate limit, JSON), for a different week each time.
Prints the number of appointments per answer, p50/p90/p99 wall time, CPU time per request, the
queries per request, and the same for a single appointment (GET /appointments/{id}) as the floor:
the ratio says what a week's list costs beyond one request.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import random
import statistics
import time

import inprocess


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def envelope(rng: random.Random) -> str:
    """A patient envelope as the browser makes it (name, birth date, contact: ~300 bytes of ciphertext)."""
    return json.dumps({"v": 1, "alg": "A256GCM", "iv": b64u(rng.randbytes(12)), "ct": b64u(rng.randbytes(300))})


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with inprocess.product("sz-bench-api-") as connection:
        from django.test.utils import CaptureQueriesContext, setup_test_environment

        setup_test_environment()
        run(args, connection, CaptureQueriesContext)


def run(args, connection, CaptureQueriesContext) -> None:
    from django.test import Client

    from sprechzimmer.accounts.models import Organisation, User
    from sprechzimmer.api import endpoints
    from sprechzimmer.api.models import SCOPES, ApiClient
    from sprechzimmer.core.formats import number
    from sprechzimmer.video.domain import BERLIN
    from sprechzimmer.video.models import Appointment

    endpoints.PER_CLIENT = (10**9, 60)  # the bench sends more than a client may in a minute
    rng = random.Random(19)
    practice = Organisation.objects.create(name="Praxis Bench", street="Weg 1", postcode="70173", city="Stuttgart")
    doctors = [
        User.objects.create_user(f"arzt{n}@example.org", None, full_name=f"Dr. Bench {n}", organisation=practice)
        for n in range(5)
    ]
    first_monday = dt.date(2027, 1, 4)
    weeks = 52
    rows = []
    for _ in range(args.appointments):
        day = first_monday + dt.timedelta(days=rng.randrange(weeks * 7))
        start = dt.datetime.combine(day, dt.time(8 + rng.randrange(10), rng.choice((0, 15, 30, 45))), tzinfo=BERLIN)
        rows.append(
            Appointment(
                organisation=practice, doctor=rng.choice(doctors), start=start, patient_ciphertext=envelope(rng)
            )
        )
    Appointment.objects.bulk_create(rows, batch_size=2000)
    _, token = ApiClient.create(practice, "PVS", list(SCOPES), doctors[0])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    some_id = Appointment.objects.values_list("pk", flat=True).first()

    def measure(paths: list[str]) -> tuple[list[float], list[float], int, int]:
        walls, cpus, sizes, queries = [], [], [], 0
        for path in paths:
            with CaptureQueriesContext(connection) as captured:
                t0, c0 = time.perf_counter(), time.process_time()
                response = client.get(path, secure=True)
                walls.append((time.perf_counter() - t0) * 1000)
                cpus.append((time.process_time() - c0) * 1000)
            assert response.status_code == 200, (response.status_code, response.get("Location"), response.content[:200])
            body = response.json()
            sizes.append(len(body.get("appointments", [body])))
            queries = max(queries, len(captured))
        return walls, cpus, int(statistics.mean(sizes)), queries

    week_paths = []
    for n in range(args.requests):
        monday = first_monday + dt.timedelta(weeks=n % weeks)
        week_paths.append(f"/api/v1/appointments?von={monday}&bis={monday + dt.timedelta(days=6)}")
    measure(week_paths[:20])  # warm up (imports, caches, the token's last-use update)
    one_paths = [f"/api/v1/appointments/{some_id}"] * args.requests
    results = {"Woche (Liste)": measure(week_paths), "Ein Termin": measure(one_paths)}

    print(f"Datenbank: {connection.vendor}, {number(args.appointments, 0)} Termine, {args.requests} Anfragen je Art")
    print(f"{'Anfrage':<14} {'Termine':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'CPU ms':>8} {'Abfragen':>9}")
    for label, (walls, cpus, size, queries) in results.items():
        print(
            f"{label:<14} {number(size, 0):>8} {number(percentile(walls, 0.5), 1):>8} "
            f"{number(percentile(walls, 0.9), 1):>8} {number(percentile(walls, 0.99), 1):>8} "
            f"{number(statistics.median(cpus), 1):>8} {queries:>9}"
        )
    week, one = results["Woche (Liste)"], results["Ein Termin"]
    print(
        f"Eine Woche kostet das {number(statistics.median(week[1]) / statistics.median(one[1]), 1)}-Fache der CPU-Zeit "
        f"einer Einzelabfrage. Last (1 min): {number(os.getloadavg()[0], 2)} — auf einer belebten Maschine zählt "
        "die CPU-Zeit, die Wandzeit nur bei freien Kernen."
    )


if __name__ == "__main__":
    main()
