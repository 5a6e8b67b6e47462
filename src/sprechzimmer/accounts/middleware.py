from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

from sprechzimmer.accounts import devices
from sprechzimmer.accounts.access import second_factor
from sprechzimmer.accounts.models import Device
from sprechzimmer.prepared import ByKey

_DEVICE = ByKey(lambda: Device.objects.all())

# Paths a member may reach before the device is approved or a second factor is set up.
_ALWAYS_ALLOWED = ("/static/", "/konto/logout/", "/impressum/", "/datenschutz/", "/nutzungsbedingungen/")


class DeviceMiddleware:
    """Binds every logged-in session to a device and enforces the device's status and 2FA.

    Revoking a device takes effect on that browser's next request: its session is ended there.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.device = None
        user = request.user
        if not user.is_authenticated:
            return self.get_response(request)

        new_cookie = None
        device = None
        device_id = devices.session_device(request.session)
        if device_id is not None:
            device = _DEVICE.get(device_id)  # SQL built once: this runs on every request of every member
            if device is not None and device.user_id != user.pk:
                device = None
        if device is None:
            token = request.COOKIES.get(devices.COOKIE_NAME)
            if not devices.valid_token(token):
                token = new_cookie = devices.new_token()
            device = devices.device_for_login(user, token, request.headers.get("User-Agent", ""))
            request.session[devices.SESSION_KEY] = device.pk

        if device.status == Device.Status.REVOKED:
            logout(request)
            messages.error(
                request, "Dieses Endgerät wurde gesperrt. Bitte wenden Sie sich an den Hauptnutzer Ihrer Praxis."
            )
            return redirect("account_login")

        request.device = device
        devices.touch(device)
        path = request.path
        if not path.startswith(_ALWAYS_ALLOWED):
            if device.status == Device.Status.PENDING and path != reverse("device_pending"):
                response = redirect("device_pending")
            elif (
                device.status == Device.Status.APPROVED
                and not path.startswith("/konto/")
                and not second_factor(request)
            ):
                messages.info(request, "Bitte richten Sie zuerst die Zwei-Faktor-Anmeldung ein.")
                response = redirect("mfa_activate_totp")
            else:
                response = self.get_response(request)
        else:
            response = self.get_response(request)

        if new_cookie:
            response.set_cookie(
                devices.COOKIE_NAME,
                new_cookie,
                max_age=devices.COOKIE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
