"""An adjustment may not detach a đề án's support from its budget lines or lift it over the support caps:
support above the dossier's estimate needs a revised estimate (dự toán điều chỉnh) of the lines of the
đề án's own source, checked against the TT 28 caps when asked and again when approved, and written to
the lines (with their history) on approval. Every refusal leaves the database as it was."""
from datetime import date

import pytest
from django.urls import reverse

from funding.models import Allocation
from khuyencong.models import SupportCap
from projects import rules, services
from projects.models import Adjustment, BudgetLine, DeAn, Status, Transition
from projects.services import WorkflowError

from .factories import advance, confirm_adjustment, ready_de_an, request_adjustment

pytestmark = pytest.mark.django_db


def in_implementation(users):
    d = advance(ready_de_an(users.centre), "in_implementation", users)
    assert (d.national_amount, d.approved_national_amount) == (400_000_000, 400_000_000)
    return d


def lines_of(de_an, source="national"):
    """(machine line: content 1.2, cost 600.000.000 đ, capped at 300.000.000 đ per cơ sở; linkage line)"""
    return list(BudgetLine.objects.filter(de_an=de_an, source=source).order_by("order", "id"))


def snapshot(de_an):
    d = DeAn.objects.get(pk=de_an.pk)
    return (d.status, d.revision, d.national_amount, d.total_amount, d.approved_national_amount,
            sorted(BudgetLine.objects.filter(de_an=d).values_list("pk", "amount")),
            Adjustment.objects.filter(de_an=d).count(), Transition.objects.filter(de_an=d).count(),
            Allocation.objects.get(province=d.current_province, plan__year=d.plan_year, source="national").committed)


def test_more_than_the_estimate_without_a_revised_estimate_is_refused(users):
    d = in_implementation(users)
    before = snapshot(d)
    with pytest.raises(WorkflowError, match=r"lớn hơn kinh phí KCQG trong dự toán của đề án "
                                            r"\(400\.000\.000 đ\).*dự toán điều chỉnh") as exc:
        services.de_an_request_adjustment(actor=users.centre, de_an=d, reason="Tăng", new_amount=450_000_000)
    assert exc.value.fields  # shown on the amount field
    assert snapshot(d) == before


def test_a_revised_estimate_over_the_cap_is_refused(users):
    d = in_implementation(users)
    machine, _linkage = lines_of(d)
    before = snapshot(d)
    with pytest.raises(WorkflowError, match=r"vượt định mức hỗ trợ: Dòng «Hỗ trợ máy chẻ nan tự động»: kinh phí "
                                            r"khuyến công quốc gia 301\.000\.000 đ vượt mức tối đa 300\.000\.000 đ"):
        services.de_an_request_adjustment(actor=users.centre, de_an=d, reason="Tăng máy",
                                          new_lines={machine.pk: 301_000_000})
    assert snapshot(d) == before


@pytest.mark.parametrize("which", ["counterpart", "other_de_an", "garbage"])
def test_a_line_that_is_not_the_de_an_s_own_source_is_refused(users, which):
    d = in_implementation(users)
    if which == "counterpart":
        key = lines_of(d, "counterpart")[0].pk
    elif which == "other_de_an":
        key = lines_of(ready_de_an(users.centre, name="Đề án khác"))[0].pk
    else:
        key = "1; DROP TABLE"
    before = snapshot(d)
    with pytest.raises(WorkflowError, match="không phải dòng kinh phí KCQG của đề án này"):
        services.de_an_request_adjustment(actor=users.centre, de_an=d, reason="Tăng", new_lines={key: 1_000})
    assert snapshot(d) == before


def test_an_amount_above_the_revised_estimate_is_refused(users):
    d = in_implementation(users)
    machine, _linkage = lines_of(d)
    before = snapshot(d)
    with pytest.raises(WorkflowError, match=r"lớn hơn tổng kinh phí KCQG của dự toán điều chỉnh "
                                            r"\(450\.000\.000 đ\)"):
        services.de_an_request_adjustment(actor=users.centre, de_an=d, reason="Tăng", new_amount=460_000_000,
                                          new_lines={machine.pk: 300_000_000})
    assert snapshot(d) == before


