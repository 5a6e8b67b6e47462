"""Money is Decimal, rounded half up to the cent where an amount is final (pretix's habit)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def round_to(value: Decimal | int, places: Decimal = CENT) -> Decimal:
    """``value`` rounded half up to ``places`` (default: the cent)."""
    return Decimal(value).quantize(places, rounding=ROUND_HALF_UP)


def cents(value: Decimal | int) -> Decimal:
    return round_to(value, CENT)
