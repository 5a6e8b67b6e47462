"""Versions of EBM 4.3.1 with their validity by quarter, read from ``data/rulesets.json``.

Adding a version means adding an entry to that file; the checker reads everything it needs from a
:class:`RuleSet`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

from .catalogue import DATA_DIR
from .model import BillingError, Quarter

DEFAULT_RULESET_FILE = DATA_DIR / "rulesets.json"


@dataclass(frozen=True, slots=True)
class RuleSet:
    id: str
    title: str
    first: Quarter
    last: Quarter | None
    case_cap_percent: int | None  # R7; None = suspended
    case_cap_unit: str  # "lanr" (per doctor) or "bsnr" (per practice)
    gop_cap_percent: int | None  # R8; None = suspended or abolished
    no_video_chapters: frozenset[str]  # R12
    chapter35_point_volume: bool = False  # R8: chapter 35 capped on its point volume (from 3/2022)

    def covers(self, quarter: Quarter) -> bool:
        return self.first <= quarter and (self.last is None or quarter <= self.last)


@dataclass(frozen=True)
class RuleBook:
    versions: tuple[RuleSet, ...]
    orientation_values_ct: dict[int, Decimal]

    def for_quarter(self, quarter: Quarter) -> RuleSet:
        for version in self.versions:
            if version.covers(quarter):
                return version
        first = self.versions[0].first
        raise BillingError(f"Für das Quartal {quarter} gibt es keine Regelversion (erste gilt ab {first}).")

    def orientation_value(self, year: int) -> Decimal:
        """Orientierungswert in cent per point."""
        try:
            return self.orientation_values_ct[year]
        except KeyError:
            raise BillingError(
                f"Für {year} ist kein Orientierungswert hinterlegt; ein Update von Sprechzimmer trägt ihn nach."
            ) from None

    def orientation_value_or_latest(self, year: int) -> tuple[Decimal, int]:
        """(Orientierungswert in cent per point, the year it is of): the year's own or, for a year
        after the newest one known, the newest one. The Bewertungsausschuss sets each year's value
        in the autumn before (§ 87 Abs. 2e SGB V); an instance not yet updated still checks a new
        year's files, and the report says its euros are provisional (report.notices)."""
        if year in self.orientation_values_ct:
            return self.orientation_values_ct[year], year
        latest = max(self.orientation_values_ct)
        if year > latest:
            return self.orientation_values_ct[latest], latest
        return self.orientation_value(year), year  # raises: a year before the first one known

    @classmethod
    def load(cls, path: str | Path | None = None) -> RuleBook:
        path = Path(path) if path else DEFAULT_RULESET_FILE
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            versions = tuple(sorted((_version(v) for v in data["versions"]), key=lambda v: v.first))
            values = {int(y): Decimal(v) for y, v in data["orientation_values_ct"].items()}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BillingError(f"Die Regeldatei {path} ist fehlerhaft ({exc}).") from None
        for before, after in pairwise(versions):
            if before.last is None or before.last.shift(1) != after.first:
                raise BillingError(f"Die Regelversionen {before.id} und {after.id} schließen nicht lückenlos an.")
        return cls(versions, values)


def _version(raw: dict[str, Any]) -> RuleSet:
    case_cap = raw.get("case_cap")
    gop_cap = raw.get("gop_cap")
    unit = case_cap["unit"] if case_cap else "lanr"
    if unit not in ("lanr", "bsnr"):
        raise ValueError(f"unit {unit!r}")
    return RuleSet(
        id=raw["id"],
        title=raw["title"],
        first=Quarter.parse(raw["from"]),
        last=Quarter.parse(raw["to"]) if raw.get("to") else None,
        case_cap_percent=int(case_cap["percent"]) if case_cap else None,
        case_cap_unit=unit,
        gop_cap_percent=int(gop_cap["percent"]) if gop_cap else None,
        no_video_chapters=frozenset(raw.get("no_video_chapters", ())),
        chapter35_point_volume=bool(gop_cap and gop_cap.get("chapter35_point_volume")),
    )
