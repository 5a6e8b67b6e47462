"""Entering a doctor in a KV's duty planning needs the person's consent (issue 11, item 10).

KV staff name an e-mail address; an entry of their own KV with that address is changed at once
(the person is in their planning already). For anyone else an invitation goes to the address, and
the page says the same whether or not the address has an account, so staff learn nothing about
accounts of other practices or KVs. The person opens the link, logs in with that address and
agrees; only then are they entered. Whether they already serve another KV is said to them, not to
the inviting staff.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from sprechzimmer import mail
from sprechzimmer.accounts.models import User, token_digest
from sprechzimmer.duty.errors import DutyError
from sprechzimmer.duty.models import Area, DutyDoctor, DutyInvitation

VALID_DAYS = 14


def enter(kv, area: Area, data: dict, invited_by: User, base_url: str) -> tuple[str, object]:
    """("changed", doctor) for a doctor of this KV, else ("invited", invitation) after mailing.
    The KV's own staff accounts are not doctors (DutyError): an invitation to one was accepted."""
    email = data["email"].strip().lower()
    if User.objects.filter(email__iexact=email, organisation=kv).exists():
        raise DutyError(
            "Diese Adresse gehört zu einem Konto der KV-Verwaltung. Tragen Sie Ärztinnen und Ärzte mit ihrer "
            "eigenen Adresse ein."
        )
    doctor = DutyDoctor.objects.filter(kv=kv, user__email__iexact=email).select_related("user").first()
    if doctor is not None:
        doctor.kind, doctor.weight, doctor.area = data["kind"], data["weight"], area
        doctor.qualifications = data["qualifications"]
        with transaction.atomic():
            doctor.save(update_fields=["kind", "weight", "area", "qualifications"])
            if "extra_areas" in data:
                doctor.extra_areas.set([a for a in data["extra_areas"] if a.pk != area.pk])
        return "changed", doctor
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        # One open invitation per address and KV: a new one replaces the old.
        DutyInvitation.objects.filter(kv=kv, email=email).delete()
        invitation = DutyInvitation.objects.create(
            kv=kv,
            area=area,
            email=email,
            kind=data["kind"],
            weight=data["weight"],
            qualifications=data["qualifications"],
            token_hash=token_digest(token),
            invited_by=invited_by,
            expires_at=timezone.now() + timedelta(days=VALID_DAYS),
        )
        link = base_url.rstrip("/") + reverse("duty_invitation", args=[token])
        mail.send(
            "duty_invitation",
            email,
            {
                "kv_name": kv.name,
                "area_name": area.name,
                "link": link,
                "kind": invitation.get_kind_display(),
                "days": VALID_DAYS,
            },
        )
    return "invited", invitation


def for_token(token: str) -> DutyInvitation | None:
    if not token or len(token) > 100:
        return None
    return DutyInvitation.objects.select_related("kv", "area").filter(token_hash=token_digest(token)).first()


def accept(invitation: DutyInvitation, user: User) -> DutyDoctor:
    with transaction.atomic():
        invitation = DutyInvitation.objects.select_for_update().select_related("kv", "area").get(pk=invitation.pk)
        if invitation.is_expired:
            raise DutyError("Diese Einladung ist abgelaufen. Bitte fragen Sie Ihre KV nach einer neuen.")
        if user.email.lower() != invitation.email.lower():
            raise DutyError("Diese Einladung gilt für eine andere E-Mail-Adresse.")
        if user.organisation is not None and user.organisation.is_kv:
            raise DutyError("Als Mitarbeiterin oder Mitarbeiter einer KV können Sie nicht selbst eingetragen werden.")
        current = DutyDoctor.objects.filter(user=user).select_related("kv").first()
        if current is not None and current.kv_id != invitation.kv_id:
            raise DutyError(
                f"Sie sind bereits im Bereitschaftsdienst der {current.kv.name} eingetragen. Bitte wenden "
                "Sie sich an diese KV, bevor Sie zu einer anderen wechseln."
            )
        doctor, _ = DutyDoctor.objects.update_or_create(
            user=user,
            defaults={
                "kv": invitation.kv,
                "area": invitation.area,
                "kind": invitation.kind,
                "weight": invitation.weight,
                "qualifications": invitation.qualifications,
            },
        )
        invitation.delete()
    return doctor


def decline(invitation: DutyInvitation) -> None:
    invitation.delete()
