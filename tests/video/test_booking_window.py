"""When an appointment may start (issue 11, item 13): not in the past beyond a grace of 30 minutes,
not more than two years ahead; an appointment that is already past can still be finished."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.accounts import keyblobs
from sprechzimmer.video.domain import BOOKING_GRACE, BOOKING_HORIZON, booking_problem
from sprechzimmer.video.models import Appointment
from tests import factories
from tests.video.helpers import video_practice


def test_the_booking_window_in_the_domain():
    now = dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.UTC)
    assert booking_problem(now, now) is None
    assert booking_problem(now - BOOKING_GRACE, now) is None
    assert "Vergangenheit" in booking_problem(now - BOOKING_GRACE - dt.timedelta(seconds=1), now)
    assert booking_problem(now + BOOKING_HORIZON, now) is None
    assert "zwei Jahre" in booking_problem(now + BOOKING_HORIZON + dt.timedelta(seconds=1), now)
    assert "Vergangenheit" in booking_problem(dt.datetime(1900, 1, 1, tzinfo=dt.UTC), now)


@pytest.fixture
def practice(db):
    organisation, doctor, appointment, _ = video_practice("Praxis Termine")
    client = Client()
    client.force_login(doctor)
    client.get(reverse("dashboard"))
    return type("P", (), dict(organisation=organisation, doctor=doctor, client=client))


def _book(practice, start: dt.datetime):
    body = {
        "doctor_id": practice.doctor.pk,
        "start": start.isoformat(),
        "duration_minutes": 15,
        "patient": factories.envelope(keyblobs.ALG_RECORD),
    }
    return practice.client.post("/api/termine/", json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    ("start", "message"),
    [
        (dt.datetime(1900, 1, 1, 10, 0), "in der Vergangenheit"),
        (dt.datetime(2099, 12, 31, 10, 0), "höchstens zwei Jahre im Voraus"),
    ],
)
def test_absurd_dates_are_refused_without_an_access_code(practice, start, message):
    before = Appointment.objects.count()
    response = _book(practice, start.replace(tzinfo=dt.UTC))
    assert response.status_code == 400
    assert message in response.json()["errors"]["start"][0]
    assert "code" not in response.json()
    assert Appointment.objects.count() == before


def test_the_edges_of_the_window(practice):
    now = timezone.now()
    assert _book(practice, now - dt.timedelta(minutes=10)).status_code == 201  # booked as it begins
    assert _book(practice, now - dt.timedelta(minutes=31)).status_code == 400
    assert _book(practice, now + dt.timedelta(days=730)).status_code == 201
    assert _book(practice, now + dt.timedelta(days=732)).status_code == 400


def test_a_past_appointment_can_be_finished_and_corrected_but_not_moved_into_the_past(practice):
    past = Appointment.objects.create(
        organisation=practice.organisation,
        doctor=practice.doctor,
        start=timezone.now() - dt.timedelta(days=3),
        patient_ciphertext=factories.envelope(keyblobs.ALG_RECORD),
    )
    url = f"/api/termine/{past.pk}/"

    def patch(**fields):
        return practice.client.patch(url, json.dumps(fields), content_type="application/json")

    response = patch(status="done", base_version=1)
    assert response.status_code == 200 and response.json()["appointment"]["status"] == "done"
    # The calendar sends the whole form: an unchanged start passes, the corrected name is saved.
    corrected = factories.envelope(keyblobs.ALG_RECORD)
    response = patch(
        start=past.start.isoformat(),
        duration_minutes=20,
        patient=corrected,
        doctor_id=practice.doctor.pk,
        base_version=2,
    )
    assert response.status_code == 200 and response.json()["appointment"]["patient"] == corrected
    response = patch(start=(past.start - dt.timedelta(days=1)).isoformat(), base_version=3)
    assert response.status_code == 400 and "Vergangenheit" in response.json()["errors"]["start"][0]
    past.refresh_from_db()
    assert past.version == 3 and past.duration_minutes == 20
    # No new access code for an appointment whose day is over.
    past.status = Appointment.Status.PLANNED
    past.save()
    response = practice.client.post(reverse("api_reissue_code", args=[past.pk]))
    assert response.status_code == 409 and "vorbei" in response.json()["error"]
