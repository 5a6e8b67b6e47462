"""The billing page: upload checks, stored reports, exports, ownership (owner vs. outsider)."""

import datetime as dt
import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sprechzimmer.billing.domain.run import CheckRun
from sprechzimmer.billing.models import QuarterReport
from sprechzimmer.video.domain import BERLIN
from sprechzimmer.video.models import VideoContact
from tests import factories

from .builders import case, kvdt_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def practices():
    own = factories.practice("Praxis Eins")
    doctor = factories.member(own, main=True)
    other = factories.practice("Praxis Zwei")
    outsider = factories.member(other, main=True)
    return type("P", (), dict(own=own, doctor=doctor, other=other, outsider=outsider))


def logged_in(client, user):
    client.force_login(user)
    client.get(reverse("dashboard"))  # binds the session to a device
    return client


def quarter_file(**kwargs) -> bytes:
    cases = [
        case((2, ["03003", "01450"]), case_id="V1"),
        case((3, ["03003"]), case_id="P1"),
        case((4, ["03003"]), case_id="P2"),
    ]
    return kvdt_bytes(cases, **kwargs)


PSEUDONYM = "psn1:" + "B" * 26


def upload(client, content: bytes, name="Z01521234500_01.10.2024_10.00.con", quarter=""):
    return client.post(reverse("billing_upload"), {"file": SimpleUploadedFile(name, content), "quarter": quarter})


def test_upload_stores_a_report_and_renders_it(client, practices):
    logged_in(client, practices.doctor)
    response = upload(client, quarter_file())
    assert response.status_code == 200, response.content
    saved = QuarterReport.objects.get(organisation=practices.own)
    assert response.json()["redirect"] == reverse("billing_report", args=[saved.pk])
    assert (saved.quarter_label, saved.cases, saved.counted_cases, saved.video_only_cases) == ("3/2024", 3, 3, 1)
    assert [c["case_id"] for c in saved.report["cases"]] == ["V1"]  # only cases with findings are kept
    page = client.get(reverse("billing_report", args=[saved.pk])).content.decode()
    assert "88220 ergänzen" in page and "1 Fälle darüber" in page
    index = client.get(reverse("billing")).content.decode()
    assert "3/2024" in index and '<svg class="chart"' in index
    # The bar's geometry is machine numbers: a German "66,7" is no SVG length and draws nothing.
    bar = re.search(r'<rect x="([^"]+)" y="([^"]+)" width="24" height="([^"]+)"', index)
    assert bar, index
    assert all(re.fullmatch(r"\d+(\.\d+)?", value) for value in bar.groups()), bar.groups()
    assert float(bar.group(3)) == pytest.approx(100 / 3, abs=0.1) and float(bar.group(2)) + float(bar.group(3)) == 100
    gauge = re.search(r'<svg class="gauge".*?</svg>', page, re.S).group(0)
    widths = re.findall(r'width="([^"]+)"', gauge)
    assert widths and all(re.fullmatch(r"\d+(\.\d+)?", w) for w in widths), widths
    assert float(widths[1]) > 0  # the case's share is drawn


def test_findings_are_grouped_by_severity_and_rule_with_notes_folded(client, practices):
    logged_in(client, practices.doctor)
    upload(client, quarter_file())
    saved = QuarterReport.objects.get()
    page = client.get(reverse("billing_report", args=[saved.pk])).content.decode()
    severities = re.findall(r'<section class="severity-group" data-severity="(\w+)"', page)
    assert severities == sorted(severities, key=["error", "warning", "info"].index) and "error" in severities
    groups = re.findall(r'<details class="rule-group" data-rule="(R\d+)" data-severity="(\w+)"( open)?>', page)
    assert groups and all(bool(is_open) == (severity != "info") for _, severity, is_open in groups)
    assert ("R6", "error", " open") in groups
    assert 'id="findings-filter"' in page and '<option value="R6">R6 – Kennzeichen 88220</option>' in page


