"""Monthly invoices of the operator for plus (§ 14 Abs. 4 UStG), each an e-invoice: a PDF/A-3 with
its Factur-X (EN 16931) XML embedded (contracts/invoice_pdf.py).

An invoice is written in one transaction with its number: the year's counter row is locked, so
two workers never take the same number and a rolled-back invoice leaves no gap. A practice is
invoiced once per month (a unique constraint), so a task that runs twice changes nothing.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from sprechzimmer.accounts.models import Organisation
from sprechzimmer.contracts import domain
from sprechzimmer.contracts.models import Contract, Invoice, InvoiceLine, InvoiceSequence, UsageDay
from sprechzimmer.core import formats

log = logging.getLogger("sprechzimmer.contracts")

RETENTION_YEARS = 8  # § 147 Abs. 3 AO, § 14b UStG (since 1.1.2025), from the end of the calendar year


class OperatorNotConfigured(Exception):
    """The operator's name, address or tax identification is missing (settings OPERATOR_*)."""


@dataclass(frozen=True)
class Operator:
    name: str
    street: str
    postcode: str
    city: str
    email: str
    vat_id: str
    tax_number: str
    iban: str
    bic: str
    creditor_id: str


def operator() -> Operator:
    o = Operator(
        name=settings.OPERATOR_NAME,
        street=settings.OPERATOR_STREET,
        postcode=settings.OPERATOR_POSTCODE,
        city=settings.OPERATOR_CITY,
        email=settings.OPERATOR_EMAIL,
        vat_id=settings.OPERATOR_VAT_ID,
        tax_number=settings.OPERATOR_TAX_NUMBER,
        iban=settings.OPERATOR_IBAN,
        bic=settings.OPERATOR_BIC,
        creditor_id=settings.OPERATOR_CREDITOR_ID,
    )
    if not (o.name and o.street and o.postcode and o.city and (o.vat_id or o.tax_number)):
        raise OperatorNotConfigured(
            "OPERATOR_NAME, OPERATOR_STREET, OPERATOR_POSTCODE, OPERATOR_CITY and OPERATOR_VAT_ID or "
            "OPERATOR_TAX_NUMBER must be set before invoices are issued"
        )
    return o


def customer_number(organisation_id: int) -> str:
    return f"K{organisation_id:07d}"


def invoices_dir() -> Path:
    return Path(settings.INVOICES_DIR)


def retain_until(issued_on: dt.date) -> dt.date:
    return dt.date(issued_on.year + RETENTION_YEARS, 12, 31)


