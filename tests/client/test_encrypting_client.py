"""The encrypting API client (issue 19, src/sprechzimmer_client) against a real server: it
registers its key, is granted the practice key by the main user (the same ECIES wrap a browser
makes), then creates and reads appointments whose patient data the server sees only as
ciphertext. Browser ↔ client in both directions: tests/browser/test_encrypting_client.py."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from django.urls import reverse

from sprechzimmer.api.models import ApiClient
from sprechzimmer.core.timezones import BERLIN
from sprechzimmer.demo import keys
from sprechzimmer.video.models import Appointment
from sprechzimmer_client import Client, ClientError
from sprechzimmer_client.crypto import PATIENT_KIND
from tests import factories
from tests.client.conftest import grant

pytestmark = pytest.mark.django_db(transaction=True)
PATIENT = {"name": "Erika Mustermann", "birth_date": "1961-08-12", "email": "", "phone": "", "note": "Rückruf"}


def test_register_grant_create_and_read_back(client, practice, tmp_path):
    bridge = Client(practice.url, practice.token, tmp_path / "bridge.pem")
    assert oct((tmp_path / "bridge.pem").stat().st_mode & 0o777) == "0o600"
    state = bridge.register_key()
    assert state["fingerprint"] == bridge.fingerprint and state["wrapped_practice_key"] is None
    with pytest.raises(ClientError) as refused:
        bridge.practice_key()
    assert refused.value.status == 403 and bridge.fingerprint in refused.value.message

    assert grant(client, practice, bridge.public_key).json() == {"ok": True}
    # 10:00 in Berlin the day after tomorrow: both appointments on one Berlin day whatever the hour
    # the test runs (now + 2 days + 1 h crossed midnight between 22:00 and 23:00 UTC).
    day = dt.datetime.now(BERLIN).date() + dt.timedelta(days=2)
    start = dt.datetime.combine(day, dt.time(10, 0), tzinfo=BERLIN)
    appointment, code = bridge.create_appointment(practice.main.pk, start, PATIENT)
    assert appointment.patient["name"] == "Erika Mustermann" and len(code) >= 8

    stored = Appointment.objects.get(pk=appointment.id)
    assert "Erika" not in stored.patient_ciphertext and "Mustermann" not in stored.patient_ciphertext
    context = keys.record_context(practice.organisation.pk, PATIENT_KIND)
    assert keys.decrypt_record(practice.key, context, stored.patient_ciphertext)["name"] == "Erika Mustermann"

    # what another program of the practice (or a browser: same scheme) wrote, the client reads
    Appointment.objects.create(
        organisation=practice.organisation,
        doctor=practice.main,
        start=start + dt.timedelta(hours=1),
        patient_ciphertext=keys.encrypt_record(practice.key, context, {**PATIENT, "name": "Bruno Browser"}),
    )
    names = {a.patient["name"] for a in bridge.appointments(day)}
    assert names == {"Erika Mustermann", "Bruno Browser"}


def test_a_grant_for_another_key_or_practice_is_refused(client, practice, tmp_path):
    bridge = Client(practice.url, practice.token, tmp_path / "bridge.pem")
    bridge.register_key()
    other = Client(practice.url, practice.token, tmp_path / "other.pem")
    response = grant(client, practice, other.public_key)  # the page showed a key that is not registered
    assert response.status_code == 409 and "geändert" in response.json()["error"]
    assert not ApiClient.objects.get(organisation=practice.organisation).wrapped_practice_key

    outsider_practice = factories.practice("Praxis Fremd")
    outsider = factories.member(outsider_practice, main=True)
    client.force_login(outsider)
    client.get(reverse("dashboard"))
    api_client = ApiClient.objects.get(organisation=practice.organisation)
    response = client.post(
        reverse("api_client_grant_key", args=[api_client.pk]),
        json.dumps(
            {
                "public_key": bridge.public_key,
                "wrapped_practice_key": keys.wrap_to_public_key(os.urandom(32), bridge.public_key),
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not ApiClient.objects.get(organisation=practice.organisation).wrapped_practice_key


def test_a_new_key_needs_a_new_grant(client, practice, tmp_path):
    bridge = Client(practice.url, practice.token, tmp_path / "bridge.pem")
    bridge.register_key()
    grant(client, practice, bridge.public_key)
    assert bridge.practice_key()[1] == practice.key
    replaced = Client(practice.url, practice.token, tmp_path / "new.pem")
    assert replaced.register_key()["wrapped_practice_key"] is None
    with pytest.raises(ClientError):
        replaced.practice_key()
    with pytest.raises(ClientError) as unknown:
        bridge.practice_key.__func__(Client(practice.url, practice.token, tmp_path / "bridge.pem"))
    assert unknown.value.status == 409  # the first key is no longer the registered one


@pytest.mark.parametrize("value", ["", "abc", "A" * 200, keys.b64u(os.urandom(91))[:-4], None, 12])
def test_bad_public_keys_are_refused_in_german(client, practice, value):
    response = client.put(
        "/api/v1/key",
        json.dumps({"public_key": value}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {practice.token}",
    )
    assert response.status_code == 400 and response.json()["error"]
    assert ApiClient.objects.get(organisation=practice.organisation).public_key == ""


def test_after_a_rotation_the_client_reads_every_version_and_writes_the_new_one(client, granted, practice):
    """The main user's browser rotates (lib/rotation.js, done here with the same scheme in Python):
    the client gets the new version, opens the old one through the keyring chain, and seals new
    records with the new version; the server refuses what it would seal with the old one."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from sprechzimmer_client import crypto

    recovery = ec.generate_private_key(ec.SECP256R1())
    practice.organisation.recovery_public_key = crypto.public_key_text(recovery)
    practice.organisation.save()
    main_private = ec.generate_private_key(ec.SECP256R1())
    practice.main.public_key = crypto.public_key_text(main_private)
    practice.main.wrapped_practice_key = crypto.wrap_to_public_key(practice.key, practice.main.public_key)
    practice.main.save()
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
    old, _ = granted.create_appointment(practice.main.pk, start, PATIENT)
    assert crypto.envelope_kid(Appointment.objects.get(pk=old.id).patient_ciphertext) == 1

    new_key = os.urandom(32)
    api_client = ApiClient.objects.get(organisation=practice.organisation)
    client.force_login(practice.main)
    client.get(reverse("dashboard"))
    rotation = {
        "from_version": 1,
        "wrapped_previous": crypto.wrap_previous(new_key, 2, practice.key, practice.organisation.pk),
        "members": [
            {
                "id": practice.main.pk,
                "public_key": practice.main.public_key,
                "wrapped_practice_key": crypto.wrap_to_public_key(new_key, practice.main.public_key),
            }
        ],
        "recovery_wrapped_key": crypto.wrap_to_public_key(new_key, practice.organisation.recovery_public_key),
        "clients": [
            {
                "id": api_client.pk,
                "public_key": granted.public_key,
                "wrapped_practice_key": crypto.wrap_to_public_key(new_key, granted.public_key),
            }
        ],
    }
    response = client.post(reverse("api_key_rotation"), json.dumps(rotation), content_type="application/json")
    assert response.status_code == 200 and response.json() == {"key_version": 2}

    # the server refuses a record sealed with version 1, with a code a client can act on
    refused = client.post(
        "/api/v1/appointments",
        json.dumps(
            {
                "doctor_id": practice.main.pk,
                "start": (start + dt.timedelta(hours=1)).isoformat(),
                "patient": keys.encrypt_record(
                    practice.key, keys.record_context(practice.organisation.pk, PATIENT_KIND), PATIENT
                ),
            }
        ),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {practice.token}",
    )
    assert refused.status_code == 409 and refused.json()["code"] == "stale_key"
    assert "älteren Praxisschlüssel" in refused.json()["error"]
    # a client that still holds version 1 in memory is refused once, reloads its keys and seals again
    assert granted._key_version == 1
    new, _ = granted.create_appointment(practice.main.pk, start + dt.timedelta(minutes=30), {**PATIENT, "name": "Neu"})
    assert granted._key_version == 2
    stored = Appointment.objects.get(pk=new.id).patient_ciphertext
    context = keys.record_context(practice.organisation.pk, PATIENT_KIND)
    assert crypto.envelope_kid(stored) == 2 and keys.decrypt_record(new_key, context, stored)["name"] == "Neu"
    with pytest.raises(crypto.CryptoError):
        keys.decrypt_record(practice.key, context, stored)
    names = {a.patient["name"] for a in granted.appointments(start.date())}
    assert names == {"Erika Mustermann", "Neu"}
