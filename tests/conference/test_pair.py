"""The pair sockets of a direct call between the doctor and one guest (issue 18, "back to two"):
the two relay SDP and ICE to each other and to nobody else; only an admitted guest of a running
conference and the conference's own doctor open them; a guest removed or hung up meanwhile is
refused at the next heartbeat."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse

from sprechzimmer.conference import actions
from sprechzimmer.conference.models import Participant
from sprechzimmer.video import consent
from tests import factories
from tests.conference.test_key_relay import invited
from tests.video.helpers import connect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def _cookie(user) -> str:
    client = Client()
    client.force_login(user)
    client.get(reverse("dashboard"))  # binds the session to a device
    return client.cookies["sessionid"].value


@database_sync_to_async
def _conference(clinic, admit: bool = True):
    participant, token = invited(clinic)
    if admit:
        actions.admit(participant)
    return participant, token, _cookie(clinic.doctor), _cookie(clinic.outsider)


async def _refused(path: str, cookie: str | None = None) -> dict:
    socket, connected = await connect(path, cookie)
    assert connected  # accepted, then refused with a reason the page shows
    message = await socket.receive_json_from(timeout=10)
    assert (await socket.receive_output(timeout=10))["code"] == 4003
    return message


async def test_doctor_and_guest_relay_to_each_other_only(clinic, janus):
    participant, token, doctor_cookie, _ = await _conference(clinic)
    appointment = clinic.appointment.pk
    guest, ok = await connect(f"/ws/konferenz/{token}/")
    assert ok
    assert (await guest.receive_json_from(timeout=10))["type"] == "config"
    doctor, ok = await connect(f"/ws/raum/{appointment}/konferenz/{participant.pk}/", doctor_cookie)
    assert ok
    assert (await doctor.receive_json_from(timeout=10))["type"] == "config"
    # The patient's socket of the same appointment hears nothing of the pair.
    patient_token = await database_sync_to_async(_patient_token)(clinic)
    patient, ok = await connect(f"/ws/sprechstunde/{patient_token}/")
    assert ok

    offer = {"description": {"type": "offer", "sdp": "v=0 …"}, "fresh": True}
    await doctor.send_json_to({"type": "signal", "payload": offer})
    assert await guest.receive_json_from(timeout=10) == {"type": "signal", "payload": offer}
    answer = {"description": {"type": "answer", "sdp": "v=0 …"}}
    await guest.send_json_to({"type": "signal", "payload": answer})
    assert await doctor.receive_json_from(timeout=10) == {"type": "signal", "payload": answer}
    assert await doctor.receive_nothing(timeout=0.2)  # not echoed to the sender
    assert await guest.receive_nothing(timeout=0.2)
    seen = []
    while not await patient.receive_nothing(timeout=0.2):
        seen.append(await patient.receive_json_from())
    assert [m["type"] for m in seen if m["type"] == "signal"] == [], seen
    assert seen, "the patient's socket is open and told of its state"

    await guest.send_json_to({"type": "ping"})
    assert await guest.receive_json_from(timeout=10) == {"type": "pong"}
    # Removed by the doctor: the next heartbeat closes the guest's socket.
    await database_sync_to_async(actions.remove)(
        await database_sync_to_async(Participant.objects.get)(pk=participant.pk)
    )
    await guest.send_json_to({"type": "ping"})
    assert (await guest.receive_json_from(timeout=10))["type"] == "refused"
    assert (await guest.receive_output(timeout=10))["code"] == 4003
    await doctor.send_json_to({"type": "ping"})
    assert (await doctor.receive_json_from(timeout=10))["type"] == "refused"
    for socket in (guest, doctor, patient):
        await socket.disconnect()


def _patient_token(clinic) -> str:
    client = Client()
    token = client.post(
        reverse("api_patient_access"), json.dumps({"code": clinic.code}), content_type="application/json"
    ).json()["token"]
    client.post(
        reverse("api_patient_consent"),
        json.dumps({"token": token, "version": consent.CURRENT_VERSION, "accepted": True}),
        content_type="application/json",
    )
    return token


async def test_only_an_admitted_guest_and_the_conferences_doctor_open_a_pair(clinic, janus):
    participant, token, doctor_cookie, outsider_cookie = await _conference(clinic, admit=False)
    appointment = clinic.appointment.pk
    doctor_path = f"/ws/raum/{appointment}/konferenz/{participant.pk}/"
    # Still waiting: neither side opens.
    assert (await _refused(f"/ws/konferenz/{token}/"))["type"] == "refused"
    assert (await _refused(doctor_path, doctor_cookie))["type"] == "refused"
    await database_sync_to_async(actions.admit)(participant)
    # Another practice's member, a colleague of the same practice who is not the conference's
    # doctor, nobody logged in, a patient token, a forged token, the doctor's own participant.
    colleague = await database_sync_to_async(lambda: _cookie(factories.member(clinic.practice)))()
    for cookie in (outsider_cookie, colleague, None):
        assert (await _refused(doctor_path, cookie))["type"] == "refused"
    patient_token = await database_sync_to_async(_patient_token)(clinic)
    for bad in (patient_token, token[:-2] + "xx"):
        assert (await _refused(f"/ws/konferenz/{bad}/"))["type"] == "refused"
    own = await database_sync_to_async(
        lambda: Participant.objects.get(conference=participant.conference, role=Participant.Role.DOCTOR).pk
    )()
    assert (await _refused(f"/ws/raum/{appointment}/konferenz/{own}/", doctor_cookie))["type"] == "refused"
    # Hung up: out.
    await database_sync_to_async(actions.leave)(participant)
    assert (await _refused(f"/ws/konferenz/{token}/"))["type"] == "refused"
