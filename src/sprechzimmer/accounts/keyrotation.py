"""Practice key versions and rotation (Schlüsselwechsel), docs/e2ee.md "Key versions".

The server cannot make or open a key: a member's browser makes the new version, wraps it to every
remaining member (and granted API client), seals the previous version with it, and re-encrypts the
records afterwards. What the server does is keep this consistent: a rotation is accepted only
against the version it was based on and only when it covers exactly the members who hold the key
now, and a re-encrypted record only when it replaces the very ciphertext the browser opened.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from sprechzimmer.accounts import keyblobs
from sprechzimmer.accounts.models import Organisation, PracticeKeyVersion, User

ROTATED = (
    "Der Praxisschlüssel wurde inzwischen gewechselt. Bitte laden Sie die Seite neu; Ihr Browser lädt dann den neuen "
    "Schlüssel."
)
RECOVERY_FIRST = (
    "Bevor Sie den Praxisschlüssel wechseln, geben Sie bitte einmal den Wiederherstellungsschlüssel Ihrer Praxis "
    "ein, damit er auch die neue Version wiederherstellen kann."
)
MEMBERS_CHANGED = (
    "Die Mitglieder mit Zugriff auf den Praxisschlüssel haben sich inzwischen geändert. Bitte laden Sie die Seite neu "
    "und starten Sie den Schlüsselwechsel erneut."
)
#: Re-encrypted records per request of the browser's background job (one page of the list).
REENCRYPT_BATCH = 50

PRACTICE_PAIR_CONTEXT = "sprechzimmer/v1/practice-private-key"


class RotationRefused(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


def keyring_json(organisation: Organisation, held_version: int) -> list[dict[str, Any]]:
    """The chain of older versions that the holder of ``held_version`` can open: each version's row
    seals the one before it, newest first. Nothing above ``held_version``."""
    return [
        {"version": v.number, "wrapped_previous": v.wrapped_previous}
        for v in organisation.key_versions.filter(number__lte=held_version)
    ]


def key_holders(organisation: Organisation):
    """Who must get the new version: active members who hold the practice key (any version)."""
    return organisation.members.filter(is_active=True).exclude(wrapped_practice_key="").exclude(public_key="")


def granted_clients(organisation: Organisation):
    """Encrypting API clients that hold the practice key and are not revoked (docs/api.md)."""
    return organisation.api_clients.filter(revoked_at__isnull=True).exclude(wrapped_practice_key="")


def _wraps(value: object, what: str) -> dict[int, tuple[str, str]]:
    """{id: (public key, wrap)} from the browser's list; raises ValueError on any malformed entry."""
    if not isinstance(value, list):
        raise ValueError(what)
    wraps: dict[int, tuple[str, str]] = {}
    for entry in value:
        if not isinstance(entry, dict) or type(entry.get("id")) is not int or entry["id"] in wraps:
            raise ValueError(what)
        public_key, wrapped = entry.get("public_key"), entry.get("wrapped_practice_key")
        if not isinstance(public_key, str) or not isinstance(wrapped, str):
            raise ValueError(what)
        wraps[entry["id"]] = (public_key, keyblobs.check_practice_key_wrap(wrapped))
    return wraps


