"""Monthly invoices of the operator for plus (§ 14 Abs. 4 UStG), each an e-invoice: a PDF/A-3 with
its Factur-X (EN 16931) XML embedded (contracts/invoice_pdf.py).

Invoices are numbered in one short transaction per batch: the year's counter row is locked, so
two workers never take the same number and a rolled-back batch leaves no gap. The PDFs are drawn
after the commit, outside the lock, so that workers draw in parallel (issue_invoices). A practice
is invoiced once per month (checked under the lock, and a unique constraint), so a task that runs
twice changes nothing but drawing PDFs that are missing.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
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


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def invoice_month(
    organisation: Organisation,
    year: int,
    month: int,
    issued_on: dt.date | None = None,
) -> Invoice | None:
    """Issues the practice's invoice for the month, or None if there is nothing to bill (no plus
    day, no SMS) or it was issued already."""
    issued = issue_invoices([organisation], year, month, issued_on or timezone.localdate())
    return issued[0] if issued else None


def _lines(charge: domain.MonthCharge, year: int, month: int) -> list[InvoiceLine]:
    return [
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


def _invoice(
    organisation: Organisation,
    contract: Contract | None,
    charge: domain.MonthCharge,
    supplier: Operator,
    start: dt.date,
    end: dt.date,
    issued_on: dt.date,
) -> Invoice:
    """The invoice row, without its number: the parties as they are today, the amounts."""
    direct_debit = bool(contract and contract.iban and contract.mandate_reference and contract.mandate_signed_on)
    return Invoice(
        issued_on=issued_on,
        period_start=start,
        period_end=end,
        due_on=issued_on + dt.timedelta(days=settings.INVOICE_DUE_DAYS),
        customer_number=customer_number(organisation.pk),
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


def issue_invoices(organisations: list[Organisation], year: int, month: int, issued_on: dt.date) -> list[Invoice]:
    """Issues the month's invoices of the practices named (those with something to bill and no
    invoice for the month yet), then writes their PDFs; returns the invoices issued.

    Three queries read the practices' metered days and contracts. Then one short transaction
    takes the numbers: the year's counter row stays locked only while the rows are inserted
    (milliseconds for a batch), not while PDFs are drawn, so workers draw in parallel instead of
    queueing on the lock (on SQLite the lock is the whole database). A number, once committed,
    belongs to an invoice row that holds every item the PDF shows; if drawing fails afterwards,
    ``write_missing_pdfs`` (the task's retry) draws it again from that row.
    """
    start, end = month_bounds(year, month)
    ids = [o.pk for o in organisations]
    days: dict[int, list[domain.UsageDay]] = {pk: [] for pk in ids}
    for organisation_id, day, plan, users, sms in UsageDay.objects.filter(
        organisation_id__in=ids, day__range=(start, end)
    ).values_list("organisation_id", "day", "plan", "users", "sms"):
        days[organisation_id].append(domain.UsageDay(day=day, plan=domain.Plan(plan), users=users, sms=sms))
    billable = [o for o in organisations if any(d.plan == domain.Plan.PLUS or d.sms for d in days[o.pk])]
    if not billable:
        return []
    supplier = operator()
    contracts = {c.organisation_id: c for c in Contract.objects.filter(organisation_id__in=ids)}
    drafts = []
    for organisation in billable:
        charge = domain.month_charge(year, month, days[organisation.pk])
        invoice = _invoice(organisation, contracts.get(organisation.pk), charge, supplier, start, end, issued_on)
        drafts.append((invoice, _lines(charge, year, month)))
    with transaction.atomic():
        sequence = _locked_sequence(issued_on.year)
        # under the lock: no other worker issues an invoice between this check and the insert
        issued_already = set(
            Invoice.objects.filter(
                customer_number__in=[invoice.customer_number for invoice, _ in drafts], period_start=start
            ).values_list("customer_number", flat=True)
        )
        drafts = [(invoice, lines) for invoice, lines in drafts if invoice.customer_number not in issued_already]
        if not drafts:
            return []
        for offset, (invoice, _) in enumerate(drafts, start=1):
            invoice.number = f"{issued_on.year}-{sequence.last_number + offset:06d}"
            invoice.pdf_name = f"{issued_on.year}/{invoice.number}.pdf"
        sequence.last_number += len(drafts)
        sequence.save(update_fields=["last_number"])
        Invoice.objects.bulk_create([invoice for invoice, _ in drafts])
        for invoice, lines in drafts:
            for line in lines:
                line.invoice = invoice
        InvoiceLine.objects.bulk_create([line for _, lines in drafts for line in lines])
    for invoice, lines in drafts:
        write_pdf(invoice, lines, supplier)
    return [invoice for invoice, _ in drafts]


def _locked_sequence(year: int) -> InvoiceSequence:
    """The year's counter, its row locked until the transaction ends."""
    InvoiceSequence.objects.get_or_create(year=year)
    return InvoiceSequence.objects.select_for_update().get(year=year)


def write_pdf(invoice: Invoice, lines: list[InvoiceLine], supplier: Operator) -> None:
    """Draws the invoice's PDF/A-3 and stores it under its name; written to a temporary file and
    renamed, so a crash never leaves half a PDF under the invoice's name."""
    from sprechzimmer.contracts import invoice_pdf

    _, _, content = invoice_pdf.render(invoice, lines, supplier)
    path = invoices_dir() / invoice.pdf_name
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(content)
    os.replace(partial, path)


def write_missing_pdfs(customer_numbers: list[str], period_start: dt.date) -> int:
    """Draws the PDFs of these invoices that have none (drawing failed after the numbers were
    committed); returns how many it drew."""
    missing = [
        invoice
        for invoice in Invoice.objects.filter(customer_number__in=customer_numbers, period_start=period_start)
        if not (invoices_dir() / invoice.pdf_name).exists()
    ]
    if missing:
        supplier = operator()
        for invoice in missing:
            write_pdf(invoice, list(invoice.lines.order_by("position")), supplier)
    return len(missing)


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
    issued_on = issued_on or timezone.localdate()
    organisations = list(Organisation.objects.filter(pk__in=organisation_ids).order_by("pk"))
    issued = issue_invoices(organisations, year, month, issued_on)
    write_missing_pdfs([customer_number(pk) for pk in organisation_ids], month_bounds(year, month)[0])
    return len(issued)


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
