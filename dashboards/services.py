"""Writes of the dashboards app: planned and achieved outputs per indicator, economic results.

Each service checks ``khuyencong.access.can`` (scope, role, the đề án's state), locks the đề án row,
validates, writes and logs an ``AuditEvent``. A refusal raises ``OutputRefused`` with a Vietnamese
message and leaves the data untouched.
"""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from khuyencong import access
from khuyencong.models import AuditEvent

from .models import DeAnEconomicResult, DeAnIndicatorOutput

MAX_UNITS = 10_000_000
MAX_DONG = 10**16


class OutputRefused(Exception):
    """The write was refused; ``str(err)`` is the Vietnamese reason."""


def _lock(de_an):
    from projects.models import DeAn

    return DeAn.objects.select_for_update().get(pk=de_an.pk)


def _check(decision):
    if not decision:
        raise OutputRefused(decision.reason)


def _check_indicator(de_an, indicator):
    if indicator is None:
        raise OutputRefused(_("Không tìm thấy chỉ tiêu."))
    if de_an.programme_id is not None and indicator.programme_id != de_an.programme_id:
        raise OutputRefused(_("Chỉ tiêu «%(i)s» không thuộc chương trình của đề án.") % {"i": indicator.name})


def _units(value, label):
    if isinstance(value, bool) or not isinstance(value, int):
        raise OutputRefused(_("%(f)s phải là số nguyên.") % {"f": label})
    if value < 0:
        raise OutputRefused(_("%(f)s không được âm.") % {"f": label})
    if value > MAX_UNITS:
        raise OutputRefused(_("%(f)s quá lớn (tối đa %(m)s).") % {"f": label, "m": f"{MAX_UNITS:,}".replace(",", ".")})
    return value


def _money(value, label):
    if isinstance(value, bool) or not isinstance(value, int):
        raise OutputRefused(_("%(f)s phải là số đồng nguyên.") % {"f": label})
    if value < 0:
        raise OutputRefused(_("%(f)s không được âm.") % {"f": label})
    if value > MAX_DONG:
        raise OutputRefused(_("%(f)s quá lớn; kiểm tra lại đơn vị tính.") % {"f": label})
    return value


def _audit(actor, action, de_an, summary, data):
    AuditEvent.objects.create(actor=actor, action=action, object_type="projects.DeAn", object_id=str(de_an.pk),
                              summary=summary[:500], data=data)


def output_plan_set(*, actor, de_an, indicator, planned: int, note: str = "") -> DeAnIndicatorOutput:
    """Declare the output ``de_an`` plans for ``indicator`` (while the dossier is being drafted)."""
    with transaction.atomic():
        de_an = _lock(de_an)
        _check(access.can(actor, "dashboards.output_plan", de_an))
        _check_indicator(de_an, indicator)
        planned = _units(planned, _("Sản phẩm kế hoạch"))
        output, _created = DeAnIndicatorOutput.objects.select_for_update().get_or_create(de_an=de_an, indicator=indicator)
        before = output.planned
        output.planned = planned
        output.planned_at = timezone.now()
        output.planned_by = actor
        if note:
            output.note = note[:255]
        output.save()
        _audit(actor, "output_plan_set", de_an, _("Ghi sản phẩm kế hoạch «%(i)s»: %(n)d %(u)s") % {
            "i": indicator.name, "n": planned, "u": indicator.unit}, {"indicator": indicator.code, "before": before,
                                                                     "after": planned})
        return output


def output_record_achieved(*, actor, de_an, indicator, achieved: int, note: str = "") -> DeAnIndicatorOutput:
    """Record the output ``de_an`` achieved for ``indicator`` (implementation or later)."""
    with transaction.atomic():
        de_an = _lock(de_an)
        _check(access.can(actor, "dashboards.output_record", de_an))
        _check_indicator(de_an, indicator)
        achieved = _units(achieved, _("Sản phẩm đạt được"))
        output, _created = DeAnIndicatorOutput.objects.select_for_update().get_or_create(de_an=de_an, indicator=indicator)
        before = output.achieved
        output.achieved = achieved
        output.recorded_at = timezone.now()
        output.recorded_by = actor
        if note:
            output.note = note[:255]
        output.save()
        _audit(actor, "output_record_achieved", de_an, _("Ghi kết quả «%(i)s»: %(n)d %(u)s") % {
            "i": indicator.name, "n": achieved, "u": indicator.unit}, {"indicator": indicator.code, "before": before,
                                                                      "after": achieved})
        return output


def economic_result_record(*, actor, de_an, output_value: int, revenue: int, jobs_created: int,
                           counterpart_mobilised: int) -> DeAnEconomicResult:
    """Record the economic results stated at acceptance (nghiệm thu)."""
    with transaction.atomic():
        de_an = _lock(de_an)
        _check(access.can(actor, "dashboards.economic_record", de_an))
        values = {
            "output_value": _money(output_value, _("Giá trị sản xuất")),
            "revenue": _money(revenue, _("Doanh thu")),
            "jobs_created": _units(jobs_created, _("Số việc làm tạo thêm")),
            "counterpart_mobilised": _money(counterpart_mobilised, _("Vốn đối ứng huy động")),
        }
        result, _created = DeAnEconomicResult.objects.update_or_create(
            de_an=de_an, defaults={**values, "recorded_at": timezone.now(), "recorded_by": actor})
        _audit(actor, "economic_result_record", de_an, _("Ghi hiệu quả kinh tế của đề án %(c)s") % {"c": de_an.code},
               values)
        return result
