"""Đề án (khuyến công projects): the dossier, its beneficiaries, budget lines, attachments, the log of
transitions and the notifications they send.

Writes go through ``projects.services``; reads through ``projects.selectors``. Nothing here has
business logic in ``save()``: the denormalised columns (``search_text``, amounts by source,
``current_province``) are filled by the services.

Money is integer đồng (``BigIntegerField`` with a CHECK >= 0). States, kinds and legal forms are
stable English codes, translated only at display.
"""
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from khuyencong.choices import FundingSource, Level

# --- closed lists -----------------------------------------------------------------------------

class Kind(models.TextChoices):
    PILOT = "diem", _("Đề án điểm")
    GROUP = "nhom", _("Đề án nhóm")
    ORDINARY = "thuong", _("Đề án thường")


class Status(models.TextChoices):
    DRAFT = "draft", _("Đang soạn")
    SUBMITTED = "submitted", _("Đã gửi Sở Công Thương")
    FORWARDED = "forwarded", _("Đã gửi Cục")
    UNDER_APPRAISAL = "under_appraisal", _("Đang thẩm định")
    RETURNED = "returned", _("Trả lại để hoàn thiện")
    APPROVED = "approved", _("Đã phê duyệt")
    REJECTED = "rejected", _("Không phê duyệt")
    IN_IMPLEMENTATION = "in_implementation", _("Đang thực hiện")
    ADJUSTMENT_REQUESTED = "adjustment_requested", _("Đề nghị điều chỉnh")
    ACCEPTED = "accepted", _("Đã nghiệm thu")
    SETTLED = "settled", _("Đã quyết toán")
    CANCELLED = "cancelled", _("Đã hủy")


class LegalForm(models.TextChoices):
    """Beneficiaries under Decree 45/2012 as amended by Decree 235/2025 (DOMAIN.md §2)."""

    SME = "sme", _("Doanh nghiệp nhỏ và vừa")
    COOPERATIVE_GROUP = "cooperative_group", _("Tổ hợp tác")
    COOPERATIVE = "cooperative", _("Hợp tác xã")
    COOPERATIVE_UNION = "cooperative_union", _("Liên hiệp hợp tác xã")
    HOUSEHOLD_BUSINESS = "household_business", _("Hộ kinh doanh")
    CRAFT_VILLAGE = "craft_village", _("Làng nghề")
    ARTISAN = "artisan", _("Nghệ nhân")


class AttachmentKind(models.TextChoices):
    REQUEST_LETTER = "request_letter", _("Văn bản đề nghị")
    REGISTRATION = "registration", _("Giấy chứng nhận đăng ký kinh doanh")
    COUNTERPART_COMMITMENT = "counterpart_commitment", _("Cam kết vốn đối ứng")
    QUOTATION = "quotation", _("Báo giá")
    PHOTO = "photo", _("Hình ảnh")
    DECISION = "decision", _("Quyết định")
    ACCEPTANCE_MINUTES = "acceptance_minutes", _("Biên bản nghiệm thu")
    SETTLEMENT = "settlement", _("Hồ sơ quyết toán")
    OTHER = "other", _("Tài liệu khác")


class AdjustmentKind(models.TextChoices):
    MINOR = "minor", _("Điều chỉnh nhỏ (Cục phê duyệt)")
    MAJOR = "major", _("Điều chỉnh lớn (Bộ trưởng quyết định)")


class AdjustmentStatus(models.TextChoices):
    PENDING = "pending", _("Chờ xử lý")
    APPROVED = "approved", _("Đã chấp thuận")
    REJECTED = "rejected", _("Không chấp thuận")


# --- tax codes --------------------------------------------------------------------------------

TAX_CODE_RE = re.compile(r"^(\d{10}|\d{10}-\d{3}|\d{12})$")


def validate_tax_code(value):
    """10 digits (organisation), 10-3 (branch: ``0123456789-001``) or 12 digits (the owner's personal
    identification number, used by household businesses and individuals since 01/07/2025)."""
    if value in (None, ""):
        return
    if not TAX_CODE_RE.match(value):
        raise ValidationError(
            _(
                "Mã số thuế «%(v)s» không hợp lệ: dùng 10 chữ số (tổ chức), 10 chữ số kèm 3 chữ số chi nhánh "
                "(0123456789-001) hoặc 12 chữ số định danh cá nhân (hộ kinh doanh)."
            ),
            code="tax_code",
            params={"v": value},
        )


