"""One account cannot fill the report workers' queue: at most REPORT_MAX_ACTIVE_PER_USER of its own
reports wait or render at once; joining an identical request already queued is always allowed."""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from khuyencong.models import Province
from reports import services
from reports.models import ReportJob
from tests.reports import inspection_factories as f

pytestmark = pytest.mark.django_db

LIMIT_MESSAGE = ("Bạn đang có 3 báo cáo chờ hoặc đang được lập. Hãy đợi một báo cáo xong (xem danh sách bên dưới) "
                 "rồi yêu cầu tiếp.")


def _ask(user, year, signer=""):
    return services.report_request(user=user, kind="province", year=year,
                                   province=Province.objects.current().get(code="24"), signer_name=signer)


def test_a_fourth_waiting_report_is_refused_until_one_is_done(settings):
    settings.REPORT_MAX_ACTIVE_PER_USER = 3
    user = f.centre_user("24")
    jobs = [_ask(user, year) for year in (2023, 2024, 2025)]  # on_commit never runs here: they stay queued
    assert {j.status for j in jobs} == {"queued"}
    with pytest.raises(ValidationError) as err:
        _ask(user, 2022)
    assert err.value.messages == [LIMIT_MESSAGE]
    with pytest.raises(ValidationError):
        _ask(user, 2025, signer="Nguyễn Văn A")  # another signer is another document
    assert ReportJob.objects.count() == 3
    # The same report already queued: joined, not refused.
    assert _ask(user, 2025).joined
    # Someone else is not held back by this user's queue.
    other = f.province_user("24")
    assert not _ask(other, 2022).joined
    # One ended (here: failed): the user may ask again.
    ReportJob.objects.filter(pk=jobs[0].pk).update(status="failed", error="Lỗi thử")
    assert _ask(user, 2022).joined  # the other user's 2022 report, already queued
    assert not _ask(user, 2021).joined


def test_the_page_tells_the_user_and_queues_nothing(client, settings):
    settings.REPORT_MAX_ACTIVE_PER_USER = 1
    user = f.centre_user("24")
    province = Province.objects.current().get(code="24")
    client.force_login(user)
    data = {"kind": "province", "province": province.pk, "year": 2025, "grouping": "current"}
    client.post(reverse("reports:request"), data)
    page = client.post(reverse("reports:request"), {**data, "year": 2024}, follow=True).content.decode()
    assert "Bạn đang có 1 báo cáo chờ hoặc đang được lập." in page
    assert ReportJob.objects.filter(requested_by=user).count() == 1


def test_scheduled_reports_are_not_limited(settings):
    settings.REPORT_MAX_ACTIVE_PER_USER = 1
    jobs = services.report_request_annual(year=2025)
    assert len(jobs) == 35 and ReportJob.objects.count() == 35
