"""The rules of EBM Allgemeine Bestimmung 4.3.1 (R1–R14 of docs/ebm.md), per Behandlungsfall.

``QuarterCheck`` checks one Behandlungsfall at a time (a :class:`~.model.Case`, i.e. one Schein, or a
:class:`~.model.TreatmentCase` of several Scheine of one patient), so a file of millions of Scheine
needs constant memory, and keeps the counters the caps (R7, R8) need; ``summary()`` gives the caps
and totals at the end. Rules the EBM states per Arztfall (the same patient and doctor, LANR) are
applied per LANR inside the Behandlungsfall.

The first pass over a Behandlungsfall's services (``_first_pass``) and R8's counters run in C where
the KVDT scanner is built (``_kvdt.first_pass``, ``_kvdt.count_caps``); the Python functions are the
reference, and tests/billing/test_accelerated.py wants the same results from both.

Points are kept as integers in hundredths (``points_x100``): a deduction of 20 % on 150 points is
12000 × 80 / 100 = 12000 → exact, because tiers are whole percents. Euros are computed once per
reported figure: points × Orientierungswert (ct) / 100, rounded half up to the cent.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import repeat
from operator import attrgetter
from typing import Any

from sprechzimmer.accounts.domain import IdentifierError, parse_lanr
from sprechzimmer.core.formats import date as german_date
from sprechzimmer.core.money import cents, round_to

from . import kvdt
from .catalogue import (
    EXCLUDED,
    F_CAP,
    F_EXCLUDED,
    F_KIND,
    F_LIMITED,
    F_MIN_CONTACTS,
    F_PERSONAL,
    F_SLOW,
    F_TIERED,
    F_VIDEO_VISIT,
    F_VOLUME,
    K_MARKER,
    K_PAUSCHALE,
    K_TELEPHONE,
    LINKED,
    MARKER,
    PAUSCHALE,
    TELEPHONE_FEE,
    VIDEO_ONLY_GOPS,
    Catalogue,
    CatalogueView,
    Gop,
    GopInfo,
)
from .model import INDIRECT, PERSONAL, TELEPHONE, VIDEO, Case, Contact, Quarter, Service, TreatmentCase, age_of
from .rulesets import RuleBook, RuleSet

try:
    from . import _kvdt  # the first pass in C (``first_pass``), built with the KVDT scanner

    _kvdt.configure(Case, Service, VIDEO, TELEPHONE, PERSONAL)
except ImportError:  # pragma: no cover - depends on the build
    _kvdt = None  # type: ignore[assignment]

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)

#: GOP 01435 (R2): once per Behandlungsfall, twice for children up to their 12th birthday
#: (KBV, annotation to GOP 01435).
CHILD_AGE_01435 = 12
#: GOPs 01435 may stand beside on the same day (KBV annotation to 01435; the list names 01431 and 40128).
BESIDE_01435 = frozenset({"01431", "40128"})
_ONLY_VIDEO = frozenset({VIDEO})
_EMPTY: frozenset[str] = frozenset()
_CODE = attrgetter("gop")
_MULTIPLIER = attrgetter("multiplier")
_LANR = attrgetter("lanr")
_VISIT = attrgetter("visit")
_FAST = attrgetter("fast")
_PRICE = attrgetter("price")
_UNPRICED = attrgetter("unpriced")
_BASE = attrgetter("base")
#: The GOPs the first pass looks at one by one.
F_PYTHON = F_KIND | F_LIMITED | F_TIERED
_REPEAT_VIDEO_VISIT = repeat(F_VIDEO_VISIT)
_REPEAT_PERSONAL = repeat(F_PERSONAL)
_REPEAT_CAP = repeat(F_CAP)
_REPEAT_PYTHON = repeat(F_PYTHON)


#: Every case the rules check: a Schein alone or a Behandlungsfall of several.
AnyCase = Case | TreatmentCase
#: A catalogue lookup (``CatalogueView.get`` / ``resolve``).
Lookup = Callable[[str], "Gop | None"]
#: (service, its GOP or None when unknown, visit key) of every service of a Behandlungsfall.
Walked = tuple[Service, "Gop | None", int]
#: (service, its GOP, visit key) of a service the GOP cap (R8) counts.
CapService = tuple[Service, Gop, int]
#: (gop, date, billed code, factor in percent, points × 100 or None, LANR) of one service.
Line = tuple[str, dt.date, str, int, "int | None", "str | None"]


class _Unknown:
    """Stands for a GOP the catalogue does not know in the first pass: no points, no checks."""

    __slots__ = ()
    price = 0
    unpriced = 0
    fast = 0


_UNKNOWN = _Unknown()


def _first(item: tuple[int, Service]) -> int:
    return item[0]


_PHONE_KINDS = frozenset({TELEPHONE, INDIRECT})
_NO_LANR = "unbekannt"
#: The counters of the plain path (``_kvdt.check_plain``), in its order: cases, Scheine, points × 100,
#: services, unknown, unpriced, video-only, counted (R7), counted video-only, plain cases.
_TALLY = (
    "cases",
    "scheine",
    "points_x100",
    "services",
    "unchecked_services",
    "unpriced_services",
    "video_only",
    "counted",
    "counted_video_only",
    "plain_cases",
)


class Finding:
    __slots__ = ("rule", "severity", "message")

    def __init__(self, rule: str, severity: str, message: str):
        self.rule = rule
        self.severity = severity
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "severity": self.severity, "message": self.message}

    def __repr__(self) -> str:
        return f"Finding({self.rule}, {self.severity}, {self.message!r})"


class CaseResult:
    """A checked Behandlungsfall. ``lines``: (gop, date, billed_code, factor_percent, points_x100 or
    None, lanr) per service, in file order; ``count`` the number of services.

    ``contacts`` (the stated or inferred Arzt-Patienten-Kontakte) and ``lines`` are built on first
    use: most consumers only count and sum, and objects per service and visit are measurable at
    millions of cases. A case whose lines the check changed (a deduction, a refused GOP) has them."""

    __slots__ = (
        "case",
        "video_only",
        "phone_only",
        "_contacts",
        "_visits",
        "_kinds",
        "findings",
        "_lines",
        "points_x100",
        "late",
        "unchecked",
        "_view",
        "count",
    )

    def __init__(
        self,
        case: AnyCase,
        video_only: bool,
        phone_only: bool,
        contacts: list[Contact] | None,
        findings: list[Finding],
        lines: list[Line] | None,
        points_x100: int,
        visits: dict[int, Service] | None = None,
        kinds: dict[int, str] | None = None,
        late: bool = False,
        unchecked: int = 0,
        view: CatalogueView | None = None,
        count: int | None = None,
    ):
        self.case = case
        self.video_only = video_only
        self.phone_only = phone_only
        self._contacts = contacts
        self._visits = visits  # visit → its first service (inferred contacts)
        self._kinds = kinds  # visit → contact kind
        self.findings = findings
        self._lines = lines
        self._view = view  # the catalogue the case was checked with (lines made later)
        self.points_x100 = points_x100
        self.late = late  # a Behandlungsfall of an earlier quarter (Vorquartalsfall)
        self.unchecked = unchecked  # services with a GOP the catalogue does not know
        self.count = len(lines or ()) if count is None else count

    @property
    def lines(self) -> list[Line]:
        if self._lines is None:
            assert self._view is not None  # a result without lines carries the view to make them
            get = self._view.get
            resolve = self._view.resolve
            lines: list[Line] = []
            self._lines = lines
            for service in self.case.services:
                code = service.gop
                gop = get(code) or resolve(code)
                points = None if gop is None or gop.points is None else gop.points * service.multiplier * 100
                lines.append((code, service.date, code, 100, points, service.lanr))
        return self._lines

    @property
    def contacts(self) -> list[Contact]:
        if self._contacts is None:
            if self._visits is None:  # a plain case (QuarterCheck._add_plain): its visits are found again
                assert self._view is not None
                walk = _first_pass(self.case.scheine, self._view.infos, self._view.info, {}, False)
                self._visits, self._kinds = walk[6], walk[7]
            assert self._kinds is not None  # inferred: made on first use
            self._contacts = _inferred_contacts(self._visits, self._kinds)
        return self._contacts

    def rules(self) -> list[str]:
        return [f.rule for f in self.findings]


def _walk(scheine: Sequence[Case], get: Lookup, resolve: Lookup) -> list[Walked]:
    """(service, gop or None, visit key) of every service of a Behandlungsfall, in file order; the
    visit key is the Schein's number << 16 | the visit within the Schein."""
    walked: list[Walked] = []
    for number, schein in enumerate(scheine):
        offset = number << 16
        for service in schein.services:
            code = service.gop
            walked.append((service, get(code) or resolve(code), offset | service.visit))
    return walked


