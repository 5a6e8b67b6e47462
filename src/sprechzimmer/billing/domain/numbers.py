"""The billing report's words for numbers, all spelled by the one formatter (``core.formats``):
``5.020``, ``1.234,56 €``, ``8 %``, ``51,2``.

Machines (JSON, SVG attributes, CSV figures read by spreadsheets' parsers) keep the machine form;
these helpers are only for text a person reads. What is particular to the report lives here: a
share that rounds to nothing but is not nothing (``< 1 %``), a suspended cap (``ausgesetzt``),
points with a decimal only where the EBM gives one.
"""

from __future__ import annotations

from decimal import Decimal

from sprechzimmer.core.formats import NBSP, euro, number, percent, share


def count_text(value: int) -> str:
    """5020 → ``5.020``."""
    return number(value, 0)


def decimal_text(value: Decimal | float | str, places: int = 1) -> str:
    """51.23 → ``51,2``; thousands grouped with dots (1.234,5)."""
    return number(value, places)


def euro_text(value: Decimal | str) -> str:
    """1234.5 → ``1.234,50 €``."""
    return euro(value)


def share_text(part: int, whole: int) -> str:
    """412 of 5020 → ``8 %``; a share that rounds to 0 but is not 0 → ``< 1 %``."""
    if not whole:
        return percent(0)
    text = share(Decimal(part) / whole, 0)
    if part and text == percent(0):
        return f"<{NBSP}1{NBSP}%"
    return text


def percent_text(limit: str | Decimal | None) -> str:
    """A cap's limit (0.3) → ``30 %``, (0.125) → ``12,5 %``; ``None`` (suspended) → ``ausgesetzt``."""
    if limit is None:
        return "ausgesetzt"
    return percent(Decimal(limit) * 100, -1)


def points_text(value: Decimal | str) -> str:
    """2948.4 → ``2.948,4``; whole numbers without decimals."""
    amount = Decimal(value)
    return number(amount, 0 if amount == amount.to_integral_value() else 1)
