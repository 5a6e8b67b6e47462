"""The operator's back office in Django's admin: practices with plan and status, cancellations
falling due, invoices and SEPA files. Contract and billing data only: no model with patient data
(appointments, records, video contacts, reports) is registered, and nothing here decrypts
anything. Only staff of the operator (``is_staff``, no practice) log in; everything is read-only
except the two actions that make the operator's own files."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from sprechzimmer.contracts import invoicing, sepa
from sprechzimmer.contracts.models import Contract, Invoice, InvoiceLine, SepaExport
from sprechzimmer.core import formats


def _operator_staff(request) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff and user.organisation_id is None)


class ReadOnly(admin.ModelAdmin):
    """Staff of the operator read everything here (no per-model permissions to hand out)."""

    def has_module_permission(self, request):
        return _operator_staff(request)

    def has_view_permission(self, request, obj=None):
        return _operator_staff(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DueFilter(admin.SimpleListFilter):
    title = "Status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            ("running", "läuft"),
            ("cancelled", "gekündigt"),
            ("due30", "Löschung in den nächsten 30 Tagen"),
            ("overdue", "Löschung überfällig"),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        match self.value():
            case "running":
                return queryset.filter(ends_on=None)
            case "cancelled":
                return queryset.exclude(ends_on=None)
            case "due30":
                return queryset.filter(ends_on__gte=today, ends_on__lte=today + dt.timedelta(days=30))
            case "overdue":
                return queryset.filter(ends_on__lt=today)
        return queryset


@admin.register(Contract)
class ContractAdmin(ReadOnly):
    list_display = ["practice", "bsnr", "plan", "pending", "users", "ends_on", "mandate"]
    list_filter = ["plan", DueFilter]
    search_fields = ["organisation__name", "organisation__bsnr"]
    ordering = ["ends_on", "organisation__name"]
    fields = [
        "practice",
        "bsnr",
        "plan",
        "plan_since",
        "pending_plan",
        "pending_from",
        "cancelled_at",
        "ends_on",
        "billing_email",
        "vat_id",
        "account_holder",
        "iban",
        "bic",
        "mandate_reference",
        "mandate_signed_on",
        "mandate_confirmed_by",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("organisation")
            .annotate(active_users=Count("organisation__members", filter=Q(organisation__members__is_active=True)))
        )

    @admin.display(description="Praxis", ordering="organisation__name")
    def practice(self, obj):
        return obj.organisation.name

    @admin.display(description="BSNR")
    def bsnr(self, obj):
        return obj.organisation.bsnr

    @admin.display(description="Wechsel")
    def pending(self, obj):
        return f"{obj.pending_plan} ab {formats.date(obj.pending_from)}" if obj.pending_plan else "–"

    @admin.display(description="Benutzer", ordering="active_users")
    def users(self, obj):
        return obj.active_users

    @admin.display(description="Lastschrift", boolean=True)
    def mandate(self, obj):
        return bool(obj.mandate_reference)


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    fields = ["position", "description", "quantity", "unit", "unit_price", "net"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnly):
    list_display = ["number", "issued_on", "recipient_name", "period_start", "gross", "payment", "pdf"]
    list_filter = ["issued_on", ("sepa_export", admin.EmptyFieldListFilter)]
    search_fields = ["number", "recipient_name", "customer_number", "recipient_bsnr"]
    inlines = [InvoiceLineInline]
    actions = ["make_sepa_file"]
    exclude = ["pdf_name"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Invoice._meta.fields if f.name != "pdf_name"]

    @admin.display(description="Brutto", ordering="gross_total")
    def gross(self, obj):
        return formats.euro(obj.gross_total)

    @admin.display(description="Zahlung")
    def payment(self, obj):
        if not obj.mandate_reference:
            return "Überweisung"
        return "Lastschrift (in Datei)" if obj.sepa_export_id else "Lastschrift (offen)"

    @admin.display(description="PDF")
    def pdf(self, obj):
        return format_html('<a href="{}">PDF</a>', reverse("admin:contracts_invoice_pdf", args=[obj.pk]))

    def get_urls(self):
        return [
            path("<id:pk>/pdf/", self.admin_site.admin_view(self.pdf_view), name="contracts_invoice_pdf"),
            *super().get_urls(),
        ]

    def pdf_view(self, request, pk):
        invoice = Invoice.objects.filter(pk=pk).first()
        if invoice is None or not (invoicing.invoices_dir() / invoice.pdf_name).exists():
            raise Http404
        return FileResponse(
            open(invoicing.invoices_dir() / invoice.pdf_name, "rb"),
            as_attachment=True,
            filename=f"Rechnung-{invoice.number}.pdf",
        )

    @admin.action(description="SEPA-Lastschriftdatei (pain.008) für alle offenen Lastschriften erstellen")
    def make_sepa_file(self, request, queryset):
        collection = timezone.localdate() + dt.timedelta(days=5)
        try:
            record = sepa.export(collection)
        except sepa.NothingToCollect:
            self.message_user(request, "Keine offenen Lastschriften.", messages.WARNING)
        except invoicing.OperatorNotConfigured:
            self.message_user(request, "Die Angaben des Betreibers (OPERATOR_*) fehlen.", messages.ERROR)
        else:
            self.message_user(
                request,
                f"{record.count} Lastschriften über {formats.euro(record.total)}, fällig am "
                f"{formats.date(record.collection_date)}: {record.file_name}",
            )


@admin.register(SepaExport)
class SepaExportAdmin(ReadOnly):
    list_display = ["created_at", "collection_date", "count", "total_euro", "download"]

    @admin.display(description="Summe")
    def total_euro(self, obj):
        return formats.euro(obj.total)

    @admin.display(description="Datei")
    def download(self, obj):
        return format_html('<a href="{}">pain.008</a>', reverse("admin:contracts_sepaexport_file", args=[obj.pk]))

    def get_urls(self):
        return [
            path("<id:pk>/datei/", self.admin_site.admin_view(self.file_view), name="contracts_sepaexport_file"),
            *super().get_urls(),
        ]

    def file_view(self, request, pk):
        record = SepaExport.objects.filter(pk=pk).first()
        if record is None:
            raise Http404
        try:
            content = sepa.file_bytes(record)
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(iter([content]), content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="{record.file_name.rsplit("/", 1)[-1]}"'
        return response


def _login_through_the_product(request, extra_context=None):
    """Admin's own login form would send the typed password; ours sends a derived secret and asks
    for the second factor. Logged-in users who are not staff get 404."""
    from django.contrib.auth.views import redirect_to_login

    if request.user.is_authenticated:
        raise Http404
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"), reverse("account_login"))


def _no_password_change(request, extra_context=None):
    raise Http404


admin.site.login = _login_through_the_product  # type: ignore[method-assign]
admin.site.password_change = _no_password_change  # type: ignore[method-assign]
admin.site.site_header = admin.site.site_title = "Sprechzimmer – Betrieb"
admin.site.index_title = "Verträge, Rechnungen und Lastschriften"
