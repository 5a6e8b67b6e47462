"""What a member's page costs the server: CPU time per request of the main pages of a practice and
of a page that is only the layout (a 404 for a logged-in member), through the whole Django stack
in-process (middleware, session, device, second factor, context processors, templates).

    .venv/bin/python bench/page_cpu.py [--requests 300] [--rounds 3]

Makes a fresh database (SQLite in a temporary DATA_DIR; PostgreSQL when DATABASE_URL is set — the
bench then creates and drops its own database beside the one named), one practice with its main
user (second factor, approved device) and 50 appointments this week, and logs in with Django's
test client. Each page is asked ``--requests`` times per round; the best round's median counts (on
a busy machine the best is the least disturbed). CPU time, not wall time: it stays meaningful on a
shared machine. Run it before and after a change, alternating, to see what the change bought.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time

import inprocess


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    # The static files' manifest as production reads it; and no setup_test_environment(), whose
    # signal for every rendered template is not what production pays.
    with inprocess.product("sz-bench-pages-", static_files=True) as connection:
        run(args, connection)


def run(args, connection) -> None:
    import logging

    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from sprechzimmer.core.formats import number
    from sprechzimmer.video.models import Appointment
    from tests import factories

    logging.getLogger("django.request").setLevel(logging.CRITICAL)  # the 404s
    practice = factories.practice("Praxis Seitenlast")
    main_user = factories.member(practice, main=True)
    now = timezone.now()
    Appointment.objects.bulk_create(
        Appointment(
            organisation=practice,
            doctor=main_user,
            start=now + dt.timedelta(minutes=15 * i - 300),
            patient_ciphertext=factories.envelope("A256GCM"),
        )
        for i in range(50)
    )
    client = Client()
    client.force_login(main_user)
    pages = {
        "nur das Layout (404)": "/gibt-es-nicht/",
        "Übersicht": reverse("dashboard"),
        "Termine": reverse("calendar"),
        "Mitglieder": reverse("members"),
        "Endgeräte": reverse("devices"),
    }
    for path in pages.values():  # warm: the device is bound to the session, templates compiled
        for _ in range(5):
            client.get(path, secure=True)
    best: dict[str, float] = {}
    for _ in range(args.rounds):
        for label, path in pages.items():
            cpus = []
            for _ in range(args.requests):
                started = time.process_time()
                response = client.get(path, secure=True)
                cpus.append((time.process_time() - started) * 1000)
            expected = 404 if label.startswith("nur") else 200
            assert response.status_code == expected, (path, response.status_code, response.get("Location"))
            best[label] = min(best.get(label, float("inf")), statistics.median(cpus))
    print(f"Datenbank: {connection.vendor}, {args.requests} Anfragen je Seite, bester von {args.rounds} Durchgängen")
    for label, ms in best.items():
        print(f"  {label:<22} {number(ms, 2):>7} ms CPU je Anfrage (Median)")
    print(f"  Last (1 min): {number(os.getloadavg()[0], 2)} auf {os.cpu_count()} Kernen")


if __name__ == "__main__":
    main()
