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


class DeAnIndicatorOutput(models.Model):
    de_an = models.ForeignKey("projects.DeAn", verbose_name=_("đề án"), on_delete=models.CASCADE,
                              related_name="indicator_outputs")
    indicator = models.ForeignKey("khuyencong.Indicator", verbose_name=_("chỉ tiêu"), on_delete=models.PROTECT,
                                  related_name="de_an_outputs")
    planned = models.PositiveIntegerField(_("kế hoạch"), default=0)
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
