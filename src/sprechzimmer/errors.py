"""Error answers: the German error pages (templates/400.html …), and for a request that asks for
JSON (our browser modules send ``Accept: application/json``, lib/api.js) or goes to /api/ the same
message as JSON, ``{"error": …}``, which the page shows as it is. Without this a script got the
HTML page and could only say "Der Server meldet einen Fehler (404)"."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views import defaults

MESSAGES = {
    400: "Die Anfrage war ungültig. Bitte laden Sie die Seite neu und versuchen Sie es erneut.",
    403: "Dafür fehlt Ihnen die Berechtigung.",
    404: "Das gibt es nicht (mehr), oder es gehört nicht zu Ihrer Praxis.",
    500: "Auf dem Server ist ein Fehler aufgetreten. Bitte versuchen Sie es später erneut.",
}
#: A POST without a matching CSRF token: the page was open across a login or logout in another
#: window, or the browser blocks cookies. Django's own answer is an English page.
CSRF_MESSAGE = (
    "Die Sicherheitsprüfung ist fehlgeschlagen, meist weil Sie sich inzwischen in einem anderen "
    "Fenster an- oder abgemeldet haben. Bitte laden Sie die Seite neu und versuchen Sie es erneut. "
    "Blockiert Ihr Browser Cookies, erlauben Sie sie bitte für diese Seite."
)


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def _answer(request: HttpRequest, status: int, page, message: str | None = None) -> HttpResponse:
    error = message or MESSAGES[status]
    response = JsonResponse({"error": error}, status=status) if wants_json(request) else page()
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


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the German answer, as JSON for scripts. Django logs ``reason`` itself
    (logger django.security.csrf); it is English and technical, so it is not shown."""
    return _answer(
        request, 403, lambda: render(request, "403_csrf.html", {"message": CSRF_MESSAGE}, status=403), CSRF_MESSAGE
    )
