"""Becoming and leaving a K-Arzt (Kooperationsarzt) of the KVBW: the application's document rules,
the LANR with K status, and the notice period. Pure Python; source: seed 004 (every number there is
a rule here).

Documents (Anlagen) of the application:
1 measles proof (Masernschutz), required when born 1971 or later (IfSG § 20);
2 Approbation and 3 Facharzt certificate, each an officially certified copy (amtlich beglaubigte
  Abschrift, or sent by registered mail) not older than six months; without Facharzt: proof of the
  last year of Weiterbildung, or the exception after at least two years of clinical work
  (§ 4 Abs. 7 Satz 2 NFD-O);
4 police certificate (Privatführungszeugnis, Belegart N) in the original, not older than six months;
5 professional liability insurance of at least 3 million euros for personal and for property damage;
6 qualification proofs for large devices: optional, without them those devices stay locked;
7 declaration "Arzt im Dienst" (correct billing); 8 personnel questionnaire;
9 the cooperation agreement in two copies with original signatures, by post (staff tick receipt).
Former pool doctors (verkürztes Verfahren) send only the agreement and what changed since.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from sprechzimmer.accounts.domain import lanr_check_digit

MEASLES_FROM_BIRTH_YEAR = 1971
DOCUMENT_MAX_AGE_MONTHS = 6
MIN_LIABILITY = Decimal(3_000_000)
MIN_CLINICAL_MONTHS = 24
AGREEMENT_COPIES = 2
#: Digits 8–9 of a LANR with the emergency-service K status (NFD K-Status); configurable per KV.
K_STATUS_CODE = "97"

ANLAGEN = {
    "measles": "Anlage 1 – Nachweis Masernschutz",
    "approbation": "Anlage 2 – Approbationsurkunde",
    "specialist": "Anlage 3 – Facharzturkunde",
    "police": "Anlage 4 – Polizeiliches Führungszeugnis",
    "liability": "Anlage 5 – Nachweis Berufshaftpflicht",
    "devices": "Anlage 6 – Qualifikationsnachweis Medizinprodukte",
    "declaration": "Anlage 7 – Erklärung Arzt im Dienst",
    "questionnaire": "Anlage 8 – Personalfragebogen",
    "agreement": "Anlage 9 – Kooperationsvereinbarung",
}


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` earlier; the month's last day when it has no such day (31.08 → 28.02)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Certificate:
    """A document with its date (issue date of the certificate or of the certified copy)."""

    issued: dt.date
    certified_copy: bool = False  # amtlich beglaubigt, or sent by registered mail
    original: bool = False
    kind: str = ""  # police certificate: "N"


@dataclass(frozen=True)
class Application:
    birth_date: dt.date
    former_pool_doctor: bool = False
    changed_since_pool: frozenset[str] = frozenset()  # keys of ANLAGEN
    measles_proof: bool = False
    approbation: Certificate | None = None
    specialist: Certificate | None = None
    last_training_year: bool = False  # proof of being in the last year of Weiterbildung
    clinical_months: int = 0  # clinical work, for the § 4 Abs. 7 Satz 2 NFD-O exception
    police: Certificate | None = None
    liability_personal: Decimal | None = None  # coverage in euros
    liability_property: Decimal | None = None
    device_proofs: frozenset[str] = frozenset()
    declaration: bool = False
    questionnaire: bool = False
    agreement_copies_received: int = 0  # ticked by the staff on receipt of the post


@dataclass(frozen=True)
class Missing:
    anlage: str  # key of ANLAGEN
    message: str  # German, says what to send

    @property
    def title(self) -> str:
        return ANLAGEN[self.anlage]


def _recent(certificate: Certificate, on: dt.date) -> bool:
    return months_before(on, DOCUMENT_MAX_AGE_MONTHS) <= certificate.issued <= on


def missing_documents(application: Application, on: dt.date) -> list[Missing]:
    """Everything that keeps the application from being complete on day ``on``, in Anlage order.
    An empty list means complete."""
    app = application
    missing: list[Missing] = []
    needed = set(ANLAGEN) - {"devices"}
    if app.former_pool_doctor:  # verkürztes Verfahren: the agreement and what changed
        needed = {"agreement"} | (set(app.changed_since_pool) & needed)

    def check(anlage: str, problem: Callable[[], str | None]) -> None:
        if anlage in needed and (message := problem()):
            missing.append(Missing(anlage, message))

    def measles() -> str | None:
        if app.birth_date.year >= MEASLES_FROM_BIRTH_YEAR and not app.measles_proof:
            return f"Für ab {MEASLES_FROM_BIRTH_YEAR} Geborene ist der Nachweis nach dem Masernschutzgesetz nötig."
        return None

    def certified(name: str, certificate: Certificate | None) -> str | None:
        if certificate is None:
            return f"{name} fehlt (amtlich beglaubigte Abschrift)."
        if not certificate.certified_copy:
            return "Bitte als amtlich beglaubigte Abschrift oder per Einschreiben senden."
        if not _recent(certificate, on):
            return (
                f"Die Beglaubigung vom {certificate.issued:%d.%m.%Y} ist älter als sechs Monate "
                f"(frühestens {months_before(on, DOCUMENT_MAX_AGE_MONTHS):%d.%m.%Y})."
            )
        return None

    def specialist() -> str | None:
        if app.specialist is not None:
            return certified("Die Facharzturkunde", app.specialist)
        if app.last_training_year or app.clinical_months >= MIN_CLINICAL_MONTHS:
            return None
        return (
            "Ohne Facharzturkunde: Nachweis über das letzte Weiterbildungsjahr oder über mindestens zwei "
            "Jahre klinische Tätigkeit (§ 4 Abs. 7 Satz 2 NFD-O)."
        )

    def police() -> str | None:
        certificate = app.police
        if certificate is None:
            return "Das polizeiliche Führungszeugnis (Belegart N, im Original) fehlt."
        if certificate.kind != "N" or not certificate.original:
            return "Bitte das Privatführungszeugnis der Belegart N im Original senden."
        if not _recent(certificate, on):
            return f"Das Führungszeugnis vom {certificate.issued:%d.%m.%Y} ist älter als sechs Monate."
        return None

    def liability() -> str | None:
        persons, things = app.liability_personal, app.liability_property
        if persons is None or things is None:
            return "Die Erklärung zur Berufshaftpflicht (Deckungssummen für Personen- und Sachschäden) fehlt."
        if min(persons, things) < MIN_LIABILITY:
            return "Die Deckungssumme muss für Personen- und Sachschäden jeweils mindestens 3 Millionen Euro betragen."
        return None

    def agreement() -> str | None:
        if app.agreement_copies_received < AGREEMENT_COPIES:
            return (
                "Die Kooperationsvereinbarung in zweifacher Ausfertigung mit Originalunterschriften per Post "
                f"(eingegangen: {app.agreement_copies_received} von {AGREEMENT_COPIES}; kein Scan oder Fax)."
            )
        return None

    check("measles", measles)
    check("approbation", lambda: certified("Die Approbationsurkunde", app.approbation))
    check("specialist", specialist)
    check("police", police)
    check("liability", liability)
    check("declaration", lambda: None if app.declaration else "Die Erklärung zur Richtigkeit der Abrechnung fehlt.")
    check("questionnaire", lambda: None if app.questionnaire else "Der Personalfragebogen fehlt.")
    check("agreement", agreement)
    return missing


def locked_devices(application: Application, devices: Iterable[str]) -> list[str]:
    """Large devices of the Notfallpraxen the doctor may not use: those without a qualification proof."""
    return [device for device in devices if device not in application.device_proofs]


# --- LANR ----------------------------------------------------------------------------------------


class LanrError(ValueError):
    pass


def k_status_lanr(existing: str, code: str = K_STATUS_CODE) -> str:
    """A doctor with a LANR keeps digits 1–7; digits 8–9 become the K status."""
    if len(existing) != 9 or not existing.isdigit():
        raise LanrError("Eine LANR hat neun Ziffern.")
    if int(existing[6]) != lanr_check_digit(existing[:6]):
        raise LanrError(f"Die LANR {existing} hat eine falsche Prüfziffer.")
    if len(code) != 2 or not code.isdigit():
        raise LanrError("Der Fachgruppencode hat zwei Ziffern.")
    return existing[:7] + code


def new_lanr(taken: Callable[[str], bool], code: str = K_STATUS_CODE, rng: random.Random | None = None) -> str:
    """A new LANR with a valid check digit whose doctor id (digits 1–6) nobody has yet.

    ``taken(doctor_id)`` says whether the six digits are in use. 555555 is invalid and 999999 the
    placeholder for "no LANR yet" (KBV, Richtlinie zur Vergabe der Arzt- und Betriebsstättennummern);
    ids start at 100000."""
    rng = rng or random.SystemRandom()
    for _ in range(10_000):
        doctor = f"{rng.randrange(100000, 999999):06d}"
        if doctor in ("555555", "999999") or taken(doctor):
            continue
        return f"{doctor}{lanr_check_digit(doctor)}{code}"
    raise LanrError("Es ließ sich keine freie LANR finden.")


# --- notice (Kündigung) --------------------------------------------------------------------------

NOTICE_WEEKS = 6


def notice_end(received: dt.date, weeks: int = NOTICE_WEEKS) -> dt.date:
    """Six weeks to the end of a month: the last day of the month in which the period ends.
    Received 17.01.2026 → 28.02.2026 (exactly six weeks); 18.01.2026 → 31.03.2026."""
    earliest = received + dt.timedelta(weeks=weeks)
    return dt.date(earliest.year, earliest.month, calendar.monthrange(earliest.year, earliest.month)[1])


__all__ = [
    "ANLAGEN",
    "Application",
    "Certificate",
    "LanrError",
    "Missing",
    "K_STATUS_CODE",
    "k_status_lanr",
    "locked_devices",
    "missing_documents",
    "months_before",
    "new_lanr",
    "notice_end",
]
