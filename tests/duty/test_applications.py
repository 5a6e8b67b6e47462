"""K-Arzt applications through the web: start without an account, uploads checked and encrypted,
what is missing, staff review, approval with LANR and login; outsiders see nothing (issue 6)."""

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.accounts.domain import parse_lanr
from sprechzimmer.accounts.models import User
from sprechzimmer.duty import applications, documents
from sprechzimmer.duty.models import ApplicationDocument, CooperationApplication, DutyDoctor

from .helpers import doctor, kv, logged_in, staff

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\nGEHEIMER-INHALT-DER-URKUNDE\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
UPLOADS = {
    "measles": PDF,
    "approbation": PDF,
    "specialist": JPEG,
    "police": PNG,
    "liability": PDF,
    "declaration": PDF,
    "questionnaire": PDF,
}


def files(**overrides):
    return {
        f"file-{anlage}": SimpleUploadedFile(f"{anlage}.bin", content)
        for anlage, content in (UPLOADS | overrides).items()
    }


def facts(recent=None, **changes):
    recent = (recent or timezone.localdate() - dt.timedelta(days=20)).isoformat()
    return {
        "approbation_issued": recent,
        "approbation_certified": "on",
        "specialist_issued": recent,
        "specialist_certified": "on",
        "police_issued": recent,
        "police_type_n_original": "on",
        "liability_personal": "3000000",
        "liability_property": "3000000",
        "clinical_months": "0",
    } | changes


def other_applicants_token(applicant) -> str:
    """The secret link token of a second application at the same KV."""
    _, token = applications.start(
        applicant.kv,
        full_name="X",
        email="x@example.org",
        birth_date=dt.date(1980, 1, 1),
        base_url="http://testserver/",
    )
    return token


def test_start_sends_the_personal_link_and_lists_everything_missing(client, applicant):
    assert applicant.mail.to == ["nora@example.org"] and applicant.url in applicant.mail.body
    page = client.get(applicant.url).content.decode()
    anlagen = re.findall(r'<li data-anlage="(\w+)">', page)
    assert anlagen == [
        "measles",
        "approbation",
        "specialist",
        "police",
        "liability",
        "declaration",
        "questionnaire",
        "agreement",
    ]
    assert client.get(reverse("coop_application", args=["erfunden"])).status_code == 404


def test_uploads_are_checked_encrypted_and_only_readable_by_their_owner(client, applicant, settings):
    # A text file named .pdf: refused, nothing stored, the typed facts are still in the form, and
    # so is the device typed beside Anlage 6's file.
    response = client.post(
        applicant.url, facts(clinical_months="30") | files(approbation=b"just text") | {"label-devices": "Sonograf <b>"}
    )
    assert response.status_code == 400
    assert "kein PDF-, JPEG- oder PNG-Dokument" in response.content.decode()
    assert 'name="clinical_months" value="30"' in response.content.decode()
    assert 'name="label-devices" value="Sonograf &lt;b&gt;"' in response.content.decode()
    assert not ApplicationDocument.objects.exists()
    applicant.app.refresh_from_db()
    assert applicant.app.clinical_months == 0  # the facts were not saved half-way either
    settings.DUTY_DOCUMENT_MAX_BYTES = 1024
    response = client.post(applicant.url, facts() | files(liability=PDF + b"x" * 2000))
    assert response.status_code == 400 and "größer als" in response.content.decode()

    settings.DUTY_DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
    client.post(applicant.url, facts() | files())
    stored = ApplicationDocument.objects.filter(application=applicant.app)
    assert stored.count() == len(UPLOADS)
    approbation = stored.get(anlage="approbation")
    on_disk = documents.path_of(approbation.stored_name).read_bytes()
    assert on_disk.startswith(b"SZD1") and b"GEHEIMER-INHALT" not in on_disk
    assert approbation.content_type == "application/pdf"
    assert stored.get(anlage="specialist").content_type == "image/jpeg"
    download = client.get(reverse("coop_applicant_document", args=[applicant.token, approbation.pk]))
    assert b"".join(download.streaming_content) == PDF and download["Content-Type"] == "application/pdf"
    assert (
        download["Content-Disposition"] == f'attachment; filename="anlage-2-approbationsurkunde-{approbation.pk}.pdf"'
    )
    police = stored.get(anlage="police")
    police_download = client.get(reverse("coop_applicant_document", args=[applicant.token, police.pk]))
    assert f'"anlage-4-polizeiliches-fuehrungszeugnis-{police.pk}.png"' in police_download["Content-Disposition"]

    # Another applicant's link does not open this document; nor does a doctor or another KV's staff.
    other_token = other_applicants_token(applicant)
    assert client.get(reverse("coop_applicant_document", args=[other_token, approbation.pk])).status_code == 404
    staff_url = reverse("coop_staff_document", args=[applicant.app.pk, approbation.pk])
    for outsider in (staff(kv("KV Zwei")), doctor(applicant.kv).user):
        client.logout()
        logged_in(client, outsider)
        assert client.get(staff_url).status_code == 404
        assert client.get(reverse("coop_staff_detail", args=[applicant.app.pk])).status_code == 404
        assert (
            client.post(reverse("coop_staff_decide", args=[applicant.app.pk]), {"decision": "approve"}).status_code
            == 404
        )
    client.logout()
    logged_in(client, applicant.staff)
    assert b"".join(client.get(staff_url).streaming_content) == PDF


