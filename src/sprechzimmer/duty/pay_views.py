"""Pay statements of K-Ärzte (on screen and PDF), the staff's records of missed duties and notices."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sprechzimmer.duty import pdf, services
from sprechzimmer.duty.models import Duty, DutyDoctor, Plan
from sprechzimmer.duty.views import duty_doctor_required, kv_staff_required


def _month(year: int, month: int) -> None:
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise Http404


def _statement_response(request, doctor: DutyDoctor, year: int, month: int, as_pdf: bool, back: str):
    _month(year, month)
    statement = services.monthly_statement(doctor, year, month)
    if as_pdf:
        filename, mimetype, data = pdf.render(doctor, doctor.kv.name, statement)
        response = HttpResponse(data, content_type=mimetype)
        response["Content-Disposition"] = f'inline; filename="{filename}"'
        response["Cache-Control"] = "private, no-store"
        return response
    return render(request, "duty/statement.html", {"doctor": doctor, "statement": statement, "back": back,
                                                   "label": pdf.month_label(year, month)})


def _months(doctor: DutyDoctor) -> list[tuple[int, int]]:
    """Months with duties served under the doctor's LANR, newest first, and the current one."""
    today = timezone.localdate()
    months = {(today.year, today.month)}
    for start in Duty.objects.filter(plan__status=Plan.Status.PUBLISHED, doctor=doctor).values_list("start", flat=True):
        local = timezone.localtime(start)
        months.add((local.year, local.month))
    return sorted(months, reverse=True)


@duty_doctor_required
def my_statements(request):
    me = request.duty_doctor
    if not me.is_cooperating:
        raise Http404  # obliged doctors bill their duties through their own practice
    months = [(y, m, pdf.month_label(y, m)) for y, m in _months(me)]
    return render(request, "duty/statements.html", {"me": me, "months": months})


@duty_doctor_required
def my_statement(request, year, month, as_pdf=False):
    me = request.duty_doctor
    if not me.is_cooperating:
        raise Http404
    return _statement_response(request, me, year, month, as_pdf, back="duty_statements")


# --- staff ---------------------------------------------------------------------------------------


@kv_staff_required
def cooperating_doctors(request):
    doctors = (DutyDoctor.objects.filter(kv=request.kv, kind=DutyDoctor.Kind.COOPERATING)
               .select_related("user", "notice"))
    today = timezone.localdate()
    return render(request, "duty/cooperating.html", {"doctors": doctors, "today": today,
                                                     "last_month": (today.replace(day=1) - dt.timedelta(days=1))})


@kv_staff_required
@require_POST
def record_notice(request, pk):
    doctor = get_object_or_404(DutyDoctor, pk=pk, kv=request.kv)
    try:
        received = dt.date.fromisoformat(request.POST.get("received", ""))
    except ValueError:
        messages.error(request, "Bitte geben Sie das Eingangsdatum der schriftlichen Kündigung an.")
        return redirect("duty_cooperating")
    if received > timezone.localdate():
        messages.error(request, "Das Eingangsdatum liegt in der Zukunft.")
        return redirect("duty_cooperating")
    try:
        ends = services.record_notice(doctor, received)
    except services.DutyError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Kündigung erfasst: die Kooperation von {doctor} endet am {ends:%d.%m.%Y}; "
                                  "spätere Dienste sind wieder in der Dienstbörse.")
    return redirect("duty_cooperating")


@kv_staff_required
def doctor_statement(request, pk, year, month, as_pdf=False):
    doctor = get_object_or_404(DutyDoctor.objects.select_related("user", "kv"), pk=pk, kv=request.kv,
                               kind=DutyDoctor.Kind.COOPERATING)
    return _statement_response(request, doctor, year, month, as_pdf, back="duty_cooperating")


@kv_staff_required
@require_POST
def record_missed(request, pk, duty_pk):
    duty = get_object_or_404(Duty.objects.select_related("doctor", "plan"), pk=duty_pk, plan_id=pk,
                             plan__area__kv=request.kv)
    try:
        services.record_missed(duty)
    except services.DutyError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Nichtantritt erfasst; die Pauschale steht in der Monatsabrechnung.")
    return redirect("duty_plan", pk)
