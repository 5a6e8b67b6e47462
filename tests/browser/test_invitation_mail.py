"""The integrated e-mail invitation (plus, issue 16) in Chromium on the live server with its real
worker and SMTP server: the address typed in the invitation dialog reaches the patient as a German
mail with the dialog's code; the appointment shows "gesendet"; cancelling sends a cancellation; the
database, the queue's storage and the server log never hold the address."""

import datetime as dt
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.browser.helpers import login

pytestmark = pytest.mark.browser

EMAIL = "einladung.praxis@example.org"
PASSWORD = "Einladung-Rosengarten-2026"
TOTP = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLV"
NAME = "Praxis Rosengarten"
BSNR = "527654400"
PATIENT = "erika.vogelsang@example.org"


def shell(server, code: str) -> str:
    return server.manage("shell", "-c", code)


def holds(server) -> int:
    out = shell(
        server,
        "from sprechzimmer.invitations.models import ContactHold\n"
        f"print(ContactHold.objects.filter(appointment__organisation__name={NAME!r}).count())",
    )
    return int(out.strip().splitlines()[-1])  # the shell may say first what it imported


def queue_bytes(server) -> bytes:
    data_dir = Path(server.env["DATA_DIR"])
    return b"".join(p.read_bytes() for p in data_dir.glob("tasks.sqlite3*"))


def test_invitation_by_mail_and_cancellation_leave_no_address(new_page, server):
    shell(
        server,
        "from sprechzimmer.demo import provisioning as p\n"
        "from sprechzimmer.contracts.models import Contract\n"
        f"o, u, _, _ = p.create_practice(name={NAME!r}, bsnr={BSNR!r}, main_email={EMAIL!r}, "
        f"main_name='Dr. Rosa Garten', password={PASSWORD!r}, lanr='')\n"
        f"p.enable_totp(u, {TOTP!r})\n"
        "Contract.objects.update_or_create(organisation=o, defaults={'plan': 'plus'})\n",
    )
    page = new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, EMAIL, PASSWORD, TOTP)
    page.goto("/praxis/termine/")
    page.wait_for_selector("#days > *")
    page.click("#new-appointment")
    page.fill("#f-name", "Erika Vogelsang")
    page.fill("#f-email", PATIENT)
    day = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).date()
    page.fill("#f-date", day.isoformat())
    page.fill("#f-time", "10:30")
    # The mail names the time in Europe/Berlin, whatever zone the browser runs in.
    instant = page.evaluate(f"new Date('{day.isoformat()}T10:30').toISOString()")
    berlin = dt.datetime.fromisoformat(instant.replace("Z", "+00:00")).astimezone(ZoneInfo("Europe/Berlin"))
    page.click("#appointment-dialog button[type=submit]")
    page.wait_for_selector("#invitation-dialog[open]")
    code = page.inner_text("#invitation-code").strip()
    assert page.input_value("#invitation-to") == PATIENT  # from the decrypted patient data
    page.click("#invitation-send button[type=submit]")
    page.wait_for_selector("#invitation-send-status:has-text('wird versendet')")

    mail = server.mailbox.wait_for(PATIENT, "Ihre Videosprechstunde am")
    text = mail.get_body(("plain",)).get_content()
    assert f"/sprechstunde/#code={code}" in text and f"{berlin:%d.%m.%Y} um {berlin:%H:%M} Uhr" in text
    assert "Erika" not in text and "Vogelsang" not in text  # the name stays with the practice

    page.click("#invitation-dialog .close-dialog")
    deadline = time.monotonic() + 20
    while True:
        page.reload()
        page.wait_for_selector("#days > *")
        page.fill("#day", day.isoformat())  # the appointment's day (the page opens on today)
        page.wait_for_selector("#days .appointment .messages")
        if "Einladung gesendet" in page.text_content("#days .messages"):
            break
        assert time.monotonic() < deadline, page.text_content("#days")
        time.sleep(0.5)
    assert "Erinnerung" in page.text_content("#days .messages")
    assert holds(server) == 1  # sealed, for the reminders
    for text in (server.db.dump(), server.log()):
        assert PATIENT not in text and code not in text
    assert PATIENT.encode() not in queue_bytes(server)

    page.click("#days .appointment button:text('Absagen')")
    server.mailbox.wait_for(PATIENT, "Abgesagt")
    deadline = time.monotonic() + 20
    while holds(server):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    for text in (server.db.dump(), server.log()):
        assert PATIENT not in text and code not in text
    assert PATIENT.encode() not in queue_bytes(server)


def test_a_late_patient_is_pointed_out_and_reminded_with_one_click(new_page, server):
    """Runs after the test above, in its practice (plus)."""
    page = new_page()
    login(page, EMAIL, PASSWORD, TOTP)
    page.goto("/praxis/termine/")
    page.wait_for_selector("#days > *")
    late = "spaet.kommer@example.org"
    # Four minutes ago, in the browser's own time zone.
    date, clock = page.evaluate(
        "() => { const d = new Date(Date.now() - 4 * 60000); const p = (n) => String(n).padStart(2, '0');"
        " return [`${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`, `${p(d.getHours())}:${p(d.getMinutes())}`]; }"
    )
    page.click("#new-appointment")
    page.fill("#f-name", "Paul Spät")
    page.fill("#f-email", late)
    page.fill("#f-date", date)
    page.fill("#f-time", clock)
    page.click("#appointment-dialog button[type=submit]")
    page.wait_for_selector("#invitation-dialog[open]")
    page.click("#invitation-dialog .close-dialog")
    page.fill("#day", date)
    row = page.locator(".appointment", has_text="Paul Spät")
    row.locator(".late-notice:has-text('Noch nicht im Wartezimmer')").wait_for()
    row.locator("button:text('Per E-Mail erinnern')").click()
    page.wait_for_selector("#calendar .status:has-text('Die Erinnerung wird versendet')")
    mail = server.mailbox.wait_for(late, "hat um")
    assert "noch nicht im Wartezimmer" in mail.get_body(("plain",)).get_content()
    deadline = time.monotonic() + 20
    while holds(server):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert late not in server.db.dump() and late not in server.log()
