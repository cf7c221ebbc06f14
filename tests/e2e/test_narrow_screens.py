"""A phone (390 px wide): the đề án list keeps a readable name column, and wide tables scroll inside
themselves without widening the page; on the đề án form each beneficiary flag's checkbox stays beside
its own text (these flags decide priority — a box next to the wrong words gets the wrong one ticked)."""
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from tests.browser import sign_in
from tests.khuyencong.factories import centre_user, province_user, reviewer
from tests.projects.factories import advance, ready_de_an

PHONE = {"width": 390, "height": 844}
NO_PAGE_OVERFLOW = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1"


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": PHONE}


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_list_and_wide_tables_are_readable_on_a_phone(live_server, page, screenshot_dir):
    base = live_server.url
    users = SimpleNamespace(centre=centre_user("24"), province=province_user("24"), reviewer=reviewer())
    approved = advance(ready_de_an(users.centre, name="Hỗ trợ ứng dụng máy chẻ nan tự động trong sản xuất mây tre đan"),
                       "approved", users)
    ready_de_an(users.centre, name="Đề án điểm phát triển làng nghề gốm Thổ Hà gắn với du lịch")
    sign_in(page, base, users.centre)

    page.goto(f"{base}/de-an/")
    name = page.locator("table.data tbody td.code + td").first  # the cell after the code: the name
    expect(name.get_by_role("link")).to_be_visible()
    box = name.bounding_box()
    assert box["width"] >= 150, f"name column {box['width']} px wide"
    assert page.evaluate(NO_PAGE_OVERFLOW), "the đề án list widens the page"
    name.scroll_into_view_if_needed()
    page.screenshot(path=f"{screenshot_dir}/narrow-de-an-list.png")

    for url in (f"/de-an/{approved.pk}/", "/kinh-phi/", "/tong-quan/"):
        response = page.goto(f"{base}{url}")
        assert response.status == 200, url
        assert page.locator("main table").count(), f"{url} shows no table"
        assert page.evaluate(NO_PAGE_OVERFLOW), f"{url} widens the page"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_each_beneficiary_flag_checkbox_sits_beside_its_own_text_on_a_phone(live_server, page, screenshot_dir):
    base = live_server.url
    sign_in(page, base, centre_user("24"))
    page.goto(f"{base}/de-an/tao-moi/")
    flags = ("Phụ nữ làm chủ", "Dân tộc thiểu số làm chủ", "Thuộc làng nghề", "Bỏ cơ sở này")
    row = page.locator(".ben-row").first
    for text in flags:
        box = row.get_by_role("checkbox", name=text, exact=True)
        expect(box).to_be_visible()
        words = row.locator(f"label:has(> #{box.get_attribute('id')})").get_by_text(text, exact=True)
        b, w = box.bounding_box(), words.bounding_box()
        # Same line (the box's middle within the text's first line) and adjacent (at most ~1 em apart).
        assert w["y"] - 4 <= b["y"] + b["height"] / 2 <= w["y"] + 26, f"«{text}»: box and text on different lines"
        assert 0 <= w["x"] - (b["x"] + b["width"]) <= 16, f"«{text}»: box not right before its text"
    row.locator(".new-est-flags").scroll_into_view_if_needed()
    page.screenshot(path=f"{screenshot_dir}/narrow-beneficiary-flags.png")
    # Ticking through the text ticks its own box only.
    row.get_by_text("Dân tộc thiểu số làm chủ", exact=True).click()
    expect(row.get_by_role("checkbox", name="Dân tộc thiểu số làm chủ", exact=True)).to_be_checked()
    expect(row.get_by_role("checkbox", name="Phụ nữ làm chủ", exact=True)).not_to_be_checked()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_dashboard_charts_keep_readable_labels_on_a_phone(live_server, page, screenshot_dir):
    """Squeezed to 390 px a chart drew its 12 px labels at ≈ 5 px; it now keeps ≥ 620 px (labels ≈ 10 px)
    and scrolls inside its own box, which is a named keyboard stop, without widening the page."""
    base = live_server.url
    users = SimpleNamespace(centre=centre_user("24"), province=province_user("24"), reviewer=reviewer())
    advance(ready_de_an(users.centre), "approved", users)
    sign_in(page, base, users.reviewer)
    page.goto(f"{base}/tong-quan/toan-quoc/")
    charts = page.locator("figure.dash-chart")
    assert charts.count() >= 3
    for i in range(charts.count()):
        chart = charts.nth(i)
        svg_width = chart.locator("svg").bounding_box()["width"]
        assert svg_width >= 600, f"chart {i} drawn {svg_width} px wide"
        assert chart.get_attribute("tabindex") == "0", f"chart {i} scrolls but is no keyboard stop"
        title = chart.locator("svg > title").text_content().strip()
        assert title and chart.get_attribute("aria-label") == title
    assert page.evaluate(NO_PAGE_OVERFLOW), "a chart widens the page"
    charts.nth(1).scroll_into_view_if_needed()
    page.screenshot(path=f"{screenshot_dir}/narrow-dashboard-chart.png")

    page.set_viewport_size({"width": 1280, "height": 900})  # wide again: the chart fits, no extra tab stop
    page.wait_for_function("() => !document.querySelector('figure.dash-chart[tabindex]')")
