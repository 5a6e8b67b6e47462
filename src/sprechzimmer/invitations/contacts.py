"""Sealing a patient's contact while its messages wait (docs/e2ee.md, "Integrated invitations").

AES-256-GCM (``sprechzimmer.atrest``) under ``CONTACT_KEYS`` from the environment, or a key derived
from SECRET_KEY; the AAD binds the ciphertext to its appointment and channel, so a sealed row copied
to another appointment does not open.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings

from sprechzimmer.atrest import Keyring, keyring_for


@dataclass(frozen=True)
class Contact:
    to: str
    code: str


def keyring() -> Keyring:
    return keyring_for(tuple(settings.CONTACT_KEYS), settings.SECRET_KEY, "sprechzimmer/v1/contact-key")


def _aad(appointment_id: int, channel: str) -> bytes:
    return f"sprechzimmer/v1/contact/{appointment_id}/{channel}".encode()


def seal(contact: Contact, appointment_id: int, channel: str) -> str:
    text = json.dumps({"to": contact.to, "code": contact.code})
    return keyring().seal_text(text, _aad(appointment_id, channel))


def open_sealed(sealed: str, appointment_id: int, channel: str) -> Contact:
    data = json.loads(keyring().open_text(sealed, _aad(appointment_id, channel)))
    return Contact(to=data["to"], code=data["code"])
