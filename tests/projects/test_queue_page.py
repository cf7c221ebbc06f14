"""The reviewer's queue («Việc chờ xử lý»): the list's search and filters inside the queue's scope, when
each đề án entered its status and the whole days it has waited (Vietnam time), the longest wait first,
sorting, pagination that keeps the filters, the query count, and the bulk approval from a filtered queue."""
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from khuyencong.choices import Level
from projects import selectors, services
from projects.models import DeAn, Transition

from .factories import advance, allocate, current, ready_de_an, submit

pytestmark = pytest.mark.django_db

VN = ZoneInfo("Asia/Ho_Chi_Minh")
QUEUE = reverse("projects:queue")


def forwarded(users, name, *, waited_days=None):
    """A KCQG đề án of Bắc Ninh waiting for the reviewer («Đã gửi Cục»), forwarded ``waited_days`` ago."""
    d = advance(ready_de_an(users.centre, name=name), "forwarded", users)
    if waited_days is not None:
        enter(d, "forward", timezone.now() - timedelta(days=waited_days))
    return d


def enter(de_an, action, at):
    """Date the latest ``action`` transition of ``de_an`` at ``at``."""
    t = Transition.objects.filter(de_an=de_an, action=action).order_by("-at", "-id").first()
    Transition.objects.filter(pk=t.pk).update(at=at)


def body_of(client, params=None, status=200):
    response = client.get(QUEUE, params or {})
    assert response.status_code == status
    return response.content.decode()


def shown(body, *de_an):
    """The codes of ``de_an`` in the order the page shows them (only those present)."""
    found = [(body.find(f'<td class="code">{d.code}</td>'), d.code) for d in de_an]
    return [code for position, code in sorted(found) if position >= 0]


