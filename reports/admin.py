"""Admin for inspection plans, missions, records and report jobs (a fuller UI comes later).

All of them are read-only here (``khuyencong.admin.ReadOnlyMixin``): report jobs are written only by
reports.services, and inspection plans, missions, records, recommendations and attachments only by
reports.inspection_services (access checks, revision checks, audit trail) — the evidence files of a
remedial report too (an inline of the recommendation)."""
from django.contrib import admin

from khuyencong.admin import ReadOnlyMixin

from .models import (
    InspectionAttachment,
    InspectionPlan,
    InspectionRecord,
    Mission,
    MissionMember,
    Recommendation,
    RecommendationEvidence,
    ReportJob,
)


class MissionInline(ReadOnlyMixin, admin.TabularInline):
    model = Mission
    extra = 0
    fields = ("order", "name", "start_date", "end_date", "legal_basis")
    show_change_link = True


@admin.register(InspectionPlan)
class InspectionPlanAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("year", "title", "decision_number", "decision_date")
    search_fields = ("title", "decision_number")
    inlines = [MissionInline]


class MissionMemberInline(ReadOnlyMixin, admin.TabularInline):
    model = MissionMember
    extra = 1


@admin.register(Mission)
class MissionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "plan", "start_date", "end_date")
    list_filter = ("plan__year",)
    search_fields = ("name",)
    filter_horizontal = ("provinces",)
    raw_id_fields = ("de_an",)
    inlines = [MissionMemberInline]


class RecommendationInline(ReadOnlyMixin, admin.TabularInline):
    model = Recommendation
    extra = 1
    fields = ("order", "text", "deadline", "status", "response")


class InspectionAttachmentInline(ReadOnlyMixin, admin.TabularInline):
    model = InspectionAttachment
    extra = 0
    fields = ("file", "original_name", "is_photo", "description", "size", "content_type")


@admin.register(InspectionRecord)
class InspectionRecordAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("de_an", "inspected_on", "place", "conclusion")
    list_filter = ("conclusion", "inspected_on")
    search_fields = ("de_an__code", "de_an__name", "place")
    raw_id_fields = ("de_an", "mission")
    list_select_related = ("de_an",)
    inlines = [RecommendationInline, InspectionAttachmentInline]


class RecommendationEvidenceInline(ReadOnlyMixin, admin.TabularInline):
    model = RecommendationEvidence
    extra = 0
    fields = ("file", "original_name", "is_photo", "description", "size", "content_type", "province", "uploaded_by",
              "uploaded_at")


@admin.register(Recommendation)
class RecommendationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("text", "record", "deadline", "status")
    list_filter = ("status",)
    raw_id_fields = ("record",)
    inlines = [RecommendationEvidenceInline]


@admin.register(ReportJob)
class ReportJobAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "kind", "year", "province", "grouping", "status", "progress", "attempts", "created_at", "finished_at")
    list_filter = ("status", "kind", "year")
    list_select_related = ("province",)
