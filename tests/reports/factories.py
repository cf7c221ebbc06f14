"""Data for report tests and the benchmark: đề án with contents and budget lines, allocations, inspection
records with recommendations — written with bulk_create so 2,000 đề án take a second or two.

``build_year(year=2025, n_de_an=40, n_records=6)`` returns a dict with the expected totals (integer đồng)
computed here, independently of the report's own aggregation.
"""
import random
from datetime import date, timedelta

from dashboards.models import DeAnIndicatorOutput
from dashboards.selectors import ACHIEVED_STATES
from funding.models import Allocation, AllocationSource, AnnualPlan
from khuyencong.choices import FundingSource, Level
from khuyencong.models import ActivityContent, Indicator, Province
from khuyencong.selectors import programme_for_year
from projects.models import BudgetLine, DeAn
from reports.models import (
    Conclusion,
    FollowUp,
    InspectionPlan,
    InspectionRecord,
    Mission,
    MissionMember,
    Recommendation,
)
from tests.khuyencong.factories import admin_user, centre_user, province_user, reviewer  # noqa: F401

STATUSES_DONE = ["approved", "in_implementation", "accepted", "settled"]

TRADES = ["chế biến nông sản", "dệt thổ cẩm", "mây tre đan", "gốm sứ", "cơ khí nhỏ", "chế biến chè", "đồ gỗ mỹ nghệ"]


def _content_pairs():
    subs = list(ActivityContent.objects.filter(parent__isnull=False, instrument="1881/QĐ-TTg").order_by("code"))
    return subs


