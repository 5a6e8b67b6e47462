"""Screen sharing (issue 14) in headless Chromium with its fake screen capture
(--use-fake-ui-for-media-stream picks the screen, --use-fake-device-for-media-stream draws it): each
side shares into the running call, the other side decodes frames of the shared screen, and sharing
stops cleanly, by our button and by the browser's own "stop sharing" (the track ends).

Chromium's fake camera and fake screen draw the same green picture; here the camera plays a plain
blue video file instead, so the other side can tell by colour which of the two it decodes."""

from pathlib import Path

import pytest

from tests.browser.conftest import chromium, plain_video
from tests.browser.helpers import hang_up
from tests.browser.test_video_call import call_in_progress

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Chromium whose fake camera shows plain blue (a Y4M file), its fake screen the green default."""
    blue = (41, 240, 110)  # BT.601
    video = plain_video(tmp_path_factory.mktemp("camera") / "blue.y4m", width=640, height=480, fps=30, yuv=blue)
    yield from chromium(video)


def green_share(selector: str) -> str:
    """A page function: the share of green in what the video at `selector` shows now (-1 before it
    shows anything). The screen is green, the camera blue."""
    return (
        """() => {
  const video = document.querySelector('"""
        + selector
        + """');
  if (!video || !video.videoWidth) return -1;
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 36;
  const context = canvas.getContext('2d');
  context.drawImage(video, 0, 0, 64, 36);
  const data = context.getImageData(0, 0, 64, 36).data;
  let r = 0, g = 0, b = 0;
  for (let i = 0; i < data.length; i += 4) { r += data[i]; g += data[i + 1]; b += data[i + 2]; }
  return g / (r + g + b + 1);
}"""
    )


REMOTE_GREEN_SHARE = green_share("#call .remote-video")


def frames(page) -> int:
    return int(page.get_attribute("#call", "data-frames-decoded") or 0)


def shares_and_stops(sharer, viewer, name: str) -> None:
    assert viewer.evaluate(REMOTE_GREEN_SHARE) < 0.2  # the (blue) camera arrives
    sharer.click("#call .toggle-share")
    sharer.wait_for_selector("#call .toggle-share[aria-pressed=true]")
    viewer.wait_for_selector("#call[data-remote-screen=true] .remote-screen:visible")
    # Frames of the shared screen are decoded on the other side: more frames, and no longer the camera.
    before = frames(viewer)
    viewer.wait_for_function(f"() => Number(document.querySelector('#call').dataset.framesDecoded) > {before + 10}")
    viewer.wait_for_function(f"() => ({REMOTE_GREEN_SHARE})() > 0.6")
    viewer.screenshot(path=str(ARTIFACTS / f"share-{name}.png"))


def test_both_sides_share_their_screen(new_page, server):
    ARTIFACTS.mkdir(exist_ok=True)
    doctor, patient = new_page(), new_page()
    call_in_progress(doctor, patient, "Susi Bildschirm")
    doctor.set_viewport_size({"width": 1366, "height": 768})

    # The doctor shares and stops with the button: the patient gets the camera back.
    shares_and_stops(doctor, patient, "doctor-to-patient")
    doctor.click("#call .toggle-share")
    patient.wait_for_selector("#call[data-remote-screen=false]")
    patient.wait_for_function(f"() => ({REMOTE_GREEN_SHARE})() < 0.2")
    assert doctor.get_attribute("#call .toggle-share", "aria-pressed") == "false"

    # The patient shares; the browser's own "stop sharing" ends the track: back to the camera.
    shares_and_stops(patient, doctor, "patient-to-doctor")
    patient.evaluate("() => document.querySelector('#call .local-video').srcObject.getVideoTracks()[0].stop()")
    # A track stopped by the page fires no "ended"; the browser's stop does: the same path.
    patient.evaluate(
        "() => document.querySelector('#call .local-video').srcObject.getVideoTracks()[0]"
        ".dispatchEvent(new Event('ended'))"
    )
    doctor.wait_for_selector("#call[data-remote-screen=false]")
    doctor.wait_for_function(f"() => ({REMOTE_GREEN_SHARE})() < 0.2")
    assert patient.get_attribute("#call .toggle-share", "aria-pressed") == "false"

    hang_up(doctor)
    patient.wait_for_selector("#step-done:not([hidden])")
    assert not [e for e in doctor.errors + patient.errors if "favicon" not in e]
