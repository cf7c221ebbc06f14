"""Helpers shared by the browser tests (Playwright driving Debian's Chromium)."""
from playwright.sync_api import expect

from tests.khuyencong.factories import PASSWORD


def sign_in(page, base, user):
    """Sign ``user`` in through the login page (any earlier session cleared) and wait for the home page."""
    page.context.clear_cookies()
    page.goto(f"{base}/dang-nhap/")
    page.get_by_label("Tên đăng nhập").fill(user.username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Xin chào")
