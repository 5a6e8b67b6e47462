"""Emergency duty in the browser: KV staff generate and publish a plan; a K-Arzt takes an offered
duty and gives it back; an obliged doctor hands a duty to a substitute who accepts."""

import datetime as dt
import re

import pytest

from sprechzimmer.demo.data import DEMO_K_ARZT, DEMO_KV_STAFF, DEMO_PASSWORD, DEMO_SUBSTITUTE, DEMO_USERS
from tests.browser.helpers import login
from tests.browser.test_practice_overview import screenshots

pytestmark = pytest.mark.browser

(DOCTOR, DOCTOR_NAME, _, DOCTOR_LANR, DOCTOR_TOTP), _staff = DEMO_USERS
KV_EMAIL, _, KV_TOTP = DEMO_KV_STAFF
K_EMAIL, K_NAME, _, K_TOTP = DEMO_K_ARZT
SUB_EMAIL, SUB_NAME, _, SUB_TOTP = DEMO_SUBSTITUTE


def start_of(row) -> dt.datetime:
    day, time = re.search(r"(\d\d\.\d\d\.\d{4}) (\d\d:\d\d)", row.inner_text()).groups()
    return dt.datetime.strptime(f"{day} {time}", "%d.%m.%Y %H:%M")


def test_staff_generate_and_publish_a_plan(server, new_page):
    page = new_page()
    login(page, KV_EMAIL, DEMO_PASSWORD, KV_TOTP)
    page.wait_for_url("**/kv/")  # KV staff land on the planning page
    today = dt.date.today()
    first = today + dt.timedelta(days=7 - today.weekday(), weeks=10)  # after the demo plan
    last = first + dt.timedelta(days=13)
    page.select_option("#id_area", label="Stuttgart-Mitte")
    page.fill("#id_first", first.isoformat())
    page.fill("#id_last", last.isoformat())
    with page.expect_navigation(timeout=60_000):
        page.click("#plan-form button[type=submit]")
    assert page.text_content("#plan-status").strip() == "Entwurf"
    assert page.locator("#duties [data-duty]").count() == 28
    assert page.locator("#explanation tbody tr").count() == 8  # the obliged doctors of the area
    assert page.locator("#fairness .fairness-row").count() == 8
    screenshots(page, "duty-plan-draft")
    assert "Abweichung vom Soll" in page.text_content("#spread")

    # A change by hand, kept through a re-solve.
    row = page.locator("#duties [data-duty]").first
    options = row.locator("select option")
    current = row.locator("select").input_value()
    choice = next(
        options.nth(i).get_attribute("value")
        for i in range(1, options.count())
        if options.nth(i).get_attribute("value") != current
    )
    row.locator("select").select_option(choice)
    with page.expect_navigation():
        row.locator("button").click()
    if "von Hand" in page.locator("#duties [data-duty]").first.inner_text():
        assert "(optimal)" not in page.text_content("#spread")
        with page.expect_navigation(timeout=60_000):
            page.click("text=Neu berechnen")
        assert page.locator("#duties [data-duty]").first.locator("select").input_value() == choice
    else:  # the chosen doctor had a duty too close: the page says so and nothing changed
        assert "Ruhezeit" in page.text_content(".messages")

    # Publishing asks first: the summary names the period, the duties and who will be mailed.
    with page.expect_navigation():
        page.click("#publish")
    assert page.text_content("#summary-period").strip() == f"{first:%d.%m.%Y} – {last:%d.%m.%Y}"
    assert page.text_content("#summary-duties").strip() == "28"
    assert DOCTOR_NAME in page.text_content("#summary-recipients")
    assert not server.mailbox.messages or all(
        f"{first:%d.%m.%Y}" not in m["Subject"] for _, m in server.mailbox.messages
    )
    with page.expect_navigation():
        page.click("#confirm-publish button")
    assert page.text_content("#plan-status").strip() == "veröffentlicht"
    assert page.locator("#duties select").count() == 0
    screenshots(page, "duty-plan-published")
    mail = server.mailbox.wait_for(DOCTOR, f"{first:%d.%m.%Y}")
    assert "veröffentlicht" in mail["Subject"]
    assert not page.errors


