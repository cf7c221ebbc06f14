"""Every transition of the đề án workflow and every refusal, through the services."""
from datetime import date, datetime

import pytest
from django.utils import timezone

from khuyencong import access
from khuyencong.choices import Level
from projects import services, workflow
from projects.models import Adjustment, DeAn, Notification, Status, Transition
from projects.services import WorkflowError

from .factories import VN, advance, allocate, pdf_file, ready_de_an, request_adjustment, submit

pytestmark = pytest.mark.django_db


def transitions(de_an):
    return list(Transition.objects.filter(de_an=de_an).order_by("at", "id").values_list("action", "from_status", "to_status"))


def test_full_kcqg_journey_with_return_and_resubmit(users, django_capture_on_commit_callbacks, mailoutbox):
    d = ready_de_an(users.centre)
    assert d.status == Status.DRAFT and d.code.startswith("KCQG-2026-24-")
    with django_capture_on_commit_callbacks(execute=True):
        d = services.de_an_submit(actor=users.centre, de_an=d)
    assert d.status == Status.SUBMITTED
    # The Sở is told; the centre (the actor) is not.
    assert Notification.objects.filter(recipient=users.province, de_an=d, verb="submit").exists()
    assert not Notification.objects.filter(recipient=users.centre, verb="submit").exists()
    assert not Notification.objects.filter(recipient=users.province_other).exists()
    assert [m.to for m in mailoutbox] == [["so@bacninh.test"]]
    assert d.code in mailoutbox[0].subject and "gửi Sở Công Thương" in mailoutbox[0].body
    d = services.de_an_forward(actor=users.province, de_an=d)
    d = services.de_an_start_appraisal(actor=users.reviewer, de_an=d)
    d = services.de_an_return(actor=users.reviewer, de_an=d, comment="Bổ sung báo giá máy chẻ nan")
    assert d.status == Status.RETURNED
    # Editable again, and goes back the same way.
    d = services.de_an_update(actor=users.centre, de_an=d, revision=d.revision, scale="Bổ sung 2 báo giá")
    d = services.de_an_submit(actor=users.centre, de_an=d)
    d = services.de_an_forward(actor=users.province, de_an=d)
    d = services.de_an_start_appraisal(actor=users.reviewer, de_an=d)
    allocate(d)
    # The decision approves the dossier sent again: dated no earlier than that day (here the same day).
    resubmitted = Transition.objects.filter(de_an=d, action="submit").latest("at").at
    decided = timezone.localdate(resubmitted)
    d = services.de_an_approve(actor=users.reviewer, de_an=d, decision_number="2646/QĐ-BCT", decision_date=decided)
    assert d.status == Status.APPROVED
    assert d.decision_number == "2646/QĐ-BCT" and d.approved_national_amount == 400_000_000
    assert [t[0] for t in transitions(d)] == [
        "create", "submit", "forward", "start_appraisal", "return", "submit", "forward", "start_appraisal", "approve"]
    approve = Transition.objects.get(de_an=d, action="approve")
    assert approve.actor == users.reviewer and approve.from_status == "under_appraisal"
    assert approve.decision_number == "2646/QĐ-BCT" and approve.decision_date == decided


