"""The endpoints of integrated invitations (docs/invitations.md). The address arrives in the body of
the practice's request only; it is sealed at once and never logged (request logs carry paths). An
HTTP SMS API's delivery reports arrive at ``sms_delivery_report``."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sprechzimmer import inputs, ratelimit
from sprechzimmer.accounts.access import json_error, member_required
from sprechzimmer.contracts import gate
from sprechzimmer.contracts.domain import Feature
from sprechzimmer.invitations import actions, reports
from sprechzimmer.invitations.models import Channel
from sprechzimmer.video.models import Appointment

log = logging.getLogger("sprechzimmer.invitations")

#: Which plan feature each channel needs.
FEATURES = {Channel.EMAIL.value: Feature.INTEGRATED_EMAIL_INVITATION, Channel.SMS.value: Feature.SMS_INVITATION}


@member_required
@require_POST
def api_send_invitation(request: HttpRequest, pk: int) -> JsonResponse:
    return _send(request, pk, late=False)


@member_required
@require_POST
def api_send_late_reminder(request: HttpRequest, pk: int) -> JsonResponse:
    """The one click for a patient not in the waiting room three minutes after the start."""
    return _send(request, pk, late=True)


def _send(request: HttpRequest, pk: int, *, late: bool) -> JsonResponse:
    organisation = request.user.organisation
    appointment = get_object_or_404(Appointment, pk=pk, organisation=organisation)
    try:
        data = inputs.json_body(request)
    except ValidationError as exc:
        return json_error(" ".join(exc.messages))
    channel = data.get("channel", Channel.EMAIL)
    if not isinstance(channel, str) or channel not in FEATURES:
        return json_error("Diese Versandart gibt es nicht. Bitte laden Sie die Seite neu.")
    try:
        gate.require(organisation, FEATURES[channel])
    except gate.PlanLimit as limit:
        return json_error(limit.message, 403)
    if not ratelimit.hit("invitation", f"practice:{organisation.pk}", settings.INVITATIONS_PER_PRACTICE_HOUR, 3600):
        return json_error(
            "Ihre Praxis hat in dieser Stunde schon sehr viele Einladungen versendet. Bitte versuchen Sie es später erneut.",
            429,
        )
    try:
        to = actions.clean_email(data.get("to")) if channel == Channel.EMAIL else actions.clean_number(data.get("to"))
        with transaction.atomic():
            locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
            if late:
                actions.nudge(locked, channel, to)
            else:
                actions.invite(locked, channel, to, actions.check_code(locked, data.get("code")))
    except actions.InvitationRefused as refused:
        response = json_error(refused.message, refused.status)
        if refused.field:
            response = JsonResponse(
                {"error": refused.message, "errors": {refused.field: [refused.message]}}, status=refused.status
            )
        return response
    return JsonResponse({"messages": actions.messages_json(locked)}, status=201)


@csrf_exempt  # the provider has no session; the report is authenticated by its signature header
@require_POST
def sms_delivery_report(request: HttpRequest) -> JsonResponse:
    """A delivery report of the HTTP SMS API: "zugestellt" or "fehlgeschlagen" on the message. 404
    unless the HTTP backend with a report secret is configured."""
    if not reports.enabled():
        return json_error("Diese Adresse nimmt keine Zustellberichte an.", 404)
    try:
        provider_id, meaning = reports.read(request)
    except reports.ReportRefused as refused:
        return json_error(refused.message, refused.status)
    changed = actions.record_delivery([(provider_id, meaning)])
    log.info("SMS delivery report read (%s, %d message(s) changed)", meaning, changed)
    return JsonResponse({"changed": changed})
