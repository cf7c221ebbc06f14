"""Each demo role signs in through the real login page and sees its home page (Playwright + Chromium)."""
import os
import re

import pytest
from playwright.sync_api import expect

from khuyencong.demo import DEMO_ACCOUNTS, load_demo

ROLE_TEXT = {
    "centre": ("Cán bộ Trung tâm khuyến công", "Trung tâm Khuyến công tỉnh Bắc Ninh", "Tỉnh Bắc Ninh"),
    "province": ("Cán bộ Sở Công Thương", "Sở Công Thương tỉnh Bắc Ninh", "Tỉnh Bắc Ninh"),
    "reviewer": ("Chuyên viên thẩm định (Cục)", "Cục Đổi mới sáng tạo, Chuyển đổi xanh và Khuyến công", "Toàn quốc"),
    "admin": ("Quản trị hệ thống", "Cục Đổi mới sáng tạo, Chuyển đổi xanh và Khuyến công", "Toàn quốc"),
    "centre_other": ("Cán bộ Trung tâm khuyến công", "Trung tâm Khuyến công tỉnh Thái Nguyên", "Tỉnh Thái Nguyên"),
    "province_other": ("Cán bộ Sở Công Thương", "Sở Công Thương tỉnh Thái Nguyên", "Tỉnh Thái Nguyên"),
}


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_each_demo_role_signs_in_and_sees_its_home_page(live_server, page, screenshot_dir):
    load_demo()
    for spec in DEMO_ACCOUNTS:
        role, organisation, province = ROLE_TEXT[spec.key]
        page.goto(f"{live_server.url}/")
        expect(page).to_have_url(re.compile(r"/dang-nhap/\?next=/$"))
        expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
        if spec.key == "centre":
            page.screenshot(path=os.path.join(screenshot_dir, "login.png"), full_page=True)
        page.get_by_label("Tên đăng nhập").fill(spec.username)
        page.get_by_label("Mật khẩu").fill(spec.password)
        page.get_by_role("button", name="Đăng nhập").click()
        expect(page).to_have_url(f"{live_server.url}/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Xin chào")
        main = page.locator("main")
        expect(main).to_contain_text(role)
        expect(main).to_contain_text(organisation)
        expect(main).to_contain_text(province)
        expect(main).to_contain_text("Việc đang chờ bạn")
        nav = page.get_by_role("navigation", name="Điều hướng chính")
        expect(nav.get_by_role("link", name="Trang chủ")).to_have_attribute("aria-current", "page")
        admin_link = nav.get_by_role("link", name="Quản trị", exact=True)
        if spec.key == "admin":
            expect(admin_link).to_be_visible()
        else:
            expect(admin_link).to_have_count(0)
        page.screenshot(path=os.path.join(screenshot_dir, f"home-{spec.key}.png"), full_page=True)
        if spec.key in ("reviewer", "centre"):
            nav.get_by_role("link", name="Cán bộ, tài khoản").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Cán bộ, tài khoản")
            if spec.key == "centre":  # scoped to Bắc Ninh
                expect(page.locator("main")).not_to_contain_text("Thái Nguyên")
            else:
                expect(page.locator("main")).to_contain_text("Thái Nguyên")
            page.screenshot(path=os.path.join(screenshot_dir, f"users-{spec.key}.png"), full_page=True)
        if spec.key == "reviewer":
            nav.get_by_role("link", name="Danh mục tỉnh, thành phố").click()
            expect(page.locator("main")).to_contain_text("89 – An Giang; 91 – Kiên Giang")
            page.screenshot(path=os.path.join(screenshot_dir, "provinces.png"), full_page=True)
        page.get_by_role("button", name="Đăng xuất").click()
        expect(page).to_have_url(re.compile(r"/dang-nhap/"))


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_wrong_password_and_language_switch(live_server, page, screenshot_dir):
    load_demo()
    page.goto(f"{live_server.url}/dang-nhap/")
    page.get_by_label("Tên đăng nhập").fill("tt.bacninh")
    page.get_by_label("Mật khẩu").fill("sai-mat-khau")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("alert")).to_contain_text("Tên đăng nhập hoặc mật khẩu không đúng")
    page.screenshot(path=os.path.join(screenshot_dir, "login-error.png"), full_page=True)
    page.get_by_label("Ngôn ngữ").select_option("en")
    page.get_by_role("button", name="Đổi").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.screenshot(path=os.path.join(screenshot_dir, "login-en.png"), full_page=True)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_repeated_wrong_passwords_lock_sign_in(live_server, page, screenshot_dir):
    from django.conf import settings

    load_demo()
    page.goto(f"{live_server.url}/dang-nhap/")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        page.get_by_label("Tên đăng nhập").fill("so.bacninh")
        page.get_by_label("Mật khẩu").fill(f"doan-mo-{attempt}")
        page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name="Tạm khóa đăng nhập")).to_be_visible()
    page.screenshot(path=os.path.join(screenshot_dir, "locked-out.png"), full_page=True)
