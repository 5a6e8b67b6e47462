"""The documents a practice hands its KV before its first video consultation, prefilled with the
practice's own data (name, address, BSNR, the doctors with LANR) and the operator as provider.
Our own wording, not the KVs' forms. Drawn with reportlab through sprechzimmer/pdf.py, the one
path that escapes user text. ``render(kind, practice, kv)`` → (filename, mimetype, bytes)."""

from __future__ import annotations

import io

from django.conf import settings
from django.utils import timezone
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from sprechzimmer.accounts.models import User
from sprechzimmer.approval import certificates
from sprechzimmer.approval import directory as d
from sprechzimmer.approval.compliance import REQUIREMENTS
from sprechzimmer.approval.models import OperatorCertificate
from sprechzimmer.core import formats
from sprechzimmer.pdf import bold, document, grid_table, para


def doctors(practice) -> list[tuple[str, str]]:
    """(name, LANR) of the practice's active doctors, by name."""
    members = practice.members.filter(is_active=True, role=User.Role.DOCTOR).order_by("full_name")
    return [(m.full_name or m.email, m.lanr or "—") for m in members]


def _provider() -> str:
    parts = [settings.OPERATOR_NAME or settings.SITE_NAME, settings.OPERATOR_STREET]
    place = " ".join(p for p in (settings.OPERATOR_POSTCODE, settings.OPERATOR_CITY) if p)
    return ", ".join(p for p in (*parts, place) if p)


def _head(practice, kv, styles) -> list:
    body = styles["BodyText"]
    return [
        para(body, bold("Praxis: "), practice.name),
        para(body, practice.street, ", ", practice.postcode, " ", practice.city),
        para(body, bold("BSNR: "), practice.bsnr),
        Spacer(1, 3 * mm),
        para(body, bold("An: "), kv.name if kv else "die zuständige Kassenärztliche Vereinigung"),
        para(body, bold("Datum: "), formats.date(timezone.localdate())),
        Spacer(1, 5 * mm),
    ]


def _doctor_table(practice):
    rows = [["Ärztin / Arzt", "LANR"], *doctors(practice)]
    if len(rows) == 1:
        rows.append(["(noch keine Ärztin und kein Arzt in der Praxis eingetragen)", ""])
    return grid_table(rows, [110 * mm, 50 * mm], font_size=9)


_ON_REQUEST = (
    "Die Nachweise nach Anlage 31b BMV-Ä (IT-Sicherheitszertifikat einer nach ISO/IEC 17065 "
    "akkreditierten Stelle und Datenschutzzertifikat nach Art. 42 DSGVO) stellt der Anbieter auf "
    "Anforderung bereit."
)


def _provider_block(styles) -> list:
    """The operator as provider, with its current certificates (certificates.current) where there are."""
    body = styles["BodyText"]
    block = [para(body, bold("Videodienstanbieter: "), _provider(), " – Produkt ", settings.SITE_NAME, ".")]
    named = certificates.current()
    if not named:
        return [*block, para(body, _ON_REQUEST)]
    block.append(para(body, "Nachweise nach Anlage 31b BMV-Ä:"))
    for certificate in named:
        block.append(
            para(
                body,
                "– ",
                bold(certificate.get_kind_display()),
                ": ausgestellt von ",
                certificate.issuer,
                ", Nr. ",
                certificate.number,
                ", gültig bis ",
                formats.date(certificate.valid_until),
                ".",
            )
        )
    missing = [label for kind, label in OperatorCertificate.Kind.choices if kind not in {c.kind for c in named}]
    if missing:
        block.append(para(body, "Das ", " und das ".join(missing), " stellt der Anbieter auf Anforderung bereit."))
    return block


def _signature(styles, who: str) -> list:
    body = styles["BodyText"]
    return [Spacer(1, 14 * mm), para(body, "_" * 60), para(body, "Ort, Datum, Unterschrift ", who)]


def _confirmation(practice, kv, styles) -> list:
    body = styles["BodyText"]
    return [
        para(
            body,
            "Die oben genannte Praxis führt Videosprechstunden mit ",
            settings.SITE_NAME,
            " durch. Hiermit bestätigt die Praxis, dass sie dafür ausschließlich einen Videodienst "
            "verwendet, der die Anforderungen der Anlage 31b zum Bundesmantelvertrag-Ärzte erfüllt, und "
            "dass die Videosprechstunde in geschlossenen Räumen mit einer Privatsphäre stattfindet, die "
            "der eines Sprechzimmers entspricht.",
        ),
        Spacer(1, 3 * mm),
        para(body, bold("Ärztinnen und Ärzte, die Videosprechstunden durchführen:")),
        _doctor_table(practice),
        Spacer(1, 3 * mm),
        *_provider_block(styles),
        *_signature(styles, "der Praxis"),
    ]


