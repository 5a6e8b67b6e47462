"""The authentication backend: allauth's, with the user's organisation read in the same query as
the user on every request (every practice page asks whether the user is a practice member, which
reads the organisation: a second query per request before)."""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.core.exceptions import PermissionDenied

from sprechzimmer.accounts.models import User
from sprechzimmer.prepared import ByKey

# The duty profile and the practice's contract in the same query: every page's navigation asks
# whether there is a duty profile (accounts/context.py) and whether the contract ends (the banner,
# contracts/context.py), each a query of its own on every page of every member before. Its SQL is
# built once (sprechzimmer/prepared.py): building it was more than half of the query's time.
_USER = ByKey(lambda: User._default_manager.select_related("organisation__contract", "duty_profile"))


class AuthenticationBackend(AllauthBackend):
    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is None:
            # allauth's backend is listed after ours only to keep older sessions valid; it would
            # check the same credentials again, hashing a wrong password a second time (twice the
            # CPU an attacker burns per guess). PermissionDenied stops Django at this backend.
            raise PermissionDenied
        return user

    def get_user(self, user_id):
        try:
            user = _USER.get(user_id)
        except (TypeError, ValueError):  # not an id: no user (the ORM's get() raised ValueError here)
            return None
        return user if user is not None and self.user_can_authenticate(user) else None