def _key_pair(value: object, number: int) -> tuple[str, str] | None:
    """The new key pair for patients' text from the rotating browser: (public key, private key sealed
    with the new version ``number``); None when the browser sent none."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("key_pair")
    public_key = keyblobs.check_public_key(value.get("public_key") if isinstance(value.get("public_key"), str) else "")
    wrapped = keyblobs.check_record(
        value.get("wrapped_private_key") if isinstance(value.get("wrapped_private_key"), str) else "",
        8 * 1024,
        key_version=number,
    )
    return public_key, wrapped


def retired_key_pairs(organisation: Organisation) -> list[dict[str, str]]:
    """The practice's earlier key pairs for patients' text, newest first (for what patients sealed
    to them before a rotation)."""
    return [
        {"public_key": v.retired_public_key, "wrapped_private_key": v.retired_wrapped_private_key}
        for v in organisation.key_versions.exclude(retired_public_key="")
    ]


def rotate(user: User, body: dict[str, Any]) -> int:
    """Installs a new key version made in ``user``'s browser; returns its number.

    ``body``: ``from_version`` (the version the browser holds and sealed into ``wrapped_previous``),
    ``wrapped_previous``, ``members`` and ``clients`` (lists of ``{id, public_key,
    wrapped_practice_key}``). All or nothing: any mismatch refuses the whole rotation.
    """
    try:
        from_version = body.get("from_version")
        if type(from_version) is not int or from_version < 1:
            raise ValueError("from_version")
        wrapped_previous = keyblobs.check_keyring_wrap(body.get("wrapped_previous"))  # type: ignore[arg-type]
        if keyblobs.envelope_kid(wrapped_previous) != from_version + 1:
            raise ValueError("kid")
        members = _wraps(body.get("members"), "members")
        clients = _wraps(body.get("clients", []), "clients")
        recovery = body.get("recovery_wrapped_key")
        if recovery is not None:
            recovery = keyblobs.check_practice_key_wrap(recovery)
        key_pair = _key_pair(body.get("key_pair"), from_version + 1)
    except (ValueError, ValidationError, TypeError):
        raise RotationRefused("Der Schlüsselwechsel war unvollständig. Bitte laden Sie die Seite neu.") from None
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=user.organisation_id)
        me = User.objects.get(pk=user.pk)
        if from_version != organisation.key_version:
            raise RotationRefused(ROTATED, 409)
        # Every version is wrapped to the recovery key pair, so the printed sheet restores the newest.
        if not organisation.recovery_public_key:
            raise RotationRefused(RECOVERY_FIRST, 409)
        if recovery is None:
            raise RotationRefused("Der Schlüsselwechsel war unvollständig. Bitte laden Sie die Seite neu.")
        if not me.has_practice_key or me.practice_key_version != organisation.key_version:
            raise RotationRefused("Sie haben selbst keinen Zugriff auf den aktuellen Praxisschlüssel.", 403)
        holders = {m.pk: m for m in key_holders(organisation).select_for_update()}
        holding_clients = {c.pk: c for c in granted_clients(organisation).select_for_update()}
        if set(members) != set(holders) or set(clients) != set(holding_clients):
            raise RotationRefused(MEMBERS_CHANGED, 409)
        if any(holders[pk].public_key != members[pk][0] for pk in members) or any(
            holding_clients[pk].public_key != clients[pk][0] for pk in clients
        ):
            raise RotationRefused(MEMBERS_CHANGED, 409)
        # A new key pair for what patients type: whoever kept an old practice key can open the old
        # pair's private key, so names patients type from now on go to a pair they cannot open.
        if organisation.public_key and key_pair is None:
            raise RotationRefused("Der Schlüsselwechsel war unvollständig. Bitte laden Sie die Seite neu.")
        number = organisation.key_version + 1
        retired = (organisation.public_key, organisation.wrapped_private_key) if key_pair else ("", "")
        PracticeKeyVersion.objects.create(
            organisation=organisation,
            number=number,
            wrapped_previous=wrapped_previous,
            retired_public_key=retired[0],
            retired_wrapped_private_key=retired[1],
            created_by=me,
        )
        organisation.key_version = number
        organisation.recovery_wrapped_key, organisation.recovery_key_version = recovery, number
        fields = ["key_version", "recovery_wrapped_key", "recovery_key_version"]
        if key_pair and organisation.public_key:
            organisation.public_key, organisation.wrapped_private_key = key_pair
            fields += ["public_key", "wrapped_private_key"]
        organisation.save(update_fields=fields)
        for pk, member in holders.items():
            member.wrapped_practice_key, member.practice_key_version = members[pk][1], number
            member.save(update_fields=["wrapped_practice_key", "practice_key_version"])
        for pk, client in holding_clients.items():
            client.wrapped_practice_key, client.practice_key_version = clients[pk][1], number
            client.save(update_fields=["wrapped_practice_key", "practice_key_version"])
    return number


def set_up_recovery(user: User, body: dict[str, Any]) -> None:
    """Migrates a practice from the symmetric recovery wrap to the recovery key pair: the main user's
    browser derived the pair from the typed recovery key (after checking that it opens the old wrap)
    and wraps the current version to it. Only once: a pair that exists is never replaced."""
    try:
        public_key = keyblobs.check_public_key(body.get("recovery_public_key"))  # type: ignore[arg-type]
        wrapped = keyblobs.check_practice_key_wrap(body.get("recovery_wrapped_key"))  # type: ignore[arg-type]
        key_version = body.get("key_version")
        if type(key_version) is not int:
            raise ValueError("key_version")
    except (ValueError, ValidationError, TypeError):
        raise RotationRefused("Die Angaben zum Wiederherstellungsschlüssel waren unvollständig.") from None
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=user.organisation_id)
        if organisation.recovery_public_key:
            raise RotationRefused("Der Wiederherstellungsschlüssel ist bereits eingerichtet.", 409)
        if key_version != organisation.key_version:
            raise RotationRefused(ROTATED, 409)
        me = User.objects.get(pk=user.pk)
        if not me.has_practice_key or me.practice_key_version != organisation.key_version:
            raise RotationRefused("Sie haben selbst keinen Zugriff auf den aktuellen Praxisschlüssel.", 403)
        organisation.recovery_public_key, organisation.recovery_wrapped_key = public_key, wrapped
        organisation.recovery_key_version = key_version
        organisation.save(update_fields=["recovery_public_key", "recovery_wrapped_key", "recovery_key_version"])


# --- re-encryption of the records sealed with an older version ----------------------------------


@dataclass
class Sealed:
    """One ciphertext under the practice key, as the re-encryption job sees it."""

    ref: str  # "record:7", "appointment:12", "participant:3", "practice-key-pair"
    context: str  # the AAD it is bound to (docs/e2ee.md, "Envelopes")
    ciphertext: str
    max_bytes: int


def _is_stale(ciphertext: str, version: int) -> bool:
    try:
        data = json.loads(ciphertext)
    except ValueError:
        return False
    return (
        isinstance(data, dict)
        and data.get("alg") == keyblobs.ALG_RECORD
        and keyblobs.envelope_kid(ciphertext) < version
    )


def _sealed(organisation: Organisation, *, lock: bool = False):
    """Every ciphertext of the practice under its practice key, wherever it is stored."""
    from sprechzimmer.conference.models import Participant
    from sprechzimmer.records.models import EncryptedRecord
    from sprechzimmer.records.views import RECORD_KINDS
    from sprechzimmer.video.appointments import PATIENT_MAX_BYTES
    from sprechzimmer.video.models import Appointment

    def rows(queryset):
        return queryset.select_for_update() if lock else queryset

    org = organisation.pk
    for record in rows(EncryptedRecord.objects.filter(organisation=organisation)).order_by("pk"):
        context = f"sprechzimmer/v1/record/{org}/{record.kind}"
        yield (
            record,
            "ciphertext",
            Sealed(f"record:{record.pk}", context, record.ciphertext, RECORD_KINDS.get(record.kind, 0)),
        )
    for appointment in rows(Appointment.objects.filter(organisation=organisation)).order_by("pk"):
        context = f"sprechzimmer/v1/record/{org}/appointment-patient"
        yield (
            appointment,
            "patient_ciphertext",
            Sealed(f"appointment:{appointment.pk}", context, appointment.patient_ciphertext, PATIENT_MAX_BYTES),
        )
    participants = Participant.objects.filter(conference__appointment__organisation=organisation).exclude(
        name_ciphertext=""
    )
    from sprechzimmer.conference.actions import MAX_NAME_CIPHERTEXT

    for participant in rows(participants).order_by("pk"):
        context = f"sprechzimmer/v1/record/{org}/conference-participant"
        yield (
            participant,
            "name_ciphertext",
            Sealed(f"participant:{participant.pk}", context, participant.name_ciphertext, MAX_NAME_CIPHERTEXT),
        )
    if organisation.wrapped_private_key:
        context = f"{PRACTICE_PAIR_CONTEXT}/{org}"
        yield (
            organisation,
            "wrapped_private_key",
            Sealed("practice-key-pair", context, organisation.wrapped_private_key, 8 * 1024),
        )


def stale(organisation: Organisation) -> list[Sealed]:
    """What is still sealed with an older version than the current one: the job's to-do list."""
    return [s for _, _, s in _sealed(organisation) if _is_stale(s.ciphertext, organisation.key_version)]