def test_an_approved_revised_estimate_moves_the_lines_totals_and_commitment(users):
    d = in_implementation(users)
    machine, linkage = lines_of(d)
    adj = request_adjustment(d, users.centre, reason="Bổ sung máy", new_lines={machine.pk: 300_000_000,
                                                                               linkage.pk: 150_000_000})
    # Only the line that changes is kept, with what it was.
    assert adj.new_lines == {str(machine.pk): {"amount": 300_000_000, "was": 250_000_000,
                                               "description": "Hỗ trợ máy chẻ nan tự động"}}
    assert adj.new_amount == 450_000_000 and adj.kind == "major" and adj.more_money
    # Asked, not yet applied.
    assert BudgetLine.objects.get(pk=machine.pk).amount == 250_000_000
    d = services.de_an_approve_adjustment(actor=users.reviewer, de_an=d, decision_number="77/QĐ-BCT",
                                          decision_date=date(2026, 7, 1))
    d = DeAn.objects.get(pk=d.pk)
    assert BudgetLine.objects.get(pk=machine.pk).amount == 300_000_000
    assert (d.status, d.national_amount, d.total_amount, d.approved_national_amount) == (
        Status.IN_IMPLEMENTATION, 450_000_000, 850_000_000, 450_000_000)
    # The lines and the totals agree and keep within the caps, as a dossier must.
    assert rules.check_budget(d, list(d.budget_lines.select_related("support_cap", "establishment"))) == []
    line = BudgetLine.objects.get(pk=machine.pk)
    assert line.history.latest().history_user == users.reviewer
    assert Allocation.objects.get(province=d.current_province, plan__year=2026, source="national").committed == 450_000_000
    # The request and its figures on the đề án page and its timeline.
    request = Transition.objects.filter(de_an=d, action="request_adjustment").get()
    assert request.data["adjustment"]["new_lines"] == [{"amount": 300_000_000, "was": 250_000_000,
                                                         "description": "Hỗ trợ máy chẻ nan tự động"}]


def test_the_caps_are_checked_again_at_approval(users):
    """The cap was lowered between the request and the decision: the approval is refused, nothing moves."""
    d = in_implementation(users)
    machine, _linkage = lines_of(d)
    request_adjustment(d, users.centre, reason="Bổ sung máy", new_lines={machine.pk: 300_000_000})
    SupportCap.objects.filter(code="may-moc-tien-tien").update(max_amount=280_000_000)
    before = snapshot(d)
    with pytest.raises(WorkflowError, match=r"vượt mức tối đa 280\.000\.000 đ"):
        services.de_an_approve_adjustment(actor=users.reviewer, de_an=d, decision_number="77/QĐ-BCT",
                                          decision_date=date(2026, 7, 1))
    assert snapshot(d) == before
    assert Adjustment.objects.get(de_an=d).status == "pending"


def test_moving_money_between_lines_within_the_estimate(users):
    """A revised estimate with the same total: a minor change, the lines move, the support stays."""
    d = in_implementation(users)
    machine, linkage = lines_of(d)
    adj = services.de_an_request_adjustment(actor=users.centre, de_an=d, reason="Chuyển kinh phí",
                                            new_lines={machine.pk: 280_000_000, linkage.pk: 120_000_000})
    assert adj.kind == "minor" and adj.new_amount == 400_000_000 and not adj.more_money
    confirm_adjustment(d)
    services.de_an_approve_adjustment(actor=users.reviewer, de_an=d)
    assert [line.amount for line in lines_of(d)] == [280_000_000, 120_000_000]
    assert DeAn.objects.get(pk=d.pk).approved_national_amount == 400_000_000


