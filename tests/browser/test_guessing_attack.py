"""A guessing attack from many addresses does not keep a patient out (issue 11, item 5): behind a
proxy, wrong codes from 40 addresses push the server over its global limit; a patient with the
right code from a fresh address solves the proof of work in the browser and gets in."""

import json
import time
import urllib.request
from http.cookiejar import CookieJar

import pytest

from sprechzimmer.demo.data import DEMO_PASSWORD, DEMO_USERS
from tests.browser.conftest import free_port, start_daphne
from tests.browser.helpers import login
from tests.browser.test_video_call import book_appointment

pytestmark = pytest.mark.browser

(DOCTOR, _, _, _, DOCTOR_TOTP), _staff = DEMO_USERS


@pytest.fixture
def proxied_server(server, tmp_path):
    """Another server process on the same database, configured as behind a proxy, with a low global limit."""
    port = free_port()
    env = {**server.env, "BEHIND_PROXY": "true", "ACCESS_CODE_LIMIT_GLOBAL": "5", "ACCESS_CODE_POW_BITS": "14"}
    log = tmp_path / "proxied.log"
    process = start_daphne(env, port, log)
    yield f"http://127.0.0.1:{port}", log
    process.terminate()
    process.wait(30)


def guess(url: str, address: str, code: str) -> int:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(urllib.request.Request(f"{url}/sprechstunde/", headers={"X-Forwarded-For": address})).read()
    token = next(c.value for c in jar if c.name == "csrftoken")
    request = urllib.request.Request(
        f"{url}/api/sprechstunde/zugang/",
        data=json.dumps({"code": code}).encode(),
        headers={
            "Content-Type": "application/json",
            "X-CSRFToken": token,
            "X-Forwarded-For": address,
            "Referer": f"{url}/sprechstunde/",
        },
    )
    try:
        return opener.open(request).status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_patient_gets_in_during_a_guessing_attack(new_page, server, proxied_server):
    url, log = proxied_server
    doctor = new_page()
    login(doctor, DOCTOR, DEMO_PASSWORD, DOCTOR_TOTP)
    code, _ = book_appointment(doctor, name="Paula Angriff")

    statuses = [guess(url, f"203.0.113.{n}", "ACDEF-34679") for n in range(1, 41)]
    assert statuses.count(403) >= 5 and 429 in statuses  # wrong, then every attempt needs the proof

    patient = new_page(base_url=url)
    patient.context.set_extra_http_headers({"X-Forwarded-For": "198.51.100.77"})
    patient.goto(f"/sprechstunde/#code={code}")
    patient.fill("#name", "Paula Angriff")
    patient.click("#step-enter button[type=submit]")
    patient.wait_for_selector("#step-check:not([hidden])", timeout=60_000)
    deadline = time.monotonic() + 10
    while "198.51.100.77 POST /api/sprechstunde/zugang/ 200" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    text = log.read_text()
    assert "198.51.100.77 POST /api/sprechstunde/zugang/ 429" in text  # asked for the proof ...
    assert "198.51.100.77 POST /api/sprechstunde/zugang/ 200" in text  # ... and let in with it
    # The only console message is Chromium noting the 429 that asked for the proof.
    assert all("status of 429" in error for error in patient.errors), patient.errors
