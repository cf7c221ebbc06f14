"""Read-only admin pages: money changes go through funding.services (import, commitments), never
through admin forms, so the committed totals and the audit trail stay right. Allocations, commitments
and disbursements have django-import-export's «Xuất» button (funding.resources): the filtered list as
.xlsx or .csv, for whoever may view that list."""
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import SelectableFieldsExportForm

from khuyencong.admin import ReadOnlyMixin, RoleAccessMixin
from khuyencong.formatting import format_dong

from .models import Allocation, AnnualPlan, Commitment, Disbursement, ImportBatch
from .resources import AllocationResource, CommitmentResource, DisbursementResource


def _dong(amount):
    """«1.500.000.000 đ» kept on one line in the list's narrow columns."""
    return format_dong(amount).replace(" ", "\u00a0")


class ReadOnly(RoleAccessMixin, ReadOnlyMixin, admin.ModelAdmin):
    """Shown to the administrator role (the one that imports budgets), as the đề án admin is; never written."""

    access_action = "funding.import"


class ExportForm(SelectableFieldsExportForm):
    """The columns to tick are named as their headers in the file («Kinh phí phân bổ (đồng)»), not by
    the package's «Allocated (Kinh phí phân bổ (đồng))», and .xlsx is chosen to start with."""

    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, resources, **kwargs)
        if "format" in self.fields and not self.is_bound:
            self.fields["format"].initial = "0"  # XLSX, first of ``Exported.formats``

    def _get_field_label(self, resource, field_name):
        field = resource.fields.get(field_name)
        return str(field.column_name) if field is not None else field_name


class Exported(ExportMixin, ReadOnly):
    """Export only (no import button: money is imported through the portal's own preview)."""

    formats = [XLSX, CSV]
    export_form_class = ExportForm

    def export_action(self, request):
        # A filter in the address that is not one of the list's (a forged or stale link) is refused as
        # the list itself refuses it, not answered with a server error.
        try:
            return super().export_action(request)
        except IncorrectLookupParameters:
            self.message_user(request, _("Bộ lọc trong địa chỉ trang không hợp lệ; chưa xuất gì. Hãy chọn lại bộ lọc "
                                         "ở danh sách rồi bấm «Xuất»."), messages.ERROR)
            opts = self.model._meta
            return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))

    def has_export_permission(self, request):
        # Exactly who sees the list may export it (the package's default, with no permission code set,
        # is anyone who reaches the admin).
        return self.has_view_permission(request)


@admin.register(AnnualPlan)
class AnnualPlanAdmin(ReadOnly):
    list_display = ("year", "level", "decision_number", "decision_date", "programme")
    list_filter = ("level", "year")


@admin.register(Allocation)
class AllocationAdmin(Exported):
    resource_classes = [AllocationResource]
    list_display = ("plan", "province", "source", "amount_dong", "committed_dong", "import_batch")
    list_filter = ("plan__year", "source")
    list_select_related = ("plan", "province")

    @admin.display(description=_("Kinh phí phân bổ"), ordering="amount")
    def amount_dong(self, obj):
        return _dong(obj.amount)

    @admin.display(description=_("Đã cam kết"), ordering="committed")
    def committed_dong(self, obj):
        return _dong(obj.committed)


@admin.register(Commitment)
class CommitmentAdmin(Exported):
    resource_classes = [CommitmentResource]
    list_display = ("de_an", "allocation", "amount_dong", "created_at")
    list_select_related = ("de_an", "allocation__plan", "allocation__province")

    @admin.display(description=_("Số tiền cam kết"), ordering="amount")
    def amount_dong(self, obj):
        return _dong(obj.amount)


@admin.register(Disbursement)
class DisbursementAdmin(Exported):
    resource_classes = [DisbursementResource]
    list_display = ("de_an", "kind", "source", "amount_dong", "date", "document_number", "voided_at")
    list_select_related = ("de_an",)

    @admin.display(description=_("Số tiền"), ordering="amount")
    def amount_dong(self, obj):
        return _dong(obj.amount)


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnly):
    list_display = ("id", "original_name", "kind", "status", "year", "rows_created", "rows_updated", "created_by", "created_at")
    list_filter = ("kind", "status")
