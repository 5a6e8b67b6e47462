"""BSNR, KV codes and the LANR check digit (shared/domain/kvdt-lanr-bsnr.md): no database."""

import pytest

from sprechzimmer.accounts.domain import KV_BY_CODE, IdentifierError, lanr_check_digit, parse_bsnr, parse_lanr


@pytest.mark.parametrize("lanr", ["838382202", "123456640", "123456641"])
def test_documented_lanrs_are_valid(lanr):
    assert parse_lanr(lanr).value == lanr


def test_check_digit_of_the_kbv_example():
    assert lanr_check_digit("838382") == 2  # 32+27+32+27+32+18 = 168


@pytest.mark.parametrize(
    ("lanr", "reason"),
    [
        ("838382302", "Prüfziffer"),
        ("83838220", "9 Ziffern"),
        ("83838220a", "9 Ziffern"),
        ("555555101", "555555"),
        ("999999900", "Platzhalter"),
        ("888888800", "Platzhalter"),
    ],
)
def test_invalid_lanrs_are_refused_with_a_german_reason(lanr, reason):
    with pytest.raises(IdentifierError) as info:
        parse_lanr(lanr)
    assert reason in info.value.message


def test_there_are_seventeen_kvs():
    assert len(KV_BY_CODE) == 17


def test_bsnr_names_its_kv():
    assert parse_bsnr("52 1234500").kv_name == "KV Baden-Württemberg"
    assert parse_bsnr("381234567").kv_name == "KV Nordrhein"


@pytest.mark.parametrize(("bsnr", "reason"), [("991234567", "keine KV-Kennung"), ("5212345", "9 Ziffern"), ("", "9 Ziffern")])
def test_invalid_bsnr(bsnr, reason):
    with pytest.raises(IdentifierError) as info:
        parse_bsnr(bsnr)
    assert reason in info.value.message
