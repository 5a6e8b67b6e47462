"""Bad input gets a clear German message and changes nothing."""

import json
import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.accounts import keyblobs
from sprechzimmer.accounts.models import Invitation, Organisation, User
from sprechzimmer.accounts.totp import code_now
from sprechzimmer.demo import keys as demo_keys
from sprechzimmer.demo import provisioning
from sprechzimmer.records.models import EncryptedRecord
from tests import factories


def signup_data(**overrides):
    data = {
        "practice_name": "Praxis Süd",
        "street": "Hauptstr. 1",
        "postcode": "80331",
        "city": "München",
        "bsnr": "711234567",
        "full_name": "Dr. Süd",
        "role": "doctor",
        "lanr": "838382202",
        "email": "sued@example.org",
        "password1": factories.derived_secret(),
        "public_key": factories.fake_public_key(),
        "wrapped_private_key": factories.envelope(keyblobs.ALG_PASSWORD_WRAP),
        "wrapped_practice_key": factories.envelope(keyblobs.ALG_ECIES, epk=factories.fake_public_key()),
        "recovery_public_key": factories.fake_public_key(),
        "recovery_wrapped_key": factories.envelope(keyblobs.ALG_ECIES, epk=factories.fake_public_key()),
    }
    data.update(overrides)
    return data


def counts():
    return (Organisation.objects.count(), User.objects.count(), EmailAddress.objects.count(), len(mail.outbox))


def test_valid_signup_creates_practice_and_sends_verification(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_signup"), signup_data())
    assert response.status_code == 302
    user = User.objects.get(email="sued@example.org")
    assert user.is_main_user and user.organisation.kv_name == "KV Bayerns"
    assert len(mail.outbox) == 1 and "/konto/confirm-email/" in mail.outbox[0].body
    # allauth's mail in our German layout, not "Hallo von testserver!".
    assert mail.outbox[0].body.startswith("Guten Tag,") and "Ihr Sprechzimmer" in mail.outbox[0].body
    assert "Hallo von" not in mail.outbox[0].body and mail.outbox[0].subject.startswith("[Sprechzimmer] ")


def test_a_real_bsnr_of_a_kv_district_signs_up(client, db):
    """Real BSNRs begin with the KV-Bezirk (27: Bezirksstelle Köln), not only with the 17 KV codes."""
    response = client.post(reverse("account_signup"), signup_data(bsnr="271234567"))
    assert response.status_code == 302
    assert Organisation.objects.get(bsnr="271234567").kv_name == "KV Nordrhein"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"bsnr": "991234567"}, "keine KV-Kennung"),
        ({"bsnr": "12345"}, "genau 9 Ziffern"),
        ({"lanr": "838382302"}, "Prüfziffer der LANR"),
        ({"lanr": ""}, "die LANR erforderlich"),
        ({"postcode": "8033"}, "PLZ besteht aus 5 Ziffern"),
        ({"password1": "Klartext-Passwort-123"}, "nicht im Browser verschlüsselt"),
        ({"wrapped_practice_key": "{}"}, "Schlüsseldaten aus Ihrem Browser"),
    ],
)
def test_signup_with_bad_input_changes_nothing(client, db, overrides, message):
    before = counts()
    response = client.post(reverse("account_signup"), signup_data(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert counts() == before
    # What the user typed is shown again.
    assert "Praxis Süd" in response.content.decode()


def test_signup_with_duplicate_email_changes_nothing(client, team):
    before = counts()
    response = client.post(reverse("account_signup"), signup_data(email=team.owner.email))
    assert "bereits" in response.content.decode()
    assert counts() == before


def test_signup_with_taken_bsnr_changes_nothing(client, team):
    before = counts()
    response = client.post(reverse("account_signup"), signup_data(bsnr=team.practice.bsnr))
    assert "Für diese BSNR ist bereits eine Praxis registriert." in response.content.decode()
    assert counts() == before


def test_signup_check_reports_errors_before_keys_are_made(client, team):
    data = signup_data(bsnr="001234567", lanr="123456749", email=team.owner.email)
    errors = client.post(reverse("signup_check"), data).json()["errors"]
    assert "keine KV-Kennung" in errors["bsnr"][0]
    assert "Prüfziffer" in errors["lanr"][0]
    assert "bereits ein Benutzerkonto" in errors["email"][0]
    assert client.post(reverse("signup_check"), signup_data()).json() == {"ok": True, "errors": {}}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"role": "doctor", "lanr": "838382312"}, "Prüfziffer der LANR"),
        ({"role": "doctor", "lanr": ""}, "die LANR erforderlich"),
        ({"email": "kein-at-zeichen"}, "gültige E-Mail-Adresse"),
    ],
)
def test_invitation_with_bad_input_changes_nothing(client, team, overrides, message):
    client.force_login(team.owner)
    data = {"full_name": "Dr. Neu", "email": "dr.neu@example.org", "role": "staff", **overrides}
    before = (Invitation.objects.count(), len(mail.outbox))
    response = client.post(reverse("members"), data)
    assert message in response.content.decode()
    assert (Invitation.objects.count(), len(mail.outbox)) == before
    assert "Dr. Neu" in response.content.decode()


