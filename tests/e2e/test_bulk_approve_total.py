"""In Chromium: the bulk approval's question names how much KCQG money the ticked đề án ask for, from the
``data-national`` amount (integer đồng) on each row's checkbox (static/js/portal.js,
projects/templates/projects/_bulk_approve.html), and falls back to the count-only question when a ticked
box has no amount. Dismissing the question approves nothing."""
import pytest
from django.urls import reverse

from projects.models import DeAn, Transition
from tests.browser import sign_in
from tests.projects.factories import advance, allocate, make_users, ready_de_an

BUTTON = "Phê duyệt các đề án đã chọn"


def _setup(live_server, page):
    """Three đề án under appraisal (each asks 400.000.000 đ KCQG: ready_de_an's lines), the reviewer on
    the list page with two of them ticked and a decision number typed; every dialog is recorded and
    dismissed."""
    users = make_users()
    rows = [advance(ready_de_an(users.centre, name=f"Đề án thẩm định {i}"), "under_appraisal", users)
            for i in range(3)]
    allocate(rows[0])
    sign_in(page, live_server.url, users.reviewer)
    page.goto(f"{live_server.url}{reverse('projects:list')}")
    dialogs = []

    def dismiss(dialog):
        dialogs.append((dialog.type, dialog.message))
        dialog.dismiss()

    page.on("dialog", dismiss)
    for d in rows[:2]:
        page.get_by_label(f"Chọn {d.code}").check()
    page.get_by_label("Số quyết định").fill("12/QĐ-BCT")
    page.get_by_label("Ngày quyết định").fill("01/03/2026")
    return rows, dialogs


def _ask(page, dialogs):
    before = len(dialogs)
    url = page.url
    page.get_by_role("button", name=BUTTON).click()
    assert len(dialogs) == before + 1, "the button asked nothing"
    assert page.url == url  # dismissed: no request, still on the list
    return dialogs[-1]


def _nothing_approved(rows):
    ids = [d.pk for d in rows]
    assert set(DeAn.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"under_appraisal"}
    assert not Transition.objects.filter(de_an_id__in=ids, to_status="approved").exists()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_question_sums_the_ticked_amounts_and_falls_back_without_them(live_server, page):
    """The script's part, whatever the server renders: the rows' amounts are set on the checkboxes here
    (as projects/views.py is to render them), then one is taken away."""
    rows, dialogs = _setup(live_server, page)
    amounts = {str(d.pk): d.national_amount for d in rows}
    assert set(amounts.values()) == {400_000_000}
    page.evaluate("""amounts => document.querySelectorAll("input[name=ids]").forEach(
        box => box.setAttribute("data-national", String(amounts[box.value])))""", amounts)

    assert _ask(page, dialogs) == (
        "confirm", "Phê duyệt 2 đề án với tổng kinh phí KCQG 800.000.000 đ theo quyết định số 12/QĐ-BCT?")
    _nothing_approved(rows)

    # A larger sum gets every thousands dot; all three ticked.
    page.evaluate("""() => document.querySelectorAll("input[name=ids]").forEach(
        (box, i) => box.setAttribute("data-national", ["1000000000", "200000000", "50000000"][i]))""")
    page.get_by_label(f"Chọn {rows[2].code}").check()
    assert _ask(page, dialogs) == (
        "confirm", "Phê duyệt 3 đề án với tổng kinh phí KCQG 1.250.000.000 đ theo quyết định số 12/QĐ-BCT?")
    _nothing_approved(rows)

    # A ticked box without an amount (or with a malformed one): the question without the total.
    page.get_by_label(f"Chọn {rows[1].code}").evaluate("box => box.removeAttribute('data-national')")
    assert _ask(page, dialogs) == ("confirm", "Phê duyệt 3 đề án đã chọn theo quyết định số 12/QĐ-BCT?")
    page.get_by_label(f"Chọn {rows[1].code}").evaluate("box => box.setAttribute('data-national', '1e9')")
    assert _ask(page, dialogs) == ("confirm", "Phê duyệt 3 đề án đã chọn theo quyết định số 12/QĐ-BCT?")
    _nothing_approved(rows)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_list_page_question_names_count_and_total(live_server, page):
    """The whole path: the amounts as the list page renders them."""
    rows, dialogs = _setup(live_server, page)
    kind, message = _ask(page, dialogs)
    assert kind == "confirm"
    assert "2 đề án" in message and "800.000.000 đ" in message
    assert message == "Phê duyệt 2 đề án với tổng kinh phí KCQG 800.000.000 đ theo quyết định số 12/QĐ-BCT?"
    _nothing_approved(rows)
