"""The objects the billing rules talk about: quarter, treatment case, service, contact.

Pure Python, no Django. German terms: Quartal, Behandlungsfall, Leistung (GOP), Arzt-Patienten-
Kontakt. Objects use ``__slots__`` because a KVDT file of a large KV holds millions of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


class BillingError(ValueError):
    """Input the engine cannot use. ``str()`` is one German sentence fit for a user."""


# Kinds of Arzt-Patienten-Kontakt (Allgemeine Bestimmung 4.3.1).
PERSONAL = "personal"  # persönlich: same place, same time
VIDEO = "video"  # Videosprechstunde nach Anlage 31b BMV-Ä
TELEPHONE = "telephone"
INDIRECT = "indirect"  # mittelbar, e.g. through a relative
CONTACT_KINDS = (PERSONAL, VIDEO, TELEPHONE, INDIRECT)
CONTACT_LABELS = {PERSONAL: "persönlich", VIDEO: "Video", TELEPHONE: "telefonisch", INDIRECT: "mittelbar"}

#: Scheinuntergruppen (field 4239) of record 0104 that mean the *organised* emergency service
#: (organisierter Not(-fall)dienst). KVDT Datensatzbeschreibung v6.02 (KBV, 9.3.2026), ADT-Feldtabelle,
#: field 4239, allowed contents for record 0104: 41 Ärztlicher Notfalldienst, 42 Urlaubs- bzw.
#: Krankheitsvertretung, 43 Notfall, 44 Notfalldienst mit Taxi, 45 Notarzt-/Rettungswagen
#: (Rettungsdienst), 46 Zentraler Notfalldienst. Only 41, 44 and 46 name the Notfalldienst; 42 is a
#: substitute, 43 an emergency treated outside the organised service, 45 the Rettungsdienst
#: (docs/ebm.md, "Scheinuntergruppe").
EMERGENCY_SUBGROUPS = frozenset({"41", "44", "46"})


@dataclass(frozen=True, order=True, slots=True)
class Quarter:
    """Quartal. Ordered by time; ``str`` is the German form ``3/2024``."""

    year: int
    number: int

    def __post_init__(self) -> None:
        if not 1 <= self.number <= 4 or not 1990 <= self.year <= 2100:
            raise BillingError(f"{self.number}/{self.year} ist kein gültiges Quartal.")

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """``3/2024``, ``Q3/2024``, ``2024-Q3`` or KVDT's ``32024``."""
        raw = (text or "").strip().upper().replace(" ", "")
        try:
            if "/" in raw:
                number, year = raw.removeprefix("Q").split("/")
            elif "-Q" in raw:
                year, number = raw.split("-Q")
            elif len(raw) == 5 and raw.isdigit():
                number, year = raw[0], raw[1:]
            else:
                raise ValueError
            return cls(int(year), int(number))
        except ValueError:
            raise BillingError(f"»{text}« ist kein Quartal; erwartet wird z. B. 3/2024.") from None

    @classmethod
    def of(cls, day: dt.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def index(self) -> int:
        return self.year * 4 + self.number - 1

    @classmethod
    def from_index(cls, index: int) -> Quarter:
        return cls(index // 4, index % 4 + 1)

    def shift(self, quarters: int) -> Quarter:
        return Quarter.from_index(self.index + quarters)

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> dt.date:
        return self.shift(1).first_day - dt.timedelta(days=1)

    @property
    def kvdt(self) -> str:
        return f"{self.number}{self.year}"

    def __str__(self) -> str:
        return f"{self.number}/{self.year}"


class Service:
    """Leistung: one GOP on one day, in one visit (Inanspruchnahme) of the case."""

    __slots__ = ("gop", "date", "time", "multiplier", "lanr", "bsnr", "visit")

    def __init__(
        self,
        gop: str,
        date: dt.date,
        visit: int,
        time: str | None = None,
        multiplier: int = 1,
        lanr: str | None = None,
        bsnr: str | None = None,
    ):
        self.gop = gop
        self.date = date
        self.visit = visit
        self.time = time
        self.multiplier = multiplier
        self.lanr = lanr
        self.bsnr = bsnr

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Service) and all(getattr(self, s) == getattr(other, s) for s in self.__slots__)

    def __repr__(self) -> str:
        return f"Service({self.gop} {self.date} visit={self.visit} t={self.time} x{self.multiplier} {self.lanr})"


class Contact:
    """Arzt-Patienten-Kontakt: one visit of a kind (personal, video, telephone, indirect)."""

    __slots__ = ("date", "time", "kind", "visit")

    def __init__(self, date: dt.date, kind: str, visit: int, time: str | None = None):
        self.date = date
        self.kind = kind
        self.visit = visit
        self.time = time

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Contact) and (self.date, self.kind, self.visit, self.time) == (
            other.date,
            other.kind,
            other.visit,
            other.time,
        )

    def __repr__(self) -> str:
        return f"Contact({self.date} {self.kind} visit={self.visit} t={self.time})"


