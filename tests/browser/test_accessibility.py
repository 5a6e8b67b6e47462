"""Every page of every role, audited in the real browser (tests/browser/audit.py): no serious or
critical axe-core violation (WCAG 2.2 AA), nothing with `hidden` on screen, no request to another
host. The calendar with appointments, the room before, during and after a call, the patient's pages
at phone size, the billing report and the duty plan included (issue 14)."""

from __future__ import annotations

import pytest

from sprechzimmer.demo.data import DEMO_K_ARZT, DEMO_KV_STAFF, DEMO_PASSWORD, DEMO_USERS
from tests.browser.audit import DESKTOP, PHONE, PHONE_LANDSCAPE, Audit
from tests.browser.helpers import login
from tests.browser.test_billing import quarter_file
from tests.browser.test_video_call import book_appointment, wait_connected_with_video

pytestmark = pytest.mark.browser

(DOCTOR, _, _, _, DOCTOR_TOTP), (STAFF, _, _, _, STAFF_TOTP) = DEMO_USERS
KV_EMAIL, _, KV_TOTP = DEMO_KV_STAFF
K_EMAIL, _, _, K_TOTP = DEMO_K_ARZT


@pytest.fixture
def audit(server):
    return Audit(server.url)


def visit(audit, page, name: str, path: str) -> None:
    page.goto(path)
    audit.check(page, name)


def test_public_pages_and_the_patients_pages_at_phone_size(browser, audit):
    _, page = audit.context(browser)
    for name, path in [
        ("Startseite", "/"),
        ("Anmelden", "/konto/login/"),
        ("Registrieren", "/konto/signup/"),
        ("Passwort vergessen", "/konto/password/reset/"),
        ("Passwort-Link gesendet", "/konto/password/reset/done/"),
        ("Impressum", "/impressum/"),
        ("Datenschutz", "/datenschutz/"),
        ("Kooperationsarzt", "/kooperationsarzt/"),
        ("Status", "/status/"),
        ("Hilfe", "/hilfe/"),
        ("Patientenanleitung", "/hilfe/patienten/"),
    ]:
        visit(audit, page, name, path)
    for viewport in (PHONE, PHONE_LANDSCAPE):
        page.set_viewport_size(viewport)
        visit(audit, page, f"Anmelden {viewport['width']}", "/konto/login/")
        visit(audit, page, f"Sprechstunde {viewport['width']}", "/sprechstunde/")
        visit(audit, page, f"Geraetetest {viewport['width']}", "/sprechstunde/technik/")
        visit(audit, page, f"Patientenanleitung {viewport['width']}", "/hilfe/patienten/")
    audit.assert_clean()


def test_doctor_calendar_room_call_and_patient_at_phone_size(browser, audit):
    """The doctor's day: calendar with appointments, the room while nobody waits ("Patient
    hereinholen" hidden), with a waiting patient, in the call and after it; the patient's every step
    on a phone."""
    _, doctor = audit.context(browser)
    login(doctor, DOCTOR, DEMO_PASSWORD, DOCTOR_TOTP)
    audit.check(doctor, "Arzt nach Anmeldung")
    code, _ = book_appointment(doctor, "Agnes Audit")
    doctor.wait_for_selector(".appointment:has-text('Agnes Audit')")
    audit.check(doctor, "Kalender mit Terminen")
    doctor.click("#new-appointment")
    doctor.wait_for_selector("#appointment-dialog[open]")
    audit.check(doctor, "Termin-Dialog")
    doctor.keyboard.press("Escape")

    doctor.click(".appointment:has-text('Agnes Audit') .room-link")
    doctor.wait_for_selector(".lobby-status:has-text('Noch niemand im Wartezimmer')")
    assert not doctor.is_visible("#room .admit"), "Patient hereinholen shows while nobody waits"
    audit.check(doctor, "Videoraum leer")

    _, patient = audit.context(browser, viewport=PHONE)
    patient.goto(f"/sprechstunde/#code={code}")
    audit.check(patient, "Patient Zugang")
    patient.fill("#name", "Agnes A.")
    patient.click("#step-enter button[type=submit]")
    patient.wait_for_selector("#check-continue:not([disabled])")
    audit.check(patient, "Patient Geraetetest")
    patient.click("#check-continue")
    audit.check(patient, "Patient Einwilligung")
    patient.check("#step-consent input[name=accepted]")
    patient.click("#step-consent button[type=submit]")
    patient.wait_for_selector("#step-waiting:not([hidden])")
    audit.check(patient, "Patient Wartezimmer")

    doctor.wait_for_selector("#room .admit:not([hidden])")
    audit.check(doctor, "Videoraum Patient wartet")
    doctor.click("#room .admit")
    wait_connected_with_video(doctor)
    wait_connected_with_video(patient)
    assert not doctor.is_visible("#room .admit"), "Patient hereinholen shows during the call"
    audit.check(doctor, "Videoraum im Gespraech")
    audit.check(patient, "Patient im Gespraech")
    patient.set_viewport_size(PHONE_LANDSCAPE)
    audit.check(patient, "Patient im Gespraech quer")

    doctor.click("#call .hangup")
    doctor.wait_for_selector("#call .hangup-confirm:visible")
    audit.check(doctor, "Videoraum Auflegen-Frage")
    doctor.click("#call .hangup-confirm .hangup-yes")
    patient.wait_for_selector("#step-done:not([hidden])")
    doctor.wait_for_selector(".lobby-status:has-text('Videokontakt erfasst')")
    assert not doctor.is_visible("#room .admit"), "Patient hereinholen shows after the call"
    audit.check(doctor, "Videoraum nach dem Gespraech")
    audit.check(patient, "Patient Ende")
    audit.assert_clean()


