"""Dashboard figures equal sums recomputed in the test from the đề án and money rows, to the đồng
and to the unit, for both province groupings, nationally and for one province (as its own staff)."""
import io

import pytest
from django.db.models import Max
from django.utils import timezone
from openpyxl import load_workbook

from dashboards import selectors
from dashboards.filters import parse_filters
from khuyencong.models import ActivityContent, Indicator, Province
from projects.models import DeAn

from . import expected

pytestmark = pytest.mark.django_db
P1881 = "qd-1881-2021-2025"
YEARS = range(2021, 2026)


def _filters(**params):
    params.setdefault("programme", P1881)
    return parse_filters({k: str(v) for k, v in params.items()})


def _block(user, key, **params):
    fixed = params.pop("fixed", None)
    params.setdefault("programme", P1881)
    filters = parse_filters({k: str(v) for k, v in params.items()}, fixed_province=fixed)
    return selectors.dashboard(user=user, filters=filters, only=key)[0]


@pytest.mark.parametrize("grouping", ["current", "historical"])
def test_provinces_national_both_groupings(world, grouping):
    block = _block(world.reviewer, "tinh", grouping=grouping)
    selected, _links = expected.select(YEARS)
    want = expected.by_province(selected, grouping, YEARS)
    assert want, "the seed must give đề án in the programme years"
    got = {row["_pid"]: row for row in block.rows}
    assert set(got) == set(want)
    for pid, figures in want.items():
        for key in ("count", "committed", "disbursed", "settled"):
            assert got[pid][key] == figures[key], (pid, key)
        if grouping == "current":
            assert got[pid]["allocated"] == figures["allocated"]
    eras = {p.era for p in Province.objects.filter(pk__in=got)}
    assert eras == ({"current"} if grouping == "current" else {"former", "current"})
    assert block.totals["count"] == len(selected)
    assert block.totals["disbursed"] == sum(f["disbursed"] for f in want.values())


@pytest.mark.parametrize("grouping", ["current", "historical"])
def test_province_dashboard_as_its_staff_both_groupings(world, grouping):
    bac_ninh = Province.objects.get(code="24", era="current")
    block = _block(world.province, "tinh", grouping=grouping, fixed=bac_ninh)
    selected, _links = expected.select(YEARS, current_province=bac_ninh.pk)
    assert selected
    want = expected.by_province(selected, grouping, YEARS, current_province=bac_ninh.pk)
    got = {row["_pid"]: row for row in block.rows}
    assert set(got) == set(want)
    for pid, figures in want.items():
        for key in ("count", "committed", "disbursed", "settled"):
            assert got[pid][key] == figures[key]
    if grouping == "historical":
        assert all(Province.objects.get(pk=pid).current.pk == bac_ninh.pk for pid in got)


@pytest.mark.parametrize("params", [{}, {"level": "kcqg"}, {"level": "kcdp", "year_from": 2022, "year_to": 2024}])
def test_money_by_year_and_source(world, params):
    block = _block(world.admin, "kinh-phi", **params)
    years = range(params.get("year_from", 2021), params.get("year_to", 2025) + 1)
    selected, _links = expected.select(years, level=params.get("level", ""))
    want = expected.money_by_year(selected, years, level=params.get("level", ""))
    assert [r["year"] for r in block.rows] == list(years)
    for row in block.rows:
        for source in ("national", "local"):
            for measure in ("allocated", "committed", "disbursed", "settled"):
                assert row[f"{measure}_{source}"] == want[row["year"]][source][measure], (row["year"], source, measure)
    total_disbursed = sum(want[y][s]["disbursed"] for y in years for s in ("national", "local"))
    assert block.totals["disbursed"] == total_disbursed
    assert total_disbursed > 0


