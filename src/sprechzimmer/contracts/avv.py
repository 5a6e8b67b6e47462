"""The Auftragsverarbeitungsvertrag (Art. 28 DSGVO) between the practice (controller) and the
operator (processor), prefilled, with its annex of technical and organisational measures (Art. 32
DSGVO) that describe what this product really does; and the operator's written confirmation
(plus). Drawn with reportlab through sprechzimmer/pdf.py (user text escaped)."""

from __future__ import annotations

import io

from django.conf import settings
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer

from sprechzimmer.core import formats
from sprechzimmer.pdf import bold, document, para

#: Changes to the text below get a new version; a confirmation names the version it confirmed.
VERSION = "2026-11"


def measures() -> list[tuple[str, str]]:
    """The annex: the measures as the code implements them (docs/e2ee.md, docs/signalling.md,
    docs/operations.md). Numbers come from the running configuration."""
    location = settings.OPERATOR_DATA_LOCATION or "auf den Servern des Auftragnehmers"
    turn = (
        "Ist keine direkte Verbindung möglich, leitet ein TURN-Server des Auftragnehmers die bereits "
        "verschlüsselten Mediendaten nur weiter; er kann sie nicht entschlüsseln."
        if settings.TURN_URLS
        else "Ein TURN-Server zur Weiterleitung ist in dieser Instanz nicht eingerichtet."
    )
    return [
        (
            "Verschlüsselung im Browser (Ende-zu-Ende)",
            "Patientendaten (Name, Kontaktdaten, Notizen zu Terminen) werden im Browser der Praxis mit "
            "AES-256-GCM verschlüsselt, bevor sie den Browser verlassen. Der Praxisschlüssel entsteht im "
            "Browser und liegt auf dem Server nur verschlüsselt für jedes Mitglied (ECDH P-256) und für den "
            "Wiederherstellungsschlüssel der Praxis vor. Der Auftragnehmer kann Patientendaten weder lesen "
            "noch entschlüsseln.",
        ),
        (
            "Passwörter",
            "Passwörter verlassen den Browser nie. Der Browser leitet daraus mit PBKDF2-SHA256 (600.000 "
            "Iterationen) und HKDF ein Anmeldegeheimnis ab; der Server speichert nur dessen Hash.",
        ),
        (
            "Anmeldung und Zugriffskontrolle",
            "Jede Anmeldung verlangt einen zweiten Faktor (TOTP oder Sicherheitsschlüssel). Endgeräte werden "
            "an die Sitzung gebunden, können vom Hauptnutzer gesperrt oder freigegeben werden; fehlgeschlagene "
            "Anmeldungen werden je Konto und Adresse begrenzt. Jede Anfrage prüft, dass das Objekt zur Praxis "
            "des Benutzers gehört. Geheimnisse der zweiten Faktoren sind mit einem Schlüssel außerhalb der "
            "Datenbank verschlüsselt.",
        ),
        (
            "Videosprechstunde: Peer-to-Peer",
            "Bild und Ton laufen direkt zwischen den Browsern von Ärztin/Arzt und Patient(in), verschlüsselt "
            f"mit DTLS-SRTP; der Server vermittelt nur den Verbindungsaufbau. {turn} Nichts wird aufgezeichnet.",
        ),
        (
            "Speicherort",
            f"Alle Daten liegen {location} in der Datenbank dieser Instanz; Patientendaten nur verschlüsselt. "
            "Es werden keine Inhalte von Dritten geladen (keine CDN, keine Schriftarten oder Skripte anderer "
            "Anbieter).",
        ),
        (
            "Metadaten und Löschung",
            f"Verbindungsdaten der Gespräche (Zeitpunkte, Dauer) werden nach {settings.METADATA_RETENTION_DAYS} "
            "Tagen gelöscht (höchstens drei Monate, Anlage 31b BMV-Ä). Nach Vertragsende werden die Praxis, "
            "ihre Benutzer und alle von ihr erfassten Daten unwiderruflich gelöscht; nur die Rechnungen des "
            "Auftragnehmers werden für die gesetzliche Frist aufbewahrt.",
        ),
        (
            "Übertragung und Betrieb",
            "Alle Verbindungen sind mit TLS verschlüsselt (HSTS); eine strenge Content-Security-Policy lässt "
            "nur Skripte der Instanz selbst zu. Protokolle enthalten keine Anfrageinhalte und keine "
            "E-Mail-Adressen. E-Mails werden über eine Warteschlange versandt, Fehler ohne Adresse protokolliert.",
        ),
    ]


