"""Delivery reports of an HTTP SMS API (docs/invitations.md, "SMS"): the provider POSTs one report
per message to ``/sms/zustellberichte/``, as JSON or as a form, naming its message id and a status.

The report is authenticated by ``SMS_HTTP_REPORT_SECRET`` in a header, never in the URL (request
logs carry paths): an HMAC-SHA256 of the raw body (the usual scheme of providers' webhooks), or the
secret itself where a provider can only send a fixed header. The report's other fields (providers
add the number, sometimes the text) are neither stored nor logged.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import HttpRequest

from sprechzimmer import inputs

#: Enough for one report with the fields providers add; a larger body is no report of ours.
MAX_BODY = 16 * 1024


class ReportRefused(Exception):
    """The report is not read; ``message`` is German (the provider's support may see it)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.message, self.status = message, status


def enabled() -> bool:
    return settings.SMS_BACKEND == "http" and bool(settings.SMS_HTTP_REPORT_SECRET)


def authentic(body: bytes, header: str) -> bool:
    """Whether the header proves the secret: its HMAC over the body or (``token``) the secret."""
    secret = settings.SMS_HTTP_REPORT_SECRET.encode()
    given = header.strip()
    if settings.SMS_HTTP_REPORT_AUTH == "token":
        return bool(given) and hmac.compare_digest(given.removeprefix("Bearer ").encode(), secret)
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(given.removeprefix("sha256=").lower().encode(), expected.encode())


def read(request: HttpRequest) -> tuple[str, str]:
    """(the provider's message id, sent|delivered|failed) of an authentic report, or ReportRefused."""
    body = request.body
    if len(body) > MAX_BODY:
        raise ReportRefused("Der Zustellbericht ist zu groß.", 400)
    if not authentic(body, request.headers.get(settings.SMS_HTTP_REPORT_HEADER, "")):
        raise ReportRefused("Die Signatur des Zustellberichts fehlt oder stimmt nicht.", 403)
    id_field, status_field = settings.SMS_HTTP_REPORT_FIELDS
    try:
        if request.content_type == "application/x-www-form-urlencoded":
            fields: dict[str, object] = dict(parse_qsl(body.decode("utf-8"), strict_parsing=True))
        else:
            fields = dict(inputs.json_object(body))
    except (ValueError, inputs.InputError):
        raise ReportRefused("Der Zustellbericht ist kein gültiges JSON-Objekt und kein Formular.", 400) from None
    message_id, status = fields.get(id_field), fields.get(status_field)
    if isinstance(message_id, int) and not isinstance(message_id, bool):
        message_id = str(message_id)
    if not isinstance(message_id, str) or not message_id.strip() or "\x00" in message_id:
        raise ReportRefused(f"Dem Zustellbericht fehlt die Nachrichten-ID (Feld „{id_field}“).", 400)
    if not isinstance(status, str) or not status.strip():
        raise ReportRefused(f"Dem Zustellbericht fehlt der Status (Feld „{status_field}“).", 400)
    # A status we do not know (providers add intermediate ones) changes nothing: "sent".
    return message_id.strip(), settings.SMS_HTTP_REPORT_STATES.get(status.strip().lower(), "sent")
