"""The last result of each component's check (written by the worker, read by the status page)."""

from __future__ import annotations

from django.db import models


class ComponentStatus(models.Model):
    name = models.CharField(max_length=30, unique=True)
    up = models.BooleanField(default=False)
    checked_at = models.DateTimeField()
    since = models.DateTimeField(help_text="since when the component is in this state")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}: {'up' if self.up else 'down'}"
