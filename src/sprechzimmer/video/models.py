from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from sprechzimmer.accounts.models import Organisation
from sprechzimmer.video.domain import code_window


class Appointment(models.Model):
    """A video appointment (Videotermin). Times, doctor and status are plain; everything about the
    patient (name, date of birth, e-mail, phone, note) is one ciphertext made in the browser."""

    class Status(models.TextChoices):
        PLANNED = "planned", "geplant"
        WAITING = "waiting", "wartet"
        IN_CALL = "in_call", "im Gespräch"
        DONE = "done", "abgeschlossen"
        CANCELLED = "cancelled", "abgesagt"
        NO_SHOW = "no_show", "nicht erschienen"

    #: Statuses after which nothing of the appointment runs any more.
    OVER = (Status.CANCELLED, Status.DONE, Status.NO_SHOW)

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="appointments")
    doctor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments")
    start = models.DateTimeField("Beginn", db_index=True)
    duration_minutes = models.PositiveSmallIntegerField("Dauer (Minuten)", default=15)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    patient_ciphertext = models.TextField()
    version = models.PositiveIntegerField(default=1)
    access_code_digest = models.CharField(max_length=64, unique=True, null=True, blank=True)
    code_issued_at = models.DateTimeField(null=True, blank=True)
    # When set, the code closes then instead of at the end of the appointment's day: a referral to
    # the video duty (duty.VideoReferral) is valid for a few hours, across midnight.
    code_closes_at = models.DateTimeField(null=True, blank=True)
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_version = models.CharField(max_length=20, blank=True)
    egk_checked_at = models.DateTimeField(null=True, blank=True)
    # Who is in the room right now (at most one patient seat and one doctor seat, docs/signalling.md).
    patient_seat = models.CharField(max_length=20, blank=True)
    patient_channel = models.CharField(max_length=200, blank=True)
    patient_seen_at = models.DateTimeField(null=True, blank=True)
    doctor_channel = models.CharField(max_length=200, blank=True)
    doctor_seat_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    doctor_seen_at = models.DateTimeField(null=True, blank=True)
    # The name the waiting patient typed, encrypted in the patient's browser to the practice key pair.
    waiting_name = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Booked by the patient on the practice's public booking page (sprechzimmer.booking): the
    # patient data is then an envelope to the practice's public key until a member's browser
    # re-encrypts it; unconfirmed bookings (confirmed_at None) do not open the waiting room.
    booked_online = models.BooleanField(default=False)
    booking_confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["start"]
        constraints = [
            # A slot of the booking page can be booked once (a database guarantee against two
            # patients pressing at the same moment); cancelling frees it.
            models.UniqueConstraint(
                fields=["doctor", "start"],
                condition=models.Q(booked_online=True) & ~models.Q(status="cancelled"),
                name="one_online_booking_per_slot",
            )
        ]

    def __str__(self) -> str:
        # The patient is ciphertext; the server names the appointment by time and doctor only.
        return f"Termin {timezone.localtime(self.start):%d.%m.%Y %H:%M} bei {self.doctor}"

    @property
    def end(self):
        return self.start + timedelta(minutes=self.duration_minutes)

    def is_over(self, now=None) -> bool:
        """Done, cancelled, a no-show, or its day is past: nothing of it runs any more."""
        now = now or timezone.now()
        return self.status in self.OVER or now >= code_window(self.start)[1]

    def code_is_open(self, now=None) -> bool:
        now = now or timezone.now()
        opens, closes = code_window(self.start)
        if self.code_closes_at is not None:
            closes = self.code_closes_at
        return self.access_code_digest is not None and self.status not in self.OVER and opens <= now < closes


class CallSession(models.Model):
    """One connection of a call: when it ran. Metadata, deleted after three months (A8)."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="calls")
    admitted_at = models.DateTimeField(default=timezone.now)
    connected_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Verbindung zu Termin {self.appointment_id}"


class VideoContact(models.Model):
    """A completed video contact (Videokontakt) for billing: date, start and duration."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="video_contacts")
    appointment = models.ForeignKey(Appointment, null=True, on_delete=models.SET_NULL, related_name="contacts")
    doctor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    duration_seconds = models.PositiveIntegerField()
    egk_checked = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Videokontakt zu Termin {self.appointment_id}"
