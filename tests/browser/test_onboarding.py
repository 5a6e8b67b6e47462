"""The foundation end to end in Chromium: sign-up, e-mail verification from a real SMTP server,
TOTP enrolment, login with TOTP, an encrypted note, a colleague invited and granted the key who reads
the note in another browser, and afterwards no plaintext in the database or the server log."""

import json
from urllib.parse import quote, quote_plus

import pytest

from tests.browser.helpers import enrol_totp, login, logout, read_note

# Its tests run in file order on one worker (ONE_WORKER in the root conftest.py).
pytestmark = pytest.mark.browser

MAIN_EMAIL = "praxis.nord@example.org"
MAIN_PASSWORD = "Stethoskop-Lindenblatt-42"
COLLEAGUE_EMAIL = "mfa.nord@example.org"
COLLEAGUE_PASSWORD = "Wartezimmer-Sonnenuhr-17"
NOTE = "Schlüssel für den Medikamentenschrank liegt bei Frau Kowalczyk (Notiz 4711)"
NEW_MAIN_PASSWORD = "Blutdruck-Kastanie-Morgenrot-8"
RESET_COLLEAGUE_PASSWORD = "Vergessen/Neu?Gesetzt#2026"
RESET_MAIN_PASSWORD = "Tresor-Wiederhergestellt-99"
PASSWORDS = (MAIN_PASSWORD, COLLEAGUE_PASSWORD, NEW_MAIN_PASSWORD, RESET_COLLEAGUE_PASSWORD, RESET_MAIN_PASSWORD)


@pytest.fixture(scope="module")
def practice():
    """What the first test created and the later tests of this module continue with."""
    return {}


def test_practice_onboarding_and_shared_encrypted_note(new_page, server, practice):
    mailbox = server.mailbox
    page = new_page()

    # Sign-up: the KV is named from the BSNR; keys and the recovery key are made in the browser.
    page.goto("/konto/signup/")
    page.fill("#id_practice_name", "Gemeinschaftspraxis Nord")
    page.fill("#id_street", "Rheinallee 5")
    page.fill("#id_postcode", "40213")
    page.fill("#id_city", "Düsseldorf")
    page.fill("#id_bsnr", "271234567")  # a real Bezirk code (Köln), not one of the 17 KV codes
    page.wait_for_selector("#kv-hint:has-text('Ihre KV: KV Nordrhein')")
    page.fill("#id_full_name", "Dr. med. Jana Nord")
    page.select_option("#id_role", "doctor")
    page.fill("#id_lanr", "838382202")
    page.fill("#id_email", MAIN_EMAIL)
    page.fill("#id_password1", MAIN_PASSWORD)
    page.fill("#id_password2", MAIN_PASSWORD)
    page.click("form[data-sz=signup] button[type=submit]")
    page.wait_for_selector("#recovery-panel:not([hidden])")
    recovery_key = practice["recovery_key"] = page.text_content("#recovery-key")
    assert len(recovery_key) == 39  # 32 characters in 8 groups
    page.check("#recovery-confirm")
    page.click("#finish-signup")
    page.wait_for_url("**/konto/confirm-email/")

    # E-mail verification through the real SMTP server.
    message = mailbox.wait_for(MAIN_EMAIL, "")
    confirm_link = mailbox.link_in(message, "/konto/confirm-email/")
    practice["links"] = [confirm_link]
    page.goto(confirm_link)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/konto/login/")

    # First login: a second factor is required before anything else.
    login(page, MAIN_EMAIL, MAIN_PASSWORD)
    main_secret = practice["main_totp"] = enrol_totp(page, MAIN_PASSWORD)
    # Reauthentication ("Bitte bestätigen Sie Ihr Passwort", asked before sensitive changes once the
    # login is older than a few minutes) sends the derived secret too, never the typed password.
    page.goto("/konto/reauthenticate/")
    page.fill("#id_password", MAIN_PASSWORD)
    page.click("form:has(#id_password) button[type=submit]")
    page.wait_for_url(lambda url: "/reauthenticate/" not in url)
    page.goto("/praxis/")
    assert "BSNR 271234567 · KV Nordrhein" in page.text_content("main")

    page.wait_for_selector("#practice-note[data-state=ready]")
    page.fill("#note-text", NOTE)
    page.click("#practice-note button")
    page.wait_for_selector("#practice-note[data-saved='1']")
    logout(page)

    # Login with password and TOTP; the note decrypts again.
    login(page, MAIN_EMAIL, MAIN_PASSWORD, main_secret)
    assert read_note(page) == NOTE

    # Invite a colleague (staff) by e-mail.
    page.goto("/praxis/mitglieder/")
    page.fill("#id_full_name", "Mia Assistenz")
    page.fill("#id_email", COLLEAGUE_EMAIL)
    page.select_option("#id_role", "staff")
    page.click("form:has(#id_full_name) button[type=submit]")
    assert f"Die Einladung an {COLLEAGUE_EMAIL} wurde versendet." in page.text_content(".messages")
    invitation = mailbox.wait_for(COLLEAGUE_EMAIL, "Einladung")

    # The colleague, on another device, sets a password and a second factor.
    other = new_page()
    invitation_link = mailbox.link_in(invitation, "/einladung/")
    practice["links"].append(invitation_link)
    other.goto(invitation_link)
    other.fill("#id_password", COLLEAGUE_PASSWORD)
    other.fill("#id_password2", COLLEAGUE_PASSWORD)
    other.click("form[data-sz=accept-invitation] button[type=submit]")
    other.wait_for_url("**/konto/login/")
    login(other, COLLEAGUE_EMAIL, COLLEAGUE_PASSWORD)
    practice["colleague_totp"] = enrol_totp(other, COLLEAGUE_PASSWORD)
    other.goto("/praxis/")
    other.wait_for_selector("#practice-note[data-state=locked]")
    assert "noch keinen Zugriff" in other.text_content("#practice-note .status")
    colleague_fingerprint = other.text_content("#own-fingerprint")

    # The main user's browser wraps the practice key to the colleague's public key, after showing
    # the same fingerprint the colleague sees.
    page.goto("/praxis/mitglieder/")
    page.wait_for_selector("#key-grants li")
    assert colleague_fingerprint in page.text_content("#key-grants li")
    page.click("#key-grants button")
    page.wait_for_selector("#key-grants .status.success")

    assert read_note(other) == NOTE
    assert not page.errors and not other.errors

    # Zero knowledge: what the operator holds contains no note, no password, no recovery key.
    dump, log = server.db.dump(), server.log()
    assert "Rheinallee 5" in dump  # the dump really holds the practice's rows
    assert "/praxis/mitglieder/" in log  # and the log really holds the requests
    for secret in (
        NOTE,
        "Medikamentenschrank",
        MAIN_PASSWORD,
        COLLEAGUE_PASSWORD,
        recovery_key,
        recovery_key.replace("-", ""),
    ):
        assert secret not in dump, f"{secret!r} found in the database"
        assert secret not in log, f"{secret!r} found in the server log"


