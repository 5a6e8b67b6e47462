"""Webhooks (issue 19): the main user registers an address, a real HTTP server on 127.0.0.1
receives signed events (verified with the example of docs/api.md), a receiver that is down at first
gets the delivery on a retry through the task queue, addresses in the server's own network are
refused, and another practice can neither see nor delete a webhook."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.api.models import Webhook, WebhookDelivery
from sprechzimmer.video import services
from sprechzimmer.video.models import Appointment, CallSession
from tests import factories
from tests.browser.conftest import free_port
from tests.invitations.queue import TestQueue

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def documented_verify():
    """The verification example of docs/api.md, run as a receiver would copy it."""
    block = re.search(r"### Verifying a delivery.*?```python\n(.*?)```", DOCS.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(block, namespace)
    return namespace["verify"]


class Receiver:
    """A practice software's webhook endpoint on a local port: records each POST, answers 204."""

    def __init__(self, port: int = 0):
        receiver = self
        self.requests: list[tuple[dict, bytes]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/sprechzimmer"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def queue(tmp_path):
    q = TestQueue(tmp_path / "tasks.sqlite3")
    yield q
    q.close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def world(db, client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    practice = factories.practice("Praxis Haken")
    doctor = factories.member(practice, main=True)
    colleague = factories.member(practice)
    other = factories.practice("Praxis Fremd")
    outsider = factories.member(other, main=True)
    start = (timezone.now() + dt.timedelta(minutes=10)).replace(microsecond=0)
    appointment = Appointment.objects.create(
        organisation=practice, doctor=doctor, start=start, patient_ciphertext=factories.envelope("A256GCM")
    )
    client.force_login(doctor)
    return type(
        "W",
        (),
        dict(
            practice=practice,
            doctor=doctor,
            colleague=colleague,
            other=other,
            outsider=outsider,
            appointment=appointment,
            client=client,
        ),
    )


def register(client, url, events=("patient.waiting", "call.ended", "appointment.cancelled")):
    response = client.post(reverse("api_webhooks"), {"url": url, "events": list(events)})
    secret = re.search(r'<code id="secret-value">(whsec_[^<]+)</code>', response.content.decode())
    return response, secret.group(1) if secret else None


def _consented_token(appointment) -> str:
    from sprechzimmer.video import consent

    services.issue_code(appointment)
    appointment.refresh_from_db()
    appointment.consent_at, appointment.consent_version = timezone.now(), consent.CURRENT_VERSION
    appointment.save(update_fields=["consent_at", "consent_version"])
    return services.patient_token(appointment)


def test_a_patient_entering_by_websocket_is_announced_to_the_own_practices_webhooks_once(
    world, receiver, queue, django_capture_on_commit_callbacks
):
    """The websocket join (video/services.patient_joins) asks for webhooks in the appointment's own
    query; a practice with a webhook hears of the patient entering once, a reload announces nothing
    new, and another practice's webhook nothing at all."""
    register(world.client, receiver.url)
    outsider = Client()
    outsider.force_login(world.outsider)
    register(outsider, receiver.url)
    assert Webhook.objects.count() == 2
    token = _consented_token(world.appointment)
    with django_capture_on_commit_callbacks(execute=True):
        join = services.patient_joins(token, "specific.inmemory!a")
    assert not join.refusal and join.state["status"] == Appointment.Status.WAITING
    with django_capture_on_commit_callbacks(execute=True):
        assert not services.patient_joins(token, "specific.inmemory!b").refusal  # the same seat reloads
    assert queue.run_now() == 1
    [(_, body)] = receiver.requests
    payload = json.loads(body)
    assert payload["event"] == "patient.waiting" and payload["practice_id"] == world.practice.pk
    assert payload["data"]["appointment_id"] == world.appointment.pk


def test_a_practice_without_webhooks_records_no_delivery_when_a_patient_enters(world):
    join = services.patient_joins(_consented_token(world.appointment), "specific.inmemory!a")
    assert not join.refusal and join.state["status"] == Appointment.Status.WAITING
    assert WebhookDelivery.objects.count() == 0


def test_a_registered_webhook_receives_signed_events_without_patient_data(
    world, receiver, queue, django_capture_on_commit_callbacks
):
    response, secret = register(world.client, receiver.url)
    assert response.status_code == 201 and secret
    hook = Webhook.objects.get()
    assert secret not in hook.secret_sealed  # sealed at rest
    assert secret not in world.client.get(reverse("api_webhooks")).content.decode()  # shown once

    with django_capture_on_commit_callbacks(execute=True):
        assert services.patient_waiting(world.appointment)
    with django_capture_on_commit_callbacks(execute=True):
        services.start_call(world.appointment)
        services.mark_connected(world.appointment.pk)
        services.end_call(world.appointment.pk, completed=True)
    later = Appointment.objects.create(
        organisation=world.practice,
        doctor=world.doctor,
        start=world.appointment.start + dt.timedelta(days=1),
        patient_ciphertext=factories.envelope("A256GCM"),
    )
    # Cancelled on the practice's page (the API takes the same path, video/appointments.apply_change).
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = world.client.patch(
            reverse("api_appointment", args=[later.pk]),
            json.dumps({"status": "cancelled", "base_version": later.version}),
            content_type="application/json",
        )
    assert cancelled.status_code == 200, cancelled.content
    assert queue.run_now() == 3

    verify = documented_verify()
    events = []
    for headers, body in receiver.requests:
        assert verify(secret, headers["Sprechzimmer-Signature"], body)
        assert not verify("whsec_falsch", headers["Sprechzimmer-Signature"], body)
        assert not verify(secret, headers["Sprechzimmer-Signature"], body.replace(b"}", b" }"))
        payload = json.loads(body)
        assert headers["Sprechzimmer-Event"] == payload["event"] and payload["practice_id"] == world.practice.pk
        events.append((payload["event"], payload["data"]))
        # Ids and times only: no ciphertext of the patient data, no name, no code.
        assert "patient" not in json.dumps(payload["data"]) and "A256GCM" not in body.decode()
    assert [e for e, _ in events] == ["patient.waiting", "call.ended", "appointment.cancelled"]
    waiting, ended, cancel = (data for _, data in events)
    assert waiting["appointment_id"] == world.appointment.pk and waiting["start"].endswith("Z")
    assert ended["completed"] is True and ended["connected_at"] and ended["duration_seconds"] >= 0
    assert cancel == {
        "appointment_id": later.pk,
        "doctor_id": world.doctor.pk,
        "start": later.start.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "cancelled_at": cancel["cancelled_at"],
    }
    # A signature older than five minutes is refused by the documented check (replay).
    headers, body = receiver.requests[0]
    old = int(headers["Sprechzimmer-Signature"].split(",")[0][2:]) - 600
    from sprechzimmer.api import webhooks

    assert not verify(secret, webhooks.signature(secret, old, body), body)

    page = world.client.get(reverse("api_webhooks")).content.decode()
    assert page.count("zugestellt") == 3


def test_a_receiver_down_at_first_gets_the_delivery_on_a_retry(
    world, queue, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRIES, settings.WEBHOOK_RETRY_SECONDS = 2, 1
    port = free_port()
    _, secret = register(world.client, f"http://127.0.0.1:{port}/hooks", ["patient.waiting"])
    with django_capture_on_commit_callbacks(execute=True):
        services.patient_waiting(world.appointment)
    queue.run_now()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("retrying", 1, "Verbindung abgelehnt")
    page = world.client.get(reverse("api_webhooks")).content.decode()
    assert "wird wiederholt" in page and "Verbindung abgelehnt" in page

    receiver = Receiver(port)
    try:
        queue.run_until(timezone.now() + dt.timedelta(seconds=30))
    finally:
        receiver.stop()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 2, "")
    ((headers, body),) = receiver.requests
    assert documented_verify()(secret, headers["Sprechzimmer-Signature"], body)
    assert json.loads(body)["data"]["appointment_id"] == world.appointment.pk


def test_a_receiver_that_keeps_failing_is_shown_as_failed(world, queue, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_RETRIES, settings.WEBHOOK_RETRY_SECONDS = 1, 1
    register(world.client, f"http://127.0.0.1:{free_port()}/hooks", ["patient.waiting"])
    with django_capture_on_commit_callbacks(execute=True):
        services.patient_waiting(world.appointment)
    queue.run_until(timezone.now() + dt.timedelta(seconds=30))
    delivery = WebhookDelivery.objects.get()
    assert (delivery.get_status_display(), delivery.attempts) == ("fehlgeschlagen", 2)


@pytest.mark.parametrize(
    ("url", "part"),
    [
        ("http://127.0.0.1:8000/hooks", "https://"),
        ("https://127.0.0.1/hooks", "privaten oder lokalen Netz"),
        ("https://localhost/hooks", "privaten oder lokalen Netz"),
        ("https://10.1.2.3/hooks", "privaten oder lokalen Netz"),
        ("https://192.168.178.1/hooks", "privaten oder lokalen Netz"),
        ("https://169.254.169.254/latest/meta-data/", "privaten oder lokalen Netz"),
        ("https://[::1]/hooks", "privaten oder lokalen Netz"),
        ("https://[::ffff:127.0.0.1]/hooks", "privaten oder lokalen Netz"),
        ("https://100.64.0.1/hooks", "privaten oder lokalen Netz"),
        ("https://0.0.0.0/hooks", "privaten oder lokalen Netz"),
        ("https://nutzer:kennwort@93.184.215.14/hooks", "Benutzernamen"),
        ("https://gibt-es-nicht.invalid/hooks", "nicht auflösen"),
        ("https://[::1/hooks", "keine gültige Adresse"),
        ("https://93.184.215.14:99999/hooks", "keine gültige Adresse"),
        ("ftp://93.184.215.14/hooks", "https://"),
        ("", "Bitte geben Sie die Adresse an"),
        ("https://93.184.215.14/" + "a" * 500, "zu lang"),
    ],
)
def test_addresses_in_the_servers_own_network_are_refused(world, settings, url, part):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response, secret = register(world.client, url)
    assert response.status_code == 400 and secret is None
    assert part in response.content.decode()
    assert not Webhook.objects.exists()


def test_a_delivery_checks_the_address_again(world, receiver, queue, settings, django_capture_on_commit_callbacks):
    """Registered while private addresses were allowed, then no longer: nothing is sent there."""
    register(world.client, receiver.url, ["patient.waiting"])
    settings.WEBHOOK_ALLOW_PRIVATE, settings.WEBHOOK_RETRIES = False, 0
    with django_capture_on_commit_callbacks(execute=True):
        services.patient_waiting(world.appointment)
    queue.run_now()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and "https://" in delivery.last_error
    assert receiver.requests == []


def test_no_event_chosen_is_refused(world, receiver):
    response, _ = register(world.client, receiver.url, [])
    assert response.status_code == 400 and "mindestens ein Ereignis" in response.content.decode()
    response, _ = register(world.client, receiver.url, ["nonsense"])
    assert response.status_code == 400 and not Webhook.objects.exists()


def test_it_validates_ownership(world, receiver, django_capture_on_commit_callbacks, queue):
    register(world.client, receiver.url)
    hook = Webhook.objects.get()
    client = Client()
    # The other practice's main user: its own (empty) page, 404 for our webhook, nothing deleted.
    client.force_login(world.outsider)
    page = client.get(reverse("api_webhooks"))
    assert page.status_code == 200 and receiver.url not in page.content.decode()
    assert client.post(reverse("api_webhook_delete", args=[hook.pk])).status_code == 404
    assert Webhook.objects.filter(pk=hook.pk).exists()
    # Their webhook hears nothing of our events.
    register(client, receiver.url.replace("/hooks/", "/fremd/"))
    with django_capture_on_commit_callbacks(execute=True):
        services.patient_waiting(world.appointment)
    queue.run_now()
    assert [h["Sprechzimmer-Event"] for h, _ in receiver.requests] == ["patient.waiting"]
    assert all(json.loads(b)["practice_id"] == world.practice.pk for _, b in receiver.requests)
    assert WebhookDelivery.objects.get().webhook == hook
    # A member who is not the main user: 404 like the other settings.
    client.force_login(world.colleague)
    assert client.get(reverse("api_webhooks")).status_code == 404
    assert client.post(reverse("api_webhook_delete", args=[hook.pk])).status_code == 404
    # The main user deletes it; its deliveries go with it.
    assert world.client.post(reverse("api_webhook_delete", args=[hook.pk])).status_code == 302
    assert not Webhook.objects.filter(pk=hook.pk).exists()
    assert not WebhookDelivery.objects.filter(webhook_id=hook.pk).exists()


def test_no_call_no_event(world, receiver, queue, django_capture_on_commit_callbacks):
    """Ending a call that never started, or a patient already waiting, tells nobody anything."""
    register(world.client, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        services.end_call(world.appointment.pk, completed=False)
    assert services.patient_waiting(world.appointment)
    assert not services.patient_waiting(world.appointment)
    assert not CallSession.objects.exists()
    assert WebhookDelivery.objects.filter(event="call.ended").count() == 0
    assert WebhookDelivery.objects.filter(event="patient.waiting").count() == 1


def test_deliveries_go_with_the_call_metadata_after_three_months(world, receiver, settings):
    """A delivery names an appointment and when the patient waited or talked: call metadata (A8)."""
    from django.core.management import call_command

    register(world.client, receiver.url)
    hook = Webhook.objects.get()
    old = WebhookDelivery.objects.create(webhook=hook, event="call.ended", body="{}")
    new = WebhookDelivery.objects.create(webhook=hook, event="call.ended", body="{}")
    WebhookDelivery.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=settings.METADATA_RETENTION_DAYS + 1)
    )
    call_command("purge_metadata")
    assert list(WebhookDelivery.objects.values_list("pk", flat=True)) == [new.pk]


def test_rotate_keys_re_seals_the_secrets(world, receiver, settings, queue, django_capture_on_commit_callbacks):
    import io

    from django.core.management import call_command

    from sprechzimmer import atrest

    old, new = atrest.parse_key(atrest.new_key_text()), atrest.parse_key(atrest.new_key_text())
    settings.WEBHOOK_KEYS = [old]
    _, secret = register(world.client, receiver.url, ["patient.waiting"])
    settings.WEBHOOK_KEYS = [new, old]
    call_command("rotate_keys", stdout=io.StringIO())
    assert Webhook.objects.get().secret_sealed.startswith(f"sz1.{atrest.key_id(new)}.")
    settings.WEBHOOK_KEYS = [new]
    with django_capture_on_commit_callbacks(execute=True):
        services.patient_waiting(world.appointment)
    queue.run_now()
    ((headers, body),) = receiver.requests
    assert documented_verify()(secret, headers["Sprechzimmer-Signature"], body)


def test_a_patients_join_is_one_read_and_one_write(world):
    """What a join costs the database when the practice has no webhooks: the appointment read
    under its lock (with whether webhooks exist) and one UPDATE of the seat and the status."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    token = _consented_token(world.appointment)
    with CaptureQueriesContext(connection) as queries:
        join = services.patient_joins(token, "specific.inmemory!a")
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"].upper()]
    assert not join.refusal and join.state["waiting_name"] is None and join.state["patient_present"]
    assert len(statements) == 2, statements
    assert statements[0].startswith("SELECT") and "webhook" in statements[0]
    assert statements[1].startswith("UPDATE")
