"""A duty swap in the browser (issue 21): an obliged doctor offers one of her duties for a named
colleague's duty on a day; the colleague gets the request by mail, accepts it on the exchange page;
both duties change hands at once, both are told by mail, and the calendar feed of each follows."""

import json
import urllib.request

import pytest

from sprechzimmer.demo.data import DEMO_PASSWORD
from tests.browser.helpers import login

pytestmark = pytest.mark.browser

WEST, ZEIT = "west@demo.sprechzimmer.test", "zeit@demo.sprechzimmer.test"
WEST_TOTP, ZEIT_TOTP = "KRUGS4ZANFZSAYJA", "MFRGGZDFMZTWQ2LK"


def swappable_pair(server) -> dict:
    """Two duties of the demo plan, one of each doctor, that the rules let them swap (qualification,
    no overlap, rest period, for both sides); both doctors get a second factor (the demo leaves them
    without one)."""
    out = server.manage(
        "shell",
        "-c",
        "import datetime as dt, json\n"
        "from django.utils import timezone\n"
        "from sprechzimmer.demo import provisioning as p\n"
        "from sprechzimmer.duty.errors import DutyError\n"
        "from sprechzimmer.duty.models import Duty, DutyDoctor, Plan\n"
        "from sprechzimmer.duty.serving import check_may_serve\n"
        f"west = DutyDoctor.objects.get(user__email={WEST!r})\n"
        f"zeit = DutyDoctor.objects.get(user__email={ZEIT!r})\n"
        f"p.enable_totp(west.user, {WEST_TOTP!r})\n"
        f"p.enable_totp(zeit.user, {ZEIT_TOTP!r})\n"
        "mine = lambda d: Duty.objects.filter(plan__status=Plan.Status.PUBLISHED, doctor=d, substitute=None, "
        "status=Duty.Status.ASSIGNED, start__gt=timezone.now() + dt.timedelta(days=2)).order_by('start')\n"
        "def fits(d, duty, gone):\n"
        "    try:\n"
        "        check_may_serve(d, duty, ignore={gone.pk})\n"
        "        return True\n"
        "    except DutyError:\n"
        "        return False\n"
        "pair = next((x, y) for x in mine(west) for y in mine(zeit) if fits(zeit, x, y) and fits(west, y, x))\n"
        "x, y = pair\n"
        "print(json.dumps({'x': x.pk, 'y': y.pk, 'x_label': str(x), 'y_day': y.day.isoformat(), "
        "'x_start': x.start.strftime('%Y%m%dT%H%M%SZ'), 'y_start': y.start.strftime('%Y%m%dT%H%M%SZ')}))\n",
    )
    return json.loads(out.strip().splitlines()[-1])


def feed_of(page) -> str:
    """The doctor's calendar feed, through a link made on their duties page."""
    page.goto("/dienste/")
    with page.expect_navigation():
        page.click("form[action$='/dienste/kalender/'] button:has-text('Neuen Kalender-Link')")
    url = page.input_value("#calendar-url")
    with urllib.request.urlopen(url) as response:  # a calendar app, no session
        return response.read().decode()


def test_two_doctors_swap_duties(new_page, server):
    pair = swappable_pair(server)
    west = new_page()
    login(west, WEST, DEMO_PASSWORD, WEST_TOTP)
    west.goto("/dienste/boerse/")
    west.select_option("#swap-offer select[name=duty]", str(pair["x"]))
    west.fill("#swap-offer input[name=email]", ZEIT)
    west.fill("#swap-offer input[name=day]", pair["y_day"])
    with west.expect_navigation():
        west.click("#swap-offer button[type=submit]")
    assert "Tauschangebot ist an" in west.text_content(".messages")
    assert pair["x_label"] in west.text_content("#my-swaps")
    request = server.mailbox.wait_for(ZEIT, "Tauschanfrage")
    assert "/dienste/boerse/" in request.get_body(("plain",)).get_content()

    zeit = new_page()
    login(zeit, ZEIT, DEMO_PASSWORD, ZEIT_TOTP)
    zeit.goto("/dienste/boerse/")
    assert pair["x_label"] in zeit.text_content("#swap-requests")
    with zeit.expect_navigation():
        zeit.click("#swap-requests button:has-text('Tausch annehmen')")
    assert "Der Tausch ist vollzogen" in zeit.text_content(".messages")

    # Both changed hands in one step; both are told.
    owner = {
        row: server.db.scalar(
            "select u.email from duty_duty t join duty_dutydoctor d on d.id = t.doctor_id "
            f"join accounts_user u on u.id = d.user_id where t.id = {pair[row]}"
        )
        for row in ("x", "y")
    }
    assert owner == {"x": ZEIT, "y": WEST}
    server.mailbox.wait_for(WEST, "Diensttausch")
    server.mailbox.wait_for(ZEIT, "Diensttausch")

    # The calendar feeds follow: each doctor's feed has the duty they took, not the one they gave.
    west_feed, zeit_feed = feed_of(west), feed_of(zeit)
    assert f"DTSTART:{pair['y_start']}" in west_feed and f"DTSTART:{pair['x_start']}" not in west_feed
    assert f"DTSTART:{pair['x_start']}" in zeit_feed and f"DTSTART:{pair['y_start']}" not in zeit_feed
    assert not [e for e in west.errors + zeit.errors if "favicon" not in e]
