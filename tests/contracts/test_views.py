"""Stammdaten → Rechnungsdaten: the page, WECHSELN, the member limit on the server, and who may
change what (main user only; an outsider only ever reaches their own contract)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.accounts import keyblobs
from sprechzimmer.accounts.models import Invitation, User
from sprechzimmer.contracts import domain, gate
from sprechzimmer.contracts.domain import Feature, Plan
from sprechzimmer.contracts.models import Contract
from tests import factories


def as_user(client, user):
    client.force_login(user)
    return client


def invite(client, email="neu@example.org"):
    return client.post(reverse("members"), {"full_name": "Neu", "email": email, "role": "staff"})


def test_the_page_shows_the_five_sections_and_the_plans(client, practice):
    body = as_user(client, practice.owner).get(reverse("contract")).content.decode()
    for section in ("Hauptnutzer(in)", "Organisation", "Bankverbindung", "Abrechnung", "Vertrag"):
        assert f"<h2>{section}</h2>" in body
    assert "Mein aktueller Vertrag" in body and "Möglicher Vertragswechsel" in body
    assert "19,00\u00a0€ Grundgebühr pro Monat und Benutzer*" in body and "0,10\u00a0€ pro SMS-Versand*" in body
    assert "Anteilige Berechnung" in body and "Benutzertage ÷ Tage des Monats" in body
    assert "Mit plus kommen hinzu:" in body and "Bildschirmübertragung" in body
    assert practice.owner.email in body and "Vertrag kündigen und Daten löschen" in body


def test_switching_up_takes_effect_at_once_and_opens_the_gate(client, practice):
    assert not gate.plan_allows(practice.practice, "screen_sharing")
    response = as_user(client, practice.owner).post(reverse("contract_switch"), {"plan": "plus"})
    assert response.status_code == 302
    assert gate.plan_allows(practice.practice, Feature.SCREEN_SHARING)
    assert gate.plan_allows(practice.practice, "conferences")
    assert Contract.objects.get(organisation=practice.practice).plan_since == timezone.localdate()


def test_switching_down_waits_for_the_end_of_the_month(client, practice):
    Contract.objects.create(organisation=practice.practice, plan=Plan.PLUS)
    as_user(client, practice.owner).post(reverse("contract_switch"), {"plan": "basis"})
    contract = Contract.objects.get(organisation=practice.practice)
    first_of_next_month = domain.downgrade_from(timezone.localdate())
    assert contract.plan == Plan.PLUS and contract.pending_from == first_of_next_month
    assert gate.plan_allows(practice.practice, "screen_sharing")
    # on the first day of the next month the contract is basis
    assert gate.contract_of(practice.practice, today=first_of_next_month).plan == Plan.BASIS
    assert not gate.plan_allows(practice.practice, "screen_sharing")


def test_keeping_plus_withdraws_a_waiting_switch_down(client, practice):
    Contract.objects.create(
        organisation=practice.practice, plan=Plan.PLUS, pending_plan=Plan.BASIS, pending_from=dt.date(2099, 1, 1)
    )
    as_user(client, practice.owner).post(reverse("contract_switch"), {"plan": "plus"})
    contract = Contract.objects.get(organisation=practice.practice)
    assert contract.plan == Plan.PLUS and contract.pending_plan == "" and contract.pending_from is None


def test_switching_down_with_too_many_users_is_refused_and_changes_nothing(client, practice):
    Contract.objects.create(organisation=practice.practice, plan=Plan.PLUS)
    factories.member(practice.practice, role="staff")
    response = as_user(client, practice.owner).post(reverse("contract_switch"), {"plan": "basis"}, follow=True)
    assert "basis umfasst höchstens 5 Benutzer" in response.content.decode()
    assert Contract.objects.get(organisation=practice.practice).pending_plan == ""


@pytest.mark.parametrize("value", ["", "gold", "PLUS ", "<b>", "\u00e4"])
def test_a_bad_plan_gets_a_german_message(client, practice, value):
    response = as_user(client, practice.owner).post(reverse("contract_switch"), {"plan": value}, follow=True)
    assert response.status_code == 200 and "Bitte wählen Sie basis oder plus." in response.content.decode()
    assert gate.plan_of(practice.practice) == Plan.BASIS


def test_basis_refuses_a_third_user_on_the_server(client, practice):
    response = invite(as_user(client, practice.owner))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ihr Vertrag basis umfasst höchstens 5 Benutzer" in body
    assert 'value="neu@example.org"' in body  # what was typed stays
    assert not Invitation.objects.filter(email="neu@example.org").exists()


def test_plus_lets_the_practice_grow(client, practice):
    Contract.objects.create(organisation=practice.practice, plan=Plan.PLUS)
    for n in range(3):
        assert invite(as_user(client, practice.owner), f"neu{n}@example.org").status_code == 302
    assert Invitation.objects.filter(organisation=practice.practice).count() == 3


def test_an_open_invitation_holds_a_place_and_reactivation_needs_one(client, practice):
    practice.colleague.is_active = False
    practice.colleague.save()
    assert invite(as_user(client, practice.owner)).status_code == 302  # the freed place
    response = client.post(reverse("member_set_active", args=[practice.colleague.pk]), {"active": "1"}, follow=True)
    assert "höchstens 5 Benutzer" in response.content.decode()
    practice.colleague.refresh_from_db()
    assert not practice.colleague.is_active


def test_accepting_an_invitation_after_a_switch_down_is_refused(client, practice):
    from sprechzimmer.accounts.models import token_digest

    practice.colleague.delete()
    Invitation.objects.create(
        organisation=practice.practice,
        email="spaet@example.org",
        full_name="Spät",
        role="staff",
        token_hash=token_digest("tok"),
        invited_by=practice.owner,
        expires_at=timezone.now() + dt.timedelta(days=3),
    )
    factories.member(practice.practice, role="staff")  # the place went to someone else meanwhile
    data = {
        "full_name": "Spät",
        "password": factories.derived_secret(),
        "public_key": factories.fake_public_key(),
        "wrapped_private_key": factories.envelope(keyblobs.ALG_PASSWORD_WRAP),
    }
    response = client.post(reverse("accept_invitation", args=["tok"]), data)
    assert response.status_code == 409 and "keinen freien Platz" in response.content.decode()
    assert not User.objects.filter(email="spaet@example.org").exists()


def test_only_the_main_user_changes_the_contract(client, practice):
    as_user(client, practice.colleague)
    assert client.get(reverse("contract")).status_code == 200  # members may look
    for name, data in (
        ("contract_switch", {"plan": "plus"}),
        ("contract_cancel", {}),
        ("contract_revoke", {}),
        ("contract_billing_details", {"billing_email": "x@example.org"}),
    ):
        assert client.post(reverse(name), data).status_code == 404
    contract = gate.contract_of(practice.practice)
    assert contract.plan == Plan.BASIS and contract.ends_on is None and contract.billing_email == ""


def test_an_outsider_changes_only_their_own_contract(client, practice):
    as_user(client, practice.outsider)
    body = client.get(reverse("contract")).content.decode()
    assert practice.practice.name not in body and practice.owner.email not in body
    client.post(reverse("contract_switch"), {"plan": "plus"})
    client.post(reverse("contract_cancel"))
    assert gate.plan_of(practice.other) == Plan.PLUS
    mine = gate.contract_of(practice.practice)
    assert mine.plan == Plan.BASIS and mine.ends_on is None


def test_billing_details_are_checked_and_saved(client, practice):
    as_user(client, practice.owner)
    response = client.post(
        reverse("contract_billing_details"), {"billing_email": "buchhaltung@example.org", "vat_id": "DE12"}
    )
    assert response.status_code == 400 and "DE und 9 Ziffern" in response.content.decode()
    assert gate.contract_of(practice.practice).billing_email == ""
    client.post(
        reverse("contract_billing_details"), {"billing_email": "buchhaltung@example.org", "vat_id": "de 123456789"}
    )
    contract = gate.contract_of(practice.practice)
    assert contract.billing_email == "buchhaltung@example.org" and contract.vat_id == "DE123456789"


def test_an_unknown_feature_is_a_programming_error(practice):
    with pytest.raises(ValueError):
        gate.plan_allows(practice.practice, "teleportation")
