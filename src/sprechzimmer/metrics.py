"""Metrics for Prometheus at ``/metrics`` (docs/operations.md, "Metrics").

Only the operator's scraper reads them: the view answers 404 until ``METRICS_TOKEN`` is set, and
then only to ``Authorization: Bearer <METRICS_TOKEN>``. No label holds a path, an id, a name or an
address: requests are labelled by their URL pattern's name, websockets by the consumer's kind, task
failures by the task's name; the waiting room is one number.

With ``PROMETHEUS_MULTIPROC_DIR`` set, prometheus_client keeps every process's values in files
there (the server processes' and the task worker's) and a scrape sums them; without it each
process answers with its own registry.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import hmac
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

log = logging.getLogger(__name__)

# Anything else a client writes as its method is one value, so that nobody can add label values.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Requests no URL pattern matched (and those a middleware answered before resolving, e.g. a redirect).
UNRESOLVED = "unresolved"

HTTP_REQUESTS = Counter(
    "sprechzimmer_http_requests",
    "HTTP requests answered, by method, route (the URL pattern's name) and status class.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "sprechzimmer_http_request_duration_seconds",
    "Time from the request reaching Django to its response, by route (the URL pattern's name).",
    ["route"],
    # up to the duty planner's two minutes (DUTY_PLAN_SECONDS)
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120),
)
OPEN_WEBSOCKETS = Gauge(
    "sprechzimmer_websockets_open",
    "Websockets open now, by kind: patient (waiting room and call), doctor (room), practice (live lists), status.",
    ["kind"],
    # the sum over the processes that are running (a stopped process's sockets are gone)
    multiprocess_mode="livesum",
)
CALL_SETUPS = Counter(
    "sprechzimmer_call_setups",
    "Calls set up: the doctor admitted the patient waiting in the room (again after a reload, too).",
)
TASK_FAILURES = Counter(
    "sprechzimmer_task_failures",
    "Task runs that failed, by task; final=true when no retry is left.",
    ["task", "final"],
)


# --- HTTP --------------------------------------------------------------------------------------


def route_of(request: HttpRequest) -> str:
    """The name of the URL pattern that served the request (with its namespace, or the view's
    dotted path when the pattern has no name), never the path: paths hold tokens and ids."""
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None else UNRESOLVED


class RequestMetricsMiddleware:
    """Counts every request Django answers and times it (first in MIDDLEWARE)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route = route_of(request)
        method = request.method if request.method in METHODS else "other"
        HTTP_REQUESTS.labels(method, route, f"{response.status_code // 100}xx").inc()
        HTTP_DURATION.labels(route).observe(time.perf_counter() - started)
        return response


# --- websockets --------------------------------------------------------------------------------


def counted_websockets(kind: str, app: Callable[..., Any]) -> Callable[..., Any]:
    """The consumer ``app`` (``Consumer.as_asgi()``) with its accepted websockets counted as open
    until the consumer has finished (after the disconnect)."""

    @functools.wraps(app)
    async def counted(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        accepted = False

        async def counting_send(message: dict[str, Any]) -> None:
            nonlocal accepted
            if message["type"] == "websocket.accept" and not accepted:
                accepted = True
                OPEN_WEBSOCKETS.labels(kind).inc()
            await send(message)

        try:
            await app(scope, receive, counting_send)
        finally:
            if accepted:
                OPEN_WEBSOCKETS.labels(kind).dec()

    return counted


# --- the task queue ----------------------------------------------------------------------------


@functools.cache
def connect_task_signals() -> None:
    """Counts failed task runs (JobsConfig.ready; in the worker's processes, where tasks run). Once
    per process: a second receiver would count every failure twice."""
    from huey.contrib.djhuey import HUEY  # type: ignore[import-untyped]  # huey ships no types
    from huey.signals import SIGNAL_ERROR, SIGNAL_TIMEOUT  # type: ignore[import-untyped]

    HUEY.signal(SIGNAL_ERROR, SIGNAL_TIMEOUT)(_task_failed)


def _task_failed(signal: str, task: Any, *args: Any) -> None:
    # ``retries`` is what is left of this task's retries; the worker requeues it after this signal.
    TASK_FAILURES.labels(task.name, "false" if task.retries else "true").inc()


# --- read at scrape time -----------------------------------------------------------------------


class ScrapeTimeCollector:
    """Values the database and the queue hold, read when Prometheus asks: the same for every
    process, so they are not summed over processes."""

    def collect(self) -> Iterator[Metric]:
        from django.utils import timezone
        from huey.contrib.djhuey import HUEY

        from sprechzimmer.video import seats
        from sprechzimmer.video.models import Appointment

        waiting = Appointment.objects.filter(
            status=Appointment.Status.WAITING,
            # the seat's holder is still there (a server that stopped recorded no departure)
            patient_seen_at__gt=timezone.now() - seats.STALE_AFTER,
        ).exclude(patient_channel="")
        yield GaugeMetricFamily(
            "sprechzimmer_patients_waiting", "Patients in a waiting room now, all practices.", value=waiting.count()
        )
        try:
            pending = HUEY.pending_count()
        except Exception:  # a queue that is down must not cost the other metrics
            log.warning("Task queue length unreadable", exc_info=True)
        else:
            yield GaugeMetricFamily(
                "sprechzimmer_task_queue_length",
                "Tasks waiting for a worker (not those scheduled later).",
                value=pending,
            )


_scrape_time = CollectorRegistry(auto_describe=False)
_scrape_time.register(ScrapeTimeCollector())

_LIVE_FILE = re.compile(r"gauge_live\w+?_(\d+)\.db$")


def forget_ended_processes(directory: str) -> None:
    """Drops the live gauges (open websockets) of processes that are gone: ``sprechzimmer serve``
    ends without Python's exit handlers, and a crashed process runs none."""
    for name in glob.glob(os.path.join(directory, "gauge_live*_*.db")):
        found = _LIVE_FILE.search(name)
        if found is None:
            continue
        pid = int(found.group(1))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            # another process's scrape may be removing the same files
            with contextlib.suppress(FileNotFoundError):
                multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
        except PermissionError:
            pass  # a process of another user is running


def exposition() -> bytes:
    """The metrics in Prometheus's text format."""
    directory = settings.PROMETHEUS_MULTIPROC_DIR
    if directory:
        forget_ended_processes(directory)
        registry = CollectorRegistry(auto_describe=False)
        multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
        counted = generate_latest(registry)
    else:
        counted = generate_latest(REGISTRY)
    return counted + generate_latest(_scrape_time)


# --- the endpoint ------------------------------------------------------------------------------


def _plain(text: str, status: int) -> HttpResponse:
    return HttpResponse(text + "\n", status=status, content_type="text/plain; charset=utf-8")


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """/metrics: 404 without METRICS_TOKEN, 401 without a bearer token, 403 for a wrong one.

    The token is compared in constant time and never read from the URL. No rate limit applies: a
    limit an attacker can exhaust would lock out the operator's scraper, and a token of at least 32
    characters (settings) cannot be guessed at any rate."""
    token = settings.METRICS_TOKEN
    if not token:
        return _plain("Diese Adresse ist nicht eingerichtet.", 404)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        response = _plain("Bitte senden Sie den Zugangsschlüssel im Kopf Authorization: Bearer.", 401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return _plain("Der Zugangsschlüssel ist falsch.", 403)
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
