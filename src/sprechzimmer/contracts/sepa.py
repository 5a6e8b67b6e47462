"""The operator's monthly SEPA direct-debit file (pain.008.001.02, SEPA Core) for its bank.

Made with ``sepaxml`` (Raphael Michel / pretix, maintained, used in production by pretix and
others): it builds the file from payment dicts, sums the control totals and validates the result
against the pain.008 XSD it ships (with ``xmlschema``) before we store it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from sepaxml import SepaDD

from sprechzimmer.contracts import invoicing
from sprechzimmer.contracts.models import Invoice, SepaExport

SCHEMA = "pain.008.001.02"


class NothingToCollect(Exception):
    pass


def export(collection_date: dt.date) -> SepaExport:
    """One file with every invoice paid by direct debit that no file holds yet. The first debit on
    a mandate is FRST, later ones RCUR."""
    operator = invoicing.operator()
    with transaction.atomic():
        invoices = list(
            Invoice.objects.select_for_update()
            .filter(sepa_export=None)
            .exclude(mandate_reference="")
            .order_by("number")
        )
        if not invoices:
            raise NothingToCollect("Keine offenen Lastschriften.")
        used = set(
            Invoice.objects.exclude(sepa_export=None)
            .filter(mandate_reference__in={i.mandate_reference for i in invoices})
            .values_list("mandate_reference", flat=True)
        )
        sepa = SepaDD(
            {
                "name": operator.name,
                "IBAN": operator.iban,
                "BIC": operator.bic,
                "batch": True,
                "creditor_id": operator.creditor_id,
                "currency": "EUR",
            },
            schema=SCHEMA,
        )
        total = Decimal("0.00")
        for invoice in invoices:
            first = invoice.mandate_reference not in used
            used.add(invoice.mandate_reference)
            sepa.add_payment(
                {
                    "name": invoice.debtor_name,
                    "IBAN": invoice.debtor_iban,
                    "BIC": invoice.debtor_bic,
                    "amount": int(invoice.gross_total * 100),  # cents, as sepaxml wants
                    "type": "FRST" if first else "RCUR",
                    "collection_date": collection_date,
                    "mandate_id": invoice.mandate_reference,
                    "mandate_date": invoice.mandate_signed_on,
                    "description": f"Rechnung {invoice.number} Kundennummer {invoice.customer_number}",
                    "endtoend_id": invoice.number.replace("-", ""),
                }
            )
            total += invoice.gross_total
        content = sepa.export(validate=True)
        record = SepaExport.objects.create(
            collection_date=collection_date,
            file_name=f"sepa/{collection_date:%Y-%m-%d}-{len(invoices)}-{dt.datetime.now():%H%M%S%f}.xml",
            count=len(invoices),
            total=total,
        )
        Invoice.objects.filter(pk__in=[i.pk for i in invoices]).update(sepa_export=record)
        path = invoicing.invoices_dir() / record.file_name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return record


def file_bytes(record: SepaExport) -> bytes:
    return (invoicing.invoices_dir() / record.file_name).read_bytes()
