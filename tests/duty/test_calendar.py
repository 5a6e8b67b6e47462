"""Duty generation over a year in Baden-Württemberg (issue 5): times, holidays, DST days."""

import datetime as dt
import itertools
from decimal import Decimal

from sprechzimmer.duty.domain.calendar import HOLIDAY, WEEKDAY, WEEKEND, DutyTimes, duty_slots

YEAR = {s.day: s for s in duty_slots(dt.date(2026, 1, 1), dt.date(2026, 12, 31))}


def test_one_duty_per_day_and_the_year_is_covered_without_gaps():
    assert len(YEAR) == 365
    slots = sorted(YEAR.values(), key=lambda s: s.start)
    for before, after in itertools.pairwise(slots):
        assert before.end <= after.start  # no overlap
        if after.kind != WEEKDAY:
            assert before.end == after.start  # 08:00 hand-over into a weekend or holiday


def test_weekday_times():
    assert (YEAR[dt.date(2026, 11, 23)].start.time(), YEAR[dt.date(2026, 11, 23)].hours) == (dt.time(18), 14)  # Mon
    assert YEAR[dt.date(2026, 11, 25)].start.time() == dt.time(13)  # Wednesday from 13:00
    assert YEAR[dt.date(2026, 11, 27)].start.time() == dt.time(16)  # Friday from 16:00
    assert YEAR[dt.date(2026, 11, 28)].kind == WEEKEND and YEAR[dt.date(2026, 11, 28)].hours == 24


def test_times_configurable_per_area():
    times = DutyTimes(evening_start={0: dt.time(19), 1: dt.time(19), 2: dt.time(19), 3: dt.time(19), 4: dt.time(19)})
    (wednesday,) = duty_slots(dt.date(2026, 11, 25), dt.date(2026, 11, 25), times)
    assert wednesday.start.time() == dt.time(19) and wednesday.hours == 13


def test_easter_christmas_eve_and_new_years_eve_are_holiday_duties():
    for day, name in [
        (dt.date(2026, 4, 3), "Karfreitag"),
        (dt.date(2026, 4, 6), "Ostermontag"),
        (dt.date(2026, 12, 24), "Heiligabend"),
        (dt.date(2026, 12, 31), "Silvester"),
        (dt.date(2026, 1, 6), "Heilige Drei Könige"),
    ]:
        slot = YEAR[day]
        assert slot.kind == HOLIDAY and slot.holiday == name and slot.start.time() == dt.time(8), day
    assert YEAR[dt.date(2026, 4, 2)].kind == WEEKDAY  # Gründonnerstag is a working day in BW


def test_dst_days_of_2026_have_23_and_25_paid_hours():
    spring = YEAR[dt.date(2026, 3, 28)]  # Saturday 08:00 → Sunday 08:00, clocks go forward that night
    autumn = YEAR[dt.date(2026, 10, 24)]  # clocks go back that night
    assert spring.hours == Decimal(23) and autumn.hours == Decimal(25)
    assert YEAR[dt.date(2026, 3, 29)].hours == 24 and YEAR[dt.date(2026, 10, 25)].hours == 24
    # Python's wall-clock subtraction says 24 h for both; the paid hours are the real ones.
    assert spring.end - spring.start == dt.timedelta(hours=24) == autumn.end - autumn.start
