"""A 30-second network interruption on the patient's side heals by itself (ICE restart), without a
reload on either side. The patient's browser sits in a network namespace of this test, joined to the
host by a veth link that the test takes down and up again."""

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sprechzimmer.demo.data import DEMO_PASSWORD, DEMO_USERS
from tests.browser.conftest import free_port, start_daphne
from tests.browser.helpers import hang_up, login
from tests.browser.test_video_call import book_appointment, wait_connected_with_video

pytestmark = pytest.mark.browser

(DOCTOR, _, _, _, DOCTOR_TOTP), _staff = DEMO_USERS
HOST_IP, PATIENT_IP = "10.213.0.1", "10.213.0.2"


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture
def patient_namespace():
    """A network namespace for the patient, linked to the host by a veth pair (our own test host)."""
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root (CI runs as root, where this test must run)")
    name, host_link, ns_link = f"szp{os.getpid()}", f"szh{os.getpid()}", f"szn{os.getpid()}"
    ip("netns", "add", name)
    try:
        ip("link", "add", host_link, "type", "veth", "peer", "name", ns_link)
        ip("link", "set", ns_link, "netns", name)
        ip("addr", "add", f"{HOST_IP}/24", "dev", host_link)
        ip("link", "set", host_link, "up")
        ip("netns", "exec", name, "ip", "addr", "add", f"{PATIENT_IP}/24", "dev", ns_link)
        ip("netns", "exec", name, "ip", "link", "set", ns_link, "up")
        ip("netns", "exec", name, "ip", "link", "set", "lo", "up")
        yield name, host_link
    finally:
        subprocess.run(["ip", "link", "del", host_link], capture_output=True)
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


class Patient:
    """The patient process in the namespace and its status lines."""

    def __init__(self, namespace: str, base_url: str, code: str):
        script = Path(__file__).with_name("netns_patient.py")
        self.process = subprocess.Popen(
            ["ip", "netns", "exec", namespace, sys.executable, str(script), base_url, code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(
            target=lambda: [self.lines.put(json.loads(line)) for line in self.process.stdout], daemon=True
        ).start()

    def wait_for(self, predicate, timeout: float, what: str) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                status = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if predicate(status):
                return status
        raise AssertionError(f"patient: {what} did not happen within {timeout} s")

    def close(self):
        self.process.stdin.close()
        self.process.wait(30)


def test_thirty_seconds_without_network_heal_without_reload(new_page, server, patient_namespace):
    namespace, host_link = patient_namespace
    port = free_port()
    env = {**server.env, "ALLOWED_HOSTS": f"127.0.0.1,localhost,{HOST_IP}"}
    process = start_daphne(env, port, server.log_path, bind="0.0.0.0")
    patient = None
    try:
        doctor = new_page(f"http://127.0.0.1:{port}")
        login(doctor, DOCTOR, DEMO_PASSWORD, DOCTOR_TOTP)
        code, _ = book_appointment(doctor, "Paula Netzausfall")
        doctor.click(".appointment:has-text('Paula Netzausfall') .room-link")
        patient = Patient(namespace, f"http://{HOST_IP}:{port}", code)
        patient.wait_for(lambda s: s.get("step") == "waiting", 60, "entering the waiting room")
        doctor.wait_for_selector("#room .admit:not([hidden])")
        doctor.click("#room .admit")
        wait_connected_with_video(doctor)
        patient.wait_for(lambda s: s.get("state") == "connected" and s.get("frames", 0) > 0, 30, "connecting")

        ip("link", "set", host_link, "down")
        down_at = time.monotonic()
        doctor.wait_for_selector("#call:not([data-connection-state=connected])", timeout=30_000)
        time.sleep(max(0.0, down_at + 30 - time.monotonic()))  # 30 s without network in all
        ip("link", "set", host_link, "up")

        doctor.wait_for_selector("#call[data-connection-state=connected]", timeout=45_000)
        frames_back = patient.wait_for(lambda s: s.get("state") == "connected", 45, "reconnecting")["frames"]
        patient.wait_for(lambda s: s.get("frames", 0) > frames_back, 20, "video after the interruption")
        hang_up(doctor)
        patient.wait_for(lambda s: s.get("step") == "done", 30, "the hang-up")
        # One conversation despite the interruption: one call session, one video contact.
        latest = "(select max(id) from video_appointment)"
        assert server.db.scalar(f"select count(*) from video_callsession where appointment_id = {latest}") == 1
        assert server.db.scalar(f"select count(*) from video_videocontact where appointment_id = {latest}") == 1
        assert server.db.scalar(f"select status from video_appointment where id = {latest}") == "done"
    finally:
        if patient:
            patient.close()
        process.terminate()
        process.wait(30)
