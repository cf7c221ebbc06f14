"""Core reference data and users.

Provinces are kept as two maps: the 63 former provinces (valid until 30/06/2025) and the 34 current
ones (valid from 01/07/2025). Each former record links to its current successor, so a record made
before the merger keeps its province and still groups under today's. Organisations carry their names
by date. Programmes, their indicators, the activity-content catalogue and the support caps are data
with validity dates, never constants.
"""
from datetime import date

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from .choices import NATIONWIDE_ROLES, Era, Level, OrganisationKind, ProvinceKind, Role

MERGER_DATE = date(2025, 7, 1)


class ProvinceQuerySet(models.QuerySet):
    def current(self):
        return self.filter(era=Era.CURRENT)

    def former(self):
        return self.filter(era=Era.FORMER)

    def on(self, day):
        """The map in force on ``day``."""
        return self.filter(era=Era.CURRENT if day >= MERGER_DATE else Era.FORMER)


class Province(models.Model):
    code = models.CharField(_("mã"), max_length=2, help_text=_("Mã đơn vị hành chính của Tổng cục Thống kê"))
    name = models.CharField(_("tên"), max_length=100)
    kind = models.CharField(_("loại"), max_length=10, choices=ProvinceKind.choices)
    era = models.CharField(_("thời kỳ"), max_length=10, choices=Era.choices)
    valid_from = models.DateField(_("hiệu lực từ"), null=True, blank=True)
    valid_to = models.DateField(_("hiệu lực đến"), null=True, blank=True)
    successor = models.ForeignKey(
        "self",
        verbose_name=_("tỉnh, thành phố kế thừa"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="predecessors",
        limit_choices_to={"era": Era.CURRENT},
    )
    search_name = models.CharField(_("tên để tìm kiếm"), max_length=100, editable=False, db_index=True)

    objects = ProvinceQuerySet.as_manager()

    class Meta:
        verbose_name = _("tỉnh, thành phố")
        verbose_name_plural = _("tỉnh, thành phố")
        ordering = ["-era", "code"]
        constraints = [
            models.UniqueConstraint(fields=["code", "era"], name="province_code_era_unique"),
            models.CheckConstraint(
                condition=Q(era=Era.CURRENT, successor__isnull=True) | Q(era=Era.FORMER, successor__isnull=False),
                name="province_former_has_successor",
            ),
        ]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self):
        prefix = _("Thành phố") if self.kind == ProvinceKind.CITY else _("Tỉnh")
        return f"{prefix} {self.name}"

    @property
    def era_name(self):
        """The name, with «(cũ)» for a province of the map before 01/07/2025: many merged provinces kept
        one of the old names (Bắc Ninh 27 + Bắc Giang 24 → Bắc Ninh 24), so a đề án «Bắc Ninh (khi đăng
        ký: Bắc Ninh)» said nothing."""
        return self.name if self.era == Era.CURRENT else _("%(name)s (cũ)") % {"name": self.name}

    @property
    def era_full_name(self):
        """``full_name`` with «(cũ)» for a province of the map before 01/07/2025 (see ``era_name``)."""
        return self.full_name if self.era == Era.CURRENT else _("%(name)s (cũ)") % {"name": self.full_name}

    @property
    def is_current(self):
        return self.era == Era.CURRENT

    @property
    def current(self):
        """The province that holds this one's territory today."""
        return self if self.era == Era.CURRENT else self.successor


