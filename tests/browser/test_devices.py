"""Devices in the browser: a device awaiting approval sees no practice data; revoking a device ends
that browser's session at once. Uses the demo practice that the server was started with."""

import pytest

from sprechzimmer.demo.data import DEMO_PASSWORD, DEMO_USERS
from tests.browser.helpers import login, read_note

pytestmark = pytest.mark.browser

(MAIN, _, _, _, MAIN_TOTP), (STAFF, _, _, _, STAFF_TOTP) = DEMO_USERS


def set_device_approval(page, required: bool) -> None:
    page.goto("/praxis/einstellungen/")
    page.set_checked("#id_require_device_approval", required)
    page.click("main form button[type=submit]")
    assert "Die Einstellungen wurden gespeichert." in page.text_content(".messages")


def test_device_waiting_for_approval_sees_no_practice_data(new_page, server):
    main = new_page()
    login(main, MAIN, DEMO_PASSWORD, MAIN_TOTP)
    set_device_approval(main, True)
    try:
        staff = new_page()
        login(staff, STAFF, DEMO_PASSWORD, STAFF_TOTP)
        staff.wait_for_url("**/geraet/wartet/")
        assert "wartet auf Freigabe" in staff.text_content("h1")
        # Neither pages nor the key and data APIs answer for a pending device.
        for path in ("/praxis/", "/api/schluessel/", "/api/datensaetze/practice-note/"):
            response = staff.request.get(path, max_redirects=0)
            assert response.status in (302, 404), path
            assert "wrapped" not in response.text() and "ciphertext" not in response.text()

        # Every device of the staff member that waits: the revocation test, when it ran before on
        # this worker's server, left the fresh browser it logged in with waiting too.
        main.goto("/praxis/geraete/")
        waiting = main.locator("tr", has_text="Max Muster").filter(has_text="wartet auf Freigabe")
        assert waiting.count() >= 1
        while waiting.count():
            waiting.first.locator("button", has_text="Freigeben").click()
            assert "ist freigegeben" in main.text_content(".messages")

        staff.goto("/geraet/wartet/")
        staff.wait_for_url("**/praxis/")
        assert "Demo-Praxis" in read_note(staff)
    finally:
        set_device_approval(main, False)


def test_revoking_a_device_ends_its_session_at_once(new_page, server):
    staff = new_page()
    login(staff, STAFF, DEMO_PASSWORD, STAFF_TOTP)
    assert "Demo-Praxis" in read_note(staff)

    main = new_page()
    login(main, MAIN, DEMO_PASSWORD, MAIN_TOTP)
    main.goto("/praxis/geraete/")
    rows = main.locator("tr", has_text="Max Muster").filter(has_text="freigegeben")
    count = rows.count()
    rows.first.locator("button", has_text="Sperren").click()
    try:
        assert "ist gesperrt" in main.text_content(".messages")
        assert main.locator("tr", has_text="Max Muster").filter(has_text="freigegeben").count() == count - 1

        # The staff member's very next request lands on the login page with the reason.
        staff.goto("/praxis/")
        staff.wait_for_url("**/konto/login/**")
        assert "Dieses Endgerät wurde gesperrt" in staff.text_content(".messages")
        assert staff.request.get("/api/schluessel/", max_redirects=0).status == 302

        # A fresh browser is a new device, and it waits for approval now (although the practice does
        # not ask for approval in general): revocation cannot be undone with a new cookie.
        again = new_page()
        login(again, STAFF, DEMO_PASSWORD, STAFF_TOTP)
        again.wait_for_url("**/geraet/wartet/")
    finally:
        # The main user lifts that duty again; later tests log the staff member in on fresh browsers.
        main.goto("/praxis/geraete/")
        main.locator("#held-members li", has_text="Max Muster").locator(
            "button", has_text="Freigabepflicht aufheben"
        ).click()
        assert "brauchen keine Freigabe mehr" in main.text_content(".messages")
