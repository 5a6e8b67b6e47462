"""Duty slots (Dienste) of a period from the KVBW time rules (KVBW Bereitschaftsdienst, docs/duty.md).

Mon–Fri a duty runs from the evening start (18:00; Wednesday 13:00, Friday 16:00 by default,
configurable per area) to 08:00 the next day; weekends, public holidays of the state and 24.12 and
31.12 run 08:00 → 08:00. Times are Europe/Berlin.

**Paid hours = the real hours between start and end.** A duty across the change to summer time has
23 hours, one across the change back 25: the doctor is on duty for exactly that long, and the plan
shows (and pay uses) those hours. In 2026 that is the duty from Saturday 28 March 08:00 (23 h) and
the one from Saturday 24 October 08:00 (25 h), because the clocks change at night inside them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final, Literal

import holidays

from sprechzimmer.core.timezones import BERLIN

DAY_START = dt.time(8, 0)
EXTRA_CLOSED_DAYS = {(12, 24): "Heiligabend", (12, 31): "Silvester"}  # not public holidays, but duty days

SlotKind = Literal["weekday", "weekend", "holiday"]
WEEKDAY: Final = "weekday"  # Mo–Fr evening/night
WEEKEND: Final = "weekend"
HOLIDAY: Final = "holiday"  # public holiday, 24.12, 31.12


@dataclass(frozen=True)
class DutyTimes:
    """Evening start per weekday (0 = Monday … 4 = Friday); end is 08:00 next morning."""

    evening_start: dict[int, dt.time] = field(
        default_factory=lambda: {0: dt.time(18), 1: dt.time(18), 2: dt.time(13), 3: dt.time(18), 4: dt.time(16)}
    )
    state: str = "BW"


@dataclass(frozen=True)
class DutySlot:
    day: dt.date  # the day the duty starts
    start: dt.datetime  # aware, Europe/Berlin
    end: dt.datetime
    kind: SlotKind
    holiday: str  # name of the holiday, or ""

    @property
    def hours(self) -> Decimal:
        """Real (and paid) hours: 23 or 25 across a DST change."""
        seconds = (self.end.astimezone(dt.UTC) - self.start.astimezone(dt.UTC)).total_seconds()
        return Decimal(int(seconds)) / 3600

    @property
    def special(self) -> bool:
        """Weekend or holiday: spread evenly by the planner."""
        return self.kind != WEEKDAY


def holiday_names(years: range | list[int], state: str = "BW") -> dict[dt.date, str]:
    names = dict(holidays.country_holidays("DE", subdiv=state, years=list(years), language="de").items())
    for year in years:
        for (month, day), name in EXTRA_CLOSED_DAYS.items():
            names.setdefault(dt.date(year, month, day), name)
    return names


def duty_slots(first: dt.date, last: dt.date, times: DutyTimes | None = None) -> list[DutySlot]:
    """The duties starting on each day from ``first`` to ``last`` inclusive."""
    times = times or DutyTimes()
    if last < first:
        return []
    closed = holiday_names(range(first.year, last.year + 1), times.state)
    slots = []
    day = first
    while day <= last:
        following = day + dt.timedelta(days=1)
        end = dt.datetime.combine(following, DAY_START, BERLIN)
        if day in closed:
            slots.append(DutySlot(day, dt.datetime.combine(day, DAY_START, BERLIN), end, HOLIDAY, closed[day]))
        elif day.weekday() >= 5:
            slots.append(DutySlot(day, dt.datetime.combine(day, DAY_START, BERLIN), end, WEEKEND, ""))
        else:
            start = times.evening_start.get(day.weekday(), dt.time(18))
            slots.append(DutySlot(day, dt.datetime.combine(day, start, BERLIN), end, WEEKDAY, ""))
        day = following
    return slots
