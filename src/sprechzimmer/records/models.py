from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from sprechzimmer.accounts.models import Organisation


class EncryptedRecord(models.Model):
    """A practice's small record encrypted in the browser with the practice key (AES-256-GCM).

    The server stores only ciphertext; ``kind`` names what it is (e.g. ``practice-note``) and is
    bound into the ciphertext as additional data, so a record cannot be passed off as another.
    ``version`` lets a browser detect that someone else saved in between.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="records")
    kind = models.SlugField(max_length=50)
    ciphertext = models.TextField()
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "kind"], name="record_unique_kind")]

    def __str__(self) -> str:
        return f"{self.kind} ({self.organisation}, Version {self.version})"
