"""TOTP secrets and recovery-code seeds are sealed at rest under MFA_KEYS (accounts/mfa_adapter.py):
the database holds no secret a thief could turn into codes, the server still verifies codes, and the
key can be rotated."""

import importlib
import io
import json

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.apps import apps
from django.core.cache import cache
from django.core.management import call_command

from sprechzimmer import atrest
from sprechzimmer.accounts.totp import code_now
from sprechzimmer.demo import provisioning
from tests import factories

SECRET = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"


def _totp(user) -> Authenticator:
    return Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)


def verifies(authenticator) -> bool:
    cache.clear()  # allauth refuses a code it has seen; each check here is a fresh login
    return TOTP(authenticator).validate_code(code_now(SECRET))


def test_totp_secret_is_sealed_and_codes_still_verify(db):
    user = factories.member(factories.practice(), totp=False)
    provisioning.enable_totp(user, SECRET)
    stored = json.dumps(_totp(user).data)
    assert SECRET not in stored and SECRET.lower() not in stored
    assert _totp(user).data["secret"].startswith("sz1.")
    assert verifies(_totp(user))
    assert not TOTP(_totp(user)).validate_code("000000" if code_now(SECRET) != "000000" else "111111")


def test_recovery_codes_seed_is_sealed(db):
    user = factories.member(factories.practice())
    codes = RecoveryCodes.activate(user)
    stored = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES).data
    assert stored["seed"].startswith("sz1.")
    assert all(code not in json.dumps(stored) for code in codes.get_unused_codes())
    assert codes.validate_code(codes.get_unused_codes()[0])


def test_rotation_re_seals_with_the_new_key_and_the_old_one_can_go(db, settings):
    old, new = atrest.parse_key(atrest.new_key_text()), atrest.parse_key(atrest.new_key_text())
    settings.MFA_KEYS = [old]
    user = factories.member(factories.practice(), totp=False)
    provisioning.enable_totp(user, SECRET)
    assert _totp(user).data["secret"].startswith(f"sz1.{atrest.key_id(old)}.")

    settings.MFA_KEYS = [new, old]
    assert verifies(_totp(user))  # old ciphertexts still open
    call_command("rotate_keys", stdout=io.StringIO())
    assert _totp(user).data["secret"].startswith(f"sz1.{atrest.key_id(new)}.")

    settings.MFA_KEYS = [new]
    assert verifies(_totp(user))
    settings.MFA_KEYS = [atrest.parse_key(atrest.new_key_text())]
    with pytest.raises(atrest.SealedDataError):
        verifies(_totp(user))


def test_migration_seals_secrets_stored_in_clear(db):
    user = factories.member(factories.practice(), totp=False)
    authenticator = Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": SECRET})
    migration = importlib.import_module("sprechzimmer.accounts.migrations.0004_seal_mfa_secrets")
    migration.seal(apps, None)
    authenticator.refresh_from_db()
    assert SECRET not in json.dumps(authenticator.data)
    assert verifies(authenticator)
    migration.seal(apps, None)  # twice changes nothing
    assert verifies(Authenticator.objects.get(pk=authenticator.pk))


def test_the_authenticator_app_is_switched_not_deactivated(client, db):
    """A second factor is required, so the overview offers "App wechseln" (not "Deaktivieren"), the
    page says what follows, and removing the app leads straight to setting up the new one."""
    from django.urls import reverse

    secret = factories.derived_secret()
    user = factories.member(factories.practice(), password=secret)
    client.force_login(user)
    # allauth asks for the password again before a factor is removed.
    client.post(reverse("account_reauthenticate"), {"password": secret})
    overview = client.get("/konto/2fa/").content.decode()
    assert "App wechseln" in overview and "Deaktivieren" not in overview
    page = client.get(reverse("mfa_deactivate_totp")).content.decode()
    assert "Sie richten gleich danach die neue ein" in page
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")
    assert not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    # Until the new app is set up, practice pages lead to its setup.
    assert client.get(reverse("dashboard"))["Location"] == reverse("mfa_activate_totp")
