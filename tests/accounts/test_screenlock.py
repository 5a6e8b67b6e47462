"""The lock screen's server side: a locked session reaches only the lock page, the unlock request
and logout; the authentication secret derived from the password unlocks; five wrong tries end the
session."""

import json

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse

from sprechzimmer.accounts.models import User
from tests import factories
from tests.video.helpers import connect

SECRET = "Sl9tZWluLWFiZ2VsZWl0ZXRlcy1HZWhlaW1uaXMtMzJCeXRlcw"


@pytest.fixture
def member(client, db):
    user = factories.member(factories.practice(), main=True, password=SECRET)
    client.force_login(user)
    client.get(reverse("dashboard"))  # binds the session to a device
    return user


def unlock(client, secret):
    return client.post(reverse("api_unlock"), json.dumps({"secret": secret}), content_type="application/json")


def test_a_locked_session_sees_only_the_lock_page(client, member):
    assert client.post(reverse("api_lock")).status_code == 200
    response = client.get(reverse("calendar"))
    assert response.status_code == 302 and response["Location"] == "/gesperrt/?weiter=%2Fpraxis%2Ftermine%2F"
    api = client.get(reverse("api_appointments"))
    assert api.status_code == 423 and "gesperrt" in api.json()["error"]
    assert client.get(reverse("api_keys")).status_code == 423  # no key material while locked
    page = client.get(reverse("screen_locked"), {"weiter": "/praxis/termine/"})
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-next="/praxis/termine/"' in body and "Bildschirm gesperrt" in body
    assert "pages/practice.js" not in body  # no live feed, no idle timer on the lock page
    assert 'id="sz-lock"' not in body


def test_the_right_secret_unlocks_and_a_wrong_one_is_refused_in_german(client, member):
    client.post(reverse("api_lock"))
    wrong = unlock(client, "ZmFsc2No")
    assert wrong.status_code == 400
    assert wrong.json()["error"].startswith("Das Passwort ist nicht korrekt. Noch 4 Versuche")
    assert client.get(reverse("calendar")).status_code == 302
    assert unlock(client, SECRET).json() == {"unlocked": True}
    assert client.get(reverse("calendar")).status_code == 200
    assert client.get(reverse("screen_locked"), {"weiter": "/praxis/termine/"})["Location"] == "/praxis/termine/"


def test_five_wrong_tries_end_the_session(client, member):
    client.post(reverse("api_lock"))
    for _ in range(4):
        assert unlock(client, "ZmFsc2No").status_code == 400
    last = unlock(client, "ZmFsc2No")
    assert last.status_code == 403 and last.json()["url"] == reverse("account_login")
    assert "abgemeldet" in last.json()["error"]
    assert client.get(reverse("dashboard"))["Location"].startswith("/konto/login/")


@pytest.mark.parametrize("body", ["", "[]", '{"secret": 5}', '{"secret": ""}', "kein json"])
def test_bad_unlock_bodies_get_a_german_message(client, member, body):
    client.post(reverse("api_lock"))
    response = client.post(reverse("api_unlock"), body, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]
    assert client.get(reverse("calendar")).status_code == 302  # still locked


@pytest.mark.parametrize("weiter", ["https://evil.example/", "//evil.example/", "/api/termine/", "/gesperrt/"])
def test_the_way_back_stays_on_this_site(client, member, weiter):
    client.post(reverse("api_lock"))
    assert 'data-next="/praxis/"' in client.get(reverse("screen_locked"), {"weiter": weiter}).content.decode()


def test_only_practice_members_lock(client, db):
    assert client.post(reverse("api_lock")).status_code == 302  # anonymous: to the login
    nobody = factories.member(None, role=User.Role.STAFF)  # no practice (e.g. a duty doctor only)
    client.force_login(nobody)
    client.get(reverse("dashboard"))
    assert client.post(reverse("api_lock")).status_code == 404
    assert client.get(reverse("screen_locked"))["Location"] == reverse("dashboard")


def test_locking_one_session_leaves_a_colleague_alone(client, member):
    colleague = factories.member(member.organisation, role=User.Role.STAFF)
    client.post(reverse("api_lock"))
    other = Client()
    other.force_login(colleague)
    other.get(reverse("dashboard"))
    assert other.get(reverse("calendar")).status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_locked_session_gets_no_live_feed():
    @database_sync_to_async
    def locked_cookie() -> str:
        user = factories.member(factories.practice(), main=True, password=SECRET)
        client = Client()
        client.force_login(user)
        client.get(reverse("dashboard"))
        assert client.post(reverse("api_lock")).status_code == 200
        return client.cookies["sessionid"].value

    communicator, _ = await connect("/ws/praxis/", await locked_cookie())
    assert (await communicator.receive_output())["type"] == "websocket.close"
