"""The KV directory in the operator's back office: staff of the operator edit each KV's procedure,
documents, contact and link (no practice data here)."""

from __future__ import annotations

from django.contrib import admin

from sprechzimmer.approval.models import KvProcedure
from sprechzimmer.contracts.admin import _operator_staff


@admin.register(KvProcedure)
class KvProcedureAdmin(admin.ModelAdmin):
    list_display = ["code", "short_name", "name", "procedure", "documents"]
    readonly_fields = ["code"]

    def has_module_permission(self, request):
        return _operator_staff(request)

    def has_view_permission(self, request, obj=None):
        return _operator_staff(request)

    def has_change_permission(self, request, obj=None):
        return _operator_staff(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
