"""The province page's commitments, a page at a time with the totals over every row, and the
commitments export written row by row (openpyxl write-only) with a constant number of queries."""
import io
import re

import openpyxl
import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from funding import exports
from funding.models import Allocation, Commitment
from khuyencong.formatting import format_dong
from khuyencong.models import Province
from khuyencong.xlsx import XLSX_CONTENT_TYPE
from projects.models import DeAn
from tests.funding.factories import AllocationFactory
from tests.khuyencong.factories import admin_user, province_user

pytestmark = pytest.mark.django_db

CODE = re.compile(r">(CK-\d{2}-\d{4}-\d{4})</a>")


def fill(code, n, *, year=2026, national_every=3, first_name=None):
    """``n`` approved đề án of province ``code`` for ``year``, each with one commitment (two in three on
    the KCQG allocation, the rest on the KCĐP one), written in bulk; the allocations' ``committed`` is
    set to what they hold, as the services keep it. Amounts are odd so that no page adds up to another."""
    province = Province.objects.get(code=code, era="current")
    allocations = {level: AllocationFactory(year=year, level=level, province=province, amount=10 ** 13)
                   for level in ("kcqg", "kcdp")}
    start = DeAn.objects.filter(code__startswith=f"CK-{code}-{year}-").count()
    de_ans = DeAn.objects.bulk_create([
        DeAn(code=f"CK-{code}-{year}-{start + i:04d}",
             name=first_name if i == 0 and first_name else f"Đề án cam kết số {start + i}",
             level="kcdp" if (start + i) % national_every == national_every - 1 else "kcqg",
             plan_year=year, province=province, current_province=province, status="approved",
             decision_number=f"{start + i}/QĐ-BCT")
        for i in range(n)
    ])
    Commitment.objects.bulk_create([
        Commitment(de_an=d, allocation=allocations[d.level], amount=1_000_000 * (k + 1) + 7_919 * k + 13)
        for k, d in enumerate(de_ans, start=start)
    ])
    for allocation in allocations.values():
        held = Commitment.objects.filter(allocation=allocation).aggregate(s=Sum("amount"))["s"] or 0
        Allocation.objects.filter(pk=allocation.pk).update(committed=held)
    return province


def page_url(code, year=2026):
    return reverse("funding:province", kwargs={"code": code, "year": year})


def codes(response):
    assert response.status_code == 200
    return CODE.findall(response.content.decode())


def expected_codes(code, year=2026):
    return list(Commitment.objects.filter(allocation__province__code=code, allocation__province__era="current",
                                          allocation__plan__year=year)
                .order_by("de_an__code", "pk").values_list("de_an__code", flat=True))


def test_every_commitment_is_on_some_page_and_the_totals_count_them_all(client):
    fill("24", 65)
    fill("01", 4)  # another province: on no page of Bắc Ninh's, in none of its totals
    fill("24", 3, year=2025)  # another year, likewise
    client.force_login(province_user("24"))
    everything = expected_codes("24")
    assert len(everything) == 65

    first = codes(client.get(page_url("24"), {"size": 20}))
    second = codes(client.get(page_url("24"), {"size": 20, "page": 2}))
    fourth = codes(client.get(page_url("24"), {"size": 20, "page": 4}))
    assert first == everything[:20] and second == everything[20:40]
    assert fourth == everything[60:]  # the rest: 5 rows
    pages = [codes(client.get(page_url("24"), {"size": 20, "page": p})) for p in (1, 2, 3, 4)]
    assert sum(pages, []) == everything  # each once, in order, none from another province or year

    # The default page size (50) also pages, and its page 2 holds the last 15.
    default = client.get(page_url("24"), {"page": 2})
    assert codes(default) == everything[50:]
    text = default.content.decode()
    assert 'page=1"' in text and "51–65 trong 65" in text

    # Totals under the list: every commitment of the year, to the đồng, whatever the page.
    rows = Commitment.objects.filter(allocation__province__code="24", allocation__plan__year=2026)
    total = rows.aggregate(s=Sum("amount"))["s"]
    national = rows.filter(allocation__source="national").aggregate(s=Sum("amount"))["s"]
    local = rows.filter(allocation__source="local").aggregate(s=Sum("amount"))["s"]
    assert national and local and national + local == total
    page_only = sum(rows.filter(de_an__code__in=second).values_list("amount", flat=True))
    assert page_only != total
    for page in (1, 2, 4):
        html = client.get(page_url("24"), {"size": 20, "page": page}).content.decode()
        listing = html[html.index('id="cam-ket"'):]
        footer = listing[listing.index("<tfoot>"):listing.index("</tfoot>")]
        assert "Tổng cộng 65 cam kết" in footer
        assert format_dong(total) in footer
        assert format_dong(national) in footer and format_dong(local) in footer
        assert format_dong(page_only) not in footer
    # The summary above (the allocations' committed money) agrees with the list.
    summary = html[html.index("funding-summary"):html.index("</table>")]
    assert format_dong(national) in summary and format_dong(local) in summary


