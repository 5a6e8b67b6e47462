"""The call screen on every screen (issue 14): controls with labels inside the viewport at desktop,
phone portrait and phone landscape on both sides; the other side's microphone and camera shown;
quality details in German; a timer; "Auflegen" asks once; afterwards both sides show an end state
and every camera and microphone track is stopped (the camera light goes off)."""

import re
from pathlib import Path

import pytest

from tests.browser.helpers import hang_up
from tests.browser.test_video_call import call_in_progress

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SIZES = {"desktop": (1366, 768), "portrait": (390, 844), "landscape": (844, 390)}

# Keeps every stream getUserMedia/getDisplayMedia hands out, so a test can see that all its tracks
# were stopped (what the browser shows as the camera light).
TRACK_STREAMS = """
window.__streams = [];
for (const name of ["getUserMedia", "getDisplayMedia"]) {
  const original = navigator.mediaDevices[name]?.bind(navigator.mediaDevices);
  if (!original) continue;
  navigator.mediaDevices[name] = async (...args) => {
    const stream = await original(...args);
    window.__streams.push(stream);
    return stream;
  };
}
"""
LIVE_TRACKS = "() => window.__streams.flatMap((s) => s.getTracks()).filter((t) => t.readyState === 'live').length"
ALL_TRACKS = "() => window.__streams.flatMap((s) => s.getTracks()).length"


# Phone browsers (Chrome on Android, Safari on iOS) have no getDisplayMedia: they cannot share a screen.
NO_SCREEN_CAPTURE = "delete MediaDevices.prototype.getDisplayMedia;"


def tracked_page(new_page, *scripts: str):
    page = new_page()
    for script in (*scripts, TRACK_STREAMS):
        page.context.add_init_script(script)
    return page


def controls_outside_viewport(page) -> list[str]:
    """The visible call controls (with their labels) that do not lie wholly inside the viewport."""
    return page.evaluate(
        """() => {
          const w = window.innerWidth, h = window.innerHeight;
          return [...document.querySelectorAll('#call .controls .control')]
            .filter((b) => b.offsetParent !== null)
            .filter((b) => {
              const r = b.getBoundingClientRect(), label = b.querySelector('.label').getBoundingClientRect();
              const inside = (x) => x.left >= 0 && x.top >= 0 && x.right <= w && x.bottom <= h && x.width > 0;
              return !inside(r) || !inside(label) || b.querySelector('.label').scrollWidth > label.width + 1;
            })
            .map((b) => b.className + ' ' + JSON.stringify(b.getBoundingClientRect()));
        }"""
    )


