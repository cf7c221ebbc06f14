"""Money for khuyến công: annual plans, allocations by province and source, commitments of approved
đề án against them, disbursements, and the Excel import batches that fill them.

All money is integer đồng (``BigIntegerField``) with a database CHECK keeping it ≥ 0. An allocation
also carries ``committed`` — the sum of the commitments against it, maintained only by
``funding.services`` under a row lock — with a CHECK ``committed <= amount``: over-commitment is
refused by the database itself, not just by Python.
"""
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from khuyencong.choices import FundingSource, Level


class AllocationSource(models.TextChoices):
    """The sources an allocation can be made from (a subset of FundingSource)."""

    NATIONAL = FundingSource.NATIONAL.value, FundingSource.NATIONAL.label
    LOCAL = FundingSource.LOCAL.value, FundingSource.LOCAL.label


def source_for_level(level):
    """The allocation source a đề án of ``level`` commits against."""
    return AllocationSource.NATIONAL if level == Level.NATIONAL else AllocationSource.LOCAL


class AnnualPlan(models.Model):
    year = models.PositiveSmallIntegerField(_("năm kế hoạch"))
    level = models.CharField(_("cấp"), max_length=10, choices=Level.choices)
    programme = models.ForeignKey(
        "khuyencong.Programme", verbose_name=_("chương trình"), null=True, blank=True, on_delete=models.PROTECT
    )
    decision_number = models.CharField(_("số quyết định"), max_length=50, blank=True)
    decision_date = models.DateField(_("ngày quyết định"), null=True, blank=True)
    title = models.CharField(_("tiêu đề"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)

    class Meta:
        verbose_name = _("kế hoạch năm")
        verbose_name_plural = _("kế hoạch năm")
        ordering = ["-year", "level"]
        constraints = [
            models.UniqueConstraint(fields=["year", "level"], name="funding_plan_year_level_unique"),
            models.CheckConstraint(condition=Q(year__gte=2000) & Q(year__lte=2100), name="funding_plan_year_range"),
        ]

    def __str__(self):
        return f"{self.get_level_display()} {self.year}"


class Allocation(models.Model):
    # The unique (plan, province, source) index serves lookups by plan: no separate index.
    plan = models.ForeignKey(
        AnnualPlan, verbose_name=_("kế hoạch"), on_delete=models.PROTECT, related_name="allocations", db_index=False
    )
    province = models.ForeignKey(
        "khuyencong.Province",
        verbose_name=_("tỉnh, thành phố"),
        on_delete=models.PROTECT,
        related_name="allocations",
        help_text=_("Tỉnh, thành phố hiện hành (sau 01/07/2025)"),
    )
    source = models.CharField(_("nguồn"), max_length=12, choices=AllocationSource.choices)
    amount = models.BigIntegerField(_("kinh phí phân bổ (đồng)"), default=0)
    committed = models.BigIntegerField(_("đã cam kết (đồng)"), default=0, editable=False)
    # Which batch last wrote the amount (undo checks it); batches are never deleted, so no index.
    import_batch = models.ForeignKey(
        "ImportBatch", verbose_name=_("lô nhập"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False,
    )
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)

    class Meta:
        verbose_name = _("phân bổ kinh phí")
        verbose_name_plural = _("phân bổ kinh phí")
        ordering = ["plan", "province__code", "source"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "province", "source"], name="funding_allocation_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="funding_allocation_amount_gte_0"),
            models.CheckConstraint(condition=Q(committed__gte=0), name="funding_allocation_committed_gte_0"),
            models.CheckConstraint(condition=Q(committed__lte=F("amount")), name="funding_allocation_committed_lte_amount"),
            models.CheckConstraint(
                condition=Q(source__in=[s.value for s in AllocationSource]), name="funding_allocation_source_valid"
            ),
        ]

    def __str__(self):
        return f"{self.plan} · {self.province} · {self.get_source_display()}"

    @property
    def available(self):
        return self.amount - self.committed


class ImportKind(models.TextChoices):
    ALLOCATION = "allocation", _("Bảng phân bổ kinh phí theo tỉnh")
    PLAN_ANNEX = "plan_annex", _("Phụ lục kế hoạch (danh mục đề án)")


class ImportStatus(models.TextChoices):
    PREVIEWED = "previewed", _("Đã xem trước, chờ xác nhận")
    APPLYING = "applying", _("Đang nhập (chạy nền)")
    APPLIED = "applied", _("Đã nhập")
    UNDONE = "undone", _("Đã hoàn tác")
    FAILED = "failed", _("Lỗi")
    DISCARDED = "discarded", _("Đã hủy")


