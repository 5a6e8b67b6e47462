from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.conf import settings

from sprechzimmer import mail, ratelimit
from sprechzimmer.accounts import loginguard


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return settings.SIGNUP_OPEN

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
