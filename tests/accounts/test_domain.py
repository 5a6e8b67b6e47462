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


@pytest.mark.parametrize(
    ("bsnr", "kv"),
    [
        ("271234500", "KV Nordrhein"),  # Bezirksstelle Köln, as in the KBV's sample files
        ("131234500", "KV Niedersachsen"),  # Bezirksstelle Osnabrück
        ("191234500", "KV Westfalen-Lippe"),  # Verwaltungsstelle Münster
        ("401234500", "KV Hessen"),  # Bezirksstelle Frankfurt
        ("481234500", "KV Rheinland-Pfalz"),  # Rheinhessen
        ("611234500", "KV Baden-Württemberg"),  # Nordwürttemberg
        ("641234500", "KV Bayerns"),  # Oberbayern
        ("801234500", "KV Brandenburg"),  # Cottbus
        ("861234500", "KV Sachsen-Anhalt"),  # Halle
        ("901234500", "KV Thüringen"),  # Gera
        ("951234500", "KV Sachsen"),  # Dresden
    ],
)
def test_real_bsnrs_begin_with_a_kv_district(bsnr, kv):
    assert parse_bsnr(bsnr).kv_name == kv


def test_every_kv_has_its_landesstelle_code_as_a_district():
    from sprechzimmer.accounts.domain import KV_CODE_BY_DISTRICT

    assert all(KV_CODE_BY_DISTRICT[code] == code for code in KV_BY_CODE)
    assert set(KV_CODE_BY_DISTRICT.values()) == set(KV_BY_CODE)
    for gap in ("04", "05", "22", "23", "26", "29", "30", "32", "36", "74", "77", "82", "84", "92", "97", "99"):
        assert gap not in KV_CODE_BY_DISTRICT


@pytest.mark.parametrize(
    ("bsnr", "reason"),
    [("991234567", "keine KV-Kennung"), ("221234567", "keine KV-Kennung"), ("5212345", "9 Ziffern"), ("", "9 Ziffern")],
)
def test_invalid_bsnr(bsnr, reason):
    with pytest.raises(IdentifierError) as info:
        parse_bsnr(bsnr)
    assert reason in info.value.message