def test_k_arzt_takes_an_offered_duty_and_gives_it_back(server, new_page):
    doctor = new_page()
    login(doctor, DOCTOR, DEMO_PASSWORD, DOCTOR_TOTP)
    doctor.goto("/dienste/")
    rows = doctor.locator("#my-duties tbody tr[data-duty]")
    later = [
        rows.nth(i)
        for i in range(rows.count())
        if start_of(rows.nth(i)) > dt.datetime.now() + dt.timedelta(days=16)
        and rows.nth(i).locator("text=In der Börse anbieten").count()
    ]
    row = later[-1]
    duty = row.get_attribute("data-duty")
    with doctor.expect_navigation():
        row.locator("text=In der Börse anbieten").click()
    assert "in der Dienstbörse angeboten" in doctor.locator(f"tr[data-duty='{duty}'] .state").inner_text()

    k = new_page()
    login(k, K_EMAIL, DEMO_PASSWORD, K_TOTP)
    k.wait_for_url("**/dienste/")  # no practice: straight to the duties
    k.goto("/dienste/boerse/")
    offered = k.locator(f"#open-duties tr[data-duty='{duty}']")
    assert DOCTOR_NAME in offered.inner_text()
    with k.expect_navigation():
        offered.locator("text=Übernehmen").click()
    assert "übernommen" in k.text_content(".messages")
    mine = k.locator(f"#my-duties tr[data-duty='{duty}']")
    assert mine.count() == 1
    server.mailbox.wait_for(DOCTOR, "wurde übernommen")

    with k.expect_navigation():
        mine.locator("text=Zurückgeben").click()
    assert "wieder offen" in k.text_content(".messages")
    assert k.locator(f"#my-duties tr[data-duty='{duty}']").count() == 0
    k.goto("/dienste/boerse/")
    assert "offen" in k.locator(f"#open-duties tr[data-duty='{duty}']").inner_text()
    # The obliged doctor no longer has it.
    doctor.goto("/dienste/")
    assert doctor.locator(f"#my-duties tr[data-duty='{duty}']").count() == 0
    assert not doctor.errors and not k.errors


def test_obliged_doctor_hands_a_duty_to_a_substitute_who_accepts(server, new_page):
    doctor = new_page()
    login(doctor, DOCTOR, DEMO_PASSWORD, DOCTOR_TOTP)
    doctor.goto("/dienste/")
    # The substitute is qualified for the Sitzdienst only.
    row = doctor.locator("#my-duties tbody tr[data-duty]:has(form.handover):has(td:text-is('Sitzdienst'))").first
    duty = row.get_attribute("data-duty")
    row.locator("input[name=email]").fill(SUB_EMAIL)
    with doctor.expect_navigation():
        row.locator("form.handover button").click()
    assert f"Vertretung angefragt: {SUB_NAME}" in doctor.locator(f"tr[data-duty='{duty}'] .state").inner_text()
    server.mailbox.wait_for(SUB_EMAIL, "Vertretungsanfrage")

    sub = new_page()
    login(sub, SUB_EMAIL, DEMO_PASSWORD, SUB_TOTP)
    sub.goto("/dienste/")
    request = sub.locator(f"#handover-requests li[data-duty='{duty}']")
    assert DOCTOR_LANR in request.inner_text()
    with sub.expect_navigation():
        request.locator("text=Annehmen").click()
    state = sub.locator(f"#my-duties tr[data-duty='{duty}'] .state").inner_text()
    assert f"Sie vertreten {DOCTOR_NAME}" in state and DOCTOR_LANR in state
    server.mailbox.wait_for(DOCTOR, "übernimmt")

    doctor.goto("/dienste/")
    assert f"vertreten durch {SUB_NAME}" in doctor.locator(f"tr[data-duty='{duty}'] .state").inner_text()
    assert not doctor.errors and not sub.errors
