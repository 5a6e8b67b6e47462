"""The KV-Genehmigung page: only the own practice, a checklist that takes dates in order, German
messages for bad input with what was typed kept (issue 17)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.accounts.models import Organisation
from sprechzimmer.approval.models import ApprovalDocument
from tests import factories
from tests.approval.conftest import logged_in, practice_in
from tests.approval.test_documents import pdf_text


def test_a_member_sees_only_the_own_practices_documents(client, db, tmp_path):
    mine = practice_in("71", "Praxis Eigen")
    other = practice_in("01", "Praxis Fremd")
    factories.member(other, main=True)
    staff = factories.member(mine, role="staff")
    logged_in(client, staff)
    page = client.get(reverse("approval")).content.decode()
    assert "Kassenärztliche Vereinigung Bayerns" in page and "verkürzter Antrag" in page
    assert "Praxis Fremd" not in page and other.bsnr not in page
    text = pdf_text(client.get(reverse("approval_document", args=["antrag"])).content, tmp_path)
    assert mine.bsnr in text and other.bsnr not in text
    assert not ApprovalDocument.objects.filter(organisation=other).exists()


def test_anonymous_and_kv_staff_get_nothing(client, db):
    assert client.get(reverse("approval")).status_code == 302
    assert client.get(reverse("approval_document", args=["bestaetigung"])).status_code == 302
    kv = Organisation.objects.create(
        name="KV Test", street="Weg 2", postcode="70173", city="Stuttgart", bsnr="520000099", kind=Organisation.Kind.KV
    )
    logged_in(client, factories.member(kv, main=True))
    assert client.get(reverse("approval")).status_code == 404
    assert client.get(reverse("approval_document", args=["bestaetigung"])).status_code == 404
    assert (
        client.post(reverse("approval_progress", args=["bestaetigung"]), {"sent_on": "2026-01-02"}).status_code == 404
    )


def test_unknown_kinds_and_the_wrong_method(client, db):
    logged_in(client, factories.member(practice_in("52"), main=True))
    assert client.get(reverse("approval_document", args=["passwd"])).status_code == 404
    assert client.post(reverse("approval_progress", args=["passwd"]), {"sent_on": "2026-01-02"}).status_code == 404
    assert client.get(reverse("approval_progress", args=["bestaetigung"])).status_code == 405


def test_the_checklist_takes_dates_in_order_and_keeps_what_was_typed(client, db):
    practice = practice_in("20")
    logged_in(client, factories.member(practice, main=True))
    url = reverse("approval_progress", args=["anzeige"])
    today = timezone.localdate()
    sent, approved = today - dt.timedelta(days=10), today - dt.timedelta(days=2)

    bad = [
        ({"sent_on": "31.02.2026"}, "gültiges Datum"),
        ({"sent_on": (today + dt.timedelta(days=1)).isoformat()}, "in der Zukunft"),
        ({"approved_on": approved.isoformat()}, "zuerst ein, wann Sie das Dokument gesendet"),
        ({"sent_on": approved.isoformat(), "approved_on": sent.isoformat()}, "nicht vor dem Versand"),
    ]
    for data, message in bad:
        response = client.post(url, data)
        page = response.content.decode()
        assert response.status_code == 400 and message in page, data
        for value in data.values():
            assert f'value="{value}"' in page  # what was typed is still there
    assert not ApprovalDocument.objects.filter(organisation=practice).exists()

    client.post(url, {"sent_on": sent.isoformat()})
    assert ApprovalDocument.objects.get(organisation=practice, kind="anzeige").status == "gesendet"
    client.post(url, {"sent_on": sent.isoformat(), "approved_on": approved.isoformat()})
    doc = ApprovalDocument.objects.get(organisation=practice, kind="anzeige")
    assert (doc.status, doc.sent_on, doc.approved_on) == ("genehmigt", sent, approved)
    page = client.get(reverse("approval")).content.decode()
    assert 'data-kind="anzeige" data-status="genehmigt"' in page


def test_a_bsnr_of_no_known_district_gets_general_documents(client, db):
    practice = practice_in("99")
    logged_in(client, factories.member(practice, main=True))
    page = client.get(reverse("approval")).content.decode()
    assert "kennen wir keine KV" in page
    assert client.get(reverse("approval_document", args=["antrag"])).status_code == 200


def test_the_operators_districts_decide_the_kv(client, db):
    from django.core.exceptions import ValidationError

    from sprechzimmer.approval.models import KvProcedure
    from sprechzimmer.approval.progress import kv_of

    practice = practice_in("27")  # Köln: KV Nordrhein by the KBV's table
    assert kv_of(practice).code == "38" and "27" in KvProcedure.objects.get(code="38").district_codes
    nordrhein, westfalen = KvProcedure.objects.get(code="38"), KvProcedure.objects.get(code="20")
    nordrhein.districts = ",".join(sorted(nordrhein.district_codes - {"27"}))
    nordrhein.save()
    westfalen.districts += ",27"
    westfalen.save()
    assert kv_of(practice).code == "20"
    westfalen.districts = "27,2a"
    with pytest.raises(ValidationError, match="zweistellige"):
        westfalen.full_clean()


def test_an_outsider_records_progress_only_for_the_own_practice(client, db):
    mine = practice_in("52", "Praxis A")
    other = practice_in("52", "Praxis B")
    logged_in(client, factories.member(other, main=True))
    client.post(reverse("approval_progress", args=["bestaetigung"]), {"sent_on": "2026-01-05"})
    assert not ApprovalDocument.objects.filter(organisation=mine).exists()
    assert ApprovalDocument.objects.get(organisation=other, kind="bestaetigung").sent_on == dt.date(2026, 1, 5)
