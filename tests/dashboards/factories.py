"""Test data for the dashboards: the projects app's scale seed (đề án across both province maps,
every status, contents, transitions) plus money rows (allocations, commitments, disbursements),
outputs per indicator and economic results, written directly as rows (this is test data, not a
business write). ``world()`` returns the users and the rows the tests recompute figures from.
"""
import random
from datetime import UTC, date, datetime
from types import SimpleNamespace

from dashboards.models import DeAnEconomicResult, DeAnIndicatorOutput
from funding.models import Allocation, AnnualPlan, Commitment, Disbursement
from khuyencong.choices import Level
from khuyencong.models import Indicator, Province
from projects.models import DeAn
from projects.scale import seed_scale
from reports.selectors import INDICATOR_CONTENTS
from tests.khuyencong.factories import admin_user, centre_user, province_user, reviewer

APPROVED = ("approved", "in_implementation", "adjustment_requested", "accepted", "settled")
PAID = ("in_implementation", "adjustment_requested", "accepted", "settled")
VOIDED_AT = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


def source_of(level):
    return "national" if level == Level.NATIONAL else "local"


def world(n=260, seed=7):
    rng = random.Random(seed)
    seed_scale(n)
    users = SimpleNamespace(
        reviewer=reviewer(), admin=admin_user(), centre=centre_user("24"), province=province_user("24"),
        province_other=province_user("19"), centre_other=centre_user("19"),
    )
    de_an = list(DeAn.objects.prefetch_related("contents"))
    # Allocations: every current province × year × level, large enough for the commitments.
    plans = {}
    for year in range(2017, 2027):
        for level in (Level.NATIONAL, Level.LOCAL):
            plans[(year, level)] = AnnualPlan.objects.create(year=year, level=level, decision_number=f"{year}/QĐ")
    need = {}
    for d in de_an:
        if d.status in APPROVED:
            key = (d.plan_year, d.level, d.current_province_id)
            need[key] = need.get(key, 0) + (d.national_amount + d.local_amount)
    allocations = {}
    rows = []
    for (year, level), plan in plans.items():
        for province in Province.objects.filter(era="current"):
            committed = need.get((year, level, province.pk), 0)
            amount = committed + rng.randrange(0, 50) * 10_000_000 + 1_234_567
            rows.append(Allocation(plan=plan, province=province, source=source_of(level), amount=amount,
                                   committed=committed))
    Allocation.objects.bulk_create(rows)
    for a in Allocation.objects.select_related("plan"):
        allocations[(a.plan.year, a.plan.level, a.province_id)] = a
    commitments, disbursements = [], []
    for d in de_an:
        if d.status in APPROVED:
            amount = d.national_amount + d.local_amount
            commitments.append(Commitment(de_an=d, allocation=allocations[(d.plan_year, d.level, d.current_province_id)],
                                          amount=amount))
        if d.status in PAID:
            advance = (d.national_amount + d.local_amount) // 2 + 7
            disbursements.append(Disbursement(de_an=d, kind="advance", source=source_of(d.level), amount=advance,
                                              date=date(d.plan_year, 6, 1), document_number=f"UNC-{d.pk}"))
            if d.pk % 3 == 0:  # entered by mistake and voided: every figure must leave it out
                disbursements.append(Disbursement(de_an=d, kind="payment", source=source_of(d.level),
                                                  amount=advance + 99_000_001, date=date(d.plan_year, 7, 1),
                                                  document_number=f"NHAM-{d.pk}", voided_at=VOIDED_AT,
                                                  void_reason="Nhập nhầm số tiền"))
            if d.status == "settled" and d.settled_amount is not None:
                # The row the «Quyết toán» step writes: the settled amount and date (not a payment).
                disbursements.append(Disbursement(de_an=d, kind="settlement", source=source_of(d.level),
                                                  amount=d.settled_amount, date=d.settled_on or date(d.plan_year + 1, 3, 1),
                                                  document_number=f"QT-{d.pk}"))
    Commitment.objects.bulk_create(commitments)
    Disbursement.objects.bulk_create(disbursements)
    # Outputs: each đề án reports on the indicator matching its content; some achieved.
    indicators = {(i.programme_id, i.code): i for i in Indicator.objects.all()}
    by_content = {c: code for code, contents in INDICATOR_CONTENTS.items() for c in contents}
    outputs, econ = [], []
    for d in de_an:
        if d.programme_id is None:
            continue
        for content in d.contents.all():
            code = by_content.get(content.code)
            ind = indicators.get((d.programme_id, code)) if code else None
            if ind is None:
                continue
            achieved = rng.randint(0, 40) if (d.status in PAID or rng.random() < 0.2) else None
            outputs.append(DeAnIndicatorOutput(de_an=d, indicator=ind, planned=rng.randint(1, 30), achieved=achieved))
        if d.status in ("accepted", "settled"):
            econ.append(DeAnEconomicResult(de_an=d, output_value=rng.randrange(1, 900) * 1_000_001,
                                           revenue=rng.randrange(1, 500) * 999_999, jobs_created=rng.randint(0, 60),
                                           counterpart_mobilised=d.counterpart_amount))
    DeAnIndicatorOutput.objects.bulk_create(outputs)
    DeAnEconomicResult.objects.bulk_create(econ)
    return users
