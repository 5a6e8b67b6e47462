"""The contract end to end in Chromium on the live server with its real task worker and SMTP server:
switch to plus, give a SEPA mandate, cancel (banner on every page, confirmation mail), revoke
(mail), cancel again; when the end date has passed the worker deletes the practice, and the
database holds nothing of it but the operator's invoice; its users cannot log in."""

import time
from pathlib import Path

import pytest

from tests.browser.helpers import login

pytestmark = pytest.mark.browser

EMAIL = "kuendigung.praxis@example.org"
PASSWORD = "Abschied-Lindenallee-2026"
TOTP = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
NAME = "Praxis Abschiedsweg"
BSNR = "527654300"
BANNER = "Nach Ablauf der Kündigungsfrist werden Ihr Benutzerkonto und alle von Ihnen erfassten Daten unwiderruflich gelöscht!"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def is_invoice(line: str) -> bool:
    return line.startswith(('INSERT INTO "contracts_invoice"', "contracts_invoice:"))


def practice_rows(dump: str) -> list[str]:
    """Rows of any table (SQLite dump lines or "table: row") naming the practice, its BSNR or its
    main user, except the operator's invoices."""
    return [row for row in dump.splitlines() if any(m in row for m in (NAME, BSNR, EMAIL)) and not is_invoice(row)]


def shell(server, code: str) -> str:
    return server.manage("shell", "-c", code)


def test_switch_cancel_revoke_and_deletion_at_the_end(new_page, server):
    shell(
        server,
        "from sprechzimmer.demo import provisioning as p\n"
        f"o, u, _, _ = p.create_practice(name={NAME!r}, bsnr={BSNR!r}, main_email={EMAIL!r}, "
        f"main_name='Dr. Ende', password={PASSWORD!r}, lanr='')\n"
        f"p.enable_totp(u, {TOTP!r})\n",
    )
    page = new_page()
    login(page, EMAIL, PASSWORD, TOTP)
    page.goto("/praxis/rechnungsdaten/")
    for section in ("Hauptnutzer(in)", "Organisation", "Bankverbindung", "Abrechnung", "Vertrag"):
        assert page.locator(f"h2:text-is('{section}')").is_visible()

    page.click("#switch-button")  # WECHSELN to plus
    assert "Ihr Vertrag ist ab sofort plus" in page.inner_text(".messages")
    assert "plus" in page.inner_text("#plan-current .plan-name")

    page.fill("#id_iban", "DE89 3704 0044 0532 0130 00")
    page.check("#id_mandate")
    page.click("form[action$='/bankverbindung/'] button[type=submit]")
    assert "SEPA-Lastschriftmandat erteilt (Mandatsreferenz SZ-" in page.inner_text(".messages")
    assert "COBADEFFXXX" in page.inner_text("#bank-current")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "contract-page.png"), full_page=True)

    page.click("#cancel-link")
    dialog = page.inner_text("#dialog")
    assert "Gelöscht werden" in dialog and "Aufbewahrt werden" in dialog
    ends_on = page.inner_text("#dialog-ends-on")
    page.screenshot(path=str(ARTIFACTS / "contract-cancel-dialog.png"), full_page=True)
    page.click("#dialog button:text('Kündigung bestätigen')")
    assert f"Ihr Vertrag endet zum {ends_on}" in page.inner_text("#contract-banner")
    page.goto("/praxis/termine/")
    assert BANNER in page.inner_text("#contract-banner")
    page.screenshot(path=str(ARTIFACTS / "contract-banner.png"))
    mail = server.mailbox.wait_for(EMAIL, "Kündigungsbestätigung")
    assert f"Ihr Vertrag endet zum {ends_on}" in mail.get_content()

    page.goto("/praxis/rechnungsdaten/")
    page.click("#revoke-link")
    assert "auch die Kündigungsfrist zurückgesetzt" in page.inner_text("#dialog")
    page.click("#dialog button:text('Kündigung widerrufen')")
    assert page.locator("#contract-banner").count() == 0
    assert "Kündigungsfrist ist zurückgesetzt" in server.mailbox.wait_for(EMAIL, "Widerruf").get_content()

    page.click("#cancel-link")
    page.click("#dialog button:text('Kündigung bestätigen')")
    assert page.locator("#contract-banner").is_visible()

    # The end date passes: last month was metered on plus, the daily job runs in the real worker.
    shell(
        server,
        "import datetime as dt\nfrom django.utils import timezone\n"
        "from sprechzimmer.contracts import metering\nfrom sprechzimmer.contracts.models import Contract\n"
        "today = timezone.localdate()\n"
        "metering.meter_day(today.replace(day=1) - dt.timedelta(days=1))\n"
        f"Contract.objects.filter(organisation__bsnr={BSNR!r}).update(ends_on=today - dt.timedelta(days=1))\n"
        "from sprechzimmer.contracts.tasks import contracts_daily\ncontracts_daily()\n",
    )
    deadline = time.monotonic() + 60
    while practice_rows(server.db.dump()):
        assert time.monotonic() < deadline, (
            f"the worker did not delete the practice: {practice_rows(server.db.dump())[:3]}"
        )
        time.sleep(1)
    invoices = [line for line in server.db.dump().splitlines() if BSNR in line]
    assert invoices and all(is_invoice(line) for line in invoices)  # the operator's invoice stays

    page.goto("/praxis/")
    assert "/konto/login/" in page.url  # the session is gone
    page.fill("input[name=login]", EMAIL)
    page.fill("#id_password", PASSWORD)
    page.click("form[action$='/konto/login/'] button[type=submit]")
    page.wait_for_selector(".errorlist, .error, [role=alert]")
    assert "/konto/login/" in page.url
