"""Doctors: their duties, blocked days and wishes, the exchange, handovers, the calendar feed, and
accepting a KV's invitation (/dienste/…)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sprechzimmer import inputs
from sprechzimmer.duty import calendar_feed, enrolment, exchange, swaps, videoduty, wishes
from sprechzimmer.duty.access import duty_doctor_required
from sprechzimmer.duty.errors import DutyError, busy_as_duty_error
from sprechzimmer.duty.forms import HandoverForm, PreferencesForm, SwapOfferForm, SwapProposalForm
from sprechzimmer.duty.models import Area, Duty, DutyDoctor, DutyType, Plan, SwapOffer, SwapProposal
from sprechzimmer.duty.views import fail
from sprechzimmer.ratelimit import allow

PAST_SHOWN = dt.timedelta(days=183)  # the past two quarters: pseudo cases are billed per quarter


def _my_duties_page(request, form=None, status=200):
    """The doctor's page: duties ahead, handover requests, past duties, blocked days and wishes.
    After a refused preferences form it is the same page with that form (what was typed, each
    error once at its field)."""
    me = request.duty_doctor
    now = timezone.now()
    duties = (
        Duty.objects.filter(plan__status=Plan.Status.PUBLISHED, end__gte=now)
        .filter(Q(doctor=me) | Q(substitute=me))
        .select_related(
            "duty_type__practice",
            "duty_type__area",
            "plan__area",
            "doctor__user",
            "substitute__user",
            "pending_substitute__user",
        )
    )
    requests_for_me = Duty.objects.filter(
        pending_substitute=me, plan__status=Plan.Status.PUBLISHED, end__gte=now
    ).select_related("duty_type__practice", "duty_type__area", "doctor__user")
    if form is None:
        form = PreferencesForm(
            initial={
                "blocked": "\n".join(f"{b.day:%d.%m.%Y}" for b in me.blocked_days.all()),
                "preferred_weekdays": me.preferred_weekdays,
                "preferred_kinds": me.preferred_kinds,
            },
            limit=me.blocked_days_limit,
        )
    past = (
        Duty.objects.filter(plan__status=Plan.Status.PUBLISHED, start__lt=now, start__gte=now - PAST_SHOWN)
        .filter(Q(doctor=me, substitute__isnull=True) | Q(substitute=me))
        .select_related("duty_type__practice", "duty_type__area")
        .order_by("-start")
    )
    return render(
        request,
        "duty/mine.html",
        {
            "me": me,
            "agreement_ends": me.agreement_ends,
            "duties": duties,
            "on_video_duty": videoduty.duties_served_now(me, now).exists(),
            "past": past,
            "requests": requests_for_me,
            "form": form,
            "handover_form": HandoverForm(),
            **_feed_links(request.session.pop("calendar_url", "")),
        },
        status=status,
    )


def _feed_links(url: str) -> dict[str, str]:
    """The new calendar link as shown once: https for copying, webcal: to subscribe in one click."""
    webcal = "webcal://" + url.split("://", 1)[1] if "://" in url else ""
    return {"calendar_url": url, "webcal_url": webcal}


@duty_doctor_required
def my_duties(request):
    return _my_duties_page(request)


@duty_doctor_required
@require_POST
def preferences(request):
    me = request.duty_doctor
    saved = frozenset(me.blocked_days.values_list("day", flat=True))
    form = PreferencesForm(request.POST, limit=me.blocked_days_limit, today=timezone.localdate(), saved=saved)
    if not form.is_valid():
        return _my_duties_page(request, form, status=400)
    data = form.cleaned_data
    wishes.save_preferences(me, data["blocked"], data["preferred_weekdays"], data["preferred_kinds"])
    messages.success(request, "Sperrtage und Wünsche gespeichert; sie gelten für die nächsten Pläne.")
    return redirect("duty_mine")


@duty_doctor_required
def exchange_page(request):
    me = request.duty_doctor
    duties = Duty.objects.filter(
        plan__area__kv=me.kv,
        plan__status=Plan.Status.PUBLISHED,
        status__in=[Duty.Status.OPEN, Duty.Status.OFFERED],
        start__gt=timezone.now(),
    ).select_related("duty_type__practice", "duty_type__area", "plan__area", "doctor__user")
    areas = Area.objects.filter(kv=me.kv)
    area, kind = request.GET.get("bereich", ""), request.GET.get("art", "")
    first, last = request.GET.get("von", ""), request.GET.get("bis", "")
    # A bad filter value is named and left out; the other filters still apply.
    for read, lookup in (
        (lambda: inputs.query_id(request.GET, "bereich", label="Bereich"), "plan__area_id"),
        (lambda: inputs.query_date(request.GET, "von"), "day__gte"),
        (lambda: inputs.query_date(request.GET, "bis"), "day__lte"),
    ):
        try:
            value = read()
        except inputs.InputError as error:
            messages.error(request, error.message)
        else:
            duties = duties.filter(**{lookup: value}) if value is not None else duties
    if kind in DutyType.Kind.values:
        duties = duties.filter(duty_type__kind=kind)
    offers = list(swaps.visible_offers(me).prefetch_related("proposals__doctor__user", "proposals__duty__duty_type"))
    mine = _swappable_duties(me)
    return render(
        request,
        "duty/exchange.html",
        {
            "me": me,
            "agreement_ends": me.agreement_ends,
            "duties": duties,
            "areas": areas,
            "kinds": DutyType.Kind.choices,
            "filters": {"area": area, "kind": kind, "first": first, "last": last},
            "my_offers": [o for o in offers if o.doctor_id == me.pk],
            "for_me": [o for o in offers if o.partner_id == me.pk],
            "open_offers": [o for o in offers if o.doctor_id != me.pk and o.partner_id is None],
            "swap_form": SwapOfferForm(duties=mine),
            "my_duties": mine,
        },
    )


def _swappable_duties(me: DutyDoctor) -> list[Duty]:
    """The doctor's own duties ahead in published plans, without a substitute: what they can swap."""
    return list(
        Duty.objects.filter(
            doctor=me,
            plan__status=Plan.Status.PUBLISHED,
            start__gt=timezone.now(),
            substitute__isnull=True,
            pending_substitute__isnull=True,
        ).select_related("duty_type")
    )


