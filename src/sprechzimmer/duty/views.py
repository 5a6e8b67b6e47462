"""Duty pages: KV staff plan (/kv/…), doctors see their duties and the exchange (/dienste/…).

Every object is looked up through the user's own KV, so staff of another KV and doctors who are
not party to a duty get 404 (never a hint that the object exists).
"""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sprechzimmer import inputs
from sprechzimmer.accounts.models import Device, Organisation
from sprechzimmer.duty import enrolment, services
from sprechzimmer.duty.forms import AreaForm, DoctorForm, DutyTypeTimesForm, HandoverForm, PlanForm, PreferencesForm
from sprechzimmer.duty.models import (
    Area,
    BlockedDay,
    Duty,
    DutyDoctor,
    DutyInvitation,
    DutyType,
    EmergencyPractice,
    Plan,
)
from sprechzimmer.ratelimit import allow


def _approved(request) -> bool:
    return request.device is not None and request.device.status == Device.Status.APPROVED


def kv_staff_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        organisation = request.user.organisation
        if not _approved(request) or organisation is None or not organisation.is_kv:
            raise Http404
        request.kv = organisation
        return view(request, *args, **kwargs)

    return wrapper


def duty_doctor_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        profile = DutyDoctor.objects.filter(user=request.user).select_related("kv", "area").first()
        if not _approved(request) or profile is None:
            raise Http404
        request.duty_doctor = profile
        return view(request, *args, **kwargs)

    return wrapper


PAST_SHOWN = dt.timedelta(days=183)  # the past two quarters: pseudo cases are billed per quarter


def _fail(request, error: Exception, to: str, *args):
    messages.error(request, str(error))
    return redirect(to, *args)


# --- KV staff -----------------------------------------------------------------------------------


def _kv_home(request, plan_form=None, area_form=None, status=200):
    """The planning page; after a refused form it shows that form with what was typed."""
    areas = Area.objects.filter(kv=request.kv).prefetch_related("practices", "duty_types", "doctors")
    plans = Plan.objects.filter(area__kv=request.kv).select_related("area")
    return render(request, "duty/kv_home.html", {"areas": areas, "plans": plans,
                                                  "plan_form": plan_form or PlanForm(kv=request.kv),
                                                  "area_form": area_form or AreaForm()}, status=status)


@kv_staff_required
def kv_home(request):
    return _kv_home(request)


@kv_staff_required
@require_POST
def area_create(request):
    form = AreaForm(request.POST)
    if not form.is_valid():
        return _kv_home(request, area_form=form, status=400)
    data = form.cleaned_data
    with transaction.atomic():
        area = Area.objects.create(kv=request.kv, name=data["name"], wednesday_start=data["wednesday_start"],
                                   friday_start=data["friday_start"], rest_hours=data["rest_hours"])
        practice = EmergencyPractice.objects.create(area=area, name=data["practice_name"],
                                                    address=data["practice_address"], bsnr=data["practice_bsnr"])
        DutyType.objects.create(area=area, kind=DutyType.Kind.SITTING, practice=practice)
        if data["with_driving"]:
            DutyType.objects.create(area=area, kind=DutyType.Kind.DRIVING)
    messages.success(request, f"Bereich „{area}“ angelegt.")
    return redirect("duty_area", area.pk)


