"""The appointments page under a user who moves on faster than the server answers: only the
day asked for last may be drawn. A slow answer for a day already left used to replace the day on
screen (seen in CI as an empty day that never showed)."""

from __future__ import annotations

import re

import pytest

from sprechzimmer.demo.data import DEMO_PASSWORD, DEMO_USERS
from tests.browser.helpers import login

pytestmark = pytest.mark.browser

(DOCTOR, _, _, _, DOCTOR_TOTP), _staff = DEMO_USERS


def test_a_late_answer_for_a_day_already_left_is_not_drawn(new_page, server):
    page = new_page()
    login(page, DOCTOR, DEMO_PASSWORD, DOCTOR_TOTP)
    page.goto("/praxis/termine/")
    page.wait_for_selector("#days > *")  # the first load, after the practice key was opened, has drawn
    held = []
    first_week = re.compile(r"/api/termine/\?von=2031-03-05&")
    page.route(first_week, lambda route: held.append(route))  # the first day's answer waits
    page.fill("#day", "2031-03-05")
    page.wait_for_function("() => document.querySelector('#calendar .status').textContent !== ''")
    page.fill("#day", "2031-03-12")
    page.wait_for_selector("#days .empty:has-text('Keine Termine')")
    assert len(held) == 1
    with page.expect_response(first_week):
        held[0].continue_()
    page.wait_for_timeout(1000)  # time for the late answer to draw, as it did before the fix
    page.click("#days .empty-new")
    page.wait_for_selector("#appointment-dialog[open]")
    assert page.input_value("#f-date") == "2031-03-12"  # the day asked for last
    assert page.text_content("#calendar .status") == ""


def test_an_appointment_booked_late_in_the_evening_is_shown_on_its_day(new_page, server):
    """At 23:50 the proposed next quarter hour is tomorrow's 00:00: after saving, the calendar moves
    to that day instead of leaving the new appointment off screen (seen in CI as the keyboard test
    failing when it ran shortly before midnight)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    page = new_page()
    login(page, DOCTOR, DEMO_PASSWORD, DOCTOR_TOTP)
    day = dt.date.today() + dt.timedelta(days=10)
    page.clock.set_system_time(dt.datetime.combine(day, dt.time(23, 50), ZoneInfo("Europe/Berlin")))
    page.goto("/praxis/termine/")
    page.wait_for_selector("#calendar .status:empty", state="attached")
    assert page.input_value("#day") == day.isoformat()
    page.click("#new-appointment")
    page.wait_for_selector("#appointment-dialog[open]")
    tomorrow = (day + dt.timedelta(days=1)).isoformat()
    assert page.input_value("#f-date") == tomorrow and page.input_value("#f-time") == "00:00"
    page.fill("#f-name", "Nora Nachtbuchung")
    page.click("#appointment-dialog button[type=submit]")
    page.wait_for_selector("#invitation-dialog[open]")
    page.keyboard.press("Escape")
    page.wait_for_selector(".appointment:has-text('Nora Nachtbuchung')")
    assert page.input_value("#day") == tomorrow


def test_a_double_click_on_save_books_one_appointment(new_page, server):
    """A double click on "Speichern" sent the form twice: two appointments, and the second one's
    code was never shown (found by a new user's walk). One submission at a time (ui/forms.js)."""
    page = new_page()
    login(page, DOCTOR, DEMO_PASSWORD, DOCTOR_TOTP)
    page.goto("/praxis/termine/")
    page.wait_for_selector("#calendar .status:empty", state="attached")
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/api/termine/" in r.url else None)
    page.click("#new-appointment")
    page.wait_for_selector("#appointment-dialog[open]")
    page.fill("#f-name", "Dora Doppelklick")
    page.dblclick("#appointment-dialog button[type=submit]")
    page.wait_for_selector("#invitation-dialog[open]")
    page.click("#invitation-dialog .close-dialog")
    page.wait_for_selector(".appointment:has-text('Dora Doppelklick')")
    page.wait_for_timeout(1000)  # a second POST, had one been sent, would have been answered by now
    assert len(posts) == 1, posts
    assert page.locator(".appointment:has-text('Dora Doppelklick')").count() == 1