def test_complete_submit_review_approve_gives_lanr_and_login(
    client, applicant, mailoutbox, django_capture_on_commit_callbacks
):
    client.post(applicant.url, facts(existing_lanr="838382202") | files() | {"submit": "1"})
    applicant.app.refresh_from_db()
    assert applicant.app.status == CooperationApplication.Status.SUBMITTED
    # Only the agreement by post is missing; the staff cannot approve yet.
    assert [m.anlage for m in applications.missing(applicant.app)] == ["agreement"]
    logged_in(client, applicant.staff)
    response = client.post(reverse("coop_staff_decide", args=[applicant.app.pk]), {"decision": "approve"}, follow=True)
    assert "Der Antrag ist unvollständig: Anlage 9 – Kooperationsvereinbarung." in response.content.decode()
    # The staff tick the two originals received.
    client.post(
        reverse("coop_staff_detail", args=[applicant.app.pk]),
        facts(existing_lanr="838382202") | {"agreement_copies_received": "2"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("coop_staff_decide", args=[applicant.app.pk]), {"decision": "approve"}, follow=True
        )
    assert "LANR 838382297" in response.content.decode()  # digits 1–7 kept, K status in 8–9
    user = User.objects.get(email="nora@example.org")
    assert user.lanr == "838382297" and not user.has_usable_password() and user.organisation is None
    assert DutyDoctor.objects.get(user=user).kind == DutyDoctor.Kind.COOPERATING
    mail = mailoutbox[-1]
    assert mail.to == ["nora@example.org"] and "838382297" in mail.body
    link = re.search(r"http://testserver(/konto/password/reset/key/\S+)", mail.body).group(1)
    client.logout()
    assert client.get(link, follow=True).status_code == 200
    # Decided: the applicant's page is read-only now.
    response = client.post(applicant.url, facts() | files(), follow=True)
    assert "bereits entschieden" in response.content.decode()


def test_without_a_lanr_a_new_unique_one_is_assigned(client, applicant, django_capture_on_commit_callbacks):
    client.post(applicant.url, facts() | files() | {"submit": "1"})
    CooperationApplication.objects.filter(pk=applicant.app.pk).update(agreement_copies_received=2)
    with django_capture_on_commit_callbacks(execute=True):
        doctor_ = applications.approve(applicant.app, "http://testserver/")
    assert parse_lanr(doctor_.lanr).value == doctor_.lanr and doctor_.lanr.endswith("97")


def test_an_old_certificate_and_too_little_insurance_are_named(client, applicant):
    old = (timezone.localdate() - dt.timedelta(days=200)).isoformat()
    client.post(applicant.url, facts(approbation_issued=old, liability_property="2999999") | files())
    page = client.get(applicant.url).content.decode()
    assert re.findall(r'<li data-anlage="(\w+)">', page) == ["approbation", "liability", "agreement"]
    assert "älter als sechs Monate" in page and "mindestens 3 Millionen Euro" in page


def test_dates_ahead_and_negative_cover_are_refused_and_an_upload_without_its_date_is_named(client, applicant):
    """A new user's walk saved 01.01.2099 as a certificate's date and -1 € as cover, and read
    "Die Approbationsurkunde fehlt" right after uploading it (its date was not given yet)."""
    ahead = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = client.post(applicant.url, facts(police_issued=ahead, liability_personal="-1") | files())
    assert response.status_code == 400
    page = response.content.decode()
    assert "Das Datum liegt in der Zukunft." in page and "Bitte geben Sie einen Betrag ab 0 € an." in page
    assert "auch keine Datei; bitte wählen Sie die Dateien erneut" in page and not ApplicationDocument.objects.exists()
    applicant.app.refresh_from_db()
    assert applicant.app.police_issued is None and applicant.app.liability_personal is None

    saved = client.post(applicant.url, facts(approbation_issued="") | files())
    assert saved.status_code == 302
    applicant.app.refresh_from_db()
    missing = {m.anlage: m.message for m in applications.missing(applicant.app)}
    assert (
        missing["approbation"]
        == "Das Dokument ist hochgeladen; bitte geben Sie oben noch das Datum der Beglaubigung an."
    )
    assert "police" not in missing


def test_the_applicant_removes_a_wrong_upload_and_nobody_else_can(
    client, applicant, django_capture_on_commit_callbacks
):
    client.post(applicant.url, facts() | files())
    wrong = ApplicationDocument.objects.get(application=applicant.app, anlage="specialist")
    stored = documents.path_of(wrong.stored_name)
    assert stored.exists()
    page = client.get(applicant.url).content.decode()
    delete_url = reverse("coop_applicant_document_delete", args=[applicant.token, wrong.pk])
    assert f'action="{delete_url}"' in page
    # Another applicant's link does not reach it, and a GET changes nothing.
    other_token = other_applicants_token(applicant)
    assert client.post(reverse("coop_applicant_document_delete", args=[other_token, wrong.pk])).status_code == 404
    assert client.get(delete_url).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(delete_url).status_code == 302
    assert not ApplicationDocument.objects.filter(pk=wrong.pk).exists() and not stored.exists()
    assert "specialist" in {m.anlage for m in applications.missing(applicant.app)}
    # Once the KV decided, documents stay.
    kept = ApplicationDocument.objects.get(application=applicant.app, anlage="approbation")
    CooperationApplication.objects.filter(pk=applicant.app.pk).update(status=CooperationApplication.Status.REJECTED)
    client.post(reverse("coop_applicant_document_delete", args=[applicant.token, kept.pk]))
    assert ApplicationDocument.objects.filter(pk=kept.pk).exists()


def test_starting_again_for_an_open_application_sends_a_new_link_instead_of_a_second_one(
    client, applicant, mailoutbox, django_capture_on_commit_callbacks
):
    """A new user's walk started the same application twice and got two."""
    mails = len(mailoutbox)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("coop_start"),
            {
                "kv": applicant.kv.pk,
                "full_name": "Dr. Nora Neu",
                "email": "NORA@example.org ",
                "birth_date": "1985-02-03",
            },
            follow=True,
        )
    assert "schon einen offenen Antrag" in response.content.decode()
    assert CooperationApplication.objects.filter(email="nora@example.org").count() == 1
    assert len(mailoutbox) == mails + 1 and mailoutbox[-1].to == ["nora@example.org"]
    new_url = re.search(r"http://testserver(/kooperationsarzt/antrag/[^/\s]+/)", mailoutbox[-1].body).group(1)
    assert "der bisherige gilt nicht mehr" in mailoutbox[-1].body
    assert client.get(applicant.url).status_code == 404 and client.get(new_url).status_code == 200


