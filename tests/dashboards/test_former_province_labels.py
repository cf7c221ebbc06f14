"""Grouped by the province recorded on the dossier (``grouping=historical``), a province of the map before
01/07/2025 reads «Tỉnh Bắc Ninh (cũ)» — in the charts, the data table and the .xlsx — beside the current
«Tỉnh Bắc Ninh»: many merged provinces kept one of the old names (Bắc Ninh 27 + Bắc Giang 24 → Bắc Ninh 24),
and both rows used to read «Tỉnh Bắc Ninh». The «Mã» column gives each row its own code: the former Bắc
Ninh 27, the former Bắc Giang 24 (whose code the new Bắc Ninh took), the current Bắc Ninh 24."""
import html
import io
import re
from collections import Counter

import pytest
from openpyxl import load_workbook

from khuyencong.models import Province
from projects.models import DeAn
from tests.khuyencong.factories import province_user, reviewer

pytestmark = pytest.mark.django_db
P1881 = "programme=qd-1881-2021-2025"
P2646 = "programme=qd-2646-2026-2030"


def _province(code, era):
    return Province.objects.get(code=code, era=era)


@pytest.fixture
def recorded():
    """Đề án of plan years 2025 and 2026 recorded under former and current provinces of the same name:
    {(code, era): number of đề án} per programme. A 2026 đề án registered before the merger (the
    registration is due by 20 June of the year before) keeps its former province."""
    plan = {  # (plan year, recorded under (code, era), now in (code of the current province)): how many
        (2025, ("24", "current"), "24"): 3, (2025, ("27", "former"), "24"): 2, (2025, ("24", "former"), "24"): 1,
        (2025, ("44", "current"), "44"): 1, (2025, ("45", "former"), "44"): 2, (2025, ("44", "former"), "44"): 4,
        (2026, ("52", "current"), "52"): 2, (2026, ("64", "former"), "52"): 1,
        (2026, ("24", "current"), "24"): 1, (2026, ("27", "former"), "24"): 3,
    }
    rows, n = [], 0
    for (year, (code, era), now), count in plan.items():
        for _i in range(count):
            n += 1
            rows.append(DeAn(code=f"KC-{year}-{n:05d}", name=f"Đề án số {n}", level="kcqg", plan_year=year,
                             province=_province(code, era), current_province=_province(now, "current"),
                             status="approved", national_amount=100_000_000 + n, total_amount=100_000_000 + n))
    DeAn.objects.bulk_create(rows)
    by_programme = {2025: Counter(), 2026: Counter()}
    for (year, key, _now), count in plan.items():
        by_programme[year][key] += count
    return by_programme


def _tinh_block(page):
    """The «So sánh các tỉnh, thành phố» block of a dashboard page: its two charts and its table."""
    start = page.index('id="tinh"')
    end = page.index('id="noi-dung"')
    return page[start:end]


def _chart_labels(block):
    """The category labels of each chart (the full text, in the label's <title>), in order."""
    charts = re.findall(r"<svg.*?</svg>", block, re.S)
    assert len(charts) == 2
    return [[html.unescape(t) for t in re.findall(r'text-anchor="end" fill="#1d2733"><title>([^<]*)</title>', c)]
            for c in charts]


def _count_bars(block):
    """{label: number of đề án} from the count chart's bar titles («Tỉnh Bắc Ninh (cũ) – Số đề án: 2»)."""
    chart = re.findall(r"<svg.*?</svg>", block, re.S)[1]
    return {html.unescape(label): int(n) for label, n in re.findall(r"<title>([^<]*) – Số đề án: (\d+)</title>", chart)}


def _table_rows(block):
    """(Mã, Tỉnh, thành phố, Nay thuộc, Số đề án) per body row of the block's table."""
    body = block[block.index("<tbody>"):block.index("</tbody>")]
    return [tuple(html.unescape(c) for c in row) for row in
            re.findall(r'<tr><th scope="row">([^<]*)</th><td>([^<]*)</td><td>([^<]*)</td><td class="num">([^<]*)</td>', body)]


