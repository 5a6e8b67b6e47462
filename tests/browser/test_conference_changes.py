"""A conference that changes (issue 18) in real Chromium through a real Janus: four people (doctor,
patient, interpreter, relative) see each other's names (sealed into the key grants, never in
clear on the server) and compare the same key code on every page; the interpreter hangs up
by themselves, the server marks them left and the doctor's page moves the three others to a new
epoch (a new code, again equal everywhere) that the interpreter's page never holds; the relative
then closes the tab without hanging up, and the two who remain move to a third epoch once the
closed page has stopped asking for its key; the doctor removes the relative, and with only the
doctor and the patient left the call goes back to a direct one (peer-to-peer, out of the Janus room)
without a reload."""

from __future__ import annotations

import time

import pytest

from tests.browser.helpers import hang_up
from tests.browser.test_conference import (  # noqa: F401
    direct_call,
    guest_waits,
    site,
    wait_rising,
    wait_tiles_decoding,
)
from tests.browser.test_video_call import (
    wait_connected_with_video,
)
from tests.conference.conftest import janus_server  # noqa: F401 (the fixture, shared)

# Conferences with four browsers decoding video run one after another on one xdist worker (the
# scheduler in conftest.py, ONE_WORKER): two at once on a 2-core machine starve each other.
pytestmark = pytest.mark.browser

INTERPRETER = "Ayşe Dolmetsch-Yılmaz"
RELATIVE = "Bernd Angehörig"
PATIENT = "Wanda Wechsel"

KEY = """() => { const call = document.querySelector('#call');
  const box = call.querySelector('.key-code');
  return {epoch: call.dataset.keyEpoch ?? null, code: call.dataset.keyCode ?? null,
          shown: box && !box.hidden ? box.querySelector('.key-code-value').textContent : null}; }"""


def invite_and_admit(doctor, new_page, site, role: str, name: str):  # noqa: F811
    doctor.select_option("#guest-role", role)
    doctor.fill("#guest-name", name)
    doctor.click(".conference-panel form button[type=submit]")
    doctor.wait_for_selector(f".conference-panel .guest-code:has-text('{name}')")
    code = doctor.text_content(".conference-panel .guest-code .code").strip()
    guest = guest_waits(new_page(site), code)
    doctor.click(f".conference-panel .guests li[data-state=waiting]:has-text('{name}') button[data-action=admit]")
    return guest


def same_key_everywhere(pages: dict, epoch: int) -> str:
    """Waits until every page holds `epoch` as its newest key and shows its code; returns the code,
    which must be the same on all of them."""
    for page in pages.values():
        page.wait_for_function(f"() => document.querySelector('#call').dataset.keyEpoch === '{epoch}'", timeout=30_000)
    keys = {name: page.evaluate(KEY) for name, page in pages.items()}
    codes = {k["code"] for k in keys.values()} | {k["shown"] for k in keys.values()}
    assert len(codes) == 1, keys
    code = codes.pop()
    assert code and len(code.replace(" ", "")) == 12, code
    return code