def test_doctor_practice_billing_security_and_duty_pages(browser, audit):
    _, page = audit.context(browser)
    login(page, DOCTOR, DEMO_PASSWORD, DOCTOR_TOTP)
    for name, path in [
        ("Uebersicht", "/praxis/"),
        ("Mitglieder", "/praxis/mitglieder/"),
        ("Endgeraete", "/praxis/geraete/"),
        ("Einstellungen", "/praxis/einstellungen/"),
        ("Rechnungsdaten", "/praxis/rechnungsdaten/"),
        ("Kuendigen Dialog", "/praxis/rechnungsdaten/vertrag/kuendigen/"),
        ("KV-Genehmigung", "/praxis/kv-genehmigung/"),
        ("API-Zugaenge", "/praxis/api-zugaenge/"),
        ("Online-Buchung", "/praxis/online-buchung/"),
        ("Webhooks", "/praxis/api-zugaenge/webhooks/"),
        ("Abrechnung", "/praxis/abrechnung/"),
        ("Sicherheit", "/konto/2fa/"),
        ("Passwort aendern", "/konto/password/change/"),
        ("Meine Dienste", "/dienste/"),
        ("Dienstboerse", "/dienste/boerse/"),
    ]:
        visit(audit, page, name, path)
    page.goto("/praxis/abrechnung/")
    page.set_input_files(
        "#ebm-file",
        files=[
            {
                "name": "Z01521234500_01.10.2024_10.00.con",
                "mimeType": "application/octet-stream",
                "buffer": quarter_file(),
            }
        ],
    )
    page.click("#ebm-upload button[type=submit]")
    page.wait_for_url("**/praxis/abrechnung/*/")
    audit.check(page, "Abrechnungsbericht")
    page.click("#sz-lock")
    page.wait_for_selector("#unlock-password")
    audit.check(page, "Bildschirm gesperrt")
    page.fill("#unlock-password", DEMO_PASSWORD)
    page.click("#unlock-form button[type=submit]")
    page.wait_for_url("**/praxis/abrechnung/*/")
    page.set_viewport_size(PHONE)
    audit.check(page, "Abrechnungsbericht Telefon")
    visit(audit, page, "Termine Telefon", "/praxis/termine/")
    # A row with a long name and all its actions (they were cut off: "Videor…", "Bearbeite…").
    book_appointment(page, "Paula Mustermann-Langenscheidt")
    page.wait_for_selector(".appointment:has-text('Paula Mustermann-Langenscheidt')")
    audit.check(page, "Termine Telefon mit Terminen")
    visit(audit, page, "Uebersicht Telefon", "/praxis/")
    # Lists of members, devices and API clients: one card per row on a phone, the actions whole
    # (a new user's walk found them off-screen in a table scrolled sideways).
    visit(audit, page, "Mitglieder Telefon", "/praxis/mitglieder/")
    assert page.get_attribute("table.cards-on-phone tbody td:nth-child(2)", "data-label") == "E-Mail"
    # The navigation row scrolls sideways: the current entry is in view, the rest fades out at the
    # edge, and "Menü" shows every entry on screen.
    in_view = """(selector) => { const nav = document.getElementById('main-nav').getBoundingClientRect();
      return [...document.querySelectorAll(selector)].every((e) => { const r = e.getBoundingClientRect();
        return r.left >= nav.left - 1 && r.right <= nav.right + 1 && r.right <= innerWidth + 1; }); }"""
    assert page.evaluate(in_view, "#main-nav [aria-current=page]")
    assert page.is_visible(".menu-toggle") and "more-right" in page.get_attribute("#main-nav", "class")
    assert not page.evaluate(in_view, "#main-nav a, #main-nav button")
    page.click(".menu-toggle")
    assert page.get_attribute(".menu-toggle", "aria-expanded") == "true"
    assert page.evaluate(in_view, "#main-nav a, #main-nav button")
    audit.check(page, "Mitglieder Telefon Menue offen")
    visit(audit, page, "Endgeraete Telefon", "/praxis/geraete/")
    visit(audit, page, "Online-Buchung Telefon", "/praxis/online-buchung/")
    visit(audit, page, "API-Zugaenge Telefon", "/praxis/api-zugaenge/")
    page.fill("#client-name", "Praxisverwaltungssystem Sonnenberg-Langenscheidt")
    page.check("input[name=scopes][value='appointments:read']")
    page.click("form:has(#client-name) button[type=submit]")
    page.wait_for_selector("#token-value")
    audit.check(page, "API-Zugaenge Telefon mit Zugang")
    page.click("details.revoke summary")
    audit.check(page, "API-Zugaenge Telefon Sperren-Frage")
    page.set_viewport_size(DESKTOP)
    audit.check(page, "API-Zugaenge mit Zugang")
    page.set_viewport_size(PHONE)
    visit(audit, page, "Meine Dienste Telefon", "/dienste/")
    visit(audit, page, "Dienstboerse Telefon", "/dienste/boerse/")
    audit.assert_clean()


