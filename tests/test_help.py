"""Online help and the patient guide (issue 17): public, German, every picture it shows exists and
is served by the instance; the PDF renders and carries every step; the invitation links the guide."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse

from sprechzimmer import guide
from sprechzimmer.guide import PATIENT_STEPS, PICTURES, PRACTICE_STEPS

ROOT = Path(__file__).resolve().parents[1]


def test_every_picture_the_help_shows_exists_and_is_a_png():
    for step in PATIENT_STEPS + PRACTICE_STEPS:
        data = (PICTURES / step.picture).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000, step.picture


def test_the_help_pages_are_public_and_show_each_step(client, db):
    for name, steps in (("help", PRACTICE_STEPS), ("patient_help", PATIENT_STEPS)):
        response = client.get(reverse(name))
        page = response.content.decode()
        assert response.status_code == 200
        for step in steps:
            assert step.title in page and f"sprechzimmer/help/{step.picture.removesuffix('.png')}" in page
        assert not re.search(r'src="https?://', page)  # pictures come from the instance itself


@pytest.mark.parametrize("name, steps", [("patient_guide_pdf", PATIENT_STEPS), ("practice_manual_pdf", PRACTICE_STEPS)])
def test_the_manuals_render_as_pdf_with_every_step(client, db, tmp_path, name, steps):
    response = client.get(reverse(name))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    source = tmp_path / "guide.pdf"
    source.write_bytes(response.content)
    subprocess.run(["pdftoppm", "-r", "20", "-png", str(source), str(tmp_path / "page")], check=True)
    assert len(list(tmp_path.glob("page*.png"))) >= 1
    text = subprocess.run(["pdftotext", str(source), "-"], capture_output=True, text=True, check=True).stdout
    text = " ".join(text.split())
    for number, step in enumerate(steps, 1):
        assert f"{number}. {step.title}" in text


def test_the_invitation_and_the_patients_help_dialog_link_the_guide(client, db):
    calendar = (ROOT / "src/sprechzimmer/static/sprechzimmer/js/pages/calendar.js").read_text(encoding="utf-8")
    assert "/hilfe/patienten/" in calendar
    assert reverse("patient_help") in client.get(reverse("join")).content.decode()


@pytest.mark.parametrize(
    "name, render", [("patient_guide_pdf", guide.patient_guide), ("practice_manual_pdf", guide.practice_manual)]
)
def test_a_manual_is_rendered_once_per_process_not_per_download(client, db, name, render):
    """The patient's guide is public: rendering it with its pictures on every request (74–165 ms of
    CPU) would let anyone keep a core busy. Every download after the first is the same bytes."""
    first = client.get(reverse(name)).content
    before = render.cache_info()
    for _ in range(3):
        assert client.get(reverse(name)).content == first
    after = render.cache_info()
    assert (after.misses, after.hits) == (before.misses, before.hits + 3)
