"""Recognising the browser a member uses (Arbeitsplatz/Endgerät) and naming it for people."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from django.utils import timezone

from sprechzimmer.accounts.models import Device, User, token_digest

COOKIE_NAME = "sz_device"
COOKIE_MAX_AGE = 5 * 365 * 24 * 3600
SESSION_KEY = "sz_device_id"
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")

_BROWSERS = (
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Windows", "Windows"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def describe_user_agent(user_agent: str) -> str:
    """A short German name like "Firefox unter Windows" for the device list."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), "Browser")
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), "")
    return f"{browser} unter {system}" if system else browser


def new_token() -> str:
    return secrets.token_urlsafe(32)


def valid_token(token: str | None) -> bool:
    return bool(token) and bool(_TOKEN_RE.match(token))


def device_for_login(user: User, token: str, user_agent: str) -> Device:
    """The device record for this browser and user, created on its first login.

    A practice that requires approval holds a new device of anyone but the main user until the
    main user approves it; the main user is the approver and so is never held.
    """
    device = Device.objects.filter(user=user, token_hash=token_digest(token)).first()
    if device is not None:
        return device
    # A member whose device was revoked needs approval for new devices even where the practice does
    # not ask for it, or revoking would mean nothing: a fresh cookie would be a fresh device.
    practice_asks = bool(user.organisation and user.organisation.require_device_approval)
    needs_approval = (practice_asks or user.new_devices_need_approval) and not user.is_main_user
    return Device.objects.create(
        user=user,
        token_hash=token_digest(token),
        name=describe_user_agent(user_agent)[:100],
        status=Device.Status.PENDING if needs_approval else Device.Status.APPROVED,
    )


def touch(device: Device) -> None:
    now = timezone.now()
    if now - device.last_seen_at >= LAST_SEEN_RESOLUTION:
        Device.objects.filter(pk=device.pk).update(last_seen_at=now)
        device.last_seen_at = now


def session_device(session) -> int | None:
    """The id of the device a session was opened on (set by DeviceMiddleware), or None. Websockets
    name their device group by it and check it again; one reading for all of them."""
    device_id = session.get(SESSION_KEY)
    return device_id if isinstance(device_id, int) and not isinstance(device_id, bool) else None


def member_group(user_id: int) -> str:
    return f"member.{user_id}"


def device_group(device_id: int) -> str:
    return f"device.{device_id}"


def end_live_connections(*, device_ids=(), user_ids=()) -> None:
    """Closes every open websocket of these devices or members at once (a revoked device, a
    deactivated member), after the change is committed (the consumers check the database too)."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer
    from django.db import transaction

    groups = [device_group(d) for d in device_ids] + [member_group(u) for u in user_ids]

    def send():
        layer = get_channel_layer()
        for group in groups:
            async_to_sync(layer.group_send)(group, {"type": "access.revoked"})

    transaction.on_commit(send)