class ImportBatch(models.Model):
    """One uploaded workbook: who, when, which file (kept, with its SHA-256), what it did."""

    kind = models.CharField(_("loại"), max_length=20, choices=ImportKind.choices, blank=True)
    status = models.CharField(_("trạng thái"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.PREVIEWED)
    file = models.FileField(_("tệp gốc"), upload_to="imports/%Y/%m/", max_length=255, blank=True)
    original_name = models.CharField(_("tên tệp"), max_length=255)
    sha256 = models.CharField(_("mã băm SHA-256"), max_length=64, db_index=True)
    size = models.BigIntegerField(_("dung lượng (byte)"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("người tải lên"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("tải lên lúc"), auto_now_add=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("người xác nhận"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    applied_at = models.DateTimeField(_("nhập lúc"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("người hoàn tác"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undone_at = models.DateTimeField(_("hoàn tác lúc"), null=True, blank=True)
    plan = models.ForeignKey(AnnualPlan, verbose_name=_("kế hoạch"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    year = models.PositiveSmallIntegerField(_("năm"), null=True, blank=True)
    sheet_name = models.CharField(_("trang tính"), max_length=100, blank=True)
    unit = models.CharField(_("đơn vị tính"), max_length=10, blank=True)
    rows_total = models.PositiveIntegerField(_("số dòng dữ liệu"), default=0)
    rows_created = models.PositiveIntegerField(_("tạo mới"), default=0)
    rows_updated = models.PositiveIntegerField(_("cập nhật"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("không đổi"), default=0)
    rows_error = models.PositiveIntegerField(_("lỗi"), default=0)
    total_national = models.BigIntegerField(_("tổng kinh phí KCQG (đồng)"), default=0)
    total_local = models.BigIntegerField(_("tổng kinh phí KCĐP (đồng)"), default=0)
    total_counterpart = models.BigIntegerField(_("tổng vốn đối ứng, khác (đồng)"), default=0)
    summary = models.JSONField(_("tóm tắt"), default=dict, blank=True)
    error = models.TextField(_("lỗi chung"), blank=True)
    # A big batch confirmed for the worker: when it was last handed to the broker and how many times
    # (the sweep hands it again when its task was lost, and gives up after IMPORT_MAX_DISPATCHES).
    queued_at = models.DateTimeField(_("chuyển xử lý nền lúc"), null=True, blank=True)
    dispatches = models.PositiveSmallIntegerField(_("số lần chuyển xử lý nền"), default=0)

    class Meta:
        verbose_name = _("lô nhập Excel")
        verbose_name_plural = _("lô nhập Excel")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_national__gte=0) & Q(total_local__gte=0) & Q(total_counterpart__gte=0),
                name="funding_batch_totals_gte_0",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.original_name}"


class RowAction(models.TextChoices):
    CREATE = "create", _("Tạo mới")
    UPDATE = "update", _("Cập nhật")
    UNCHANGED = "unchanged", _("Không đổi")
    ERROR = "error", _("Lỗi")


class ImportRow(models.Model):
    """What one sheet row does (or would do). ``sheet_row`` is the row number Excel shows."""

    # Indexed through (batch, action) below; fewer indexes keep 10.000-row imports fast.
    batch = models.ForeignKey(ImportBatch, verbose_name=_("lần nhập"), on_delete=models.CASCADE, related_name="rows",
                              db_index=False)
    sheet_row = models.PositiveIntegerField(_("dòng"))
    action = models.CharField(_("kết quả"), max_length=10, choices=RowAction.choices)
    message = models.TextField(_("ghi chú"), blank=True)
    province = models.ForeignKey(
        "khuyencong.Province", verbose_name=_("tỉnh, thành phố"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", db_index=False,
    )
    source = models.CharField(_("nguồn"), max_length=12, blank=True)
    amount = models.BigIntegerField(_("số tiền (đồng)"), null=True, blank=True)
    previous_amount = models.BigIntegerField(_("số tiền trước (đồng)"), null=True, blank=True)
    object_id = models.BigIntegerField(_("mã bản ghi"), null=True, blank=True)
    data = models.JSONField(_("dữ liệu"), default=dict, blank=True)

    class Meta:
        verbose_name = _("dòng nhập")
        verbose_name_plural = _("dòng nhập")
        ordering = ["batch", "sheet_row", "id"]
        indexes = [models.Index(fields=["batch", "action"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0) | Q(amount__isnull=True), name="funding_importrow_amount_gte_0"),
        ]

    def __str__(self):
        return f"{self.batch_id}:{self.sheet_row} {self.action}"


class Commitment(models.Model):
    """A đề án's approved money held against its province's allocation. One per đề án and allocation;
    written only by ``funding.services.commitment_reserve`` / ``commitment_release``."""

    # Indexed by the unique (de_an, allocation) constraint, which leads with it.
    de_an = models.ForeignKey("projects.DeAn", verbose_name=_("đề án"), on_delete=models.PROTECT, related_name="commitments",
                              db_index=False)
    allocation = models.ForeignKey(Allocation, verbose_name=_("phân bổ"), on_delete=models.PROTECT, related_name="commitments")
    amount = models.BigIntegerField(_("số tiền cam kết (đồng)"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("người thực hiện"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    import_batch = models.ForeignKey(
        ImportBatch, verbose_name=_("lô nhập"), null=True, blank=True, on_delete=models.SET_NULL, related_name="commitments"
    )
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)

    class Meta:
        verbose_name = _("cam kết kinh phí")
        verbose_name_plural = _("cam kết kinh phí")
        ordering = ["allocation", "de_an"]
        constraints = [
            models.UniqueConstraint(fields=["de_an", "allocation"], name="funding_commitment_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="funding_commitment_amount_gte_0"),
        ]

    def __str__(self):
        return f"{self.de_an_id} → {self.allocation_id}: {self.amount}"


class DisbursementKind(models.TextChoices):
    ADVANCE = "advance", _("Tạm ứng")
    PAYMENT = "payment", _("Thanh toán")
    SETTLEMENT = "settlement", _("Quyết toán")


class DisbursementQuerySet(models.QuerySet):
    def counted(self):
        """The disbursements every total counts: all but the voided ones (kept, struck through, on the
        money page). Any reader that sums or counts money paid out starts from here."""
        return self.filter(voided_at__isnull=True)


class Disbursement(models.Model):
    """Money paid out for a đề án: an advance, a payment, or the settlement."""

    objects = DisbursementQuerySet.as_manager()

    de_an = models.ForeignKey("projects.DeAn", verbose_name=_("đề án"), on_delete=models.PROTECT, related_name="disbursements")
    kind = models.CharField(_("loại"), max_length=12, choices=DisbursementKind.choices)
    source = models.CharField(_("nguồn"), max_length=12, choices=AllocationSource.choices)
    amount = models.BigIntegerField(_("số tiền (đồng)"))
    date = models.DateField(_("ngày"))
    document_number = models.CharField(_("số chứng từ"), max_length=50)
    note = models.CharField(_("ghi chú"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("người nhập"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    # One key per form shown: sending the same form twice (double click, reload) records it once.
    request_key = models.CharField(_("mã lần gửi"), max_length=64, null=True, blank=True, editable=False)
    # A wrongly entered disbursement is voided, never deleted or edited (funding.services.disbursement_void):
    # the row stays, shown struck through with who, when and why, and no total counts it.
    voided_at = models.DateTimeField(_("hủy lúc"), null=True, blank=True, editable=False)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("người hủy"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", editable=False,
    )
    void_reason = models.CharField(_("lý do hủy"), max_length=500, blank=True, editable=False)

    class Meta:
        verbose_name = _("giải ngân")
        verbose_name_plural = _("giải ngân")
        ordering = ["de_an", "date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="funding_disbursement_amount_gte_0"),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in DisbursementKind]), name="funding_disbursement_kind_valid"
            ),
            models.UniqueConstraint(fields=["request_key"], condition=Q(request_key__isnull=False),
                                    name="funding_disbursement_request_key_unique"),
            # Voided means a time and a reason; not voided means neither (who may later be deleted: SET_NULL).
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True, void_reason="") | (Q(voided_at__isnull=False) & ~Q(void_reason="")),
                name="funding_disbursement_void_complete",
            ),
        ]
        indexes = [
            # The few voided rows: dashboards.selectors.data_version counts them (a void changes no id).
            models.Index(fields=["voided_at"], condition=Q(voided_at__isnull=False), name="funding_disb_voided"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount}"

    @property
    def voided(self):
        return self.voided_at is not None
