"""The patient's side of the network-interruption test, run inside its own network namespace:

    ip netns exec NS python netns_patient.py BASE_URL CODE

Joins the appointment in Debian's Chromium with a fake camera and then prints one JSON line a second
with the call's state ({"state", "frames", "step"}) until stdin closes."""

import json
import sys
import threading

from playwright.sync_api import sync_playwright

base_url, code = sys.argv[1], sys.argv[2]
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()

with sync_playwright() as p:
    browser = p.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            # Our server is at a veth address over plain HTTP in this test; the page needs a secure context.
            f"--unsafely-treat-insecure-origin-as-secure={base_url}",
        ],
    )
    page = browser.new_context(base_url=base_url).new_page()
    page.set_default_timeout(30_000)
    page.goto(f"/sprechstunde/#code={code}")
    page.fill("#name", "Netz Patient")
    page.click("#step-enter button[type=submit]")
    page.wait_for_selector("#check-continue:not([disabled])")
    page.click("#check-continue")
    page.check("#step-consent input[name=accepted]")
    page.click("#step-consent button[type=submit]")
    page.wait_for_selector("#step-waiting:not([hidden])")
    print(json.dumps({"step": "waiting"}), flush=True)
    while not stop.is_set():
        print(
            json.dumps(
                {
                    "step": page.evaluate("document.body.dataset.step"),
                    "state": page.get_attribute("#call", "data-connection-state"),
                    "frames": int(page.get_attribute("#call", "data-frames-decoded") or 0),
                }
            ),
            flush=True,
        )
        page.wait_for_timeout(1000)
    browser.close()
