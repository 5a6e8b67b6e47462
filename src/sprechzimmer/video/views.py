from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sprechzimmer import inputs
from sprechzimmer.accounts import keyblobs, keyrotation
from sprechzimmer.accounts.access import json_error, member_required
from sprechzimmer.accounts.models import User
from sprechzimmer.contracts import gate
from sprechzimmer.contracts.domain import PRICE_PER_SMS, Feature
from sprechzimmer.core import formats
from sprechzimmer.invitations import actions as invitation_actions
from sprechzimmer.video import appointments, codeentry, consent, services
from sprechzimmer.video.domain import normalise_code
from sprechzimmer.video.models import Appointment


def appointment_json(a: Appointment) -> dict:
    data = appointments.summary(a)
    for moment in ("start", "code_opens", "code_closes"):
        data[moment] = data[moment].isoformat()
    return data | {
        "doctor": a.doctor.full_name,
        "status_label": a.get_status_display(),
        "consent_at": a.consent_at.isoformat() if a.consent_at else None,
        "egk_checked_at": a.egk_checked_at.isoformat() if a.egk_checked_at else None,
        # Integrated invitations: kind, due time and status of each message, never address or text.
        "messages": invitation_actions.messages_json(a),
    }


@member_required
def calendar(request):
    organisation = request.user.organisation
    context = {
        "doctors": appointments.doctors(organisation),
        "integrated_email": gate.plan_allows(organisation, Feature.INTEGRATED_EMAIL_INVITATION),
        "sms_invitation": gate.plan_allows(organisation, Feature.SMS_INVITATION),
        "sms_price": formats.euro(PRICE_PER_SMS),
    }
    return render(request, "video/calendar.html", context)


@member_required
def room(request, pk):
    appointment = get_object_or_404(Appointment, pk=pk, organisation=request.user.organisation)
    # Screen sharing is plus (docs/contracts.md): the media run browser to browser, so the server's
    # part is not to offer it; the same gate decides for the patient (api_patient_access).
    screen_sharing = gate.plan_allows(request.user.organisation, Feature.SCREEN_SHARING)
    # Conferences (issue 18) are plus and need Janus; only the appointment's doctor takes part.
    conferences = (
        gate.plan_allows(request.user.organisation, Feature.CONFERENCES)
        and bool(settings.JANUS_URL and settings.JANUS_WS_URL)
        and appointment.doctor_id == request.user.pk
    )
    return render(
        request,
        "video/room.html",
        {
            "appointment": appointment,
            "screen_sharing": screen_sharing,
            "conferences": conferences,
            "conference_open": conferences and hasattr(appointment, "conference"),
        },
    )


