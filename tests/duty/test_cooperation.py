"""K-Arzt application rules with their boundaries, LANR with K status, notice end dates (issue 6)."""

import datetime as dt
import random
from decimal import Decimal

import pytest

from sprechzimmer.accounts.domain import parse_lanr
from sprechzimmer.duty.domain.cooperation import (
    Application,
    Certificate,
    LanrError,
    k_status_lanr,
    locked_devices,
    missing_documents,
    months_before,
    new_lanr,
    notice_end,
)

ON = dt.date(2026, 11, 23)
FRESH = Certificate(dt.date(2026, 10, 1), certified_copy=True)


def complete(**changes) -> Application:
    fields = dict(
        birth_date=dt.date(1980, 5, 4),
        measles_proof=True,
        approbation=FRESH,
        specialist=FRESH,
        police=Certificate(dt.date(2026, 10, 1), original=True, kind="N"),
        liability_personal=Decimal(3_000_000),
        liability_property=Decimal(5_000_000),
        declaration=True,
        questionnaire=True,
        agreement_copies_received=2,
    )
    return Application(**(fields | changes))


def missing(app, on=ON):
    return [m.anlage for m in missing_documents(app, on)]


def test_a_complete_application_misses_nothing():
    assert missing_documents(complete(), ON) == []


def test_measles_proof_from_birth_year_1971():
    assert missing(complete(birth_date=dt.date(1970, 12, 31), measles_proof=False)) == []
    assert missing(complete(birth_date=dt.date(1971, 1, 1), measles_proof=False)) == ["measles"]
    message = missing_documents(complete(birth_date=dt.date(1971, 1, 1), measles_proof=False), ON)[0].message
    assert "ab 1971" in message


@pytest.mark.parametrize(
    "on, limit",
    [
        (dt.date(2026, 11, 23), dt.date(2026, 5, 23)),
        (dt.date(2026, 8, 31), dt.date(2026, 2, 28)),  # no 31 February
        (dt.date(2028, 8, 31), dt.date(2028, 2, 29)),
    ],
)  # leap year
def test_certificates_not_older_than_six_months(on, limit):
    assert months_before(on, 6) == limit
    today = dict(
        approbation=Certificate(on, certified_copy=True),
        specialist=Certificate(on, certified_copy=True),
        police=Certificate(on, original=True, kind="N"),
    )
    for anlage in ("approbation", "specialist"):
        ok = complete(**(today | {anlage: Certificate(limit, certified_copy=True)}))
        old = complete(**(today | {anlage: Certificate(limit - dt.timedelta(days=1), certified_copy=True)}))
        assert missing(ok, on) == [] and missing(old, on) == [anlage]
    police_old = complete(
        police=Certificate(limit - dt.timedelta(days=1), original=True, kind="N"),
        approbation=Certificate(on, certified_copy=True),
        specialist=Certificate(on, certified_copy=True),
    )
    assert missing(police_old, on) == ["police"]


def test_certified_copies_and_the_police_certificate_type_n_in_the_original():
    assert missing(complete(approbation=Certificate(dt.date(2026, 10, 1)))) == ["approbation"]  # a plain copy
    assert missing(complete(police=Certificate(dt.date(2026, 10, 1), original=True, kind="O"))) == ["police"]
    assert missing(complete(police=Certificate(dt.date(2026, 10, 1), original=False, kind="N"))) == ["police"]
    assert missing(complete(approbation=None, police=None)) == ["approbation", "police"]


def test_without_specialist_the_last_training_year_or_two_clinical_years():
    assert missing(complete(specialist=None)) == ["specialist"]
    assert missing(complete(specialist=None, last_training_year=True)) == []
    assert missing(complete(specialist=None, clinical_months=24)) == []
    assert missing(complete(specialist=None, clinical_months=23)) == ["specialist"]
    assert "§ 4 Abs. 7 Satz 2 NFD-O" in missing_documents(complete(specialist=None), ON)[0].message


def test_liability_of_three_million_for_personal_and_property_damage():
    assert missing(complete(liability_personal=Decimal(2_999_999))) == ["liability"]
    assert missing(complete(liability_property=Decimal(2_999_999))) == ["liability"]
    assert missing(complete(liability_personal=Decimal(3_000_000), liability_property=Decimal(3_000_000))) == []
    assert missing(complete(liability_property=None)) == ["liability"]
    assert missing(complete(liability_personal=None)) == ["liability"]


def test_agreement_in_two_original_copies_by_post():
    assert missing(complete(agreement_copies_received=1)) == ["agreement"]
    assert "zweifacher Ausfertigung" in missing_documents(complete(agreement_copies_received=0), ON)[0].message


def test_everything_missing_is_listed_in_anlage_order():
    empty = Application(birth_date=dt.date(1990, 1, 1))
    assert missing(empty) == [
        "measles",
        "approbation",
        "specialist",
        "police",
        "liability",
        "declaration",
        "questionnaire",
        "agreement",
    ]
    assert all(m.title.startswith("Anlage") for m in missing_documents(empty, ON))


def test_former_pool_doctors_send_the_agreement_and_what_changed():
    pool = Application(birth_date=dt.date(1990, 1, 1), former_pool_doctor=True)
    assert missing(pool) == ["agreement"]
    assert missing(
        Application(
            birth_date=dt.date(1990, 1, 1),
            former_pool_doctor=True,
            changed_since_pool=frozenset({"liability"}),
            agreement_copies_received=2,
        )
    ) == ["liability"]


def test_devices_without_qualification_proof_stay_locked():
    app = complete(device_proofs=frozenset({"Ultraschallgerät"}))
    assert locked_devices(app, ["Ultraschallgerät", "Endoskopieeinheit"]) == ["Endoskopieeinheit"]
    assert missing(app) == []  # the proofs are optional


def test_lanr_with_k_status_keeps_digits_one_to_seven():
    assert k_status_lanr("838382202") == "838382297"
    assert k_status_lanr("838382202", "85") == "838382285"
    with pytest.raises(LanrError, match="Prüfziffer"):
        k_status_lanr("838382302")
    with pytest.raises(LanrError):
        k_status_lanr("83838220")


def test_new_lanr_is_unique_and_has_a_valid_check_digit():
    rng = random.Random(5)
    taken: set[str] = set()
    for _ in range(200):
        lanr = new_lanr(lambda doctor: doctor in taken, rng=rng)
        assert lanr[:6] not in taken and lanr.endswith("97")
        assert parse_lanr(lanr).doctor_id == lanr[:6]  # passes the KBV check digit
        taken.add(lanr[:6])
    # Collisions are skipped: a generator that repeats itself still yields a free number.
    first = new_lanr(lambda d: False, rng=random.Random(1))
    again = new_lanr(lambda d: d == first[:6], rng=random.Random(1))
    assert again[:6] != first[:6]


@pytest.mark.parametrize(
    "received, end",
    [
        (dt.date(2026, 1, 15), dt.date(2026, 2, 28)),
        (dt.date(2026, 1, 17), dt.date(2026, 2, 28)),  # exactly six weeks before the month end
        (dt.date(2026, 1, 18), dt.date(2026, 3, 31)),  # one day late: a month later
        (dt.date(2028, 1, 18), dt.date(2028, 2, 29)),  # leap year: 29 February is six weeks away
        (dt.date(2028, 1, 19), dt.date(2028, 3, 31)),
        (dt.date(2026, 11, 19), dt.date(2026, 12, 31)),
        (dt.date(2026, 11, 20), dt.date(2027, 1, 31)),  # across the year end
    ],
)
def test_notice_six_weeks_to_the_end_of_a_month(received, end):
    assert notice_end(received) == end
