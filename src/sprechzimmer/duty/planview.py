"""What the plan page shows, shaped for the template: the duties as a calendar (weeks × days) and
the fairness chart (target vs. assigned hours per doctor, weekend and holiday duties)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sprechzimmer.duty.domain.calendar import HOLIDAY
from sprechzimmer.duty.models import Duty, Plan


@dataclass
class Day:
    date: dt.date
    in_plan: bool
    duties: list[Duty] = field(default_factory=list)

    @property
    def special(self) -> bool:
        return self.date.weekday() >= 5 or any(d.kind == HOLIDAY for d in self.duties)

    @property
    def holiday(self) -> str:
        return next((d.holiday for d in self.duties if d.holiday), "")


def calendar_weeks(plan: Plan, duties: list[Duty]) -> list[list[Day]]:
    """Monday-to-Sunday weeks covering the plan; days outside the plan are in the grid but empty."""
    by_day: dict[dt.date, list[Duty]] = {}
    for duty in sorted(duties, key=lambda d: (d.day, d.start, d.duty_type_id)):
        by_day.setdefault(duty.day, []).append(duty)
    monday = plan.first - dt.timedelta(days=plan.first.weekday())
    weeks = []
    while monday <= plan.last:
        week = []
        for offset in range(7):
            day = monday + dt.timedelta(days=offset)
            week.append(Day(day, plan.first <= day <= plan.last, by_day.get(day, [])))
        weeks.append(week)
        monday += dt.timedelta(days=7)
    return weeks


@dataclass
class ChartRow:
    name: str
    target: Decimal
    assigned: Decimal
    special: int
    target_special: Decimal
    holidays: int
    duties: int
    # SVG geometry in a 0–100 viewBox (machine numbers, never shown to people)
    bar: str
    mark: str

    @property
    def difference(self) -> Decimal:
        return self.assigned - self.target

    @property
    def state(self) -> str:
        """over / under by more than 10 % of the target (at least 4 h), else fair."""
        slack = max(Decimal(4), abs(self.target) / 10)
        if self.difference > slack:
            return "over"
        if self.difference < -slack:
            return "under"
        return "fair"


def chart_rows(report: dict) -> list[ChartRow]:
    lines = report.get("lines") or []
    if not lines:
        return []
    values = [Decimal(str(line.get(key) or 0)) for line in lines for key in ("target_hours", "assigned_hours")]
    scale = max([*values, Decimal(1)]) * Decimal("1.05")
    rows = []
    for line in sorted(lines, key=lambda line: line.get("name", "")):
        target = Decimal(str(line.get("target_hours") or 0))
        assigned = Decimal(str(line.get("assigned_hours") or 0))
        rows.append(
            ChartRow(
                name=line.get("name", ""),
                target=target,
                assigned=assigned,
                special=int(line.get("special") or 0),
                target_special=Decimal(str(line.get("target_special") or 0)),
                holidays=int(line.get("holidays") or 0),
                duties=int(line.get("duties") or 0),
                bar=f"{max(assigned, Decimal(0)) / scale * 100:.2f}",
                mark=f"{max(target, Decimal(0)) / scale * 100:.2f}",
            )
        )
    return rows
