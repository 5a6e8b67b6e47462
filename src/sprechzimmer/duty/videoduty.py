"""The video duty (Video-Bereitschaftsdienst, docs/duty.md "Video duty"): a duty type planned like the
others, during which the area's triage refers patients to a video waiting room and whoever serves the
duty admits them into the end-to-end encrypted call of the video consultation.

- The KV's dispatcher issues a referral: an appointment of the KV's video waiting room with an access
  code, valid for ``REFERRAL_VALID``. Nothing about the patient is stored (docs/e2ee.md).
- The doctor serving a running video duty of the area (the planned doctor, a substitute or a K-Arzt
  who took it) sees the queue and admits; the call is the one of the video consultation.
- A completed call is an emergency-service contact: Schein 0104 with Scheinuntergruppe 41 (ärztlicher
  Notfalldienst), the emergency fee 01210, or 01212 at night, at weekends and on holidays, and the
  video-only marker 88220, from which the billing check takes the 10 % video deduction; billed under
  the serving doctor's LANR and the BSNR of the video duty's Notfallpraxis (``kvdt``). That file is the
  Notfallpraxis's quarter file, so it feeds the K-Arzt bonus (duty/bonus.py) like any other.
"""

from __future__ import annotations

import datetime as dt
import io

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from sprechzimmer.billing.domain.kvdt import write_kvdt
from sprechzimmer.billing.domain.model import Case, Quarter, Service
from sprechzimmer.duty.domain.calendar import BERLIN, holiday_names
from sprechzimmer.duty.domain.pay import EMERGENCY_SUBGROUP
from sprechzimmer.duty.errors import DutyError
from sprechzimmer.duty.models import Area, Duty, DutyDoctor, DutyType, EmergencyPractice, Plan, VideoReferral
from sprechzimmer.duty.serving import serving_q
from sprechzimmer.video import services
from sprechzimmer.video.models import Appointment, VideoContact

#: How long a referral's code lets the patient in: an emergency is seen now, not tomorrow.
REFERRAL_VALID = dt.timedelta(hours=3)
#: Notfallpauschale im organisierten Not(fall)dienst (EBM 1.2): 01210 in the day on working days,
#: 01212 from 19 to 7 o'clock, at weekends, on holidays and on 24 and 31 December (EBM 01212).
FEE_DAY, FEE_UNSOCIAL = "01210", "01212"
#: The EBM's marker of a case with video contacts only (GOP 88220); the KV deducts 10 % from 01210/01212.
VIDEO_ONLY_MARKER = "88220"


def running_duty(area: Area, now: dt.datetime | None = None) -> Duty | None:
    """The area's published video duty running now, if any."""
    now = now or timezone.now()
    return (
        Duty.objects.filter(
            plan__area=area,
            plan__status=Plan.Status.PUBLISHED,
            duty_type__kind=DutyType.Kind.VIDEO,
            start__lte=now,
            end__gt=now,
        )
        .select_related("doctor__user", "substitute__user", "duty_type__practice")
        .first()
    )


def duties_served_now(doctor: DutyDoctor, now: dt.datetime | None = None) -> QuerySet[Duty]:
    """The video duties ``doctor`` serves at this moment (their own, or as substitute)."""
    now = now or timezone.now()
    return Duty.objects.filter(
        serving_q(doctor),
        plan__status=Plan.Status.PUBLISHED,
        plan__area__kv_id=doctor.kv_id,
        duty_type__kind=DutyType.Kind.VIDEO,
        start__lte=now,
        end__gt=now,
    ).select_related("plan__area", "duty_type")


def video_areas(kv) -> QuerySet[Area]:
    """The KV's areas with a video duty type."""
    return Area.objects.filter(kv=kv, duty_types__kind=DutyType.Kind.VIDEO).distinct().order_by("name")