def build_year(*, year=2025, n_de_an=40, n_records=6, seed=1, names=None, provinces=None, plan=True, extra_status=True):
    rng = random.Random(seed)
    current = list(provinces or Province.objects.current().order_by("code"))
    former_by_current = {}
    for p in Province.objects.former().select_related("successor"):
        former_by_current.setdefault(p.successor_id, []).append(p)
    subs = _content_pairs()
    rows = []
    expected = {"national": 0, "local": 0, "counterpart": 0, "other": 0, "count": 0, "by_province": {}}
    start = DeAn.objects.count()
    for i in range(n_de_an):
        prov = current[i % len(current)]
        recorded = prov
        if year < 2026 and former_by_current.get(prov.pk) and i % 3 == 0:
            recorded = former_by_current[prov.pk][i % len(former_by_current[prov.pk])]
        level = Level.NATIONAL if i % 3 else Level.LOCAL
        national = rng.randrange(100, 900) * 1_000_000 + rng.randrange(0, 999) * 1_000 + 7 if level == Level.NATIONAL else 0
        local = rng.randrange(50, 400) * 1_000_000 + 3 if level == Level.LOCAL else 0
        counterpart = rng.randrange(100, 2000) * 1_000_000 + 11
        other = 5_000_000 if i % 7 == 0 else 0
        name = (names[i] if names and i < len(names) else
                f"Hỗ trợ ứng dụng máy móc thiết bị tiên tiến trong {TRADES[i % len(TRADES)]} tại cơ sở số {i + 1}")
        rows.append(DeAn(
            code=f"KC-{year}-{start + i + 1:05d}", name=name, level=level, plan_year=year, province=recorded,
            current_province=prov, status=STATUSES_DONE[i % len(STATUSES_DONE)],
            implementing_unit_name=f"Trung tâm Khuyến công {prov.name}",
            total_amount=national + local + counterpart + other, national_amount=national, local_amount=local,
            counterpart_amount=counterpart, other_amount=other, approved_national_amount=national or None,
            start_date=date(year, 3, 1), end_date=date(year, 11, 30), decision_number=f"{100 + i}/QĐ-BCT",
            decision_date=date(year, 2, 1),
        ))
        expected["national"] += national
        expected["local"] += local
        expected["counterpart"] += counterpart
        expected["other"] += other
        expected["count"] += 1
        key = prov.code
        expected["by_province"][key] = expected["by_province"].get(key, 0) + national + local
    if extra_status and n_de_an:
        # Rows that must NOT count: a draft and a rejected đề án of the same year.
        prov = current[0]
        for status in ("draft", "rejected"):
            rows.append(DeAn(code=f"KC-{year}-X{status}", name=f"Không tính ({status})", level=Level.NATIONAL, plan_year=year,
                             province=prov, current_province=prov, status=status, national_amount=999_999_999,
                             total_amount=999_999_999))
    created = DeAn.objects.bulk_create(rows, batch_size=500)
    through = DeAn.contents.through
    status_by_pk = {d.pk: d.status for d in created}
    links, lines = [], []
    for i, d in enumerate(created):
        if not d.code.startswith(f"KC-{year}-0"):
            continue
        sub = subs[i % len(subs)]
        links.append(through(dean_id=d.pk, activitycontent_id=sub.pk))
        if i % 5 == 0:
            other_sub = subs[(i + 4) % len(subs)]
            if other_sub.pk != sub.pk:
                links.append(through(dean_id=d.pk, activitycontent_id=other_sub.pk))
        for source, amount in ((FundingSource.NATIONAL, d.national_amount), (FundingSource.LOCAL, d.local_amount),
                               (FundingSource.COUNTERPART, d.counterpart_amount), (FundingSource.OTHER, d.other_amount)):
            if amount:
                lines.append(BudgetLine(de_an_id=d.pk, description="Máy móc, thiết bị", content=sub, source=source, amount=amount))
    through.objects.bulk_create(links, batch_size=1000)
    BudgetLine.objects.bulk_create(lines, batch_size=1000)
    # Outputs against the programme's indicators: planned for every đề án whose content maps to one,
    # achieved (in the indicator's unit) only once in implementation — as the services allow.
    expected["indicators"] = {}
    programme = programme_for_year(year)
    if programme is not None:
        from reports.selectors import INDICATOR_CONTENTS

        indicators = {i.code: i for i in Indicator.objects.filter(programme=programme)}
        by_content = {c: code for code, contents in INDICATOR_CONTENTS.items() for c in contents if code in indicators}
        subs_by_pk = {sub.pk: sub for sub in subs}
        outputs, seen = [], set()
        for link in links:
            code = by_content.get(subs_by_pk[link.activitycontent_id].code)
            if code is None or (link.dean_id, code) in seen:
                continue
            seen.add((link.dean_id, code))
            status = status_by_pk[link.dean_id]
            planned = 1 + link.dean_id % 4
            achieved = planned + (link.dean_id % 3) if status in ACHIEVED_STATES else None
            outputs.append(DeAnIndicatorOutput(de_an_id=link.dean_id, indicator=indicators[code], planned=planned, achieved=achieved))
            if achieved is not None:
                expected["indicators"][code] = expected["indicators"].get(code, 0) + achieved
        DeAnIndicatorOutput.objects.bulk_create(outputs, batch_size=1000)
    if plan:
        plans = {
            AllocationSource.NATIONAL: AnnualPlan.objects.get_or_create(year=year, level=Level.NATIONAL, defaults={"decision_number": "1/QĐ-BCT"})[0],
            AllocationSource.LOCAL: AnnualPlan.objects.get_or_create(year=year, level=Level.LOCAL, defaults={"decision_number": ""})[0],
        }
        allocs = []
        expected["plan_national"] = expected["plan_local"] = 0
        for j, prov in enumerate(current):
            amount_n = 2_000_000_000 + j * 1_000_000
            amount_l = 500_000_000 + j * 1_000
            allocs.append(Allocation(plan=plans[AllocationSource.NATIONAL], province=prov, source=AllocationSource.NATIONAL, amount=amount_n))
            allocs.append(Allocation(plan=plans[AllocationSource.LOCAL], province=prov, source=AllocationSource.LOCAL, amount=amount_l))
            expected["plan_national"] += amount_n
            expected["plan_local"] += amount_l
        Allocation.objects.bulk_create(allocs)
    records = []
    if n_records:
        iplan = InspectionPlan.objects.create(year=year, title=f"Kế hoạch kiểm tra, giám sát đề án khuyến công quốc gia năm {year}",
                                              decision_number="55/QĐ-ĐMST", decision_date=date(year, 3, 10))
        mission = Mission.objects.create(plan=iplan, name="Đoàn kiểm tra số 1 (khu vực phía Bắc)", start_date=date(year, 6, 1),
                                         end_date=date(year, 6, 10), legal_basis="Quyết định số 77/QĐ-ĐMST")
        mission.provinces.set(current[:3])
        MissionMember.objects.create(mission=mission, full_name="Trần Thị Bình", job_title="Phó Cục trưởng", unit="Cục ĐMST, CĐX và KC", role="lead")
        MissionMember.objects.create(mission=mission, full_name="Lê Văn Cường", job_title="Chuyên viên", unit="Phòng Khuyến công", role="member")
        visited = [d for d in created if d.code.startswith(f"KC-{year}-0")][:n_records]
        mission.de_an.set(visited[:20])
        conclusions = [Conclusion.ON_SCHEDULE, Conclusion.LATE, Conclusion.VIOLATIONS]
        for k, d in enumerate(visited):
            records.append(InspectionRecord(
                mission=mission, de_an=d, inspected_on=date(year, 6, 1) + timedelta(days=k % 9), place=f"Cơ sở thụ hưởng, {d.current_province.name}",
                findings="Máy móc đã lắp đặt đúng chủng loại theo hồ sơ; hồ sơ thanh toán còn thiếu biên bản bàn giao.",
                conclusion=conclusions[k % 3], disbursed_amount=d.national_amount // 2,
                inspected_parties="Đại diện cơ sở thụ hưởng; Trung tâm Khuyến công",
            ))
        records = InspectionRecord.objects.bulk_create(records)
        recs = []
        for k, r in enumerate(records):
            recs.append(Recommendation(record=r, text="Bổ sung biên bản bàn giao máy móc, thiết bị.", deadline=date(year, 9, 30),
                                       status=[FollowUp.OPEN, FollowUp.ANSWERED, FollowUp.CLOSED][k % 3]))
        Recommendation.objects.bulk_create(recs)
    expected["support"] = expected["national"] + expected["local"]
    expected["total"] = expected["support"] + expected["counterpart"] + expected["other"]
    expected["records"] = len(records)
    return expected


def group_dots(n):
    return f"{n:,}".replace(",", ".")
