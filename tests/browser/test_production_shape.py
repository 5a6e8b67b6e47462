"""The production shape (tests/browser/shape.py: HAProxy, three Daphne processes, the worker,
PostgreSQL, Redis) under the failures a release or a crash brings (issue 20)."""

from __future__ import annotations

import json
import time

import pytest

from tests.browser.helpers import hang_up
from tests.browser.shape import ProductionShape
from tests.browser.test_video_call import call_in_progress, frames
from tests.browser.waiting_patients import Crowd, shell, waiting_room

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def shape(server, tmp_path):
    running = ProductionShape(server.env, tmp_path / "shape").start(worker=False)
    yield running
    running.stop()


def test_a_call_goes_on_when_the_server_process_under_it_is_killed(new_page, shape):
    """Doctor and patient in a call through the load balancer, both websockets on one process, which
    is killed (SIGKILL, a crash). Media goes on browser to browser, both websockets come back through
    HAProxy on the other processes, and the hang-up still arrives."""
    first, *others = shape.ports
    for name in others:  # while the call is set up, only the first process takes connections
        shape.set_state(name, "maint")
    doctor, patient = new_page(shape.url), new_page(shape.url)
    call_in_progress(doctor, patient, "Kurt Absturz")
    assert shape.holding_connections() == [first]
    for name in others:
        shape.set_state(name, "ready")
    shape.kill(first)

    before = frames(patient)
    doctor.wait_for_selector(".lobby-status:has-text('unterbrochen')")
    time.sleep(3)
    assert frames(patient) > before  # the call does not depend on the server
    assert patient.get_attribute("#call", "data-connection-state") == "connected"
    doctor.wait_for_selector(".lobby-status:has-text('Im Gespräch')", timeout=20_000)
    assert shape.holding_connections() and first not in shape.holding_connections()

    hang_up(doctor)
    patient.wait_for_selector("#step-done:not([hidden])")
    assert "beendet" in patient.text_content("#step-done .message")


PATIENTS = 1000
COUNT_WAITING = """
import json, os
from sprechzimmer.video.models import Appointment
ids = json.loads(open(os.environ["SZ_IDS"]).read())
rows = Appointment.objects.filter(pk__in=ids)
print(json.dumps({"waiting": rows.filter(status="waiting").exclude(patient_channel="").count(),
                  "channels": len(set(rows.exclude(patient_channel="").values_list("patient_channel", flat=True)))}))
"""


def until(read, done, seconds: float = 30):
    """read() again each second until done(value) holds; fails with the last value after seconds."""
    deadline = time.monotonic() + seconds
    while not done(value := read()):
        assert time.monotonic() < deadline, value
        time.sleep(1)
    return value


def test_a_rolling_restart_loses_no_waiting_patient(shape, tmp_path):
    """A release restarts the three processes one after the other while a thousand patients wait.
    Each patient whose process goes reconnects through HAProxy to another; afterwards every one is
    in the waiting room again, and the practice's data (what its lists show) says so: each
    appointment waiting, with one live seat."""
    rooms = waiting_room(shape.env, PATIENTS)
    ids = tmp_path / "ids.json"
    ids.write_text(json.dumps([pk for pk, _ in rooms]))
    crowd = Crowd(shape.url, [token for _, token in rooms])

    def counts() -> dict[str, int]:
        return json.loads(shell(shape.env, COUNT_WAITING, SZ_IDS=str(ids)))

    everyone = {"waiting": PATIENTS, "channels": PATIENTS}
    try:
        crowd.wait_all(120)
        assert counts() == everyone
        spread = {name: int(row["scur"]) for name, row in shape.stats().items()}
        assert all(count > PATIENTS / 10 for count in spread.values()), spread  # every process holds some

        for name in shape.ports:
            shape.restart(name)
            crowd.wait_all(60)

        moved = sum(1 for p in crowd.patients if p.connections > 1)
        assert moved >= PATIENTS / 2, moved  # the restarts really moved them
        until(counts, lambda found: found == everyone)
        assert crowd.waiting() == PATIENTS
        # The operator sees the same through /metrics, summed over the three new processes: the
        # killed ones' open sockets are gone from the sum.
        metrics = until(
            shape.metrics, lambda found: found.get('sprechzimmer_websockets_open{kind="patient"}') == PATIENTS
        )
        assert metrics["sprechzimmer_patients_waiting"] >= PATIENTS
    finally:
        crowd.stop()
