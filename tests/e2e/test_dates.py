"""Dates in an English-installed Chromium: the portal's date field shows and takes dd/mm/yyyy (a native
date input would show mm/dd/yyyy there), its calendar button writes the chosen day back as dd/mm/yyyy,
and the đề án is saved with the day the officer meant."""
import datetime

import pytest
from playwright.sync_api import expect

from projects.models import DeAn
from tests.khuyencong.factories import PASSWORD, centre_user


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-US"}


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_dates_are_dd_mm_yyyy_in_an_english_browser(live_server, page, screenshot_dir):
    base = live_server.url
    user = centre_user("24")
    page.goto(f"{base}/dang-nhap/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")  # Vietnamese, whatever the browser
    page.get_by_label("Tên đăng nhập").fill(user.username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.goto(f"{base}/de-an/tao-moi/")
    start = page.get_by_label("Ngày bắt đầu")
    end = page.get_by_label("Ngày kết thúc")
    expect(start).to_have_attribute("type", "text")
    expect(start).to_have_attribute("placeholder", "dd/mm/yyyy")
    # The calendar button: the browser's own picker, whose choice comes back as dd/mm/yyyy.
    buttons = page.get_by_role("button", name="Chọn ngày trên lịch")
    expect(buttons).to_have_count(2)
    start.fill("5/3/2026")
    buttons.first.click()  # opens the picker on the typed day
    picker = page.locator(".date-field").first.locator("input.date-picker")
    expect(picker).to_have_value("2026-03-05")
    page.locator(".date-field").nth(1).locator("input.date-picker").evaluate(
        "p => { p.value = '2027-11-30'; p.dispatchEvent(new Event('change', {bubbles: true})); }")
    expect(end).to_have_value("30/11/2027")
    expect(end).to_be_focused()
    page.screenshot(path=f"{screenshot_dir}/dates-english-browser.png", full_page=False)
    page.get_by_label("Tên đề án").fill("Đề án thử ngày tháng")
    page.get_by_label("Cấp").select_option("kcqg")
    page.locator("h1").click()
    page.get_by_role("button", name="Tạo đề án").click()
    expect(page.locator(".messages")).to_be_visible()
    de_an = DeAn.objects.get(name="Đề án thử ngày tháng")
    assert (de_an.start_date, de_an.end_date) == (datetime.date(2026, 3, 5), datetime.date(2027, 11, 30))
    # A day that does not exist is refused in Vietnamese, with what was typed kept.
    page.goto(f"{base}/de-an/{de_an.pk}/sua/")
    expect(page.get_by_label("Ngày bắt đầu")).to_have_value("05/03/2026")
    page.get_by_label("Ngày bắt đầu").fill("31/02/2026")
    page.locator("h1").click()
    page.get_by_role("button", name="Lưu thay đổi").click()
    expect(page.locator("main")).to_contain_text("Ngày «31/02/2026» không có trên lịch")
    expect(page.get_by_label("Ngày bắt đầu")).to_have_value("31/02/2026")
