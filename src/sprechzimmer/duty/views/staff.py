"""KV staff: areas and their doctors, duty plans from draft to publication (/kv/…)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sprechzimmer import inputs
from sprechzimmer.duty import areas, enrolment, kvruns, plans, planview
from sprechzimmer.duty.access import kv_staff_required
from sprechzimmer.duty.errors import DutyError
from sprechzimmer.duty.forms import AreaForm, DoctorForm, DutyTypeTimesForm, KvRunForm, PlanForm, VideoDutyForm
from sprechzimmer.duty.models import Area, Duty, DutyDoctor, DutyInvitation, DutyType, KvPlanningRun, Plan
from sprechzimmer.duty.views import fail
from sprechzimmer.ratelimit import allow


def _kv_home(request, plan_form=None, area_form=None, run_form=None, status=200):
    """The planning page; after a refused form it shows that form with what was typed."""
    areas = Area.objects.filter(kv=request.kv).prefetch_related("practices", "duty_types", "doctors")
    plans = Plan.objects.filter(area__kv=request.kv).select_related("area")
    return render(
        request,
        "duty/kv_home.html",
        {
            "areas": areas,
            "plans": plans,
            "plan_form": plan_form or PlanForm(kv=request.kv),
            "area_form": area_form or AreaForm(),
            "run_form": run_form or KvRunForm(kv=request.kv),
            "runs": KvPlanningRun.objects.filter(kv=request.kv)[:5],
        },
        status=status,
    )


@kv_staff_required
def kv_home(request):
    return _kv_home(request)


@kv_staff_required
@require_POST
def area_create(request):
    form = AreaForm(request.POST)
    if not form.is_valid():
        return _kv_home(request, area_form=form, status=400)
    area = areas.create_area(request.kv, form.cleaned_data)
    messages.success(request, f"Bereich „{area}“ angelegt.")
    return redirect("duty_area", area.pk)


@kv_staff_required
def area_detail(request, pk):
    area = get_object_or_404(Area, pk=pk, kv=request.kv)
    form = DoctorForm(request.POST or None, kv=request.kv, area=area)
    editing = None
    editing_pk = inputs.parse_id(request.GET.get("aendern", ""))
    if request.method != "POST" and editing_pk is not None:
        # "Ändern" on a row: the same form, filled in; saving it updates the entry (by e-mail).
        editing = get_object_or_404(DutyDoctor.objects.select_related("user"), pk=editing_pk, kv=request.kv)
        form = DoctorForm(
            initial={
                "email": editing.user.email,
                "kind": editing.kind,
                "weight": editing.weight,
                "qualifications": editing.qualifications,
                "extra_areas": list(editing.extra_areas.values_list("pk", flat=True)),
            },
            kv=request.kv,
            area=area,
        )
    if request.method == "POST" and form.is_valid():
        if not allow(request, f"duty-invite-{request.kv.pk}", per_address=(60, 3600)):
            form.add_error(None, "Zu viele Einladungen in kurzer Zeit. Bitte versuchen Sie es später erneut.")
        else:
            try:
                outcome, entry = enrolment.enter(
                    request.kv, area, form.cleaned_data, request.user, request.build_absolute_uri("/")
                )
            except DutyError as error:
                form.add_error("email", str(error))  # the page again, with what was typed
            else:
                if outcome == "changed":
                    messages.success(request, f"Der Eintrag von {entry} im Bereich {area} ist gespeichert.")
                else:
                    # The same words whether or not the address has an account (nothing is revealed).
                    messages.success(
                        request,
                        f"Eine Einladung an {entry.email} ist verschickt. Sobald die Person "
                        "zustimmt, steht sie in der Liste.",
                    )
                return redirect("duty_area", area.pk)
    doctors = area.doctors.select_related("user").prefetch_related("blocked_days")
    types = [
        (
            t,
            DutyTypeTimesForm(
                initial={
                    "weekday_start": t.weekday_start,
                    "wednesday_start": t.wednesday_start,
                    "friday_start": t.friday_start,
                },
                prefix=f"type{t.pk}",
            ),
        )
        for t in area.duty_types.all()
    ]
    today = timezone.localdate()
    current = (today.year, (today.month - 1) // 3 + 1)
    previous = (current[0] - 1, 4) if current[1] == 1 else (current[0], current[1] - 1)
    invitations = area.invitations.filter(expires_at__gt=timezone.now())
    return render(
        request,
        "duty/area.html",
        {
            "area": area,
            "doctors": doctors,
            "form": form,
            "types": types,
            "quarters": [previous, current],
            "editing": editing,
            "invitations": invitations,
            "has_video": any(t.kind == DutyType.Kind.VIDEO for t, _ in types),
            "video_form": VideoDutyForm(),
        },
        status=400 if form.errors else 200,
    )


@kv_staff_required
@require_POST
def area_delete(request, pk):
    """An area created by mistake goes again, while nothing uses it (duty/areas.delete_area)."""
    area = get_object_or_404(Area, pk=pk, kv=request.kv)
    name = str(area)
    try:
        areas.delete_area(area)
    except DutyError as error:
        messages.error(request, str(error))
        return redirect("duty_area", area.pk)
    messages.success(request, f"Der Bereich „{name}“ ist gelöscht.")
    return redirect("duty_kv")


@kv_staff_required
@require_POST
def invitation_withdraw(request, pk):
    invitation = get_object_or_404(DutyInvitation, pk=pk, kv=request.kv)
    enrolment.decline(invitation)
    messages.success(request, f"Die Einladung an {invitation.email} ist zurückgezogen.")
    return redirect("duty_area", invitation.area_id)


@kv_staff_required
@require_POST
def duty_type_times(request, pk):
    duty_type = get_object_or_404(DutyType, pk=pk, area__kv=request.kv)
    form = DutyTypeTimesForm(request.POST, prefix=f"type{duty_type.pk}")
    if not form.is_valid():
        for field_errors in form.errors.values():
            for error in field_errors:
                messages.error(request, error)
        return redirect("duty_area", duty_type.area_id)
    areas.set_type_times(duty_type, form.cleaned_data)
    messages.success(request, f"Zeiten für {duty_type} gespeichert; sie gelten für neue Pläne.")
    return redirect("duty_area", duty_type.area_id)


@kv_staff_required
@require_POST
def plan_create(request):
    form = PlanForm(request.POST, kv=request.kv)
    if form.is_valid():
        try:
            plan = plans.generate_plan(form.cleaned_data["area"], form.cleaned_data["first"], form.cleaned_data["last"])
        except DutyError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Der Entwurf ist berechnet. Prüfen Sie ihn und veröffentlichen Sie ihn dann.")
            return redirect("duty_plan", plan.pk)
    return _kv_home(request, plan_form=form, status=400)


@kv_staff_required
@require_POST
def kv_run_create(request):
    """Start planning the whole KV for a period; the task queue does it, the next page shows how far."""
    form = KvRunForm(request.POST, kv=request.kv)
    if form.is_valid():
        try:
            run = kvruns.start(request.kv, form.cleaned_data["first"], form.cleaned_data["last"], request.user)
        except DutyError as error:
            form.add_error(None, str(error))
        else:
            return redirect("duty_kv_run", run.pk)
    return _kv_home(request, run_form=form, status=400)


@kv_staff_required
def kv_run_detail(request, pk):
    """How far a KV-wide run is; the page reloads itself while it runs (a meta refresh, no script)."""
    run = get_object_or_404(KvPlanningRun, pk=pk, kv=request.kv)
    plans = run.plans.select_related("area").order_by("area__name")
    return render(request, "duty/kv_run.html", {"run": run, "plans": plans}, status=200)


def _staff_plan(request, pk) -> Plan:
    return get_object_or_404(Plan.objects.select_related("area"), pk=pk, area__kv=request.kv)


@kv_staff_required
def plan_detail(request, pk):
    plan = _staff_plan(request, pk)
    duties = plan.duties.select_related(
        "duty_type__practice", "doctor__user", "substitute__user", "pending_substitute__user"
    )
    weights = plans.kv_weights(plan)  # a draft of a KV-wide run: everyone it was planned with
    planned = plan.area.doctors.all() if weights is None else DutyDoctor.objects.filter(kv=request.kv, pk__in=weights)
    doctors = planned.filter(kind=DutyDoctor.Kind.OBLIGED).select_related("user")
    duty_list = list(duties.select_related("missed"))
    return render(
        request,
        "duty/plan.html",
        {
            "plan": plan,
            "weeks": planview.calendar_weeks(plan, duty_list),
            "weekdays": ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"],
            "pinned": sum(d.pinned for d in duty_list),
            "unassigned": sum(d.doctor_id is None for d in duty_list),
            "duty_count": len(duty_list),
            "chart": planview.chart_rows(plan.report),
            "doctors": doctors,
            "report": plan.report,
            "now": timezone.now(),
        },
    )


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
            return fail(request, DutyError("Bitte wählen Sie eine Person aus der Liste."), "duty_plan", plan.pk)
    try:
        plans.assign_by_hand(plan, duty, doctor)
    except DutyError as error:
        return fail(request, error, "duty_plan", plan.pk)
    messages.success(
        request,
        "Geändert. Die Änderung bleibt bei einer Neuberechnung erhalten."
        if doctor
        else "Der Dienst wird bei der nächsten Neuberechnung wieder frei verteilt.",
    )
    return redirect("duty_plan", plan.pk)


def _plan_action(action, success: str):
    """A POST on a plan of the staff's KV that runs one service and reports its outcome."""

    @kv_staff_required
    @require_POST
    def view(request, pk):
        plan = _staff_plan(request, pk)
        try:
            action(plan)
        except DutyError as error:
            return fail(request, error, "duty_plan", plan.pk)
        messages.success(request, success)
        return redirect("duty_plan", plan.pk)

    return view


plan_solve = _plan_action(plans.solve, "Neu berechnet; Ihre Änderungen von Hand sind erhalten.")


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
            plans.publish(plan, fingerprint=request.POST["fingerprint"], base_url=request.build_absolute_uri("/"))
        except DutyError as error:
            messages.error(request, str(error))
            status = 409
        else:
            messages.success(
                request, "Der Plan ist veröffentlicht; die eingeteilten Ärztinnen und Ärzte sind benachrichtigt."
            )
            return redirect("duty_plan", plan.pk)
    return render(request, "duty/publish.html", {"plan": plan, "summary": plans.publish_summary(plan)}, status=status)