def test_the_page_size_choice_is_kept_in_the_page_links(client):
    fill("24", 45)
    client.force_login(province_user("24"))
    html = client.get(page_url("24"), {"size": 20}).content.decode()
    assert '<option value="20" selected>' in html
    assert "size=20&amp;page=2" in html and "1–20 trong 45" in html
    # A size the page does not offer falls back to 50: everything on one page, no page links.
    for size in ("7", "abc", "100000", "-20"):
        response = client.get(page_url("24"), {"size": size})
        assert len(codes(response)) == 45, size
        assert 'rel="next"' not in response.content.decode()


@pytest.mark.parametrize("page, expected", [
    ("abc", "first"), ("", "first"), ("0", "first"), ("-3", "first"), ("1e5", "first"), ("9" * 5000, "first"),
    ("99999", "last"), ("3", "last"),
], ids=["abc", "empty", "zero", "negative", "float", "5000-digits", "far-past-the-end", "last"])
def test_a_forged_page_number_shows_a_page_instead_of_failing(client, page, expected):
    fill("24", 45)
    client.force_login(province_user("24"))
    everything = expected_codes("24")
    response = client.get(page_url("24"), {"size": 20, "page": page})
    shown = codes(response)
    assert shown == (everything[:20] if expected == "first" else everything[40:])


def test_a_local_user_cannot_page_into_another_province(client):
    fill("24", 25)
    fill("01", 25)
    client.force_login(province_user("24"))
    for params in ({}, {"page": 2}, {"page": 2, "size": 20}, {"page": "abc"}):
        response = client.get(page_url("01"), params)
        assert response.status_code == 403, params
        assert not CODE.findall(response.content.decode())
    own = sum((codes(client.get(page_url("24"), {"size": 20, "page": p})) for p in (1, 2)), [])
    assert own == expected_codes("24") and not [c for c in own if c.startswith("CK-01-")]
    # Nationwide staff see both provinces' pages.
    client.force_login(admin_user())
    assert codes(client.get(page_url("01"), {"size": 20, "page": 2})) == expected_codes("01")[20:]


def _page_queries(client, url, params):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx.captured_queries)


def test_the_page_costs_the_same_queries_for_3_or_30_rows(client):
    fill("24", 3)
    client.force_login(province_user("24"))
    _page_queries(client, page_url("24"), {})  # warm any per-process cache
    few = _page_queries(client, page_url("24"), {})
    fill("24", 27)
    many = _page_queries(client, page_url("24"), {})
    assert len(expected_codes("24")) == 30
    assert many == few, (few, many)


# --- export -------------------------------------------------------------------------------------

def _workbook(content):
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["Cam kết kinh phí"]
    return book.active


def _data_rows(ws):
    return [row for row in ws.iter_rows(min_row=4) if isinstance(row[0].value, int)]


def test_the_export_holds_every_row_to_the_dong_and_neutralises_formulas(client):
    fill("24", 30, first_name='=HYPERLINK("http://evil","Đề án")')
    fill("01", 5)
    client.force_login(admin_user())
    response = client.get(reverse("funding:export_commitments"), {"nam": 2026})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(XLSX_CONTENT_TYPE)
    ws = _workbook(response.content)
    assert [c.value for c in next(ws.iter_rows(min_row=3, max_row=3))] == [
        "STT", "Mã đề án", "Tên đề án", "Tỉnh, thành phố (hiện nay)", "Tỉnh, thành phố (khi đăng ký)",
        "Năm kế hoạch", "Nguồn", "Số tiền cam kết (đồng)", "Số quyết định", "Ngày quyết định"]
    rows = _data_rows(ws)
    exported = {row[1].value: (row[7].value, row[6].value, row[3].value) for row in rows}
    in_db = {c.de_an.code: (c.amount, "KCQG" if c.allocation.source == "national" else "KCĐP",
                            c.allocation.province.full_name)
             for c in Commitment.objects.select_related("de_an", "allocation__province")
             .filter(allocation__plan__year=2026)}
    assert len(rows) == 35 and exported == in_db
    assert [row[0].value for row in rows] == list(range(1, 36))
    assert all(type(row[7].value) is int and row[7].number_format == "#,##0" for row in rows)
    total_row = next(row for row in ws.iter_rows(min_row=4) if row[2].value == "Tổng cộng")
    assert total_row[7].value == sum(amount for amount, _s, _p in in_db.values())
    assert total_row[7].number_format == "#,##0"

    names = [row[2] for row in rows if "HYPERLINK" in (row[2].value or "")]
    assert len(names) == 1
    assert names[0].value == '\'=HYPERLINK("http://evil","Đề án")' and names[0].data_type == "s"
    assert not [c for row in ws.iter_rows() for c in row if c.data_type == "f"]


def test_a_local_users_export_holds_only_their_province(client):
    fill("24", 6)
    fill("01", 4)
    client.force_login(province_user("24"))
    ws = _workbook(client.get(reverse("funding:export_commitments"), {"nam": 2026}).content)
    assert sorted(row[1].value for row in _data_rows(ws)) == expected_codes("24")


