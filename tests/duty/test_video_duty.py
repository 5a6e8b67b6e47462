"""The video duty (issue 21): the dispatcher refers a patient while a video duty runs, the doctor on
duty (here a K-Arzt who took it) sees the queue and holds the room, outsiders see nothing; each
completed call becomes a Schein 0104 of the organised emergency service in the Notfallpraxis's KVDT
file, which the billing engine reads back and the K-Arzt bonus counts."""

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.billing.domain.kvdt import KvdtReader
from sprechzimmer.billing.domain.rulesets import RuleBook
from sprechzimmer.duty import areas, bonus, videoduty
from sprechzimmer.duty.domain.calendar import BERLIN
from sprechzimmer.duty.errors import DutyError
from sprechzimmer.duty.models import Duty, DutyType, Plan, QuarterRevenue, VideoReferral
from sprechzimmer.video.models import Appointment, VideoContact
from tests.duty.conftest import DutyWorld, orientation_value_known
from tests.duty.helpers import area as make_area
from tests.duty.helpers import doctor as make_doctor
from tests.duty.helpers import logged_in
from tests.video.helpers import connect

VIDEO_BSNR = "529999911"


def with_video_duty(world: DutyWorld) -> Duty:
    """The world's area with a video duty set up, and a published one running now, served by the
    K-Arzt (who took it from the exchange)."""
    return video_duty_now(world.area, world.k_arzt, VIDEO_BSNR)


def video_duty_now(area, serving, bsnr: str) -> Duty:
    video = area.duty_types.filter(kind=DutyType.Kind.VIDEO).first() or areas.add_video_duty(
        area, {"practice_name": f"Video-Notfallpraxis {area}", "practice_bsnr": bsnr}
    )
    now = timezone.now()
    today = timezone.localdate()
    plan = Plan.objects.create(area=area, first=today, last=today, status=Plan.Status.PUBLISHED)
    return Duty.objects.create(
        plan=plan,
        duty_type=video,
        day=today,
        start=now - dt.timedelta(hours=1),
        end=now + dt.timedelta(hours=3),
        kind="weekday",
        doctor=serving,
    )


@pytest.fixture
def on_duty(world) -> Duty:
    return with_video_duty(world)


def issued_code(response) -> str:
    return re.search(r'id="issued-code">([A-Z0-9-]+)<', response.content.decode()).group(1)


@pytest.mark.django_db
def test_the_dispatcher_refers_a_patient_while_the_video_duty_runs(client, world, on_duty):
    logged_in(client, world.staff)
    url = reverse("duty_video_dispatch", args=[world.area.pk])
    page = client.get(url)
    assert page.status_code == 200 and str(world.k_arzt) in page.content.decode()

    response = client.post(url)
    assert response.status_code == 200
    code = issued_code(response)
    referral = VideoReferral.objects.get()
    appointment = referral.appointment
    # The KV's waiting room, seated for the doctor on duty; nothing about the patient, not even sealed.
    assert appointment.organisation == world.kv and appointment.doctor == world.k_arzt.user
    assert appointment.patient_ciphertext == "" and appointment.waiting_name == ""
    assert referral.number == 1 and client.post(url).status_code == 200
    assert VideoReferral.objects.order_by("-pk").first().number == 2
    assert appointment.code_closes_at - appointment.start == videoduty.REFERRAL_VALID

    # The patient's code opens the waiting room without a key to encrypt a name to.
    access = Client().post(reverse("api_patient_access"), {"code": code}, content_type="application/json")
    assert access.status_code == 200
    assert access.json()["practice_public_key"] is None and "Mitte" in access.json()["practice"]


@pytest.mark.django_db
def test_no_referral_while_nobody_serves_the_video_duty(client, world, on_duty):
    Duty.objects.filter(pk=on_duty.pk).update(end=timezone.now() - dt.timedelta(minutes=1))
    logged_in(client, world.staff)
    response = client.post(reverse("duty_video_dispatch", args=[world.area.pk]))
    assert response.status_code == 409
    assert "kein Video-Bereitschaftsdienst besetzt" in response.content.decode()
    assert not Appointment.objects.exists() and not VideoReferral.objects.exists()


