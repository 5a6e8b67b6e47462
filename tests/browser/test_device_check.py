"""The patient's device check (issue 14): camera preview, a microphone level that moves, a speaker
test tone, readable device names, and a clear way out when the browser refused the camera; then a
waiting room with the own picture, the appointment time and a sign of life.

This module's Chromium has fake devices but no fake permission prompt: a page gets the camera only
when the test grants it, so "denied" is the browser's real refusal."""

import shutil

import pytest

from sprechzimmer.demo.data import DEMO_PASSWORD
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.helpers import login
from tests.browser.test_video_call import DOCTOR, DOCTOR_TOTP, book_appointment

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        args = [a for a in CHROMIUM_ARGS if a != "--use-fake-ui-for-media-stream"]
        instance = p.chromium.launch(executable_path=CHROMIUM, args=args)
        yield instance
        instance.close()


def test_denied_camera_has_a_way_out_and_the_check_then_works(new_page, server):
    doctor = new_page()
    doctor.context.grant_permissions(["camera", "microphone"])
    login(doctor, DOCTOR, DEMO_PASSWORD, DOCTOR_TOTP)
    code, _ = book_appointment(doctor, "Dora Devices")

    patient = new_page()
    patient.goto(f"/sprechstunde/#code={code}")
    patient.fill("#name", "Dora")
    patient.click("#step-enter button[type=submit]")
    # Refused by the browser: what happened and what to do, no way on without camera.
    patient.wait_for_selector("#device-problem:not([hidden])")
    assert "nicht erlaubt" in patient.text_content("#device-problem .problem-text")
    assert "Erlauben" in patient.text_content("#device-problem .problem-steps")
    assert patient.is_disabled("#check-continue")
    patient.screenshot(path="test-artifacts/device-check-denied.png")

    # Allowed in the browser, "Erneut versuchen": preview, names, a moving level, the tone.
    patient.context.grant_permissions(["camera", "microphone"])
    patient.click("#check-retry")
    patient.wait_for_selector("#check-continue:not([disabled])")
    assert patient.is_hidden("#device-problem")
    patient.wait_for_function("() => document.querySelector('#preview').videoWidth > 0")
    cameras = patient.eval_on_selector_all("#check-camera option", "(os) => os.map((o) => o.textContent)")
    microphones = patient.eval_on_selector_all("#check-microphone option", "(os) => os.map((o) => o.textContent)")
    assert cameras and microphones
    for label in cameras + microphones:
        assert label and not label.startswith(("Kamera ", "Mikrofon ")), label  # the device's own name
    # Chromium's fake microphone beeps: the level meter moves.
    patient.wait_for_function("() => Number(document.querySelector('#mic-level').dataset.peak || 0) > 0.05")
    patient.click("#speaker-test")
    patient.wait_for_selector("#speaker-hint:has-text('zwei Töne')")
    patient.wait_for_selector("#speaker-hint:has-text('Nichts gehört')")
    patient.screenshot(path="test-artifacts/device-check-ok.png", full_page=True)

    patient.click("#check-continue")
    patient.check("#step-consent input[name=accepted]")
    patient.click("#step-consent button[type=submit]")
    patient.wait_for_selector("#step-waiting:not([hidden])")
    # The waiting room: own picture, appointment time, a sign of life that counts.
    patient.wait_for_function("() => document.querySelector('#waiting-self').videoWidth > 0")
    assert "Ihr Termin:" in patient.text_content("#waiting-appointment")
    assert "Uhr bei Dr. med. Anna Demo" in patient.text_content("#waiting-appointment")
    patient.wait_for_selector("body[data-alive=true]")
    patient.wait_for_function("() => document.querySelector('#waited').textContent !== '0:00'")
    patient.set_viewport_size({"width": 390, "height": 844})
    patient.screenshot(path="test-artifacts/waiting-room-portrait.png", full_page=True)
    assert not [e for e in patient.errors if "favicon" not in e and "Permission" not in e]


def test_the_standalone_check_works_without_a_code_and_leads_on_with_the_invitations(new_page, server, sent_requests):
    """The invitation mail links to /sprechstunde/technik/#code=…: the patient tests days before the
    appointment, nothing goes to the server, and the code (fragment only) leads on to the patient page."""
    patient = new_page()
    sent_requests.clear()
    patient.goto("/sprechstunde/technik/#code=ACDEF-34679")
    # Refused by the browser: the same way out as on the patient page.
    patient.wait_for_selector("#device-problem:not([hidden])")
    assert "nicht erlaubt" in patient.text_content("#device-problem .problem-text")
    assert patient.is_disabled("#check-continue")

    patient.context.grant_permissions(["camera", "microphone"])
    patient.click("#check-retry")
    patient.wait_for_selector("#check-continue:not([disabled])")
    patient.wait_for_function("() => document.querySelector('#preview').videoWidth > 0")
    patient.wait_for_function("() => Number(document.querySelector('#mic-level').dataset.peak || 0) > 0.05")
    patient.set_viewport_size({"width": 390, "height": 844})
    patient.screenshot(path="test-artifacts/device-check-standalone.png", full_page=True)
    patient.click("#check-continue")
    patient.wait_for_selector("#check-done:not([hidden])")
    assert "funktionieren" in patient.text_content("#check-done")
    # Camera and microphone are off again once the check is done.
    assert patient.evaluate("() => document.querySelector('#preview').srcObject") is None
    link = patient.get_attribute("#join-link", "href")
    assert link == "/sprechstunde/#code=ACDEF-34679" and patient.is_hidden("#join-without-code")
    # The page asked the server for nothing but itself and its static files; the code went nowhere.
    assert not [r for r in sent_requests if "/static/" not in r.url and not r.url.endswith("/sprechstunde/technik/")]
    assert not [r for r in sent_requests if "ACDEF" in r.url or b"ACDEF" in r.body]

    # Without a code: the way to the patient page and its code field.
    plain = new_page()
    plain.context.grant_permissions(["camera", "microphone"])
    plain.goto("/sprechstunde/technik/")
    plain.wait_for_selector("#check-continue:not([disabled])")
    plain.click("#check-continue")
    plain.wait_for_selector("#join-without-code:not([hidden])")
    assert plain.is_hidden("#join-with-code")
    plain.click("#check-again")
    plain.wait_for_selector("#check-continue:not([disabled])")
    assert not [e for e in patient.errors + plain.errors if "favicon" not in e and "Permission" not in e]