def _swap_fail(request, error: Exception):
    return fail(request, error, "duty_exchange")


@duty_doctor_required
@require_POST
def swap_offer(request):
    me = request.duty_doctor
    form = SwapOfferForm(request.POST, duties=_swappable_duties(me))
    if not form.is_valid():
        return _swap_fail(request, DutyError(" ".join(e for errors in form.errors.values() for e in errors)))
    data = form.cleaned_data
    partner, wanted = None, None
    if data["email"]:
        partner = DutyDoctor.objects.filter(user__email__iexact=data["email"], kv=me.kv, user__is_active=True).first()
        if partner is None:
            return _swap_fail(
                request,
                DutyError("Unter dieser E-Mail-Adresse ist niemand für den Bereitschaftsdienst Ihrer KV eingetragen."),
            )
        wanted = swaps.wanted_duty(partner, data["day"])
        if wanted is None:
            return _swap_fail(request, DutyError(f"{partner} hat am {data['day']:%d.%m.%Y} keinen Dienst."))
    try:
        swaps.offer_swap(
            me, data["duty"], partner, wanted.pk if wanted else None, base_url=request.build_absolute_uri("/")
        )
    except DutyError as error:
        return _swap_fail(request, error)
    messages.success(
        request,
        f"Ihr Tauschangebot ist an {partner} geschickt. Bis zur Annahme bleiben Sie eingeteilt."
        if partner
        else "Ihr Tauschangebot steht in der Dienstbörse. Bis Sie einen Vorschlag annehmen, bleiben Sie eingeteilt.",
    )
    return redirect("duty_exchange")


def _swap_action(action, success: str):
    """A POST on a swap offer or proposal; one that is not the doctor's to act on is a 404."""

    @duty_doctor_required
    @require_POST
    def view(request, pk):
        try:
            busy_as_duty_error(action)(request, pk)
        except (SwapOffer.DoesNotExist, SwapProposal.DoesNotExist):
            raise Http404 from None
        except DutyError as error:
            return _swap_fail(request, error)
        messages.success(request, success)
        return redirect("duty_exchange")

    return view


def _propose(request, pk):
    me = request.duty_doctor
    form = SwapProposalForm(request.POST, duties=_swappable_duties(me))
    if not swaps.visible_offers(me).filter(pk=pk).exists():
        raise SwapOffer.DoesNotExist
    if not form.is_valid():
        raise DutyError(" ".join(e for errors in form.errors.values() for e in errors))
    swaps.propose(pk, me, form.cleaned_data["duty"], base_url=request.build_absolute_uri("/"))


swap_accept = _swap_action(
    lambda r, pk: swaps.accept(pk, r.duty_doctor, base_url=r.build_absolute_uri("/")),
    "Der Tausch ist vollzogen. Beide sind per E-Mail benachrichtigt.",
)
swap_decline = _swap_action(lambda r, pk: swaps.decline(pk, r.duty_doctor), "Sie haben den Tausch abgelehnt.")
swap_withdraw = _swap_action(lambda r, pk: swaps.withdraw(pk, r.duty_doctor), "Das Tauschangebot ist zurückgezogen.")
swap_propose = _swap_action(_propose, "Ihr Vorschlag ist gesendet. Geändert wird erst, wenn er angenommen ist.")
swap_proposal_accept = _swap_action(
    lambda r, pk: swaps.accept_proposal(pk, r.duty_doctor, base_url=r.build_absolute_uri("/")),
    "Der Tausch ist vollzogen. Beide sind per E-Mail benachrichtigt.",
)
swap_proposal_decline = _swap_action(
    lambda r, pk: swaps.decline_proposal(pk, r.duty_doctor), "Sie haben den Vorschlag abgelehnt."
)