def test_implementation_adjustment_acceptance_settlement(users):
    d = advance(ready_de_an(users.centre), "in_implementation", users)
    adj = request_adjustment(d, users.centre, reason="Đổi địa điểm lắp đặt trong xã",
                             at=datetime(2026, 9, 1, 9, 0, tzinfo=VN))
    assert adj.kind == "minor"
    d = services.de_an_approve_adjustment(actor=users.reviewer, de_an=d)
    assert d.status == Status.IN_IMPLEMENTATION
    # Major: extension into the next year needs the Minister's decision number.
    adj = request_adjustment(d, users.centre, reason="Kéo dài thời gian", new_end_date=date(2028, 6, 30),
                             at=datetime(2026, 10, 20, 9, 0, tzinfo=VN))
    assert adj.kind == "major" and adj.extension
    with pytest.raises(WorkflowError, match="Bộ trưởng"):
        services.de_an_approve_adjustment(actor=users.reviewer, de_an=d)
    assert DeAn.objects.get(pk=d.pk).status == Status.ADJUSTMENT_REQUESTED
    d = services.de_an_approve_adjustment(actor=users.reviewer, de_an=d, decision_number="88/QĐ-BCT",
                                          decision_date=date(2026, 11, 2))
    assert d.end_date == date(2028, 6, 30)
    # Reject an adjustment (reason required).
    services.de_an_request_adjustment(actor=users.province, de_an=d, reason="Đổi đơn vị phối hợp")
    with pytest.raises(WorkflowError, match="ý kiến"):
        services.de_an_reject_adjustment(actor=users.reviewer, de_an=d, comment="")
    d = services.de_an_reject_adjustment(actor=users.reviewer, de_an=d, comment="Không đủ căn cứ")
    assert Adjustment.objects.filter(de_an=d, status="rejected").count() == 1
    # Acceptance needs the minutes attached.
    with pytest.raises(WorkflowError, match="biên bản nghiệm thu"):
        services.de_an_accept(actor=users.province, de_an=d, accepted_on=date(2026, 11, 20))
    services.attachment_add(actor=users.province, de_an=d, file=pdf_file(), kind="acceptance_minutes")
    d = services.de_an_accept(actor=users.province, de_an=d, accepted_on=date(2026, 11, 20))
    assert d.status == Status.ACCEPTED and d.accepted_on == date(2026, 11, 20)
    with pytest.raises(WorkflowError, match="lớn hơn kinh phí được duyệt"):
        services.de_an_settle(actor=users.reviewer, de_an=d, settlement_document="QT-01/2026", settled_amount="500.000.000")
    d = services.de_an_settle(actor=users.reviewer, de_an=d, settlement_document="QT-01/2026", settled_amount="390.000.000")
    assert d.status == Status.SETTLED and d.settled_amount == 390_000_000


def test_stop_via_major_adjustment_cancels(users):
    d = advance(ready_de_an(users.centre), "in_implementation", users)
    request_adjustment(d, users.centre, reason="Cơ sở ngừng sản xuất", stop=True, at=datetime(2026, 8, 20, 9, 0, tzinfo=VN))
    d = services.de_an_approve_adjustment(actor=users.reviewer, de_an=d, decision_number="90/QĐ-BCT",
                                          decision_date=date(2026, 9, 1))
    assert d.status == Status.CANCELLED


def test_kcdp_province_approves_with_ubnd_decision(users):
    d = ready_de_an(users.centre, level=Level.LOCAL)
    assert d.code.startswith("KCDP-2026-24-")
    d = submit(d, users.centre)
    with pytest.raises(WorkflowError, match="không áp dụng"):
        services.de_an_forward(actor=users.province, de_an=d)
    with pytest.raises(WorkflowError, match="UBND"):
        services.de_an_approve_local(actor=users.province, de_an=d, decision_number="", decision_date=None)
    d = services.de_an_approve_local(actor=users.province, de_an=d, decision_number="1234/QĐ-UBND",
                                     decision_date=date(2026, 2, 1))
    assert d.status == Status.APPROVED and d.local_decision_number == "1234/QĐ-UBND"
    assert d.approved_local_amount == 400_000_000


@pytest.mark.parametrize("amount", [0, "0"])
def test_kcdp_approval_of_zero_dong_is_refused_and_nothing_changes(users, amount):
    d = submit(ready_de_an(users.centre, level=Level.LOCAL), users.centre)
    transitions = Transition.objects.filter(de_an=d).count()
    with pytest.raises(WorkflowError, match="Kinh phí khuyến công địa phương được duyệt phải lớn hơn 0."):
        services.de_an_approve_local(actor=users.province, de_an=d, decision_number="1234/QĐ-UBND",
                                     decision_date=date(2026, 2, 1), approved_local_amount=amount)
    row = DeAn.objects.get(pk=d.pk)
    assert row.status == Status.SUBMITTED and row.approved_local_amount is None and row.local_decision_number == ""
    assert Transition.objects.filter(de_an=d).count() == transitions


def test_kcdp_rejected_by_province(users):
    d = services.de_an_submit(actor=users.centre, de_an=ready_de_an(users.centre, level=Level.LOCAL))
    d = services.de_an_reject(actor=users.province, de_an=d, comment="Không phù hợp quy hoạch")
    assert d.status == Status.REJECTED