def _doc(buffer, title: str) -> SimpleDocTemplate:
    return document(buffer, title=title, author=settings.OPERATOR_NAME or settings.SITE_NAME)


def _parties(practice, styles) -> list:
    body = styles["BodyText"]
    return [
        para(
            body,
            bold("Verantwortlicher (Auftraggeber): "),
            practice.name,
            ", ",
            practice.street,
            ", ",
            practice.postcode,
            " ",
            practice.city,
            " (BSNR ",
            practice.bsnr,
            ")",
        ),
        para(
            body,
            bold("Auftragsverarbeiter (Auftragnehmer): "),
            settings.OPERATOR_NAME or "—",
            ", ",
            settings.OPERATOR_STREET,
            ", ",
            settings.OPERATOR_POSTCODE,
            " ",
            settings.OPERATOR_CITY,
        ),
    ]


def render_contract(practice) -> tuple[str, str, bytes]:
    styles = getSampleStyleSheet()
    body, heading = styles["BodyText"], styles["Heading2"]
    buffer = io.BytesIO()
    story = [
        para(styles["Title"], "Vertrag über die Auftragsverarbeitung (Art. 28 DSGVO)"),
        para(body, f"Fassung {VERSION}"),
        *_parties(practice, styles),
        Spacer(1, 4 * mm),
        para(heading, "1. Gegenstand und Dauer"),
        para(
            body,
            f"Der Auftragnehmer betreibt für den Auftraggeber die Plattform {settings.SITE_NAME} "
            "(Terminverwaltung und Videosprechstunde). Der Vertrag gilt für die Dauer des Nutzungsvertrags.",
        ),
        para(heading, "2. Art der Daten und Betroffene"),
        para(
            body,
            "Patientinnen und Patienten: Name, Kontaktdaten und Terminangaben, ausschließlich im Browser "
            "verschlüsselt; Zeitpunkte und Dauer von Videosprechstunden. Beschäftigte des Auftraggebers: Name, "
            "E-Mail-Adresse, Rolle, LANR, Endgeräte, Anmeldezeitpunkte.",
        ),
        para(heading, "3. Pflichten des Auftragnehmers"),
        para(
            body,
            "Der Auftragnehmer verarbeitet Daten nur auf dokumentierte Weisung des Auftraggebers, "
            "verpflichtet seine Beschäftigten zur Vertraulichkeit (auch nach § 203 StGB), trifft die Maßnahmen "
            "der Anlage, unterstützt den Auftraggeber bei Betroffenenrechten und Meldungen nach Art. 33, 34 "
            "DSGVO, setzt Unterauftragnehmer nur nach Information des Auftraggebers ein und löscht nach "
            "Vertragsende alle Daten (siehe Anlage).",
        ),
        para(heading, "Anlage: Technische und organisatorische Maßnahmen (Art. 32 DSGVO)"),
    ]
    for title, text in measures():
        story += [para(body, bold(title)), para(body, text)]
    _doc(buffer, "Auftragsverarbeitungsvertrag").build(story)
    return f"AVV-{practice.bsnr}-{VERSION}.pdf", "application/pdf", buffer.getvalue()


def render_confirmation(practice, confirmation) -> tuple[str, str, bytes]:
    """The operator's written confirmation of the AVV the practice confirmed (plus)."""
    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    buffer = io.BytesIO()
    story = [
        para(styles["Title"], "Bestätigung des Auftragsverarbeitungsvertrags"),
        *_parties(practice, styles),
        Spacer(1, 4 * mm),
        para(
            body,
            "Der Auftragnehmer bestätigt hiermit den Vertrag über die Auftragsverarbeitung nach Art. 28 "
            f"DSGVO in der Fassung {confirmation.version} mit der Anlage der technischen und organisatorischen "
            "Maßnahmen.",
        ),
        para(
            body,
            "Für den Auftraggeber angenommen von ",
            confirmation.confirmed_by_name,
            " (",
            confirmation.confirmed_by_email,
            ") am ",
            formats.date(confirmation.confirmed_at),
            ".",
        ),
        Spacer(1, 8 * mm),
        para(
            body,
            settings.OPERATOR_NAME or settings.SITE_NAME,
            ", ",
            settings.OPERATOR_CITY,
            ", ",
            formats.date(confirmation.confirmed_at),
        ),
        para(
            body,
            "Diese Bestätigung wurde elektronisch erstellt und ist ohne Unterschrift gültig (Textform, Art. 28 Abs. 9 DSGVO).",
        ),
    ]
    _doc(buffer, "Bestätigung des AVV").build(story)
    return f"AVV-Bestaetigung-{practice.bsnr}.pdf", "application/pdf", buffer.getvalue()
