"""Logs never hold the secrets some links carry in their path (docs/operations.md, "Logs").

Invitation and application links, password-reset and e-mail-confirmation keys, iCal feed tokens
and the patient's websocket token are part of URL paths, because a link in an e-mail or a calendar
subscription can carry nothing else. Whoever holds one of these paths holds the secret (an
application link opens an applicant's police certificate). So every path is logged through
``redact``: the value of every URL parameter named ``token`` or ``key`` — of any HTTP or websocket
route, found through the URL configuration itself, so new routes are covered — becomes "…", and
query strings are not logged at all.
"""

from __future__ import annotations

import logging
import re
import time
from functools import lru_cache

from django.urls import Resolver404, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern

SECRET_PARAMETERS = frozenset({"token", "key"})
HIDDEN = "…"

access_logger = logging.getLogger("sprechzimmer.access")


@lru_cache(maxsize=1)
def _websocket_resolver() -> URLResolver:
    from sprechzimmer.video.routing import websocket_urlpatterns

    return URLResolver(RegexPattern(r"^/"), websocket_urlpatterns)


def redact(path: str, *, websocket: bool = False) -> str:
    """``path`` with the values of secret URL parameters replaced, and without a query string."""
    path = path.split("?", 1)[0]
    try:
        match = (_websocket_resolver() if websocket else get_resolver()).resolve(path)
    except (Resolver404, ValueError):
        return path
    for name, value in match.kwargs.items():
        if name in SECRET_PARAMETERS and isinstance(value, str) and value:
            path = path.replace(value, HIDDEN)
    return path


#: Anything in a log line that may be a path: up to white space, quotes and brackets.
_PATH_LIKE = re.compile(r"/[^\s'\"<>()\[\]{},]+")


def _redact_any(match: re.Match) -> str:
    path = match.group(0)
    redacted = redact(path)
    return redacted if redacted != path else redact(path, websocket=True)


def redact_text(text: str) -> str:
    """Every path in free text redacted, HTTP or websocket route alike."""
    return _PATH_LIKE.sub(_redact_any, text) if "/" in text else text


class RedactPaths(logging.Filter):
    """For loggers we do not write ourselves (Django's "Not Found: /einladung/…", a dev server's
    request lines, Daphne's "Application instance … for connection <WebSocketProtocol … path=…>"):
    the formatted message is searched for paths, whatever object's repr they came in."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class AccessLog:
    """ASGI middleware: one log line per HTTP request or websocket, with the path redacted.

    Replaces Daphne's ``--access-log``, which writes paths as they are."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        started, status = time.monotonic(), None

        async def recording_send(message):
            nonlocal status
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
            elif kind == "websocket.accept":
                status = 101
            elif kind == "websocket.close" and status is None:
                status = 403
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            from sprechzimmer.ratelimit import scope_client_address

            websocket = scope["type"] == "websocket"
            access_logger.info(
                "%s %s %s %s %.0f ms",
                scope_client_address(scope),
                "WS" if websocket else scope.get("method", ""),
                redact(scope.get("path", ""), websocket=websocket),
                status if status is not None else "-",
                (time.monotonic() - started) * 1000,
            )
