"""Realistic volume for benchmarks and manual checks: ``seed_scale(n)`` (``manage.py seed_scale``).

Đề án across every province of the map in force on their dates (the 63 former provinces until
30/06/2025, the 34 current ones after), ten plan years (2017–2026), both levels, all kinds and every
status, with beneficiaries, budget lines, contents and the transitions that led to their status.
Written with ``bulk_create`` in batches (≈ 50k đề án in about a minute on PostgreSQL here).

Seeded rows are tagged ``source_ref = "seed:<n>"``: a second run only tops up to ``n``; ``reset``
deletes them first. History tables are not filled for seeded rows (their timeline shows the
transitions).
"""
import random
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from khuyencong.choices import Era, FundingSource, Level, Role
from khuyencong.models import ActivityContent, Organisation, Programme, Province, User
from khuyencong.textsearch import fold, join_fields

from .models import (
    BudgetLine,
    CodeSequence,
    DeAn,
    DeAnBeneficiary,
    Establishment,
    Kind,
    LegalForm,
    Status,
    Transition,
)
from .services import code_prefix

SEED_PREFIX = "seed:"
YEARS = range(2017, 2027)
BATCH = 2000

ACTIVITIES = [
    ("Hỗ trợ ứng dụng máy {machine} trong sản xuất {product}", "1.2"),
    ("Xây dựng mô hình trình diễn kỹ thuật sản xuất {product}", "1.1"),
    ("Hỗ trợ dây chuyền công nghệ {machine} cho cơ sở {product}", "1.3"),
    ("Đánh giá sản xuất sạch hơn tại cơ sở {product}", "2.1"),
    ("Hỗ trợ cải tạo hệ thống xử lý ô nhiễm cơ sở {product}", "2.3"),
    ("Tổ chức bình chọn sản phẩm công nghiệp nông thôn tiêu biểu", "3.1"),
    ("Tham gia hội chợ hàng công nghiệp nông thôn {product}", "3.2"),
    ("Hỗ trợ đăng ký nhãn hiệu, thiết kế bao bì sản phẩm {product}", "3.4"),
    ("Hỗ trợ liên kết chuỗi giá trị ngành {product}", "4.1"),
    ("Hỗ trợ đầu tư hạ tầng cụm công nghiệp {place}", "4.3"),
    ("Đào tạo nghề {product} cho lao động nông thôn", "5.1"),
    ("Nâng cao năng lực quản lý cho cơ sở {product}", "5.2"),
    ("Xây dựng chương trình truyền hình về khuyến công", "6.1"),
    ("Tập huấn nâng cao năng lực cán bộ khuyến công", "7.1"),
]
MACHINES = ["chẻ nan tự động", "sấy chè", "CNC cắt kim loại", "ép viên nén mùn cưa", "đóng gói chân không", "sao chè",
            "dệt thổ cẩm", "nghiền bột gạo", "chưng cất rượu", "ép dầu lạc", "xẻ gỗ", "nung gốm bằng gas",
            "làm bún khô", "sản xuất nước mắm", "đúc đồng", "chế biến nông sản"]
PRODUCTS = ["mây tre đan", "gốm sứ", "chè", "cơ khí", "dệt may", "thổ cẩm", "đồ gỗ", "rượu truyền thống", "bún bánh",
            "nước mắm", "đúc đồng", "sơn mài", "chế biến nông sản", "thủ công mỹ nghệ", "muối", "cói"]
PLACES = ["Hòa Bình", "Đông Hòa", "Đại Đồng", "Tân Yên", "Phù Lãng", "Vân Hà", "Thủy Nguyên", "Đồng Kỵ", "Bát Tràng",
          "Vạn Phúc", "Thanh Hà", "Đức Phổ", "Đắk Mil", "Hòa Hiệp", "Thuận An", "Quảng Điền", "Sa Đéc", "Đồng Xoài"]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương"]
GIVEN = ["Thị Hoa", "Văn Hùng", "Thị Thủy", "Văn Đức", "Thị Hòa", "Minh Tuấn", "Thị Lan", "Quang Đạt", "Thị Huệ"]

