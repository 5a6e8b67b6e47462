"""The task queue with the real worker process and a real SMTP server (issue 13): a mail whose SMTP
server is down at first is delivered once it is back, and a task scheduled for a time runs then."""

import datetime as dt
import email
import email.policy
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from sprechzimmer import mail
from tests.browser.conftest import free_port

BIN = Path(sys.executable).parent
ADDRESS = "empfaengerin@example.org"


class Inbox:
    def __init__(self):
        self.messages, self.lock = [], threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((time.time(), email.message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 OK"

    def wait(self, count: int, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.1)
        raise AssertionError(f"{count} mail(s) expected, {len(self.messages)} arrived")


@pytest.fixture
def worker(tmp_path):
    """`sprechzimmer run_huey` on a SQLite queue in tmp_path, and this process enqueueing into it."""
    from huey.contrib.djhuey import HUEY
    from huey.storage import SqliteStorage

    queue, port = f"test-{secrets.token_hex(3)}", free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG")}
    env.update(
        {
            "SECRET_KEY": "worker-test-secret-key-0123456789abcdef",
            "DATA_DIR": str(tmp_path),
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(port),
            "EMAIL_USE_TLS": "false",
            "EMAIL_USE_SSL": "false",
            "MAIL_RETRY_SECONDS": "1",
            "TASKS_QUEUE": queue,
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
    )
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(BIN / "sprechzimmer"), "run_huey"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    original = HUEY.storage
    HUEY.immediate = False
    HUEY.storage = SqliteStorage(name=queue, filename=str(tmp_path / "tasks.sqlite3"))
    try:
        yield type("W", (), {"port": port, "log": log})
    finally:
        HUEY.storage = original
        HUEY.immediate = True
        process.terminate()
        process.wait(30)


def wait_for(path: Path, text: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = path.read_text(errors="replace")
        if text in content:
            return content
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in {path}:\n{path.read_text(errors='replace')}")


def test_a_mail_waits_out_an_smtp_outage(worker, db, django_capture_on_commit_callbacks, settings):
    settings.MAIL_RETRY_SECONDS = 1
    with django_capture_on_commit_callbacks(execute=True):
        mail.send("duty_notice", ADDRESS, {"full_name": "Dr. Offline", "subject": "Ausfall-Test", "text": "Hallo."})
    # Nobody listens on the port: the worker tries, fails, and says so without the address.
    log = wait_for(worker.log, "not delivered")
    assert ADDRESS not in log
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=worker.port)
    controller.start()
    try:
        ((_, message),) = inbox.wait(1)
    finally:
        controller.stop()
    assert message["To"] == ADDRESS and message["Subject"] == "[Sprechzimmer] Ausfall-Test"
    assert "Guten Tag Dr. Offline," in message.get_content()
    assert ADDRESS not in wait_for(worker.log, "delivered")


def test_a_task_scheduled_for_a_time_runs_then(worker):
    from sprechzimmer.jobs.tasks import deliver_mail

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=worker.port)
    controller.start()
    try:
        wait_for(worker.log, "purge_metadata_daily")  # the worker is up and knows the periodic jobs
        eta = timezone.now() + dt.timedelta(seconds=4)
        deliver_mail.schedule(args=("[Sprechzimmer] Termin", "Zur Zeit.", [ADDRESS], "test:eta"), eta=eta)
        ((arrived, message),) = inbox.wait(1, timeout=30)
    finally:
        controller.stop()
    assert arrived >= eta.timestamp() - 0.5  # not before its time
    assert arrived <= eta.timestamp() + 10  # and soon after it
    assert message["Subject"] == "[Sprechzimmer] Termin"


def test_a_refused_recipient_is_retried_and_never_logged(worker, db, django_capture_on_commit_callbacks, settings):
    """An SMTP error that names the address (SMTPRecipientsRefused) must not put it into the log."""
    settings.MAIL_RETRY_SECONDS = 1

    class RefusingOnce(Inbox):
        refused = 0

        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if not self.refused:
                self.refused += 1
                return "450 mailbox busy, try later"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    inbox = RefusingOnce()
    controller = Controller(inbox, hostname="127.0.0.1", port=worker.port)
    controller.start()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            mail.send("duty_notice", ADDRESS, {"full_name": "Dr. Busy", "subject": "Besetzt", "text": "Hallo."})
        inbox.wait(1)
    finally:
        controller.stop()
    log = wait_for(worker.log, "delivered")
    assert inbox.refused == 1 and "SMTPRecipientsRefused" in log and ADDRESS not in log
