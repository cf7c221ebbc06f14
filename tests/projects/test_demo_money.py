"""The demo's money agrees on every page: approved đề án hold their commitment against the allocation
of their year, level, province and source; the funding summary's disbursed and settled figures are
the sums of the disbursement rows; the settled đề án has a settlement row of its settled amount."""
from collections import defaultdict

import pytest
from django.db.models import Sum

from funding.models import Allocation, AnnualPlan, Commitment, Disbursement, DisbursementKind, source_for_level
from funding.selectors import de_an_money, funding_summary, funding_years
from khuyencong import demo
from khuyencong.choices import Level
from projects.models import DeAn, Status, Transition

pytestmark = pytest.mark.django_db

APPROVED_OR_LATER = {Status.APPROVED, Status.IN_IMPLEMENTATION, Status.ADJUSTMENT_REQUESTED, Status.ACCEPTED,
                     Status.SETTLED}


def _approved(de_an):
    return de_an.approved_national_amount if de_an.level == Level.NATIONAL else de_an.approved_local_amount


def _money_counts():
    return tuple(m.objects.count() for m in (AnnualPlan, Allocation, Commitment, Disbursement, DeAn))


@pytest.fixture
def loaded(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return demo.load_demo()


def test_every_approved_demo_de_an_holds_its_approved_money(loaded):
    approved = list(DeAn.objects.filter(source_ref__startswith="demo:", status__in=APPROVED_OR_LATER))
    assert {d.source_ref for d in approved} == {"demo:implementation", "demo:local-approved", "demo:settled-2024"}
    admin = loaded.accounts["admin"]
    for d in approved:
        commitments = list(Commitment.objects.filter(de_an=d).select_related("allocation__plan"))
        assert len(commitments) == 1, d.code
        allocation = commitments[0].allocation
        assert (allocation.plan.year, allocation.plan.level, allocation.province_id, allocation.source) == (
            d.plan_year, d.level, d.current_province_id, source_for_level(d.level)), d.code
        # A settled đề án holds its settled amount (the rest went back to the allocation).
        held = d.settled_amount if d.status == Status.SETTLED else _approved(d)
        assert commitments[0].amount == held > 0, d.code
        money = de_an_money(user=admin, de_an_id=d.pk)
        assert money.totals["committed"] == held and money.approved == _approved(d), d.code
        assert money.totals["paid"] <= held, d.code
    for allocation in Allocation.objects.all():
        held = Commitment.objects.filter(allocation=allocation).aggregate(s=Sum("amount"))["s"] or 0
        assert allocation.committed == held <= allocation.amount, allocation


def test_the_local_de_an_is_committed_against_bac_ninh_kcdp(loaded):
    d = DeAn.objects.get(source_ref="demo:local-approved")
    assert (d.level, d.status, d.code, d.current_province.code) == (Level.LOCAL, Status.APPROVED, "KCDP-2026-24-0001", "24")
    line = funding_summary(user=loaded.accounts["admin"], year=2026, province=d.current_province)
    assert line.by_source("local", "committed") == 90_000_000
    assert line.by_source("local", "allocated") >= 90_000_000


def test_funding_summary_is_the_sum_of_the_disbursement_rows(loaded):
    admin = loaded.accounts["admin"]
    years = funding_years(user=admin)
    assert {2024, 2026} <= set(years)
    rows = defaultdict(int)
    for d in Disbursement.objects.counted().select_related("de_an"):
        measure = "settled" if d.kind == DisbursementKind.SETTLEMENT else "disbursed"
        rows[(d.de_an.plan_year, d.source, measure)] += d.amount
    settled_de_an = defaultdict(int)  # what the dashboards count: DeAn.settled_amount by plan year and source
    for d in DeAn.objects.filter(status=Status.SETTLED):
        settled_de_an[(d.plan_year, source_for_level(d.level))] += d.settled_amount
    for year in years:
        summary = funding_summary(user=admin, year=year)
        for source in ("national", "local"):
            assert summary.by_source(source, "disbursed") == rows[(year, source, "disbursed")], (year, source)
            assert summary.by_source(source, "settled") == rows[(year, source, "settled")], (year, source)
            assert summary.by_source(source, "settled") == settled_de_an[(year, source)], (year, source)
            committed = Commitment.objects.filter(allocation__plan__year=year, allocation__source=source)
            assert summary.by_source(source, "committed") == (committed.aggregate(s=Sum("amount"))["s"] or 0)
    assert rows[(2024, "national", "disbursed")] > 0 and rows[(2026, "national", "disbursed")] > 0


def test_the_settled_de_an_has_its_settlement_row(loaded):
    d = DeAn.objects.get(source_ref="demo:settled-2024")
    assert d.status == Status.SETTLED and d.code == "KCQG-2024-27-0001"
    (settlement,) = Disbursement.objects.counted().filter(de_an=d, kind=DisbursementKind.SETTLEMENT)
    assert (settlement.amount, settlement.date) == (d.settled_amount, d.settled_on)
    # Written by the «Quyết toán» step itself (its document number), not entered separately.
    assert settlement.document_number == "QT-012/2025"
    assert Transition.objects.get(de_an=d, action="settle").data["settlement_document"] == "QT-012/2025"
    money = de_an_money(user=loaded.accounts["admin"], de_an_id=d.pk)
    assert money.totals[DisbursementKind.SETTLEMENT] == d.settled_amount == 198_500_000
    assert money.totals["paid"] == d.settled_amount
    assert money.approved == 200_000_000
    assert money.totals["committed"] == 198_500_000 and money.totals["remaining"] == 0  # 1,5 triệu went back


def test_loading_twice_adds_no_money(loaded):
    counts = _money_counts()
    committed = list(Allocation.objects.order_by("pk").values_list("committed", flat=True))
    demo.load_demo()
    assert _money_counts() == counts
    assert list(Allocation.objects.order_by("pk").values_list("committed", flat=True)) == committed


def test_the_sample_plan_annex_imports_on_the_demo(loaded):
    """A newcomer who tries ../shared/samples/ke-hoach-kcqg-2024.xlsx on the demo («Nhập Excel») gets it
    imported, not refused for want of allocation: the demo's 2024 plan is the sample's decision and Bắc
    Ninh's 2024 allocation holds the sample's Bắc Giang group beside the demo's settled đề án."""
    import io

    from funding.services import import_file
    from tests.funding.conftest import ANNEX

    with open(ANNEX, "rb") as fh:
        data = fh.read()
    result = import_file(fileobj=io.BytesIO(data), name="ke-hoach-kcqg-2024.xlsx", actor=loaded.accounts["admin"])
    assert result.ok, [p.message for p in result.problems]
    assert result.counts()["create"] == 30
    plan = AnnualPlan.objects.get(year=2024, level=Level.NATIONAL)
    assert plan.decision_number == "312/QĐ-BCT"
    bac_ninh = Allocation.objects.get(plan=plan, province__code="24", province__era="current")
    assert bac_ninh.committed == 198_500_000 + 1_526_000_000 <= bac_ninh.amount


def test_the_sample_allocation_table_imports_on_the_demo(loaded):
    import io

    from funding.services import import_file
    from tests.funding.conftest import ALLOCATION

    with open(ALLOCATION, "rb") as fh:
        data = fh.read()
    result = import_file(fileobj=io.BytesIO(data), name="phan-bo-kinh-phi-2026.xlsx", actor=loaded.accounts["admin"])
    assert result.ok, [p.message for p in result.problems]
