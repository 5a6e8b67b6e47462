"""Each KV's documents, generated from the practice's own data, render (pdftoppm) and name the
practice, its BSNR and every doctor's LANR (issue 17)."""

from __future__ import annotations

import subprocess

import pytest
from django.urls import reverse

from sprechzimmer.accounts.models import User
from sprechzimmer.approval.compliance import REQUIREMENTS
from sprechzimmer.approval.directory import KVS, SELF_DECLARATION
from sprechzimmer.approval.models import ApprovalDocument, KvProcedure
from tests import factories
from tests.approval.conftest import logged_in, practice_in


def pdf_text(data: bytes, tmp_path) -> str:
    source = tmp_path / "doc.pdf"
    source.write_bytes(data)
    # It renders: pdftoppm draws the first page (a broken PDF fails here).
    subprocess.run(
        ["pdftoppm", "-r", "20", "-png", "-f", "1", "-l", "1", str(source), str(tmp_path / "page")], check=True
    )
    assert any(tmp_path.glob("page*.png"))
    text = subprocess.run(["pdftotext", str(source), "-"], check=True, capture_output=True, text=True).stdout
    return " ".join(text.split())


def test_all_17_kvs_are_in_the_directory(db):
    assert KvProcedure.objects.count() == 17
    assert sorted(KvProcedure.objects.values_list("code", flat=True)) == sorted(kv.code for kv in KVS)
    assert all(kv.document_kinds for kv in KvProcedure.objects.all())


@pytest.mark.parametrize("code", [kv.code for kv in KVS])
def test_every_document_of_every_kv_names_the_practice_and_its_doctors(client, db, operator, tmp_path, code):
    practice = practice_in(code)
    main = factories.member(practice, main=True)
    second = factories.member(practice)
    factories.member(practice, role=User.Role.STAFF)
    logged_in(client, main)
    kv = KvProcedure.objects.get(code=code)
    page = client.get(reverse("approval")).content.decode()
    assert kv.name in page
    for kind in kv.document_kinds:
        response = client.get(reverse("approval_document", args=[kind]))
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        text = pdf_text(response.content, tmp_path)
        for expected in (practice.name, practice.bsnr, main.lanr, second.lanr, "Sprechzimmer Betrieb GmbH"):
            assert expected in text, (code, kind, expected)
        if kind != "kvno-beiblatt":
            assert kv.name in text, (code, kind)
        assert ApprovalDocument.objects.get(organisation=practice, kind=kind).prepared_at is not None


def test_the_self_declaration_states_every_requirement(client, db, operator, tmp_path):
    practice = practice_in("52")
    logged_in(client, factories.member(practice, main=True))
    text = pdf_text(client.get(reverse("approval_document", args=[SELF_DECLARATION])).content, tmp_path)
    for requirement in REQUIREMENTS:
        assert f"{requirement.id} " in text
        assert " ".join(requirement.how.split()[:4]) in text


def test_markup_in_names_is_printed_literally(client, db, operator, tmp_path):
    practice = practice_in("38", name='Praxis <img src="http://127.0.0.1:9/x"> & <b>Co')
    doctor = factories.member(practice, main=True)
    doctor.full_name = "Dr. <i>Kursiv</i>"
    doctor.save()
    logged_in(client, doctor)
    for kind in KvProcedure.objects.get(code="38").document_kinds:
        text = pdf_text(client.get(reverse("approval_document", args=[kind])).content, tmp_path)
        assert 'Praxis <img src="http://127.0.0.1:9/x"> & <b>Co' in text
        assert "Dr. <i>Kursiv</i>" in text
