"""GOP data (Gebührenordnungspositionen): our own small file, replaceable by licensed master data.

Columns: code;chapter;points;video;kind;deduction;video_code;links;min_contacts;title (UTF-8, ``#``
starts a comment). See ``data/gop.csv`` for what each column means and where the figures come from.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from .model import BillingError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEFAULT_GOP_FILE = DATA_DIR / "gop.csv"

PAUSCHALE = "pauschale"  # Versicherten-, Grund-, Konsiliar- or Notfallpauschale
LINKED = "linked"  # surcharge that takes its Pauschale's deduction in a video-only case (R3)
EXCLUDED = "excluded"  # surcharge not billable in a video-only case (R4)
MARKER = "marker"  # 88220
TELEPHONE_FEE = "telephone"  # 01435
VIDEO_SURCHARGE = "video_surcharge"  # 01450
SERVICE = "service"
KINDS = (PAUSCHALE, LINKED, EXCLUDED, MARKER, TELEPHONE_FEE, VIDEO_SURCHARGE, SERVICE)
COLUMNS = ("code", "chapter", "points", "video", "kind", "deduction", "video_code", "links", "min_contacts", "title")
GOP_PATTERN = re.compile(r"\d{5}[A-Z]?")


@dataclass(frozen=True, slots=True)
class Gop:
    code: str
    chapter: str
    points: int
    video: bool  # deliverable in a Videosprechstunde according to its description
    kind: str
    deduction: int  # percent taken off in a video-only case (R3); 0 = none
    video_code: str  # code of the reduced variant (03000V, 05210U); "" = same code
    links: tuple[str, ...]  # surcharges that share this Pauschale's deduction
    min_contacts: int  # R10: contacts the GOP needs in the case
    title: str


class Catalogue:
    """GOPs by code. ``get`` is the hot path of the checker: a plain dict lookup."""

    def __init__(self, gops: dict[str, Gop], source: str):
        self.gops = gops
        self.get = gops.get
        self.source = source

    def __len__(self):
        return len(self.gops)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Catalogue:
        path = Path(path) if path else DEFAULT_GOP_FILE
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
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != COLUMNS:
            raise BillingError("Die GOP-Datei braucht die Kopfzeile " + ";".join(COLUMNS) + ".")
        gops: dict[str, Gop] = {}
        for number, row in enumerate(reader, start=2):
            gop = _row(row, number)
            gops[gop.code] = gop
        return cls(gops, source)


def _row(row: list[str], number: int) -> Gop:
    where = f"GOP-Datei, Datenzeile {number}"
    if len(row) != len(COLUMNS):
        raise BillingError(f"{where}: {len(row)} statt {len(COLUMNS)} Spalten.")
    code, chapter, points, video, kind, deduction, video_code, links, min_contacts, title = (c.strip() for c in row)
    if not GOP_PATTERN.fullmatch(code):
        raise BillingError(f"{where}: »{code}« ist keine GOP (fünf Ziffern).")
    if kind not in KINDS:
        raise BillingError(f"{where}: Art »{kind}« unbekannt (erlaubt: {', '.join(KINDS)}).")
    if video not in ("0", "1"):
        raise BillingError(f"{where}: Spalte video muss 0 oder 1 sein.")
    try:
        points_value = int(points)
        deduction_value = int(deduction or 0)
        min_value = int(min_contacts or 0)
    except ValueError:
        raise BillingError(f"{where}: Punkte, Abschlag und Mindestkontakte müssen ganze Zahlen sein.") from None
    if points_value < 0 or not 0 <= deduction_value <= 100 or min_value < 0:
        raise BillingError(f"{where}: Punkte und Abschlag (0–100 %) dürfen nicht negativ sein.")
    link_codes = tuple(links.split())
    for link in link_codes:
        if not GOP_PATTERN.fullmatch(link):
            raise BillingError(f"{where}: verknüpfter Zuschlag »{link}« ist keine GOP.")
    kind = KINDS[KINDS.index(kind)]  # the module's own string object, so the checker can compare with ``is``
    return Gop(code, chapter, points_value, video == "1", kind, deduction_value, video_code, link_codes, min_value, title)
