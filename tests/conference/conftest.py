"""A real Janus (Debian's package) on loopback with the project's generated configuration, one per
test session (and xdist worker), and a Janus client that speaks its HTTP API as a browser would."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from sprechzimmer.conference import janusconf
from sprechzimmer.contracts.domain import Plan
from sprechzimmer.contracts.models import Contract
from sprechzimmer.video import services
from sprechzimmer.video.models import Appointment
from tests import factories
from tests.browser.conftest import free_port


@dataclass
class JanusServer:
    url: str
    admin_url: str
    ws_url: str
    secret: str
    process: subprocess.Popen

    def admin(self, request: str, **fields) -> dict:
        body = {"janus": request, "transaction": "t", "admin_secret": janusconf.admin_secret(self.secret)} | fields
        return post(self.admin_url, body)


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="session")
def janus_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("janus")
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    low = 41000 + 200 * worker  # each worker's Janus its own RTP ports
    config = janusconf.JanusConfig(
        secret=secrets.token_urlsafe(32),
        http_port=free_port(),
        admin_port=free_port(),
        ws_port=free_port(),
        rtp_ports=(low, low + 199),
        ice_enforce=["127.0.0.1"],
        debug_level=4,
    )
    janusconf.write(config, folder)
    log = open(folder / "janus.log", "wb")  # noqa: SIM115 (open while Janus runs)
    process = subprocess.Popen(janusconf.command(folder), stdout=log, stderr=subprocess.STDOUT)
    server = JanusServer(
        url=f"http://127.0.0.1:{config.http_port}/janus",
        admin_url=f"http://127.0.0.1:{config.admin_port}/admin",
        ws_url=f"ws://127.0.0.1:{config.ws_port}/",
        secret=config.secret,
        process=process,
    )
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, (folder / "janus.log").read_text()
        try:
            server.admin("info")
            post(server.url, {"janus": "info", "transaction": "t"})
            break
        except OSError:
            assert time.monotonic() < deadline, "Janus did not start: " + (folder / "janus.log").read_text()
            time.sleep(0.2)
    yield server
    process.terminate()
    process.wait(10)
    log.close()


@pytest.fixture
def janus(janus_server, settings):
    settings.JANUS_URL = janus_server.url
    settings.JANUS_WS_URL = janus_server.ws_url
    settings.JANUS_SECRET = janus_server.secret
    return janus_server


class Refused(Exception):
    def __init__(self, code, reason):
        super().__init__(f"{code} {reason}")
        self.code, self.reason = code, reason


class Browser:
    """What a participant's browser does with Janus (lib/janus.js will do the same over
    WebSocket): a session with the given token, the VideoRoom attached, join, list, subscribe."""

    def __init__(self, server: JanusServer, token: str | None):
        self.server, self.token = server, token
        self.session = self.handle = None

    def send(self, path: str, body: dict) -> dict:
        if self.token is not None:
            body = body | {"token": self.token}
        answer = post(self.server.url + path, body | {"transaction": secrets.token_hex(6)})
        if answer.get("janus") == "error":
            raise Refused(answer["error"]["code"], answer["error"]["reason"])
        return answer

    def attach(self) -> Browser:
        self.session = self.send("", {"janus": "create"})["data"]["id"]
        self.handle = self.send(f"/{self.session}", {"janus": "attach", "plugin": "janus.plugin.videoroom"})["data"][
            "id"
        ]
        return self

    def event(self, body: dict, jsep: dict | None = None) -> dict:
        """A VideoRoom request whose answer comes as an event (join, configure): sent, then
        long-polled. The event's SDP, if any, is left in ``self.jsep``."""
        message = {"janus": "message", "body": body} | ({"jsep": jsep} if jsep else {})
        answer = self.send(f"/{self.session}/{self.handle}", message)
        if answer.get("janus") != "success":
            assert answer["janus"] == "ack"
            answer = self.poll(lambda a: a.get("janus") == "event")
        data = answer["plugindata"]["data"]
        self.jsep = answer.get("jsep")
        if "error_code" in data:
            raise Refused(data["error_code"], data["error"])
        return data

    def poll(self, wanted) -> dict:
        """The next message of this session that ``wanted`` accepts (others are dropped)."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            query = f"?maxev=1&rid={secrets.randbelow(10**9)}" + (
                f"&token={urllib.parse.quote(self.token)}" if self.token else ""
            )
            with urllib.request.urlopen(f"{self.server.url}/{self.session}{query}", timeout=40) as response:
                answer = json.loads(response.read())
            if wanted(answer):
                return answer
        raise AssertionError("no such message from Janus")

    def join(self, room: str, *, id: str, room_token: str | None) -> dict:
        body = {"request": "join", "ptype": "publisher", "room": room, "id": id}
        if room_token is not None:
            body["token"] = room_token
        return self.event(body)

    def close(self) -> None:
        if self.session:
            with contextlib.suppress(Refused, OSError):
                self.send(f"/{self.session}", {"janus": "destroy"})


@pytest.fixture
def browsers(janus_server):
    opened: list[Browser] = []

    def open_browser(token: str | None) -> Browser:
        browser = Browser(janus_server, token)
        opened.append(browser)
        return browser

    yield open_browser
    for browser in opened:
        browser.close()


@pytest.fixture
def clinic(db, client):
    """A plus practice with an appointment in ten minutes, a basis practice, and an outsider."""
    practice = factories.practice("Praxis Sonnenhof")
    practice.public_key = factories.fake_public_key()  # set up for video: patients encrypt to it
    practice.save()
    Contract.objects.update_or_create(organisation=practice, defaults={"plan": Plan.PLUS})
    doctor = factories.member(practice, main=True)
    appointment = Appointment.objects.create(
        organisation=practice,
        doctor=doctor,
        start=timezone.now() + timedelta(minutes=10),
        patient_ciphertext=factories.envelope("A256GCM"),
    )
    code = services.issue_code(appointment)
    basis = factories.practice("Praxis Basis")
    basis_doctor = factories.member(basis, main=True)
    basis_appointment = Appointment.objects.create(
        organisation=basis,
        doctor=basis_doctor,
        start=timezone.now() + timedelta(minutes=10),
        patient_ciphertext=factories.envelope("A256GCM"),
    )
    other = factories.practice("Praxis Fremd")
    Contract.objects.update_or_create(organisation=other, defaults={"plan": Plan.PLUS})
    outsider = factories.member(other, main=True)
    client.force_login(doctor)
    return type(
        "Clinic",
        (),
        dict(
            practice=practice,
            doctor=doctor,
            appointment=appointment,
            code=code,
            basis_doctor=basis_doctor,
            basis_appointment=basis_appointment,
            outsider=outsider,
            client=client,
        ),
    )
