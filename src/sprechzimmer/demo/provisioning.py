"""Creating practices and members with real keys outside a browser: demo data and test fixtures."""

from __future__ import annotations

import os

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.db import transaction

from sprechzimmer.accounts.models import Organisation, User
from sprechzimmer.demo import keys as demo_keys
from sprechzimmer_client.crypto import public_key_text, recovery_private_key


@transaction.atomic
def create_practice(
    *,
    name: str,
    bsnr: str,
    street="Musterstraße 1",
    postcode="70173",
    city="Stuttgart",
    main_email: str,
    main_name: str,
    password: str,
    lanr="",
    role=User.Role.DOCTOR,
):
    """A practice with its main user; returns (organisation, user, practice_key, recovery_text)."""
    practice_key = os.urandom(32)
    recovery_text, recovery_raw = demo_keys.new_recovery_key()
    organisation = Organisation.objects.create(
        name=name,
        bsnr=bsnr,
        street=street,
        postcode=postcode,
        city=city,
        # the recovery key pair derived from the printed key, as signup.js makes it (docs/e2ee.md)
        recovery_public_key=(recovery_public := public_key_text(recovery_private_key(recovery_raw))),
        recovery_wrapped_key=demo_keys.wrap_to_public_key(practice_key, recovery_public),
    )
    user = add_member(
        organisation,
        email=main_email,
        name=main_name,
        password=password,
        role=role,
        lanr=lanr,
        practice_key=practice_key,
        is_main_user=True,
    )
    return organisation, user, practice_key, recovery_text


def add_member(
    organisation, *, email, name, password, role=User.Role.STAFF, lanr="", practice_key=None, is_main_user=False
) -> User:
    keys = demo_keys.member_keys(email, password)
    user = User.objects.create_user(
        email,
        keys.auth_secret,
        full_name=name,
        organisation=organisation,
        role=role,
        lanr=lanr,
        is_main_user=is_main_user,
        public_key=keys.public_key,
        wrapped_private_key=keys.wrapped_private_key,
        wrapped_practice_key=demo_keys.wrap_to_public_key(practice_key, keys.public_key) if practice_key else "",
    )
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def enable_totp(user: User, secret: str) -> None:
    """Registers a TOTP authenticator with a known base32 secret (allauth's own storage format)."""
    from allauth.mfa.adapter import get_adapter

    Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": get_adapter().encrypt(secret)}
    )