def _self_declaration(practice, kv, styles) -> list:
    body = styles["BodyText"]
    rows = [["", "Anforderung", "Umsetzung"]] + [
        [r.id, para(body, r.requirement), para(body, r.how)] for r in REQUIREMENTS
    ]
    return [
        para(
            body,
            "Selbstauskunft des Videodienstanbieters nach § 31b BMV-Ä und Anlage 31b für die oben genannte "
            "Praxis. Jede Angabe ist durch automatische Tests des Produkts belegt (Liste in der "
            "Dokumentation des Anbieters, docs/compliance.md).",
        ),
        Spacer(1, 3 * mm),
        grid_table(rows, [12 * mm, 70 * mm, 88 * mm], font_size=8),
        Spacer(1, 3 * mm),
        para(body, bold("Ärztinnen und Ärzte der Praxis:")),
        _doctor_table(practice),
        Spacer(1, 3 * mm),
        *_provider_block(styles),
    ]


def _provider_report(practice, kv, styles) -> list:
    body = styles["BodyText"]
    return [
        para(
            body,
            "Der Videodienstanbieter ",
            _provider(),
            " erklärt gegenüber ",
            kv.name if kv else "der Kassenärztlichen Vereinigung",
            ", dass die oben genannte Praxis für Videosprechstunden das Produkt ",
            settings.SITE_NAME,
            " nutzt und dass dieser Videodienst die Anforderungen der Anlage 31b BMV-Ä erfüllt (Selbstauskunft "
            "und Nachweise unten).",
        ),
        Spacer(1, 3 * mm),
        para(body, bold("Ärztinnen und Ärzte der Praxis:")),
        _doctor_table(practice),
        Spacer(1, 3 * mm),
        *_provider_block(styles),
        para(body, "Erstellt vom Anbieter für die Praxis; die Praxis reicht die Erklärung bei ihrer KV ein."),
        *_signature(styles, "der Praxis (Kenntnisnahme)"),
    ]


def _application(practice, kv, styles) -> list:
    body = styles["BodyText"]
    short = kv is not None and kv.procedure == d.Procedure.SHORT_APPLICATION
    return [
        para(
            body,
            "Die oben genannte Praxis beantragt ",
            "im vereinfachten Verfahren " if short else "",
            "die Genehmigung, Videosprechstunden nach § 87 Abs. 2a SGB V und Anlage 31b BMV-Ä durchzuführen und "
            "abzurechnen, für die folgenden Ärztinnen und Ärzte:",
        ),
        Spacer(1, 3 * mm),
        _doctor_table(practice),
        Spacer(1, 3 * mm),
        *_provider_block(styles),
        para(body, "Beigefügt: Bestätigung Videosprechstunde und Selbstauskunft nach § 31b BMV-Ä."),
        *_signature(styles, "der Praxis"),
    ]


def _notification(practice, kv, styles) -> list:
    body = styles["BodyText"]
    return [
        para(
            body,
            "Hiermit zeigt die oben genannte Praxis an, dass sie Videosprechstunden nach Anlage 31b BMV-Ä "
            "durchführt. Beteiligte Ärztinnen und Ärzte:",
        ),
        Spacer(1, 3 * mm),
        _doctor_table(practice),
        Spacer(1, 3 * mm),
        *_provider_block(styles),
        *_signature(styles, "der Praxis"),
    ]


def _kvno_sheet(practice, kv, styles) -> list:
    body = styles["BodyText"]
    return [
        para(
            body,
            "Beiblatt zum Antrag über das Webformular der KV Nordrhein: Die Praxis ",
            practice.name,
            " (BSNR ",
            practice.bsnr,
            ") nutzt für Videosprechstunden den zertifizierten Videodienst ",
            settings.SITE_NAME,
            " des Anbieters ",
            _provider(),
            ".",
        ),
        Spacer(1, 3 * mm),
        _doctor_table(practice),
        Spacer(1, 3 * mm),
        para(body, "Bitte ausdrucken, unterschreiben, einscannen und dem Webformular beifügen."),
        *_signature(styles, "der Praxis"),
    ]


_BODIES = {
    d.CONFIRMATION: _confirmation,
    d.SELF_DECLARATION: _self_declaration,
    d.PROVIDER_REPORT: _provider_report,
    d.APPLICATION: _application,
    d.NOTIFICATION: _notification,
    d.KVNO_SHEET: _kvno_sheet,
}


def render(kind: str, practice, kv) -> tuple[str, str, bytes]:
    """The document ``kind`` (directory.DOCUMENT_TITLES) for ``practice`` and its KV (or None)."""
    styles = getSampleStyleSheet()
    title = d.DOCUMENT_TITLES[kind]
    if kind == d.CONFIRMATION and kv is not None and kv.code == "51":
        title = "Konformitätsbescheinigung Videosprechstunde"
    buffer = io.BytesIO()
    story = [para(styles["Title"], title), *_head(practice, kv, styles), *_BODIES[kind](practice, kv, styles)]
    document(buffer, title=title, author=settings.OPERATOR_NAME or settings.SITE_NAME).build(story)
    return f"{kind}-{practice.bsnr}.pdf", "application/pdf", buffer.getvalue()
