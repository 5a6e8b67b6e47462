"""Identifiers of the German statutory health system: BSNR, KV region codes and LANR.

Pure Python, no Django: the rules follow the KBV's Richtlinie zur Vergabe der Arzt- und
Betriebsstättennummern and the KVDT Datensatzbeschreibung (fields 0201, 0212; see docs/ebm.md).
"""

from __future__ import annotations

from dataclasses import dataclass

#: The 17 Kassenärztliche Vereinigungen by their Landesstelle code.
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


def _districts(kv: str, *codes: int) -> dict[str, str]:
    return {f"{code:02d}": kv for code in codes}


#: Digits 1–2 of a BSNR name the KV-Bezirk, which belongs to one of the 17 KVs. Source: the key
#: table "KV-Bezirk" (GKV-Spitzenverband, Technische Anlage zur Datenübermittlung, Anhang
#: Kostenträgerdatei, Schlüssel 8.7), the Landesstellen codes of the KBV's KVDT
#: Datensatzbeschreibung (field 0201), and the KV mergers of 2005: Koblenz, Rheinhessen, Pfalz and
#: Trier became KV Rheinland-Pfalz (51), Nordbaden, Südbaden, Nord- and Südwürttemberg with their
#: Abrechnungsstellen became KV Baden-Württemberg (52). Real BSNRs keep their Bezirk codes, e.g.
#: 27… (Köln, KV Nordrhein) or 13… (Osnabrück, KV Niedersachsen).
KV_CODE_BY_DISTRICT: dict[str, str] = {
    **_districts("01", 1),
    **_districts("02", 2),
    **_districts("03", 3),
    **_districts("17", 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17),
    **_districts("20", 18, 19, 20),
    **_districts("38", 21, 24, 25, 27, 28, 31, 37, 38),
    **_districts("46", 39, 40, 41, 42, 43, 44, 45, 46),
    **_districts("51", 47, 48, 49, 50, 51),
    **_districts("52", 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62),
    **_districts("71", 63, 64, 65, 66, 67, 68, 69, 70, 71),
    **_districts("72", 72),
    **_districts("73", 73),
    **_districts("78", 78),
    **_districts("83", 79, 80, 81, 83),
    **_districts("88", 85, 86, 87, 88),
    **_districts("93", 89, 90, 91, 93),
    **_districts("98", 94, 95, 96, 98),
}


def kv_code_of_bsnr(bsnr: str) -> str | None:
    """The Landesstelle code of the KV a BSNR belongs to, or None if digits 1–2 are no KV-Bezirk."""
    return KV_CODE_BY_DISTRICT.get((bsnr or "")[:2])


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
    """Betriebsstättennummer: 9 digits, the first two name the KV-Bezirk (and so the KV)."""

    value: str

    @property
    def kv_code(self) -> str:
        """The Landesstelle code of the KV (a parsed BSNR always has one)."""
        return KV_CODE_BY_DISTRICT[self.value[:2]]

    @property
    def kv_name(self) -> str:
        return KV_BY_CODE[self.kv_code]


def parse_bsnr(raw: str) -> Bsnr:
    value = (raw or "").strip().replace(" ", "")
    if len(value) != 9 or not value.isdigit():
        raise IdentifierError("Die BSNR besteht aus genau 9 Ziffern.")
    if value[:2] not in KV_CODE_BY_DISTRICT:
        raise IdentifierError(
            f"Die BSNR beginnt mit {value[:2]}; das ist keine KV-Kennung. "
            "Die ersten beiden Ziffern nennen den KV-Bezirk Ihrer Praxis (z. B. 52 für Baden-Württemberg, "
            "27 für Köln in der KV Nordrhein)."
        )
    return Bsnr(value)


def lanr_check_digit(doctor_id: str) -> int:
    """Check digit (digit 7) of a LANR from its digits 1–6: weights 4,9,4,9,4,9; (10 − sum mod 10) mod 10."""
    if len(doctor_id) != 6 or not doctor_id.isdigit():
        raise ValueError("doctor_id must be six digits")
    total = sum(int(d) * w for d, w in zip(doctor_id, LANR_WEIGHTS, strict=True))
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
