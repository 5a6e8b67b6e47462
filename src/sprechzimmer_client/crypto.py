"""The browser's key scheme (static/sprechzimmer/js/lib/e2ee.js, docs/e2ee.md) in Python: ECIES
wraps of the practice key, record envelopes, fingerprints, and the client's own key pair on disk.

The server's demo data and test fixtures (sprechzimmer.demo.keys) use these same functions."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ALG_ECIES = "ECDH-P256-HKDF-A256GCM"
ALG_RECORD = "A256GCM"
#: The record kind of an appointment's patient data (static/…/js/lib/patientdata.js).
PATIENT_KIND = "appointment-patient"


class CryptoError(Exception):
    """An envelope that does not open (wrong key, changed ciphertext, wrong purpose)."""


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise CryptoError("not base64url") from exc


def hkdf(secret: bytes, info: str, salt: bytes | None = None) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=salt, info=info.encode()).derive(secret)


def seal(key: bytes, plaintext: bytes, aad: str, alg: str, **extra: str | int) -> str:
    """An envelope ``{"v":1,"alg":…,"iv":…,"ct":…}``: AES-256-GCM, random 96-bit IV, ``aad`` bound;
    ``extra`` adds fields such as ``epk`` or ``kid``."""
    iv = os.urandom(12)
    ct = AESGCM(key).encrypt(iv, plaintext, aad.encode())
    return json.dumps({"v": 1, "alg": alg, **extra, "iv": b64u(iv), "ct": b64u(ct)})


def open_envelope(key: bytes, envelope: str, aad: str) -> bytes:
    try:
        data = json.loads(envelope)
        return AESGCM(key).decrypt(b64u_decode(data["iv"]), b64u_decode(data["ct"]), aad.encode())
    except CryptoError:
        raise
    except Exception as exc:  # InvalidTag, malformed JSON or fields
        raise CryptoError("the envelope does not open with this key") from exc


def public_key_text(private_key: ec.EllipticCurvePrivateKey) -> str:
    """The public key as the server stores it: SPKI DER, base64url."""
    return b64u(
        private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def fingerprint(public_key: str) -> str:
    """First 80 bits of SHA-256 over the SPKI in groups of four: what the practice's page shows."""
    digest = hashlib.sha256(b64u_decode(public_key)).hexdigest()[:20].upper()
    return " ".join(digest[i : i + 4] for i in range(0, 20, 4))


def wrap_to_public_key(raw: bytes, recipient_public_key: str) -> str:
    """ECIES: ECDH with a fresh ephemeral key, HKDF (salt = ephemeral SPKI), AES-GCM with the
    recipient's public key as AAD."""
    recipient = serialization.load_der_public_key(b64u_decode(recipient_public_key))
    if not isinstance(recipient, ec.EllipticCurvePublicKey):
        raise CryptoError("not an EC public key")
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    epk = ephemeral.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key = hkdf(ephemeral.exchange(ec.ECDH(), recipient), "sprechzimmer/v1/ecies", salt=epk)
    return seal(key, raw, recipient_public_key, ALG_ECIES, epk=b64u(epk))


def unwrap_from_public_key(envelope: str, private_key: ec.EllipticCurvePrivateKey, own_public_key: str) -> bytes:
    try:
        epk = b64u_decode(json.loads(envelope)["epk"])
        sender = serialization.load_der_public_key(epk)
    except (ValueError, KeyError, TypeError) as exc:
        raise CryptoError("not an ECIES envelope") from exc
    if not isinstance(sender, ec.EllipticCurvePublicKey):
        raise CryptoError("not an EC public key")
    shared = private_key.exchange(ec.ECDH(), sender)
    return open_envelope(hkdf(shared, "sprechzimmer/v1/ecies", salt=epk), envelope, own_public_key)


def record_context(organisation_id: int, kind: str) -> str:
    return f"sprechzimmer/v1/record/{organisation_id}/{kind}"


def envelope_kid(envelope: str) -> int:
    """The practice key version that sealed an envelope (its ``kid``); none written means version 1,
    the only one before key versions existed (docs/e2ee.md, "Key versions")."""
    try:
        kid = json.loads(envelope).get("kid", 1)
    except (ValueError, AttributeError) as exc:
        raise CryptoError("not an envelope") from exc
    if type(kid) is not int or kid < 1:
        raise CryptoError("not a key version")
    return kid


def encrypt_record(practice_key: bytes, context: str, value: object, kid: int = 1) -> str:
    """A record sealed with version ``kid`` of the practice key (new records: the current version)."""
    return seal(practice_key, json.dumps(value).encode(), context, ALG_RECORD, kid=kid)


def decrypt_record(practice_key: bytes | Mapping[int, bytes], context: str, envelope: str) -> object:
    """Opens a record with the key it names: ``practice_key`` is one key or a keyring {version: key}."""
    if isinstance(practice_key, bytes):
        key = practice_key
    else:
        kid = envelope_kid(envelope)
        if kid not in practice_key:
            raise CryptoError(f"key version {kid} is not in this keyring")
        key = practice_key[kid]
    return json.loads(open_envelope(key, envelope, context))


def keyring_context(organisation_id: int, version: int) -> str:
    """AAD of version ``version``'s key sealed with the next one (PracticeKeyVersion.wrapped_previous)."""
    return f"sprechzimmer/v1/keyring/{organisation_id}/{version}"


def wrap_previous(new_key: bytes, new_version: int, previous_key: bytes, organisation_id: int) -> str:
    """The previous version's raw key sealed with the new one, as the rotating browser does."""
    return seal(new_key, previous_key, keyring_context(organisation_id, new_version - 1), ALG_RECORD, kid=new_version)


def open_keyring(
    current_key: bytes, current_version: int, organisation_id: int, chain: list[dict[str, object]]
) -> dict[int, bytes]:
    """{version: raw key} for ``current_version`` and every older one, walking ``chain`` (the
    server's ``keyring``: ``{version, wrapped_previous}`` entries) back to version 1."""
    by_number = {entry["version"]: entry["wrapped_previous"] for entry in chain}
    keys = {current_version: current_key}
    version, key = current_version, current_key
    while version > 1:
        wrapped = by_number.get(version)
        if not isinstance(wrapped, str):
            raise CryptoError(f"the keyring lacks version {version}")
        key = open_envelope(key, wrapped, keyring_context(organisation_id, version - 1))
        version -= 1
        keys[version] = key
    return keys


#: The order n of P-256's base point (SEC 2, § 2.4.2).
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def recovery_private_key(recovery_bits: bytes) -> ec.EllipticCurvePrivateKey:
    """The recovery key pair derived from the printed recovery key's 160 bits (docs/e2ee.md):
    d = (HKDF-SHA256(bits, info ``sprechzimmer/v1/recovery-ecdh``, 48 bytes) mod (n - 1)) + 1,
    as e2ee.js ``recoveryKeyPair`` does."""
    okm = HKDF(hashes.SHA256(), 48, salt=None, info=b"sprechzimmer/v1/recovery-ecdh").derive(recovery_bits)
    return ec.derive_private_key(int.from_bytes(okm, "big") % (P256_ORDER - 1) + 1, ec.SECP256R1())


def load_or_create_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The client's private key from ``path`` (PKCS#8 PEM), made on first use with mode 0600.
    Whoever can read this file can read the practice's patient data once the key is granted: keep
    it on the practice's own machine, like the PVS's database."""
    if path.exists():
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise CryptoError(f"{path} holds no P-256 private key")
        return loaded
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key
