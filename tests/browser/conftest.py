"""A real server for browser tests: Daphne in a subprocess on its own database, a real SMTP server
(aiosmtpd) that receives its e-mail, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import email
import email.policy
import os
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = "/usr/bin/chromium"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Mailbox:
    messages: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append((envelope.rcpt_tos, message))
        return "250 OK"

    def wait_for(self, recipient: str, subject_part: str, timeout: float = 15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for rcpts, message in reversed(self.messages):
                    if recipient in rcpts and subject_part in message["Subject"]:
                        return message
            time.sleep(0.1)
        raise AssertionError(f"no mail to {recipient} with {subject_part!r} arrived")

    @staticmethod
    def link_in(message, pattern: str) -> str:
        body = message.get_body(("plain",)).get_content()
        match = re.search(r"https?://\S*" + pattern + r"\S*", body)
        assert match, f"no link matching {pattern} in:\n{body}"
        return match.group(0)


@pytest.fixture(scope="session")
def smtp_server():
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


class Database:
    """The live server's database, read directly (no Django in the test process)."""

    def __init__(self, url: str | None, sqlite_path: Path):
        self.url, self.sqlite_path = url, sqlite_path

    def dump(self) -> str:
        """Every row of every table as text: what an operator with database access sees."""
        if not self.url:
            with sqlite3.connect(self.sqlite_path) as conn:
                return "\n".join(conn.iterdump())
        import psycopg

        lines = []
        with psycopg.connect(self.url) as conn:
            tables = [
                r[0]
                for r in conn.execute("select tablename from pg_tables where schemaname = 'public' order by tablename")
            ]
            for table in tables:
                for row in conn.execute(f'select * from "{table}"'):
                    lines.append(f"{table}: {row!r}")
        return "\n".join(lines)

    def size(self) -> int:
        """Bytes the database takes (SQLite file with its WAL, or PostgreSQL's own count)."""
        if not self.url:
            wal = self.sqlite_path.with_name(self.sqlite_path.name + "-wal")
            return self.sqlite_path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
        return self.scalar("select pg_database_size(current_database())")

    def scalar(self, sql: str):
        if not self.url:
            with sqlite3.connect(self.sqlite_path) as conn:
                return conn.execute(sql).fetchone()[0]
        import psycopg

        with psycopg.connect(self.url) as conn:
            return conn.execute(sql).fetchone()[0]


@dataclass
class Server:
    url: str
    log_path: Path
    db: Database
    env: dict
    mailbox: Mailbox
    pid: int = 0

    def rss_bytes(self) -> int:
        """Resident memory of the server process."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_when(self, *expected: str, timeout: float = 10.0) -> str:
        """The log once it holds every expected text (the access log line of a request is written
        just after its response, so a test may read it a moment too early)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log()
            if all(e in text for e in expected) or time.monotonic() > deadline:
                return text
            time.sleep(0.1)

    def manage(self, *args: str) -> str:
        return subprocess.run(
            [str(BIN / "sprechzimmer"), *args], env=self.env, check=True, capture_output=True, text=True
        ).stdout


def _create_pg_database(base_url: str) -> str:
    import psycopg

    name = f"sz_e2e_{secrets.token_hex(4)}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return urlparse(base_url)._replace(path=f"/{name}").geturl()


def _drop_pg_database(base_url: str, url: str) -> None:
    import psycopg

    name = urlparse(url).path.lstrip("/")
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def start_worker(env: dict, log_path: Path) -> subprocess.Popen:
    """The task worker beside the server, as scripts/run and production run it (mails, jobs)."""
    with open(log_path, "ab") as log:
        return subprocess.Popen([str(BIN / "sprechzimmer"), "run_huey"], env=env, stdout=log, stderr=subprocess.STDOUT)