def _next_number(year: int) -> str:
    """The year's next number, the counter row locked until the invoice's transaction ends."""
    InvoiceSequence.objects.get_or_create(year=year)
    sequence = InvoiceSequence.objects.select_for_update().get(year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return f"{year}-{sequence.last_number:06d}"


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def invoice_month(
    organisation: Organisation,
    year: int,
    month: int,
    issued_on: dt.date | None = None,
    *,
    check_xsd: bool = False,
) -> Invoice | None:
    """Issues the practice's invoice for the month, or None if there is nothing to bill (no plus
    day, no SMS) or it was issued already."""
    from sprechzimmer.contracts import invoice_pdf

    issued_on = issued_on or timezone.localdate()
    start, end = month_bounds(year, month)
    number_of_customer = customer_number(organisation.pk)
    if Invoice.objects.filter(customer_number=number_of_customer, period_start=start).exists():
        return None
    days = [
        domain.UsageDay(day=d.day, plan=domain.Plan(d.plan), users=d.users, sms=d.sms)
        for d in UsageDay.objects.filter(organisation=organisation, day__range=(start, end))
    ]
    if not any(d.plan == domain.Plan.PLUS for d in days) and not any(d.sms for d in days):
        return None
    charge = domain.month_charge(year, month, days)
    supplier = operator()
    contract = Contract.objects.filter(organisation=organisation).first()
    direct_debit = bool(contract and contract.iban and contract.mandate_reference and contract.mandate_signed_on)
    lines = [
        InvoiceLine(
            position=1,
            description=f"Sprechzimmer plus, {formats.month(year, month)}: Benutzermonate "
            f"({charge.user_days} Benutzertage ÷ {charge.days_in_month} Tage)",
            quantity=charge.user_months,
            unit="Benutzermonate",
            unit_code="MON",
            unit_price=domain.PRICE_PER_USER_MONTH,
            net=charge.users_net,
        ),
        InvoiceLine(
            position=2,
            description=f"SMS-Versand, {formats.month(year, month)}",
            quantity=charge.sms,
            unit="SMS",
            unit_code="C62",
            unit_price=domain.PRICE_PER_SMS,
            net=charge.sms_net,
        ),
    ]
    try:
        with transaction.atomic():
            invoice = Invoice(
                number=_next_number(issued_on.year),
                issued_on=issued_on,
                period_start=start,
                period_end=end,
                due_on=issued_on + dt.timedelta(days=settings.INVOICE_DUE_DAYS),
                customer_number=number_of_customer,
                recipient_name=organisation.name,
                recipient_street=organisation.street,
                recipient_postcode=organisation.postcode,
                recipient_city=organisation.city,
                recipient_bsnr=organisation.bsnr,
                recipient_vat_id=contract.vat_id if contract else "",
                supplier_name=supplier.name,
                supplier_street=supplier.street,
                supplier_postcode=supplier.postcode,
                supplier_city=supplier.city,
                supplier_vat_id=supplier.vat_id,
                supplier_tax_number=supplier.tax_number,
                mandate_reference=contract.mandate_reference if direct_debit and contract else "",
                mandate_signed_on=contract.mandate_signed_on if direct_debit and contract else None,
                debtor_name=contract.account_holder if direct_debit and contract else "",
                debtor_iban=contract.iban if direct_debit and contract else "",
                debtor_bic=contract.bic if direct_debit and contract else "",
                net_total=charge.net,
                vat_rate=domain.VAT_RATE,
                vat_total=charge.vat,
                gross_total=charge.gross,
                retain_until=retain_until(issued_on),
            )
            invoice.pdf_name = f"{issued_on.year}/{invoice.number}.pdf"
            invoice.save()
            for line in lines:
                line.invoice = invoice
            InvoiceLine.objects.bulk_create(lines)
            _, _, content = invoice_pdf.render(invoice, lines, supplier, check_xsd=check_xsd)
            path = invoices_dir() / invoice.pdf_name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    except IntegrityError:
        return None  # issued meanwhile by another worker
    return invoice


def invoice_pdf_bytes(invoice: Invoice) -> bytes:
    return (invoices_dir() / invoice.pdf_name).read_bytes()


def practices_to_invoice(year: int, month: int) -> list[int]:
    start, end = month_bounds(year, month)
    plus = UsageDay.objects.filter(day__range=(start, end), plan=domain.Plan.PLUS).values_list(
        "organisation_id", flat=True
    )
    sms = UsageDay.objects.filter(day__range=(start, end), sms__gt=0).values_list("organisation_id", flat=True)
    return sorted(set(plus) | set(sms))


def invoice_batch(organisation_ids: list[int], year: int, month: int, issued_on: dt.date | None = None) -> int:
    """Invoices the month of each practice named; returns how many invoices were issued."""
    issued = 0
    for organisation in Organisation.objects.filter(pk__in=organisation_ids).iterator():
        if invoice_month(organisation, year, month, issued_on) is not None:
            issued += 1
    return issued


def previous_month(today: dt.date) -> tuple[int, int]:
    last = today.replace(day=1) - dt.timedelta(days=1)
    return last.year, last.month


def invoice_open_months(organisation: Organisation, today: dt.date) -> None:
    """Before a practice is deleted (the day after its contract's end, the first of a month): its
    last month, unless the monthly run invoiced it already. Without operator settings nothing is
    invoiced, and the deletion goes ahead regardless."""
    year, month = previous_month(today)
    try:
        invoice_month(organisation, year, month, today)
    except OperatorNotConfigured:
        log.warning("practice %s: last month not invoiced, operator settings missing", organisation.pk)