def _inferred_contacts(first_of_visit: dict[int, Service], kind_of_visit: dict[int, str]) -> list[Contact]:
    """One contact per visit: on the date and time of its first service, of the inferred kind."""
    return [
        Contact(first.date, kind_of_visit[visit], visit, first.time)
        for visit, first in sorted(first_of_visit.items(), key=_first)
    ]


FirstPass = tuple[
    int,
    int,
    int,
    int,
    int,
    int,
    dict[int, Service],
    dict[int, str],
    dict[str, int],
    dict["str | None", str],
    "dict[str, list[Any]] | None",
    set[str],
    "list[tuple[Service, str | None, Case]] | None",
    "list[Gop] | None",
    "list[CapService] | None",
    bool,
    "dt.date | None",
]


def _first_pass(
    scheine: Sequence[Case],
    infos: dict[str, GopInfo | None],
    info_of: Callable[[str], GopInfo | None],
    unknown_gops: dict[str, int],
    want_caps: bool,
) -> FirstPass:
    """One walk over the services of a Behandlungsfall that gathers what the rules look at: points
    (× multiplier), services, unknown and unpriced ones, 88220, the F_* bits of all its GOPs, each
    visit's first service and inferred contact kind, the Pauschalen (and the first per Arztfall),
    the GOPs with a limit per case (R5) or an age tier (R14), every 01435, the services R8 counts,
    two visits on one day (R9) and the first day. The C scanner's ``first_pass`` is the same walk
    in C; this one is its reference (the tests compare both) and runs without a C compiler."""
    total = count = unknown = unpriced = marker = 0
    visit_flags: dict[int, int] = {}  # visit key (Schein number << 16 | visit) → 1 video, 2 01435, 4 in person
    first_of_visit: dict[int, Service] = {}
    doctor_of_visit: dict[int, str | None] = {}
    pauschalen: dict[str, int] = {}
    pauschale_of: dict[str | None, str] = {}  # LANR (Arztfall) → its first Pauschale
    limited: dict[str, list[Any]] | None = None  # group → [count, max, codes] (R5)
    lanrs: set[str] = set()
    last_lanr = None
    phone: list[tuple[Service, str | None, Case]] | None = None  # (service, LANR, Schein) of every 01435
    special = 0  # the F_* bits of all the case's GOPs: which of the slower checks can find something
    tiered: list[Gop] | None = None  # Pauschalen with an age tier (R14)
    gop_cap_services: list[CapService] | None = [] if want_caps else None
    visit_days: set[dt.date] = set()
    first_day: dt.date | None = None
    same_day = False  # two visits on one day (R9)
    offset = 0
    last_number: int | None = None
    visit = 0
    for schein in scheine:
        services = schein.services
        count += len(services)
        for service in services:
            code = service.gop
            try:
                info = infos[code]
            except KeyError:
                info = info_of(code)
            number = service.visit
            if number != last_number:  # services come grouped by visit (KVDT); a dict tells for the rest
                last_number = number
                visit = offset | number
                if visit not in visit_flags:
                    visit_flags[visit] = 0
                    first_of_visit[visit] = service
                    doctor_of_visit[visit] = service.lanr
                    day = service.date
                    if day in visit_days:
                        same_day = True
                    else:
                        visit_days.add(day)
                        if first_day is None or day < first_day:
                            first_day = day
            lanr = service.lanr
            if lanr is not last_lanr:  # the reader shares one string per LANR
                last_lanr = lanr
                if lanr:
                    lanrs.add(lanr)
            if info is None:
                unknown += 1
                unknown_gops[code] = unknown_gops.get(code, 0) + 1
                continue
            gop, fast, points, kind, group, limit = info
            if points is None:
                unpriced += 1
            else:
                total += points * service.multiplier
            if not fast:
                continue
            special |= fast
            if fast & F_CAP:
                if gop_cap_services is not None:
                    gop_cap_services.append((service, gop, visit))
                if fast == F_CAP:
                    continue
            if fast & F_PERSONAL:
                visit_flags[visit] |= 4
                if fast == F_PERSONAL:
                    continue
            if fast & F_KIND:
                if kind == K_PAUSCHALE:
                    pauschalen[code] = pauschalen.get(code, 0) + 1
                    if lanr not in pauschale_of:
                        pauschale_of[lanr] = code
                elif kind == K_TELEPHONE:
                    visit_flags[visit] |= 2
                    if phone is None:
                        phone = [(service, lanr, schein)]
                    else:
                        phone.append((service, lanr, schein))
                elif kind == K_MARKER:
                    marker += 1
            if fast & F_VIDEO_VISIT:
                visit_flags[visit] |= 1
            if fast & F_LIMITED:
                if limited is None:
                    limited = {}
                entry = limited.get(group)
                if entry is None:
                    limited[group] = [1, limit, [code]]
                else:
                    entry[0] += 1
                    entry[2].append(code)
            if fast & F_TIERED:
                if tiered is None:
                    tiered = [gop]
                else:
                    tiered.append(gop)
        offset += 1 << 16
        last_number = None
    # Contact inference (KVDT states no contacts), one contact per visit (5000 group): a visit with
    # 01450 or a GOP marked as video is a video contact, with 01435 a telephone contact, with a GOP
    # that cannot be delivered by video a personal contact. Any other visit takes the case's marker
    # (88220 → video); without it a telephone contact when the visit's doctor (Arztfall) billed
    # 01435 and no Pauschale, else a personal one: a Pauschale means the patient came in, and
    # another doctor's 01435 says nothing about this visit.
    phoning = () if phone is None else {lanr for _service, lanr, _schein in phone if lanr not in pauschale_of}
    kind_of_visit: dict[int, str] = {}
    for visit, flags in visit_flags.items():
        kind_of_visit[visit] = (
            VIDEO
            if flags & 1
            else TELEPHONE
            if flags & 2
            else PERSONAL
            if flags & 4
            else VIDEO
            if marker
            else TELEPHONE
            if doctor_of_visit[visit] in phoning
            else PERSONAL
        )
    return (
        total,
        count,
        unknown,
        unpriced,
        marker,
        special,
        first_of_visit,
        kind_of_visit,
        pauschalen,
        pauschale_of,
        limited,
        lanrs,
        phone,
        tiered,
        gop_cap_services,
        same_day,
        first_day,
    )


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

    def as_dict(self) -> dict[str, object]:
        return {
            "unit": self.unit,
            "id": self.id,
            "counted_cases": self.counted_cases,
            "video_only_cases": self.video_only_cases,
            "limit": None if self.limit is None else str(self.limit),
            "excess_cases": self.excess_cases,
            "euro_at_risk": str(self.euro_at_risk),
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

    def as_dict(self) -> dict[str, object]:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in self.__dict__.items()}