def test_csv_and_pdf_exports(client, practices):
    logged_in(client, practices.doctor)
    upload(client, quarter_file())
    saved = QuarterReport.objects.get()
    csv = client.get(reverse("billing_report_csv", args=[saved.pk]))
    text = csv.content.decode("utf-8-sig")
    assert csv["Content-Type"].startswith("text/csv") and text.splitlines()[0].startswith("Fall;Satzart;LANR")
    assert "V1;0101;" in text and ";R6;Fehler;" in text
    pdf = client.get(reverse("billing_report_pdf", args=[saved.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert len(pdf.content) > 1500


def test_reupload_of_a_quarter_replaces_its_report(client, practices):
    logged_in(client, practices.doctor)
    upload(client, quarter_file())
    first = QuarterReport.objects.get()
    QuarterReport.objects.filter(pk=first.pk).update(uploaded_at=first.uploaded_at - dt.timedelta(hours=1))
    upload(client, kvdt_bytes([case((3, ["03003"]), case_id="P9")]))
    saved = QuarterReport.objects.get()
    assert saved.cases == 1 and saved.video_only_cases == 0
    assert saved.uploaded_at > first.uploaded_at  # the time of the upload that replaced it


@pytest.mark.parametrize(
    "content, name, message",
    [
        (b"%PDF-1.4 ...", "abrechnung.pdf", "PDF- oder ZIP-Datei"),
        (b"", "leer.con", "leer"),
        ("Müller".encode("utf-16"), "x.con", "UTF-16"),
        (
            b"0138000con0\r\n0138000besa\r\n0180201521234500\r\n01380000101\r\n0113000V1\r\n0193101Mustermann\r\n",
            "x.con",
            "Zeile 6, Feld 3101 (Name): der Name darf nicht hochgeladen werden",
        ),
        (
            b"0138000con0\r\n0138000besa\r\n0180201521234500\r\n01380000101\r\n0113000V1\r\n0143102Erika\r\n",
            "x.con",
            "Zeile 6, Feld 3102 (Vorname): Patientendaten",
        ),
        ("0138000con0\r\n01380000101\r\n0143101Müller\r\n".encode(), "x.con", "UTF-8"),
        (b"0138000con0\r\n0148000besa\r\n", "x.con", "Zeile 2"),
    ],
)
def test_bad_files_get_a_german_message_and_change_nothing(client, practices, content, name, message):
    logged_in(client, practices.doctor)
    upload(client, quarter_file())
    before = QuarterReport.objects.get().report
    response = upload(client, content, name=name)
    assert response.status_code == 400 and message in response.json()["error"]
    assert QuarterReport.objects.get().report == before


def test_size_limit(client, practices, settings):
    settings.EBM_UPLOAD_MAX_BYTES = 1024
    logged_in(client, practices.doctor)
    response = upload(client, quarter_file() * 3)
    assert response.status_code == 400 and "größer als" in response.json()["error"]
    assert not QuarterReport.objects.exists()


def test_report_views_validate_ownership(client, practices):
    logged_in(client, practices.doctor)
    upload(client, quarter_file())
    saved = QuarterReport.objects.get()
    logged_in(client, practices.outsider)
    for name in ("billing_report", "billing_report_csv", "billing_report_pdf"):
        assert client.get(reverse(name, args=[saved.pk])).status_code == 404
    assert client.post(reverse("billing_report_delete", args=[saved.pk])).status_code == 404
    assert QuarterReport.objects.filter(pk=saved.pk).exists()
    assert reverse("billing_report", args=[saved.pk]) not in client.get(reverse("billing")).content.decode()


def test_a_practice_deletes_a_report_it_no_longer_wants(client, practices):
    """A file checked by mistake stayed in "Geprüfte Quartale" for good (a new user's walk). The
    report page deletes it after a confirmation (a POST; a GET changes nothing)."""
    logged_in(client, practices.doctor)
    upload(client, quarter_file())
    saved = QuarterReport.objects.get()
    page = client.get(reverse("billing_report", args=[saved.pk])).content.decode()
    assert reverse("billing_report_delete", args=[saved.pk]) in page and "Ja, Bericht löschen" in page
    assert client.get(reverse("billing_report_delete", args=[saved.pk])).status_code == 405
    response = client.post(reverse("billing_report_delete", args=[saved.pk]), follow=True)
    assert "Der Prüfbericht für Quartal 3/2024 ist gelöscht." in response.content.decode()
    assert not QuarterReport.objects.exists()
    assert reverse("billing_report", args=[saved.pk]) not in client.get(reverse("billing")).content.decode()


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("billing"))
    assert response.status_code == 302 and "/konto/login/" in response["Location"]
    assert client.post(reverse("billing_upload")).status_code == 302


def test_video_contacts_export_is_the_practices_own_and_checks_as_video_cases(client, practices):
    practices.doctor.lanr = "838382202"
    practices.doctor.save()
    start = dt.datetime(2024, 8, 5, 9, 30, tzinfo=BERLIN)
    for minutes in (0, 60 * 24 * 7):
        VideoContact.objects.create(
            organisation=practices.own,
            doctor=practices.doctor,
            duration_seconds=600,
            started_at=start + dt.timedelta(minutes=minutes),
            egk_checked=True,
        )
    VideoContact.objects.create(
        organisation=practices.other, doctor=practices.outsider, duration_seconds=60, started_at=start
    )
    VideoContact.objects.create(
        organisation=practices.own,
        doctor=practices.doctor,
        duration_seconds=60,
        started_at=dt.datetime(2024, 10, 1, 0, 5, tzinfo=BERLIN),
    )  # next quarter
    logged_in(client, practices.doctor)
    response = client.get(reverse("billing_video_contacts"), {"quarter": "3/2024"})
    doc = json.loads(response.content)
    assert response["Content-Disposition"].startswith("attachment")
    assert len(doc["cases"]) == 2 and doc["bsnr"] == practices.own.bsnr
    first = doc["cases"][0]
    assert first["contacts"] == [{"date": "2024-08-05", "time": "09:30", "kind": "video"}]
    assert [s["gop"] for s in first["services"]] == ["01450", "01444"]
    run = CheckRun(io.BytesIO(response.content))
    results = list(run.results())
    assert all(r.video_only for r in results) and run.summary().totals["cases"] == 2
    assert client.get(reverse("billing_video_contacts"), {"quarter": "9/2024"}).status_code == 400


def test_the_report_says_first_what_it_could_not_check_and_uses_german_numbers(client, practices):
    logged_in(client, practices.doctor)
    cases = [case((2, ["03003", "99999"]), case_id=f"F{i}") for i in range(1100)]
    cases.append(case((3, ["03003", "01450"]), case_id="V1"))
    response = upload(client, kvdt_bytes(cases))
    assert response.status_code == 200, response.content
    saved = QuarterReport.objects.get()
    assert saved.report["totals"]["unchecked_services"] == {"count": 1100, "total": 2202, "share": "0.4995"}
    page = client.get(reverse("billing_report", args=[saved.pk])).content.decode()
    notice = "Prüfung unvollständig: 1.100 von 2.202 Leistungen (50\u00a0%) mit unbekannter GOP"
    assert notice in page and page.index(notice) < page.index('id="totals"')
    assert "1.101 Behandlungsfälle" in page and "in den geprüften Leistungen" in page
    assert "Keine Befunde: die Abrechnung entspricht" not in page
    csv = client.get(reverse("billing_report_csv", args=[saved.pk])).content.decode("utf-8-sig")
    assert notice in csv.splitlines()[1]  # the notice is the first row after the head


def test_an_upload_with_pseudonyms_groups_scheine_into_behandlungsfaelle(client, practices):
    """What the browser uploads: pseudonym in 3101, age in 3103, everything else about the patient blank."""
    from sprechzimmer.billing.domain.kvdt import kvdt_line

    def schein(number, gop, day):
        return (
            kvdt_line("8000", "0101")
            + kvdt_line("3000", f"P{number}")
            + kvdt_line("3101", PSEUDONYM)
            + kvdt_line("3102", "")
            + kvdt_line("3103", "alter:8")
            + kvdt_line("4101", "32024")
            + kvdt_line("4111", "108018007")
            + kvdt_line("5000", day)
            + kvdt_line("5001", gop)
            + kvdt_line("5099", "838382202")
        )

    data = (
        kvdt_line("8000", "con0")
        + kvdt_line("8000", "besa")
        + kvdt_line("0201", "521234500")
        + kvdt_line("8000", "adt0")
        + kvdt_line("9204", "32024")
        + schein(1, "01435", "20240702")
        + schein(2, "01435", "20240716")
        + kvdt_line("8000", "adt9")
        + kvdt_line("8000", "con9")
    )
    logged_in(client, practices.doctor)
    assert upload(client, data).status_code == 200
    saved = QuarterReport.objects.get()
    assert (saved.cases, saved.report["totals"]["scheine"]) == (1, 2)
    assert saved.report["cases"] == []  # 01435 twice is right for a child of 8: no finding
    assert "Quast" not in str(saved.report)


def test_the_browsers_upload_field_list_matches_the_servers():
    """kvdtstrip.js uploads UPLOAD_FIELDS as they are and replaces 3101/3103; the server's privacy mode
    accepts exactly those (billing/domain/kvdt.py)."""
    import re
    from pathlib import Path

    from sprechzimmer.billing.domain.kvdt import UPLOAD_FIELDS

    js = (Path(__file__).resolve().parents[2] / "src/sprechzimmer/static/sprechzimmer/js/lib/kvdtstrip.js").read_text()
    listed = set(re.findall(r'"(\d{4})"', js[js.index("UPLOAD_FIELDS = new Set([") : js.index("]);")]))
    replaced = set(re.findall(r'(?:PSEUDONYM|AGE)_FIELD = "(\d{4})"', js))
    assert listed | replaced == set(UPLOAD_FIELDS) and replaced == {"3101", "3103"}


def test_a_quarter_typed_against_the_files_own_or_in_the_future_is_refused(client, practices):
    """A Q3/2024 file uploaded as 2/2099 was checked and stored as "Prüfbericht Quartal 2/2099",
    under the wrong rule set and for good (a new user's walk). The file's 9204 wins; a quarter that
    has not begun is refused; typing the file's own quarter is fine."""
    logged_in(client, practices.doctor)
    response = upload(client, quarter_file(), quarter="4/2024")
    assert response.status_code == 400
    assert "Abrechnung des Quartals 3/2024 (Feld 9204), eingetragen ist 4/2024" in response.json()["error"]
    response = upload(client, quarter_file(), quarter="2/2099")
    assert response.status_code == 400 and "2/2099 hat noch nicht begonnen" in response.json()["error"]
    assert not QuarterReport.objects.exists()
    assert upload(client, quarter_file(), quarter="3/2024").status_code == 200
    assert [r.quarter_label for r in QuarterReport.objects.all()] == ["3/2024"]