def test_the_export_is_written_write_only(monkeypatch):
    seen = []
    real = exports.Workbook

    def spy(*args, **kwargs):
        seen.append(kwargs.get("write_only", args[0] if args else False))
        return real(*args, **kwargs)

    monkeypatch.setattr(exports, "Workbook", spy)
    fill("24", 3)
    exports.commitments_workbook(user=admin_user(), year=2026)
    assert seen == [True]


def test_the_export_costs_the_same_queries_for_3_or_30_rows():
    user = admin_user()
    fill("24", 3)
    exports.commitments_workbook(user=user, year=2026)  # warm any per-process cache

    def measured():
        with CaptureQueriesContext(connection) as ctx:
            content = exports.commitments_workbook(user=user, year=2026)
        return len(ctx.captured_queries), len(_data_rows(_workbook(content)))

    few, rows_few = measured()
    fill("24", 27)
    many, rows_many = measured()
    assert (rows_few, rows_many) == (3, 30)
    assert many == few, (few, many)


def test_the_province_pages_buttons_export_that_province_only(client):
    fill("24", 6)
    fill("01", 4)
    client.force_login(admin_user())
    page = client.get(page_url("24")).content.decode()
    commitments_link = reverse("funding:export_commitments") + "?nam=2026&amp;tinh=24"
    allocations_link = reverse("funding:export_allocations") + "?nam=2026&amp;tinh=24"
    assert commitments_link in page and allocations_link in page
    assert "Xuất cam kết của Tỉnh Bắc Ninh (.xlsx)" in page

    response = client.get(reverse("funding:export_commitments"), {"nam": 2026, "tinh": "24"})
    assert response.status_code == 200
    assert "cam-ket-kinh-phi-2026-24.xlsx" in response["Content-Disposition"]
    ws = _workbook(response.content)
    assert ws["A1"].value == "CAM KẾT KINH PHÍ KHUYẾN CÔNG NĂM 2026 – TỈNH BẮC NINH"
    rows = _data_rows(ws)
    assert sorted(row[1].value for row in rows) == expected_codes("24")
    total_row = next(row for row in ws.iter_rows(min_row=4) if row[2].value == "Tổng cộng")
    assert total_row[7].value == Commitment.objects.filter(
        allocation__province__code="24", allocation__province__era="current",
        allocation__plan__year=2026).aggregate(s=Sum("amount"))["s"]

    allocations = openpyxl.load_workbook(io.BytesIO(
        client.get(reverse("funding:export_allocations"), {"nam": 2026, "tinh": "24"}).content)).active
    codes_written = {str(c.value) for row in allocations.iter_rows() for c in row if c.column == 3 and c.value}
    assert "24" in codes_written and "01" not in codes_written

    # The national page's buttons still export every province the user may see.
    national = client.get(reverse("funding:national"), {"nam": 2026}).content.decode()
    assert reverse("funding:export_commitments") + "?nam=2026\"" in national
    whole = _workbook(client.get(reverse("funding:export_commitments"), {"nam": 2026}).content)
    assert len(_data_rows(whole)) == 10


def test_a_forged_province_in_the_export_link_is_refused_in_vietnamese(client):
    fill("24", 2)
    fill("01", 2)
    client.force_login(province_user("24"))
    other = client.get(reverse("funding:export_commitments"), {"nam": 2026, "tinh": "01"})
    assert other.status_code == 403
    assert other["Content-Type"].startswith("text/html")
    assert "Bạn chỉ được xem dữ liệu của tỉnh, thành phố mình." in other.content.decode()
    assert client.get(reverse("funding:export_allocations"), {"nam": 2026, "tinh": "01"}).status_code == 403
    missing = client.get(reverse("funding:export_commitments"), {"nam": 2026, "tinh": "99"})
    assert missing.status_code == 404
    assert "Không tìm thấy trang hoặc hồ sơ" in missing.content.decode()
    assert client.get(reverse("funding:export_commitments"), {"nam": 2026, "tinh": "x" * 5000}).status_code == 404


def test_both_pages_say_what_is_left_to_commit_by_source(client):
    """Allocated minus committed, per source: the province's on its page, every province's on the
    national page — computed here from the rows, not from the page's own figures."""
    fill("24", 7)
    fill("01", 4)
    client.force_login(admin_user())

    def left(code=None):
        rows = Allocation.objects.filter(plan__year=2026)
        if code:
            rows = rows.filter(province__code=code, province__era="current")
        return {s: (rows.filter(source=s).aggregate(a=Sum("amount"))["a"] or 0)
                - (Commitment.objects.filter(allocation__in=rows.filter(source=s)).aggregate(c=Sum("amount"))["c"] or 0)
                for s in ("national", "local")}

    for body, figures in [
        (client.get(page_url("24")).content.decode(), left("24")),
        (client.get(reverse("funding:national"), {"nam": 2026}).content.decode(), left()),
    ]:
        assert (f"Còn có thể cam kết (phân bổ trừ đã cam kết): KCQG <strong>{format_dong(figures['national'])}</strong>; "
                f"KCĐP <strong>{format_dong(figures['local'])}</strong>.") in body
    assert left("24")["national"] < 10 ** 13 and left("24")["local"] < 10 ** 13  # not just the allocation
