"""Practice key versions and rotation on the server (issue 22, docs/e2ee.md "Key versions").

Keys here are real (P-256 pairs and AES keys made with sprechzimmer_client.crypto, the browser's
scheme in Python), so the tests also check that what the server hands out opens, and what it must
not hand out is not there. The browser's side: tests/browser/test_key_rotation.py."""

from __future__ import annotations

import json
import os

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.urls import reverse

from sprechzimmer.accounts import keyblobs
from sprechzimmer.accounts.models import PracticeKeyVersion, User
from sprechzimmer.demo import keys
from sprechzimmer.records.models import EncryptedRecord
from sprechzimmer.video.models import Appointment
from sprechzimmer_client import crypto
from tests import factories

pytestmark = pytest.mark.django_db


class Keyed:
    """A practice whose members have real key pairs and hold version 1 of a real practice key."""

    def __init__(self, name="Praxis Schlüssel"):
        self.organisation = factories.practice(name)
        self.keys = {1: os.urandom(32)}
        self.recovery_text, self.recovery_bits = keys.new_recovery_key()
        self.recovery = crypto.recovery_private_key(self.recovery_bits)
        self.organisation.recovery_public_key = crypto.public_key_text(self.recovery)
        self.organisation.recovery_wrapped_key = crypto.wrap_to_public_key(
            self.keys[1], self.organisation.recovery_public_key
        )
        self.organisation.save()
        self.private: dict[int, ec.EllipticCurvePrivateKey] = {}
        self.main = self.member(main=True)
        self.colleague = self.member()
        self.leaving = self.member()

    def member(self, main=False) -> User:
        user = factories.member(self.organisation, main=main)
        private_key = ec.generate_private_key(ec.SECP256R1())
        user.public_key = crypto.public_key_text(private_key)
        user.wrapped_practice_key = crypto.wrap_to_public_key(self.keys[1], user.public_key)
        user.save()
        self.private[user.pk] = private_key
        return user

    @property
    def org_id(self) -> int:
        return self.organisation.pk

    def context(self, kind="practice-note") -> str:
        return crypto.record_context(self.org_id, kind)

    def rotation_body(self, new_key: bytes, *, members=None, from_version=None) -> dict:
        """What the main user's browser sends (lib/rotation.js): the new key wrapped to each holder,
        the previous version sealed with it."""
        version = from_version or self.organisation.key_version
        holders = (
            members
            if members is not None
            else list(
                User.objects.filter(organisation=self.organisation, is_active=True).exclude(wrapped_practice_key="")
            )
        )
        return {
            "from_version": version,
            "wrapped_previous": crypto.wrap_previous(new_key, version + 1, self.keys[version], self.org_id),
            "members": [
                {
                    "id": m.pk,
                    "public_key": m.public_key,
                    "wrapped_practice_key": crypto.wrap_to_public_key(new_key, m.public_key),
                }
                for m in holders
            ],
            "clients": [],
            **(
                {"recovery_wrapped_key": crypto.wrap_to_public_key(new_key, self.organisation.recovery_public_key)}
                if self.organisation.recovery_public_key
                else {}
            ),
        }


def login(client, user):
    client.force_login(user)
    client.get(reverse("dashboard"))  # binds the session to an approved device
    return client


def post(client, name, data):
    return client.post(reverse(name), json.dumps(data), content_type="application/json")


def rotate(client, practice: Keyed) -> bytes:
    new_key = os.urandom(32)
    response = post(login(client, practice.main), "api_key_rotation", practice.rotation_body(new_key))
    assert response.status_code == 200, response.content
    practice.organisation.refresh_from_db()
    practice.keys[practice.organisation.key_version] = new_key
    return new_key


def deactivate(client, practice: Keyed, user: User):
    response = login(client, practice.main).post(reverse("member_set_active", args=[user.pk]), {"active": "0"})
    assert response.status_code == 302


# --- the envelope format ------------------------------------------------------------------------


