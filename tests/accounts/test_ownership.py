"""Every view that names an object of a practice refuses members of other practices (404), and views
for the main user refuse ordinary members. One test per view, as in healthchecks."""

import json

import pytest
from django.urls import reverse

from sprechzimmer.accounts.models import Device, Invitation, User
from tests import factories


def as_user(client, user):
    client.force_login(user)
    return client


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def test_member_set_active_validates_ownership(client, team):
    response = as_user(client, team.outsider).post(
        reverse("member_set_active", args=[team.colleague.pk]), {"active": "0"}
    )
    assert response.status_code == 404
    team.colleague.refresh_from_db()
    assert team.colleague.is_active


def test_invitation_revoke_validates_ownership(client, team):
    response = as_user(client, team.outsider).post(reverse("invitation_revoke", args=[team.invitation.pk]))
    assert response.status_code == 404
    assert Invitation.objects.filter(pk=team.invitation.pk).exists()


def test_device_revoke_validates_ownership(client, team):
    response = as_user(client, team.outsider).post(reverse("device_revoke", args=[team.device.pk]))
    assert response.status_code == 404
    team.device.refresh_from_db()
    assert team.device.status == Device.Status.PENDING


def test_device_approve_validates_ownership(client, team):
    response = as_user(client, team.outsider).post(reverse("device_approve", args=[team.device.pk]))
    assert response.status_code == 404
    team.device.refresh_from_db()
    assert team.device.status == Device.Status.PENDING


def test_device_rename_validates_ownership(client, team):
    response = as_user(client, team.outsider).post(reverse("device_rename", args=[team.device.pk]), {"name": "X"})
    assert response.status_code == 404
    team.device.refresh_from_db()
    assert team.device.name == "Chrome unter Linux"


def test_key_grant_validates_ownership(client, team):
    response = post_json(
        as_user(client, team.outsider),
        reverse("api_key_grants"),
        {
            "member_id": team.waiting.pk,
            "public_key": team.waiting.public_key,
            "wrapped_practice_key": factories.envelope("ECDH-P256-HKDF-A256GCM", epk=factories.fake_public_key()),
        },
    )
    assert response.status_code == 404
    team.waiting.refresh_from_db()
    assert team.waiting.wrapped_practice_key == ""


def test_key_grant_list_shows_only_own_practice(client, team):
    members = as_user(client, team.outsider).get(reverse("api_key_grants")).json()["members"]
    assert team.waiting.email not in {m["email"] for m in members}


def test_keys_api_returns_only_own_keys(client, team):
    data = as_user(client, team.outsider).get(reverse("api_keys")).json()
    assert data["user_id"] == team.outsider.pk
    assert data["public_key"] == team.outsider.public_key


def test_record_api_is_per_practice(client, team):
    owner = as_user(client, team.owner)
    ciphertext = factories.envelope("A256GCM")
    assert post_json(owner, reverse("api_record", args=["practice-note"]), {}).status_code == 405
    assert (
        owner.put(
            reverse("api_record", args=["practice-note"]),
            json.dumps({"ciphertext": ciphertext, "base_version": 0}),
            content_type="application/json",
        ).status_code
        == 200
    )
    client.logout()
    data = as_user(client, team.outsider).get(reverse("api_record", args=["practice-note"])).json()
    assert data["ciphertext"] is None


@pytest.mark.parametrize("name", ["dashboard", "members", "devices"])
def test_practice_pages_show_only_own_practice(client, team, name):
    body = as_user(client, team.outsider).get(reverse(name)).content.decode()
    assert team.practice.name not in body
    assert team.colleague.email not in body and team.colleague.full_name not in body


@pytest.mark.parametrize(
    ("name", "args", "method"),
    [
        ("practice_settings", [], "get"),
        ("member_set_active", ["owner"], "post"),
        ("invitation_revoke", ["invitation"], "post"),
        ("device_revoke", ["device"], "post"),
        ("device_approve", ["device"], "post"),
    ],
)
def test_main_user_views_refuse_ordinary_members(client, team, name, args, method):
    ids = {"owner": team.owner.pk, "invitation": team.invitation.pk, "device": team.device.pk}
    response = getattr(as_user(client, team.colleague), method)(reverse(name, args=[ids[a] for a in args]))
    assert response.status_code == 404


def test_ordinary_member_cannot_invite(client, team):
    response = as_user(client, team.colleague).post(
        reverse("members"), {"full_name": "X", "email": "x@example.org", "role": "staff"}
    )
    assert response.status_code == 403
    assert not Invitation.objects.filter(email="x@example.org").exists()


@pytest.mark.parametrize("name", ["dashboard", "members", "devices", "practice_settings", "api_keys", "api_key_grants"])
def test_anonymous_is_sent_to_login(client, team, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/konto/login/" in response["Location"]


def test_member_without_second_factor_is_sent_to_enrolment(client, db):
    user = factories.member(factories.practice(), main=True, totp=False)
    response = as_user(client, user).get(reverse("api_keys"))
    assert response.status_code == 302 and "/2fa/" in response["Location"]


def test_deactivated_member_loses_the_session(client, team):
    colleague_client = as_user(client, team.colleague)
    assert colleague_client.get(reverse("dashboard")).status_code == 200
    User.objects.filter(pk=team.colleague.pk).update(is_active=False)
    assert colleague_client.get(reverse("dashboard")).status_code == 302
