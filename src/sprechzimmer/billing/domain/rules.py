"""The rules of EBM Allgemeine Bestimmung 4.3.1 (R1–R14 of docs/ebm.md), per Behandlungsfall.

``QuarterCheck`` checks one Behandlungsfall at a time (a :class:`~.model.Case`, i.e. one Schein, or a
:class:`~.model.TreatmentCase` of several Scheine of one patient), so a file of millions of Scheine
needs constant memory, and keeps the counters the caps (R7, R8) need; ``summary()`` gives the caps
and totals at the end. Rules the EBM states per Arztfall (the same patient and doctor, LANR) are
applied per LANR inside the Behandlungsfall.

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

from .catalogue import EXCLUDED, LINKED, MARKER, PAUSCHALE, SERVICE, TELEPHONE_FEE, VIDEO_SURCHARGE, Catalogue, \
    CatalogueView, Gop
from .model import INDIRECT, PERSONAL, TELEPHONE, VIDEO, Contact, Quarter, age_of
from .rulesets import RuleBook, RuleSet

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)
CENT = Decimal("0.01")

#: R8, chapter 35: the cap applies to the point volume of the chapter's video GOPs, except 35152.
CHAPTER_35 = "35"
CHAPTER_35_OWN_CAP = "35152"
#: GOP 01435 (R2): once per Behandlungsfall, twice for children up to their 12th birthday
#: (KBV, annotation to GOP 01435).
CHILD_AGE_01435 = 12
#: GOPs that only a video-only Behandlungsfall may carry: 01452, the surcharge for known patients
#: in video-only cases (Beschluss des Bewertungsausschusses, in force from 1.4.2025).
VIDEO_ONLY_GOPS = frozenset({"01452"})
#: GOPs 01435 may stand beside on the same day (KBV annotation to 01435; the list names 01431 and 40128).
BESIDE_01435 = frozenset({"01431", "40128"})
_ONLY_VIDEO = frozenset({VIDEO})
_PHONE_KINDS = frozenset({TELEPHONE, INDIRECT})
_UNCHECKED = object()
_NO_LANR = "unbekannt"


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
    """A checked Behandlungsfall. ``lines``: (gop, date, billed_code, factor_percent, points_x100 or
    None, lanr) per service, in file order.

    ``contacts`` (the stated or inferred Arzt-Patienten-Kontakte) is built on first use: most
    consumers only count and sum, and a Contact per visit per case is measurable at millions of
    cases."""

    __slots__ = ("case", "video_only", "phone_only", "_contacts", "_visits", "_kinds", "findings", "lines",
                 "points_x100", "late", "unchecked")

    def __init__(self, case, video_only, phone_only, contacts, findings, lines, points_x100, visits=None,
                 kinds=None, late=False, unchecked=0):
        self.case = case
        self.video_only = video_only
        self.phone_only = phone_only
        self._contacts = contacts
        self._visits = visits  # visit → its first service (inferred contacts)
        self._kinds = kinds  # visit → contact kind
        self.findings = findings
        self.lines = lines
        self.points_x100 = points_x100
        self.late = late  # a Behandlungsfall of an earlier quarter (Vorquartalsfall)
        self.unchecked = unchecked  # services with a GOP the catalogue does not know

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


def _share(part: int, whole: int) -> str:
    return str((Decimal(part) / whole).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)) if whole else "0"


class QuarterCheck:
    """Checks the Behandlungsfälle of one quarter against the rule set in force and counts for the caps.

    Late Behandlungsfälle (Scheine of an earlier quarter, field 4101 ≠ 9204) are checked with the
    rule set and catalogue of their own quarter and do not count for this quarter's caps."""

    def __init__(self, quarter: Quarter, rulebook: RuleBook, catalogue: Catalogue, ruleset: RuleSet | None = None):
        self.quarter = quarter
        #: The quarter the file itself bills; its Scheine are checked as ``quarter`` (which may be
        #: given otherwise), Scheine of earlier quarters as late ones.
        self.file_quarter: Quarter | None = None
        self.rulebook = rulebook
        self.ruleset = ruleset or rulebook.for_quarter(quarter)
        self.catalogue = catalogue
        self.orientation_value_ct = rulebook.orientation_value(quarter.year)
        self._contexts: dict[Quarter, tuple[CatalogueView, RuleSet]] = {
            quarter: (catalogue.view(quarter), self.ruleset)}
        # R7: unit id → [counted, video-only, points_x100 of the video-only cases]
        self._units: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        # R8: (lanr, gop) → [total, by video] (counts, or points_x100 for chapter 35)
        self._gop_counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        self._lanr_checked: dict[str, str | None] = {}
        self.cases = 0
        self.scheine = 0
        self.video_only = 0
        self.phone_only = 0
        self.emergency = 0
        self.late = 0
        self.late_quarters: set[Quarter] = set()
        self.points_x100 = 0
        self.services = 0
        self.unchecked_services = 0
        self.unpriced_services = 0
        self.severities = dict.fromkeys(SEVERITIES, 0)
        self.rule_counts: dict[str, int] = defaultdict(int)
        self.unknown_gops: dict[str, int] = defaultdict(int)
        self.counted = 0  # cases the case cap counts, practice-wide (no emergency, no TSS acute)
        self.counted_video_only = 0
        self._unit_is_practice = self.ruleset.case_cap_unit == "bsnr"
        self._gop_cap = self.ruleset.gop_cap_percent is not None
        self._chapter35_volume = self.ruleset.chapter35_point_volume

    def _context(self, quarter: Quarter) -> tuple[CatalogueView, RuleSet]:
        context = self._contexts.get(quarter)
        if context is None:
            context = self._contexts[quarter] = (self.catalogue.view(quarter), self.rulebook.for_quarter(quarter))
        return context

    # -- one Behandlungsfall ------------------------------------------------------------------
    def check_case(self, case) -> CaseResult:
        """Checks one Behandlungsfall without counting it for the caps."""
        return self._check(case)[0]

    def add(self, case) -> CaseResult:
        """Checks one Behandlungsfall and counts it for the caps and totals."""
        result, lanrs, gop_cap_services, kind_of_visit = self._check(case)
        self.cases += 1
        self.scheine += len(case.scheine)
        self.points_x100 += result.points_x100
        self.services += len(result.lines)
        self.unchecked_services += result.unchecked
        video_only = result.video_only
        if video_only:
            self.video_only += 1
        if result.phone_only:
            self.phone_only += 1
        for finding in result.findings:
            self.severities[finding.severity] += 1
            self.rule_counts[finding.rule] += 1
        if result.late:
            self.late += 1
            self.late_quarters.add(case.quarter)
            return result  # R7/R8 count the Behandlungsfälle of their own quarter
        if case.subgroup is not None and case.emergency:
            self.emergency += 1
            return result  # R7/R8: emergency-service cases do not count
        if not case.tss_acute:
            self.counted += 1
            if video_only:
                self.counted_video_only += 1
            if self._unit_is_practice:
                units = (case.bsnr or _NO_LANR,)
            else:
                units = lanrs or (_NO_LANR,)
            for unit in units:
                counter = self._units[unit]
                counter[0] += 1
                if video_only:
                    counter[1] += 1
                    counter[2] += result.points_x100
        if gop_cap_services:
            counts = self._gop_counts
            volume = self._chapter35_volume
            for service, gop, visit in gop_cap_services:
                if volume and gop.chapter == CHAPTER_35 and gop.base != CHAPTER_35_OWN_CAP and gop.points is not None:
                    counter = counts[(service.lanr or _NO_LANR, "35*")]
                    amount = gop.points * service.multiplier * 100
                else:
                    counter = counts[(service.lanr or _NO_LANR, gop.base)]
                    amount = service.multiplier
                counter[0] += amount
                if kind_of_visit.get(visit) == VIDEO:
                    counter[1] += amount
        return result

    def _check(self, case):  # noqa: C901 - the rules in one pass over the services, for speed
        quarter = case.quarter
        if quarter is None or quarter == self.file_quarter:
            quarter = self.quarter
        view, ruleset = self._contexts.get(quarter) or self._context(quarter)
        late = quarter < self.quarter
        get = view.get
        resolve = view.resolve
        scheine = case.scheine
        gops = []
        visits = []  # the visit key of each service: Schein number << 16 | visit
        # Lines as if nothing were reduced; rebuilt below in the rare cases that deduct or refuse.
        lines = []
        total = 0
        visit_flags: dict[int, int] = {}  # 1 video, 2 01435, 4 a GOP only possible in person, 8 a Pauschale
        first_of_visit = {}
        doctor_of_visit = {}
        pauschalen: dict[str, int] = {}
        pauschale_of: dict[str | None, str] = {}  # LANR (Arztfall) → its first Pauschale
        limited: dict[str, list] = {}  # group → [count, max, codes] (R5)
        lanrs = set()
        phone = []  # (service, LANR, Schein) of every 01435
        marker = unknown = 0
        special = False  # a GOP that needs the slow checks (R1/R4/R10/R11/R13/R14, dates)
        gop_cap_services = [] if self._gop_cap and not late else None
        visit_days = set()
        same_day = False  # two visits on one day (R9)
        offset = 0
        last_visit = None
        for schein in scheine:
            for service in schein.services:
                code = service.gop
                gop = get(code)
                if gop is None:
                    gop = resolve(code)
                gops.append(gop)
                visit = offset | service.visit
                visits.append(visit)
                lanr = service.lanr
                if visit != last_visit:  # services come grouped by visit (KVDT); a dict tells for the rest
                    last_visit = visit
                    if visit not in visit_flags:
                        visit_flags[visit] = 0
                        first_of_visit[visit] = service
                        doctor_of_visit[visit] = lanr
                        if service.date in visit_days:
                            same_day = True
                        else:
                            visit_days.add(service.date)
                if lanr:
                    lanrs.add(lanr)
                if gop is None:
                    unknown += 1
                    self.unknown_gops[code] += 1
                    lines.append((code, service.date, code, 100, None, lanr))
                    continue
                points = gop.points
                if points is not None:
                    points = points * service.multiplier * 100
                    total += points
                else:
                    self.unpriced_services += 1
                lines.append((code, service.date, code, 100, points, lanr))
                kind = gop.kind
                if kind is SERVICE:
                    if gop_cap_services is not None and gop.video:
                        gop_cap_services.append((service, gop, visit))
                    if gop.video_marked:
                        visit_flags[visit] |= 1
                elif kind is PAUSCHALE:
                    pauschalen[code] = pauschalen.get(code, 0) + 1
                    visit_flags[visit] |= 9 if gop.video_marked else 8
                    if lanr not in pauschale_of:
                        pauschale_of[lanr] = code
                elif kind is VIDEO_SURCHARGE:
                    visit_flags[visit] |= 1
                elif kind is TELEPHONE_FEE:
                    visit_flags[visit] |= 2
                    phone.append((service, lanr, schein))
                elif kind is MARKER:
                    marker += 1
                elif kind is EXCLUDED:
                    special = True
                if gop.max_per_case:
                    group = gop.group or gop.base
                    entry = limited.get(group)
                    if entry is None:
                        limited[group] = [1, gop.max_per_case, [code]]
                    else:
                        entry[0] += 1
                        entry[2].append(code)
                if gop.personal_only:
                    visit_flags[visit] |= 4
                    special = True
                elif gop.min_contacts or gop.dated or gop.age_min is not None or code in VIDEO_ONLY_GOPS:
                    special = True
            offset += 1 << 16

        contacts = None
        if case.contacts is not None:
            contacts = case.contacts
            kind_of_visit = {c.visit: c.kind for c in contacts}
            inferred = None
        elif len(scheine) > 1 and all(s.contacts is not None for s in scheine):
            contacts = [Contact(c.date, c.kind, n << 16 | c.visit, c.time)
                        for n, s in enumerate(scheine) for c in s.contacts]
            kind_of_visit = {c.visit: c.kind for c in contacts}
            inferred = None
        else:
            # Contact inference (KVDT states no contacts), one contact per visit (5000 group): a visit
            # with 01450 or a GOP marked as video is a video contact, with 01435 a telephone contact,
            # with a GOP that cannot be delivered by video a personal contact. Any other visit takes
            # the case's marker (88220 → video); without it a telephone contact when the visit's
            # doctor (Arztfall) billed 01435 and no Pauschale, else a personal one: a Pauschale
            # means the patient came in, and another doctor's 01435 says nothing about this visit.
            # The Contact objects themselves are made only when asked for (CaseResult.contacts).
            phoning = {lanr for _service, lanr, _schein in phone if lanr not in pauschale_of}
            kind_of_visit = {}
            for visit, flags in visit_flags.items():
                kind_of_visit[visit] = VIDEO if flags & 1 else TELEPHONE if flags & 2 else PERSONAL if flags & 4 \
                    else VIDEO if marker else TELEPHONE if doctor_of_visit[visit] in phoning else PERSONAL
            inferred = first_of_visit
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
        # R1/R2: 01435, per Arztfall (the same patient and doctor).
        if phone:
            self._telephone(phone, pauschale_of, kind_of_visit, visits, gops, scheine, case, findings)
        elif phone_only and pauschalen:
            codes = ", ".join(sorted(pauschalen))
            findings.append(Finding("R2", WARNING, f"Nur telefonische/mittelbare Kontakte: {codes} setzt einen "
                                                   "persönlichen oder Videokontakt voraus. Fand keiner statt, ist "
                                                   "stattdessen die 01435 berechnungsfähig."))
        elif phone_only:
            findings.append(Finding("R2", WARNING, "Nur telefonische/mittelbare Kontakte: GOP 01435 ist "
                                                   "berechnungsfähig und fehlt."))
        # R5: GOPs with a limit per Behandlungsfall (a Pauschale once; 04030 twice; one age tier).
        for group, (count, limit, codes) in limited.items():
            if count > limit:
                listed = ", ".join(dict.fromkeys(codes))
                times = "einmal" if limit == 1 else f"{limit}-mal"
                findings.append(Finding("R5", ERROR, f"{listed}: {count}-mal angesetzt, im Behandlungsfall nur "
                                                     f"{times} berechnungsfähig; weitere streichen."))
        # R12: doctor groups without video.
        if VIDEO in kinds and pauschalen:
            barred = sorted({(get(code) or resolve(code)).chapter for code in pauschalen} & ruleset.no_video_chapters)
            if barred:
                findings.append(Finding("R12", ERROR, f"Die Arztgruppe des Kapitels {', '.join(barred)} kann "
                                                      "keine Videosprechstunde abrechnen: Videoleistungen streichen."))

        # R3 (deduction), R4 (excluded surcharges), R1/R11 (not by video), R10, R13, R14, GOP dates.
        deduction_of: dict[str, tuple[int, str, dt.date]] = {}
        if video_only:
            for code in pauschalen:
                gop = get(code) or resolve(code)
                if gop.deduction:
                    deduction_of[code] = (gop.deduction, gop.video_code or code, gop.deduction_from)
                    for link in gop.links:
                        deduction_of.setdefault(link, (gop.deduction, link, gop.deduction_from))
        services = case.services
        if deduction_of or special:
            if contacts is None and special:
                contacts = _inferred_contacts(first_of_visit, kind_of_visit)
            lines, total = self._lines(services, gops, visits, deduction_of, special, video_only, kind_of_visit,
                                       contacts, findings, age_of(case), view)
        # R9: several visits on one day need times for billable services.
        if contacts is None:
            if same_day:
                self._times(services, visits, gops, lines, findings)
        elif len({c.date for c in contacts}) < len(contacts):
            self._times(services, visits, gops, lines, findings)
        for lanr in lanrs:
            problem = self._lanr_checked.get(lanr, _UNCHECKED)
            if problem is _UNCHECKED:
                problem = self._lanr_problem(lanr)
            if problem:
                findings.append(Finding("LANR", WARNING, problem))
        result = CaseResult(case, video_only, phone_only, contacts, findings, lines, total, inferred, kind_of_visit,
                            late, unknown)
        return result, lanrs, gop_cap_services, kind_of_visit

    @staticmethod
    def _telephone(phone, pauschale_of, kind_of_visit, visits, gops, scheine, case, findings) -> None:
        """R1/R2 for GOP 01435 (KBV annotation to 01435, 4.3.1 Abs. 4): per Arztfall; once per
        Behandlungsfall, twice for children up to their 12th birthday; not in the organised
        emergency service; not in an Arztfall with a Versicherten-, Grund- or Konsiliarpauschale.
        Where a combination is wrong the advice keeps the higher-valued Pauschale."""
        if any(schein.emergency for _service, _lanr, schein in phone):
            findings.append(Finding("R2", ERROR, "01435 ist im organisierten Not(-fall)dienst nicht berechnungsfähig "
                                                 "(Anmerkung zur GOP 01435): 01435 streichen; im Notdienst gelten "
                                                 "die Notfall- und Notfallkonsultationspauschalen."))
        age = age_of(case)
        limit = 2 if age is not None and age < CHILD_AGE_01435 else 1
        if len(phone) > limit:
            why = "zweimal (Kind bis zum vollendeten 12. Lebensjahr)" if limit == 2 else \
                "einmal (bei Kindern bis zum vollendeten 12. Lebensjahr zweimal)"
            findings.append(Finding("R2", ERROR, f"01435 ist {len(phone)}-mal angesetzt, im Behandlungsfall nur {why} "
                                                 "berechnungsfähig: weitere streichen."))
        by_doctor: dict[str | None, list] = {}
        for service, lanr, _schein in phone:
            by_doctor.setdefault(lanr, []).append(service)
        kinds_of_doctor: dict[str | None, set] = defaultdict(set)
        days_of_doctor: dict[tuple, list[str]] = defaultdict(list)
        for schein_services_visit, gop in zip(zip(case.services, visits), gops):
            service, visit = schein_services_visit
            kinds_of_doctor[service.lanr].add(kind_of_visit.get(visit))
            if gop is not None and gop.kind is not MARKER and gop.kind is not TELEPHONE_FEE \
                    and gop.base not in BESIDE_01435 and gop.points:
                days_of_doctor[(service.lanr, service.date)].append(service.gop)
        for lanr, services in by_doctor.items():
            who = f"der LANR {lanr}" if lanr else "ohne LANR"
            pauschale = pauschale_of.get(lanr)
            if pauschale:
                findings.append(Finding("R2", ERROR, f"Im Arztfall {who} ist 01435 nicht neben der Pauschale "
                                                     f"{pauschale} berechnungsfähig (Anmerkung zur GOP 01435): 01435 "
                                                     f"streichen, {pauschale} bleibt."))
                continue
            if kinds_of_doctor[lanr] & {PERSONAL, VIDEO}:
                findings.append(Finding("R1", ERROR, f"Im Arztfall {who} gab es auch persönliche oder Videokontakte; "
                                                     "Telefonkontakte sind dann Inhalt der Pauschale (4.3.1): 01435 "
                                                     "streichen."))
                continue
            for service in services:
                beside = days_of_doctor.get((lanr, service.date))
                if beside:
                    findings.append(Finding("R2", WARNING, f"01435 am {_date(service.date)} neben "
                                                           f"{', '.join(dict.fromkeys(beside))}: neben 01435 sind nur "
                                                           "01431 und 40128 berechnungsfähig (Anmerkung zur GOP 01435)."))

    @staticmethod
    def _lines(services, gops, visits, deduction_of, special, video_only, kind_of_visit, contacts, findings, age,
               view):  # noqa: C901 - the slow checks of one case, in one pass
        """The lines of a case with a deduction (R3) or a GOP that needs the slow checks."""
        lines = []
        total = 0
        reduced = []
        not_billable = []
        contact_count = None
        for service, gop, visit in zip(services, gops, visits):
            code = service.gop
            if gop is None:
                lines.append((code, service.date, code, 100, None, service.lanr))
                continue
            factor = 100
            billed = code
            if deduction_of and code in deduction_of:
                deduction, billed, since = deduction_of[code]
                if service.date < since:
                    findings.append(Finding("R11", ERROR, f"{code} am {_date(service.date)}: vor dem {_date(since)} "
                                                          "im reinen Videofall nicht berechnungsfähig."))
                    factor = 0
                    billed = code
                else:
                    factor = 100 - deduction
                    reduced.append((code, deduction, billed))
            if special:
                kind = gop.kind
                if gop.dated and not gop.valid_on(service.date):
                    when = f"ab {_date(gop.valid_from)}" if service.date < gop.valid_from \
                        else f"bis {_date(gop.valid_to)}"
                    findings.append(Finding("GOP", ERROR, f"GOP {code} ist am {_date(service.date)} nicht "
                                                          f"berechnungsfähig (gilt {when})."))
                    factor = 0
                elif video_only and kind is EXCLUDED:
                    factor = 0
                    not_billable.append(code)
                elif gop.personal_only and kind_of_visit.get(visit) == VIDEO:
                    if kind is PAUSCHALE:
                        findings.append(Finding("R11", ERROR, f"Pauschale {code} ist im Rahmen einer "
                                                              "Videosprechstunde nicht berechnungsfähig."))
                    else:
                        findings.append(Finding("R1", ERROR, f"GOP {code} am {_date(service.date)} kann nicht per "
                                                             "Video erbracht werden: für einen persönlichen Kontakt "
                                                             "eine eigene Inanspruchnahme mit Uhrzeit angeben."))
                    factor = 0
                elif gop.base in VIDEO_ONLY_GOPS and not video_only:
                    findings.append(Finding("R13", ERROR, f"{code} ist nur im Behandlungsfall mit ausschließlich "
                                                          "Videokontakten berechnungsfähig (Zuschlag für bekannte "
                                                          "Patienten): streichen."))
                    factor = 0
                if gop.min_contacts:
                    if contact_count is None:
                        contact_count = sum(1 for c in contacts if c.kind is PERSONAL or c.kind is VIDEO)
                    if contact_count < gop.min_contacts:
                        findings.append(Finding("R10", WARNING, f"GOP {code} setzt mindestens {gop.min_contacts} "
                                                                f"Arzt-Patienten-Kontakte voraus, gefunden "
                                                                f"{contact_count} (Videokontakte zählen als "
                                                                "persönliche)."))
                if age is not None and (gop.age_min is not None and age < gop.age_min
                                        or gop.age_max is not None and age > gop.age_max):
                    findings.append(Finding("R14", WARNING, f"{code} gilt für {_age_range(gop)}; der Patient war bei "
                                                            f"der ersten Inanspruchnahme im Quartal {age} Jahre alt"
                                                            f"{_tier_hint(view, gop, age)} (Allgemeine Bestimmung "
                                                            "4.3.5)."))
            points = None if gop.points is None else gop.points * service.multiplier * factor
            if points is not None:
                total += points
            lines.append((code, service.date, billed, factor, points, service.lanr))
        if reduced:
            text = "; ".join(f"{code} – {pct} % (als {billed})" for code, pct, billed in dict.fromkeys(reduced))
            findings.append(Finding("R3", INFO, f"Reiner Videofall: Abschlag {text}; die KV nimmt ihn vor."))
        if not_billable:
            findings.append(Finding("R4", ERROR, f"Im reinen Videofall nicht berechnungsfähig: "
                                                 f"{', '.join(not_billable)} streichen."))
        return lines, total

    @staticmethod
    def _times(services, visits, gops, lines, findings) -> None:
        """R9: with several visits on one day, each visit with a billable service needs its time
        (field 5006) on at least one of its GOPs; every GOP of the visit counts, unknown ones too."""
        visits_by_day: dict[dt.date, set[int]] = defaultdict(set)
        timed = set()
        for service, visit in zip(services, visits):
            visits_by_day[service.date].add(visit)
            if service.time:
                timed.add(visit)
        untimed: dict[dt.date, list[str]] = defaultdict(list)
        for service, visit, gop, line in zip(services, visits, gops, lines):
            if visit in timed or len(visits_by_day[service.date]) < 2 or line[3] == 0:
                continue
            if gop is None or gop.kind is not MARKER:
                untimed[service.date].append(service.gop)
        for day, codes in sorted(untimed.items()):
            findings.append(Finding("R9", ERROR, f"Mehrere Inanspruchnahmen am {_date(day)}: Uhrzeit (Feld 5006) je "
                                                 f"Inanspruchnahme angeben; ohne Uhrzeit: {', '.join(codes)}."))

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
            view = self._contexts[self.quarter][0]
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
                    gop = view.get(code) or view.resolve(code)
                    at_risk = euros(excess * (gop.points or 0) * 100, value)
                    gop_caps.append(GopCapResult(lanr, code, "count", Decimal(total), Decimal(by_video),
                                                 Decimal(limit), Decimal(excess), at_risk))
        totals = {
            "cases": self.cases,
            "scheine": self.scheine,
            "video_only_cases": self.video_only,
            "phone_only_cases": self.phone_only,
            "emergency_cases": self.emergency,
            "late_cases": self.late,
            "late_quarters": [str(q) for q in sorted(self.late_quarters)],
            "counted_cases": self.counted,
            "counted_video_only_cases": self.counted_video_only,
            "findings": dict(self.severities),
            "findings_by_rule": dict(sorted(self.rule_counts.items())),
            "services": self.services,
            "unchecked_services": {"count": self.unchecked_services, "total": self.services,
                                   "share": _share(self.unchecked_services, self.services)},
            "unpriced_services": self.unpriced_services,
            "points": str(Decimal(self.points_x100) / 100),
            "euro": str(euros(self.points_x100, value)),
            "euro_at_risk": str(sum((c.euro_at_risk for c in caps), Decimal("0.00"))
                                + sum((g.euro_at_risk for g in gop_caps), Decimal("0.00"))),
            "unknown_gops": sorted(self.unknown_gops),
        }
        return Summary(self.quarter, ruleset, value, caps, gop_caps, totals)


def _age_range(gop: Gop) -> str:
    if gop.age_min is None:
        return f"Patienten bis zum vollendeten {gop.age_max + 1 if gop.age_max is not None else '?'}. Lebensjahr"
    if gop.age_max is None:
        return f"Patienten ab Beginn des {gop.age_min + 1}. Lebensjahres"
    return f"Patienten von {gop.age_min} bis {gop.age_max} Jahren"


def _tier_hint(view: CatalogueView, gop: Gop, age: int) -> str:
    if not gop.group:
        return ""
    for other in view.gops.values():
        if other.group == gop.group and other.code == other.base and (other.age_min, other.age_max) != (None, None) \
                and (other.age_min is None or other.age_min <= age) and (other.age_max is None or age <= other.age_max):
            return f": {other.code} abrechnen"
    return ""


__all__ = ["CaseResult", "Finding", "QuarterCheck", "Summary", "euros", "LINKED"]
