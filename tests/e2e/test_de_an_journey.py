"""The đề án journey in Chromium: the centre creates a đề án điểm with two beneficiaries and submits it;
the Sở forwards it; the reviewer returns it with a comment; the centre revises and resubmits; the Sở
forwards it again; the reviewer approves it with a decision number; the timeline shows all of it.
A screenshot of each step is saved under ``screenshot_dir``."""
import os
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from khuyencong.choices import Level
from khuyencong.models import ActivityContent, Province
from projects.models import DeAn, Transition
from tests.browser import sign_in
from tests.funding.factories import AllocationFactory
from tests.khuyencong.factories import centre_user, province_user, reviewer

NAME = "Đề án điểm ứng dụng máy chẻ nan tự động tại làng nghề mây tre đan Hòa Bình"


def _shot(page, screenshot_dir, name):
    page.screenshot(path=os.path.join(screenshot_dir, f"de-an-{name}.png"), full_page=True)


def _expect_message(page, text):
    """The success message, or a failure that names the form's errors."""
    errors = page.locator("#form-errors li, .field-error, .msg-error")
    try:
        expect(page.locator(".messages")).to_contain_text(text)
    except AssertionError:
        raise AssertionError(f"expected «{text}» at {page.url}; page shows errors: {errors.all_inner_texts()}; "
                             f"{page.locator('main').inner_text()[:1500]}") from None


def _submit(page, name):
    """Leave the field being typed in (its change event may re-lay the page) and press the button."""
    page.locator("h1").click()
    page.get_by_role("button", name=name).click()


