"""Demo đề án for ``manage.py load_demo`` (called by khuyencong.demo with accounts role → User).

A handful of realistic đề án in Bắc Ninh (24) in various states, made through the services (so they
carry transitions, history and notifications), plus one in Thái Nguyên (19) to show scoping.
Idempotent: each demo đề án is tagged ``source_ref = "demo:<key>"`` and skipped when it exists.

Money goes through the funding services too, so every page tells the same figures: each approved or
later đề án has its year's annual plan and its province's allocation of its source (made before the
approval), the commitment its approval makes (``de_an_approve`` / ``de_an_approve_local``; for the
đề án recorded from the 2024 plan annex, ``commitment_reserve`` as the annex import does), the
advances and payments of the đề án being carried out (``disbursement_record``) and, for the settled
one, its settlement row, written by ``de_an_settle`` itself (same amount, date and document number).

The đề án approved through the portal's workflow (5 and 6) tell their story at its own dates
(``_story_time``): created and submitted in 2025, approved by decisions dated in 2026, then carried out,
so that no decision precedes the submission it answers (``projects.services.date_lower_bounds``) and
their timelines read in order. The others are recorded at the time of loading.
"""
import itertools
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from django.apps import apps
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from khuyencong.choices import FundingSource, Level
from khuyencong.models import ActivityContent, Province

from . import services
from .models import DeAn, Establishment, Kind, LegalForm

QD1881 = "1881/QĐ-TTg"

ESTABLISHMENTS_24 = [
    ("HTX Gốm Thổ Hà", LegalForm.COOPERATIVE, "2400512345", "Thôn Thổ Hà", "Xã Vân Hà", "Gốm sứ", 42, False, False, True),
    ("Công ty TNHH Mây tre đan Tân Yên", LegalForm.SME, "2400623456", "Thôn Đồng Lạc", "Xã Tân Yên", "Mây tre đan", 85,
     True, False, False),
    ("Hộ kinh doanh Nguyễn Thị Hoa", LegalForm.HOUSEHOLD_BUSINESS, "024185001234", "Thôn Phù Lãng", "Xã Phù Lãng",
     "Gốm Phù Lãng", 9, True, False, True),
    ("HTX Rượu làng Vân", LegalForm.COOPERATIVE, "2400734567", "Làng Vân", "Xã Vân Hà", "Rượu truyền thống", 30,
     False, False, True),
    ("Công ty CP Cơ khí Đa Hội", LegalForm.SME, "2300845678", "Đa Hội", "Phường Châu Khê", "Cơ khí", 120, False, False, True),
]
ESTABLISHMENTS_19 = [
    ("HTX Chè La Bằng", LegalForm.COOPERATIVE, "4600112233", "Xóm Đồng Kép", "Xã La Bằng", "Chế biến chè", 55, True, True, False),
]

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@contextmanager
def _story_time(year, month, day, hour=9, minute=0):
    """Within the block «now» is the given local moment (Asia/Ho_Chi_Minh; a millisecond later at each
    call, so rows keep their order): for ``timezone.now()`` and ``timezone.localdate()`` (so a decision
    dated before that day is not "in the future"), and for every model field whose default is
    ``timezone.now`` (transitions, history, notifications, …). For the demo loader only (a management
    command, one thread): it swaps a process-wide function while the block runs."""
    real_now = timezone.now
    moment = datetime(year, month, day, hour, minute, tzinfo=timezone.get_default_timezone())
    ticks = itertools.count()

    def now():
        return moment + timedelta(milliseconds=next(ticks))

    fields = [f for model in apps.get_models() for f in model._meta.concrete_fields if f.default is real_now]
    timezone.now = now
    for f in fields:
        f.__dict__["_get_default"] = now  # Field._get_default is a cached_property
    try:
        yield
    finally:
        timezone.now = real_now
        for f in fields:
            f.__dict__.pop("_get_default", None)


def _content(code):
    return ActivityContent.objects.get(code=code, instrument=QD1881)


def _establishments(actor, province, rows):
    result = []
    for name, form, tax, address, commune, trade, workers, women, ethnic, village in rows:
        est = Establishment.objects.filter(tax_code=tax).first()
        if est is None:
            est = services.establishment_create(
                actor=actor, name=name, legal_form=form, tax_code=tax, address=address, commune=commune,
                province=province, trade=trade, workers=workers, women_owned=women, ethnic_minority=ethnic,
                craft_village=village,
            )
        result.append(est)
    return result


