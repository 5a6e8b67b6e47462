"""Monthly invoices: § 14 UStG contents, proration and exact Decimal amounts, gap-free numbers,
and the e-invoice: a PDF/A-3 whose embedded Factur-X XML passes the EN 16931 schema."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from facturx import get_facturx_xml_from_pdf, xml_check_xsd
from lxml import etree
from pypdf import PdfReader

from sprechzimmer.contracts import invoice_pdf, invoicing, metering, tasks
from sprechzimmer.contracts.domain import Plan
from sprechzimmer.contracts.models import Contract, Invoice, InvoiceSequence, UsageDay
from tests import factories

NOV = dt.date(2026, 11, 1)


@pytest.fixture(autouse=True)
def _operator(operator):
    return operator


def plus_practice(name="Praxis Plus", users=2, from_day=1, sms_on_21st=0):
    practice = factories.practice(name)
    Contract.objects.create(organisation=practice, plan=Plan.PLUS, vat_id="")
    for day in range(1, 31):
        UsageDay.objects.create(
            organisation=practice,
            day=dt.date(2026, 11, day),
            plan=Plan.PLUS if day >= from_day else Plan.BASIS,
            users=users + (1 if day == 21 else 0),
            sms=sms_on_21st if day == 21 else 0,
        )
    return practice


def test_a_prorated_month_with_sms_is_invoiced_to_the_cent(db):
    practice = plus_practice(from_day=16, sms_on_21st=7)
    invoice = invoicing.invoice_month(practice, 2026, 11, dt.date(2026, 12, 1))
    assert invoice.number == "2026-000001"
    users, sms = invoice.lines.all()
    assert (users.quantity, users.unit_price, users.net) == (Decimal("1.0333"), Decimal("19.00"), Decimal("19.63"))
    assert (sms.quantity, sms.unit_price, sms.net) == (Decimal("7.0000"), Decimal("0.10"), Decimal("0.70"))
    assert (invoice.net_total, invoice.vat_rate, invoice.vat_total, invoice.gross_total) == (
        Decimal("20.33"),
        Decimal("19.00"),
        Decimal("3.86"),
        Decimal("24.19"),
    )
    assert invoice.retain_until == dt.date(2034, 12, 31)


def test_the_pdf_holds_every_item_of_section_14_and_a_valid_en16931_xml(db):
    practice = plus_practice()
    invoice = invoicing.invoice_month(practice, 2026, 11, dt.date(2026, 12, 1))
    content = invoicing.invoice_pdf_bytes(invoice)
    reader = PdfReader(io.BytesIO(content))
    # (the PDF's text layer gives the no-break space of 19,00 € as a plain space)
    text = "\n".join(page.extract_text() for page in reader.pages).replace("\u00a0", " ")
    for item in (
        "Sprechzimmer Betrieb GmbH",  # supplier, name and address
        "Königstraße 1",
        "USt-IdNr. DE123456789",  # supplier's VAT ID
        "Praxis Plus",  # recipient, name and address
        "Weg 1",
        "70173 Stuttgart",
        "Rechnung 2026-000001",  # unique number
        "Rechnungsdatum: 01.12.2026",  # date of issue
        "Leistungszeitraum: 01.11.2026 – 30.11.2026",  # period of the service
        "2,0333 Benutzermonate\n19,00 €\n38,63 €",  # quantity and kind (61 user-days: a third user on the 21st)
        "SMS-Versand",
        "0 SMS",  # the SMS line is there even before SMS exist
        "Summe netto",
        "Summe netto\n38,63 €",  # net by tax rate
        "Umsatzsteuer 19 % auf 38,63 €\n7,34 €",  # rate and tax amount
        "Rechnungsbetrag\n45,97 €",
    ):
        assert item in text, item
    root = reader.trailer["/Root"]
    assert "/OutputIntents" in root and "/Metadata" in root
    metadata = root["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in metadata and "<pdfaid:conformance>B</pdfaid:conformance>" in metadata
    fonts = [f.get_object() for page in reader.pages for f in page["/Resources"]["/Font"].values()]
    assert fonts and all(
        "/FontFile2" in f["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        if "/DescendantFonts" in f
        else "/FontDescriptor" in f
        for f in fonts
    )
    # the XML as the associated file PDF/A-3 asks for, and XMP metadata that agrees with /Info
    (filespec,) = root["/AF"]
    assert filespec.get_object()["/AFRelationship"] == "/Data" and filespec.get_object()["/F"] == "factur-x.xml"
    info = reader.metadata
    for xmp_value in (
        f"<pdf:Producer>{info['/Producer']}</pdf:Producer>",
        f"<pdf:Keywords>{info['/Keywords']}</pdf:Keywords>",
        f"<xmp:CreatorTool>{info['/Creator']}</xmp:CreatorTool>",
        f'<rdf:li xml:lang="x-default">{info["/Title"]}</rdf:li>',
        "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>",
        "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>",
    ):
        assert xmp_value in metadata, xmp_value
    created = info["/CreationDate"]  # D:YYYYMMDDhhmmss+00'00'
    xmp_date = f"{created[2:6]}-{created[6:8]}-{created[8:10]}T{created[10:12]}:{created[12:14]}:{created[14:16]}+00:00"
    assert f"<xmp:CreateDate>{xmp_date}</xmp:CreateDate>" in metadata
    filename, xml = get_facturx_xml_from_pdf(content, check_xsd=False)
    assert filename == "factur-x.xml"
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931") is True  # the official schema
    tree = etree.fromstring(xml)
    ns = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}
    assert tree.findtext(".//ram:GrandTotalAmount", namespaces=ns) == "45.97"
    assert tree.findtext(".//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID", namespaces=ns) == "DE123456789"


def test_numbers_are_gap_free_and_a_month_is_invoiced_once(db):
    first, second = plus_practice("Praxis A"), plus_practice("Praxis B")
    assert invoicing.invoice_month(first, 2026, 11, dt.date(2026, 12, 1)) is not None
    assert invoicing.invoice_month(first, 2026, 11, dt.date(2026, 12, 1)) is None  # once
    # a failing invoice (no operator) takes no number
    with pytest.raises(invoicing.OperatorNotConfigured), pytest.MonkeyPatch.context() as mp:
        mp.setattr(invoicing.settings, "OPERATOR_NAME", "")
        invoicing.invoice_month(second, 2026, 11, dt.date(2026, 12, 1))
    assert invoicing.invoice_month(second, 2026, 11, dt.date(2026, 12, 1)).number == "2026-000002"
    assert InvoiceSequence.objects.get(year=2026).last_number == 2
    assert sorted(Invoice.objects.values_list("number", flat=True)) == ["2026-000001", "2026-000002"]


def test_basis_practices_without_sms_get_no_invoice(db):
    practice = factories.practice("Praxis Basis")
    factories.member(practice, main=True)
    metering.meter_day(dt.date(2026, 11, 3))
    assert UsageDay.objects.get(organisation=practice).plan == Plan.BASIS
    assert invoicing.invoice_month(practice, 2026, 11) is None


def test_the_monthly_task_invoices_every_plus_practice(db):
    for n in range(3):
        plus_practice(f"Praxis {n}")
    factories.practice("Praxis ohne plus")
    issued = tasks.invoice_month_for(2026, 11, dt.date(2026, 12, 1))
    assert issued == 3 and Invoice.objects.count() == 3


def test_the_main_user_downloads_the_practices_invoices_and_nobody_else_does(client, db):
    practice = plus_practice("Praxis Rechnung")
    owner = factories.member(practice, main=True)
    colleague = factories.member(practice, role="staff")
    outsider = factories.member(factories.practice("Praxis Fremd"), main=True)
    invoice = invoicing.invoice_month(practice, 2026, 11, dt.date(2026, 12, 1))
    url = reverse("contract_invoice", args=[invoice.pk])
    client.force_login(owner)
    assert "2026-000001" in client.get(reverse("contract")).content.decode()
    response = client.get(url)
    assert response.status_code == 200 and response.content == invoicing.invoice_pdf_bytes(invoice)
    client.force_login(colleague)
    assert client.get(url).status_code == 404
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert "2026-000001" not in client.get(reverse("contract")).content.decode()


def test_the_xml_is_checked_against_the_official_schema_on_every_invoice(db):
    practice = plus_practice()
    invoice = invoicing.invoice_month(practice, 2026, 11, dt.date(2026, 12, 1))
    _, xml = get_facturx_xml_from_pdf(invoicing.invoice_pdf_bytes(invoice), check_xsd=False)
    invoice_pdf.check_xml(xml)  # what the invoice was issued with passes
    broken = xml.replace(b"<ram:GrandTotalAmount>45.97</ram:GrandTotalAmount>", b"")
    assert broken != xml
    with pytest.raises(invoice_pdf.InvalidEInvoice, match="GrandTotalAmount|DuePayableAmount"):
        invoice_pdf.check_xml(broken)


def test_a_batch_numbers_in_order_and_its_retry_draws_a_missing_pdf_under_the_same_number(db):
    practices = [plus_practice(f"Praxis {n}") for n in range(3)]
    ids = [p.pk for p in practices]
    assert invoicing.invoice_batch(ids, 2026, 11, dt.date(2026, 12, 1)) == 3
    invoices = list(Invoice.objects.order_by("number"))
    assert [i.number for i in invoices] == ["2026-000001", "2026-000002", "2026-000003"]
    assert [i.recipient_name for i in invoices] == ["Praxis 0", "Praxis 1", "Praxis 2"]
    # drawing failed after the numbers were committed (worker killed): the task's retry draws it
    lost = invoicing.invoices_dir() / invoices[1].pdf_name
    original = lost.read_bytes()
    lost.unlink()
    assert invoicing.invoice_batch(ids, 2026, 11, dt.date(2026, 12, 1)) == 0
    assert Invoice.objects.count() == 3 and InvoiceSequence.objects.get(year=2026).last_number == 3
    # the PDF is a function of the stored rows: drawn again, it is the same, byte for byte
    assert lost.read_bytes() == original