def test_invitation_of_existing_user_changes_nothing(client, team):
    client.force_login(team.owner)
    before = Invitation.objects.count()
    response = client.post(reverse("members"), {"full_name": "X", "email": team.outsider.email, "role": "staff"})
    assert "Mit dieser E-Mail-Adresse besteht bereits ein Benutzerkonto." in response.content.decode()
    assert Invitation.objects.count() == before


def test_a_second_invitation_to_the_same_address_or_lanr_is_refused(client, team):
    """Found by a new user's walk: the same address invited twice got two open invitations and two
    mails, and a new doctor could be invited under a LANR the practice's own doctor holds."""
    client.force_login(team.owner)
    first = {"full_name": "Dr. Neu", "email": "dr.neu@example.org", "role": "doctor", "lanr": "838382202"}
    assert client.post(reverse("members"), first).status_code == 302
    before = (Invitation.objects.count(), len(mail.outbox))
    again = client.post(reverse("members"), {**first, "email": "DR.NEU@example.org", "lanr": ""})
    assert "An diese Adresse ging bereits eine Einladung" in again.content.decode()
    same_lanr = client.post(reverse("members"), {**first, "email": "andere@example.org"})
    assert "Diese LANR hat bereits ein Mitglied Ihrer Praxis" in same_lanr.content.decode()
    assert (Invitation.objects.count(), len(mail.outbox)) == before
    # Withdrawn, the address and the LANR are free again.
    Invitation.objects.filter(email="dr.neu@example.org").delete()
    assert client.post(reverse("members"), first).status_code == 302


def accept_data():
    return {
        "full_name": "Neu",
        "password": factories.derived_secret(),
        "public_key": factories.fake_public_key(),
        "wrapped_private_key": factories.envelope(keyblobs.ALG_PASSWORD_WRAP),
    }


