"""Error answers: the German error pages (templates/400.html …), and for a request that asks for
JSON (our browser modules send ``Accept: application/json``, lib/api.js) or goes to /api/ the same
message as JSON, ``{"error": …}``, which the page shows as it is. Without this a script got the
HTML page and could only say "Der Server meldet einen Fehler (404)"."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers
from django.views import defaults

MESSAGES = {
    400: "Die Anfrage war ungültig. Bitte laden Sie die Seite neu und versuchen Sie es erneut.",
    403: "Dafür fehlt Ihnen die Berechtigung.",
    404: "Das gibt es nicht (mehr), oder es gehört nicht zu Ihrer Praxis.",
    500: "Auf dem Server ist ein Fehler aufgetreten. Bitte versuchen Sie es später erneut.",
}


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def _answer(request: HttpRequest, status: int, page) -> HttpResponse:
    response = JsonResponse({"error": MESSAGES[status]}, status=status) if wants_json(request) else page()
    patch_vary_headers(response, ["Accept"])  # no cache may hand the JSON to a person, or the page to a script
    return response


def bad_request(request, exception):
    return _answer(request, 400, lambda: defaults.bad_request(request, exception))


def permission_denied(request, exception):
    return _answer(request, 403, lambda: defaults.permission_denied(request, exception))


def page_not_found(request, exception):
    return _answer(request, 404, lambda: defaults.page_not_found(request, exception))


def server_error(request):
    return _answer(request, 500, lambda: defaults.server_error(request))
