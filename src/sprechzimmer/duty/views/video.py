"""The video duty's pages (docs/duty.md, "Video duty"): the KV's dispatcher issues referrals and takes
the quarter's contacts into billing (/kv/bereiche/<id>/video/…); the doctor on duty sees the queue
and opens the call (/dienste/video/…)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from sprechzimmer.billing.domain.model import BillingError, Quarter
from sprechzimmer.duty import areas, videoduty
from sprechzimmer.duty.access import duty_doctor_required, kv_staff_required
from sprechzimmer.duty.errors import DutyError
from sprechzimmer.duty.forms import VideoDutyForm
from sprechzimmer.duty.models import Area, DutyType
from sprechzimmer.duty.views import fail
from sprechzimmer.ratelimit import allow


def _quarters():
    current = Quarter.of(timezone.localdate())
    return [current.shift(-1), current]


def _video_area(request, pk) -> Area:
    area = get_object_or_404(Area, pk=pk, kv=request.kv)
    if not area.duty_types.filter(kind=DutyType.Kind.VIDEO).exists():
        raise Http404
    return area


def _dispatch_page(request, area: Area, issued=None, status=200):
    return render(
        request,
        "duty/video_dispatch.html",
        {
            "area": area,
            "duty": videoduty.running_duty(area),
            "referrals": videoduty.todays_referrals(area),
            "issued": issued,
            "join_url": request.build_absolute_uri(reverse("join")),
            "quarters": _quarters(),
        },
        status=status,
    )


@kv_staff_required
def dispatch(request, pk):
    """The dispatcher's page of one area: who is on video duty now, a new referral, today's referrals."""
    area = _video_area(request, pk)
    if request.method != "POST":
        return _dispatch_page(request, area)
    if not allow(request, f"video-referral-{request.kv.pk}", per_address=(120, 3600)):
        messages.error(request, "Zu viele Vermittlungen in kurzer Zeit. Bitte versuchen Sie es gleich erneut.")
        return _dispatch_page(request, area, status=429)
    try:
        referral, code = videoduty.issue_referral(area, request.user)
    except DutyError as error:
        messages.error(request, str(error))
        return _dispatch_page(request, area, status=409)
    # The code is shown once, on this response (never in a URL, never stored in the clear).
    return _dispatch_page(request, area, issued=(referral, code))


@kv_staff_required
def contacts_kvdt(request, pk, year, number):
    """The quarter's video-duty contacts as the Notfallpraxis's KVDT file."""
    area = _video_area(request, pk)
    try:
        _, filename, data = videoduty.kvdt(area, Quarter(year, number))
    except (BillingError, DutyError) as error:
        return fail(request, error, "duty_video_dispatch", area.pk)
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@kv_staff_required
@require_POST
def contacts_to_bonus(request, pk, year, number):
    """Takes the quarter's video-duty contacts into the revenues the K-Arzt bonus is computed from."""
    area = _video_area(request, pk)
    try:
        quarter, totals = videoduty.record_for_bonus(area, Quarter(year, number))
    except (BillingError, DutyError) as error:
        return fail(request, error, "duty_video_dispatch", area.pk)
    cases = sum(entry[0] for entry in totals.values())
    messages.success(
        request,
        f"Die Video-Kontakte {quarter} ({cases} Fälle, {len(totals)} Ärztinnen und Ärzte) sind in die Umsätze "
        "für die Bonusberechnung übernommen.",
    )
    return redirect("duty_revenues")


@kv_staff_required
@require_POST
def set_up(request, pk):
    """Sets up the video duty of an area: its Notfallpraxis (name and BSNR the contacts are billed under)."""
    area = get_object_or_404(Area, pk=pk, kv=request.kv)
    form = VideoDutyForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("duty_area", area.pk)
    try:
        areas.add_video_duty(area, form.cleaned_data)
    except DutyError as error:
        return fail(request, error, "duty_area", area.pk)
    messages.success(
        request, f"Der Video-Bereitschaftsdienst im Bereich {area} ist eingerichtet; neue Pläne enthalten ihn."
    )
    return redirect("duty_area", area.pk)


@duty_doctor_required
def queue(request):
    """The doctor's queue while on video duty: who waits, who was referred, who is in a call."""
    duties, referrals = videoduty.queue(request.duty_doctor)
    return render(
        request, "duty/video_queue.html", {"duties": duties, "referrals": referrals, "me": request.duty_doctor}
    )


@duty_doctor_required
def room(request, pk):
    """The call with a referred patient: the video consultation's room, for the doctor on duty."""
    referral = videoduty.referral_for_appointment(pk)
    if referral is None or videoduty.serving_referral(request.user, referral) is None:
        raise Http404
    return render(
        request,
        "video/room.html",
        {
            "appointment": referral.appointment,
            "referral": referral,
            "screen_sharing": False,  # a triage call: camera and microphone, nothing to present
            "conferences": False,
        },
    )
