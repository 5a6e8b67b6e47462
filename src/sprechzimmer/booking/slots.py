"""Free slots of the booking page (pure: no Django). A slot is offered when it lies in a doctor's
bookable hours, starts at least the lead time from now and within the days ahead, and overlaps no
appointment of that doctor that is not cancelled."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


@dataclass(frozen=True)
class Hours:
    doctor_id: int
    weekday: int  # 0 = Monday
    start: dt.time
    end: dt.time
    minutes: int
    known_only: bool = False


@dataclass(frozen=True)
class Slot:
    doctor_id: int
    start: dt.datetime
    minutes: int
    known_only: bool


def free_slots(
    hours: list[Hours],
    busy: list[tuple[int, dt.datetime, dt.datetime]],
    now: dt.datetime,
    days_ahead: int,
    lead: dt.timedelta,
) -> list[Slot]:
    """``busy``: (doctor id, start, end) of the doctors' appointments that are not cancelled."""
    earliest = now + lead
    first_day = now.astimezone(BERLIN).date()
    by_doctor: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    for doctor_id, start, end in busy:
        by_doctor.setdefault(doctor_id, []).append((start, end))
    slots: list[Slot] = []
    for offset in range(days_ahead + 1):
        day = first_day + dt.timedelta(days=offset)
        for h in hours:
            if h.weekday != day.weekday() or h.minutes <= 0:
                continue
            start = dt.datetime.combine(day, h.start, tzinfo=BERLIN)
            end_of_hours = dt.datetime.combine(day, h.end, tzinfo=BERLIN)
            step = dt.timedelta(minutes=h.minutes)
            while start + step <= end_of_hours:
                end = start + step
                taken = any(b_start < end and start < b_end for b_start, b_end in by_doctor.get(h.doctor_id, ()))
                if start >= earliest and not taken:
                    slots.append(Slot(h.doctor_id, start, h.minutes, h.known_only))
                start = end
    return sorted(set(slots), key=lambda s: (s.start, s.doctor_id))


def offered(slots: list[Slot], doctor_id: int, start: dt.datetime) -> Slot | None:
    for slot in slots:
        if slot.doctor_id == doctor_id and slot.start == start:
            return slot
    return None
