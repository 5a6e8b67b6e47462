"""Two doctors take the same duty at the same moment: exactly one gets it (PostgreSQL, real
threads with their own connections, released together by a barrier)."""

import threading

import pytest
from django.db import connection

from sprechzimmer.duty import errors, exchange
from sprechzimmer.duty.models import Duty, DutyDoctor

from .helpers import area, doctor, kv, published_plan

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(duty_pk: int, takers: list[DutyDoctor]) -> dict[int, str]:
    barrier = threading.Barrier(len(takers))
    results: dict[int, str] = {}

    def attempt(taker):
        try:
            barrier.wait()
            exchange.take(duty_pk, taker)
            results[taker.pk] = "won"
        except errors.DutyError as error:
            results[taker.pk] = str(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(t,)) for t in takers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_exactly_one_of_two_simultaneous_takers_gets_the_duty():
    organisation = kv()
    home = area(organisation)
    for _ in range(4):
        doctor(organisation, home)
    plan = published_plan(home)
    # Every duty offered at once, then raced for by two K-Ärzte (and once by five).
    Duty.objects.filter(plan=plan).update(status=Duty.Status.OFFERED)
    duties = list(plan.duties.order_by("start"))
    rounds = 0
    for duty in duties[::3]:  # every third: far enough apart that the winners' rest periods never clash
        takers = [doctor(organisation, kind=DutyDoctor.Kind.COOPERATING) for _ in range(2 if rounds else 5)]
        results = race(duty.pk, takers)
        assert len(results) == len(takers)
        winners = [pk for pk, outcome in results.items() if outcome == "won"]
        assert len(winners) == 1, results
        assert all(
            outcome
            in ("won", "Diesen Dienst hat gerade jemand anderes übernommen.", "Dieser Dienst ist bereits vergeben.")
            for outcome in results.values()
        )
        duty.refresh_from_db()
        assert duty.doctor_id == winners[0] and duty.status == Duty.Status.ASSIGNED
        rounds += 1
    assert rounds >= 4