def _validation_response(exc: ValidationError) -> JsonResponse:
    if hasattr(exc, "error_dict"):
        errors = {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
        return JsonResponse({"error": "Bitte prüfen Sie die markierten Angaben.", "errors": errors}, status=400)
    return json_error(" ".join(exc.messages))


@member_required
def api_appointments(request):
    organisation = request.user.organisation
    if request.method == "GET":
        try:
            first = inputs.query_date(request.GET, "von") or timezone.localdate()
            last = inputs.query_date(request.GET, "bis") or first
            doctor_id = inputs.query_id(request.GET, "arzt", label="Ärztin/Arzt")
        except inputs.InputError as exc:
            return json_error(exc.message)
        if last < first or (last - first).days > 62:
            return json_error("Bitte wählen Sie einen Zeitraum von höchstens zwei Monaten.")
        query = appointments.in_period(organisation, first, last, doctor_id).prefetch_related("outgoing_messages")
        return JsonResponse({"appointments": [appointment_json(a) for a in query]})
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    try:
        fields = appointments.clean_fields(inputs.json_body(request), organisation)
    except ValidationError as exc:
        return _validation_response(exc)
    with transaction.atomic():
        appointment = Appointment.objects.create(organisation=organisation, created_by=request.user, **fields)
        code = services.issue_code(appointment)
    return JsonResponse({"appointment": appointment_json(appointment), "code": code}, status=201)


@member_required
def api_appointment(request, pk):
    organisation = request.user.organisation
    appointment = get_object_or_404(Appointment.objects.select_related("doctor"), pk=pk, organisation=organisation)
    if request.method == "GET":
        return JsonResponse({"appointment": appointment_json(appointment)})
    if request.method != "PATCH":
        return HttpResponseNotAllowed(["GET", "PATCH"])
    try:
        data = inputs.json_body(request)
        fields = appointments.clean_fields(data, organisation, current=appointment)
    except ValidationError as exc:
        return _validation_response(exc)
    base_version = inputs.parse_int(data.get("base_version") or 0, minimum=0, maximum=2**31 - 1)
    if base_version is None:
        return json_error("Die Anfrage war unvollständig.")
    try:
        changed = appointments.apply_change(appointment, fields, base_version)
    except appointments.Conflict as exc:
        body = {"error": exc.message}
        if exc.current is not None:
            body["appointment"] = appointment_json(exc.current)
        return JsonResponse(body, status=409)
    return JsonResponse({"appointment": appointment_json(changed)})


@member_required
@require_POST
def api_reissue_code(request, pk):
    appointment = get_object_or_404(Appointment, pk=pk, organisation=request.user.organisation)
    if problem := appointments.code_problem(appointment):
        return json_error(problem, 409)
    return JsonResponse({"code": services.issue_code(appointment)})


@member_required
@require_POST
def api_egk_checked(request, pk):
    appointment = get_object_or_404(Appointment, pk=pk, organisation=request.user.organisation)
    if request.user.role != User.Role.DOCTOR:
        return json_error("Nur Ärztinnen und Ärzte bestätigen die Prüfung der eGK.", 403)
    appointment.egk_checked_at = timezone.now()
    appointment.save(update_fields=["egk_checked_at"])
    return JsonResponse({"egk_checked_at": appointment.egk_checked_at.isoformat()})


@member_required
def api_practice_keypair(request):
    """The practice's ECDH key pair for patients' encrypted names, made once by a member's browser."""
    organisation = request.user.organisation
    if request.method == "GET":
        return JsonResponse(
            {
                "public_key": organisation.public_key or None,
                "wrapped_private_key": organisation.wrapped_private_key or None,
                # pairs replaced by key rotations: what patients sealed to them before still opens
                "previous": keyrotation.retired_key_pairs(organisation),
            }
        )
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    try:
        data = inputs.json_body(request)
        public_key = keyblobs.check_public_key(str(data.get("public_key") or ""))
        wrapped = keyblobs.check_record(
            str(data.get("wrapped_private_key") or ""), 8 * 1024, key_version=organisation.key_version
        )
    except ValidationError as exc:
        return json_error(" ".join(exc.messages))
    with transaction.atomic():
        type(organisation).objects.select_for_update().get(pk=organisation.pk)
        updated = (
            type(organisation)
            .objects.filter(pk=organisation.pk, public_key="")
            .update(public_key=public_key, wrapped_private_key=wrapped)
        )
    if not updated:
        return json_error("Die Praxis hat bereits ein Schlüsselpaar. Bitte laden Sie die Seite neu.", 409)
    return JsonResponse({"ok": True}, status=201)


# --- patient side (no account) -------------------------------------------------------------------


def join(request):
    """The patient's page: code, device check, consent, waiting room and call in one page."""
    return render(
        request,
        "video/join.html",
        {"consent_version": consent.CURRENT_VERSION, "consent_text": consent.TEXTS[consent.CURRENT_VERSION]},
    )


def device_check(request):
    """The device check on its own (camera, microphone, speaker), before the appointment and without
    a code: the invitation links here. It sends nothing to the server."""
    return render(request, "video/device_check.html")


# Wrong codes per client address (docs/signalling.md): after ACCESS_CODE_LIMIT_PER_ADDRESS in a
# minute the address waits a minute, each repeat within a day twice as long.
@require_POST
def api_patient_access(request):
    data, refusal = codeentry.attempt(request)
    if data is None:
        return refusal
    appointment, reason = services.appointment_for_code(str(data.get("code") or ""))
    if appointment is None:
        if reason == services.CODE_UNKNOWN or normalise_code(str(data.get("code") or "")) is None:
            codeentry.wrong_code(request)
        return json_error(reason, 403)
    referral = getattr(appointment, "duty_referral", None)
    if referral is None and not appointment.organisation.public_key:
        return json_error("Die Praxis hat die Videosprechstunde noch nicht eingerichtet.", 409)
    # The seat names this browser: a reload keeps its place, a second device with the same code
    # gets another seat and is refused while the first is present (at most two participants).
    token = services.patient_token(appointment)
    return JsonResponse(
        {
            "token": token,
            # A referral to the video duty: the doctor on duty, whoever it is then; no key, because
            # nothing the patient types is sent (docs/e2ee.md, "Video duty").
            "practice": f"Ärztlicher Bereitschaftsdienst {referral.area.name}"
            if referral
            else appointment.organisation.name,
            "doctor": "Ärztin/Arzt im Bereitschaftsdienst" if referral else appointment.doctor.full_name,
            "start": appointment.start.isoformat(),
            "practice_public_key": None if referral else appointment.organisation.public_key,
            "consent_version": consent.CURRENT_VERSION,
            "consent_given": appointment.consent_at is not None,
            "screen_sharing": gate.plan_allows(appointment.organisation, Feature.SCREEN_SHARING),
        }
    )


@require_POST
def api_patient_consent(request):
    try:
        data = inputs.json_body(request)
    except ValidationError as exc:
        return json_error(" ".join(exc.messages))
    appointment = services.appointment_for_token(str(data.get("token") or ""))
    if appointment is None:
        return json_error("Ihr Zugang ist abgelaufen. Bitte geben Sie den Zugangscode erneut ein.", 403)
    if data.get("version") != consent.CURRENT_VERSION or data.get("accepted") is not True:
        return json_error("Bitte bestätigen Sie die aktuelle Einwilligungserklärung.")
    Appointment.objects.filter(pk=appointment.pk).update(
        consent_at=timezone.now(), consent_version=consent.CURRENT_VERSION
    )
    return JsonResponse({"ok": True})