def non_negative(name):
    return models.CheckConstraint(condition=Q(**{f"{name}__gte": 0}), name=f"%(class)s_{name}_non_negative")


def non_negative_or_null(name):
    return models.CheckConstraint(
        condition=Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__gte": 0}), name=f"%(class)s_{name}_non_negative"
    )


# --- beneficiaries ----------------------------------------------------------------------------

class Establishment(models.Model):
    """A beneficiary (cơ sở công nghiệp nông thôn), kept once and reused by many đề án."""

    name = models.CharField(_("tên cơ sở"), max_length=255)
    legal_form = models.CharField(_("loại hình"), max_length=30, choices=LegalForm.choices)
    tax_code = models.CharField(
        _("mã số thuế"), max_length=14, null=True, blank=True, validators=[validate_tax_code],
        help_text=_("10 số, 10-3 số (chi nhánh) hoặc 12 số định danh cá nhân (hộ kinh doanh)"),
    )
    address = models.CharField(_("địa chỉ"), max_length=255, blank=True)
    commune = models.CharField(_("xã, phường, đặc khu"), max_length=100, blank=True)
    province = models.ForeignKey(
        "khuyencong.Province", verbose_name=_("tỉnh, thành phố"), on_delete=models.PROTECT,
        related_name="establishments",
    )
    trade = models.CharField(_("ngành nghề"), max_length=255, blank=True)
    workers = models.PositiveIntegerField(_("số lao động"), null=True, blank=True)
    women_owned = models.BooleanField(_("do phụ nữ làm chủ"), default=False)
    ethnic_minority = models.BooleanField(_("do người dân tộc thiểu số làm chủ"), default=False)
    craft_village = models.BooleanField(_("thuộc làng nghề"), default=False)
    search_name = models.CharField(_("tên không dấu (để tìm kiếm)"), max_length=255, editable=False, db_index=True, default="")
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)

    class Meta:
        verbose_name = _("cơ sở thụ hưởng")
        verbose_name_plural = _("cơ sở thụ hưởng")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tax_code"], condition=Q(tax_code__isnull=False) & ~Q(tax_code=""),
                name="establishment_tax_code_unique",
            ),
        ]

    def __str__(self):
        return self.name


# --- đề án ------------------------------------------------------------------------------------

class CodeSequence(models.Model):
    """The last sequence number handed out per code prefix (``KCQG-2026-24``); incremented by a
    locked UPDATE so two simultaneous creations never get the same code."""

    prefix = models.CharField(_("tiền tố mã"), max_length=30, unique=True)
    last = models.PositiveIntegerField(_("số thứ tự đã cấp gần nhất"), default=0)

    class Meta:
        verbose_name = _("dãy số mã đề án")
        verbose_name_plural = _("dãy số mã đề án")

    def __str__(self):
        return f"{self.prefix}: {self.last}"


