"""Appointments and rooms: outsiders get 404 on every view and websocket; wrong, expired and
re-issued codes are refused; guessing is rate-limited."""

import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.accounts import keyblobs
from sprechzimmer.video.models import Appointment
from tests import factories
from tests.video.helpers import connect, video_practice


@pytest.fixture
def clinic(db):
    practice, doctor, appointment, code = video_practice("Praxis Video")
    outsider = factories.member(factories.practice("Andere Praxis"), main=True)
    return type(
        "Clinic", (), dict(practice=practice, doctor=doctor, appointment=appointment, code=code, outsider=outsider)
    )


def post_json(client, url, data, method="post"):
    return getattr(client, method)(url, json.dumps(data), content_type="application/json")


# --- outsiders, one test per view ----------------------------------------------------------------


def test_room_page_validates_ownership(client, clinic):
    client.force_login(clinic.outsider)
    assert client.get(reverse("room", args=[clinic.appointment.pk])).status_code == 404


def test_appointment_api_validates_ownership(client, clinic):
    client.force_login(clinic.outsider)
    url = reverse("api_appointment", args=[clinic.appointment.pk])
    assert client.get(url).status_code == 404
    assert post_json(client, url, {"status": "cancelled", "base_version": 1}, "patch").status_code == 404
    clinic.appointment.refresh_from_db()
    assert clinic.appointment.status == Appointment.Status.PLANNED


def test_reissue_code_validates_ownership(client, clinic):
    client.force_login(clinic.outsider)
    digest = clinic.appointment.access_code_digest
    assert client.post(reverse("api_reissue_code", args=[clinic.appointment.pk])).status_code == 404
    clinic.appointment.refresh_from_db()
    assert clinic.appointment.access_code_digest == digest


def test_egk_validates_ownership(client, clinic):
    client.force_login(clinic.outsider)
    assert client.post(reverse("api_egk_checked", args=[clinic.appointment.pk])).status_code == 404


def test_appointment_list_shows_only_own_practice(client, clinic):
    client.force_login(clinic.outsider)
    day = timezone.localdate(clinic.appointment.start).isoformat()
    assert client.get(reverse("api_appointments"), {"von": day, "bis": day}).json() == {"appointments": []}


def test_create_appointment_for_another_practices_doctor_is_refused(client, clinic):
    client.force_login(clinic.outsider)
    response = post_json(
        client,
        reverse("api_appointments"),
        {
            "doctor_id": clinic.doctor.pk,
            "start": timezone.now().isoformat(),
            "duration_minutes": 15,
            "patient": factories.envelope(keyblobs.ALG_RECORD),
        },
    )
    assert response.status_code == 400 and "doctor_id" in response.json()["errors"]
    assert Appointment.objects.count() == 1


def test_practice_keypair_is_per_practice(client, clinic):
    client.force_login(clinic.outsider)
    assert client.get(reverse("api_practice_keypair")).json()["public_key"] is None


@database_sync_to_async
def _session_cookie(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    client.get(reverse("dashboard"))  # binds the session to a device
    return client.cookies["sessionid"].value


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_room_websocket_validates_ownership(clinic):
    communicator, connected = await connect(
        f"/ws/raum/{clinic.appointment.pk}/", await _session_cookie(clinic.outsider)
    )
    message = await communicator.receive_json_from()
    assert message["type"] == "refused" and message["reason"] == "not-found"
    assert (await communicator.receive_output())["type"] == "websocket.close"


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_room_websocket_refuses_anonymous(clinic):
    communicator, _ = await connect(f"/ws/raum/{clinic.appointment.pk}/")
    assert (await communicator.receive_json_from())["reason"] == "not-found"


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_room_websocket_admits_the_practice(clinic):
    communicator, _ = await connect(f"/ws/raum/{clinic.appointment.pk}/", await _session_cookie(clinic.doctor))
    message = await communicator.receive_json_from()
    assert message == {
        "type": "state",
        "appointment": {
            "id": clinic.appointment.pk,
            "status": "planned",
            "waiting_name": None,
            "patient_present": False,
            "patient_seat": None,
        },
    }
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_practice_websocket_refuses_outsiders_of_any_kind():
    communicator, _ = await connect("/ws/praxis/")
    assert (await communicator.receive_output())["type"] == "websocket.close"


# --- codes ---------------------------------------------------------------------------------------


def test_right_code_gives_a_token(client, clinic):
    response = post_json(client, reverse("api_patient_access"), {"code": clinic.code.lower()})
    assert response.status_code == 200
    assert response.json()["practice"] == "Praxis Video" and response.json()["token"]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ACDEF-3467", "hat 10 Zeichen, z. B. ACDEF-34679; Sie haben 9 eingegeben"),
        # Ten characters, but letters no code has (a new user's walk got "besteht aus 10 Zeichen").
        ("ABCDE-FGHIJ", "enthalten diese Zeichen nicht: B, I"),
        ("ACDEF-34679", "nicht bekannt"),
    ],
)
def test_wrong_codes_are_refused(client, clinic, code, message):
    response = post_json(client, reverse("api_patient_access"), {"code": code})
    assert response.status_code == 403 and message in response.json()["error"]


