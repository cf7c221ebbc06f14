from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from .models import (
    ActivityContent,
    AuditEvent,
    Indicator,
    Organisation,
    OrganisationName,
    Programme,
    Province,
    SupportCap,
    User,
)

admin.site.site_header = _("Quản trị Cổng khuyến công")
admin.site.site_title = _("Cổng khuyến công")


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "era", "successor", "valid_from", "valid_to")
    list_filter = ("era", "kind")
    search_fields = ("name", "search_name", "code")
    list_select_related = ("successor",)


class OrganisationNameInline(admin.TabularInline):
    model = OrganisationName
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "province", "valid_from", "valid_to", "successor")
    list_filter = ("kind",)
    search_fields = ("name", "code")
    list_select_related = ("province", "successor")
    raw_id_fields = ("parent", "successor")
    inlines = [OrganisationNameInline]


class IndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 0


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ("name", "decision_number", "start_year", "end_year")
    inlines = [IndicatorInline]


@admin.register(ActivityContent)
class ActivityContentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "instrument", "valid_from", "valid_to")
    list_filter = ("instrument",)
    search_fields = ("name", "code")


@admin.register(SupportCap)
class SupportCapAdmin(admin.ModelAdmin):
    list_display = ("code", "description", "level", "max_percent", "max_amount", "per_unit", "instrument", "valid_from", "valid_to")
    list_filter = ("level", "instrument")


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "organisation", "is_active")
    list_filter = ("role", "is_active")
    list_select_related = ("organisation",)
    raw_id_fields = ("organisation",)
    fieldsets = UserAdmin.fieldsets + ((_("Vai trò và đơn vị"), {"fields": ("role", "organisation", "job_title", "phone")}),)
    add_fieldsets = UserAdmin.add_fieldsets + ((_("Vai trò và đơn vị"), {"fields": ("role", "organisation")}),)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor", "action", "object_type", "object_id", "summary")
    list_filter = ("action", "object_type")
    search_fields = ("summary", "object_id")
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
