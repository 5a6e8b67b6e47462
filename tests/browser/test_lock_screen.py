"""The lock screen in a real browser: after locking no patient name is in the page and no key
material in IndexedDB, in every tab; a wrong password gets a German message; the right one brings
back both. The idle lock locks on its own after the practice's lock time, but not during a call.

The idle tests move the page's clock with Playwright's clock (Date and timers of the page), as a
laptop whose lid was closed for that long would: the page's own check fires with the time it
reads, so nothing here waits out a real minute."""

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from sprechzimmer.demo.data import DEMO_PASSWORD
from tests.browser.helpers import hang_up, login
from tests.browser.test_practice_overview import screenshots
from tests.browser.test_video_call import (
    DOCTOR,
    DOCTOR_TOTP,
    book_appointment,
    patient_enters_waiting_room,
    wait_connected_with_video,
)

pytestmark = pytest.mark.browser

NAME = "Hedwig Sperr-Bildschirm"

STORED_KEYS = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("sprechzimmer-keys", 1);
  open.onupgradeneeded = () => open.result.createObjectStore("keys");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const all = db.transaction("keys").objectStore("keys").getAllKeys();
    all.onsuccess = () => { db.close(); resolve(all.result.map(String).sort()); };
  };
})"""


# The page's own test for a running call (ui/lockscreen.js, callRunning), negated.
NO_LIVE_MEDIA = """() => ![...document.querySelectorAll("video")].some((video) =>
  video.srcObject instanceof MediaStream && video.srcObject.getTracks().some((t) => t.readyState === "live"))"""


def show_calendar(page) -> None:
    page.goto("/praxis/termine/")
    page.locator(".appointment", has_text=NAME).first.wait_for()


def test_locking_wipes_names_and_keys_and_the_password_brings_them_back(new_page):
    doctor = new_page()
    login(doctor, DOCTOR, DEMO_PASSWORD, DOCTOR_TOTP)
    book_appointment(doctor, NAME)
    show_calendar(doctor)
    assert doctor.evaluate(STORED_KEYS) == ["practice", "private"]
    other_tab = doctor.context.new_page()
    other_tab.goto("/praxis/")
    other_tab.wait_for_selector("#today[data-state=ready]")
    assert NAME in other_tab.content()

    doctor.click("#sz-lock")
    doctor.wait_for_url("**/gesperrt/?weiter=%2Fpraxis%2Ftermine%2F")
    other_tab.wait_for_url("**/gesperrt/**")  # the other tab follows
    for page in (doctor, other_tab):
        page.wait_for_selector("#unlock-password")
        assert NAME not in page.content()
        assert page.evaluate(STORED_KEYS) == []
    # Going round the lock page does not work: the server holds the session there.
    other_tab.goto("/praxis/termine/")
    assert "/gesperrt/" in other_tab.url
    assert other_tab.evaluate("fetch('/api/schluessel/').then(r => r.status)") == 423

    doctor.fill("#unlock-password", "Falsches-Passwort-123")
    doctor.click("#unlock-form button[type=submit]")
    doctor.wait_for_selector("#unlock-status:text('Das Passwort ist nicht korrekt')")
    assert doctor.evaluate(STORED_KEYS) == []
    screenshots(doctor, "lock-screen")

    doctor.fill("#unlock-password", DEMO_PASSWORD)
    doctor.click("#unlock-form button[type=submit]")
    doctor.wait_for_url("**/praxis/termine/")
    doctor.locator(".appointment", has_text=NAME).first.wait_for()
    assert doctor.evaluate(STORED_KEYS) == ["practice", "private"]
    other_tab.wait_for_url("**/praxis/termine/")  # unlocked in one tab: the other comes back too
    other_tab.locator(".appointment", has_text=NAME).first.wait_for()
    # The wrong password's 400 is in the console as a failed resource; nothing else went wrong.
    problems = [e for e in doctor.errors if "Failed to load resource" not in e]
    assert not problems, problems


def set_lock_minutes(page, minutes: int) -> None:
    page.goto("/praxis/einstellungen/")
    page.fill("input[name=lock_minutes]", str(minutes))
    page.click("main form button[type=submit]")
    page.wait_for_selector(".messages .success")


def test_the_screen_locks_itself_after_the_idle_time(new_page):
    doctor = new_page()
    login(doctor, DOCTOR, DEMO_PASSWORD, DOCTOR_TOTP)
    set_lock_minutes(doctor, 1)
    try:
        doctor.context.clock.install()
        doctor.goto("/praxis/")
        doctor.wait_for_selector("#today[data-state=ready]")
        assert doctor.get_attribute("meta[name=sz-lock-minutes]", "content") == "1"
        # Nobody touches the page for 65 s (checked every 5 s): it locks.
        doctor.clock.fast_forward("01:05")
        doctor.wait_for_url("**/gesperrt/**")
        assert doctor.evaluate(STORED_KEYS) == []
        doctor.fill("#unlock-password", DEMO_PASSWORD)
        doctor.click("#unlock-form button[type=submit]")
        doctor.wait_for_url("**/praxis/")
    finally:
        set_lock_minutes(doctor, 10)


def unlock(page) -> None:
    page.fill("#unlock-password", DEMO_PASSWORD)
    page.click("#unlock-form button[type=submit]")
    page.wait_for_url(lambda url: "/gesperrt/" not in url)


def test_a_running_call_is_not_idle_and_the_lock_comes_after_it(new_page):
    doctor, patient = new_page(), new_page()
    login(doctor, DOCTOR, DEMO_PASSWORD, DOCTOR_TOTP)
    set_lock_minutes(doctor, 1)
    try:
        code, _ = book_appointment(doctor, "Ida Im-Gespräch")
        doctor.context.clock.install()
        doctor.click(".appointment:has-text('Ida Im-Gespräch') .room-link")
        patient_enters_waiting_room(patient, code)
        doctor.wait_for_selector("#room .admit:not([hidden])")
        doctor.click("#room .admit")
        wait_connected_with_video(doctor)
        # Nobody touches the doctor's page for longer than the lock time (80 s on the page's clock,
        # its idle check fires on them): the call goes on. A lock would follow that check at once.
        doctor.clock.fast_forward("01:20")
        with pytest.raises(PlaywrightTimeout):
            doctor.wait_for_url("**/gesperrt/**", timeout=10_000)
        assert doctor.locator("#call[data-connection-state=connected]").count() == 1
        # After the call the screen locks as usual once the lock time has passed without input.
        hang_up(doctor)
        doctor.wait_for_function(NO_LIVE_MEDIA)  # what the page counts as a running call is over
        doctor.clock.fast_forward("01:05")
        doctor.wait_for_url("**/gesperrt/**")
        assert doctor.evaluate(STORED_KEYS) == []
    finally:
        if "/gesperrt/" in doctor.url:
            unlock(doctor)
        set_lock_minutes(doctor, 10)
