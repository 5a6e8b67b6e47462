"""The practice's start page ("Übersicht"): the setup checklist ticks from real state, and never
from another practice's."""

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from sprechzimmer.accounts.models import User
from sprechzimmer.approval.progress import kv_of
from sprechzimmer.video.models import Appointment, CallSession
from tests import factories


def steps(client, user) -> dict[str, str]:
    client.force_login(user)
    body = client.get(reverse("dashboard")).content.decode()
    return dict(re.findall(r'data-step="([\w-]+)" data-done="(true|false)"', body))


def connected_call(practice, doctor) -> None:
    appointment = Appointment.objects.create(
        organisation=practice,
        doctor=doctor,
        start=timezone.now() - timedelta(minutes=5),
        patient_ciphertext=factories.envelope("A256GCM"),
    )
    CallSession.objects.create(appointment=appointment, connected_at=timezone.now())


def test_a_new_practice_sees_every_step_open(client, db):
    owner = factories.member(factories.practice(), main=True)
    assert steps(client, owner) == {
        "practice": "false",
        "colleagues": "false",
        "devices": "false",
        "test-call": "false",
        "kv": "false",
    }


def test_steps_are_ticked_from_the_practice_state(client, db):
    practice = factories.practice()
    owner = factories.member(practice, main=True)
    client.force_login(owner)
    client.get(reverse("dashboard"))
    response = client.post(
        reverse("practice_settings"),
        {
            "name": practice.name,
            "street": practice.street,
            "postcode": practice.postcode,
            "city": practice.city,
            "require_device_approval": "on",
            "lock_minutes": "10",
        },
    )
    assert response.status_code == 302
    factories.member(practice, role=User.Role.STAFF)
    connected_call(practice, owner)
    assert steps(client, owner)["kv"] == "false"
    for kind in kv_of(practice).document_kinds:  # every document the KV wants is sent
        assert client.post(reverse("approval_progress", args=[kind]), {"sent_on": "2026-01-05"}).status_code == 302
    body = client.get(reverse("dashboard")).content.decode()
    # Everything done: the checklist makes room for the day's work.
    assert 'id="setup"' not in body
    assert 'id="waiting-now"' in body and 'id="today"' in body


def test_another_practices_state_ticks_nothing(client, db):
    mine = factories.practice("Praxis Eins")
    owner = factories.member(mine, main=True)
    other = factories.practice("Praxis Zwei")
    other.require_device_approval = True
    other.details_checked_at = timezone.now()
    other.save()
    other_owner = factories.member(other, main=True)
    factories.member(other, role=User.Role.STAFF)
    connected_call(other, other_owner)
    assert set(steps(client, owner).values()) == {"false"}
    assert "Praxis Zwei" not in client.get(reverse("dashboard")).content.decode()


def test_the_checklist_is_for_the_main_user_only(client, db):
    practice = factories.practice()
    factories.member(practice, main=True)
    staff = factories.member(practice, role=User.Role.STAFF)
    assert steps(client, staff) == {}


def test_lock_minutes_out_of_range_are_refused_in_german(client, db):
    practice = factories.practice()
    owner = factories.member(practice, main=True)
    client.force_login(owner)
    client.get(reverse("dashboard"))
    data = {"name": "Neu", "street": practice.street, "postcode": practice.postcode, "city": practice.city}
    for bad in ("0", "241", "zehn", ""):
        response = client.post(reverse("practice_settings"), {**data, "lock_minutes": bad})
        assert response.status_code == 200
        errors = response.context["form"].errors["lock_minutes"]
        assert any(word in " ".join(errors) for word in ("Wert", "Zahl", "Feld")), errors
    practice.refresh_from_db()
    assert practice.name != "Neu" and practice.lock_minutes == 10 and practice.details_checked_at is None


def test_a_postcode_other_than_five_digits_is_refused(client, db):
    """Found by a new user's walk: "abc" and markup were saved as the PLZ printed on invoices."""
    practice = factories.practice()
    owner = factories.member(practice, main=True)
    client.force_login(owner)
    client.get(reverse("dashboard"))
    data = {"name": "Neu", "street": practice.street, "city": practice.city, "lock_minutes": "10"}
    for bad in ("abc", "1", "<b>x</b>", "123456", " 8033"):
        response = client.post(reverse("practice_settings"), {**data, "postcode": bad})
        assert response.status_code == 200
        assert "Die PLZ besteht aus 5 Ziffern." in response.context["form"].errors["postcode"], bad
        assert response.context["form"]["name"].value() == "Neu"  # what was typed stays
    practice.refresh_from_db()
    assert practice.name != "Neu"
    client.post(reverse("practice_settings"), {**data, "postcode": "80331"})
    practice.refresh_from_db()
    assert (practice.name, practice.postcode) == ("Neu", "80331")
