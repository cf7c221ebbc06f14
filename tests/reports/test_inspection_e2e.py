"""Browser: a reviewer walks plan → mission → biên bản; a province officer answers a recommendation;
the reviewer closes it. Screenshots of each main page go to ``screenshot_dir``."""
import os
from datetime import date

import pytest
from playwright.sync_api import expect

from reports.models import FollowUp, Recommendation
from tests.reports import inspection_factories as f


def _login(page, live_server, user, next_url):
    from tests.khuyencong.factories import PASSWORD

    page.context.clear_cookies()
    page.goto(f"{live_server.url}/dang-nhap/?next={next_url}")
    page.get_by_label("Tên đăng nhập").fill(user.username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_inspection_journey(live_server, page, screenshot_dir):
    reviewer = f.reviewer(username="cuc.kiemtra", first_name="Trần Thị", last_name="Bình")
    officer = f.province_user("24", username="so.bacninh", first_name="Nguyễn Văn", last_name="An")
    d1, d2 = f.de_an("24", name="Hỗ trợ máy sấy chè tại HTX Chè Tân Cương"), f.de_an("24", status="approved")
    plan = f.plan(reviewer)
    mission = f.mission(reviewer, plan, [d1, d2])
    record = f.record(reviewer, d1, mission, recommendations=[
        {"text": "Hoàn thành lắp đặt máy sấy chè, gửi ảnh nghiệm thu.", "deadline": date(2026, 6, 30)},
        {"text": "Bổ sung hóa đơn mua thiết bị.", "deadline": date(2026, 12, 31)},
    ], team="Trần Thị Bình (Phó Cục trưởng, Trưởng đoàn)", effectiveness="Năng suất sấy tăng 30 %")
    shot = lambda name: page.screenshot(path=os.path.join(screenshot_dir, f"inspection-{name}.png"), full_page=True)  # noqa: E731

    _login(page, live_server, reviewer, "/bao-cao/kiem-tra/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kế hoạch kiểm tra, giám sát")
    expect(page.get_by_role("link", name="Kiểm tra, giám sát", exact=True)).to_be_visible()
    shot("plans")
    page.get_by_role("link", name=plan.title).click()
    expect(page.get_by_role("cell", name="Đoàn kiểm tra số 1")).to_be_visible()
    shot("plan-detail")
    page.get_by_role("link", name="Đoàn kiểm tra số 1").click()
    expect(page.get_by_role("cell", name="Phó Cục trưởng")).to_be_visible()
    shot("mission")
    # The mission form: Enter in the đề án filter filters; Enter in the name saves (it did press «Lọc»).
    page.goto(f"{live_server.url}/bao-cao/kiem-tra/doan/{mission.pk}/sua/")
    page.get_by_label("Đề án kế hoạch năm").fill("2026")
    page.get_by_label("Đề án kế hoạch năm").press("Enter")
    expect(page.locator(".de-an-filter [role=status]")).to_contain_text("Đã lọc danh sách đề án. Đoàn kiểm tra chưa được lưu.")
    page.get_by_label("Tên đoàn").fill("Đoàn kiểm tra số 1 (Bắc Ninh)")
    page.get_by_label("Tên đoàn").press("Enter")
    expect(page.locator(".msg-success")).to_contain_text("Đã lưu đoàn kiểm tra.")
    mission.refresh_from_db()
    assert mission.name == "Đoàn kiểm tra số 1 (Bắc Ninh)" and set(mission.de_an.all()) == {d1, d2}
    page.get_by_role("link", name="Lập biên bản").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lập biên bản kiểm tra")
    shot("record-form")
    page.goto(f"{live_server.url}/bao-cao/kiem-tra/bien-ban/{record.pk}/")
    expect(page.get_by_role("button", name="Tạo biên bản PDF")).to_be_visible()
    shot("record")

    _login(page, live_server, officer, "/")
    home_link = page.get_by_role("link", name="Hoàn thành lắp đặt máy sấy chè", exact=False)
    expect(home_link.first).to_be_visible()
    shot("home-local")
    page.goto(f"{live_server.url}/bao-cao/kiem-tra/kien-nghi/?overdue=on")
    expect(page.get_by_role("cell", name="Hoàn thành lắp đặt máy sấy chè", exact=False)).to_be_visible()
    expect(page.get_by_text("Bổ sung hóa đơn mua thiết bị.")).to_have_count(0)  # not overdue
    shot("recommendations-local")
    page.get_by_role("link", name="Báo cáo khắc phục").first.click()
    page.get_by_label("Báo cáo khắc phục").fill("Đã lắp đặt xong máy sấy ngày 20/6/2026; gửi kèm ảnh nghiệm thu.")
    page.get_by_role("button", name="Gửi báo cáo khắc phục").click()
    expect(page.locator(".msg-success")).to_contain_text("Đã gửi báo cáo khắc phục")
    shot("recommendation-answered")

    _login(page, live_server, reviewer, "/bao-cao/kiem-tra/kien-nghi/?status=answered")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Đóng kiến nghị").first.click()
    expect(page.locator(".msg-success")).to_contain_text("Đã đóng kiến nghị")
    shot("recommendations-reviewer")
    rec = Recommendation.objects.get(text__startswith="Hoàn thành lắp đặt")
    assert rec.status == FollowUp.CLOSED and rec.closed_by == reviewer and rec.responded_by == officer
