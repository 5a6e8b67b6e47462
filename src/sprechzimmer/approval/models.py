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


class KvProcedure(models.Model):
    """One of the 17 KVs and what it wants from a practice before its first video consultation."""

    code = models.CharField("Landesstelle", max_length=2, unique=True)
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
    def document_kinds(self) -> list[str]:
        return [kind.strip() for kind in self.documents.split(",") if kind.strip() in DOCUMENT_TITLES]


class ApprovalDocument(models.Model):
    """A practice's progress with one document: prepared (first downloaded), sent, approved."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="approval_documents")
    kind = models.CharField(max_length=30)
    prepared_at = models.DateTimeField(null=True, blank=True)
    sent_on = models.DateField(null=True, blank=True)
    approved_on = models.DateField(null=True, blank=True)

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
