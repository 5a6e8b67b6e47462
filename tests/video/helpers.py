"""A practice ready for video appointments, and websocket connections to the ASGI application."""

from __future__ import annotations

from datetime import timedelta

from channels.testing import WebsocketCommunicator
from django.utils import timezone

from sprechzimmer.accounts import keyblobs
from sprechzimmer.video import services
from sprechzimmer.video.models import Appointment
from tests import factories


def video_practice(name: str):
    """(practice with its key pair, doctor, appointment in 10 minutes, its access code)."""
    practice = factories.practice(name)
    practice.public_key = factories.fake_public_key()
    practice.wrapped_private_key = factories.envelope(keyblobs.ALG_RECORD)
    practice.save()
    doctor = factories.member(practice, main=True)
    appointment = Appointment.objects.create(
        organisation=practice,
        doctor=doctor,
        start=timezone.now() + timedelta(minutes=10),
        patient_ciphertext=factories.envelope(keyblobs.ALG_RECORD),
    )
    return practice, doctor, appointment, services.issue_code(appointment)


async def connect(path: str, cookie: str | None = None) -> tuple[WebsocketCommunicator, bool]:
    from sprechzimmer.asgi import application

    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=10)  # generous: a loaded CI machine is slow
    return communicator, connected