def test_practice_staff_pages(browser, audit):
    _, page = audit.context(browser)
    login(page, STAFF, DEMO_PASSWORD, STAFF_TOTP)
    for name, path in [
        ("MFA Uebersicht", "/praxis/"),
        ("MFA Termine", "/praxis/termine/"),
        ("MFA Abrechnung", "/praxis/abrechnung/"),
        ("MFA Mitglieder", "/praxis/mitglieder/"),
        ("MFA Endgeraete", "/praxis/geraete/"),
    ]:
        visit(audit, page, name, path)
    # An empty week says so once and offers the next step: a new appointment on that day.
    page.goto("/praxis/termine/")
    page.fill("#day", "2030-01-07")
    page.wait_for_selector("#days .empty:has-text('Keine Termine')")
    audit.check(page, "MFA Termine leer")
    page.click("#days .empty-new")
    page.wait_for_selector("#appointment-dialog[open]")
    assert page.input_value("#f-date") == "2030-01-07"
    audit.assert_clean()


def test_kv_staff_pages_and_the_duty_plan(browser, audit):
    _, page = audit.context(browser)
    login(page, KV_EMAIL, DEMO_PASSWORD, KV_TOTP)
    visit(audit, page, "KV Dienstplanung", "/kv/")
    plan = page.get_attribute("#plans a[href*='/kv/plaene/']", "href")
    area = page.get_attribute("a[href*='/kv/bereiche/']:not([href$='/neu/'])", "href")
    for name, path in [
        ("KV Dienstplan", plan),
        ("KV Bereich", area),
        ("KV Antraege", "/kv/antraege/"),
        ("KV Kooperationsaerzte", "/kv/kooperationsaerzte/"),
        ("KV Umsaetze", "/kv/umsaetze/"),
    ]:
        visit(audit, page, name, path)
    page.set_viewport_size(PHONE)
    visit(audit, page, "KV Dienstplan Telefon", plan)
    visit(audit, page, "KV Dienstplanung Telefon", "/kv/")
    visit(audit, page, "KV Bereich Telefon", area)
    visit(audit, page, "KV Kooperationsaerzte Telefon", "/kv/kooperationsaerzte/")
    audit.assert_clean()


def test_k_arzt_pages(browser, audit):
    _, page = audit.context(browser, viewport=DESKTOP)
    login(page, K_EMAIL, DEMO_PASSWORD, K_TOTP)
    for name, path in [
        ("K-Arzt Dienste", "/dienste/"),
        ("K-Arzt Dienstboerse", "/dienste/boerse/"),
        ("K-Arzt Abrechnungen", "/dienste/abrechnung/"),
        ("K-Arzt Sicherheit", "/konto/2fa/"),
    ]:
        visit(audit, page, name, path)
    page.set_viewport_size(PHONE)
    visit(audit, page, "K-Arzt Dienste Telefon", "/dienste/")
    visit(audit, page, "K-Arzt Dienstboerse Telefon", "/dienste/boerse/")
    visit(audit, page, "K-Arzt Abrechnung Telefon", "/dienste/abrechnung/")
    page.click("main a[href^='/dienste/abrechnung/20']")
    audit.check(page, "K-Arzt Monatsabrechnung Telefon")
    audit.assert_clean()
