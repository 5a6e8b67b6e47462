"""The one formatter for numbers people read (German), and money rounding."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from sprechzimmer.core import formats, money

NBSP = "\u00a0"


def test_german_notation():
    assert formats.euro(Decimal("1234.56")) == f"1.234,56{NBSP}€"
    assert formats.euro(1200) == f"1.200,00{NBSP}€"
    assert formats.hours(Decimal("14.2857")) == f"14,29{NBSP}h"
    assert formats.hours(Decimal("25")) == f"25{NBSP}h"
    assert formats.number(Decimal("0.75")) == "0,75"
    assert formats.number(3.07, 2) == "3,07"
    assert formats.percent(30) == f"30{NBSP}%" and formats.share(Decimal("0.0834")) == f"8{NBSP}%"
    assert formats.number(Decimal("-0.001"), 2) == "0,00"  # never "-0,00"
    assert formats.number(Decimal("51.2"), grouping=False) == "51,2"
    assert formats.number("kein Wert") == "kein Wert" and formats.euro(None) == ""


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False, allow_infinity=False))
def test_a_formatted_amount_reads_back_as_the_rounded_amount(value):
    text = formats.number(value, 2)
    assert "." not in text.split(",")[-1]  # no dot among the decimals
    assert Decimal(text.replace(".", "").replace(",", ".")) == money.cents(value)


def test_cents_round_half_up():
    assert money.cents(Decimal("0.005")) == Decimal("0.01")
    assert money.cents(Decimal("2.675")) == Decimal("2.68")
    assert money.cents(Decimal("-0.005")) == Decimal("-0.01")
