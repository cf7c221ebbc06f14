"""Browser: the mission form adds a team member row in place («Thêm thành viên», no save and reopen),
filters its đề án list by typing (with or without diacritics) and ticks one; the biên bản form adds a
recommendation row («Thêm kiến nghị»). Both save what was added. Screenshots go to ``screenshot_dir``."""
import os
from datetime import date

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from reports.models import InspectionRecord
from tests.browser import sign_in
from tests.reports import inspection_factories as f

# The rules of tests/e2e/test_accessibility.py (WCAG 2.0/2.1 A and AA, axe's best practices), run on the
# pages as the scripts leave them: a row added, the filter typed into.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
               "resultTypes": ["violations"]}


def _no_axe_violations(page):
    violations = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    assert not violations, [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_rows_added_in_place_and_de_an_picked_by_filter(live_server, page, screenshot_dir):
    reviewer = f.reviewer(username="cuc.doan", first_name="Trần Thị", last_name="Bình")
    d1 = f.de_an("24", name="Hỗ trợ máy sấy chè tại HTX Chè Tân Cương")
    wanted = f.de_an("24", status="approved", name="Ứng dụng máy đóng gói bánh đa nem Thổ Hà")
    f.de_an("24", status="approved", name="Trình diễn dây chuyền chế biến gỗ Đồng Kỵ")
    plan = f.plan(reviewer)
    mission = f.mission(reviewer, plan, [d1])
    record = f.record(reviewer, d1, mission)
    shot = lambda name: page.screenshot(path=os.path.join(screenshot_dir, f"inspection-rows-{name}.png"),  # noqa: E731
                                        full_page=True)
    sign_in(page, live_server.url, reviewer)

    # --- the mission form: two members already, three empty rows; add a sixth row in place -----------------
    page.goto(f"{live_server.url}/bao-cao/kiem-tra/doan/{mission.pk}/sua/")
    rows = page.locator("#members-rows tr")
    expect(rows).to_have_count(5)
    expect(page.get_by_text("Để thêm thành viên, lưu rồi mở lại trang sửa")).to_be_hidden()  # the no-script help
    add = page.get_by_role("button", name="Thêm thành viên")
    expect(add).to_have_attribute("type", "button")
    add.click()
    expect(rows).to_have_count(6)
    new_name = page.get_by_label("Họ và tên, thành viên 6")
    expect(new_name).to_be_focused()
    assert page.input_value("#id_members-TOTAL_FORMS") == "6"
    new_name.fill("Phạm Thu Hà")
    page.get_by_label("Chức vụ, thành viên 6").fill("Chuyên viên chính")
    page.get_by_label("Nhiệm vụ trong đoàn, thành viên 6").select_option("secretary")

    # --- the đề án list: a filter box (typed without diacritics), a count of the ticked ones ---------------
    box = page.get_by_role("group", name="Đề án được kiểm tra")
    count = box.locator("[data-pick-count]")
    expect(count).to_have_text("Đã chọn: 1")
    box.get_by_label("Tìm đề án (mã, tên, tỉnh, thành phố)").fill("banh da nem")
    expect(box.get_by_role("checkbox", name=wanted.code, exact=False)).to_be_visible()
    expect(box.get_by_role("checkbox", name="Đồng Kỵ", exact=False)).to_be_hidden()
    expect(count).to_contain_text("đang hiện 1 trong 3")
    box.get_by_role("checkbox", name=wanted.code, exact=False).check()
    expect(count).to_contain_text("Đã chọn: 2")
    box.get_by_label("Tìm đề án (mã, tên, tỉnh, thành phố)").press("Enter")  # filters, never sends the form
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sửa đoàn kiểm tra")
    box.get_by_label("Tìm đề án (mã, tên, tỉnh, thành phố)").fill("không có đề án này")
    expect(box.get_by_text("Không có mục nào khớp với «không có đề án này».")).to_be_visible()
    shot("mission-form")
    _no_axe_violations(page)
    box.get_by_label("Tìm đề án (mã, tên, tỉnh, thành phố)").fill("")
    page.get_by_role("button", name="Lưu đoàn kiểm tra").last.click()
    expect(page.locator(".msg-success")).to_contain_text("Đã lưu đoàn kiểm tra.")
    mission.refresh_from_db()
    assert list(mission.members.values_list("full_name", "job_title", "role")) == [
        ("Trần Thị Bình", "Phó Cục trưởng", "lead"), ("Lê Văn Cường", "Chuyên viên", "member"),
        ("Phạm Thu Hà", "Chuyên viên chính", "secretary")]
    assert set(mission.de_an.all()) == {d1, wanted}

    # --- the biên bản form: one recommendation and two empty rows; add a fourth in place -----------------
    page.goto(f"{live_server.url}/bao-cao/kiem-tra/bien-ban/{record.pk}/sua/")
    rows = page.locator("#recs-rows tr")
    expect(rows).to_have_count(3)
    page.get_by_label("Kiến nghị 2", exact=True).fill("Bổ sung hóa đơn mua thiết bị.")
    page.get_by_label("Thời hạn kiến nghị 2").fill("30/09/2026")
    page.get_by_role("button", name="Thêm kiến nghị").click()
    expect(rows).to_have_count(4)
    added = page.get_by_label("Kiến nghị 4", exact=True)
    expect(added).to_be_focused()
    added.fill("Gửi ảnh máy sấy đã vận hành.")
    page.get_by_label("Thời hạn kiến nghị 4").fill("31/10/2026")
    expect(page.locator("#recs-rows tr").nth(3).locator(".date-button")).to_have_count(1)  # its calendar button
    shot("record-form")
    _no_axe_violations(page)
    page.get_by_role("button", name="Lưu biên bản").click()
    expect(page.locator(".msg-success")).to_contain_text("Đã lưu biên bản kiểm tra.")
    record = InspectionRecord.objects.get(pk=record.pk)
    assert list(record.recommendations.values_list("text", "deadline")) == [
        ("Hoàn thành lắp đặt máy sấy chè.", date(2026, 6, 30)),
        ("Bổ sung hóa đơn mua thiết bị.", date(2026, 9, 30)),
        ("Gửi ảnh máy sấy đã vận hành.", date(2026, 10, 31))]
