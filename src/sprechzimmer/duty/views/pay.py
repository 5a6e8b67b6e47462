"""Pay statements of K-Ärzte (on screen and PDF), the staff's records of missed duties and notices."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from sprechzimmer import inputs
from sprechzimmer.core import formats
from sprechzimmer.duty import bonus, payment, pdf
from sprechzimmer.duty.access import duty_doctor_required, kv_staff_required
from sprechzimmer.duty.errors import DutyError
from sprechzimmer.duty.forms import DutyTermsForm
from sprechzimmer.duty.models import Duty, DutyDoctor, Plan, StatementMail


def _month(year: int, month: int) -> None:
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise Http404


def _statement_response(request, doctor: DutyDoctor, year: int, month: int, as_pdf: bool, back: str):
    _month(year, month)
    statement = payment.monthly_statement(doctor, year, month)
    if as_pdf:
        filename, mimetype, data = pdf.render(doctor, doctor.kv.name, statement)
        response = HttpResponse(data, content_type=mimetype)
        response["Content-Disposition"] = f'inline; filename="{filename}"'
        response["Cache-Control"] = "private, no-store"
        return response
    return render(
        request,
        "duty/statement.html",
        {"doctor": doctor, "statement": statement, "back": back, "label": formats.month(year, month)},
    )


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
    months = [(y, m, formats.month(y, m)) for y, m in _months(me)]
    bonuses = [(y, m, formats.month(y, m)) for y, m in bonus_months(timezone.localdate())]
    return render(request, "duty/statements.html", {"me": me, "months": months, "bonuses": bonuses})


@duty_doctor_required
def my_statement(request, year, month, as_pdf=False):
    me = request.duty_doctor
    if not me.is_cooperating:
        raise Http404
    return _statement_response(request, me, year, month, as_pdf, back="duty_statements")


# --- staff ---------------------------------------------------------------------------------------


@kv_staff_required
def cooperating_doctors(request):
    return _cooperating_page(request, DutyTermsForm(kv=request.kv))


def _cooperating_page(request, terms_form, status=200):
    today = timezone.localdate()
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    # With the mail that told each of them about last month's statement (duty_statements), if any.
    mails = StatementMail.objects.filter(year=last_month.year, month=last_month.month)
    doctors = (
        DutyDoctor.objects.filter(kv=request.kv, kind=DutyDoctor.Kind.COOPERATING)
        .select_related("user", "notice")
        .prefetch_related(Prefetch("statement_mails", queryset=mails, to_attr="last_month_mails"))
    )
    return render(
        request,
        "duty/cooperating.html",
        {
            "doctors": doctors,
            "today": today,
            "last_month": last_month,
            "bonuses": bonus_months(today),
            "terms": payment.terms_history(request.kv),
            "terms_form": terms_form,
        },
        status=status,
    )


@kv_staff_required
@require_POST
def terms_add(request):
    form = DutyTermsForm(request.POST, kv=request.kv)
    if not form.is_valid():
        return _cooperating_page(request, form, status=400)
    terms = form.save(commit=False)
    terms.kv = request.kv
    terms.save()
    messages.success(request, f"Die neuen Sätze gelten ab {terms.valid_from:%d.%m.%Y}.")
    return redirect("duty_cooperating")


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
        ends = payment.record_notice(doctor, received)
    except DutyError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Kündigung erfasst: die Kooperation von {doctor} endet am {ends:%d.%m.%Y}; "
            "spätere Dienste sind wieder in der Dienstbörse.",
        )
    return redirect("duty_cooperating")


@kv_staff_required
def doctor_statement(request, pk, year, month, as_pdf=False):
    doctor = get_object_or_404(
        DutyDoctor.objects.select_related("user", "kv"), pk=pk, kv=request.kv, kind=DutyDoctor.Kind.COOPERATING
    )
    return _statement_response(request, doctor, year, month, as_pdf, back="duty_cooperating")


@kv_staff_required
@require_POST
def record_missed(request, pk, duty_pk):
    duty = get_object_or_404(
        Duty.objects.select_related("doctor", "plan"), pk=duty_pk, plan_id=pk, plan__area__kv=request.kv
    )
    try:
        payment.record_missed(duty)
    except DutyError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Nichtantritt erfasst; die Pauschale steht in der Monatsabrechnung.")
    return redirect("duty_plan", pk)


# --- half-year bonus: revenue files, statements; pseudo cases -----------------------------------


@kv_staff_required
def revenues(request):
    from sprechzimmer.duty.models import EmergencyPractice, QuarterRevenue

    practices = EmergencyPractice.objects.filter(area__kv=request.kv).select_related("area")
    rows = QuarterRevenue.objects.filter(practice__area__kv=request.kv).select_related("practice")[:500]
    return render(
        request,
        "duty/revenues.html",
        {
            "practices": practices,
            "rows": rows,
            "max_bytes": settings.EBM_UPLOAD_MAX_BYTES,
            "max_mb": settings.EBM_UPLOAD_MAX_BYTES // (1024 * 1024),
        },
    )


@kv_staff_required
@require_POST
def revenue_upload(request):
    from sprechzimmer.accounts.access import json_error
    from sprechzimmer.billing.domain.model import BillingError, Quarter
    from sprechzimmer.duty.models import EmergencyPractice

    practice_pk = inputs.parse_id(request.POST.get("practice", ""))
    practice = EmergencyPractice.objects.filter(pk=practice_pk, area__kv=request.kv).first() if practice_pk else None
    if practice is None:
        return json_error("Bitte wählen Sie eine Notfallpraxis Ihrer KV.")
    upload = request.FILES.get("file")
    if upload is None or upload.size == 0:
        return json_error("Bitte wählen Sie die KVDT-Quartalsdatei der Notfallpraxis.")
    if upload.size > settings.EBM_UPLOAD_MAX_BYTES:
        return json_error(f"Die Datei ist größer als {settings.EBM_UPLOAD_MAX_BYTES // (1024 * 1024)} MB.")
    try:
        raw_quarter = request.POST.get("quarter", "").strip()
        quarter = Quarter.parse(raw_quarter) if raw_quarter else None
        with upload.open("rb") as stream:
            quarter, totals = bonus.record_revenue(practice, stream, quarter, upload.name)
    except (BillingError, DutyError) as error:
        return json_error(f"Die Datei wurde nicht übernommen. {error}")
    messages.success(
        request, f"{practice}, Quartal {quarter}: Umsätze von {len(totals)} Ärztinnen und Ärzten übernommen."
    )
    return JsonResponse({"redirect": reverse("duty_revenues")})


def _bonus_response(request, doctor, year, month, back):
    if month not in (5, 11) or not 2000 <= year <= 2100:
        raise Http404
    statement = bonus.bonus_statement(doctor, year, month)
    return render(
        request,
        "duty/bonus.html",
        {"doctor": doctor, "statement": statement, "back": back, "label": formats.month(year, month)},
    )


def bonus_months(today: dt.date) -> list[tuple[int, int]]:
    """The last two bonus payouts (May, November) up to today, newest first, and the next one."""
    months = []
    for year in (today.year + 1, today.year, today.year - 1):
        for month in (11, 5):
            months.append((year, month))
    upcoming = [m for m in months if m > (today.year, today.month)][-1:]
    return upcoming + [m for m in months if m <= (today.year, today.month)][:2]


@duty_doctor_required
def my_bonus(request, year, month):
    me = request.duty_doctor
    if not me.is_cooperating:
        raise Http404
    return _bonus_response(request, me, year, month, back="duty_statements")


@kv_staff_required
def doctor_bonus(request, pk, year, month):
    doctor = get_object_or_404(
        DutyDoctor.objects.select_related("user", "kv"), pk=pk, kv=request.kv, kind=DutyDoctor.Kind.COOPERATING
    )
    return _bonus_response(request, doctor, year, month, back="duty_cooperating")


@duty_doctor_required
@require_POST
def without_gkv(request, pk):
    duty = get_object_or_404(
        Duty.objects.select_related("doctor", "substitute"),
        pk=pk,
        plan__status=Plan.Status.PUBLISHED,
        plan__area__kv=request.duty_doctor.kv,
    )
    try:
        bonus.mark_without_gkv(duty, request.duty_doctor, request.POST.get("value") == "1")
    except DutyError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            "Gespeichert: für diesen Dienst wird ein Pseudo-Abrechnungsschein angelegt."
            if request.POST.get("value") == "1"
            else "Gespeichert.",
        )
    return redirect("duty_mine")


@kv_staff_required
def pseudo_cases(request, pk, year, number):
    from sprechzimmer.duty.models import Area

    area = get_object_or_404(Area, pk=pk, kv=request.kv)
    try:
        filename, data = bonus.pseudo_cases_file(area, year, number)
    except DutyError as error:
        messages.error(request, str(error))
        return redirect("duty_area", area.pk)
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
