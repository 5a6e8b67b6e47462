"""Many waiting patients without a browser each: real appointments with consent and their signed
tokens, and websocket clients that wait in the waiting room as the patient's page does (used by
bench/signalling_capacity.py and tests/browser/test_production_shape.py)."""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections import Counter


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
    return [(appointment.pk, services.patient_token(appointment)) for appointment in created]


MAKE_ROOM = """
import json, os, secrets
from sprechzimmer.demo import provisioning
from tests.browser.waiting_patients import waiting_appointments
suffix = secrets.token_hex(4)
organisation, doctor, _, _ = provisioning.create_practice(
    name=f"Praxis Wartezimmer {suffix}", bsnr="98" + str(secrets.randbelow(10**7)).zfill(7),
    main_email=f"wartezimmer-{suffix}@example.org", main_name="Dr. Warte", password="Warte-Passwort-1")
print(json.dumps(waiting_appointments(organisation, doctor, int(os.environ["SZ_PATIENTS"]))))
"""


def shell(env: dict, code: str, **extra: str) -> str:
    """Runs code with `sprechzimmer shell` in a running instance's environment (its database and
    SECRET_KEY), this repository importable; returns what it printed."""
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    return subprocess.run(
        [str(Path(sys.executable).parent / "sprechzimmer"), "shell", "-v", "0", "-c", code],
        env={**env, "PYTHONPATH": root, **extra},
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def waiting_room(env: dict, n: int) -> list[tuple[int, str]]:
    """A new practice with n appointments in a running instance: (id, patient token) each."""
    return [(pk, token) for pk, token in json.loads(shell(env, MAKE_ROOM, SZ_PATIENTS=str(n)))]


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
        #: why attempts failed, e.g. {"TimeoutError": 3, "refused: room-full": 1}
        self.failures: Counter[str] = Counter()

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
            except AssertionError as refused:  # the server answered, but not "waiting"
                socket = None
                reason = f"refused: {refused.args[0].get('reason') if refused.args and isinstance(refused.args[0], dict) else refused}"
                self.failures[reason] += 1
            except Exception as error:
                socket = None
                response = getattr(error, "response", None)  # websockets' InvalidStatus: the HTTP answer
                reason = type(error).__name__ + (f" {response.status_code}" if response is not None else "")
                self.failures[reason] += 1
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


class Crowd:
    """Patients waiting at url (http://…), one per token, on an event loop of their own thread."""

    def __init__(self, url: str, tokens: list[str]):
        self.patients = [Patient(url.replace("http://", "ws://"), token) for token in tokens]
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        for patient in self.patients:
            asyncio.run_coroutine_threadsafe(patient.run(), self.loop)

    def waiting(self) -> int:
        return sum(p.waiting for p in self.patients)

    def failures(self) -> Counter[str]:
        """Failed attempts of all patients by reason."""
        return sum((patient.failures for patient in self.patients), Counter())

    def wait_all(self, timeout: float) -> float:
        started = time.monotonic()
        while self.waiting() < len(self.patients):
            if time.monotonic() - started > timeout:
                raise AssertionError(f"only {self.waiting()} of {len(self.patients)} patients waiting")
            time.sleep(0.2)
        return time.monotonic() - started

    def stop(self) -> None:
        """Closes every websocket and ends the loop, so nothing of it is left for later tests."""

        async def shutdown():
            for patient in self.patients:
                patient.stopped = True
            running = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
