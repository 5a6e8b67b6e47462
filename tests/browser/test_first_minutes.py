"""The first five minutes of a new practice, as one person lives them (issue 14): sign up, confirm
the e-mail, log in, set up the second factor, keep the recovery codes and go on to the first page.
The password is asked twice (sign-up and login), never a third time; every page of the way is in
our layout and passes the accessibility audit (tests/browser/audit.py), allauth's pages included."""

from __future__ import annotations

import pytest

from tests.browser.audit import PHONE, Audit
from tests.browser.helpers import fresh_totp, logout

pytestmark = pytest.mark.browser

EMAIL = "praxis.sued@example.org"
PASSWORD = "Hausbesuch-Ahornblatt-73"


def test_sign_up_second_factor_and_first_page_without_a_third_password(browser, server):
    audit = Audit(server.url)
    _, page = audit.context(browser)
    visited: list[str] = []
    page.on("framenavigated", lambda frame: visited.append(frame.url) if frame == page.main_frame else None)

    page.goto("/konto/signup/")
    audit.check(page, "Registrierung")
    page.fill("#id_practice_name", "Hausarztpraxis Süd")
    page.fill("#id_street", "Marktplatz 1")
    page.fill("#id_postcode", "70173")
    page.fill("#id_city", "Stuttgart")
    page.fill("#id_bsnr", "521234567")
    page.fill("#id_full_name", "Dr. med. Sara Süd")
    page.select_option("#id_role", "doctor")
    page.fill("#id_lanr", "838382202")
    page.fill("#id_email", EMAIL)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("form[data-sz=signup] button[type=submit]")
    page.wait_for_selector("#recovery-panel:not([hidden])")
    audit.check(page, "Wiederherstellungsschluessel der Praxis")
    page.check("#recovery-confirm")
    page.click("#finish-signup")
    page.wait_for_url("**/konto/confirm-email/")
    audit.check(page, "E-Mail bestaetigen gesendet")

    link = server.mailbox.link_in(server.mailbox.wait_for(EMAIL, ""), "/konto/confirm-email/")
    page.goto(link)
    audit.check(page, "E-Mail bestaetigen")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/konto/login/")

    page.fill("input[name=login]", EMAIL)
    page.fill("#id_password", PASSWORD)
    page.click("form[action$='/konto/login/'] button[type=submit]")
    # Straight to the second factor: no third password prompt ("Bitte bestätigen Sie …").
    page.wait_for_url("**/konto/2fa/totp/activate/")
    audit.check(page, "Zwei-Faktor einrichten")
    secret = page.input_value("#authenticator_secret")
    page.fill("input[name=code]", "000000")  # wrong (one chance in a million that it is not)
    page.click("form:has(input[name=code]) button[type=submit]")
    page.wait_for_selector("#id_code[aria-invalid=true]")
    audit.check(page, "Zwei-Faktor falscher Code")
    # The secret shown is still the one the server checks (a background request of the practice's
    # script once landed on this page and gave it a new secret while the user was scanning).
    assert page.input_value("#authenticator_secret") == secret
    page.fill("input[name=code]", fresh_totp(secret))
    page.click("form:has(input[name=code]) button[type=submit]")

    # The recovery codes: explained apart from the practice's recovery key, and a way on.
    page.wait_for_url(lambda url: "/totp/activate/" not in url)
    assert page.url.endswith("/konto/2fa/recovery-codes/"), (page.url, page.text_content("main"))
    assert page.locator("#recovery_codes li").count() >= 8
    text = page.text_content("main")
    assert "Wiederherstellungsschlüssel der Praxis" in text and "öffnen keine Patientendaten" in text
    audit.check(page, "Wiederherstellungscodes")
    page.click("#recovery-codes-next")
    page.wait_for_url("**/praxis/")
    audit.check(page, "Erste Seite")
    assert not [url for url in visited if "reauthenticate" in url], visited

    # Later pages of the account: reauthentication, logout, login with the second factor, a stale
    # password link, at phone size too.
    page.goto("/konto/reauthenticate/")
    audit.check(page, "Erneut bestaetigen")
    page.goto("/konto/logout/")
    audit.check(page, "Abmelden")
    logout(page) if page.locator("header form[action$='/konto/logout/'] button").count() else None
    page.set_viewport_size(PHONE)
    page.goto("/konto/login/")
    page.fill("input[name=login]", EMAIL)
    page.fill("#id_password", PASSWORD)
    page.click("form[action$='/konto/login/'] button[type=submit]")
    page.wait_for_url("**/konto/2fa/authenticate/")
    audit.check(page, "Zwei-Faktor Anmeldung Telefon")
    page.goto("/konto/password/reset/key/1-abc/")
    audit.check(page, "Passwort-Link ungueltig")
    audit.assert_clean()
