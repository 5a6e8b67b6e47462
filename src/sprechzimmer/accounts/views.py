from __future__ import annotations

from datetime import timedelta

from allauth.account.models import EmailAddress
from allauth.mfa.totp.views import DeactivateTOTPView
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_POST

from sprechzimmer import inputs, mail, ratelimit
from sprechzimmer.accounts import devices, keyblobs, keyrotation
from sprechzimmer.accounts.access import json_error, main_user_required, member_required
from sprechzimmer.accounts.domain import KV_BY_CODE, KV_CODE_BY_DISTRICT
from sprechzimmer.accounts.forms import (
    AcceptInvitationForm,
    InvitationForm,
    PracticeDetailsForm,
    PracticeSettingsForm,
)
from sprechzimmer.accounts.keyrotation import ROTATED, keyring_json
from sprechzimmer.accounts.models import Device, Invitation, Organisation, User, token_digest
from sprechzimmer.contracts import gate


def signup_check(request):
    """Checks the practice details before the browser makes keys and shows the recovery key.

    So a mistake (a wrong BSNR, an e-mail already registered) is reported before the user writes
    down a recovery key that would then belong to nothing.
    """
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not ratelimit.allow(request, "signup-check", per_address=(30, 60)):
        return json_error("Zu viele Versuche. Bitte warten Sie einen Moment.", 429)
    form = PracticeDetailsForm(request.POST)
    errors = {} if form.is_valid() else {k: [str(e) for e in v] for k, v in form.errors.items()}
    email = (request.POST.get("email") or "").strip()
    if not email:
        errors["email"] = ["Bitte geben Sie Ihre E-Mail-Adresse an."]
    elif EmailAddress.objects.filter(email__iexact=email).exists() or User.objects.filter(email__iexact=email).exists():
        errors["email"] = ["Mit dieser E-Mail-Adresse besteht bereits ein Benutzerkonto."]
    return JsonResponse({"ok": not errors, "errors": errors})


def kv_codes(request):
    """The KV of every KV-Bezirk code (digits 1–2 of a BSNR), for the sign-up form's hint."""
    return JsonResponse({district: KV_BY_CODE[kv] for district, kv in KV_CODE_BY_DISTRICT.items()})


@member_required
def practice_dashboard(request, extra: dict | None = None):
    """The practice's start page ("Übersicht"); home.py adds what other apps know (the setup
    checklist's test call)."""
    organisation = request.user.organisation
    pending_grants = _awaiting_key(organisation).count() if request.user.has_practice_key else 0
    context = {"pending_grants": pending_grants, "fingerprint": keyblobs.fingerprint(request.user.public_key)}
    return render(request, "accounts/dashboard.html", {**context, **(extra or {})})


def device_pending(request):
    if not request.user.is_authenticated:
        return redirect("account_login")
    if request.device and request.device.status == Device.Status.APPROVED:
        return redirect("dashboard")
    return render(request, "accounts/device_pending.html")


# --- members and invitations --------------------------------------------------------------------


@member_required
def members(request):
    organisation = request.user.organisation
    form = InvitationForm()
    if request.method == "POST":
        if not request.user.is_main_user:
            return render(request, "403.html", status=403)
        form = InvitationForm(request.POST, organisation=organisation)
        if form.is_valid():
            try:
                invitation = _send_invitation(request, form.cleaned_data)
            except gate.PlanLimit as refusal:
                form.add_error(None, refusal.message)
            else:
                messages.success(request, f"Die Einladung an {invitation.email} wurde versendet.")
                return redirect("members")
    contract = gate.contract_of(organisation)
    context = {
        "user_limit": gate.user_limit(contract),
        "users_counted": gate.users_counted(organisation),
        "members": organisation.members.order_by("-is_active", "full_name"),
        "invitations": organisation.invitations.filter(accepted_at=None),
        "form": form,
        "offer_rotation": request.session.pop(OFFER_ROTATION, ""),
    }
    return render(request, "accounts/members.html", context)


