"""The conference endpoints at Django: only the practice's own appointments, only on plus, bad
input refused in German with nothing changed (issue 18)."""

from __future__ import annotations

import json

from django.urls import reverse

from sprechzimmer.accounts import keyblobs
from sprechzimmer.conference.models import Conference, Participant
from tests import factories


def post_json(client, url, data=None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def test_an_outsider_reaches_nothing_of_another_practices_conference(clinic, janus, client):
    pk = clinic.appointment.pk
    assert post_json(clinic.client, reverse("api_conference", args=[pk])).status_code == 201
    guest = post_json(
        clinic.client,
        reverse("api_conference_invite", args=[pk]),
        {"role": "interpreter", "name": factories.envelope(keyblobs.ALG_RECORD)},
    ).json()["participant"]
    client.force_login(clinic.outsider)
    urls = [
        reverse("api_conference", args=[pk]),
        reverse("api_conference_invite", args=[pk]),
        reverse("api_conference_admit", args=[pk, guest["id"]]),
        reverse("api_conference_remove", args=[pk, guest["id"]]),
        reverse("api_conference_doctor_access", args=[pk]),
    ]
    for url in urls:
        assert (
            post_json(client, url, {"role": "relative", "name": factories.envelope(keyblobs.ALG_RECORD)}).status_code
            == 404
        )
    assert client.get(reverse("api_conference", args=[pk])).status_code == 404
    participant = Participant.objects.get(pk=guest["id"])
    assert participant.admitted_at is None and participant.removed_at is None
    assert Participant.objects.filter(conference__appointment_id=pk).count() == 3


def test_a_member_who_is_not_the_appointments_doctor_gets_no_seat(clinic, janus, client):
    pk = clinic.appointment.pk
    post_json(clinic.client, reverse("api_conference", args=[pk]))
    colleague = factories.member(clinic.practice)
    client.force_login(colleague)
    response = post_json(client, reverse("api_conference_doctor_access", args=[pk]))
    assert response.status_code == 403 and "Arzt des Termins" in response.json()["error"]


def test_basis_has_no_conferences(clinic, janus, client):
    client.force_login(clinic.basis_doctor)
    response = post_json(client, reverse("api_conference", args=[clinic.basis_appointment.pk]))
    assert response.status_code == 403 and "plus" in response.json()["error"]
    assert not Conference.objects.exists()


def test_without_janus_configured_the_practice_is_told_and_nothing_is_stored(clinic, settings):
    settings.JANUS_URL = ""
    response = post_json(clinic.client, reverse("api_conference", args=[clinic.appointment.pk]))
    assert response.status_code == 409 and "nicht eingerichtet" in response.json()["error"]
    assert not Conference.objects.exists()


def test_a_janus_that_does_not_answer_leaves_no_conference_behind(clinic, settings):
    from tests.browser.conftest import free_port

    settings.JANUS_URL = f"http://127.0.0.1:{free_port()}/janus"
    settings.JANUS_SECRET = "s" * 40
    response = post_json(clinic.client, reverse("api_conference", args=[clinic.appointment.pk]))
    assert response.status_code == 503 and "nicht erreichbar" in response.json()["error"]
    assert not Conference.objects.exists() and not Participant.objects.exists()


def test_bad_invitations_are_refused_in_german_and_store_nothing(clinic, janus):
    pk = clinic.appointment.pk
    post_json(clinic.client, reverse("api_conference", args=[pk]))
    url = reverse("api_conference_invite", args=[pk])
    name = factories.envelope(keyblobs.ALG_RECORD)
    for body in (
        {"role": "interpreter", "name": "Frau Yilmaz"},  # a plaintext name never reaches the server
        {"role": "doctor", "name": name},
        {"role": "patient", "name": name},
        {"role": ["interpreter"], "name": name},
        {"role": "relative"},
    ):
        response = post_json(clinic.client, url, body)
        assert response.status_code == 400 and response.json()["error"], body
    assert clinic.client.post(url, "nicht json", content_type="application/json").status_code == 400
    assert Participant.objects.filter(conference__appointment_id=pk).count() == 2


def test_a_conference_holds_nine_at_most(clinic, janus):
    pk = clinic.appointment.pk
    post_json(clinic.client, reverse("api_conference", args=[pk]))
    url = reverse("api_conference_invite", args=[pk])
    for _ in range(7):
        assert (
            post_json(clinic.client, url, {"role": "relative", "name": factories.envelope("A256GCM")}).status_code
            == 201
        )
    response = post_json(clinic.client, url, {"role": "relative", "name": factories.envelope("A256GCM")})
    assert response.status_code == 409 and "höchstens 9" in response.json()["error"]


def test_guest_codes_are_refused_like_patient_codes(clinic, janus, client):
    for code in ("", "ACDEF-34679", "x" * 500, None):
        response = post_json(client, reverse("api_conference_guest_code"), {"code": code})
        assert response.status_code == 403 and "nicht bekannt" in response.json()["error"]
    for token in ("", "abc", None, 5):
        response = post_json(client, reverse("api_conference_access"), {"token": token})
        assert response.status_code == 403 and "abgelaufen" in response.json()["error"]


def test_the_doctor_cannot_be_removed(clinic, janus):
    pk = clinic.appointment.pk
    conference = post_json(clinic.client, reverse("api_conference", args=[pk])).json()["conference"]
    doctor = conference["participants"][0]
    response = post_json(clinic.client, reverse("api_conference_remove", args=[pk, doctor["id"]]))
    assert response.status_code == 409
    assert Participant.objects.get(pk=doctor["id"]).removed_at is None