def reset_password(page, mailbox, email, new_password, recovery_key="", links=None):
    page.goto("/konto/password/reset/")
    page.fill("input[name=email]", email)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/password/reset/done/")
    link = mailbox.link_in(mailbox.wait_for(email, "Passwort"), "/konto/password/reset/key/")
    if links is not None:
        links.append(link)
    page.goto(link)
    assert "nicht</strong> wiederhergestellt werden" in page.inner_html(".notice")
    page.fill("#id_password1", new_password)
    page.fill("#id_password2", new_password)
    page.fill("#recovery-key", recovery_key)
    page.click("form[data-sz=reset-from-key] button[type=submit]")
    page.wait_for_url("**/password/reset/key/done/")


def test_password_change_reset_and_recovery_key(new_page, server, practice):
    """Change re-wraps the private key; a reset without the recovery key needs a colleague's grant;
    a reset with the recovery key restores access by itself."""
    assert practice, "runs after the onboarding test"
    mailbox = server.mailbox

    # Password change: the old password stops working, the note stays readable with the new one.
    page = new_page()
    login(page, MAIN_EMAIL, MAIN_PASSWORD, practice["main_totp"])
    page.goto("/konto/password/change/")
    page.fill("#id_oldpassword", MAIN_PASSWORD)
    # A weak or unchanged password is refused in the browser (the server never sees it), with the
    # reason next to the field and the form not sent.
    for weak, reason in (("1234567890", "nur aus Ziffern"), (MAIN_PASSWORD, "vom bisherigen unterscheiden")):
        page.fill("#id_password1", weak)
        page.fill("#id_password2", weak)
        page.click("main form button[type=submit]")
        page.wait_for_selector(f"main form .error:has-text('{reason}')")
        assert page.url.endswith("/konto/password/change/")
    page.fill("#id_password1", NEW_MAIN_PASSWORD)
    page.fill("#id_password2", NEW_MAIN_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_selector(".messages .success")
    logout(page)
    page.goto("/konto/login/")
    page.fill("input[name=login]", MAIN_EMAIL)
    page.fill("#id_password", MAIN_PASSWORD)
    page.click("form[action$='/konto/login/'] button[type=submit]")
    page.wait_for_selector("main .error, main [role=alert], main ul.errorlist")
    assert "/konto/login/" in page.url
    login(page, MAIN_EMAIL, NEW_MAIN_PASSWORD, practice["main_totp"])
    assert read_note(page) == NOTE

    # The colleague forgets the password and has no recovery key: new keys, no access yet ...
    other = new_page()
    reset_password(other, mailbox, COLLEAGUE_EMAIL, RESET_COLLEAGUE_PASSWORD, links=practice["links"])
    login(other, COLLEAGUE_EMAIL, RESET_COLLEAGUE_PASSWORD, practice["colleague_totp"])
    other.goto("/praxis/")
    other.wait_for_selector("#practice-note[data-state=locked]")
    # ... until the main user grants the practice key to the new public key.
    page.goto("/praxis/mitglieder/")
    page.click("#key-grants button")
    page.wait_for_selector("#key-grants .status.success")
    assert read_note(other) == NOTE

    # The main user forgets the password too, but holds the printed recovery key.
    logout(page)
    reset_password(page, mailbox, MAIN_EMAIL, RESET_MAIN_PASSWORD, practice["recovery_key"], links=practice["links"])
    login(page, MAIN_EMAIL, RESET_MAIN_PASSWORD, practice["main_totp"])
    assert read_note(page) == NOTE
    assert not page.errors and not other.errors


def _encodings(password: str) -> set[bytes]:
    """The ways a password can appear in a request body or URL: raw, form- and URL-encoded, JSON."""
    forms = {password, quote_plus(password), quote(password, safe=""), json.dumps(password)[1:-1]}
    return {f.encode() for f in forms} | {f.encode("latin-1", "ignore") for f in forms}


def test_no_typed_password_left_the_browser(server, sent_requests, practice):
    """Sign-up (with its check), login, reauthentication, password change, password reset with and
    without the recovery key and invitation acceptance ran in this module's tests. No request any
    browser page sent carried a typed password in its URL or body, and neither the database nor the
    server log holds one."""
    assert practice.get("recovery_key"), "runs after the module's other tests"
    posted = {r.url.split("?")[0].replace(server.url, "") for r in sent_requests if r.method == "POST" and r.body}
    for flow in (
        "/konto/registrierung/pruefen/",
        "/konto/signup/",
        "/konto/login/",
        "/konto/reauthenticate/",
        "/konto/password/change/",
        "/konto/2fa/authenticate/",
    ):
        assert flow in posted, f"the module never posted to {flow}; the check would prove nothing"
    assert any(p.startswith("/einladung/") for p in posted)
    assert sum(p.startswith("/konto/password/reset/key/") for p in posted) >= 1
    dump, log = server.db.dump().encode(), server.log().encode()
    for password in PASSWORDS:
        for encoded in _encodings(password):
            for request in sent_requests:
                assert encoded not in request.body, f"{password!r} was sent to {request.url}"
                assert encoded not in request.url.encode(), f"{password!r} is in the URL {request.url}"
            assert encoded not in dump, f"{password!r} found in the database"
            assert encoded not in log, f"{password!r} found in the server log"
    # The second factors enrolled above are sealed at rest (MFA_KEYS): no TOTP secret in the dump.
    for secret in (practice["main_totp"], practice["colleague_totp"]):
        assert secret.encode() not in dump and secret.lower().encode() not in dump


def test_no_link_secret_in_the_server_log(server, practice):
    """The links mailed above (e-mail confirmation, invitation, two password resets) carry secrets
    in their paths; the server log shows those paths, redacted (sprechzimmer/logsafety.py)."""
    assert len(practice.get("links", [])) == 4, "runs after the module's other tests"
    log = server.log_when("GET /einladung/…/ 200", "GET /konto/confirm-email/…/")
    assert "GET /einladung/…/ 200" in log and "GET /konto/confirm-email/…/" in log
    for link in practice["links"]:
        secret = link.rstrip("/").rsplit("/", 1)[1]
        assert len(secret) >= 16
        assert secret not in log, f"the secret of {link} is in the server log"
