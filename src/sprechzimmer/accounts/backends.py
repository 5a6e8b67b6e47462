"""The authentication backend: allauth's, with the user's organisation read in the same query as
the user on every request (every practice page asks whether the user is a practice member, which
reads the organisation: a second query per request before)."""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend

from sprechzimmer.accounts.models import User


class AuthenticationBackend(AllauthBackend):
    def get_user(self, user_id):
        user = User._default_manager.select_related("organisation").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
