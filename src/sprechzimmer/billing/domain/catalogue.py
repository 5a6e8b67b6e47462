"""GOP data (Gebührenordnungspositionen): our own file, replaceable by the KBV's EBM-Stammdatei.

``data/gop.csv`` (UTF-8, ``;``, ``#`` starts a comment) has one row per GOP and validity period:

=============== ==============================================================================
code            five digits (six with the letter of an EBM-Zusatznummer)
chapter         EBM chapter (``01``–``40``, ``88`` for pseudo GOPs)
points          points in the period; empty = not confirmed from a source (checked, not priced)
video           1 deliverable by video (Anlage 31b BMV-Ä), 0 not, empty: not known
kind            pauschale | linked | excluded | marker | telephone | video_surcharge | service
deduction       percent taken off a Pauschale in a video-only case (R3), 0 = none
video_code      code the KV bills the reduced Pauschale under (``03001V``); empty: code + ``V``
links           surcharges that share the Pauschale's deduction (4.3.1 Abs. 5 Nr. 1)
min_contacts    contacts the GOP needs in the case (R10)
title           short title
valid_from/to   ISO dates; the GOP (in this row's form) exists only between them
deduction_from  first day the deduction (and so billing by video) applies
max_per_case    times billable per Behandlungsfall (R5); empty = no limit checked
group           GOPs of which only one may be billed per Behandlungsfall (the age tiers)
age_min/max     age tier in completed years (4.3.5: age at the first contact of the quarter)
video_suffixes  letters whose EBM-Zusatznummer marks the video variant (``V``; KBV suffix list)
source          where the row's facts come from (document, version, date)
=============== ==============================================================================

A catalogue is read once; a :class:`CatalogueView` per quarter gives the rows in force then, and
resolves EBM-Zusatznummern (a five-digit GOP and a capital letter, KBV *Datensatzbeschreibung
EBM-Stammdatei* v1.61, 2.7.6) to their GOP. ``import_stammdatei`` reads the KBV's EBM-Stammdatei
(XML, satzart 850/851/852/853) into the same rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import BinaryIO, TextIO
from xml.etree import ElementTree

from .model import BillingError, Quarter

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEFAULT_GOP_FILE = DATA_DIR / "gop.csv"
#: Where ``sprechzimmer ebm catalogue import`` stores the imported catalogue (below DATA_DIR).
IMPORTED_NAME = Path("ebm") / "gop.csv"

PAUSCHALE = "pauschale"  # Versicherten-, Grund-, Konsiliar- or Notfallpauschale
LINKED = "linked"  # surcharge that takes its Pauschale's deduction in a video-only case (R3)
EXCLUDED = "excluded"  # surcharge not billable in a video-only case (R4)
MARKER = "marker"  # 88220
TELEPHONE_FEE = "telephone"  # 01435
VIDEO_SURCHARGE = "video_surcharge"  # 01450
SERVICE = "service"
KINDS = (PAUSCHALE, LINKED, EXCLUDED, MARKER, TELEPHONE_FEE, VIDEO_SURCHARGE, SERVICE)
COLUMNS = (
    "code",
    "chapter",
    "points",
    "video",
    "kind",
    "deduction",
    "video_code",
    "links",
    "min_contacts",
    "title",
    "valid_from",
    "valid_to",
    "deduction_from",
    "max_per_case",
    "group",
    "age_min",
    "age_max",
    "video_suffixes",
    "source",
)
REQUIRED_COLUMNS = 10  # the first ten: files of the earlier format stay readable
GOP_PATTERN = re.compile(r"\d{5}[A-Z]?")
#: GOPs only a video-only Behandlungsfall may carry: 01452, the surcharge for known patients in
#: video-only cases (in force from 1.4.2025).
VIDEO_ONLY_GOPS = frozenset({"01452"})
# Bits of ``Gop.fast``: what the checker's hot loop has to do for a service of this GOP. A plain
# service with a GOP none of them applies to (most services) costs one test.
F_VIDEO_VISIT = 1  # makes its visit a video contact: 01450, an EBM-Zusatznummer marking video
F_PERSONAL = 2  # only possible in person (video = 0): makes its visit a personal contact
F_MIN_CONTACTS = 4  # R10
F_SLOW = 8  # dated, or only in video-only cases: the slow pass compares
F_EXCLUDED = 16  # R4: not billable in a video-only case
F_TIERED = 32  # an age tier (R14)
F_LIMITED = 64  # a limit per Behandlungsfall (R5)
F_CAP = 128  # a service deliverable by video: counts for R8
F_KIND = 256  # a Pauschale, 01435 or 88220: the checker looks at the kind
F_VOLUME = 512  # R8 from 3/2022: a chapter-35 GOP with points counts by its points (not 35152)
#: R8, chapter 35: the cap applies to the point volume of the chapter's video GOPs, except 35152.
CHAPTER_35 = "35"
CHAPTER_35_OWN_CAP = "35152"
_FAR_PAST = dt.date(1, 1, 1)
_FAR_FUTURE = dt.date(9999, 12, 31)


@dataclass(frozen=True, slots=True, eq=False)
class Gop:
    code: str
    chapter: str
    points: int | None  # None: not confirmed; the service is checked but not priced
    video: bool  # deliverable in a Videosprechstunde according to its description
    kind: str
    deduction: int  # percent taken off in a video-only case (R3); 0 = none
    video_code: str  # code of the reduced variant (03001V, 05210U)
    links: tuple[str, ...]  # surcharges that share this Pauschale's deduction
    min_contacts: int  # R10: contacts the GOP needs in the case
    title: str
    valid_from: dt.date = _FAR_PAST
    valid_to: dt.date = _FAR_FUTURE
    deduction_from: dt.date = _FAR_PAST
    max_per_case: int = 0  # 0: not limited by the check
    group: str = ""
    age_min: int | None = None
    age_max: int | None = None
    video_suffixes: str = ""
    source: str = ""
    personal_only: bool = False  # known not to be deliverable by video (video = 0)
    base: str = ""  # the five-digit GOP (of an EBM-Zusatznummer)
    video_marked: bool = False  # an EBM-Zusatznummer whose letter marks a video service
    dated: bool = False  # valid_from or valid_to set: the check compares service dates
    fast: int = field(default=0, init=False)  # F_* bits, computed
    price: int = field(default=0, init=False)  # points, 0 when not confirmed
    unpriced: int = field(default=0, init=False)  # 1 when the points are not confirmed

    def __post_init__(self) -> None:
        kind = self.kind
        fast = (
            F_VIDEO_VISIT * (self.video_marked or kind == VIDEO_SURCHARGE)
            | F_PERSONAL * self.personal_only
            | F_MIN_CONTACTS * bool(self.min_contacts)
            | F_SLOW * (self.dated or self.base in VIDEO_ONLY_GOPS)
            | F_EXCLUDED * (kind == EXCLUDED)
            | F_TIERED * (self.age_min is not None or self.age_max is not None)
            | F_LIMITED * bool(self.max_per_case)
            | F_CAP * (kind == SERVICE and self.video)
            | F_KIND * (kind in (PAUSCHALE, TELEPHONE_FEE, MARKER))
            | F_VOLUME
            * (self.chapter == CHAPTER_35 and self.points is not None and self.code[:5] != CHAPTER_35_OWN_CAP)
        )
        object.__setattr__(self, "fast", fast)
        object.__setattr__(self, "price", self.points or 0)
        object.__setattr__(self, "unpriced", int(self.points is None))

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day <= self.valid_to


#: Kind codes of ``CatalogueView.info`` (the C first pass compares numbers): 1 Pauschale, 2 01435, 3 88220.
_KIND_CODES = {PAUSCHALE: 1, TELEPHONE_FEE: 2, MARKER: 3}
K_PAUSCHALE, K_TELEPHONE, K_MARKER = 1, 2, 3
#: (gop, fast, points, kind code, limit group, limit): a GOP as the checker's first pass reads it.
GopInfo = tuple["Gop", int, "int | None", int, str, int]


class CatalogueView:
    """The GOPs in force in one quarter. ``get`` (a dict lookup) is the checker's hot path;
    ``resolve`` handles codes it does not know (EBM-Zusatznummern, unknown GOPs) and remembers."""

    def __init__(self, gops: dict[str, Gop]):
        self.gops = gops
        self.get = gops.get
        self._unknown: set[str] = set()
        #: code → (gop, fast, points, kind code, limit group, limit) or None (unknown): what the
        #: checker's first pass (rules._first_pass, its C twin _kvdt.first_pass) reads of a GOP.
        self.infos: dict[str, GopInfo | None] = {}

    def info(self, code: str) -> GopInfo | None:
        """The first pass's tuple of ``code`` (see ``infos``), made and remembered on first use."""
        gop = self.get(code) or self.resolve(code)
        info = (
            None
            if gop is None
            else (
                gop,
                gop.fast,
                gop.points,
                _KIND_CODES.get(gop.kind, 0),
                gop.group or gop.base,
                gop.max_per_case,
            )
        )
        self.infos[code] = info
        return info

    def resolve(self, code: str) -> Gop | None:
        if code in self._unknown:
            return None
        gop = None
        if len(code) == 6 and "A" <= code[5] <= "Z":
            base = self.gops.get(code[:5])
            if base is not None:
                gop = replace(base, code=code, video_marked=code[5] in base.video_suffixes)
        if gop is None:
            self._unknown.add(code)
            return None
        self.gops[code] = gop
        return gop

    def __contains__(self, code: str) -> bool:
        return self.get(code) is not None or self.resolve(code) is not None


