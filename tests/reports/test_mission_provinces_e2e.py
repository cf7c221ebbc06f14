"""Browser: the mission form's đề án list follows the provinces ticked above it. No đề án row shows until a
province is ticked (a hint says so); ticking Bắc Ninh shows Bắc Ninh's đề án only (the one registered in
Bắc Giang among them); unticking it hides them again. A đề án still ticked when its province is unticked
stays in sight, marked, and saving names it. Screenshots go to ``screenshot_dir``. The server half is in
test_mission_provinces.py."""
import os

import pytest
from playwright.sync_api import expect

from khuyencong.models import Province
from reports.models import Mission
from tests.browser import sign_in
from tests.reports import inspection_factories as f
from tests.reports.test_inspection_rows_e2e import _no_axe_violations

HINT = "Chọn tỉnh, thành phố trước để hiện danh sách đề án."


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_de_an_rows_follow_the_ticked_provinces(live_server, page, screenshot_dir):
    reviewer = f.reviewer(username="cuc.doan.tinh", first_name="Trần Thị", last_name="Bình")
    bac_ninh = [f.de_an("24", name="Hỗ trợ máy sấy chè Bắc Ninh"), f.de_an("24", status="approved", name="Máy chẻ nan Bắc Ninh")]
    moved = f.de_an("24", name="Máy sấy vải thiều Lục Ngạn")
    moved.province = Province.objects.former().get(name="Bắc Giang")
    moved.save(update_fields=["province"])
    bac_ninh.append(moved)
    others = [f.de_an("01", name="Dây chuyền gốm Bát Tràng"), f.de_an("19", status="approved", name="Chè Tân Cương")]
    plan = f.plan(reviewer)
    shot = lambda name: page.screenshot(path=os.path.join(screenshot_dir, f"mission-provinces-{name}.png"),  # noqa: E731
                                        full_page=True)
    sign_in(page, live_server.url, reviewer)
    page.goto(f"{live_server.url}/bao-cao/kiem-tra/ke-hoach/{plan.pk}/doan/moi/")

    provinces = page.get_by_role("group", name="Tỉnh, thành phố đoàn đến")
    box = page.get_by_role("group", name="Đề án được kiểm tra")
    rows = box.locator("input[type=checkbox]")  # hidden ones too
    count = box.locator("[data-pick-count]")
    every = [*bac_ninh, *others]

    def visible_codes():
        return {d.code for d in every if box.locator("li", has_text=d.code).is_visible()}

    # No province ticked: no đề án row, the hint instead (all five are in the page, for use without script).
    expect(rows).to_have_count(5)
    expect(box.get_by_text(HINT)).to_be_visible()
    for d in every:
        expect(box.locator("li", has_text=d.code)).to_be_hidden()
    expect(page.get_by_text("để danh sách chỉ còn đề án của các tỉnh, thành phố đã chọn")).to_be_hidden()  # the no-script help
    shot("none")

    # Bắc Ninh ticked: its three đề án, nothing else; the filter counts only those.
    provinces.get_by_role("checkbox", name="Bắc Ninh", exact=False).check()
    expect(box.get_by_text(HINT)).to_be_hidden()
    for d in bac_ninh:
        expect(box.get_by_role("checkbox", name=d.code, exact=False)).to_be_visible()
    assert visible_codes() == {d.code for d in bac_ninh}
    expect(box.get_by_role("checkbox", name="Khi đăng ký: Bắc Giang", exact=False)).to_be_visible()
    box.get_by_label("Tìm đề án (mã, tên, tỉnh, thành phố)").fill("may say")
    expect(count).to_have_text("Đã chọn: 0 · đang hiện 2 trong 3")
    box.get_by_label("Tìm đề án (mã, tên, tỉnh, thành phố)").fill("bat trang")  # Hà Nội's: not offered
    expect(box.get_by_text("Không có mục nào khớp với «bat trang».")).to_be_visible()
    box.get_by_label("Tìm đề án (mã, tên, tỉnh, thành phố)").fill("")
    shot("bac-ninh")
    _no_axe_violations(page)

    # Unticked: the rows go, the hint is back.
    provinces.get_by_role("checkbox", name="Bắc Ninh", exact=False).uncheck()
    for d in bac_ninh:
        expect(box.locator("li", has_text=d.code)).to_be_hidden()
    expect(box.get_by_text(HINT)).to_be_visible()

    # Hà Nội ticked, one of its đề án ticked, then Hà Nội unticked and Thái Nguyên ticked: the ticked đề
    # án stays in sight, marked; saving names it (nothing dropped silently).
    provinces.get_by_role("checkbox", name="Hà Nội", exact=False).check()
    assert visible_codes() == {others[0].code}
    box.get_by_role("checkbox", name=others[0].code, exact=False).check()
    provinces.get_by_role("checkbox", name="Hà Nội", exact=False).uncheck()
    provinces.get_by_role("checkbox", name="Thái Nguyên", exact=False).check()
    assert visible_codes() == {others[0].code, others[1].code}
    expect(box.get_by_text("(chưa chọn tỉnh, thành phố của đề án này)")).to_be_visible()
    expect(count).to_have_text("Đã chọn: 1")
    page.get_by_label("Tên đoàn").fill("Đoàn kiểm tra Thái Nguyên")
    page.get_by_label("Họ và tên, thành viên 1").fill("Trần Thị Bình")
    page.get_by_role("button", name="Lưu đoàn kiểm tra").last.click()
    message = (f"Đề án {others[0].code} thuộc Hà Nội, không thuộc các tỉnh, thành phố của đoàn kiểm tra.")
    expect(page.locator("#id_de_an_error")).to_contain_text(message)
    # Shown again with the script: every province's đề án are in the page, those of Thái Nguyên shown.
    expect(rows).to_have_count(5)
    assert visible_codes() == {others[0].code, others[1].code}
    shot("refused")
    assert not Mission.objects.exists()
    box.get_by_role("checkbox", name=others[0].code, exact=False).uncheck()
    assert visible_codes() == {others[1].code}
    box.get_by_role("checkbox", name=others[1].code, exact=False).check()
    page.get_by_role("button", name="Lưu đoàn kiểm tra").last.click()
    expect(page.locator(".msg-success")).to_contain_text("Đã thêm đoàn kiểm tra.")
    assert list(Mission.objects.get().de_an.all()) == [others[1]]