@kv_staff_required
def area_detail(request, pk):
    area = get_object_or_404(Area, pk=pk, kv=request.kv)
    form = DoctorForm(request.POST or None)
    editing = None
    editing_pk = inputs.parse_id(request.GET.get("aendern", ""))
    if request.method != "POST" and editing_pk is not None:
        # "Ändern" on a row: the same form, filled in; saving it updates the entry (by e-mail).
        editing = get_object_or_404(DutyDoctor.objects.select_related("user"), pk=editing_pk, kv=request.kv)
        form = DoctorForm(initial={"email": editing.user.email, "kind": editing.kind, "weight": editing.weight,
                                   "qualifications": editing.qualifications})
    if request.method == "POST" and form.is_valid():
        if not allow(request, f"duty-invite-{request.kv.pk}", per_address=(60, 3600)):
            form.add_error(None, "Zu viele Einladungen in kurzer Zeit. Bitte versuchen Sie es später erneut.")
        else:
            outcome, entry = enrolment.enter(request.kv, area, form.cleaned_data, request.user,
                                             request.build_absolute_uri("/"))
            if outcome == "changed":
                messages.success(request, f"Der Eintrag von {entry} im Bereich {area} ist gespeichert.")
            else:
                # The same words whether or not the address has an account (nothing is revealed).
                messages.success(request, f"Eine Einladung an {entry.email} ist verschickt. Sobald die Person "
                                          "zustimmt, steht sie in der Liste.")
            return redirect("duty_area", area.pk)
    doctors = area.doctors.select_related("user").prefetch_related("blocked_days")
    types = [(t, DutyTypeTimesForm(initial={"weekday_start": t.weekday_start, "wednesday_start": t.wednesday_start,
                                            "friday_start": t.friday_start}, prefix=f"type{t.pk}"))
             for t in area.duty_types.all()]
    today = timezone.localdate()
    current = (today.year, (today.month - 1) // 3 + 1)
    previous = (current[0] - 1, 4) if current[1] == 1 else (current[0], current[1] - 1)
    invitations = area.invitations.filter(expires_at__gt=timezone.now())
    return render(request, "duty/area.html", {"area": area, "doctors": doctors, "form": form, "types": types,
                                              "quarters": [previous, current], "editing": editing,
                                              "invitations": invitations},
                  status=400 if form.errors else 200)


@kv_staff_required
@require_POST
def invitation_withdraw(request, pk):
    invitation = get_object_or_404(DutyInvitation, pk=pk, kv=request.kv)
    enrolment.decline(invitation)
    messages.success(request, f"Die Einladung an {invitation.email} ist zurückgezogen.")
    return redirect("duty_area", invitation.area_id)


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
            except services.DutyError as error:
                messages.error(request, str(error))
                return render(request, "duty/invitation.html", {"invitation": found}, status=400)
            messages.success(request, f"Sie sind im Bereitschaftsdienst der {found.kv.name} eingetragen.")
            return redirect("duty_mine")
        enrolment.decline(found)
        messages.success(request, "Sie haben die Einladung abgelehnt.")
        return redirect("home")
    return render(request, "duty/invitation.html", {"invitation": found, "mismatch": mismatch},
                  status=403 if mismatch and request.method == "POST" else 200)


@kv_staff_required
@require_POST
def duty_type_times(request, pk):
    duty_type = get_object_or_404(DutyType, pk=pk, area__kv=request.kv)
    form = DutyTypeTimesForm(request.POST, prefix=f"type{duty_type.pk}")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("duty_area", duty_type.area_id)
    for name, value in form.cleaned_data.items():
        setattr(duty_type, name, value)
    duty_type.save(update_fields=list(form.cleaned_data))
    messages.success(request, f"Zeiten für {duty_type} gespeichert; sie gelten für neue Pläne.")
    return redirect("duty_area", duty_type.area_id)


@kv_staff_required
@require_POST
def plan_create(request):
    form = PlanForm(request.POST, kv=request.kv)
    if form.is_valid():
        try:
            plan = services.generate_plan(form.cleaned_data["area"], form.cleaned_data["first"],
                                          form.cleaned_data["last"])
        except services.DutyError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Der Entwurf ist berechnet. Prüfen Sie ihn und veröffentlichen Sie ihn dann.")
            return redirect("duty_plan", plan.pk)
    return _kv_home(request, plan_form=form, status=400)


def _staff_plan(request, pk) -> Plan:
    return get_object_or_404(Plan.objects.select_related("area"), pk=pk, area__kv=request.kv)


@kv_staff_required
def plan_detail(request, pk):
    plan = _staff_plan(request, pk)
    duties = plan.duties.select_related("duty_type__practice", "doctor__user", "substitute__user",
                                        "pending_substitute__user")
    doctors = plan.area.doctors.filter(kind=DutyDoctor.Kind.OBLIGED).select_related("user")
    return render(request, "duty/plan.html", {"plan": plan, "duties": duties.select_related("missed"),
                                              "doctors": doctors, "report": plan.report, "now": timezone.now()})


@kv_staff_required
@require_POST
def plan_assign(request, pk, duty_pk):
    plan = _staff_plan(request, pk)
    duty = get_object_or_404(Duty, pk=duty_pk, plan=plan)
    doctor_pk = request.POST.get("doctor", "")
    doctor = None
    if doctor_pk:
        doctor = DutyDoctor.objects.filter(pk=doctor_pk if doctor_pk.isdigit() else 0, kv=request.kv).first()
        if doctor is None:
            return _fail(request, services.DutyError("Bitte wählen Sie eine Person aus der Liste."), "duty_plan", plan.pk)
    try:
        services.assign_by_hand(plan, duty, doctor)
    except services.DutyError as error:
        return _fail(request, error, "duty_plan", plan.pk)
    messages.success(request, "Geändert. Die Änderung bleibt bei einer Neuberechnung erhalten."
                     if doctor else "Der Dienst wird bei der nächsten Neuberechnung wieder frei verteilt.")
    return redirect("duty_plan", plan.pk)


def _plan_action(action, success: str):
    """A POST on a plan of the staff's KV that runs one service and reports its outcome."""

    @kv_staff_required
    @require_POST
    def view(request, pk):
        plan = _staff_plan(request, pk)
        try:
            action(plan)
        except services.DutyError as error:
            return _fail(request, error, "duty_plan", plan.pk)
        messages.success(request, success)
        return redirect("duty_plan", plan.pk)

    return view


plan_solve = _plan_action(services.solve, "Neu berechnet; Ihre Änderungen von Hand sind erhalten.")


@kv_staff_required
def plan_publish(request, pk):
    """Publishing asks first: the page summarises what happens (period, duties, who is mailed,
    whose balances move) and publishes only when that very summary is confirmed."""
    plan = _staff_plan(request, pk)
    if not plan.is_draft:
        messages.info(request, "Dieser Plan ist bereits veröffentlicht.")
        return redirect("duty_plan", plan.pk)
    status = 200
    if request.method == "POST" and "fingerprint" in request.POST:
        try:
            services.publish(plan, fingerprint=request.POST["fingerprint"])
        except services.DutyError as error:
            messages.error(request, str(error))
            status = 409
        else:
            messages.success(request, "Der Plan ist veröffentlicht; die eingeteilten Ärztinnen und Ärzte sind "
                                      "benachrichtigt.")
            return redirect("duty_plan", plan.pk)
    return render(request, "duty/publish.html", {"plan": plan, "summary": services.publish_summary(plan)},
                  status=status)


# --- doctors ------------------------------------------------------------------------------------


def _my_duties_page(request, form=None, status=200):
    """The doctor's page: duties ahead, handover requests, past duties, blocked days and wishes.
    After a refused preferences form it is the same page with that form (what was typed, each
    error once at its field)."""
    me = request.duty_doctor
    now = timezone.now()
    duties = (Duty.objects.filter(plan__status=Plan.Status.PUBLISHED, end__gte=now)
              .filter(Q(doctor=me) | Q(substitute=me))
              .select_related("duty_type__practice", "duty_type__area", "plan__area", "doctor__user",
                              "substitute__user", "pending_substitute__user"))
    requests_for_me = (Duty.objects.filter(pending_substitute=me, plan__status=Plan.Status.PUBLISHED, end__gte=now)
                       .select_related("duty_type__practice", "duty_type__area", "doctor__user"))
    if form is None:
        form = PreferencesForm(initial={
            "blocked": "\n".join(f"{b.day:%d.%m.%Y}" for b in me.blocked_days.all()),
            "preferred_weekdays": me.preferred_weekdays, "preferred_kinds": me.preferred_kinds},
            limit=me.blocked_days_limit)
    past = (Duty.objects.filter(plan__status=Plan.Status.PUBLISHED, start__lt=now, start__gte=now - PAST_SHOWN)
            .filter(Q(doctor=me, substitute__isnull=True) | Q(substitute=me))
            .select_related("duty_type__practice", "duty_type__area").order_by("-start"))
    return render(request, "duty/mine.html", {"me": me, "duties": duties, "past": past, "requests": requests_for_me,
                                              "form": form, "handover_form": HandoverForm(),
                                              "calendar_url": request.session.pop("calendar_url", "")},
                  status=status)


@duty_doctor_required
def my_duties(request):
    return _my_duties_page(request)


@duty_doctor_required
@require_POST
def preferences(request):
    me = request.duty_doctor
    form = PreferencesForm(request.POST, limit=me.blocked_days_limit)
    if not form.is_valid():
        return _my_duties_page(request, form, status=400)
    with transaction.atomic():
        me.blocked_days.all().delete()
        BlockedDay.objects.bulk_create(BlockedDay(doctor=me, day=day) for day in form.cleaned_data["blocked"])
        me.preferred_weekdays = form.cleaned_data["preferred_weekdays"]
        me.preferred_kinds = form.cleaned_data["preferred_kinds"]
        me.save(update_fields=["preferred_weekdays", "preferred_kinds"])
    messages.success(request, "Sperrtage und Wünsche gespeichert; sie gelten für die nächsten Pläne.")
    return redirect("duty_mine")


@duty_doctor_required
def exchange(request):
    me = request.duty_doctor
    duties = (Duty.objects.filter(plan__area__kv=me.kv, plan__status=Plan.Status.PUBLISHED,
                                  status__in=[Duty.Status.OPEN, Duty.Status.OFFERED], start__gt=timezone.now())
              .select_related("duty_type__practice", "duty_type__area", "plan__area", "doctor__user"))
    areas = Area.objects.filter(kv=me.kv)
    area, kind = request.GET.get("bereich", ""), request.GET.get("art", "")
    first, last = request.GET.get("von", ""), request.GET.get("bis", "")
    # A bad filter value is named and left out; the other filters still apply.
    for read, lookup in ((lambda: inputs.query_id(request.GET, "bereich", label="Bereich"), "plan__area_id"),
                         (lambda: inputs.query_date(request.GET, "von"), "day__gte"),
                         (lambda: inputs.query_date(request.GET, "bis"), "day__lte")):
        try:
            value = read()
        except inputs.InputError as error:
            messages.error(request, error.message)
        else:
            duties = duties.filter(**{lookup: value}) if value is not None else duties
    if kind in DutyType.Kind.values:
        duties = duties.filter(duty_type__kind=kind)
    return render(request, "duty/exchange.html", {"me": me, "duties": duties, "areas": areas,
                                                  "kinds": DutyType.Kind.choices,
                                                  "filters": {"area": area, "kind": kind, "first": first, "last": last}})


def _my_duty(request, pk) -> Duty:
    """A published duty the doctor is responsible for, or was asked to substitute."""
    me = request.duty_doctor
    return get_object_or_404(Duty.objects.select_related("plan__area", "duty_type__practice", "doctor__user"),
                             Q(doctor=me) | Q(pending_substitute=me), pk=pk, plan__status=Plan.Status.PUBLISHED)


@duty_doctor_required
@require_POST
def duty_take(request, pk):
    if not allow(request, "duty-take", per_address=(30, 60)):
        return _fail(request, services.DutyError("Zu viele Versuche. Bitte warten Sie eine Minute."), "duty_exchange")
    if not Duty.objects.filter(pk=pk, plan__area__kv=request.duty_doctor.kv).exists():
        raise Http404
    try:
        duty = services.take(pk, request.duty_doctor)
    except Duty.DoesNotExist:
        raise Http404 from None
    except services.DutyError as error:
        return _fail(request, error, "duty_exchange")
    messages.success(request, f"Sie haben den Dienst am {duty.local_start:%d.%m.%Y} übernommen.")
    return redirect("duty_mine")


def _duty_action(action, success: str):
    @duty_doctor_required
    @require_POST
    def view(request, pk):
        duty = _my_duty(request, pk)
        try:
            action(request, duty)
        except services.DutyError as error:
            return _fail(request, error, "duty_mine")
        messages.success(request, success)
        return redirect("duty_mine")

    return view


def _handover(request, duty):
    form = HandoverForm(request.POST)
    if not form.is_valid():
        raise services.DutyError("Bitte geben Sie eine gültige E-Mail-Adresse an.")
    substitute = DutyDoctor.objects.filter(user__email__iexact=form.cleaned_data["email"], kv=request.duty_doctor.kv,
                                           user__is_active=True).first()
    if substitute is None:
        raise services.DutyError("Unter dieser E-Mail-Adresse ist niemand für den Bereitschaftsdienst Ihrer KV eingetragen.")
    services.request_handover(duty, request.duty_doctor, substitute)


duty_offer = _duty_action(lambda r, d: services.offer(d, r.duty_doctor), "Der Dienst ist in der Dienstbörse angeboten. "
                          "Bis jemand ihn übernimmt, bleiben Sie eingeteilt.")
duty_withdraw = _duty_action(lambda r, d: services.withdraw(d, r.duty_doctor), "Das Angebot ist zurückgezogen.")
duty_give_back = _duty_action(lambda r, d: services.give_back(d, r.duty_doctor), "Der Dienst ist zurückgegeben und wieder offen.")
duty_handover = _duty_action(_handover, "Die Vertretung ist angefragt und per E-Mail benachrichtigt.")
duty_answer = _duty_action(lambda r, d: services.answer_handover(d, r.duty_doctor, r.POST.get("accept") == "1"),
                           "Ihre Antwort ist gespeichert.")


@duty_doctor_required
@require_POST
def calendar_link(request):
    if request.POST.get("revoke"):
        services.revoke_calendar_token(request.duty_doctor)
        messages.success(request, "Der Kalender-Link ist gesperrt.")
    else:
        token = services.new_calendar_token(request.duty_doctor)
        request.session["calendar_url"] = request.build_absolute_uri(f"/dienste/kalender/{token}.ics")
        messages.success(request, "Ein neuer Kalender-Link ist erzeugt; ein früherer gilt nicht mehr.")
    return redirect("duty_mine")


def calendar_feed(request, token):
    if not allow(request, "duty-ical", per_address=(60, 60)):
        return HttpResponse("Zu viele Abrufe.", status=429, content_type="text/plain; charset=utf-8")
    doctor = services.doctor_for_token(token)
    if doctor is None:
        raise Http404
    response = HttpResponse(services.calendar_feed(doctor), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response


def staff_or_doctor_home(user) -> str | None:
    """Where a user without a practice lands after login."""
    organisation: Organisation | None = user.organisation
    if organisation is not None and organisation.is_kv:
        return "duty_kv"
    if organisation is None and DutyDoctor.objects.filter(user=user).exists():
        return "duty_mine"
    return None