class Catalogue:
    """GOP rows by code, each code with its dated rows (oldest first)."""

    def __init__(self, rows: dict[str, list[Gop]], source: str):
        self.rows = rows
        self.source = source
        self._views: dict[Quarter, CatalogueView] = {}

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def gops(self) -> dict[str, Gop]:
        """The latest row of every code (for displays and tests)."""
        return {code: rows[-1] for code, rows in self.rows.items()}

    def view(self, quarter: Quarter) -> CatalogueView:
        view = self._views.get(quarter)
        if view is None:
            last = quarter.last_day
            gops = {}
            for code, rows in self.rows.items():
                chosen = rows[0]  # a GOP that starts later: its own row, the check compares dates
                for row in rows:  # the latest row that has started by the quarter's end
                    if row.valid_from <= last:
                        chosen = row
                gops[code] = chosen
            view = self._views[quarter] = CatalogueView(gops)
        return view

    @classmethod
    def load(cls, path: str | Path | None = None) -> Catalogue:
        """The given file, else an imported EBM-Stammdatei (``$DATA_DIR/ebm/gop.csv``), else ours."""
        path = Path(path) if path else imported_path() if imported_path().exists() else DEFAULT_GOP_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise BillingError(f"Die GOP-Datei {path} kann nicht gelesen werden ({exc.strerror}).") from None
        except UnicodeDecodeError:
            raise BillingError(f"Die GOP-Datei {path} ist nicht UTF-8-kodiert.") from None
        return cls.parse(text, source=str(path))

    @classmethod
    def parse(cls, text: str, source: str = "") -> Catalogue:
        rows = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        reader = csv.reader(io.StringIO("\n".join(rows)), delimiter=";")
        first = next(reader, None)
        header = tuple(h.strip() for h in first) if first else ()
        if len(header) < REQUIRED_COLUMNS or header != COLUMNS[: len(header)]:
            raise BillingError("Die GOP-Datei braucht die Kopfzeile " + ";".join(COLUMNS) + ".")
        by_code: dict[str, list[Gop]] = {}
        for number, row in enumerate(reader, start=2):
            gop = _row(row, number, len(header))
            by_code.setdefault(gop.code, []).append(gop)
        for code, dated in by_code.items():
            dated.sort(key=lambda g: g.valid_from)
            for before, after in pairwise(dated):
                if before.valid_from == after.valid_from:
                    raise BillingError(
                        f"GOP-Datei: GOP {code} hat zwei Zeilen, die am {after.valid_from:%d.%m.%Y} beginnen."
                    )
        return cls(by_code, source)


