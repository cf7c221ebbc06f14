"""The đề án form in Chromium (static/js/de_an_form.js): Enter in a beneficiary row's «Tìm cơ sở đã có»
box runs the search and never sends the form, the row's status region says how many establishments
matched; a row added after a refused submission comes without the last row's error state and gets the
focus; the live totals read amounts as the server does and say when a line could not be read."""
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from khuyencong.formatting import MoneyError, format_dong, parse_money
from projects.models import DeAn
from tests.browser import sign_in
from tests.projects.factories import EstablishmentFactory, current, make_users

INCOMPLETE = "(chưa tính dòng không đọc được)"


def _fill_required(page, name):
    """Enough for the server to create a đề án: sending the form now would create one."""
    page.get_by_label("Tên đề án").fill(name)
    page.get_by_label("Cấp").select_option("kcqg")
    page.get_by_label("Loại đề án").select_option("diem")
    page.get_by_label("Năm kế hoạch").fill("2026")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_enter_in_the_establishment_search_searches_and_never_submits(live_server, page):
    base = live_server.url
    users = make_users()
    EstablishmentFactory(name="Cơ sở gốm Phù Lãng", province=current("24"))
    EstablishmentFactory(name="Hợp tác xã gốm Đông Hòa", province=current("24"))
    EstablishmentFactory(name="Hợp tác xã Mây tre đan Tân Yên", province=current("24"))
    sign_in(page, base, users.centre)
    create_url = f"{base}{reverse('projects:create')}"
    page.goto(create_url)
    _fill_required(page, "Đề án chưa xong")
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    before = DeAn.objects.count()

    search = page.get_by_label("Tìm cơ sở đã có")
    status = page.locator("#ben-0-search-status")
    expect(status).to_have_attribute("role", "status")
    # The value set without an input event: only the Enter key can start this search.
    search.evaluate("el => { el.value = 'gom'; el.focus(); }")
    with page.expect_response(lambda r: "/co-so/tim/" in r.url and "q=gom" in r.url):
        page.keyboard.press("Enter")
    expect(status).to_have_text("Tìm thấy 2 cơ sở khớp «gom».")
    expect(page.locator("#id_ben-0-establishment option")).to_have_count(3)
    expect(page.locator("#id_ben-0-establishment")).to_contain_text("Cơ sở gốm Phù Lãng")

    # Nothing matches: said so. Enter pressed again (and again) never sends the form.
    search.evaluate("el => { el.value = 'không có'; }")
    page.keyboard.press("Enter")
    expect(status).to_have_text("Không tìm thấy cơ sở nào khớp «không có».")
    page.keyboard.press("Enter")
    page.wait_for_timeout(500)
    assert posts == []
    assert page.url == create_url
    assert DeAn.objects.count() == before
    expect(page.get_by_label("Tên đề án")).to_have_value("Đề án chưa xong")

    # A row added by «+ Thêm cơ sở thụ hưởng» searches on Enter too, into its own list and status.
    page.get_by_role("button", name="+ Thêm cơ sở thụ hưởng").click()
    expect(page.locator("#ben-1-search")).to_be_focused()
    expect(page.locator("#ben-1-search-status")).to_have_text("")
    page.keyboard.type("Mây tre")
    page.keyboard.press("Enter")
    expect(page.locator("#ben-1-search-status")).to_have_text("Tìm thấy 1 cơ sở khớp «Mây tre».")
    expect(page.locator("#ben-0-search-status")).to_have_text("Không tìm thấy cơ sở nào khớp «không có».")
    page.wait_for_timeout(500)
    assert posts == [] and DeAn.objects.count() == before


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_row_added_after_a_refused_submission_is_clean_and_focused(live_server, page):
    base = live_server.url
    users = make_users()
    sign_in(page, base, users.centre)
    page.goto(f"{base}{reverse('projects:create')}")
    _fill_required(page, "Đề án có lỗi")
    # The last beneficiary row and the last budget line each with a refused field.
    page.locator("#id_ben-0-name").fill("Hợp tác xã Gốm Phù Lãng")
    page.locator("#id_ben-0-tax_code").fill("123")
    page.locator("#id_line-1-description").fill("Vốn đối ứng")
    page.locator("#id_line-1-amount").fill("1,500")
    page.locator("h1").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Tạo đề án").click()
    expect(page.locator("#form-errors")).to_be_visible()
    assert DeAn.objects.count() == 0
    # The refused fields carry their error state (precondition of what follows).
    expect(page.locator("#id_ben-0-tax_code")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_line-1-amount")).to_have_attribute("aria-invalid", "true")

    page.get_by_role("button", name="+ Thêm cơ sở thụ hưởng").click()
    row = page.locator(".ben-row").nth(1)
    expect(row.locator("legend")).to_have_text("Cơ sở 2")
    expect(page.locator("#ben-1-search")).to_be_focused()
    expect(row.locator("[aria-invalid]")).to_have_count(0)
    expect(row.locator(".has-error")).to_have_count(0)
    expect(row.locator(".field-error")).to_have_count(0)
    expect(page.locator("#id_ben-1-tax_code")).to_have_value("")
    assert "has-error" not in (row.get_attribute("class") or "")
    # aria-describedby keeps the help text and points at nothing that is missing.
    expect(page.locator("#id_ben-1-tax_code")).to_have_attribute("aria-describedby", "id_ben-1-tax_code_helptext")
    dangling = row.evaluate("""r => [...r.querySelectorAll('[aria-describedby]')].flatMap(
        el => el.getAttribute('aria-describedby').split(/\\s+/)).filter(id => !document.getElementById(id))""")
    assert dangling == []
    # The first row keeps its error.
    expect(page.locator("#id_ben-0-tax_code")).to_have_attribute("aria-invalid", "true")

    page.get_by_role("button", name="+ Thêm dòng kinh phí").click()
    line = page.locator(".line-row").nth(2)
    expect(page.locator("#id_line-2-description")).to_be_focused()
    expect(line.locator("[aria-invalid]")).to_have_count(0)
    expect(line.locator("[aria-describedby]")).to_have_count(0)
    expect(line.locator(".field-error")).to_have_count(0)
    expect(page.locator("#id_line-2-amount")).to_have_value("")
    expect(page.locator("#id_line-1-amount")).to_have_attribute("aria-invalid", "true")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_live_totals_read_amounts_as_the_server_does(live_server, page):
    base = live_server.url
    users = make_users()
    sign_in(page, base, users.centre)
    page.goto(f"{base}{reverse('projects:create')}")
    total = page.locator("#live-totals [data-total=all]")
    amount0 = page.locator("#id_line-0-amount")

    # One line at a time: what the server reads (parse_money), in whole đồng.
    for text, shown in [("1,5 triệu", "1.500.000 đ"), ("45,5 triệu đồng", "45.500.000 đ"),
                        ("300 triệu", "300.000.000 đ"), ("2,5 tỷ", "2.500.000.000 đ"),
                        ("1,44 tỉ đồng", "1.440.000.000 đ"), ("250 nghìn đồng", "250.000 đ"),
                        ("1.250.000 đ", "1.250.000 đ"), ("1 234 567 VNĐ", "1.234.567 đ"),
                        ("1.234.567,00", "1.234.567 đ"), ("+300 triệu", "300.000.000 đ"), ("0", "0 đ")]:
        assert format_dong(parse_money(text)) == shown
        amount0.fill(text)
        expect(total).to_have_text(shown)
    # What the server refuses is not counted, and the total says so.
    for text in ["abc", "1,500", "1.5", "1,500,000", "-5", "1,5", "1,2345678 triệu", "triệu đồng",
                 "10.000.000 tỷ"]:
        with pytest.raises(MoneyError):
            parse_money(text)
        amount0.fill(text)
        expect(total).to_have_text(f"0 đ {INCOMPLETE}")
    amount0.fill("")
    expect(total).to_have_text("0 đ")

    # 1.500.000 + 2.500.000.000 + 1.250.000 đồng, as the server would total them.
    amount0.fill("1,5 triệu")
    page.locator("#id_line-1-amount").fill("2,5 tỷ")
    page.get_by_role("button", name="+ Thêm dòng kinh phí").click()
    page.locator("#id_line-2-amount").fill("1.250.000")
    assert sum(map(parse_money, ["1,5 triệu", "2,5 tỷ", "1.250.000"])) == 2_502_750_000
    expect(total).to_have_text("2.502.750.000 đ")

    # An unreadable fourth line: the total is marked incomplete, on the grand total and its source's.
    page.locator("#id_line-1-source").select_option("national")
    page.get_by_role("button", name="+ Thêm dòng kinh phí").click()
    page.locator("#id_line-3-source").select_option("counterpart")
    page.locator("#id_line-3-amount").fill("abc")
    expect(total).to_have_text(f"2.502.750.000 đ {INCOMPLETE}")
    expect(page.locator("#live-totals [data-total=counterpart]")).to_contain_text(INCOMPLETE)
    expect(page.locator("#live-totals [data-total=national]")).not_to_contain_text(INCOMPLETE)
    # Read once corrected; a line marked «Bỏ» counts for nothing.
    page.locator("#id_line-3-amount").fill("1.000")
    expect(total).to_have_text("2.502.751.000 đ")
    page.locator("#id_line-3-amount").fill("abc")
    page.locator("#id_line-3-DELETE").check()
    expect(total).to_have_text("2.502.750.000 đ")
