"""Who may see the duty pages: KV staff of the organisation (``request.kv``) and doctors with a duty
profile (``request.duty_doctor``), each on an approved device (accounts/access.py holds that check).
Anyone else gets 404, never a hint that an object exists."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404

from sprechzimmer.accounts.access import device_approved
from sprechzimmer.duty.models import DutyDoctor


def kv_staff_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        organisation = request.user.organisation
        if not device_approved(request.user, request.device) or organisation is None or not organisation.is_kv:
            raise Http404
        request.kv = organisation
        return view(request, *args, **kwargs)

    return wrapper


def duty_doctor_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        profile = DutyDoctor.objects.filter(user=request.user).select_related("kv", "area").first()
        if not device_approved(request.user, request.device) or profile is None:
            raise Http404
        request.duty_doctor = profile
        return view(request, *args, **kwargs)

    return wrapper