def _send_invitation(request, data) -> Invitation:
    token = Invitation.new_token()
    with transaction.atomic():
        gate.check_room_for_member(request.user.organisation)
        invitation = Invitation.objects.create(
            organisation=request.user.organisation,
            email=data["email"],
            full_name=data["full_name"],
            role=data["role"],
            lanr=data["lanr"],
            token_hash=token_digest(token),
            invited_by=request.user,
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_DAYS),
        )
        link = request.build_absolute_uri(reverse("accept_invitation", args=[token]))
        mail.send(
            "practice_invitation",
            invitation.email,
            {"invitation": invitation, "link": link, "inviter": request.user, "days": settings.INVITATION_DAYS},
        )
    return invitation


@main_user_required
@require_POST
def invitation_revoke(request, pk):
    invitation = get_object_or_404(Invitation, pk=pk, organisation=request.user.organisation, accepted_at=None)
    invitation.delete()
    messages.success(request, f"Die Einladung an {invitation.email} wurde zurückgezogen.")
    return redirect("members")


@main_user_required
@require_POST
def member_set_active(request, pk):
    member = get_object_or_404(User, pk=pk, organisation=request.user.organisation)
    if member == request.user:
        messages.error(request, "Sie können sich nicht selbst deaktivieren.")
        return redirect("members")
    activate = request.POST.get("active") == "1"
    with transaction.atomic():
        if activate and not member.is_active:
            try:
                gate.check_room_for_member(member.organisation)
            except gate.PlanLimit as refusal:
                messages.error(request, refusal.message)
                return redirect("members")
        member.is_active = activate
        member.save(update_fields=["is_active"])
        if not activate:
            # Ends the member's sessions at once: their devices are no longer accepted, and their open
            # websockets (waiting room, call) are closed.
            member.devices.exclude(status=Device.Status.REVOKED).update(
                status=Device.Status.REVOKED, revoked_at=timezone.now()
            )
            devices.end_live_connections(user_ids=[member.pk])
    if not activate and member.has_practice_key:
        request.session[OFFER_ROTATION] = f"Sie haben {member} deaktiviert."
    messages.success(
        request, f"{member} wurde {'wieder aktiviert' if activate else 'deaktiviert; alle Sitzungen sind beendet'}."
    )
    return redirect("members")


#: Session key: the members or devices page offers a key rotation at once (after deactivating a
#: member or revoking a device of someone who held the practice key); the text says why.
OFFER_ROTATION = "offer_key_rotation"


def _invitation_for(token: str) -> Invitation | None:
    return Invitation.objects.select_related("organisation").filter(token_hash=token_digest(token)).first()