def issue_referral(area: Area, issued_by, now: dt.datetime | None = None) -> tuple[VideoReferral, str]:
    """A referral to the area's video waiting room and its access code (shown once). Refused when
    nobody serves a video duty there now: a patient must not wait for a doctor who is not there."""
    now = now or timezone.now()
    duty = running_duty(area, now)
    if duty is None or duty.serving is None:
        raise DutyError(
            f"Im Bereich {area} ist zurzeit kein Video-Bereitschaftsdienst besetzt. Bitte vermitteln Sie "
            "den Patienten anders (Notfallpraxis, Fahrdienst, 112)."
        )
    with transaction.atomic():
        # One at a time per area, so that two dispatchers never hand out the same case number.
        Area.objects.select_for_update().filter(pk=area.pk).first()
        local_day = now.astimezone(BERLIN).date()
        midnight = dt.datetime.combine(local_day, dt.time(0), tzinfo=BERLIN)
        number = VideoReferral.objects.filter(area=area, created_at__gte=midnight).count() + 1
        appointment = Appointment.objects.create(
            organisation_id=area.kv_id,
            doctor=duty.serving.user,
            start=now,
            duration_minutes=15,
            patient_ciphertext="",
            created_by=issued_by,
            code_closes_at=now + REFERRAL_VALID,
        )
        code = services.issue_code(appointment)
        referral = VideoReferral.objects.create(area=area, appointment=appointment, number=number, issued_by=issued_by)
    return referral, code


def referral_for_appointment(appointment_id: int) -> VideoReferral | None:
    return (
        VideoReferral.objects.select_related("area", "appointment__doctor")
        .filter(appointment_id=appointment_id)
        .first()
    )


def serving_doctor(user, appointment_id: int, now: dt.datetime | None = None) -> DutyDoctor | None:
    """The user's duty profile when the appointment is a referral of an area where they serve a video
    duty right now, or whose call they admitted and have not ended (a call outlasts the duty's end);
    else None. The one check of the doctor's page and websocket for referrals."""
    referral = referral_for_appointment(appointment_id)
    return serving_referral(user, referral, now) if referral is not None else None


def serving_referral(user, referral: VideoReferral, now: dt.datetime | None = None) -> DutyDoctor | None:
    """``serving_doctor`` for a referral already at hand."""
    doctor = DutyDoctor.objects.filter(user_id=user.pk, user__is_active=True).first()
    if doctor is None or referral.area.kv_id != doctor.kv_id:
        return None
    if referral.served_by_id == doctor.pk and referral.appointment.status == Appointment.Status.IN_CALL:
        return doctor
    if not duties_served_now(doctor, now).filter(plan__area_id=referral.area_id).exists():
        return None
    return doctor


def take_over(appointment_id: int, user_id: int) -> None:
    """The admitting duty doctor becomes the appointment's doctor: the contact, and its Schein, are
    theirs, whoever was on duty when the code was issued (a shift may have changed since)."""
    with transaction.atomic():
        Appointment.objects.filter(pk=appointment_id).update(doctor_id=user_id, updated_at=timezone.now())
        VideoReferral.objects.filter(appointment_id=appointment_id).update(
            served_by=DutyDoctor.objects.filter(user_id=user_id).first()
        )


def queue(doctor: DutyDoctor, now: dt.datetime | None = None) -> tuple[list[Duty], list[VideoReferral]]:
    """The video duties the doctor serves now and the open referrals of their areas (waiting first,
    then those not yet arrived, then those in a call), oldest first."""
    now = now or timezone.now()
    duties = list(duties_served_now(doctor, now))
    areas = {duty.plan.area_id for duty in duties}
    open_statuses = (Appointment.Status.WAITING, Appointment.Status.IN_CALL, Appointment.Status.PLANNED)
    referrals = list(
        VideoReferral.objects.filter(
            area_id__in=areas,
            appointment__status__in=open_statuses,
            appointment__code_closes_at__gt=now,
        )
        .select_related("area", "appointment", "served_by__user")
        .order_by("created_at")
    )
    order = {Appointment.Status.WAITING: 0, Appointment.Status.PLANNED: 1, Appointment.Status.IN_CALL: 2}
    referrals.sort(key=lambda r: order[r.appointment.status])
    return duties, referrals


def todays_referrals(area: Area, now: dt.datetime | None = None) -> QuerySet[VideoReferral]:
    now = now or timezone.now()
    since = now - dt.timedelta(hours=24)
    return (
        VideoReferral.objects.filter(area=area, created_at__gte=since)
        .select_related("appointment", "served_by__user")
        .order_by("-created_at")
    )


# --- billing: the emergency-service Scheine of the video duty ------------------------------------


