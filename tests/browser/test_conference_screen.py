"""Screen sharing in a conference (issue 18) in real Chromium through a real Janus: the doctor shares
the screen into the running conference, the two others decode it in the doctor's tile instead of
the camera, and after "Freigabe beenden" the camera comes back; then a guest (the interpreter, whose
page is the guest page) shares and the doctor and the patient see it. The screen leaves through the
same sender as the camera, so it is encrypted frame by frame like the camera (docs/e2ee.md).

The browser of this module draws its camera in plain blue (tests/browser/test_screen_sharing.py),
Chromium's fake screen stays green: a tile's colour tells which of the two arrives."""

from __future__ import annotations

import pytest

from tests.browser.test_conference import direct_call, site, wait_tiles_decoding  # noqa: F401 (the fixture, shared)
from tests.browser.test_conference_changes import invite_and_admit
from tests.browser.test_screen_sharing import browser, green_share  # noqa: F401 (blue camera, green screen)
from tests.conference.conftest import janus_server  # noqa: F401 (the fixture, shared)

# Conferences with four browsers decoding video run one after another on one xdist worker (the
# scheduler in conftest.py, ONE_WORKER): two at once on a 2-core machine starve each other.
pytestmark = pytest.mark.browser

PATIENT = "Gerda Geteilt"
INTERPRETER = "Ilse Übersetzerin"


def wait_colour(page, role: str, green: bool) -> None:
    """Waits until the participant's tile shows the (green) screen or the (blue) camera."""
    share = green_share(f"#call .conference-grid .tile[data-role={role}] video")
    test = "> 0.6" if green else "< 0.2 && share >= 0"
    page.wait_for_function(f"() => {{ const share = ({share})(); return share {test}; }}", timeout=30_000)


def test_doctor_and_guest_share_their_screen_in_a_conference(
    new_page,
    site,  # noqa: F811
    janus_server,  # noqa: F811
):
    doctor, patient, _ = direct_call(new_page, site, PATIENT)
    doctor.click(".conference-panel summary")
    interpreter = invite_and_admit(doctor, new_page, site, "interpreter", INTERPRETER)
    for page in (doctor, patient, interpreter):
        wait_tiles_decoding(page, 2)
    for page in (patient, interpreter):
        wait_colour(page, "doctor", green=False)  # the (blue) camera arrives

    # The doctor shares: the others see the (green) screen in the doctor's tile, then the camera again.
    doctor.click("#call .toggle-share")
    doctor.wait_for_selector("#call .toggle-share[aria-pressed=true]")
    for page in (patient, interpreter):
        wait_colour(page, "doctor", green=True)
    doctor.click("#call .toggle-share")
    doctor.wait_for_selector("#call .toggle-share[aria-pressed=false]")
    for page in (patient, interpreter):
        wait_colour(page, "doctor", green=False)

    # A guest shares from the guest page: the doctor and the patient see it.
    interpreter.click("#call .toggle-share")
    interpreter.wait_for_selector("#call .toggle-share[aria-pressed=true]")
    for page in (doctor, patient):
        wait_colour(page, "interpreter", green=True)
    errors = [e for p in (doctor, patient, interpreter) for e in p.errors if "favicon" not in e]
    assert not errors, (errors, [p.refused for p in (doctor, patient, interpreter)])
