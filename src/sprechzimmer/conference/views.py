"""JSON endpoints of conferences (issue 18). The practice's side checks that the appointment is
the member's practice's (404 otherwise) and the plus plan; guests and the patient reach only their
own participant through a signed token. No media and no Janus traffic of browsers pass here."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from sprechzimmer import inputs
from sprechzimmer.accounts import keyblobs
from sprechzimmer.accounts.access import json_error, member_required
from sprechzimmer.conference import actions
from sprechzimmer.conference.models import Conference, Participant
from sprechzimmer.contracts import gate
from sprechzimmer.contracts.domain import Feature
from sprechzimmer.video import codeentry
from sprechzimmer.video import services as video_services
from sprechzimmer.video.models import Appointment


def _refused(refused: actions.ConferenceRefused) -> JsonResponse:
    return json_error(refused.message, refused.status)


def _appointment(request: HttpRequest, pk: int) -> Appointment:
    return get_object_or_404(Appointment, pk=pk, organisation=request.user.organisation)


def _plan(request: HttpRequest) -> JsonResponse | None:
    try:
        gate.require(request.user.organisation, Feature.CONFERENCES)
    except gate.PlanLimit as limit:
        return json_error(limit.message, 403)
    return None


@member_required
def api_conference(request: HttpRequest, pk: int) -> JsonResponse:
    """GET: the conference of the appointment (404 before there is one); POST: open it."""
    appointment = _appointment(request, pk)
    if request.method == "GET":
        conference = get_object_or_404(Conference, appointment=appointment)
        return JsonResponse({"conference": actions.conference_json(conference)})
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    if limited := _plan(request):
        return limited
    try:
        conference = actions.open_conference(appointment)
    except actions.ConferenceRefused as refused:
        return _refused(refused)
    return JsonResponse({"conference": actions.conference_json(conference)}, status=201)


@member_required
@require_POST
def api_invite(request: HttpRequest, pk: int) -> JsonResponse:
    """A further participant: role and encrypted name in, their access code out (shown once)."""
    conference = get_object_or_404(Conference, appointment=_appointment(request, pk))
    if limited := _plan(request):
        return limited
    try:
        data = inputs.json_body(request)
        name = actions.clean_name(data.get("name"), request.user.organisation.key_version)
    except ValidationError as exc:
        return json_error(" ".join(exc.messages))
    try:
        participant, code = actions.invite(conference, str(data.get("role") or ""), name)
    except actions.ConferenceRefused as refused:
        return _refused(refused)
    return JsonResponse({"participant": actions.participant_json(participant), "code": code}, status=201)


def _participant(request: HttpRequest, pk: int, participant: int) -> Participant:
    return get_object_or_404(
        Participant.objects.select_related("conference__appointment"),
        pk=participant,
        conference__appointment=_appointment(request, pk),
    )


@member_required
@require_POST
def api_admit(request: HttpRequest, pk: int, participant: int) -> JsonResponse:
    found = _participant(request, pk, participant)
    if limited := _plan(request):
        return limited
    try:
        admitted = actions.admit(found)
    except actions.ConferenceRefused as refused:
        return _refused(refused)
    return JsonResponse({"participant": actions.participant_json(admitted)})


@member_required
@require_POST
def api_remove(request: HttpRequest, pk: int, participant: int) -> JsonResponse:
    """Out of the conference (also without plus: taking someone out is never refused for the plan)."""
    try:
        removed = actions.remove(_participant(request, pk, participant))
    except actions.ConferenceRefused as refused:
        return _refused(refused)
    return JsonResponse({"participant": actions.participant_json(removed)})


@member_required
@require_POST
def api_grant(request: HttpRequest, pk: int, participant: int) -> JsonResponse:
    """The key relay, doctor's side: a conference key grant sealed in the doctor's browser to the
    participant's call key (which the request names, so a grant never lands on a newer key)."""
    found = _participant(request, pk, participant)
    if limited := _plan(request):
        return limited
    try:
        data = inputs.json_body(request)
        grant = keyblobs.check_blob(
            data.get("grant") if isinstance(data.get("grant"), str) else "",
            keyblobs.ALG_ECIES,
            extra=("epk",),
            max_bytes=actions.MAX_GRANT,
        )
        call_key = keyblobs.check_public_key(data.get("call_key") if isinstance(data.get("call_key"), str) else "")
    except ValidationError as exc:
        return json_error(" ".join(exc.messages))
    try:
        return JsonResponse({"participant": actions.participant_json(actions.leave_grant(found, grant, call_key))})
    except actions.ConferenceRefused as refused:
        return _refused(refused)