# Status mixes by how old the plan year is (older years are mostly finished).
STATUS_MIX = {
    "old": [(Status.SETTLED, 70), (Status.ACCEPTED, 6), (Status.CANCELLED, 6), (Status.REJECTED, 10),
            (Status.IN_IMPLEMENTATION, 8)],
    "last": [(Status.IN_IMPLEMENTATION, 30), (Status.ADJUSTMENT_REQUESTED, 6), (Status.ACCEPTED, 20),
             (Status.SETTLED, 20), (Status.APPROVED, 10), (Status.REJECTED, 8), (Status.CANCELLED, 6)],
    "current": [(Status.DRAFT, 18), (Status.SUBMITTED, 14), (Status.FORWARDED, 10), (Status.UNDER_APPRAISAL, 12),
                (Status.RETURNED, 8), (Status.APPROVED, 16), (Status.IN_IMPLEMENTATION, 14), (Status.REJECTED, 4),
                (Status.CANCELLED, 4)],
}

# The path of actions that leads to each status (KCQG; KCĐP skips forward/appraisal).
PATHS = {
    Status.DRAFT: [],
    Status.SUBMITTED: ["submit"],
    Status.FORWARDED: ["submit", "forward"],
    Status.UNDER_APPRAISAL: ["submit", "forward", "start_appraisal"],
    Status.RETURNED: ["submit", "forward", "start_appraisal", "return"],
    Status.APPROVED: ["submit", "forward", "start_appraisal", "approve"],
    Status.REJECTED: ["submit", "forward", "start_appraisal", "reject"],
    Status.IN_IMPLEMENTATION: ["submit", "forward", "start_appraisal", "approve", "start_implementation"],
    Status.ADJUSTMENT_REQUESTED: ["submit", "forward", "start_appraisal", "approve", "start_implementation",
                                  "request_adjustment"],
    Status.ACCEPTED: ["submit", "forward", "start_appraisal", "approve", "start_implementation", "accept"],
    Status.SETTLED: ["submit", "forward", "start_appraisal", "approve", "start_implementation", "accept", "settle"],
    Status.CANCELLED: ["cancel"],
}
TARGETS = {
    "submit": Status.SUBMITTED, "forward": Status.FORWARDED, "start_appraisal": Status.UNDER_APPRAISAL,
    "return": Status.RETURNED, "approve": Status.APPROVED, "reject": Status.REJECTED,
    "approve_local": Status.APPROVED, "start_implementation": Status.IN_IMPLEMENTATION,
    "request_adjustment": Status.ADJUSTMENT_REQUESTED, "accept": Status.ACCEPTED, "settle": Status.SETTLED,
    "cancel": Status.CANCELLED,
}
COMMENTS = {"return": "Bổ sung báo giá và cam kết vốn đối ứng", "reject": "Không phù hợp nội dung chương trình",
            "cancel": "Đơn vị đề nghị dừng", "request_adjustment": "Điều chỉnh địa điểm thực hiện"}


def _weighted(rng, mix):
    total = sum(w for _, w in mix)
    x = rng.uniform(0, total)
    for value, weight in mix:
        x -= weight
        if x <= 0:
            return value
    return mix[-1][0]


def seeded_count():
    return DeAn.objects.filter(source_ref__startswith=SEED_PREFIX).count()


@transaction.atomic
def seed_reset():
    """Delete the seeded rows with plain DELETEs (no per-row signals, so no history rows either)."""
    from django.db import connection

    seeded = DeAn.objects.filter(source_ref__startswith=SEED_PREFIX)
    count = seeded.count()
    sub = f"SELECT id FROM {DeAn._meta.db_table} WHERE source_ref LIKE %s"
    pattern = SEED_PREFIX + "%"
    with connection.cursor() as cursor:
        from dashboards.models import QueueTotals  # the review-queue totals derived from the transitions

        for model, column in ((Transition, "de_an_id"), (QueueTotals, "de_an_id"), (BudgetLine, "de_an_id"),
                              (DeAnBeneficiary, "de_an_id"), (DeAn.contents.through, "dean_id")):
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE {column} IN ({sub})", [pattern])
        cursor.execute(f"DELETE FROM {DeAn._meta.db_table} WHERE source_ref LIKE %s", [pattern])
        cursor.execute(
            f"DELETE FROM {Establishment._meta.db_table} WHERE tax_code LIKE %s AND id NOT IN "
            f"(SELECT establishment_id FROM {DeAnBeneficiary._meta.db_table})", ["99%"])
    return count