def test_kcqg_reject_and_cancel(users):
    d = advance(ready_de_an(users.centre), "under_appraisal", users)
    with pytest.raises(WorkflowError, match="ý kiến"):
        services.de_an_reject(actor=users.reviewer, de_an=d, comment="  ")
    d = services.de_an_reject(actor=users.reviewer, de_an=d, comment="Trùng lặp nội dung")
    assert d.status == Status.REJECTED
    with pytest.raises(WorkflowError, match="Không thể hủy"):
        services.de_an_cancel(actor=users.admin, de_an=d, comment="x")
    d2 = ready_de_an(users.centre)
    with pytest.raises(WorkflowError, match="ý kiến"):
        services.de_an_cancel(actor=users.centre, de_an=d2, comment="")
    d2 = services.de_an_cancel(actor=users.centre, de_an=d2, comment="Trùng với đề án khác")
    assert d2.status == Status.CANCELLED


# --- refusals ------------------------------------------------------------------------------------

def assert_untouched(d, before):
    after = DeAn.objects.get(pk=d.pk)
    assert (after.status, after.revision) == before
    return after


def test_approving_a_draft_is_refused_with_reason(users):
    d = ready_de_an(users.centre)
    before = (d.status, d.revision)
    n = Transition.objects.count()
    with pytest.raises(WorkflowError) as err:
        services.de_an_approve(actor=users.reviewer, de_an=d, decision_number="1/QĐ-BCT", decision_date=date(2026, 1, 1))
    assert "Không thể phê duyệt đề án đang ở trạng thái «Đang soạn»" in str(err.value)
    assert_untouched(d, before)
    assert Transition.objects.count() == n


def test_editing_after_submission_is_refused(users):
    d = services.de_an_submit(actor=users.centre, de_an=ready_de_an(users.centre))
    with pytest.raises(WorkflowError) as err:
        services.de_an_update(actor=users.centre, de_an=d, revision=d.revision, name="Tên mới")
    assert "không sửa được" in str(err.value) and "Đã gửi Sở Công Thương" in str(err.value)
    assert DeAn.objects.get(pk=d.pk).name != "Tên mới"
    with pytest.raises(WorkflowError, match="không sửa được"):
        services.budget_line_add(actor=users.centre, de_an=d, description="Thêm", source="national", amount=1)


def test_resubmitting_an_approved_de_an_is_refused(users):
    d = advance(ready_de_an(users.centre), "approved", users)
    with pytest.raises(WorkflowError, match="Không thể gửi Sở Công Thương đề án đang ở trạng thái «Đã phê duyệt»"):
        services.de_an_submit(actor=users.centre, de_an=d)


def test_wrong_role_is_refused(users):
    d = services.de_an_submit(actor=users.centre, de_an=ready_de_an(users.centre))
    with pytest.raises(WorkflowError, match="Chỉ Cán bộ Sở Công Thương được gửi Cục thẩm định"):
        services.de_an_forward(actor=users.centre, de_an=d)
    d = services.de_an_forward(actor=users.province, de_an=d)
    with pytest.raises(WorkflowError, match="Chỉ Chuyên viên thẩm định"):
        services.de_an_start_appraisal(actor=users.province, de_an=d)
    assert DeAn.objects.get(pk=d.pk).status == Status.FORWARDED


def test_other_province_is_refused(users):
    d = ready_de_an(users.centre)
    with pytest.raises(WorkflowError, match="tỉnh, thành phố khác"):
        services.de_an_submit(actor=users.centre_other, de_an=d)
    with pytest.raises(WorkflowError, match="tỉnh, thành phố khác"):
        services.de_an_update(actor=users.centre_other, de_an=d, revision=d.revision, name="Chiếm")
    d = services.de_an_submit(actor=users.centre, de_an=d)
    with pytest.raises(WorkflowError, match="tỉnh, thành phố khác"):
        services.de_an_forward(actor=users.province_other, de_an=d)
    assert DeAn.objects.get(pk=d.pk).status == Status.SUBMITTED
    assert not access.visible_de_an(users.centre_other).filter(pk=d.pk).exists()


