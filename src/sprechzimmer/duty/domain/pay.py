"""Pay of K-Ärzte: monthly statement, half-year bonus, pseudo billing case. Pure Python; seed 004.

- 50 € gross per hour of the duty plan (decided by the Vertreterversammlung on 6 March 2024), paid
  on the 15th for the previous month; the KVBW withholds social security contributions and, where
  due, wage tax as a precaution (the statement says so; it computes gross amounts only).
- A missed duty without a substitute costs a flat 1 000 € (pauschalierter Aufwendungsersatz).
- Bonus = 50 % × (EBM revenue of the doctor's duty cases − hourly pay of the same half-year), none
  when negative; paid in May for Q3+Q4 of the previous year, in November for Q1+Q2.
- The figures are ``Terms`` with a validity date, so a later change does not rewrite past
  statements: each duty is paid with the terms in force on its day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO, Protocol

from sprechzimmer.billing.domain.kvdt import write_kvdt
from sprechzimmer.billing.domain.model import Case, Quarter, Service
from sprechzimmer.core.formats import euro, share
from sprechzimmer.core.money import cents

PAY_DAY = 15


@dataclass(frozen=True)
class Terms:
    valid_from: dt.date
    hourly_rate: Decimal = Decimal(50)
    missed_duty_fee: Decimal = Decimal(1000)
    bonus_share: Decimal = Decimal("0.5")
    notice_weeks: int = 6


#: The terms in force since the decision of 6 March 2024 (seed 004). A new decision is a new entry.
TERMS = (Terms(dt.date(2024, 3, 6)),)


def terms_on(day: dt.date, history: Iterable[Terms] = TERMS) -> Terms:
    """The terms in force on ``day``: the latest that started on or before it (the earliest ones
    for days before any decision, so old duties are never unpaid)."""
    history = sorted(history, key=lambda t: t.valid_from)
    if not history:
        raise ValueError("Es sind keine Vergütungssätze hinterlegt.")
    valid = [t for t in history if t.valid_from <= day]
    return valid[-1] if valid else history[0]


@dataclass(frozen=True)
class ServedDuty:
    start: dt.datetime  # aware
    duty_type: str  # "Sitzdienst", "Fahrdienst"
    place: str
    hours: Decimal  # planned hours (23/25 on the DST days)


@dataclass(frozen=True)
class MissedDuty:
    day: dt.date
    place: str


@dataclass(frozen=True)
class PayLine:
    duty: ServedDuty
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True)
class MonthlyStatement:
    year: int
    month: int
    lines: list[PayLine]
    missed: list[tuple[MissedDuty, Decimal]]
    gross: Decimal
    deductions: Decimal
    payout: Decimal  # negative: the doctor owes the KV the difference
    pay_date: dt.date
    note: str = (
        "Von der Bruttovergütung werden vorsorglich Sozialversicherungsbeiträge und ggf. Lohnsteuer "
        "einbehalten und abgeführt."
    )

    @property
    def hours(self) -> Decimal:
        return sum((line.duty.hours for line in self.lines), Decimal(0))


def pay_date(year: int, month: int) -> dt.date:
    """The 15th of the month after the one served."""
    return dt.date(year + month // 12, month % 12 + 1, PAY_DAY)


def monthly_statement(
    year: int,
    month: int,
    duties: Iterable[ServedDuty],
    missed: Iterable[MissedDuty] = (),
    history: Iterable[Terms] = TERMS,
) -> MonthlyStatement:
    """The statement for the duties that started in ``month``; each at the rate of its day."""
    history = tuple(history)
    lines = []
    for duty in sorted(duties, key=lambda d: d.start):
        day = duty.start.date()
        if (day.year, day.month) != (year, month):
            raise ValueError(f"Der Dienst vom {day:%d.%m.%Y} gehört nicht in diese Abrechnung.")
        rate = terms_on(day, history).hourly_rate
        lines.append(PayLine(duty, rate, cents(duty.hours * rate)))
    fees = [(m, terms_on(m.day, history).missed_duty_fee) for m in sorted(missed, key=lambda m: m.day)]
    gross = sum((line.amount for line in lines), Decimal(0))
    deductions = sum((fee for _, fee in fees), Decimal(0))
    return MonthlyStatement(
        year, month, lines, fees, cents(gross), cents(deductions), cents(gross - deductions), pay_date(year, month)
    )


# --- half-year bonus -----------------------------------------------------------------------------


def bonus_quarters(payout_year: int, payout_month: int) -> tuple[Quarter, Quarter]:
    """May: Q3 and Q4 of the previous year; November: Q1 and Q2 of the same year."""
    if payout_month == 5:
        return Quarter(payout_year - 1, 3), Quarter(payout_year - 1, 4)
    if payout_month == 11:
        return Quarter(payout_year, 1), Quarter(payout_year, 2)
    raise ValueError("Der Bonus wird im Mai und im November ausgezahlt.")


def quarter_range(quarter: Quarter) -> tuple[dt.date, dt.date]:
    first = dt.date(quarter.year, 3 * quarter.number - 2, 1)
    after = dt.date(quarter.year + (quarter.number == 4), 1 if quarter.number == 4 else 3 * quarter.number + 1, 1)
    return first, after - dt.timedelta(days=1)


@dataclass(frozen=True)
class BonusStatement:
    payout_year: int
    payout_month: int
    quarters: tuple[Quarter, Quarter]
    revenue: Decimal  # EBM revenue of the duty cases under the doctor's LANR
    hourly_pay: Decimal  # hourly pay for the duties of the same half-year
    share: Decimal
    difference: Decimal
    bonus: Decimal  # never negative

    @property
    def explanation(self) -> str:
        """The calculation in words, figures in German (it is shown on the page and in the PDF)."""
        revenue, hourly, difference = euro(self.revenue), euro(self.hourly_pay), euro(self.difference)
        if self.difference <= 0:
            return f"EBM-Umsatz {revenue} − Stundenvergütung {hourly} = {difference}: kein Bonus."
        rate = share(self.share)
        return (
            f"{rate} × (EBM-Umsatz {revenue} − Stundenvergütung {hourly}) = {rate} × {difference} = {euro(self.bonus)}"
        )


def half_year_bonus(
    payout_year: int, payout_month: int, revenue: Decimal, hourly_pay: Decimal, history: Iterable[Terms] = TERMS
) -> BonusStatement:
    quarters = bonus_quarters(payout_year, payout_month)
    share = terms_on(quarter_range(quarters[1])[1], history).bonus_share
    difference = cents(revenue - hourly_pay)
    bonus = cents(share * difference) if difference > 0 else Decimal("0.00")
    return BonusStatement(
        payout_year, payout_month, quarters, cents(revenue), cents(hourly_pay), share, difference, bonus
    )


#: A checked service line of the billing engine (``rules.CaseResult.lines``): GOP, date, billed code,
#: factor in percent, points × 100 (None when not priced), LANR of the doctor who served (or None).
ServiceLine = tuple[str, dt.date, str, int, int | None, str | None]


class CheckedCase(Protocol):
    """What pay needs of a checked Behandlungsfall of the billing engine."""

    @property
    def lines(self) -> Sequence[ServiceLine]: ...


def revenue_by_lanr(
    results: Iterable[CheckedCase], orientation_value_ct: Decimal
) -> dict[str, tuple[int, int, Decimal]]:
    """Per doctor of a Notfallpraxis file: (cases, points × 100, euros), from the billing engine's
    checked Behandlungsfälle, **per service line**: each line counts for the LANR that performed it
    (field 5099), so a case several doctors served pays each for their own services; a case counts
    for every doctor with a line in it. Euros = points × Orientierungswert, rounded once per doctor."""
    totals: dict[str, list[int]] = {}
    for result in results:
        seen: set[str] = set()
        for line in result.lines:
            lanr, points = line[5], line[4]
            if not lanr:
                continue
            entry = totals.setdefault(lanr, [0, 0])
            if lanr not in seen:
                seen.add(lanr)
                entry[0] += 1
            if points:
                entry[1] += points
    return {
        lanr: (cases, points, cents(Decimal(points) * orientation_value_ct / 10000))
        for lanr, (cases, points) in totals.items()
    }


def ebm_revenue(results: Iterable[CheckedCase], lanr: str, orientation_value_ct: Decimal) -> Decimal:
    """EBM revenue of the cases whose doctor is ``lanr``."""
    return revenue_by_lanr(results, orientation_value_ct).get(lanr, (0, 0, Decimal("0.00")))[2]


# --- pseudo billing case -------------------------------------------------------------------------

PSEUDO_GOP = "99999"
PSEUDO_ICD = "Z02"
AOK_BW_IK = "108018007"  # Kostenträger AOK Baden-Württemberg (Institutionskennzeichen)
EMERGENCY_SUBGROUP = "41"  # Scheinuntergruppe: ärztlicher Notfalldienst
#: Abrechnungs-VKNR (field 4104, Muss, format nnmmm) of the AOK Baden-Württemberg. NOT FROM A
#: SOURCE: the KV's Kostenträgerstammdatei (SDKT) names it; this placeholder must be confirmed with
#: the KV (docs/k-aerzte.md).
PSEUDO_VKNR = "52101"


def pseudo_case_fields(number: int) -> dict[str, str]:
    """The pseudo patient, exactly as the seed specifies (first name "Organisierter", surname
    "Notfalldienst Arzt <n>", Notfallstr. 1, 12345 Notfallstadt, born 01.01.2020, AOK BW), and the
    other Muss fields of a Schein 0104 (KVDT Datensatzbeschreibung v6.02, Satztabelle 0104), in the
    order of that table."""
    return {
        "3101": f"Notfalldienst Arzt {number}",
        "3102": "Organisierter",
        "3103": "20200101",
        "3107": "Notfallstr. 1",
        "3112": "12345",
        "3114": "D",
        "3113": "Notfallstadt",
        "3108": "1",
        "3110": "U",
        "4104": PSEUDO_VKNR,
        "4106": "00",
        "4111": AOK_BW_IK,
        "4131": "00",
        "4132": "00",
        "4121": "0",
        "4122": "00",
        "4243": "unbekannt",
        "6001": PSEUDO_ICD,
        "6003": "G",
    }


def pseudo_case(number: int, start: dt.datetime, lanr: str, bsnr: str | None = None) -> Case:
    """A duty without GKV patients: record 0104 (emergency service), SUG 41, pseudo-GOP 99999 on the
    duty's day with the time the duty started (local time, Europe/Berlin), under the serving
    doctor's LANR and the Notfallpraxis's BSNR (fields 5099 and 5098, one of each is Muss)."""
    service = Service(PSEUDO_GOP, start.date(), 1, time=start.strftime("%H:%M"), lanr=lanr, bsnr=bsnr)
    return Case(
        f"ND{start:%Y%m%d%H%M}-{number}",
        "0104",
        subgroup=EMERGENCY_SUBGROUP,
        services=[service],
        quarter=Quarter.of(start.date()),
    )


def write_pseudo_cases(duties: Iterable[tuple[dt.datetime, str]], quarter: Quarter, bsnr: str, out: BinaryIO) -> None:
    """KVDT with one pseudo Schein per (duty start, LANR), numbered 1, 2, 3 … as the seed's
    "Notfalldienst Arzt 1, 2, 3, …": con0, besa, an ADT package whose adt0 names the quarter in
    9204, the Scheine with every Muss field of 0104, adt9, con9. adt0 lacks the KBV-Prüfnummer
    (0105): it is issued to certified practice software, which this is not."""
    cases, extra = [], {}
    for number, (start, lanr) in enumerate(duties, start=1):
        case = pseudo_case(number, start, lanr, bsnr)
        cases.append(case)
        extra[case.case_id] = pseudo_case_fields(number)
    header = {"adt0": {"9102": bsnr[:2], "9212": "6.02", "0102": "Sprechzimmer (Open Source)", "0103": "Sprechzimmer"}}
    write_kvdt(cases, quarter, bsnr, out, extra=extra, header=header)