# --- the page -----------------------------------------------------------------------------------

def test_the_panel_offers_the_own_source_lines_and_keeps_what_was_typed(users, client):
    d = in_implementation(users)
    machine, linkage = lines_of(d)
    counterpart = lines_of(d, "counterpart")[0]
    client.force_login(users.centre)
    page = client.get(reverse("projects:detail", args=[d.pk])).content.decode()
    assert "Dự toán điều chỉnh (kinh phí KCQG)" in page
    assert f'name="line-{machine.pk}"' in page and f'name="line-{linkage.pk}"' in page
    assert f'name="line-{counterpart.pk}"' not in page
    assert f'name="line-{machine.pk}" class="money" inputmode="numeric" autocomplete="off" value="250.000.000"' in page

    url = reverse("projects:transition", args=[d.pk])
    before = snapshot(d)
    response = client.post(url, {"action": "request_adjustment", "comment": "Tăng máy",
                                 f"line-{machine.pk}": "350.000.000", f"line-{linkage.pk}": "150.000.000"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "vượt mức tối đa 300.000.000 đ" in body
    assert 'value="350.000.000"' in body  # what was typed stays
    assert snapshot(d) == before

    response = client.post(url, {"action": "request_adjustment", "comment": "Tăng máy",
                                 f"line-{machine.pk}": "ba trăm triệu", f"line-{linkage.pk}": "150.000.000"})
    assert response.status_code == 400
    assert "Dự toán điều chỉnh: " in response.content.decode()
    assert snapshot(d) == before

    response = client.post(url, {"action": "request_adjustment", "comment": "Tăng máy",
                                 f"line-{machine.pk}": "300.000.000", f"line-{linkage.pk}": "150.000.000"})
    assert response.status_code == 302
    adj = Adjustment.objects.get(de_an=d)
    assert adj.new_amount == 450_000_000 and list(adj.new_lines) == [str(machine.pk)]
    client.force_login(users.reviewer)
    page = client.get(reverse("projects:detail", args=[d.pk])).content.decode()
    assert "dự toán điều chỉnh: «Hỗ trợ máy chẻ nan tự động» 250.000.000 đ → 300.000.000 đ" in page


# --- the money beside a decision ----------------------------------------------------------------

def test_the_approve_panel_shows_what_is_left_of_the_allocation(users, client):
    from .factories import allocate

    d = advance(ready_de_an(users.centre), "under_appraisal", users)
    client.force_login(users.reviewer)
    url = reverse("projects:detail", args=[d.pk])
    province = d.current_province.name
    page = client.get(url).content.decode()
    assert f"Chưa có phân bổ kinh phí KCQG năm 2026 cho {province}: phê duyệt sẽ bị từ chối" in page
    allocation = allocate(d, amount=1_000_000_000)
    Allocation.objects.filter(pk=allocation.pk).update(committed=250_000_000)
    page = client.get(url).content.decode()
    assert (f"Phân bổ kinh phí KCQG năm 2026 của {province}: 1.000.000.000 đ; đã cam kết 250.000.000 đ; "
            f"còn lại 750.000.000 đ.") in page
    # The centre, which has no decision to take, is not shown the province's allocation.
    client.force_login(users.centre)
    assert "Phân bổ kinh phí KCQG" not in client.get(url).content.decode()


def test_the_settle_panel_shows_approved_and_paid(users, client):
    from funding.services import disbursement_record

    from .factories import ACCEPTED_ON

    d = advance(ready_de_an(users.centre), "accepted", users)
    disbursement_record(actor=users.province, de_an=d, kind="payment", amount=120_000_000, date=ACCEPTED_ON,
                        document_number="UNC-1")
    client.force_login(users.reviewer)
    page = client.get(reverse("projects:detail", args=[d.pk])).content.decode()
    assert "Kinh phí được duyệt: 400.000.000 đ; đã giải ngân (tạm ứng và thanh toán): 120.000.000 đ." in page
