"""People read numbers in German on every page (issue 13): the main pages of each role, with real
data in them, show no figure with an English decimal point ("14.29 h", "306.61 €"), and machine
formats stay where machines read them (an SVG coordinate is "51.2", never "51,2")."""

import datetime as dt
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.duty import plans
from sprechzimmer.duty.models import Duty, DutyDoctor, DutyTerms, QuarterRevenue, StatementMail
from tests import factories
from tests.billing.builders import case, kvdt_bytes
from tests.duty.helpers import area, doctor, kv, logged_in, staff

pytestmark = pytest.mark.django_db

# One dot between digits, not followed by exactly three digits (1.200 is German for twelve hundred)
# and not part of a date (29.11.2026) or a version (EBM 4.3.1).
ENGLISH_DECIMAL = re.compile(r"(?<![\d.,])\d+\.(?:\d{1,2}|\d{4,})(?![\d.,])")
LOCALISED_COORDINATE = re.compile(r'\b(?:x|y|x1|x2|y1|y2|width|height)="-?\d+,\d+"')


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def assert_german(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    english = ENGLISH_DECIMAL.findall(visible_text(html))
    assert not english, f"{url} shows figures with an English decimal point: {english}"
    assert not LOCALISED_COORDINATE.findall(html), f"{url} writes localised numbers into SVG coordinates"
    return html


@pytest.fixture
def world():
    own = kv("KV Zahlen")
    home = area(own, "Mitte")
    for weight in ("1", "0.75", "0.5", "1", "1"):
        doctor(own, home, weight=weight)
    k_arzt = doctor(own, kind=DutyDoctor.Kind.COOPERATING)
    DutyTerms.objects.create(
        kv=own,
        valid_from=dt.date(2025, 1, 1),
        hourly_rate=Decimal("1234.5"),
        missed_duty_fee=Decimal("1000"),
        bonus_share=Decimal("0.5"),
        notice_weeks=6,
    )
    first = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    past = plans.generate_plan(home, first, first + dt.timedelta(days=6), today=first)
    plans.publish(past, today=first)
    taken = list(past.duties.order_by("start"))[::4][:3]
    Duty.objects.filter(pk__in=[d.pk for d in taken]).update(doctor=k_arzt)
    monday = timezone.localdate() + dt.timedelta(days=7 - timezone.localdate().weekday() + 7)
    draft = plans.generate_plan(home, monday, monday + dt.timedelta(days=13))
    StatementMail.objects.create(doctor=k_arzt, year=first.year, month=first.month, payout=Decimal("1234.56"))
    QuarterRevenue.objects.create(
        practice=home.practices.first(),
        year=first.year,
        number=(first.month - 1) // 3 + 1,
        lanr=k_arzt.lanr,
        cases=3,
        points_x100=123456,
        revenue=Decimal("1480.33"),
    )
    return type("W", (), dict(kv=own, area=home, staff=staff(own), k_arzt=k_arzt, draft=draft, past=past, first=first))


def test_duty_pages_speak_german_numbers(client, world):
    logged_in(client, world.staff)
    for url in (
        reverse("duty_kv"),
        reverse("duty_plan", args=[world.draft.pk]),
        reverse("duty_plan", args=[world.past.pk]),
        reverse("duty_area", args=[world.area.pk]),
        reverse("duty_cooperating"),
        reverse("duty_revenues"),
        reverse("duty_doctor_statement", args=[world.k_arzt.pk, world.first.year, world.first.month]),
        # The bonus's explanation line (it read "0.00 €" under a table of "0,00 €").
        reverse("duty_doctor_bonus", args=[world.k_arzt.pk, 2027, 5]),
    ):
        html = assert_german(client, url)
    assert "1.234,50" in assert_german(client, reverse("duty_cooperating"))  # thousands grouped too
    # Hours in the plan's table with two decimals, as "Soll 169,50 h" above it (the table said "169,5").
    table = assert_german(client, reverse("duty_plan", args=[world.draft.pk])).split('id="explanation"')[1]
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in table.split("</table>")[0].split("<tr>")[2:]]
    hours = [re.sub(r"<.*", "", row[i], flags=re.S).strip() for row in rows for i in (2, 3, 8, 9)]
    assert hours and all(re.fullmatch(r"-?[\d.]+,\d\d", h) for h in hours), hours
    client.logout()
    logged_in(client, world.k_arzt.user)
    for url in (
        reverse("duty_mine"),
        reverse("duty_exchange"),
        reverse("duty_statements"),
        reverse("duty_bonus", args=[2027, 5]),
        reverse("duty_statement", args=[world.first.year, world.first.month]),
    ):
        html = assert_german(client, url)
    assert re.search(r"\d,\d\d\u00a0€", html)  # the statement's amounts, German and unbroken


def test_billing_pages_speak_german_numbers_and_draw_their_chart(client):
    practice = factories.practice("Praxis Zahlen")
    user = factories.member(practice, main=True)
    client.force_login(user)
    client.get(reverse("dashboard"))
    from django.core.files.uploadedfile import SimpleUploadedFile

    cases = [case((2, ["03000", "01450"]), case_id=f"V{n}") for n in range(5)] + [case((3, ["03000"]), case_id="P1")]
    response = client.post(
        reverse("billing_upload"), {"file": SimpleUploadedFile("q.con", kvdt_bytes(cases)), "quarter": ""}
    )
    assert response.status_code == 200, response.content
    html = assert_german(client, reverse("billing"))
    assert re.search(r'<rect x="\d+" y="[\d.]+" width="24" height="[\d.]+"', html)  # the bars are drawn
    assert_german(client, response.json()["redirect"])


def test_finding_counts_of_a_big_report_are_grouped(client):
    """A new user's walk read "1.399 Behandlungsfälle … 2.332 Fehler" above counters "Fehler 2332"."""
    practice = factories.practice("Praxis Tausend")
    user = factories.member(practice, main=True)
    client.force_login(user)
    client.get(reverse("dashboard"))
    from django.core.files.uploadedfile import SimpleUploadedFile

    cases = [case((2, ["03000", "01450"]), case_id=f"V{n}") for n in range(1100)]
    response = client.post(
        reverse("billing_upload"), {"file": SimpleUploadedFile("q.con", kvdt_bytes(cases)), "quarter": ""}
    )
    html = client.get(response.json()["redirect"]).content.decode()
    counts = re.findall(r'class="count">([^<]+)<', html)
    assert any(re.fullmatch(r"\d{1,3}(\.\d{3})+( Befunde)?", c) for c in counts), counts
    assert not any(re.match(r"\d{4,}", c) for c in counts), counts
