"""The practice's start page in a real browser: today's appointments with names decrypted in the
browser, and who is waiting, live from the practice feed."""

import re
from pathlib import Path

import pytest

from sprechzimmer.demo.data import DEMO_PASSWORD
from tests.browser.helpers import login
from tests.browser.test_video_call import DOCTOR, DOCTOR_TOTP, book_appointment, patient_enters_waiting_room
from tests.node import axe_core

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
NAME = "Frieda Overview-Wartend"


def test_overview_lists_today_and_who_waits_live(new_page, server):
    doctor = new_page()
    login(doctor, DOCTOR, DEMO_PASSWORD, DOCTOR_TOTP)
    code, _ = book_appointment(doctor, NAME)
    doctor.goto("/praxis/")
    doctor.wait_for_selector("#today[data-state=ready]")
    # "Mittwoch, 2. Dezember": the day and its month stay on one line (a phone broke after "2.").
    assert re.fullmatch(r"\w+, \d{1,2}\.\u00a0\w+", doctor.text_content("#today-date")), doctor.text_content(
        "#today-date"
    )
    row = doctor.locator("#today .day-item", has_text=NAME)
    assert row.count() == 1
    assert row.locator(".status-pill").text_content() == "geplant"
    assert doctor.locator("#waiting-list .waiting-item").count() == 0
    assert doctor.is_visible("#waiting-empty")
    # The name never reached the server in the clear: it is in the page, decrypted here.
    assert NAME not in server.db.dump()

    patient = new_page()
    patient_enters_waiting_room(patient, code)
    # Live: no reload on the doctor's side.
    waiting = doctor.locator("#waiting-list .waiting-item", has_text=NAME)
    waiting.wait_for()
    assert waiting.locator("a.button").get_attribute("href").endswith("/raum/")
    assert int(doctor.locator("#waiting-count").text_content()) >= 1
    assert not doctor.is_visible("#waiting-empty")
    assert row.locator(".status-pill").text_content() == "wartet"
    assert not doctor.errors, doctor.errors
    screenshots(doctor, "overview")


def screenshots(page, name: str) -> None:
    """The page at desktop and phone size, for looking at (test-artifacts/ is ignored by git), and
    axe-core's WCAG 2.2 AA check at each size: no serious or critical violation."""
    ARTIFACTS.mkdir(exist_ok=True)
    before = page.viewport_size
    for width, height in ((1366, 768), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}x{height}.png"), full_page=True)
        problems = axe_violations(page)
        assert not problems, f"{name} at {width}×{height}: {problems}"
    if before:
        page.set_viewport_size(before)


def axe_violations(page) -> list[str]:
    """Serious and critical WCAG 2.2 A/AA violations that axe-core finds on the page as it is.
    axe is evaluated through the test driver, so the page's CSP (no inline scripts) stays on."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_core().read_text(encoding="utf-8"))
    result = page.evaluate(
        """() => axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}})
             .then(r => r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
               .map(v => `${v.id}: ${v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ")}`))"""
    )
    return result
