"""Planned and achieved outputs per indicator, economic results: who, when, and what is refused."""
from datetime import date

import pytest

from dashboards import services
from dashboards.models import DeAnEconomicResult, DeAnIndicatorOutput
from khuyencong.models import AuditEvent, Indicator, Programme, Province
from tests.funding.factories import make_de_an

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(db):
    from types import SimpleNamespace

    from tests.khuyencong.factories import admin_user, centre_user, province_user, reviewer

    programme = Programme.objects.get(code="qd-1881-2021-2025")
    bac_ninh = Province.objects.get(code="24", era="current")
    return SimpleNamespace(
        programme=programme, province=bac_ninh, indicator=Indicator.objects.get(programme=programme, code="nhan-hieu"),
        other_indicator=Indicator.objects.get(programme__code="qd-2646-2026-2030", code="nhan-hieu"),
        centre=centre_user("24"), so=province_user("24"), other=province_user("19"), reviewer=reviewer(),
        admin=admin_user(),
    )


def _de_an(s, status):
    return make_de_an(province=s.province, year=2024, status=status, programme=s.programme)


@pytest.mark.parametrize("status", ["draft", "submitted", "forwarded", "under_appraisal", "returned", "approved",
                                    "rejected", "cancelled"])
def test_achieved_outputs_refused_before_implementation(setup, status):
    de_an = _de_an(setup, status)
    with pytest.raises(services.OutputRefused) as err:
        services.output_record_achieved(actor=setup.so, de_an=de_an, indicator=setup.indicator, achieved=3)
    assert "chưa triển khai thực hiện" in str(err.value)
    assert "chỉ ghi được kết quả đạt được khi đề án đang thực hiện, đã nghiệm thu hoặc đã quyết toán" in str(err.value)
    assert not DeAnIndicatorOutput.objects.exists()
    assert not AuditEvent.objects.filter(action="output_record_achieved").exists()


@pytest.mark.parametrize("status", ["in_implementation", "adjustment_requested", "accepted", "settled"])
def test_achieved_outputs_recorded_from_implementation(setup, status):
    de_an = _de_an(setup, status)
    output = services.output_record_achieved(actor=setup.so, de_an=de_an, indicator=setup.indicator, achieved=4)
    assert (output.achieved, output.recorded_by) == (4, setup.so)
    services.output_record_achieved(actor=setup.reviewer, de_an=de_an, indicator=setup.indicator, achieved=5)
    assert DeAnIndicatorOutput.objects.get().achieved == 5
    assert AuditEvent.objects.filter(action="output_record_achieved", object_id=str(de_an.pk)).count() == 2


def test_other_province_and_bad_values_refused(setup):
    de_an = _de_an(setup, "in_implementation")
    cases = [
        (dict(actor=setup.other, indicator=setup.indicator, achieved=1), "thuộc tỉnh, thành phố khác"),
        (dict(actor=setup.so, indicator=setup.other_indicator, achieved=1), "không thuộc chương trình của đề án"),
        (dict(actor=setup.so, indicator=setup.indicator, achieved=-1), "Sản phẩm đạt được không được âm"),
        (dict(actor=setup.so, indicator=setup.indicator, achieved="3"), "Sản phẩm đạt được phải là số nguyên"),
        (dict(actor=setup.so, indicator=setup.indicator, achieved=10**9), "quá lớn"),
    ]
    for kwargs, message in cases:
        with pytest.raises(services.OutputRefused) as err:
            services.output_record_achieved(de_an=de_an, **kwargs)
        assert message in str(err.value)
    assert not DeAnIndicatorOutput.objects.exists()


def test_planned_outputs_only_while_drafting(setup):
    draft = _de_an(setup, "draft")
    output = services.output_plan_set(actor=setup.centre, de_an=draft, indicator=setup.indicator, planned=6)
    assert output.planned == 6 and output.achieved is None
    submitted = _de_an(setup, "submitted")
    with pytest.raises(services.OutputRefused) as err:
        services.output_plan_set(actor=setup.centre, de_an=submitted, indicator=setup.indicator, planned=6)
    assert "sản phẩm kế hoạch chỉ ghi được khi đang soạn hoặc bị trả lại" in str(err.value)
    with pytest.raises(services.OutputRefused) as err:
        services.output_plan_set(actor=setup.reviewer, de_an=draft, indicator=setup.indicator, planned=7)
    assert "Chỉ cán bộ Trung tâm khuyến công hoặc Sở Công Thương" in str(err.value)
    assert DeAnIndicatorOutput.objects.get(de_an=draft).planned == 6
    assert not DeAnIndicatorOutput.objects.filter(de_an=submitted).exists()


def test_economic_results_at_acceptance(setup):
    running = _de_an(setup, "in_implementation")
    with pytest.raises(services.OutputRefused) as err:
        services.economic_result_record(actor=setup.so, de_an=running, output_value=1, revenue=1, jobs_created=1,
                                        counterpart_mobilised=1)
    assert "Hiệu quả kinh tế được ghi khi nghiệm thu" in str(err.value)
    accepted = _de_an(setup, "accepted", ) if False else make_de_an(
        province=setup.province, year=2024, status="accepted", programme=setup.programme, accepted_on=date(2024, 12, 1))
    with pytest.raises(services.OutputRefused):
        services.economic_result_record(actor=setup.so, de_an=accepted, output_value=-5, revenue=1, jobs_created=1,
                                        counterpart_mobilised=1)
    result = services.economic_result_record(actor=setup.so, de_an=accepted, output_value=1_500_000_000,
                                             revenue=2_250_000_000, jobs_created=35, counterpart_mobilised=400_000_000)
    assert (result.revenue, result.jobs_created) == (2_250_000_000, 35)
    assert DeAnEconomicResult.objects.count() == 1
