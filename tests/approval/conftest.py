import pytest

from sprechzimmer.accounts.models import Organisation
from tests import factories


@pytest.fixture
def operator(settings):
    settings.OPERATOR_NAME = "Sprechzimmer Betrieb GmbH"
    settings.OPERATOR_STREET = "Königstraße 1"
    settings.OPERATOR_POSTCODE = "70173"
    settings.OPERATOR_CITY = "Stuttgart"


def practice_in(code: str, name: str = "Praxis Dr. Genehmigt") -> Organisation:
    """A practice whose BSNR lies in the KV-Bezirk ``code`` (every Landesstelle code is one)."""
    practice = factories.practice(name)
    practice.bsnr = code + practice.bsnr[2:]
    practice.save()
    return practice


def logged_in(client, user):
    client.force_login(user)
    client.get("/praxis/")  # registers this client as the user's (approved) device
    return client


@pytest.fixture
def staff(db, monkeypatch):
    """A member of the operator's staff as `operator_staff` creates one, second factor set up."""
    import io

    from django.core.management import call_command

    from sprechzimmer.accounts.models import User
    from sprechzimmer.demo import provisioning

    monkeypatch.setattr("sys.stdin", io.StringIO("Betrieb-Passwort-2026\n"))
    call_command("operator_staff", "betrieb@example.org", password_stdin=True, stdout=io.StringIO())
    user = User.objects.get(email="betrieb@example.org")
    provisioning.enable_totp(user, factories.TOTP_SECRET)
    return user
