"""KV staff cannot enrol anyone without consent, nor learn whether an address has an account
(issue 11, item 10)."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.duty.models import DutyDoctor, DutyInvitation
from tests import factories

from .helpers import area, kv, logged_in, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def invite(client, mailoutbox, django_capture_on_commit_callbacks):
    own = kv("KV Eins")
    home = area(own, "Mitte")
    clerk = staff(own)

    def send(email: str) -> str:
        logged_in(client, clerk)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("duty_area", args=[home.pk]), {"email": email, "kind": "obliged", "weight": "1"})
        client.logout()
        return re.search(r"http://testserver(/dienste/einladung/\S+/)", mailoutbox[-1].body).group(1)

    return type("I", (), dict(kv=own, area=home, clerk=clerk, send=staticmethod(send)))


def test_only_the_invited_address_can_accept(client, invite):
    doctor = factories.member(factories.practice())
    link = invite.send(doctor.email)
    # Not logged in: the page asks to log in with that address.
    page = client.get(link).content.decode()
    assert "Bitte melden Sie sich mit dieser E-Mail-Adresse an" in page and "next=" in page
    # Someone else: refused, nothing entered.
    other = factories.member(factories.practice())
    logged_in(client, other)
    assert "mit einer anderen E-Mail-Adresse angemeldet" in client.get(link).content.decode()
    assert client.post(link, {"decision": "accept"}).status_code == 403
    assert not DutyDoctor.objects.exists()
    client.logout()
    logged_in(client, doctor)
    client.post(link, {"decision": "accept"})
    assert DutyDoctor.objects.get(user=doctor).kv == invite.kv


def test_a_doctor_of_another_kv_is_told_and_not_moved(client, invite):
    elsewhere = kv("KV Zwei")
    doctor = DutyDoctor.objects.create(kv=elsewhere, user=factories.member(None, with_key=False))
    link = invite.send(doctor.user.email)
    logged_in(client, doctor.user)
    response = client.post(link, {"decision": "accept"})
    assert response.status_code == 400 and "bereits im Bereitschaftsdienst der KV Zwei" in response.content.decode()
    doctor.refresh_from_db()
    assert doctor.kv == elsewhere


def test_declining_and_expiry(client, invite):
    doctor = factories.member(factories.practice())
    link = invite.send(doctor.email)
    logged_in(client, doctor)
    client.post(link, {"decision": "decline"})
    assert not DutyInvitation.objects.exists() and not DutyDoctor.objects.exists()
    assert client.get(link).status_code == 404
    link = invite.send(doctor.email)
    DutyInvitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    logged_in(client, doctor)
    assert client.get(link).status_code == 404
    assert client.post(link, {"decision": "accept"}).status_code == 404 and not DutyDoctor.objects.exists()


def test_invitations_are_the_kvs_own(client, invite):
    invite.send("jemand@example.org")
    invitation = DutyInvitation.objects.get()
    logged_in(client, staff(kv("KV Zwei")))
    assert client.post(reverse("duty_invitation_withdraw", args=[invitation.pk])).status_code == 404
    assert DutyInvitation.objects.exists()
    client.logout()
    logged_in(client, invite.clerk)
    page = client.get(reverse("duty_area", args=[invite.area.pk])).content.decode()
    assert "jemand@example.org" in page
    client.post(reverse("duty_invitation_withdraw", args=[invitation.pk]))
    assert not DutyInvitation.objects.exists()


def test_the_kvs_own_staff_address_is_not_invited_as_a_doctor(client, invite, mailoutbox):
    """KV staff entered their own address as a doctor and the invitation went out (a new user's
    walk). It is refused at the field, with the form kept; nothing is sent or stored."""
    logged_in(client, invite.clerk)
    response = client.post(
        reverse("duty_area", args=[invite.area.pk]),
        {"email": invite.clerk.email.upper(), "kind": "obliged", "weight": "1"},
    )
    page = response.content.decode()
    assert response.status_code == 400 and "Konto der KV-Verwaltung" in page
    assert invite.clerk.email.upper() in page  # what was typed
    assert not mailoutbox and not DutyInvitation.objects.exists()