def test_call_screen_on_every_size_and_a_clean_end(new_page, server):
    ARTIFACTS.mkdir(exist_ok=True)
    # The patient is on a phone whose browser cannot share a screen: no button that can only fail.
    doctor, patient = tracked_page(new_page), tracked_page(new_page, NO_SCREEN_CAPTURE)
    call_in_progress(doctor, patient, "Lotte Layout")
    assert patient.evaluate("() => !('getDisplayMedia' in navigator.mediaDevices)")
    assert patient.is_hidden("#call .toggle-share") and doctor.is_visible("#call .toggle-share")

    for name, (width, height) in SIZES.items():
        for role, page in (("doctor", doctor), ("patient", patient)):
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(300)  # let the layout settle before the screenshot
            page.screenshot(path=str(ARTIFACTS / f"call-{role}-{name}.png"))
            assert controls_outside_viewport(page) == [], f"{role} at {name}"
            assert page.is_visible("#call .hangup") and page.is_visible("#call .timer")
    # The doctor sees patient and appointment beside the video.
    doctor.set_viewport_size({"width": 1366, "height": 768})
    info, stage = doctor.locator("#room .room-info").bounding_box(), doctor.locator("#call .stage").bounding_box()
    assert info["x"] + info["width"] <= stage["x"] and "Lotte Layout" in doctor.text_content("#room .room-info")

    # The other side's microphone and camera, as the patient switches them off and on again.
    patient.click("#call .toggle-mic")
    doctor.wait_for_selector("#call[data-remote-audio=off] .remote-mic-off:visible")
    patient.click("#call .toggle-cam")
    doctor.wait_for_selector("#call[data-remote-video=off] .remote-cam-off:visible")
    # Toggles say what is on: pressed = on.
    assert patient.get_attribute("#call .toggle-cam", "aria-pressed") == "false"
    assert patient.get_attribute("#call .toggle-mic", "aria-pressed") == "false"
    patient.click("#call .toggle-mic")
    patient.click("#call .toggle-cam")
    doctor.wait_for_selector("#call[data-remote-audio=on][data-remote-video=on]")
    assert doctor.is_hidden("#call .remote-mic-off") and doctor.is_hidden("#call .remote-cam-off")

    # The self view moves: dragged to the lower left it stays there; the arrow keys move it too.
    local = patient.locator("#call .local-video").bounding_box()
    stage = patient.locator("#call .stage").bounding_box()
    patient.mouse.move(local["x"] + 20, local["y"] + 20)
    patient.mouse.down()
    patient.mouse.move(stage["x"] + 40, stage["y"] + stage["height"] - 140, steps=8)
    patient.mouse.up()
    assert patient.get_attribute("#call .local-video", "data-corner") == "bl"
    moved = patient.locator("#call .local-video").bounding_box()
    centre = (moved["x"] + moved["width"] / 2, moved["y"] + moved["height"] / 2)
    assert centre[0] < stage["x"] + stage["width"] / 2 and centre[1] > stage["y"] + stage["height"] / 2
    patient.focus("#call .local-video")
    patient.keyboard.press("ArrowUp")
    patient.keyboard.press("ArrowRight")
    assert patient.get_attribute("#call .local-video", "data-corner") == "tr"

    # Quality: a simple indicator, the figures (German decimals) on demand.
    doctor.wait_for_selector("#call .quality[data-level]")
    assert doctor.is_hidden("#call .quality-details")
    doctor.click("#call .quality")
    doctor.screenshot(path=str(ARTIFACTS / "call-doctor-quality-details.png"))
    details = doctor.text_content("#call .quality-details")
    assert re.search(r"Paketverlust\d+,\d\u00a0%", details), details
    assert re.fullmatch(r"\d+:\d\d", doctor.text_content("#call .timer"))

    # Fullscreen takes the whole room, controls included.
    doctor.click("#call .fullscreen")
    doctor.wait_for_function("() => document.fullscreenElement?.id === 'room'")
    assert doctor.evaluate("() => document.fullscreenElement.contains(document.querySelector('#call .hangup'))")
    doctor.click("#call .fullscreen")
    doctor.wait_for_function("() => document.fullscreenElement === null")

    # "Auflegen" asks once; "Weiter sprechen" keeps the call.
    doctor.click("#call .hangup")
    doctor.wait_for_selector("#call .hangup-confirm:visible")
    doctor.click("#call .hangup-no")
    assert doctor.is_hidden("#call .hangup-confirm")
    assert doctor.get_attribute("#call", "data-connection-state") == "connected"

    assert doctor.evaluate(LIVE_TRACKS) >= 2 and patient.evaluate(LIVE_TRACKS) >= 2
    hang_up(doctor)
    patient.wait_for_selector("#step-done:not([hidden])")
    doctor.wait_for_selector("#call .call-ended:visible")
    for page in (doctor, patient):
        page.screenshot(path=str(ARTIFACTS / f"call-ended-{'doctor' if page is doctor else 'patient'}.png"))
    assert "Verbunden" not in doctor.text_content("#room")
    assert "beendet" in doctor.text_content("#room .lobby-status")
    # Every camera and microphone track on both sides is stopped: the camera light is off.
    assert doctor.evaluate(ALL_TRACKS) >= 2 and doctor.evaluate(LIVE_TRACKS) == 0
    assert patient.evaluate(ALL_TRACKS) >= 2 and patient.evaluate(LIVE_TRACKS) == 0
    assert not [e for e in doctor.errors + patient.errors if "favicon" not in e]
