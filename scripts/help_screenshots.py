"""Screenshots of the real pages for the online help and the patient guide (issue 17), so that the
help shows what users see today. Starts the product on a fresh SQLite database with demo data
(Daphne, as bench/call_setup.py does), walks a patient's way in at phone size and the practice's at
desktop size in Debian's Chromium, and writes PNGs to src/sprechzimmer/static/sprechzimmer/help/.

    .venv/bin/python scripts/help_screenshots.py

Run it after changing one of these pages and commit the pictures with the change.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, start_demo_instance  # noqa: E402
from tests.browser.helpers import login  # noqa: E402

TARGET = ROOT / "src" / "sprechzimmer" / "static" / "sprechzimmer" / "help"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


def main() -> None:
    process, base_url = start_demo_instance("sz-help-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sprechzimmer.settings")
    TARGET.mkdir(parents=True, exist_ok=True)
    try:
        from playwright.sync_api import sync_playwright

        from sprechzimmer.demo.data import DEMO_PASSWORD, DEMO_USERS

        (email, _, _, _, secret) = DEMO_USERS[0]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--lang=de-DE",
                    "--use-fake-ui-for-media-stream",
                    "--use-fake-device-for-media-stream",
                ],
            )
            practice = browser.new_context(base_url=base_url, viewport=DESKTOP, locale="de-DE")
            doctor = practice.new_page()
            login(doctor, email, DEMO_PASSWORD, secret)
            doctor.goto("/praxis/termine/")
            doctor.wait_for_selector("#days > *")
            doctor.click("#new-appointment")
            start = datetime.now() + timedelta(minutes=10)
            doctor.fill("#f-date", start.strftime("%Y-%m-%d"))
            doctor.fill("#f-time", start.strftime("%H:%M"))
            doctor.fill("#f-name", "Erika Mustermann")
            doctor.screenshot(path=TARGET / "praxis-termin-anlegen.png")
            doctor.click("#appointment-dialog button[type=submit]")
            doctor.wait_for_selector("#invitation-dialog[open]")
            code = doctor.text_content("#invitation-code")
            doctor.screenshot(path=TARGET / "praxis-einladung.png")
            doctor.keyboard.press("Escape")
            room = doctor.get_attribute(".appointment:has-text('Erika Mustermann') .room-link", "href")
            doctor.goto(room)

            patient = browser.new_context(base_url=base_url, viewport=PHONE, locale="de-DE", is_mobile=True).new_page()
            patient.goto("/sprechstunde/")
            patient.fill("#name", "Erika Mustermann")
            patient.fill("#code", code or "")
            patient.screenshot(path=TARGET / "patient-1-zugang.png")
            patient.click("#step-enter button[type=submit]")
            patient.wait_for_selector("#check-continue:not([disabled])")
            patient.wait_for_timeout(800)  # the camera preview shows a picture
            patient.screenshot(path=TARGET / "patient-2-geraetetest.png")
            patient.click("#check-continue")
            patient.wait_for_selector("#step-consent:not([hidden])")
            patient.screenshot(path=TARGET / "patient-3-einwilligung.png")
            patient.check("#step-consent input[name=accepted]")
            patient.click("#step-consent button[type=submit]")
            patient.wait_for_selector("#step-waiting:not([hidden])")
            patient.wait_for_timeout(800)
            patient.screenshot(path=TARGET / "patient-4-wartezimmer.png")

            doctor.wait_for_selector("#room .admit:not([hidden])")
            doctor.screenshot(path=TARGET / "praxis-raum-wartet.png")
            browser.close()
    finally:
        process.terminate()
        process.wait(10)
    for picture in sorted(TARGET.glob("*.png")):
        print(picture.relative_to(ROOT), picture.stat().st_size, "Bytes")


if __name__ == "__main__":
    main()