def test_envelopes_name_their_version_and_old_ones_are_version_1():
    key = os.urandom(32)
    new = crypto.encrypt_record(key, "ctx", {"a": 1}, kid=3)
    assert json.loads(new)["kid"] == 3 and crypto.envelope_kid(new) == 3
    legacy = crypto.seal(key, b'{"a": 2}', "ctx", crypto.ALG_RECORD)  # as browsers wrote before key versions
    assert "kid" not in json.loads(legacy) and crypto.envelope_kid(legacy) == 1
    assert crypto.decrypt_record({1: key}, "ctx", legacy) == {"a": 2}
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt_record({1: key}, "ctx", new)  # version 3 is not in this keyring
    assert keyblobs.check_record(legacy, 1000, key_version=1) == legacy


def test_the_keyring_chain_opens_every_older_version_and_nothing_newer():
    k1, k2, k3 = os.urandom(32), os.urandom(32), os.urandom(32)
    chain = [
        {"version": 3, "wrapped_previous": crypto.wrap_previous(k3, 3, k2, 7)},
        {"version": 2, "wrapped_previous": crypto.wrap_previous(k2, 2, k1, 7)},
    ]
    assert crypto.open_keyring(k3, 3, 7, chain) == {3: k3, 2: k2, 1: k1}
    assert crypto.open_keyring(k2, 2, 7, chain) == {2: k2, 1: k1}
    with pytest.raises(crypto.CryptoError):
        crypto.open_keyring(k1, 2, 7, chain)  # a departed member's old key does not open version 2's link
    with pytest.raises(crypto.CryptoError):
        crypto.open_keyring(k3, 3, 8, chain)  # bound to its practice


@pytest.mark.parametrize("kid", [0, -1, "2", 1.5, True, None])
def test_a_malformed_key_version_is_refused(kid):
    text = factories.envelope(keyblobs.ALG_RECORD, kid=kid)
    with pytest.raises(keyblobs.ValidationError):
        keyblobs.check_record(text, 1000, key_version=1)


# --- rotation -----------------------------------------------------------------------------------


def test_rotation_wraps_the_new_version_to_the_remaining_members_only(client):
    practice = Keyed()
    deactivate(client, practice, practice.leaving)
    new_key = rotate(client, practice)
    assert practice.organisation.key_version == 2
    for user in (practice.main, practice.colleague):
        user.refresh_from_db()
        assert user.practice_key_version == 2
        assert (
            crypto.unwrap_from_public_key(user.wrapped_practice_key, practice.private[user.pk], user.public_key)
            == new_key
        )
    practice.leaving.refresh_from_db()
    assert practice.leaving.practice_key_version == 1  # untouched: no wrap of version 2 was made for them

    answer = login(client, practice.colleague).get(reverse("api_keys")).json()
    assert answer["key_version"] == 2 and answer["practice_key_version"] == 2
    raw = crypto.unwrap_from_public_key(
        answer["wrapped_practice_key"], practice.private[practice.colleague.pk], practice.colleague.public_key
    )
    assert crypto.open_keyring(raw, 2, practice.org_id, answer["keyring"]) == practice.keys


def test_a_deactivated_member_gets_no_wrap_old_or_new(client):
    practice = Keyed()
    deactivate(client, practice, practice.leaving)
    rotate(client, practice)
    client.force_login(practice.leaving)
    for name in ("api_keys", "api_key_rotation", "api_key_reencrypt", "api_key_grants"):
        response = client.get(reverse(name))
        assert response.status_code in (302, 404), name
        assert b"wrapped" not in response.content and b"ECDH" not in response.content
    # reactivated later, they wait for a grant of the current version like a new colleague
    login(client, practice.main).post(reverse("member_set_active", args=[practice.leaving.pk]), {"active": "1"})
    waiting = [m["id"] for m in client.get(reverse("api_key_grants")).json()["members"]]
    assert waiting == [practice.leaving.pk]