def imported_path() -> Path:
    return Path(os.environ.get("DATA_DIR") or Path.cwd() / "var") / IMPORTED_NAME


def _date(raw: str, where: str, column: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BillingError(f"{where}: {column} »{raw}« ist kein Datum (JJJJ-MM-TT).") from None


def _int(raw: str, where: str, column: str) -> int | None:
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BillingError(f"{where}: {column} muss eine ganze Zahl sein.") from None
    if value < 0:
        raise BillingError(f"{where}: {column} darf nicht negativ sein.")
    return value


def _row(row: list[str], number: int, width: int) -> Gop:
    where = f"GOP-Datei, Datenzeile {number}"
    if len(row) != width:
        raise BillingError(f"{where}: {len(row)} statt {width} Spalten.")
    # A file may end before the optional trailing columns (valid_from): those stay absent.
    values = dict(zip(COLUMNS, (c.strip() for c in row), strict=False))
    code = values["code"]
    if not GOP_PATTERN.fullmatch(code):
        raise BillingError(f"{where}: »{code}« ist keine GOP (fünf Ziffern).")
    kind = values["kind"]
    if kind not in KINDS:
        raise BillingError(f"{where}: Art »{kind}« unbekannt (erlaubt: {', '.join(KINDS)}).")
    video = values["video"]
    if video not in ("0", "1", ""):
        raise BillingError(f"{where}: Spalte video muss 0, 1 oder leer sein.")
    deduction = _int(values["deduction"], where, "Abschlag") or 0
    if deduction > 100:
        raise BillingError(f"{where}: der Abschlag liegt zwischen 0 und 100 %.")
    link_codes = tuple(values["links"].split())
    for link in link_codes:
        if not GOP_PATTERN.fullmatch(link):
            raise BillingError(f"{where}: verknüpfter Zuschlag »{link}« ist keine GOP.")
    valid_from = _date(values.get("valid_from", ""), where, "valid_from")
    valid_to = _date(values.get("valid_to", ""), where, "valid_to")
    suffixes = values.get("video_suffixes", "").replace(" ", "")
    if not suffixes and video == "1" and kind != MARKER:
        suffixes = "V"
    if suffixes and not suffixes.isalpha() or suffixes != suffixes.upper():
        raise BillingError(f"{where}: video_suffixes sind Großbuchstaben.")
    kind = KINDS[KINDS.index(kind)]  # the module's own string object, so the checker can compare with ``is``
    return Gop(
        code=code,
        chapter=values["chapter"] or code[:2],
        points=_int(values["points"], where, "Punkte"),
        video=video == "1",
        kind=kind,
        deduction=deduction,
        video_code=values["video_code"] or (code + "V" if deduction else ""),
        links=link_codes,
        min_contacts=_int(values["min_contacts"], where, "Mindestkontakte") or 0,
        title=values["title"],
        valid_from=valid_from or _FAR_PAST,
        valid_to=valid_to or _FAR_FUTURE,
        deduction_from=_date(values.get("deduction_from", ""), where, "deduction_from") or _FAR_PAST,
        max_per_case=_int(values.get("max_per_case", ""), where, "max_per_case") or 0,
        group=values.get("group", ""),
        age_min=_int(values.get("age_min", ""), where, "age_min"),
        age_max=_int(values.get("age_max", ""), where, "age_max"),
        video_suffixes=suffixes,
        source=values.get("source", ""),
        personal_only=video == "0",
        base=code[:5],
        dated=valid_from is not None or valid_to is not None,
    )


def write_rows(gops: list[Gop], out: TextIO) -> None:
    """Writes rows in ``gop.csv``'s format (the importer's output)."""
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(COLUMNS)
    for g in gops:
        writer.writerow(
            [
                g.code,
                g.chapter,
                "" if g.points is None else g.points,
                "1" if g.video else "0" if g.personal_only else "",
                g.kind,
                g.deduction or "",
                g.video_code,
                " ".join(g.links),
                g.min_contacts or "",
                g.title,
                "" if g.valid_from == _FAR_PAST else g.valid_from.isoformat(),
                "" if g.valid_to == _FAR_FUTURE else g.valid_to.isoformat(),
                "" if g.deduction_from == _FAR_PAST else g.deduction_from.isoformat(),
                g.max_per_case or "",
                g.group,
                "" if g.age_min is None else g.age_min,
                "" if g.age_max is None else g.age_max,
                g.video_suffixes,
                g.source,
            ]
        )


# -- the KBV's EBM-Stammdatei ---------------------------------------------------------------------
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ElementTree.Element, name: str) -> ElementTree.Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _period(raw: str | None) -> tuple[dt.date | None, dt.date | None]:
    """``YYYY-MM-DD..YYYY-MM-DD``, ``..YYYY-MM-DD``, ``YYYY-MM-DD..`` or ``YYYY-MM-DD``
    (Datensatzbeschreibung SDEBM 11.1.1)."""
    if not raw:
        return None, None
    start, _, end = raw.partition("..")
    if not _:
        end = start
    return (dt.date.fromisoformat(start) if start else None), (dt.date.fromisoformat(end) if end else None)


