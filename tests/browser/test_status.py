"""The public status page tells the truth: the worker's check reaches the real server (HTTP and a
websocket answered through the channel layer) and a real TURN server (coturn) by STUN; a stopped
component is reported down, an old result as unknown (issue 17)."""

from __future__ import annotations

import datetime as dt
import subprocess
import time

import pytest
from django.utils import timezone

from sprechzimmer.status import checks
from sprechzimmer.status.models import ComponentStatus
from tests.browser.conftest import free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def coturn(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [
            "turnserver",
            "-n",
            "--listening-ip=127.0.0.1",
            f"--listening-port={port}",
            "--no-tls",
            "--no-dtls",
            "--no-cli",
            "--simple-log",
            f"--log-file={tmp_path / 'turn.log'}",
            f"--pidfile={tmp_path / 'turn.pid'}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while not checks.stun_binding("127.0.0.1", port, "udp"):
        assert process.poll() is None and time.monotonic() < deadline, "coturn did not start"
        time.sleep(0.2)
    yield process, port
    process.terminate()
    process.wait(10)


def states(client) -> dict[str, str]:
    data = client.get("/status.json").json()
    return {name: c["state"] for name, c in data["components"].items()} | {"ok": data["ok"]}


def test_every_component_up_then_turn_stopped_then_the_site_gone(client, db, settings, server, coturn):
    process, port = coturn
    settings.SITE_URL = server.url
    settings.TURN_URLS = [f"turn:127.0.0.1:{port}?transport=udp", f"turn:127.0.0.1:{port}?transport=tcp"]
    assert checks.run_all() == {"web": True, "signalling": True, "turn": True}
    assert states(client) == {"web": "up", "signalling": "up", "turn": "up", "ok": True}
    page = client.get("/status/").content.decode()
    assert "Alle Dienste sind erreichbar" in page and 'data-component="turn" data-state="up"' in page
    up_since = ComponentStatus.objects.get(name="turn").since

    process.terminate()
    process.wait(10)
    assert checks.run_all()["turn"] is False
    assert states(client) == {"web": "up", "signalling": "up", "turn": "down", "ok": False}
    page = client.get("/status/").content.decode()
    assert 'data-component="turn" data-state="down"' in page and "gestört" in page
    assert ComponentStatus.objects.get(name="turn").since > up_since

    settings.SITE_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings.TURN_URLS = []
    assert checks.run_all() == {"web": False, "signalling": False, "turn": None}
    assert states(client) == {"web": "down", "signalling": "down", "turn": "not_configured", "ok": False}


def test_a_plain_web_server_is_no_signalling_and_old_results_are_unknown(client, db, settings, server):
    import http.server
    import threading

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        settings.SITE_URL = f"http://127.0.0.1:{httpd.server_address[1]}"
        settings.TURN_URLS = []
        results = checks.run_all()
        assert results["signalling"] is False  # an HTTP answer is not a websocket through the layer
    finally:
        httpd.shutdown()
    ComponentStatus.objects.update(checked_at=timezone.now() - dt.timedelta(minutes=10))
    assert states(client)["web"] == "unknown" and states(client)["ok"] is False