class Organisation(models.Model):
    code = models.SlugField(_("mã"), max_length=40, unique=True)
    kind = models.CharField(_("loại"), max_length=20, choices=OrganisationKind.choices)
    province = models.ForeignKey(
        Province, verbose_name=_("tỉnh, thành phố"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="organisations",
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("cơ quan chủ quản"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )
    successor = models.ForeignKey(
        "self", verbose_name=_("đơn vị kế thừa"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="predecessors",
    )
    valid_from = models.DateField(_("hiệu lực từ"), null=True, blank=True)
    valid_to = models.DateField(_("hiệu lực đến"), null=True, blank=True)
    name = models.CharField(_("tên hiện dùng"), max_length=255, help_text=_("Tên mới nhất, để hiển thị nhanh"))

    class Meta:
        verbose_name = _("cơ quan, đơn vị")
        verbose_name_plural = _("cơ quan, đơn vị")
        ordering = ["kind", "name"]

    def __str__(self):
        return self.name

    def name_on(self, day):
        """The organisation's name in force on ``day`` (names changed in 2025)."""
        for entry in self.names.all():
            if (entry.valid_from is None or entry.valid_from <= day) and (entry.valid_to is None or day <= entry.valid_to):
                return entry.name
        return self.name

    def is_valid_on(self, day):
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


class OrganisationName(models.Model):
    organisation = models.ForeignKey(Organisation, verbose_name=_("đơn vị"), on_delete=models.CASCADE,
                                     related_name="names")
    name = models.CharField(_("tên"), max_length=255)
    short_name = models.CharField(_("tên viết tắt"), max_length=50, blank=True)
    valid_from = models.DateField(_("từ ngày"), null=True, blank=True)
    valid_to = models.DateField(_("đến ngày"), null=True, blank=True)
    basis = models.CharField(_("căn cứ"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("tên theo thời kỳ")
        verbose_name_plural = _("tên theo thời kỳ")
        ordering = ["organisation", "valid_from"]

    def __str__(self):
        return self.name


class Programme(models.Model):
    code = models.SlugField(_("mã"), max_length=40, unique=True)
    name = models.CharField(_("tên chương trình"), max_length=255)
    decision_number = models.CharField(_("số quyết định"), max_length=50)
    decision_date = models.DateField(_("ngày quyết định"))
    start_year = models.PositiveSmallIntegerField(_("từ năm"))
    end_year = models.PositiveSmallIntegerField(_("đến năm"))

    class Meta:
        verbose_name = _("chương trình khuyến công")
        verbose_name_plural = _("chương trình khuyến công")
        ordering = ["start_year"]
        constraints = [
            models.CheckConstraint(condition=Q(end_year__gte=models.F("start_year")), name="programme_years_ordered"),
        ]

    def __str__(self):
        return f"{self.name} ({self.decision_number})"

    def covers(self, year):
        return self.start_year <= year <= self.end_year


class Indicator(models.Model):
    """A programme target: what is counted, in which unit, and the five-year target (may be empty)."""

    programme = models.ForeignKey(Programme, verbose_name=_("chương trình"), on_delete=models.CASCADE,
                                  related_name="indicators")
    code = models.SlugField(_("mã"), max_length=40)
    name = models.CharField(_("chỉ tiêu"), max_length=255)
    unit = models.CharField(_("đơn vị tính"), max_length=50)
    target = models.PositiveIntegerField(_("mục tiêu 5 năm"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(_("thứ tự"), default=0)

    class Meta:
        verbose_name = _("chỉ tiêu chương trình")
        verbose_name_plural = _("chỉ tiêu chương trình")
        ordering = ["programme", "order"]
        constraints = [models.UniqueConstraint(fields=["programme", "code"], name="indicator_programme_code_unique")]

    def __str__(self):
        return f"{self.name} ({self.unit})"


class ActivityContentQuerySet(models.QuerySet):
    def valid_on(self, day):
        return self.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day)).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=day)
        )


class ActivityContent(models.Model):
    """An activity content (nội dung hoạt động khuyến công), versioned by instrument and date."""

    code = models.CharField(_("mã"), max_length=20)
    name = models.CharField(_("nội dung"), max_length=500)
    parent = models.ForeignKey(
        "self", verbose_name=_("nhóm nội dung"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )
    instrument = models.CharField(_("văn bản"), max_length=50)
    valid_from = models.DateField(_("hiệu lực từ"), null=True, blank=True)
    valid_to = models.DateField(_("hiệu lực đến"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(_("thứ tự"), default=0)

    objects = ActivityContentQuerySet.as_manager()

    class Meta:
        verbose_name = _("nội dung hoạt động khuyến công")
        verbose_name_plural = _("nội dung hoạt động khuyến công")
        ordering = ["order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["code", "instrument"], name="activity_content_code_instrument_unique"),
        ]

    def __str__(self):
        return f"{self.code}. {self.name}"

    @property
    def is_area(self):
        return self.parent_id is None


class SupportCapQuerySet(models.QuerySet):
    def valid_on(self, day):
        return self.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day)).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=day)
        )


class SupportCap(models.Model):
    """A support ceiling: at most ``max_percent`` of the cost and at most ``max_amount`` đồng per unit,
    whichever is lower. National caps come from TT 28/2018/TT-BTC; local ones from HĐND resolutions."""

    code = models.SlugField(_("mã"), max_length=60)
    description = models.CharField(_("mô tả"), max_length=255)
    activity_content = models.ForeignKey(
        ActivityContent, verbose_name=_("nội dung"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="support_caps",
    )
    level = models.CharField(_("cấp"), max_length=10, choices=Level.choices, default=Level.NATIONAL)
    province = models.ForeignKey(
        Province, verbose_name=_("tỉnh (mức hỗ trợ địa phương)"), null=True, blank=True, on_delete=models.PROTECT
    )
    max_percent = models.DecimalField(_("tối đa (% chi phí)"), max_digits=5, decimal_places=2, null=True, blank=True)
    max_amount = models.BigIntegerField(_("tối đa (đồng)"), null=True, blank=True)
    per_unit = models.CharField(_("tính cho mỗi"), max_length=50, blank=True)
    instrument = models.CharField(_("văn bản"), max_length=80)
    valid_from = models.DateField(_("hiệu lực từ"), null=True, blank=True)
    valid_to = models.DateField(_("hiệu lực đến"), null=True, blank=True)

    objects = SupportCapQuerySet.as_manager()

    class Meta:
        verbose_name = _("mức hỗ trợ tối đa")
        verbose_name_plural = _("mức hỗ trợ tối đa")
        ordering = ["code", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["code", "instrument"], name="support_cap_code_instrument_unique"),
            models.CheckConstraint(
                condition=Q(max_amount__isnull=True) | Q(max_amount__gte=0), name="support_cap_amount_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(max_percent__isnull=True) | (Q(max_percent__gte=0) & Q(max_percent__lte=100)),
                name="support_cap_percent_range",
            ),
        ]

    def __str__(self):
        return self.description

    def limit_for(self, cost):
        """The most that may be supported for a line costing ``cost`` đồng: whichever is lower."""
        limits = []
        if self.max_amount is not None:
            limits.append(self.max_amount)
        if self.max_percent is not None and cost is not None:
            limits.append(int(cost * self.max_percent // 100))
        if cost is not None:
            limits.append(int(cost))  # support never exceeds the cost itself
        return min(limits) if limits else None


class PortalUserManager(UserManager):
    """``create_user`` keeps the defaults (role: implementing centre, which needs an organisation);
    ``create_superuser`` (``manage.py createsuperuser``) makes a system administrator, a ministry role
    that needs no organisation, unless a role is given."""

    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    # A Vietnamese name is written family name, middle name(s), given name: «Lê Minh Châu». Django's
    # first/last name are kept in that order, so get_full_name() reads right; their labels say which
    # part goes where (Django's own Vietnamese labels, «Tên» for first_name and «Họ» for last_name,
    # had «Lê Minh» shown as the given name and «Châu» as the family name).
    first_name = models.CharField(_("họ và tên đệm"), max_length=150, blank=True, help_text=_("Ví dụ: Lê Minh"))
    last_name = models.CharField(_("tên"), max_length=150, blank=True, help_text=_("Ví dụ: Châu"))
    role = models.CharField(_("vai trò"), max_length=20, choices=Role.choices, default=Role.CENTRE)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("cơ quan, đơn vị"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="users",
    )
    job_title = models.CharField(_("chức vụ"), max_length=100, blank=True)
    phone = models.CharField(_("điện thoại"), max_length=30, blank=True)
    notify_by_email = models.BooleanField(
        _("nhận thông báo qua thư điện tử"), default=True,
        help_text=_("Thông báo về đề án luôn có trên Cổng; khi chọn, mỗi thông báo còn được gửi tới thư điện tử."),
    )

    objects = PortalUserManager()

    class Meta:
        verbose_name = _("người dùng")
        verbose_name_plural = _("người dùng")
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=[Role.REVIEWER, Role.ADMIN]) | Q(organisation__isnull=False),
                name="user_local_role_needs_organisation",
                violation_error_message=_(
                    "Cán bộ Trung tâm khuyến công và Sở Công Thương phải thuộc một cơ quan, đơn vị."
                ),
            ),
        ]

    def __str__(self):
        return self.get_full_name() or self.username

    def get_short_name(self):
        """What the admin's greeting calls the user: the whole name («Lê Minh Châu»), as Vietnamese
        forms of address use it, not the family and middle names alone."""
        return self.get_full_name() or self.username

    @property
    def is_nationwide(self):
        return self.role in NATIONWIDE_ROLES

    @cached_property
    def province(self):
        """The current province this account works for; None for ministry accounts."""
        if self.is_nationwide or self.organisation is None or self.organisation.province is None:
            return None
        return self.organisation.province.current


class AuditEvent(models.Model):
    """Who did what to which record, for changes that have no history table of their own
    (users, reference data, imports). Written by services, never by signals."""

    created_at = models.DateTimeField(_("thời điểm"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(User, verbose_name=_("người thực hiện"), null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(_("hành động"), max_length=60)
    object_type = models.CharField(_("loại đối tượng"), max_length=60)
    object_id = models.CharField(_("mã đối tượng"), max_length=60, blank=True)
    summary = models.CharField(_("tóm tắt"), max_length=500)
    data = models.JSONField(_("chi tiết"), default=dict, blank=True)

    class Meta:
        verbose_name = _("nhật ký thao tác")
        verbose_name_plural = _("nhật ký thao tác")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return self.summary


class FormSubmission(models.Model):
    """A create form that has been acted on, by its one-time key (khuyencong.submissions): the same form
    sent again (a double click, «Gửi lại» after a slow answer, the back button) leads to what the first
    send made instead of making it twice. Swept after SUBMISSION_KEEP_DAYS."""

    key = models.UUIDField(_("mã biểu mẫu"), unique=True)
    user = models.ForeignKey(User, verbose_name=_("người gửi"), on_delete=models.CASCADE, related_name="+")
    url = models.CharField(_("địa chỉ trang kết quả"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("thời điểm gửi"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("biểu mẫu đã gửi")
        verbose_name_plural = _("biểu mẫu đã gửi")

    def __str__(self):
        return str(self.key)