def start_daphne(env: dict, port: int, log_path: Path, bind: str = "127.0.0.1") -> subprocess.Popen:
    """Daphne serving the project on bind:port as in production (`sprechzimmer serve`), its output in
    log_path; waits until it listens."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [str(BIN / "sprechzimmer"), "serve", "--bind", bind, "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return wait_listening(process, port, log_path)


def wait_listening(process: subprocess.Popen, port: int, log_path: Path) -> subprocess.Popen:
    """Waits (at most 60 s) until the server `process` listens on 127.0.0.1:port; kills it and
    raises with its log when it ends or does not listen in time. A server imports the whole
    project before it listens: on a 2-core machine with a load of 40 (both workers' browsers, a
    conference) that took more than 30 s once (test_call_survives_a_server_restart, 2.12.2026)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"server did not start:\n{log_path.read_text()}") from None
            time.sleep(0.2)


def instance_env(data_dir: Path, secret_key: str, **variables: str) -> dict:
    """The environment of a server process of the product started by a test, bench or script: its
    own DATA_DIR and SECRET_KEY, production mode over plain http, and the embedded defaults (SQLite,
    in-memory channel layer, mail on the console) unless variables name DATABASE_URL, REDIS_URL or
    EMAIL_HOST; variables add to or override the rest."""
    env = {**os.environ, "SECRET_KEY": secret_key, "DATA_DIR": str(data_dir), "DEBUG": "false", "SECURE_HTTPS": "false"}
    for name in ("DATABASE_URL", "REDIS_URL", "EMAIL_HOST"):
        env.pop(name, None)
    return {**env, **variables}


def set_up_instance(env: dict, demo: bool = True) -> None:
    """What a new installation runs before it serves: migrate, collectstatic and the demo data."""
    commands = [["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"], *([["demo"]] if demo else [])]
    for command in commands:
        subprocess.run([str(BIN / "sprechzimmer"), *command], env=env, check=True, capture_output=True)


