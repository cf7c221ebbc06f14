import secrets

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import BaseModelAdmin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import account_import, audit, services, submissions
from .access import can
from .formatting import format_datetime
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


# Lookups a changelist's address may not use: a regular expression typed into a URL is sent to
# PostgreSQL as it is — a malformed one («amount__regex=(») was a server error, a costly one ties up the
# database. Django allows any lookup on a model's own fields by default.
REFUSED_LOOKUPS = frozenset({"regex", "iregex"})


class SafeLookupsMixin:
    """Refuses ``REFUSED_LOOKUPS`` in the admin's list filters from the address (a 400 page, as for any
    lookup Django refuses), for every admin class of the portal (through ``RoleAccessMixin`` and
    ``ReadOnlyMixin``)."""

    def lookup_allowed(self, lookup, value, request=None):
        if lookup.rsplit("__", 1)[-1] in REFUSED_LOOKUPS:
            return False
        return super().lookup_allowed(lookup, value, request)


class RoleAccessMixin(SafeLookupsMixin):
    """Admin pages open to the portal's administrator role (access.can), not only to Django
    superusers with model permissions. Other apps may reuse it with their own ``access_action``.

    The role only *adds* what Django's model permissions would not give; it never lifts a restriction.
    A permission an admin class refuses to everyone (``refused_permissions``, which ``ReadOnlyMixin``
    sets) stays refused — for the role and for superusers — whatever the order of the base classes."""

    access_action = "reference.manage"

    def _role_allows(self, request, permission="view"):
        if permission in getattr(self, "refused_permissions", ()):
            return False
        return request.user.is_active and request.user.is_staff and bool(can(request.user, self.access_action))

    def has_module_permission(self, request):
        return self._role_allows(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._role_allows(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        return self._role_allows(request, "add") or super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self._role_allows(request, "change") or super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._role_allows(request, "delete") or super().has_delete_permission(request, obj)


class ReadOnlyMixin(SafeLookupsMixin):
    """A model written only through services (workflow, evidence rules, audit): shown, never added,
    changed or deleted in the admin, by anyone — superusers and the administrator role included.

    It must come before the ``ModelAdmin`` class among the bases (checked when the class is made);
    before or after ``RoleAccessMixin`` makes no difference (``refused_permissions``). A history admin
    (django-simple-history) cannot revert a row either: its revert form would save the row."""

    refused_permissions = frozenset({"add", "change", "delete"})

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        mro = cls.__mro__
        if BaseModelAdmin in mro and mro.index(BaseModelAdmin) < mro.index(ReadOnlyMixin):
            raise TypeError(f"{cls.__name__}: ReadOnlyMixin must come before the ModelAdmin class among its bases")

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_history_permission(self, request, obj=None):
        return False

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


@admin.register(Province)
class ProvinceAdmin(RoleAccessMixin, ReadOnlyMixin, admin.ModelAdmin):
    """The two province maps are law (Nghị quyết 202/2025/QH15), kept by ``load_reference``: shown, not
    edited here — an edit would be undone at the next start and would break the matching of imports."""
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


class AssignmentCheckMixin:
    """The role and organisation an account gets in the admin obey the services' rule
    (``services.validate_assignment``: a local role needs a current organisation of a province), checked
    when they are set or changed, with the same Vietnamese message instead of a database error."""

    def clean(self):
        cleaned = super().clean()
        changing = self.instance.pk is None or {"role", "organisation"} & set(self.changed_data)
        if changing and "role" in self.fields and not self.has_error("role") and not self.has_error("organisation"):
            role = cleaned.get("role")
            organisation = cleaned.get("organisation") if "organisation" in self.fields else self.instance.organisation
            if role:
                try:
                    services.validate_assignment(role, organisation)
                except ValidationError as error:
                    self.add_error("organisation" if "organisation" in self.fields else None, error)
        return cleaned


class PortalUserChangeForm(AssignmentCheckMixin, UserChangeForm):
    pass


class AssignmentMismatchFilter(admin.SimpleListFilter):
    """Accounts whose local role and organisation disagree (``services.ROLE_ORGANISATION_KINDS``): made
    before the rule, or since by the database directly; the admin's form refuses them when next saved."""

    title = _("vai trò và đơn vị")
    parameter_name = "khop"

    def lookups(self, request, model_admin):
        return [("khong", _("Không khớp nhau"))]

    def queryset(self, request, queryset):
        if self.value() != "khong":
            return queryset
        wrong = Q(pk__in=[])
        for role, kinds in services.ROLE_ORGANISATION_KINDS.items():
            wrong |= Q(role=role) & (Q(organisation__isnull=True) | ~Q(organisation__kind__in=kinds))
        return queryset.filter(wrong)


INVITE = "invite"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class AccountImportForm(forms.Form):
    file = forms.FileField(label=_("Tệp Excel (.xlsx)"),
                           help_text=_("Theo tệp mẫu: mỗi dòng một tài khoản; dòng tiêu đề có «Tên đăng nhập»."))


class PortalUserCreationForm(AssignmentCheckMixin, AdminUserCreationForm):
    """«Thêm người dùng»: by default the new account's holder is mailed an invitation to set their own
    password (``services.user_invite``) — the administrator never knows it and passes nothing on; until
    then the account has a random password nobody knows. Setting one now, or turning password sign-in
    off, are still there."""

    usable_password = forms.ChoiceField(
        label=_("Mật khẩu"), required=False, initial=INVITE, widget=forms.RadioSelect,
        choices=[
            (INVITE, _("Gửi thư mời để người dùng tự đặt mật khẩu (cần địa chỉ thư điện tử)")),
            ("true", _("Đặt mật khẩu ngay (quản trị báo mật khẩu cho người dùng)")),
            ("false", _("Tắt đăng nhập bằng mật khẩu")),
        ],
        help_text=_("Thư mời dùng được một lần, trong %(days)s ngày; hết hạn thì gửi lại bằng thao tác «Gửi thư "
                    "mời đặt mật khẩu» ở danh sách người dùng."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["usable_password"]
        field.help_text = field.help_text % {"days": settings.ACCOUNT_INVITATION_DAYS}
        self.send_invitation = False

    def validate_passwords(self, *args, **kwargs):
        if self.cleaned_data.get("usable_password") != INVITE:
            return super().validate_passwords(*args, **kwargs)
        self.cleaned_data.pop("usable_password")
        self.cleaned_data["set_usable_password"] = True
        self.send_invitation = True
        if not self.cleaned_data.get("email") and not self.has_error("email"):
            self.add_error("email", _("Cần địa chỉ thư điện tử để gửi thư mời đặt mật khẩu."))

    def validate_password_for_user(self, user, **kwargs):
        if not self.send_invitation:
            super().validate_password_for_user(user, **kwargs)

    def set_password_and_save(self, user, commit=True, **kwargs):
        if not self.send_invitation:
            return super().set_password_and_save(user, commit=commit, **kwargs)
        user.set_password(secrets.token_urlsafe(32))  # nobody knows it; the invitation replaces it
        if commit:
            user.save()
        return user


@admin.register(User)
class PortalUserAdmin(RoleAccessMixin, UserAdmin):
    access_action = "users.manage"

    form = PortalUserChangeForm
    add_form = PortalUserCreationForm
    list_display = ("username", "full_name", "role", "organisation", "is_active")
    list_filter = ("role", "is_active", AssignmentMismatchFilter)
    list_select_related = ("organisation",)
    raw_id_fields = ("organisation",)
    fieldsets = UserAdmin.fieldsets + (
        (_("Vai trò và đơn vị"), {"fields": ("role", "organisation", "job_title", "phone", "notify_by_email")}),
        (_("Thư mời đặt mật khẩu"), {"fields": ("invitation_status",)}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "first_name", "last_name", "email")}),
        (_("Mật khẩu"), {"classes": ("wide",), "fields": ("usable_password", "password1", "password2")}),
        (_("Vai trò và đơn vị"), {"fields": ("role", "organisation")}),
    )
    actions = ["unlock_login", "send_invitation"]
    search_help_text = _("Tìm theo họ tên, tên đăng nhập, thư điện tử, đơn vị hoặc tỉnh; không cần gõ dấu.")

    def get_search_results(self, request, queryset, search_term):
        """As «Cán bộ, tài khoản» searches (``selectors.accounts_matching``): «nguyen van an» finds
        «Nguyễn Văn An» — Django's ``icontains`` found only the spelling typed."""
        from .selectors import accounts_matching

        return accounts_matching(queryset, search_term), False

    @admin.display(description=_("Tình trạng"))
    def invitation_status(self, obj):
        """Whether the holder has signed in, else the last invitation mailed and whether it may be sent."""
        if obj is None or obj.pk is None:
            return "—"
        events = {e.action: e for e in AuditEvent.objects.filter(
            action__in=("user.invitation_sent", "user.invitation_accepted"), object_type="user",
            object_id=str(obj.pk)).order_by("created_at", "pk")}  # the latest of each
        sent, accepted = events.get("user.invitation_sent"), events.get("user.invitation_accepted")
        if obj.last_login is not None:
            return _("Đã đăng nhập (lần cuối %(t)s).") % {"t": format_datetime(obj.last_login)}
        if accepted is not None and (sent is None or accepted.created_at >= sent.created_at):
            return _("Đã đặt mật khẩu bằng thư mời lúc %(t)s; chưa đăng nhập lần nào.") % {
                "t": format_datetime(accepted.created_at)}
        if sent is not None:
            state = _("Chưa đăng nhập lần nào. Thư mời gần nhất gửi lúc %(t)s tới %(e)s.") % {
                "t": format_datetime(sent.created_at), "e": sent.data.get("email", "")}
        else:
            state = _("Chưa đăng nhập lần nào; chưa gửi thư mời.")
        reason = services.invitation_refusal(obj)
        if reason:
            return _("%(state)s Chưa gửi được thư mời: %(reason)s.") % {"state": state, "reason": reason}
        return _("%(state)s Gửi (lại) bằng nút «Gửi thư mời đặt mật khẩu» ở đầu trang.") % {"state": state}

    @admin.display(description=_("Họ và tên"), ordering="last_name")
    def full_name(self, obj):
        """One column, «Lê Minh Châu»; sorted by the given name, as Vietnamese lists of people are."""
        return obj.get_full_name()

    # Only a superuser hands out what goes beyond the portal's roles: the administrator role manages
    # accounts, but may not make itself or anyone else a superuser (or grant Django permissions), nor
    # change or take over a superuser's account (its password, its flags).
    SUPERUSER_ONLY_FIELDS = ("is_superuser", "groups", "user_permissions")

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj)) + ("invitation_status",)
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

    def has_manage_accounts_permission(self, request):
        return bool(can(request.user, "users.manage"))

    # Every change to an account is in the audit trail (AuditEvent), written through services: role,
    # organisation, flags, groups and permissions (recorded once the many-to-many fields are saved too),
    # a password set here, a deletion (single or «delete selected»), an unlock.

    def save_model(self, request, obj, form, change):
        obj._audit_before = (
            services.describe_user(User.objects.get(pk=obj.pk), access=True) if change and obj.pk else None
        )
        super().save_model(request, obj, form, change)
        invitees = getattr(request, "_portal_invitees", None)
        if not change and getattr(form, "send_invitation", False) and invitees is not None:
            invitees.append(obj)  # sent by add_view once the account is committed

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.user_record_admin_change(
            actor=request.user, user=form.instance, before=getattr(form.instance, "_audit_before", None)
        )

    def user_change_password(self, request, id, form_url=""):
        with transaction.atomic():
            accounts = User.objects.filter(pk=unquote(id))
            before = accounts.values_list("password", flat=True).first()
            response = super().user_change_password(request, id, form_url)
            # Saved or not (a refused form, «conflicting form data»): the stored hash says. Never logged.
            user = accounts.first() if request.method == "POST" else None
            if user is not None and user.password != before:
                services.user_record_password_set(actor=request.user, user=user)
        return response

    def get_deleted_objects(self, objs, request):
        """An account that has ever signed in is never deleted (page and «delete selected» alike): the
        đề án histories, comments and audit trail would lose who acted (their links to it are SET_NULL).
        Django's page then lists it as protected and deletes nothing; deactivating it («Kích hoạt» off)
        is what stops it. An account made by mistake and never used can still go."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        used = [u for u in objs if u.last_login is not None]
        if used:
            # The reason that matters, instead of Django's «no permission to delete the notifications».
            perms_needed = set()
        protected = list(protected) + [
            _("Tài khoản %(u)s đã từng đăng nhập: xóa sẽ làm mất tên người thực hiện trong lịch sử xử lý và nhật "
              "ký thao tác. Hãy bỏ chọn «Kích hoạt» để vô hiệu hóa tài khoản thay vì xóa.") % {"u": u.username}
            for u in used]
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        with transaction.atomic():
            services.user_record_deletion(actor=request.user, users=[obj])
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            services.user_record_deletion(actor=request.user, users=list(queryset))
            super().delete_queryset(request, queryset)

    def add_view(self, request, form_url="", extra_context=None):
        request._portal_invitees = []
        response = super().add_view(request, form_url, extra_context)  # committed on return
        if request._portal_invitees:
            self._invite(request, request._portal_invitees)
        return response

    # «Nhập từ Excel»: many accounts at once (khuyencong.account_import), then their invitations.
    change_list_template = "admin/khuyencong/user/change_list.html"

    change_form_template = "admin/khuyencong/user/change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        user = self.get_object(request, unquote(object_id))
        can_invite = bool(user is not None and self.has_manage_accounts_permission(request)
                          and services.invitation_refusal(user, actor=request.user) is None)
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "can_invite": can_invite})

    def invite_view(self, request, object_id):
        """«Gửi thư mời đặt mật khẩu» from the account's own page (POST only); back to that page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        user = self.get_object(request, unquote(object_id))
        if user is None or not self.has_manage_accounts_permission(request) \
                or not self.has_change_permission(request, user):
            raise PermissionDenied
        self._invite(request, [user])
        return HttpResponseRedirect(reverse("admin:khuyencong_user_change", args=[user.pk]))

    def get_urls(self):
        return [
            path("<path:object_id>/gui-thu-moi/", self.admin_site.admin_view(self.invite_view),
                 name="khuyencong_user_invite"),
            path("nhap-excel/", self.admin_site.admin_view(self.import_view), name="khuyencong_user_import"),
            path("nhap-excel/mau-tai-khoan.xlsx", self.admin_site.admin_view(self.import_template_view),
                 name="khuyencong_user_import_template"),
        ] + super().get_urls()

    def _check_import(self, request):
        if not (self.has_manage_accounts_permission(request) and self.has_add_permission(request)):
            raise PermissionDenied

    def import_template_view(self, request):
        self._check_import(request)
        response = HttpResponse(account_import.template_workbook(), content_type=XLSX)
        response["Content-Disposition"] = 'attachment; filename="mau-tai-khoan.xlsx"'
        return response

    def import_view(self, request):
        """Upload → preview (every row: «Sẽ tạo» or its errors) → confirm: all accounts or none, then
        their invitations. A confirmation sent twice creates nothing more."""
        self._check_import(request)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                   "title": _("Nhập tài khoản từ Excel"), "max_rows": account_import.MAX_ROWS,
                   "days": settings.ACCOUNT_INVITATION_DAYS}
        form = AccountImportForm()
        if request.method == "POST" and "confirm" in request.POST:
            try:
                name, rows = account_import.unsign_rows(request.POST.get("rows"))
                with transaction.atomic():
                    claim = submissions.claim(request)
                    created = services.users_import(actor=request.user, rows=rows, source_name=name)
                    claim.done(reverse("admin:khuyencong_user_changelist"))
            except submissions.AlreadySubmitted as again:
                self.message_user(request, submissions.ALREADY_SUBMITTED_MESSAGE, messages.INFO)
                return HttpResponseRedirect(again.url or reverse("admin:khuyencong_user_changelist"))
            except account_import.AccountImportError as exc:
                context["error"] = str(exc)
            except services.AccountImportRefused as refused:
                return self._preview(request, context, refused.rows, name, refused=True)
            except IntegrityError:  # a user name taken by someone else at the same moment
                context["error"] = _("Một tên đăng nhập trong tệp vừa được tạo ở nơi khác; chưa tài khoản nào được tạo. "
                                     "Hãy tải tệp lên lại.")
            else:
                self.message_user(request, _("Đã tạo %(n)d tài khoản từ tệp «%(f)s».") % {"n": len(created), "f": name},
                                  messages.SUCCESS)
                self._invite(request, created)
                return HttpResponseRedirect(reverse("admin:khuyencong_user_changelist"))
        elif request.method == "POST":
            form = AccountImportForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                try:
                    rows = account_import.read_accounts(upload.file, size=upload.size)
                except account_import.AccountImportError as exc:
                    form.add_error("file", str(exc))
                else:
                    return self._preview(request, context, rows, upload.name)
        return TemplateResponse(request, "admin/khuyencong/user/import.html", {**context, "form": form})

    def _preview(self, request, context, rows, name, refused=False):
        bad = [row for row in rows if row.errors]
        return TemplateResponse(request, "admin/khuyencong/user/import_preview.html", {
            **context, "rows": rows, "bad": bad, "file_name": name, "refused": refused,
            "token": "" if bad else account_import.sign_rows(rows, name=name),
        })

    @admin.action(description=_("Gửi thư mời đặt mật khẩu"), permissions=["manage_accounts"])
    def send_invitation(self, request, queryset):
        """Mail the selected accounts that nobody has used yet a link to set their own password."""
        self._invite(request, list(queryset.order_by("username")))

    def _invite(self, request, users):
        result = services.user_invite(actor=request.user, users=users, domain=request.get_host(),
                                      use_https=request.is_secure())
        if result.broker_down:
            self.message_user(request, _("Chưa gửi được thư mời vì hệ thống gửi thư đang tạm ngừng; chưa có thư "
                                         "nào được gửi. Hãy thử lại sau ít phút bằng thao tác «Gửi thư mời đặt "
                                         "mật khẩu» ở danh sách người dùng."), messages.ERROR)
        elif result.queued:
            self.message_user(request, _("Đã gửi thư mời đặt mật khẩu cho %(n)d tài khoản: %(who)s. Liên kết dùng "
                                         "được một lần, trong %(days)d ngày.") % {
                "n": len(result.queued), "days": settings.ACCOUNT_INVITATION_DAYS,
                "who": ", ".join(f"{u.username} ({u.email})" for u in result.queued)}, messages.SUCCESS)
        for user, reason in result.refused:
            self.message_user(request, _("Không gửi thư mời cho %(u)s: %(reason)s.") % {
                "u": user.username, "reason": reason}, messages.WARNING)

    @admin.action(description=_("Mở khóa đăng nhập"), permissions=["manage_accounts"])
    def unlock_login(self, request, queryset):
        """Lift the lockout after too many wrong passwords (django-axes) before its cool-off ends."""
        removed = services.user_unlock_login(actor=request.user, users=list(queryset))
        self.message_user(
            request, _("Đã mở khóa đăng nhập cho %(n)d tài khoản.") % {"n": len(removed)}, messages.SUCCESS
        )


