"""The operator's back office for KV approval: staff of the operator edit each KV's procedure,
documents, contact and link, upload the operator's certificates (Anlage 31b) and publish notes
for the practices (no practice data here)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import transaction

from sprechzimmer.approval import certificates
from sprechzimmer.approval.models import KvProcedure, NewsBanner, OperatorCertificate
from sprechzimmer.contracts.admin import _operator_staff


class OperatorStaffOnly(admin.ModelAdmin):
    """Only staff of the operator see and edit these models."""

    def has_module_permission(self, request):
        return _operator_staff(request)

    def has_view_permission(self, request, obj=None):
        return _operator_staff(request)

    def has_change_permission(self, request, obj=None):
        return _operator_staff(request)

    def has_add_permission(self, request, obj=None):
        return _operator_staff(request)


@admin.register(KvProcedure)
class KvProcedureAdmin(OperatorStaffOnly):
    """The 17 KVs are edited, never added or removed."""

    list_display = ["code", "short_name", "name", "procedure", "districts", "documents"]
    readonly_fields = ["code"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CertificateForm(forms.ModelForm):
    pdf = forms.FileField(
        label="Zertifikat (PDF)",
        required=False,
        help_text=f"PDF, höchstens {certificates.MAX_BYTES // (1024 * 1024)} MB. Beim Bearbeiten nur angeben, "
        "um die Datei zu ersetzen.",
    )

    class Meta:
        model = OperatorCertificate
        fields = ["kind", "issuer", "number", "valid_from", "valid_until"]

    def clean_pdf(self):
        uploaded = self.cleaned_data.get("pdf")
        if not uploaded:
            if self.instance.pk is None:
                raise forms.ValidationError("Bitte laden Sie das Zertifikat als PDF-Datei hoch.")
            return None
        try:
            certificates.check(uploaded)
        except certificates.CertificateError as error:
            raise forms.ValidationError(str(error)) from None
        return uploaded


@admin.register(OperatorCertificate)
class OperatorCertificateAdmin(OperatorStaffOnly):
    """A renewal is added as a new certificate; the old one stays (it is what practices sent)."""

    form = CertificateForm
    list_display = ["kind", "issuer", "number", "valid_from", "valid_until", "expiry_warned_on"]
    readonly_fields = ["expiry_warned_on"]

    def get_readonly_fields(self, request, obj=None):
        # The stored file is sealed for its kind (certificates.read); a new kind is a new certificate.
        return ["kind", "expiry_warned_on"] if obj else ["expiry_warned_on"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        uploaded = form.cleaned_data.get("pdf")
        old_name = obj.stored_name if change else ""
        if uploaded:
            obj.stored_name, obj.size = certificates.store(uploaded, obj.kind), uploaded.size
        if change and "valid_until" in form.changed_data:
            obj.expiry_warned_on = None  # a new date: warn again before it
        super().save_model(request, obj, form, change)
        if uploaded and old_name:
            transaction.on_commit(lambda: certificates.storage.delete(old_name))
        if not change:
            certificates.notify_renewal(obj)


@admin.register(NewsBanner)
class NewsBannerAdmin(OperatorStaffOnly):
    list_display = ["text", "shown_from", "shown_until"]

    def has_delete_permission(self, request, obj=None):
        return _operator_staff(request)