def test_code_opens_30_minutes_before(client, clinic):
    Appointment.objects.filter(pk=clinic.appointment.pk).update(start=timezone.now() + timedelta(minutes=45))
    response = post_json(client, reverse("api_patient_access"), {"code": clinic.code})
    assert response.status_code == 403 and "30 Minuten vorher" in response.json()["error"]


def test_the_code_of_an_ended_consultation_says_so(client, clinic):
    """Ended before its start time: the code said "Ihr Termin beginnt … 30 Minuten vorher", as if the
    waiting room would open (a new user's walk, 2.12.2026)."""
    Appointment.objects.filter(pk=clinic.appointment.pk).update(
        start=timezone.now() + timedelta(minutes=45), status=Appointment.Status.DONE
    )
    response = post_json(client, reverse("api_patient_access"), {"code": clinic.code})
    assert response.status_code == 403
    assert "bereits beendet" in response.json()["error"] and "vorher" not in response.json()["error"]


def test_expired_code_is_refused(client, clinic):
    Appointment.objects.filter(pk=clinic.appointment.pk).update(start=timezone.now() - timedelta(days=1))
    response = post_json(client, reverse("api_patient_access"), {"code": clinic.code})
    assert response.status_code == 403 and "abgelaufen" in response.json()["error"]


def test_reissued_code_replaces_the_old_one(client, clinic):
    client.force_login(clinic.doctor)
    new_code = client.post(reverse("api_reissue_code", args=[clinic.appointment.pk])).json()["code"]
    client.logout()
    assert post_json(client, reverse("api_patient_access"), {"code": clinic.code}).status_code == 403
    assert post_json(client, reverse("api_patient_access"), {"code": new_code}).status_code == 200


def test_cancelled_appointment_code_is_refused(client, clinic):
    Appointment.objects.filter(pk=clinic.appointment.pk).update(status=Appointment.Status.CANCELLED)
    response = post_json(client, reverse("api_patient_access"), {"code": clinic.code})
    assert response.status_code == 403 and "abgesagt" in response.json()["error"]