@pytest.mark.django_db
def test_outsiders_see_nothing(client, world, on_duty):
    referral, _ = videoduty.issue_referral(world.area, world.staff)
    pages = [
        reverse("duty_video_dispatch", args=[world.area.pk]),
        reverse("duty_video_kvdt", args=[world.area.pk, 2026, 1]),
    ]
    logged_in(client, world.other_staff)  # another KV's staff
    assert [client.get(url).status_code for url in pages] == [404, 404]
    assert client.post(reverse("duty_video_bonus", args=[world.area.pk, 2026, 1])).status_code == 404
    assert client.post(reverse("duty_video_setup", args=[world.area.pk]), {}).status_code == 404
    # An obliged doctor of the same KV who is not on duty: no room, an empty queue.
    logged_in(client, world.obliged[0].user)
    assert client.get(reverse("duty_video_room", args=[referral.appointment_id])).status_code == 404
    queue = client.get(reverse("duty_video_queue")).content.decode()
    assert "gerade keinen Video-Bereitschaftsdienst" in queue and "Fall 1" not in queue
    # An area without a video duty has no dispatcher page.
    logged_in(client, world.staff)
    plain = make_area(world.kv, "Ohne Video")
    assert client.get(reverse("duty_video_dispatch", args=[plain.pk])).status_code == 404


@pytest.mark.django_db
def test_the_doctor_on_duty_sees_the_queue_and_the_room(client, world, on_duty):
    referral, _ = videoduty.issue_referral(world.area, world.staff)
    logged_in(client, world.k_arzt.user)
    mine = client.get(reverse("duty_mine")).content.decode()
    assert reverse("duty_video_queue") in mine
    queue = client.get(reverse("duty_video_queue")).content.decode()
    assert "Fall 1" in queue and reverse("duty_video_room", args=[referral.appointment_id]) in queue
    room = client.get(reverse("duty_video_room", args=[referral.appointment_id])).content.decode()
    assert 'data-referral="1"' in room and "Zurück zur Warteschlange" in room


@pytest.mark.django_db
def test_setting_up_needs_a_bsnr_of_its_own(client, world):
    logged_in(client, world.staff)
    url = reverse("duty_video_setup", args=[world.area.pk])
    client.post(url, {"practice_name": "Video", "practice_bsnr": "529999900"})  # the Sitzdienst's BSNR
    assert not world.area.duty_types.filter(kind=DutyType.Kind.VIDEO).exists()
    client.post(url, {"practice_name": "Video", "practice_bsnr": "12"})
    assert not world.area.duty_types.filter(kind=DutyType.Kind.VIDEO).exists()
    client.post(url, {"practice_name": "Video", "practice_bsnr": VIDEO_BSNR})
    assert world.area.duty_types.get(kind=DutyType.Kind.VIDEO).practice.bsnr == VIDEO_BSNR
    with pytest.raises(DutyError):
        areas.add_video_duty(world.area, {"practice_name": "Noch eins", "practice_bsnr": "529999922"})


@database_sync_to_async
def session_of(user) -> str:
    client = Client()
    logged_in(client, user)
    return client.cookies["sessionid"].value


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_only_the_doctor_on_duty_holds_the_room_and_loses_it_when_the_duty_ends():
    world = await database_sync_to_async(DutyWorld)()
    duty = await database_sync_to_async(with_video_duty)(world)
    referral, _ = await database_sync_to_async(videoduty.issue_referral)(world.area, world.staff)
    path = f"/ws/raum/{referral.appointment_id}/"

    stranger, _ = await connect(path, await session_of(world.obliged[0].user))
    assert (await stranger.receive_json_from())["reason"] == "not-found"

    room, ok = await connect(path, await session_of(world.k_arzt.user))
    assert ok and (await room.receive_json_from())["type"] == "state"
    # The duty is over (and no call runs): the next heartbeat closes the room.
    await database_sync_to_async(Duty.objects.filter(pk=duty.pk).update)(end=timezone.now())
    await room.receive_json_from()  # config
    await room.send_json_to({"type": "ping"})
    refused = await room.receive_json_from()
    assert refused["type"] == "refused" and refused["reason"] == "duty-over"
    assert "zu Ende" in refused["message"]
    await room.disconnect()
    await stranger.disconnect()


