"""Half-year bonus from the Notfallpraxen's quarter files, and pseudo cases for duties without GKV
patients, through the web (issue 6)."""

import io
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sprechzimmer.billing.domain.catalogue import Catalogue
from sprechzimmer.billing.domain.kvdt import KvdtReader, kvdt_line, write_kvdt
from sprechzimmer.billing.domain.model import Case, Quarter, Service
from sprechzimmer.billing.domain.rulesets import RuleBook
from sprechzimmer.duty import bonus
from sprechzimmer.duty.domain.pay import quarter_range
from sprechzimmer.duty.models import Duty, QuarterRevenue

from .conftest import orientation_value_known
from .helpers import kv, logged_in, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(world):
    return world.served_last_quarter()


def quarter_file(quarter: Quarter, lanr: str, cases: int = 30, extra: dict | None = None) -> bytes:
    day = quarter_range(quarter)[0]
    own = [Case(f"K{i}", "0104", subgroup="41", services=[Service("01212", day, 0, lanr=lanr)]) for i in range(cases)]
    other = [Case("O1", "0104", subgroup="41", services=[Service("01210", day, 0, lanr="838382202")])]
    out = io.BytesIO()
    write_kvdt(own + other, quarter, "529999900", out, extra=extra)
    return out.getvalue()


def upload(client, practice, content: bytes):
    return client.post(
        reverse("duty_revenue_upload"), {"practice": practice.pk, "file": SimpleUploadedFile("q.con", content)}
    )


@pytest.fixture
def year_known(world, monkeypatch):
    orientation_value_known(world.quarter.year, monkeypatch)


def test_revenue_per_lanr_from_the_quarter_file_and_the_bonus(client, world, year_known):
    logged_in(client, world.staff)
    # A file that still carries patient names is refused: the browser must strip it first.
    response = upload(
        client, world.practice, quarter_file(world.quarter, world.k_arzt.lanr, extra={"K0": {"3101": "Mustermann"}})
    )
    assert response.status_code == 400, response.content
    assert "nicht übernommen" in response.json()["error"]
    assert not QuarterRevenue.objects.exists()

    response = upload(client, world.practice, quarter_file(world.quarter, world.k_arzt.lanr))
    assert response.json()["redirect"] == reverse("duty_revenues")
    points = Catalogue.load().gops["01212"].points
    ov = RuleBook.load().orientation_value(world.quarter.year)
    expected = (Decimal(points) * 30 * ov / 100).quantize(Decimal("0.01"))
    mine = QuarterRevenue.objects.get(lanr=world.k_arzt.lanr)
    assert (mine.year, mine.number, mine.cases, mine.revenue) == (
        world.quarter.year,
        world.quarter.number,
        30,
        expected,
    )
    assert QuarterRevenue.objects.count() == 2
    upload(client, world.practice, quarter_file(world.quarter, world.k_arzt.lanr, cases=10))  # replaces
    assert QuarterRevenue.objects.get(lanr=world.k_arzt.lanr).cases == 10
    revenue = QuarterRevenue.objects.get(lanr=world.k_arzt.lanr).revenue

    hourly = sum(d.hours for d in world.taken) * 50
    statement = bonus.bonus_statement(world.k_arzt, *world.payout)  # May: Q3 + Q4 before; November: Q1 + Q2
    assert (statement.revenue, statement.hourly_pay) == (revenue, hourly)
    assert statement.bonus == max(Decimal("0.00"), ((revenue - hourly) / 2).quantize(Decimal("0.01"), ROUND_HALF_UP))
    page = client.get(reverse("duty_doctor_bonus", args=[world.k_arzt.pk, *world.payout])).content.decode()
    assert str(world.quarter) in page and statement.explanation in page
    # The other payout month covers other quarters: nothing there.
    assert bonus.bonus_statement(world.k_arzt, *world.other_payout).bonus == 0


def test_a_positive_bonus_is_half_the_difference(world):
    QuarterRevenue.objects.create(
        practice=world.practice,
        year=world.quarter.year,
        number=world.quarter.number,
        lanr=world.k_arzt.lanr,
        cases=400,
        points_x100=0,
        revenue=Decimal("9000.01"),
        filename="q.con",
    )
    hourly = sum(d.hours for d in world.taken) * 50
    statement = bonus.bonus_statement(world.k_arzt, *world.payout)
    expected = ((Decimal("9000.01") - hourly) * Decimal("0.5")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert statement.bonus == expected > 0


def test_revenue_upload_and_bonus_are_refused_to_outsiders(client, world):
    other_staff = staff(kv("KV Zwei"))
    logged_in(client, other_staff)
    response = upload(client, world.practice, quarter_file(world.quarter, world.k_arzt.lanr))
    assert response.status_code == 400 and "Notfallpraxis Ihrer KV" in response.json()["error"]
    assert client.get(reverse("duty_doctor_bonus", args=[world.k_arzt.pk, *world.payout])).status_code == 404
    client.logout()
    logged_in(client, world.k_arzt.user)
    assert client.post(reverse("duty_revenue_upload")).status_code == 404
    assert client.get(reverse("duty_bonus", args=[*world.payout])).status_code == 200  # their own
    assert client.get(reverse("duty_bonus", args=[world.payout[0], 6])).status_code == 404  # no payout in June
    assert not QuarterRevenue.objects.exists()


def test_pseudo_cases_for_duties_without_gkv_patients(client, world):
    served, other = world.taken[0], world.plan.duties.exclude(doctor=world.k_arzt).first()
    logged_in(client, world.k_arzt.user)
    page = client.get(reverse("duty_mine")).content.decode()
    assert f'data-duty="{served.pk}"' in page  # past duties are listed
    client.post(reverse("duty_without_gkv", args=[served.pk]), {"value": "1"})
    response = client.post(reverse("duty_without_gkv", args=[other.pk]), {"value": "1"}, follow=True)
    assert "nicht Ihr Dienst" in response.content.decode()
    assert list(Duty.objects.filter(without_gkv_patients=True)) == [served]

    client.logout()
    logged_in(client, world.staff)
    q = world.quarter
    response = client.get(reverse("duty_pseudo_cases", args=[world.area.pk, q.year, q.number]))
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="Z01529999900_pseudofaelle_{q.number}_{q.year}'
    )
    cases = list(KvdtReader(io.BytesIO(response.content)))
    assert len(cases) == 1 and cases[0].lanr == world.k_arzt.lanr and cases[0].emergency
    service = cases[0].services[0]
    assert (service.gop, service.date, service.time) == ("99999", served.day, f"{served.local_start:%H:%M}")
    assert kvdt_line("3101", "Notfalldienst Arzt 1") in response.content
    assert client.get(reverse("duty_pseudo_cases", args=[world.area.pk, q.year, 5])).status_code == 302  # no Q5
    client.logout()
    logged_in(client, staff(kv("KV Drei")))
    assert client.get(reverse("duty_pseudo_cases", args=[world.area.pk, q.year, q.number])).status_code == 404


def test_a_quarter_without_its_orientierungswert_is_refused_and_stores_nothing(client, world):
    """Pay is never computed with a provisional Orientierungswert: a quarter file of a year this
    version does not know yet is refused with a German message (the EBM check shows it as provisional)."""
    logged_in(client, world.staff)
    year = max(RuleBook.load().orientation_values_ct) + 1
    response = upload(client, world.practice, quarter_file(Quarter(year, 1), world.k_arzt.lanr))
    assert response.status_code == 400
    assert f"Für {year} ist noch kein Orientierungswert hinterlegt" in response.json()["error"]
    assert not QuarterRevenue.objects.exists()