def _my_duty(request, pk) -> Duty:
    """A published duty the doctor is responsible for, or was asked to substitute."""
    me = request.duty_doctor
    return get_object_or_404(
        Duty.objects.select_related("plan__area", "duty_type__practice", "doctor__user"),
        Q(doctor=me) | Q(pending_substitute=me),
        pk=pk,
        plan__status=Plan.Status.PUBLISHED,
    )


@duty_doctor_required
@require_POST
def duty_take(request, pk):
    if not allow(request, "duty-take", per_address=(30, 60)):
        return fail(request, DutyError("Zu viele Versuche. Bitte warten Sie eine Minute."), "duty_exchange")
    if not Duty.objects.filter(pk=pk, plan__area__kv=request.duty_doctor.kv).exists():
        raise Http404
    try:
        duty = exchange.take(pk, request.duty_doctor, base_url=request.build_absolute_uri("/"))
    except Duty.DoesNotExist:
        raise Http404 from None
    except DutyError as error:
        return fail(request, error, "duty_exchange")
    messages.success(request, f"Sie haben den Dienst am {duty.local_start:%d.%m.%Y} übernommen.")
    return redirect("duty_mine")


def _duty_action(action, success: str):
    @duty_doctor_required
    @require_POST
    def view(request, pk):
        duty = _my_duty(request, pk)
        try:
            action(request, duty)
        except DutyError as error:
            return fail(request, error, "duty_mine")
        messages.success(request, success)
        return redirect("duty_mine")

    return view


def _handover(request, duty):
    form = HandoverForm(request.POST)
    if not form.is_valid():
        raise DutyError("Bitte geben Sie eine gültige E-Mail-Adresse an.")
    substitute = DutyDoctor.objects.filter(
        user__email__iexact=form.cleaned_data["email"], kv=request.duty_doctor.kv, user__is_active=True
    ).first()
    if substitute is None:
        raise DutyError("Unter dieser E-Mail-Adresse ist niemand für den Bereitschaftsdienst Ihrer KV eingetragen.")
    exchange.request_handover(duty, request.duty_doctor, substitute, base_url=request.build_absolute_uri("/"))


duty_offer = _duty_action(
    lambda r, d: exchange.offer(d, r.duty_doctor),
    "Der Dienst ist in der Dienstbörse angeboten. Bis jemand ihn übernimmt, bleiben Sie eingeteilt.",
)


duty_withdraw = _duty_action(lambda r, d: exchange.withdraw(d, r.duty_doctor), "Das Angebot ist zurückgezogen.")


duty_give_back = _duty_action(
    lambda r, d: exchange.give_back(d, r.duty_doctor), "Der Dienst ist zurückgegeben und wieder offen."
)


duty_handover = _duty_action(_handover, "Die Vertretung ist angefragt und per E-Mail benachrichtigt.")


duty_answer = _duty_action(
    lambda r, d: exchange.answer_handover(
        d, r.duty_doctor, r.POST.get("accept") == "1", base_url=r.build_absolute_uri("/")
    ),
    "Ihre Antwort ist gespeichert.",
)


@duty_doctor_required
@require_POST
def calendar_link(request):
    if request.POST.get("revoke"):
        calendar_feed.revoke_calendar_token(request.duty_doctor)
        messages.success(request, "Der Kalender-Link ist gesperrt.")
    else:
        token = calendar_feed.new_calendar_token(request.duty_doctor)
        request.session["calendar_url"] = request.build_absolute_uri(f"/dienste/kalender/{token}.ics")
        messages.success(request, "Ein neuer Kalender-Link ist erzeugt; ein früherer gilt nicht mehr.")
    return redirect("duty_mine")


def feed(request, token):
    if not allow(request, "duty-ical", per_address=(60, 60)):
        return HttpResponse("Zu viele Abrufe.", status=429, content_type="text/plain; charset=utf-8")
    doctor = calendar_feed.doctor_for_token(token)
    if doctor is None:
        raise Http404
    response = HttpResponse(calendar_feed.calendar_feed(doctor), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response


def invitation(request, token):
    """The invited person's page: what the KV asks, and agree or decline (after logging in)."""
    found = enrolment.for_token(token)
    if found is None or found.is_expired:
        return render(request, "duty/invitation.html", {"invalid": True}, status=404)
    if not request.user.is_authenticated:
        return render(request, "duty/invitation.html", {"invitation": found, "login_needed": True})
    mismatch = request.user.email.lower() != found.email.lower()
    if request.method == "POST" and not mismatch:
        if request.POST.get("decision") == "accept":
            try:
                enrolment.accept(found, request.user)
            except DutyError as error:
                messages.error(request, str(error))
                return render(request, "duty/invitation.html", {"invitation": found}, status=400)
            messages.success(request, f"Sie sind im Bereitschaftsdienst der {found.kv.name} eingetragen.")
            return redirect("duty_mine")
        enrolment.decline(found)
        messages.success(request, "Sie haben die Einladung abgelehnt.")
        return redirect("home")
    return render(
        request,
        "duty/invitation.html",
        {"invitation": found, "mismatch": mismatch},
        status=403 if mismatch and request.method == "POST" else 200,
    )
