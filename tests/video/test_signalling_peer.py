"""The signalling protocol driven by scripted WebRTC peers (aiortc), no browser: join, seats and
refusals, admit, offer/answer with ICE, media flowing, hang-up into a video contact, leaving."""

import asyncio
import json

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from channels.db import database_sync_to_async
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from sprechzimmer.video.models import Appointment, VideoContact
from tests import factories
from tests.video.helpers import connect as connect_to
from tests.video.helpers import video_practice

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@database_sync_to_async
def make_room():
    cache.clear()
    _, doctor, appointment, code = video_practice("Praxis Peer")
    client = Client()
    client.force_login(doctor)
    client.get(reverse("dashboard"))
    return appointment, code, client.cookies["sessionid"].value


@database_sync_to_async
def colleague_cookie(appointment) -> str:
    colleague = factories.member(appointment.organisation)
    client = Client()
    client.force_login(colleague)
    client.get(reverse("dashboard"))
    return client.cookies["sessionid"].value


@database_sync_to_async
def patient_token(code: str, consent=True) -> str:
    client = Client()
    token = client.post(
        reverse("api_patient_access"), json.dumps({"code": code}), content_type="application/json"
    ).json()["token"]
    if consent:
        client.post(
            reverse("api_patient_consent"),
            json.dumps({"token": token, "version": "2026-11", "accepted": True}),
            content_type="application/json",
        )
    return token


async def connect(path: str, cookie: str | None = None):
    communicator, connected = await connect_to(path, cookie)
    assert connected
    return communicator


