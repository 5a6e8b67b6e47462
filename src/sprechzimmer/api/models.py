"""API clients of a practice (docs/api.md): a name, scopes and a token of which only a hash is
stored; revocable; listed with their last use like devices."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models

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

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

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
