"""`sprechzimmer serve` ends on SIGTERM even while requests are running.

A request that is inside a sync middleware when Daphne stops its event loop waits for that loop
forever; the interpreter used to join that worker thread at exit, so a restart hung until SIGKILL
(seen in CI: test_a_waiting_patient_is_told_when_the_server_is_back). The server must be gone in
seconds whatever was in flight, as systemd and the restart scripts expect.
"""

import signal
import threading
import time
import urllib.error
import urllib.request

from tests.browser.conftest import free_port, start_daphne


def _hammer(url: str, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            urllib.request.urlopen(url, timeout=2).read()
        except (OSError, urllib.error.URLError):
            if stop.is_set():
                return
            time.sleep(0.01)


def test_sigterm_ends_the_server_in_seconds_with_requests_in_flight(server):
    for attempt in range(2):
        port = free_port()
        process = start_daphne(server.env, port, server.log_path)
        stop = threading.Event()
        workers = [
            threading.Thread(target=_hammer, args=(f"http://127.0.0.1:{port}{path}", stop), daemon=True)
            for path in ("/sprechstunde/", "/impressum/", "/konto/login/", "/praxis/termine/") * 2
        ]
        for worker in workers:
            worker.start()
        time.sleep(1.5 + attempt * 0.37)  # requests are in every stage of the middleware by now
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(15)
        finally:
            stop.set()
            if process.poll() is None:
                process.kill()
        assert code == 0, f"attempt {attempt}: the server ended with {code}"
        assert time.monotonic() - started < 15