async def expect(communicator, kind: str, timeout: float = 5.0) -> dict:
    """The next message of this type; others on the way (state updates) are passed over."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        message = await communicator.receive_json_from(timeout=max(0.1, deadline - asyncio.get_running_loop().time()))
        if message["type"] == kind:
            return message


async def test_scripted_peers_call_through_the_signalling_server():
    appointment, code, cookie = await make_room()
    doctor = await connect(f"/ws/raum/{appointment.pk}/", cookie)
    assert (await expect(doctor, "state"))["appointment"]["patient_present"] is False
    assert (await expect(doctor, "config"))["ice_servers"] == []

    token = await patient_token(code)
    patient = await connect(f"/ws/sprechstunde/{token}/")
    assert (await expect(patient, "waiting"))["ice_servers"] == []
    await patient.send_json_to({"type": "hello", "name": '{"v":1,"ciphertext":"only"}'})
    while not (state := await expect(doctor, "state"))["appointment"]["waiting_name"]:
        pass
    assert state["appointment"]["status"] == "waiting" and state["appointment"]["patient_present"]

    # Admit, then a real WebRTC negotiation relayed by the server.
    await doctor.send_json_to({"type": "admit"})
    await expect(doctor, "admitted")
    await expect(patient, "admitted")

    doctor_pc, patient_pc = RTCPeerConnection(), RTCPeerConnection()
    received = asyncio.get_running_loop().create_future()

    @doctor_pc.on("track")
    def on_track(track):
        async def first_frame():
            frame = await track.recv()
            if not received.done():
                received.set_result(frame)

        asyncio.ensure_future(first_frame())

    patient_pc.addTrack(VideoStreamTrack())
    doctor_pc.addTransceiver("video", direction="recvonly")
    try:
        # The doctor offers right after admitting; "ready" is only for a patient's page that lost
        # its connection (resume), relayed like any signal.
        await patient.send_json_to({"type": "signal", "payload": {"ready": True}})
        assert (await expect(doctor, "signal"))["payload"] == {"ready": True}
        await doctor_pc.setLocalDescription(await doctor_pc.createOffer())
        offer = doctor_pc.localDescription
        await doctor.send_json_to(
            {"type": "signal", "payload": {"description": {"type": offer.type, "sdp": offer.sdp}}}
        )

        description = (await expect(patient, "signal"))["payload"]["description"]
        assert description["type"] == "offer" and "a=candidate" in description["sdp"]
        await patient_pc.setRemoteDescription(RTCSessionDescription(**description))
        await patient_pc.setLocalDescription(await patient_pc.createAnswer())
        answer = patient_pc.localDescription
        await patient.send_json_to(
            {"type": "signal", "payload": {"description": {"type": answer.type, "sdp": answer.sdp}}}
        )
        await doctor_pc.setRemoteDescription(
            RTCSessionDescription(**(await expect(doctor, "signal"))["payload"]["description"])
        )

        frame = await asyncio.wait_for(received, 15)
        assert frame.width > 0 and doctor_pc.connectionState == "connected"
        assert patient_pc.connectionState == "connected"

        await doctor.send_json_to({"type": "connected"})
        await asyncio.sleep(0.2)
        await doctor.send_json_to({"type": "hangup"})
        await expect(patient, "ended")
        await expect(doctor, "ended")
    finally:
        await doctor_pc.close()
        await patient_pc.close()

    contacts = await database_sync_to_async(list)(VideoContact.objects.filter(appointment=appointment))
    assert len(contacts) == 1
    refreshed = await database_sync_to_async(Appointment.objects.get)(pk=appointment.pk)
    assert refreshed.status == Appointment.Status.DONE
    for communicator in (doctor, patient):
        await communicator.disconnect()
    # A patient whose socket was away during the hang-up (network, server restart) comes back to
    # "ended", not to "invalid access".
    late = await connect(f"/ws/sprechstunde/{token}/")
    refusal = await expect(late, "refused")
    assert refusal["reason"] == "ended" and "beendet" in refusal["message"]
    await late.disconnect()


async def test_patient_leaving_the_waiting_room_frees_the_seat():
    appointment, code, cookie = await make_room()
    doctor = await connect(f"/ws/raum/{appointment.pk}/", cookie)
    await expect(doctor, "state")
    patient = await connect(f"/ws/sprechstunde/{await patient_token(code)}/")
    await expect(patient, "waiting")
    await patient.send_json_to({"type": "leave"})
    await expect(doctor, "peer-left")
    refreshed = await database_sync_to_async(Appointment.objects.get)(pk=appointment.pk)
    assert refreshed.status == Appointment.Status.PLANNED and refreshed.patient_channel == ""
    # The seat is free again: another device may now enter.
    again = await connect(f"/ws/sprechstunde/{await patient_token(code)}/")
    await expect(again, "waiting")
    await again.disconnect()
    await doctor.disconnect()


async def test_refusals_keep_the_room_to_two_participants():
    """A second device with the same code, a patient without consent, a colleague while the doctor
    is in the room and a forged token are each refused with their reason and a closing code."""
    appointment, code, cookie = await make_room()
    doctor = await connect(f"/ws/raum/{appointment.pk}/", cookie)
    await expect(doctor, "state")
    patient = await connect(f"/ws/sprechstunde/{await patient_token(code)}/")
    await expect(patient, "waiting")
    # Each refused client closes its end, as a browser does.
    third = await connect(f"/ws/sprechstunde/{await patient_token(code)}/")
    assert (await expect(third, "refused"))["reason"] == "room-full"
    await third.disconnect()
    no_consent_appointment, no_consent_code, _ = await make_room()
    unconsented = await connect(f"/ws/sprechstunde/{await patient_token(no_consent_code, consent=False)}/")
    assert (await expect(unconsented, "refused"))["reason"] == "consent"
    await unconsented.disconnect()
    colleague = await connect(f"/ws/raum/{appointment.pk}/", await colleague_cookie(appointment))
    assert (await expect(colleague, "refused"))["reason"] == "doctor-present"
    await colleague.disconnect()
    # The same doctor in a new tab (or back after an interruption) takes the seat over.
    second_tab = await connect(f"/ws/raum/{appointment.pk}/", cookie)
    await expect(second_tab, "state")
    assert (await expect(doctor, "refused"))["reason"] == "replaced"
    await doctor.disconnect()
    doctor = second_tab
    forged = await connect("/ws/sprechstunde/not-a-token/")
    assert (await expect(forged, "refused"))["reason"] == "invalid"
    await forged.disconnect()

    refreshed = await database_sync_to_async(Appointment.objects.get)(pk=appointment.pk)
    assert refreshed.status == Appointment.Status.WAITING  # the waiting patient was not disturbed
    for communicator in (doctor, patient):
        await communicator.disconnect()


async def test_a_reloaded_patient_page_taking_its_seat_over_is_a_new_arrival_for_the_doctor():
    """A reload opens the new socket before the old one is gone: the new page takes the seat over,
    so "present" stays true throughout. The doctor's page must still see a new arrival (and prepare a
    new connection to the new page), so the state names the connection that holds the seat."""
    appointment, code, cookie = await make_room()
    doctor = await connect(f"/ws/raum/{appointment.pk}/", cookie)
    await expect(doctor, "state")
    token = await patient_token(code)
    before = await connect(f"/ws/sprechstunde/{token}/")
    await expect(before, "waiting")
    while not (first := (await expect(doctor, "state"))["appointment"])["patient_present"]:
        pass
    after = await connect(f"/ws/sprechstunde/{token}/")
    await expect(after, "waiting")
    assert (await expect(before, "refused"))["reason"] == "replaced"
    second = (await expect(doctor, "state"))["appointment"]
    assert second["patient_present"] and second["status"] == "waiting"
    assert first["patient_seat"] and second["patient_seat"] and second["patient_seat"] != first["patient_seat"]
    for communicator in (before, after, doctor):
        await communicator.disconnect()


async def test_a_late_disconnect_of_an_old_connection_leaves_a_patient_who_is_back_waiting():
    """A restarted server process handles the disconnect of its patients late: by then a patient
    may be back on another process. The old connection frees its seat, the new one takes it, then
    the old one's "left the waiting room" arrives: the patient must stay waiting (found with a
    thousand patients through a rolling restart, tests/browser/test_production_shape.py)."""
    from sprechzimmer.video import seats, services

    appointment, code, _ = await make_room()
    token = await patient_token(code)
    old = await connect(f"/ws/sprechstunde/{token}/")
    await expect(old, "waiting")
    old_channel = (await database_sync_to_async(Appointment.objects.get)(pk=appointment.pk)).patient_channel
    # The old process's disconnect, first half: the seat is freed.
    assert await database_sync_to_async(seats.release)(appointment.pk, "patient", old_channel)
    # Meanwhile the patient is back through another process.
    new = await connect(f"/ws/sprechstunde/{token}/")
    await expect(new, "waiting")
    # Second half of the old disconnect: the patient is not taken out of the waiting room.
    assert not await database_sync_to_async(services.patient_left_waiting_room)(appointment.pk)
    refreshed = await database_sync_to_async(Appointment.objects.get)(pk=appointment.pk)
    assert refreshed.status == Appointment.Status.WAITING and refreshed.patient_channel
    # When the patient really goes, the waiting room is left.
    await new.send_json_to({"type": "leave"})
    await new.wait()
    refreshed = await database_sync_to_async(Appointment.objects.get)(pk=appointment.pk)
    assert refreshed.status == Appointment.Status.PLANNED
    await old.disconnect()
