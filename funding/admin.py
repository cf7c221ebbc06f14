"""Read-only admin pages: money changes go through funding.services (import, commitments), never
through admin forms, so the committed totals and the audit trail stay right."""
from django.contrib import admin

from khuyencong.admin import ReadOnlyMixin

from .models import Allocation, AnnualPlan, Commitment, Disbursement, ImportBatch


class ReadOnly(ReadOnlyMixin, admin.ModelAdmin):
    pass


@admin.register(AnnualPlan)
class AnnualPlanAdmin(ReadOnly):
    list_display = ("year", "level", "decision_number", "decision_date", "programme")
    list_filter = ("level", "year")


@admin.register(Allocation)
class AllocationAdmin(ReadOnly):
    list_display = ("plan", "province", "source", "amount", "committed", "import_batch")
    list_filter = ("plan__year", "source")
    list_select_related = ("plan", "province")


@admin.register(Commitment)
class CommitmentAdmin(ReadOnly):
    list_display = ("de_an", "allocation", "amount", "created_at")
    list_select_related = ("de_an", "allocation__plan", "allocation__province")


@admin.register(Disbursement)
class DisbursementAdmin(ReadOnly):
    list_display = ("de_an", "kind", "source", "amount", "date", "document_number", "voided_at")
    list_select_related = ("de_an",)


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnly):
    list_display = ("id", "original_name", "kind", "status", "year", "rows_created", "rows_updated", "created_by", "created_at")
    list_filter = ("kind", "status")
