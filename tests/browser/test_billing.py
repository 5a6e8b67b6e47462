"""The billing check in the browser: a KVDT file with patient names is pseudonymised in the page,
checked on the server and reported (two Scheine of one patient as one Behandlungsfall); the CSV
downloads; no name, birth date, address or diagnosis reaches the server; a bad file gets a German
message and the chosen file stays in the form."""

import pytest

from sprechzimmer.demo.data import DEMO_PASSWORD, DEMO_USERS
from tests.billing.builders import LANR, lines
from tests.browser.helpers import login
from tests.browser.test_practice_overview import screenshots

pytestmark = pytest.mark.browser

(DOCTOR, _, _, _, DOCTOR_TOTP), _staff = DEMO_USERS
SURNAME = "Quastenberg-Müller"
FIRST_NAME = "Walburga"
DIAGNOSIS = "F33.1"


def quarter_file() -> bytes:
    patient = (("3101", SURNAME), ("3102", FIRST_NAME), ("3103", "19440229"), ("3107", "Lindenweg 7"))
    other = (("3101", "Brinkmeyer-Zuse"), ("3102", "Ottokar"), ("3103", "19800101"), ("3107", "Am Mühlbach 1"))
    return lines(
        ("8000", "con0"),
        ("8000", "besa"),
        ("0201", "521234500"),
        ("8000", "adt0"),
        ("9204", "32024"),
        ("8000", "0101"),
        ("3000", "V77"),
        *patient,
        ("4101", "32024"),
        ("4111", "108018007"),
        ("5000", "20240702"),
        ("5001", "03004"),
        ("5099", LANR),
        ("5001", "01450"),
        ("5099", LANR),
        ("6001", DIAGNOSIS),
        ("8000", "0101"),
        ("3000", "P78"),
        *other,
        ("4101", "32024"),
        ("4111", "108018007"),
        ("5000", "20240703"),
        ("5001", "03003"),
        ("5099", LANR),
        ("5001", "03330"),
        ("5099", LANR),
        # the same patient's Überweisungsschein: one Behandlungsfall with P78, 03003 twice in it
        ("8000", "0102"),
        ("3000", "P79"),
        *other,
        ("4101", "32024"),
        ("4111", "108018007"),
        ("4239", "24"),
        ("5000", "20240716"),
        ("5001", "03003"),
        ("5099", LANR),
        ("8000", "adt9"),
        ("8000", "con9"),
    )


def test_upload_pseudonymises_patient_data_and_reports(server, new_page):
    page = new_page()
    login(page, DOCTOR, DEMO_PASSWORD, DOCTOR_TOTP)
    page.goto("/praxis/abrechnung/")
    # A wrong file first: message in German, the form keeps the choice.
    page.set_input_files(
        "#ebm-file", files=[{"name": "brief.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7\n%..."}]
    )
    page.click("#ebm-upload button[type=submit]")
    page.wait_for_selector("#ebm-upload .status.error")
    assert "keine KVDT-Datei" in page.text_content("#ebm-upload .status")
    assert page.evaluate("document.querySelector('#ebm-file').files[0].name") == "brief.pdf"

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
    screenshots(page, "billing-report")
    findings = page.text_content("#findings")
    assert "V77" in findings and "88220 ergänzen" in findings
    assert "P78 + P79" in findings and "03003: 2-mal angesetzt" in findings  # one Behandlungsfall of two Scheine
    # Grouped by severity and rule; the notes (Hinweise) folded below the errors; filters work.
    assert page.is_visible("tr.finding[data-rule=R6]")
    assert not page.is_visible("tr.finding[data-severity=info]")
    assert page.text_content("#filter-status") == "Alle 4 Befunde."
    page.uncheck("#findings-filter input[value=error]")
    assert not page.is_visible("tr.finding[data-rule=R6]") and page.is_visible("tr.finding[data-rule=R14]")
    assert page.text_content("#filter-status") == "2 von 4 Befunden."
    page.check("#findings-filter input[value=error]")
    page.select_option("#rule-filter", "R3")  # a note: choosing its rule unfolds it
    assert page.is_visible("tr.finding[data-rule=R3]") and not page.is_visible("tr.finding[data-rule=R6]")
    page.select_option("#rule-filter", "")
    page.fill("#case-filter", "P78")
    assert page.is_visible("tr.finding[data-rule=R5]") and not page.is_visible("tr.finding[data-rule=R6]")
    page.fill("#case-filter", "gibt es nicht")
    assert page.is_visible("#findings-none")
    page.fill("#case-filter", "")
    # The cap gauge draws its bar.
    assert page.locator("svg.gauge rect.bar-over, svg.gauge rect.bar").bounding_box()["width"] > 0
    assert "Grenze 30\u00a0%" in page.text_content("main")
    with page.expect_download() as download:
        page.click("text=Befunde als CSV")
    csv = download.value.path().read_text(encoding="utf-8-sig")
    assert "V77;0101;838382202;ja;nein;nein;R6;Fehler;" in csv
    page.goto("/praxis/abrechnung/")
    assert page.locator("svg.chart rect").count() == 1
    bar = page.locator("svg.chart rect").bounding_box()
    assert bar["height"] > 10 and bar["width"] > 10  # drawn, not a zero-size rect
    screenshots(page, "billing-index")

    dump = server.db.dump() + server.log_path.read_text(encoding="utf-8", errors="replace")
    for secret in (
        SURNAME,
        FIRST_NAME,
        "Lindenweg",
        DIAGNOSIS,
        "19440229",
        "Brinkmeyer",
        "Ottokar",
        "19800101",
        "Mühlbach",
    ):
        assert secret not in dump
    assert "V77" in dump  # the report is stored (the practice's case number is not patient data)
