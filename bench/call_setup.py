"""Call setup time: from "admit" to the first remote video frame drawn on both sides, over N calls
in headless Chromium on loopback, next to the floor measured in the same browser: two bare
RTCPeerConnections on a minimal page, exchanging offer/answer through a trivial relay.

Two figures for Sprechzimmer: "cold", the doctor admits the moment the patient appears (the early
connection is still being made), and "warm", the doctor admits a patient who has waited long enough
for the early connection (ICE and DTLS, no media; docs/signalling.md) to be up — the usual case.

    .venv/bin/python bench/call_setup.py [--calls 20]

Frames are timed with requestVideoFrameCallback (getStats lags by 20-40 ms). Prints median and p90
for both and their ratio. Starts its own server (Daphne, SQLite, in-memory layer) with demo data.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, start_demo_instance  # noqa: E402
from tests.browser.helpers import login  # noqa: E402

# Arms a hook that records (epoch ms) when the first remote frame is drawn; the promise is parked on
# window (Playwright would otherwise wait for it right away) and read with FIRST_FRAME_TIME.
FIRST_FRAME_HOOK = """
(selector) => {
  window.firstFrame = window.firstFrame || {};
  window.firstFrame[selector] = new Promise((resolve) => {
    const video = document.querySelector(selector);
    const arm = () => video.requestVideoFrameCallback(() => resolve(performance.timeOrigin + performance.now()));
    if (video.srcObject) arm(); else {
      const timer = setInterval(() => { if (video.srcObject) { clearInterval(timer); arm(); } }, 1);
    }
  });
}
"""
FIRST_FRAME_TIME = "(selector) => window.firstFrame[selector]"


# Two bare peer connections on one minimal page; the "relay" hands each message to the other side
# on the next task, as a trivial signalling server would.
FLOOR_SCRIPT = """
async () => {
  const make = async (id) => {
    // The same constraints as the product (static/sprechzimmer/js/media.js), so the ratio measures
    // our page, signalling and waiting room, not a different camera resolution.
    const stream = await navigator.mediaDevices.getUserMedia({
      video: {width: {ideal: 1280}, height: {ideal: 720}},
      audio: {echoCancellation: true, noiseSuppression: true}});
    const pc = new RTCPeerConnection();
    stream.getTracks().forEach((t) => pc.addTrack(t, stream));
    const video = document.createElement("video");
    video.id = id; video.autoplay = true; video.muted = true; video.playsInline = true;
    document.body.append(video);
    pc.ontrack = (e) => { video.srcObject = e.streams[0]; };
    return pc;
  };
  const a = await make("remote-a"), b = await make("remote-b");
  const relay = (to) => (message) => setTimeout(() => receive(to, message), 0);
  const receive = async (pc, m) => {
    if (m.description) {
      await pc.setRemoteDescription(m.description);
      if (m.description.type === "offer") {
        await pc.setLocalDescription(await pc.createAnswer());
        relay(a)({description: pc.localDescription.toJSON()});
      }
    } else if (m.candidate) { await pc.addIceCandidate(m.candidate); }
  };
  a.onicecandidate = (e) => e.candidate && relay(b)({candidate: e.candidate.toJSON()});
  b.onicecandidate = (e) => e.candidate && relay(a)({candidate: e.candidate.toJSON()});
  window.floorOffer = async () => {
    await a.setLocalDescription(await a.createOffer());
    relay(b)({description: a.localDescription.toJSON()});
  };
}
"""


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def launch(playwright):
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
        ],
    )


def measure_floor(browser, base_url: str, calls: int) -> list[float]:
    times = []
    for _ in range(calls):
        context = browser.new_context(base_url=base_url)
        page = context.new_page()
        page.goto("/impressum/")  # a page of our origin: a secure context for getUserMedia
        page.evaluate(FLOOR_SCRIPT)
        page.evaluate(FIRST_FRAME_HOOK, "#remote-a")
        page.evaluate(FIRST_FRAME_HOOK, "#remote-b")
        started = page.evaluate(
            "() => { const t = performance.timeOrigin + performance.now(); floorOffer(); return t; }"
        )
        done = max(page.evaluate(FIRST_FRAME_TIME, "#remote-a"), page.evaluate(FIRST_FRAME_TIME, "#remote-b"))
        times.append(done - started)
        context.close()
    return times


def measure_ours(browser, base_url: str, calls: int, warm: bool) -> list[float]:
    from sprechzimmer.demo.data import DEMO_PASSWORD, DEMO_USERS

    (email, _, _, _, secret) = DEMO_USERS[0]
    doctor_context = browser.new_context(base_url=base_url)
    doctor = doctor_context.new_page()
    login(doctor, email, DEMO_PASSWORD, secret)
    times = []
    label = "warm" if warm else "cold"
    for n in range(calls):
        doctor.goto("/praxis/termine/")
        doctor.click("#new-appointment")
        start = datetime.now() + timedelta(minutes=5)
        doctor.fill("#f-date", start.strftime("%Y-%m-%d"))
        doctor.fill("#f-time", start.strftime("%H:%M"))
        doctor.fill("#f-name", f"Bench {label} {n}")
        doctor.click("#appointment-dialog button[type=submit]")
        doctor.wait_for_selector("#invitation-dialog[open]")
        code = doctor.text_content("#invitation-code")
        room = doctor.get_attribute(f".appointment:has-text('Bench {label} {n}') .room-link", "href")
        doctor.goto(room)

        patient_context = browser.new_context(base_url=base_url)
        patient = patient_context.new_page()
        patient.goto(f"/sprechstunde/#code={code}")
        patient.fill("#name", "Bench")
        patient.click("#step-enter button[type=submit]")
        patient.wait_for_selector("#check-continue:not([disabled])")
        patient.click("#check-continue")
        patient.check("#step-consent input[name=accepted]")
        patient.click("#step-consent button[type=submit]")
        doctor.wait_for_selector("#room .admit:not([hidden])")
        if warm:
            doctor.wait_for_selector("#call[data-connection-state=connected]", state="attached")
            patient.wait_for_selector("#call[data-connection-state=connected]", state="attached")

        doctor.evaluate(FIRST_FRAME_HOOK, "#call .remote-video")
        patient.evaluate(FIRST_FRAME_HOOK, "#call .remote-video")
        started = doctor.evaluate(
            "() => { const t = performance.timeOrigin + performance.now(); document.querySelector('#room .admit').click(); return t; }"
        )
        done = max(
            doctor.evaluate(FIRST_FRAME_TIME, "#call .remote-video"),
            patient.evaluate(FIRST_FRAME_TIME, "#call .remote-video"),
        )
        times.append(done - started)
        doctor.click("#call .hangup")
        doctor.click("#call .hangup-yes")
        patient.wait_for_selector("#step-done:not([hidden])")
        patient_context.close()
    doctor_context.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()

    process, base_url = start_demo_instance(
        "sz-bench-",
        {
            # every patient of the bench comes from 127.0.0.1
            "ACCESS_CODE_LIMIT_PER_ADDRESS": "10000",
            "ACCESS_CODE_LIMIT_GLOBAL": "10000",
        },
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sprechzimmer.settings")
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = launch(playwright)
            floor = measure_floor(browser, base_url, args.calls)
            ours = measure_ours(browser, base_url, args.calls, warm=False)
            warm = measure_ours(browser, base_url, args.calls, warm=True)
            browser.close()
    finally:
        process.terminate()
        process.wait(10)

    from sprechzimmer.core.formats import number

    def ms(values):
        return f"median {number(statistics.median(values), 1):>7}  p90 {number(percentile(values, 90), 1):>7}"

    print(f"call setup, admit → first remote frame drawn on both sides, {args.calls} calls each (ms)")
    print(f"  floor (bare peer connections): {ms(floor)}")
    print(f"  Sprechzimmer, cold admit:      {ms(ours)}")
    print(f"  Sprechzimmer, warm admit:      {ms(warm)}")
    print(f"  ratio of medians, cold: {number(statistics.median(ours) / statistics.median(floor), 2)}× (aim ≤ 1,1×)")
    print("  warm admit aim: ≤ 100 ms")


if __name__ == "__main__":
    main()
