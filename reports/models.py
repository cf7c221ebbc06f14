"""Inspection and supervision (kiểm tra, giám sát) and report jobs.

* ``InspectionPlan`` → ``Mission`` (team, provinces, đề án in scope) → ``InspectionRecord`` (biên bản
  kiểm tra, one per đề án visited) → ``Recommendation`` (each with a deadline and follow-up status) →
  ``RecommendationEvidence`` (photos, scanned documents the province attaches to its remedial report).
* ``ReportJob``: a report someone asked for, rendered to PDF by a Celery worker. One row per request;
  while a job for the same request is queued or running a second request joins it (a partial unique
  constraint on ``request_key``). Written only by ``reports.services``.

States and kinds are stable English codes, translated only at display. Money is integer đồng.
"""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# --- report jobs ----------------------------------------------------------------------------

class ReportKind(models.TextChoices):
    NATIONAL = "national", _("Báo cáo năm toàn quốc")
    PROVINCE = "province", _("Báo cáo năm của tỉnh, thành phố")
    RECORD = "record", _("Biên bản kiểm tra")
    PLAN = "plan", _("Kế hoạch kiểm tra, giám sát năm")


class Grouping(models.TextChoices):
    CURRENT = "current", _("Theo tỉnh, thành phố hiện nay (34)")
    HISTORICAL = "historical", _("Theo tỉnh, thành phố khi đăng ký")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Đang chờ xử lý")
    RUNNING = "running", _("Đang tạo")
    DONE = "done", _("Đã xong")
    FAILED = "failed", _("Không thành công")


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


def report_file_path(instance, filename):
    return f"reports/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}.pdf"


class ReportJob(models.Model):
    kind = models.CharField(_("loại báo cáo"), max_length=10, choices=ReportKind.choices)
    year = models.PositiveSmallIntegerField(_("năm"))
    province = models.ForeignKey(
        "khuyencong.Province", verbose_name=_("tỉnh, thành phố"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", help_text=_("Tỉnh, thành phố hiện nay (báo cáo tỉnh; biên bản: tỉnh của đề án)"),
    )
    target_id = models.BigIntegerField(_("mã đối tượng"), null=True, blank=True, help_text=_("Biên bản kiểm tra (loại «record»)"))
    grouping = models.CharField(_("cách nhóm tỉnh"), max_length=10, choices=Grouping.choices, default=Grouping.CURRENT)
    request_key = models.CharField(_("khóa yêu cầu"), max_length=120, editable=False)

    status = models.CharField(_("trạng thái"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(_("tiến độ (%)"), default=0)
    message = models.CharField(_("thông báo"), max_length=500, blank=True)
    error = models.TextField(_("lý do lỗi"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("số lần chạy"), default=0)
    dispatched = models.BooleanField(_("đã gửi vào hàng đợi"), default=False)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("người yêu cầu"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="report_jobs",
    )
    created_at = models.DateTimeField(_("yêu cầu lúc"), default=timezone.now, db_index=True)
    enqueued_at = models.DateTimeField(_("gửi hàng đợi lúc"), null=True, blank=True)
    started_at = models.DateTimeField(_("bắt đầu lúc"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("tín hiệu gần nhất"), null=True, blank=True)
    finished_at = models.DateTimeField(_("xong lúc"), null=True, blank=True)

    file = models.FileField(_("tệp PDF"), upload_to=report_file_path, max_length=255, blank=True)
    pages = models.PositiveIntegerField(_("số trang"), null=True, blank=True)
    size = models.PositiveBigIntegerField(_("dung lượng (byte)"), null=True, blank=True)
    issued_on = models.DateField(_("ngày báo cáo"), default=timezone.localdate)
    signer_name = models.CharField(
        _("họ tên người ký"), max_length=100, blank=True,
        help_text=_("In dưới chữ ký; để trống thì chừa chỗ ghi tay."),
    )

    class Meta:
        verbose_name = _("yêu cầu tạo báo cáo")
        verbose_name_plural = _("yêu cầu tạo báo cáo")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request_key"],
                condition=Q(status__in=["queued", "running"]),
                name="report_job_one_active_per_request",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="report_job_progress_range"),
            models.CheckConstraint(
                condition=~Q(status="done") | ~Q(file=""), name="report_job_done_has_file",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["national", "plan"]) | Q(province__isnull=False) | Q(kind="record"),
                name="report_job_province_report_has_province",
            ),
        ]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="report_job_status_hb")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.year} #{self.pk}"

    @property
    def is_active(self):
        return self.status in ACTIVE_STATUSES

    @property
    def download_name(self):
        parts = {"national": "bao-cao-toan-quoc", "province": "bao-cao-tinh", "record": "bien-ban-kiem-tra", "plan": "ke-hoach-kiem-tra"}
        suffix = f"-{self.province.code}" if self.province_id and self.kind == ReportKind.PROVINCE else ""
        target = f"-{self.target_id}" if self.target_id else ""
        return f"{parts.get(self.kind, 'bao-cao')}-{self.year}{suffix}{target}.pdf"


