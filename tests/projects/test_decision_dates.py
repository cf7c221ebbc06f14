"""A date a workflow step records may not precede the step it follows: no decision (the ministry's
approval, the UBND tỉnh's, an adjustment's) before the đề án was submitted on the portal; no acceptance
or settlement before the approval decision or an adjustment decision; no adjustment decision before its
request. Days are compared in the portal's time zone (Asia/Ho_Chi_Minh). A đề án recorded from a plan
annex never went through submission: it has no such lower bound (``services.date_lower_bounds``)."""
import re
from datetime import date, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from khuyencong.choices import Level
from projects import services
from projects.models import Adjustment, DeAn, Status, Transition
from projects.services import WorkflowError

from .factories import (
    ACCEPTED_ON,
    DECISION_DATE,
    SUBMITTED_AT,
    VN,
    advance,
    allocate,
    current,
    pdf_file,
    ready_de_an,
    request_adjustment,
    submit,
)

pytestmark = pytest.mark.django_db

BEFORE_SUBMISSION = "Ngày quyết định không được trước ngày trình đề án ({d})."


def snapshot(de_an):
    row = DeAn.objects.get(pk=de_an.pk)
    return (row.status, row.revision, row.decision_number, row.decision_date, row.local_decision_date,
            row.accepted_on, row.settled_on, Transition.objects.filter(de_an=de_an).count())


def refused(call, message, field):
    with pytest.raises(WorkflowError) as info:
        call()
    assert info.value.messages == [message]
    assert info.value.fields == {message: field}


def under_appraisal(users, at=SUBMITTED_AT):
    d = ready_de_an(users.centre)
    d = submit(d, users.centre, at=at)
    d = services.de_an_forward(actor=users.province, de_an=d)
    d = services.de_an_start_appraisal(actor=users.reviewer, de_an=d)
    allocate(d)
    return d


def approve(users, d, day):
    return services.de_an_approve(actor=users.reviewer, de_an=d, decision_number="15/QĐ-BCT", decision_date=day)


# --- the ministry's approval (KCQG) ---------------------------------------------------------------

def test_an_approval_dated_before_the_submission_is_refused_and_nothing_changes(users):
    d = under_appraisal(users)  # submitted 01/12/2025 09:00
    before = snapshot(d)
    refused(lambda: approve(users, d, date(2025, 11, 30)), BEFORE_SUBMISSION.format(d="01/12/2025"), "decision_date")
    assert snapshot(d) == before
    d = approve(users, d, date(2025, 12, 1))  # the day of the submission itself
    assert d.status == Status.APPROVED and d.decision_date == date(2025, 12, 1)


@pytest.mark.parametrize("active", ["Asia/Ho_Chi_Minh", "UTC"])
def test_the_submission_day_is_the_portal_s_local_day(users, active):
    """Sent at 23:30 on 14/03 (16:30 UTC): a decision of 14/03 is fine, 13/03 is not — whatever time zone
    the request runs in."""
    d = under_appraisal(users, at=datetime(2026, 3, 14, 23, 30, tzinfo=VN))
    with timezone.override(active):
        refused(lambda: approve(users, d, date(2026, 3, 13)), BEFORE_SUBMISSION.format(d="14/03/2026"),
                "decision_date")
        assert approve(users, d, date(2026, 3, 14)).status == Status.APPROVED


@pytest.mark.parametrize("active", ["Asia/Ho_Chi_Minh", "UTC"])
def test_a_submission_just_after_local_midnight_is_of_the_new_day(users, active):
    """Sent at 00:30 on 15/03 local time, still 14/03 in UTC: a decision of 14/03 precedes it."""
    d = under_appraisal(users, at=datetime(2026, 3, 15, 0, 30, tzinfo=VN))
    with timezone.override(active):
        refused(lambda: approve(users, d, date(2026, 3, 14)), BEFORE_SUBMISSION.format(d="15/03/2026"),
                "decision_date")
        assert approve(users, d, date(2026, 3, 15)).status == Status.APPROVED