def _act(page, label, *, comment=None, decision_number=None, decision_date=None, confirm=False):
    """Open the action's panel on the detail page, fill it and submit."""
    panel = page.locator("details.action", has=page.locator("summary", has_text=re.compile(f"^{label}$")))
    panel.locator("summary").click()
    if comment is not None:
        panel.locator("textarea[name=comment]").fill(comment)
    if decision_number is not None:
        panel.locator("input[name=decision_number]").fill(decision_number)
    if decision_date is not None:
        panel.locator("input[name=decision_date]").fill(decision_date)
    if confirm:
        page.once("dialog", lambda d: d.accept())
    panel.get_by_role("button", name=label).click()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_de_an_journey(live_server, page, screenshot_dir):
    base = live_server.url
    centre, province, review = centre_user("24"), province_user("24"), reviewer()
    bac_ninh = Province.objects.get(code="24", era="current")
    AllocationFactory(year=2026, level=Level.NATIONAL, province=bac_ninh, amount=5_000_000_000)
    c12 = ActivityContent.objects.get(code="1.2", instrument="1881/QĐ-TTg")
    c41 = ActivityContent.objects.get(code="4.1", instrument="1881/QĐ-TTg")

    # 1. The centre creates the đề án điểm with two new beneficiaries and two budget lines.
    sign_in(page, base, centre)
    page.goto(f"{base}/de-an/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Đề án khuyến công")
    page.get_by_role("link", name="Lập đề án mới").click()
    page.get_by_label("Tên đề án").fill(NAME)
    page.get_by_label("Cấp").select_option("kcqg")
    page.get_by_label("Loại đề án").select_option("diem")
    page.get_by_label("Năm kế hoạch").fill("2026")
    page.get_by_label("Ngày bắt đầu").fill("01/03/2026")
    page.get_by_label("Ngày kết thúc").fill("30/11/2027")
    page.get_by_label("Địa điểm thực hiện").fill("Xã Tân Yên, tỉnh Bắc Ninh")
    page.locator("#id_contents").select_option([str(c12.pk), str(c41.pk)])
    page.get_by_label("Doanh thu dự kiến (đồng/năm)").fill("2.500.000.000")
    page.locator("#id_ben-0-name").fill("Hợp tác xã Mây tre đan Đông Hòa")
    page.locator("#id_ben-0-legal_form").select_option("cooperative")
    page.locator("#id_ben-0-tax_code").fill("2300123456")
    page.locator("#id_ben-0-commune").fill("Xã Tân Yên")
    page.locator("#id_ben-0-trade").fill("Mây tre đan")
    page.get_by_role("button", name="+ Thêm cơ sở thụ hưởng").click()
    page.locator("#id_ben-1-name").fill("Hộ kinh doanh Nguyễn Thị Hoa")
    page.locator("#id_ben-1-legal_form").select_option("household_business")
    page.locator("#id_ben-1-tax_code").fill("024190012345")
    page.locator("#id_ben-1-commune").fill("Xã Tân Yên")
    page.locator("#id_ben-1-women_owned").check()
    page.locator("#id_line-0-description").fill("Hỗ trợ máy chẻ nan tự động")
    page.locator("#id_line-0-content").select_option(str(c12.pk))
    page.locator("#id_line-0-source").select_option("national")
    page.locator("#id_line-0-amount").fill("250.000.000")
    page.locator("#id_line-0-cost_basis").fill("600.000.000")
    page.locator("#id_line-1-description").fill("Vốn đối ứng mua máy")
    page.locator("#id_line-1-content").select_option(str(c12.pk))
    page.locator("#id_line-1-source").select_option("counterpart")
    page.locator("#id_line-1-amount").fill("350.000.000")
    page.get_by_role("button", name="+ Thêm dòng kinh phí").click()
    page.locator("#id_line-2-description").fill("Hỗ trợ liên kết chuỗi giá trị")
    page.locator("#id_line-2-content").select_option(str(c41.pk))
    page.locator("#id_line-2-source").select_option("national")
    page.locator("#id_line-2-amount").fill("150.000.000")
    totals = page.locator("#live-totals")
    expect(totals.locator("[data-total=all]")).to_have_text("750.000.000 đ")
    expect(totals.locator("[data-total=national]")).to_have_text("400.000.000 đ")
    _shot(page, screenshot_dir, "01-tao-moi")
    _submit(page, "Tạo đề án")
    _expect_message(page, "Đã tạo đề án KCQG-2026-24-")
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    de_an = DeAn.objects.get(name=NAME)
    assert de_an.national_amount == 400_000_000 and de_an.total_amount == 750_000_000
    assert de_an.beneficiaries.count() == 2
    expect(page.locator("#h-lines").locator("xpath=..")).to_contain_text("750.000.000 đ")
    _shot(page, screenshot_dir, "02-chi-tiet-dang-soan")

    _act(page, "Gửi Sở Công Thương")
    expect(page.locator("#trang-thai")).to_have_text("Đã gửi Sở Công Thương")
    _shot(page, screenshot_dir, "03-da-gui-so")

    # 2. The Sở forwards it to the agency.
    sign_in(page, base, province)
    page.goto(f"{base}/de-an/cho-xu-ly/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Đề án chờ tôi xử lý")
    _shot(page, screenshot_dir, "03b-viec-cho-xu-ly")
    page.get_by_role("link", name=NAME).click()
    _act(page, "Gửi Cục thẩm định")
    expect(page.locator("#trang-thai")).to_have_text("Đã gửi Cục")
    _shot(page, screenshot_dir, "04-so-gui-cuc")

    # 3. The reviewer takes it up and returns it with a comment.
    sign_in(page, base, review)
    page.goto(f"{base}/de-an/?q=hoa+binh")
    expect(page.locator("main")).to_contain_text("1–1 trong 1")
    _shot(page, screenshot_dir, "04b-danh-sach-tim-kiem")
    page.get_by_role("link", name=NAME).click()
    _act(page, "Nhận thẩm định")
    expect(page.locator("#trang-thai")).to_have_text("Đang thẩm định")
    _act(page, "Trả lại để hoàn thiện", comment="Bổ sung báo giá máy chẻ nan của ba nhà cung cấp.")
    expect(page.locator("#trang-thai")).to_have_text("Trả lại để hoàn thiện")
    _shot(page, screenshot_dir, "05-cuc-tra-lai")

    # 4. The centre revises (raises the counterpart line) and resubmits.
    sign_in(page, base, centre)
    page.goto(f"{base}/de-an/{de_an.pk}/")
    expect(page.locator("#dong-thoi-gian")).to_contain_text("Bổ sung báo giá máy chẻ nan của ba nhà cung cấp.")
    page.get_by_role("link", name="Sửa hồ sơ").click()
    page.locator("#id_line-1-amount").fill("400.000.000")
    expect(page.locator("#live-totals [data-total=all]")).to_have_text("800.000.000 đ")
    _shot(page, screenshot_dir, "06-sua-ho-so")
    _submit(page, "Lưu thay đổi")
    _expect_message(page, "Đã lưu đề án")
    _act(page, "Gửi Sở Công Thương")
    expect(page.locator("#trang-thai")).to_have_text("Đã gửi Sở Công Thương")

    # 5. The Sở forwards it again.
    sign_in(page, base, province)
    page.goto(f"{base}/de-an/{de_an.pk}/")
    _act(page, "Gửi Cục thẩm định")
    expect(page.locator("#trang-thai")).to_have_text("Đã gửi Cục")

    # 6. The reviewer approves it under a decision number.
    sign_in(page, base, review)
    page.goto(f"{base}/de-an/{de_an.pk}/")
    _act(page, "Nhận thẩm định")
    # The decision approves the dossier sent again today: it may not be dated before that submission.
    resubmitted = Transition.objects.filter(de_an=de_an, action="submit").latest("at").at
    decided = timezone.localdate(resubmitted).strftime("%d/%m/%Y")
    _act(page, "Phê duyệt", decision_number="125/QĐ-CĐM", decision_date=decided)
    expect(page.locator("#trang-thai")).to_have_text("Đã phê duyệt")
    expect(page.locator("main")).to_contain_text(f"Số 125/QĐ-CĐM ngày {decided}")
    expect(page.locator("main")).to_contain_text("400.000.000 đ")
    _shot(page, screenshot_dir, "07-da-phe-duyet")

    # 7. The timeline shows all of it.
    timeline = page.locator("#dong-thoi-gian")
    for text in ("Tạo đề án", "Gửi Sở Công Thương", "Gửi Cục thẩm định", "Nhận thẩm định", "Trả lại để hoàn thiện",
                 "Bổ sung báo giá máy chẻ nan của ba nhà cung cấp.", "Sửa dòng kinh phí «Vốn đối ứng mua máy»",
                 "Phê duyệt", "Quyết định số 125/QĐ-CĐM"):
        expect(timeline).to_contain_text(text)
    timeline.scroll_into_view_if_needed()
    _shot(page, screenshot_dir, "08-dong-thoi-gian")
    actions = list(Transition.objects.filter(de_an=de_an).order_by("at", "id").values_list("action", flat=True))
    assert actions == ["create", "submit", "forward", "start_appraisal", "return", "submit", "forward",
                       "start_appraisal", "approve"]
