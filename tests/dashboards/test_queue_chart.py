"""The «Tuổi hàng chờ xử lý» chart: waits shorter than a day are drawn in hours (or minutes), with a
Vietnamese decimal comma, bar ends that agree with the bars' lengths and axis ticks that are not all «0»."""
import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from dashboards import charts, selectors
from dashboards.filters import parse_filters

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def facts(waits):
    """Facts with one đề án waiting ``waits[status]`` seconds in each given step, none done."""
    now = NOW.timestamp()
    return SimpleNamespace(now=NOW, queue={
        "waiting": {s: (1, now - w, now - w, 0) for s, w in waits.items()},
        "left": dict.fromkeys(selectors.WAITING_STATES, 0), "net": dict.fromkeys(selectors.WAITING_STATES, 0.0)})


def ticks(svg):
    """The value axis's tick labels (the grey texts centred under the grid lines)."""
    return re.findall(r'<text x="[\d.]+" y="[\d.]+" text-anchor="middle" fill="#5b6673">([^<]*)</text>', svg)


def bar_ends(svg):
    return re.findall(r'font-size="11">([^<]*)</text>', svg)


def chart_for(waits):
    block = selectors.queue_block(user=None, filters=parse_filters({}), de_an=None, facts=facts(waits))
    return str(block.charts[0])


def test_waits_under_a_day_are_drawn_in_hours_with_readable_ticks():
    first, second = selectors.WAITING_STATES[:2]
    svg = chart_for({first: 0.4 * 86400, second: 3 * 3600})  # 9,6 and 3 hours
    assert ticks(svg) == ["0", "2,5", "5", "7,5", "10"]
    assert ">Số giờ</text>" in svg
    ends = bar_ends(svg)
    assert "9,6 giờ" in ends and "3 giờ" in ends
    # The longest bar is 9,6/10 of the axis, not the whole width.
    widths = [float(w) for w in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="12"', svg)]
    plot_w = 760 - (210 + 34) - 70
    assert max(widths) == pytest.approx(plot_w * 0.96, abs=0.2)
    assert "Đang chờ (bình quân): 9,6 giờ" in svg  # the bar's tooltip


def test_waits_of_minutes_and_of_days():
    first = selectors.WAITING_STATES[0]
    minutes = chart_for({first: 90})  # 1,5 minutes
    assert ">Số phút</text>" in minutes and "1,5 phút" in bar_ends(minutes)
    assert len(set(ticks(minutes))) == 5
    days = chart_for({first: 12.25 * 86400})
    assert ">Số ngày</text>" in days and "12,3 ngày" in bar_ends(days)
    assert ticks(days) == ["0", "5", "10", "15", "20"]


def test_an_empty_queue_still_has_distinct_ticks():
    svg = chart_for({})
    assert len(set(ticks(svg))) == 5
    assert set(bar_ends(svg)) == {"—"}


def test_duration_unit_picks_the_largest_fitting_unit():
    assert charts.duration_unit([None, 3600 * 30])[:2] == ("days", 86400)
    assert charts.duration_unit([3600, 100])[:2] == ("hours", 3600)
    assert charts.duration_unit([59, None])[:2] == ("minutes", 60)
    assert charts.duration_unit([])[:2] == ("minutes", 60)


def test_the_table_beside_the_chart_gives_each_wait_in_the_unit_that_reads():
    """A 30-minute wait was «0» in a column «(ngày)»; each cell now carries its own unit."""
    first, second, third = selectors.WAITING_STATES[:3]
    block = selectors.queue_block(user=None, filters=parse_filters({}), de_an=None,
                                  facts=facts({first: 30 * 60, second: 3.5 * 3600, third: 2.5 * 86400}))
    cells = {row["code"]: selectors.cell_text("days", row["avg_wait"]) for row in block.rows}
    assert (cells[first], cells[second], cells[third]) == ("30 phút", "3,5 giờ", "2,5 ngày")
    assert selectors.cell_text("days", 20 / 86400) == "dưới 1 phút"
    assert selectors.cell_text("days", None) == "—"
    labels = [str(c.label) for c in block.columns]
    assert "Chờ bình quân" in labels and not any("(ngày)" in label for label in labels)


def test_the_exported_queue_table_keeps_days_and_says_so():
    from io import BytesIO

    from openpyxl import load_workbook

    from dashboards.exports import block_workbook

    first = selectors.WAITING_STATES[0]
    filters = parse_filters({})
    block = selectors.queue_block(user=None, filters=filters, de_an=None, facts=facts({first: 3 * 3600}))
    ws = load_workbook(BytesIO(block_workbook(block=block, scope="Toàn quốc", filters=filters))).active
    header = [c.value for c in ws[5]]
    column = header.index("Chờ bình quân (ngày)") + 1
    assert ws.cell(row=6, column=column).value == pytest.approx(0.1)  # 3 hours = 0,125 day, one decimal


def _luminance(hex_colour):
    def channel(c):
        c = int(c, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(hex_colour[i:i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_every_bar_colour_stands_out_from_the_white_page():
    """WCAG 1.4.11: graphics the reader must see have at least 3:1 contrast (the orange was 2,7:1)."""
    for colour in charts.PALETTE:
        assert (1.05) / (_luminance(colour) + 0.05) >= 3, colour


def test_stacked_segments_are_parted_by_a_white_line():
    svg = str(charts.bar_chart(title="t", desc="d", categories=["A"], stacked=True,
                               series=[{"label": "x", "values": [1]}, {"label": "y", "values": [2]}]))
    assert svg.count(charts.STACK_GAP) == 2