class DeAn(models.Model):
    code = models.CharField(_("mã đề án"), max_length=30, unique=True)
    name = models.CharField(_("tên đề án"), max_length=500)
    level = models.CharField(_("cấp"), max_length=10, choices=Level.choices)
    kind = models.CharField(_("loại đề án"), max_length=10, choices=Kind.choices, default=Kind.ORDINARY)
    programme = models.ForeignKey(
        "khuyencong.Programme", verbose_name=_("chương trình"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="de_an",
    )
    plan_year = models.PositiveSmallIntegerField(_("năm kế hoạch"))
    # No single-column index on the two provinces and the status: the composite indexes below lead
    # with them (de_an_prov_year, de_an_cur_prov_year_id, de_an_status_prov) and serve the same lookups.
    province = models.ForeignKey(
        "khuyencong.Province", verbose_name=_("tỉnh, thành phố (khi đăng ký)"), on_delete=models.PROTECT,
        related_name="de_an_recorded", db_index=False,
    )
    current_province = models.ForeignKey(
        "khuyencong.Province", verbose_name=_("tỉnh, thành phố (hiện nay)"), on_delete=models.PROTECT,
        related_name="de_an_current", db_index=False,
    )
    implementing_unit = models.ForeignKey(
        "khuyencong.Organisation", verbose_name=_("đơn vị thực hiện"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="de_an_implemented",
    )
    implementing_unit_name = models.CharField(
        _("tên đơn vị thực hiện"), max_length=255, blank=True,
        help_text=_("Tên như ghi trong hồ sơ (dùng khi đơn vị chưa có trong danh mục)"),
    )
    partner_unit = models.CharField(_("đơn vị phối hợp"), max_length=255, blank=True)
    contents = models.ManyToManyField(
        "khuyencong.ActivityContent", verbose_name=_("nội dung hoạt động"), blank=True, related_name="de_an",
    )
    start_date = models.DateField(_("bắt đầu"), null=True, blank=True)
    end_date = models.DateField(_("kết thúc"), null=True, blank=True)
    location = models.CharField(_("địa điểm thực hiện"), max_length=255, blank=True)
    rationale = models.TextField(_("sự cần thiết"), blank=True)
    objectives = models.TextField(_("mục tiêu"), blank=True)
    scale = models.TextField(_("quy mô"), blank=True)
    expected_output = models.TextField(_("kết quả dự kiến (sản phẩm)"), blank=True)
    expected_revenue = models.BigIntegerField(_("doanh thu dự kiến (đồng/năm)"), null=True, blank=True)
    expected_jobs = models.PositiveIntegerField(_("việc làm dự kiến"), null=True, blank=True)

    # Budget totals by source, recomputed by the services from the budget lines.
    total_amount = models.BigIntegerField(_("tổng kinh phí"), default=0)
    national_amount = models.BigIntegerField(_("kinh phí khuyến công quốc gia"), default=0)
    local_amount = models.BigIntegerField(_("kinh phí khuyến công địa phương"), default=0)
    counterpart_amount = models.BigIntegerField(_("vốn đối ứng"), default=0)
    other_amount = models.BigIntegerField(_("nguồn khác"), default=0)

    status = models.CharField(_("trạng thái"), max_length=30, choices=Status.choices, default=Status.DRAFT)
    revision = models.PositiveIntegerField(_("phiên bản"), default=1, help_text=_("Tăng sau mỗi lần lưu; dùng để phát hiện sửa đồng thời"))

    decision_number = models.CharField(_("số quyết định phê duyệt"), max_length=50, blank=True)
    decision_date = models.DateField(_("ngày quyết định phê duyệt"), null=True, blank=True)
    approved_national_amount = models.BigIntegerField(_("kinh phí KCQG được duyệt"), null=True, blank=True)
    local_decision_number = models.CharField(_("số quyết định của UBND tỉnh"), max_length=50, blank=True)
    local_decision_date = models.DateField(_("ngày quyết định của UBND tỉnh"), null=True, blank=True)
    approved_local_amount = models.BigIntegerField(_("kinh phí KCĐP được duyệt"), null=True, blank=True)
    accepted_on = models.DateField(_("ngày nghiệm thu"), null=True, blank=True)
    settled_amount = models.BigIntegerField(_("kinh phí quyết toán"), null=True, blank=True)
    settled_on = models.DateField(_("ngày quyết toán"), null=True, blank=True)

    source_ref = models.CharField(
        _("nguồn nhập"), max_length=200, null=True, blank=True,
        help_text=_("Khóa của dòng phụ lục kế hoạch mà đề án được nhập từ đó"),
    )
    search_text = models.TextField(_("nội dung tìm kiếm (không dấu)"), editable=False, default="")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("người tạo"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="de_an_created",
    )
    created_at = models.DateTimeField(_("tạo lúc"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("cập nhật lúc"), default=timezone.now)

    # History is read per đề án (id) in date order; the copied fields need no index of their own
    # (each one was an index entry written on every save, for no query).
    history = HistoricalRecords(m2m_fields=["contents"], excluded_fields=["search_text", "updated_at"], no_db_index=[
        "code", "status", "created_at", "created_by", "current_province", "implementing_unit", "programme", "province"])

    class Meta:
        verbose_name = _("đề án khuyến công")
        verbose_name_plural = _("đề án khuyến công")
        ordering = ["-plan_year", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source_ref"], condition=Q(source_ref__isnull=False), name="de_an_source_ref_unique"),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True) | Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="de_an_dates_ordered",
            ),
            non_negative("total_amount"),
            non_negative("national_amount"),
            non_negative("local_amount"),
            non_negative("counterpart_amount"),
            non_negative("other_amount"),
            non_negative_or_null("approved_national_amount"),
            non_negative_or_null("approved_local_amount"),
            non_negative_or_null("settled_amount"),
            non_negative_or_null("expected_revenue"),
        ]
        indexes = [
            models.Index(fields=["current_province", "plan_year", "id"], name="de_an_cur_prov_year_id"),
            models.Index(fields=["province", "plan_year"], name="de_an_prov_year"),
            models.Index(fields=["plan_year", "id"], name="de_an_year_id"),
            models.Index(fields=["status", "current_province"], name="de_an_status_prov"),
            models.Index(fields=["level", "kind"], name="de_an_level_kind"),
            # Covering index of the dashboards' aggregates (dashboards.selectors.Facts): every column they
            # read from a đề án, so PostgreSQL answers them by an index-only scan instead of reading the
            # wide rows (text columns). INCLUDE is PostgreSQL-only; elsewhere a plain index.
            models.Index(fields=["plan_year", "level", "status", "province", "current_province", "id"],
                         include=["settled_amount", "national_amount", "local_amount"], name="de_an_dashboard_cover"),
        ]

    def __str__(self):
        return f"{self.code} — {self.name}"

    @property
    def unit_name(self):
        """The implementing unit's name in force when the đề án started (or as written)."""
        if self.implementing_unit_id:
            day = self.start_date or timezone.localdate()
            return self.implementing_unit.name_on(day)
        return self.implementing_unit_name

    @property
    def support_amount(self):
        return self.national_amount + self.local_amount


class DeAnBeneficiary(models.Model):
    # Indexed by the unique (de_an, establishment) constraint, which leads with it.
    de_an = models.ForeignKey(DeAn, verbose_name=_("đề án"), on_delete=models.CASCADE, related_name="beneficiaries",
                              db_index=False)
    establishment = models.ForeignKey(
        Establishment, verbose_name=_("cơ sở thụ hưởng"), on_delete=models.PROTECT, related_name="de_an_links"
    )
    note = models.CharField(_("ghi chú"), max_length=255, blank=True)
    order = models.PositiveSmallIntegerField(_("thứ tự"), default=0)

    history = HistoricalRecords(no_db_index=["establishment"])  # read per đề án (de_an_id) only

    class Meta:
        verbose_name = _("đơn vị thụ hưởng của đề án")
        verbose_name_plural = _("đơn vị thụ hưởng của đề án")
        ordering = ["de_an", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["de_an", "establishment"], name="de_an_beneficiary_unique"),
        ]

    def __str__(self):
        return str(self.establishment)


class BudgetLine(models.Model):
    de_an = models.ForeignKey(DeAn, verbose_name=_("đề án"), on_delete=models.CASCADE, related_name="budget_lines")
    order = models.PositiveSmallIntegerField(_("thứ tự"), default=0)
    description = models.CharField(_("nội dung chi"), max_length=500)
    content = models.ForeignKey(
        "khuyencong.ActivityContent", verbose_name=_("nội dung hoạt động"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="budget_lines",
    )
    source = models.CharField(_("nguồn kinh phí"), max_length=20, choices=FundingSource.choices)
    amount = models.BigIntegerField(_("số tiền (đồng)"))
    cost_basis = models.BigIntegerField(
        _("tổng chi phí hạng mục (đồng)"), null=True, blank=True,
        help_text=_("Chi phí làm căn cứ tính mức hỗ trợ tối đa theo %"),
    )
    establishment = models.ForeignKey(
        Establishment, verbose_name=_("cơ sở thụ hưởng"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="budget_lines",
    )
    support_cap = models.ForeignKey(
        "khuyencong.SupportCap", verbose_name=_("mức hỗ trợ tối đa áp dụng"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="budget_lines",
    )

    history = HistoricalRecords(no_db_index=["content", "establishment", "support_cap"])  # read per đề án only

    class Meta:
        verbose_name = _("dòng kinh phí")
        verbose_name_plural = _("dòng kinh phí")
        ordering = ["de_an", "order", "id"]
        constraints = [non_negative("amount"), non_negative_or_null("cost_basis")]

    def __str__(self):
        return self.description


def attachment_path(instance, filename):
    """Random, non-guessable storage path; the original (sanitised) name is kept in a column."""
    import uuid

    today = timezone.localdate()
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"de-an/{today:%Y/%m}/{uuid.uuid4().hex}.{ext}"


class Attachment(models.Model):
    de_an = models.ForeignKey(DeAn, verbose_name=_("đề án"), on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(_("loại tài liệu"), max_length=30, choices=AttachmentKind.choices, default=AttachmentKind.OTHER)
    file = models.FileField(_("tệp"), upload_to=attachment_path, max_length=255)
    original_name = models.CharField(_("tên tệp"), max_length=255)
    size = models.PositiveBigIntegerField(_("dung lượng (byte)"))
    content_type = models.CharField(_("kiểu tệp"), max_length=120)
    description = models.CharField(_("mô tả"), max_length=255, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("người tải lên"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("tải lên lúc"), default=timezone.now)

    class Meta:
        verbose_name = _("tài liệu đính kèm")
        verbose_name_plural = _("tài liệu đính kèm")
        ordering = ["de_an", "uploaded_at", "id"]

    def __str__(self):
        return self.original_name


class Transition(models.Model):
    """One row per state change: who, when, from, to, comment and decision."""

    de_an = models.ForeignKey(DeAn, verbose_name=_("đề án"), on_delete=models.CASCADE, related_name="transitions",
                              db_index=False)  # transition_de_an_at
    action = models.CharField(_("thao tác"), max_length=40)
    from_status = models.CharField(_("từ trạng thái"), max_length=30, choices=Status.choices, blank=True)
    to_status = models.CharField(_("sang trạng thái"), max_length=30, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("người thực hiện"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("thời điểm"), default=timezone.now, db_index=True)
    comment = models.TextField(_("ý kiến"), blank=True)
    decision_number = models.CharField(_("số quyết định"), max_length=50, blank=True)
    decision_date = models.DateField(_("ngày quyết định"), null=True, blank=True)
    data = models.JSONField(_("chi tiết"), default=dict, blank=True)

    class Meta:
        verbose_name = _("lịch sử chuyển trạng thái")
        verbose_name_plural = _("lịch sử chuyển trạng thái")
        ordering = ["de_an", "at", "id"]
        indexes = [models.Index(fields=["de_an", "at"], name="transition_de_an_at")]

    def __str__(self):
        return f"{self.de_an_id}: {self.from_status} → {self.to_status}"


class Comment(models.Model):
    """A free comment on a đề án (shown on the timeline)."""

    de_an = models.ForeignKey(DeAn, verbose_name=_("đề án"), on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("người viết"), null=True, on_delete=models.SET_NULL,
                               related_name="+")
    text = models.TextField(_("nội dung"))
    created_at = models.DateTimeField(_("thời điểm"), default=timezone.now)

    class Meta:
        verbose_name = _("ý kiến trao đổi")
        verbose_name_plural = _("ý kiến trao đổi")
        ordering = ["de_an", "created_at", "id"]

    def __str__(self):
        return self.text[:60]


class Adjustment(models.Model):
    """A request to change an approved đề án. Minor changes are approved by the agency's reviewer;
    major ones (more national money, new content, extension into the next year, stopping) need the
    Minister's decision number (KCQG) or the UBND's (KCĐP)."""

    de_an = models.ForeignKey(DeAn, verbose_name=_("đề án"), on_delete=models.CASCADE, related_name="adjustments")
    kind = models.CharField(_("loại điều chỉnh"), max_length=10, choices=AdjustmentKind.choices)
    reason = models.TextField(_("nội dung, lý do điều chỉnh"))
    more_money = models.BooleanField(_("tăng kinh phí hỗ trợ"), default=False)
    new_content = models.BooleanField(_("bổ sung nội dung"), default=False)
    extension = models.BooleanField(_("kéo dài sang năm sau"), default=False)
    stop = models.BooleanField(_("dừng thực hiện"), default=False)
    new_end_date = models.DateField(_("thời gian kết thúc mới"), null=True, blank=True)
    # Minor changes the dossier takes on approval (a blank one leaves the đề án's own).
    new_location = models.CharField(_("địa điểm thực hiện mới"), max_length=255, blank=True, default="")
    new_partner_unit = models.CharField(_("đơn vị phối hợp mới"), max_length=255, blank=True, default="")
    new_amount = models.BigIntegerField(
        _("kinh phí hỗ trợ đề nghị"), null=True, blank=True,
        help_text=_("Kinh phí hỗ trợ mới của đề án từ nguồn của cấp đề án (KCQG hoặc KCĐP), đồng."))
    # The revised estimate (dự toán điều chỉnh) of the request, when it changes the amounts of the đề án's
    # own-source budget lines: {"<line id>": {"amount": new, "was": old, "description": text}}. Checked
    # against the support caps when asked and when approved; applied to the lines on approval.
    new_lines = models.JSONField(_("dự toán điều chỉnh"), default=dict, blank=True)
    status = models.CharField(_("trạng thái"), max_length=10, choices=AdjustmentStatus.choices, default=AdjustmentStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("người đề nghị"), null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(_("thời điểm đề nghị"), default=timezone.now)
    # The Sở Công Thương's confirmation of a KCQG request before the Cục decides (a centre's request waits
    # for it; the Sở's own requests and KCĐP ones are confirmed when made).
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("người xác nhận (Sở Công Thương)"),
                                     null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    confirmed_at = models.DateTimeField(_("thời điểm Sở xác nhận"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("người quyết định"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("thời điểm quyết định"), null=True, blank=True)
    decision_number = models.CharField(_("số quyết định"), max_length=50, blank=True)
    decision_date = models.DateField(_("ngày quyết định"), null=True, blank=True)

    class Meta:
        verbose_name = _("đề nghị điều chỉnh")
        verbose_name_plural = _("đề nghị điều chỉnh")
        ordering = ["de_an", "requested_at", "id"]
        constraints = [
            non_negative_or_null("new_amount"),
            models.UniqueConstraint(
                fields=["de_an"], condition=Q(status="pending"), name="adjustment_one_pending_per_de_an"
            ),
        ]

    def __str__(self):
        return self.reason[:60]

    @property
    def is_major(self):
        return self.kind == AdjustmentKind.MAJOR

    @property
    def line_changes(self):
        """The revised estimate as rows for a page: description, amount before, amount asked."""
        return [{"description": v.get("description", ""), "was": v.get("was"), "amount": v.get("amount")}
                for v in (self.new_lines or {}).values()]


class EmailStatus(models.TextChoices):
    """E-mail delivery of a notification (projects.notifications sends it through Celery)."""

    NOT_NEEDED = "not_needed", _("không cần gửi")
    PENDING = "pending", _("chờ gửi")
    SENT = "sent", _("đã gửi")
    FAILED = "failed", _("không gửi được")


class Notification(models.Model):
    """In-app notice of a transition, written in the transition's own transaction; its e-mail copy is
    sent afterwards by a Celery task (``email_*`` fields: the outbox state)."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("người nhận"), on_delete=models.CASCADE,
                                  related_name="notifications")
    de_an = models.ForeignKey(DeAn, verbose_name=_("đề án"), null=True, blank=True, on_delete=models.CASCADE,
                              related_name="notifications")
    verb = models.CharField(_("loại"), max_length=40)
    message = models.CharField(_("nội dung"), max_length=500)
    created_at = models.DateTimeField(_("thời điểm"), default=timezone.now)
    read_at = models.DateTimeField(_("đã đọc lúc"), null=True, blank=True)
    email_status = models.CharField(
        _("trạng thái thư điện tử"), max_length=12, choices=EmailStatus.choices, default=EmailStatus.NOT_NEEDED
    )
    email_attempts = models.PositiveSmallIntegerField(_("số lần gửi thư"), default=0)
    email_retry_at = models.DateTimeField(_("gửi lại thư lúc"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("đã gửi thư lúc"), null=True, blank=True)
    email_error = models.CharField(_("lỗi gửi thư"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("thông báo")
        verbose_name_plural = _("thông báo")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "created_at"], name="notification_inbox"),
            # The outbox: the resend sweep reads only the (few) mails still waiting.
            models.Index(fields=["created_at"], condition=Q(email_status="pending"), name="notification_mail_pending"),
        ]

    def __str__(self):
        return self.message


class KindRule(models.Model):
    """Rules per kind of đề án, as data an administrator can change. Years are counted as the
    calendar years the schedule touches (03/2026–11/2027 = 2 years)."""

    kind = models.CharField(_("loại đề án"), max_length=10, choices=Kind.choices, unique=True)
    min_contents = models.PositiveSmallIntegerField(_("số nội dung tối thiểu"), default=1)
    max_contents = models.PositiveSmallIntegerField(_("số nội dung tối đa"), null=True, blank=True)
    min_beneficiaries = models.PositiveSmallIntegerField(_("số đơn vị thụ hưởng tối thiểu"), default=0)
    max_beneficiaries = models.PositiveSmallIntegerField(_("số đơn vị thụ hưởng tối đa"), null=True, blank=True)
    min_years = models.PositiveSmallIntegerField(_("số năm tối thiểu"), null=True, blank=True)
    max_years = models.PositiveSmallIntegerField(_("số năm tối đa"), null=True, blank=True)
    basis = models.CharField(_("căn cứ"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("quy định theo loại đề án")
        verbose_name_plural = _("quy định theo loại đề án")
        ordering = ["kind"]

    def __str__(self):
        return self.get_kind_display()
