"""Booking an appointment and admitting a patient with the keyboard alone (issue 14, WCAG 2.1.1):
the doctor never touches the mouse; every step is reached with Tab and used with Enter or Space."""

from __future__ import annotations

import pytest

from sprechzimmer.demo.data import DEMO_PASSWORD, DEMO_USERS
from tests.browser.helpers import login
from tests.browser.test_video_call import patient_enters_waiting_room, wait_connected_with_video

pytestmark = pytest.mark.browser

(DOCTOR, _, _, _, DOCTOR_TOTP), _staff = DEMO_USERS
NAME = "Kurt Tastatur"


def tab_to(page, selector: str, limit: int = 120) -> None:
    """Presses Tab until the focus is on `selector` (as a person would); fails if it never gets
    there, i.e. the control cannot be reached by keyboard."""
    for _ in range(limit):
        if page.locator(selector).first.evaluate("(e) => e === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} not reachable with Tab")


def test_doctor_books_and_admits_by_keyboard_alone(new_page, server):
    doctor = new_page()
    login(doctor, DOCTOR, DEMO_PASSWORD, DOCTOR_TOTP)
    doctor.goto("/praxis/termine/")
    doctor.wait_for_selector("#calendar .status:empty", state="attached")

    tab_to(doctor, "#new-appointment")
    doctor.keyboard.press("Enter")
    doctor.wait_for_selector("#appointment-dialog[open]")
    # The dialog takes the focus and proposes the next quarter hour; its fields follow in Tab order.
    assert doctor.evaluate("document.activeElement.closest('#appointment-dialog') !== null")
    assert doctor.input_value("#f-date") and doctor.input_value("#f-time")
    tab_to(doctor, "#f-name")
    doctor.keyboard.type(NAME)
    tab_to(doctor, "#appointment-dialog button[type=submit]")
    doctor.keyboard.press("Enter")
    doctor.wait_for_selector("#invitation-dialog[open]")
    code = doctor.text_content("#invitation-code")
    doctor.keyboard.press("Escape")
    doctor.wait_for_selector("#invitation-dialog", state="hidden")
    doctor.wait_for_selector(f".appointment:has-text('{NAME}')")

    tab_to(doctor, f".appointment:has-text('{NAME}') .room-link")
    doctor.keyboard.press("Enter")
    doctor.wait_for_selector(".lobby-status:has-text('Noch niemand im Wartezimmer')")

    patient = new_page()
    patient_enters_waiting_room(patient, code)
    doctor.wait_for_selector("#room .admit:not([hidden])")
    tab_to(doctor, "#room .admit")
    doctor.keyboard.press("Enter")
    wait_connected_with_video(doctor)
    wait_connected_with_video(patient)
    # The call's controls are reachable too, and hanging up works from the keyboard.
    tab_to(doctor, "#call .hangup")
    doctor.keyboard.press("Enter")
    # "Auflegen" asks once; the focus waits on the harmless answer, the other is one Shift+Tab away.
    doctor.wait_for_selector("#call .hangup-confirm:visible")
    assert doctor.evaluate("document.activeElement.matches('#call .hangup-no')")
    doctor.keyboard.press("Shift+Tab")
    assert doctor.evaluate("document.activeElement.matches('#call .hangup-yes')")
    doctor.keyboard.press("Enter")
    patient.wait_for_selector("#step-done:not([hidden])")
