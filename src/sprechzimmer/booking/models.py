"""Patients book video appointments themselves (Anlage 31c BMV-Ä: low-threshold booking; docs/booking.md).

A practice publishes bookable hours per doctor; the public booking page offers their free slots.
What the patient types is encrypted in the patient's browser to the practice's public key."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models

from sprechzimmer.accounts.models import Organisation


def new_slug() -> str:
    return secrets.token_urlsafe(9)


class BookingPage(models.Model):
    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="booking_page")
    enabled = models.BooleanField("Online-Buchung eingeschaltet", default=False)
    slug = models.CharField(max_length=20, unique=True, default=new_slug)
    auto_confirm = models.BooleanField("Buchungen ohne Bestätigung übernehmen", default=True)
    days_ahead = models.PositiveSmallIntegerField("Wie weit im Voraus (Tage)", default=14)
    lead_minutes = models.PositiveSmallIntegerField("Frühestens (Minuten ab jetzt)", default=60)

    def __str__(self) -> str:
        return f"Online-Buchung {self.organisation}"


class BookableHours(models.Model):
    """Recurring hours in which a doctor offers video slots (Europe/Berlin wall time)."""

    WEEKDAYS = [
        (0, "Montag"),
        (1, "Dienstag"),
        (2, "Mittwoch"),
        (3, "Donnerstag"),
        (4, "Freitag"),
        (5, "Samstag"),
        (6, "Sonntag"),
    ]

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="bookable_hours")
    doctor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookable_hours")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)
    start = models.TimeField("von")
    end = models.TimeField("bis")
    slot_minutes = models.PositiveSmallIntegerField("Dauer je Termin (Minuten)", default=15)
    known_patients_only = models.BooleanField("nur für bekannte Patientinnen und Patienten", default=False)

    class Meta:
        ordering = ["weekday", "start"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"
