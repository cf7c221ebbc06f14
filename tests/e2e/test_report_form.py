"""In Chromium: the report request form shows only the fields the chosen kind of report uses (the
province for a province's report, the inspection record for a biên bản, the grouping for the annual
reports), and asks for a province's report with the fields left."""
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser import sign_in
from tests.khuyencong.factories import reviewer


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_request_form_shows_the_fields_of_the_chosen_kind(live_server, page):
    base = live_server.url
    sign_in(page, base, reviewer())
    page.goto(f"{base}{reverse('reports:job_list')}")
    form = page.locator("form[action$='/yeu-cau/']")
    kind = form.get_by_label("Loại báo cáo")
    year, province = form.get_by_label("Năm"), form.get_by_label("Tỉnh, thành phố")
    grouping, record = form.get_by_label("Nhóm số liệu"), form.get_by_label("Biên bản kiểm tra")
    signer = form.get_by_label("Họ tên người ký")

    kind.select_option("national")
    for shown in (year, grouping, signer):
        expect(shown).to_be_visible()
    for hidden in (province, record):
        expect(hidden).to_be_hidden()

    kind.select_option("province")
    for shown in (year, province, grouping, signer):
        expect(shown).to_be_visible()
    expect(record).to_be_hidden()

    kind.select_option("record")
    expect(record).to_be_visible()
    for hidden in (year, province, grouping):
        expect(hidden).to_be_hidden()

    kind.select_option("province")
    province.select_option(label="Tỉnh Bắc Ninh")
    year.fill("2025")
    with page.expect_navigation():
        form.get_by_role("button", name="Tạo báo cáo").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Báo cáo năm của tỉnh, thành phố")