def table(body):
    """The rows of the page's table of đề án (the search box and the links may repeat what was typed)."""
    return body.split('<table class="data">', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def days_column(body):
    """{code: «Chờ (ngày)»} of the page's rows."""
    return dict(re.findall(r'<td class="code">([^<]+)</td>.*?<td class="num">([\d.]+)</td></tr>', body))


# --- search and filters ---------------------------------------------------------------------------

def test_search_narrows_the_queue(users, client_as):
    bamboo = forwarded(users, "Đề án dệt thổ cẩm Mường")
    tea = forwarded(users, "Đề án chế biến chè xanh")
    c = client_as(users.reviewer)
    body = body_of(c)
    assert sorted(shown(body, bamboo, tea)) == sorted([bamboo.code, tea.code])
    assert "2 đề án đang chờ" in body
    body = body_of(c, {"q": "tho cam"})  # without diacritics, as the list searches
    assert shown(body, bamboo, tea) == [bamboo.code]
    assert "1 đề án đang chờ" in body
    assert 'value="tho cam"' in body  # the box keeps what was typed
    body = body_of(c, {"q": "không có đề án này"})
    assert shown(body, bamboo, tea) == []
    assert "0 đề án đang chờ" in body and "Không có đề án nào khớp bộ lọc." in body
    assert "Không có đề án nào đang chờ bạn xử lý." not in body


def test_empty_queue_without_filters_says_nothing_waits(users, client_as):
    body = body_of(client_as(users.reviewer))
    assert "Không có đề án nào đang chờ bạn xử lý." in body
    assert "Không có đề án nào khớp bộ lọc." not in body
    assert "0 đề án đang chờ" in body


def test_a_filter_never_reaches_outside_the_queue(users, client_as):
    """A status (or a search) naming a đề án that waits for nobody in this role shows nothing of it."""
    approved = advance(ready_de_an(users.centre, name="Đề án đã phê duyệt"), "approved", users)
    waiting = forwarded(users, "Đề án đang chờ thẩm định")
    c = client_as(users.reviewer)
    # The list finds the approved one with the same filter: the queue's scope is what hides it.
    assert approved.code in c.get(reverse("projects:list"), {"status": "approved"}).content.decode()
    body = body_of(c, {"status": "approved"})
    assert shown(body, approved, waiting) == []
    assert "Không có đề án nào khớp bộ lọc." in body
    body = body_of(c, {"q": "da phe duyet"})
    assert shown(body, approved, waiting) == []
    body = body_of(c, {"status": "forwarded"})
    assert shown(body, approved, waiting) == [waiting.code]
    # Only the statuses this role's queue can hold are offered.
    assert '<option value="forwarded"' in body and '<option value="approved"' not in body
    assert selectors.queue_for(users.reviewer, filters={"status": "approved"}).count() == 0


def test_forged_and_malformed_values_are_ignored(users, client_as):
    older = forwarded(users, "Đề án chờ lâu", waited_days=20)
    newer = forwarded(users, "Đề án mới gửi", waited_days=2)
    c = client_as(users.reviewer)
    for params in ({"year": "abc", "province": "999999", "sort": "drop"},
                   {"year": "2026x", "level": "kcxx", "status": "hacked", "current_province": "-1",
                    "sort": "password", "page": "zz", "size": "7"},
                   {"province": "1 OR 1=1", "q": "   "}):
        body = body_of(c, params)
        assert shown(body, older, newer) == [older.code, newer.code], params
        assert "2 đề án đang chờ" in body and "Không có đề án nào khớp bộ lọc." not in body
    assert selectors.queue_filters({"year": "abc", "province": "999999", "sort": "drop"}, user=users.reviewer) == {}


def test_year_level_and_province_filters(users, client_as):
    this_year = forwarded(users, "Đề án năm 2026")
    next_year = advance(ready_de_an(users.centre, name="Đề án năm 2027", plan_year=2027), "forwarded", users)
    c = client_as(users.reviewer)
    assert shown(body_of(c, {"year": "2027"}), this_year, next_year) == [next_year.code]
    assert shown(body_of(c, {"level": "kcdp"}), this_year, next_year) == []
    assert shown(body_of(c, {"level": "kcqg", "year": "2026"}), this_year, next_year) == [this_year.code]
    bac_ninh, thai_nguyen = current("24"), current("19")
    assert shown(body_of(c, {"current_province": bac_ninh.pk}), this_year, next_year) == [this_year.code, next_year.code]
    assert shown(body_of(c, {"current_province": thai_nguyen.pk}), this_year, next_year) == []


def _other_province_submitted(users, name="Đề án chè Thái Nguyên"):
    d = ready_de_an(users.centre_other, name=name, province=current("19"))
    return submit(d, users.centre_other)


def test_a_local_user_never_sees_another_province_through_the_filters(users, client_as):
    own = submit(ready_de_an(users.centre, name="Đề án chè Bắc Ninh"), users.centre)
    other = _other_province_submitted(users)
    thai_nguyen = current("19")
    # The other province's own Sở has it waiting: it is a real queue entry, hidden by scope only.
    assert other.code in body_of(client_as(users.province_other))
    c = client_as(users.province)
    for params in ({}, {"current_province": thai_nguyen.pk}, {"province": thai_nguyen.pk},
                   {"q": "che Thai Nguyen"}, {"q": other.code}, {"status": "submitted", "province": thai_nguyen.pk},
                   {"current_province": [thai_nguyen.pk, current("24").pk]}):
        body = body_of(c, params)
        assert other.code not in table(body) and "Thái Nguyên" not in table(body), params
    # A province it may not see is ignored (its own queue shows), not trusted.
    assert own.code in body_of(c, {"current_province": thai_nguyen.pk})
    # The selects offer its own province (and the former ones merged into it) only; a reviewer gets all.
    body = body_of(c)
    assert f'<option value="{thai_nguyen.pk}"' not in body
    assert f'<option value="{current("24").pk}"' in body
    assert f'<option value="{thai_nguyen.pk}"' in body_of(client_as(users.reviewer))


# --- waiting time and order -------------------------------------------------------------------------

def test_days_waiting_and_the_longest_wait_first(users, client_as):
    a = forwarded(users, "Đề án A", waited_days=10)
    b = forwarded(users, "Đề án B", waited_days=3)
    c_ = forwarded(users, "Đề án C", waited_days=30)
    # Forwarded 40 days ago, sent back, forwarded again 1 day ago: the wait counts from the latest entry.
    again = forwarded(users, "Đề án gửi lại", waited_days=40)
    again = services.de_an_return(actor=users.reviewer, de_an=again, comment="Bổ sung hồ sơ")
    again = services.de_an_submit(actor=users.centre, de_an=again)
    again = services.de_an_forward(actor=users.province, de_an=again)
    enter(again, "forward", timezone.now() - timedelta(days=1))
    # The previous order (the last change first) would put them the other way round.
    for d, days in ((c_, 1), (a, 2), (b, 3)):
        DeAn.objects.filter(pk=d.pk).update(updated_at=timezone.now() - timedelta(days=days))
    body = body_of(client_as(users.reviewer))
    assert shown(body, a, b, c_, again) == [c_.code, a.code, b.code, again.code]
    assert days_column(body) == {c_.code: "30", a.code: "10", b.code: "3", again.code: "1"}
    since = timezone.localtime(Transition.objects.filter(de_an=a, action="forward").latest("at").at, VN)
    assert f'<time datetime="{since.isoformat()}">{since:%H:%M %d/%m/%Y}</time>' in body
    assert "Chờ (ngày)" in body
    # The shortest wait first, and the home panel in the page's default order.
    assert shown(body_of(client_as(users.reviewer), {"sort": "waiting"}), a, b, c_, again) == [
        again.code, b.code, a.code, c_.code]
    panel = selectors.home_panels(users.reviewer)[0]
    assert [item["label"].split(" — ")[0] for item in panel["items"]] == [c_.code, a.code, b.code, again.code]


def test_days_are_counted_in_vietnam_calendar_days(users):
    from datetime import date, datetime

    today = date(2026, 3, 10)
    # 23:30 on 09/03 in Hà Nội is 16:30 UTC: one day ago there, though not 24 hours.
    assert selectors.days_waiting(datetime(2026, 3, 9, 16, 30, tzinfo=ZoneInfo("UTC")), today) == 1
    # 06:00 on 10/03 in Hà Nội is 23:00 UTC the day before: today, 0 days.
    assert selectors.days_waiting(datetime(2026, 3, 9, 23, 0, tzinfo=ZoneInfo("UTC")), today) == 0
    assert selectors.days_waiting(datetime(2026, 1, 9, 9, 0, tzinfo=VN), today) == 60


def test_waiting_time_is_the_entry_into_the_current_status(users):
    d = forwarded(users, "Đề án nhận thẩm định")
    enter(d, "forward", timezone.now() - timedelta(days=12))
    d = services.de_an_start_appraisal(actor=users.reviewer, de_an=d)
    enter(d, "start_appraisal", timezone.now() - timedelta(days=5))
    row = selectors.queue_for(users.reviewer).get(pk=d.pk)
    assert row.waiting_since == Transition.objects.get(de_an=d, action="start_appraisal").at
    assert selectors.days_waiting(row.waiting_since) == 5


def test_sort_options(users, client_as):
    small = forwarded(users, "Bảo tồn nghề gốm", waited_days=5)
    big = forwarded(users, "Ứng dụng máy móc", waited_days=9)
    DeAn.objects.filter(pk=small.pk).update(total_amount=100_000_000)
    DeAn.objects.filter(pk=big.pk).update(total_amount=900_000_000)
    c = client_as(users.reviewer)
    by_code = sorted([small, big], key=lambda d: d.code)
    assert shown(body_of(c, {"sort": "code"}), small, big) == [d.code for d in by_code]
    assert shown(body_of(c, {"sort": "-code"}), small, big) == [d.code for d in reversed(by_code)]
    assert shown(body_of(c, {"sort": "name"}), small, big) == [small.code, big.code]
    assert shown(body_of(c, {"sort": "-name"}), small, big) == [big.code, small.code]
    assert shown(body_of(c, {"sort": "total"}), small, big) == [small.code, big.code]
    assert shown(body_of(c, {"sort": "-total"}), small, big) == [big.code, small.code]
    assert shown(body_of(c, {"sort": "-waiting"}), small, big) == [big.code, small.code]
    assert shown(body_of(c, {"sort": "waiting"}), small, big) == [small.code, big.code]
    # A list sort the queue does not offer falls back to the longest wait first.
    assert shown(body_of(c, {"sort": "-year"}), small, big) == [big.code, small.code]
    body = body_of(c, {"sort": "-total"})
    assert '<option value="-total" selected>' in body and 'aria-sort="descending"' in body


def test_pagination_keeps_the_filters(users, client_as, monkeypatch):
    from projects import views

    trays = [forwarded(users, f"Đề án thêu ren số {i}", waited_days=10 - i) for i in range(3)]
    pottery = forwarded(users, "Đề án gốm sứ")
    monkeypatch.setattr(views, "PAGE_SIZES", (2, 20, 50, 100))  # pages of 2 rows
    c = client_as(users.reviewer)
    body = body_of(c, {"q": "theu ren", "sort": "code", "size": 2})
    assert "3 đề án đang chờ" in body
    assert 'href="?q=theu+ren&amp;sort=code&amp;size=2&amp;page=2"' in body
    by_code = sorted(d.code for d in trays)
    assert shown(body, *trays, pottery) == by_code[:2]
    body = body_of(c, {"q": "theu ren", "sort": "code", "size": 2, "page": 2})
    assert shown(body, *trays, pottery) == by_code[2:]
    assert 'href="?q=theu+ren&amp;sort=code&amp;size=2&amp;page=1"' in body


# --- query count --------------------------------------------------------------------------------------

def _under_appraisal(users, n, start):
    """``n`` KCQG đề án of Bắc Ninh under appraisal (with their transition), cheaply."""
    now = timezone.now()
    ids = []
    for i in range(start, start + n):
        d = services.de_an_create(actor=users.centre, name=f"Đề án thẩm định số {i}", level=Level.NATIONAL,
                                  plan_year=2026, contents=[])
        ids.append(d.pk)
    DeAn.objects.filter(pk__in=ids).update(status="under_appraisal")
    Transition.objects.bulk_create(
        Transition(de_an_id=pk, action="start_appraisal", from_status="forwarded", to_status="under_appraisal",
                   at=now - timedelta(days=i % 17)) for i, pk in enumerate(ids))
    return ids


def _queue_queries(client, params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(QUEUE, params)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_the_query_count_does_not_grow_with_rows(users, client_as):
    _under_appraisal(users, 3, 0)
    c = client_as(users.reviewer)
    params = {"q": "tham dinh", "year": "2026", "level": "kcqg", "status": "under_appraisal",
              "current_province": current("24").pk, "sort": "-waiting", "size": 50}
    _queue_queries(c, params)  # warm the per-process caches (filter choices)
    few, body = _queue_queries(c, params)
    assert body.count('name="ids"') == 3
    _under_appraisal(users, 27, 3)
    many, body = _queue_queries(c, params)
    assert body.count('name="ids"') == 30 and "30 đề án đang chờ" in body
    assert few == many
    assert many <= 10
    # Every sort costs the same (once the per-process lookup of the Vietnamese collation is made).
    for sort in ("waiting", "code", "-name", "total"):
        _queue_queries(c, {**params, "sort": sort})
        assert _queue_queries(c, {**params, "sort": sort})[0] == many, sort


# --- bulk approval ------------------------------------------------------------------------------------

def test_bulk_approve_from_a_filtered_queue(users, client_as):
    a = advance(ready_de_an(users.centre, name="Đề án mây tre đan xuất khẩu"), "under_appraisal", users)
    b = advance(ready_de_an(users.centre, name="Đề án gốm sứ Bát Tràng"), "under_appraisal", users)
    allocate(a)
    c = client_as(users.reviewer)
    url = f"{QUEUE}?q=xuat+khau"
    body = c.get(url).content.decode()
    assert f'aria-label="Chọn {a.code}"' in body and f'aria-label="Chọn {b.code}"' not in body
    assert f'name="next" value="{url}"' in body and "Phê duyệt các đề án đã chọn" in body
    # A refusal (no decision number) comes back with the same filter and nothing approved.
    response = c.post(reverse("projects:bulk_approve"), {
        "ids": [a.pk], "decision_number": "", "decision_date": "2026-03-01", "next": url})
    body = response.content.decode()
    assert response.status_code == 400 and "Cần nhập số quyết định phê duyệt." in body
    assert 'value="xuat khau"' in body and f'aria-label="Chọn {a.code}" checked>' in body
    assert f'aria-label="Chọn {b.code}"' not in body
    assert DeAn.objects.get(pk=a.pk).status == "under_appraisal"
    response = c.post(reverse("projects:bulk_approve"), {
        "ids": [a.pk], "decision_number": "88/QĐ-CĐM", "decision_date": "2026-03-01", "next": url})
    assert response.status_code == 302 and response["Location"] == url
    body = c.get(response["Location"]).content.decode()
    assert "Đã phê duyệt 1 đề án theo quyết định số 88/QĐ-CĐM." in body
    assert DeAn.objects.get(pk=a.pk).status == "approved" and DeAn.objects.get(pk=b.pk).status == "under_appraisal"
    assert a.code not in table(body)  # no longer waits
