"""«Giải ngân» on the dashboards means what funding means (funding is the source of truth for money):
advances and payments. A settlement row is the settled amount, counted under «Quyết toán» by funding,
never added to the money paid out."""
from datetime import date

import pytest

from dashboards import selectors
from dashboards.filters import parse_filters
from funding.models import Disbursement
from funding.selectors import funding_summary
from funding.services import paid_amount
from khuyencong.models import Province
from projects.models import DeAn

from . import expected

pytestmark = pytest.mark.django_db
TRIEU = 1_000_000


@pytest.fixture
def settled(db):
    """An approved 100 triệu KCQG đề án of Bắc Ninh, 2025: a 100 triệu advance, then settled at 100 triệu
    (and a voided payment and another đề án's advance, as noise)."""
    from tests.khuyencong.factories import admin_user, reviewer
    from tests.reports.factories import build_year

    bac_ninh = Province.objects.current().get(code="24")
    build_year(year=2025, n_de_an=6, n_records=0, provinces=[bac_ninh])
    d = DeAn.objects.filter(plan_year=2025, status="settled").first()
    DeAn.objects.filter(pk=d.pk).update(level="kcqg", national_amount=100 * TRIEU, approved_national_amount=100 * TRIEU,
                                        local_amount=0, settled_amount=100 * TRIEU, settled_on=date(2026, 2, 1))
    Disbursement.objects.create(de_an=d, kind="advance", source="national", amount=100 * TRIEU, date=date(2025, 4, 1),
                                document_number="TU-1")
    Disbursement.objects.create(de_an=d, kind="settlement", source="national", amount=100 * TRIEU,
                                date=date(2026, 2, 1), document_number="QT-1")
    other = DeAn.objects.filter(plan_year=2025, status="in_implementation").first()
    Disbursement.objects.create(de_an=other, kind="advance", source=("national" if other.level == "kcqg" else "local"),
                                amount=7 * TRIEU + 3, date=date(2025, 5, 1), document_number="TU-2")
    return {"de_an": d, "other": other, "province": bac_ninh, "reviewer": reviewer(), "admin": admin_user()}


def test_settlement_is_not_added_to_the_money_paid_out(settled):
    d, bac_ninh = settled["de_an"], settled["province"]
    filters = parse_filters({"programme": "qd-1881-2021-2025"}, fixed_province=bac_ninh)
    block = selectors.dashboard(user=settled["reviewer"], filters=filters, only="kinh-phi")[0]
    row = {r["year"]: r for r in block.rows}[2025]
    funding = funding_summary(user=settled["admin"], year=2025, province=bac_ninh)
    assert paid_amount(d) == 100 * TRIEU
    other_national = 7 * TRIEU + 3 if settled["other"].level == "kcqg" else 0
    assert row["disbursed_national"] == funding.by_source("national", "disbursed") == 100 * TRIEU + other_national
    assert funding.by_source("national", "settled") == 100 * TRIEU  # what funding calls settled
    assert row["settled_national"] == 100 * TRIEU
    selected, _links = expected.select(range(2021, 2026), current_province=bac_ninh.pk)
    want = expected.money_by_year(selected, range(2021, 2026), current_province=bac_ninh.pk)
    assert row["disbursed_national"] == want[2025]["national"]["disbursed"]
    assert row["disbursed_local"] == want[2025]["local"]["disbursed"] == funding.by_source("local", "disbursed")


def test_province_table_and_comparison_count_advances_and_payments_only(settled):
    bac_ninh = settled["province"]
    filters = parse_filters({"programme": "qd-1881-2021-2025"}, fixed_province=bac_ninh)
    funding = funding_summary(user=settled["admin"], year=2025, province=bac_ninh)
    paid = funding.totals.total("disbursed")
    tinh = selectors.dashboard(user=settled["reviewer"], filters=filters, only="tinh")[0]
    assert tinh.totals["disbursed"] == paid
    comparison = {r["measure"]: r for r in selectors.province_comparison(user=settled["reviewer"], filters=filters).rows}
    assert comparison["Giải ngân"]["own"] == comparison["Giải ngân"]["national"] == paid


def test_settling_through_the_step_shows_one_figure_on_funding_the_money_page_and_the_dashboard(settled):
    """The «Quyết toán» step is the one writer: the funding summary (settlement rows), the đề án's money
    page and the dashboard (settled amount of settled đề án) show the same settled figure."""
    from funding.selectors import de_an_money
    from projects.services import de_an_settle

    bac_ninh = settled["province"]
    d = DeAn.objects.filter(plan_year=2025, status="accepted").first()
    DeAn.objects.filter(pk=d.pk).update(level="kcqg", national_amount=80 * TRIEU, approved_national_amount=80 * TRIEU,
                                        local_amount=0)
    d = de_an_settle(actor=settled["reviewer"], de_an=d.pk, settled_amount="75.000.001", settled_on=date(2026, 3, 2),
                     settlement_document="QT-75/2026")
    money = de_an_money(user=settled["admin"], de_an_id=d.pk)
    assert money.totals["settlement"] == d.settled_amount == 75 * TRIEU + 1
    filters = parse_filters({"programme": "qd-1881-2021-2025"}, fixed_province=bac_ninh)
    block = selectors.dashboard(user=settled["reviewer"], filters=filters, only="kinh-phi")[0]
    row = {r["year"]: r for r in block.rows}[2025]
    funding = funding_summary(user=settled["admin"], year=2025, province=bac_ninh)
    assert row["settled_national"] == funding.by_source("national", "settled") == (100 + 75) * TRIEU + 1
