"""The key relay of conferences (issue 18): a participant's browser leaves its call key, the
doctor's browser leaves a grant sealed to it, the participant picks it up. Only the appointment's
practice leaves grants, only for an admitted participant and the call key they hold now; after the
appointment ends nothing is relayed; nobody reads another's grant."""

from __future__ import annotations

import json

from django.urls import reverse

from sprechzimmer.accounts import keyblobs
from sprechzimmer.conference import actions
from sprechzimmer.conference.models import Participant
from sprechzimmer.video import services as video_services
from sprechzimmer.video.models import Appointment
from tests import factories


def post_json(client, url, data=None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def grant_envelope() -> str:
    return factories.envelope(keyblobs.ALG_ECIES, epk=factories.fake_public_key())


def invited(clinic):
    pk = clinic.appointment.pk
    post_json(clinic.client, reverse("api_conference", args=[pk]))
    answer = post_json(
        clinic.client,
        reverse("api_conference_invite", args=[pk]),
        {"role": "interpreter", "name": factories.envelope(keyblobs.ALG_RECORD)},
    ).json()
    participant = Participant.objects.get(pk=answer["participant"]["id"])
    return participant, actions.guest_token(participant)


def test_the_call_key_travels_to_the_doctor_and_the_grant_back(clinic, janus, client):
    participant, token = invited(clinic)
    pk = clinic.appointment.pk
    call_key = factories.fake_public_key()
    state = post_json(client, reverse("api_conference_key"), {"token": token, "call_key": call_key}).json()
    assert state == {
        "admitted": False,
        "removed": False,
        "ended": False,
        "conference": str(participant.conference_id),
        "grant": None,
    }
    listed = clinic.client.get(reverse("api_conference", args=[pk])).json()["conference"]["participants"]
    assert [p["call_key"] for p in listed if p["id"] == participant.pk] == [call_key]

    grant_url = reverse("api_conference_grant", args=[pk, participant.pk])
    grant = grant_envelope()
    # Not before the doctor admitted them.
    assert post_json(clinic.client, grant_url, {"grant": grant, "call_key": call_key}).status_code == 409
    post_json(clinic.client, reverse("api_conference_admit", args=[pk, participant.pk]))
    # Not for a call key they no longer hold (they reloaded meanwhile).
    response = post_json(clinic.client, grant_url, {"grant": grant, "call_key": factories.fake_public_key()})
    assert response.status_code == 409 and "neuen Schlüssel" in response.json()["error"]
    assert post_json(clinic.client, grant_url, {"grant": grant, "call_key": call_key}).status_code == 200
    state = post_json(client, reverse("api_conference_key"), {"token": token, "call_key": call_key}).json()
    assert state["admitted"] and state["grant"] == grant

    # A new call key (a reload) drops the grant sealed to the old one.
    fresh = {"token": token, "call_key": factories.fake_public_key()}
    assert post_json(client, reverse("api_conference_key"), fresh).json()["grant"] is None


def test_bad_grants_and_call_keys_are_refused_and_change_nothing(clinic, janus, client):
    participant, token = invited(clinic)
    pk = clinic.appointment.pk
    call_key = factories.fake_public_key()
    post_json(client, reverse("api_conference_key"), {"token": token, "call_key": call_key})
    post_json(clinic.client, reverse("api_conference_admit", args=[pk, participant.pk]))
    grant_url = reverse("api_conference_grant", args=[pk, participant.pk])
    for body in (
        {"grant": "Schlüssel im Klartext", "call_key": call_key},
        {"grant": factories.envelope(keyblobs.ALG_RECORD), "call_key": call_key},
        {"grant": grant_envelope(), "call_key": "kurz"},
        {"grant": ["x"], "call_key": call_key},
        {},
    ):
        response = post_json(clinic.client, grant_url, body)
        assert response.status_code == 400 and response.json()["error"], body
    for call_key_value in ("kurz", 5, ["x"]):
        response = post_json(client, reverse("api_conference_key"), {"token": token, "call_key": call_key_value})
        assert response.status_code == 400
    for bad_token in ("", "abc", None):
        response = post_json(client, reverse("api_conference_key"), {"token": bad_token})
        assert response.status_code == 403 and "abgelaufen" in response.json()["error"]
    participant.refresh_from_db()
    assert participant.grant == "" and participant.call_key == call_key


def test_an_outsider_leaves_no_grant_in_another_practices_conference(clinic, janus, client):
    participant, token = invited(clinic)
    pk = clinic.appointment.pk
    call_key = factories.fake_public_key()
    post_json(client, reverse("api_conference_key"), {"token": token, "call_key": call_key})
    post_json(clinic.client, reverse("api_conference_admit", args=[pk, participant.pk]))
    client.force_login(clinic.outsider)
    response = post_json(
        client,
        reverse("api_conference_grant", args=[pk, participant.pk]),
        {"grant": grant_envelope(), "call_key": call_key},
    )
    assert response.status_code == 404
    participant.refresh_from_db()
    assert participant.grant == ""


def test_after_the_appointment_ends_no_grant_is_relayed_and_the_guest_is_refused(clinic, janus, client):
    participant, token = invited(clinic)
    pk = clinic.appointment.pk
    call_key = factories.fake_public_key()
    post_json(client, reverse("api_conference_key"), {"token": token, "call_key": call_key})
    post_json(clinic.client, reverse("api_conference_admit", args=[pk, participant.pk]))
    Appointment.objects.filter(pk=pk).update(status=Appointment.Status.DONE)
    response = post_json(
        clinic.client,
        reverse("api_conference_grant", args=[pk, participant.pk]),
        {"grant": grant_envelope(), "call_key": call_key},
    )
    assert response.status_code == 409 and "beendet" in response.json()["error"]
    assert post_json(client, reverse("api_conference_key"), {"token": token}).json()["ended"] is True
    response = post_json(client, reverse("api_conference_access"), {"token": token})
    assert response.status_code == 403 and "beendet" in response.json()["error"]


def test_a_page_that_stops_asking_for_its_key_is_shown_as_gone(clinic, janus, client, monkeypatch):
    """A closed tab says nothing: the participant's page asks for its key every 2 s, and one that
    has not asked for PRESENCE_SECONDS is listed as not present, so the doctor's page takes it out of
    the key (ui/conferencehost.js); asking again brings it back."""
    participant, token = invited(clinic)
    pk = clinic.appointment.pk

    def present() -> bool:
        listed = clinic.client.get(reverse("api_conference", args=[pk])).json()["conference"]["participants"]
        return next(p["present"] for p in listed if p["id"] == participant.pk)

    assert present() is False  # invited, their page never asked
    post_json(client, reverse("api_conference_key"), {"token": token, "call_key": factories.fake_public_key()})
    assert present() is True
    now = actions.time.time()
    monkeypatch.setattr(actions.time, "time", lambda: now + actions.PRESENCE_SECONDS + 1)
    assert present() is False
    post_json(client, reverse("api_conference_key"), {"token": token})
    assert present() is True


def test_the_patients_page_learns_that_the_appointment_ended_not_a_refusal(clinic, janus, client):
    """The patient's page asks for its key every two seconds; the question after the doctor hung up
    (before the page heard so on its websocket) is answered "ended", as a guest's is, and not with
    the 403 of a stranger's token. Access stays refused; another appointment's token still is."""
    pk = clinic.appointment.pk
    post_json(clinic.client, reverse("api_conference", args=[pk]))
    token = video_services.patient_token(clinic.appointment)
    state = post_json(client, reverse("api_conference_key"), {"token": token}).json()
    assert state["ended"] is False and state["admitted"] is False

    Appointment.objects.filter(pk=pk).update(status=Appointment.Status.DONE)
    response = post_json(client, reverse("api_conference_key"), {"token": token})
    assert response.status_code == 200 and response.json()["ended"] is True
    response = post_json(client, reverse("api_conference_access"), {"token": token})
    assert response.status_code == 403 and "beendet" in response.json()["error"]
    assert post_json(client, reverse("api_conference_leave"), {"token": token}).status_code == 200

    # A new code (the practice sent a new invitation) makes the old token nobody's.
    Appointment.objects.filter(pk=pk).update(access_code_digest="0" * 64)
    assert post_json(client, reverse("api_conference_key"), {"token": token}).status_code == 403
