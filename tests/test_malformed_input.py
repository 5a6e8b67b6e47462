"""The malformed requests the outside probe reported (issue 11, item 14), each pinned: a German
answer, no server error. ``tests/test_walker.py`` walks every URL with such input; these say what
the answer is."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.accounts import keyblobs
from sprechzimmer.video.models import Appointment
from tests import factories
from tests.duty import helpers as duty
from tests.video.helpers import connect, video_practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice():
    organisation, doctor, appointment, _ = video_practice("Praxis Eingabe")
    client = Client()
    client.force_login(doctor)
    client.get(reverse("dashboard"))
    return type("P", (), dict(organisation=organisation, doctor=doctor, appointment=appointment, client=client))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("arzt=abc", "keine gültige Auswahl"),
        ("arzt=99999999999999999999", "keine gültige Auswahl"),
        ("von=2026-02-30", "Kein gültiges Datum"),
        ("von=9999-12-31", "Kein gültiges Datum"),
        ("bis=abc", "Kein gültiges Datum"),
    ],
)
def test_appointment_list_with_bad_filters(practice, query, message):
    response = practice.client.get(f"/api/termine/?{query}")
    assert response.status_code == 400 and message in response.json()["error"]


def _booking(practice, **changes) -> dict:
    start = timezone.localtime() + dt.timedelta(days=1)
    return {
        "doctor_id": practice.doctor.pk,
        "start": start.strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": 15,
        "patient": factories.envelope(keyblobs.ALG_RECORD),
    } | changes


@pytest.mark.parametrize(
    ("field", "raw"),
    [
        ("doctor_id", '"abc"'),
        ("doctor_id", '{"id": 1}'),
        ("doctor_id", "99999999999999999999"),
        ("start", '"2026-12-01T10:00:00+99:00"'),
        ("start", '"2026-02-30T10:00"'),
        ("start", '"9999-12-31T10:00"'),
        ("start", "[]"),
        ("duration_minutes", '"viel"'),
        ("duration_minutes", "15.5"),
        ("patient", "{}"),
        ("status", "{}"),
    ],
)
def test_booking_with_a_wrong_type_names_the_field(practice, field, raw):
    body = json.dumps(_booking(practice))[:-1] + f', "{field}": {raw}' + "}"  # the last key wins
    response = practice.client.post("/api/termine/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert Appointment.objects.count() == 1  # only the fixture's


def test_a_number_beyond_float_range_is_malformed_json(practice):
    body = json.dumps(_booking(practice))[:-1] + ', "duration_minutes": 1e400}'
    response = practice.client.post("/api/termine/", body, content_type="application/json")
    assert response.status_code == 400 and "unvollständig" in response.json()["error"]
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    "raw", ["kein json", "[]", "1e400", '{"base_version": 1e400}', '{"base_version": "x"}', '{"status": []}']
)
def test_changing_an_appointment_with_malformed_json(practice, raw):
    response = practice.client.patch(f"/api/termine/{practice.appointment.pk}/", raw, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]
    practice.appointment.refresh_from_db()
    assert practice.appointment.version == 1


def test_a_path_id_beyond_64_bits_is_not_found(practice):
    assert practice.client.get("/api/termine/99999999999999999999/").status_code == 404
    assert practice.client.get("/praxis/termine/9223372036854775808/raum/").status_code == 404


def test_duty_exchange_with_a_huge_area_number():
    own = duty.kv()
    doctor = duty.doctor(own, duty.area(own))
    client = duty.logged_in(Client(), doctor.user)
    response = client.get("/dienste/boerse/?bereich=99999999999999999999&von=2026-02-30")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Bereich: „99999999999999999999“ ist keine gültige Auswahl." in page
    assert "Kein gültiges Datum: „2026-02-30“" in page


def test_a_nul_character_is_refused_before_any_view(practice):
    """No person types NUL; PostgreSQL can neither store nor compare it (found by the walker)."""
    from sprechzimmer.accounts.models import Device

    device = Device.objects.get(user=practice.doctor)
    response = practice.client.post(f"/praxis/geraete/{device.pk}/umbenennen/", {"name": "Empfang\x00"})
    assert response.status_code == 400 and "unzulässiges Steuerzeichen" in response.content.decode()
    device.refresh_from_db()
    assert "\x00" not in device.name
    response = practice.client.get("/api/termine/", {"arzt": "\x00"})
    assert response.status_code == 400 and "Steuerzeichen" in response.json()["error"]
    response = practice.client.post("/api/sprechstunde/zugang/", '{"code": "\\u0000"}', content_type="application/json")
    assert response.status_code == 400 and "unvollständig" in response.json()["error"]


def test_a_form_body_sent_to_a_json_api(practice):
    """The CSRF check reads a multipart body as a form; the JSON view then finds no JSON (a 400),
    not a RawPostDataException (found by the walker's form pass)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(practice.doctor)
    client.get(reverse("calendar"))
    token = client.cookies["csrftoken"].value
    response = client.post("/api/termine/", {"doctor_id": str(practice.doctor.pk), "csrfmiddlewaretoken": token})
    assert response.status_code == 400 and "unvollständig" in response.json()["error"]


def test_webauthn_keys_page_renders(practice):
    session = practice.client.session
    session["account_authentication_methods"] = [{"method": "password", "at": timezone.now().timestamp()}]
    session.save()
    response = practice.client.get(reverse("mfa_list_webauthn"))
    assert response.status_code == 200 and "webauthn" in response.content.decode().lower()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/ws/unbekannt/", "/ws/", "/ws/raum/abc/", "/ws/raum/99999999999999999999/"])
async def test_an_unknown_websocket_path_is_refused(path):
    communicator, connected = await connect(path)
    assert not connected
    await communicator.disconnect()


def test_an_api_that_finds_nothing_answers_in_german_json_and_pages_keep_their_page(practice):
    """Another practice's appointment, a page that does not exist: the browser modules ask for JSON
    (lib/api.js) and show the server's message, so the error answer is JSON for them and the
    German error page for a person."""
    other, *_ = video_practice("Praxis Fremd")
    foreign = Appointment.objects.filter(organisation=other).first()
    response = practice.client.get(reverse("api_appointment", args=[foreign.pk]))
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json() == {"error": "Das gibt es nicht (mehr), oder es gehört nicht zu Ihrer Praxis."}

    page = practice.client.get("/praxis/gibt-es-nicht/")
    assert page.status_code == 404 and "Seite nicht gefunden" in page.content.decode()
    asked = practice.client.get("/praxis/gibt-es-nicht/", headers={"Accept": "application/json"})
    assert asked.status_code == 404 and "Ihrer Praxis" in asked.json()["error"]
    assert all("Accept" in answer["Vary"] for answer in (response, page, asked))


def test_a_server_error_answers_a_script_in_german_json():
    from django.test import RequestFactory

    from sprechzimmer import errors

    response = errors.server_error(RequestFactory().get("/api/termine/"))
    assert response.status_code == 500 and json.loads(response.content)["error"].startswith("Auf dem Server")
    assert b"<html" in errors.server_error(RequestFactory().get("/praxis/")).content.lower()


def test_a_post_without_a_valid_csrf_token_gets_a_german_answer(practice):
    """After a login or logout in another window the page's CSRF token no longer matches: the
    answer says so in German (JSON for the page's scripts), not Django's English page, and nothing
    is written."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(practice.doctor)
    client.get(reverse("calendar"))
    before = Appointment.objects.count()
    body = json.dumps({"doctor_id": practice.doctor.pk})
    response = client.post("/api/termine/", body, content_type="application/json", HTTP_X_CSRFTOKEN="x" * 32)
    assert response.status_code == 403 and "Seite neu" in response.json()["error"]
    response = client.post(reverse("calendar"), {"csrfmiddlewaretoken": "x" * 32})
    page = response.content.decode()
    assert response.status_code == 403 and "Sicherheitsprüfung" in page and "CSRF" not in page
    response = Client(enforce_csrf_checks=True).post(reverse("join"), {"code": "ABCDE-FGHIJ"})
    assert response.status_code == 403 and "Seite neu" in response.content.decode()
    assert Appointment.objects.count() == before


def test_a_form_target_opened_by_address_says_why_in_german(practice):
    """A GET of a URL that takes only POST (a bookmark of a form's target, /dienste/wuensche/ in a
    new user's walk) was a blank 405. The page says why, the Allow header stays; scripts get JSON."""
    client = practice.client
    response = client.get(reverse("device_rename", args=[1]))
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert "lässt sich so nicht aufrufen" in response.content.decode()
    assert "<html" in response.content.decode()
    api = client.get(reverse("device_rename", args=[1]), HTTP_ACCEPT="application/json")
    assert api.status_code == 405 and "lässt sich so nicht aufrufen" in api.json()["error"]