def test_national_page_tells_the_former_province_from_the_current_one(client, recorded):
    client.force_login(reviewer())
    block = _tinh_block(client.get(f"/tong-quan/toan-quoc/?{P1881}&grouping=historical").content.decode())
    money, count = _chart_labels(block)
    assert money == count
    assert len(set(count)) == len(count), count  # no two bars with the same label
    want = {("24", "current"): "Tỉnh Bắc Ninh", ("27", "former"): "Tỉnh Bắc Ninh (cũ)",
            ("24", "former"): "Tỉnh Bắc Giang (cũ)", ("44", "current"): "Tỉnh Quảng Trị",
            ("45", "former"): "Tỉnh Quảng Trị (cũ)", ("44", "former"): "Tỉnh Quảng Bình (cũ)"}
    assert set(count) == set(want.values())
    assert _count_bars(block) == {label: recorded[2025][key] for key, label in want.items()}
    rows = _table_rows(block)
    assert sorted(rows) == sorted([
        ("24", "Tỉnh Bắc Ninh", "", "3"), ("27", "Tỉnh Bắc Ninh (cũ)", "Tỉnh Bắc Ninh", "2"),
        ("24", "Tỉnh Bắc Giang (cũ)", "Tỉnh Bắc Ninh", "1"), ("44", "Tỉnh Quảng Trị", "", "1"),
        ("45", "Tỉnh Quảng Trị (cũ)", "Tỉnh Quảng Trị", "2"), ("44", "Tỉnh Quảng Bình (cũ)", "Tỉnh Quảng Trị", "4"),
    ])
    # The codes are the reference data's: each former province its own (not its successor's).
    for code, name, _successor, _n in rows:
        era = "former" if name.endswith("(cũ)") else "current"
        assert _province(code, era).era_full_name == name


def test_national_page_of_the_2026_2030_programme(client, recorded):
    """2026 đề án registered before the merger are recorded under the former Gia Lai and Bắc Ninh."""
    client.force_login(reviewer())
    block = _tinh_block(client.get(f"/tong-quan/toan-quoc/?{P2646}&grouping=historical").content.decode())
    assert _count_bars(block) == {"Tỉnh Gia Lai": 2, "Tỉnh Gia Lai (cũ)": 1, "Tỉnh Bắc Ninh": 1, "Tỉnh Bắc Ninh (cũ)": 3}
    assert ("64", "Tỉnh Gia Lai (cũ)", "Tỉnh Gia Lai", "1") in _table_rows(block)
    assert ("52", "Tỉnh Gia Lai", "", "2") in _table_rows(block)


def test_province_page_and_table_page(client, recorded):
    """The province's own page (its Sở) and the block's table page show the same labels and codes."""
    client.force_login(province_user("24"))
    block = _tinh_block(client.get(f"/tong-quan/tinh/24/?{P1881}&grouping=historical").content.decode())
    assert _count_bars(block) == {"Tỉnh Bắc Ninh": 3, "Tỉnh Bắc Ninh (cũ)": 2, "Tỉnh Bắc Giang (cũ)": 1}
    assert _table_rows(block) == [("24", "Tỉnh Bắc Ninh", "", "3"), ("24", "Tỉnh Bắc Giang (cũ)", "Tỉnh Bắc Ninh", "1"),
                                  ("27", "Tỉnh Bắc Ninh (cũ)", "Tỉnh Bắc Ninh", "2")]
    table = client.get(f"/tong-quan/tinh/24/bang/tinh/?{P1881}&grouping=historical").content.decode()
    assert [r[:2] for r in _table_rows(table)] == [("24", "Tỉnh Bắc Ninh"), ("24", "Tỉnh Bắc Giang (cũ)"),
                                                   ("27", "Tỉnh Bắc Ninh (cũ)")]


def test_grouped_by_current_province_nothing_says_former(client, recorded):
    client.force_login(reviewer())
    block = _tinh_block(client.get(f"/tong-quan/toan-quoc/?{P1881}&grouping=current").content.decode())
    assert "(cũ)" not in block
    assert _count_bars(block) == {"Tỉnh Bắc Ninh": 6, "Tỉnh Quảng Trị": 7}


def test_xlsx_export_names_the_former_province(client, recorded):
    client.force_login(reviewer())
    response = client.get(f"/tong-quan/toan-quoc/xuat/tinh/?{P1881}&grouping=historical")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in ws[5]]
    rows = [dict(zip(header, [c.value for c in r], strict=False)) for r in ws.iter_rows(min_row=6) if r[0].value]
    got = {(r["Mã"], r["Tỉnh, thành phố"]): r["Số đề án"] for r in rows}
    assert got == {("24", "Tỉnh Bắc Ninh"): 3, ("27", "Tỉnh Bắc Ninh (cũ)"): 2, ("24", "Tỉnh Bắc Giang (cũ)"): 1,
                   ("44", "Tỉnh Quảng Trị"): 1, ("45", "Tỉnh Quảng Trị (cũ)"): 2, ("44", "Tỉnh Quảng Bình (cũ)"): 4}
    former = next(r for r in rows if r["Tỉnh, thành phố"] == "Tỉnh Bắc Ninh (cũ)")
    assert former["Nay thuộc"] == "Tỉnh Bắc Ninh"
