"""Integrated invitations (docs/invitations.md): the messages of an appointment and, while any of
them waits, the patient's contact sealed under a key from the environment."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from sprechzimmer.accounts.models import Organisation
from sprechzimmer.video.models import Appointment


class Channel(models.TextChoices):
    EMAIL = "email", "E-Mail"
    SMS = "sms", "SMS"


class ContactHold(models.Model):
    """The address (and the access code for the link) of one appointment and channel, sealed with
    ``CONTACT_KEYS`` (``invitations.contacts``); deleted when no message of the channel waits."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="contact_holds")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    sealed = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["appointment", "channel"], name="contact_hold_once")]

    def __str__(self) -> str:
        return f"Kontakt ({self.channel}) zu Termin {self.appointment_id}"


class OutgoingMessage(models.Model):
    """One message to the patient (Einladung, Erinnerung, Verschiebung, Absage): when it is due and
    what became of it. Neither the address nor the text is stored."""

    class Kind(models.TextChoices):
        INVITATION = "invitation", "Einladung"
        REMINDER = "reminder", "Erinnerung"
        MOVED = "moved", "Terminänderung"
        CANCELLED = "cancelled", "Absage"
        LATE = "late", "Nachfrage"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "geplant"
        RETRYING = "retrying", "wird wiederholt"
        SENT = "sent", "gesendet"
        DELIVERED = "delivered", "zugestellt"
        FAILED = "failed", "fehlgeschlagen"
        DROPPED = "dropped", "entfallen"

    WAITING = (Status.SCHEDULED, Status.RETRYING)

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="outgoing_messages")
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="outgoing_messages")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    #: SMS: the segments sent (billed each) and the SMSC's message id (no number, no text).
    segments = models.PositiveSmallIntegerField(default=0)
    provider_id = models.CharField(max_length=65, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [models.Index(fields=["appointment", "channel", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.channel}) zu Termin {self.appointment_id}"
