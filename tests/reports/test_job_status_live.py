"""The report job page's progress is said to screen readers: a live region (role="status") that stays on
the page, never swapped by the polling, holds one short sentence (state and percentage; then that the
report is ready, or that it failed). The polling replaces only the details block inside the card and,
when the state changed since the page's sentence, that sentence's text (htmx out-of-band, innerHTML)."""
import re
from unittest import mock

import pytest
from django.urls import reverse

from reports import services
from reports.models import JobStatus, ReportJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(users):
    with mock.patch.object(services, "report_dispatch", return_value=True):
        return services.report_request(user=users["reviewer"], kind="national", year=2025)


def _live(html):
    match = re.search(r'<p id="job-status-live" role="status" aria-live="polite" aria-atomic="true">(.*?)</p>', html, re.S)
    assert match, "no live region"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def test_the_live_region_is_outside_the_polled_block_and_says_the_state(client, users, job):
    client.force_login(users["reviewer"])
    page = client.get(reverse("reports:job_detail", args=[job.pk])).content.decode()
    assert _live(page) == "Đang chờ xử lý"
    polled = re.search(r'<div id="job-status"[^>]*>', page).group(0)
    assert 'hx-trigger="every 2s"' in polled and 'hx-swap="outerHTML"' in polled and "aria-live" not in polled
    assert "?shown=queued-0" in polled
    assert page.index('id="job-status-live"') < page.index('id="job-status"')  # not inside what is swapped
    assert page.count('aria-live="polite"') == 1 and 'hx-swap-oob' not in page

    ReportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, progress=40, message="Đang dàn trang PDF…")
    url = reverse("reports:job_status", args=[job.pk])
    partial = client.get(url + "?shown=queued-0").content.decode()
    oob = re.search(r'<p id="job-status-live" hx-swap-oob="innerHTML">(.*?)</p>', partial, re.S)
    assert oob and re.sub(r"<[^>]+>", "", oob.group(1)).strip() == "Đang tạo Tiến độ: 40 %."
    assert "role=" not in oob.group(0) and "?shown=running-40" in partial
    # Nothing new since the last poll: the sentence is not sent again (not read out again).
    assert "hx-swap-oob" not in client.get(url + "?shown=running-40").content.decode()

    ReportJob.objects.filter(pk=job.pk).update(status=JobStatus.DONE, progress=100, file="bao-cao/x.pdf")
    partial = client.get(url + "?shown=running-40").content.decode()
    assert "hx-trigger" not in partial and "Báo cáo đã sẵn sàng để tải về." in partial and "hx-swap-oob" in partial
    assert "Báo cáo đã sẵn sàng để tải về." in _live(client.get(reverse("reports:job_detail", args=[job.pk])).content.decode())

    ReportJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error="Lỗi khi tạo báo cáo: thử")
    partial = client.get(url + "?shown=running-40").content.decode()
    assert "hx-trigger" not in partial and "Không tạo được báo cáo." in partial and "Lỗi khi tạo báo cáo: thử" in partial
