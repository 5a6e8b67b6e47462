"""The lock screen ("Bildschirm sperren", docs/e2ee.md): a member's session can be locked by the
member's browser (button or idle time). While locked the session reaches only the lock page, the
unlock request and logout; unlocking takes the authentication secret the browser derives from the
password, as at login. Five wrong tries end the session."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from sprechzimmer import inputs
from sprechzimmer.accounts.access import json_error, member_required

LOCKED = "sz_locked"
FAILED = "sz_unlock_failed"
MAX_FAILED = 5
# What a locked session may still reach (besides the lock page and the unlock request).
_OPEN = ("/static/", "/konto/logout/", "/konto/login/", "/impressum/", "/datenschutz/", "/nutzungsbedingungen/")


def is_locked(request: HttpRequest) -> bool:
    return bool(request.user.is_authenticated and request.session.get(LOCKED))


def safe_next(request: HttpRequest, value: str | None) -> str:
    """Where to go after unlocking: a path of this site, else the start page."""
    if (
        value
        and value.startswith("/")
        and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()})
        and not value.startswith((reverse("screen_locked"), "/api/"))
    ):
        return value
    return reverse("dashboard")


class ScreenLockMiddleware:
    """Holds a locked session on the lock page: pages redirect there, everything else gets 423."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_locked(request):
            return self.get_response(request)
        path = request.path
        if path.startswith(_OPEN) or path in (reverse("screen_locked"), reverse("api_unlock")):
            return self.get_response(request)
        if request.method == "GET" and not path.startswith("/api/"):
            return redirect(f"{reverse('screen_locked')}?{urlencode({'weiter': path})}")
        return JsonResponse(
            {"error": "Der Bildschirm ist gesperrt. Bitte entsperren Sie ihn mit Ihrem Passwort."}, status=423
        )


@require_POST
@member_required
def lock(request: HttpRequest) -> HttpResponse:
    """Locks the session; the browser has already wiped the keys (pages/practice.js)."""
    request.session[LOCKED] = True
    request.session[FAILED] = 0
    return JsonResponse({"locked": True, "url": reverse("screen_locked")})


def locked(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("account_login")
    target = safe_next(request, request.GET.get("weiter"))
    if not is_locked(request):
        return redirect(target)
    return render(request, "accounts/locked.html", {"next": target, "screen_locked": True})


@require_POST
def unlock(request: HttpRequest) -> HttpResponse:
    """Checks the authentication secret derived from the typed password, as the login does."""
    if not request.user.is_authenticated:
        return json_error("Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.", 403)
    if not is_locked(request):
        return JsonResponse({"unlocked": True})
    try:
        body = inputs.json_body(request)
    except inputs.InputError as exc:
        return json_error(exc.message)
    secret = body.get("secret")
    if not isinstance(secret, str) or not secret or len(secret) > 200:
        return json_error("Bitte geben Sie Ihr Passwort ein.")
    if request.user.check_password(secret):
        request.session[LOCKED] = False
        request.session[FAILED] = 0
        return JsonResponse({"unlocked": True})
    failed = int(request.session.get(FAILED) or 0) + 1
    if failed >= MAX_FAILED:
        logout(request)
        return JsonResponse(
            {
                "error": "Zu viele falsche Versuche. Sie wurden abgemeldet; bitte melden Sie sich neu an.",
                "url": reverse("account_login"),
            },
            status=403,
        )
    request.session[FAILED] = failed
    left = MAX_FAILED - failed
    return json_error(
        f"Das Passwort ist nicht korrekt. Noch {left} Versuch{'e' if left != 1 else ''}, dann werden Sie abgemeldet."
    )