def test_rotation_is_refused_when_based_on_an_old_version_or_the_wrong_members(client):
    practice = Keyed()
    login(client, practice.main)
    stale = practice.rotation_body(os.urandom(32))
    rotate(client, practice)
    response = post(client, "api_key_rotation", stale)  # made from version 1, the practice is at 2 now
    assert response.status_code == 409 and "gewechselt" in response.json()["error"]

    deactivate(client, practice, practice.leaving)
    with_leaver = practice.rotation_body(os.urandom(32), members=[practice.main, practice.colleague, practice.leaving])
    response = post(client, "api_key_rotation", with_leaver)
    assert response.status_code == 409 and "Mitglieder" in response.json()["error"]
    without_colleague = practice.rotation_body(os.urandom(32), members=[practice.main])
    assert post(client, "api_key_rotation", without_colleague).status_code == 409

    swapped = practice.rotation_body(os.urandom(32))
    swapped["members"][1]["public_key"] = factories.fake_public_key()
    assert post(client, "api_key_rotation", swapped).status_code == 409
    practice.organisation.refresh_from_db()
    assert practice.organisation.key_version == 2 and PracticeKeyVersion.objects.count() == 1


PAIR_CONTEXT = "sprechzimmer/v1/practice-private-key"


def _pair(practice: Keyed, version: int) -> dict:
    """A key pair for patients' text as lib/keyring.js newPracticePair makes it."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    return {
        "public_key": crypto.public_key_text(private_key),
        "wrapped_private_key": crypto.encrypt_record(
            practice.keys[version], f"{PAIR_CONTEXT}/{practice.org_id}", {"pkcs8": "..."}, kid=version
        ),
    }


def test_rotation_replaces_the_key_pair_for_patients_text_and_keeps_the_old_one(client):
    """Whoever kept an old practice key can open the old pair's private key, so a rotation brings a
    new pair (sealed with the new version) for what patients type from then on; the old pair stays
    listed for what patients sealed to it before (docs/e2ee.md)."""
    practice = Keyed()
    old = _pair(practice, 1)
    practice.organisation.public_key, practice.organisation.wrapped_private_key = (
        old["public_key"],
        old["wrapped_private_key"],
    )
    practice.organisation.save()
    login(client, practice.main)

    new_key = os.urandom(32)
    practice.keys[2] = new_key
    without = practice.rotation_body(new_key)
    assert post(client, "api_key_rotation", without).status_code == 400  # a pair must come with it
    sealed_with_the_old_version = {**practice.rotation_body(new_key), "key_pair": _pair(practice, 1)}
    assert post(client, "api_key_rotation", sealed_with_the_old_version).status_code == 400
    practice.organisation.refresh_from_db()
    assert practice.organisation.key_version == 1 and practice.organisation.public_key == old["public_key"]

    fresh = _pair(practice, 2)
    response = post(client, "api_key_rotation", {**practice.rotation_body(new_key), "key_pair": fresh})
    assert response.status_code == 200, response.content
    practice.organisation.refresh_from_db()
    assert practice.organisation.public_key == fresh["public_key"] != old["public_key"]
    answer = client.get(reverse("api_practice_keypair")).json()
    assert answer["public_key"] == fresh["public_key"]
    assert answer["wrapped_private_key"] == fresh["wrapped_private_key"]
    assert answer["previous"] == [old]
    # the new private key opens only with the new version: an old copy of the practice key reads nothing
    with pytest.raises(crypto.CryptoError):
        keys.decrypt_record(practice.keys[1], f"{PAIR_CONTEXT}/{practice.org_id}", answer["wrapped_private_key"])
    assert keys.decrypt_record(new_key, f"{PAIR_CONTEXT}/{practice.org_id}", answer["wrapped_private_key"])
    assert client.get(reverse("api_key_rotation")).json()["key_pair"] is True


@pytest.mark.parametrize(
    "body",
    [{}, {"from_version": "1"}, {"from_version": 1, "wrapped_previous": "x", "members": []}, [], "x"],
)
def test_bad_rotation_input_is_a_german_message(client, body):
    practice = Keyed()
    response = post(login(client, practice.main), "api_key_rotation", body)
    assert response.status_code == 400 and "Schlüsselwechsel" in response.json()["error"]
    practice.organisation.refresh_from_db()
    assert practice.organisation.key_version == 1


def test_only_the_main_user_rotates_and_only_their_own_practice(client):
    practice = Keyed()
    response = post(login(client, practice.colleague), "api_key_rotation", practice.rotation_body(os.urandom(32)))
    assert response.status_code == 403
    outsider = Keyed("Praxis Fremd")
    login(client, outsider.main)
    state = client.get(reverse("api_key_rotation")).json()
    assert {m["id"] for m in state["members"]} == {outsider.main.pk, outsider.colleague.pk, outsider.leaving.pk}
    # the outsider's rotation lists the other practice's members: refused, nothing changes there
    response = post(client, "api_key_rotation", practice.rotation_body(os.urandom(32)))
    assert response.status_code == 409
    practice.organisation.refresh_from_db()
    assert practice.organisation.key_version == 1


def test_a_grant_of_an_old_version_is_refused(client):
    practice = Keyed()
    newcomer = practice.member()
    newcomer.wrapped_practice_key = ""
    newcomer.save()
    rotate(client, practice)
    grant = {
        "member_id": newcomer.pk,
        "public_key": newcomer.public_key,
        "wrapped_practice_key": crypto.wrap_to_public_key(practice.keys[1], newcomer.public_key),
        "key_version": 1,
    }
    response = post(client, "api_key_grants", grant)
    assert response.status_code == 409 and "gewechselt" in response.json()["error"]
    del grant["key_version"]  # a page from before key versions
    assert post(client, "api_key_grants", grant).status_code == 409
    grant.update(wrapped_practice_key=crypto.wrap_to_public_key(practice.keys[2], newcomer.public_key), key_version=2)
    assert post(client, "api_key_grants", grant).status_code == 200
    newcomer.refresh_from_db()
    assert newcomer.practice_key_version == 2


# --- new records must use the current version ---------------------------------------------------


def test_records_sealed_with_an_old_version_are_refused_after_rotation(client):
    practice = Keyed()
    login(client, practice.colleague)
    note = {
        "ciphertext": crypto.encrypt_record(practice.keys[1], practice.context(), {"text": "alt"}),
        "base_version": 0,
    }
    url = reverse("api_record", args=["practice-note"])
    assert client.put(url, json.dumps(note), content_type="application/json").status_code == 200
    rotate(client, practice)
    login(client, practice.colleague)
    stale = {
        "ciphertext": crypto.encrypt_record(practice.keys[1], practice.context(), {"text": "neu"}),
        "base_version": 1,
    }
    response = client.put(url, json.dumps(stale), content_type="application/json")
    assert response.status_code == 409 and "älteren Praxisschlüssel" in response.json()["error"]
    legacy = {
        "ciphertext": crypto.seal(practice.keys[1], b"{}", practice.context(), crypto.ALG_RECORD),
        "base_version": 1,
    }
    assert client.put(url, json.dumps(legacy), content_type="application/json").status_code == 409
    current = {
        "ciphertext": crypto.encrypt_record(practice.keys[2], practice.context(), {"text": "neu"}, kid=2),
        "base_version": 1,
    }
    assert client.put(url, json.dumps(current), content_type="application/json").status_code == 200
    future = {"ciphertext": crypto.encrypt_record(practice.keys[2], practice.context(), {}, kid=3), "base_version": 2}
    assert client.put(url, json.dumps(future), content_type="application/json").status_code == 400

    appointment = {
        "doctor_id": practice.main.pk,
        "start": "2030-01-07T10:00:00+01:00",
        "duration_minutes": 15,
        "patient": crypto.encrypt_record(practice.keys[1], practice.context("appointment-patient"), {"name": "X"}),
    }
    response = post(client, "api_appointments", appointment)
    assert response.status_code == 400 and "älteren Praxisschlüssel" in json.dumps(response.json(), ensure_ascii=False)
    assert not Appointment.objects.exists()


# --- re-encryption ------------------------------------------------------------------------------


def _stored_note(practice: Keyed, text: str) -> EncryptedRecord:
    return EncryptedRecord.objects.create(
        organisation=practice.organisation,
        kind="practice-note",
        ciphertext=crypto.seal(
            practice.keys[1], json.dumps({"text": text}).encode(), practice.context(), crypto.ALG_RECORD
        ),
    )


def test_reencryption_replaces_only_the_ciphertext_it_was_based_on(client):
    practice = Keyed()
    note = _stored_note(practice, "Hallo")
    outsider = Keyed("Praxis Fremd")
    _stored_note(outsider, "fremd")
    rotate(client, practice)
    listing = client.get(reverse("api_key_reencrypt")).json()
    assert listing["remaining"] == 1 and [i["ref"] for i in listing["items"]] == [f"record:{note.pk}"]
    item = listing["items"][0]
    assert item["context"] == practice.context()
    value = crypto.decrypt_record(practice.keys, item["context"], item["ciphertext"])
    fresh = crypto.encrypt_record(practice.keys[2], item["context"], value, kid=2)

    # a colleague saved in between: the re-encryption must not overwrite it
    edited = crypto.encrypt_record(practice.keys[2], practice.context(), {"text": "Hallo, geändert"}, kid=2)
    EncryptedRecord.objects.filter(pk=note.pk).update(ciphertext=edited)
    response = post(client, "api_key_reencrypt", {"ref": item["ref"], "base": item["base"], "ciphertext": fresh})
    assert response.status_code == 200 and response.json() == {"replaced": False}
    note.refresh_from_db()
    assert crypto.decrypt_record(practice.keys, practice.context(), note.ciphertext) == {"text": "Hallo, geändert"}
    assert client.get(reverse("api_key_reencrypt")).json()["remaining"] == 0

    EncryptedRecord.objects.filter(pk=note.pk).update(ciphertext=item["ciphertext"])
    stale = crypto.encrypt_record(practice.keys[1], item["context"], value, kid=1)
    response = post(client, "api_key_reencrypt", {"ref": item["ref"], "base": item["base"], "ciphertext": stale})
    assert response.status_code == 409
    response = post(client, "api_key_reencrypt", {"ref": item["ref"], "base": item["base"], "ciphertext": fresh})
    assert response.json() == {"replaced": True}
    note.refresh_from_db()
    assert note.ciphertext == fresh and note.version == 1  # content unchanged: no edit conflict for anyone
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt_record(practice.keys[1], practice.context(), note.ciphertext)


def test_reencryption_of_another_practice_record_is_refused(client):
    practice = Keyed()
    outsider = Keyed("Praxis Fremd")
    foreign = _stored_note(outsider, "fremd")
    rotate(client, practice)
    body = {
        "ref": f"record:{foreign.pk}",
        "base": "0" * 64,
        "ciphertext": crypto.encrypt_record(practice.keys[2], practice.context(), {}, kid=2),
    }
    response = post(client, "api_key_reencrypt", body)
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert crypto.decrypt_record(outsider.keys, outsider.context(), foreign.ciphertext) == {"text": "fremd"}
    for bad in ({}, {"ref": 1, "base": None, "ciphertext": []}, []):
        assert post(client, "api_key_reencrypt", bad).status_code == 400


# --- the recovery key pair ----------------------------------------------------------------------


def test_the_recovery_sheet_restores_after_two_rotations(client):
    """What a password reset with the printed recovery key does (accountforms.js): derive the pair
    from the typed text, open the practice's recovery wrap, walk the keyring."""
    practice = Keyed()
    rotate(client, practice)
    rotate(client, practice)
    organisation = practice.organisation
    organisation.refresh_from_db()
    assert organisation.key_version == organisation.recovery_key_version == 3

    typed = practice.recovery_text.lower().replace("-", " ")  # as someone types it off the sheet
    bits = keys.parse_recovery_key(typed)
    pair = crypto.recovery_private_key(bits)
    assert crypto.public_key_text(pair) == organisation.recovery_public_key
    raw = crypto.unwrap_from_public_key(organisation.recovery_wrapped_key, pair, organisation.recovery_public_key)
    assert raw == practice.keys[3]
    chain = [{"version": v.number, "wrapped_previous": v.wrapped_previous} for v in organisation.key_versions.all()]
    assert crypto.open_keyring(raw, 3, practice.org_id, chain) == practice.keys

    # another sheet derives another pair: nothing opens
    other = crypto.recovery_private_key(keys.new_recovery_key()[1])
    with pytest.raises(crypto.CryptoError):
        crypto.unwrap_from_public_key(organisation.recovery_wrapped_key, other, organisation.recovery_public_key)


