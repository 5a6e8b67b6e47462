"""Patients book video appointments themselves (issue 19): the practice's hours become free slots;
a booking carries the patient's data only as an envelope to the practice's public key, costs a
proof of work, is limited per address, takes a slot once (a database constraint), and opens the
waiting room only once confirmed when the practice confirms by hand."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading

import pytest
from django.urls import reverse

from sprechzimmer import proofofwork
from sprechzimmer.booking import slots as slotlib
from sprechzimmer.booking.models import BookableHours, BookingPage
from sprechzimmer.demo import keys
from sprechzimmer.video import services
from sprechzimmer.video.models import Appointment
from tests import factories

BERLIN = slotlib.BERLIN


# --- free slots (pure) -----------------------------------------------------------------------------


def test_slots_follow_the_hours_the_lead_time_and_existing_appointments():
    monday = dt.date(2027, 3, 1)
    now = dt.datetime.combine(monday, dt.time(8, 50), tzinfo=BERLIN)
    hours = [
        slotlib.Hours(1, 0, dt.time(9), dt.time(10), 15),
        slotlib.Hours(2, 1, dt.time(9), dt.time(9, 40), 20, True),
    ]
    busy = [(1, now.replace(hour=9, minute=20), now.replace(hour=9, minute=35))]  # 9:20–9:35 blocks two slots
    found = slotlib.free_slots(hours, busy, now, 1, dt.timedelta(minutes=15))
    times = [(s.doctor_id, s.start.astimezone(BERLIN).strftime("%a %H:%M"), s.known_only) for s in found]
    assert times == [(1, "Mon 09:45", False), (2, "Tue 09:00", True), (2, "Tue 09:20", True)]
    # 9:00 is too soon (lead 15 min from 8:50), 9:15 and 9:30 overlap the appointment


def test_slots_on_the_day_the_clocks_change_are_wall_time():
    sunday = dt.date(2027, 3, 28)  # 02:00 → 03:00
    now = dt.datetime.combine(sunday - dt.timedelta(days=1), dt.time(12), tzinfo=BERLIN)
    found = slotlib.free_slots([slotlib.Hours(1, 6, dt.time(10), dt.time(11), 30)], [], now, 2, dt.timedelta())
    assert [s.start.astimezone(BERLIN).strftime("%d.%m. %H:%M %Z") for s in found] == [
        "28.03. 10:00 CEST",
        "28.03. 10:30 CEST",
    ]


# --- the practice's settings ---------------------------------------------------------------------------


@pytest.fixture
def clinic(db):
    practice = factories.practice("Praxis Buchung")
    practice.public_key = factories.fake_public_key()
    practice.save()
    main = factories.member(practice, main=True)
    staff = factories.member(practice, role="staff")
    page = BookingPage.objects.create(organisation=practice, enabled=True, lead_minutes=0, days_ahead=7)
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    BookableHours.objects.create(
        organisation=practice,
        doctor=main,
        weekday=tomorrow.weekday(),
        start=dt.time(9),
        end=dt.time(10),
        slot_minutes=15,
    )
    BookableHours.objects.create(
        organisation=practice,
        doctor=main,
        weekday=tomorrow.weekday(),
        start=dt.time(14),
        end=dt.time(14, 30),
        slot_minutes=30,
        known_patients_only=True,
    )
    other = factories.practice("Praxis Fremd")
    outsider = factories.member(other, main=True)
    slot = dt.datetime.combine(tomorrow, dt.time(9, 15), tzinfo=BERLIN)
    known_slot = dt.datetime.combine(tomorrow, dt.time(14), tzinfo=BERLIN)
    return type(
        "C",
        (),
        dict(practice=practice, main=main, staff=staff, page=page, outsider=outsider, slot=slot, known_slot=known_slot),
    )


def logged_in(client, user):
    client.force_login(user)
    client.get(reverse("dashboard"))
    return client


def test_the_main_user_sets_up_hours_with_german_messages(client, clinic):
    logged_in(client, clinic.main)
    url = reverse("booking_settings")
    assert clinic.page.slug in client.get(url).content.decode()
    bad = client.post(
        url,
        {
            "hours-doctor": clinic.main.pk,
            "hours-weekday": 2,
            "hours-start": "12:00",
            "hours-end": "11:00",
            "hours-slot_minutes": 15,
        },
    )
    assert bad.status_code == 400 and "Das Ende muss nach dem Beginn liegen" in bad.content.decode()
    assert 'value="12:00"' in bad.content.decode()  # what was typed stays
    foreign = client.post(
        url,
        {
            "hours-doctor": clinic.outsider.pk,
            "hours-weekday": 2,
            "hours-start": "08:00",
            "hours-end": "09:00",
            "hours-slot_minutes": 15,
        },
    )
    assert foreign.status_code == 400 and BookableHours.objects.count() == 2
    ok = client.post(
        url,
        {
            "hours-doctor": clinic.main.pk,
            "hours-weekday": 2,
            "hours-start": "08:00",
            "hours-end": "09:00",
            "hours-slot_minutes": 20,
        },
    )
    assert ok.status_code == 302 and BookableHours.objects.count() == 3
    # Hours of the same doctor on the same weekday that overlap would offer a time twice.
    overlap = client.post(
        url,
        {
            "hours-doctor": clinic.main.pk,
            "hours-weekday": 2,
            "hours-start": "08:30",
            "hours-end": "10:00",
            "hours-slot_minutes": 10,
        },
    )
    assert (
        overlap.status_code == 400
        and "überschneidet sich mit der Sprechzeit Mittwoch 08:00–09:00" in overlap.content.decode()
    )
    before = {"hours-doctor": clinic.main.pk, "hours-weekday": 2, "hours-start": "07:00", "hours-end": "08:00"}
    assert client.post(url, before | {"hours-slot_minutes": 10}).status_code == 302  # touching is fine
    assert BookableHours.objects.count() == 4
    bad_page = client.post(url, {"page-enabled": "on", "page-days_ahead": "400", "page-lead_minutes": "60"})
    assert bad_page.status_code == 400 and "zwischen 1 und 90" in bad_page.content.decode()


def test_only_the_main_user_of_the_practice_manages_it(client, clinic):
    hours = BookableHours.objects.filter(organisation=clinic.practice).first()
    logged_in(client, clinic.staff)
    assert client.get(reverse("booking_settings")).status_code == 404
    logged_in(client, clinic.outsider)
    assert client.post(reverse("booking_hours_delete", args=[hours.pk])).status_code == 404
    assert BookableHours.objects.filter(pk=hours.pk).exists()


# --- booking ---------------------------------------------------------------------------------------------


def envelope(clinic_or_public_key, data: dict) -> str:
    return json.dumps(
        {
            "v": 1,
            "alg": "ECDH-P256-HKDF-A256GCM",
            "epk": factories.fake_public_key(),
            "iv": keys.b64u(os.urandom(12)),
            "ct": keys.b64u(os.urandom(90)),
        }
    )


def proof() -> dict:
    challenge = proofofwork.challenge(16)
    return {"challenge": challenge["challenge"], "nonce": proofofwork.solve(challenge["challenge"], 16)}


def book(client, clinic, start, **extra):
    body = {
        "doctor_id": clinic.main.pk,
        "start": start.isoformat(),
        "patient": envelope(clinic, {}),
        "proof": proof(),
        **extra,
    }
    return client.post(reverse("api_book", args=[clinic.page.slug]), json.dumps(body), content_type="application/json")


def test_the_public_page_offers_the_free_slots(client, clinic):
    text = client.get(reverse("booking_public", args=[clinic.page.slug])).content.decode()
    assert "09:15 Uhr" in text and "14:00 Uhr" in text and "bekannte Patienten" in text
    clinic.page.enabled = False
    clinic.page.save()
    assert client.get(reverse("booking_public", args=[clinic.page.slug])).status_code == 404
    assert client.get(reverse("booking_public", args=["unbekannt"])).status_code == 404


def test_a_booking_needs_a_proof_of_work_and_gives_a_working_code(client, clinic):
    url = reverse("api_book", args=[clinic.page.slug])
    body = {"doctor_id": clinic.main.pk, "start": clinic.slot.isoformat(), "patient": envelope(clinic, {})}
    asked = client.post(url, json.dumps(body), content_type="application/json")
    assert asked.status_code == 429 and asked.json()["bits"] >= 16 and not Appointment.objects.exists()
    answer = book(client, clinic, clinic.slot)
    assert answer.status_code == 201, answer.content
    data = answer.json()
    assert data["link"].endswith(f"/sprechstunde/#code={data['code']}") and data["confirmed"] is True
    appointment = Appointment.objects.get()
    assert appointment.booked_online and appointment.start == clinic.slot and appointment.doctor == clinic.main
    assert appointment.patient_ciphertext.startswith('{"v": 1, "alg": "ECDH-P256-HKDF-A256GCM"')
    assert (
        "Ihr Termin beginnt am" in services.appointment_for_code(data["code"])[1]
    )  # a real code, opening 30 min before
    # the slot is gone from the page and cannot be booked again
    assert "09:15 Uhr" not in client.get(reverse("booking_public", args=[clinic.page.slug])).content.decode()
    again = book(client, clinic, clinic.slot)
    assert again.status_code == 409 and "nicht mehr frei" in again.json()["error"]
    # cancelling frees it
    appointment.status = Appointment.Status.CANCELLED
    appointment.save()
    assert book(client, clinic, clinic.slot).status_code == 201


@pytest.mark.parametrize(
    "change, status, message",
    [
        ({"start": "2027-13-01T09:00:00+01:00"}, 400, "Bitte wählen Sie einen Termin"),
        ({"start": "morgen"}, 400, "Bitte wählen Sie einen Termin"),
        ({"doctor_id": "1e400"}, 400, "Bitte wählen Sie einen Termin"),
        ({"patient": "Erika Mustermann"}, 400, "nicht verschlüsselt"),
        ({"patient": json.dumps({"v": 1, "alg": "A256GCM", "iv": "AAAA", "ct": "AAAA"})}, 400, "nicht verschlüsselt"),
        ({"start": "2020-01-01T09:00:00+01:00"}, 409, "nicht mehr frei"),
    ],
)
def test_bad_bookings_get_a_german_message_and_book_nothing(client, clinic, change, status, message):
    body = {
        "doctor_id": clinic.main.pk,
        "start": clinic.slot.isoformat(),
        "patient": envelope(clinic, {}),
        "proof": proof(),
        **change,
    }
    answer = client.post(
        reverse("api_book", args=[clinic.page.slug]), json.dumps(body), content_type="application/json"
    )
    assert answer.status_code == status and message in answer.json()["error"]
    assert not Appointment.objects.exists()


def test_slots_for_known_patients_need_the_patients_word(client, clinic):
    refused = book(client, clinic, clinic.known_slot)
    assert refused.status_code == 400 and "schon in der Praxis behandelt" in refused.json()["error"]
    assert book(client, clinic, clinic.known_slot, known=True).status_code == 201


def test_another_doctor_or_a_time_outside_the_hours_is_not_offered(client, clinic):
    other_doctor = factories.member(clinic.practice)
    assert book(client, clinic, clinic.slot, doctor_id=other_doctor.pk).status_code == 409
    assert book(client, clinic, clinic.slot + dt.timedelta(minutes=5)).status_code == 409
    assert not Appointment.objects.exists()


def test_bookings_are_limited_per_address(client, clinic, monkeypatch):
    from sprechzimmer.booking import views

    monkeypatch.setattr(views, "PER_ADDRESS", (2, 3600))
    starts = [clinic.slot.replace(minute=m) for m in (0, 15, 30)]
    # Refused tries (a typo, a taken slot) do not count: a household keeps its bookings.
    for _ in range(3):
        assert book(client, clinic, starts[0], patient="kaputt").status_code == 400
    assert book(client, clinic, clinic.slot.replace(minute=5)).status_code == 409
    assert [book(client, clinic, s).status_code for s in starts] == [201, 201, 429]
    refused = book(client, clinic, clinic.slot.replace(minute=45))
    assert "schon 2 Termine gebucht" in refused.json()["error"] and "telefonisch" in refused.json()["error"]
    assert Appointment.objects.count() == 2
    # Tries have a limit of their own.
    monkeypatch.setattr(views, "TRIES_PER_ADDRESS", (1, 3600))
    assert "sehr viele Buchungsversuche" in book(client, clinic, starts[2]).json()["error"]


def test_unconfirmed_bookings_open_the_waiting_room_only_once_confirmed(client, clinic):
    clinic.page.auto_confirm = False
    clinic.page.save()
    data = book(client, clinic, clinic.slot).json()
    assert data["confirmed"] is False
    appointment = Appointment.objects.get()
    found, reason = services.appointment_for_code(data["code"])
    assert found is None and "noch nicht bestätigt" in reason
    logged_in(client, clinic.outsider)
    assert client.post(reverse("api_booking_confirm", args=[appointment.pk])).status_code == 404
    logged_in(client, clinic.staff)
    assert client.post(reverse("api_booking_confirm", args=[appointment.pk])).status_code == 200
    appointment.refresh_from_db()
    assert appointment.booking_confirmed_at is not None
    assert "noch nicht bestätigt" not in services.appointment_for_code(data["code"])[1]


@pytest.mark.django_db(transaction=True)
def test_two_patients_racing_for_one_slot_exactly_one_gets_it(clinic):
    """Two requests in two threads, each with its own database connection, released together: both
    pass the free-slot check before either writes; the database constraint lets one through. On
    PostgreSQL (CI's second leg) the second waits for the first and gets 409; SQLite may refuse the
    second writer at once ("table is locked"): 503, and the patient tries again. Never two appointments."""
    from django.db import connection, connections
    from django.test import Client

    url = reverse("api_book", args=[clinic.page.slug])
    bodies = [
        json.dumps(
            {
                "doctor_id": clinic.main.pk,
                "start": clinic.slot.isoformat(),
                "patient": envelope(clinic, {}),
                "proof": proof(),
            }
        )
        for _ in range(2)
    ]
    barrier, results = threading.Barrier(2), []

    def send(body: str, address: str) -> None:
        # as the page tells the patient: on 503 ("bitte erneut versuchen") try again, with a new proof
        try:
            client = Client(REMOTE_ADDR=address)
            barrier.wait()
            for _ in range(10):
                status = client.post(url, body, content_type="application/json").status_code
                if status != 503:
                    break
                body = json.dumps({**json.loads(body), "proof": proof()})
            results.append(status)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(b, f"192.0.2.{n}")) for n, b in enumerate(bodies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 409], (connection.vendor, results)
    assert Appointment.objects.filter(booked_online=True).exclude(status="cancelled").count() == 1


def test_on_plus_the_patient_may_have_code_and_link_sent_too(client, clinic):
    from sprechzimmer.contracts.models import Contract, Plan
    from sprechzimmer.invitations.models import ContactHold, OutgoingMessage

    basis = book(client, clinic, clinic.slot, send_to=[{"channel": "email", "to": "paula@example.org"}])
    assert basis.status_code == 403 and "nicht auf diesem Weg" in basis.json()["error"]
    Contract.objects.update_or_create(organisation=clinic.practice, defaults={"plan": Plan.PLUS})
    bad = book(client, clinic, clinic.slot, send_to=[{"channel": "email", "to": "kein-at-zeichen"}])
    assert bad.status_code == 400 and "ungültig" in bad.json()["error"]
    assert not Appointment.objects.exists()  # nothing half: no appointment without its message
    answer = book(client, clinic, clinic.slot, send_to=[{"channel": "email", "to": "paula@example.org"}])
    assert answer.status_code == 201
    appointment = Appointment.objects.get()
    kinds = sorted(OutgoingMessage.objects.filter(appointment=appointment).values_list("kind", flat=True))
    assert "invitation" in kinds
    hold = ContactHold.objects.get(appointment=appointment)
    assert "paula@example.org" not in hold.sealed  # sealed at once (docs/invitations.md)