def test_a_rejection_asks_first_needs_a_reason_and_tells_the_applicant(
    client, applicant, mailoutbox, django_capture_on_commit_callbacks
):
    """A new user's walk rejected with one click, and the applicant heard nothing."""
    logged_in(client, applicant.staff)
    detail = reverse("coop_staff_detail", args=[applicant.app.pk])
    page = client.get(detail).content.decode()
    confirm = page[page.index('<details id="reject">') : page.index("</details>", page.index('<details id="reject">'))]
    assert "lässt sich nicht zurücknehmen" in confirm and 'name="reason"' in confirm
    decide = reverse("coop_staff_decide", args=[applicant.app.pk])
    mails = len(mailoutbox)
    refused = client.post(decide, {"decision": "reject", "reason": "   "}, follow=True)
    assert "Bitte geben Sie den Grund der Ablehnung an" in refused.content.decode()
    client.post(decide, {"decision": "unklar"})
    applicant.app.refresh_from_db()
    assert applicant.app.status == CooperationApplication.Status.DRAFT and len(mailoutbox) == mails
    with django_capture_on_commit_callbacks(execute=True):
        client.post(decide, {"decision": "reject", "reason": "Keine Approbation in Deutschland <b>"})
    applicant.app.refresh_from_db()
    assert applicant.app.status == CooperationApplication.Status.REJECTED
    assert applicant.app.rejection_reason == "Keine Approbation in Deutschland <b>"
    assert mailoutbox[-1].to == ["nora@example.org"] and "Keine Approbation in Deutschland <b>" in mailoutbox[-1].body
    assert "Keine Approbation in Deutschland &lt;b&gt;" in client.get(detail).content.decode()
