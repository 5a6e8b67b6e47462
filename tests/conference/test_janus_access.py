"""Conferences through a real Janus (issue 18): Django makes the room and hands out tokens; Janus
itself refuses everyone without a valid, unexpired token and a room token Django has not revoked.
The Janus side is driven over its HTTP API exactly as a browser would."""

from __future__ import annotations

import json
import time

import pytest
from django.urls import reverse

from sprechzimmer.accounts import keyblobs
from sprechzimmer.conference import actions, janusconf
from sprechzimmer.conference.models import Conference, Participant
from sprechzimmer.video import services
from tests import factories
from tests.conference.conftest import Refused

UNAUTHORIZED = 403  # Janus core: wrong or missing token
ROOM_UNAUTHORIZED = 433  # VideoRoom: not in the allowed list
NO_SUCH_ROOM = 426


def post_json(client, url, data=None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def open_conference(clinic) -> dict:
    response = post_json(clinic.client, reverse("api_conference", args=[clinic.appointment.pk]))
    assert response.status_code == 201, response.content.decode()
    return response.json()["conference"]


def invite(clinic, role="interpreter") -> tuple[dict, str]:
    name = factories.envelope(keyblobs.ALG_RECORD)
    url = reverse("api_conference_invite", args=[clinic.appointment.pk])
    response = post_json(clinic.client, url, {"role": role, "name": name})
    assert response.status_code == 201, response.content.decode()
    return response.json()["participant"], response.json()["code"]


def admit(clinic, participant_id):
    url = reverse("api_conference_admit", args=[clinic.appointment.pk, participant_id])
    return post_json(clinic.client, url)


def guest_access(client, code) -> tuple[str, object]:
    token = post_json(client, reverse("api_conference_guest_code"), {"code": code}).json()["token"]
    return token, post_json(client, reverse("api_conference_access"), {"token": token})


def doctor_access(clinic) -> dict:
    response = post_json(clinic.client, reverse("api_conference_doctor_access", args=[clinic.appointment.pk]))
    assert response.status_code == 200, response.content.decode()
    return response.json()


def test_an_admitted_guest_joins_the_room_with_the_tokens_django_gave(clinic, janus, browsers, client):
    open_conference(clinic)
    doctor = doctor_access(clinic)
    assert doctor["server"] == janus.ws_url and doctor["role"] == "doctor"
    joined = browsers(doctor["token"]).attach().join(doctor["room"], id=doctor["id"], room_token=doctor["room_token"])
    assert joined["videoroom"] == "joined" and joined["id"] == doctor["id"]

    participant, code = invite(clinic)
    token, waiting = guest_access(client, code)
    assert waiting.status_code == 409 and "hereinbittet" in waiting.json()["error"]
    assert admit(clinic, participant["id"]).json()["participant"]["admitted"] is True
    access = post_json(client, reverse("api_conference_access"), {"token": token}).json()
    guest = browsers(access["token"]).attach()
    joined = guest.join(access["room"], id=access["id"], room_token=access["room_token"])
    assert joined["videoroom"] == "joined"
    # The doctor is there, known to Janus by a random id only (names are ciphertext at the practice).
    assert [p["id"] for p in joined["publishers"]] == [] or doctor["id"] in [p["id"] for p in joined["attendees"]]
    with janus_room(janus) as room:
        assert sorted(room.participants(access["room"])) == sorted([doctor["id"], access["id"]])


def janus_room(janus):
    from sprechzimmer.conference.janus import Janus

    return Janus(janus.url, janus.secret).videoroom()


def test_janus_refuses_requests_without_a_token_or_with_a_forged_or_expired_one(clinic, janus, browsers):
    open_conference(clinic)
    with pytest.raises(Refused) as refused:
        browsers(None).attach()
    assert refused.value.code == UNAUTHORIZED
    expired = janusconf.signed_token(janus.secret, int(time.time()) - 1)
    with pytest.raises(Refused) as refused:
        browsers(expired).attach()
    assert refused.value.code == UNAUTHORIZED
    forged = janusconf.signed_token("another-secret-" * 3, int(time.time()) + 600)
    with pytest.raises(Refused) as refused:
        browsers(forged).attach()
    assert refused.value.code == UNAUTHORIZED
    # The same expiry under the right secret is let in: the refusals above were for the token.
    browsers(janusconf.signed_token(janus.secret, int(time.time()) + 600)).attach()


def test_a_session_whose_token_has_expired_is_refused_at_its_next_request(clinic, janus, browsers):
    """Janus checks the token on every request, not only when the session is made: a browser
    that is not given a fresh token loses its session (keep-alives are refused too)."""
    open_conference(clinic)
    doctor = doctor_access(clinic)
    browser = browsers(janusconf.signed_token(janus.secret, int(time.time()) + 2)).attach()
    while int(time.time()) <= int(browser.token.split(",")[0]):
        time.sleep(0.2)
    with pytest.raises(Refused) as refused:
        browser.send(f"/{browser.session}", {"janus": "keepalive"})
    assert refused.value.code == UNAUTHORIZED
    with pytest.raises(Refused):
        browser.join(doctor["room"], id=doctor["id"], room_token=doctor["room_token"])


def test_a_valid_janus_token_alone_does_not_open_a_room(clinic, janus, browsers, client):
    """The room checks its own list: no room token, a made-up one, a waiting guest's, or the
    token of another practice's conference are all refused by the VideoRoom plugin."""
    conference = open_conference(clinic)
    doctor = doctor_access(clinic)
    room = doctor["room"]
    participant, code = invite(clinic)
    waiting = Participant.objects.get(pk=participant["id"])
    browser = browsers(doctor["token"]).attach()
    for room_token in (None, "erfunden", waiting.room_token):
        with pytest.raises(Refused) as refused:
            browser.join(room, id="x" + str(room_token)[:6], room_token=room_token)
        assert refused.value.code == ROOM_UNAUTHORIZED
    assert conference["participants"][0]["role"] == "doctor"

    # Another practice's doctor with an admitted seat in their own conference.
    other = factories.practice("Praxis Nebenan")
    from sprechzimmer.contracts.domain import Plan
    from sprechzimmer.contracts.models import Contract

    Contract.objects.update_or_create(organisation=other, defaults={"plan": Plan.PLUS})
    other_doctor = factories.member(other, main=True)
    other_appointment = type(clinic.appointment).objects.create(
        organisation=other,
        doctor=other_doctor,
        start=clinic.appointment.start,
        patient_ciphertext=clinic.appointment.patient_ciphertext,
    )
    client.force_login(other_doctor)
    assert post_json(client, reverse("api_conference", args=[other_appointment.pk])).status_code == 201
    theirs = post_json(client, reverse("api_conference_doctor_access", args=[other_appointment.pk])).json()
    with pytest.raises(Refused) as refused:
        browsers(theirs["token"]).attach().join(room, id="fremd", room_token=theirs["room_token"])
    assert refused.value.code == ROOM_UNAUTHORIZED


def test_a_removed_guest_is_kicked_and_cannot_come_back(clinic, janus, browsers, client):
    open_conference(clinic)
    participant, code = invite(clinic, role="relative")
    admit(clinic, participant["id"])
    token, response = guest_access(client, code)
    access = response.json()
    guest = browsers(access["token"]).attach()
    guest.join(access["room"], id=access["id"], room_token=access["room_token"])

    url = reverse("api_conference_remove", args=[clinic.appointment.pk, participant["id"]])
    assert post_json(clinic.client, url).json()["participant"]["removed"] is True
    with janus_room(janus) as room:
        assert access["id"] not in room.participants(access["room"])
    again = browsers(access["token"]).attach()
    with pytest.raises(Refused) as refused:
        again.join(access["room"], id=access["id"], room_token=access["room_token"])
    assert refused.value.code == ROOM_UNAUTHORIZED
    # Django gives no new token, and the code no longer opens anything.
    assert post_json(client, reverse("api_conference_access"), {"token": token}).status_code == 403
    assert post_json(client, reverse("api_conference_guest_code"), {"code": code}).status_code == 403


def test_a_guest_who_hangs_up_is_out_of_the_room_and_the_key_and_may_come_back_when_admitted(
    clinic, janus, browsers, client
):
    open_conference(clinic)
    participant, code = invite(clinic, role="interpreter")
    admit(clinic, participant["id"])
    token, response = guest_access(client, code)
    access = response.json()
    call_key = factories.fake_public_key()
    post_json(client, reverse("api_conference_key"), {"token": token, "call_key": call_key})
    grant_url = reverse("api_conference_grant", args=[clinic.appointment.pk, participant["id"]])
    grant = factories.envelope(keyblobs.ALG_ECIES, epk=factories.fake_public_key())
    assert post_json(clinic.client, grant_url, {"grant": grant, "call_key": call_key}).status_code == 200
    guest = browsers(access["token"]).attach()
    guest.join(access["room"], id=access["id"], room_token=access["room_token"])

    assert post_json(client, reverse("api_conference_leave"), {"token": token}).json() == {"left": True}
    with janus_room(janus) as room:
        assert access["id"] not in room.participants(access["room"])
    with pytest.raises(Refused) as refused:
        browsers(access["token"]).attach().join(access["room"], id=access["id"], room_token=access["room_token"])
    assert refused.value.code == ROOM_UNAUTHORIZED
    # The doctor's page reads them as gone (not admitted, no call key) and seals no key to them.
    listed = post_json(clinic.client, reverse("api_conference", args=[clinic.appointment.pk]))
    me = next(p for p in listed.json()["conference"]["participants"] if p["id"] == participant["id"])
    assert (me["admitted"], me["left"], me["removed"], me["call_key"]) == (False, True, False, None)
    assert post_json(clinic.client, grant_url, {"grant": grant, "call_key": call_key}).status_code == 409
    state = post_json(client, reverse("api_conference_key"), {"token": token}).json()
    assert state["grant"] is None and not state["admitted"]
    assert post_json(client, reverse("api_conference_access"), {"token": token}).status_code == 409
    # Leaving twice changes nothing; their code still opens the waiting room, the doctor admits again.
    assert post_json(client, reverse("api_conference_leave"), {"token": token}).status_code == 200
    token, response = guest_access(client, code)
    assert response.status_code == 409
    admit(clinic, participant["id"])
    access = guest_access(client, code)[1].json()
    browsers(access["token"]).attach().join(access["room"], id=access["id"], room_token=access["room_token"])


def test_leaving_needs_ones_own_token_and_never_takes_out_the_doctor(clinic, janus, client):
    open_conference(clinic)
    participant, code = invite(clinic)
    admit(clinic, participant["id"])
    for bad in ("", "abc", None, ["x"]):
        response = post_json(client, reverse("api_conference_leave"), {"token": bad})
        assert response.status_code == 403 and "abgelaufen" in response.json()["error"]
    assert post_json(client, reverse("api_conference_leave"), ["kein Objekt"]).status_code == 400
    assert Participant.objects.get(pk=participant["id"]).admitted_at is not None
    doctor = Participant.objects.get(conference__appointment=clinic.appointment, role=Participant.Role.DOCTOR)
    with pytest.raises(actions.ConferenceRefused):
        actions.leave(doctor)
    doctor.refresh_from_db()
    assert doctor.admitted_at is not None and doctor.left_at is None


def test_the_end_of_the_appointment_destroys_the_room(
    clinic, janus, browsers, client, django_capture_on_commit_callbacks
):
    open_conference(clinic)
    participant, code = invite(clinic, role="colleague")
    admit(clinic, participant["id"])
    token, response = guest_access(client, code)
    access = response.json()
    services.start_call(clinic.appointment)
    services.mark_connected(clinic.appointment.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.end_call(clinic.appointment.pk, completed=True)
    assert Conference.objects.get(appointment=clinic.appointment).ended_at is not None
    with pytest.raises(Refused) as refused:
        browsers(access["token"]).attach().join(access["room"], id=access["id"], room_token=access["room_token"])
    assert refused.value.code == NO_SUCH_ROOM
    refused_now = post_json(client, reverse("api_conference_access"), {"token": token})
    assert refused_now.status_code == 403 and "beendet" in refused_now.json()["error"]
    assert post_json(clinic.client, reverse("api_conference", args=[clinic.appointment.pk])).status_code == 409


def test_the_patient_gets_access_with_the_appointments_own_code_once_admitted(clinic, janus, browsers, client):
    conference = open_conference(clinic)
    patient = next(p for p in conference["participants"] if p["role"] == "patient")
    token = post_json(client, reverse("api_patient_access"), {"code": clinic.code}).json()["token"]
    assert post_json(client, reverse("api_conference_access"), {"token": token}).status_code == 409
    admit(clinic, patient["id"])
    access = post_json(client, reverse("api_conference_access"), {"token": token}).json()
    assert access["role"] == "patient"
    joined = browsers(access["token"]).attach().join(access["room"], id=access["id"], room_token=access["room_token"])
    assert joined["videoroom"] == "joined"


def test_a_cancelled_appointment_is_ended_by_the_job(clinic, janus, browsers):
    from sprechzimmer.conference import actions
    from sprechzimmer.video.models import Appointment

    open_conference(clinic)
    doctor = doctor_access(clinic)
    Appointment.objects.filter(pk=clinic.appointment.pk).update(status=Appointment.Status.CANCELLED)
    assert actions.end_finished() == 1
    with pytest.raises(Refused) as refused:
        browsers(doctor["token"]).attach().join(doctor["room"], id=doctor["id"], room_token=doctor["room_token"])
    assert refused.value.code == NO_SUCH_ROOM


def publish(browser, loop, *, e2ee=True):
    """A WebRTC publisher (aiortc, a real peer): camera frames to Janus over ICE and DTLS-SRTP.
    Returns the PeerConnection once Janus reports its PeerConnection up."""
    import asyncio

    from aiortc import RTCPeerConnection, RTCSessionDescription, VideoStreamTrack

    peer = RTCPeerConnection()
    peer.addTrack(VideoStreamTrack())

    async def offer():
        await peer.setLocalDescription(await peer.createOffer())
        return {"type": "offer", "sdp": peer.localDescription.sdp}

    jsep = loop.run_until_complete(offer())
    # A browser that encrypts its frames says so in the JSEP (Janus's janus.js does the same).
    try:
        data = browser.event({"request": "configure", "audio": False, "video": True}, jsep=jsep | {"e2ee": e2ee})
    except Refused:
        loop.run_until_complete(peer.close())
        raise
    assert data.get("configured") == "ok", data
    loop.run_until_complete(
        peer.setRemoteDescription(RTCSessionDescription(sdp=browser.jsep["sdp"], type=browser.jsep["type"]))
    )
    # aiortc's ICE and DTLS run on the loop while the long poll waits for Janus's "webrtcup".
    loop.run_until_complete(asyncio.to_thread(browser.poll, lambda answer: answer.get("janus") == "webrtcup"))
    return peer


def test_an_admitted_participant_publishes_media_and_only_joined_participants_subscribe(
    clinic, janus, browsers, request
):
    """Media through the real SFU with Django's tokens; require_pvtid: a valid Janus token alone
    (no joined publisher's private id, or a made-up one) does not subscribe to anyone."""
    import asyncio

    open_conference(clinic)
    doctor = doctor_access(clinic)
    # aiortc's RTCRtpSender asks for the current event loop when a track is added, outside a running
    # loop: this test's loop is made current, not left to whatever an earlier test left behind (the
    # test failed when the run's order changed: "There is no current event loop").
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    request.addfinalizer(lambda: asyncio.set_event_loop(None))
    # The room takes only publishers that say their frames are end-to-end encrypted (require_e2ee).
    plain = browsers(doctor["token"]).attach()
    plain.join(doctor["room"], id="plain", room_token=doctor["room_token"])
    with pytest.raises(Refused) as refused:
        publish(plain, loop, e2ee=False)
    assert refused.value.code == ROOM_UNAUTHORIZED and "end-to-end" in refused.value.reason
    publisher = browsers(doctor["token"]).attach()
    joined = publisher.join(doctor["room"], id=doctor["id"], room_token=doctor["room_token"])
    peer = publish(publisher, loop)
    try:
        lurker = browsers(doctor["token"]).attach()
        for private_id in (None, 12345):
            body = {
                "request": "join",
                "ptype": "subscriber",
                "room": doctor["room"],
                "streams": [{"feed": doctor["id"]}],
            }
            if private_id:
                body["private_id"] = private_id
            with pytest.raises(Refused) as refused:
                lurker.event(body)
            assert refused.value.code == ROOM_UNAUTHORIZED
        # With the publisher's own private id (what a joined participant's browser has) it works.
        subscriber = browsers(doctor["token"]).attach()
        body = {
            "request": "join",
            "ptype": "subscriber",
            "room": doctor["room"],
            "streams": [{"feed": doctor["id"]}],
            "private_id": joined["private_id"],
        }
        assert subscriber.event(body)["videoroom"] == "attached" and subscriber.jsep["type"] == "offer"
    finally:
        loop.run_until_complete(peer.close())
        loop.close()


def test_after_a_janus_restart_the_room_comes_back_with_only_whom_django_let_in(clinic, janus, browsers, client):
    """Janus keeps rooms in memory; the next access request makes the room again from Django's
    rows: the admitted guest gets in, the removed one does not."""
    open_conference(clinic)
    staying, staying_code = invite(clinic, role="interpreter")
    leaving, leaving_code = invite(clinic, role="relative")
    for participant in (staying, leaving):
        admit(clinic, participant["id"])
    _, left = guest_access(client, leaving_code)
    left = left.json()
    post_json(clinic.client, reverse("api_conference_remove", args=[clinic.appointment.pk, leaving["id"]]))
    with janus_room(janus) as room:
        room.destroy(left["room"])  # what a restart of Janus leaves: no room
        assert not room.exists(left["room"])

    _, response = guest_access(client, staying_code)
    access = response.json()
    joined = browsers(access["token"]).attach().join(access["room"], id=access["id"], room_token=access["room_token"])
    assert joined["videoroom"] == "joined"
    with pytest.raises(Refused) as refused:
        browsers(access["token"]).attach().join(left["room"], id=left["id"], room_token=left["room_token"])
    assert refused.value.code == ROOM_UNAUTHORIZED


def test_a_guest_code_opens_only_in_the_appointments_window(clinic, janus, client):
    from datetime import timedelta

    from sprechzimmer.video.models import Appointment

    open_conference(clinic)
    _, code = invite(clinic)
    Appointment.objects.filter(pk=clinic.appointment.pk).update(start=clinic.appointment.start + timedelta(hours=3))
    early = post_json(client, reverse("api_conference_guest_code"), {"code": code})
    assert early.status_code == 403 and "30 Minuten vorher" in early.json()["error"]
    Appointment.objects.filter(pk=clinic.appointment.pk).update(
        start=clinic.appointment.start, status=Appointment.Status.CANCELLED
    )
    late = post_json(client, reverse("api_conference_guest_code"), {"code": code})
    assert late.status_code == 403 and "abgelaufen" in late.json()["error"]
