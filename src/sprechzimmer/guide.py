"""Online help for practices (/hilfe/) and the patient guide (/hilfe/patienten/ and a printable PDF
the practice hands out or links from its invitation). Public pages: they explain the product and
show pictures of its real pages, made by scripts/help_screenshots.py from the running product.

The patient guide's steps are written once (PATIENT_STEPS) and drawn both as HTML and as PDF."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Image, KeepTogether, Spacer, Table, TableStyle

from sprechzimmer.pdf import document, para

PICTURES = Path(__file__).resolve().parent / "static" / "sprechzimmer" / "help"


@dataclass(frozen=True)
class Step:
    title: str
    text: str
    picture: str  # file name in static/sprechzimmer/help/


PATIENT_STEPS: tuple[Step, ...] = (
    Step(
        "Link öffnen und anmelden",
        "Öffnen Sie kurz vor Ihrem Termin den Link aus der Einladung Ihrer Praxis – auf dem Smartphone, "
        "dem Tablet oder dem Computer mit Kamera. Geben Sie Ihren Namen ein; der Zugangscode steht schon im "
        "Feld. Haben Sie nur den Code, geben Sie ihn von Hand ein. Ein Konto brauchen Sie nicht.",
        "patient-1-zugang.png",
    ),
    Step(
        "Kamera und Mikrofon prüfen",
        "Erlauben Sie den Zugriff auf Kamera und Mikrofon, wenn Ihr Browser fragt. Sie sehen sich selbst; "
        "sprechen Sie etwas, dann bewegt sich der Balken. Mit „Lautsprecher testen“ hören Sie einen Ton. "
        "Passt alles, wählen Sie „Bild und Ton sind in Ordnung“.",
        "patient-2-geraetetest.png",
    ),
    Step(
        "Einwilligen",
        "Lesen Sie die Einwilligung zur Videosprechstunde und bestätigen Sie sie. Niemand zeichnet das "
        "Gespräch auf, auch Sie bitte nicht.",
        "patient-3-einwilligung.png",
    ),
    Step(
        "Im Wartezimmer warten",
        "Sie sind jetzt im Wartezimmer. Ihre Ärztin oder Ihr Arzt holt Sie herein; lassen Sie die Seite "
        "geöffnet. Haben Sie die Seite aus Versehen neu geladen, kommen Sie ohne neue Eingabe zurück.",
        "patient-4-wartezimmer.png",
    ),
)

PRACTICE_STEPS: tuple[Step, ...] = (
    Step(
        "Termin anlegen",
        "Unter „Termine“ legen Sie mit „Neuer Termin“ einen Videotermin an. Name und Kontaktdaten des "
        "Patienten werden in Ihrem Browser verschlüsselt, bevor sie den Server erreichen.",
        "praxis-termin-anlegen.png",
    ),
    Step(
        "Einladung versenden",
        "Nach dem Speichern erscheint die Einladung mit Link und Zugangscode. Senden Sie sie aus Ihrem "
        "E-Mail-Programm, kopieren Sie den Text oder drucken Sie ihn aus. Legen Sie die Patientenanleitung "
        "bei (Link unten).",
        "praxis-einladung.png",
    ),
    Step(
        "Patienten hereinholen",
        "Öffnen Sie den Videoraum des Termins. Betritt der Patient das Wartezimmer, klopft es, der Tab "
        "zeigt „(1)“, und mit „Patient hereinholen“ beginnt das Gespräch – die Verbindung ist dann schon "
        "aufgebaut. „Auflegen“ beendet es und erfasst den Videokontakt für die Abrechnung.",
        "praxis-raum-wartet.png",
    ),
)


def _context() -> dict:
    return {"patient_steps": PATIENT_STEPS, "practice_steps": PRACTICE_STEPS}


def practice_help(request):
    return render(request, "help/practice.html", _context())


def patient_help(request):
    return render(request, "help/patient.html", _context())


def _manual(title: str, intro: str, steps: tuple[Step, ...], closing: str, *, phone: bool) -> bytes:
    """A manual as PDF: each step's text beside its picture (phone pictures upright, desktop ones
    under the text), in large print for older readers."""
    styles = getSampleStyleSheet()
    large = ParagraphStyle("large", parent=styles["BodyText"], fontSize=12, leading=16)
    buffer = io.BytesIO()
    story = [para(styles["Title"], title), para(large, intro), Spacer(1, 4 * mm)]
    for number, step in enumerate(steps, 1):
        text = [para(styles["Heading2"], f"{number}. {step.title}"), para(large, step.text)]
        if phone:
            picture = Image(str(PICTURES / step.picture), width=40 * mm, height=40 * mm * 844 / 390)
            row = Table([[text, picture]], colWidths=[120 * mm, 50 * mm])
            row.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
            story.append(KeepTogether([row, Spacer(1, 6 * mm)]))
        else:
            picture = Image(str(PICTURES / step.picture), width=160 * mm, height=160 * mm * 768 / 1366)
            story.append(KeepTogether([*text, Spacer(1, 2 * mm), picture, Spacer(1, 6 * mm)]))
    story.append(para(large, closing))
    document(buffer, title=title, author=settings.SITE_NAME).build(story)
    return buffer.getvalue()


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# The manuals change only with a release: rendered once per process (74 and 163 ms of CPU on the
# development machine, with their pictures), not on every download. The patient's one is public, so
# rendering it per request would let anyone keep a core busy with a dozen requests per second.
@functools.cache
def patient_guide() -> bytes:
    return _manual(
        "Ihre Videosprechstunde – so geht es",
        "Sie brauchen ein Smartphone, Tablet oder einen Computer mit Kamera, Mikrofon und Lautsprecher, einen "
        "aktuellen Browser und eine Internetverbindung. Nehmen Sie aus einem ruhigen, geschlossenen Raum teil.",
        PATIENT_STEPS,
        "Es klappt nicht? Rufen Sie bitte Ihre Praxis an. Die Verbindung ist Ende-zu-Ende-verschlüsselt.",
        phone=True,
    )


@functools.cache
def practice_manual() -> bytes:
    return _manual(
        f"{settings.SITE_NAME}: Handbuch für Praxen",
        "So führen Sie eine Videosprechstunde durch, vom Termin bis zum erfassten Videokontakt. Die Bilder "
        "zeigen die Seiten, wie sie heute aussehen.",
        PRACTICE_STEPS,
        "Was Ihre KV für die Videosprechstunde verlangt, steht mit ausgefüllten Dokumenten unter "
        "„KV-Genehmigung“. Ob alle Dienste erreichbar sind, zeigt die Statusseite.",
        phone=False,
    )


def patient_guide_pdf(request):
    return _pdf(patient_guide(), "Anleitung-Videosprechstunde.pdf")


def practice_manual_pdf(request):
    return _pdf(practice_manual(), "Handbuch-Praxis.pdf")