def test_hang_up_takes_a_guest_out_of_the_key_and_two_go_back_to_a_direct_call(
    new_page,
    site,  # noqa: F811
    server,
    janus_server,  # noqa: F811
):
    doctor, patient, _ = direct_call(new_page, site, PATIENT)
    # A direct call shows no key code: DTLS-SRTP between two browsers needs none to compare.
    assert doctor.evaluate(KEY)["shown"] is None

    doctor.click(".conference-panel summary")
    interpreter = invite_and_admit(doctor, new_page, site, "interpreter", INTERPRETER)
    pages = {"doctor": doctor, "patient": patient, "interpreter": interpreter}
    for page in pages.values():
        wait_tiles_decoding(page, 2)
    relative = invite_and_admit(doctor, new_page, site, "relative", RELATIVE)
    pages["relative"] = relative
    for page in pages.values():
        wait_tiles_decoding(page, 3)
    first = same_key_everywhere(pages, 1)
    # Every page names the others' tiles: the names travel inside the grants, sealed to each page.
    expected = {
        "doctor": [INTERPRETER, RELATIVE, PATIENT],
        "patient": [INTERPRETER, RELATIVE],
        "interpreter": [RELATIVE, PATIENT],
        "relative": [INTERPRETER, PATIENT],
    }
    for name, page in pages.items():
        page.wait_for_function(
            """(names) => { const captions = [...document.querySelectorAll('#call .tile figcaption')]
                 .map((c) => c.textContent).join(' | ');
               return names.every((n) => captions.includes(n)); }""",
            arg=expected[name],
            timeout=30_000,
        )

    # The interpreter hangs up: the server marks them left, the three others move to epoch 2,
    # sealed only to them; the interpreter's page holds no key any more, and no grant waits for it.
    hang_up(interpreter)
    interpreter.wait_for_selector("#step-done:not([hidden])", timeout=30_000)
    del pages["interpreter"]
    doctor.wait_for_selector(f".conference-panel .guests li[data-state=left]:has-text('{INTERPRETER}')")
    for page in pages.values():
        page.wait_for_function(
            "() => document.querySelector('#call').dataset.sendEpoch === '2'"
            " && document.querySelector('#call').dataset.receiveEpoch === '2'",
            timeout=30_000,
        )
        wait_rising(page, wait_tiles_decoding(page, 2))
    second = same_key_everywhere(pages, 2)
    assert second != first
    assert interpreter.evaluate(KEY) == {"epoch": None, "code": None, "shown": None}
    # The live server's database is shared with the other browser tests of this worker (the
    # four-participant test has an interpreter too): this test's conference is the newest.
    newest = "(select max(id) from conference_conference)"
    row = f"from conference_participant where role = 'interpreter' and conference_id = {newest}"
    assert server.db.scalar(f"select count(*) {row} and left_at is not null and admitted_at is null") == 1
    assert server.db.scalar(f'select "grant" {row}') == ""

    # The relative closes the tab without hanging up: their page stops asking for its key, and
    # within PRESENCE_SECONDS (15 s) the doctor's page shows them as gone and moves the two who
    # remain to epoch 3, so a copy of the old key in that browser opens nothing said after it.
    closed_at = time.monotonic()
    relative.close()
    doctor.wait_for_selector(f".conference-panel .guests li[data-state=away]:has-text('{RELATIVE}')", timeout=40_000)
    for page in (doctor, patient):
        page.wait_for_function(
            "() => document.querySelector('#call').dataset.sendEpoch === '3'"
            " && document.querySelector('#call').dataset.receiveEpoch === '3'",
            timeout=30_000,
        )
    print(f"\na closed tab out of the key after {time.monotonic() - closed_at:.1f} s")
    assert same_key_everywhere({"doctor": doctor, "patient": patient}, 3) not in (first, second)

    # The doctor removes the relative: two again. The doctor's page leaves the Janus room and
    # offers a fresh direct call over the signalling socket; the patient's page follows.
    doctor.click(f".conference-panel .guests li:has-text('{RELATIVE}') button[data-action=remove]")
    back_at = time.monotonic()
    for page in (doctor, patient):
        page.wait_for_function("() => !document.querySelector('#call').dataset.mode", timeout=30_000)
        wait_connected_with_video(page)
        assert page.evaluate("() => document.querySelectorAll('#call .conference-grid .tile').length") == 0
        assert page.is_visible("#call .remote-video") and not page.is_visible("#call .conference-grid")
        assert page.evaluate(KEY) == {"epoch": None, "code": None, "shown": None}
    print(f"\nremoving the third to decoded video in the direct call on both: {time.monotonic() - back_at:.1f} s")
    from sprechzimmer.conference.janus import Janus

    room = server.db.scalar(f"select room from conference_conference where id = {newest}")
    with Janus(janus_server.url, janus_server.secret).videoroom() as janus_room:
        assert janus_room.participants(room) == []
    # The direct call goes on: frames keep coming on both sides.
    for page in (doctor, patient):
        before = int(page.get_attribute("#call", "data-frames-decoded"))
        page.wait_for_function(
            f"() => Number(document.querySelector('#call').dataset.framesDecoded) > {before + 10}", timeout=30_000
        )

    errors = [e for p in (doctor, patient, interpreter, relative) for e in p.errors if "favicon" not in e]
    assert not errors, (errors, [p.refused for p in (doctor, patient, interpreter, relative)])
    dump, log = server.db.dump(), server.log()
    for secret in (INTERPRETER, RELATIVE, PATIENT):
        assert secret not in dump and secret not in log, secret
