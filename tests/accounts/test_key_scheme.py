"""The documented key scheme, exercised through its Python mirror (demo data and fixtures rely on
it; the browser tests prove the JavaScript side reads what it writes)."""

import json

import pytest

from sprechzimmer.accounts import keyblobs
from sprechzimmer.demo import keys as demo_keys
from sprechzimmer_client.crypto import CryptoError


def test_login_secret_and_wrapping_key_are_independent_and_salted_by_email():
    auth_a, kek_a = demo_keys.derive_login_secrets("A@Example.org ", "ein langes Passwort")
    auth_b, kek_b = demo_keys.derive_login_secrets("a@example.org", "ein langes Passwort")
    auth_c, _ = demo_keys.derive_login_secrets("c@example.org", "ein langes Passwort")
    assert (auth_a, kek_a) == (auth_b, kek_b)  # e-mail is normalised
    assert auth_a != auth_c
    assert demo_keys.b64u(kek_a) != auth_a
    assert len(auth_a) == 43


def test_practice_key_round_trip_and_binding():
    alice = demo_keys.member_keys("alice@example.org", "Passwort-Alice-1")
    bob = demo_keys.member_keys("bob@example.org", "Passwort-Bob-22")
    practice_key = bytes(range(32))
    wrapped = demo_keys.wrap_to_public_key(practice_key, alice.public_key)
    keyblobs.check_practice_key_wrap(wrapped)
    assert demo_keys.unwrap_from_public_key(wrapped, alice.private_key, alice.public_key) == practice_key
    with pytest.raises(CryptoError):
        demo_keys.unwrap_from_public_key(wrapped, bob.private_key, bob.public_key)


def test_record_cannot_be_moved_to_another_practice_or_kind():
    key = bytes(32)
    sealed = demo_keys.encrypt_record(key, demo_keys.record_context(1, "practice-note"), {"text": "x"})
    assert demo_keys.decrypt_record(key, demo_keys.record_context(1, "practice-note"), sealed) == {"text": "x"}
    with pytest.raises(CryptoError):
        demo_keys.decrypt_record(key, demo_keys.record_context(2, "practice-note"), sealed)


def test_recovery_key_format_and_unwrap():
    text, raw = demo_keys.new_recovery_key()
    assert len(text) == 39 and text.count("-") == 7
    wrapped = demo_keys.wrap_with_recovery_key(b"k" * 32, raw)
    keyblobs.check_recovery_wrap(wrapped)
    data = json.loads(wrapped)
    assert data["alg"] == keyblobs.ALG_RECOVERY_WRAP