def unsocial(moment: dt.datetime, holiday: bool) -> bool:
    """19–7 o'clock, Saturday, Sunday or ``holiday`` (EBM 01212's times). ``holiday`` comes from
    ``holiday_names``, which counts 24 and 31 December with the public holidays."""
    local = moment.astimezone(BERLIN)
    return holiday or local.weekday() >= 5 or local.hour >= 19 or local.hour < 7


def contacts(area: Area, quarter: Quarter) -> QuerySet[VideoContact]:
    """The completed video-duty calls of the area in the quarter (by the contact's start, Berlin)."""
    first = dt.datetime.combine(quarter.first_day, dt.time(0), tzinfo=BERLIN)
    after = dt.datetime.combine(quarter.last_day + dt.timedelta(days=1), dt.time(0), tzinfo=BERLIN)
    return (
        VideoContact.objects.filter(appointment__duty_referral__area=area, started_at__gte=first, started_at__lt=after)
        .select_related("doctor", "appointment__duty_referral")
        .order_by("started_at")
    )


def video_practice(area: Area) -> EmergencyPractice | None:
    """The Notfallpraxis whose BSNR the area's video duty bills under."""
    duty_type = area.duty_types.filter(kind=DutyType.Kind.VIDEO).exclude(practice=None).select_related("practice")
    found = duty_type.first()
    return found.practice if found else None


def _holidays(area: Area, days: set[dt.date]) -> set[dt.date]:
    names = holiday_names(sorted({day.year for day in days}), area.state)
    return {day for day in days if day in names}


def cases(area: Area, quarter: Quarter, bsnr: str) -> list[Case]:
    """One Schein 0104 per completed call (a referral is one patient's Behandlungsfall in the
    emergency service): Scheinuntergruppe 41, the fee for the time of the contact, 88220, with the
    serving doctor's LANR (5099) and the Notfallpraxis's BSNR (5098) on each service."""
    found = list(contacts(area, quarter))
    holidays = _holidays(area, {c.started_at.astimezone(BERLIN).date() for c in found})
    result = []
    for contact in found:
        start = contact.started_at.astimezone(BERLIN)
        fee = FEE_UNSOCIAL if unsocial(start, start.date() in holidays) else FEE_DAY
        lanr = contact.doctor.lanr or None
        services_ = [
            Service(fee, start.date(), 1, time=start.strftime("%H:%M"), lanr=lanr, bsnr=bsnr),
            Service(VIDEO_ONLY_MARKER, start.date(), 1, time=start.strftime("%H:%M"), lanr=lanr, bsnr=bsnr),
        ]
        result.append(
            Case(
                f"VND{contact.pk}",
                "0104",
                subgroup=EMERGENCY_SUBGROUP,
                services=services_,
                quarter=quarter,
            )
        )
    return result


def kvdt(area: Area, quarter: Quarter) -> tuple[EmergencyPractice, str, bytes]:
    """(Notfallpraxis, file name, KVDT) of the area's video-duty contacts in the quarter, in the form a
    Notfallpraxis quarter file takes for the bonus (no patient fields: the server has none,
    docs/e2ee.md)."""
    practice = video_practice(area)
    if practice is None:
        raise DutyError(
            "Für den Video-Bereitschaftsdienst dieses Bereichs ist keine Notfallpraxis (BSNR) eingetragen; "
            "ohne BSNR lässt sich nicht abrechnen."
        )
    out = io.BytesIO()
    # The Datensatzbeschreibung's version; no software fields (0102/0103), which the bonus upload's
    # privacy mode refuses like any field it does not need.
    header = {"adt0": {"9212": "6.02"}}
    write_kvdt(cases(area, quarter, practice.bsnr), quarter, practice.bsnr, out, header=header)
    return practice, f"video-bereitschaftsdienst-{practice.bsnr}-{quarter.number}-{quarter.year}.con", out.getvalue()


def record_for_bonus(area: Area, quarter: Quarter):
    """Takes the quarter's video-duty contacts into the revenue the K-Arzt bonus is computed from,
    as the Notfallpraxis's quarter file (a second run replaces the first, like an upload)."""
    from sprechzimmer.duty import bonus

    practice, filename, data = kvdt(area, quarter)
    return bonus.record_revenue(practice, io.BytesIO(data), quarter=quarter, filename=filename)
