"""The encrypting API client and the browser read each other's patient data (issue 19): the main
user creates an API client, the client registers its key, the main user compares the fingerprint
and grants the practice key in the browser; an appointment the client creates shows its patient's
name in the practice's calendar, and a record the browser encrypts opens in the client."""

from __future__ import annotations

import datetime as dt

import pytest

from sprechzimmer.demo.data import DEMO_PASSWORD, DEMO_USERS
from sprechzimmer_client import Client
from sprechzimmer_client.bridge import BERLIN
from tests.browser.helpers import login

pytestmark = pytest.mark.browser

(DOCTOR, _, _, _, DOCTOR_TOTP), _staff = DEMO_USERS


def test_client_and_browser_open_each_others_patient_data(new_page, server, tmp_path):
    page = new_page()
    login(page, DOCTOR, DEMO_PASSWORD, DOCTOR_TOTP)
    page.goto("/praxis/api-zugaenge/")
    page.fill("#client-name", "GDT-Brücke")
    page.check("input[value='appointments:read']")
    page.check("input[value='appointments:write']")
    with page.expect_navigation():
        page.click("button:has-text('Zugang anlegen')")
    token = page.text_content("#token-value").strip()

    bridge = Client(server.url, token, tmp_path / "bridge.pem")
    bridge.register_key()
    page.goto("/praxis/api-zugaenge/")
    row = page.locator("tr[data-client]", has_text="GDT-Brücke")
    assert row.locator(".client-key code").text_content() == bridge.fingerprint  # what the main user compares
    row.locator("button:has-text('Zugriff freigeben')").click()
    row.locator(".client-key:has-text('freigegeben')").wait_for()
    assert row.locator("button").count() == 1  # only "Sperren" is left

    doctor_id = server.db.scalar(f"select id from accounts_user where email = '{DOCTOR}'")
    day = dt.date.today() + dt.timedelta(days=3)
    start = dt.datetime.combine(day, dt.time(7, 15), tzinfo=BERLIN)
    bridge.create_appointment(doctor_id, start, {"name": "Gerda Gdt-Test", "birth_date": "1950-02-01"})
    page.goto("/praxis/termine/")
    page.wait_for_selector("#days > *")
    page.fill("#day", day.isoformat())
    page.wait_for_selector("#days :text('Gerda Gdt-Test')")

    envelope = page.evaluate(
        """async () => {
            const keyring = await import("/static/sprechzimmer/js/lib/keyring.js");
            const patients = await import("/static/sprechzimmer/js/lib/patientdata.js");
            const data = {name: "Bruno Browser", birth_date: "1970-05-06", email: "", phone: "", note: "Ärger"};
            return patients.encryptPatient(await keyring.practiceKey(), data);
        }"""
    )
    assert "Bruno" not in envelope
    assert bridge.decrypt_patient(envelope) == {
        "name": "Bruno Browser",
        "birth_date": "1970-05-06",
        "email": "",
        "phone": "",
        "note": "Ärger",
    }
