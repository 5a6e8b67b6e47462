"""The KV directory (operator-editable) and each practice's checklist of KV documents."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from sprechzimmer.accounts.models import Organisation
from sprechzimmer.approval.directory import DOCUMENT_TITLES, Procedure


def _known_documents(value: str) -> None:
    unknown = [kind for kind in value.split(",") if kind.strip() and kind.strip() not in DOCUMENT_TITLES]
    if unknown:
        raise ValidationError(
            f"Unbekannte Dokumente: {', '.join(unknown)}. Möglich sind: {', '.join(DOCUMENT_TITLES)}."
        )


def _district_codes(value: str) -> None:
    wrong = [d for d in value.split(",") if d.strip() and not (len(d.strip()) == 2 and d.strip().isdigit())]
    if wrong:
        raise ValidationError(f"KV-Bezirke sind zweistellige Zahlen, z. B. 27, 52. Nicht möglich: {', '.join(wrong)}.")


class KvProcedure(models.Model):
    """One of the 17 KVs and what it wants from a practice before its first video consultation."""

    code = models.CharField("Landesstelle", max_length=2, unique=True)
    districts = models.CharField(
        "KV-Bezirke",
        max_length=300,
        blank=True,
        validators=[_district_codes],
        help_text="Die ersten beiden Ziffern der BSNR, die zu dieser KV führen, kommagetrennt "
        "(Schlüsseltabelle KV-Bezirk der KBV).",
    )
    name = models.CharField("Name", max_length=200)
    short_name = models.CharField("Kurzname", max_length=40)
    procedure = models.CharField("Verfahren", max_length=30, choices=Procedure.CHOICES)
    documents = models.CharField(
        "Dokumente",
        max_length=200,
        validators=[_known_documents],
        help_text="Kommagetrennt, in der Reihenfolge der Schritte: " + ", ".join(DOCUMENT_TITLES),
    )
    steps = models.TextField("Was die Praxis tut")
    contact = models.TextField("Kontakt", blank=True)
    website = models.URLField("Informationsseite der KV", blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "KV-Verfahren"
        verbose_name_plural = "KV-Verfahren"

    def __str__(self) -> str:
        return self.name

    @property
    def district_codes(self) -> set[str]:
        return {d.strip() for d in self.districts.split(",") if d.strip()}

    @property
    def document_kinds(self) -> list[str]:
        return [kind.strip() for kind in self.documents.split(",") if kind.strip() in DOCUMENT_TITLES]


class ApprovalDocument(models.Model):
    """A practice's progress with one document: prepared (first downloaded), sent, approved."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="approval_documents")
    kind = models.CharField(max_length=30)
    prepared_at = models.DateTimeField(null=True, blank=True)
    sent_on = models.DateField(null=True, blank=True)
    approved_on = models.DateField(null=True, blank=True)
    # The operator's certificates the document named when it was last downloaded before it was
    # sent (certificates.py): whose KV holds a renewed certificate's predecessor.
    certificates = models.ManyToManyField("OperatorCertificate", blank=True, related_name="documents")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "kind"], name="one_approval_document_per_kind")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.status}"

    @property
    def status(self) -> str:
        if self.approved_on:
            return "genehmigt"
        if self.sent_on:
            return "gesendet"
        return "vorbereitet" if self.prepared_at else "offen"


class OperatorCertificate(models.Model):
    """One of the operator's certificates under Anlage 31b (A11), with its PDF. A renewal is a new
    row of the same kind; the old row stays, so the practices that sent a document naming it can
    be told (certificates.py)."""

    class Kind(models.TextChoices):
        IT_SECURITY = "it-sicherheit", "IT-Sicherheitszertifikat (nach ISO/IEC 17065 akkreditierte Stelle)"
        DATA_PROTECTION = "datenschutz", "Datenschutzzertifikat (Art. 42 DSGVO)"

    kind = models.CharField("Art", max_length=20, choices=Kind.choices)
    issuer = models.CharField("Aussteller", max_length=200)
    number = models.CharField("Zertifikatsnummer", max_length=100)
    valid_from = models.DateField("Gültig ab")
    valid_until = models.DateField("Gültig bis")
    stored_name = models.CharField(max_length=200, editable=False)
    size = models.PositiveIntegerField(default=0, editable=False)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    expiry_warned_on = models.DateField("Ablaufwarnung gesendet am", null=True, blank=True, editable=False)

    class Meta:
        ordering = ["kind", "-valid_from"]
        verbose_name = "Zertifikat des Betreibers"
        verbose_name_plural = "Zertifikate des Betreibers"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"

    def clean(self) -> None:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": "„Gültig bis“ liegt vor „Gültig ab“."})


class NewsBanner(models.Model):
    """A note of the operator shown on every practice page from ``shown_from`` to ``shown_until``
    (like the suspension of the caps on video consultations in Q2/2020). Plain text: markup is
    shown as typed."""

    text = models.TextField("Text", max_length=1000)
    shown_from = models.DateField("Anzeigen ab")
    shown_until = models.DateField("Anzeigen bis")

    class Meta:
        ordering = ["-shown_from"]
        verbose_name = "Hinweis für Praxen"
        verbose_name_plural = "Hinweise für Praxen"

    def __str__(self) -> str:
        return self.text[:60]

    def clean(self) -> None:
        if self.shown_from and self.shown_until and self.shown_until < self.shown_from:
            raise ValidationError({"shown_until": "„Anzeigen bis“ liegt vor „Anzeigen ab“."})
