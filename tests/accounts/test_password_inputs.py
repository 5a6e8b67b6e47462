"""Every page that asks for a password renders its input without a name, so the browser can never
submit or serialise the typed password (accounts/widgets.py, docs/e2ee.md); the secret derived from
it goes into a named hidden field."""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.accounts.models import Invitation, token_digest
from tests import factories


class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inputs: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "input":
            self.inputs.append(dict(attrs))


def password_inputs(html: str) -> tuple[list[dict], set[str]]:
    """The password inputs of a page, and the names of its hidden inputs for derived secrets."""
    parser = _Inputs()
    parser.feed(html)
    typed = [i for i in parser.inputs if (i.get("type") or "").lower() == "password"]
    derived = {i["name"] for i in parser.inputs if "data-derived-secret" in i and i.get("type") == "hidden"}
    return typed, derived


def assert_no_named_password(html: str, expected: set[str]) -> None:
    typed, derived = password_inputs(html)
    assert typed, "the page shows no password input"
    for attrs in typed:
        assert "name" not in attrs, f"a password input carries the name {attrs.get('name')!r}: {attrs}"
    assert {i["data-secret-for"] for i in typed} >= expected
    assert derived == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/konto/login/", {"password"}),
        ("/konto/signup/", {"password1"}),
    ],
)
def test_anonymous_password_pages(client, db, url, expected):
    response = client.get(url)
    assert response.status_code == 200
    assert_no_named_password(response.content.decode(), expected)


def test_member_password_pages(client, db):
    user = factories.member(factories.practice())
    client.force_login(user)
    for url, expected in (
        ("/konto/reauthenticate/", {"password"}),
        ("/konto/password/change/", {"oldpassword", "password1", "password2"}),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_named_password(response.content.decode(), expected)


def test_reset_and_invitation_pages(client, db):
    practice = factories.practice()
    owner = factories.member(practice, main=True)
    key_url = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(owner), "key": default_token_generator.make_token(owner)},
    )
    # allauth moves the key from the path into the session and redirects to the form.
    response = client.get(key_url, follow=True)
    assert response.status_code == 200
    assert_no_named_password(response.content.decode(), {"password1", "password2"})

    Invitation.objects.create(
        organisation=practice,
        email="neu@example.org",
        full_name="Neu",
        role="staff",
        token_hash=token_digest("einladung-1"),
        invited_by=owner,
        expires_at=timezone.now() + timedelta(days=1),
    )
    client.logout()
    response = client.get(reverse("accept_invitation", args=["einladung-1"]))
    assert response.status_code == 200
    assert_no_named_password(response.content.decode(), {"password"})
