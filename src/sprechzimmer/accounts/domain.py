"""Identifiers of the German statutory health system: BSNR, KV region codes and LANR.

Pure Python, no Django: the rules come from ``shared/domain/kvdt-lanr-bsnr.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The 17 Kassenärztliche Vereinigungen by the region code in digits 1–2 of a BSNR.
KV_BY_CODE: dict[str, str] = {
    "01": "KV Schleswig-Holstein",
    "02": "KV Hamburg",
    "03": "KV Bremen",
    "17": "KV Niedersachsen",
    "20": "KV Westfalen-Lippe",
    "38": "KV Nordrhein",
    "46": "KV Hessen",
    "51": "KV Rheinland-Pfalz",
    "52": "KV Baden-Württemberg",
    "71": "KV Bayerns",
    "72": "KV Berlin",
    "73": "KV Saarland",
    "78": "KV Mecklenburg-Vorpommern",
    "83": "KV Brandenburg",
    "88": "KV Sachsen-Anhalt",
    "93": "KV Thüringen",
    "98": "KV Sachsen",
}

LANR_WEIGHTS = (4, 9, 4, 9, 4, 9)
LANR_PLACEHOLDER = "999999900"  # "no LANR yet"
LANR_OBSOLETE = "888888800"


class IdentifierError(ValueError):
    """A BSNR or LANR that is not valid; ``message`` is German and fit to show a user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Bsnr:
    """Betriebsstättennummer: 9 digits, the first two name the KV region."""

    value: str

    @property
    def kv_code(self) -> str:
        return self.value[:2]

    @property
    def kv_name(self) -> str:
        return KV_BY_CODE[self.kv_code]


def parse_bsnr(raw: str) -> Bsnr:
    value = (raw or "").strip().replace(" ", "")
    if len(value) != 9 or not value.isdigit():
        raise IdentifierError("Die BSNR besteht aus genau 9 Ziffern.")
    if value[:2] not in KV_BY_CODE:
        raise IdentifierError(
            f"Die BSNR beginnt mit {value[:2]}; das ist keine KV-Kennung. "
            "Die ersten beiden Ziffern nennen Ihre KV (z. B. 52 für Baden-Württemberg)."
        )
    return Bsnr(value)


def lanr_check_digit(doctor_id: str) -> int:
    """Check digit (digit 7) of a LANR from its digits 1–6: weights 4,9,4,9,4,9; (10 − sum mod 10) mod 10."""
    if len(doctor_id) != 6 or not doctor_id.isdigit():
        raise ValueError("doctor_id must be six digits")
    total = sum(int(d) * w for d, w in zip(doctor_id, LANR_WEIGHTS))
    return (10 - total % 10) % 10


@dataclass(frozen=True)
class Lanr:
    """Lebenslange Arztnummer ``nnnnnn m ff``: doctor id, check digit, specialty group (Arztgruppe)."""

    value: str

    @property
    def doctor_id(self) -> str:
        return self.value[:6]

    @property
    def specialty(self) -> str:
        return self.value[7:]


def parse_lanr(raw: str) -> Lanr:
    value = (raw or "").strip().replace(" ", "")
    if len(value) != 9 or not value.isdigit():
        raise IdentifierError("Die LANR besteht aus genau 9 Ziffern.")
    if value in (LANR_PLACEHOLDER, LANR_OBSOLETE):
        raise IdentifierError("Diese LANR ist ein Platzhalter und keine gültige Arztnummer.")
    if value[:6] == "555555":
        raise IdentifierError("Die Arztnummer 555555 ist ungültig.")
    if int(value[6]) != lanr_check_digit(value[:6]):
        raise IdentifierError(
            "Die Prüfziffer der LANR (7. Stelle) stimmt nicht. Bitte prüfen Sie die Nummer auf Tippfehler."
        )
    return Lanr(value)
