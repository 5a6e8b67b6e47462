"""Numbers shown to people, in German notation: ``5 020``, ``1.234,56 €``, ``8 %``, ``51,2``.

Machines (JSON, SVG attributes, CSV figures read by spreadsheets' parsers) keep the machine form;
these helpers are only for text a person reads. The thousands separator of counts is a no-break
space (DIN 5008 groups digits with spaces), money uses the dot as banks and the KBV do.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

NBSP = "\u00a0"


def count_text(value: int) -> str:
    """5020 → ``5 020`` (no-break space)."""
    return f"{value:,}".replace(",", NBSP)


def decimal_text(value: Decimal | float | str, places: int = 1) -> str:
    """51.23 → ``51,2``; thousands grouped with dots (1.234,5)."""
    amount = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{amount:,.{places}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def euro_text(value: Decimal | str) -> str:
    """1234.5 → ``1.234,50 €`` (a plain space before the sign, as the duty statements have always had)."""
    return f"{decimal_text(value, 2)} €"


def share_text(part: int, whole: int) -> str:
    """412 of 5020 → ``8 %``; a share that rounds to 0 but is not 0 → ``< 1 %``."""
    if not whole:
        return f"0{NBSP}%"
    percent = (Decimal(part) * 100 / whole).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if percent == 0 and part:
        return f"<{NBSP}1{NBSP}%"
    return f"{percent}{NBSP}%"


def percent_text(limit: str | Decimal | None) -> str:
    """A cap's limit (0.3) → ``30 %``; ``None`` (suspended) → ``ausgesetzt``."""
    if limit is None:
        return "ausgesetzt"
    return f"{decimal_text(Decimal(limit) * 100, 1).removesuffix(',0')}{NBSP}%"


def points_text(value: Decimal | str) -> str:
    """2948.4 → ``2.948,4``; whole numbers without decimals."""
    amount = Decimal(value)
    return decimal_text(amount, 0) if amount == amount.to_integral_value() else decimal_text(amount, 1)