def contact_at(referral: VideoReferral, moment: dt.datetime, doctor) -> VideoContact:
    """A completed call of the referral at ``moment`` (Berlin), admitted by ``doctor``."""
    videoduty.take_over(referral.appointment_id, doctor.user_id)
    return VideoContact.objects.create(
        organisation_id=referral.area.kv_id,
        appointment_id=referral.appointment_id,
        doctor=doctor.user,
        started_at=moment,
        duration_seconds=600,
    )


@pytest.mark.django_db
def test_each_call_is_an_emergency_schein_and_counts_in_the_k_arzt_bonus(client, world, monkeypatch):
    world = world.served_last_quarter()
    orientation_value_known(world.quarter.year, monkeypatch)
    with_video_duty(world)
    quarter = world.quarter
    first = quarter.first_day + dt.timedelta(days=(7 - quarter.first_day.weekday()) % 7 + 7)  # a Monday
    weekday_day = dt.datetime.combine(first + dt.timedelta(days=1), dt.time(10, 30), tzinfo=BERLIN)
    weekday_night = dt.datetime.combine(first + dt.timedelta(days=2), dt.time(21, 5), tzinfo=BERLIN)
    saturday = dt.datetime.combine(first + dt.timedelta(days=5), dt.time(11, 0), tzinfo=BERLIN)
    for moment in (weekday_day, weekday_night, saturday):
        referral, _ = videoduty.issue_referral(world.area, world.staff)
        contact_at(referral, moment, world.k_arzt)
    # A call of another KV's area is not in this file.
    other = video_duty_now(world.other_area, make_doctor(world.other_kv, world.other_area), "529999933")
    stranger, _ = videoduty.issue_referral(world.other_area, world.other_staff)
    contact_at(stranger, weekday_day, other.doctor)

    logged_in(client, world.staff)
    response = client.get(reverse("duty_video_kvdt", args=[world.area.pk, quarter.year, quarter.number]))
    assert response.status_code == 200
    data = b"".join(response.streaming_content) if response.streaming else response.content
    lines = data.decode("iso-8859-15").split("\r\n")
    fields = [(line[3:7], line[7:]) for line in lines if line]
    assert ("0201", VIDEO_BSNR) in fields and ("9204", quarter.kvdt) in fields
    assert [c for f, c in fields if f == "8000"].count("0104") == 3
    assert [c for f, c in fields if f == "4239"] == ["41", "41", "41"]  # ärztlicher Notfalldienst
    assert [c for f, c in fields if f == "5001"] == ["01210", "88220", "01212", "88220", "01212", "88220"]
    assert set(c for f, c in fields if f == "5099") == {world.k_arzt.lanr}
    assert set(c for f, c in fields if f == "5098") == {VIDEO_BSNR}
    assert not any(f in ("3101", "3102", "3103", "3104") for f, _ in fields)  # no patient data exists

    # The billing engine reads the file as any Notfallpraxis's (privacy mode, as for an upload).
    cases = list(KvdtReader(io.BytesIO(data), privacy=True))
    assert len(cases) == 3 and all(case.emergency and case.lanr == world.k_arzt.lanr for case in cases)

    # Into the revenues: 120 + 195 + 195 points, each less the 10 % video deduction, × Orientierungswert.
    response = client.post(reverse("duty_video_bonus", args=[world.area.pk, quarter.year, quarter.number]))
    assert response.status_code == 302
    row = QuarterRevenue.objects.get(lanr=world.k_arzt.lanr, practice__bsnr=VIDEO_BSNR)
    value = RuleBook.load().orientation_values_ct[quarter.year]
    expected = (Decimal(510) * Decimal("0.9") * value / 100).quantize(Decimal("0.01"))
    assert row.cases == 3 and row.revenue == expected
    statement = bonus.bonus_statement(world.k_arzt, *world.payout)
    assert statement.revenue == expected
