"""A swap being accepted and a plain take of the same duty at the same moment: exactly one wins, and
the loser changes nothing. Real threads with their own database connections, released together by a
barrier. On PostgreSQL (DATABASE_URL) the second writer waits for the first and finds the duty
changed; SQLite may refuse it at once ("table is locked"), which the action answers with "bitte
erneut versuchen" — and the thread tries again, as the page tells the doctor to."""

import functools
import threading
import time

import pytest
from django.db import connection

from sprechzimmer.duty import errors, exchange, swaps
from sprechzimmer.duty.models import Duty, DutyDoctor, SwapOffer

from .helpers import area, doctor, kv, published_plan

pytestmark = pytest.mark.django_db(transaction=True)

LOST = {
    "Dieser Dienst ist bereits vergeben.",
    "Diesen Dienst hat gerade jemand anderes übernommen.",
    "Dieses Tauschangebot ist hinfällig.",
}


def _lost(outcome: str) -> bool:
    return outcome in LOST or "der Tausch ist nicht erfolgt" in outcome or "Tausch ist hinfällig" in outcome


def race(*attempts, delays=(0.0, 0.0)) -> list[str]:
    barrier = threading.Barrier(len(attempts))
    results: list[str] = [""] * len(attempts)

    def run(index, action):
        try:
            barrier.wait()
            time.sleep(delays[index])
            for _ in range(200):
                try:
                    action()
                    results[index] = "won"
                    return
                except errors.DutyError as error:
                    results[index] = str(error)
                    if results[index] != errors.BUSY:
                        return
                time.sleep(0.005)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_a_swap_and_a_take_of_the_same_duty_have_exactly_one_winner():
    organisation = kv()
    home = area(organisation)
    filler = doctor(organisation, home)
    for _ in range(3):
        doctor(organisation, home)
    plan = published_plan(home, days=14)
    duties = list(plan.duties.order_by("start"))
    Duty.objects.filter(plan=plan).update(doctor=filler)
    outcomes = {"swap": 0, "take": 0}
    # The swap does more before it writes than the take: the take sets off a little later in some
    # rounds, so that either may come first and both are seen deciding on the same state.
    delays = [0.0, 0.002, 0.005, 0.01, 0.02, 0.04]
    for x, y, delay in zip(duties[0:12:2], duties[14:26:2], delays, strict=True):
        a, b = doctor(organisation, home), doctor(organisation, home)
        taker = doctor(organisation, kind=DutyDoctor.Kind.COOPERATING)
        Duty.objects.filter(pk=x.pk).update(doctor=a, status=Duty.Status.OFFERED)  # also in the exchange
        Duty.objects.filter(pk=y.pk).update(doctor=b)
        offer = swaps.offer_swap(a, x.pk, b, y.pk)
        swap, take = race(
            functools.partial(swaps.accept, offer.pk, b),
            functools.partial(exchange.take, x.pk, taker),
            delays=(0.0, delay),
        )
        assert sorted([swap == "won", take == "won"]) == [False, True], (connection.vendor, swap, take)
        assert _lost(take if swap == "won" else swap), (connection.vendor, swap, take)
        x.refresh_from_db()
        y.refresh_from_db()
        offer.refresh_from_db()
        if swap == "won":
            outcomes["swap"] += 1
            assert (x.doctor, y.doctor, offer.status) == (b, a, SwapOffer.Status.DONE)
        else:
            outcomes["take"] += 1
            assert (x.doctor, y.doctor, offer.status) == (taker, b, SwapOffer.Status.VOID)
        assert x.status == Duty.Status.ASSIGNED
    assert sum(outcomes.values()) == len(delays)