def start_demo_instance(prefix: str, extra_env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """The product on a fresh SQLite database with demo data, served by Daphne on a free port, for
    scripts outside the suite (bench/call_setup.py, scripts/help_screenshots.py): (process, URL)."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    env = instance_env(data_dir, "demo-instance-secret-key-0123456789abcdef", LOG_LEVEL="WARNING", **(extra_env or {}))
    set_up_instance(env)
    port = free_port()
    return start_daphne(env, port, data_dir / "server.log"), f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def server(tmp_path_factory, smtp_server):
    controller, mailbox = smtp_server
    data_dir = tmp_path_factory.mktemp("live")
    base_db_url = os.environ.get("DATABASE_URL")
    db_url = _create_pg_database(base_db_url) if base_db_url else None
    port = free_port()
    env = {
        **os.environ,
        "SECRET_KEY": "browser-test-secret-key-0123456789abcdef",
        "DATA_DIR": str(data_dir),
        "DEBUG": "false",
        "SECURE_HTTPS": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(controller.port),
        "EMAIL_USE_TLS": "false",
        "EMAIL_USE_SSL": "false",
        "LOG_LEVEL": "INFO",
        # A small deterministic budget for the duty plans (demo data, the staff's test plan); the
        # wall-clock cap stays far above it, so a busy machine makes the plan slower, not different.
        "DUTY_PLAN_WORK": "2",
        "DUTY_PLAN_SECONDS": "120",
        "PYTHONUNBUFFERED": "1",
        # A queue of its own (several test runs may share one Redis), and quick mail retries.
        "TASKS_QUEUE": f"sz-test-{secrets.token_hex(4)}",
        "MAIL_RETRY_SECONDS": "1",
        # the operator who issues invoices (docs/contracts.md)
        "OPERATOR_NAME": "Sprechzimmer Betrieb GmbH",
        "OPERATOR_STREET": "Königstraße 1",
        "OPERATOR_POSTCODE": "70173",
        "OPERATOR_CITY": "Stuttgart",
        "OPERATOR_VAT_ID": "DE123456789",
        "OPERATOR_IBAN": "DE89370400440532013000",
        "OPERATOR_BIC": "COBADEFFXXX",
        "OPERATOR_CREDITOR_ID": "DE98ZZZ09999999999",
    }
    env.pop("DATABASE_URL", None)
    if db_url:
        env["DATABASE_URL"] = db_url
    set_up_instance(env)
    log_path = data_dir / "server.log"
    process = start_daphne(env, port, log_path)
    worker = start_worker(env, log_path)
    try:
        yield Server(
            f"http://127.0.0.1:{port}",
            log_path,
            Database(db_url, data_dir / "sprechzimmer.sqlite3"),
            env,
            mailbox,
            process.pid,
        )
    finally:
        for running in (worker, process):
            running.terminate()
            running.wait(30)
        if db_url:
            _drop_pg_database(base_db_url, db_url)


#: Headless Chromium with fake camera, microphone and screen capture (the fake UI grants them all).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


@pytest.fixture(scope="session")
def grey_camera(tmp_path_factory) -> Path:
    """The browsers' camera file, written once per worker (1,3 MB)."""
    path = tmp_path_factory.mktemp("camera") / "grey.y4m"
    return plain_video(path, width=320, height=180, fps=15, yuv=(128, 128, 128))


@pytest.fixture(scope="module")
def browser(grey_camera):
    """A module's Chromium whose fake camera plays 320 × 180 of plain grey at 15 frames a second,
    where Chromium's own fake camera draws a moving picture at the 1280 × 720 the call asks for, at
    30 frames a second, which every call encodes, encrypts frame by frame (SFrame in conferences)
    and decodes, on a 2-core machine beside the other workers' tests. What the tests check (frames
    decoded under the right key, the layout, who is in the key) does not depend on the picture."""
    yield from chromium(grey_camera)


def chromium(camera: Path | None = None):
    """Headless Chromium for a module's pages (a generator for a fixture); ``camera`` a Y4M file
    its fake camera plays instead of Chromium's own moving picture."""
    if not Path(CHROMIUM).exists() or not shutil.which(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    args = CHROMIUM_ARGS + ([f"--use-file-for-fake-video-capture={camera}"] if camera else [])
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=args)
        yield instance
        instance.close()


def plain_video(path: Path, *, width: int, height: int, fps: int, yuv: tuple[int, int, int]) -> Path:
    """A second of one plain colour (BT.601 Y, U, V) as a Y4M file, for Chromium's fake camera: it
    plays the file in a loop at the file's size and rate, whatever the page asks for."""
    y, u, v = yuv
    frame = b"FRAME\n" + bytes([y]) * (width * height) + bytes([u]) * (width * height // 4)
    frame += bytes([v]) * (width * height // 4)
    path.write_bytes(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode() + frame * fps)
    return path


@dataclass
class SentRequest:
    method: str
    url: str
    body: bytes


@pytest.fixture(scope="module")
def sent_requests() -> list[SentRequest]:
    """Every request the module's browser pages sent, with its body: what left the browser."""
    return []


@pytest.fixture
def new_page(browser, server, sent_requests):
    """Opens a page in a fresh browser context (its own cookies and IndexedDB: another device)."""
    contexts = []

    def make(base_url=None):
        context = browser.new_context(base_url=base_url or server.url, locale="de-DE", timezone_id="Europe/Berlin")
        context.set_default_timeout(20_000)
        context.on("request", lambda r: sent_requests.append(SentRequest(r.method, r.url, r.post_data_buffer or b"")))
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
        # Which request a "Failed to load resource: 403" console error was about (the console
        # message does not say): tests print these when they fail on page.errors.
        page.refused = []
        page.on(
            "response",
            lambda r: page.refused.append(f"{r.status} {r.request.method} {r.url}") if r.status >= 400 else None,
        )
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def second_server(server):
    """Another Daphne process on the same database and Redis: websockets on two processes."""
    port = free_port()
    process = start_daphne(server.env, port, server.log_path)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(30)
