"""Access codes and their validity window, without a database."""

from datetime import datetime, timedelta

from sprechzimmer.video.domain import (
    BERLIN,
    CODE_ALPHABET,
    CODE_BITS,
    code_digest,
    code_window,
    expected_years_to_guess,
    guesses_per_address_per_day,
    new_access_code,
    normalise_code,
)


def test_codes_have_at_least_40_bits_and_no_lookalikes():
    assert CODE_BITS >= 45
    assert not set("0O1IL2Z5S8BG") & set(CODE_ALPHABET)
    codes = {new_access_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 11 and c[5] == "-" for c in codes)


def test_typed_codes_are_normalised():
    code = new_access_code()
    assert normalise_code(code.lower().replace("-", " ")) == code.replace("-", "")
    assert normalise_code("ACDEF-3467") is None
    assert normalise_code("ACDEF-3467!") is None
    assert normalise_code("acdef-g4679") == "ACDEF64679"


def test_digest_depends_on_the_server_secret():
    assert code_digest("ACDEF34679", "a") != code_digest("ACDEF34679", "b")


def test_window_opens_30_minutes_before_and_closes_at_midnight_berlin():
    start = datetime(2026, 3, 29, 23, 30, tzinfo=BERLIN)  # the night of the DST change
    opens, closes = code_window(start)
    assert opens == start - timedelta(minutes=30)
    assert closes == datetime(2026, 3, 30, 0, 0, tzinfo=BERLIN)


def test_guessing_takes_years_at_the_default_limits():
    # 10 000 codes valid at once across the instance, 300 guesses a minute overall.
    # The table of docs/signalling.md: years even for a botnet against a busy instance.
    assert guesses_per_address_per_day() == 110
    assert expected_years_to_guess(1_000, 1_000) > 1_000
    assert expected_years_to_guess(10_000, 10_000) > 10
    assert expected_years_to_guess(10_000, 100_000) > 1