def test_expired_invitation_is_refused_and_changes_nothing(client, team):
    Invitation.objects.filter(pk=team.invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    url = reverse("accept_invitation", args=["token-eins"])
    assert "Diese Einladung ist abgelaufen" in client.get(url).content.decode()
    before = User.objects.count()
    response = client.post(url, accept_data())
    assert response.status_code == 410
    assert User.objects.count() == before


def test_invitation_is_accepted_once(client, team):
    url = reverse("accept_invitation", args=["token-eins"])
    assert client.post(url, accept_data()).status_code == 302
    user = User.objects.get(email="neu@example.org")
    assert user.organisation == team.practice and user.wrapped_practice_key == ""
    response = client.post(url, accept_data())
    assert response.status_code == 410
    assert "bereits angenommen" in response.content.decode()


def test_unknown_invitation_token(client, team):
    response = client.get(reverse("accept_invitation", args=["falsch"]))
    assert response.status_code == 404 and "ungültig" in response.content.decode()


def test_wrong_totp_is_refused_and_does_not_log_in(client, db):
    password = "Richtiges-Passwort-1"
    organisation, user, _, _ = provisioning.create_practice(
        name="Praxis TOTP", bsnr="201234567", main_email="totp@example.org", main_name="Dr. T", password=password
    )
    provisioning.enable_totp(user, factories.TOTP_SECRET)
    auth_secret, _ = demo_keys.derive_login_secrets("totp@example.org", password)
    response = client.post(reverse("account_login"), {"login": "totp@example.org", "password": auth_secret})
    assert response.status_code == 302 and "/2fa/authenticate/" in response["Location"]
    wrong = f"{(int(code_now(factories.TOTP_SECRET)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert "Falscher Code" in response.content.decode()
    # The button says what it does (allauth's translation offered the noun "Anmeldung").
    assert re.search(r"<button[^>]*>\s*Anmelden\s*</button>", response.content.decode())
    assert client.get(reverse("dashboard")).status_code == 302


def test_failed_logins_block_the_guesser_not_the_doctor(client, db):
    """Five wrong passwords from one address block that address for this account (with backoff);
    the doctor logging in from anywhere else is not locked out by someone else's guesses."""
    password = "Richtiges-Passwort-2"
    provisioning.create_practice(
        name="Praxis RL", bsnr="171234567", main_email="rl@example.org", main_name="Dr. RL", password=password
    )
    wrong = {"login": "rl@example.org", "password": factories.derived_secret()}
    attacker = {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(5):
        page = client.post(reverse("account_login"), wrong, **attacker).content.decode()
        assert "E-Mail-Adresse und/oder das Passwort sind leider falsch" in page
    # From the sixth attempt on, this address is refused for this account, even with the right password.
    right = {"login": "rl@example.org", "password": demo_keys.derive_login_secrets("rl@example.org", password)[0]}
    response = client.post(reverse("account_login"), right, **attacker)
    assert (
        "Zu viele fehlgeschlagene Anmeldeversuche. Bitte versuchen Sie es in 5 Minuten erneut."
        in response.content.decode()
    )
    assert client.get(reverse("dashboard")).status_code == 302
    # The doctor, from the practice's own connection, logs in at once.
    doctor = Client()
    response = doctor.post(reverse("account_login"), right, REMOTE_ADDR="198.51.100.20")
    assert response.status_code == 302 and response["Location"] == "/praxis/"  # logged in


def test_wrong_totp_codes_block_the_guesser_not_the_doctor(client, db):
    """The same for the second factor: an attacker who has the password cannot lock the doctor's TOTP."""
    user = factories.member(factories.practice())
    attacker, doctor = Client(), Client()
    for logged_in in (attacker, doctor):
        logged_in.force_login(user)
    # Both are past the password; the TOTP form they post to is allauth's reauthentication by code.
    url = reverse("mfa_reauthenticate")
    wrong = f"{(int(code_now(factories.TOTP_SECRET)) + 1) % 1_000_000:06d}"
    for _ in range(5):
        attacker.post(url, {"code": wrong}, REMOTE_ADDR="203.0.113.9")
    page = attacker.post(url, {"code": code_now(factories.TOTP_SECRET)}, REMOTE_ADDR="203.0.113.9").content.decode()
    assert "Zu viele fehlgeschlagene Anmeldeversuche" in page
    response = doctor.post(url, {"code": code_now(factories.TOTP_SECRET)}, REMOTE_ADDR="198.51.100.20")
    assert response.status_code == 302, response.content.decode()[:3000]


def test_record_save_with_stale_version_keeps_the_newer_text(client, team):
    client.force_login(team.owner)
    url = reverse("api_record", args=["practice-note"])

    def put(version):
        return client.put(
            url,
            json.dumps({"ciphertext": factories.envelope("A256GCM"), "base_version": version}),
            content_type="application/json",
        )

    assert put(0).status_code == 200
    saved = EncryptedRecord.objects.get().ciphertext
    response = put(0)
    assert response.status_code == 409
    assert "inzwischen geändert" in response.json()["error"]
    assert response.json()["ciphertext"] == saved
    assert EncryptedRecord.objects.get().ciphertext == saved


def test_record_with_garbage_is_refused(client, team):
    client.force_login(team.owner)
    url = reverse("api_record", args=["practice-note"])
    response = client.put(
        url, json.dumps({"ciphertext": "Klartext!", "base_version": 0}), content_type="application/json"
    )
    assert response.status_code == 400 and "Ihre Eingabe ist noch im Browser" in response.json()["error"]
    assert not EncryptedRecord.objects.exists()


def test_key_grant_for_a_changed_public_key_is_refused(client, team):
    client.force_login(team.owner)
    response = client.post(
        reverse("api_key_grants"),
        json.dumps(
            {
                "member_id": team.waiting.pk,
                "public_key": factories.fake_public_key(),
                "wrapped_practice_key": factories.envelope(keyblobs.ALG_ECIES, epk=factories.fake_public_key()),
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 409
    team.waiting.refresh_from_db()
    assert team.waiting.wrapped_practice_key == ""
