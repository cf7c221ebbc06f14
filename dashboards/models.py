"""Results of đề án against the programme's indicators, and the economic results at acceptance.

``DeAnIndicatorOutput``: per đề án and programme indicator, the output planned when the dossier is
drafted and the output achieved, recorded from implementation onwards (typically at acceptance,
nghiệm thu). ``DeAnEconomicResult``: the economic results stated at acceptance (output value,
revenue, jobs created, counterpart money mobilised). Written only by ``dashboards.services``; read by
the dashboards' aggregate selectors. Money is integer đồng with a CHECK >= 0.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class DeAnIndicatorOutput(models.Model):
    de_an = models.ForeignKey("projects.DeAn", verbose_name=_("đề án"), on_delete=models.CASCADE,
                              related_name="indicator_outputs")
    indicator = models.ForeignKey("khuyencong.Indicator", verbose_name=_("chỉ tiêu"), on_delete=models.PROTECT,
                                  related_name="de_an_outputs")
    planned = models.PositiveIntegerField(pgettext_lazy("số lượng", "kế hoạch"), default=0)
    achieved = models.PositiveIntegerField(_("thực hiện"), null=True, blank=True)
    planned_at = models.DateTimeField(_("ghi kế hoạch lúc"), null=True, blank=True)
    planned_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("người ghi kế hoạch"), null=True,
                                   blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(_("ghi kết quả lúc"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("người ghi kết quả"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(_("ghi chú"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("sản phẩm đầu ra của đề án theo chỉ tiêu")
        verbose_name_plural = _("sản phẩm đầu ra của đề án theo chỉ tiêu")
        ordering = ["de_an", "indicator__order"]
        constraints = [
            models.UniqueConstraint(fields=["de_an", "indicator"], name="dash_output_de_an_indicator_unique"),
        ]
        indexes = [models.Index(fields=["indicator", "de_an"], name="dash_output_indicator")]

    def __str__(self):
        return f"{self.de_an_id} · {self.indicator_id}: {self.planned}/{self.achieved}"


class DeAnEconomicResult(models.Model):
    de_an = models.OneToOneField("projects.DeAn", verbose_name=_("đề án"), on_delete=models.CASCADE,
                                 related_name="economic_result")
    output_value = models.BigIntegerField(_("giá trị sản xuất (đồng/năm)"), default=0)
    revenue = models.BigIntegerField(_("doanh thu (đồng/năm)"), default=0)
    jobs_created = models.PositiveIntegerField(_("việc làm tạo thêm"), default=0)
    counterpart_mobilised = models.BigIntegerField(_("vốn đối ứng huy động (đồng)"), default=0)
    recorded_at = models.DateTimeField(_("ghi lúc"), default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("người ghi"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("hiệu quả kinh tế của đề án")
        verbose_name_plural = _("hiệu quả kinh tế của đề án")
        constraints = [
            models.CheckConstraint(condition=Q(output_value__gte=0), name="dash_econ_output_value_non_negative"),
            models.CheckConstraint(condition=Q(revenue__gte=0), name="dash_econ_revenue_non_negative"),
            models.CheckConstraint(condition=Q(counterpart_mobilised__gte=0),
                                   name="dash_econ_counterpart_non_negative"),
        ]

    def __str__(self):
        return f"{self.de_an_id}: {self.revenue}"


# Steps where a đề án waits for somebody (the review queue), in lifecycle order. The queue-age block
# of the dashboards reports these steps; ``QueueTotals`` keeps one pair of columns per step.
QUEUE_STATES = ("submitted", "forwarded", "under_appraisal", "returned", "approved", "adjustment_requested",
                "accepted")


class QueueTotals(models.Model):
    """Per đề án, the sums of its ``projects.Transition`` rows that the review-queue age needs, so that
    a dashboard reads one narrow row per đề án instead of grouping every transition.

    Derived data, a pure function of the đề án's transitions (times in seconds since the epoch):
    ``last_at`` = the latest ``at``; for each step S of ``QUEUE_STATES``, ``left_S`` = the number of
    transitions leaving S and ``net_S`` = Σ ``at`` of those leaving S − Σ ``at`` of those entering S.
    Rewritten from the transition rows by ``dashboards.services.queue_totals_refresh`` in the same
    transaction as every write of transitions (``projects.services`` and ``projects.scale``); no row for
    a đề án without transitions. ``dashboards.services.queue_totals_rebuild`` recomputes all of it."""

    de_an = models.OneToOneField("projects.DeAn", verbose_name=_("đề án"), on_delete=models.CASCADE,
                                 primary_key=True, related_name="+")
    last_at = models.FloatField(_("lần chuyển trạng thái cuối (giây)"))
    left_submitted = models.IntegerField(_("số lần rời trạng thái «Đã gửi Sở Công Thương»"), default=0)
    net_submitted = models.FloatField(_("thời gian ở trạng thái «Đã gửi Sở Công Thương» (giây, ròng)"), default=0)
    left_forwarded = models.IntegerField(_("số lần rời trạng thái «Đã gửi Cục»"), default=0)
    net_forwarded = models.FloatField(_("thời gian ở trạng thái «Đã gửi Cục» (giây, ròng)"), default=0)
    left_under_appraisal = models.IntegerField(_("số lần rời trạng thái «Đang thẩm định»"), default=0)
    net_under_appraisal = models.FloatField(_("thời gian ở trạng thái «Đang thẩm định» (giây, ròng)"), default=0)
    left_returned = models.IntegerField(_("số lần rời trạng thái «Trả lại để hoàn thiện»"), default=0)
    net_returned = models.FloatField(_("thời gian ở trạng thái «Trả lại để hoàn thiện» (giây, ròng)"), default=0)
    left_approved = models.IntegerField(_("số lần rời trạng thái «Đã phê duyệt»"), default=0)
    net_approved = models.FloatField(_("thời gian ở trạng thái «Đã phê duyệt» (giây, ròng)"), default=0)
    left_adjustment_requested = models.IntegerField(_("số lần rời trạng thái «Đề nghị điều chỉnh»"), default=0)
    net_adjustment_requested = models.FloatField(_("thời gian ở trạng thái «Đề nghị điều chỉnh» (giây, ròng)"), default=0)
    left_accepted = models.IntegerField(_("số lần rời trạng thái «Đã nghiệm thu»"), default=0)
    net_accepted = models.FloatField(_("thời gian ở trạng thái «Đã nghiệm thu» (giây, ròng)"), default=0)

    class Meta:
        verbose_name = _("tổng hợp lịch sử chuyển trạng thái của đề án")
        verbose_name_plural = _("tổng hợp lịch sử chuyển trạng thái của đề án")

    def __str__(self):
        return f"{self.de_an_id}: {self.last_at}"