def test_status_content_and_indicator_figures_with_content_filter(world):
    area = ActivityContent.objects.get(code="1", instrument="1881/QĐ-TTg")
    for params, content in (({}, None), ({"content": area.pk}, area.pk)):
        selected, links = expected.select(YEARS, content=content)
        status = _block(world.reviewer, "trang-thai", **params)
        want = expected.statuses(selected)
        for row in status.rows:
            assert row["count"] == want.get(row["code"], {}).get("count", 0)
            assert row["support"] == want.get(row["code"], {}).get("support", 0)
        contents = _block(world.reviewer, "noi-dung", **params)
        want_c = expected.contents(selected, links)
        got_c = {ActivityContent.objects.get(code=r["code"], instrument="1881/QĐ-TTg").pk: r for r in contents.rows}
        assert set(got_c) == set(want_c)
        for pk, counts in want_c.items():
            for key, value in counts.items():
                assert got_c[pk][key] == value
        ind = _block(world.reviewer, "chi-tieu", **params)
        want_i = expected.indicators(selected)
        codes = {i.code: i.pk for i in Indicator.objects.filter(programme__code=P1881)}
        assert sum(r["achieved"] for r in ind.rows) > 0
        for row in ind.rows:
            assert row["planned"] == want_i[codes[row["code"]]]["planned"]
            assert row["achieved"] == want_i[codes[row["code"]]]["achieved"]
            target = Indicator.objects.get(pk=codes[row["code"]]).target
            assert row["pct"] == (round(row["achieved"] * 100 / target, 1) if target else None)


def test_queue_age_from_transitions(world):
    now = timezone.now()
    filters = _filters()
    de_an = selectors.selected_de_an(user=world.reviewer, filters=filters)
    got = selectors.queue_age(selectors.Facts(user=world.reviewer, filters=filters, de_an=de_an, now=now))
    last = dict(DeAn.objects.filter(plan_year__in=YEARS).annotate(last=Max("transitions__at")).values_list("id", "last"))
    status = dict(DeAn.objects.filter(plan_year__in=YEARS).values_list("id", "status"))
    for state in selectors.WAITING_STATES:
        waits = [(now - last[i]).total_seconds() for i, s in status.items() if s == state]
        assert got[state]["waiting"] == len(waits)
        if waits:
            assert got[state]["avg_wait"] == pytest.approx(sum(waits) / len(waits), rel=1e-6, abs=1)
            assert got[state]["max_wait"] == pytest.approx(max(waits), rel=1e-6, abs=1)
            assert got[state]["over"] == sum(1 for w in waits if w > selectors.OVERDUE_DAYS * 86400)
    # Completed steps: time between entering a state and leaving it, from consecutive transitions.
    from projects.models import Transition

    spans = {}
    rows = list(Transition.objects.filter(de_an__plan_year__in=YEARS).order_by("de_an_id", "at", "id")
                .values_list("de_an_id", "from_status", "at"))
    for (d1, _f1, at1), (d2, f2, at2) in zip(rows, rows[1:], strict=False):
        if d1 == d2 and f2:
            spans.setdefault(f2, []).append((at2 - at1).total_seconds())
    for state in selectors.WAITING_STATES:
        assert got[state]["done"] == len(spans.get(state, []))
        if spans.get(state):
            assert got[state]["avg_done"] == pytest.approx(sum(spans[state]) / len(spans[state]), rel=1e-6, abs=1)
    assert sum(v["done"] for v in got.values()) > 0


def test_export_equals_the_sums_to_the_dong(client, world):
    client.force_login(world.reviewer)
    response = client.get(f"/tong-quan/toan-quoc/xuat/tinh/?programme={P1881}&grouping=historical")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in ws[5]]
    selected, _links = expected.select(YEARS)
    want = expected.by_province(selected, "historical", YEARS)
    provinces = {p.code + p.era: p.pk for p in Province.objects.all()}
    rows = [dict(zip(header, [c.value for c in r], strict=False)) for r in ws.iter_rows(min_row=6) if r[0].value]
    seen = 0
    for row in rows:
        if row["Tỉnh, thành phố"] == "Cộng":
            assert row["Giải ngân (đồng)"] == sum(f["disbursed"] for f in want.values())
            continue
        era = "current" if not row["Nay thuộc"] else "former"
        pid = provinces[row["Mã"] + era]
        assert row["Số đề án"] == want[pid]["count"]
        assert row["Cam kết (đồng)"] == want[pid]["committed"]
        assert row["Quyết toán (đồng)"] == want[pid]["settled"]
        seen += 1
    assert seen == len(want)