@dataclass
class Summary:
    quarter: Quarter
    ruleset: RuleSet
    orientation_value_ct: Decimal
    caps: list[CapResult]
    gop_caps: list[GopCapResult]
    totals: dict[str, Any] = field(default_factory=dict)
    #: the year whose Orientierungswert priced the euros (an earlier one: provisional)
    orientation_value_year: int | None = None


def euros(points_x100: int | Decimal, orientation_value_ct: Decimal) -> Decimal:
    """Points (in hundredths) × Orientierungswert (ct) → euros, rounded half up to the cent."""
    return cents(Decimal(points_x100) * orientation_value_ct / 10000)


def _share(part: int, whole: int) -> str:
    return str(round_to(Decimal(part) / whole, Decimal("0.0001"))) if whole else "0"


class QuarterCheck:
    """Checks the Behandlungsfälle of one quarter against the rule set in force and counts for the caps.

    Late Behandlungsfälle (Scheine of an earlier quarter, field 4101 ≠ 9204) are checked with the
    rule set and catalogue of their own quarter and do not count for this quarter's caps."""

    def __init__(
        self,
        quarter: Quarter,
        rulebook: RuleBook,
        catalogue: Catalogue,
        ruleset: RuleSet | None = None,
        *,
        accelerated: bool | None = None,
        plain: bool | None = None,
    ):
        self.quarter = quarter
        #: The quarter the file itself bills; its Scheine are checked as ``quarter`` (which may be
        #: given otherwise), Scheine of earlier quarters as late ones.
        self.file_quarter: Quarter | None = None
        self.rulebook = rulebook
        self.ruleset = ruleset or rulebook.for_quarter(quarter)
        self.catalogue = catalogue
        self.orientation_value_ct, self.orientation_value_year = rulebook.orientation_value_or_latest(quarter.year)
        self._own = (catalogue.view(quarter), self.ruleset)
        self._contexts: dict[Quarter, tuple[CatalogueView, RuleSet]] = {quarter: self._own}
        # R7: unit id → [counted, video-only, points_x100 of the video-only cases]
        self._units: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        # R8: (lanr or None, gop) → all, and by video (counts, or points_x100 for chapter 35 "35*")
        self._gop_totals: dict[tuple[str | None, str], int] = {}
        self._gop_video: dict[tuple[str | None, str], int] = {}
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
        #: The first pass in C (_kvdt.first_pass) or its Python reference; like the KVDT reader's
        #: loop, SPRECHZIMMER_PURE_PYTHON=1 (kvdt.ACCELERATED) chooses Python.
        self.accelerated = kvdt.ACCELERATED if accelerated is None else accelerated
        if self.accelerated and _kvdt is None:
            raise RuntimeError("the C scanner (_kvdt) is not built")
        #: Behandlungsfälle without findings counted in C (``_kvdt.check_plain``, see ``_add_plain``);
        #: with the C paths by default. ``plain=False`` sends every case the full way (the tests
        #: compare both).
        self.plain = self.accelerated if plain is None else plain
        if self.plain and _kvdt is None:
            raise RuntimeError("the C scanner (_kvdt) is not built")
        #: What the plain path counts, in the order of ``_TALLY``; ``summary`` adds it to the attributes.
        self._tally = [0] * len(_TALLY)
        self._plain_cases = 0
        view = self._own[0]
        self._plain_state = (
            view.infos,
            view.info,
            self.unknown_gops,
            self._lanr_checked,
            (self._gop_totals, self._gop_video, self._chapter35_volume) if self._gop_cap else None,
            self._tally,
            self._units,
            self._unit_is_practice,
            _NO_LANR,
        )

    @property
    def plain_cases(self) -> int:
        """Behandlungsfälle the plain path counted (the bench reports the share)."""
        return self._plain_cases + self._tally[-1]

    def _context(self, quarter: Quarter) -> tuple[CatalogueView, RuleSet]:
        context = self._contexts.get(quarter)
        if context is None:
            context = self._contexts[quarter] = (self.catalogue.view(quarter), self.rulebook.for_quarter(quarter))
        return context

    # -- one Behandlungsfall ------------------------------------------------------------------
    def check_case(self, case: AnyCase) -> CaseResult:
        """Checks one Behandlungsfall without counting it for the caps."""
        return self._check(case)[0]

    def add(self, case: AnyCase) -> CaseResult:
        """Checks one Behandlungsfall and counts it for the caps and totals."""
        if self.plain:
            plain = self._add_plain(case)
            if plain is not None:
                return plain
        result, lanrs, cap_parts, kind_of_visit = self._check(case)
        self.cases += 1
        self.scheine += len(case.scheine)
        self.points_x100 += result.points_x100
        self.services += result.count
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
            if case.quarter is not None:
                self.late_quarters.add(case.quarter)
            return result  # R7/R8 count the Behandlungsfälle of their own quarter
        if case.subgroup is not None and case.emergency:
            self.emergency += 1
            return result  # R7/R8: emergency-service cases do not count
        if not case.tss_acute:
            self.counted += 1
            if video_only:
                self.counted_video_only += 1
            units: set[str] | tuple[str, ...]
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
        if cap_parts:
            self._count_caps(cap_parts, kind_of_visit)
        return result

    def _add_plain(self, case: AnyCase) -> CaseResult | None:
        """``add`` for a Behandlungsfall of this quarter without findings: ``_kvdt.check_plain`` walks its
        services once, decides that no rule can find anything (else it answers None, changes nothing,
        and ``add`` takes the full path) and counts the unknown GOPs and R8; this counts the rest as
        ``add`` does. The result makes its contacts and lines only when asked."""
        quarter = case.quarter
        file_quarter = self.file_quarter
        if not (quarter is None or quarter is file_quarter or quarter is self.quarter or quarter == file_quarter):
            return None  # another quarter's rules and catalogue: the full path
        if case.contacts is not None:
            return None
        walk = _kvdt.check_plain(case.scheine, case.age, self._plain_state)
        if walk is None:
            return None
        total, count, unknown, video_only = walk
        return CaseResult(
            case, video_only, False, None, [], None, total, None, None, False, unknown, self._own[0], count
        )

    def _fold_plain(self) -> None:
        """Adds what the plain path counted (``_tally``) to the attributes ``add`` counts in."""
        tally = self._tally
        (
            cases,
            scheine,
            points,
            services,
            unknown,
            unpriced,
            video_only,
            counted,
            counted_video_only,
            plain,
        ) = tally
        self.cases += cases
        self.scheine += scheine
        self.points_x100 += points
        self.services += services
        self.unchecked_services += unknown
        self.unpriced_services += unpriced
        self.video_only += video_only
        self.counted += counted
        self.counted_video_only += counted_video_only
        self._plain_cases += plain
        tally[:] = [0] * len(tally)

    def _count_caps(self, cap_services: list[CapService], kind_of_visit: dict[int, str]) -> None:
        """R8: counts a Behandlungsfall's services of GOPs deliverable by video per LANR and GOP, all
        and those of video contacts (from 3/2022 chapter 35 by its point volume, ``"35*"``).
        ``_kvdt.count_caps`` does the same in C."""
        if self.accelerated:
            _kvdt.count_caps(cap_services, kind_of_visit, self._gop_totals, self._gop_video, self._chapter35_volume)
            return
        totals = self._gop_totals
        by_video = self._gop_video
        volume = self._chapter35_volume
        for service, gop, visit in cap_services:
            if volume and gop.fast & F_VOLUME:
                key = (service.lanr, "35*")
                amount = (gop.points or 0) * service.multiplier * 100
            else:
                key = (service.lanr, gop.base)
                amount = service.multiplier
            totals[key] = totals.get(key, 0) + amount
            if kind_of_visit[visit] is VIDEO:
                by_video[key] = by_video.get(key, 0) + amount

    def _check(self, case: AnyCase) -> tuple[CaseResult, set[str], list[CapService] | None, dict[int, str]]:
        quarter = case.quarter
        file_quarter = self.file_quarter
        if quarter is None or quarter is file_quarter or quarter is self.quarter or quarter == file_quarter:
            quarter = self.quarter
            view, ruleset = self._own
            late = False
        else:
            view, ruleset = self._context(quarter)
            late = quarter < self.quarter
        get = view.get
        resolve = view.resolve
        scheine = case.scheine
        gop_cap = self._gop_cap and not late
        first_pass = _kvdt.first_pass if self.accelerated else _first_pass
        (
            total,
            count,
            unknown,
            unpriced,
            marker,
            special,
            first_of_visit,
            inferred_kinds,
            pauschalen,
            pauschale_of,
            limited,
            lanrs,
            phone,
            tiered,
            gop_cap_services,
            same_day,
            first_day,
        ) = first_pass(scheine, view.infos, view.info, self.unknown_gops, gop_cap)
        if unpriced:
            self.unpriced_services += unpriced
        total *= 100

        contacts: list[Contact] | None = None
        kind_of_visit: dict[int, str]
        inferred: dict[int, Service] | None
        if case.contacts is not None:
            contacts = case.contacts
            kind_of_visit = {c.visit: c.kind for c in contacts}
            inferred = None
        elif len(scheine) > 1 and all(s.contacts is not None for s in scheine):
            contacts = [
                Contact(c.date, c.kind, n << 16 | c.visit, c.time)
                for n, s in enumerate(scheine)
                for c in s.contacts or ()
            ]
            kind_of_visit = {c.visit: c.kind for c in contacts}
            inferred = None
        else:
            # KVDT states no contacts: the first pass inferred them (docs/ebm.md, "Contact inference");
            # the Contact objects themselves are made only when asked for (CaseResult.contacts).
            kind_of_visit = inferred_kinds
            inferred = first_of_visit
        kinds = set(kind_of_visit.values())
        video_only = kinds == _ONLY_VIDEO
        phone_only = bool(kinds) and kinds <= _PHONE_KINDS
        findings: list[Finding] = []
        walked = None  # (service, gop, visit) of every service, made for the rarer checks that need it

        # R6: the 88220 marker.
        if video_only and not marker:
            findings.append(
                Finding("R6", ERROR, "Behandlungsfall mit ausschließlich Videokontakten: Pseudo-GOP 88220 ergänzen.")
            )
        elif marker and not video_only:
            why = (
                "einem persönlichen Kontakt" if PERSONAL in kinds else "Kontakten, die nicht alle per Video stattfanden"
            )
            findings.append(
                Finding(
                    "R6",
                    ERROR,
                    f"88220 steht in einem Fall mit {why}: 88220 entfernen "
                    "(nur für Fälle mit ausschließlich Videokontakten).",
                )
            )
        # R1/R2: 01435, per Arztfall (the same patient and doctor).
        if phone is not None:
            walked = _walk(scheine, get, resolve)
            self._telephone(phone, pauschale_of, kind_of_visit, walked, case, findings)
        elif phone_only and pauschalen:
            codes = ", ".join(sorted(pauschalen))
            findings.append(
                Finding(
                    "R2",
                    WARNING,
                    f"Nur telefonische/mittelbare Kontakte: {codes} setzt einen "
                    "persönlichen oder Videokontakt voraus. Fand keiner statt, ist "
                    "stattdessen die 01435 berechnungsfähig.",
                )
            )
        elif phone_only:
            findings.append(
                Finding(
                    "R2", WARNING, "Nur telefonische/mittelbare Kontakte: GOP 01435 ist berechnungsfähig und fehlt."
                )
            )
        # R5: GOPs with a limit per Behandlungsfall (a Pauschale once; 04030 twice; one age tier).
        if limited is not None:
            for times_billed, limit, codes in limited.values():
                if times_billed > limit:
                    listed = ", ".join(dict.fromkeys(codes))
                    times = "einmal" if limit == 1 else f"{limit}-mal"
                    findings.append(
                        Finding(
                            "R5",
                            ERROR,
                            f"{listed}: {times_billed}-mal angesetzt, im Behandlungsfall "
                            f"nur {times} berechnungsfähig; weitere streichen.",
                        )
                    )
        # R12: doctor groups without video.
        if VIDEO in kinds and pauschalen:
            chapters = {known.chapter for code in pauschalen if (known := get(code) or resolve(code)) is not None}
            barred = sorted(chapters & ruleset.no_video_chapters)
            if barred:
                findings.append(
                    Finding(
                        "R12",
                        ERROR,
                        f"Die Arztgruppe des Kapitels {', '.join(barred)} kann "
                        "keine Videosprechstunde abrechnen: Videoleistungen streichen.",
                    )
                )

        # R3 (deduction), R4 (excluded surcharges), R1/R11 (not by video), R10, R13, GOP dates.
        deduction_of: dict[str, tuple[int, str, dt.date]] = {}
        if video_only:
            for code in pauschalen:
                gop = get(code) or resolve(code)
                if gop is not None and gop.deduction:
                    deduction_of[code] = (gop.deduction, gop.video_code or code, gop.deduction_from)
                    for link in gop.links:
                        deduction_of.setdefault(link, (gop.deduction, link, gop.deduction_from))
        # The slow pass only where it can find something: R4 in video-only cases, R1/R11 where a
        # visit was by video, R10, dates and R13 always.
        slow = (
            special & F_EXCLUDED
            and video_only
            or special & F_PERSONAL
            and VIDEO in kinds
            or special & (F_MIN_CONTACTS | F_SLOW)
        )
        lines = None  # made on first use (CaseResult.lines) unless the slow pass changes a line
        if deduction_of or slow:
            if contacts is None and special & F_MIN_CONTACTS:
                contacts = _inferred_contacts(first_of_visit, kind_of_visit)
            if walked is None:
                walked = _walk(scheine, get, resolve)
            lines, total = self._lines(walked, deduction_of, slow, video_only, kind_of_visit, contacts, findings)
        # R14: the age tier of a Pauschale against the age at the first contact of the quarter.
        if tiered is not None:
            age = age_of(case, first_day)
            if age is not None:
                for gop in tiered:
                    if gop.age_min is not None and age < gop.age_min or gop.age_max is not None and age > gop.age_max:
                        findings.append(
                            Finding(
                                "R14",
                                WARNING,
                                f"{gop.code} gilt für {_age_range(gop)}; der Patient "
                                f"war bei der ersten Inanspruchnahme im Quartal {age} "
                                f"Jahre alt{_tier_hint(view, gop, age)} (Allgemeine "
                                "Bestimmung 4.3.5).",
                            )
                        )
        # R9: several visits on one day need times for billable services.
        if contacts is None or inferred is not None:
            timed = same_day
        else:
            timed = len({c.date for c in contacts}) < len(contacts)
        if timed:
            if walked is None:
                walked = _walk(scheine, get, resolve)
            self._times(walked, lines, findings)
        for lanr in lanrs:
            if lanr in self._lanr_checked:
                problem = self._lanr_checked[lanr]
            else:
                problem = self._lanr_problem(lanr)
            if problem:
                findings.append(Finding("LANR", WARNING, problem))
        result = CaseResult(
            case,
            video_only,
            phone_only,
            contacts,
            findings,
            lines,
            total,
            inferred,
            kind_of_visit,
            late,
            unknown,
            view,
            count,
        )
        return result, lanrs, gop_cap_services, kind_of_visit

    @staticmethod
    def _telephone(
        phone: list[tuple[Service, str | None, Case]],
        pauschale_of: dict[str | None, str],
        kind_of_visit: dict[int, str],
        walked: list[Walked],
        case: AnyCase,
        findings: list[Finding],
    ) -> None:
        """R1/R2 for GOP 01435 (KBV annotation to 01435, 4.3.1 Abs. 4): per Arztfall; once per
        Behandlungsfall, twice for children up to their 12th birthday; not in the organised
        emergency service; not in an Arztfall with a Versicherten-, Grund- or Konsiliarpauschale.
        Where a combination is wrong the advice keeps the higher-valued Pauschale."""
        if any(schein.emergency for _service, _lanr, schein in phone):
            findings.append(
                Finding(
                    "R2",
                    ERROR,
                    "01435 ist im organisierten Not(-fall)dienst nicht berechnungsfähig "
                    "(Anmerkung zur GOP 01435): 01435 streichen; im Notdienst gelten "
                    "die Notfall- und Notfallkonsultationspauschalen.",
                )
            )
        age = age_of(case)
        limit = 2 if age is not None and age < CHILD_AGE_01435 else 1
        if len(phone) > limit:
            why = (
                "zweimal (Kind bis zum vollendeten 12. Lebensjahr)"
                if limit == 2
                else "einmal (bei Kindern bis zum vollendeten 12. Lebensjahr zweimal)"
            )
            findings.append(
                Finding(
                    "R2",
                    ERROR,
                    f"01435 ist {len(phone)}-mal angesetzt, im Behandlungsfall nur {why} "
                    "berechnungsfähig: weitere streichen.",
                )
            )
        by_doctor: dict[str | None, list[Service]] = {}
        for service, lanr, _schein in phone:
            by_doctor.setdefault(lanr, []).append(service)
        kinds_of_doctor: dict[str | None, set[str | None]] = defaultdict(set)
        days_of_doctor: dict[tuple[str | None, dt.date], list[str]] = defaultdict(list)
        for service, gop, visit in walked:
            kinds_of_doctor[service.lanr].add(kind_of_visit.get(visit))
            if (
                gop is not None
                and gop.kind is not MARKER
                and gop.kind is not TELEPHONE_FEE
                and gop.base not in BESIDE_01435
                and gop.points
            ):
                days_of_doctor[(service.lanr, service.date)].append(service.gop)
        for lanr, services in by_doctor.items():
            who = f"der LANR {lanr}" if lanr else "ohne LANR"
            pauschale = pauschale_of.get(lanr)
            if pauschale:
                findings.append(
                    Finding(
                        "R2",
                        ERROR,
                        f"Im Arztfall {who} ist 01435 nicht neben der Pauschale "
                        f"{pauschale} berechnungsfähig (Anmerkung zur GOP 01435): 01435 "
                        f"streichen, {pauschale} bleibt.",
                    )
                )
                continue
            if kinds_of_doctor[lanr] & {PERSONAL, VIDEO}:
                findings.append(
                    Finding(
                        "R1",
                        ERROR,
                        f"Im Arztfall {who} gab es auch persönliche oder Videokontakte; "
                        "Telefonkontakte sind dann Inhalt der Pauschale (4.3.1): 01435 "
                        "streichen.",
                    )
                )
                continue
            for service in services:
                beside = days_of_doctor.get((lanr, service.date))
                if beside:
                    findings.append(
                        Finding(
                            "R2",
                            WARNING,
                            f"01435 am {german_date(service.date)} neben "
                            f"{', '.join(dict.fromkeys(beside))}: neben 01435 sind nur "
                            "01431 und 40128 berechnungsfähig (Anmerkung zur GOP 01435).",
                        )
                    )

    @staticmethod
    def _lines(
        walked: list[Walked],
        deduction_of: dict[str, tuple[int, str, dt.date]],
        special: int,
        video_only: bool,
        kind_of_visit: dict[int, str],
        contacts: list[Contact] | None,
        findings: list[Finding],
    ) -> tuple[list[Line], int]:
        """The lines of a case with a deduction (R3) or a GOP that needs the slow checks."""
        lines: list[Line] = []
        total = 0
        reduced = []
        not_billable = []
        contact_count: int | None = None
        for service, gop, visit in walked:
            code = service.gop
            if gop is None:
                lines.append((code, service.date, code, 100, None, service.lanr))
                continue
            factor = 100
            billed = code
            if deduction_of and code in deduction_of:
                deduction, billed, since = deduction_of[code]
                if service.date < since:
                    findings.append(
                        Finding(
                            "R11",
                            ERROR,
                            f"{code} am {german_date(service.date)}: vor dem {german_date(since)} "
                            "im reinen Videofall nicht berechnungsfähig.",
                        )
                    )
                    factor = 0
                    billed = code
                else:
                    factor = 100 - deduction
                    reduced.append((code, deduction, billed))
            if special:
                kind = gop.kind
                if gop.dated and not gop.valid_on(service.date):
                    when = (
                        f"ab {german_date(gop.valid_from)}"
                        if service.date < gop.valid_from
                        else f"bis {german_date(gop.valid_to)}"
                    )
                    findings.append(
                        Finding(
                            "GOP",
                            ERROR,
                            f"GOP {code} ist am {german_date(service.date)} nicht berechnungsfähig (gilt {when}).",
                        )
                    )
                    factor = 0
                elif video_only and kind is EXCLUDED:
                    factor = 0
                    not_billable.append(code)
                elif gop.personal_only and kind_of_visit.get(visit) == VIDEO:
                    if kind is PAUSCHALE:
                        findings.append(
                            Finding(
                                "R11",
                                ERROR,
                                f"Pauschale {code} ist im Rahmen einer Videosprechstunde nicht berechnungsfähig.",
                            )
                        )
                    else:
                        findings.append(
                            Finding(
                                "R1",
                                ERROR,
                                f"GOP {code} am {german_date(service.date)} kann nicht per "
                                "Video erbracht werden: für einen persönlichen Kontakt "
                                "eine eigene Inanspruchnahme mit Uhrzeit angeben.",
                            )
                        )
                    factor = 0
                elif gop.base in VIDEO_ONLY_GOPS and not video_only:
                    findings.append(
                        Finding(
                            "R13",
                            ERROR,
                            f"{code} ist nur im Behandlungsfall mit ausschließlich "
                            "Videokontakten berechnungsfähig (Zuschlag für bekannte "
                            "Patienten): streichen.",
                        )
                    )
                    factor = 0
                if gop.min_contacts:
                    if contact_count is None:
                        contact_count = sum(1 for c in contacts or () if c.kind is PERSONAL or c.kind is VIDEO)
                    if contact_count < gop.min_contacts:
                        findings.append(
                            Finding(
                                "R10",
                                WARNING,
                                f"GOP {code} setzt mindestens {gop.min_contacts} "
                                f"Arzt-Patienten-Kontakte voraus, gefunden "
                                f"{contact_count} (Videokontakte zählen als "
                                "persönliche).",
                            )
                        )
            points = None if gop.points is None else gop.points * service.multiplier * factor
            if points is not None:
                total += points
            lines.append((code, service.date, billed, factor, points, service.lanr))
        if reduced:
            text = "; ".join(f"{code} – {pct} % (als {billed})" for code, pct, billed in dict.fromkeys(reduced))
            findings.append(Finding("R3", INFO, f"Reiner Videofall: Abschlag {text}; die KV nimmt ihn vor."))
        if not_billable:
            findings.append(
                Finding(
                    "R4", ERROR, f"Im reinen Videofall nicht berechnungsfähig: {', '.join(not_billable)} streichen."
                )
            )
        return lines, total

    @staticmethod
    def _times(walked: list[Walked], lines: list[Line] | None, findings: list[Finding]) -> None:
        """R9: with several visits on one day, each visit with a billable service needs its time
        (field 5006) on at least one of its GOPs; every GOP of the visit counts, unknown ones too.
        ``lines``: the lines of the slow pass (a service it refused needs no time), or ``None``."""
        visits_by_day: dict[dt.date, set[int]] = defaultdict(set)
        timed: set[int] = set()
        for service, _gop, visit in walked:
            visits_by_day[service.date].add(visit)
            if service.time:
                timed.add(visit)
        untimed: dict[dt.date, list[str]] = defaultdict(list)
        for index, (service, gop, visit) in enumerate(walked):
            if visit in timed or len(visits_by_day[service.date]) < 2 or lines is not None and lines[index][3] == 0:
                continue
            if gop is None or gop.kind is not MARKER:
                untimed[service.date].append(service.gop)
        for day, codes in sorted(untimed.items()):
            findings.append(
                Finding(
                    "R9",
                    ERROR,
                    f"Mehrere Inanspruchnahmen am {german_date(day)}: Uhrzeit (Feld 5006) je "
                    f"Inanspruchnahme angeben; ohne Uhrzeit: {', '.join(codes)}.",
                )
            )

    def _lanr_problem(self, lanr: str) -> str | None:
        try:
            parse_lanr(lanr)
            problem = None
        except IdentifierError as exc:
            problem = f"LANR {lanr}: {exc.message} Bitte prüfen (der Fall wird trotzdem geprüft)."
        self._lanr_checked[lanr] = problem
        return problem

    def summary(self) -> Summary:
        self._fold_plain()
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
            merged: dict[tuple[str, str], list[int]] = {}
            for key, total in self._gop_totals.items():
                lanr, code = key
                counter = merged.setdefault((lanr or _NO_LANR, code), [0, 0])
                counter[0] += total
                counter[1] += self._gop_video.get(key, 0)
            for (lanr, code), (total, by_video) in sorted(merged.items()):
                if not by_video:
                    continue
                allowed = (gop_percent * total) // 100
                over = max(0, by_video - allowed)
                if code == "35*":
                    at_risk = euros(over, value)
                    gop_caps.append(
                        GopCapResult(
                            lanr,
                            code,
                            "points",
                            Decimal(total) / 100,
                            Decimal(by_video) / 100,
                            Decimal(allowed) / 100,
                            Decimal(over) / 100,
                            at_risk,
                        )
                    )
                else:
                    gop = view.get(code) or view.resolve(code)
                    points = gop.points if gop is not None else None
                    at_risk = euros(over * (points or 0) * 100, value)
                    gop_caps.append(
                        GopCapResult(
                            lanr,
                            code,
                            "count",
                            Decimal(total),
                            Decimal(by_video),
                            Decimal(allowed),
                            Decimal(over),
                            at_risk,
                        )
                    )
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
            "unchecked_services": {
                "count": self.unchecked_services,
                "total": self.services,
                "share": _share(self.unchecked_services, self.services),
            },
            "unpriced_services": self.unpriced_services,
            "points": str(Decimal(self.points_x100) / 100),
            "euro": str(euros(self.points_x100, value)),
            "euro_at_risk": str(
                sum((c.euro_at_risk for c in caps), Decimal("0.00"))
                + sum((g.euro_at_risk for g in gop_caps), Decimal("0.00"))
            ),
            "unknown_gops": sorted(self.unknown_gops),
        }
        if self.orientation_value_year != self.quarter.year:
            totals["orientation_value_provisional"] = {"for": self.quarter.year, "from": self.orientation_value_year}
        return Summary(self.quarter, ruleset, value, caps, gop_caps, totals, self.orientation_value_year)


def _age_range(gop: Gop) -> str:
    if gop.age_min is None:
        return f"Patienten bis zum vollendeten {gop.age_max + 1 if gop.age_max is not None else '?'}. Lebensjahr"
    if gop.age_max is None:
        return f"Patienten ab Beginn des {gop.age_min + 1}. Lebensjahres"
    return f"Patienten von {gop.age_min} bis {gop.age_max} Jahren"


def _tier_hint(view: CatalogueView, gop: Gop, age: int) -> str:
    if not gop.group:
        return ""
    hints: dict[tuple[str, int], str] = view.__dict__.setdefault("_tier_hints", {})  # per view: its rows do not change
    hint = hints.get((gop.group, age))
    if hint is None:
        hint = ""
        for other in view.gops.values():
            if (
                other.group == gop.group
                and other.code == other.base
                and (other.age_min, other.age_max) != (None, None)
                and (other.age_min is None or other.age_min <= age)
                and (other.age_max is None or age <= other.age_max)
            ):
                hint = f": {other.code} abrechnen"
                break
        hints[(gop.group, age)] = hint
    return hint


__all__ = ["CaseResult", "Finding", "QuarterCheck", "Summary", "euros", "LINKED"]
