"""Browser: an administrator uploads a workbook of accounts in
/quan-tri/, looks at the preview (a wrong row first, then the corrected file) and confirms."""
import os

import pytest
from django.core import mail
from playwright.sync_api import expect

from .test_account_import import GOOD, book


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_admin_uploads_previews_and_confirms_accounts(live_server, page, screenshot_dir, eager_celery, tmp_path):
    from khuyencong.models import Organisation, User

    User.objects.create_user(username="quantri", password="mat-khau-dai-12345", role="admin", is_staff=True,
                             organisation=Organisation.objects.get(code="cuc-khuyen-cong"), first_name="Quản trị")
    wrong, right = tmp_path / "sai.xlsx", tmp_path / "dung.xlsx"
    wrong.write_bytes(book(GOOD + [["quantri", "", "", "x@moit.gov.vn", "Quản trị hệ thống", "", "", ""]]).getvalue())
    right.write_bytes(book(GOOD).getvalue())
    page.goto(f"{live_server.url}/dang-nhap/")
    page.get_by_label("Tên đăng nhập").fill("quantri")
    page.get_by_label("Mật khẩu").fill("mat-khau-dai-12345")
    page.get_by_role("button", name="Đăng nhập").click()
    page.goto(f"{live_server.url}/quan-tri/khuyencong/user/")
    page.get_by_role("link", name="Nhập từ Excel").click()
    page.get_by_label("Tệp Excel (.xlsx)").set_input_files(str(wrong))
    page.get_by_role("button", name="Tải lên và xem trước").click()
    expect(page.locator(".errornote")).to_contain_text("1 dòng có lỗi")
    expect(page.locator("#result_list")).to_contain_text("Tên đăng nhập «quantri» đã có tài khoản.")
    expect(page.get_by_role("button", name="Tạo 4 tài khoản và gửi thư mời")).to_have_count(0)
    page.screenshot(path=os.path.join(screenshot_dir, "accounts-import-errors.png"), full_page=True)
    page.get_by_role("link", name="Tải lên tệp đã sửa").click()
    page.get_by_label("Tệp Excel (.xlsx)").set_input_files(str(right))
    page.get_by_role("button", name="Tải lên và xem trước").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    expect(page.locator("#result_list")).to_contain_text("Trung tâm Khuyến công tỉnh Bắc Ninh")
    page.screenshot(path=os.path.join(screenshot_dir, "accounts-import-preview.png"), full_page=True)
    page.get_by_role("button", name="Tạo 3 tài khoản và gửi thư mời").click()
    expect(page.locator(".messagelist")).to_contain_text("Đã tạo 3 tài khoản từ tệp «dung.xlsx».")
    expect(page.locator("#result_list")).to_contain_text("tt.hanoi.hoa")
    page.screenshot(path=os.path.join(screenshot_dir, "accounts-import-done.png"), full_page=True)
    assert User.objects.filter(username__in=["tt.hanoi.hoa", "so.bacninh.lam", "cuc.moi"]).count() == 3
    assert len(mail.outbox) == 3
