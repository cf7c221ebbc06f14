"""Factories and builders for projects tests.

``make_users()`` gives one account per role in Bắc Ninh (24) plus centre/province accounts of Thái
Nguyên (19). ``ready_de_an(actor)`` builds a đề án điểm that passes every pre-submission rule.
``advance(de_an, to, users)`` walks it through the workflow services to a given state; its submission
is dated ``SUBMITTED_AT`` (``submit()`` / ``backdate_submission()``), before the decision, acceptance and
settlement dates the tests record (none of them may precede the submission).
"""
import itertools
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import factory
from django.core.files.base import ContentFile
from factory.django import DjangoModelFactory

from khuyencong.choices import FundingSource, Level
from khuyencong.models import ActivityContent, Province
from projects import services
from projects.models import DeAn, Establishment, Kind, LegalForm, Transition
from tests.khuyencong.factories import admin_user, centre_user, province_user, reviewer

_tax = itertools.count(1)


def current(code):
    return Province.objects.get(code=code, era="current")


def content(code, instrument="1881/QĐ-TTg"):
    return ActivityContent.objects.get(code=code, instrument=instrument)


class EstablishmentFactory(DjangoModelFactory):
    class Meta:
        model = Establishment

    name = factory.Sequence(lambda n: f"Hợp tác xã Mây tre đan Đông Hòa {n}")
    legal_form = LegalForm.COOPERATIVE
    tax_code = factory.LazyFunction(lambda: f"{2300000000 + next(_tax):010d}")
    address = "Thôn Đông"
    commune = "Xã Tân Yên"
    province = factory.LazyFunction(lambda: current("24"))
    trade = "Mây tre đan"
    workers = 35
    search_name = factory.LazyAttribute(lambda o: __import__("khuyencong.textsearch", fromlist=["fold"]).fold(o.name))


def make_users():
    return SimpleNamespace(
        centre=centre_user("24", email="trungtam@bacninh.test"), province=province_user("24", email="so@bacninh.test"),
        reviewer=reviewer(email="thamdinh@cuc.test"), reviewer2=reviewer(), admin=admin_user(),
        centre_other=centre_user("19"), province_other=province_user("19", email="so@thainguyen.test"),
    )


def pilot_lines(est1, est2):
    c12 = content("1.2")
    c41 = content("4.1")
    return [
        {"description": "Hỗ trợ máy chẻ nan tự động", "source": FundingSource.NATIONAL, "amount": 250_000_000,
         "content": c12, "cost_basis": 600_000_000, "establishment": est1},
        {"description": "Vốn đối ứng mua máy", "source": FundingSource.COUNTERPART, "amount": 350_000_000,
         "content": c12, "establishment": est1},
        {"description": "Hỗ trợ liên kết chuỗi giá trị", "source": FundingSource.NATIONAL, "amount": 150_000_000,
         "content": c41, "establishment": est2},
        {"description": "Vốn đối ứng liên kết", "source": FundingSource.COUNTERPART, "amount": 50_000_000,
         "content": c41, "establishment": est2},
    ]


def ready_de_an(actor, *, level=Level.NATIONAL, name="Đề án điểm phát triển mây tre đan Hòa Bình", plan_year=2026,
                kind=Kind.PILOT, province=None):
    """A đề án điểm with 2 contents, 2 beneficiaries, 2 years, lines within the caps."""
    province = province or current("24")
    est1 = EstablishmentFactory(province=province)
    est2 = EstablishmentFactory(province=province)
    de_an = services.de_an_create(
        actor=actor, name=name, level=level, plan_year=plan_year, kind=kind, province=province,
        contents=[content("1.2"), content("4.1")], start_date=date(plan_year, 3, 1), end_date=date(plan_year + 1, 11, 30),
        location="Xã Tân Yên, tỉnh Bắc Ninh", rationale="Nâng cao năng suất", objectives="Tăng thu nhập",
        beneficiaries=[est1, est2],
    )
    lines = pilot_lines(est1, est2)
    if level == Level.LOCAL:
        for line in lines:
            if line["source"] == FundingSource.NATIONAL:
                line["source"] = FundingSource.LOCAL
    return services.de_an_update(actor=actor, de_an=de_an, revision=de_an.revision, budget_lines=lines)


def allocate(de_an, amount=10_000_000_000):
    from tests.funding.factories import AllocationFactory

    return AllocationFactory(year=de_an.plan_year, level=de_an.level, province=de_an.current_province, amount=amount)


def pdf_file(name="bien-ban.pdf"):
    return ContentFile(b"%PDF-1.4\n% test\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", name=name)


# Acceptance and settlement dates may not be in the future: a fixed day in the past of the test runs
# (after the 2026 đề án's start, 01/03/2026).
ACCEPTED_ON = date(2026, 11, 5)
VN = ZoneInfo("Asia/Ho_Chi_Minh")
# When the tests' đề án are sent to the Sở: a decision (approval 15/01/2026 in ``advance``, the UBND's,
# an adjustment's), the acceptance and the settlement may not be dated before the submission
# (``projects.services.date_lower_bounds``), and a test runs long after the fixed dates it records.
SUBMITTED_AT = datetime(2025, 12, 1, 9, 0, tzinfo=VN)
DECISION_DATE = date(2026, 1, 15)