# --- inspection and supervision ---------------------------------------------------------------

def _non_negative_or_null(name):
    return models.CheckConstraint(
        condition=Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__gte": 0}), name=f"%(class)s_{name}_non_negative"
    )


class InspectionPlan(models.Model):
    """The agency's annual inspection and supervision plan."""

    year = models.PositiveSmallIntegerField(_("năm"), unique=True)
    title = models.CharField(_("tên kế hoạch"), max_length=500)
    decision_number = models.CharField(_("số quyết định phê duyệt"), max_length=50, blank=True)
    decision_date = models.DateField(_("ngày quyết định"), null=True, blank=True)
    legal_basis = models.TextField(_("căn cứ"), blank=True)
    purpose = models.TextField(_("mục đích, yêu cầu"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("người lập"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("tạo lúc"), default=timezone.now)
    revision = models.PositiveIntegerField(_("phiên bản"), default=1, help_text=_("Tăng sau mỗi lần lưu; dùng để phát hiện sửa đồng thời"))

    class Meta:
        verbose_name = _("kế hoạch kiểm tra, giám sát")
        verbose_name_plural = _("kế hoạch kiểm tra, giám sát")
        ordering = ["-year"]

    def __str__(self):
        return self.title


class Mission(models.Model):
    """One inspection mission (đoàn kiểm tra) of a plan."""

    plan = models.ForeignKey(InspectionPlan, verbose_name=_("kế hoạch"), on_delete=models.CASCADE, related_name="missions")
    order = models.PositiveSmallIntegerField(_("thứ tự"), default=0)
    name = models.CharField(_("tên đoàn"), max_length=255)
    provinces = models.ManyToManyField("khuyencong.Province", verbose_name=_("tỉnh, thành phố"), related_name="+", blank=True)
    start_date = models.DateField(_("từ ngày"), null=True, blank=True)
    end_date = models.DateField(_("đến ngày"), null=True, blank=True)
    legal_basis = models.CharField(_("căn cứ (quyết định kiểm tra)"), max_length=500, blank=True)
    contents_to_check = models.TextField(_("nội dung kiểm tra"), blank=True)
    sites = models.TextField(_("địa điểm kiểm tra"), blank=True)
    expected_outputs = models.TextField(_("sản phẩm dự kiến"), blank=True)
    follow_up_deadline = models.DateField(_("hạn báo cáo khắc phục"), null=True, blank=True)
    de_an = models.ManyToManyField("projects.DeAn", verbose_name=_("đề án được kiểm tra"), related_name="inspection_missions", blank=True)
    revision = models.PositiveIntegerField(_("phiên bản"), default=1, help_text=_("Tăng sau mỗi lần lưu; dùng để phát hiện sửa đồng thời"))

    class Meta:
        verbose_name = _("đoàn kiểm tra")
        verbose_name_plural = _("đoàn kiểm tra")
        ordering = ["plan", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_date__isnull=True) | Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="mission_dates_ordered",
            ),
        ]

    def __str__(self):
        return self.name


class MemberRole(models.TextChoices):
    LEAD = "lead", _("Trưởng đoàn")
    DEPUTY = "deputy", _("Phó trưởng đoàn")
    MEMBER = "member", _("Thành viên")
    SECRETARY = "secretary", _("Thư ký")


