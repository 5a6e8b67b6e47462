"""The table of Anlage 31b requirements is the one source of docs/compliance.md and of the
Selbstauskunft; every test it names exists (issue 17)."""

from __future__ import annotations

import re
from pathlib import Path

from sprechzimmer.approval.compliance import REQUIREMENTS, markdown

ROOT = Path(__file__).resolve().parents[2]


def test_requirements_a1_to_a13_each_with_tests():
    assert [r.id for r in REQUIREMENTS] == [f"A{n}" for n in range(1, 14)]
    assert all(r.tests for r in REQUIREMENTS)


def test_every_named_test_exists():
    for requirement in REQUIREMENTS:
        for node in requirement.tests:
            path, name = node.split("::")
            source = (ROOT / path).read_text(encoding="utf-8")
            assert re.search(rf"^(async )?def {name}\(", source, re.M), (requirement.id, node)


def test_the_doc_shows_the_same_table():
    assert markdown() in (ROOT / "docs" / "compliance.md").read_text(encoding="utf-8")
