"""Many waiting patients without a browser each: real appointments with consent and their signed
tokens, and websocket clients that wait in the waiting room as the patient's page does (used by
bench/signalling_capacity.py and tests/browser/test_production_shape.py)."""

from __future__ import annotations

import asyncio
import json
import random


def waiting_appointments(organisation, doctor, n: int) -> list[tuple[int, str]]:
    """Creates n appointments ten minutes from now, consent given, each with its own access code;
    returns (appointment id, patient token) for each, the token as redeeming the code gives it."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from sprechzimmer.video import consent, services
    from sprechzimmer.video.domain import code_digest, new_access_code, normalise_code
    from sprechzimmer.video.models import Appointment

    now = timezone.now()
    created = Appointment.objects.bulk_create(
        [
            Appointment(
                organisation=organisation,
                doctor=doctor,
                start=now + timedelta(minutes=10),
                patient_ciphertext="{}",
                consent_at=now,
                consent_version=consent.CURRENT_VERSION,
                access_code_digest=code_digest(normalise_code(new_access_code()) + f"{i}", settings.SECRET_KEY),
            )
            for i in range(n)
        ],
        batch_size=1000,
    )
    if created and created[0].pk is None:  # backends that return no keys from a bulk insert
        created = list(Appointment.objects.filter(organisation=organisation).order_by("-pk")[:n])
    return [(appointment.pk, services.patient_token(appointment)) for appointment in created]


async def open_waiting(url: str, token: str):
    """A patient's websocket in the waiting room (url: ws://host:port); returns it once the server
    said "waiting"."""
    import websockets

    socket = await websockets.connect(
        f"{url}/ws/sprechstunde/{token}/", origin=url.replace("ws://", "http://"), open_timeout=60, ping_interval=None
    )
    message = json.loads(await socket.recv())
    assert message["type"] == "waiting", message
    return socket


class Patient:
    """Waits like the patient's page: a ping every 15 s; when the websocket closes it connects again, after 0.5 s
    doubling up to 5 s, ±50 % jitter (static/sprechzimmer/js/lib/signalling.js), until stopped."""

    def __init__(self, url: str, token: str):
        self.url, self.token = url, token
        self.waiting = False
        self.connections = 0
        self.stopped = False

    @staticmethod
    async def heartbeat(socket) -> None:
        """A ping every 15 s, as the page sends: the seat stays fresh (video/seats.py)."""
        try:
            while True:
                await asyncio.sleep(15)
                await socket.send(json.dumps({"type": "ping"}))
        except Exception:
            return

    async def run(self) -> None:
        delay = 0.5
        while not self.stopped:
            try:
                socket = await open_waiting(self.url, self.token)
            except Exception:
                socket = None
            if socket is not None:
                self.waiting, delay = True, 0.5
                self.connections += 1
                heartbeat = asyncio.create_task(self.heartbeat(socket))
                try:
                    async for _ in socket:
                        if self.stopped:
                            break
                except Exception:
                    pass
                finally:
                    self.waiting = False
                    heartbeat.cancel()
                    await socket.close()
            if not self.stopped:
                await asyncio.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, 5.0)
