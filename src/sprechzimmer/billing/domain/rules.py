"""The rules of EBM Allgemeine Bestimmung 4.3.1 (R1–R12 of shared/domain/ebm-video-billing.md).

``QuarterCheck`` checks one case at a time (so a file of millions of cases needs constant memory)
and keeps the counters the caps (R7, R8) need; ``summary()`` gives the caps and totals at the end.

Points are kept as integers in hundredths (``points_x100``): a deduction of 20 % on 150 points is
12000 × 80 / 100 = 12000 → exact, because tiers are whole percents. Euros are computed once per
reported figure: points × Orientierungswert (ct) / 100, rounded half up to the cent.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sprechzimmer.accounts.domain import IdentifierError, parse_lanr

from .catalogue import EXCLUDED, MARKER, PAUSCHALE, SERVICE, TELEPHONE_FEE, VIDEO_SURCHARGE, Catalogue
from .model import INDIRECT, PERSONAL, TELEPHONE, VIDEO, Case, Contact, Quarter
from .rulesets import RuleBook, RuleSet

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)
CENT = Decimal("0.01")

#: R8, chapter 35: the cap applies to the point volume of the chapter's video GOPs, except 35152.
CHAPTER_35 = "35"
CHAPTER_35_OWN_CAP = "35152"
_ONLY_VIDEO = frozenset({VIDEO})
_PHONE_KINDS = frozenset({TELEPHONE, INDIRECT})
_UNCHECKED = object()


class Finding:
    __slots__ = ("rule", "severity", "message")

    def __init__(self, rule: str, severity: str, message: str):
        self.rule = rule
        self.severity = severity
        self.message = message

    def as_dict(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "message": self.message}

    def __repr__(self):
        return f"Finding({self.rule}, {self.severity}, {self.message!r})"


class CaseResult:
    """A checked case. ``lines``: (gop, date, billed_code, factor_percent, points_x100 or None).

    ``contacts`` (the stated or inferred Arzt-Patienten-Kontakte) is built on first use: most
    consumers only count and sum, and a Contact per visit per case is measurable at millions of
    cases."""

    __slots__ = ("case", "video_only", "phone_only", "_contacts", "_visits", "_kinds", "findings", "lines",
                 "points_x100")

    def __init__(self, case, video_only, phone_only, contacts, findings, lines, points_x100, visits=None,
                 kinds=None):
        self.case = case
        self.video_only = video_only
        self.phone_only = phone_only
        self._contacts = contacts
        self._visits = visits  # visit → its first service (inferred contacts)
        self._kinds = kinds  # visit → contact kind
        self.findings = findings
        self.lines = lines
        self.points_x100 = points_x100

    @property
    def contacts(self) -> list[Contact]:
        if self._contacts is None:
            self._contacts = _inferred_contacts(self._visits, self._kinds)
        return self._contacts

    def rules(self) -> list[str]:
        return [f.rule for f in self.findings]


def _inferred_contacts(first_of_visit: dict, kind_of_visit: dict) -> list[Contact]:
    """One contact per visit: on the date and time of its first service, of the inferred kind."""
    return [Contact(first.date, kind_of_visit[visit], visit, first.time) for visit, first in first_of_visit.items()]


@dataclass
class CapResult:
    """R7 for one unit (a doctor's LANR or a practice's BSNR)."""

    unit: str
    id: str
    counted_cases: int
    video_only_cases: int
    limit: Decimal | None  # share, e.g. 0.3; None when suspended
    excess_cases: int
    euro_at_risk: Decimal

    def as_dict(self) -> dict:
        return {
            "unit": self.unit, "id": self.id, "counted_cases": self.counted_cases,
            "video_only_cases": self.video_only_cases,
            "limit": None if self.limit is None else str(self.limit),
            "excess_cases": self.excess_cases, "euro_at_risk": str(self.euro_at_risk),
        }


@dataclass
class GopCapResult:
    """R8 for one doctor and one GOP (or chapter 35's point volume, ``gop`` = ``"35*"``)."""

    lanr: str
    gop: str
    basis: str  # "count" or "points"
    total: Decimal
    video: Decimal
    limit: Decimal
    excess: Decimal
    euro_at_risk: Decimal

    def as_dict(self) -> dict:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in self.__dict__.items()}


