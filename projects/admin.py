"""Admin for the projects app.

Kind rules are data administrators edit here. Đề án and their parts are shown read-only
(``khuyencong.admin.ReadOnlyMixin``, which the administrator role's access never lifts): every write
goes through ``projects.services`` (workflow, history, notifications), never through the admin.
The search boxes of the đề án and establishment lists search as the portal's own lists do
(``FoldedSearchMixin``): "hoa binh" finds «Hòa Bình» and «Hoà Bình», over the folded, indexed columns.
Django's default ``icontains`` missed every spelling but the one typed; the benchmark still measures
that default on an admin site of its own (``bench/bench_de_an.py``).
"""
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from khuyencong.admin import ReadOnlyMixin, RoleAccessMixin

from . import workflow
from .models import Adjustment, Attachment, BudgetLine, DeAn, Establishment, KindRule, Notification, Transition
from .selectors import apply_search


@admin.register(KindRule)
class KindRuleAdmin(RoleAccessMixin, admin.ModelAdmin):
    list_display = ("kind", "min_contents", "max_contents", "min_beneficiaries", "max_beneficiaries", "min_years",
                    "max_years", "basis")

    def has_delete_permission(self, request, obj=None):
        return False


class BudgetLineInline(ReadOnlyMixin, admin.TabularInline):
    model = BudgetLine
    extra = 0
    fields = ("order", "description", "content", "source", "amount", "cost_basis", "establishment")


class TransitionInline(ReadOnlyMixin, admin.TabularInline):
    model = Transition
    extra = 0
    fields = ("at", "action", "from_status", "to_status", "actor", "comment", "decision_number", "decision_date")


class FoldedSearchMixin:
    """The changelist's search as on the portal's lists: every word, and every "quoted phrase", must occur
    in the folded column ``folded_search_column`` (diacritics, case and «Hoà»/«Hòa» ignored; pg_trgm
    serves it on PostgreSQL); ``exact_search_field``, when set, also matches the term as typed (a tax
    code). ``search_fields`` only makes Django show the box."""

    folded_search_column = "search_text"
    folded_search_loose = True
    exact_search_field = None

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        found = apply_search(queryset, term, self.folded_search_column, loose=self.folded_search_loose)
        if self.exact_search_field:
            found = found | queryset.filter(**{self.exact_search_field: term})
        return found, False


@admin.register(DeAn)
class DeAnAdmin(FoldedSearchMixin, RoleAccessMixin, ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ("code", "name", "level", "kind", "plan_year", "province", "status")
    list_filter = ("level", "kind", "status", "plan_year")
    search_fields = ("search_text",)
    search_help_text = _("Tìm theo mã, tên, đơn vị thực hiện, cơ sở thụ hưởng, địa điểm, tỉnh; không cần gõ dấu.")
    list_select_related = ("province",)
    inlines = [BudgetLineInline, TransitionInline]


@admin.register(Establishment)
class EstablishmentAdmin(FoldedSearchMixin, RoleAccessMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "legal_form", "tax_code", "commune", "province")
    search_fields = ("search_name",)
    search_help_text = _("Tìm theo tên (không cần gõ dấu) hoặc mã số thuế.")
    folded_search_column = "search_name"  # fold(name)
    folded_search_loose = False
    exact_search_field = "tax_code"
    list_select_related = ("province",)


for model in (Attachment, Adjustment):
    admin.site.register(model, type(f"{model.__name__}Admin", (RoleAccessMixin, ReadOnlyMixin, admin.ModelAdmin), {}))


class ActionFilter(admin.SimpleListFilter):
    """The workflow action of a notification, by its Vietnamese name."""

    title = _("thao tác")
    parameter_name = "verb"

    def lookups(self, request, model_admin):
        return list(workflow.ACTION_LABELS.items())

    def queryset(self, request, queryset):
        return queryset.filter(verb=self.value()) if self.value() else queryset


@admin.register(Notification)
class NotificationAdmin(RoleAccessMixin, ReadOnlyMixin, admin.ModelAdmin):
    """Read-only, with the e-mail outbox state: filter "không gửi được" to see what the mail server
    refused, and send those again once it is fixed."""

    list_display = ("created_at", "recipient", "action", "de_an", "email_status", "email_attempts", "emailed_at",
                    "email_error")
    list_filter = ("email_status", ActionFilter)
    list_select_related = ("recipient", "de_an")
    search_fields = ("recipient__username", "recipient__email", "de_an__code")
    actions = ["retry_mail"]

    @admin.display(description=_("thao tác"), ordering="verb")
    def action(self, obj):
        return workflow.ACTION_LABELS.get(obj.verb, obj.verb)

    @admin.action(description=_("Gửi lại thư điện tử không gửi được"))
    def retry_mail(self, request, queryset):
        from .notifications import notification_mail_retry

        count = notification_mail_retry(ids=queryset.values_list("pk", flat=True))
        self.message_user(request, _("Đã xếp hàng gửi lại %(n)d thư.") % {"n": count}, messages.SUCCESS)
