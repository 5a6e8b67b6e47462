from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from sprechzimmer.accounts.domain import KV_BY_CODE, kv_code_of_bsnr


def token_digest(token: str) -> str:
    """Tokens (device cookies, invitations) are stored only as SHA-256 digests."""
    return hashlib.sha256(token.encode()).hexdigest()


class Organisation(models.Model):
    """A practice (Praxis/Organisation) with its BSNR; the unit that owns data and keys.

    A Kassenärztliche Vereinigung is an organisation of its own kind: its members are the staff
    who plan emergency duty (Notfalldienst-Datenmanagement); it has no practice pages. Its ``bsnr``
    field holds "KV" and the two-digit KV code, which no real BSNR (nine digits) can collide with.
    """

    class Kind(models.TextChoices):
        PRACTICE = "practice", "Praxis"
        KV = "kv", "Kassenärztliche Vereinigung"

    kind = models.CharField("Art", max_length=10, choices=Kind.choices, default=Kind.PRACTICE)
    name = models.CharField("Praxisname", max_length=200)
    street = models.CharField("Straße und Hausnummer", max_length=200)
    postcode = models.CharField("PLZ", max_length=5)
    city = models.CharField("Ort", max_length=100)
    bsnr = models.CharField("BSNR", max_length=9, unique=True)
    require_device_approval = models.BooleanField("Neue Endgeräte müssen freigegeben werden", default=False)
    # Minutes without input after which a member's screen locks (keys wiped, docs/e2ee.md).
    lock_minutes = models.PositiveSmallIntegerField(
        "Bildschirm sperren nach (Minuten ohne Eingabe)",
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
        help_text="Zwischen 1 und 240 Minuten. Gesperrt werden die Schlüssel der Praxis und alle Patientendaten.",
    )
    # When the main user last saved the practice settings: the setup checklist's "Praxisdaten".
    details_checked_at = models.DateTimeField(null=True, blank=True)
    # Practice data key wrapped with the printable recovery key (docs/e2ee.md); never the key itself:
    # ECIES to recovery_public_key (the key pair derived from the recovery key), re-wrapped at every
    # rotation; in practices from before that pair existed, the symmetric wrap of version 1.
    recovery_wrapped_key = models.TextField(blank=True)
    recovery_public_key = models.TextField(blank=True, db_default="")  # SPKI, base64url; "" = not yet set up
    recovery_key_version = models.PositiveIntegerField(
        default=1, db_default=1
    )  # which version recovery_wrapped_key holds
    # The practice key's current version (docs/e2ee.md, "Key versions"): new records must be sealed
    # with it. Version 1 is the key made at sign-up; every rotation adds one (PracticeKeyVersion).
    key_version = models.PositiveIntegerField(default=1, db_default=1)
    # The practice's own ECDH key pair: patients encrypt to its public key (their typed name, for
    # the doctor only); the private key is sealed with the practice key. Made by a member's browser.
    public_key = models.TextField(blank=True)
    wrapped_private_key = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name

    @property
    def kv_name(self) -> str:
        code = self.bsnr[2:4] if self.kind == self.Kind.KV else kv_code_of_bsnr(self.bsnr)
        return KV_BY_CODE.get(code or "", "")

    @property
    def is_kv(self) -> bool:
        return self.kind == self.Kind.KV


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A person who logs in: a member of a practice (Benutzer), doctor or staff."""

    class Role(models.TextChoices):
        DOCTOR = "doctor", "Arzt/Ärztin"
        STAFF = "staff", "Praxispersonal (MFA)"

    username = None
    first_name = None
    last_name = None
    email = models.EmailField("E-Mail-Adresse", unique=True)
    full_name = models.CharField("Name", max_length=200)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="members", null=True, blank=True
    )
    role = models.CharField("Rolle", max_length=10, choices=Role.choices, default=Role.DOCTOR)
    is_main_user = models.BooleanField("Hauptnutzer", default=False)
    lanr = models.CharField("LANR", max_length=9, blank=True)
    # Set when the main user revokes one of this member's devices: new devices then wait for approval
    # even if the practice does not ask for it, until the main user lifts it (docs/e2ee.md).
    new_devices_need_approval = models.BooleanField("Neue Endgeräte brauchen Freigabe", default=False)

    # Key material, all produced in the browser (docs/e2ee.md). The server cannot use any of it.
    public_key = models.TextField(blank=True)  # ECDH P-256, SPKI, base64url
    wrapped_private_key = models.TextField(blank=True)  # AES-GCM under the password-derived key
    wrapped_practice_key = models.TextField(blank=True)  # ECIES to public_key; empty = awaiting grant
    practice_key_version = models.PositiveIntegerField(
        default=1, db_default=1
    )  # which version wrapped_practice_key holds
    key_granted_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def has_practice_key(self) -> bool:
        return bool(self.wrapped_practice_key)

    @property
    def has_current_practice_key(self) -> bool:
        """Holds the practice key's current version: may seal new records, grant and rotate."""
        return self.has_practice_key and self.practice_key_version == self.organisation.key_version


class PracticeKeyVersion(models.Model):
    """One rotation of the practice key (Schlüsselwechsel, docs/e2ee.md "Key versions").

    ``wrapped_previous`` is the previous version's raw key sealed with this version's key
    (AES-256-GCM, AAD ``sprechzimmer/v1/keyring/<practice id>/<number - 1>``), made in the rotating
    member's browser. Whoever holds the newest version can so walk back to every older one and read
    records not yet re-encrypted, while a member who left holds at most the version of their time.
    Version 1 (the sign-up key) has no row.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="key_versions")
    number = models.PositiveIntegerField()
    wrapped_previous = models.TextField()
    # The practice's key pair for what patients type (Organisation.public_key) that this rotation
    # replaced, kept so that members can still open what patients sealed to it before; its private
    # key stays sealed with the older version it was sealed with (docs/e2ee.md).
    retired_public_key = models.TextField(blank=True, default="", db_default="")
    retired_wrapped_private_key = models.TextField(blank=True, default="", db_default="")
    created_by = models.ForeignKey("User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "number"], name="key_version_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation}: Schlüsselversion {self.number}"


class Device(models.Model):
    """A browser that logged in (Arbeitsplatz/Endgerät), recognised by a long-lived cookie."""

    class Status(models.TextChoices):
        PENDING = "pending", "wartet auf Freigabe"
        APPROVED = "approved", "freigegeben"
        REVOKED = "revoked", "gesperrt"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="devices")
    token_hash = models.CharField(max_length=64, db_index=True)
    name = models.CharField("Name", max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.APPROVED)
    first_seen_at = models.DateTimeField("Erste Nutzung", default=timezone.now)
    last_seen_at = models.DateTimeField("Letzte Nutzung", default=timezone.now)
    approved_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [models.UniqueConstraint(fields=["user", "token_hash"], name="device_unique_per_user")]

    def __str__(self) -> str:
        return self.name


class Invitation(models.Model):
    """An invitation of a colleague by e-mail; the link carries a token stored only as a digest."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField("E-Mail-Adresse")
    full_name = models.CharField("Name", max_length=200)
    role = models.CharField("Rolle", max_length=10, choices=User.Role.choices)
    lanr = models.CharField("LANR", max_length=9, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Einladung an {self.email} ({self.organisation})"

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and not self.is_expired
