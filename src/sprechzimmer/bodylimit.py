"""No request body larger than REQUEST_MAX_BYTES is read (issue 11, item 3).

Two walls, because each server layer buffers on its own:
- **Daphne** receives a whole body into a temporary file and then puts all of it, in 8 KB pieces,
  into the application's queue in memory before the application reads any: 180 MB sent are 180 MB
  of server memory. ``install_daphne_limit`` makes Daphne's request refuse a declared
  Content-Length above the limit as soon as the headers are in, and a body without one (chunked)
  as soon as it passes the limit: status 413, connection closed, nothing buffered.
- **Django's ASGI handler** reads a whole body into a temporary file before any view runs;
  ``BodyLimit`` refuses the same way for any other ASGI server.
Set the proxy's limit to the same value (nginx ``client_max_body_size``, docs/operations.md), so
that large bodies do not even reach Daphne.
"""

from __future__ import annotations

from django.conf import settings

PAGE = (
    '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Zu groß</title></head><body>'
    "<h1>Die Anfrage ist zu groß</h1><p>Es können höchstens {mb} MB auf einmal gesendet werden. Bitte laden "
    "Sie große Dateien einzeln hoch und gehen Sie dazu im Browser eine Seite zurück.</p></body></html>"
)


async def _refuse(send, status: int = 413) -> None:
    body = PAGE.format(mb=settings.REQUEST_MAX_BYTES // (1024 * 1024)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = settings.REQUEST_MAX_BYTES
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                return await _refuse(send, 400)
            if int(declared) > limit:
                return await _refuse(send)
        received, exceeded, started = 0, False, False

        async def limited_receive():
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, tracking_send)
        if exceeded and not started:
            await _refuse(send)


def install_daphne_limit() -> None:
    """Makes Daphne's HTTP request class refuse bodies over REQUEST_MAX_BYTES while they arrive.

    Daphne builds its request objects from the module-level name ``WebRequest`` for every new
    connection, so replacing that name takes effect for all later connections.
    """
    try:
        from daphne import http_protocol
    except ImportError:  # another ASGI server; BodyLimit still holds
        return
    if getattr(http_protocol.WebRequest, "sprechzimmer_limited", False):
        return

    class LimitedWebRequest(http_protocol.WebRequest):
        sprechzimmer_limited = True
        _received = 0
        _refused = False

        def gotLength(self, length):
            super().gotLength(length)
            if length is not None and length > settings.REQUEST_MAX_BYTES:
                self._refuse()

        def handleContentChunk(self, data):
            if self._refused:
                return
            self._received += len(data)
            if self._received > settings.REQUEST_MAX_BYTES:
                return self._refuse()
            super().handleContentChunk(data)

        def _refuse(self):
            self._refused = True
            body = PAGE.format(mb=settings.REQUEST_MAX_BYTES // (1024 * 1024)).encode()
            self.channel.transport.write(
                b"HTTP/1.1 413 Content Too Large\r\nContent-Type: text/html; charset=utf-8\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
            )
            self.channel.transport.loseConnection()

    http_protocol.WebRequest = LimitedWebRequest
