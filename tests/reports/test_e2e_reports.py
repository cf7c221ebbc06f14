"""Browser: a reviewer asks for the national report, watches its progress, downloads the PDF.

Chromium (Playwright) drives the live server; a real Celery worker renders the report (PostgreSQL and
Redis required). The PDF's pages are rendered to PNG next to the screenshots for a person to look at.
"""
import os
import subprocess

import pytest
from playwright.sync_api import expect

from reports.models import ReportJob
from tests.reports.conftest import pdf_text
from tests.reports.factories import build_year, group_dots
from tests.reports.test_worker import broker, media, services_up, workers  # noqa: F401  (fixtures)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_reviewer_requests_watches_and_downloads_the_national_report(
    live_server, page, screenshot_dir, broker, workers, media, tmp_path  # noqa: F811
):
    from tests.khuyencong.factories import PASSWORD, reviewer

    expected = build_year(year=2025, n_de_an=60, n_records=6)
    user = reviewer(username="cuc.baocao")
    # Hold each job 3 s in "running" so the page can be seen polling.
    workers(REPORT_RENDER_PAUSE_SECONDS="3")

    page.goto(f"{live_server.url}/dang-nhap/?next=/bao-cao/")
    page.get_by_label("Tên đăng nhập").fill(user.username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Báo cáo")
    # Each form's labels name its own fields: the request form's, not the list filter's (same labels).
    request_form = page.get_by_role("region", name="Yêu cầu tạo báo cáo")
    request_form.get_by_label("Loại báo cáo").select_option("national")
    request_form.get_by_label("Năm").fill("2025")
    page.screenshot(path=os.path.join(screenshot_dir, "reports-request.png"), full_page=True)
    page.get_by_role("button", name="Tạo báo cáo").click()

    status = page.locator("#job-status")
    # The live region stays the same element throughout (polling swaps only its text), so screen
    # readers hear each change: the progress, then that the report is ready.
    live = page.get_by_role("status").filter(has=page.locator("span.status"))
    page.evaluate("window.liveRegion = document.getElementById('job-status-live')")
    expect(status).to_have_attribute("data-status", "running", timeout=30_000)
    expect(status.get_by_role("progressbar")).to_be_visible()
    expect(live).to_contain_text("Tiến độ:")
    page.screenshot(path=os.path.join(screenshot_dir, "reports-running.png"), full_page=True)
    download_link = page.get_by_role("link", name="Tải báo cáo PDF")
    expect(download_link).to_be_visible(timeout=120_000)  # htmx polling brought the new state in
    expect(status).to_have_attribute("data-status", "done")
    expect(live).to_have_text("Đã xong Báo cáo đã sẵn sàng để tải về.")
    assert page.evaluate("document.getElementById('job-status-live') === window.liveRegion")
    page.screenshot(path=os.path.join(screenshot_dir, "reports-done.png"), full_page=True)

    with page.expect_download() as info:
        download_link.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert target.name == "bao-cao-toan-quoc-2025.pdf"
    text = " ".join(pdf_text(target, layout=True).split())
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and group_dots(expected["support"]) in text
    job = ReportJob.objects.get()
    assert job.status == "done" and job.requested_by == user
    prefix = os.path.join(screenshot_dir, "report-national-2025")
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "3", str(target), prefix], check=True)
