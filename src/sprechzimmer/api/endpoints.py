"""The versioned REST API (/api/v1/, docs/api.md) for practice software: appointments with patient
data only as practice-key ciphertext, access codes, the waiting room, the quarter's video contacts.

Made with django-ninja: the OpenAPI description (/api/v1/openapi.json) and its documentation page
(/api/v1/docs, Swagger UI served by the instance itself) come from the same code as the endpoints.
Every request carries a client's bearer token (models.ApiClient); every endpoint names the scope it
needs and sees only the client's own practice. Errors are JSON ``{"error": …}`` in German."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, File, Form, NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.files import UploadedFile
from ninja.security import HttpBearer
from pydantic import BeforeValidator

from sprechzimmer import ratelimit
from sprechzimmer.accounts import keyblobs
from sprechzimmer.accounts.keyrotation import keyring_json
from sprechzimmer.api.models import TOKEN_PREFIX, ApiClient, token_hash
from sprechzimmer.billing.domain.model import BillingError, Quarter
from sprechzimmer.billing.models import QuarterReport
from sprechzimmer.billing.uploads import UploadRefused, check_upload
from sprechzimmer.billing.views import video_contacts_document
from sprechzimmer.inputs import EARLIEST_DATE, LATEST_DATE, parse_date
from sprechzimmer.video import appointments, services
from sprechzimmer.video.models import Appointment

#: Requests per client and minute; failed authentications per address and minute.
PER_CLIENT = (120, 60)
BAD_TOKENS_PER_ADDRESS = (20, 60)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiClient | None:
        limit, period = BAD_TOKENS_PER_ADDRESS
        if ratelimit.current("api-bad-token-count", ratelimit.request_key(request), period) >= limit:
            raise HttpError(429, "Zu viele ungültige API-Schlüssel von dieser Adresse. Bitte warten Sie eine Minute.")
        client = None
        if token.startswith(TOKEN_PREFIX) and len(token) < 100:
            client = (
                ApiClient.objects.select_related("organisation")
                .filter(token_hash=token_hash(token), revoked_at__isnull=True, organisation__kind="practice")
                .first()
            )
        if client is None:
            ratelimit.count("api-bad-token-count", ratelimit.request_key(request), period)
            return None
        if not ratelimit.hit("api-client", f"client:{client.pk}", *PER_CLIENT):
            raise HttpError(429, "Zu viele Anfragen dieses API-Zugangs. Bitte warten Sie eine Minute.")
        now = timezone.now()
        if client.last_used_at is None or now - client.last_used_at > dt.timedelta(minutes=1):
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        request.api_client = client  # type: ignore[attr-defined]
        return client


api = NinjaAPI(
    title="Sprechzimmer API",
    version="1",
    description="Termine, Zugangscodes, Wartezimmer und Videokontakte einer Praxis. Patientendaten nur als "
    "Chiffrat unter dem Praxisschlüssel (docs/e2ee.md).",
    auth=TokenAuth(),
    urls_namespace="api-v1",
)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return api.create_response(request, {"error": "Kein gültiger API-Schlüssel (Authorization: Bearer …)."}, status=401)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, {"error": "Nicht gefunden (oder nicht in Ihrer Praxis)."}, status=404)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return api.create_response(request, {"error": str(exc)}, status=exc.status_code)


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc: NinjaValidationError):
    fields = {".".join(str(p) for p in e.get("loc", ())[1:]) or "body": e.get("msg", "") for e in exc.errors}
    return api.create_response(request, {"error": "Die Anfrage hat ungültige Angaben.", "errors": fields}, status=400)


def answers(documented: dict) -> dict:
    """An operation's documented answers: its own, and those every operation may give (400 invalid
    input, 401 no valid token, 403 scope missing, 429 limit), all as ``Error``."""
    return {400: Error, 401: Error, 403: Error, 429: Error, **documented}


def _needs(request: HttpRequest, scope: str) -> ApiClient:
    client: ApiClient = request.api_client  # type: ignore[attr-defined]
    if scope not in client.scope_list:
        raise HttpError(403, f"Dieser API-Zugang hat das Recht „{scope}“ nicht.")
    return client


def _day(value: object) -> dt.date:
    """Only JJJJ-MM-TT within the years the product deals with (inputs.parse_date): pydantic alone
    would take a number as a Unix time (``von=0``) and year 1, which overflows in Berlin time."""
    day = parse_date(value)
    if day is None:
        raise ValueError(f"Datum bitte als JJJJ-MM-TT zwischen {EARLIEST_DATE.year} und {LATEST_DATE.year} angeben.")
    return day


#: A day in the query as JJJJ-MM-TT and nothing else.
IsoDate = Annotated[dt.date, BeforeValidator(_day)]


class Error(Schema):
    error: str
    code: str | None = Field(None, description="stale_key: mit einer älteren Schlüsselversion verschlüsselt")


class AppointmentOut(Schema):
    id: int
    doctor_id: int
    start: dt.datetime
    duration_minutes: int
    status: str
    patient: str
    version: int
    has_code: bool
    code_opens: dt.datetime
    code_closes: dt.datetime
    booked_online: bool
    confirmed: bool


class AppointmentList(Schema):
    appointments: list[AppointmentOut]


class AppointmentCreate(Schema):
    doctor_id: int
    start: str
    duration_minutes: int = 15
    patient: str


class AppointmentChange(Schema):
    base_version: int
    start: str | None = None
    duration_minutes: int | None = None
    status: str | None = None
    patient: str | None = None


class Created(Schema):
    appointment: AppointmentOut
    code: str


class Code(Schema):
    code: str


class Waiting(Schema):
    appointment_id: int
    doctor_id: int
    start: dt.datetime
    status: str
    patient_present: bool


class StaleKey(Exception):
    """Patient data sealed with a practice key version older than the practice's current one."""