def _actors():
    """One system account per role to sign the seeded transitions (created once, inactive)."""
    agency = Organisation.objects.get(code="cuc-khuyen-cong")
    users = {}
    for role in (Role.CENTRE, Role.PROVINCE, Role.REVIEWER):
        org = agency if role == Role.REVIEWER else Organisation.objects.filter(kind="centre" if role == Role.CENTRE
                                                                                 else "department").first()
        user, _created = User.objects.get_or_create(
            username=f"seed.{role}", defaults={"role": role, "organisation": org, "is_active": False,
                                               "first_name": "Dữ liệu", "last_name": "mẫu quy mô lớn"})
        users[role] = user
    return users


ACTION_ROLE = {"submit": Role.CENTRE, "forward": Role.PROVINCE, "start_appraisal": Role.REVIEWER,
               "return": Role.REVIEWER, "approve": Role.REVIEWER, "reject": Role.REVIEWER,
               "approve_local": Role.PROVINCE, "start_implementation": Role.CENTRE,
               "request_adjustment": Role.CENTRE, "accept": Role.PROVINCE, "settle": Role.REVIEWER,
               "cancel": Role.CENTRE}


def seed_scale(n, *, reset=False, rng_seed=2026, stdout=None):
    """Top the seeded đề án up to ``n`` (after deleting them when ``reset``). Returns how many were made."""
    from dashboards.services import queue_totals_refresh

    if reset:
        seed_reset()
    have = seeded_count()
    if have >= n:
        return 0
    rng = random.Random(rng_seed + have)
    todo = n - have
    start_index = (DeAn.objects.filter(source_ref__startswith=SEED_PREFIX).count())
    provinces_current = list(Province.objects.filter(era=Era.CURRENT).order_by("code"))
    provinces_former = list(Province.objects.filter(era=Era.FORMER).select_related("successor").order_by("code"))
    centres = {o.province_id: o for o in Organisation.objects.filter(kind="centre")}
    programmes = list(Programme.objects.all())
    contents = {c.code: c for c in ActivityContent.objects.filter(instrument="1881/QĐ-TTg")}
    actors = _actors()
    now = timezone.now()

    with transaction.atomic():
        # Establishments: a pool per province, reused by many đề án.
        pool = {}
        est_rows = []
        base_tax = 9_900_000_000 + Establishment.objects.filter(tax_code__startswith="99").count()
        per_province = max(5, todo // 300)
        for province in provinces_former + provinces_current:
            for _n in range(per_province):
                product = rng.choice(PRODUCTS)
                form = rng.choice([LegalForm.SME, LegalForm.COOPERATIVE, LegalForm.HOUSEHOLD_BUSINESS,
                                   LegalForm.COOPERATIVE_GROUP, LegalForm.CRAFT_VILLAGE])
                if form == LegalForm.HOUSEHOLD_BUSINESS:
                    name = f"Hộ kinh doanh {rng.choice(SURNAMES)} {rng.choice(GIVEN)}"
                elif form == LegalForm.SME:
                    name = f"Công ty TNHH {product.capitalize()} {rng.choice(PLACES)}"
                elif form == LegalForm.CRAFT_VILLAGE:
                    name = f"Làng nghề {product} {rng.choice(PLACES)}"
                else:
                    name = f"Hợp tác xã {product} {rng.choice(PLACES)}"
                base_tax += 1
                est_rows.append(Establishment(
                    name=name, legal_form=form, tax_code=str(base_tax), address=f"Thôn {rng.choice(PLACES)}",
                    commune=f"Xã {rng.choice(PLACES)}", province=province, trade=product,
                    workers=rng.randint(5, 300), women_owned=rng.random() < 0.3, ethnic_minority=rng.random() < 0.15,
                    craft_village=rng.random() < 0.4, search_name=fold(name),
                ))
        for start in range(0, len(est_rows), BATCH):
            Establishment.objects.bulk_create(est_rows[start:start + BATCH], batch_size=BATCH)
        for est in est_rows:
            pool.setdefault(est.province_id, []).append(est)

        sequences = {}
        for seq in CodeSequence.objects.all():
            sequences[seq.prefix] = seq.last
        made = 0
        for chunk_start in range(0, todo, BATCH):
            rows, extras = [], []
            for k in range(chunk_start, min(todo, chunk_start + BATCH)):
                index = start_index + k + 1
                year = YEARS[k % len(YEARS)]
                start_day = date(year, 1, 15) + timedelta(days=rng.randint(0, 250))
                if year < 2025 or (year == 2025 and start_day < date(2025, 7, 1)):
                    province = rng.choice(provinces_former)
                    current = province.successor
                else:
                    province = rng.choice(provinces_current)
                    current = province
                level = Level.NATIONAL if rng.random() < 0.45 else Level.LOCAL
                kind = _weighted(rng, [(Kind.ORDINARY, 80), (Kind.GROUP, 12), (Kind.PILOT, 8)])
                age = "current" if year == 2026 else ("last" if year == 2025 else "old")
                status = _weighted(rng, STATUS_MIX[age])
                template, content_code = rng.choice(ACTIVITIES)
                name = template.format(machine=rng.choice(MACHINES), product=rng.choice(PRODUCTS),
                                       place=rng.choice(PLACES))
                name = f"{name} tại {province.name}" if rng.random() < 0.5 else name
                years = rng.choice([2, 3]) if kind == Kind.PILOT else 1
                end_day = date(start_day.year + years - 1, 11, 30)
                prefix = code_prefix(level, year, province.code)
                sequences[prefix] = sequences.get(prefix, 0) + 1
                code = f"{prefix}-{sequences[prefix]:04d}"
                unit = centres.get(province.pk)
                support = rng.randrange(100, 900) * 1_000_000
                counterpart = rng.randrange(50, 1500) * 1_000_000
                support_source = FundingSource.NATIONAL if level == Level.NATIONAL else FundingSource.LOCAL
                approved = status in (Status.APPROVED, Status.IN_IMPLEMENTATION, Status.ADJUSTMENT_REQUESTED,
                                      Status.ACCEPTED, Status.SETTLED)
                programme = next((p for p in programmes if p.start_year <= year <= p.end_year), None)
                decision = f"{rng.randint(100, 3999)}/QĐ-{'BCT' if level == Level.NATIONAL else 'UBND'}" if approved else ""
                decision_day = date(year - 1, 12, rng.randint(1, 28)) if approved else None
                candidates = pool.get(province.pk) or pool.get(current.pk) or []
                ests = rng.sample(candidates, k=min(len(candidates), 1 if kind == Kind.ORDINARY else 2))
                created = timezone.make_aware(datetime(year - 1, 5, 1)) + timedelta(days=rng.randint(0, 40))
                de_an = DeAn(
                    code=code, name=name, level=level, kind=kind, programme=programme, plan_year=year, province=province,
                    current_province=current, implementing_unit=unit, implementing_unit_name="",
                    partner_unit="", start_date=start_day, end_date=end_day,
                    location=f"{rng.choice(['Xã', 'Xã', 'Phường'])} {rng.choice(PLACES)}, {province.full_name}",
                    rationale="", objectives="", scale="", expected_output="", expected_jobs=rng.randint(5, 80),
                    total_amount=support + counterpart,
                    national_amount=support if level == Level.NATIONAL else 0,
                    local_amount=support if level == Level.LOCAL else 0, counterpart_amount=counterpart,
                    status=status, revision=1 + len(PATHS[status]),
                    decision_number=decision if level == Level.NATIONAL else "",
                    decision_date=decision_day if level == Level.NATIONAL else None,
                    approved_national_amount=support if approved and level == Level.NATIONAL else None,
                    local_decision_number=decision if level == Level.LOCAL else "",
                    local_decision_date=decision_day if level == Level.LOCAL else None,
                    approved_local_amount=support if approved and level == Level.LOCAL else None,
                    accepted_on=end_day if status in (Status.ACCEPTED, Status.SETTLED) else None,
                    settled_amount=support - rng.randrange(0, 20) * 1_000_000 if status == Status.SETTLED else None,
                    settled_on=date(end_day.year + 1, 2, 15) if status == Status.SETTLED else None,
                    source_ref=f"{SEED_PREFIX}{index}", created_by=actors[Role.CENTRE], created_at=created,
                    updated_at=created,
                )
                # services.search_text_for's fields, in its order.
                de_an.search_text = join_fields(
                    [code, name, de_an.location, unit.name if unit else "", province.name,
                     current.name if current.pk != province.pk else ""] + [e.name for e in ests])
                steps, state, at = [], Status.DRAFT, created
                for action in PATHS[status]:
                    if level == Level.LOCAL and action in ("forward", "start_appraisal"):
                        continue
                    if level == Level.LOCAL and action == "approve":
                        action = "approve_local"
                    at = min(at + timedelta(days=rng.randint(3, 40)), now)
                    steps.append((action, state, TARGETS[action], at))
                    state = TARGETS[action]
                de_an.updated_at = at
                rows.append(de_an)
                extras.append((ests, contents.get(content_code), support, counterpart, support_source, created, steps))
            DeAn.objects.bulk_create(rows, batch_size=BATCH)
            links, lines, through, transitions = [], [], [], []
            for de_an, (ests, content, support, counterpart, support_source, created, steps) in zip(rows, extras, strict=True):
                for order, est in enumerate(ests, start=1):
                    links.append(DeAnBeneficiary(de_an_id=de_an.pk, establishment_id=est.pk, order=order))
                lines.append(BudgetLine(de_an_id=de_an.pk, order=1, description=de_an.name[:200], content=content,
                                        source=support_source, amount=support))
                lines.append(BudgetLine(de_an_id=de_an.pk, order=2, description="Vốn đối ứng của cơ sở",
                                        content=content, source=FundingSource.COUNTERPART, amount=counterpart))
                if content is not None:
                    through.append(DeAn.contents.through(dean_id=de_an.pk, activitycontent_id=content.pk))
                transitions.append(Transition(de_an_id=de_an.pk, action="create", from_status="",
                                              to_status=Status.DRAFT, actor=actors[Role.CENTRE], at=created))
                action_decision = (de_an.decision_number or de_an.local_decision_number,
                                              de_an.decision_date or de_an.local_decision_date)
                for action, from_status, to_status, at in steps:
                    approval = action in ("approve", "approve_local")
                    transitions.append(Transition(
                        de_an_id=de_an.pk, action=action, from_status=from_status, to_status=to_status,
                        actor=actors[ACTION_ROLE[action]], at=at, comment=COMMENTS.get(action, ""),
                        decision_number=action_decision[0] if approval else "",
                        decision_date=action_decision[1] if approval else None,
                    ))
            DeAnBeneficiary.objects.bulk_create(links, batch_size=BATCH * 2)
            BudgetLine.objects.bulk_create(lines, batch_size=BATCH * 2)
            DeAn.contents.through.objects.bulk_create(through, batch_size=BATCH * 2)
            Transition.objects.bulk_create(transitions, batch_size=BATCH * 4)
            queue_totals_refresh([de_an.pk for de_an in rows])  # derived from the transitions just written
            made += len(rows)
            if stdout is not None:
                stdout.write(f"  {have + made}/{n}")
        CodeSequence.objects.bulk_create(
            [CodeSequence(prefix=prefix, last=last) for prefix, last in sequences.items()],
            update_conflicts=True, unique_fields=["prefix"], update_fields=["last"], batch_size=BATCH,
        )
    return made
