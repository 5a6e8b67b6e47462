"""Error answers: the German error pages (templates/400.html …), and for a request that asks for
JSON (our browser modules send ``Accept: application/json``, lib/api.js) or goes to /api/ the same
message as JSON, ``{"error": …}``, which the page shows as it is. Without this a script got the
HTML page and could only say "Der Server meldet einen Fehler (404)"."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views import defaults

MESSAGES = {
    400: "Die Anfrage war ungültig. Bitte laden Sie die Seite neu und versuchen Sie es erneut.",
    403: "Dafür fehlt Ihnen die Berechtigung.",
    404: "Das gibt es nicht (mehr), oder es gehört nicht zu Ihrer Praxis.",
    500: "Auf dem Server ist ein Fehler aufgetreten. Bitte versuchen Sie es später erneut.",
}


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def _json(status: int) -> JsonResponse:
    return JsonResponse({"error": MESSAGES[status]}, status=status)


def bad_request(request, exception):
    return _json(400) if wants_json(request) else defaults.bad_request(request, exception)


def permission_denied(request, exception):
    return _json(403) if wants_json(request) else defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    return _json(404) if wants_json(request) else defaults.page_not_found(request, exception)


def server_error(request):
    return _json(500) if wants_json(request) else defaults.server_error(request)
