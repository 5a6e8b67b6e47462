"""TOTP secrets and recovery-code seeds were stored in clear (allauth's default encrypt() does
nothing); seal the existing ones with the MFA key (accounts/mfa_adapter.py)."""

from django.db import migrations

from sprechzimmer.atrest import PREFIX


def seal(apps, schema_editor):
    from sprechzimmer.accounts.mfa_adapter import AAD, keyring, reseal

    ring = keyring()
    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.all():
        data = reseal(authenticator.data,
                      lambda value: value if value.startswith(PREFIX + ".") else ring.seal_text(value, AAD))
        if data != authenticator.data:
            authenticator.data = data
            authenticator.save(update_fields=["data"])


def unseal(apps, schema_editor):
    from sprechzimmer.accounts.mfa_adapter import AAD, keyring, reseal

    ring = keyring()
    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.all():
        authenticator.data = reseal(authenticator.data, lambda value: ring.open_text(value, AAD))
        authenticator.save(update_fields=["data"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_organisation_kind"), ("mfa", "0003_authenticator_type_uniq")]
    operations = [migrations.RunPython(seal, unseal)]
