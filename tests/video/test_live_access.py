"""Websockets follow the same access rules as pages, at once (issue 11, items 9 and 11): revoking a
device or deactivating a member closes its open websockets and frees the doctor's seat; a revoked
member's next device waits for approval; KV staff do not get the practice's live stream; and only
pages of this very origin (host and port) may open a websocket."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from sprechzimmer.accounts.models import Device
from tests import factories
from tests.duty.helpers import kv, staff
from tests.video.helpers import connect, video_practice

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@database_sync_to_async
def logged_in(user) -> tuple[Client, str]:
    client = Client()
    client.force_login(user)
    client.get(reverse("dashboard"))  # binds the session to a device
    return client, client.cookies["sessionid"].value


@database_sync_to_async
def post(client: Client, url: str, data=None) -> int:
    return client.post(url, data or {}).status_code


@pytest.fixture
def team():
    practice, doctor, appointment, code = video_practice("Praxis Live")
    colleague = factories.member(practice)
    return type("T", (), dict(practice=practice, main=doctor, colleague=colleague, appointment=appointment))


async def closed_as_revoked(communicator: WebsocketCommunicator) -> bool:
    while True:
        message = await communicator.receive_output(timeout=15)
        if message["type"] == "websocket.close":
            return False
        if '"revoked"' in message.get("text", ""):
            return (await communicator.receive_output(timeout=15))["type"] == "websocket.close"


@pytest.mark.parametrize("action", ["revoke device", "deactivate member"])
async def test_revocation_closes_open_websockets_and_frees_the_seat(team, action):
    main_client, _ = await logged_in(team.main)
    colleague_client, cookie = await logged_in(team.colleague)
    room, room_ok = await connect(f"/ws/raum/{team.appointment.pk}/", cookie)
    live, live_ok = await connect("/ws/praxis/", cookie)
    assert room_ok and live_ok
    assert (await room.receive_json_from())["type"] == "state"

    if action == "revoke device":
        device = await database_sync_to_async(Device.objects.get)(user=team.colleague)
        assert await post(main_client, reverse("device_revoke", args=[device.pk])) == 302
    else:
        assert await post(main_client, reverse("member_set_active", args=[team.colleague.pk]), {"active": "0"}) == 302

    assert await closed_as_revoked(room) and await closed_as_revoked(live)
    # The doctor's seat is free again: the main user takes the room at once.
    _, main_cookie = await logged_in(team.main)
    again, ok = await connect(f"/ws/raum/{team.appointment.pk}/", main_cookie)
    assert ok and (await again.receive_json_from())["type"] == "state"
    await again.disconnect()


async def test_a_heartbeat_after_revocation_closes_even_without_the_message(team):
    _, cookie = await logged_in(team.colleague)
    room, _ = await connect(f"/ws/raum/{team.appointment.pk}/", cookie)
    await room.receive_json_from()
    # Revoked behind the consumer's back (no group message): the next ping finds out.
    await database_sync_to_async(Device.objects.filter(user=team.colleague).update)(status=Device.Status.REVOKED)
    await room.send_json_to({"type": "ping"})
    assert await closed_as_revoked(room)


@database_sync_to_async
def fresh_device_status(user) -> str:
    from django.test import Client as FreshBrowser

    browser = FreshBrowser()
    browser.force_login(user)
    browser.get(reverse("dashboard"))
    return Device.objects.filter(user=user).latest("first_seen_at").status


async def test_after_a_revocation_new_devices_of_that_member_wait_for_approval(team):
    assert not team.practice.require_device_approval
    main_client, _ = await logged_in(team.main)
    await logged_in(team.colleague)
    device = await database_sync_to_async(Device.objects.get)(user=team.colleague)
    await post(main_client, reverse("device_revoke", args=[device.pk]))
    # A fresh cookie is a fresh device, but it is held until the main user approves it.
    assert await fresh_device_status(team.colleague) == Device.Status.PENDING
    # The main user can lift that again.
    assert await post(main_client, reverse("member_device_approval", args=[team.colleague.pk])) == 302
    assert await fresh_device_status(team.colleague) == Device.Status.APPROVED


async def test_kv_staff_get_no_practice_stream():
    kv_staff = await database_sync_to_async(lambda: staff(kv("KV Live")))()
    _, cookie = await logged_in(kv_staff)
    communicator, _ = await connect("/ws/praxis/", cookie)
    assert (await communicator.receive_output())["type"] == "websocket.close"


@pytest.mark.parametrize(
    ("origin", "host", "accepted"),
    [
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("https://127.0.0.1", "127.0.0.1", True),
        ("https://127.0.0.1", "127.0.0.1:443", True),
        ("http://127.0.0.1:9999", "127.0.0.1:8000", False),  # another program on the same host
        ("http://127.0.0.1", "127.0.0.1:8000", False),
        ("http://evil.example", "127.0.0.1", False),
        ("null", "127.0.0.1", False),
        ("", "127.0.0.1", False),
        ("http://127.0.0.1:8000", "evil.example:8000", False),  # a host we do not serve
    ],
)
async def test_only_the_own_origin_may_open_a_websocket(team, origin, host, accepted):
    from sprechzimmer.asgi import application

    _, cookie = await logged_in(team.main)
    headers = [(b"host", host.encode()), (b"cookie", f"sessionid={cookie}".encode())]
    if origin:
        headers.append((b"origin", origin.encode()))
    communicator = WebsocketCommunicator(application, "/ws/praxis/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected is accepted
    await communicator.disconnect()


def revoked_right_after(read, user):
    """``read`` (a consumer's access check), and then, before the consumer goes on, the user's
    device is revoked the way the device page does it: committed, then announced to its groups."""
    from django.db import transaction
    from django.utils import timezone

    from sprechzimmer.accounts import devices

    def check(*args):
        found = read(*args)
        with transaction.atomic():
            device = Device.objects.get(user=user)
            Device.objects.filter(pk=device.pk).update(status=Device.Status.REVOKED, revoked_at=timezone.now())
            devices.end_live_connections(device_ids=[device.pk])
        return found

    return check


@pytest.mark.parametrize(("route", "check"), [("praxis", "_approved_member"), ("raum", "room_access")])
async def test_a_revocation_between_the_access_check_and_the_groups_still_closes(team, monkeypatch, route, check):
    """The socket reads its access, then the device is revoked before the socket could have
    joined its groups in the old order: the announcement must still reach it."""
    from sprechzimmer.video import consumers

    _, cookie = await logged_in(team.colleague)
    monkeypatch.setattr(consumers, check, revoked_right_after(getattr(consumers, check), team.colleague))
    path = "/ws/praxis/" if route == "praxis" else f"/ws/raum/{team.appointment.pk}/"
    communicator, _ = await connect(path, cookie)
    assert await closed_as_revoked(communicator)


async def test_the_practice_feed_heartbeat_checks_access_again(team):
    _, cookie = await logged_in(team.colleague)
    live, ok = await connect("/ws/praxis/", cookie)
    assert ok
    await live.send_json_to({"type": "ping"})
    assert await live.receive_json_from() == {"type": "pong"}
    # Revoked behind the consumer's back (no group message): the next ping finds out.
    await database_sync_to_async(Device.objects.filter(user=team.colleague).update)(status=Device.Status.REVOKED)
    await live.send_json_to({"type": "ping"})
    assert await closed_as_revoked(live)


@pytest.mark.parametrize("action", ["lock the screen", "log out"])
async def test_a_heartbeat_sees_a_lock_or_logout_made_after_the_socket_opened(team, action):
    """The socket's copy of the session is from when it opened; the heartbeat reads it as stored now."""
    client, cookie = await logged_in(team.colleague)
    live, ok = await connect("/ws/praxis/", cookie)
    assert ok
    await live.send_json_to({"type": "ping"})
    assert await live.receive_json_from() == {"type": "pong"}
    if action == "lock the screen":
        assert await post(client, reverse("api_lock")) == 200
    else:
        assert await post(client, reverse("account_logout")) == 302
    await live.send_json_to({"type": "ping"})
    assert await closed_as_revoked(live)
