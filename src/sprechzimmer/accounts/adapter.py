import time

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context as allauth_context
from django import forms
from django.conf import settings

from sprechzimmer import mail, ratelimit
from sprechzimmer.accounts import loginguard


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return settings.SIGNUP_OPEN

    def is_reauthentication_required(self, *, app: str, **kwargs):
        """A login minutes ago counts as a recent confirmation for the second factors.

        allauth asks for the password again before any change to the second factors and before
        showing the recovery codes, even when the user logged in a moment ago; a new user then
        types the password three times in five minutes (sign-up, login, "bestätigen") and is asked
        once more for the codes that allauth itself shows after setting up the app. Within
        allauth's reauthentication window (ACCOUNT_REAUTHENTICATION_TIMEOUT, 5 minutes) after a
        full login in this session, that prompt protects nothing the login did not; later it is
        asked as before."""
        request = allauth_context.request
        user = getattr(request, "user", None)
        if app == "allauth.mfa" and user is not None and user.is_authenticated:
            records = get_authentication_records(request, user)
            if records and time.time() - records[-1]["at"] < app_settings.REAUTHENTICATION_TIMEOUT:
                return False
        return super().is_reauthentication_required(app=app, **kwargs)

    def send_mail(self, template_prefix, email, context):
        """allauth's mails (confirmation, password reset …) in our German layout, through the queue."""
        from allauth.core import context as allauth_context
        from django.contrib.sites.shortcuts import get_current_site

        request = allauth_context.request
        message = self.render_mail(
            template_prefix,
            email,
            {
                "request": request,
                "email": email,
                "current_site": get_current_site(request),
                "site_name": settings.SITE_NAME,
                **context,
            },
        )
        mail.queue(message.subject, message.body, list(message.to), template_prefix.rsplit("/", 1)[-1])

    def get_client_ip(self, request):
        """allauth's rate limits key on the same client address as ours (trusted proxies)."""
        return ratelimit.client_address(request) or super().get_client_ip(request)

    def pre_authenticate(self, request, **credentials):
        account = loginguard.password_account(credentials.get("email", ""))
        user = self._user_for(credentials.get("email", ""))
        message = loginguard.refusal(request, account, user)
        if message:
            raise forms.ValidationError(message)
        super().pre_authenticate(request, **credentials)

    def authentication_failed(self, request, **credentials):
        loginguard.failed(request, loginguard.password_account(credentials.get("email", "")))
        super().authentication_failed(request, **credentials)

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is not None:
            loginguard.succeeded(request, loginguard.password_account(credentials.get("email", "")))
        return user

    @staticmethod
    def _user_for(email: str):
        from sprechzimmer.accounts.models import User

        return User.objects.filter(email__iexact=(email or "").strip()).first() if email else None
