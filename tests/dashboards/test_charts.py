"""Charts are accessible SVG with Vietnamese text and đồng figures; exports neutralise formulas."""
import io
import re

import pytest
from openpyxl import load_workbook

from dashboards import charts
from dashboards.exports import block_workbook
from dashboards.filters import parse_filters
from dashboards.selectors import Block, Column


def test_bar_chart_is_accessible_and_formats_dong():
    svg = str(charts.bar_chart(
        title="Kinh phí theo năm", desc="Kinh phí <phân bổ> & giải ngân", categories=["2024", "2025"],
        series=[{"label": "Phân bổ", "values": [1_234_567_890, 2_000_000_000]},
                {"label": "Giải ngân", "values": [None, 500_000_000]}],
        fmt="dong", x_label="Kinh phí (tỷ đồng)", y_label="Năm", links=["/de-an/?year=2024", "/de-an/?year=2025"],
    ))
    assert svg.startswith("<svg") and 'role="img"' in svg
    ids = re.search(r'aria-labelledby="([^"]+)"', svg).group(1).split()
    for i in ids:
        assert f'id="{i}"' in svg
    assert "<title id=" in svg and "<desc id=" in svg
    assert "Kinh phí &lt;phân bổ&gt; &amp; giải ngân" in svg  # escaped
    assert "2024 – Phân bổ: 1.234.567.890 đ" in svg
    assert "2024 – Giải ngân: chưa có" in svg
    assert 'data-href="/de-an/?year=2025"' in svg
    assert " href=" not in svg  # no keyboard stop inside the picture (the data table has the links)
    assert "Kinh phí (tỷ đồng)" in svg


def test_stacked_chart_and_empty_chart():
    svg = str(charts.bar_chart(title="Đề án", desc="d", categories=["A"], series=[
        {"label": "x", "values": [3]}, {"label": "y", "values": [4]}], stacked=True))
    assert ">7</text>" in svg  # the total at the end of the stacked bar
    empty = str(charts.bar_chart(title="Trống", desc="d", categories=[], series=[{"label": "x", "values": []}]))
    assert "Chưa có số liệu" in empty


def test_axis_steps_are_round():
    assert charts._nice_max(4.6) == 8
    assert charts._nice_max(5, integer=True) == 8
    assert charts._nice_max(1, integer=True) == 4
    assert charts._nice_max(9_600_000_000) == 10_000_000_000


@pytest.mark.django_db
def test_export_neutralises_formula_looking_text():
    filters = parse_filters({"programme": "qd-1881-2021-2025"})
    block = Block(key="tinh", title="Bảng thử", columns=[Column("name", "Tên"), Column("amount", "Tiền", "dong")],
                  rows=[{"name": "=HYPERLINK(\"http://x\")", "amount": 1_234_567}, {"name": "+1", "amount": 0}],
                  totals={"name": "Cộng", "amount": 1_234_567})
    ws = load_workbook(io.BytesIO(block_workbook(block=block, scope="Toàn quốc", filters=filters))).active
    assert ws["A6"].value == "'=HYPERLINK(\"http://x\")"
    assert ws["A7"].value == "'+1"
    assert ws["B6"].value == 1_234_567 and ws["B8"].value == 1_234_567
    assert ws["A2"].value.startswith("1881/QĐ-TTg · năm 2021–2025")


@pytest.mark.django_db
def test_list_links_carry_the_filters_over():
    from khuyencong.models import ActivityContent, Province

    bac_ninh = Province.objects.get(code="24", era="current")
    area = ActivityContent.objects.get(code="1", instrument="1881/QĐ-TTg")
    filters = parse_filters({"programme": "qd-1881-2021-2025", "year_from": "2023", "year_to": "2024",
                             "level": "kcqg", "province": str(bac_ninh.pk), "content": str(area.pk)})
    assert filters.list_query() == (f"year=2023&year=2024&level=kcqg&current_province={bac_ninh.pk}&content={area.pk}")
    assert filters.list_query(level=["kcdp"]) == (
        f"year=2023&year=2024&current_province={bac_ninh.pk}&content={area.pk}&level=kcdp")
    assert filters.list_query(province=[7]) == f"year=2023&year=2024&level=kcqg&content={area.pk}&province=7"
    assert filters.list_query(year=[2024], status=["approved"]).startswith("level=kcqg")
    assert "year=2024" in filters.list_query(year=[2024]) and "year=2023" not in filters.list_query(year=[2024])


def test_duration_units_translate_as_units_not_as_a_date_label():
    """«ngày» is both a unit («3,5 ngày») and the word of «Quyết định số … ngày …»; the unit has its own
    context, so the English UI reads “3,5 days” (it read “3,5 date”)."""
    from django.utils import translation

    with translation.override("en"):
        assert charts.FORMATS["days"][0](3.5).endswith(" days")
        assert charts.FORMATS["hours"][0](2).endswith(" hours")
        assert translation.pgettext("ngày ban hành", "ngày") == "dated"
    with translation.override("vi"):
        assert charts.FORMATS["days"][0](3.5).endswith(" ngày")