def test_missing_comment_and_decision_number(users):
    d = advance(ready_de_an(users.centre), "under_appraisal", users)
    allocate(d)
    with pytest.raises(WorkflowError, match="ý kiến"):
        services.de_an_return(actor=users.reviewer, de_an=d, comment="")
    with pytest.raises(WorkflowError, match="số quyết định"):
        services.de_an_approve(actor=users.reviewer, de_an=d, decision_number="", decision_date=date(2026, 1, 1))
    with pytest.raises(WorkflowError, match="ngày quyết định"):
        services.de_an_approve(actor=users.reviewer, de_an=d, decision_number="5/QĐ-BCT", decision_date=None)
    assert DeAn.objects.get(pk=d.pk).status == Status.UNDER_APPRAISAL


def test_submission_rules_block_incomplete_pilot(users):
    d = services.de_an_create(actor=users.centre, name="Đề án điểm thiếu hồ sơ", level=Level.NATIONAL, plan_year=2026,
                              kind="diem")
    with pytest.raises(WorkflowError) as err:
        services.de_an_submit(actor=users.centre, de_an=d)
    text = " | ".join(err.value.messages)
    assert "ít nhất 2 nội dung" in text and "ít nhất 2 đơn vị thụ hưởng" in text
    assert "Chưa nhập thời gian" in text and "Chưa có dòng kinh phí" in text
    assert DeAn.objects.get(pk=d.pk).status == Status.DRAFT


def test_over_allocation_refuses_approval(users):
    d = advance(ready_de_an(users.centre), "under_appraisal", users)
    allocate(d, amount=100_000_000)  # less than the 400 triệu requested
    with pytest.raises(WorkflowError, match="Vượt kinh phí"):
        services.de_an_approve(actor=users.reviewer, de_an=d, decision_number="7/QĐ-BCT", decision_date=date(2026, 1, 1))
    assert DeAn.objects.get(pk=d.pk).status == Status.UNDER_APPRAISAL
    assert not Transition.objects.filter(de_an=d, action="approve").exists()


def test_approve_many_under_one_decision(users):
    a = advance(ready_de_an(users.centre, name="Đề án A"), "under_appraisal", users)
    b = advance(ready_de_an(users.centre, name="Đề án B"), "under_appraisal", users)
    c = ready_de_an(users.centre, name="Đề án C (nháp)")
    allocate(a)
    with pytest.raises(WorkflowError) as err:
        services.de_an_approve_many(actor=users.reviewer, de_an_ids=[a.pk, b.pk, c.pk], decision_number="10/QĐ-BCT",
                                    decision_date=date(2026, 1, 20))
    assert c.code in " ".join(err.value.messages)
    assert DeAn.objects.filter(pk__in=[a.pk, b.pk], status=Status.APPROVED).count() == 0
    done = services.de_an_approve_many(actor=users.reviewer, de_an_ids=[a.pk, b.pk], decision_number="10/QĐ-BCT",
                                       decision_date=date(2026, 1, 20))
    assert {x.pk for x in done} == {a.pk, b.pk}
    assert set(Transition.objects.filter(action="approve").values_list("decision_number", flat=True)) == {"10/QĐ-BCT"}


def test_access_rules_match_workflow_actions():
    assert set(access.DE_AN_ACTIONS) == set(workflow.ACTIONS)
    table_actions = {s.action for steps in workflow.WORKFLOW.values() for s in steps}
    assert table_actions == set(workflow.ACTIONS)
    assert set(services.TRANSITION_SERVICES) == set(workflow.ACTIONS)
    for state in workflow.STATES:
        assert state in workflow.WORKFLOW
        for step in workflow.WORKFLOW[state]:
            assert step.target in workflow.STATES


def test_kcdp_approval_commits_the_local_allocation_when_one_is_recorded(users):
    d = submit(ready_de_an(users.centre, level=Level.LOCAL), users.centre)
    allocation = allocate(d, amount=300_000_000)  # local allocation smaller than the 400 triệu requested
    with pytest.raises(WorkflowError, match="Vượt kinh phí"):
        services.de_an_approve_local(actor=users.province, de_an=d, decision_number="9/QĐ-UBND",
                                     decision_date=date(2026, 2, 1))
    assert DeAn.objects.get(pk=d.pk).status == Status.SUBMITTED
    d = services.de_an_approve_local(actor=users.province, de_an=d, decision_number="9/QĐ-UBND",
                                     decision_date=date(2026, 2, 1), approved_local_amount="250.000.000")
    allocation.refresh_from_db()
    assert allocation.committed == 250_000_000


