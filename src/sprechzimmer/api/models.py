"""API clients of a practice (docs/api.md): a name, scopes and a token of which only a hash is
stored; revocable; listed with their last use like devices."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models

from sprechzimmer.accounts import keyblobs
from sprechzimmer.accounts.models import Organisation

#: What a client may do; the main user picks when creating it.
SCOPES: dict[str, str] = {
    "appointments:read": "Termine lesen",
    "appointments:write": "Termine anlegen, verschieben, absagen",
    "codes": "Zugangscodes ausstellen",
    "waiting_room": "Wartezimmer sehen",
    "video_contacts": "Videokontakte des Quartals (Abrechnung)",
    "billing_check": "Quartalsdatei prüfen (EBM-Prüfung)",
}
TOKEN_PREFIX = "sz_"


def token_hash(token: str) -> str:
    """SHA-256 of the token: tokens are 256 random bits, so a fast hash is enough (no guessing)."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiClient(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="api_clients")
    name = models.CharField("Name", max_length=100)
    scopes = models.CharField("Rechte", max_length=300)
    token_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12, help_text="the token's first characters, to recognise it")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # An encrypting client (sprechzimmer_client, docs/api.md) holds its own key pair: its public key
    # (SPKI, base64url) is registered through the API; a member grants it the practice key in the
    # browser, by fingerprint, exactly like a colleague's (ECIES envelope, docs/e2ee.md).
    public_key = models.TextField(blank=True)
    wrapped_practice_key = models.TextField(blank=True)
    practice_key_version = models.PositiveIntegerField(
        default=1, db_default=1
    )  # which version wrapped_practice_key holds
    key_granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def fingerprint(self) -> str:
        return keyblobs.fingerprint(self.public_key) if self.public_key else ""

    @property
    def scope_list(self) -> list[str]:
        return [s for s in self.scopes.split(",") if s in SCOPES]

    @classmethod
    def create(cls, organisation, name: str, scopes: list[str], created_by) -> tuple[ApiClient, str]:
        """The new client and its token, shown once."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        client = cls.objects.create(
            organisation=organisation,
            name=name,
            scopes=",".join(s for s in SCOPES if s in scopes),
            token_hash=token_hash(token),
            hint=token[:10],
            created_by=created_by,
        )
        return client, token


#: What a webhook can be told; the main user picks when registering it (docs/api.md, "Webhooks").
EVENTS: dict[str, str] = {
    "patient.waiting": "Patient wartet",
    "call.ended": "Gespräch beendet",
    "appointment.cancelled": "Termin abgesagt",
}


class Webhook(models.Model):
    """An address of the practice's software that is told of events (ids and times, never patient
    data). The signing secret is sealed at rest (``api.webhooks.keyring``) and shown once."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="webhooks")
    url = models.CharField("Adresse", max_length=500)
    events = models.CharField("Ereignisse", max_length=200)
    secret_sealed = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.url

    @property
    def event_list(self) -> list[str]:
        return [e for e in self.events.split(",") if e in EVENTS]


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one webhook: the body as sent, and what became of it."""

    class Status(models.TextChoices):
        PENDING = "pending", "wird gesendet"
        RETRYING = "retrying", "wird wiederholt"
        DELIVERED = "delivered", "zugestellt"
        FAILED = "failed", "fehlgeschlagen"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    #: The JSON body, the same for each attempt (only the signature's time changes): ids and times.
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    #: "HTTP 503", "keine Verbindung" …: what the last failed attempt met (German, shown as it is).
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook_id}"
