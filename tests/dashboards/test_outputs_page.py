"""The page recording one đề án's outputs and economic results: writes through the services, refusals
shown with their reason and nothing saved, another province's đề án is a 404."""
import pytest

from dashboards.models import DeAnEconomicResult, DeAnIndicatorOutput
from khuyencong.models import Programme, Province
from tests.funding.factories import make_de_an

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(db):
    from types import SimpleNamespace

    from tests.khuyencong.factories import centre_user, province_user

    programme = Programme.objects.get(code="qd-1881-2021-2025")
    own = Province.objects.get(code="24", era="current")
    other = Province.objects.get(code="19", era="current")
    return SimpleNamespace(
        programme=programme, own=own, other=other, centre=centre_user("24"), so=province_user("24"),
        running=make_de_an(province=own, year=2024, status="in_implementation", programme=programme),
        draft=make_de_an(province=own, year=2025, status="draft", programme=programme),
        accepted=make_de_an(province=own, year=2023, status="accepted", programme=programme),
        foreign=make_de_an(province=other, year=2024, status="in_implementation", programme=programme),
    )


def test_record_achieved_and_economic_results(client, setup):
    client.force_login(setup.so)
    url = f"/tong-quan/ket-qua/?de_an={setup.running.pk}"
    page = client.get(url).content.decode()
    assert "Nhãn hiệu" in page or "nhãn hiệu" in page
    assert "Hiệu quả kinh tế được ghi khi nghiệm thu" in page  # economic results not yet
    response = client.post(url, {"achieved-nhan-hieu": "12"}, follow=True)
    assert "Đã ghi 1 thay đổi" in response.content.decode()
    assert DeAnIndicatorOutput.objects.get(de_an=setup.running, indicator__code="nhan-hieu").achieved == 12
    url = f"/tong-quan/ket-qua/?de_an={setup.accepted.pk}"
    client.post(url, {"output_value": "1.500.000.000", "revenue": "2,25 tỷ đồng", "jobs_created": "35",
                      "counterpart_mobilised": "400.000.000"})
    result = DeAnEconomicResult.objects.get(de_an=setup.accepted)
    assert (result.output_value, result.revenue, result.jobs_created, result.counterpart_mobilised) == (
        1_500_000_000, 2_250_000_000, 35, 400_000_000)


def test_refusals_show_the_reason_and_save_nothing(client, setup):
    client.force_login(setup.so)
    url = f"/tong-quan/ket-qua/?de_an={setup.draft.pk}"
    response = client.post(url, {"achieved-nhan-hieu": "3"}, follow=True)
    text = response.content.decode()
    assert "chưa triển khai thực hiện" in text
    assert not DeAnIndicatorOutput.objects.exists()
    # Two changes in one form: the second is refused, the first is rolled back too.
    url = f"/tong-quan/ket-qua/?de_an={setup.running.pk}"
    response = client.post(url, {"achieved-nhan-hieu": "3", "achieved-mo-hinh-trinh-dien": "abc"}, follow=True)
    assert "không phải là số nguyên" in response.content.decode()
    assert not DeAnIndicatorOutput.objects.exists()
    response = client.post(f"/tong-quan/ket-qua/?de_an={setup.accepted.pk}", {"revenue": "-5"}, follow=True)
    assert "Doanh thu" in response.content.decode()
    assert not DeAnEconomicResult.objects.exists()


def test_other_province_is_not_found(client, setup):
    client.force_login(setup.centre)
    assert client.get(f"/tong-quan/ket-qua/?de_an={setup.foreign.pk}").status_code == 404
    assert client.post(f"/tong-quan/ket-qua/?de_an={setup.foreign.pk}", {"achieved-nhan-hieu": "9"}).status_code == 404
    assert client.get("/tong-quan/ket-qua/?de_an=abc").status_code == 404
    assert not DeAnIndicatorOutput.objects.exists()
