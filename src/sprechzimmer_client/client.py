"""The API client: JSON over HTTPS with the client's bearer token, patient data encrypted here."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import crypto

#: What the practice's pages show of a patient (static/…/js/lib/patientdata.js, PatientData).
PATIENT_FIELDS = ("name", "birth_date", "email", "phone", "note")


class ClientError(Exception):
    """The server refused (``status``, its German message and, where it gives one, a machine
    ``code`` such as ``stale_key``) or could not be reached (status 0)."""

    def __init__(self, message: str, status: int = 0, code: str = ""):
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


@dataclass
class Appointment:
    id: int
    doctor_id: int
    start: dt.datetime
    duration_minutes: int
    status: str
    version: int
    patient: dict[str, Any]


class Client:
    """One API client of one practice: ``Client("https://praxis.example", token, Path("client.pem"))``.

    The token comes from the practice's page "API-Zugänge" (keep it out of command lines and logs);
    the key file is made on first use."""

    def __init__(self, base_url: str, token: str, key_path: Path, timeout: float = 20.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.private_key = crypto.load_or_create_key(key_path)
        self.public_key = crypto.public_key_text(self.private_key)
        self.timeout = timeout
        self._practice: tuple[int, bytes] | None = None
        #: {version: raw key} of every practice key version this client can open (docs/e2ee.md)
        self._keyring: dict[int, bytes] = {}
        self._key_version = 1

    # --- HTTP -----------------------------------------------------------------------------------

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, query: dict[str, Any] | None = None
    ) -> dict[str, Any] | list[Any]:
        url = f"{self.base_url}/api/v1{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                parsed: Any = json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            try:
                refusal = json.loads(exc.read())
                message, code = refusal.get("error") or exc.reason, str(refusal.get("code") or "")
            except (ValueError, AttributeError):
                message, code = str(exc.reason), ""
            raise ClientError(str(message), exc.code, code) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ClientError(f"Der Server ist nicht erreichbar ({exc}).") from None
        except ValueError:
            raise ClientError("Der Server hat keine gültige JSON-Antwort gegeben.") from None
        if not isinstance(parsed, (dict, list)):
            raise ClientError("Der Server hat keine gültige JSON-Antwort gegeben.")
        return parsed

    def object(
        self, method: str, path: str, body: dict[str, Any] | None = None, query: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """``request`` for an answer that is a JSON object."""
        answer = self.request(method, path, body, query)
        if not isinstance(answer, dict):
            raise ClientError("Der Server hat eine unerwartete Antwort gegeben.")
        return answer

    # --- keys -----------------------------------------------------------------------------------

    @property
    def fingerprint(self) -> str:
        """Compare with the fingerprint the practice's page "API-Zugänge" shows before granting."""
        return crypto.fingerprint(self.public_key)

    def register_key(self) -> dict[str, Any]:
        """Announces this client's public key; the main user then grants it the practice key."""
        answer = self.object("PUT", "/key", {"public_key": self.public_key})
        return answer

    def practice_key(self) -> tuple[int, bytes]:
        """(practice id, current practice key) once granted; ClientError 403-like message before that.
        Older key versions, for reading records sealed before a rotation, are kept beside it."""
        if self._practice is None:
            answer = self.object("GET", "/key")
            if answer.get("public_key") != self.public_key:
                raise ClientError("Der Schlüssel dieses Programms ist nicht angemeldet (register_key).", 409)
            if not answer.get("wrapped_practice_key"):
                raise ClientError(
                    "Die Praxis hat diesem Programm noch keinen Zugriff gegeben: unter „API-Zugänge“ den "
                    f"Fingerabdruck {self.fingerprint} vergleichen und „Zugriff freigeben“ wählen.",
                    403,
                )
            raw = crypto.unwrap_from_public_key(answer["wrapped_practice_key"], self.private_key, self.public_key)
            organisation_id = int(answer["organisation_id"])
            version = int(answer.get("practice_key_version") or 1)
            if version < int(answer.get("key_version") or 1):
                raise ClientError(
                    "Die Praxis hat ihren Schlüssel gewechselt, ohne diesem Programm die neue Version zu geben: unter "
                    f"„API-Zugänge“ den Fingerabdruck {self.fingerprint} vergleichen und erneut „Zugriff freigeben“.",
                    403,
                )
            self._keyring = crypto.open_keyring(raw, version, organisation_id, answer.get("keyring") or [])
            self._key_version = version
            self._practice = (organisation_id, raw)
        return self._practice

    def forget_keys(self) -> None:
        """Drops the keys held in memory; the next call fetches them again (after a rotation)."""
        self._practice, self._keyring = None, {}

    def encrypt_patient(self, patient: dict[str, Any]) -> str:
        organisation_id, key = self.practice_key()
        value = {name: str(patient.get(name) or "") for name in PATIENT_FIELDS}
        context = crypto.record_context(organisation_id, crypto.PATIENT_KIND)
        return crypto.encrypt_record(key, context, value, kid=self._key_version)

    def decrypt_patient(self, envelope: str) -> dict[str, Any]:
        organisation_id, _ = self.practice_key()
        if crypto.envelope_kid(envelope) not in self._keyring:
            self.forget_keys()  # sealed with a version newer than ours: the practice rotated since
            organisation_id, _ = self.practice_key()
        context = crypto.record_context(organisation_id, crypto.PATIENT_KIND)
        value = crypto.decrypt_record(self._keyring, context, envelope)
        if not isinstance(value, dict):
            raise crypto.CryptoError("not a patient record")
        return value

    # --- appointments ---------------------------------------------------------------------------

    def _appointment(self, data: dict[str, Any]) -> Appointment:
        return Appointment(
            id=data["id"],
            doctor_id=data["doctor_id"],
            start=dt.datetime.fromisoformat(data["start"]),
            duration_minutes=data["duration_minutes"],
            status=data["status"],
            version=data["version"],
            patient=self._patient_or_empty(data["patient"]),
        )

    def _patient_or_empty(self, envelope: str) -> dict[str, Any]:
        """The patient data; {} for an online booking, which is encrypted to the practice's key pair
        until a member's browser opens and re-encrypts it (docs/booking.md)."""
        try:
            if json.loads(envelope).get("alg") == crypto.ALG_ECIES:
                return {}
        except (ValueError, AttributeError):
            pass
        return self.decrypt_patient(envelope)

    def create_appointment(
        self, doctor_id: int, start: dt.datetime, patient: dict[str, Any], duration_minutes: int = 15
    ) -> tuple[Appointment, str]:
        """The new appointment and its access code (shown to the patient once; not stored here)."""
        answer = self._sealing(
            lambda: self.object(
                "POST",
                "/appointments",
                {
                    "doctor_id": doctor_id,
                    "start": start.isoformat(),
                    "duration_minutes": duration_minutes,
                    "patient": self.encrypt_patient(patient),
                },
            )
        )
        return self._appointment(answer["appointment"]), answer["code"]

    def _sealing(self, send: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Sends what ``send`` seals with the practice key; if the practice rotated its key since
        this client fetched it (409 ``stale_key``), fetches the new version and seals once more."""
        try:
            return send()
        except ClientError as refused:
            if refused.code != "stale_key":
                raise
        self.forget_keys()
        return send()

    def appointments(self, first: dt.date, last: dt.date | None = None) -> list[Appointment]:
        answer = self.object(
            "GET", "/appointments", query={"von": first.isoformat(), "bis": (last or first).isoformat()}
        )
        return [self._appointment(a) for a in answer["appointments"]]

    def join_link(self, code: str) -> str:
        """The patient's link: the code travels in the fragment, which no server log sees."""
        return f"{self.base_url}/sprechstunde/#code={code}"
