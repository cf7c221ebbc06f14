"""An approved adjustment of a đề án's support money keeps the money model consistent: the approved
amount, the commitment held against the allocation and the allocation's committed total move together,
in both directions and for both levels; never below what has already been paid out."""
from datetime import date, datetime

import pytest

from funding.models import Allocation, Commitment
from funding.services import disbursement_record
from projects import services
from projects.models import Adjustment, BudgetLine, DeAn, Status
from projects.services import WorkflowError

from .factories import (
    VN,
    advance,
    confirm_adjustment,
    local_in_implementation,
    ready_de_an,
    request_adjustment,
)

pytestmark = pytest.mark.django_db


def held(de_an):
    return sum(Commitment.objects.filter(de_an=de_an).values_list("amount", flat=True))


def committed(allocation):
    return Allocation.objects.get(pk=allocation.pk).committed


def pay(users, de_an, amount):
    return disbursement_record(actor=users.province, de_an=de_an, kind="payment", amount=amount,
                               date=date(2026, 6, 1), document_number=f"UNC-{amount}")


def state(de_an):
    d = DeAn.objects.get(pk=de_an.pk)
    return d.status, d.approved_national_amount, d.approved_local_amount, held(d)


def in_implementation_kcqg(users):
    d = advance(ready_de_an(users.centre), "in_implementation", users)
    allocation = Allocation.objects.get(province=d.current_province, plan__year=d.plan_year, source="national")
    assert d.approved_national_amount == 400_000_000 and held(d) == committed(allocation) == 400_000_000
    return d, allocation


def test_a_reduction_gives_the_difference_back_to_the_allocation(users):
    d, allocation = in_implementation_kcqg(users)
    pay(users, d, 300_000_000)
    adj = services.de_an_request_adjustment(actor=users.centre, de_an=d, reason="Giảm quy mô máy móc",
                                            new_amount=350_000_000)
    confirm_adjustment(d)
    assert adj.kind == "minor"
    d = services.de_an_approve_adjustment(actor=users.reviewer, de_an=d)
    assert state(d) == (Status.IN_IMPLEMENTATION, 350_000_000, None, 350_000_000)
    assert committed(allocation) == 350_000_000


def national_lines(de_an):
    """The đề án's KCQG budget lines in order: (machine line capped at 300.000.000 đ, linkage line)."""
    return list(BudgetLine.objects.filter(de_an=de_an, source="national").order_by("order", "id"))


def test_an_increase_is_committed_and_refused_over_the_allocation(users):
    d, allocation = in_implementation_kcqg(users)
    machine, linkage = national_lines(d)
    request_adjustment(d, users.centre, reason="Bổ sung thiết bị", new_lines={machine.pk: 300_000_000})
    d = services.de_an_approve_adjustment(actor=users.reviewer, de_an=d, decision_number="77/QĐ-BCT",
                                          decision_date=date(2026, 7, 1))
    assert state(d) == (Status.IN_IMPLEMENTATION, 450_000_000, None, 450_000_000)
    assert committed(allocation) == 450_000_000
    Allocation.objects.filter(pk=allocation.pk).update(amount=460_000_000)
    request_adjustment(d, users.centre, reason="Bổ sung tiếp", new_lines={linkage.pk: 200_000_000},
                       at=datetime(2026, 7, 1, 15, 0, tzinfo=VN))
    with pytest.raises(WorkflowError, match="Vượt kinh phí được phân bổ"):
        services.de_an_approve_adjustment(actor=users.reviewer, de_an=d, decision_number="78/QĐ-BCT",
                                          decision_date=date(2026, 7, 2))
    assert state(d) == (Status.ADJUSTMENT_REQUESTED, 450_000_000, None, 450_000_000)
    assert committed(allocation) == 450_000_000


def test_not_below_what_has_been_paid_when_asked(users):
    d, allocation = in_implementation_kcqg(users)
    pay(users, d, 300_000_000)
    with pytest.raises(WorkflowError, match=r"thấp hơn số đã giải ngân 300\.000\.000 đ"):
        services.de_an_request_adjustment(actor=users.centre, de_an=d, reason="Giảm mạnh", new_amount=100_000_000)
    assert not Adjustment.objects.filter(de_an=d).exists()
    assert state(d) == (Status.IN_IMPLEMENTATION, 400_000_000, None, 400_000_000)


def test_not_below_what_has_been_paid_when_approved(users):
    """Paid after the request, before the decision: the decision is refused, nothing changes."""
    d, allocation = in_implementation_kcqg(users)
    services.de_an_request_adjustment(actor=users.centre, de_an=d, reason="Giảm quy mô", new_amount=200_000_000)
    confirm_adjustment(d)
    pay(users, d, 250_000_000)
    with pytest.raises(WorkflowError, match=r"thấp hơn số đã giải ngân 250\.000\.000 đ"):
        services.de_an_approve_adjustment(actor=users.reviewer, de_an=d)
    assert state(d) == (Status.ADJUSTMENT_REQUESTED, 400_000_000, None, 400_000_000)
    assert committed(allocation) == 400_000_000 and Adjustment.objects.get(de_an=d).status == "pending"


def test_a_local_de_an_adjusts_its_local_money(users):
    d, allocation = local_in_implementation(users)
    assert state(d) == (Status.IN_IMPLEMENTATION, None, 400_000_000, 400_000_000)
    linkage = BudgetLine.objects.get(de_an=d, source="local", description="Hỗ trợ liên kết chuỗi giá trị")
    adj = request_adjustment(d, users.centre, reason="Tăng kinh phí", new_lines={linkage.pk: 170_000_000})
    assert adj.kind == "major" and adj.more_money and adj.new_amount == 420_000_000
    d = services.de_an_approve_adjustment(actor=users.province, de_an=d, decision_number="99/QĐ-UBND",
                                          decision_date=date(2026, 8, 1))
    assert state(d) == (Status.IN_IMPLEMENTATION, None, 420_000_000, 420_000_000)
    assert committed(allocation) == 420_000_000
    services.de_an_request_adjustment(actor=users.centre, de_an=d, reason="Giảm", new_amount=380_000_000)
    d = services.de_an_approve_adjustment(actor=users.province, de_an=d)
    assert state(d) == (Status.IN_IMPLEMENTATION, None, 380_000_000, 380_000_000)
    assert committed(allocation) == 380_000_000


def test_the_page_asks_for_the_level_s_own_money_and_shows_it(users, client):
    from django.urls import reverse

    d, _allocation = local_in_implementation(users)
    client.force_login(users.centre)
    url = reverse("projects:detail", args=[d.pk])
    page = client.get(url).content.decode()
    assert "Kinh phí KCĐP mới đề nghị (đồng)" in page and "Kinh phí KCQG mới đề nghị" not in page
    response = client.post(reverse("projects:transition", args=[d.pk]), {
        "action": "request_adjustment", "comment": "Giảm kinh phí hỗ trợ thiết bị", "amount": "380.000.000"})
    assert response.status_code == 302
    assert Adjustment.objects.get(de_an=d).new_amount == 380_000_000
    assert "kinh phí hỗ trợ mới 380.000.000 đ" in client.get(url).content.decode()
