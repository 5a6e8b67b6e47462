"""The one formatter for numbers that people read: German conventions everywhere (page, PDF, mail).

1.234,56 € · 14,29 h · 8 % · 0,75 — thousands with a dot, decimals with a comma, a space before a
unit. Machine formats (CSV for software, JSON, SVG attributes, KVDT) never go through here.
"""

from __future__ import annotations

import datetime as _dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

NBSP = "\u00a0"  # keeps a number and its unit on one line


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def number(value: object, decimals: int | None = None, *, grouping: bool = True) -> str:
    """``value`` in German notation; ``decimals`` fixed places, a negative number at most that many
    without trailing zeros (like Django's floatformat "-2"), None as many as the value has. Anything
    that is not a number comes back as it is."""
    amount = _decimal(value)
    if amount is None:
        return "" if value is None else str(value)
    if decimals is not None and decimals < 0:
        amount = amount.quantize(Decimal(1).scaleb(decimals), rounding=ROUND_HALF_UP)
        decimals = None
    if decimals is not None:
        amount = amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    else:
        amount = amount.normalize()
    if amount.is_zero():
        amount = abs(amount)  # no "-0"
    spec = f"{',' if grouping else ''}.{decimals}f" if decimals is not None else f"{',' if grouping else ''}f"
    return format(amount, spec).replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def euro(value: object) -> str:
    """1.234,56 €"""
    return f"{number(value, 2)}{NBSP}€" if _decimal(value) is not None else ""


def hours(value: object, decimals: int = 2) -> str:
    """14,29 h (whole hours without decimals: 14 h)."""
    amount = _decimal(value)
    if amount is None:
        return ""
    return f"{number(amount, 0 if amount == amount.to_integral() else decimals)}{NBSP}h"


def percent(value: object, decimals: int | None = None) -> str:
    """A share given as a percentage number: 8 %, 30 %, 12,5 %."""
    return f"{number(value, decimals)}{NBSP}%" if _decimal(value) is not None else ""


def share(fraction: object, decimals: int | None = 0) -> str:
    """A share given as a fraction: 0.083 → 8 %."""
    amount = _decimal(fraction)
    return percent(amount * 100, decimals) if amount is not None else ""


MONTHS = (
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
)


def month(year: int, month_number: int) -> str:
    """ "November 2026" """
    return f"{MONTHS[month_number - 1]} {year}"


def date(day: object) -> str:
    """ "31.03.2027" (a date or datetime; anything else comes back as text). Without strftime,
    which builds a struct_time per call: the EBM check writes a date into most of its findings."""
    if isinstance(day, _dt.date):
        return f"{day.day:02d}.{day.month:02d}.{day.year}"
    return "" if day is None else str(day)


WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")


def long_date(day: object) -> str:
    """ "Montag, 30.11.2026" (a date or datetime; anything else comes back as text)."""
    weekday = getattr(day, "weekday", None)
    return f"{WEEKDAYS[weekday()]}, {date(day)}" if weekday else date(day)


def iban(value: object) -> str:
    """DE89 3704 0044 0532 0130 00: an IBAN as people read and type it (groups of four, DIN 5008);
    machine formats (SEPA XML, the e-invoice) keep the compact form."""
    compact = "".join(str(value or "").split()).upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