def test_cancelling_after_approval_releases_the_commitment(users):
    d = advance(ready_de_an(users.centre), "in_implementation", users)
    from funding.models import Allocation

    allocation = Allocation.objects.get(province=d.current_province, plan__year=d.plan_year)
    assert allocation.committed == 400_000_000
    d = services.de_an_cancel(actor=users.admin, de_an=d, comment="Trùng lặp với đề án khác")
    allocation.refresh_from_db()
    assert d.status == Status.CANCELLED and allocation.committed == 0
    assert Transition.objects.get(de_an=d, action="cancel").data["released"] == 400_000_000


def test_cancelling_keeps_committed_what_was_already_paid_out(users):
    """Money advanced or paid has left the budget: cancelling gives back only the rest, so no other
    đề án can spend the paid part again (the allocation would be spent twice)."""
    from funding.models import Allocation, Commitment
    from funding.services import OverAllocation, commitment_reserve, disbursement_record

    d = advance(ready_de_an(users.centre), "in_implementation", users)
    allocation = Allocation.objects.get(province=d.current_province, plan__year=d.plan_year)
    Allocation.objects.filter(pk=allocation.pk).update(amount=400_000_000)  # exactly what is approved
    allocation.refresh_from_db()
    assert (allocation.amount, allocation.committed) == (400_000_000, 400_000_000)
    disbursement_record(actor=users.province, de_an=d, kind="advance", amount=300_000_000,
                        date=date(2026, 3, 2), document_number="12/UNC")
    d = services.de_an_cancel(actor=users.admin, de_an=d, comment="Cơ sở dừng sản xuất")
    allocation.refresh_from_db()
    assert d.status == Status.CANCELLED and allocation.committed == 300_000_000
    assert Commitment.objects.get(de_an=d).amount == 300_000_000
    assert Transition.objects.get(de_an=d, action="cancel").data["released"] == 100_000_000
    other = ready_de_an(users.centre)
    with pytest.raises(OverAllocation):
        commitment_reserve(de_an=other, amount=100_000_001)
    commitment_reserve(de_an=other, amount=100_000_000)
    allocation.refresh_from_db()
    assert allocation.committed == allocation.amount == 400_000_000


# --- acceptance and settlement dates ---------------------------------------------------------------

def test_acceptance_date_may_not_be_in_the_future(users):
    from datetime import timedelta

    from django.utils import timezone

    d = advance(ready_de_an(users.centre), "in_implementation", users)
    services.attachment_add(actor=users.province, de_an=d, file=pdf_file(), kind="acceptance_minutes")
    row = DeAn.objects.get(pk=d.pk)
    before = (row.status, row.revision)
    with pytest.raises(WorkflowError, match="Ngày nghiệm thu không được sau ngày hôm nay."):
        services.de_an_accept(actor=users.province, de_an=d, accepted_on=timezone.localdate() + timedelta(days=1))
    assert assert_untouched(d, before).accepted_on is None


def test_settlement_keeps_its_real_date(users):
    d = advance(ready_de_an(users.centre), "accepted", users)
    d = services.de_an_settle(actor=users.reviewer, de_an=d, settlement_document="QT-01/2026", settled_amount="390.000.000", settled_on=date(2026, 11, 10))
    assert d.status == Status.SETTLED and d.settled_on == date(2026, 11, 10)
    assert Transition.objects.get(de_an=d, action="settle").data == {"settled_on": "2026-11-10",
                                                                     "settlement_document": "QT-01/2026"}


def test_settlement_date_defaults_to_today(users):
    from django.utils import timezone

    d = advance(ready_de_an(users.centre), "accepted", users)
    d = services.de_an_settle(actor=users.reviewer, de_an=d, settlement_document="QT-01/2026", settled_amount=390_000_000)
    assert d.settled_on == timezone.localdate()


