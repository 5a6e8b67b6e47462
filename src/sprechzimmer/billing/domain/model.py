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

#: Scheinuntergruppen of record 0104 that mean organised emergency service (Notfalldienst).
EMERGENCY_SUBGROUPS = frozenset({"41", "42", "43", "45"})


@dataclass(frozen=True, order=True, slots=True)
class Quarter:
    """Quartal. Ordered by time; ``str`` is the German form ``3/2024``."""

    year: int
    number: int

    def __post_init__(self):
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

    def __init__(self, gop: str, date: dt.date, visit: int, time: str | None = None, multiplier: int = 1,
                 lanr: str | None = None, bsnr: str | None = None):
        self.gop = gop
        self.date = date
        self.visit = visit
        self.time = time
        self.multiplier = multiplier
        self.lanr = lanr
        self.bsnr = bsnr

    def __eq__(self, other):
        return isinstance(other, Service) and all(getattr(self, s) == getattr(other, s) for s in self.__slots__)

    def __repr__(self):
        return f"Service({self.gop} {self.date} visit={self.visit} t={self.time} x{self.multiplier} {self.lanr})"


class Contact:
    """Arzt-Patienten-Kontakt: one visit of a kind (personal, video, telephone, indirect)."""

    __slots__ = ("date", "time", "kind", "visit")

    def __init__(self, date: dt.date, kind: str, visit: int, time: str | None = None):
        self.date = date
        self.kind = kind
        self.visit = visit
        self.time = time

    def __eq__(self, other):
        return isinstance(other, Contact) and (self.date, self.kind, self.visit, self.time) == (
            other.date, other.kind, other.visit, other.time)

    def __repr__(self):
        return f"Contact({self.date} {self.kind} visit={self.visit} t={self.time})"


class Case:
    """Behandlungsfall: one patient, one practice, one quarter.

    ``contacts`` is ``None`` when the input did not state them (KVDT); the rules then infer them
    from the services (docs/ebm.md, "Contact inference")."""

    __slots__ = ("case_id", "record_type", "bsnr", "subgroup", "tss_acute", "services", "contacts", "line")

    def __init__(self, case_id: str, record_type: str = "0101", bsnr: str | None = None, subgroup: str | None = None,
                 tss_acute: bool = False, services: list[Service] | None = None,
                 contacts: list[Contact] | None = None, line: int = 0):
        self.case_id = case_id
        self.record_type = record_type
        self.bsnr = bsnr
        self.subgroup = subgroup
        self.tss_acute = tss_acute
        self.services = services if services is not None else []
        self.contacts = contacts
        self.line = line

    @property
    def emergency(self) -> bool:
        """Organised emergency service (organisierter Not(-fall)dienst): record 0104, SUG 41–43/45."""
        return self.record_type == "0104" and self.subgroup in EMERGENCY_SUBGROUPS

    @property
    def lanr(self) -> str | None:
        """The doctor of the case: the LANR of its first service that names one."""
        for service in self.services:
            if service.lanr:
                return service.lanr
        return None

    def __eq__(self, other):
        return isinstance(other, Case) and all(
            getattr(self, s) == getattr(other, s) for s in self.__slots__ if s != "line")

    def __repr__(self):
        return f"Case({self.case_id} {self.record_type} sug={self.subgroup} {self.services} {self.contacts})"