def base_of(ciphertext: str) -> str:
    """What the browser names as the ciphertext it re-encrypted: SHA-256, hex."""
    return hashlib.sha256(ciphertext.encode()).hexdigest()


def replace(user: User, ref: object, base: object, ciphertext: object) -> bool:
    """Stores one re-encrypted record if it still holds the ciphertext the browser opened (``base``);
    False when it changed in between (a colleague's edit wins and is already sealed with the new
    version, or another browser re-encrypted it first). Raises RotationRefused on bad input."""
    if not isinstance(ref, str) or not isinstance(base, str) or not isinstance(ciphertext, str):
        raise RotationRefused("Die Umschlüsselung war unvollständig. Bitte laden Sie die Seite neu.")
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=user.organisation_id)
        me = User.objects.get(pk=user.pk)
        if not me.has_practice_key or me.practice_key_version != organisation.key_version:
            raise RotationRefused("Sie haben selbst keinen Zugriff auf den aktuellen Praxisschlüssel.", 403)
        for row, field, sealed in _sealed(organisation):
            if sealed.ref != ref:
                continue
            try:
                keyblobs.check_record(ciphertext, sealed.max_bytes, key_version=organisation.key_version)
            except ValidationError as exc:
                raise RotationRefused(" ".join(exc.messages), 409 if exc.code == "stale_key" else 400) from None
            model = type(row)
            locked = model.objects.select_for_update().get(pk=row.pk)
            if base_of(getattr(locked, field)) != base:
                return False
            model.objects.filter(pk=row.pk).update(**{field: ciphertext})
            return True
    raise RotationRefused("Diesen Eintrag gibt es in Ihrer Praxis nicht (mehr).", 404)
