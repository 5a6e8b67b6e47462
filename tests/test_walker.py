"""Every URL pattern, every role, malformed input: no server error and nothing of another practice
or KV in any response (issue 11, item 14). The machinery is in ``tests/walker.py``."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import time
from decimal import Decimal

import pytest
from allauth.mfa.models import Authenticator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.accounts import keyblobs
from sprechzimmer.accounts.models import Device, Invitation, Organisation, User, token_digest
from sprechzimmer.billing.models import QuarterReport
from sprechzimmer.contracts.models import Contract
from sprechzimmer.duty import applications, documents
from sprechzimmer.duty.domain.calendar import BERLIN, WEEKDAY
from sprechzimmer.duty.models import (
    ApplicationDocument,
    Area,
    CooperationApplication,
    Duty,
    DutyDoctor,
    DutyType,
    EmergencyPractice,
    KvPlanningRun,
    Plan,
    QuarterRevenue,
)
from sprechzimmer.records.models import EncryptedRecord
from sprechzimmer.video import services as video_services
from sprechzimmer.video.models import Appointment, VideoContact
from tests import factories
from tests.billing.builders import case, kvdt_bytes
from tests.duty import helpers as duty_helpers
from tests.walker import HUGE, Role, Walk, quiet_request_log, unrecorded_templates, url_patterns

pytestmark = pytest.mark.django_db

# Each organisation's objects carry its marker in their names; a role may see only its own.
PRACTICE_A, PRACTICE_B, KV_A, KV_B = "QXPRAXISA", "QXPRAXISB", "QXKVA", "QXKVB"
MARKERS = (PRACTICE_A, PRACTICE_B, KV_A, KV_B)


def _named(user: User, name: str) -> User:
    user.full_name = name
    user.save(update_fields=["full_name"])
    return user


def _practice(marker: str):
    practice = factories.practice(f"Praxis {marker}")
    practice.public_key = factories.fake_public_key()
    practice.wrapped_private_key = factories.envelope(keyblobs.ALG_RECORD)
    practice.save()
    main = _named(factories.member(practice, main=True), f"Dr. Haupt {marker}")
    staff = _named(factories.member(practice, role=User.Role.STAFF), f"MFA {marker}")
    now = timezone.now()
    soon = Appointment.objects.create(
        organisation=practice,
        doctor=main,
        start=now + dt.timedelta(minutes=10),
        patient_ciphertext=factories.envelope(keyblobs.ALG_RECORD),
    )
    video_services.issue_code(soon)
    past = Appointment.objects.create(
        organisation=practice,
        doctor=main,
        start=now - dt.timedelta(days=3),
        patient_ciphertext=factories.envelope(keyblobs.ALG_RECORD),
    )
    VideoContact.objects.create(
        organisation=practice, appointment=past, doctor=main, started_at=past.start, duration_seconds=600
    )
    Device.objects.create(
        user=staff, token_hash=token_digest(f"pending-{marker}"), name=f"Gerät {marker}", status=Device.Status.PENDING
    )
    Invitation.objects.create(
        organisation=practice,
        email=f"neu-{marker.lower()}@example.org",
        full_name=f"Neu {marker}",
        role="staff",
        token_hash=token_digest(f"invite-{marker}"),
        invited_by=main,
        expires_at=now + dt.timedelta(days=7),
    )
    EncryptedRecord.objects.create(
        organisation=practice, kind="practice-note", ciphertext=factories.envelope(keyblobs.ALG_RECORD)
    )
    uploader = Client()
    uploader.force_login(main)
    uploader.get(reverse("dashboard"))
    content = kvdt_bytes([case((2, ["03000", "01450"]), case_id="V1"), case((3, ["03000"]), case_id="P1")])
    response = uploader.post(
        reverse("billing_upload"), {"file": SimpleUploadedFile(f"{marker}.con", content), "quarter": ""}
    )
    assert response.status_code == 200, response.content
    return practice, main, staff


def _duty(plan: Plan, duty_type: DutyType, day: dt.date, doctor: DutyDoctor | None, status=Duty.Status.ASSIGNED):
    start = dt.datetime.combine(day, dt.time(18), BERLIN)
    return Duty.objects.create(
        plan=plan,
        duty_type=duty_type,
        day=day,
        start=start,
        end=start + dt.timedelta(hours=14),
        kind=WEEKDAY,
        doctor=doctor,
        status=status,
    )


def _kv(marker: str, obliged_user: User | None = None):
    """A KV with staff, an area, obliged doctors and a K-Arzt, plans (past, published, draft), an
    application with a document and revenue figures; every name carries the marker."""
    kv = duty_helpers.kv(f"KV {marker[-1]}")  # KV names are public (the application form lists them)
    staff = _named(duty_helpers.staff(kv), f"Sachbearbeitung {marker}")
    area = duty_helpers.area(kv, f"Bereich {marker}")
    sitting, driving = area.duty_types.get(kind="sitting"), area.duty_types.get(kind="driving")
    obliged_user = obliged_user or _named(factories.member(None, with_key=False), f"Dr. Pflicht {marker}")
    obliged = DutyDoctor.objects.create(kv=kv, user=obliged_user, area=area)
    colleague = DutyDoctor.objects.create(
        kv=kv, area=area, user=_named(factories.member(None, with_key=False), f"Dr. Kollege {marker}")
    )
    k_user = _named(factories.member(None, with_key=False), f"K-Ärztin {marker}")
    k_arzt = DutyDoctor.objects.create(kv=kv, user=k_user, kind=DutyDoctor.Kind.COOPERATING)
    today = timezone.localdate()
    ahead = today + dt.timedelta(days=30)
    published = Plan.objects.create(
        area=area,
        first=ahead,
        last=ahead + dt.timedelta(days=1),
        status=Plan.Status.PUBLISHED,
        published_at=timezone.now(),
    )
    _duty(published, sitting, ahead, obliged)
    _duty(published, driving, ahead, colleague, Duty.Status.OFFERED)
    _duty(published, sitting, ahead + dt.timedelta(days=1), k_arzt)
    _duty(published, driving, ahead + dt.timedelta(days=1), None, Duty.Status.OPEN)
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=3)
    past = Plan.objects.create(
        area=area, first=last_month, last=last_month, status=Plan.Status.PUBLISHED, published_at=timezone.now()
    )
    _duty(past, sitting, last_month, k_arzt)
    _duty(past, driving, last_month, obliged)
    later = ahead + dt.timedelta(days=20)
    draft = Plan.objects.create(area=area, first=later, last=later)
    _duty(draft, sitting, later, obliged)
    _duty(draft, driving, later, colleague)
    # A finished KV-wide planning run: its page names the areas of its drafts.
    run = KvPlanningRun.objects.create(
        kv=kv, first=later, last=later, status=KvPlanningRun.Status.DONE, areas_done=1, areas_total=1
    )
    run.plans.add(draft)
    application, token = applications.start(
        kv,
        full_name=f"Antrag {marker}",
        email=f"antrag-{marker.lower()}@example.org",
        birth_date=dt.date(1980, 1, 1),
        base_url="http://testserver",
    )
    ApplicationDocument.objects.create(
        application=application,
        anlage="approbation",
        filename=f"{marker}.pdf",
        content_type="application/pdf",
        size=9,
        stored_name=documents.store(io.BytesIO(b"%PDF-1.4\n"), application.pk, "approbation"),
    )
    QuarterRevenue.objects.create(
        practice=area.practices.get(),
        year=today.year,
        number=1,
        lanr=k_user.lanr,
        cases=3,
        points_x100=100,
        revenue=Decimal("12.34"),
        filename=f"{marker}.con",
    )
    return kv, staff, obliged, k_arzt, token


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # allauth's password forms hash what is typed; the walk sends them hundreds of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world():
    practice_a, main_a, staff_a = _practice(PRACTICE_A)
    practice_b, main_b, _ = _practice(PRACTICE_B)
    # Practice B is on plus, so that views gated to plus (the integrated invitation) are walked past
    # the gate, with practice A's ids as well as its own.
    Contract.objects.update_or_create(organisation=practice_b, defaults={"plan": "plus"})
    # The obliged duty doctor is a doctor of practice A (as the demo doctor is) with a plain name:
    # KV staff and practice colleagues both see it.
    obliged_user = _named(factories.member(practice_a), "Dr. Pflichtig")
    _, kv_staff_a, obliged, k_arzt, application_token = _kv(KV_A, obliged_user)
    _, kv_staff_b, _, _, _ = _kv(KV_B)
    roles = {  # role → (user or None, markers it may see, real values of string path parameters)
        "anonym": (None, (), {}),
        "hauptnutzer": (main_a, (PRACTICE_A,), {}),
        "mfa": (staff_a, (PRACTICE_A,), {}),
        "andere-praxis": (main_b, (PRACTICE_B,), {}),
        "kv": (kv_staff_a, (KV_A,), {}),
        "andere-kv": (kv_staff_b, (KV_B,), {}),
        "dienstarzt": (obliged.user, (PRACTICE_A, KV_A), {}),
        "k-arzt": (k_arzt.user, (KV_A,), {}),
        # An applicant for KV A with the secret link of the application (no account).
        "antrag": (None, (KV_A,), {"token": [application_token]}),
    }
    models = [
        User,
        Device,
        Invitation,
        Appointment,
        QuarterReport,
        EncryptedRecord,
        VideoContact,
        Authenticator,
        Organisation,
        Area,
        EmergencyPractice,
        DutyType,
        DutyDoctor,
        Plan,
        Duty,
        KvPlanningRun,
        CooperationApplication,
        ApplicationDocument,
    ]
    objects = {model: list(model.objects.order_by("pk").values_list("pk", flat=True)) for model in models}
    return roles, objects


def _login(user: User | None) -> Client:
    client = Client(raise_request_exception=True)
    if user is None:
        return client
    client.force_login(user)
    client.get(reverse("dashboard"))  # binds the session to a device
    # As after a real login with password and second factor: views that ask for a recent
    # authentication (allauth's reauthentication) are walked too, not only their redirect.
    session = client.session
    now = time.time()
    session["account_authentication_methods"] = [
        {"method": "password", "at": now, "email": user.email},
        {"method": "mfa", "at": now, "type": "totp"},
    ]
    session.save()
    return client


ROLES = ["anonym", "hauptnutzer", "mfa", "andere-praxis", "kv", "andere-kv", "dienstarzt", "k-arzt", "antrag"]


@pytest.mark.parametrize("role_name", ROLES)
def test_every_url_with_malformed_input_for_every_role(world, role_name):
    roles, objects = world
    user, visible, path_values = roles[role_name]
    role = Role(role_name, _login(user), tuple(m for m in MARKERS if m not in visible), path_values)
    walk = Walk(objects)
    patterns = list(url_patterns())
    assert len(patterns) > 100 and any(p.name == "mfa_list_webauthn" for p in patterns)  # allauth's are in
    with quiet_request_log(), unrecorded_templates():
        for pattern in patterns:
            walk.walk_pattern(role, pattern)
        walk.walk_forms(role)
    # The walker itself works: it found the models behind path ids, and the forms of the pages.
    if role_name == "kv":
        assert walk.models["kv/plaene/<pk>/dienste/<duty_pk>/"] == {"pk": Plan, "duty_pk": Duty}
        assert "POST kv/plaene/neu/" in walk.forms and "POST kv/bereiche/neu/" in walk.forms
        assert walk.models["kv/planung/<pk>/"] == {"pk": KvPlanningRun}
        assert "POST kv/planung/neu/" in walk.forms
    if role_name == "hauptnutzer":
        assert walk.models["api/termine/<pk>/"] == {"pk": Appointment}
        assert "POST praxis/einstellungen/" in walk.forms and "POST praxis/mitglieder/" in walk.forms
    if role_name == "andere-praxis":  # on plus: the invitation's body is read past the plan gate
        assert walk.models["api/termine/<pk>/einladung/"] == {"pk": Appointment}
        assert walk.models["api/termine/<pk>/nachfrage/"] == {"pk": Appointment}
    slowest = sorted(walk.seconds_by_pattern.items(), key=lambda item: -item[1])[:5]
    heaviest = sorted(walk.page_queries.items(), key=lambda item: -item[1])[:8]
    print(
        f"\n{role_name}: {walk.requests} requests, {len(walk.forms)} forms; slowest: {slowest}; most queries: {heaviest}"
    )
    assert not walk.failures, f"{len(walk.failures)} failures:\n" + "\n".join(walk.failures[:60])


# --- websockets ------------------------------------------------------------------------------------

UNKNOWN_WS_PATHS = [
    "/",
    "/ws/",
    "/ws/unbekannt/",
    "/ws/raum/abc/",
    "/ws/raum/-1/",
    "/ws/sprechstunde/",
    "/ws/praxis/extra/",
    "/ws/raum/" + HUGE + "/",
]
BAD_WS_MESSAGES = [
    "kein json",
    "[]",
    "null",
    "1e400",
    '{"type": {}}',
    '{"type": ["hello"]}',
    '{"type": "hello", "name": {}}',
    '{"type": "hello", "name": "' + "x" * 5000 + '"}',
    '{"type": "signal", "payload": 1e400}',
    '{"type": "signal"}',
    '{"type": "unbekannt"}',
    '{"type": "ping"}',
    '{"type": "admit"}',
    '{"type": "connected"}',
    '{"type": "hangup"}',
    '{"type": "leave"}',
    "x" * 70_000,
    b"\x00\xff binary",
]


async def _drain(communicator, seconds: float) -> list[str]:
    texts = []
    while not await communicator.receive_nothing(timeout=seconds, interval=0.01):
        message = await communicator.receive_output(timeout=10)
        texts.append(str(message.get("text", "")) + str(message.get("code", "")))
    return texts


async def _walk_socket(path: str, cookie: str | None, foreign: tuple[str, ...], failures: list[str], label: str):
    from tests.video.helpers import connect

    try:
        communicator, connected = await connect(path, cookie)
        texts = await _drain(communicator, 0.05) if connected else []
        if connected:
            for message in BAD_WS_MESSAGES:
                if isinstance(message, bytes):
                    await communicator.send_to(bytes_data=message)
                else:
                    await communicator.send_to(text_data=message)
                texts += await _drain(communicator, 0.02)
            texts += await _drain(communicator, 0.2)
        await communicator.disconnect(timeout=10)
    except Exception as error:  # an exception in a consumer or the router
        failures.append(f"[{label}] {path[:80]}: raised {type(error).__name__}: {str(error)[:200]}")
        return
    seen = [marker for marker in foreign if any(marker in text for text in texts)]
    if seen:
        failures.append(f"[{label}] {path[:80]}: shows objects of another practice/KV: {seen}")


def _patient_token(appointment) -> str:
    from sprechzimmer.video import consent

    client = Client()
    code = video_services.issue_code(appointment)
    token = client.post(reverse("api_patient_access"), {"code": code}, content_type="application/json").json()["token"]
    client.post(
        reverse("api_patient_consent"),
        {"token": token, "version": consent.CURRENT_VERSION, "accepted": True},
        content_type="application/json",
    )
    return token


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize("role_name", ROLES + ["patient"])
async def test_every_websocket_route_with_malformed_paths_and_messages(world, role_name):
    """The websocket routes of video/routing.py, walked like the URLs: every route with malformed
    and real (own and foreign) values, then malformed messages on every socket that opens. An
    unknown path is refused cleanly; nothing raises; no marker of another practice or KV arrives."""
    from channels.db import database_sync_to_async

    from sprechzimmer.video.routing import websocket_urlpatterns
    from tests.walker import INT_SPECIALS, STR_SPECIALS, _split

    roles, objects = world

    @database_sync_to_async
    def prepare():
        cache_clear()
        own_practice = Organisation.objects.get(name=f"Praxis {PRACTICE_A}")
        if role_name == "patient":
            token = _patient_token(Appointment.objects.filter(organisation=own_practice).order_by("start").last())
            return None, (PRACTICE_B, KV_A, KV_B), [token]
        user, visible, _ = roles[role_name]
        client = _login(user)
        cookie = client.cookies["sessionid"].value if user is not None else None
        return cookie, tuple(m for m in MARKERS if m not in visible), []

    cookie, foreign, tokens = await prepare()
    failures: list[str] = []
    paths = list(UNKNOWN_WS_PATHS)
    for route in websocket_urlpatterns:
        parts, params = _split(str(route.pattern), False)
        for kind in params.values():
            pool = INT_SPECIALS + [str(pk) for pk in objects[Appointment]] if kind == "int" else STR_SPECIALS + tokens
            paths += ["/" + "".join(p if isinstance(p, str) else value for p in parts) for value in pool]
        if not params:
            paths.append("/" + "".join(parts))
    # Sockets of different rooms are walked side by side (most of a walk is waiting for answers
    # that do not come); the paths of one room (or token) in order, as their messages change it.
    rooms: dict[str, list[str]] = {}
    for path in dict.fromkeys(paths):
        rooms.setdefault(_room_of(path), []).append(path)
    slots = asyncio.Semaphore(8)

    async def walk_room(room_paths: list[str]) -> None:
        async with slots:
            for path in room_paths:
                await _walk_socket(path, cookie, foreign, failures, role_name)

    await asyncio.gather(*(walk_room(room_paths) for room_paths in rooms.values()))
    assert len(rooms) > 10
    assert not failures, "\n".join(failures[:40])


def _room_of(path: str) -> str:
    """The appointment id or token a websocket path names (its third segment), else the path."""
    parts = path.strip("/").split("/")
    return parts[2] if len(parts) > 2 else path


def cache_clear():
    from django.core.cache import cache

    cache.clear()
