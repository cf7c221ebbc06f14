from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from . import services
from .access import can
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


class RoleAccessMixin:
    """Admin pages open to the portal's administrator role (access.can), not only to Django
    superusers with model permissions. Other apps may reuse it with their own ``access_action``."""

    access_action = "reference.manage"

    def _role_allows(self, request):
        return request.user.is_active and request.user.is_staff and bool(can(request.user, self.access_action))

    def has_module_permission(self, request):
        return self._role_allows(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._role_allows(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        return self._role_allows(request) or super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self._role_allows(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._role_allows(request) or super().has_delete_permission(request, obj)


@admin.register(Province)
class ProvinceAdmin(RoleAccessMixin, admin.ModelAdmin):
    list_display = ("code", "name", "kind", "era", "successor", "valid_from", "valid_to")
    list_filter = ("era", "kind")
    search_fields = ("name", "search_name", "code")
    list_select_related = ("successor",)


class OrganisationNameInline(admin.TabularInline):
    model = OrganisationName
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(RoleAccessMixin, admin.ModelAdmin):
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
class ProgrammeAdmin(RoleAccessMixin, admin.ModelAdmin):
    list_display = ("name", "decision_number", "start_year", "end_year")
    inlines = [IndicatorInline]


@admin.register(ActivityContent)
class ActivityContentAdmin(RoleAccessMixin, admin.ModelAdmin):
    list_display = ("code", "name", "instrument", "valid_from", "valid_to")
    list_filter = ("instrument",)
    search_fields = ("name", "code")


@admin.register(SupportCap)
class SupportCapAdmin(RoleAccessMixin, admin.ModelAdmin):
    list_display = ("code", "description", "level", "max_percent", "max_amount", "per_unit", "instrument", "valid_from", "valid_to")
    list_filter = ("level", "instrument")


@admin.register(User)
class PortalUserAdmin(RoleAccessMixin, UserAdmin):
    access_action = "users.manage"

    list_display = ("username", "first_name", "last_name", "role", "organisation", "is_active")
    list_filter = ("role", "is_active")
    list_select_related = ("organisation",)
    raw_id_fields = ("organisation",)
    fieldsets = UserAdmin.fieldsets + ((_("Vai trò và đơn vị"), {"fields": ("role", "organisation", "job_title", "phone")}),)
    add_fieldsets = UserAdmin.add_fieldsets + ((_("Vai trò và đơn vị"), {"fields": ("role", "organisation")}),)

    # Only a superuser hands out what goes beyond the portal's roles: the administrator role manages
    # accounts, but may not make itself or anyone else a superuser (or grant Django permissions), nor
    # change or take over a superuser's account (its password, its flags).
    SUPERUSER_ONLY_FIELDS = ("is_superuser", "groups", "user_permissions")

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += tuple(f for f in self.SUPERUSER_ONLY_FIELDS if f not in fields)
        return fields

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        """Save, then record role, organisation, activation and permission changes in the audit trail."""
        before = services.describe_user(User.objects.get(pk=obj.pk)) if change and obj.pk else None
        super().save_model(request, obj, form, change)
        services.user_record_admin_change(actor=request.user, user=obj, before=before)


@admin.register(AuditEvent)
class AuditEventAdmin(RoleAccessMixin, admin.ModelAdmin):
    access_action = "users.manage"

    list_display = ("created_at", "actor", "action", "object_type", "object_id", "summary")
    list_filter = ("action", "object_type")
    search_fields = ("summary", "object_id")
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