def test_after_a_return_the_decision_follows_the_dossier_sent_again(users):
    d = ready_de_an(users.centre)
    d = submit(d, users.centre, at=datetime(2025, 11, 3, 9, 0, tzinfo=VN))
    d = services.de_an_forward(actor=users.province, de_an=d)
    d = services.de_an_start_appraisal(actor=users.reviewer, de_an=d)
    d = services.de_an_return(actor=users.reviewer, de_an=d, comment="Bổ sung báo giá")
    d = submit(d, users.centre, at=datetime(2026, 1, 12, 10, 0, tzinfo=VN))
    d = services.de_an_forward(actor=users.province, de_an=d)
    d = services.de_an_start_appraisal(actor=users.reviewer, de_an=d)
    allocate(d)
    refused(lambda: approve(users, d, date(2026, 1, 11)), BEFORE_SUBMISSION.format(d="12/01/2026"), "decision_date")
    assert approve(users, d, date(2026, 1, 12)).status == Status.APPROVED


def test_a_bulk_approval_is_refused_whole_when_one_de_an_was_submitted_after_the_decision(users):
    early = under_appraisal(users)
    late = under_appraisal(users, at=datetime(2026, 1, 20, 8, 0, tzinfo=VN))
    with pytest.raises(WorkflowError) as info:
        services.de_an_approve_many(actor=users.reviewer, de_an_ids=[early.pk, late.pk], decision_number="20/QĐ-BCT",
                                    decision_date=DECISION_DATE)
    assert f"{late.code}: {BEFORE_SUBMISSION.format(d='20/01/2026')}" in info.value.messages
    assert not any(m.startswith(early.code) for m in info.value.messages)
    assert DeAn.objects.filter(pk__in=[early.pk, late.pk], status=Status.APPROVED).count() == 0
    approved = services.de_an_approve_many(actor=users.reviewer, de_an_ids=[early.pk, late.pk],
                                           decision_number="20/QĐ-BCT", decision_date=date(2026, 1, 20))
    assert {d.status for d in approved} == {Status.APPROVED}


def test_the_page_marks_the_decision_date_with_the_reason(users, client_as):
    d = under_appraisal(users)
    response = client_as(users.reviewer).post(reverse("projects:transition", args=[d.pk]), {
        "action": "approve", "decision_number": "15/QĐ-BCT", "decision_date": "30/11/2025", "amount": ""})
    assert response.status_code == 400
    body = response.content.decode()
    assert f"<li>{BEFORE_SUBMISSION.format(d='01/12/2025')}</li>" in body
    tag = re.search(r'<input[^>]*id="dd-approve"[^>]*>', body)[0]
    assert 'aria-invalid="true"' in tag
    assert DeAn.objects.get(pk=d.pk).status == Status.UNDER_APPRAISAL


# --- the UBND tỉnh's approval (KCĐP) -----------------------------------------------------------------

def test_a_ubnd_decision_dated_before_the_submission_is_refused(users):
    d = submit(ready_de_an(users.centre, level=Level.LOCAL), users.centre, at=datetime(2026, 2, 3, 23, 30, tzinfo=VN))
    before = snapshot(d)

    def approve_local(day):
        return services.de_an_approve_local(actor=users.province, de_an=d, decision_number="512/QĐ-UBND",
                                            decision_date=day)

    refused(lambda: approve_local(date(2026, 2, 2)), BEFORE_SUBMISSION.format(d="03/02/2026"), "decision_date")
    assert snapshot(d) == before
    d = approve_local(date(2026, 2, 3))
    assert d.status == Status.APPROVED and d.local_decision_date == date(2026, 2, 3)


# --- adjustments ------------------------------------------------------------------------------------

def in_implementation(users):
    return advance(ready_de_an(users.centre), "in_implementation", users)  # approved by the decision of 15/01/2026