def test_guessing_blocks_the_guessing_address_with_backoff(client, clinic, settings, monkeypatch):
    import sprechzimmer.ratelimit as ratelimit

    now = [1_000_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    url = reverse("api_patient_access")
    statuses = [
        post_json(client, url, {"code": "ACDEF-34679"}).status_code
        for _ in range(settings.ACCESS_CODE_LIMIT_PER_ADDRESS + 1)
    ]
    assert statuses[:-1] == [403] * settings.ACCESS_CODE_LIMIT_PER_ADDRESS and statuses[-1] == 429
    # The guessing address waits, even with the right code ...
    response = post_json(client, url, {"code": clinic.code})
    assert response.status_code == 429 and "Zu viele falsche Zugangscodes" in response.json()["error"]
    # ... a patient elsewhere does not.
    assert post_json(client.__class__(REMOTE_ADDR="10.9.9.9"), url, {"code": clinic.code}).status_code == 200
    # After a minute the address may try again; the next block lasts twice as long.
    now[0] += 61
    for _ in range(settings.ACCESS_CODE_LIMIT_PER_ADDRESS):
        post_json(client, url, {"code": "ACDEF-34679"})
    now[0] += 61
    assert post_json(client, url, {"code": clinic.code}).status_code == 429
    now[0] += 60
    assert post_json(client, url, {"code": clinic.code}).status_code == 200


def test_a_global_guessing_attack_slows_every_guess_but_never_refuses_the_right_code(client, clinic, settings):
    from sprechzimmer import proofofwork

    settings.ACCESS_CODE_LIMIT_GLOBAL = 3
    settings.ACCESS_CODE_POW_BITS = 8
    url = reverse("api_patient_access")
    for n in range(5):  # wrong codes from many addresses: over the global limit
        post_json(client.__class__(REMOTE_ADDR=f"10.0.0.{n}"), url, {"code": "ACDEF-34679"})
    patient = client.__class__(REMOTE_ADDR="10.0.1.1")
    asked = post_json(patient, url, {"code": clinic.code})
    assert asked.status_code == 429 and asked.json()["bits"] >= 8
    challenge = asked.json()["challenge"]
    wrong_nonce = next(
        str(n)
        for n in range(10_000)
        if proofofwork.leading_zero_bits(__import__("hashlib").sha256(f"{challenge}:{n}".encode()).digest()) == 0
    )
    assert (
        post_json(
            patient, url, {"code": clinic.code, "proof": {"challenge": challenge, "nonce": wrong_nonce}}
        ).status_code
        == 429
    )
    proof = {"challenge": challenge, "nonce": proofofwork.solve(challenge, asked.json()["bits"])}
    assert post_json(patient, url, {"code": clinic.code, "proof": proof}).status_code == 200
    # A challenge counts once; a forged one not at all.
    assert post_json(patient, url, {"code": clinic.code, "proof": proof}).status_code == 429
    forged = {"challenge": challenge.replace(challenge[-3:], "abc"), "nonce": proof["nonce"]}
    assert post_json(patient, url, {"code": clinic.code, "proof": forged}).status_code == 429
    # A guess with a valid proof is still checked, and counts.
    asked = post_json(patient, url, {"code": "ACDEF-34679"}).json()
    guess = {"challenge": asked["challenge"], "nonce": proofofwork.solve(asked["challenge"], asked["bits"])}
    assert post_json(patient, url, {"code": "ACDEF-34679", "proof": guess}).status_code == 403


def test_proof_of_work_difficulty_rises_with_the_attack(settings):
    from sprechzimmer import proofofwork, ratelimit

    settings.ACCESS_CODE_LIMIT_GLOBAL = 10
    settings.ACCESS_CODE_POW_BITS = 16
    assert proofofwork.required_bits() == 0
    for _ in range(11):
        proofofwork.count_failure()
    assert proofofwork.required_bits() == 18  # just over the limit: base + 2
    for _ in range(29):
        proofofwork.count_failure()
    assert proofofwork.required_bits() == 20  # 4x the limit: base + 4
    assert ratelimit.current(proofofwork.FAILURES, "*", 60) == 40


def test_consent_needs_a_valid_token_and_the_current_text(client, clinic):
    token = post_json(client, reverse("api_patient_access"), {"code": clinic.code}).json()["token"]
    assert (
        post_json(
            client, reverse("api_patient_consent"), {"token": token + "x", "version": "2026-11", "accepted": True}
        ).status_code
        == 403
    )
    assert (
        post_json(
            client, reverse("api_patient_consent"), {"token": token, "version": "2020-01", "accepted": True}
        ).status_code
        == 400
    )
    clinic.appointment.refresh_from_db()
    assert clinic.appointment.consent_at is None
    assert (
        post_json(
            client, reverse("api_patient_consent"), {"token": token, "version": "2026-11", "accepted": True}
        ).status_code
        == 200
    )
    clinic.appointment.refresh_from_db()
    assert clinic.appointment.consent_version == "2026-11"


def test_turn_credentials_follow_the_coturn_rest_scheme():
    import base64
    import hashlib
    import hmac

    from sprechzimmer.video.ice import turn_credentials

    username, credential = turn_credentials("geheim", 600, now=1_000_000)
    assert username.startswith("1000600:")
    assert credential == base64.b64encode(hmac.new(b"geheim", username.encode(), hashlib.sha1).digest()).decode()