@dataclass
class Summary:
    quarter: Quarter
    ruleset: RuleSet
    orientation_value_ct: Decimal
    caps: list[CapResult]
    gop_caps: list[GopCapResult]
    totals: dict = field(default_factory=dict)


def euros(points_x100: int | Decimal, orientation_value_ct: Decimal) -> Decimal:
    """Points (in hundredths) × Orientierungswert (ct) → euros, rounded half up to the cent."""
    return (Decimal(points_x100) * orientation_value_ct / 10000).quantize(CENT, rounding=ROUND_HALF_UP)


def _date(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


class QuarterCheck:
    """Checks the cases of one quarter against the rule set in force and counts for the caps."""

    def __init__(self, quarter: Quarter, rulebook: RuleBook, catalogue: Catalogue, ruleset: RuleSet | None = None):
        self.quarter = quarter
        self.rulebook = rulebook
        self.ruleset = ruleset or rulebook.for_quarter(quarter)
        self.catalogue = catalogue
        self.orientation_value_ct = rulebook.orientation_value(quarter.year)
        # R7: unit id → [counted, video-only, points_x100 of the video-only cases]
        self._units: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        # R8: (lanr, gop) → [total, by video] (counts, or points_x100 for chapter 35)
        self._gop_counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        self._lanr_checked: dict[str, str | None] = {}
        self.cases = 0
        self.video_only = 0
        self.phone_only = 0
        self.emergency = 0
        self.points_x100 = 0
        self.severities = dict.fromkeys(SEVERITIES, 0)
        self.rule_counts: dict[str, int] = defaultdict(int)
        self.unknown_gops: set[str] = set()
        self.counted = 0  # cases the case cap counts, practice-wide (no emergency, no TSS acute)
        self.counted_video_only = 0
        self._unit_is_practice = self.ruleset.case_cap_unit == "bsnr"
        self._gop_cap = self.ruleset.gop_cap_percent is not None

    # -- one case ---------------------------------------------------------------------------
    def check_case(self, case: Case) -> CaseResult:
        """Checks one case without counting it for the caps."""
        return self._check(case)[0]

    def add(self, case: Case) -> CaseResult:
        """Checks one case and counts it for the caps and totals."""
        result, lanrs, gop_cap_services, kind_of_visit = self._check(case)
        self.cases += 1
        self.points_x100 += result.points_x100
        video_only = result.video_only
        if video_only:
            self.video_only += 1
        if result.phone_only:
            self.phone_only += 1
        for finding in result.findings:
            self.severities[finding.severity] += 1
            self.rule_counts[finding.rule] += 1
        if case.subgroup is not None and case.emergency:
            self.emergency += 1
            return result  # R7/R8: emergency-service cases do not count
        if not case.tss_acute:
            self.counted += 1
            if video_only:
                self.counted_video_only += 1
            if self._unit_is_practice:
                units = (case.bsnr or "unbekannt",)
            else:
                units = lanrs or ("unbekannt",)
            for unit in units:
                counter = self._units[unit]
                counter[0] += 1
                if video_only:
                    counter[1] += 1
                    counter[2] += result.points_x100
        if gop_cap_services:
            counts = self._gop_counts
            for service, gop in gop_cap_services:
                if gop.chapter == CHAPTER_35 and service.gop != CHAPTER_35_OWN_CAP:
                    counter = counts[(service.lanr or "unbekannt", "35*")]
                    amount = gop.points * service.multiplier * 100
                else:
                    counter = counts[(service.lanr or "unbekannt", service.gop)]
                    amount = service.multiplier
                counter[0] += amount
                if kind_of_visit.get(service.visit) == VIDEO:
                    counter[1] += amount
        return result

    def _check(self, case: Case):  # noqa: C901 - the rules in one pass over the services, for speed
        get = self.catalogue.get
        services = case.services
        gops = []
        # Lines as if nothing were reduced; rebuilt below in the rare cases that deduct or refuse.
        lines = []
        total = 0
        visit_flags: dict[int, int] = {}
        first_of_visit = {}
        pauschalen: dict[str, int] = {}
        lanrs = set()
        marker = phone_fees = 0
        special = False  # a GOP that needs the slow checks (R1/R4/R10/R11 candidates)
        gop_cap_services = [] if self._gop_cap else None
        last_visit = None
        visit_days = set()
        same_day = False  # two visits on one day (R9)
        for service in services:
            code = service.gop
            gop = get(code)
            gops.append(gop)
            visit = service.visit
            if visit != last_visit:  # services come grouped by visit (KVDT); a dict tells for the rest
                last_visit = visit
                if visit not in visit_flags:
                    visit_flags[visit] = 0
                    first_of_visit[visit] = service
                    if service.date in visit_days:
                        same_day = True
                    else:
                        visit_days.add(service.date)
            if service.lanr:
                lanrs.add(service.lanr)
            if gop is None:
                self.unknown_gops.add(code)
                lines.append((code, service.date, code, 100, None))
                continue
            points = gop.points * service.multiplier * 100
            total += points
            lines.append((code, service.date, code, 100, points))
            kind = gop.kind
            if kind is SERVICE:
                if gop_cap_services is not None and gop.video:
                    gop_cap_services.append((service, gop))
            elif kind is PAUSCHALE:
                pauschalen[code] = pauschalen.get(code, 0) + 1
            elif kind is VIDEO_SURCHARGE:
                visit_flags[visit] |= 1
            elif kind is TELEPHONE_FEE:
                visit_flags[visit] |= 2
                phone_fees += 1
            elif kind is MARKER:
                marker += 1
            elif kind is EXCLUDED:
                special = True
            if not gop.video:
                visit_flags[visit] |= 4
                special = True
            elif gop.min_contacts:
                special = True

        if case.contacts is None:
            # Contact inference (KVDT states no contacts), one contact per visit (5000 group): a visit
            # with 01450 is a video contact, with 01435 a telephone contact, with a GOP that cannot be
            # delivered by video a personal contact; any other visit takes the case's marker (88220 →
            # video, 01435 → telephone, neither → personal: a Pauschale alone means a personal visit).
            # The Contact objects themselves are made only when asked for (CaseResult.contacts).
            default = VIDEO if marker else TELEPHONE if phone_fees else PERSONAL
            contacts = None
            kind_of_visit = {}
            for visit, flags in visit_flags.items():
                kind_of_visit[visit] = VIDEO if flags & 1 else TELEPHONE if flags & 2 else PERSONAL if flags & 4 \
                    else default
            visits = first_of_visit
        else:
            contacts = case.contacts
            kind_of_visit = {c.visit: c.kind for c in contacts}
            visits = None
        kinds = set(kind_of_visit.values())
        video_only = kinds == _ONLY_VIDEO
        phone_only = bool(kinds) and kinds <= _PHONE_KINDS
        findings: list[Finding] = []

        # R6: the 88220 marker.
        if video_only and not marker:
            findings.append(Finding("R6", ERROR, "Behandlungsfall mit ausschließlich Videokontakten: "
                                                 "Pseudo-GOP 88220 ergänzen."))
        elif marker and not video_only:
            why = "einem persönlichen Kontakt" if PERSONAL in kinds else "Kontakten, die nicht alle per Video stattfanden"
            findings.append(Finding("R6", ERROR, f"88220 steht in einem Fall mit {why}: 88220 entfernen "
                                                 "(nur für Fälle mit ausschließlich Videokontakten)."))
        # R1/R2: 01435.
        if phone_only:
            if pauschalen:
                codes = ", ".join(sorted(pauschalen))
                findings.append(Finding("R2", ERROR, f"Nur telefonische/mittelbare Kontakte: statt {codes} "
                                                     "die GOP 01435 abrechnen."))
            if not phone_fees:
                findings.append(Finding("R2", WARNING, "Nur telefonische/mittelbare Kontakte: GOP 01435 ist "
                                                       "berechnungsfähig und fehlt."))
            elif phone_fees > 1:
                findings.append(Finding("R2", ERROR, "01435 ist nur einmal im Behandlungsfall berechnungsfähig; "
                                                     "weitere streichen."))
        elif phone_fees:
            if pauschalen:
                findings.append(Finding("R2", ERROR, "01435 ist nicht neben einer Pauschale berechnungsfähig: "
                                                     "01435 streichen."))
            else:
                findings.append(Finding("R1", ERROR, "Telefonkontakte sind bei persönlichen oder Videokontakten "
                                                     "Inhalt der Pauschale: 01435 streichen."))
        # R5: a Pauschale once per case.
        for code, count in pauschalen.items():
            if count > 1:
                findings.append(Finding("R5", ERROR, f"Pauschale {code} ist {count}-mal angesetzt; sie ist nur "
                                                     "einmal im Behandlungsfall berechnungsfähig."))
        # R12: doctor groups without video.
        if VIDEO in kinds and pauschalen:
            barred = sorted({get(code).chapter for code in pauschalen} & self.ruleset.no_video_chapters)
            if barred:
                findings.append(Finding("R12", ERROR, f"Die Arztgruppe des Kapitels {', '.join(barred)} kann "
                                                      "keine Videosprechstunde abrechnen: Videoleistungen streichen."))

        # R3 (deduction), R4 (excluded surcharges), R1/R11 (not by video), R10: the lines again.
        deduction_of: dict[str, tuple[int, str]] = {}
        if video_only:
            for code in pauschalen:
                gop = get(code)
                if gop.deduction:
                    deduction_of[code] = (gop.deduction, gop.video_code or code)
                    for link in gop.links:
                        deduction_of.setdefault(link, (gop.deduction, link))
        if deduction_of or special:
            if contacts is None and special:
                contacts = _inferred_contacts(first_of_visit, kind_of_visit)
            lines, total = self._lines(services, gops, deduction_of, special, video_only, kind_of_visit, contacts,
                                       findings)
        # R9: several visits on one day need times for billable services.
        if contacts is None:
            if same_day:
                contacts = _inferred_contacts(first_of_visit, kind_of_visit)
                self._times(contacts, services, lines, findings)
        elif len(contacts) > 1 and len({c.date for c in contacts}) < len(contacts):
            self._times(contacts, services, lines, findings)
        for lanr in lanrs:
            problem = self._lanr_checked.get(lanr, _UNCHECKED)
            if problem is _UNCHECKED:
                problem = self._lanr_problem(lanr)
            if problem:
                findings.append(Finding("LANR", WARNING, problem))
        result = CaseResult(case, video_only, phone_only, contacts, findings, lines, total, visits, kind_of_visit)
        return result, lanrs, gop_cap_services, kind_of_visit

    @staticmethod
    def _lines(services, gops, deduction_of, special, video_only, kind_of_visit, contacts, findings):
        """The lines of a case with a deduction (R3) or a GOP that needs the slow checks."""
        lines = []
        total = 0
        reduced = []
        not_billable = []
        contact_count = None
        for service, gop in zip(services, gops):
            code = service.gop
            if gop is None:
                lines.append((code, service.date, code, 100, None))
                continue
            factor = 100
            billed = code
            if deduction_of and code in deduction_of:
                deduction, billed = deduction_of[code]
                factor = 100 - deduction
                reduced.append((code, deduction, billed))
            if special:
                kind = gop.kind
                if video_only and kind is EXCLUDED:
                    factor = 0
                    not_billable.append(code)
                elif not gop.video and kind_of_visit.get(service.visit) == VIDEO:
                    if kind is PAUSCHALE:
                        findings.append(Finding("R11", ERROR, f"Pauschale {code} ist im Rahmen einer "
                                                              "Videosprechstunde nicht berechnungsfähig."))
                    else:
                        findings.append(Finding("R1", ERROR, f"GOP {code} am {_date(service.date)} kann nicht per "
                                                             "Video erbracht werden: für einen persönlichen Kontakt "
                                                             "eine eigene Inanspruchnahme mit Uhrzeit angeben."))
                    factor = 0
                if gop.min_contacts:
                    if contact_count is None:
                        contact_count = sum(1 for c in contacts if c.kind is PERSONAL or c.kind is VIDEO)
                    if contact_count < gop.min_contacts:
                        findings.append(Finding("R10", WARNING, f"GOP {code} setzt mindestens {gop.min_contacts} "
                                                                f"Arzt-Patienten-Kontakte voraus, gefunden "
                                                                f"{contact_count} (Videokontakte zählen als "
                                                                "persönliche)."))
            points = gop.points * service.multiplier * factor
            total += points
            lines.append((code, service.date, billed, factor, points))
        if reduced:
            text = "; ".join(f"{code} – {pct} % (als {billed})" for code, pct, billed in reduced)
            findings.append(Finding("R3", INFO, f"Reiner Videofall: Abschlag {text}; die KV nimmt ihn vor."))
        if not_billable:
            findings.append(Finding("R4", ERROR, f"Im reinen Videofall nicht berechnungsfähig: "
                                                 f"{', '.join(not_billable)} streichen."))
        return lines, total

    @staticmethod
    def _times(contacts, services, lines, findings) -> None:
        visits_by_day: dict[dt.date, set[int]] = defaultdict(set)
        for contact in contacts:
            visits_by_day[contact.date].add(contact.visit)
        untimed: dict[dt.date, list[str]] = defaultdict(list)
        for service, line in zip(services, lines):
            if line[4] and service.time is None and len(visits_by_day[service.date]) > 1:
                untimed[service.date].append(service.gop)
        for day, codes in sorted(untimed.items()):
            findings.append(Finding("R9", ERROR, f"Mehrere Inanspruchnahmen am {_date(day)}: Uhrzeit (Feld 5006) "
                                                 f"für {', '.join(codes)} angeben."))

    def _lanr_problem(self, lanr: str) -> str | None:
        try:
            parse_lanr(lanr)
            problem = None
        except IdentifierError as exc:
            problem = f"LANR {lanr}: {exc.message} Bitte prüfen (der Fall wird trotzdem geprüft)."
        self._lanr_checked[lanr] = problem
        return problem

    def summary(self) -> Summary:
        ruleset = self.ruleset
        value = self.orientation_value_ct
        caps = []
        percent = ruleset.case_cap_percent
        for unit_id in sorted(self._units):
            counted, video_only, video_points = self._units[unit_id]
            if percent is None:
                limit, excess, at_risk = None, 0, Decimal("0.00")
            else:
                limit = Decimal(percent) / 100
                excess = max(0, video_only - (percent * counted) // 100)
                # The KV does not say which cases it cuts: the average video-only case is at risk.
                at_risk = euros(Decimal(video_points) * excess / video_only, value) if excess else Decimal("0.00")
            caps.append(CapResult(ruleset.case_cap_unit, unit_id, counted, video_only, limit, excess, at_risk))
        gop_caps = []
        if ruleset.gop_cap_percent is not None:
            gop_percent = ruleset.gop_cap_percent
            for (lanr, code), (total, by_video) in sorted(self._gop_counts.items()):
                if not by_video:
                    continue
                limit = (gop_percent * total) // 100
                excess = max(0, by_video - limit)
                if code == "35*":
                    at_risk = euros(excess, value)
                    gop_caps.append(GopCapResult(lanr, code, "points", Decimal(total) / 100, Decimal(by_video) / 100,
                                                 Decimal(limit) / 100, Decimal(excess) / 100, at_risk))
                else:
                    gop = self.catalogue.get(code)
                    at_risk = euros(excess * gop.points * 100, value)
                    gop_caps.append(GopCapResult(lanr, code, "count", Decimal(total), Decimal(by_video),
                                                 Decimal(limit), Decimal(excess), at_risk))
        totals = {
            "cases": self.cases,
            "video_only_cases": self.video_only,
            "phone_only_cases": self.phone_only,
            "emergency_cases": self.emergency,
            "counted_cases": self.counted,
            "counted_video_only_cases": self.counted_video_only,
            "findings": dict(self.severities),
            "findings_by_rule": dict(sorted(self.rule_counts.items())),
            "points": str(Decimal(self.points_x100) / 100),
            "euro": str(euros(self.points_x100, value)),
            "euro_at_risk": str(sum((c.euro_at_risk for c in caps), Decimal("0.00"))
                                + sum((g.euro_at_risk for g in gop_caps), Decimal("0.00"))),
            "unknown_gops": sorted(self.unknown_gops),
        }
        return Summary(self.quarter, ruleset, value, caps, gop_caps, totals)
