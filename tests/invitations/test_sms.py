"""SMS invitations (issue 16) through SMPP to a real SMSC (smpp34's server over TCP): German mobile
numbers only, one segment, counted for the invoice, retried when the SMSC refuses, and no number
left behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.contracts import domain
from sprechzimmer.contracts.models import UsageDay
from sprechzimmer.invitations import sms
from sprechzimmer.invitations.models import ContactHold, OutgoingMessage
from tests.invitations.conftest import post_json
from tests.invitations.queue import TestQueue
from tests.invitations.smsc import Smsc
from tests.invitations.test_email import database_text

NUMBER = "0151 23456789"
E164 = "+4915123456789"


@pytest.fixture
def smsc(settings):
    server = Smsc()
    settings.SMS_BACKEND = "smpp"
    settings.SMPP_HOST, settings.SMPP_PORT, settings.SMPP_TIMEOUT = "127.0.0.1", server.port, 5
    settings.SMPP_SYSTEM_ID, settings.SMPP_PASSWORD = "praxis", "geheim"
    yield server
    server.stop()


@pytest.fixture
def queue(tmp_path):
    q = TestQueue(tmp_path / "tasks.sqlite3")
    yield q
    q.close()


def send_sms(clinic, to=NUMBER):
    url = reverse("api_send_invitation", args=[clinic.appointment.pk])
    return post_json(clinic.client, url, {"channel": "sms", "to": to, "code": clinic.code})


def test_the_invitation_and_reminders_go_by_smpp_and_are_billed(
    clinic, smsc, queue, server_log, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = send_sms(clinic)
    assert response.status_code == 201, response.content
    assert queue.run_now() == 1
    (first,) = smsc.wait(1)
    assert (first.destination, first.dest_ton, first.dest_npi) == ("4915123456789", 1, 1)
    assert first.source == "Videotermin" and first.data_coding == 0  # GSM 03.38, one segment
    start = timezone.localtime(clinic.appointment.start)
    text = first.text.decode("ascii")
    assert text == (
        f"Ihre Videosprechstunde (Praxis Sonnenhof) am {start:%d.%m.} um {start:%H:%M} Uhr: "
        f"https://sprechzimmer.example.org/sprechstunde/#code={clinic.code}"
    )
    assert len(text) <= 160
    invitation = OutgoingMessage.objects.get(kind="invitation")
    assert (invitation.status, invitation.segments, invitation.provider_id) == ("sent", 1, "smsc-1")

    queue.run_until(clinic.appointment.start)
    assert [m.text.decode().split(":")[0] for m in smsc.wait(3)[1:]] == ["Erinnerung"] * 2
    # Three SMS on today's usage row, and so on the month's invoice (€ 0,10 each).
    day = UsageDay.objects.get(organisation=clinic.practice, day=timezone.localdate())
    assert day.sms == 3
    today = timezone.localdate()
    charge = domain.month_charge(
        today.year,
        today.month,
        [domain.UsageDay(day=day.day, plan=domain.Plan(day.plan), users=day.users, sms=day.sms)],
    )
    assert charge.sms == 3 and str(charge.sms_net) == "0.30"

    assert not ContactHold.objects.exists()
    for secret in (E164, "15123456789", clinic.code):
        assert secret not in database_text()
        assert secret.encode() not in queue.storage_bytes()
        assert not [line for line in server_log if secret in line]


def test_a_refusing_smsc_is_retried_and_the_failure_shown(
    clinic, smsc, queue, settings, server_log, django_capture_on_commit_callbacks
):
    settings.MAIL_RETRIES, settings.MAIL_RETRY_SECONDS = 1, 1
    smsc.refuse = True
    with django_capture_on_commit_callbacks(execute=True):
        send_sms(clinic)
    queue.run_now()
    invitation = OutgoingMessage.objects.get(kind="invitation")
    assert invitation.status == "retrying"
    smsc.refuse = False
    queue.run_until(timezone.now() + timedelta(seconds=30))
    invitation.refresh_from_db()
    assert (invitation.status, invitation.attempts) == ("sent", 2)
    assert len(smsc.wait(1)) == 1
    assert not [line for line in server_log if "15123456789" in line]


def test_an_unreachable_smsc_fails_after_the_retries(clinic, queue, settings, django_capture_on_commit_callbacks):
    from tests.browser.conftest import free_port

    settings.SMS_BACKEND, settings.SMPP_HOST, settings.SMPP_PORT = "smpp", "127.0.0.1", free_port()
    settings.SMPP_TIMEOUT, settings.MAIL_RETRIES, settings.MAIL_RETRY_SECONDS = 2, 1, 1
    with django_capture_on_commit_callbacks(execute=True):
        send_sms(clinic)
    queue.run_until(timezone.now() + timedelta(seconds=30))
    invitation = OutgoingMessage.objects.get(kind="invitation")
    assert invitation.get_status_display() == "fehlgeschlagen"
    assert not UsageDay.objects.filter(organisation=clinic.practice, sms__gt=0).exists()


@pytest.mark.parametrize(
    ("number", "part"),
    [
        ("0711 1234567", "Festnetznummer"),
        ("+33 6 12 34 56 78", "nur an deutsche Mobilfunknummern"),
        ("abc", "keine Telefonnummer"),
        ("0151 1", "ungültig"),
        ("", "Mobilfunknummer des Patienten"),
        (4915123456789, "Mobilfunknummer des Patienten"),
    ],
)
def test_numbers_we_cannot_send_to_get_a_german_message(clinic, number, part):
    response = send_sms(clinic, number)
    assert response.status_code == 400
    assert part in response.json()["errors"]["to"][0]
    assert not ContactHold.objects.exists() and not OutgoingMessage.objects.exists()


def test_sms_are_plus_only(clinic, client):
    client.force_login(clinic.basis_doctor)
    url = reverse("api_send_invitation", args=[clinic.basis_appointment.pk])
    response = post_json(client, url, {"channel": "sms", "to": NUMBER, "code": clinic.basis_code})
    assert response.status_code == 403 and "Einladung per SMS" in response.json()["error"]


def test_numbers_are_normalised_and_segments_counted():
    assert sms.normalise_number("0151/234 567 89") == E164
    assert sms.normalise_number("+49 (0)151 23456789") == E164
    assert sms.segment_count("a" * 160) == 1
    assert sms.segment_count("a" * 161) == 2
    assert sms.segment_count("Grüße aus Köln") == 1  # ü and ö are in GSM 03.38
    assert sms.segment_count("ł" * 71) == 2  # UCS-2: 70 per segment


@pytest.mark.parametrize(("state", "label"), [("DELIVRD", "zugestellt"), ("UNDELIV", "fehlgeschlagen")])
def test_delivery_receipts_are_shown_on_the_appointment(
    clinic, smsc, queue, settings, state, label, django_capture_on_commit_callbacks
):
    from sprechzimmer.invitations import tasks

    settings.SMPP_RECEIPT_SECONDS = 2
    smsc.receipt_state = state
    with django_capture_on_commit_callbacks(execute=True):
        send_sms(clinic)
    queue.run_now()
    smsc.wait(1)
    tasks.collect_sms_receipts.call_local()
    shown = clinic.client.get(reverse("api_appointment", args=[clinic.appointment.pk])).json()["appointment"]
    assert [(m["kind"], m["status_label"]) for m in shown["messages"]][0] == ("invitation", label)
    assert "15123456789" not in str(shown)


class Gateway:
    """A provider's HTTP API on a local port: records each JSON request, answers 503 while
    ``down``, else 200 with a message id."""

    def __init__(self):
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        gateway = self
        self.requests, self.down = [], False

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.requests.append((self.headers.get("Authorization"), body))
                status, answer = (503, b"{}") if gateway.down else (200, json.dumps({"messageId": "gw-1"}).encode())
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def report(self, url, message_id, status, secret):
        """What a provider does once the handset answered: POSTs a report to our endpoint, signed
        with the shared secret (hex HMAC-SHA256 of the body), with the number and text it knows."""
        import hashlib
        import hmac
        import json
        import urllib.error
        import urllib.request

        _, body = self.requests[-1]
        report = {"id": message_id, "status": status, "to": body["recipient"], "text": body["message"]}
        data = json.dumps(report).encode()
        signature = hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
        request = urllib.request.Request(
            url, data=data, method="POST", headers={"Content-Type": "application/json", "X-Signature": signature}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())


def test_the_http_gateway_gets_the_sms_and_is_retried_while_down(
    clinic, queue, settings, django_capture_on_commit_callbacks
):
    gateway = Gateway()
    settings.SMS_BACKEND, settings.SMS_HTTP_URL, settings.SMS_HTTP_TOKEN = "http", gateway.url, "geheim-123"
    settings.SMS_HTTP_FIELDS, settings.SMS_HTTP_ID_FIELD = ("recipient", "message", "sender"), "messageId"
    settings.MAIL_RETRIES, settings.MAIL_RETRY_SECONDS = 2, 1
    try:
        gateway.down = True
        with django_capture_on_commit_callbacks(execute=True):
            send_sms(clinic)
        queue.run_now()
        assert OutgoingMessage.objects.get(kind="invitation").status == "retrying"
        gateway.down = False
        queue.run_until(timezone.now() + timedelta(seconds=30))
    finally:
        gateway.stop()
    invitation = OutgoingMessage.objects.get(kind="invitation")
    assert (invitation.status, invitation.provider_id, invitation.segments) == ("sent", "gw-1", 1)
    authorization, body = gateway.requests[-1]
    assert authorization == "Bearer geheim-123"
    assert body["recipient"] == E164 and body["sender"] == "Videotermin"
    assert f"#code={clinic.code}" in body["message"]
    assert UsageDay.objects.get(organisation=clinic.practice).sms == 1


REPORT_SECRET = "zustell-geheim-42"


@pytest.fixture
def http_gateway(settings):
    gateway = Gateway()
    settings.SMS_BACKEND, settings.SMS_HTTP_URL, settings.SMS_HTTP_TOKEN = "http", gateway.url, "geheim-123"
    settings.SMS_HTTP_FIELDS, settings.SMS_HTTP_ID_FIELD = ("recipient", "message", "sender"), "messageId"
    settings.SMS_HTTP_REPORT_SECRET, settings.SMS_HTTP_REPORT_AUTH = REPORT_SECRET, "hmac"
    settings.SMS_HTTP_REPORT_HEADER, settings.SMS_HTTP_REPORT_FIELDS = "X-Signature", ("id", "status")
    yield gateway
    gateway.stop()


@pytest.mark.parametrize(("status", "label"), [("DELIVERED", "zugestellt"), ("undelivered", "fehlgeschlagen")])
def test_the_http_gateway_reports_delivery_to_our_endpoint(
    clinic, http_gateway, queue, live_server, server_log, status, label, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send_sms(clinic)
    queue.run_now()
    assert OutgoingMessage.objects.get(kind="invitation").status == "sent"
    url = live_server.url + reverse("sms_delivery_report")

    # An intermediate status and a report on someone else's message change nothing.
    assert http_gateway.report(url, "gw-1", "buffered", REPORT_SECRET) == (200, {"changed": 0})
    assert http_gateway.report(url, "gw-999", status, REPORT_SECRET) == (200, {"changed": 0})
    assert http_gateway.report(url, "gw-1", status, REPORT_SECRET) == (200, {"changed": 1})
    assert http_gateway.report(url, "gw-1", status, REPORT_SECRET) == (200, {"changed": 0})  # twice: once
    shown = clinic.client.get(reverse("api_appointment", args=[clinic.appointment.pk])).json()["appointment"]
    assert [(m["kind"], m["status_label"]) for m in shown["messages"]][0] == ("invitation", label)
    # The report named the number and held the text: neither is kept nor logged.
    for secret in (E164, "15123456789", clinic.code):
        assert secret not in database_text()
        assert not [line for line in server_log if secret in line]


def signed(data: bytes, secret: str = REPORT_SECRET) -> str:
    import hashlib
    import hmac

    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


@pytest.fixture
def sent_by_http(clinic, http_gateway, queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send_sms(clinic)
    queue.run_now()
    return OutgoingMessage.objects.get(kind="invitation")


@pytest.mark.parametrize(
    ("body", "header", "status", "part"),
    [
        (b'{"id": "gw-1", "status": "delivered"}', None, 403, "Signatur"),
        (b'{"id": "gw-1", "status": "delivered"}', "sha256=" + "0" * 64, 403, "Signatur"),
        (b'{"id": "gw-1", "status": "delivered"}', signed(b'{"id": "gw-1", "status": "failed"}'), 403, "Signatur"),
        (
            b'{"id": "gw-1", "status": "delivered"}',
            signed(b'{"id": "gw-1", "status": "delivered"}', "falsch"),
            403,
            "Signatur",
        ),
        (b'{"id": "gw-1", "status": "delivered"', "sign", 400, "kein gültiges JSON"),
        (b'["gw-1", "delivered"]', "sign", 400, "kein gültiges JSON"),
        (b'{"id": "gw-1", "status": 1e400}', "sign", 400, "kein gültiges JSON"),
        (b'{"id": "gw-1\\u0000", "status": "delivered"}', "sign", 400, "kein gültiges JSON"),
        (b'{"status": "delivered"}', "sign", 400, "Nachrichten-ID"),
        (b'{"id": ["gw-1"], "status": "delivered"}', "sign", 400, "Nachrichten-ID"),
        (b'{"id": "gw-1", "status": null}', "sign", 400, "Status"),
        (b"\xff\xfe", "sign", 400, "kein gültiges JSON"),
    ],
)
def test_reports_that_are_not_authentic_or_malformed_change_nothing(
    client, sent_by_http, server_log, body, header, status, part
):
    headers = {}
    if header is not None:
        headers["HTTP_X_SIGNATURE"] = signed(body) if header == "sign" else header
    response = client.post(reverse("sms_delivery_report"), body, content_type="application/json", **headers)
    assert response.status_code == status
    assert part in response.json()["error"]
    sent_by_http.refresh_from_db()
    assert sent_by_http.status == "sent"


def test_an_outsider_with_a_session_is_no_provider(clinic, sent_by_http):
    client = clinic.client
    client.force_login(clinic.outsider)
    body = b'{"id": "gw-1", "status": "failed"}'
    response = client.post(reverse("sms_delivery_report"), body, content_type="application/json")
    assert response.status_code == 403 and "Signatur" in response.json()["error"]
    assert client.get(reverse("sms_delivery_report")).status_code == 405
    sent_by_http.refresh_from_db()
    assert sent_by_http.status == "sent"


def test_a_form_report_with_a_token_header(clinic, sent_by_http, settings):
    settings.SMS_HTTP_REPORT_AUTH, settings.SMS_HTTP_REPORT_HEADER = "token", "X-Report-Token"
    settings.SMS_HTTP_REPORT_FIELDS = ("msg_id", "dlr")
    url = reverse("sms_delivery_report")
    form = "application/x-www-form-urlencoded"
    body = "msg_id=gw-1&dlr=DELIVRD&to=%2B4915123456789"
    wrong = clinic.client.post(url, body, content_type=form, HTTP_X_REPORT_TOKEN="geheim")
    assert wrong.status_code == 403
    right = clinic.client.post(url, body, content_type=form, HTTP_X_REPORT_TOKEN=REPORT_SECRET)
    assert right.status_code == 200 and right.json() == {"changed": 1}
    sent_by_http.refresh_from_db()
    assert sent_by_http.get_status_display() == "zugestellt"


def test_without_a_report_secret_the_address_takes_no_reports(clinic, sent_by_http, settings):
    settings.SMS_HTTP_REPORT_SECRET = ""
    body = b'{"id": "gw-1", "status": "failed"}'
    response = clinic.client.post(
        reverse("sms_delivery_report"), body, content_type="application/json", HTTP_X_SIGNATURE=signed(body, "")
    )
    assert response.status_code == 404 and "keine Zustellberichte" in response.json()["error"]
    sent_by_http.refresh_from_db()
    assert sent_by_http.status == "sent"
