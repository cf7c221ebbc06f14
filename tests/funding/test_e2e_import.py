"""Browser: an administrator uploads the plan annex, looks at the preview, confirms."""
import os
import re

import pytest
from playwright.sync_api import expect

from tests.funding.conftest import ANNEX


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_admin_uploads_previews_and_confirms_the_plan_annex(live_server, page, screenshot_dir):
    from khuyencong.models import User

    User.objects.create_user(username="quantri", password="mat-khau-dai-12345", role="admin", first_name="Quản trị")
    page.goto(f"{live_server.url}/dang-nhap/")
    page.get_by_label("Tên đăng nhập").fill("quantri")
    page.get_by_label("Mật khẩu").fill("mat-khau-dai-12345")
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("link", name="Nhập Excel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nhập kinh phí từ Excel")
    page.get_by_label("Tệp Excel (.xlsx)").set_input_files(ANNEX)
    page.get_by_role("button", name="Tải lên và xem trước").click()
    expect(page).to_have_url(re.compile(r"/kinh-phi/nhap/\d+/$"))
    expect(page.locator(".status").first).to_have_text("Đã xem trước, chờ xác nhận")
    expect(page.locator(".import-counts")).to_contain_text("tạo mới 30")
    expect(page.locator(".import-totals tfoot")).to_contain_text("6.800.000.000 đ")
    expect(page.locator(".import-rows")).to_contain_text("Tỉnh Bắc Giang (24)")
    page.screenshot(path=os.path.join(screenshot_dir, "funding-import-preview.png"), full_page=True)
    page.get_by_role("button", name="Xác nhận nhập").click()
    expect(page.locator(".messages")).to_contain_text("Đã nhập lô")
    expect(page.locator(".status").first).to_have_text("Đã nhập")
    page.screenshot(path=os.path.join(screenshot_dir, "funding-import-applied.png"), full_page=True)
    page.goto(f"{live_server.url}/kinh-phi/toan-quoc/?nam=2024")
    expect(page.locator("table.funding-summary tfoot")).to_contain_text("6.800.000.000 đ")
    page.screenshot(path=os.path.join(screenshot_dir, "funding-national-2024.png"), full_page=True)
