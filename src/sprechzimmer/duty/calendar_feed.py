"""The doctor's duties as an iCal feed behind a secret link (only its digest is stored)."""

from __future__ import annotations

import datetime as dt
import secrets

from django.utils import timezone

from sprechzimmer.accounts.models import token_digest
from sprechzimmer.duty.models import Duty, DutyDoctor, Plan
from sprechzimmer.duty.serving import serving_q


def new_calendar_token(doctor: DutyDoctor) -> str:
    """A new secret feed URL token; the old link stops working. Only the digest is stored."""
    token = secrets.token_urlsafe(32)
    DutyDoctor.objects.filter(pk=doctor.pk).update(ical_token_hash=token_digest(token))
    return token


def revoke_calendar_token(doctor: DutyDoctor) -> None:
    DutyDoctor.objects.filter(pk=doctor.pk).update(ical_token_hash="")


def doctor_for_token(token: str) -> DutyDoctor | None:
    if not token or len(token) > 100:
        return None
    return DutyDoctor.objects.filter(ical_token_hash=token_digest(token)).select_related("user").first()


def serving_duties(doctor: DutyDoctor):
    return (
        Duty.objects.filter(plan__status=Plan.Status.PUBLISHED)
        .filter(serving_q(doctor))
        .select_related("duty_type__practice", "duty_type__area", "doctor__user", "substitute__user")
    )


def calendar_feed(doctor: DutyDoctor) -> bytes:
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//Sprechzimmer//Bereitschaftsdienst//DE")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Bereitschaftsdienste")
    for duty in serving_duties(doctor).filter(end__gte=timezone.now() - dt.timedelta(days=90)):
        event = Event()
        event.add("uid", f"duty-{duty.pk}@sprechzimmer")
        event.add("dtstamp", timezone.now())
        event.add("dtstart", duty.start)
        event.add("dtend", duty.end)
        event.add("summary", f"Bereitschaftsdienst: {duty.duty_type.get_kind_display()}")
        event.add("location", duty.duty_type.place)
        if duty.substitute_id:
            event.add("description", f"Vertretung für {duty.doctor}; abgerechnet unter LANR {duty.billing_lanr}")
        calendar.add_component(event)
    return calendar.to_ical()
