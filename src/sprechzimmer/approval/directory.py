"""The 17 KVs' procedures for video consultations, as shipped (seed 000, "Anträge für Ihre KV"):
what each KV wants from a practice and which of our documents serve it. The operator edits the
rows in the back office (approval/admin.py); this module only seeds them (migration 0001) and names
the document kinds.

Sources: the KVs' procedures as RED connect lists them (seed 000); the Landesstelle codes are the
KBV's (accounts/domain.py, KV_BY_CODE).
"""

from __future__ import annotations

from dataclasses import dataclass

# The documents we generate (approval/documents.py), in the order a practice works through them.
CONFIRMATION = "bestaetigung"
SELF_DECLARATION = "selbstauskunft"
PROVIDER_REPORT = "anbietermeldung"
APPLICATION = "antrag"
NOTIFICATION = "anzeige"
KVNO_SHEET = "kvno-beiblatt"

DOCUMENT_TITLES: dict[str, str] = {
    CONFIRMATION: "Bestätigung und Konformitätserklärung Videosprechstunde",
    SELF_DECLARATION: "Selbstauskunft nach § 31b BMV-Ä",
    PROVIDER_REPORT: "Erklärung des Videodienstanbieters gegenüber der KV",
    APPLICATION: "Antrag auf Genehmigung der Videosprechstunde",
    NOTIFICATION: "Anzeige der Videosprechstunde",
    KVNO_SHEET: "Beiblatt zum Webformular der KV Nordrhein",
}


class Procedure:
    """How a KV wants video consultations announced (the operator may reword the text)."""

    PROVIDER_REPORT = "provider_report"
    SHORT_APPLICATION = "short_application"
    APPLICATION = "application"
    PROVIDER_DECLARATION = "provider_declaration"
    WEB_FORM = "web_form"
    CONFIRMATION = "confirmation"
    NOTIFICATION = "notification"
    INFORMATION = "information"

    CHOICES = [
        (PROVIDER_REPORT, "Meldung des zertifizierten Videodienstanbieters"),
        (SHORT_APPLICATION, "Verkürzter Antrag"),
        (APPLICATION, "Antrag"),
        (PROVIDER_DECLARATION, "Erklärung des Videoanbieters"),
        (WEB_FORM, "Webformular mit Beiblatt"),
        (CONFIRMATION, "Bestätigung genügt"),
        (NOTIFICATION, "Anzeige"),
        (INFORMATION, "Nur Information, kein Antrag"),
    ]


@dataclass(frozen=True)
class KvEntry:
    code: str
    name: str
    short_name: str
    procedure: str
    documents: tuple[str, ...]
    steps: str


_BASIC = (CONFIRMATION, SELF_DECLARATION)