def approve_adjustment(users, d, day, number="88/QĐ-BCT"):
    return services.de_an_approve_adjustment(actor=users.reviewer, de_an=d, decision_number=number, decision_date=day)


def test_an_adjustment_decision_dated_before_its_request_is_refused(users):
    d = in_implementation(users)
    request_adjustment(d, users.centre, reason="Kéo dài sang năm sau", new_end_date=date(2027, 12, 31),
                       at=datetime(2026, 6, 1, 9, 0, tzinfo=VN))
    before = snapshot(d)
    refused(lambda: approve_adjustment(users, d, date(2026, 5, 31)),
            "Ngày quyết định không được trước ngày đề nghị điều chỉnh (01/06/2026).", "decision_date")
    assert snapshot(d) == before and Adjustment.objects.get(de_an=d).status == "pending"
    d = approve_adjustment(users, d, date(2026, 6, 1))
    assert d.end_date == date(2027, 12, 31)


def test_an_adjustment_decision_may_not_precede_the_approval_nor_an_earlier_adjustment_decision(users):
    """Requests recorded on the portal later than the decisions they led to (back-dated here) leave the
    decisions themselves in order: the approval's, then each adjustment's."""
    d = in_implementation(users)
    request_adjustment(d, users.centre, reason="Kéo dài", new_end_date=date(2027, 6, 30),
                       at=datetime(2026, 1, 2, 9, 0, tzinfo=VN))
    refused(lambda: approve_adjustment(users, d, date(2026, 1, 14)),
            "Ngày quyết định không được trước ngày quyết định phê duyệt đề án (15/01/2026).", "decision_date")
    d = approve_adjustment(users, d, date(2026, 4, 1))
    request_adjustment(d, users.centre, reason="Kéo dài thêm", new_end_date=date(2027, 12, 31),
                       at=datetime(2026, 1, 3, 9, 0, tzinfo=VN))
    refused(lambda: approve_adjustment(users, d, date(2026, 3, 31), "89/QĐ-BCT"),
            "Ngày quyết định không được trước ngày quyết định điều chỉnh đề án đã ghi nhận trước đó (01/04/2026).",
            "decision_date")
    assert approve_adjustment(users, d, date(2026, 4, 1), "89/QĐ-BCT").end_date == date(2027, 12, 31)


# --- acceptance and settlement ----------------------------------------------------------------------

def test_an_acceptance_dated_before_an_adjustment_decision_is_refused(users):
    d = in_implementation(users)
    request_adjustment(d, users.centre, reason="Đổi thiết bị, kéo dài", new_end_date=date(2027, 6, 30),
                       at=datetime(2026, 11, 2, 9, 0, tzinfo=VN))
    d = approve_adjustment(users, d, date(2026, 11, 10))
    services.attachment_add(actor=users.province, de_an=d, file=pdf_file(), kind="acceptance_minutes")
    before = snapshot(d)
    refused(lambda: services.de_an_accept(actor=users.province, de_an=d, accepted_on=ACCEPTED_ON),
            "Ngày nghiệm thu không được trước ngày quyết định điều chỉnh đề án (10/11/2026).", "accepted_on")
    assert snapshot(d) == before
    d = services.de_an_accept(actor=users.province, de_an=d, accepted_on=date(2026, 11, 10))
    assert d.status == Status.ACCEPTED


def test_a_settlement_dated_before_the_approval_is_refused_even_after_an_early_acceptance(users):
    """An acceptance recorded before the rule with a date before the approval (set directly here) does not
    let the settlement be dated before the approval either."""
    d = advance(ready_de_an(users.centre), "accepted", users)
    DeAn.objects.filter(pk=d.pk).update(accepted_on=date(2026, 1, 2))
    refused(lambda: services.de_an_settle(actor=users.reviewer, de_an=d, settlement_document="QT-01/2026",
                                          settled_amount=390_000_000, settled_on=date(2026, 1, 10)),
            "Ngày quyết toán không được trước ngày quyết định phê duyệt đề án (15/01/2026).", "settled_on")
    d = services.de_an_settle(actor=users.reviewer, de_an=d, settlement_document="QT-01/2026",
                              settled_amount=390_000_000, settled_on=DECISION_DATE)
    assert d.status == Status.SETTLED