def test_the_recovery_derivation_is_the_documented_one():
    """docs/e2ee.md: d = (HKDF-SHA256(bits, info "sprechzimmer/v1/recovery-ecdh", 48 bytes) mod (n − 1)) + 1."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    bits = bytes(range(20))
    okm = HKDF(hashes.SHA256(), 48, salt=b"", info=b"sprechzimmer/v1/recovery-ecdh").derive(bits)
    n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    assert crypto.recovery_private_key(bits).private_numbers().private_value == int.from_bytes(okm) % (n - 1) + 1
    assert crypto.recovery_private_key(bits).private_numbers() == crypto.recovery_private_key(bits).private_numbers()


def test_rotation_needs_the_recovery_key_pair_and_its_wrap(client):
    practice = Keyed()
    body = practice.rotation_body(os.urandom(32))
    del body["recovery_wrapped_key"]
    response = post(login(client, practice.main), "api_key_rotation", body)
    assert response.status_code == 400
    legacy = Keyed("Praxis Alt")
    legacy.organisation.recovery_public_key = ""
    legacy.organisation.recovery_wrapped_key = keys.wrap_with_recovery_key(legacy.keys[1], legacy.recovery_bits)
    legacy.organisation.save()
    body = legacy.rotation_body(os.urandom(32))
    body["recovery_wrapped_key"] = crypto.wrap_to_public_key(os.urandom(32), practice.organisation.recovery_public_key)
    response = post(login(client, legacy.main), "api_key_rotation", body)
    assert response.status_code == 409 and "Wiederherstellungsschlüssel" in response.json()["error"]
    legacy.organisation.refresh_from_db()
    assert legacy.organisation.key_version == 1


def test_an_old_practice_sets_up_its_recovery_key_pair_once(client):
    practice = Keyed()
    organisation = practice.organisation
    organisation.recovery_public_key = ""
    organisation.recovery_wrapped_key = keys.wrap_with_recovery_key(practice.keys[1], practice.recovery_bits)
    organisation.save()
    public = crypto.public_key_text(practice.recovery)
    body = {
        "recovery_public_key": public,
        "recovery_wrapped_key": crypto.wrap_to_public_key(practice.keys[1], public),
        "key_version": 1,
    }
    assert post(login(client, practice.colleague), "api_recovery_setup", body).status_code == 404  # main user only
    state = login(client, practice.main).get(reverse("api_key_rotation")).json()
    assert state["recovery_public_key"] is None and state["recovery_wrapped_key"] == organisation.recovery_wrapped_key
    assert post(client, "api_recovery_setup", body).json() == {"ok": True}
    organisation.refresh_from_db()
    assert organisation.recovery_public_key == public and organisation.recovery_key_version == 1
    replaced = {**body, "recovery_public_key": factories.fake_public_key()}
    response = post(client, "api_recovery_setup", replaced)
    assert response.status_code == 409  # never replaced by the server's say-so
    for bad in ({}, {**body, "key_version": "1"}, {**body, "recovery_wrapped_key": "x"}, []):
        assert post(client, "api_recovery_setup", bad).status_code in (400, 409)
    organisation.refresh_from_db()
    assert organisation.recovery_public_key == public
    rotate(client, practice)  # now possible


def test_deactivating_a_key_holder_or_revoking_their_device_offers_rotation_at_once(client):
    from sprechzimmer.accounts.models import Device

    practice = Keyed()
    deactivate(client, practice, practice.leaving)
    page = client.get(reverse("members")).content.decode()
    assert 'id="rotation-offer"' in page and str(practice.leaving) in page
    assert 'id="rotation-offer"' not in client.get(reverse("members")).content.decode()  # offered once

    login(client, practice.colleague)
    device = Device.objects.filter(user=practice.colleague).first()
    login(client, practice.main)
    response = client.post(reverse("device_revoke", args=[device.pk]))
    assert response.status_code == 302
    page = client.get(reverse("devices")).content.decode()
    assert 'id="rotation-offer"' in page and "Endgerät" in page
    assert 'id="rotate-key"' in page

    waiting = practice.member()
    waiting.wrapped_practice_key = ""
    waiting.save()
    deactivate(client, practice, waiting)  # held no key: nothing to rotate for
    assert 'id="rotation-offer"' not in client.get(reverse("members")).content.decode()