class Case:
    """Schein (Abrechnungsschein): one treatment record 0101–0104 of a KVDT file, or one case of the
    JSON format. Several Scheine of one patient in one quarter with one payer are one
    Behandlungsfall (:class:`TreatmentCase`).

    ``contacts`` is ``None`` when the input did not state them (KVDT); the rules then infer them
    from the services (docs/ebm.md, "Contact inference"). ``name``, ``first_name``, ``birth`` hold
    the raw bytes of fields 3101, 3102, 3103: in a clear file (command line) surname, first name and
    birth date, in an upload from the browser the patient's pseudonym and age
    (``psn1:…``, ``alter:N``); only the grouping and the age ever look at them. ``payer`` is the
    Kostenträgerkennung (field 4111), ``quarter`` the Schein's own quarter (field 4101)."""

    __slots__ = (
        "case_id",
        "record_type",
        "bsnr",
        "subgroup",
        "tss_acute",
        "services",
        "contacts",
        "line",
        "quarter",
        "name",
        "first_name",
        "birth",
        "payer",
        "age",
    )

    def __init__(
        self,
        case_id: str,
        record_type: str = "0101",
        bsnr: str | None = None,
        subgroup: str | None = None,
        tss_acute: bool = False,
        services: list[Service] | None = None,
        contacts: list[Contact] | None = None,
        line: int = 0,
        quarter: Quarter | None = None,
        name: bytes | None = None,
        first_name: bytes | None = None,
        birth: bytes | None = None,
        payer: bytes | None = None,
        age: int | None = None,
    ):
        self.case_id = case_id
        self.record_type = record_type
        self.bsnr = bsnr
        self.subgroup = subgroup
        self.tss_acute = tss_acute
        self.services = services if services is not None else []
        self.contacts = contacts
        self.line = line
        self.quarter = quarter
        self.name = name
        self.first_name = first_name
        self.birth = birth
        self.payer = payer
        self.age = age

    @property
    def emergency(self) -> bool:
        """Organised emergency service (organisierter Not(-fall)dienst): record 0104, SUG 41, 44, 46."""
        return self.record_type == "0104" and self.subgroup in EMERGENCY_SUBGROUPS

    @property
    def lanr(self) -> str | None:
        """The doctor of the Schein: the LANR of its first service that names one."""
        for service in self.services:
            if service.lanr:
                return service.lanr
        return None

    @property
    def scheine(self) -> tuple[Case, ...]:
        """A Schein checked on its own is a Behandlungsfall of one Schein."""
        return (self,)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Case) and all(
            getattr(self, s) == getattr(other, s) for s in self.__slots__ if s != "line"
        )

    def __repr__(self) -> str:
        return f"Case({self.case_id} {self.record_type} sug={self.subgroup} {self.services} {self.contacts})"


def age_of(case: Case | TreatmentCase, first: dt.date | None = None) -> int | None:
    """The patient's age in completed years at the first contact of the quarter (EBM Allgemeine
    Bestimmung 4.3.5), from field 3103: a birth date JJJJMMTT, or the age the browser computed
    (``alter:N``). ``None`` when unknown (no or the placeholder birth date 00000000). Cached.
    ``first``: the case's first service date, when the caller knows it."""
    age = case.age
    if age is not None:
        return age
    birth = case.birth
    if not birth:
        return None
    if birth.startswith(b"alter:"):
        age = int(birth[6:]) if birth[6:].isdigit() else None
    elif len(birth) == 8 and birth.isdigit() and (first is not None or case.services):
        born = int(birth)  # JJJJMMTT
        if not (1 <= born // 100 % 100 <= 12 and 1 <= born % 100 <= 31):
            return None  # the placeholder 00000000, or an unknown day or month
        if first is None:
            first = min(service.date for service in case.services)
        # Completed years: (JJJJMMTT of the day − JJJJMMTT of the birth) // 10000.
        age = (first.year * 10000 + first.month * 100 + first.day - born) // 10000
        if age < 0:
            return None
    case.age = age
    return age


class TreatmentCase:
    """Behandlungsfall (§ 21 BMV-Ä) of several Scheine: the same patient, practice, quarter and payer.

    It looks like a :class:`Case` to the rules and reports (``case_id``, ``services``, ``lanr`` …);
    ``scheine`` are its Scheine in file order. A Behandlungsfall of one Schein is that Schein itself."""

    __slots__ = ("scheine", "_services", "contacts", "age")

    def __init__(self, scheine: list[Case], age: int | None = None):
        self.scheine = scheine
        self._services: list[Service] | None = None
        self.contacts: list[Contact] | None = None
        self.age = age if age is not None else next((s.age for s in scheine if s.age is not None), None)

    @property
    def services(self) -> list[Service]:
        """The services of all its Scheine, in file order."""
        if self._services is None:
            self._services = [service for schein in self.scheine for service in schein.services]
        return self._services

    @property
    def case_id(self) -> str:
        return " + ".join(schein.case_id for schein in self.scheine)

    @property
    def birth(self) -> bytes | None:
        return self.scheine[0].birth

    @property
    def record_type(self) -> str:
        return "/".join(dict.fromkeys(schein.record_type for schein in self.scheine))

    @property
    def subgroup(self) -> str | None:
        return self.scheine[0].subgroup

    @property
    def bsnr(self) -> str | None:
        return self.scheine[0].bsnr

    @property
    def quarter(self) -> Quarter | None:
        return self.scheine[0].quarter

    @property
    def line(self) -> int:
        return self.scheine[0].line

    @property
    def tss_acute(self) -> bool:
        return any(schein.tss_acute for schein in self.scheine)

    @property
    def emergency(self) -> bool:
        """Only organised emergency service: every Schein is one (4.3.1 Abs. 5 Nr. 6: "Behandlungsfälle
        mit ausschließlichen Leistungen im Rahmen der Versorgung im organisierten Not(-fall)dienst")."""
        return all(schein.emergency for schein in self.scheine)

    @property
    def lanr(self) -> str | None:
        for schein in self.scheine:
            lanr = schein.lanr
            if lanr:
                return lanr
        return None

    def __repr__(self) -> str:
        return f"TreatmentCase({self.scheine})"
