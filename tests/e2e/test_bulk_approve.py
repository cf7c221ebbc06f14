"""In Chromium: the bulk approval on the reviewer's queue says how many đề án and which decision before
it sends anything, says instead of asking when nothing is ticked, and the header box ticks every đề án
under appraisal on the page."""
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from projects.models import DeAn
from tests.browser import sign_in
from tests.projects.factories import advance, allocate, make_users, ready_de_an


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_bulk_approval_names_the_count_and_the_decision_before_sending(live_server, page):
    base = live_server.url
    users = make_users()
    rows = [advance(ready_de_an(users.centre, name=f"Đề án thẩm định {i}"), "under_appraisal", users)
            for i in range(3)]
    allocate(rows[0])
    sign_in(page, base, users.reviewer)
    page.goto(f"{base}{reverse('projects:queue')}")
    dialogs = []

    def answer(dialog, accept):
        dialogs.append((dialog.type, dialog.message))
        dialog.accept() if accept else dialog.dismiss()

    # Nothing ticked: told so, nothing sent.
    page.once("dialog", lambda d: answer(d, True))
    page.get_by_role("button", name="Phê duyệt các đề án đã chọn").click()
    expect(page.get_by_role("button", name="Phê duyệt các đề án đã chọn")).to_be_visible()
    assert dialogs[-1] == ("alert", "Chưa chọn đề án nào: hãy đánh dấu các đề án cần phê duyệt trong danh sách.")

    # The header box ticks the three; the question counts them and quotes the decision; «Huỷ» sends nothing.
    page.get_by_label("Chọn tất cả đề án đang thẩm định trên trang này").check()
    for d in rows:
        expect(page.get_by_label(f"Chọn {d.code}")).to_be_checked()
    page.get_by_label("Số quyết định").fill("45/QĐ-BCT")
    page.get_by_label("Ngày quyết định").fill("01/03/2026")
    page.once("dialog", lambda d: answer(d, False))
    page.get_by_role("button", name="Phê duyệt các đề án đã chọn").click()
    assert dialogs[-1] == ("confirm", "Phê duyệt 3 đề án với tổng kinh phí KCQG 1.200.000.000 đ theo quyết định số 45/QĐ-BCT?")
    assert set(DeAn.objects.filter(pk__in=[d.pk for d in rows]).values_list("status", flat=True)) == {"under_appraisal"}

    # One cleared: two, confirmed, approved.
    page.get_by_label(f"Chọn {rows[2].code}").uncheck()
    allocate(rows[1])
    page.once("dialog", lambda d: answer(d, True))
    with page.expect_navigation():
        page.get_by_role("button", name="Phê duyệt các đề án đã chọn").click()
    assert dialogs[-1] == ("confirm", "Phê duyệt 2 đề án với tổng kinh phí KCQG 800.000.000 đ theo quyết định số 45/QĐ-BCT?")
    expect(page.get_by_text("Đã phê duyệt 2 đề án theo quyết định số 45/QĐ-BCT.")).to_be_visible()
    assert list(DeAn.objects.filter(pk__in=[d.pk for d in rows]).order_by("pk").values_list("status", flat=True)) == [
        "approved", "approved", "under_appraisal"]
