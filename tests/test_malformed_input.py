"""The malformed requests the outside probe reported (issue 11, item 14), each pinned: a German
answer, no server error. ``tests/test_walker.py`` walks every URL with such input; these say what
the answer is."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.video.helpers import video_practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice():
    organisation, doctor, appointment, _ = video_practice("Praxis Eingabe")
    client = Client()
    client.force_login(doctor)
    client.get(reverse("dashboard"))
    return type("P", (), dict(organisation=organisation, doctor=doctor, appointment=appointment, client=client))


def test_webauthn_keys_page_renders(practice):
    session = practice.client.session
    session["account_authentication_methods"] = [{"method": "password", "at": timezone.now().timestamp()}]
    session.save()
    response = practice.client.get(reverse("mfa_list_webauthn"))
    assert response.status_code == 200 and "webauthn" in response.content.decode().lower()