def test_province_comparison_with_national_average(world):
    bac_ninh = Province.objects.get(code="24", era="current")
    filters = parse_filters({"programme": P1881}, fixed_province=bac_ninh)
    block = selectors.province_comparison(user=world.centre, filters=filters)
    selected_all, _l = expected.select(YEARS)
    mine, _l = expected.select(YEARS, current_province=bac_ninh.pk)
    rows = {r["measure"]: r for r in block.rows}
    assert rows["Số đề án"]["own"] == len(mine)
    assert rows["Số đề án"]["national"] == len(selected_all)
    assert rows["Số đề án"]["average"] == round(len(selected_all) / 34)
    want = expected.by_province(selected_all, "current", YEARS)
    assert rows["Giải ngân"]["national"] == sum(f["disbursed"] for f in want.values())
    assert rows["Giải ngân"]["own"] == want.get(bac_ninh.pk, {}).get("disbursed", 0)


@pytest.mark.parametrize("key, count_key", [("trang-thai", "count"), ("tinh", "count"), ("noi-dung", "total")])
@pytest.mark.parametrize("grouping", ["current", "historical"])
def test_chart_links_land_on_the_matching_de_an_list(world, key, count_key, grouping):
    """Each bar's link opens the đề án list (projects.selectors.de_an_list) with exactly its đề án."""
    from urllib.parse import urlsplit

    from django.http import QueryDict

    from projects.selectors import de_an_list

    block = _block(world.reviewer, key, grouping=grouping)
    assert block.rows
    for row in block.rows:
        url = urlsplit(row["_link"])
        assert url.path == "/de-an/"
        listed = de_an_list(user=world.reviewer, filters=QueryDict(url.query)).count()
        assert listed == row[count_key], (key, row.get("code"), url.query)


@pytest.mark.parametrize("grouping", ["current", "historical"])
def test_national_page_filtered_to_one_province_equals_the_sums(world, grouping):
    """A reviewer's national page narrowed to a province reads the rows by đề án (the one-province plan)."""
    bac_ninh = Province.objects.get(code="24", era="current")
    block = _block(world.reviewer, "tinh", grouping=grouping, province=bac_ninh.pk)
    selected, links = expected.select(YEARS, current_province=bac_ninh.pk)
    want = expected.by_province(selected, grouping, YEARS, current_province=bac_ninh.pk)
    got = {row["_pid"]: row for row in block.rows}
    assert set(got) == set(want) and want
    for pid, figures in want.items():
        for key in ("count", "committed", "disbursed", "settled"):
            assert got[pid][key] == figures[key], (pid, key)
    money = _block(world.reviewer, "kinh-phi", grouping=grouping, province=bac_ninh.pk)
    want_money = expected.money_by_year(selected, YEARS, current_province=bac_ninh.pk)
    for row in money.rows:
        for source in ("national", "local"):
            for measure in ("allocated", "committed", "disbursed", "settled"):
                assert row[f"{measure}_{source}"] == want_money[row["year"]][source][measure]
    status = _block(world.reviewer, "trang-thai", province=bac_ninh.pk)
    want_status = expected.statuses(selected)
    assert [r["count"] for r in status.rows] == [want_status.get(r["code"], {}).get("count", 0) for r in status.rows]
    contents = _block(world.reviewer, "noi-dung", province=bac_ninh.pk)
    want_c = expected.contents(selected, links)
    got_c = {ActivityContent.objects.get(code=r["code"], instrument="1881/QĐ-TTg").pk: r for r in contents.rows}
    assert set(got_c) == set(want_c) and want_c
    for pk, counts in want_c.items():
        for key, value in counts.items():
            assert got_c[pk][key] == value
    indicators = _block(world.reviewer, "chi-tieu", province=bac_ninh.pk)
    want_i = expected.indicators(selected)
    codes = {i.code: i.pk for i in Indicator.objects.filter(programme__code=P1881)}
    for row in indicators.rows:
        assert row["planned"] == want_i[codes[row["code"]]]["planned"]
        assert row["achieved"] == want_i[codes[row["code"]]]["achieved"]
