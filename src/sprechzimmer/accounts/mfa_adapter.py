"""allauth's MFA adapter with TOTP secrets and recovery-code seeds encrypted at rest.

allauth stores them through ``encrypt``/``decrypt``, whose default does nothing. Here they are
sealed with AES-256-GCM under ``MFA_KEYS`` from the environment (or a key derived from SECRET_KEY),
so a copy of the database or a backup alone does not give anyone a doctor's second factor
(docs/e2ee.md, docs/operations.md).
"""

from __future__ import annotations

from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.conf import settings

from sprechzimmer.atrest import Keyring, keyring_for
from sprechzimmer.prepared import Exists

# Asked on every request of every member (accounts/access.py, second_factor): the query built once.
_HAS_AUTHENTICATOR = Exists(lambda: Authenticator.objects.all(), "user_id")

AAD = b"sprechzimmer/v1/mfa"


def keyring() -> Keyring:
    return keyring_for(tuple(settings.MFA_KEYS), settings.SECRET_KEY, "sprechzimmer/v1/mfa-key")


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return keyring().seal_text(text, AAD)

    def decrypt(self, encrypted_text: str) -> str:
        return keyring().open_text(encrypted_text, AAD)

    def is_mfa_enabled(self, user, types=None) -> bool:
        if types is not None or user.is_anonymous:
            return super().is_mfa_enabled(user, types=types)
        return _HAS_AUTHENTICATOR(user.pk)


SEALED_FIELDS = ("secret", "seed")  # TOTP secret, recovery-code seed
SEALED_LISTS = ("migrated_codes",)  # recovery codes carried over from another system


def reseal(data: dict, transform) -> dict:
    """``data`` of an allauth authenticator with ``transform`` applied to every sealed value."""
    data = dict(data)
    for name in SEALED_FIELDS:
        if isinstance(data.get(name), str):
            data[name] = transform(data[name])
    for name in SEALED_LISTS:
        if isinstance(data.get(name), list):
            data[name] = [transform(value) for value in data[name]]
    return data


def rotate(authenticators) -> int:
    """Re-seals every value not sealed with the current key; returns how many authenticators changed."""
    ring = keyring()

    def transform(value: str) -> str:
        return value if ring.sealed_with_current(value) else ring.seal_text(ring.open_text(value, AAD), AAD)

    changed = 0
    for authenticator in authenticators:
        data = reseal(authenticator.data, transform)
        if data != authenticator.data:
            authenticator.data = data
            authenticator.save(update_fields=["data"])
            changed += 1
    return changed