@member_required
@require_POST
def api_doctor_access(request: HttpRequest, pk: int) -> JsonResponse:
    """The doctor's Janus access (the appointment's doctor only, not every member)."""
    conference = get_object_or_404(Conference, appointment=_appointment(request, pk))
    if limited := _plan(request):
        return limited
    doctor = conference.participants.filter(role=Participant.Role.DOCTOR, user=request.user).first()
    if doctor is None:
        return json_error("Nur die Ärztin oder der Arzt des Termins nimmt an dieser Konferenz teil.", 403)
    try:
        return JsonResponse(actions.access(doctor))
    except actions.ConferenceRefused as refused:
        return _refused(refused)


# --- guests and the patient (no account) ---------------------------------------------------------


@require_POST
def api_guest_code(request: HttpRequest) -> JsonResponse:
    """A guest's access code for a signed token; wrong codes count against the address exactly
    like the patient's (video.views.api_patient_access)."""
    data, refusal = codeentry.attempt(request)
    if data is None:
        return refusal
    participant = actions.guest_for_code(str(data.get("code") or ""))
    if participant is None:
        codeentry.wrong_code(request)
        return json_error(video_services.CODE_UNKNOWN, 403)
    if problem := actions.guest_problem(participant):
        return json_error(problem, 403)
    appointment = participant.conference.appointment
    return JsonResponse(
        {
            "token": actions.guest_token(participant),
            "role": participant.role,
            "practice": appointment.organisation.name,
            "doctor": appointment.doctor.full_name,
            "start": appointment.start.isoformat(),
        }
    )


EXPIRED = "Ihr Zugang ist abgelaufen. Bitte geben Sie den Zugangscode erneut ein."


def _own_participant(token: str) -> Participant | None:
    """The participant a guest token or the appointment's patient token names (None: neither)."""
    participant = actions.guest_for_token(token)
    if participant is None:
        # A patient's page polls its key every two seconds: one poll may arrive after the doctor
        # hung up and before the page heard so on its websocket. It learns "ended" (as a guest's
        # does), not a 403 that reads as a stranger's token; access is refused by ``actions.access``.
        appointment = video_services.appointment_for_token(token, over_too=True)
        if appointment is not None:
            participant = Participant.objects.filter(
                conference__appointment=appointment, role=Participant.Role.PATIENT
            ).first()
    return participant


def participant_api(view: Callable[[Participant, dict], dict]) -> Callable[[HttpRequest], JsonResponse]:
    """A POST of a guest or the patient, named by the token in its JSON body: a body that is not
    JSON gets 400, a token of nobody's 403, a refusal of the conference its own answer; the view
    returns the answer's data."""

    @require_POST
    @wraps(view)
    def wrapped(request: HttpRequest) -> JsonResponse:
        try:
            data = inputs.json_body(request)
        except ValidationError as exc:
            return json_error(" ".join(exc.messages))
        participant = _own_participant(str(data.get("token") or ""))
        if participant is None:
            return json_error(EXPIRED, 403)
        try:
            return JsonResponse(view(participant, data))
        except ValidationError as exc:
            return json_error(" ".join(exc.messages))
        except actions.ConferenceRefused as refused:
            return _refused(refused)

    return wrapped


@participant_api
def api_participant_key(participant: Participant, data: dict) -> dict:
    """The key relay, participant's side (docs/signalling.md): sends this browser's call key and
    answers admitted/removed/ended and the grant the doctor's browser sealed to it, if any yet."""
    call_key = data.get("call_key")
    if call_key is not None:
        call_key = keyblobs.check_public_key(call_key if isinstance(call_key, str) else "")
    return actions.key_state(participant, call_key)


@participant_api
def api_participant_access(participant: Participant, data: dict) -> dict:
    """Janus access for a guest (guest token) or the appointment's patient (patient token), once
    the doctor admitted them; 409 while they wait, 403 when removed or over."""
    return actions.access(participant)


@participant_api
def api_participant_leave(participant: Participant, data: dict) -> dict:
    """A guest or the patient hangs up in the conference: out of the room and, through the doctor's
    browser, out of the key (actions.leave). Only their own participant, named by their token."""
    return {"left": actions.leave(participant).left_at is not None}


def guest_page(request: HttpRequest):
    """A further participant's page (interpreter, relative, colleague): their own code, the waiting
    room, then the conference. No account, nothing stored in the browser beyond the page."""
    return render(request, "conference/guest.html")
