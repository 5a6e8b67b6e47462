"""Back to peer-to-peer with a guest (issue 18, "back when it is two again") in real Chromium
through a real Janus: the doctor and the patient are in a direct call, an interpreter is admitted
and the three move into the Janus room; the patient hangs up, and the doctor and the interpreter,
the two left, go on in a direct call of their own (out of the room, nobody in it) without a reload.
A relative admitted then moves the call into the room again under a new key; removing the
relative leaves the doctor and the interpreter in a direct call once more; the patient, back with
their code and let in, brings the call into the room again."""

from __future__ import annotations

import time

import pytest

from tests.browser.helpers import hang_up
from tests.browser.test_conference import (  # noqa: F401
    direct_call,
    site,
    wait_tiles_decoding,
)
from tests.browser.test_conference_changes import KEY, invite_and_admit, same_key_everywhere
from tests.browser.test_video_call import wait_connected_with_video
from tests.conference.conftest import janus_server  # noqa: F401 (the fixture, shared)

# One after another with the other conference modules on one xdist worker (conftest.py, ONE_WORKER).
pytestmark = pytest.mark.browser

PATIENT = "Paula Paarweise"
INTERPRETER = "Iwan Übersetzer"
RELATIVE = "Rita Rückkehr"


def _in_janus(server, janus_server) -> list:  # noqa: F811
    from sprechzimmer.conference.janus import Janus

    room = server.db.scalar(
        "select room from conference_conference where id = (select max(id) from conference_conference)"
    )
    with Janus(janus_server.url, janus_server.secret).videoroom() as janus_room:
        return janus_room.participants(room)


def _direct_between(pages, server, janus_server) -> None:  # noqa: F811
    """The pages are in a direct call with each other: plain call screen, connected, decoding
    video, no tiles, no key code, and nobody left in the Janus room."""
    for page in pages:
        page.wait_for_function("() => !document.querySelector('#call').dataset.mode", timeout=30_000)
        wait_connected_with_video(page)
        assert page.evaluate("() => document.querySelectorAll('#call .conference-grid .tile').length") == 0
        assert page.is_visible("#call .remote-video") and not page.is_visible("#call .conference-grid")
        assert page.evaluate(KEY) == {"epoch": None, "code": None, "shown": None}
    deadline = time.monotonic() + 20
    while _in_janus(server, janus_server) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _in_janus(server, janus_server) == []
    for page in pages:  # and the media keep flowing
        before = int(page.get_attribute("#call", "data-frames-decoded"))
        page.wait_for_function(
            f"() => Number(document.querySelector('#call').dataset.framesDecoded) > {before + 10}", timeout=30_000
        )


def test_the_doctor_and_the_guest_left_talk_peer_to_peer_and_move_into_the_room_again(
    new_page,
    site,  # noqa: F811
    server,
    janus_server,  # noqa: F811
):
    doctor, patient, code = direct_call(new_page, site, PATIENT)
    doctor.click(".conference-panel summary")
    interpreter = invite_and_admit(doctor, new_page, site, "interpreter", INTERPRETER)
    for page in (doctor, patient, interpreter):
        wait_tiles_decoding(page, 2)

    # The patient hangs up: two are left, the doctor and the interpreter, and they go direct.
    hang_up(patient)
    patient.wait_for_selector("#step-done:not([hidden])", timeout=30_000)
    left_at = time.monotonic()
    _direct_between((doctor, interpreter), server, janus_server)
    print(
        f"\nthe patient hung up → the doctor and the interpreter in a direct call: {time.monotonic() - left_at:.1f} s"
    )
    doctor.wait_for_selector(f".conference-panel .guests li[data-state=admitted]:has-text('{INTERPRETER}')")

    # A relative is admitted: three again, into the room under a new key.
    relative = invite_and_admit(doctor, new_page, site, "relative", RELATIVE)
    pages = {"doctor": doctor, "interpreter": interpreter, "relative": relative}
    for page in pages.values():
        wait_tiles_decoding(page, 2)
    assert same_key_everywhere(pages, 2)  # the room before ended at epoch 1; this one goes on after it
    for page in pages.values():
        page.wait_for_function(
            """(names) => { const captions = [...document.querySelectorAll('#call .tile figcaption')]
                 .map((c) => c.textContent).join(' | ');
               return names.some((n) => captions.includes(n)); }""",
            arg=[INTERPRETER, RELATIVE],
            timeout=30_000,
        )

    # The doctor removes the relative: the doctor and the interpreter are direct once more.
    doctor.click(f".conference-panel .guests li:has-text('{RELATIVE}') button[data-action=remove]")
    relative.wait_for_selector("#step-done:not([hidden])", timeout=30_000)
    _direct_between((doctor, interpreter), server, janus_server)

    # The patient comes back with their code and the doctor lets them in: into the conference
    # (the room again, three of them), not into a direct call of their own beside the interpreter's.
    # If their "Auflegen" never reached the server (the socket was reconnecting), their call is
    # still on and the page resumes it; the doctor's page then takes them into the conference itself.
    returned = new_page(site)
    # Four pages decode video on two cores meanwhile: the device check can take longer than 20 s.
    returned.set_default_timeout(60_000)
    try:
        returned.goto(f"/sprechstunde/#code={code}")
        returned.fill("#name", "Paula")
        returned.click("#step-enter button[type=submit]")
        returned.wait_for_selector("#check-continue:not([disabled])")
        returned.click("#check-continue")
        returned.check("#step-consent input[name=accepted]")
        returned.click("#step-consent button[type=submit]")
        returned.wait_for_selector("#step-waiting:not([hidden]), body[data-step=call]")
    except Exception:
        print("RETURNED PATIENT", returned.inner_text("body")[:3000], returned.errors, returned.refused)
        raise
    if returned.is_visible("#step-waiting"):
        doctor.wait_for_selector("#room .admit:not([hidden])", timeout=30_000)
        doctor.click("#room .admit")
    for page in (doctor, interpreter, returned):
        wait_tiles_decoding(page, 2)
    same_key_everywhere({"doctor": doctor, "interpreter": interpreter, "patient": returned}, 3)

    pages = (doctor, patient, interpreter, relative, returned)
    errors = [e for p in pages for e in p.errors if "favicon" not in e]
    assert not errors, (errors, [p.refused for p in pages])
    dump, log = server.db.dump(), server.log()
    for secret in (INTERPRETER, RELATIVE, PATIENT):
        assert secret not in dump and secret not in log, secret
