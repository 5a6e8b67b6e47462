"""Conferences of three or more (issue 18): one per appointment, its participants and their access.

The server keeps what it needs to let people into a Janus room and out again: roles, times, access
code digests, room tokens. Names are ciphertext made in the doctor's browser under the practice key
(like the appointment's patient record); Janus sees participant ids only (docs/e2ee.md).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from sprechzimmer.video.models import Appointment


class Conference(models.Model):
    appointment = models.OneToOneField(Appointment, on_delete=models.CASCADE, related_name="conference")
    #: The Janus VideoRoom id: random, so knowing one room says nothing about another.
    room = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    #: When Django destroyed the room on Janus (the appointment ended); nobody is let in after.
    ended_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Konferenz zu Termin {self.appointment_id}"


class Participant(models.Model):
    class Role(models.TextChoices):
        DOCTOR = "doctor", "Ärztin/Arzt"
        PATIENT = "patient", "Patientin/Patient"
        INTERPRETER = "interpreter", "Dolmetscherin/Dolmetscher"
        RELATIVE = "relative", "Angehörige/Angehöriger"
        COLLEAGUE = "colleague", "Kollegin/Kollege"

    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="participants")
    role = models.CharField(max_length=12, choices=Role.choices)
    #: The display name, encrypted in the doctor's browser under the practice key (A256GCM record);
    #: empty for the doctor and the patient, whose names the practice has already.
    name_ciphertext = models.TextField(blank=True)
    #: The member who takes part (the doctor); guests have an access code instead.
    user = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    #: HMAC of the guest's own access code (video/domain.py); the patient uses the appointment's.
    access_code_digest = models.CharField(max_length=64, unique=True, null=True, blank=True)
    #: The participant's id in the Janus room (never a name).
    public_id = models.CharField(max_length=24, unique=True)
    #: This participant's entry in the room's ``allowed`` list; removed from Janus on revocation.
    room_token = models.CharField(max_length=64, unique=True)
    #: The participant's ephemeral public key for this call (P-256 SPKI, base64url), made in their
    #: browser (lib/confkeys.js, newCallKey); the doctor's browser seals the conference key to it.
    call_key = models.CharField(max_length=200, blank=True)
    #: The latest conference key grant for ``call_key``: an ECIES envelope from the doctor's browser
    #: that only the participant's browser opens (docs/e2ee.md). Cleared when the call key changes.
    grant = models.TextField(blank=True)
    admitted_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    #: When the participant last hung up themselves: out of the room and the key like a removal,
    #: but their code still opens the waiting room (the doctor admits them again).
    left_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_role_display()} in Konferenz {self.conference_id}"