# --- đề án recorded from a plan annex: no submission ---------------------------------------------------

def record(users, **overrides):
    values = dict(
        actor=users.reviewer, plan_year=2024, level="kcqg", province=current("24"),
        name="Hỗ trợ ứng dụng lò sấy chè tiết kiệm năng lượng", implementing_unit_name="Trung tâm Khuyến công tỉnh Bắc Ninh",
        beneficiary_name="HTX Chè Yên Thế", contents_text="1.2 Hỗ trợ máy móc", location="Xã Yên Thế",
        start_date=date(2024, 1, 5), end_date=date(2024, 11, 30), total_amount=520_000_000, national_amount=200_000_000,
        local_amount=0, counterpart_amount=320_000_000, decision_number="3456/QĐ-BCT", decision_date=date(2024, 2, 10),
        source_ref="annex-2024:row-7",
    )
    values.update(overrides)
    return services.de_an_record_approved(**values)[0]


def test_an_imported_de_an_has_no_submission_bound_only_its_approval(users):
    d = record(users)
    assert not Transition.objects.filter(de_an=d, action="submit").exists()
    assert services.date_lower_bounds(d, action="accept") == [(date(2024, 2, 10), "approval")]
    d = services.de_an_start_implementation(actor=users.province, de_an=d)
    services.attachment_add(actor=users.province, de_an=d, file=pdf_file(), kind="acceptance_minutes")
    refused(lambda: services.de_an_accept(actor=users.province, de_an=d, accepted_on=date(2024, 2, 9)),
            "Ngày nghiệm thu không được trước ngày quyết định phê duyệt đề án (10/02/2024).", "accepted_on")
    # Dates long before it was recorded here (it has no submission on the portal) are fine.
    d = services.de_an_accept(actor=users.province, de_an=d, accepted_on=date(2024, 12, 10))
    d = services.de_an_settle(actor=users.reviewer, de_an=d, settlement_document="QT-012/2025",
                              settled_amount=198_500_000, settled_on=date(2025, 2, 20))
    assert d.status == Status.SETTLED and d.settled_on == date(2025, 2, 20)


def test_an_imported_de_an_s_adjustment_is_bound_by_its_request_not_a_submission(users):
    d = record(users, plan_year=2026, start_date=date(2026, 3, 1), end_date=date(2026, 11, 30),
               decision_date=date(2025, 12, 20), source_ref="annex-2026:row-3")
    d = services.de_an_start_implementation(actor=users.province, de_an=d)
    request_adjustment(d, users.centre, reason="Kéo dài sang năm sau", new_end_date=date(2027, 6, 30),
                       at=datetime(2026, 5, 4, 8, 0, tzinfo=VN))
    assert [reason for _day, reason in services.date_lower_bounds(d, action="approve_adjustment")] == [
        "request", "approval"]
    refused(lambda: approve_adjustment(users, d, date(2026, 5, 3)),
            "Ngày quyết định không được trước ngày đề nghị điều chỉnh (04/05/2026).", "decision_date")
    assert approve_adjustment(users, d, date(2026, 5, 4)).end_date == date(2027, 6, 30)


def test_a_de_an_of_the_bulk_annex_import_has_no_submission_bound(users):
    from tests.projects.test_record_approved_bulk import rows

    (created, action), = services.de_an_record_approved_many(actor=users.reviewer, rows=rows(1))
    assert action == "created"
    d = DeAn.objects.get(pk=created.pk)
    assert [reason for _day, reason in services.date_lower_bounds(d, action="accept")] == ["approval"]
    assert services.date_lower_bounds(d, action="approve") == []
