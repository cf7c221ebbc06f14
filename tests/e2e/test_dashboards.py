"""Each role opens its dashboards in Chromium (national for the ministry, province for local staff),
follows a chart's link to the matching đề án list and a block's table; screenshots are saved."""
import os
import re

import pytest
from playwright.sync_api import expect

from tests.khuyencong.factories import PASSWORD

PROGRAMME = "programme=qd-1881-2021-2025"


def _login(page, live_server, user):
    page.goto(f"{live_server.url}/dang-nhap/")
    page.get_by_label("Tên đăng nhập").fill(user.username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page).to_have_url(f"{live_server.url}/")


def _logout(page):
    page.get_by_role("button", name="Đăng xuất").click()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_each_role_opens_its_dashboards(live_server, page, screenshot_dir):
    from tests.dashboards.factories import world

    users = world()
    shot = lambda name: page.screenshot(path=os.path.join(screenshot_dir, f"dashboard-{name}.png"), full_page=True)  # noqa: E731
    for key in ("reviewer", "admin"):
        user = getattr(users, key)
        _login(page, live_server, user)
        page.get_by_role("navigation", name="Điều hướng chính").get_by_role("link", name="Tổng quan").click()
        expect(page).to_have_url(re.compile(r"/tong-quan/toan-quoc/$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("Toàn quốc")
        page.goto(f"{live_server.url}/tong-quan/toan-quoc/?{PROGRAMME}")
        for title in ("Kết quả thực hiện chỉ tiêu chương trình", "So sánh các tỉnh, thành phố", "Tuổi hàng chờ xử lý"):
            expect(page.get_by_role("heading", name=title)).to_be_visible()
        expect(page.locator("svg[role=img]").first).to_be_visible()
        shot(f"national-{key}")
        if key == "reviewer":
            page.goto(f"{live_server.url}/tong-quan/toan-quoc/?{PROGRAMME}&grouping=historical")
            shot("national-historical")
            # A year bar of the money chart leads to the đề án list of that year.
            page.locator("#kinh-phi svg a").first.click()
            expect(page).to_have_url(re.compile(r"/de-an/\?year=2021"))
            shot("chart-click-list")
            page.goto(f"{live_server.url}/tong-quan/toan-quoc/?{PROGRAMME}")
            page.locator("#tinh").get_by_role("link", name="Bảng số liệu").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("So sánh các tỉnh, thành phố")
            shot("table-provinces")
            page.goto(f"{live_server.url}/tong-quan/tinh/24/?{PROGRAMME}")
            shot("province-as-reviewer")
        _logout(page)
    for key in ("province", "centre"):
        user = getattr(users, key)
        _login(page, live_server, user)
        page.get_by_role("navigation", name="Điều hướng chính").get_by_role("link", name="Tổng quan").click()
        expect(page).to_have_url(re.compile(r"/tong-quan/tinh/24/$"))
        page.goto(f"{live_server.url}/tong-quan/tinh/24/?{PROGRAMME}")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Bắc Ninh")
        expect(page.get_by_role("heading", name=re.compile("Đề án chờ tôi xử lý"))).to_be_visible()
        expect(page.get_by_role("heading", name=re.compile("Kiến nghị sau kiểm tra đã quá hạn"))).to_be_visible()
        expect(page.get_by_role("heading", name="So với bình quân cả nước")).to_be_visible()
        shot(f"province-{key}")
        page.goto(f"{live_server.url}/tong-quan/tinh/19/?{PROGRAMME}")
        expect(page.get_by_role("alert")).to_contain_text("tỉnh, thành phố mình")
        page.goto(f"{live_server.url}/tong-quan/toan-quoc/")
        expect(page.get_by_role("alert")).to_contain_text("Chỉ Cục")
        if key == "province":
            shot("refused-national")
            page.goto(f"{live_server.url}/tong-quan/tinh/24/?programme=qd-1881-2021-2025&year_from=2019")
            expect(page.get_by_role("alert")).to_contain_text("nằm ngoài chương trình")
            shot("bad-year")
        _logout(page)
