"""allauth's second-factor forms with our failure limits (accounts/loginguard.py) instead of a lock
per account."""

from __future__ import annotations

from allauth.core import context
from allauth.mfa.base.forms import AuthenticateForm, ReauthenticateForm
from django import forms

from sprechzimmer.accounts import loginguard


class GuardedCodeMixin:
    def clean_code(self):
        account = loginguard.second_factor_account(self.user)
        message = loginguard.refusal(context.request, account, self.user)
        if message:
            raise forms.ValidationError(message)
        try:
            code = super().clean_code()
        except forms.ValidationError:
            loginguard.failed(context.request, account)
            raise
        loginguard.succeeded(context.request, account)
        return code


class GuardedAuthenticateForm(GuardedCodeMixin, AuthenticateForm):
    pass


class GuardedReauthenticateForm(GuardedCodeMixin, ReauthenticateForm):
    pass
