"""The built-in GOP catalogue (data/gop.csv) and its reading: coverage, sources, age tiers, dates,
EBM-Zusatznummern. The file is data other tests rely on; these tests say what it must hold."""

from __future__ import annotations

import datetime as dt
import re
from itertools import pairwise

import pytest

from sprechzimmer.billing.domain.catalogue import DEFAULT_GOP_FILE, EXCLUDED, LINKED, PAUSCHALE, Catalogue
from sprechzimmer.billing.domain.model import BillingError, Quarter

CATALOGUE = Catalogue.load(DEFAULT_GOP_FILE)
ROWS = [row for rows in CATALOGUE.rows.values() for row in rows]
HEADER = "code;chapter;points;video;kind;deduction;video_code;links;min_contacts;title"


def test_every_row_names_its_source_and_says_when_its_points_are_not_confirmed():
    for row in ROWS:
        assert row.source.strip(), row.code
        if row.points is None:
            assert re.search(r"Punkte nicht (aus Primärquelle )?belegt", row.source), row.code


def test_every_chapter_has_its_pauschalen_and_every_age_family_covers_all_ages_once():
    chapters_with_pauschale = {row.chapter for row in ROWS if row.kind is PAUSCHALE}
    assert {"01", "03", "04", *(f"{c:02d}" for c in range(5, 28)), "30"} <= chapters_with_pauschale
    families: dict[str, list] = {}
    for row in ROWS:
        if row.kind is PAUSCHALE and (row.age_min is not None or row.age_max is not None):
            families.setdefault(row.group, []).append(row)
    assert len(families) == 30  # 03, 04 (five tiers each) and 28 Grund- and Konsiliarpauschale families
    for group, tiers in families.items():
        tiers.sort(key=lambda r: r.age_min or 0)
        assert tiers[0].age_min is None and tiers[-1].age_max is None, group
        for younger, older in pairwise(tiers):
            assert older.age_min == younger.age_max + 1, (group, younger.code, older.code)


@pytest.mark.parametrize(
    "code, age_min, age_max",
    [
        ("03001", None, 3),
        ("03002", 4, 17),
        ("03003", 18, 53),
        ("03004", 54, 74),
        ("03005", 75, None),
        ("13210", None, 4),
        ("13211", 5, 58),
        ("13212", 59, None),
    ],
)
def test_age_tiers_are_completed_years_of_their_titles(code, age_min, age_max):
    gop = CATALOGUE.gops[code]
    assert (gop.age_min, gop.age_max) == (age_min, age_max)
    assert "Lebensjahr" in gop.title


def test_the_seeds_surcharges_and_the_emergency_fees_are_there():
    kinds = {row.code: row.kind for row in ROWS}
    for code in ("01630", "01641", "03020", "04020", "32001"):
        assert kinds[code] is EXCLUDED
    for code in ("03040", "03060", "03061", "04040", "06225"):
        assert kinds[code] is LINKED
    for code in (
        "01205",
        "01207",
        "01210",
        "01212",
        "01214",
        "01216",
        "01218",
        "01418",
        "01435",
        "01450",
        "01444",
        "01452",
        "88220",
    ):
        assert code in CATALOGUE.gops
    assert (CATALOGUE.gops["01210"].deduction, CATALOGUE.gops["01210"].deduction_from) == (10, dt.date(2022, 7, 1))
    assert CATALOGUE.gops["23211"].deduction == 20


def test_dated_gops():
    assert CATALOGUE.gops["01444"].valid_to == dt.date(2026, 12, 31)
    assert CATALOGUE.gops["01452"].valid_from == dt.date(2025, 4, 1)
    assert not CATALOGUE.gops["01452"].valid_on(dt.date(2025, 3, 31))


def test_zusatznummern_resolve_to_their_gop_and_the_video_letter_marks_them():
    view = CATALOGUE.view(Quarter(2024, 3))
    video = view.resolve("03230V")
    assert (video.code, video.base, video.video_marked) == ("03230V", "03230", True)
    other = view.resolve("04003C")
    assert (other.base, other.video_marked) == ("04003", False)
    assert view.resolve("99999V") is None and view.resolve("32025") is None
    assert "03230V" in view and "32025" not in view


def test_a_view_takes_the_row_in_force_in_its_quarter():
    catalogue = Catalogue.parse(
        f"{HEADER};valid_from\n03230;03;80;1;service;;;;;Gespräch;\n03230;03;90;1;service;;;;;Gespräch;2025-01-01\n"
    )
    assert catalogue.view(Quarter(2024, 4)).get("03230").points == 80
    assert catalogue.view(Quarter(2025, 1)).get("03230").points == 90


@pytest.mark.parametrize(
    "text, message",
    [
        ("code;points\n03000;1\n", "Kopfzeile"),
        (f"{HEADER}\n3000;03;;1;pauschale;;;;;x\n", "keine GOP"),
        (f"{HEADER}\n03000;03;;1;flat;;;;;x\n", "Art »flat« unbekannt"),
        (f"{HEADER}\n03000;03;-5;1;pauschale;;;;;x\n", "nicht negativ"),
        (
            f"{HEADER};valid_from\n03000;03;;1;pauschale;;;;;x;2025-01-01\n03000;03;;1;pauschale;;;;;y;2025-01-01\n",
            "zwei Zeilen",
        ),
    ],
)
def test_a_broken_catalogue_is_refused_with_a_german_message(text, message):
    with pytest.raises(BillingError, match=message):
        Catalogue.parse(text)
