"""The AVV (Art. 28 DSGVO): prefilled PDF with the product's real measures, the practice's
confirmation (who, when, version) for plus, and the operator's confirmation PDF."""

import io

from django.urls import reverse
from pypdf import PdfReader

from sprechzimmer.contracts import avv
from sprechzimmer.contracts.domain import Plan
from sprechzimmer.contracts.models import AvvConfirmation, Contract


def pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).replace("\n", " ")


def test_the_avv_is_prefilled_and_names_the_real_measures(client, practice, operator):
    operator.OPERATOR_DATA_LOCATION = "im Rechenzentrum der Example Hosting GmbH in Frankfurt am Main"
    client.force_login(practice.owner)
    response = client.get(reverse("contract_avv"))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    for expected in (
        practice.practice.name,
        practice.practice.bsnr,
        "Sprechzimmer Betrieb GmbH",
        f"Fassung {avv.VERSION}",
        "AES-256-GCM",  # browser-side encryption
        "Peer-to-Peer",
        "DTLS-SRTP",
        "TURN",
        "nach 90 Tagen gelöscht",  # metadata, from METADATA_RETENTION_DAYS
        "Rechenzentrum der Example Hosting GmbH in Frankfurt am Main",  # where data is stored
    ):
        assert expected in text, expected


def test_plus_confirms_the_avv_and_gets_the_operators_confirmation(client, practice, operator):
    Contract.objects.create(organisation=practice.practice, plan=Plan.PLUS)
    client.force_login(practice.owner)
    assert client.get(reverse("contract_avv_confirmation")).status_code == 404  # nothing confirmed yet
    # Without the tick: nothing confirmed, and the page says so beside the checkbox (at the foot of
    # a long page; a message on top was out of sight).
    refused = client.post(reverse("contract_avv_confirm"), follow=True)
    assert refused.redirect_chain[-1][0].endswith("?avv=fehlt#avv")
    page = refused.content.decode()
    note = page.index('id="avv-error"')
    assert page.index('name="accept"') < note and "gelesen haben und annehmen" in page[note : note + 200]
    assert not AvvConfirmation.objects.exists()
    client.post(reverse("contract_avv_confirm"), {"accept": "1"})
    confirmation = AvvConfirmation.objects.get(organisation=practice.practice)
    assert (confirmation.version, confirmation.confirmed_by, confirmation.confirmed_by_email) == (
        avv.VERSION,
        practice.owner,
        practice.owner.email,
    )
    assert "Angenommen von" in client.get(reverse("contract")).content.decode()
    text = pdf_text(client.get(reverse("contract_avv_confirmation")).content)
    assert "bestätigt hiermit" in text and practice.owner.email in text and avv.VERSION in text


def test_basis_cannot_confirm_and_others_cannot_reach_it(client, practice, operator):
    client.force_login(practice.owner)
    response = client.post(reverse("contract_avv_confirm"), {"accept": "1"}, follow=True)
    assert "ist in Ihrem Vertrag basis nicht enthalten" in response.content.decode()
    assert not AvvConfirmation.objects.exists()
    Contract.objects.filter(organisation=practice.practice).update(plan=Plan.PLUS)
    client.force_login(practice.colleague)
    assert client.post(reverse("contract_avv_confirm"), {"accept": "1"}).status_code == 404
    assert client.get(reverse("contract_avv")).status_code == 404
    client.force_login(practice.outsider)
    assert practice.practice.name not in pdf_text(client.get(reverse("contract_avv")).content)
    assert client.get(reverse("contract_avv_confirmation")).status_code == 404
    assert not AvvConfirmation.objects.exists()
