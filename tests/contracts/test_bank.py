"""Bankverbindung: IBAN/BIC checked with schwifty, the SEPA mandate recorded (reference, date, who),
and the operator's pain.008 file validated against its schema."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import sepaxml
from django.urls import reverse
from lxml import etree

from sprechzimmer.contracts import gate, invoicing, sepa, tasks
from sprechzimmer.contracts.models import Invoice, SepaExport, UsageDay
from tests.contracts.test_invoices import plus_practice

IBAN = "DE89 3704 0044 0532 0130 00"


def bank(client, **data):
    values = {"account_holder": "Praxis Vertrag", "iban": IBAN, "bic": "", "mandate": "on", **data}
    return client.post(reverse("contract_bank_details"), values)


def test_a_valid_iban_gives_a_mandate_with_reference_date_and_who(client, practice):
    client.force_login(practice.owner)
    assert bank(client).status_code == 302
    contract = gate.contract_of(practice.practice)
    assert contract.iban == "DE89370400440532013000" and contract.bic == "COBADEFFXXX"  # BIC from the IBAN
    assert contract.mandate_reference.startswith(f"SZ-{practice.practice.pk:07d}-")
    assert contract.mandate_signed_on == dt.date.today() or contract.mandate_signed_on is not None
    assert practice.owner.email in contract.mandate_confirmed_by
    body = client.get(reverse("contract")).content.decode()
    assert contract.mandate_reference in body and "SEPA-Lastschriftmandat" in body
    assert "IBAN DE89 3704 0044 0532 0130 00" in body  # grouped for people (a new user's walk)
    # the same account again keeps its mandate; another account is a new mandate
    reference = contract.mandate_reference
    bank(client, account_holder="Dr. Neu")
    assert gate.contract_of(practice.practice).mandate_reference == reference
    bank(client, iban="DE02120300000000202051", bic="BYLADEM1001")
    assert gate.contract_of(practice.practice).mandate_reference != reference


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"iban": "DE89370400440532013001"}, "Diese IBAN ist ungültig"),
        ({"iban": "DE89"}, "Diese IBAN ist ungültig"),
        ({"iban": "<script>"}, "Diese IBAN ist ungültig"),
        ({"bic": "XYZ"}, "Diese BIC ist ungültig"),
        ({"mandate": ""}, "Bitte erteilen Sie das SEPA-Lastschriftmandat"),
        ({"account_holder": ""}, "Dieses Feld ist zwingend erforderlich"),
    ],
)
def test_bad_bank_details_get_a_german_message_and_change_nothing(client, practice, data, message):
    client.force_login(practice.owner)
    response = bank(client, **data)
    body = response.content.decode()
    assert response.status_code == 400 and message in body, body[:200]
    assert gate.contract_of(practice.practice).iban == ""


def test_only_the_main_user_gives_a_mandate(client, practice):
    client.force_login(practice.colleague)
    assert bank(client).status_code == 404
    client.force_login(practice.outsider)
    bank(client)
    assert gate.contract_of(practice.practice).iban == ""  # the outsider set their own only
    assert gate.contract_of(practice.other).iban == "DE89370400440532013000"


def test_the_monthly_pain008_file_is_valid_and_holds_each_debit_once(db, operator):
    from sprechzimmer.contracts.models import Contract

    debtors = []
    for n, iban in enumerate(["DE89370400440532013000", "DE02120300000000202051"]):
        practice = plus_practice(f"Praxis Lastschrift {n}")
        Contract.objects.filter(organisation=practice).update(
            account_holder=f"Praxis Lastschrift {n}",
            iban=iban,
            bic="COBADEFFXXX" if n == 0 else "BYLADEM1001",
            mandate_reference=f"SZ-{practice.pk:07d}-ABCD",
            mandate_signed_on=dt.date(2026, 10, 1),
        )
        debtors.append(practice)
    without_mandate = plus_practice("Praxis Überweisung")
    for practice in [*debtors, without_mandate]:
        invoicing.invoice_month(practice, 2026, 11, dt.date(2026, 12, 1))
    record = sepa.export(dt.date(2026, 12, 15))
    assert record.count == 2 and record.total == Decimal("91.94")  # 2 × 45,97 €
    content = sepa.file_bytes(record)
    schema = etree.XMLSchema(etree.parse(str(Path(sepaxml.__file__).parent / "schemas" / "pain.008.001.02.xsd")))
    document = etree.fromstring(content)
    assert schema.validate(document), schema.error_log
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
    assert document.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=ns) == "91.94"
    assert document.findtext(".//p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", namespaces=ns) == "DE98ZZZ09999999999"
    assert document.findtext(".//p:SeqTp", namespaces=ns) == "FRST"
    assert sorted(document.xpath(".//p:MndtId/text()", namespaces=ns)) == sorted(
        Invoice.objects.exclude(mandate_reference="").values_list("mandate_reference", flat=True)
    )
    # each debit goes into one file only; the invoice without a mandate into none
    with pytest.raises(sepa.NothingToCollect):
        sepa.export(dt.date(2026, 12, 15))
    assert Invoice.objects.get(recipient_name="Praxis Überweisung").sepa_export is None
    # the next month's debits on the same mandates are recurring
    for practice in debtors:
        UsageDay.objects.create(organisation=practice, day=dt.date(2026, 12, 1), plan="plus", users=1)
        invoicing.invoice_month(practice, 2026, 12, dt.date(2027, 1, 1))
    tasks.sepa_monthly()  # the monthly job: each debit on its invoice's due date
    later = etree.fromstring(sepa.file_bytes(SepaExport.objects.order_by("-pk").first()))
    assert schema.validate(later) and later.xpath(".//p:SeqTp/text()", namespaces=ns) == ["RCUR"]
    assert later.findtext(".//p:ReqdColltnDt", namespaces=ns) == "2027-01-15"  # 1 Jan + INVOICE_DUE_DAYS
    assert len(later.xpath(".//p:DrctDbtTxInf", namespaces=ns)) == 2