def accept_invitation(request, token):
    invitation = _invitation_for(token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", {"reason": "unknown"}, status=404)
    if invitation.accepted_at:
        return render(request, "accounts/invitation_invalid.html", {"reason": "accepted"}, status=410)
    if invitation.is_expired:
        return render(
            request, "accounts/invitation_invalid.html", {"reason": "expired", "invitation": invitation}, status=410
        )
    if request.user.is_authenticated:
        logout(request)

    form = AcceptInvitationForm(initial={"full_name": invitation.full_name})
    if request.method == "POST":
        form = AcceptInvitationForm(request.POST)
        if form.is_valid():
            with transaction.atomic():
                locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
                if locked.accepted_at or User.objects.filter(email__iexact=locked.email).exists():
                    return render(request, "accounts/invitation_invalid.html", {"reason": "accepted"}, status=410)
                try:
                    gate.check_room_for_member(locked.organisation, counted_already=True)
                except gate.PlanLimit:
                    return render(request, "accounts/invitation_invalid.html", {"reason": "limit"}, status=409)
                user = User.objects.create_user(
                    locked.email,
                    form.cleaned_data["password"],
                    full_name=form.cleaned_data["full_name"],
                    organisation=locked.organisation,
                    role=locked.role,
                    lanr=locked.lanr,
                    public_key=form.cleaned_data["public_key"],
                    wrapped_private_key=form.cleaned_data["wrapped_private_key"],
                )
                # The link reached this address, so the address is verified.
                EmailAddress.objects.create(user=user, email=locked.email, verified=True, primary=True)
                locked.accepted_at = timezone.now()
                locked.user = user
                locked.save(update_fields=["accepted_at", "user"])
            messages.success(
                request,
                "Ihr Zugang ist eingerichtet. Bitte melden Sie sich an. Sobald ein Kollege Ihrer Praxis "
                "Ihnen den Praxisschlüssel freigibt, sehen Sie die verschlüsselten Praxisdaten.",
            )
            return redirect("account_login")
    return render(request, "accounts/accept_invitation.html", {"invitation": invitation, "form": form})


# --- devices ------------------------------------------------------------------------------------


@member_required
def device_list(request):
    organisation = request.user.organisation
    if request.user.is_main_user:
        queryset = Device.objects.filter(user__organisation=organisation)
    else:
        queryset = Device.objects.filter(user=request.user)
    held = (
        organisation.members.filter(new_devices_need_approval=True, is_active=True) if request.user.is_main_user else []
    )
    return render(
        request,
        "accounts/devices.html",
        {
            "devices": queryset.select_related("user"),
            "current_device": request.device,
            "held_members": held,
            "offer_rotation": request.session.pop(OFFER_ROTATION, ""),
        },
    )


def _device_of_practice(request, pk) -> Device:
    return get_object_or_404(Device, pk=pk, user__organisation=request.user.organisation)


@main_user_required
@require_POST
def device_revoke(request, pk):
    device = _device_of_practice(request, pk)
    if device == request.device:
        messages.error(request, "Das Gerät, mit dem Sie gerade arbeiten, können Sie nicht sperren.")
        return redirect("devices")
    with transaction.atomic():
        device.status = Device.Status.REVOKED
        device.revoked_at = timezone.now()
        device.save(update_fields=["status", "revoked_at"])
        owner = device.user
        if not owner.is_main_user and not owner.new_devices_need_approval:
            # Otherwise a fresh cookie would simply be a fresh, approved device.
            owner.new_devices_need_approval = True
            owner.save(update_fields=["new_devices_need_approval"])
        devices.end_live_connections(device_ids=[device.pk])
    if owner.has_practice_key:
        request.session[OFFER_ROTATION] = f"Sie haben ein Endgerät von {owner} gesperrt."
    text = f"Das Endgerät „{device.name}“ von {owner} ist gesperrt; seine Sitzung und Verbindungen sind beendet."
    if not owner.is_main_user:
        text += f" Neue Endgeräte von {owner} müssen Sie ab jetzt freigeben."
    messages.success(request, text)
    return redirect("devices")


@main_user_required
@require_POST
def member_device_approval(request, pk):
    """Lifts the approval duty for new devices that revoking one of the member's devices set."""
    member = get_object_or_404(User, pk=pk, organisation=request.user.organisation)
    member.new_devices_need_approval = False
    member.save(update_fields=["new_devices_need_approval"])
    messages.success(
        request,
        f"Neue Endgeräte von {member} brauchen keine Freigabe mehr"
        f"{' (außer die Praxis verlangt sie für alle)' if request.user.organisation.require_device_approval else ''}.",
    )
    return redirect("devices")


@main_user_required
@require_POST
def device_approve(request, pk):
    device = _device_of_practice(request, pk)
    if device.status != Device.Status.PENDING:
        messages.error(request, "Nur wartende Endgeräte können freigegeben werden.")
        return redirect("devices")
    device.status = Device.Status.APPROVED
    device.approved_by = request.user
    device.save(update_fields=["status", "approved_by"])
    messages.success(request, f"Das Endgerät „{device.name}“ von {device.user} ist freigegeben.")
    return redirect("devices")


@member_required
@require_POST
def device_rename(request, pk):
    device = (
        get_object_or_404(Device, pk=pk, user=request.user)
        if not request.user.is_main_user
        else _device_of_practice(request, pk)
    )
    name = (request.POST.get("name") or "").strip()
    if problem := inputs.name_problem(name):
        messages.error(request, problem)
    else:
        device.name = name
        device.save(update_fields=["name"])
        messages.success(request, "Der Name des Endgeräts wurde gespeichert.")
    return redirect("devices")


@main_user_required
def practice_settings(request):
    form = PracticeSettingsForm(instance=request.user.organisation)
    if request.method == "POST":
        form = PracticeSettingsForm(request.POST, instance=request.user.organisation)
        if form.is_valid():
            form.instance.details_checked_at = timezone.now()
            form.save()
            messages.success(request, "Die Einstellungen wurden gespeichert.")
            return redirect("practice_settings")
    return render(request, "accounts/settings.html", {"form": form})


# --- key material (docs/e2ee.md) ----------------------------------------------------------------


@member_required
def api_keys(request):
    """The member's own key material; ``member_required`` means a deactivated member (or a revoked
    device) gets none of it, old or new."""
    user = request.user
    organisation = user.organisation
    held = user.practice_key_version if user.has_practice_key else 0
    return JsonResponse(
        {
            "user_id": user.pk,
            "organisation_id": user.organisation_id,
            "public_key": user.public_key,
            "wrapped_private_key": user.wrapped_private_key,
            "wrapped_practice_key": user.wrapped_practice_key or None,
            "practice_key_version": held or None,
            "key_version": organisation.key_version,
            "keyring": keyring_json(organisation, held),
        }
    )


def _awaiting_key(organisation):
    """Active members with a key pair who lack the practice key's current version: new colleagues,
    and anyone whose wrap is older (a password reset with a recovery sheet from before a rotation)."""
    return (
        organisation.members.filter(is_active=True)
        .exclude(public_key="")
        .filter(Q(wrapped_practice_key="") | Q(practice_key_version__lt=organisation.key_version))
    )


@member_required
def api_key_grants(request):
    """Members who have a key pair but no practice key yet; a member with access may grant it."""
    organisation = request.user.organisation
    if request.method == "GET":
        waiting = _awaiting_key(organisation)
        return JsonResponse(
            {
                "members": [
                    {
                        "id": m.pk,
                        "name": m.full_name,
                        "email": m.email,
                        "role": m.get_role_display(),
                        "public_key": m.public_key,
                        "fingerprint": keyblobs.fingerprint(m.public_key),
                    }
                    for m in waiting
                ]
            }
        )
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    if not request.user.has_current_practice_key:
        return json_error("Sie haben selbst keinen Zugriff auf den aktuellen Praxisschlüssel.", 403)
    incomplete = "Die Freigabe war unvollständig. Bitte laden Sie die Seite neu."
    try:
        body = inputs.json_body(request)
        member_id = inputs.parse_id(body.get("member_id"))
        expected_public_key = body.get("public_key")
        # Browsers from before key versions send none: they can only have held version 1.
        key_version = inputs.parse_int(body.get("key_version", 1), minimum=1, maximum=2**31 - 1)
        if member_id is None or not isinstance(expected_public_key, str) or key_version is None:
            return json_error(incomplete)
        wrapped = keyblobs.check_practice_key_wrap(body.get("wrapped_practice_key"))
    except (inputs.InputError, ValueError, KeyError, TypeError):
        return json_error(incomplete)
    except ValidationError as exc:
        return json_error(" ".join(exc.messages))
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
        if key_version != locked.key_version:
            return json_error(ROTATED, 409)
        member = get_object_or_404(
            User.objects.select_for_update(), pk=member_id, organisation=organisation, is_active=True
        )
        # The key was wrapped to the public key the granting browser saw; refuse if it changed since.
        if member.public_key != expected_public_key:
            return json_error("Der Schlüssel dieses Mitglieds hat sich geändert. Bitte laden Sie die Seite neu.", 409)
        member.wrapped_practice_key = wrapped
        member.practice_key_version = key_version
        member.key_granted_by = request.user
        member.save(update_fields=["wrapped_practice_key", "practice_key_version", "key_granted_by"])
    return JsonResponse({"ok": True})


@member_required
def api_key_rotation(request):
    """GET: who the next key version must be wrapped to (the browser wraps to exactly these), and how
    many records still wait for re-encryption. POST (main user): install a new version made in the
    browser (keyrotation.rotate)."""
    organisation = request.user.organisation
    if request.method == "GET":
        return JsonResponse(
            {
                "key_version": organisation.key_version,
                "members": [
                    {"id": m.pk, "name": m.full_name, "public_key": m.public_key}
                    for m in keyrotation.key_holders(organisation).order_by("pk")
                ],
                "clients": [
                    {"id": c.pk, "name": c.name, "public_key": c.public_key}
                    for c in keyrotation.granted_clients(organisation).order_by("pk")
                ],
                "stale": len(keyrotation.stale(organisation)),
                "recovery_public_key": organisation.recovery_public_key or None,
                # a practice with a key pair for patients' text gets a new one with every version
                "key_pair": bool(organisation.public_key),
                # the old symmetric wrap, which the typed recovery key must open before it is set up
                "recovery_wrapped_key": None if organisation.recovery_public_key else organisation.recovery_wrapped_key,
            }
        )
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    if not request.user.is_main_user:
        return json_error("Nur der Hauptnutzer kann den Praxisschlüssel wechseln.", 403)
    try:
        body = inputs.json_body(request)
        number = keyrotation.rotate(request.user, body)
    except inputs.InputError:
        return json_error("Der Schlüsselwechsel war unvollständig. Bitte laden Sie die Seite neu.")
    except keyrotation.RotationRefused as refused:
        return json_error(refused.message, refused.status)
    return JsonResponse({"key_version": number})


@main_user_required
@require_POST
def api_recovery_setup(request):
    """Once per practice from before the recovery key pair: its public key and the current version
    wrapped to it (keyrotation.set_up_recovery)."""
    try:
        keyrotation.set_up_recovery(request.user, inputs.json_body(request))
    except inputs.InputError:
        return json_error("Die Angaben zum Wiederherstellungsschlüssel waren unvollständig.")
    except keyrotation.RotationRefused as refused:
        return json_error(refused.message, refused.status)
    return JsonResponse({"ok": True})


@member_required
def api_key_reencrypt(request):
    """The re-encryption job of a member's browser after a rotation: GET the next records still
    sealed with an older version, POST one back sealed with the current version. A record that
    changed since it was fetched is left as it is (``replaced`` false): nothing a colleague saved is
    overwritten."""
    organisation = request.user.organisation
    if request.method == "GET":
        todo = keyrotation.stale(organisation)
        return JsonResponse(
            {
                "key_version": organisation.key_version,
                "remaining": len(todo),
                "items": [
                    {
                        "ref": s.ref,
                        "context": s.context,
                        "base": keyrotation.base_of(s.ciphertext),
                        "ciphertext": s.ciphertext,
                    }
                    for s in todo[: keyrotation.REENCRYPT_BATCH]
                ],
            }
        )
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    try:
        body = inputs.json_body(request)
        replaced = keyrotation.replace(request.user, body.get("ref"), body.get("base"), body.get("ciphertext"))
    except inputs.InputError:
        return json_error("Die Umschlüsselung war unvollständig. Bitte laden Sie die Seite neu.")
    except keyrotation.RotationRefused as refused:
        return json_error(refused.message, refused.status)
    return JsonResponse({"replaced": replaced})


class SwitchTOTPView(DeactivateTOTPView):
    """allauth's "deactivate the authenticator app", which here means "switch it": a second factor
    is required (DeviceMiddleware), so removing the app leads straight to setting up the new one
    (a new phone), and the page says so (templates/mfa/totp/deactivate_form.html). A new user's walk
    found "Deaktivieren" offered and then the forced setup confusing."""

    success_url = reverse_lazy("mfa_activate_totp")
