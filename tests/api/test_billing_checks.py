"""The API's billing check (issue 19): a PVS uploads a quarter file as the practice's page does;
the same checks (scope, practice, no patient data in the file, size), German errors, nothing stored
on a refused file, a stored report only for its own practice."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sprechzimmer.api.models import SCOPES, ApiClient
from sprechzimmer.billing.models import QuarterReport
from tests import factories
from tests.billing.builders import case, kvdt_bytes

pytestmark = pytest.mark.django_db
NAME = "Z01521234500_01.10.2024_10.00.con"


@pytest.fixture
def world():
    practice = factories.practice("Praxis API")
    doctor = factories.member(practice, main=True)
    other = factories.practice("Praxis Fremd")
    other_doctor = factories.member(other, main=True)
    _, token = ApiClient.create(practice, "PVS", list(SCOPES), doctor)
    _, other_token = ApiClient.create(other, "PVS", list(SCOPES), other_doctor)
    return type("W", (), dict(practice=practice, other=other, token=token, other_token=other_token, doctor=doctor))


def quarter_file() -> bytes:
    return kvdt_bytes(
        [
            case((2, ["03003", "01450"]), case_id="V1"),
            case((3, ["03003"]), case_id="P1"),
            case((4, ["03003"]), case_id="P2"),
        ]
    )


def post(client, token, content: bytes, name=NAME, quarter=""):
    return client.post(
        "/api/v1/billing-checks",
        {"file": SimpleUploadedFile(name, content), "quarter": quarter},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_a_quarter_file_is_checked_stored_and_read_back(client, world):
    response = post(client, world.token, quarter_file())
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["quarter"], body["cases"], body["video_only_cases"]) == ("3/2024", 3, 1)
    assert body["report"]["totals"]["cases"] == 3
    saved = QuarterReport.objects.get(organisation=world.practice)
    assert saved.pk == body["id"] and saved.uploaded_by is None
    again = client.get(f"/api/v1/billing-checks/{saved.pk}", HTTP_AUTHORIZATION=f"Bearer {world.token}")
    assert again.status_code == 200 and again.json()["id"] == saved.pk
    # another practice's client does not find it
    foreign = client.get(f"/api/v1/billing-checks/{saved.pk}", HTTP_AUTHORIZATION=f"Bearer {world.other_token}")
    assert foreign.status_code == 404


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "leer"),
        (b"%PDF-1.4 ...", "PDF- oder ZIP-Datei"),
        (
            b"0138000con0\r\n0138000besa\r\n0180201521234500\r\n01380000101\r\n0113000V1\r\n0193101Mustermann\r\n",
            "der Name darf nicht hochgeladen werden",
        ),
    ],
)
def test_refused_files_get_a_german_error_and_change_nothing(client, world, content, message):
    assert post(client, world.token, quarter_file()).status_code == 201
    before = QuarterReport.objects.get().report
    response = post(client, world.token, content)
    assert response.status_code == 400 and message in response.json()["error"]
    assert QuarterReport.objects.get().report == before


def test_scope_token_and_size_are_checked(client, world, settings):
    _, narrow = ApiClient.create(world.practice, "eng", [s for s in SCOPES if s != "billing_check"], world.doctor)
    response = post(client, narrow, quarter_file())
    assert response.status_code == 403 and "billing_check" in response.json()["error"]
    assert post(client, "sz_wrong", quarter_file()).status_code == 401
    settings.EBM_UPLOAD_MAX_BYTES = 100
    response = post(client, world.token, quarter_file())
    assert response.status_code == 400 and "größer als" in response.json()["error"]
    missing = client.post("/api/v1/billing-checks", {}, HTTP_AUTHORIZATION=f"Bearer {world.token}")
    assert missing.status_code == 400 and "error" in missing.json()
    assert not QuarterReport.objects.exists()