@api.exception_handler(StaleKey)
def _stale_key(request, exc: StaleKey):
    # 409 with a code a client can act on: reload its keys and seal again (sprechzimmer_client does).
    return api.create_response(request, {"error": keyblobs.STALE_KEY, "code": "stale_key"}, status=409)


def _fields(data: dict, organisation, current: Appointment | None = None) -> dict:
    try:
        return appointments.clean_fields(data, organisation, current=current)
    except ValidationError as exc:
        if any(e.code == "stale_key" for e in exc.error_dict.get("patient", ())):
            raise StaleKey from None
        messages = "; ".join(f"{k}: {' '.join(m for e in v for m in e.messages)}" for k, v in exc.error_dict.items())
        raise HttpError(400, messages) from None


@api.get("/appointments", response=answers({200: AppointmentList, 400: Error}), summary="Termine eines Zeitraums")
def list_appointments(request, von: IsoDate, bis: IsoDate | None = None, doctor_id: int | None = None):
    """Höchstens zwei Monate; ``von``/``bis`` als JJJJ-MM-TT (Europe/Berlin)."""
    client = _needs(request, "appointments:read")
    last = bis or von
    if last < von or (last - von).days > 62:
        raise HttpError(400, "Bitte wählen Sie einen Zeitraum von höchstens zwei Monaten.")
    query = appointments.in_period(client.organisation, von, last, doctor_id)
    return {"appointments": [appointments.summary(a) for a in query]}


@api.post(
    "/appointments",
    response=answers({201: Created, 400: Error, 409: Error}),
    summary="Termin anlegen (mit Zugangscode)",
)
def create_appointment(request, body: AppointmentCreate):
    client = _needs(request, "appointments:write")
    fields = _fields(body.dict(), client.organisation)
    with transaction.atomic():
        appointment = Appointment.objects.create(organisation=client.organisation, **fields)
        code = services.issue_code(appointment)
    return Status(201, {"appointment": appointments.summary(appointment), "code": code})


@api.get("/appointments/{appointment_id}", response=answers({200: AppointmentOut, 404: Error}), summary="Ein Termin")
def get_appointment(request, appointment_id: int):
    client = _needs(request, "appointments:read")
    return appointments.summary(get_object_or_404(Appointment, pk=appointment_id, organisation=client.organisation))


@api.patch(
    "/appointments/{appointment_id}",
    response=answers({200: AppointmentOut, 400: Error, 404: Error, 409: Error}),
    summary="Termin verschieben, ändern oder absagen (status: cancelled)",
)
def change_appointment(request, appointment_id: int, body: AppointmentChange):
    client = _needs(request, "appointments:write")
    appointment = get_object_or_404(Appointment, pk=appointment_id, organisation=client.organisation)
    data = body.dict(exclude_none=True)
    base_version = data.pop("base_version")
    fields = _fields(data, client.organisation, current=appointment)
    try:
        changed = appointments.apply_change(appointment, fields, base_version)
    except appointments.Conflict as exc:
        raise HttpError(409, exc.message) from None
    return appointments.summary(changed)


@api.post(
    "/appointments/{appointment_id}/code",
    response=answers({200: Code, 404: Error, 409: Error}),
    summary="Neuen Zugangscode ausstellen (der alte gilt nicht mehr)",
)
def reissue_code(request, appointment_id: int):
    client = _needs(request, "codes")
    appointment = get_object_or_404(Appointment, pk=appointment_id, organisation=client.organisation)
    problem = appointments.code_problem(appointment)
    if problem:
        raise HttpError(409, problem)
    return {"code": services.issue_code(appointment)}


@api.get("/waiting-room", response=answers({200: list[Waiting]}), summary="Wer jetzt wartet oder im Gespräch ist")
def waiting_room(request):
    client = _needs(request, "waiting_room")
    query = client.organisation.appointments.filter(
        status__in=[Appointment.Status.WAITING, Appointment.Status.IN_CALL]
    ).order_by("start")
    return [
        {
            "appointment_id": a.pk,
            "doctor_id": a.doctor_id,
            "start": a.start,
            "status": a.status,
            "patient_present": bool(a.patient_channel),
        }
        for a in query
    ]