def backdate_submission(de_an, at=SUBMITTED_AT):
    """Date the latest submission of ``de_an`` at ``at``, as if it had been sent to the Sở then, and its
    creation (transition and ``created_at``) a week before when it is later than that; the dashboards'
    queue totals follow. For a đề án just submitted (nothing recorded after the submission)."""
    from dashboards.services import queue_totals_refresh

    submission = Transition.objects.filter(de_an_id=de_an.pk, action="submit").order_by("-at", "-id").first()
    Transition.objects.filter(pk=submission.pk).update(at=at)
    created = at - timedelta(days=7)
    Transition.objects.filter(de_an_id=de_an.pk, action="create", at__gt=created).update(at=created)
    DeAn.objects.filter(pk=de_an.pk, created_at__gt=created).update(created_at=created)
    de_an.created_at = DeAn.objects.values_list("created_at", flat=True).get(pk=de_an.pk)
    queue_totals_refresh([de_an.pk])
    return de_an


def submit(de_an, actor, *, at=SUBMITTED_AT, comment=""):
    """``de_an_submit`` by ``actor``, the submission dated ``at`` (see ``backdate_submission``)."""
    return backdate_submission(services.de_an_submit(actor=actor, de_an=de_an, comment=comment), at)


# When the tests' adjustments are asked for: a decision on an adjustment may not precede its request.
ADJUSTMENT_REQUESTED_AT = datetime(2026, 6, 1, 9, 0, tzinfo=VN)


def request_adjustment(de_an, actor, *, at=ADJUSTMENT_REQUESTED_AT, confirm=True, **fields):
    """``de_an_request_adjustment`` by ``actor`` (``fields``: reason, new_amount, stop, …), the request
    (its transition and ``Adjustment.requested_at``) dated ``at``; returns the Adjustment. A centre's
    KCQG request is then confirmed by the province's Sở (``confirm_adjustment``, dated ``at`` too), so
    the Cục can decide it; ``confirm=False`` leaves it waiting for the Sở."""
    from dashboards.services import queue_totals_refresh

    adjustment = services.de_an_request_adjustment(actor=actor, de_an=de_an, **fields)
    request = Transition.objects.filter(de_an_id=de_an.pk, action="request_adjustment").order_by("-at", "-id").first()
    Transition.objects.filter(pk=request.pk).update(at=at)
    type(adjustment).objects.filter(pk=adjustment.pk).update(requested_at=at)
    adjustment.requested_at = at
    if confirm and adjustment.confirmed_at is None:
        confirm_adjustment(de_an, at=at)
        adjustment.refresh_from_db()
    queue_totals_refresh([de_an.pk])
    return adjustment


def confirm_adjustment(de_an, *, at=None):
    """The Sở of ``de_an``'s province confirms its pending KCQG adjustment request (dated ``at``)."""
    from khuyencong.choices import Role
    from khuyencong.models import User
    from projects.models import Adjustment

    so = User.objects.filter(role=Role.PROVINCE, is_active=True,
                             organisation__province_id=de_an.current_province_id).order_by("pk").first()
    services.de_an_confirm_adjustment(actor=so, de_an=de_an)
    if at is not None:
        step = Transition.objects.filter(de_an_id=de_an.pk, action="confirm_adjustment").order_by("-at", "-id").first()
        Transition.objects.filter(pk=step.pk).update(at=at)
        Adjustment.objects.filter(de_an_id=de_an.pk, status="pending").update(confirmed_at=at)


def advance(de_an, to, u):
    """Walk ``de_an`` (KCQG) through the services up to state ``to``."""
    path = ["submitted", "forwarded", "under_appraisal", "approved", "in_implementation", "accepted", "settled"]
    steps = {
        "submitted": lambda d: submit(d, u.centre),
        "forwarded": lambda d: services.de_an_forward(actor=u.province, de_an=d),
        "under_appraisal": lambda d: services.de_an_start_appraisal(actor=u.reviewer, de_an=d),
        "approved": lambda d: services.de_an_approve(actor=u.reviewer, de_an=d, decision_number="123/QĐ-BCT",
                                                     decision_date=DECISION_DATE),
        "in_implementation": lambda d: services.de_an_start_implementation(actor=u.centre, de_an=d),
        "accepted": lambda d: (services.attachment_add(actor=u.province, de_an=d, file=pdf_file(),
                                                       kind="acceptance_minutes"),
                               services.de_an_accept(actor=u.province, de_an=d, accepted_on=ACCEPTED_ON))[1],
        "settled": lambda d: services.de_an_settle(actor=u.reviewer, de_an=d, settlement_document="QT-01/2026", settled_amount=390_000_000),
    }
    if to in ("approved", "in_implementation", "accepted", "settled"):
        allocate(de_an)
    for state in path:
        de_an = steps[state](de_an)
        if state == to:
            return de_an
    raise ValueError(to)


def local_in_implementation(u, *, decision_number="1234/QĐ-UBND", decision_date=date(2026, 2, 1)):
    """A KCĐP đề án of ``u.centre`` walked through the services to "in implementation" (allocated,
    submitted, approved by ``u.province``): ``(de_an, allocation)``."""
    de_an = ready_de_an(u.centre, level=Level.LOCAL)
    allocation = allocate(de_an)
    de_an = submit(de_an, u.centre)
    de_an = services.de_an_approve_local(actor=u.province, de_an=de_an, decision_number=decision_number,
                                         decision_date=decision_date)
    return services.de_an_start_implementation(actor=u.centre, de_an=de_an), allocation
