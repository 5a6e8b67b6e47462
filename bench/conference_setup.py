"""Conference transitions (issue 18): from the doctor's "Hereinbitten" for a third person to the
first video frame drawn on every remote tile of all three pages (peer-to-peer → Janus, frames
encrypted), and from "Entfernen" of that person to the first frame of the fresh direct call drawn
on both remaining pages (Janus → peer-to-peer). Repeated N times in one appointment: each round
invites a new guest, admits them, removes them.

    .venv/bin/python bench/conference_setup.py [--rounds 5]

Needs Debian's janus and Chromium. Starts its own Janus (the project's generated configuration) and
its own server (Daphne, SQLite, in-memory layer) with demo data. Three headless Chromium pages on
one machine: the figures include their encoding, the frame encryption, Janus and the key relay's
polling (every 2 s), not network distance. Frames are timed with requestVideoFrameCallback.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sprechzimmer.settings")
os.environ.setdefault("SECRET_KEY", "bench-secret-key-that-is-long-enough-0123456789")
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp())
import django  # noqa: E402

django.setup()

from bench.call_setup import launch, percentile  # noqa: E402

from sprechzimmer.conference import janusconf  # noqa: E402
from sprechzimmer.core.formats import number  # noqa: E402
from sprechzimmer.demo.data import DEMO_PASSWORD  # noqa: E402
from tests.browser.conftest import free_port, start_demo_instance  # noqa: E402
from tests.browser.helpers import login  # noqa: E402
from tests.browser.test_video_call import (  # noqa: E402
    DOCTOR,
    DOCTOR_TOTP,
    book_appointment,
    patient_enters_waiting_room,
)
from tests.conference.conftest import post  # noqa: E402

# Parks on window a promise of the time (epoch ms) by which every one of `count` remote tiles has
# drawn a frame; tiles made after the call are included (they appear as the room fills).
TILES_HOOK = """
(count) => {
  window.tilesDrawn = new Promise((resolve) => {
    const drawn = new Map();
    const timer = setInterval(() => {
      const videos = [...document.querySelectorAll('#call .conference-grid .tile video')];
      for (const video of videos) {
        if (video.dataset.benchArmed) continue;
        video.dataset.benchArmed = "1";
        video.requestVideoFrameCallback(() => drawn.set(video, performance.timeOrigin + performance.now()));
      }
      if (videos.length === count && videos.every((v) => drawn.has(v))) {
        clearInterval(timer);
        resolve(Math.max(...videos.map((v) => drawn.get(v))));
      }
    }, 2);
  });
}
"""

# The same for the direct call's picture once the page is out of the room (a new remote stream).
DIRECT_HOOK = """
() => {
  const video = document.querySelector('#call .remote-video');
  const before = video.srcObject;
  window.directDrawn = new Promise((resolve) => {
    const timer = setInterval(() => {
      if (document.querySelector('#call').dataset.mode || !video.srcObject || video.srcObject === before) return;
      clearInterval(timer);
      video.requestVideoFrameCallback(() => resolve(performance.timeOrigin + performance.now()));
    }, 2);
  });
}
"""

NOW = "() => performance.timeOrigin + performance.now()"


def start_janus(folder: Path) -> tuple[subprocess.Popen, dict]:
    config = janusconf.JanusConfig(
        secret=secrets.token_urlsafe(32),
        http_port=free_port(),
        admin_port=free_port(),
        ws_port=free_port(),
        rtp_ports=(48000, 48999),
        ice_enforce=["127.0.0.1"],
        debug_level=2,
    )
    janusconf.write(config, folder)
    log = open(folder / "janus.log", "wb")  # noqa: SIM115 (open while Janus runs)
    process = subprocess.Popen(janusconf.command(folder), stdout=log, stderr=subprocess.STDOUT)
    env = {
        "JANUS_URL": f"http://127.0.0.1:{config.http_port}/janus",
        "JANUS_WS_URL": f"ws://127.0.0.1:{config.ws_port}/",
        "JANUS_SECRET": config.secret,
    }
    for _ in range(100):
        try:
            post(env["JANUS_URL"], {"janus": "info", "transaction": "t"})
            return process, env
        except OSError:
            time.sleep(0.2)
    raise SystemExit("Janus did not start: " + (folder / "janus.log").read_text())


def rounds(browser, base_url: str, count: int) -> tuple[list[float], list[float]]:
    def page():
        return browser.new_context(base_url=base_url).new_page()

    doctor = page()
    login(doctor, DOCTOR, DEMO_PASSWORD, DOCTOR_TOTP)
    code, _ = book_appointment(doctor, "Bench Konferenz")
    doctor.click(".appointment:has-text('Bench Konferenz') .room-link")
    doctor.wait_for_selector(".patient-name:has-text('Bench')")
    patient = page()
    patient_enters_waiting_room(patient, code)
    doctor.wait_for_selector("#room .admit:not([hidden])")
    doctor.click("#room .admit")
    doctor.click(".conference-panel summary")
    to_room, to_direct = [], []
    for n in range(count):
        for side in (doctor, patient):
            side.wait_for_selector("#call[data-connection-state=connected]", timeout=60_000)
        name = f"Gast {n + 1}"
        doctor.select_option("#guest-role", "interpreter")
        doctor.fill("#guest-name", name)
        doctor.click(".conference-panel form button[type=submit]")
        doctor.wait_for_selector(f".conference-panel .guest-code:has-text('{name}')")
        guest_code = doctor.text_content(".conference-panel .guest-code .code").strip()
        guest = page()
        guest.goto(f"/konferenz/#code={guest_code}")
        guest.click("#step-enter button[type=submit]")
        guest.wait_for_selector("#step-waiting:not([hidden])")
        waiting = f".conference-panel .guests li[data-state=waiting]:has-text('{name}')"
        doctor.wait_for_selector(waiting)
        for side in (doctor, patient, guest):
            side.evaluate(TILES_HOOK, 2)
        started = doctor.evaluate(NOW)
        doctor.click(f"{waiting} button[data-action=admit]")
        done = max(side.evaluate("() => window.tilesDrawn") for side in (doctor, patient, guest))
        to_room.append(done - started)

        for side in (doctor, patient):
            side.evaluate(DIRECT_HOOK)
        started = doctor.evaluate(NOW)
        doctor.click(f".conference-panel .guests li:has-text('{name}') button[data-action=remove]")
        done = max(side.evaluate("() => window.directDrawn") for side in (doctor, patient))
        to_direct.append(done - started)
        guest.wait_for_selector("#step-done:not([hidden])")
        guest.context.close()
        print(
            f"  round {n + 1}: into the room {number(to_room[-1], 0)} ms, back to direct {number(to_direct[-1], 0)} ms"
        )
    return to_room, to_direct


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    janus, janus_env = start_janus(Path(tempfile.mkdtemp(prefix="sz-bench-janus-")))
    process, base_url = start_demo_instance(
        "sz-bench-",
        {**janus_env, "ACCESS_CODE_LIMIT_PER_ADDRESS": "10000", "ACCESS_CODE_LIMIT_GLOBAL": "10000"},
    )
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = launch(playwright)
            to_room, to_direct = rounds(browser, base_url, args.rounds)
            browser.close()
    finally:
        process.terminate()
        process.wait(10)
        janus.terminate()
        janus.wait(10)

    def ms(values):
        return f"median {number(statistics.median(values), 0):>6}  p90 {number(percentile(values, 90), 0):>6}"

    print(f"conference transitions, {args.rounds} rounds (ms)")
    print(f"  admit the third → first frame on every remote tile of all three pages: {ms(to_room)}")
    print(f"  remove the third → first frame of the direct call on both pages:       {ms(to_direct)}")


if __name__ == "__main__":
    main()
