"""A reload does not throw the patient out (issue 14): within the visit the tab comes back to the
waiting room or to the running call without name, device check and consent again, and the doctor is
not asked to admit again. The patient's pages have their own layout: practice and doctor, help, and
no link that leaves the call. What the tab keeps for the reload holds nothing readable about the
patient."""

import pytest

from sprechzimmer.demo.data import DEMO_PASSWORD
from tests.browser.helpers import hang_up, login
from tests.browser.test_video_call import (
    DOCTOR,
    DOCTOR_TOTP,
    TYPED_NAME,
    book_appointment,
    patient_enters_waiting_room,
    wait_connected_with_video,
)

pytestmark = pytest.mark.browser


def test_a_reloading_patient_comes_back_to_the_waiting_room_and_to_the_call(new_page, server):
    doctor, patient = new_page(), new_page()
    login(doctor, DOCTOR, DEMO_PASSWORD, DOCTOR_TOTP)
    code, _ = book_appointment(doctor, "Rita Reload")
    doctor.click(".appointment:has-text('Rita Reload') .room-link")
    patient_enters_waiting_room(patient, code)

    # Own layout: whom they visit and help, nothing that leaves the page in this tab.
    assert patient.text_content("#visit-doctor") == "Dr. med. Anna Demo"
    assert patient.text_content("#visit-practice")
    assert (
        patient.evaluate("() => [...document.querySelectorAll('a[href]')].filter((a) => a.target !== '_blank').length")
        == 0
    )
    patient.click(".help-button")
    patient.wait_for_selector("#help[open]")
    patient.click("#help button[type=submit]")
    # What the tab keeps: a token and the name encrypted to the practice — never the typed name.
    stored = patient.evaluate("() => sessionStorage.getItem('sz-visit')")
    assert stored and TYPED_NAME not in stored and "Erika" not in stored

    # Reload in the waiting room: straight back, no name, no device check, no consent.
    patient.reload()
    patient.wait_for_selector("#step-waiting:not([hidden])")
    patient.wait_for_selector("body[data-alive=true]")
    # Connected again, and nothing says otherwise ("Sie werden wieder verbunden …" stayed beside
    # "Verbunden mit der Praxis", a new user's walk).
    assert patient.text_content("#step-waiting .message") == ""
    assert patient.text_content("#alive-text") == "Verbunden mit der Praxis"
    assert patient.is_hidden("#step-enter") and patient.is_hidden("#step-check") and patient.is_hidden("#step-consent")
    doctor.wait_for_selector(f"#room .typed-name:has-text('{TYPED_NAME}')")
    doctor.wait_for_selector("#room .admit:not([hidden])")
    doctor.click("#room .admit")
    wait_connected_with_video(doctor)
    wait_connected_with_video(patient)

    # Reload in the call: back in the call; the doctor is not asked to admit again.
    patient.reload()
    patient.wait_for_selector("#step-call:not([hidden])")
    wait_connected_with_video(patient)
    doctor.wait_for_selector(".lobby-status:has-text('Im Gespräch')")
    assert doctor.is_hidden("#room .admit")
    assert patient.is_hidden("#step-enter") and patient.is_hidden("#step-consent")
    assert server.db.scalar("select count(*) from video_callsession") >= 1
    assert server.db.scalar(
        "select status from video_appointment where id = (select max(id) from video_appointment)"
    ) == ("in_call")

    hang_up(doctor)
    patient.wait_for_selector("#step-done:not([hidden])")
    # Over is over: the visit is forgotten, a reload shows the code form again.
    assert patient.evaluate("() => sessionStorage.getItem('sz-visit')") is None
    patient.reload()
    patient.wait_for_selector("#step-enter:not([hidden])")
    assert not [e for e in doctor.errors + patient.errors if "favicon" not in e]