class MissionMember(models.Model):
    mission = models.ForeignKey(Mission, verbose_name=_("đoàn kiểm tra"), on_delete=models.CASCADE, related_name="members")
    order = models.PositiveSmallIntegerField(_("thứ tự"), default=0)
    full_name = models.CharField(_("họ và tên"), max_length=150)
    job_title = models.CharField(_("chức vụ"), max_length=150, blank=True)
    unit = models.CharField(_("đơn vị công tác"), max_length=255, blank=True)
    role = models.CharField(_("nhiệm vụ trong đoàn"), max_length=10, choices=MemberRole.choices, default=MemberRole.MEMBER)

    class Meta:
        verbose_name = _("thành viên đoàn")
        verbose_name_plural = _("thành viên đoàn")
        ordering = ["mission", "order", "id"]

    def __str__(self):
        return self.full_name


class Conclusion(models.TextChoices):
    ON_SCHEDULE = "on_schedule", _("Đúng tiến độ, đúng quy định")
    LATE = "late", _("Chậm tiến độ")
    VIOLATIONS = "violations", _("Có sai phạm")
    OTHER = "other", _("Khác")


class InspectionRecord(models.Model):
    """Biên bản kiểm tra: one per đề án visited."""

    mission = models.ForeignKey(Mission, verbose_name=_("đoàn kiểm tra"), null=True, blank=True, on_delete=models.PROTECT, related_name="records")
    de_an = models.ForeignKey("projects.DeAn", verbose_name=_("đề án"), on_delete=models.PROTECT, related_name="inspection_records")
    inspected_on = models.DateField(_("ngày kiểm tra"))
    place = models.CharField(_("địa điểm"), max_length=255)
    legal_basis = models.CharField(_("căn cứ"), max_length=500, blank=True)
    team = models.TextField(_("thành phần đoàn kiểm tra"), blank=True)
    inspected_parties = models.TextField(_("thành phần đơn vị được kiểm tra"), blank=True)
    progress_check = models.TextField(_("tiến độ so với kế hoạch"), blank=True)
    equipment_check = models.TextField(_("máy móc, thiết bị so với hồ sơ"), blank=True)
    disbursed_amount = models.BigIntegerField(_("kinh phí đã giải ngân (đồng)"), null=True, blank=True)
    documents_check = models.TextField(_("hồ sơ, chứng từ"), blank=True)
    effectiveness = models.TextField(_("hiệu quả"), blank=True)
    actual_output = models.CharField(_("sản lượng thực tế"), max_length=255, blank=True)
    actual_revenue = models.BigIntegerField(_("doanh thu thực tế (đồng/năm)"), null=True, blank=True)
    actual_jobs = models.PositiveIntegerField(_("việc làm thực tế"), null=True, blank=True)
    findings = models.TextField(_("phát hiện"), blank=True)
    conclusion = models.CharField(_("kết luận"), max_length=20, choices=Conclusion.choices, default=Conclusion.ON_SCHEDULE)
    conclusion_text = models.TextField(_("nội dung kết luận"), blank=True)
    inspected_opinion = models.TextField(_("ý kiến của đơn vị được kiểm tra"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("người lập"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("tạo lúc"), default=timezone.now)
    revision = models.PositiveIntegerField(_("phiên bản"), default=1, help_text=_("Tăng sau mỗi lần lưu; dùng để phát hiện sửa đồng thời"))

    class Meta:
        verbose_name = _("biên bản kiểm tra")
        verbose_name_plural = _("biên bản kiểm tra")
        ordering = ["-inspected_on", "-id"]
        constraints = [
            _non_negative_or_null("disbursed_amount"), _non_negative_or_null("actual_revenue"),
            # One biên bản per đề án visited on a day (by a mission, or without one): a second would be a
            # double submit, and two versions of one visit leave the reader unsure which is right.
            models.UniqueConstraint(fields=["de_an", "mission", "inspected_on"], condition=Q(mission__isnull=False),
                                    name="inspection_record_once_per_visit"),
            models.UniqueConstraint(fields=["de_an", "inspected_on"], condition=Q(mission__isnull=True),
                                    name="inspection_record_once_per_day"),
        ]
        indexes = [models.Index(fields=["inspected_on"], name="inspection_record_day")]

    def __str__(self):
        return f"{self.de_an_id} · {self.inspected_on:%d/%m/%Y}"


class FollowUp(models.TextChoices):
    OPEN = "open", _("Chưa thực hiện")
    ANSWERED = "answered", _("Đã báo cáo khắc phục")
    CLOSED = "closed", _("Đã hoàn thành")


class Recommendation(models.Model):
    record = models.ForeignKey(InspectionRecord, verbose_name=_("biên bản kiểm tra"), on_delete=models.CASCADE,
                               related_name="recommendations")
    order = models.PositiveSmallIntegerField(_("thứ tự"), default=0)
    text = models.TextField(_("kiến nghị"))
    deadline = models.DateField(_("thời hạn"), null=True, blank=True)
    status = models.CharField(_("tình trạng"), max_length=10, choices=FollowUp.choices, default=FollowUp.OPEN, db_index=True)
    response = models.TextField(_("báo cáo khắc phục"), blank=True)
    responded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("người báo cáo"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    responded_at = models.DateTimeField(_("báo cáo lúc"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("người đóng"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    closed_at = models.DateTimeField(_("đóng lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("kiến nghị")
        verbose_name_plural = _("kiến nghị")
        ordering = ["record", "order", "id"]
        indexes = [models.Index(fields=["status", "deadline"], name="recommendation_due")]

    def __str__(self):
        return self.text[:80]

    def is_overdue(self, today=None):
        today = today or timezone.localdate()
        return self.status != FollowUp.CLOSED and self.deadline is not None and self.deadline < today


def inspection_attachment_path(instance, filename):
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"inspections/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}.{ext}"


class InspectionAttachment(models.Model):
    record = models.ForeignKey(InspectionRecord, verbose_name=_("biên bản kiểm tra"), on_delete=models.CASCADE,
                               related_name="attachments")
    is_photo = models.BooleanField(_("ảnh chụp"), default=False)
    file = models.FileField(_("tệp"), upload_to=inspection_attachment_path, max_length=255)
    original_name = models.CharField(_("tên tệp"), max_length=255)
    size = models.PositiveBigIntegerField(_("dung lượng (byte)"))
    content_type = models.CharField(_("kiểu tệp"), max_length=120)
    description = models.CharField(_("mô tả"), max_length=255, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("người tải lên"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(_("tải lên lúc"), default=timezone.now)

    class Meta:
        verbose_name = _("tài liệu, hình ảnh kiểm tra")
        verbose_name_plural = _("tài liệu, hình ảnh kiểm tra")
        ordering = ["record", "uploaded_at", "id"]

    def __str__(self):
        return self.original_name


def recommendation_evidence_path(instance, filename):
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"inspections/evidence/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}.{ext}"


class RecommendationEvidence(models.Model):
    """A file (photo, scanned document) a province attaches to its remedial report of a recommendation.
    Written only by ``reports.inspection_services`` (same upload checks as the record's attachments);
    ``province``: the current province the uploader worked for — that province's staff may delete it
    while the recommendation is not closed."""

    recommendation = models.ForeignKey(Recommendation, verbose_name=_("kiến nghị"), on_delete=models.CASCADE,
                                       related_name="evidence")
    is_photo = models.BooleanField(_("ảnh chụp"), default=False)
    file = models.FileField(_("tệp"), upload_to=recommendation_evidence_path, max_length=255)
    original_name = models.CharField(_("tên tệp"), max_length=255)
    size = models.PositiveBigIntegerField(_("dung lượng (byte)"))
    content_type = models.CharField(_("kiểu tệp"), max_length=120)
    description = models.CharField(_("mô tả"), max_length=255, blank=True)
    province = models.ForeignKey("khuyencong.Province", verbose_name=_("tỉnh, thành phố tải lên"), null=True,
                                 blank=True, on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("người tải lên"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(_("tải lên lúc"), default=timezone.now)

    class Meta:
        verbose_name = _("tệp minh chứng khắc phục")
        verbose_name_plural = _("tệp minh chứng khắc phục")
        ordering = ["recommendation", "uploaded_at", "id"]

    def __str__(self):
        return self.original_name
