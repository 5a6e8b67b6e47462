"""No secret of a link reaches a log (issue 11, item 8): every route whose path carries a token or
key — found from the URL configuration, so new ones are covered — is logged redacted, by our access
log and by the loggers we do not write."""

import asyncio
import json
import logging
import os
import re
import subprocess
import sys

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from sprechzimmer.logsafety import SECRET_PARAMETERS, AccessLog, RedactPaths, redact

MARKER = "Geheim7Q9xZk"


def _patterns(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _secret_routes():
    routes = []
    for text, entry in _patterns(get_resolver()):
        names = {a or b for a, b in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", text)}
        if names & SECRET_PARAMETERS and entry.name:
            kwargs = {n: (MARKER if n in SECRET_PARAMETERS else ("1" if n == "uidb36" else 1)) for n in names}
            routes.append(reverse(entry.name, kwargs=kwargs))
    return routes


def test_every_route_with_a_secret_is_found_and_redacted():
    routes = _secret_routes()
    # The ones we know of are among them (a new one is covered without touching this test).
    for known in (
        "/einladung/",
        "/kooperationsarzt/antrag/",
        "/dienste/kalender/",
        "/konto/confirm-email/",
        "/konto/password/reset/key/",
    ):
        assert any(r.startswith(known) for r in routes), known
    for path in routes:
        assert MARKER in path
        assert MARKER not in redact(path), path
        assert MARKER not in redact(path + "?weiter=1"), path


def test_websocket_tokens_and_query_strings_are_redacted():
    assert redact(f"/ws/sprechstunde/{MARKER}/", websocket=True) == "/ws/sprechstunde/…/"
    assert redact(f"/praxis/?code={MARKER}") == "/praxis/"
    assert redact("/praxis/termine/") == "/praxis/termine/"


def test_django_own_warnings_are_redacted(caplog):
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", (f"/einladung/{MARKER}/",), None
    )
    assert RedactPaths().filter(record)
    assert MARKER not in record.getMessage() and "/einladung/…/" in record.getMessage()


def test_a_path_inside_an_object_in_a_log_line_is_redacted():
    """Daphne logs the protocol object of a websocket it kills at shutdown; its repr holds the path
    with the patient's token (seen in a server log during a reconnect storm)."""

    class Protocol:
        def __repr__(self):
            return f"<WebSocketProtocol client=['127.0.0.1', 4991] path=b'/ws/sprechstunde/{MARKER}/'>"

    record = logging.LogRecord(
        "daphne.server", logging.WARNING, __file__, 1, "Application instance %r for connection %s was killed.",
        ("<Task pending>", Protocol()), None,
    )  # fmt: skip
    assert RedactPaths().filter(record)
    assert MARKER not in record.getMessage()
    assert "path=b'/ws/sprechstunde/…/'" in record.getMessage()
    plain = logging.LogRecord("x", logging.INFO, __file__, 1, "read /work/main/src/a.py and /praxis/", (), None)
    assert RedactPaths().filter(plain) and plain.getMessage() == "read /work/main/src/a.py and /praxis/"


def test_the_access_log_writes_redacted_paths_and_the_client(caplog, settings):
    settings.BEHIND_PROXY = True

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive():
        return {"type": "http.request"}

    async def send(message):
        pass

    scope = {
        "type": "http",
        "method": "GET",
        "path": f"/dienste/kalender/{MARKER}.ics",
        "headers": [(b"x-forwarded-for", b"203.0.113.5")],
        "client": ("127.0.0.1", 5000),
    }
    with caplog.at_level(logging.INFO, logger="sprechzimmer.access"):
        asyncio.run(AccessLog(app)(scope, receive, send))
    line = caplog.records[-1].getMessage()
    assert "203.0.113.5 GET /dienste/kalender/….ics 404" in line and MARKER not in line


# LOG_FORMAT=json (issue 20): the same filter runs before the JSON formatter.
LOGGING_PROCESS = f"""
import logging
import django
django.setup()
logging.getLogger("django.request").warning("Not Found: %s", "/einladung/{MARKER}/")
logging.getLogger("sprechzimmer.access").info("%s %s %s", "127.0.0.1", "GET", "/praxis/termine/")
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("sprechzimmer.jobs").exception("Auftrag fehlgeschlagen: %s", "/dienste/kalender/{MARKER}.ics")
"""


def test_json_logs_are_one_object_a_line_and_stay_redacted(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DATABASE_URL", "REDIS_URL")}
    env.update(LOG_FORMAT="json", DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="sprechzimmer.settings")
    result = subprocess.run([sys.executable, "-c", LOGGING_PROCESS], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert len(lines) == 3
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert lines[0]["level"] == "WARNING" and lines[0]["message"] == "Not Found: /einladung/…/"
    assert lines[1]["logger"] == "sprechzimmer.access" and lines[1]["message"] == "127.0.0.1 GET /praxis/termine/"
    assert lines[2]["message"] == "Auftrag fehlgeschlagen: /dienste/kalender/….ics"
    assert "ZeroDivisionError" in lines[2]["exception"] and "Traceback" in lines[2]["exception"]
    assert MARKER not in result.stderr
