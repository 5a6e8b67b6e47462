"""The contract of a practice with the operator, its metered usage, and the operator's invoices.

The practice's rows (``Contract``, ``UsageDay``, ``AvvConfirmation``) refer to it and are deleted
with it; the operator's invoices (``Invoice``, ``InvoiceLine``) are kept apart: they refer to no
practice row, only to a snapshot of the billing data § 14 UStG needs, and stay for the statutory
period (8 years from the end of the calendar year, § 147 AO / § 14b UStG).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from sprechzimmer.accounts.models import Organisation
from sprechzimmer.contracts.domain import Plan


class Contract(models.Model):
    """One per practice (Vertrag): its plan, a switch waiting for the end of the billed month, the
    notice if given, and the billing details (Rechnungsdaten)."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="contract")
    plan = models.CharField("Vertrag", max_length=10, choices=[(p.value, p.value) for p in Plan], default=Plan.BASIS)
    plan_since = models.DateField("Vertrag seit", default=timezone.localdate)
    #: A switch down waits for the end of the billed month (domain.downgrade_from).
    pending_plan = models.CharField(max_length=10, choices=[(p.value, p.value) for p in Plan], blank=True)
    pending_from = models.DateField(null=True, blank=True)
    # Cancellation (Kündigung): when it was given, by whom, and the contract's last day.
    cancelled_at = models.DateTimeField("Kündigung am", null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ends_on = models.DateField("Vertragsende", null=True, blank=True)
    # Billing details (Rechnungsdaten → Organisation / Abrechnung).
    billing_email = models.EmailField("E-Mail-Adresse für Rechnungen", blank=True)
    vat_id = models.CharField("USt-IdNr. der Praxis (falls vorhanden)", max_length=20, blank=True)
    # Bankverbindung and SEPA mandate (Lastschriftmandat).
    account_holder = models.CharField("Kontoinhaber(in)", max_length=70, blank=True)
    iban = models.CharField("IBAN", max_length=34, blank=True)
    bic = models.CharField("BIC", max_length=11, blank=True)
    mandate_reference = models.CharField("Mandatsreferenz", max_length=35, blank=True)
    mandate_signed_on = models.DateField("Mandat erteilt am", null=True, blank=True)
    mandate_confirmed_by = models.CharField("Mandat bestätigt von", max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "Vertrag"
        verbose_name_plural = "Verträge"

    def __str__(self) -> str:
        return f"{self.organisation} ({self.plan})"


class UsageDay(models.Model):
    """A metered day (jobs: ``meter_usage_daily``): plan and active users at the end of the day, and
    the SMS sent that day. Invoices prorate from these rows (domain.month_charge)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="usage_days")
    day = models.DateField()
    plan = models.CharField(max_length=10, choices=[(p.value, p.value) for p in Plan])
    users = models.PositiveIntegerField()
    sms = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "day"], name="usage_day_once")]
        verbose_name = "Nutzungstag"
        verbose_name_plural = "Nutzungstage"

    def __str__(self) -> str:
        return f"{self.day} {self.plan} {self.users}"


class InvoiceSequence(models.Model):
    """The operator's invoice numbers, one counter per year. The row is locked while an invoice is
    written, so numbers are unique and gap-free (a rolled-back invoice returns its number)."""

    year = models.PositiveSmallIntegerField(unique=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class Invoice(models.Model):
    """One of the operator's invoices (§ 14 Abs. 4 UStG), kept apart from the practice: no foreign
    key to it, the parties as they were on the day of issue, the PDF/A-3 with its Factur-X XML in
    ``INVOICES_DIR``. Kept until ``retain_until`` (8 years from the end of the year, § 147 AO)."""

    number = models.CharField("Rechnungsnummer", max_length=20, unique=True)
    issued_on = models.DateField("Rechnungsdatum")
    period_start = models.DateField("Leistungszeitraum von")
    period_end = models.DateField("Leistungszeitraum bis")
    due_on = models.DateField("fällig am")
    customer_number = models.CharField("Kundennummer", max_length=20, db_index=True)
    # the recipient (Leistungsempfänger) as on the day of issue
    recipient_name = models.CharField(max_length=200)
    recipient_street = models.CharField(max_length=200)
    recipient_postcode = models.CharField(max_length=10)
    recipient_city = models.CharField(max_length=100)
    recipient_bsnr = models.CharField(max_length=9)
    recipient_vat_id = models.CharField(max_length=20, blank=True)
    # the supplier (leistender Unternehmer): the operator, from its settings on the day of issue
    supplier_name = models.CharField(max_length=200)
    supplier_street = models.CharField(max_length=200)
    supplier_postcode = models.CharField(max_length=10)
    supplier_city = models.CharField(max_length=100)
    supplier_vat_id = models.CharField(max_length=20, blank=True)
    supplier_tax_number = models.CharField(max_length=30, blank=True)
    # payment: SEPA direct debit if the practice gave a mandate, else transfer to the operator
    mandate_reference = models.CharField(max_length=35, blank=True)
    mandate_signed_on = models.DateField(null=True, blank=True)
    debtor_name = models.CharField(max_length=70, blank=True)
    debtor_iban = models.CharField(max_length=34, blank=True)
    debtor_bic = models.CharField(max_length=11, blank=True)
    net_total = models.DecimalField(max_digits=12, decimal_places=2)
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2)
    vat_total = models.DecimalField(max_digits=12, decimal_places=2)
    gross_total = models.DecimalField(max_digits=12, decimal_places=2)
    pdf_name = models.CharField(max_length=100)
    retain_until = models.DateField("aufzubewahren bis")
    sepa_export = models.ForeignKey(
        "SepaExport", null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-issued_on", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["customer_number", "period_start"], name="invoice_once_per_month")
        ]
        verbose_name = "Rechnung"
        verbose_name_plural = "Rechnungen"

    def __str__(self) -> str:
        return f"Rechnung {self.number}"


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    description = models.CharField(max_length=200)
    quantity = models.DecimalField(max_digits=12, decimal_places=4)
    unit = models.CharField(max_length=30)  # as printed
    unit_code = models.CharField(max_length=3)  # UN/ECE Rec. 20 for the XML
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    net = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.description


class SepaExport(models.Model):
    """A pain.008 file of SEPA direct debits for the operator's bank (contracts/sepa.py)."""

    created_at = models.DateTimeField(default=timezone.now)
    collection_date = models.DateField("Fälligkeitsdatum")
    file_name = models.CharField(max_length=100)
    count = models.PositiveIntegerField("Lastschriften")
    total = models.DecimalField("Summe", max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "SEPA-Lastschriftdatei"
        verbose_name_plural = "SEPA-Lastschriftdateien"

    def __str__(self) -> str:
        return self.file_name


class AvvConfirmation(models.Model):
    """The practice's acceptance of the AVV (Art. 28 DSGVO): who, when, which version (plus)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="avv_confirmations")
    version = models.CharField(max_length=20)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    confirmed_by_name = models.CharField(max_length=200)
    confirmed_by_email = models.EmailField()
    confirmed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-confirmed_at"]
        constraints = [models.UniqueConstraint(fields=["organisation", "version"], name="avv_once_per_version")]

    def __str__(self) -> str:
        return f"AVV {self.version}"
