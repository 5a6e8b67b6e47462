"""The operator's certificates (Anlage 31b, A11): uploaded in the back office and checked, named in
every KV document, handed to members of practices only, a warning to the operator 60 days before
expiry (once), a mail to practices whose sent document named a renewed certificate; and the
operator's news banner (issue 17)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from reportlab.pdfgen import canvas

from sprechzimmer.accounts.models import Organisation
from sprechzimmer.approval import certificates, documents
from sprechzimmer.approval.models import ApprovalDocument, NewsBanner, OperatorCertificate
from sprechzimmer.approval.progress import kv_of
from sprechzimmer.approval.tasks import certificate_expiry_daily
from tests import factories
from tests.approval.conftest import logged_in, practice_in
from tests.approval.test_documents import pdf_text

IT = OperatorCertificate.Kind.IT_SECURITY
DP = OperatorCertificate.Kind.DATA_PROTECTION


def certificate_pdf(label: str = "Zertifikat") -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(100, 750, label)
    page.save()
    return buffer.getvalue()


def make_certificate(kind, number, valid_from, valid_until, issuer="TÜV Test GmbH", content=None):
    content = content or certificate_pdf(number)
    upload = SimpleUploadedFile("z.pdf", content, content_type="application/pdf")
    return OperatorCertificate.objects.create(
        kind=kind,
        issuer=issuer,
        number=number,
        valid_from=valid_from,
        valid_until=valid_until,
        stored_name=certificates.store(upload, kind),
        size=len(content),
    )


def upload_form(kind=IT, number="IT-2027-1", pdf: bytes | None = None, name="zertifikat.pdf") -> dict:
    today = timezone.localdate()
    form = {
        "kind": kind,
        "issuer": "TÜV Test GmbH",
        "number": number,
        "valid_from": today.strftime("%d.%m.%Y"),
        "valid_until": (today + dt.timedelta(days=365)).strftime("%d.%m.%Y"),
    }
    if pdf is not None:
        form["pdf"] = SimpleUploadedFile(name, pdf, content_type="application/pdf")
    return form


def test_bad_uploads_are_refused_in_german_and_nothing_is_stored(client, staff, settings, monkeypatch):
    client.force_login(staff)
    url = reverse("admin:approval_operatorcertificate_add")
    monkeypatch.setattr(certificates, "MAX_BYTES", 2000)
    bad = [
        (None, "Bitte laden Sie das Zertifikat als PDF-Datei hoch."),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 100, "Bitte laden Sie das Zertifikat als PDF-Datei hoch."),
        (b"%PDF-1.7\nkein echtes PDF\n%%EOF\n", "Die PDF-Datei ist beschädigt und lässt sich nicht lesen."),
        (b"%PDF-1.7\n" + b"0" * 3000, "Die Datei ist größer als"),
    ]
    for content, message in bad:
        response = client.post(url, upload_form(pdf=content))
        assert response.status_code == 200
        assert message in response.content.decode(), message
    assert not OperatorCertificate.objects.exists()
    assert not (settings.DOCUMENTS_DIR / "certificates").exists() or not any(
        (settings.DOCUMENTS_DIR / "certificates").iterdir()
    )

    good = certificate_pdf("Gutes Zertifikat")
    assert len(good) < 2000
    response = client.post(url, upload_form(pdf=good))
    assert response.status_code == 302, response.content.decode()[:2000]
    stored = OperatorCertificate.objects.get()
    assert stored.number == "IT-2027-1" and stored.size == len(good)
    assert b"".join(certificates.read(stored)) == good
    assert not (settings.DOCUMENTS_DIR / "certificates").joinpath("x").exists()
    assert good not in next((settings.DOCUMENTS_DIR / "certificates").iterdir()).read_bytes()  # encrypted


def test_only_operator_staff_reach_certificates_and_banners_in_the_back_office(client, staff):
    member = factories.member(practice_in("71"), main=True)
    member.is_staff = True  # even a staff flag does not make a practice's member the operator's staff
    member.save()
    pages = [reverse("admin:approval_operatorcertificate_add"), reverse("admin:approval_newsbanner_add")]
    client.force_login(staff)
    assert [client.get(url).status_code for url in pages] == [200, 200]
    client.force_login(member)
    assert [client.get(url).status_code for url in pages] == [403, 403]
    response = client.post(pages[0], upload_form(pdf=certificate_pdf()))
    assert response.status_code == 403
    assert not OperatorCertificate.objects.exists()


def test_documents_name_the_current_certificates(db, operator, tmp_path):
    practice = practice_in("52")
    factories.member(practice, main=True)
    today = timezone.localdate()
    text = pdf_text(documents.render("bestaetigung", practice, kv_of(practice))[2], tmp_path)
    assert "stellt der Anbieter auf Anforderung bereit" in text

    make_certificate(IT, "IT-ALT-1", today - dt.timedelta(days=800), today - dt.timedelta(days=1))
    # Validity relative to today: fixed dates would expire under the test one day.
    it_until, dp_until = today + dt.timedelta(days=500), today + dt.timedelta(days=365)
    make_certificate(IT, "IT-2026-7", today - dt.timedelta(days=10), it_until, issuer="TÜViT")
    text = pdf_text(documents.render("bestaetigung", practice, kv_of(practice))[2], tmp_path)
    assert "TÜViT" in text and "IT-2026-7" in text and f"gültig bis {it_until:%d.%m.%Y}" in text
    assert "IT-ALT-1" not in text  # expired
    assert "Datenschutzzertifikat (Art. 42 DSGVO) stellt der Anbieter auf Anforderung bereit" in text

    make_certificate(DP, "DS-99", today, dp_until, issuer="EuroPriSe")
    for kind in ("bestaetigung", "selbstauskunft", "antrag", "anzeige"):
        text = pdf_text(documents.render(kind, practice, kv_of(practice))[2], tmp_path)
        assert "IT-2026-7" in text and "DS-99" in text and f"gültig bis {dp_until:%d.%m.%Y}" in text, kind
        assert "stellt der Anbieter auf Anforderung bereit" not in text, kind


def test_certificate_pdfs_for_members_only_and_only_valid_ones(client, db):
    today = timezone.localdate()
    content = certificate_pdf("IT-Zertifikat")
    make_certificate(IT, "IT-1", today - dt.timedelta(days=5), today + dt.timedelta(days=300), content=content)
    make_certificate(DP, "DS-ALT", today - dt.timedelta(days=400), today - dt.timedelta(days=1))
    url, expired = reverse("approval_certificate", args=[IT]), reverse("approval_certificate", args=[DP])
    mine, other = practice_in("71", "Praxis Eigen"), practice_in("01", "Praxis Fremd")
    factories.member(other, main=True)
    # The URL names the certificate's kind only: no practice, no id to swap for another's.
    assert str(mine.pk) not in url.split("/")[-1] and mine.bsnr not in url and other.bsnr not in url

    assert client.get(url).status_code == 302  # anonymous: to the login
    member = logged_in(client, factories.member(mine, role="staff"))
    page = member.get(reverse("approval")).content.decode()
    assert "IT-1" in page and url in page and "DS-ALT" not in page and expired not in page
    response = member.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == content
    assert member.get(expired).status_code == 404  # expired
    assert member.get(reverse("approval_certificate", args=["passwd"])).status_code == 404

    kv = Organisation.objects.create(
        name="KV Test", street="Weg 2", postcode="70173", city="Stuttgart", bsnr="520000099", kind=Organisation.Kind.KV
    )
    kv_client = logged_in(Client(), factories.member(kv, main=True))
    assert kv_client.get(url).status_code == 404


def test_expiry_warning_fires_60_days_before_and_only_once(
    db, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.OPERATOR_EMAIL = "betrieb@example.org"
    until = dt.date(2027, 5, 31)
    certificate = make_certificate(DP, "DS-2025-3", dt.date(2025, 6, 1), until, issuer="EuroPriSe")
    with django_capture_on_commit_callbacks(execute=True):
        assert certificates.warn_expiring(until - dt.timedelta(days=61)) == 0
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        assert certificates.warn_expiring(until - dt.timedelta(days=60)) == 1
    [warning] = mailoutbox
    assert warning.to == ["betrieb@example.org"]
    assert "31.05.2027" in warning.subject and "Datenschutzzertifikat" in warning.subject
    assert "DS-2025-3" in warning.body and "EuroPriSe" in warning.body and "noch 60 Tage" in warning.body
    certificate.refresh_from_db()
    assert certificate.expiry_warned_on == until - dt.timedelta(days=60)
    with django_capture_on_commit_callbacks(execute=True):
        for day in range(59, -1, -1):
            assert certificates.warn_expiring(until - dt.timedelta(days=day)) == 0
    assert len(mailoutbox) == 1
    # Once the renewal is uploaded, an expiring certificate of that kind is no news.
    other = make_certificate(IT, "IT-1", dt.date(2025, 6, 1), until)
    make_certificate(IT, "IT-2", until - dt.timedelta(days=10), until + dt.timedelta(days=730))
    with django_capture_on_commit_callbacks(execute=True):
        assert certificates.warn_expiring(until - dt.timedelta(days=30)) == 0
    other.refresh_from_db()
    assert len(mailoutbox) == 1 and other.expiry_warned_on is None
    # The worker runs the check every day.
    assert certificate_expiry_daily.s().validate_datetime(dt.datetime(2027, 4, 1, 6, 30))
    assert not certificate_expiry_daily.s().validate_datetime(dt.datetime(2027, 4, 1, 7, 30))


def test_renewal_mail_goes_only_to_practices_that_sent_a_document_naming_the_old_certificate(
    client, staff, mailoutbox, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    make_certificate(IT, "IT-ALT-5", today - dt.timedelta(days=300), today + dt.timedelta(days=30))

    sent = practice_in("71", "Praxis Gesendet")
    sent_main, sent_doctor = factories.member(sent, main=True), factories.member(sent)
    only_downloaded = practice_in("52", "Praxis Heruntergeladen")
    downloaded_main = factories.member(only_downloaded, main=True)
    before = practice_in("20", "Praxis Vorher")
    before_main = factories.member(before, main=True)
    ApprovalDocument.objects.create(organisation=before, kind="anzeige", sent_on=today)  # named no certificate

    for user in (sent_main, downloaded_main):
        practice_client = logged_in(Client(), user)
        assert practice_client.get(reverse("approval_document", args=["antrag"])).status_code == 200
    logged_in(Client(), sent_doctor).post(reverse("approval_progress", args=["antrag"]), {"sent_on": today.isoformat()})
    assert list(ApprovalDocument.objects.get(organisation=sent).certificates.values_list("number", flat=True)) == [
        "IT-ALT-5"
    ]

    client.force_login(staff)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:approval_operatorcertificate_add"), upload_form(number="IT-NEU-6", pdf=certificate_pdf())
        )
    assert response.status_code == 302
    [renewal] = mailoutbox
    assert renewal.to == [sent_main.email]
    assert sent_doctor.email not in renewal.to and before_main.email not in renewal.to
    assert "erneuert" in renewal.subject
    assert "IT-ALT-5" in renewal.body and "IT-NEU-6" in renewal.body and "Praxis Gesendet" in renewal.body
    assert "Antrag" in renewal.body
    # The checklist says so too, at the sent document only.
    page = logged_in(Client(), sent_doctor).get(reverse("approval")).content.decode()
    assert page.count("dieses Zertifikat wurde inzwischen erneuert") == 1 and "Nr. IT-ALT-5" in page
    page = logged_in(Client(), downloaded_main).get(reverse("approval")).content.decode()
    assert "inzwischen erneuert" not in page

    # An older certificate added for the record renews nothing; nor is a data-protection
    # certificate a renewal of the IT-security one.
    with django_capture_on_commit_callbacks(execute=True):
        form = upload_form(number="IT-URALT-1", pdf=certificate_pdf())
        form["valid_from"], form["valid_until"] = "01.01.2020", "31.12.2021"
        assert client.post(reverse("admin:approval_operatorcertificate_add"), form).status_code == 302
    assert len(mailoutbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:approval_operatorcertificate_add"),
            upload_form(kind=DP, number="DS-1", pdf=certificate_pdf()),
        )
    assert len(mailoutbox) == 1


@pytest.mark.parametrize(
    ("start", "end", "shown"),
    [(-1, 1, True), (0, 0, True), (-10, -1, False), (1, 5, False)],
)
def test_news_banner_only_within_its_dates_and_escaped(client, db, start, end, shown):
    today = timezone.localdate()
    NewsBanner.objects.create(
        text="<b>Obergrenzen</b> für Videosprechstunden im 2. Quartal ausgesetzt",
        shown_from=today + dt.timedelta(days=start),
        shown_until=today + dt.timedelta(days=end),
    )
    logged_in(client, factories.member(practice_in("71"), main=True))
    for url in (reverse("approval"), "/praxis/"):
        page = client.get(url).content.decode()
        assert ("&lt;b&gt;Obergrenzen&lt;/b&gt; für Videosprechstunden" in page) is shown, url
        assert "<b>Obergrenzen" not in page


def test_news_banner_dates_in_order(client, staff):
    client.force_login(staff)
    response = client.post(
        reverse("admin:approval_newsbanner_add"),
        {"text": "Hinweis", "shown_from": "10.12.2026", "shown_until": "01.12.2026"},
    )
    assert response.status_code == 200 and "„Anzeigen bis“ liegt vor „Anzeigen ab“." in response.content.decode()
    assert not NewsBanner.objects.exists()


def test_the_nightly_purge_keeps_certificate_files(db):
    import os
    import time

    from django.core.management import call_command

    from sprechzimmer.duty import documents as storage

    certificate = make_certificate(IT, "IT-1", dt.date(2026, 1, 1), dt.date(2028, 1, 1))
    kept = storage.path_of(certificate.stored_name)
    orphan = storage.path_of(certificates.store(io.BytesIO(certificate_pdf()), IT))
    old = time.time() - 2 * 24 * 3600
    for path in (kept, orphan):
        os.utime(path, (old, old))
    call_command("purge_metadata", stdout=io.StringIO())
    assert kept.exists() and not orphan.exists()
