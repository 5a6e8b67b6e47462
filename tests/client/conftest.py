from __future__ import annotations

import json
import os

import pytest
from django.urls import reverse

from sprechzimmer.api.models import SCOPES, ApiClient
from sprechzimmer.demo import keys
from sprechzimmer_client import Client
from tests import factories


@pytest.fixture
def practice(live_server):
    organisation = factories.practice("Praxis Client")
    main = factories.member(organisation, main=True)
    _, token = ApiClient.create(organisation, "GDT-Brücke", list(SCOPES), main)
    return type(
        "P", (), dict(organisation=organisation, main=main, token=token, key=os.urandom(32), url=live_server.url)
    )


def grant(client_http, practice, public_key: str):
    """What the main user's browser does on "Zugriff freigeben" (the ECIES wrap of docs/e2ee.md)."""
    client_http.force_login(practice.main)
    client_http.get(reverse("dashboard"))  # binds the session to a device
    api_client = ApiClient.objects.get(organisation=practice.organisation)
    return client_http.post(
        reverse("api_client_grant_key", args=[api_client.pk]),
        json.dumps(
            {"public_key": public_key, "wrapped_practice_key": keys.wrap_to_public_key(practice.key, public_key)}
        ),
        content_type="application/json",
    )


@pytest.fixture
def granted(client, practice, tmp_path) -> Client:
    bridge = Client(practice.url, practice.token, tmp_path / "bridge.pem")
    bridge.register_key()
    assert grant(client, practice, bridge.public_key).status_code == 200
    return bridge
