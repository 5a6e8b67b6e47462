"""Stammdaten → Rechnungsdaten: Hauptnutzer(in), Organisation, Bankverbindung, Abrechnung, Vertrag.

Every member sees the page; only the main user changes anything (others get 403). The page only
ever shows the requesting user's own practice, so there is no object id to check.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from sprechzimmer.accounts.access import main_user_required, member_required
from sprechzimmer.contracts import actions, avv, domain, gate, invoicing
from sprechzimmer.contracts.domain import Feature, Plan
from sprechzimmer.contracts.forms import BankDetailsForm, BillingDetailsForm
from sprechzimmer.contracts.models import AvvConfirmation, Invoice
from sprechzimmer.core import formats


def _plan_card(plan: Plan) -> dict:
    return {
        "plan": plan.value,
        "features": [(domain.FEATURE_LABELS[f], domain.allows(plan, f)) for f in Feature],
        "price": domain.PRICE_PER_USER_MONTH if plan == Plan.PLUS else 0,
    }


def _page(request, *, billing_form=None, bank_form=None, status=200, dialog=None):
    organisation = request.user.organisation
    contract = gate.contract_of(organisation)
    current = Plan(contract.plan)
    other = Plan.BASIS if current == Plan.PLUS else Plan.PLUS
    context = {
        "contract": contract,
        "main_users": organisation.members.filter(is_main_user=True),
        "current": _plan_card(current),
        "other": _plan_card(other),
        "upgrade_brings": [domain.FEATURE_LABELS[f] for f in Feature if not domain.allows(Plan.BASIS, f)],
        "basis_max_users": domain.BASIS_MAX_USERS,
        "price_per_user": domain.PRICE_PER_USER_MONTH,
        "price_per_sms": domain.PRICE_PER_SMS,
        "vat_rate": domain.VAT_RATE,
        "users_counted": gate.users_counted(organisation),
        "billing_form": billing_form or BillingDetailsForm(instance=contract),
        "bank_form": bank_form
        or BankDetailsForm(initial={"account_holder": contract.account_holder or organisation.name}),
        "creditor_id": settings.OPERATOR_CREDITOR_ID,
        "avv_version": avv.VERSION,
        "avv_confirmation": organisation.avv_confirmations.filter(version=avv.VERSION).first(),
        "avv_allowed": domain.allows(current, Feature.AVV_CONFIRMATION),
        "operator_name": settings.OPERATOR_NAME,
        "invoices": Invoice.objects.filter(customer_number=invoicing.customer_number(organisation.pk))[:36],
        "dialog": dialog,
    }
    return render(request, "contracts/contract.html", context, status=status)


@member_required
def contract_page(request):
    return _page(request)


@main_user_required
@require_POST
def billing_details(request):
    contract = gate.contract_of(request.user.organisation)
    form = BillingDetailsForm(request.POST, instance=contract)
    if not form.is_valid():
        return _page(request, billing_form=form, status=400)
    form.save()
    messages.success(request, "Die Rechnungsdaten wurden gespeichert.")
    return redirect("contract")


@main_user_required
@require_POST
def bank_details(request):
    """Bankverbindung and SEPA mandate; the mandate's reference, date and who confirmed it are kept."""
    form = BankDetailsForm(request.POST)
    if not form.is_valid():
        return _page(request, bank_form=form, status=400)
    contract = actions.set_bank_details(request.user.organisation, request.user, form.cleaned_data)
    messages.success(
        request,
        f"Die Bankverbindung ist gespeichert und das SEPA-Lastschriftmandat erteilt "
        f"(Mandatsreferenz {contract.mandate_reference} vom {formats.date(contract.mandate_signed_on)}).",
    )
    return redirect("contract")


@main_user_required
@require_POST
def switch_plan(request):
    try:
        text = actions.switch_plan(request.user.organisation, request.POST.get("plan", ""))
    except actions.ContractError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, text)
    return redirect("contract")


@main_user_required
def cancel(request):
    """The dialog "Vertrag kündigen und Daten löschen" (GET) and KÜNDIGUNG BESTÄTIGEN (POST)."""
    if request.method != "POST":
        return _page(request, dialog={"kind": "cancel", "ends_on": domain.cancellation_end(timezone.localdate())})
    try:
        contract = actions.cancel(request.user.organisation, request.user)
    except actions.ContractError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"Ihre Kündigung ist eingegangen. Ihr Vertrag endet zum {formats.date(contract.ends_on)}."
        )
    return redirect("contract")


@main_user_required
def revoke(request):
    """The dialog "Kündigung widerrufen" (GET) and KÜNDIGUNG WIDERRUFEN (POST)."""
    if request.method != "POST":
        return _page(request, dialog={"kind": "revoke"})
    try:
        actions.revoke(request.user.organisation, request.user)
    except actions.ContractError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Ihre Kündigung ist widerrufen. Ihr Vertrag läuft unverändert weiter.")
    return redirect("contract")


@main_user_required
def invoice_pdf(request, pk):
    """One of the practice's invoices as issued (PDF/A-3 with its Factur-X XML)."""
    invoice = get_object_or_404(Invoice, pk=pk, customer_number=invoicing.customer_number(request.user.organisation_id))
    try:
        content = invoicing.invoice_pdf_bytes(invoice)
    except FileNotFoundError:
        raise Http404 from None
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="Rechnung-{invoice.number}.pdf"'
    return response


def _pdf(rendered: tuple[str, str, bytes]) -> HttpResponse:
    filename, mimetype, content = rendered
    response = HttpResponse(content, content_type=mimetype)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@main_user_required
def avv_pdf(request):
    """The AVV prefilled with the practice and the operator, with its annex of measures."""
    return _pdf(avv.render_contract(request.user.organisation))


@main_user_required
@require_POST
def avv_confirm(request):
    """The main user accepts the AVV of the current version (plus: written confirmation)."""
    organisation = request.user.organisation
    try:
        gate.require(organisation, Feature.AVV_CONFIRMATION)
    except gate.PlanLimit as refusal:
        messages.error(request, refusal.message)
        return redirect("contract")
    if request.POST.get("accept") != "1":
        # Said beside the checkbox, at the foot of a long page (a message on top was out of sight).
        return redirect(reverse("contract") + "?avv=fehlt#avv")
    AvvConfirmation.objects.get_or_create(
        organisation=organisation,
        version=avv.VERSION,
        defaults={
            "confirmed_by": request.user,
            "confirmed_by_name": request.user.full_name,
            "confirmed_by_email": request.user.email,
        },
    )
    messages.success(
        request, "Der Auftragsverarbeitungsvertrag ist angenommen; die Bestätigung steht zum Download bereit."
    )
    return redirect("contract")


@main_user_required
def avv_confirmation_pdf(request):
    organisation = request.user.organisation
    confirmation = get_object_or_404(AvvConfirmation, organisation=organisation, version=avv.VERSION)
    return _pdf(avv.render_confirmation(organisation, confirmation))