@api.get("/video-contacts", response=answers({200: dict, 400: Error}), summary="Videokontakte eines Quartals")
def video_contacts(request, quarter: str):
    """``quarter`` als Q/JJJJ, z. B. 3/2026; Format wie der Export unter „Abrechnung“."""
    client = _needs(request, "video_contacts")
    try:
        parsed = Quarter.parse(quarter)
    except BillingError as exc:
        raise HttpError(400, str(exc)) from None
    return video_contacts_document(client.organisation, parsed)


class BillingCheck(Schema):
    id: int
    quarter: str
    ruleset: str
    filename: str
    uploaded_at: dt.datetime
    cases: int
    counted_cases: int
    video_only_cases: int
    errors: int
    report: dict


def _billing_check(saved: QuarterReport) -> dict:
    return {
        "id": saved.pk,
        "quarter": saved.quarter_label,
        "ruleset": saved.ruleset,
        "filename": saved.filename,
        "uploaded_at": saved.uploaded_at,
        "cases": saved.cases,
        "counted_cases": saved.counted_cases,
        "video_only_cases": saved.video_only_cases,
        "errors": saved.errors,
        "report": saved.report,
    }


@api.post(
    "/billing-checks",
    response=answers({201: BillingCheck, 400: Error}),
    summary="Quartalsdatei prüfen (KVDT ohne Patientendaten oder JSON-Fallformat)",
)
def upload_billing_check(request, file: File[UploadedFile], quarter: Form[str] = ""):
    """Wie „Abrechnung → Quartalsdatei prüfen“: die Datei darf keine Patientendaten enthalten
    (Namen als Pseudonym, Geburtsdatum als Alter, wie der Browser sie vorbereitet, docs/ebm.md);
    ein früherer Bericht desselben Quartals wird ersetzt. ``quarter`` (Q/JJJJ) ist optional."""
    client = _needs(request, "billing_check")
    try:
        saved = check_upload(client.organisation, file, quarter, None)
    except UploadRefused as exc:
        raise HttpError(400, exc.message) from None
    return Status(201, _billing_check(saved))


@api.get(
    "/billing-checks/{check_id}",
    response=answers({200: BillingCheck, 404: Error}),
    summary="Ein gespeicherter Prüfbericht",
)
def get_billing_check(request, check_id: int):
    client = _needs(request, "billing_check")
    return _billing_check(get_object_or_404(QuarterReport, pk=check_id, organisation=client.organisation))


class KeyringEntry(Schema):
    version: int
    wrapped_previous: str


class ClientKey(Schema):
    organisation_id: int
    public_key: str | None
    fingerprint: str | None
    wrapped_practice_key: str | None
    practice_key_version: int | None
    key_version: int
    keyring: list[KeyringEntry]


class ClientKeyIn(Schema):
    public_key: str


def _client_key(client: ApiClient) -> dict:
    held = client.practice_key_version if client.wrapped_practice_key else 0
    return {
        "organisation_id": client.organisation_id,
        "public_key": client.public_key or None,
        "fingerprint": client.fingerprint or None,
        "wrapped_practice_key": client.wrapped_practice_key or None,
        "practice_key_version": held or None,
        "key_version": client.organisation.key_version,
        "keyring": keyring_json(client.organisation, held),
    }


@api.get("/key", response=answers({200: ClientKey}), summary="Schlüssel dieses API-Zugangs")
def get_client_key(request):
    """Der angemeldete öffentliche Schlüssel und, sobald die Praxis ihn im Browser freigegeben hat,
    der Praxisschlüssel verschlüsselt für diesen Schlüssel (ECIES, docs/e2ee.md), dazu seine Version
    und die Kette älterer Versionen (``keyring``: jede Version enthält die vorige, verschlüsselt mit
    ihr selbst). Jeder Zugang."""
    return _client_key(request.api_client)


@api.put("/key", response=answers({200: ClientKey}), summary="Öffentlichen Schlüssel anmelden")
def put_client_key(request, body: ClientKeyIn):
    """Meldet den öffentlichen Schlüssel (P-256, SPKI, base64url) eines verschlüsselnden Programms an.
    Ein neuer Schlüssel hebt eine frühere Freigabe auf: die Praxis muss ihn erneut freigeben."""
    client: ApiClient = request.api_client
    try:
        public_key = keyblobs.check_public_key(body.public_key)
    except ValidationError:
        raise HttpError(400, "Der öffentliche Schlüssel muss ein P-256-Schlüssel (SPKI, base64url) sein.") from None
    with transaction.atomic():
        locked = ApiClient.objects.select_for_update().get(pk=client.pk)
        if locked.public_key != public_key:
            locked.public_key, locked.wrapped_practice_key, locked.key_granted_by = public_key, "", None
            locked.save(update_fields=["public_key", "wrapped_practice_key", "key_granted_by"])
    return _client_key(locked)
