"""Access rules shared by every practice view: who may see what of which practice."""

from __future__ import annotations

from functools import wraps

from allauth.mfa.utils import is_mfa_enabled
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse

from sprechzimmer.accounts.models import Device


def is_practice_member(user) -> bool:
    """An active member of a practice; KV staff (an organisation of kind KV) have duty pages only."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.organisation_id is not None
        and not user.organisation.is_kv
    )


def second_factor(request) -> bool:
    """Whether the request's user has a second factor, asked once per request: the device middleware
    and the template context both need it (allauth's is_mfa_enabled is a query each time). Set-up and
    removal of a factor happen under /konto/, where the middleware does not ask, so the context sees
    the state after the view."""
    cached = getattr(request, "_second_factor", None)
    if cached is None:
        user = getattr(request, "user", None)
        cached = request._second_factor = bool(user is not None and user.is_authenticated and is_mfa_enabled(user))
    return cached


def device_approved(user, device) -> bool:
    """The device is this user's and approved: the one device check of HTTP views and websockets."""
    return device is not None and device.user_id == user.pk and device.status == Device.Status.APPROVED


def _approved_member(request) -> bool:
    return is_practice_member(request.user) and device_approved(request.user, getattr(request, "device", None))


def member_required(view):
    """A logged-in member of a practice on an approved device; anyone else gets 404."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _approved_member(request):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def main_user_required(view):
    """Only the practice's main user (Hauptnutzer) manages members, devices and settings."""

    @member_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_main_user:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def json_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)