class _AuditCodeFilter(admin.SimpleListFilter):
    """A filter over one of the audit trail's codes, each shown by its Vietnamese label (``audit``)."""

    field = ""

    def label_of(self, code):
        raise NotImplementedError

    def lookups(self, request, model_admin):
        codes = AuditEvent.objects.order_by().values_list(self.field, flat=True).distinct()
        return sorted(((code, self.label_of(code)) for code in codes), key=lambda pair: str(pair[1]))

    def queryset(self, request, queryset):
        return queryset.filter(**{self.field: self.value()}) if self.value() else queryset


class AuditActionFilter(_AuditCodeFilter):
    title = _("thao tác")
    parameter_name = field = "action"

    def label_of(self, code):
        return audit.action_label(code)


class AuditObjectTypeFilter(_AuditCodeFilter):
    title = _("loại đối tượng")
    parameter_name = field = "object_type"

    def label_of(self, code):
        return audit.object_type_label(code)


@admin.register(AuditEvent)
class AuditEventAdmin(RoleAccessMixin, admin.ModelAdmin):
    """«Nhật ký thao tác»: who did what, when; the codes shown by their Vietnamese labels, each event
    linked to its record's page, by day (date_hierarchy), filtered by action or kind of record, searched
    by summary, record id or who did it."""

    access_action = "users.manage"

    list_display = ("created_at", "actor", "action_display", "summary", "object_display")
    list_display_links = ("created_at",)
    list_filter = (AuditActionFilter, AuditObjectTypeFilter)
    list_select_related = ("actor",)
    date_hierarchy = "created_at"
    search_fields = ("summary", "object_id", "actor__username", "actor__first_name", "actor__last_name")
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    list_per_page = 50

    @admin.display(description=_("thao tác"), ordering="action")
    def action_display(self, obj):
        return audit.action_label(obj.action)

    @admin.display(description=_("đối tượng"))
    def object_display(self, obj):
        label = audit.object_type_label(obj.object_type)
        text = f"{label} {obj.object_id}".strip()
        url = audit.object_url(obj)
        return format_html('<a href="{}">{}</a>', url, text) if url else text

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