def test_settlement_date_may_not_be_before_acceptance_nor_in_the_future(users):
    from datetime import timedelta

    from django.utils import timezone

    from .factories import ACCEPTED_ON

    d = advance(ready_de_an(users.centre), "accepted", users)
    before = (d.status, DeAn.objects.get(pk=d.pk).revision)
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(WorkflowError) as exc:
        services.de_an_settle(actor=users.reviewer, de_an=d, settlement_document="QT-01/2026", settled_amount=390_000_000, settled_on=tomorrow)
    assert str(exc.value) == f"Ngày quyết toán {tomorrow:%d/%m/%Y} không được sau ngày hôm nay."
    eve = ACCEPTED_ON - timedelta(days=1)
    with pytest.raises(WorkflowError) as exc:
        services.de_an_settle(actor=users.reviewer, de_an=d, settlement_document="QT-01/2026", settled_amount=390_000_000, settled_on=eve)
    assert str(exc.value) == (f"Ngày quyết toán {eve:%d/%m/%Y} không được trước ngày nghiệm thu "
                              f"{ACCEPTED_ON:%d/%m/%Y}.")
    after = assert_untouched(d, before)
    assert after.settled_amount is None and after.settled_on is None
    assert not Transition.objects.filter(de_an=d, action="settle").exists()
    # The acceptance day itself is a valid settlement day.
    d = services.de_an_settle(actor=users.reviewer, de_an=d, settlement_document="QT-01/2026", settled_amount=390_000_000, settled_on=ACCEPTED_ON)
    assert d.settled_on == ACCEPTED_ON


def test_kcdp_settlement_by_the_province_with_its_date(users):
    d = submit(ready_de_an(users.centre, level=Level.LOCAL), users.centre)
    d = services.de_an_approve_local(actor=users.province, de_an=d, decision_number="1234/QĐ-UBND",
                                     decision_date=date(2026, 2, 1))
    d = services.de_an_start_implementation(actor=users.centre, de_an=d)
    services.attachment_add(actor=users.province, de_an=d, file=pdf_file(), kind="acceptance_minutes")
    d = services.de_an_accept(actor=users.province, de_an=d, accepted_on=date(2026, 10, 1))
    with pytest.raises(WorkflowError, match="trước ngày nghiệm thu 01/10/2026"):
        services.de_an_settle(actor=users.province, de_an=d, settlement_document="QT-01/2026", settled_amount=300_000_000, settled_on=date(2026, 9, 30))
    d = services.de_an_settle(actor=users.province, de_an=d, settlement_document="QT-01/2026", settled_amount=300_000_000, settled_on=date(2026, 10, 15))
    assert d.status == Status.SETTLED and d.settled_on == date(2026, 10, 15)


# --- confirmation and evidence, declared by the table ------------------------------------------------

def test_every_step_that_cannot_be_undone_asks_for_confirmation():
    """Steps into a final state (settle, reject, cancel) and the acceptance (nothing leads back to
    implementation) ask first; settle and accept with their own question, not as red "danger" buttons."""
    for state in workflow.STATES:
        for step in workflow.steps_from(state):
            if step.target in workflow.FINAL_STATES or step.action == "accept":
                assert step.needs_confirmation, (state, step.action)
    settle = [s for s in workflow.steps_from(workflow.ACCEPTED) if s.action == "settle"]
    accept = [s for s in workflow.steps_from(workflow.IN_IMPLEMENTATION) if s.action == "accept"]
    assert len(settle) == 2 and len(accept) == 2
    for step in settle:
        assert not step.danger and str(step.confirm).startswith("Xác nhận quyết toán đề án?")
    for step in accept:
        assert not step.danger and str(step.confirm).startswith("Xác nhận nghiệm thu đề án?")
    # Approval is not final (an adjustment changes the money, a stop cancels it): no question.
    approve = [s for s in workflow.steps_from(workflow.UNDER_APPRAISAL) if s.action == "approve"]
    assert approve and not approve[0].needs_confirmation


def test_approving_a_stop_adjustment_asks_that_the_de_an_will_be_cancelled():
    from types import SimpleNamespace

    steps = [s for s in workflow.steps_from(workflow.ADJUSTMENT_REQUESTED) if s.action == "approve_adjustment"]
    assert len(steps) == 2
    for step in steps:
        assert "đề án bị hủy" in str(step.question(SimpleNamespace(stop=True)))
        assert step.question(SimpleNamespace(stop=False)) == "" and step.question(None) == ""
    rejects = [s for s in workflow.steps_from(workflow.ADJUSTMENT_REQUESTED) if s.action == "reject_adjustment"]
    assert all(s.question(SimpleNamespace(stop=True)) == "" for s in rejects)


def test_evidence_attachments_come_from_the_step_requirements():
    assert workflow.evidence_of("acceptance_minutes") == ("accept",)
    assert workflow.evidence_of("quotation") == ()
    assert workflow.evidence_of("settlement") == ()
