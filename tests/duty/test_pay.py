"""K-Arzt pay (issue 6): monthly statement and half-year bonus in exact Decimal, dated terms, and
the pseudo billing case through the KVDT reader and the billing engine."""

import datetime as dt
import io
import re
from decimal import Decimal

import pytest

from sprechzimmer.billing.domain.catalogue import DEFAULT_GOP_FILE, Catalogue
from sprechzimmer.billing.domain.kvdt import KvdtReader, write_kvdt
from sprechzimmer.billing.domain.model import Case, Quarter, Service
from sprechzimmer.billing.domain.rulesets import RuleBook
from sprechzimmer.billing.domain.run import CheckRun
from sprechzimmer.core import formats
from sprechzimmer.duty.domain.calendar import BERLIN
from sprechzimmer.duty.domain.pay import (
    TERMS,
    MissedDuty,
    ServedDuty,
    Terms,
    bonus_quarters,
    ebm_revenue,
    half_year_bonus,
    monthly_statement,
    pay_date,
    pseudo_case_fields,
    revenue_by_lanr,
    write_pseudo_cases,
)

LANR = "838382297"


def duty(day, hour, hours, kind="Sitzdienst"):
    return ServedDuty(dt.datetime(*day, hour, tzinfo=BERLIN), kind, "Notfallpraxis Mitte", Decimal(hours))


def test_monthly_statement_pays_planned_hours_at_50_euros():
    duties = [duty((2026, 10, 5), 18, 14), duty((2026, 10, 24), 8, 25), duty((2026, 10, 30), 16, 16, "Fahrdienst")]
    statement = monthly_statement(2026, 10, duties)
    assert [line.amount for line in statement.lines] == [Decimal("700.00"), Decimal("1250.00"), Decimal("800.00")]
    assert statement.hours == 55 and statement.gross == Decimal("2750.00")
    assert statement.deductions == 0 and statement.payout == Decimal("2750.00")
    assert statement.pay_date == dt.date(2026, 11, 15)
    assert "vorsorglich" in statement.note


def test_a_missed_duty_without_substitute_costs_1000_euros():
    statement = monthly_statement(2026, 12, [duty((2026, 12, 1), 18, 14)], [MissedDuty(dt.date(2026, 12, 24), "Mitte")])
    assert (statement.gross, statement.deductions, statement.payout) == (
        Decimal("700.00"),
        Decimal("1000.00"),
        Decimal("-300.00"),
    )
    assert statement.pay_date == dt.date(2027, 1, 15)  # December → 15 January


def test_a_later_change_of_the_rate_does_not_rewrite_past_statements():
    history = TERMS + (Terms(dt.date(2027, 1, 1), hourly_rate=Decimal(55)),)
    december = monthly_statement(2026, 12, [duty((2026, 12, 31), 8, 24)], history=history)
    january = monthly_statement(2027, 1, [duty((2027, 1, 1), 8, 24)], history=history)
    assert december.gross == Decimal("1200.00") and january.gross == Decimal("1320.00")
    with pytest.raises(ValueError, match="nicht in diese Abrechnung"):
        monthly_statement(2026, 11, [duty((2026, 12, 1), 18, 14)])


@pytest.mark.parametrize(
    "revenue, hourly, bonus",
    [
        ("10000.00", "6000.00", "2000.00"),  # positive
        ("6000.00", "6000.00", "0.00"),  # zero
        ("4000.00", "6000.00", "0.00"),  # negative: no bonus, nothing owed
        ("1000.01", "0.00", "500.01"),  # half a cent rounds up
    ],
)
def test_half_year_bonus(revenue, hourly, bonus):
    statement = half_year_bonus(2027, 5, Decimal(revenue), Decimal(hourly))
    assert statement.bonus == Decimal(bonus)
    assert statement.quarters == (Quarter(2026, 3), Quarter(2026, 4))
    assert ("kein Bonus" in statement.explanation) == (Decimal(bonus) == 0)
    # The explanation is shown to people: German figures (it read "10000.00 €" before).
    assert formats.euro(Decimal(revenue)) in statement.explanation
    assert formats.euro(Decimal(hourly)) in statement.explanation and not re.search(
        r"\d\.\d\d\b", statement.explanation
    )


def test_bonus_months():
    assert bonus_quarters(2027, 11) == (Quarter(2027, 1), Quarter(2027, 2))
    with pytest.raises(ValueError):
        bonus_quarters(2027, 6)
    assert pay_date(2026, 1) == dt.date(2026, 2, 15)