def _ensure_allocation(year, level, province, amount, *, decision_number, decision_date, title):
    """The annual plan of (year, level) and the province's allocation of the level's source, so the
    approvals can commit (an allocation already recorded is kept as it is)."""
    from funding.models import Allocation, source_for_level
    from funding.services import annual_plan_get_or_create

    plan = annual_plan_get_or_create(year=year, level=level, decision_number=decision_number,
                                     decision_date=decision_date, title=title)
    allocation, _created = Allocation.objects.get_or_create(plan=plan, province=province, source=source_for_level(level),
                                                            defaults={"amount": amount})
    return allocation


def _disburse(actor, de_an, kind, amount, day, document_number, note=""):
    from funding.services import disbursement_record

    return disbursement_record(actor=actor, de_an=de_an, kind=kind, amount=amount, date=day,
                               document_number=document_number, note=note)


def _lines(national_source, items):
    lines = []
    for description, content, source, amount, cost, est in items:
        lines.append({"description": description, "content": content,
                      "source": national_source if source == "support" else source,
                      "amount": amount, "cost_basis": cost, "establishment": est})
    return lines


def _make(key, actor, *, level, kind, name, plan_year, contents, start, end, establishments, items, **fields):
    existing = DeAn.objects.filter(source_ref=f"demo:{key}").first()
    if existing is not None:
        return existing, False
    de_an = services.de_an_create(
        actor=actor, name=name, level=level, plan_year=plan_year, kind=kind, contents=contents, start_date=start,
        end_date=end, beneficiaries=establishments, **fields,
    )
    support = FundingSource.NATIONAL if level == Level.NATIONAL else FundingSource.LOCAL
    de_an = services.de_an_update(actor=actor, de_an=de_an, revision=de_an.revision, budget_lines=_lines(support, items))
    DeAn.objects.filter(pk=de_an.pk).update(source_ref=f"demo:{key}")
    return de_an, True