#: Values of the U attribute of <bewertung> that mean points (the key table S_KBV_VALUTAEINHEIT
#: is not in the text copies we could read; "Punkte" is the value the KBV's example files use).
_POINT_UNITS = frozenset({"punkte", "punkt", "pkt", "p", "1"})


def import_stammdatei(stream: BinaryIO | str, base: Catalogue) -> tuple[list[Gop], dict[str, int]]:
    """Reads an EBM-Stammdatei (``/ehd/body/gnr_liste/gnr``) and returns the rows of the combined
    catalogue: every GOP of the file with its points, title, chapter and validity, keeping our rule
    facts (kind, deduction, links …) for the GOPs our catalogue knows, plus our older rows for the
    quarters before the file's. Six-character codes (EBM-Zusatznummern) are left to the suffix
    resolution. Streams (``iterparse``), so the full file of some 100 MB is fine."""
    stats = {"gops": 0, "new": 0, "updated": 0, "without_points": 0, "skipped": 0}
    rows: dict[str, list[Gop]] = {code: list(dated) for code, dated in base.rows.items()}
    try:
        for _event, element in ElementTree.iterparse(stream, events=("end",)):
            if _local(element.tag) != "gnr":
                continue
            code = element.get("V", "")
            if not re.fullmatch(r"\d{5}", code):
                stats["skipped"] += 1
                element.clear()
                continue
            general = _child(element, "allgemein")
            if general is None:
                element.clear()
                continue
            validity = _child(general, "gueltigkeit")
            service = _child(validity, "service_tmr") if validity is not None else None
            effective = _child(validity, "effective_tmr") if validity is not None else None
            valid_from, valid_to = _period(service.get("V") if service is not None else None)
            effective_from, _effective_to = _period(effective.get("V") if effective is not None else None)
            legend = _child(general, "legende")
            title = ""
            chapter = code[:2]
            if legend is not None:
                short = _child(legend, "kurztext")
                title = (short.get("V", "") if short is not None else "").strip()
                chapters = _child(legend, "kap_bez")
                chapter_element = _child(chapters, "kapitel") if chapters is not None else None
                if chapter_element is not None and chapter_element.get("V", "").isdigit():
                    chapter = chapter_element.get("V", "").zfill(2)
            points = None
            ratings = _child(general, "bewertung_liste")
            if ratings is not None:
                for rating in ratings:
                    if _local(rating.tag) == "bewertung" and rating.get("U", "").lower() in _POINT_UNITS:
                        try:
                            points = round(float(rating.get("V", "")))
                        except ValueError:
                            points = None
                        break
            element.clear()
            stats["gops"] += 1
            if points is None:
                stats["without_points"] += 1
            start = effective_from or valid_from
            known = rows.get(code)
            template = known[-1] if known else Gop(code, chapter, None, False, SERVICE, 0, "", (), 0, title)
            row = replace(
                template,
                points=points,
                title=title or template.title,
                chapter=chapter,
                valid_from=start or _FAR_PAST,
                valid_to=valid_to or template.valid_to,
                source="KBV EBM-Stammdatei (importiert)",
                base=code,
                dated=template.dated or valid_to is not None,
            )
            if known:
                stats["updated"] += 1
                kept = [old for old in known if start is not None and old.valid_from < start]
                rows[code] = [*kept, row]
            else:
                stats["new"] += 1
                rows[code] = [row]
    except ElementTree.ParseError as exc:
        raise BillingError(f"Die EBM-Stammdatei ist kein gültiges XML ({exc}).") from None
    if not stats["gops"]:
        raise BillingError("Die Datei enthält keine GOP (/ehd/body/gnr_liste/gnr); ist das eine EBM-Stammdatei?")
    return [row for code in sorted(rows) for row in rows[code]], stats
