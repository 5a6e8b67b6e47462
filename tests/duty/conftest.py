import dataclasses
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.billing.domain.model import Quarter
from sprechzimmer.billing.domain.rulesets import RuleBook
from sprechzimmer.duty import plans
from sprechzimmer.duty.domain.pay import quarter_range
from sprechzimmer.duty.models import CooperationApplication, Duty, DutyDoctor

from .helpers import area, doctor, kv, staff


@pytest.fixture(autouse=True)
def quick_planner(settings):
    settings.DUTY_PLAN_WORK = 0.5  # deterministic time per plan: small, the tests check rules, not optimality


class DutyWorld:
    """One KV as the duty tests need it: an area with four obliged doctors and one at half weight, a
    K-Arzt, the KV's staff; and another KV with its staff and area (the outsider). Scenarios that
    some tests need on top are methods: each makes a plan of the past as of its own dates."""

    def __init__(self):
        self.kv = kv("KV Eins")
        self.area = area(self.kv, "Mitte")
        self.obliged = [doctor(self.kv, self.area) for _ in range(4)]
        self.half = doctor(self.kv, self.area, weight="0.5")
        self.k_arzt = doctor(self.kv, kind=DutyDoctor.Kind.COOPERATING)
        self.staff = staff(self.kv)
        self.practice = self.area.practices.get()
        self.other_kv = kv("KV Zwei")
        self.other_staff = staff(self.other_kv)
        self.other_area = area(self.other_kv, "Fremd")

    def _week_served_by_the_k_arzt(self, first: dt.date, every: int, count: int) -> None:
        """A week's plan made and published back then; the K-Arzt took every ``every``-th duty."""
        self.plan = plans.generate_plan(self.area, first, first + dt.timedelta(days=6), today=first)
        plans.publish(self.plan, today=first)
        taken = list(self.plan.duties.order_by("start"))[::every][:count]
        Duty.objects.filter(pk__in=[d.pk for d in taken]).update(doctor=self.k_arzt)
        self.taken = [Duty.objects.get(pk=d.pk) for d in taken]

    def served_last_month(self) -> "DutyWorld":
        """The first week of last month; the K-Arzt took three of its duties (pay statements)."""
        self.first = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        self._week_served_by_the_k_arzt(self.first, 4, 3)
        return self

    def served_last_quarter(self) -> "DutyWorld":
        """The last week of the previous quarter; the K-Arzt took two duties (half-year bonus)."""
        today = timezone.localdate()
        current = (today.month - 1) // 3 + 1
        self.quarter = Quarter(today.year - 1, 4) if current == 1 else Quarter(today.year, current - 1)
        last = quarter_range(self.quarter)[1]
        self._week_served_by_the_k_arzt(last - dt.timedelta(days=6), 4, 2)
        self.payout = (self.quarter.year + 1, 5) if self.quarter.number >= 3 else (self.quarter.year, 11)
        self.other_payout = (self.payout[0], 16 - self.payout[1])
        return self


def orientation_value_known(year: int, monkeypatch) -> None:
    """For a quarter of ``year``, which this version may have no Orientierungswert for yet (it is set
    in the autumn before): the test runs as on an instance updated in time, with the newest value
    standing in for the year's."""
    book = RuleBook.load()
    values = book.orientation_values_ct
    if year not in values:
        updated = dataclasses.replace(book, orientation_values_ct={**values, year: values[max(values)]})
        monkeypatch.setattr(RuleBook, "load", classmethod(lambda cls, path=None: updated))


@pytest.fixture
def world(db) -> DutyWorld:
    return DutyWorld()


@pytest.fixture
def applicant(client, mailoutbox, django_capture_on_commit_callbacks):
    """A K-Arzt application started through the page: its KV, the KV's staff, the secret link."""
    own = kv("KV Eins")
    area(own, "Mitte")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("coop_start"),
            {"kv": own.pk, "full_name": "Dr. Nora Neu", "email": "Nora@Example.org", "birth_date": "1985-02-03"},
        )
    token = response.url.rstrip("/").rsplit("/", 1)[1]
    return type(
        "W",
        (),
        dict(
            kv=own,
            staff=staff(own),
            token=token,
            url=response.url,
            mail=mailoutbox[-1],
            app=CooperationApplication.objects.get(email="nora@example.org"),
        ),
    )
