"""The waiting alert on any practice page: when a patient enters the waiting room, the doctor's tab
title shows the count, a knock plays and, once allowed, a desktop notification appears, also
while the doctor is on a page that has nothing to do with appointments."""

import re

import pytest

from sprechzimmer.demo.data import DEMO_PASSWORD
from tests.browser.helpers import login
from tests.browser.test_video_call import DOCTOR, DOCTOR_TOTP, book_appointment, patient_enters_waiting_room

pytestmark = pytest.mark.browser

NAME = "Greta Klopf-Alarm"

# Records what the page asks the browser's real Notification to show (the constructor still runs).
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  window.__shown = [];
  class Recorded extends Real {
    constructor(title, options) {
      super(title, options);
      window.__shown.push({ title, body: options && options.body, tag: options && options.tag });
    }
  }
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
  Recorded.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Recorded;
})();
"""


@pytest.fixture
def doctor(browser, server):
    context = browser.new_context(
        base_url=server.url, locale="de-DE", timezone_id="Europe/Berlin", permissions=["notifications"]
    )
    context.set_default_timeout(20_000)
    context.add_init_script(RECORD_NOTIFICATIONS)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    yield page
    context.close()


#: How many of the practice's appointments of today have their patient waiting (the page's own API).
WAITING_NOW = """async () => {
  const day = new Date().toLocaleDateString("sv");
  const response = await fetch(`/api/termine/?von=${day}&bis=${day}`);
  return (await response.json()).appointments.filter((a) => a.status === "waiting").length;
}"""


def test_a_waiting_patient_alerts_the_doctor_on_another_page(doctor, new_page):
    login(doctor, DOCTOR, DEMO_PASSWORD, DOCTOR_TOTP)
    code, _ = book_appointment(doctor, NAME)
    doctor.goto("/praxis/mitglieder/")
    assert doctor.evaluate("Notification.permission") == "granted"
    # Patients other tests of this worker left waiting on the shared server count too: the title
    # shows them (seeded at page load) and the badge must go up by this test's patient.
    baseline = doctor.evaluate(WAITING_NOW)
    badge = f"({baseline}) " if baseline else ""
    doctor.wait_for_function(
        f"() => document.title.startsWith({badge!r}) && !/^\\({baseline + 1}\\) /.test(document.title)"
    )
    before = doctor.evaluate("window.__shown.length")
    doctor.click("h1")  # a member who touched the page: the browser lets it play sound

    patient = new_page()
    patient_enters_waiting_room(patient, code)

    doctor.wait_for_function(f"() => /^\\({baseline + 1}\\) Mitglieder/.test(document.title)")
    doctor.wait_for_function(f"() => window.__shown.length > {before}")
    shown = doctor.evaluate("window.__shown")[-1]
    assert shown["title"] == "Ein Patient wartet im Wartezimmer"
    assert "Dr. med. Anna Demo" in shown["body"]
    assert NAME not in shown["body"]  # no patient name on the computer's notification centre
    doctor.wait_for_function("() => Number(document.documentElement.dataset.knocks || 0) > 0")
    assert not doctor.errors, doctor.errors

    # The patient leaves: the count goes down again (the title loses this patient).
    count = int(re.match(r"^\((\d+)\)", doctor.title()).group(1))
    patient.close()
    doctor.wait_for_function(f"() => !/^\\({count}\\) /.test(document.title)", timeout=30_000)
