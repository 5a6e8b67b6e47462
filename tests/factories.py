"""Practices and members for tests that use Django's test client.

Key material here has the documented shape but is random: these tests check access rules, not
cryptography (the browser tests and tests/accounts/test_key_scheme.py use real keys).
"""

from __future__ import annotations

import itertools
import json
import os

from allauth.account.models import EmailAddress

from sprechzimmer.accounts import keyblobs
from sprechzimmer.accounts.domain import lanr_check_digit
from sprechzimmer.accounts.models import Organisation, User
from sprechzimmer.demo import provisioning
from sprechzimmer.demo.keys import b64u

_counter = itertools.count(1)
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def envelope(alg: str, **extra) -> str:
    return json.dumps({"v": 1, "alg": alg, **extra, "iv": b64u(os.urandom(12)), "ct": b64u(os.urandom(48))})


def fake_public_key() -> str:
    return b64u(os.urandom(keyblobs.PUBLIC_KEY_BYTES))


def derived_secret() -> str:
    return b64u(os.urandom(32))


def bsnr() -> str:
    return f"52{next(_counter):07d}"


def lanr() -> str:
    doctor = f"{100000 + next(_counter):06d}"
    return f"{doctor}{lanr_check_digit(doctor)}01"


def practice(name="Praxis Test") -> Organisation:
    return Organisation.objects.create(
        name=name,
        street="Weg 1",
        postcode="70173",
        city="Stuttgart",
        bsnr=bsnr(),
        recovery_wrapped_key=envelope(keyblobs.ALG_RECOVERY_WRAP),
    )


def member(organisation, *, main=False, role=User.Role.DOCTOR, with_key=True, totp=True, password=None) -> User:
    n = next(_counter)
    user = User.objects.create_user(
        f"user{n}@example.org",
        password or derived_secret(),
        full_name=f"Mitglied {n}",
        organisation=organisation,
        role=role,
        lanr=lanr() if role == User.Role.DOCTOR else "",
        is_main_user=main,
        public_key=fake_public_key(),
        wrapped_private_key=envelope(keyblobs.ALG_PASSWORD_WRAP),
        wrapped_practice_key=envelope(keyblobs.ALG_ECIES, epk=fake_public_key()) if with_key else "",
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    if totp:
        provisioning.enable_totp(user, TOTP_SECRET)
    return user
