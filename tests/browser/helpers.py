from __future__ import annotations

import time

from sprechzimmer.accounts.totp import PERIOD, code_at

_used: set[tuple[str, str]] = set()


def fresh_totp(secret: str) -> str:
    """An unused valid code: the current one, else the next or previous period's (the server allows
    one period of clock drift either way), else wait for a new period (allauth refuses reuse)."""
    while True:
        now = time.time()
        # The previous period's code only while this period has more than 5 s left.
        for offset in (0, PERIOD, -PERIOD) if now % PERIOD < PERIOD - 5 else (0, PERIOD):
            code = code_at(secret, now + offset)
            if (secret, code) not in _used:
                _used.add((secret, code))
                return code
        time.sleep(PERIOD - now % PERIOD + 0.5)


def login(page, email: str, password: str, totp_secret: str | None = None) -> None:
    page.goto("/konto/login/")
    page.fill("input[name=login]", email)
    page.fill("#id_password", password)
    page.click("form[action$='/konto/login/'] button[type=submit]")
    page.wait_for_url(lambda url: "/konto/login/" not in url)
    if totp_secret and "/2fa/authenticate/" in page.url:
        page.fill("input[name=code]", fresh_totp(totp_secret))
        page.click("form:has(input[name=code]) button[type=submit]")
        page.wait_for_url(lambda url: "/2fa/authenticate/" not in url)


def enrol_totp(page, password: str) -> str:
    """Activates TOTP on allauth's page like a person with an authenticator app; returns the secret.

    allauth asks for the password once more before a second factor is added (reauthentication).
    """
    page.wait_for_url(lambda url: "/reauthenticate/" in url or "/totp/activate/" in url)
    if "/reauthenticate/" in page.url:
        page.fill("#id_password", password)
        page.click("form:has(#id_password) button[type=submit]")
    page.wait_for_url("**/2fa/totp/activate/")
    secret = page.input_value("#authenticator_secret")
    page.fill("input[name=code]", fresh_totp(secret))
    page.click("form:has(input[name=code]) button[type=submit]")
    page.wait_for_url(lambda url: "/totp/activate/" not in url)
    return secret


def logout(page) -> None:
    page.click("header form[action$='/konto/logout/'] button")
    # Logged out when the header offers the login again (the URL alone may not change).
    page.wait_for_selector("header a[href='/konto/login/']")


def read_note(page) -> str:
    page.goto("/praxis/")
    page.wait_for_selector("#practice-note[data-state=ready]")
    return page.input_value("#note-text")


def hang_up(page) -> None:
    """Clicks "Auflegen" on the call screen and confirms the one question it asks."""
    page.click("#call .hangup")
    page.click("#call .hangup-confirm .hangup-yes")
