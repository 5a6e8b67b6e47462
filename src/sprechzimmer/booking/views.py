"""The booking page: the main user sets it up; patients book on the public page (docs/booking.md).

The public page has no account and no session: the patient picks a free slot and types name and
contact, which the browser encrypts to the practice's public key (the server stores an envelope it
cannot open); the answer is the access code and the join link, shown once. A slot is booked once (a
database constraint); bookings are limited per address and per practice, and each costs a proof
of work in the browser, so booking in bulk is slow and expensive while one booking is not."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sprechzimmer import inputs, proofofwork, ratelimit
from sprechzimmer.accounts import keyblobs
from sprechzimmer.accounts.access import json_error, main_user_required, member_required
from sprechzimmer.contracts import gate
from sprechzimmer.invitations import actions as invitation_actions
from sprechzimmer.invitations.views import FEATURES as INVITATION_FEATURES
from sprechzimmer.video import appointments, services
from sprechzimmer.video.models import Appointment

from . import slots as slotlib
from .models import BookableHours, BookingPage

#: Bookings per address and hour; per practice and hour (a bulk booker hits these first).
PER_ADDRESS = (5, 3600)  # bookings made
PER_PRACTICE = (60, 3600)  # bookings made
TRIES_PER_ADDRESS = (40, 3600)  # requests, the proof-of-work round and refused ones included
MAX_HOURS_ROWS = 100
#: SQLite refuses a second writer at the same instant ("table is locked"), on the read of the free
#: slots or on the write; PostgreSQL waits and answers by the constraint. Never a 500: try again.
BUSY = "Gerade buchen viele gleichzeitig. Bitte versuchen Sie es in einem Moment erneut."


class PageForm(forms.ModelForm):
    class Meta:
        model = BookingPage
        fields = ["enabled", "auto_confirm", "days_ahead", "lead_minutes"]

    def clean_days_ahead(self):
        value = self.cleaned_data["days_ahead"]
        if not 1 <= value <= 90:
            raise ValidationError("Bitte zwischen 1 und 90 Tagen.")
        return value

    def clean_lead_minutes(self):
        value = self.cleaned_data["lead_minutes"]
        if value > 10080:
            raise ValidationError("Höchstens eine Woche (10080 Minuten).")
        return value


class HoursForm(forms.ModelForm):
    class Meta:
        model = BookableHours
        fields = ["doctor", "weekday", "start", "end", "slot_minutes", "known_patients_only"]
        widgets = {"start": forms.TimeInput(attrs={"type": "time"}), "end": forms.TimeInput(attrs={"type": "time"})}
        labels = {"doctor": "Ärztin oder Arzt", "weekday": "Wochentag"}

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["doctor"].queryset = appointments.doctors(organisation)  # type: ignore[attr-defined]
        self.fields["doctor"].label_from_instance = lambda user: user.full_name  # type: ignore[attr-defined]
        self.fields["doctor"].empty_label = "Bitte wählen"  # type: ignore[attr-defined]
        weekday = self.fields["weekday"]
        weekday.choices = [("", "Bitte wählen"), *[c for c in weekday.choices if c[0] != ""]]  # type: ignore[attr-defined]

    def clean_slot_minutes(self):
        value = self.cleaned_data["slot_minutes"]
        if not 5 <= value <= 120:
            raise ValidationError("Bitte zwischen 5 und 120 Minuten.")
        return value

    def clean(self):
        data = super().clean() or {}
        start, end, doctor, weekday = (data.get(k) for k in ("start", "end", "doctor", "weekday"))
        if start and end and end <= start:
            self.add_error("end", "Das Ende muss nach dem Beginn liegen.")
        elif start and end and doctor and weekday is not None:
            # One doctor's hours on a weekday must not overlap: the booking page would offer the
            # same time twice, or slots that overlap (a new user's walk booked 10:00 twice).
            overlapping = (
                BookableHours.objects.filter(doctor=doctor, weekday=weekday)
                .filter(start__lt=end, end__gt=start)
                .exclude(pk=self.instance.pk)
                .first()
            )
            if overlapping is not None:
                self.add_error(
                    "start",
                    f"Diese Zeit überschneidet sich mit der Sprechzeit {overlapping.get_weekday_display()} "
                    f"{overlapping.start:%H:%M}–{overlapping.end:%H:%M} Uhr. Bitte wählen Sie eine andere Zeit "
                    "oder entfernen Sie die bestehende zuerst.",
                )
        return data


def _page_of(organisation) -> BookingPage:
    page, _ = BookingPage.objects.get_or_create(organisation=organisation)
    return page


def _settings_page(request, page_form=None, hours_form=None, status=200):
    organisation = request.user.organisation
    page = _page_of(organisation)
    return render(
        request,
        "booking/settings.html",
        {
            "page": page,
            "page_form": page_form or PageForm(instance=page, prefix="page"),
            "hours_form": hours_form or HoursForm(organisation=organisation, prefix="hours"),
            "hours": organisation.bookable_hours.select_related("doctor"),
            "public_url": request.build_absolute_uri(f"/buchen/{page.slug}/"),
            "has_public_key": bool(organisation.public_key),
        },
        status=status,
    )


@main_user_required
def settings_page(request):
    if request.method != "POST":
        return _settings_page(request)
    organisation = request.user.organisation
    if "hours-doctor" in request.POST:
        hours_form = HoursForm(request.POST, organisation=organisation, prefix="hours")
        if organisation.bookable_hours.count() >= MAX_HOURS_ROWS:
            hours_form.add_error(None, f"Höchstens {MAX_HOURS_ROWS} Sprechzeiten je Praxis.")
        if not hours_form.is_valid():
            return _settings_page(request, hours_form=hours_form, status=400)
        hours_form.instance.organisation = organisation
        hours_form.save()
        messages.success(request, "Die Sprechzeit ist eingetragen.")
        return redirect("booking_settings")
    page_form = PageForm(request.POST, instance=_page_of(organisation), prefix="page")
    if not page_form.is_valid():
        return _settings_page(request, page_form=page_form, status=400)
    page_form.save()
    messages.success(request, "Die Einstellungen der Online-Buchung sind gespeichert.")
    return redirect("booking_settings")


@main_user_required
@require_POST
def delete_hours(request, pk):
    get_object_or_404(BookableHours, pk=pk, organisation=request.user.organisation).delete()
    messages.success(request, "Die Sprechzeit ist entfernt.")
    return redirect("booking_settings")


# --- the public page --------------------------------------------------------------------------------


def _published(slug: str) -> BookingPage:
    page = (
        BookingPage.objects.select_related("organisation")
        .filter(slug=slug, enabled=True, organisation__kind="practice")
        .first()
    )
    if page is None or not page.organisation.public_key:
        raise Http404("Diese Seite zur Terminbuchung gibt es nicht (mehr).")
    return page


def free_slots(page: BookingPage, now: dt.datetime | None = None) -> list[slotlib.Slot]:
    now = now or timezone.now()
    organisation = page.organisation
    hours = [
        slotlib.Hours(h.doctor_id, h.weekday, h.start, h.end, h.slot_minutes, h.known_patients_only)
        for h in organisation.bookable_hours.filter(doctor__is_active=True)
    ]
    if not hours:
        return []
    last = now + dt.timedelta(days=page.days_ahead + 1)
    busy = [
        (a.doctor_id, a.start, a.end)
        for a in Appointment.objects.filter(
            organisation=organisation, start__gte=now - dt.timedelta(hours=3), start__lt=last
        )
        .exclude(status=Appointment.Status.CANCELLED)
        .only("doctor_id", "start", "duration_minutes")
    ]
    return slotlib.free_slots(hours, busy, now, page.days_ahead, dt.timedelta(minutes=page.lead_minutes))


def public_page(request, slug):
    page = _published(slug)
    doctors = {d.pk: d.full_name for d in appointments.doctors(page.organisation)}
    days: dict[dt.date, list[dict]] = {}
    for slot in free_slots(page):
        local = slot.start.astimezone(slotlib.BERLIN)
        days.setdefault(local.date(), []).append(
            {
                "value": f"{slot.doctor_id}|{slot.start.isoformat()}",
                "time": f"{local:%H:%M}",
                "doctor": doctors.get(slot.doctor_id, ""),
                "known_only": slot.known_only,
            }
        )
    return render(
        request,
        "booking/public.html",
        {
            "page": page,
            "practice": page.organisation,
            "days": sorted(days.items()),
            "send_email": gate.plan_allows(page.organisation, INVITATION_FEATURES["email"]),
            "send_sms": gate.plan_allows(page.organisation, INVITATION_FEATURES["sms"]),
        },
    )


_WEEKDAYS = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]


@require_POST
def api_book(request, slug):
    page = _published(slug)
    organisation = page.organisation
    address = ratelimit.request_key(request)
    # Bookings made count against the limits, not tries: a typo, a taken slot or the proof-of-work
    # round locked a family or a care home's shared connection out after one booking (a new
    # user's walk). Tries have a looser limit of their own.
    if not ratelimit.hit("booking-tries", address, *TRIES_PER_ADDRESS):
        return json_error(
            "Von diesem Internetanschluss kamen gerade sehr viele Buchungsversuche. Bitte warten Sie eine Stunde oder rufen Sie die Praxis an.",
            429,
        )
    if ratelimit.current("booking-address", address, PER_ADDRESS[1]) >= PER_ADDRESS[0]:
        return json_error(
            f"Von diesem Internetanschluss wurden in der letzten Stunde schon {PER_ADDRESS[0]} Termine gebucht. "
            "Weitere Termine vereinbaren Sie bitte telefonisch mit der Praxis.",
            429,
        )
    if ratelimit.current("booking-practice", str(organisation.pk), PER_PRACTICE[1]) >= PER_PRACTICE[0]:
        return json_error(
            "Bei dieser Praxis wurden gerade sehr viele Termine online gebucht. Bitte versuchen Sie es später erneut "
            "oder rufen Sie die Praxis an.",
            429,
        )
    try:
        data = inputs.json_body(request)
    except ValidationError as exc:
        return json_error(" ".join(exc.messages))
    bits = settings.ACCESS_CODE_POW_BITS
    if not proofofwork.verify(data.get("proof")):
        return JsonResponse({"error": "Bitte einen Moment Geduld …", **proofofwork.challenge(bits)}, status=429)
    doctor_id = inputs.parse_id(data.get("doctor_id"))
    start_text = data.get("start")
    try:
        start = dt.datetime.fromisoformat(start_text) if isinstance(start_text, str) and len(start_text) < 40 else None
    except ValueError:
        start = None
    if doctor_id is None or start is None or start.tzinfo is None:
        return json_error("Bitte wählen Sie einen Termin.")
    try:
        envelope = keyblobs.check_practice_key_wrap(data.get("patient"))  # type: ignore[arg-type]
    except (ValidationError, ValueError, TypeError):
        return json_error("Ihre Angaben sind nicht verschlüsselt angekommen. Bitte laden Sie die Seite neu.")
    try:
        send_to = _send_to(organisation, data.get("send_to"))
    except invitation_actions.InvitationRefused as refused:
        return json_error(refused.message, refused.status)
    try:
        slot = slotlib.offered(free_slots(page), doctor_id, start)
    except OperationalError:
        return json_error(BUSY, 503)
    if slot is None:
        return json_error("Dieser Termin ist leider nicht mehr frei. Bitte wählen Sie einen anderen.", 409)
    if slot.known_only and data.get("known") is not True:
        return json_error(
            "Dieser Termin ist für Patientinnen und Patienten, die schon in der Praxis behandelt wurden. "
            "Bitte bestätigen Sie das oder wählen Sie einen anderen Termin."
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            appointment = Appointment.objects.create(
                organisation=organisation,
                doctor_id=doctor_id,
                start=slot.start,
                duration_minutes=slot.minutes,
                patient_ciphertext=envelope,
                booked_online=True,
                booking_confirmed_at=now if page.auto_confirm else None,
            )
            code = services.issue_code(appointment)
            for channel, to in send_to:  # plus: code and link by e-mail/SMS too (docs/invitations.md)
                invitation_actions.invite(appointment, channel, to, code)
    except IntegrityError:
        return json_error("Dieser Termin ist leider nicht mehr frei. Bitte wählen Sie einen anderen.", 409)
    except OperationalError:
        return json_error(BUSY, 503)
    ratelimit.count("booking-address", address, PER_ADDRESS[1])
    ratelimit.count("booking-practice", str(organisation.pk), PER_PRACTICE[1])
    local = slot.start.astimezone(slotlib.BERLIN)
    return JsonResponse(
        {
            "code": code,
            "link": request.build_absolute_uri(f"/sprechstunde/#code={code}"),
            "when": f"{_WEEKDAYS[local.weekday()]}, {local:%d.%m.%Y} um {local:%H:%M} Uhr",
            "doctor": appointment.doctor.full_name,
            "confirmed": page.auto_confirm,
        },
        status=201,
    )


def _send_to(organisation, value: object) -> list[tuple[str, str]]:
    """Where the patient asked for the code and link to be sent as well: [(channel, address)], at
    most one per channel, each only when the practice's plan sends that way. The address reaches
    the server for this alone and is sealed like every invitation's (docs/invitations.md)."""
    if value is None:
        return []
    refused = invitation_actions.InvitationRefused
    if not isinstance(value, list) or len(value) > 2:
        raise refused("Die Versandangaben sind unvollständig. Bitte laden Sie die Seite neu.")
    chosen: dict[str, str] = {}
    for item in value:
        channel = item.get("channel") if isinstance(item, dict) else None
        if not isinstance(channel, str) or channel not in INVITATION_FEATURES or channel in chosen:
            raise refused("Die Versandangaben sind unvollständig. Bitte laden Sie die Seite neu.")
        if not gate.plan_allows(organisation, INVITATION_FEATURES[channel]):
            raise refused("Diese Praxis versendet Termine nicht auf diesem Weg.", status=403)
        to = item.get("to")
        chosen[channel] = (
            invitation_actions.clean_email(to) if channel == "email" else invitation_actions.clean_number(to)
        )
    return list(chosen.items())


@member_required
@require_POST
def api_confirm(request, pk):
    """A member confirms an online booking (when the practice confirms by hand)."""
    appointment = get_object_or_404(Appointment, pk=pk, organisation=request.user.organisation, booked_online=True)
    if appointment.booking_confirmed_at is None:
        Appointment.objects.filter(pk=appointment.pk, booking_confirmed_at__isnull=True).update(
            booking_confirmed_at=timezone.now(), version=appointment.version + 1, updated_at=timezone.now()
        )
    return JsonResponse({"ok": True})
