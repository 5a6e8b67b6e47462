"""A patient books a video appointment on the practice's booking page, on a phone (issue 19):
the main user sets the page up, the patient picks a slot and types name and contact, which leave
the browser only encrypted to the practice's key; the code and link are shown once; the practice's
calendar shows the patient's name, and the server's database and log never held it."""

from __future__ import annotations

import datetime as dt

import pytest

from sprechzimmer.demo.data import DEMO_PASSWORD, DEMO_USERS
from tests.browser.helpers import login
from tests.browser.test_practice_overview import screenshots

pytestmark = pytest.mark.browser

(DOCTOR, _, _, _, DOCTOR_TOTP), _staff = DEMO_USERS
PATIENT = "Paula Buchbinder-Öztürk"
WEEKDAYS = ["0", "1", "2", "3", "4", "5", "6"]


def test_a_patient_books_on_a_phone_and_the_practice_sees_the_name(new_page, server, sent_requests):
    doctor = new_page()
    login(doctor, DOCTOR, DEMO_PASSWORD, DOCTOR_TOTP)
    doctor.goto("/praxis/termine/")
    doctor.wait_for_selector("#days > *")  # the practice key pair exists once a member has opened it
    doctor.goto("/praxis/online-buchung/")
    day = dt.date.today() + dt.timedelta(days=2)
    doctor.select_option("#id_hours-doctor", label="Dr. med. Anna Demo")
    doctor.select_option("#id_hours-weekday", WEEKDAYS[day.weekday()])
    doctor.fill("#id_hours-start", "06:00")
    doctor.fill("#id_hours-end", "06:45")
    doctor.fill("#id_hours-slot_minutes", "15")
    with doctor.expect_navigation():
        doctor.click("button:has-text('Hinzufügen')")
    doctor.check("#id_page-enabled")
    with doctor.expect_navigation():
        doctor.click("button:has-text('Speichern')")
    public_url = doctor.get_attribute("#public-url", "href")

    patient = new_page()
    patient.set_viewport_size({"width": 390, "height": 844})
    patient.goto(public_url)
    patient.click("button:has-text('Termin verbindlich buchen')")  # nothing chosen: a message, nothing sent
    patient.wait_for_selector(".message:has-text('Bitte wählen Sie einen Termin')")
    screenshots(patient, "booking-form")
    patient.set_viewport_size({"width": 390, "height": 844})
    patient.check("input[name=slot] >> nth=0")
    patient.fill("#b-name", PATIENT)
    patient.fill("#b-email", "paula@example.org")
    patient.fill("#b-note", "<script>alert(1)</script> Rückenschmerzen")
    # A birth date ahead or a phone number that is none: said here (only this page sees them).
    for field, value, said in (
        ("#b-birth", "2099-01-01", "Bitte prüfen Sie das Geburtsdatum"),
        ("#b-phone", "<script>", "Telefonnummer nur mit Ziffern"),
    ):
        patient.fill(field, value)
        patient.click("button:has-text('Termin verbindlich buchen')")
        patient.wait_for_selector(f".message:has-text('{said}')")
        assert patient.is_hidden("#booked")
        patient.fill(field, "")
    patient.click("button:has-text('Termin verbindlich buchen')")
    patient.wait_for_selector("#booked:not([hidden])", timeout=60_000)
    code = patient.text_content("#booked-code")
    assert code and patient.get_attribute("#booked-link", "href").endswith(f"#code={code}")
    assert "06:00 Uhr" in patient.text_content("#booked-when")
    screenshots(patient, "booking-done")

    doctor.goto("/praxis/termine/")
    doctor.wait_for_selector("#days > *")
    doctor.fill("#day", day.isoformat())
    doctor.wait_for_selector(f"#days :text('{PATIENT}')")
    assert doctor.locator(".booking-notice", has_text="Online gebucht").count() == 1

    bodies = b"".join(r.body for r in sent_requests)
    dump = server.db.dump() + server.log()
    for secret in (PATIENT, "paula@example.org", "Rückenschmerzen"):
        assert secret.encode() not in bodies and secret not in dump
    # the only console line: the booking's first answer, 429 with the proof-of-work challenge
    assert [e for e in patient.errors if "status of 429" not in e] == []
