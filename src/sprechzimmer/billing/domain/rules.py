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

from .catalogue import EXCLUDED, LINKED, MARKER, PAUSCHALE, SERVICE, TELEPHONE_FEE, VIDEO_SURCHARGE, Catalogue
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
    """A checked case. ``lines``: (gop, date, billed_code, factor_percent, points_x100 or None)."""

    __slots__ = ("case", "video_only", "phone_only", "contacts", "findings", "lines", "points_x100")

    def __init__(self, case, video_only, phone_only, contacts, findings, lines, points_x100):
        self.case = case
        self.video_only = video_only
        self.phone_only = phone_only
        self.contacts = contacts
        self.findings = findings
        self.lines = lines
        self.points_x100 = points_x100

    def rules(self) -> list[str]:
        return [f.rule for f in self.findings]


def infer_contacts(case: Case, catalogue: Catalogue) -> list[Contact]:
    """Contacts of a case whose input did not state them (KVDT), one per visit (5000 group).

    A visit with 01450 is a video contact; with 01435 a telephone contact; with a service that
    cannot be delivered by video a personal contact. Any other visit takes the case's marker: 88220
    → video, 01435 → telephone, neither → personal (a Pauschale without a marker means the patient
    came in person)."""
    get = catalogue.get
    visits: dict[int, list] = {}
    has_marker = has_phone_fee = False
    for service in case.services:
        visit = visits.get(service.visit)
        if visit is None:
            visit = visits[service.visit] = [service.date, service.time, 0]
        elif visit[1] is None and service.time:
            visit[1] = service.time
        gop = get(service.gop)
        if gop is None:
            continue
        kind = gop.kind
        if kind == VIDEO_SURCHARGE:
            visit[2] |= 1
        elif kind == TELEPHONE_FEE:
            visit[2] |= 2
            has_phone_fee = True
        elif kind == MARKER:
            has_marker = True
        elif not gop.video:
            visit[2] |= 4
    default = VIDEO if has_marker else TELEPHONE if has_phone_fee else PERSONAL
    contacts = []
    for number, (date, time, flags) in visits.items():
        kind = VIDEO if flags & 1 else TELEPHONE if flags & 2 else PERSONAL if flags & 4 else default
        contacts.append(Contact(date, kind, number, time))
    return contacts


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

    # -- one case ---------------------------------------------------------------------------
    def add(self, case: Case) -> CaseResult:
        result = self.check_case(case)
        self._count(result)
        return result

    def check_case(self, case: Case) -> CaseResult:
        get = self.catalogue.get
        services = case.services
        contacts = case.contacts if case.contacts is not None else infer_contacts(case, self.catalogue)
        findings: list[Finding] = []
        kind_of_visit = {c.visit: c.kind for c in contacts}
        kinds = set(kind_of_visit.values())
        video_only = kinds == {VIDEO}
        phone_only = bool(kinds) and kinds <= {TELEPHONE, INDIRECT}
        has_personal = PERSONAL in kinds

        gops = [get(s.gop) for s in services]
        pauschalen: dict[str, int] = {}
        marker = phone_fees = 0
        for service, gop in zip(services, gops):
            if gop is None:
                self.unknown_gops.add(service.gop)
                continue
            kind = gop.kind
            if kind == PAUSCHALE:
                pauschalen[service.gop] = pauschalen.get(service.gop, 0) + 1
            elif kind == MARKER:
                marker += 1
            elif kind == TELEPHONE_FEE:
                phone_fees += 1

        # R6: the 88220 marker.
        if video_only and not marker:
            findings.append(Finding("R6", ERROR, "Behandlungsfall mit ausschließlich Videokontakten: "
                                                 "Pseudo-GOP 88220 ergänzen."))
        elif marker and not video_only:
            why = "einem persönlichen Kontakt" if has_personal else "Kontakten, die nicht alle per Video stattfanden"
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
        if VIDEO in kinds:
            barred = sorted({gop.chapter for gop in gops if gop is not None and gop.kind == PAUSCHALE
                             and gop.chapter in self.ruleset.no_video_chapters})
            if barred:
                findings.append(Finding("R12", ERROR, f"Die Arztgruppe des Kapitels {', '.join(barred)} kann "
                                                      "keine Videosprechstunde abrechnen: Videoleistungen streichen."))

        # Lines, with R3 (deduction), R4 (excluded surcharges), R1/R11 (not by video), R10, R9.
        deduction_of: dict[str, tuple[int, str]] = {}
        if video_only:
            for service, gop in zip(services, gops):
                if gop is not None and gop.kind == PAUSCHALE and gop.deduction:
                    deduction_of[service.gop] = (gop.deduction, gop.video_code)
                    for link in gop.links:
                        deduction_of.setdefault(link, (gop.deduction, ""))
        lines = []
        total = 0
        reduced = []
        not_billable = []
        visits_by_day: dict[dt.date, set[int]] = defaultdict(set)
        for contact in contacts:
            visits_by_day[contact.date].add(contact.visit)
        busy_days = {day for day, visits in visits_by_day.items() if len(visits) > 1}
        untimed: dict[dt.date, list[str]] = defaultdict(list)
        contact_count = sum(1 for c in contacts if c.kind in (PERSONAL, VIDEO))
        for service, gop in zip(services, gops):
            code = service.gop
            if gop is None:
                lines.append((code, service.date, code, 100, None))
                continue
            factor = 100
            billed = code
            kind = gop.kind
            if video_only and kind == EXCLUDED:
                factor = 0
                not_billable.append(code)
            elif code in deduction_of and kind in (PAUSCHALE, LINKED):
                deduction, video_code = deduction_of[code]
                factor = 100 - deduction
                billed = (video_code or gop.video_code or code) if kind == PAUSCHALE else code
                reduced.append((code, deduction, billed))
            if not gop.video and kind_of_visit.get(service.visit) == VIDEO:
                if kind == PAUSCHALE:
                    findings.append(Finding("R11", ERROR, f"Pauschale {code} ist im Rahmen einer Videosprechstunde "
                                                          "nicht berechnungsfähig."))
                else:
                    findings.append(Finding("R1", ERROR, f"GOP {code} am {_date(service.date)} kann nicht per Video "
                                                         "erbracht werden: für einen persönlichen Kontakt eine "
                                                         "eigene Inanspruchnahme mit Uhrzeit angeben."))
                factor = 0
            if gop.min_contacts and contact_count < gop.min_contacts:
                findings.append(Finding("R10", WARNING, f"GOP {code} setzt mindestens {gop.min_contacts} "
                                                        f"Arzt-Patienten-Kontakte voraus, gefunden {contact_count} "
                                                        "(Videokontakte zählen als persönliche)."))
            points = gop.points * service.multiplier * factor
            if points and service.time is None and service.date in busy_days:
                untimed[service.date].append(code)
            total += points
            lines.append((code, service.date, billed, factor, points))
        if reduced:
            text = "; ".join(f"{code} −{pct} % (als {billed})" for code, pct, billed in reduced)
            findings.append(Finding("R3", INFO, f"Reiner Videofall: Abschlag {text}; die KV nimmt ihn vor."))
        if not_billable:
            findings.append(Finding("R4", ERROR, f"Im reinen Videofall nicht berechnungsfähig: "
                                                 f"{', '.join(not_billable)} streichen."))
        for day, codes in sorted(untimed.items()):
            findings.append(Finding("R9", ERROR, f"Mehrere Inanspruchnahmen am {_date(day)}: Uhrzeit (Feld 5006) "
                                                 f"für {', '.join(codes)} angeben."))
        for lanr in {s.lanr for s in services if s.lanr}:
            problem = self._lanr_problem(lanr)
            if problem:
                findings.append(Finding("LANR", WARNING, problem))
        return CaseResult(case, video_only, phone_only, contacts, findings, lines, total)

    def _lanr_problem(self, lanr: str) -> str | None:
        try:
            return self._lanr_checked[lanr]
        except KeyError:
            pass
        try:
            parse_lanr(lanr)
            problem = None
        except IdentifierError as exc:
            problem = f"LANR {lanr}: {exc.message} Bitte prüfen (der Fall wird trotzdem geprüft)."
        self._lanr_checked[lanr] = problem
        return problem

    # -- counters for caps and totals -------------------------------------------------------------
    def _count(self, result: CaseResult) -> None:
        case = result.case
        self.cases += 1
        self.points_x100 += result.points_x100
        if result.video_only:
            self.video_only += 1
        if result.phone_only:
            self.phone_only += 1
        for finding in result.findings:
            self.severities[finding.severity] += 1
            self.rule_counts[finding.rule] += 1
        emergency = case.emergency
        if emergency:
            self.emergency += 1
            return  # R7/R8: emergency-service cases do not count
        ruleset = self.ruleset
        if not case.tss_acute:
            if ruleset.case_cap_unit == "bsnr":
                units = {case.bsnr or "unbekannt"}
            else:
                units = {s.lanr for s in case.services if s.lanr} or {"unbekannt"}
            for unit in units:
                counter = self._units[unit]
                counter[0] += 1
                if result.video_only:
                    counter[1] += 1
                    counter[2] += result.points_x100
        if ruleset.gop_cap_percent is not None:
            get = self.catalogue.get
            kind_of_visit = {c.visit: c.kind for c in result.contacts}
            counts = self._gop_counts
            for service in case.services:
                gop = get(service.gop)
                if gop is None or gop.kind != SERVICE or not gop.video:
                    continue
                by_video = kind_of_visit.get(service.visit) == VIDEO
                if gop.chapter == CHAPTER_35 and service.gop != CHAPTER_35_OWN_CAP:
                    counter = counts[(service.lanr or "unbekannt", "35*")]
                    amount = gop.points * service.multiplier * 100
                else:
                    counter = counts[(service.lanr or "unbekannt", service.gop)]
                    amount = service.multiplier
                counter[0] += amount
                if by_video:
                    counter[1] += amount

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
            "findings": dict(self.severities),
            "findings_by_rule": dict(sorted(self.rule_counts.items())),
            "points": str(Decimal(self.points_x100) / 100),
            "euro": str(euros(self.points_x100, value)),
            "euro_at_risk": str(sum((c.euro_at_risk for c in caps), Decimal("0.00"))
                                + sum((g.euro_at_risk for g in gop_caps), Decimal("0.00"))),
            "unknown_gops": sorted(self.unknown_gops),
        }
        return Summary(self.quarter, ruleset, value, caps, gop_caps, totals)
