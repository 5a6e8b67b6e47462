"""Behind the documented reverse proxy every limit keys on the real client, never on the proxy
(issue 11, item 4): one client's failures lock out nobody else."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from sprechzimmer import ratelimit
from sprechzimmer.demo import keys as demo_keys
from sprechzimmer.demo import provisioning
from tests import factories
from tests.video.helpers import video_practice

PROXY = "127.0.0.1"


@pytest.fixture(autouse=True)
def behind_proxy(settings):
    settings.BEHIND_PROXY = True
    settings.PROXY_COUNT = 1


def via_proxy(client_address: str, spoofed: str = "") -> Client:
    forwarded = f"{spoofed}, {client_address}" if spoofed else client_address
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)


def test_the_client_address_is_what_the_trusted_proxies_appended(settings):
    assert ratelimit.client_address_from("203.0.113.7", PROXY) == "203.0.113.7"
    # What the client itself wrote in front is not trusted.
    assert ratelimit.client_address_from("1.2.3.4, 203.0.113.7", PROXY) == "203.0.113.7"
    settings.PROXY_COUNT = 2
    assert ratelimit.client_address_from("1.2.3.4, 203.0.113.7, 10.0.0.2", PROXY) == "203.0.113.7"
    assert ratelimit.client_address_from("kaputt", PROXY) == PROXY
    settings.BEHIND_PROXY = False
    assert ratelimit.client_address_from("203.0.113.7", PROXY) == PROXY
    # IPv6 counts per /56; an IPv4-mapped address as IPv4.
    assert ratelimit.rate_key("2001:db8:1:2ff::1") == ratelimit.rate_key("2001:db8:1:200::9") == "2001:db8:1:200::/56"
    assert ratelimit.rate_key("::ffff:203.0.113.7") == "203.0.113.7"


def test_failed_logins_of_one_client_lock_out_no_other_client(db):
    password = "Richtiges-Passwort-2"
    provisioning.create_practice(
        name="Praxis P", bsnr="171234567", main_email="p@example.org", main_name="Dr. P", password=password
    )
    other = "q@example.org"
    provisioning.create_practice(
        name="Praxis Q", bsnr="171234568", main_email=other, main_name="Dr. Q", password=password
    )
    attacker = via_proxy("203.0.113.66")
    for _ in range(25):  # more than allauth's per-address limit and our per-address backoff
        attacker.post(reverse("account_login"), {"login": "p@example.org", "password": factories.derived_secret()})
    refused = attacker.post(
        reverse("account_login"), {"login": "p@example.org", "password": factories.derived_secret()}
    )
    assert "Zu viele" in refused.content.decode()
    for email in ("p@example.org", other):
        secret = demo_keys.derive_login_secrets(email, password)[0]
        response = via_proxy("198.51.100.20", spoofed="203.0.113.66").post(
            reverse("account_login"), {"login": email, "password": secret}
        )
        assert response.status_code == 302 and response["Location"] == "/praxis/", email


def test_access_code_guesses_of_one_client_block_no_other_patient(db, settings):
    _, _, _, code = video_practice("Praxis Video")
    url = reverse("api_patient_access")
    attacker = via_proxy("203.0.113.66")
    for _ in range(settings.ACCESS_CODE_LIMIT_PER_ADDRESS + 2):
        attacker.post(url, json.dumps({"code": "ACDEF-34679"}), content_type="application/json")
    assert attacker.post(url, json.dumps({"code": code}), content_type="application/json").status_code == 429
    patient = via_proxy("198.51.100.20")
    assert patient.post(url, json.dumps({"code": code}), content_type="application/json").status_code == 200