def test_pseudo_case_round_trip_and_the_revenue_under_the_doctors_lanr():
    starts = [dt.datetime(2026, 10, 5, 18, tzinfo=BERLIN), dt.datetime(2026, 10, 24, 8, tzinfo=BERLIN)]
    out = io.BytesIO()
    write_pseudo_cases([(start, LANR) for start in starts], Quarter(2026, 4), "529999900", out)
    data = out.getvalue()
    text = data.decode("iso8859_15")
    for value in (
        "Organisierter",
        "Notfalldienst Arzt 1",
        "Notfalldienst Arzt 2",
        "Notfallstr. 1",
        "12345",
        "Notfallstadt",
        "108018007",
        "Z02",
        "99999",
    ):
        assert value in text
    reader = KvdtReader(io.BytesIO(data))
    cases = list(reader)
    assert reader.quarter == Quarter(2026, 4) and reader.records["adt0"] == 1  # 9204 in adt0
    assert [c.birth for c in cases] == [b"20200101"] * 2  # 3103 as JJJJMMTT (Feldtyp n, Regel 021)
    # Every unbedingte Muss field (M) of Satzart 0104 (KVDT Datensatzbeschreibung v6.02, 3.4.6), plus the
    # conditional ones a Schein without eGK needs: 5098/5099 (Regel 859/837), 6001 + 6003, 3112.
    muss_0104 = {
        "8000",
        "3101",
        "3102",
        "3103",
        "3108",
        "3110",
        "4101",
        "4104",
        "4106",
        "4111",
        "4131",
        "4132",
        "4121",
        "4122",
        "4239",
        "4243",
        "5000",
        "5001",
        "5098",
        "5099",
        "6001",
        "6003",
        "3112",
    }
    scheine = text.split("0138000")[4:6]  # con0, besa, adt0 come first
    for schein in scheine:
        fields = {line[3:7] for line in schein.split("\r\n")[1:] if line}
        assert muss_0104 - {"8000"} <= fields, muss_0104 - fields
        assert "0104" in schein.split("\r\n")[0]
    assert [(c.record_type, c.subgroup, c.emergency, c.lanr) for c in cases] == [("0104", "41", True, LANR)] * 2
    assert [(s.gop, s.date, s.time) for c in cases for s in c.services] == [
        ("99999", dt.date(2026, 10, 5), "18:00"),
        ("99999", dt.date(2026, 10, 24), "08:00"),
    ]
    assert pseudo_case_fields(3)["3101"] == "Notfalldienst Arzt 3"

    # Revenue: a real emergency case of the doctor counts, the pseudo cases add nothing, another
    # doctor's case is not theirs.
    real = Case("P1", "0104", subgroup="41", services=[Service("01210", dt.date(2026, 10, 5), 0, lanr=LANR)])
    other = Case("P2", "0104", subgroup="41", services=[Service("01212", dt.date(2026, 10, 6), 0, lanr="123456697")])
    # A case two doctors served: each gets the points of their own services.
    shared = Case(
        "P3",
        "0104",
        subgroup="41",
        services=[
            Service("01210", dt.date(2026, 10, 7), 1, lanr="123456697"),
            Service("01418", dt.date(2026, 10, 7), 1, lanr=LANR),
            Service("01214", dt.date(2026, 10, 8), 2, lanr=LANR),
        ],
    )
    out = io.BytesIO()
    write_kvdt(cases + [real, other, shared], Quarter(2026, 4), "529999900", out)
    catalogue = Catalogue.load(DEFAULT_GOP_FILE)
    run = CheckRun(io.BytesIO(out.getvalue()), rulebook=RuleBook.load(), catalogue=catalogue)
    results = list(run.results())
    ov = RuleBook.load().orientation_value(2026)
    points = {code: catalogue.gops[code].points for code in ("01210", "01212", "01214", "01418")}
    assert (points["01210"], points["01418"], points["01214"]) == (120, 778, 50)  # none counts as 0 any more
    mine = points["01210"] + points["01418"] + points["01214"]
    assert ebm_revenue(results, LANR, ov) == (Decimal(mine) * ov / 100).quantize(Decimal("0.01"))
    assert revenue_by_lanr(results, ov)["123456697"][:2] == (2, (points["01212"] + points["01210"]) * 100)
    assert revenue_by_lanr(results, ov)[LANR][0] == 4  # two pseudo cases, P1, P3
    assert ebm_revenue(results, "000000000", ov) == 0
