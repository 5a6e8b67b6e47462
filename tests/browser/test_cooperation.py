"""Becoming a K-Arzt in the browser: the applicant applies with uploads (no account), the KV staff
review and approve, the new K-Arzt sets a password, sets up the second factor, takes a duty, and
the monthly statement PDF lists it (issue 6)."""

import datetime as dt
import re

import pytest

from sprechzimmer.demo.data import DEMO_KV_STAFF, DEMO_PASSWORD
from tests.browser.helpers import enrol_totp, login
from tests.browser.test_practice_overview import screenshots
from tests.duty.helpers import pdf_text

pytestmark = pytest.mark.browser

KV_EMAIL, _, KV_TOTP = DEMO_KV_STAFF
APPLICANT = "neue.k-aerztin@example.org"
PASSWORD = "Kooperation-2026!"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_apply_review_approve_log_in_take_a_duty_and_see_the_statement(server, new_page):
    applicant = new_page()
    applicant.goto("/kooperationsarzt/")
    applicant.select_option("#id_kv", label="Kassenärztliche Vereinigung Baden-Württemberg")
    applicant.fill("#id_full_name", "Dr. med. Nele Neu")
    applicant.fill("#id_email", APPLICANT)
    applicant.fill("#id_birth_date", "1986-04-12")
    with applicant.expect_navigation():
        applicant.click("#coop-start button[type=submit]")
    assert "Anlage 1" in applicant.text_content("#missing")  # born after 1970: measles proof needed
    server.mailbox.wait_for(APPLICANT, "Ihr Antrag als Kooperationsarzt")

    # A file over the limit is named before anything is sent; what was typed stays.
    applicant.fill("#id_liability_personal", "3000000")
    applicant.set_input_files(
        "#file-police",
        files=[{"name": "riesig.pdf", "mimeType": "application/pdf", "buffer": PDF + b"%" * (11 * 1024 * 1024)}],
    )
    applicant.click("button[name=save]")
    applicant.wait_for_selector(".js-error:has-text('„riesig.pdf“ ist größer als 10 MB')")
    assert applicant.input_value("#id_liability_personal") == "3000000"
    applicant.set_input_files("#file-police", files=[])

    recent = (dt.date.today() - dt.timedelta(days=30)).isoformat()
    for name in ("approbation", "specialist"):
        applicant.fill(f"#id_{name}_issued", recent)
        applicant.check(f"#id_{name}_certified")
    applicant.fill("#id_police_issued", recent)
    applicant.check("#id_police_type_n_original")
    applicant.fill("#id_liability_personal", "3000000")
    applicant.fill("#id_liability_property", "3000000")
    for anlage in ("measles", "approbation", "specialist", "liability", "declaration", "questionnaire"):
        applicant.set_input_files(
            f"#file-{anlage}", files=[{"name": f"{anlage}.pdf", "mimeType": "application/pdf", "buffer": PDF}]
        )
    applicant.set_input_files("#file-police", files=[{"name": "zeugnis.png", "mimeType": "image/png", "buffer": PNG}])
    with applicant.expect_navigation():
        applicant.click("button[name=submit]")
    assert applicant.text_content("#application-status").strip() == "eingereicht"
    assert applicant.locator("#missing li").count() == 1  # only the agreement by post
    assert applicant.locator("#missing li[data-anlage=agreement]").count() == 1
    assert applicant.locator("#documents li").count() == 7

    staff = new_page()
    login(staff, KV_EMAIL, DEMO_PASSWORD, KV_TOTP)
    staff.goto("/kv/antraege/")
    with staff.expect_navigation():
        staff.locator("#applications tr", has_text="Dr. med. Nele Neu").locator("text=prüfen").click()
    staff.fill("#id_agreement_copies_received", "2")
    with staff.expect_navigation():
        staff.click("#review-form button[type=submit]")
    assert "Alle Unterlagen sind vollständig" in staff.text_content("#missing")
    with staff.expect_navigation():
        staff.click("#approve")
    lanr = re.search(r"LANR (\d{9})", staff.text_content(".messages")).group(1)
    assert lanr.endswith("97")

    mail = server.mailbox.wait_for(APPLICANT, "Ihr Zugang als Kooperationsarzt")
    link = server.mailbox.link_in(mail, "/konto/password/reset/key/")
    doctor = new_page()
    doctor.goto(link)
    doctor.fill("#id_password1", PASSWORD)
    doctor.fill("#id_password2", PASSWORD)
    with doctor.expect_navigation():
        doctor.click("form[data-sz=reset-from-key] button[type=submit]")
    login(doctor, APPLICANT, PASSWORD)
    enrol_totp(doctor, PASSWORD)
    doctor.goto("/dienste/boerse/")
    row = doctor.locator("#open-duties tr[data-duty]").first
    duty = row.get_attribute("data-duty")
    with doctor.expect_navigation():
        row.locator("text=Übernehmen").click()
    mine = doctor.locator(f"#my-duties tr[data-duty='{duty}']")
    day, month, year = re.search(r"(\d\d)\.(\d\d)\.(\d{4})", mine.inner_text()).groups()

    doctor.goto(f"/dienste/abrechnung/{int(year)}/{int(month)}/")
    assert f"{day}.{month}.{year}" in doctor.text_content("#statement")
    pdf_url = doctor.get_attribute("#statement-pdf", "href")
    response = doctor.request.get(pdf_url)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.body())
    assert f"{day}.{month}.{year}" in text and lanr in text

    # The iCal feed link carries a token too.
    doctor.goto("/dienste/")
    with doctor.expect_navigation():
        doctor.click("form[action$='/dienste/kalender/']:not(:has([name=revoke])) button")
    feed = doctor.locator("#calendar-url").input_value()
    assert doctor.request.get(feed).ok
    assert doctor.get_attribute("#webcal-link", "href") == "webcal://" + feed.split("://", 1)[1]
    doctor.click("#copy-calendar-url")
    # Copied, or (no clipboard permission in this browser) selected with the shortcut named.
    doctor.wait_for_selector("#copy-status:text('Kalender-Link')")
    screenshots(doctor, "duties-calendar-feed")
    assert not applicant.errors and not staff.errors and not doctor.errors

    # Secrets in links (the application link, whose holder reads the applicant's documents, the
    # password link, the iCal token) never reach the server log (sprechzimmer/logsafety.py).
    log = server.log_when("/dienste/kalender/….ics")
    application_token = re.search(r"/kooperationsarzt/antrag/([^/]+)/", applicant.url).group(1)
    assert "/kooperationsarzt/antrag/…/" in log and "/dienste/kalender/….ics" in log
    for secret in (application_token, link.rstrip("/").rsplit("/", 1)[1], feed.rsplit("/", 1)[1][:-4]):
        assert len(secret) >= 16 and secret not in log
