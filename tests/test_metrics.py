"""Metrics for Prometheus (issue 20): only the operator's token reads them, requests are counted by
route and never by path, open websockets, waiting patients, call setups and task failures follow
what really happens, and several processes' counts add up through the multiprocess directory."""

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from prometheus_client.parser import text_string_to_metric_families

from sprechzimmer import metrics
from sprechzimmer.video import seats
from sprechzimmer.video.models import Appointment
from tests import factories
from tests.video.helpers import connect, video_practice

TOKEN = "scrape-token-of-the-operator-0123456789"
MARKER = "Geheim7Q9xZk"


def scrape(client=None) -> tuple[str, dict]:
    """The text of /metrics read with the right token, and its samples by (name, labels)."""
    response = (client or Client()).get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.content
    text = response.content.decode()
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    return text, samples


def total(samples: dict, name: str, **labels) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(value for (sample, have), value in samples.items() if sample == name and wanted <= have)


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN


# --- who may read ------------------------------------------------------------------------------


def test_without_a_configured_token_the_address_does_not_exist(client, settings, db):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404


@pytest.mark.parametrize(
    ("headers", "path", "status"),
    [
        ({}, "/metrics", 401),
        ({"Authorization": f"Basic {TOKEN}"}, "/metrics", 401),
        ({"Authorization": "Bearer "}, "/metrics", 401),
        # a token in the URL would end up in every log on the way: it counts for nothing
        ({}, f"/metrics?token={TOKEN}", 401),
        ({"Authorization": f"Bearer {TOKEN[:-1]}x"}, "/metrics", 403),
        ({"Authorization": f"Bearer {TOKEN}extra"}, "/metrics", 403),
        ({"Authorization": "Bearer Schlüssel-ü"}, "/metrics", 403),
    ],
)
def test_a_missing_or_wrong_token_is_refused(client, token, db, headers, path, status):
    response = client.get(path, headers=headers)
    assert response.status_code == status
    assert b"sprechzimmer_" not in response.content
    if status == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_right_token_reads_metrics_in_prometheus_text_format(client, token, db):
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    names = {family.name for family in text_string_to_metric_families(response.content.decode())}
    assert {
        "sprechzimmer_http_requests",
        "sprechzimmer_http_request_duration_seconds",
        "sprechzimmer_websockets_open",
        "sprechzimmer_patients_waiting",
        "sprechzimmer_call_setups",
        "sprechzimmer_task_failures",
        "sprechzimmer_task_queue_length",
    } <= names
    # The secure headers stay; nothing is cached on the way; no session is started.
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "no-cache" in response["Cache-Control"]
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies
    # Only reading: anything else is not allowed.
    assert client.post("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 405


def test_wrong_tokens_never_lock_the_operator_out(client, token, db):
    """No rate limit: whoever tries wrong tokens from anywhere costs the scraper nothing."""
    for _ in range(200):
        assert client.get("/metrics", headers={"Authorization": "Bearer falsch"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


# --- HTTP requests -----------------------------------------------------------------------------


def test_requests_are_counted_by_route_name_never_by_path(client, token, db):
    _, before = scrape(client)
    client.get(f"/einladung/{MARKER}/")
    client.get("/praxis/termine/987654321/raum/")  # anonymous: to the login page
    client.get(f"/gibt-es-nicht/{MARKER}/")
    client.generic(f"X{MARKER}", "/status/")  # a method nobody uses
    text, after = scrape(client)

    def grew(route, **labels):
        name = "sprechzimmer_http_requests_total"
        return total(after, name, route=route, **labels) - total(before, name, route=route, **labels)

    assert grew("accept_invitation", method="GET") == 1
    assert grew("room", method="GET", status="3xx") == 1
    assert grew(metrics.UNRESOLVED, method="GET", status="4xx") == 1
    assert grew("status", method="other") == 1
    # The route's requests were timed too.
    count = "sprechzimmer_http_request_duration_seconds_count"
    assert total(after, count, route="accept_invitation") - total(before, count, route="accept_invitation") == 1
    # No token, id or made-up method of a path reaches the output.
    assert MARKER not in text and "987654321" not in text and "/einladung/" not in text


# --- the waiting room --------------------------------------------------------------------------


def test_waiting_patients_are_those_in_a_waiting_room_now(client, token, db):
    practice, doctor, first, _ = video_practice("Praxis Metriken")
    now = timezone.now()

    def appointment(status, seen_at, channel="specific.channel!abc"):
        made = Appointment.objects.create(
            organisation=practice,
            doctor=doctor,
            start=now + timedelta(minutes=10),
            patient_ciphertext=factories.envelope("x"),
        )
        Appointment.objects.filter(pk=made.pk).update(status=status, patient_channel=channel, patient_seen_at=seen_at)

    for _ in range(3):
        appointment(Appointment.Status.WAITING, now)
    appointment(Appointment.Status.WAITING, now - seats.STALE_AFTER - timedelta(seconds=1))  # gone unnoticed
    appointment(Appointment.Status.IN_CALL, now)
    appointment(Appointment.Status.PLANNED, None, channel="")
    _, samples = scrape(client)
    assert samples[("sprechzimmer_patients_waiting", frozenset())] == 3


@database_sync_to_async
def _room() -> tuple[int, str, str]:
    """An appointment, the doctor's session cookie and a patient's token (with consent)."""
    _, doctor, appointment, code = video_practice("Praxis Live-Metriken")
    browser = Client()
    browser.force_login(doctor)
    browser.get(reverse("dashboard"))
    patient = Client()
    patient_token = patient.post(
        reverse("api_patient_access"), json.dumps({"code": code}), content_type="application/json"
    ).json()["token"]
    patient.post(
        reverse("api_patient_consent"),
        json.dumps({"token": patient_token, "version": "2026-11", "accepted": True}),
        content_type="application/json",
    )
    return appointment.pk, browser.cookies["sessionid"].value, patient_token


async def _next(communicator, kind: str, **fields) -> dict:
    while True:
        message = await communicator.receive_json_from(timeout=10)
        if message["type"] == kind and all(message.get(k) == v for k, v in fields.items()):
            return message


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_open_websockets_waiting_patients_and_call_setups_follow_a_real_call(token):
    read = database_sync_to_async(lambda: scrape()[1])
    appointment_id, cookie, patient_token = await _room()
    before = await read()

    doctor, ok = await connect(f"/ws/raum/{appointment_id}/", cookie)
    assert ok
    await _next(doctor, "state")
    patient, ok = await connect(f"/ws/sprechstunde/{patient_token}/")
    assert ok
    await _next(patient, "waiting")
    during = await read()
    for kind in ("doctor", "patient"):
        assert (
            total(during, "sprechzimmer_websockets_open", kind=kind)
            == total(before, "sprechzimmer_websockets_open", kind=kind) + 1
        )
    assert total(during, "sprechzimmer_patients_waiting") == 1

    await doctor.send_json_to({"type": "admit"})
    await _next(patient, "admitted")
    # The practice hears of the call once it is recorded (and counted).
    while (await _next(doctor, "state"))["appointment"]["status"] != "in_call":
        pass
    in_call = await read()
    assert total(in_call, "sprechzimmer_call_setups_total") == total(before, "sprechzimmer_call_setups_total") + 1
    assert total(in_call, "sprechzimmer_patients_waiting") == 0

    await patient.disconnect()
    await doctor.disconnect()
    after = await read()
    for kind in ("doctor", "patient"):
        assert total(after, "sprechzimmer_websockets_open", kind=kind) == total(
            before, "sprechzimmer_websockets_open", kind=kind
        )


# --- the task queue ----------------------------------------------------------------------------


@HUEY.task(retries=1, name="tests.metrics.always_fails")
def always_fails():
    raise RuntimeError("Absicht")


def test_a_failing_task_counts_each_failed_run_and_its_final_one(client, token, db):
    name = "sprechzimmer_task_failures_total"
    _, before = scrape(client)
    always_fails()  # the test process runs tasks at once: a failure, its retry, the final failure
    _, after = scrape(client)
    for final in ("false", "true"):
        labels = {"task": "tests.metrics.always_fails", "final": final}
        assert total(after, name, **labels) - total(before, name, **labels) == 1
    assert total(after, "sprechzimmer_task_queue_length") == 0


# --- several processes -------------------------------------------------------------------------

COUNTING_PROCESS = """
import sys
from sprechzimmer import metrics
metrics.CALL_SETUPS.inc()
metrics.OPEN_WEBSOCKETS.labels("patient").inc(2)
print("ready", flush=True)
sys.stdin.read()  # runs until the test closes its input
"""


def test_several_processes_add_up_and_an_ended_process_leaves_no_open_websockets(client, token, db, settings, tmp_path):
    settings.PROMETHEUS_MULTIPROC_DIR = str(tmp_path)
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", COUNTING_PROCESS], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        for process in processes:
            assert process.stdout.readline().strip() == "ready"
        _, both = scrape(client)
        assert total(both, "sprechzimmer_call_setups_total") == 2
        assert total(both, "sprechzimmer_websockets_open", kind="patient") == 4
        # The test process's own (per-process) registry is not what a multiprocess scrape reads.
        assert total(both, "sprechzimmer_http_requests_total") == 0

        processes[0].kill()  # as a crash: no exit handler runs
        processes[0].wait()
        _, one = scrape(client)
        # Its calls happened; its sockets are gone.
        assert total(one, "sprechzimmer_call_setups_total") == 2
        assert total(one, "sprechzimmer_websockets_open", kind="patient") == 2
        assert ("sprechzimmer_patients_waiting", frozenset()) in one
    finally:
        for process in processes:
            process.kill()
            process.wait()
            process.stdout.close()
            process.stdin.close()
