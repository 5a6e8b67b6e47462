"""The API (issue 19): every endpoint checks the token, its scope and the practice; a revoked token
is refused at once; bad input gets a German JSON error, never a 500; the token is stored only as a
hash; the OpenAPI description and its documentation page come from the instance itself."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.api.models import SCOPES, ApiClient, token_hash
from sprechzimmer.core.timezones import BERLIN
from sprechzimmer.video.models import Appointment
from tests import factories

ALL = list(SCOPES)


@pytest.fixture
def world(db):
    practice = factories.practice("Praxis API")
    doctor = factories.member(practice, main=True)
    other = factories.practice("Praxis Fremd")
    other_doctor = factories.member(other, main=True)
    start = timezone.now() + dt.timedelta(days=1)
    theirs = Appointment.objects.create(
        organisation=other, doctor=other_doctor, start=start, patient_ciphertext=factories.envelope("A256GCM")
    )
    client, token = ApiClient.create(practice, "PVS", ALL, doctor)
    return type(
        "W",
        (),
        dict(practice=practice, doctor=doctor, other=other, theirs=theirs, client=client, token=token, start=start),
    )


def call(client, method: str, path: str, token: str | None, body: dict | None = None, **query):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    url = "/api/v1" + path
    if method == "get":
        return client.get(url, query, **headers)
    return getattr(client, method)(url, json.dumps(body or {}), content_type="application/json", **headers)


def new_appointment(world) -> dict:
    return {
        "doctor_id": world.doctor.pk,
        "start": world.start.isoformat(),
        "duration_minutes": 15,
        "patient": factories.envelope("A256GCM"),
    }


# (method, path template, scope, body)
ENDPOINTS = [
    ("get", "/appointments?von={day}", "appointments:read", None),
    ("post", "/appointments", "appointments:write", "new"),
    ("get", "/appointments/{mine}", "appointments:read", None),
    ("patch", "/appointments/{mine}", "appointments:write", {"base_version": 1, "status": "cancelled"}),
    ("post", "/appointments/{mine}/code", "codes", None),
    ("get", "/waiting-room", "waiting_room", None),
    ("get", "/video-contacts?quarter=3/2026", "video_contacts", None),
]


def _mine(world) -> Appointment:
    return Appointment.objects.create(
        organisation=world.practice,
        doctor=world.doctor,
        start=world.start,
        patient_ciphertext=factories.envelope("A256GCM"),
    )


def _request(client, world, method, template, token, body):
    mine = _mine(world)
    path = template.format(day=world.start.astimezone(BERLIN).date().isoformat(), mine=mine.pk)
    path, _, query = path.partition("?")
    params = dict(p.split("=") for p in query.split("&")) if query else {}
    data = new_appointment(world) if body == "new" else body
    return call(client, method, path, token, data, **params)


@pytest.mark.parametrize("method, template, scope, body", ENDPOINTS)
def test_every_endpoint_needs_a_valid_token_and_its_scope(client, world, method, template, scope, body):
    assert _request(client, world, method, template, world.token, body).status_code in (200, 201)
    for token in (None, "sz_wrong", world.token + "x", "Basic abc"):
        response = _request(client, world, method, template, token, body)
        assert response.status_code == 401 and "API-Schlüssel" in response.json()["error"]
    _, narrow = ApiClient.create(world.practice, "eng", [s for s in ALL if s != scope], world.doctor)
    response = _request(client, world, method, template, narrow, body)
    assert response.status_code == 403 and scope in response.json()["error"]
    world.client.revoked_at = timezone.now()
    world.client.save()
    assert _request(client, world, method, template, world.token, body).status_code == 401


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("get", "/appointments/{theirs}", None),
        ("patch", "/appointments/{theirs}", {"base_version": 0, "status": "cancelled"}),
        ("post", "/appointments/{theirs}/code", None),
    ],
)
def test_another_practices_appointment_is_not_found(client, world, method, path, body):
    before = Appointment.objects.get(pk=world.theirs.pk)
    response = call(client, method, path.format(theirs=world.theirs.pk), world.token, body)
    assert response.status_code == 404 and "Nicht gefunden" in response.json()["error"]
    after = Appointment.objects.get(pk=world.theirs.pk)
    assert (after.status, after.version, after.access_code_digest) == (
        before.status,
        before.version,
        before.access_code_digest,
    )


def test_lists_show_only_the_own_practice(client, world):
    _mine(world)
    day = world.start.astimezone(BERLIN).date().isoformat()
    listed = call(client, "get", "/appointments", world.token, von=day).json()["appointments"]
    assert listed and all(a["id"] != world.theirs.pk for a in listed)
    world.theirs.status = Appointment.Status.WAITING
    world.theirs.save()
    assert call(client, "get", "/waiting-room", world.token).json() == []


def test_create_move_and_cancel_with_ciphertext_only(client, world):
    response = call(client, "post", "/appointments", world.token, new_appointment(world))
    assert response.status_code == 201
    created = response.json()
    assert len(created["code"]) >= 10 and created["appointment"]["patient"].startswith("{")
    later = (world.start + dt.timedelta(hours=2)).isoformat()
    moved = call(
        client,
        "patch",
        f"/appointments/{created['appointment']['id']}",
        world.token,
        {"base_version": 1, "start": later},
    )
    assert moved.status_code == 200 and moved.json()["version"] == 2
    stale = call(
        client,
        "patch",
        f"/appointments/{created['appointment']['id']}",
        world.token,
        {"base_version": 1, "status": "cancelled"},
    )
    assert stale.status_code == 409 and "inzwischen" in stale.json()["error"]
    cancelled = call(
        client,
        "patch",
        f"/appointments/{created['appointment']['id']}",
        world.token,
        {"base_version": 2, "status": "cancelled"},
    )
    assert cancelled.json()["status"] == "cancelled"
    refused = call(client, "post", f"/appointments/{created['appointment']['id']}/code", world.token)
    assert refused.status_code == 409 and "abgesagte" in refused.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        {"doctor_id": 0, "start": "2026-02-30T10:00", "duration_minutes": 15, "patient": "x"},
        {"doctor_id": "abc", "start": 5, "patient": None},
        {"doctor_id": 10**30, "start": "x", "duration_minutes": 1e400, "patient": "<script>"},
        {},
        [],
        "plain text",
    ],
)
def test_bad_bodies_get_a_german_error_and_change_nothing(client, world, body):
    before = Appointment.objects.count()
    response = client.post(
        "/api/v1/appointments",
        json.dumps(body) if not isinstance(body, str) else body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {world.token}",
    )
    assert response.status_code == 400 and response.json()["error"]
    assert Appointment.objects.count() == before


def test_bad_query_values_are_400_not_500(client, world):
    for params in (
        {"von": "2026-13-01"},
        {"von": "x"},
        {},
        {"von": "2026-01-01", "bis": "2025-01-01"},
        {"von": "2026-01-01", "bis": "2026-12-31"},
    ):
        assert call(client, "get", "/appointments", world.token, **params).status_code == 400, params
    assert call(client, "get", "/video-contacts", world.token, quarter="9/2026").status_code == 400
    assert call(client, "get", "/appointments/abc", world.token).status_code in (400, 404)


def test_only_a_hash_of_the_token_is_stored_and_use_is_recorded(client, world):
    stored = ApiClient.objects.get(pk=world.client.pk)
    assert stored.token_hash == token_hash(world.token) and world.token not in (stored.hint, stored.token_hash)
    assert stored.last_used_at is None
    call(client, "get", "/waiting-room", world.token)
    assert ApiClient.objects.get(pk=world.client.pk).last_used_at is not None


def test_the_openapi_description_and_its_page_come_from_the_instance(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/appointments", "/api/v1/waiting-room", "/api/v1/video-contacts"} <= set(schema["paths"])
    page = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle" in page and "cdn" not in page.lower()


def test_the_main_user_creates_sees_and_revokes_clients(client, world):
    client.force_login(world.doctor)
    client.get(reverse("dashboard"))
    response = client.post(
        reverse("api_clients"), {"name": "Mein PVS <b>", "scopes": ["appointments:read", "nonsense"]}
    )
    assert response.status_code == 201
    page = response.content.decode()
    token = page.split('<code id="token-value">')[1].split("</code>")[0]
    assert call(client, "get", "/waiting-room", token).status_code == 403  # only appointments:read
    assert "Mein PVS &lt;b&gt;" in page
    created = ApiClient.objects.get(name="Mein PVS <b>")
    assert created.scope_list == ["appointments:read"]
    assert token not in client.get(reverse("api_clients")).content.decode()  # shown once
    client.post(reverse("api_client_revoke", args=[created.pk]))
    assert call(client, "get", "/appointments", token, von="2026-01-01").status_code == 401
    bad = client.post(reverse("api_clients"), {"name": "  ", "scopes": ["codes"]})
    assert bad.status_code == 400 and "Bitte geben Sie einen Namen an." in bad.content.decode()
    long = client.post(reverse("api_clients"), {"name": "x" * 101, "scopes": ["codes"]})
    assert long.status_code == 400 and "höchstens 100 Zeichen" in long.content.decode()


def test_others_cannot_manage_a_practices_clients(client, world):
    staff = factories.member(world.practice, role="staff")
    client.force_login(staff)
    client.get(reverse("dashboard"))
    assert client.get(reverse("api_clients")).status_code == 404
    outsider = factories.member(world.other, main=False)
    other_main = world.other.members.get(is_main_user=True)
    client.force_login(other_main)
    client.get(reverse("dashboard"))
    assert client.post(reverse("api_client_revoke", args=[world.client.pk])).status_code == 404
    assert ApiClient.objects.get(pk=world.client.pk).revoked_at is None
    assert outsider.pk