KVS: tuple[KvEntry, ...] = (
    KvEntry(
        "01",
        "Kassenärztliche Vereinigung Schleswig-Holstein",
        "KVSH",
        Procedure.CONFIRMATION,
        (CONFIRMATION,),
        "Nach Auskunft der KVSH genügt die Bestätigung Videosprechstunde. Ihre Praxisdaten stehen bereits im "
        "Kopf des Dokuments: unterschreiben und an die KVSH senden.",
    ),
    KvEntry(
        "02",
        "Kassenärztliche Vereinigung Hamburg",
        "KVH",
        Procedure.INFORMATION,
        _BASIC,
        "Die KVH verlangt keinen Antrag. Halten Sie Bestätigung und Selbstauskunft für Rückfragen bereit.",
    ),
    KvEntry(
        "03",
        "Kassenärztliche Vereinigung Bremen",
        "KVHB",
        Procedure.INFORMATION,
        _BASIC,
        "Die KVHB verlangt keinen Antrag. Halten Sie Bestätigung und Selbstauskunft für Rückfragen bereit.",
    ),
    KvEntry(
        "17",
        "Kassenärztliche Vereinigung Niedersachsen",
        "KVN",
        Procedure.INFORMATION,
        _BASIC,
        "Die KVN verlangt keinen Antrag. Halten Sie Bestätigung und Selbstauskunft für Rückfragen bereit.",
    ),
    KvEntry(
        "20",
        "Kassenärztliche Vereinigung Westfalen-Lippe",
        "KVWL",
        Procedure.NOTIFICATION,
        (NOTIFICATION, *_BASIC),
        "Die KVWL möchte die Videosprechstunde angezeigt bekommen: Anzeige unterschreiben und mit Bestätigung "
        "und Selbstauskunft an die KVWL senden.",
    ),
    KvEntry(
        "38",
        "Kassenärztliche Vereinigung Nordrhein",
        "KVNO",
        Procedure.WEB_FORM,
        (KVNO_SHEET, SELF_DECLARATION),
        "Die KVNO genehmigt die Videosprechstunde über ein Webformular. Drucken Sie das Beiblatt aus (Ihr "
        "Praxisname steht schon darauf), unterschreiben Sie es, scannen Sie es ein und fügen Sie es dem "
        "Webformular als Bild oder PDF-Datei bei.",
    ),
    KvEntry(
        "46",
        "Kassenärztliche Vereinigung Hessen",
        "KV Hessen",
        Procedure.PROVIDER_REPORT,
        (PROVIDER_REPORT, *_BASIC),
        "Die KV Hessen möchte die Meldung des Videodienstanbieters: senden Sie die Erklärung des Anbieters "
        "mit Bestätigung und Selbstauskunft an die KV Hessen.",
    ),
    KvEntry(
        "51",
        "Kassenärztliche Vereinigung Rheinland-Pfalz",
        "KV RLP",
        Procedure.APPLICATION,
        (APPLICATION, *_BASIC),
        "Die KV RLP verlangt einen Antrag und eine Konformitätsbescheinigung: senden Sie den Antrag mit der "
        "Bestätigung und Konformitätserklärung und der Selbstauskunft.",
    ),
    KvEntry(
        "52",
        "Kassenärztliche Vereinigung Baden-Württemberg",
        "KVBW",
        Procedure.PROVIDER_REPORT,
        (PROVIDER_REPORT, SELF_DECLARATION),
        "Die KVBW möchte die Meldung eines zertifizierten Videodienstanbieters: senden Sie die Erklärung "
        "des Anbieters mit der Selbstauskunft an die KVBW.",
    ),
    KvEntry(
        "71",
        "Kassenärztliche Vereinigung Bayerns",
        "KVB",
        Procedure.SHORT_APPLICATION,
        (APPLICATION, SELF_DECLARATION),
        "Die KVB hat den Antrag auf ein vereinfachtes Verfahren umgestellt: ein verkürzter Antrag mit der "
        "Selbstauskunft genügt.",
    ),
    KvEntry(
        "72",
        "Kassenärztliche Vereinigung Berlin",
        "KV Berlin",
        Procedure.APPLICATION,
        (APPLICATION, *_BASIC),
        "Die KV Berlin verlangt einen Antrag: senden Sie ihn mit Bestätigung und Selbstauskunft.",
    ),
    KvEntry(
        "73",
        "Kassenärztliche Vereinigung Saarland",
        "KV Saarland",
        Procedure.APPLICATION,
        (APPLICATION, *_BASIC),
        "Die KV Saarland verlangt einen Antrag: senden Sie ihn mit Bestätigung und Selbstauskunft.",
    ),
    KvEntry(
        "78",
        "Kassenärztliche Vereinigung Mecklenburg-Vorpommern",
        "KVMV",
        Procedure.INFORMATION,
        _BASIC,
        "Die KVMV verlangt keinen Antrag. Halten Sie Bestätigung und Selbstauskunft für Rückfragen bereit.",
    ),
    KvEntry(
        "83",
        "Kassenärztliche Vereinigung Brandenburg",
        "KVBB",
        Procedure.PROVIDER_DECLARATION,
        (PROVIDER_REPORT,),
        "Die Praxis weist die technischen Anforderungen durch eine Erklärung des Videoanbieters gegenüber der "
        "KVBB nach: senden Sie diese Erklärung an die KVBB.",
    ),
    KvEntry(
        "88",
        "Kassenärztliche Vereinigung Sachsen-Anhalt",
        "KVSA",
        Procedure.APPLICATION,
        (APPLICATION, *_BASIC),
        "Die KVSA verlangt einen Antrag: senden Sie ihn mit Bestätigung und Selbstauskunft.",
    ),
    KvEntry(
        "93",
        "Kassenärztliche Vereinigung Thüringen",
        "KV Thüringen",
        Procedure.APPLICATION,
        (APPLICATION, *_BASIC),
        "Die KV Thüringen verlangt einen Antrag: senden Sie ihn mit Bestätigung und Selbstauskunft.",
    ),
    KvEntry(
        "98",
        "Kassenärztliche Vereinigung Sachsen",
        "KVS",
        Procedure.APPLICATION,
        (APPLICATION, *_BASIC),
        "Die KVS verlangt einen Antrag: senden Sie ihn mit Bestätigung und Selbstauskunft.",
    ),
)