@transaction.atomic
def load_demo(accounts):
    centre, province_user, reviewer = accounts["centre"], accounts["province"], accounts["reviewer"]
    bac_ninh = Province.objects.get(code="24", era="current")
    with _story_time(2025, 5, 15, 8, 0):  # before the đề án of 2026 that name them
        tho_ha, tan_yen, hoa, van, da_hoi = _establishments(centre, bac_ninh, ESTABLISHMENTS_24)
    former = Province.objects.get(code="27", era="former")
    # The plans and Bắc Ninh's allocations the approved đề án below commit against (đề án 5, 6, 7); the
    # 2026 ones recorded after their decisions and before the approvals of đề án 5 and 6.
    with _story_time(2025, 12, 29, 9, 0):
        _ensure_allocation(2026, Level.NATIONAL, bac_ninh, 20_000_000_000, decision_number="2100/QĐ-BCT",
                           decision_date=date(2025, 12, 20), title="Kế hoạch khuyến công 2026")
        _ensure_allocation(2026, Level.LOCAL, bac_ninh, 1_500_000_000, decision_number="3895/QĐ-UBND",
                           decision_date=date(2025, 12, 26), title="Kế hoạch khuyến công địa phương năm 2026")
    # The 2024 plan is the one of ../shared/samples/ke-hoach-kcqg-2024.xlsx (its decision), and Bắc Ninh's
    # allocation leaves room for that annex's Bắc Giang group (1.526.000.000 đ) beside đề án 7 below, so
    # the sample workbook can be tried on the demo («Nhập Excel») and imports without an error.
    _ensure_allocation(2024, Level.NATIONAL, former.current, 2_000_000_000, decision_number="312/QĐ-BCT",
                       decision_date=date(2024, 2, 26), title="Kế hoạch khuyến công quốc gia năm 2024")
    c12, c13, c34, c41, c51 = (_content(c) for c in ("1.2", "1.3", "3.4", "4.1", "5.1"))
    common = {"location": "Tỉnh Bắc Ninh", "partner_unit": "Viện Nghiên cứu Cơ khí"}
    made = []

    # 1. A đề án điểm still being drafted (passes every rule: ready to submit).
    d, new = _make(
        "draft-pilot", centre, level=Level.NATIONAL, kind=Kind.PILOT, plan_year=2026,
        name="Đề án điểm phát triển làng nghề gốm Thổ Hà gắn với du lịch", contents=[c12, c34],
        start=date(2026, 3, 1), end=date(2027, 10, 31), establishments=[tho_ha, hoa],
        rationale="Làng nghề gốm Thổ Hà cần đổi mới lò nung để giảm ô nhiễm và nâng chất lượng sản phẩm.",
        objectives="Ứng dụng lò nung gas tiết kiệm năng lượng; xây dựng nhãn hiệu tập thể.",
        expected_output="02 lò nung gas; 01 bộ nhận diện thương hiệu", expected_jobs=25,
        items=[
            ("Hỗ trợ lò nung gas 3 m³", c12, "support", 280_000_000, 620_000_000, tho_ha),
            ("Vốn đối ứng lò nung", c12, FundingSource.COUNTERPART, 340_000_000, None, tho_ha),
            ("Thiết kế nhãn hiệu, bao bì", c34, "support", 120_000_000, None, hoa),
            ("Vốn đối ứng nhãn hiệu", c34, FundingSource.COUNTERPART, 30_000_000, None, hoa),
        ], **common)
    made.append(d)

    # 2. Submitted to the Sở, waiting for the province.
    d, new = _make(
        "submitted", centre, level=Level.NATIONAL, kind=Kind.ORDINARY, plan_year=2026,
        name="Hỗ trợ ứng dụng máy chẻ nan tự động trong sản xuất mây tre đan", contents=[c12],
        start=date(2026, 4, 1), end=date(2026, 11, 30), establishments=[tan_yen],
        items=[("Máy chẻ nan tự động", c12, "support", 250_000_000, 560_000_000, tan_yen),
               ("Vốn đối ứng", c12, FundingSource.COUNTERPART, 310_000_000, None, tan_yen)], **common)
    if new:
        services.de_an_submit(actor=centre, de_an=d)
    made.append(d)

    # 3. Returned by the reviewer with a comment.
    d, new = _make(
        "returned", centre, level=Level.NATIONAL, kind=Kind.ORDINARY, plan_year=2026,
        name="Hỗ trợ dây chuyền chưng cất rượu làng Vân", contents=[c13],
        start=date(2026, 5, 1), end=date(2026, 12, 15), establishments=[van],
        items=[("Dây chuyền chưng cất", c13, "support", 400_000_000, 900_000_000, van),
               ("Vốn đối ứng", c13, FundingSource.COUNTERPART, 500_000_000, None, van)], **common)
    if new:
        d = services.de_an_submit(actor=centre, de_an=d)
        d = services.de_an_forward(actor=province_user, de_an=d)
        d = services.de_an_start_appraisal(actor=reviewer, de_an=d)
        services.de_an_return(actor=reviewer, de_an=d,
                              comment="Bổ sung 03 báo giá thiết bị và bản cam kết vốn đối ứng có xác nhận.")
    made.append(d)

    # 4. Under appraisal at the agency.
    d, new = _make(
        "appraisal", centre, level=Level.NATIONAL, kind=Kind.ORDINARY, plan_year=2026,
        name="Đào tạo nghề gốm cho lao động nông thôn xã Phù Lãng", contents=[c51],
        start=date(2026, 6, 1), end=date(2026, 9, 30), establishments=[hoa],
        items=[("Đào tạo 35 học viên", c51, "support", 180_000_000, None, hoa),
               ("Đối ứng nguyên liệu", c51, FundingSource.COUNTERPART, 20_000_000, None, hoa)], **common)
    if new:
        d = services.de_an_submit(actor=centre, de_an=d)
        d = services.de_an_forward(actor=province_user, de_an=d)
        services.de_an_start_appraisal(actor=reviewer, de_an=d)
    made.append(d)

    # 5. Approved and in implementation: registered in June 2025 (the Sở sends it on before 20 June),
    #    approved by the Minister's decision of 20/01/2026, started in March, first advance in April.
    with _story_time(2025, 6, 2, 8, 30):
        d, new = _make(
            "implementation", centre, level=Level.NATIONAL, kind=Kind.ORDINARY, plan_year=2026,
            name="Hỗ trợ máy CNC cắt kim loại cho cơ sở cơ khí Đa Hội", contents=[c12],
            start=date(2026, 3, 15), end=date(2026, 10, 31), establishments=[da_hoi],
            items=[("Máy cắt CNC plasma", c12, "support", 300_000_000, 750_000_000, da_hoi),
                   ("Vốn đối ứng", c12, FundingSource.COUNTERPART, 450_000_000, None, da_hoi)],
            location="Phường Châu Khê, tỉnh Bắc Ninh")
    if new:
        with _story_time(2025, 6, 5, 9, 0):
            d = services.de_an_submit(actor=centre, de_an=d)
        with _story_time(2025, 6, 16, 14, 0):
            d = services.de_an_forward(actor=province_user, de_an=d)
        with _story_time(2025, 7, 1, 9, 0):
            d = services.de_an_start_appraisal(actor=reviewer, de_an=d)
        with _story_time(2026, 1, 22, 10, 0):
            # The approval commits its 300.000.000 đ against Bắc Ninh's 2026 KCQG allocation.
            d = services.de_an_approve(actor=reviewer, de_an=d, decision_number="2468/QĐ-BCT",
                                       decision_date=date(2026, 1, 20))
        with _story_time(2026, 3, 15, 8, 0):
            d = services.de_an_start_implementation(actor=centre, de_an=d)
        with _story_time(2026, 4, 2, 15, 0):
            _disburse(province_user, d, "advance", 120_000_000, date(2026, 4, 2), "TU-015/2026", "Tạm ứng đợt 1")
    made.append(d)

    # 6. KCĐP approved by the UBND tỉnh: submitted in October 2025, the UBND's decision of 10/03/2026.
    with _story_time(2025, 10, 6, 8, 30):
        d, new = _make(
            "local-approved", centre, level=Level.LOCAL, kind=Kind.GROUP, plan_year=2026,
            name="Hỗ trợ đăng ký nhãn hiệu cho nhóm cơ sở gốm Bắc Ninh", contents=[c34],
            start=date(2026, 4, 1), end=date(2026, 10, 31), establishments=[tho_ha, hoa],
            items=[("Thiết kế, đăng ký nhãn hiệu", c34, "support", 90_000_000, None, None),
                   ("Đối ứng của cơ sở", c34, FundingSource.COUNTERPART, 30_000_000, None, None)], **common)
    if new:
        with _story_time(2025, 10, 15, 9, 0):
            d = services.de_an_submit(actor=centre, de_an=d)
        with _story_time(2026, 3, 12, 10, 0):
            # Bắc Ninh records its KCĐP allocation in the portal, so the approval commits the 90.000.000 đ.
            services.de_an_approve_local(actor=province_user, de_an=d, decision_number="512/QĐ-UBND",
                                         decision_date=date(2026, 3, 10))
    made.append(d)

    # 7. A 2024 đề án of former Bắc Ninh (27), recorded from the plan annex, accepted and settled. As the
    #    annex import does: the allocation exists (above), the đề án is recorded, its money committed.
    #    Then an advance, the acceptance, the final payment and the settlement (the «Quyết toán» step
    #    writes its settlement row: same amount, date and number; a settled đề án takes no more
    #    disbursements).
    d = DeAn.objects.filter(source_ref="demo:settled-2024").first()
    if d is None:
        from funding.services import commitment_reserve

        d, _action = services.de_an_record_approved(
            actor=reviewer, plan_year=2024, level=Level.NATIONAL, province=former,
            name="Hỗ trợ ứng dụng lò sấy chè tiết kiệm năng lượng", implementing_unit_name="Trung tâm Khuyến công tỉnh Bắc Ninh",
            beneficiary_name="HTX Chè Yên Thế", contents_text="1.2 Hỗ trợ máy móc thiết bị", location="Xã Yên Thế",
            start_date=date(2024, 3, 1), end_date=date(2024, 11, 30), total_amount=520_000_000,
            national_amount=200_000_000, local_amount=0, counterpart_amount=320_000_000,
            decision_number="312/QĐ-BCT", decision_date=date(2024, 2, 26), source_ref="demo:settled-2024",
        )
        commitment_reserve(de_an=d, amount=d.approved_national_amount, actor=reviewer)
        d = services.de_an_start_implementation(actor=province_user, de_an=d)
        _disburse(province_user, d, "advance", 80_000_000, date(2024, 4, 5), "TU-021/2024", "Tạm ứng 40 %")
        services.attachment_add(actor=province_user, de_an=d, file=ContentFile(PDF, name="Biên bản nghiệm thu.pdf"),
                                kind="acceptance_minutes")
        d = services.de_an_accept(actor=province_user, de_an=d, accepted_on=date(2024, 12, 10))
        _disburse(province_user, d, "payment", 118_500_000, date(2024, 12, 20), "TT-087/2024", "Thanh toán sau nghiệm thu")
        d = services.de_an_settle(actor=reviewer, de_an=d, settled_amount=198_500_000, settled_on=date(2025, 2, 20),
                                  settlement_document="QT-012/2025")
    made.append(d)

    # 8. Thái Nguyên (19): the other province's accounts see only this one.
    other_centre = accounts.get("centre_other")
    if other_centre is not None:
        thai_nguyen = Province.objects.get(code="19", era="current")
        (la_bang,) = _establishments(other_centre, thai_nguyen, ESTABLISHMENTS_19)
        d, new = _make(
            "thai-nguyen", other_centre, level=Level.NATIONAL, kind=Kind.ORDINARY, plan_year=2026,
            name="Hỗ trợ dây chuyền chế biến chè xanh La Bằng", contents=[c13],
            start=date(2026, 4, 1), end=date(2026, 11, 30), establishments=[la_bang],
            items=[("Dây chuyền sao chè", c13, "support", 380_000_000, 850_000_000, la_bang),
                   ("Vốn đối ứng", c13, FundingSource.COUNTERPART, 470_000_000, None, la_bang)],
            location="Xã La Bằng, tỉnh Thái Nguyên")
        if new:
            services.de_an_submit(actor=other_centre, de_an=d)
        made.append(d)
    return made

