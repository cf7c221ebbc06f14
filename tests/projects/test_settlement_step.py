"""The settlement (quyết toán) is one fact, written by the đề án's «Quyết toán» step only: the settled
amount and date on the đề án, and in the same transaction the settlement row on the funding side
(same amount, date and document number) with its audit event."""
from datetime import date

import pytest
from django.urls import reverse

from funding.models import Disbursement
from funding.services import disbursement_void
from khuyencong.models import AuditEvent
from projects import services
from projects.models import DeAn, Transition
from projects.services import WorkflowError

from .factories import advance, ready_de_an

pytestmark = pytest.mark.django_db

NEEDS_DOCUMENT = "Cần nhập số văn bản quyết toán."


def _untouched(d, before):
    after = DeAn.objects.get(pk=d.pk)
    assert (after.status, after.revision, after.settled_amount, after.settled_on) == before
    assert not Transition.objects.filter(de_an=d, action="settle").exists()


def _state(d):
    d = DeAn.objects.get(pk=d.pk)
    return (d.status, d.revision, d.settled_amount, d.settled_on)


def test_settling_writes_the_settlement_row_and_its_audit_event(users):
    d = advance(ready_de_an(users.centre), "accepted", users)
    d = services.de_an_settle(actor=users.reviewer, de_an=d, settled_amount="390.000.000",
                              settled_on=date(2026, 11, 20), settlement_document="  QT-15/2026 ")
    assert (d.status, d.settled_amount, d.settled_on) == ("settled", 390_000_000, date(2026, 11, 20))
    (row,) = Disbursement.objects.filter(de_an=d)  # advance() pays nothing: the only row is the settlement
    assert (row.kind, row.source, row.amount, row.date, row.document_number, row.created_by, row.voided_at) == (
        "settlement", "national", 390_000_000, date(2026, 11, 20), "QT-15/2026", users.reviewer, None)
    event = AuditEvent.objects.get(action="funding.disbursement_recorded")
    assert (event.actor, event.object_type, event.object_id) == (users.reviewer, "funding.Disbursement", str(row.pk))
    assert event.data == {"de_an_id": d.pk, "de_an_code": d.code, "kind": "settlement", "source": "national",
                          "amount": 390_000_000, "date": "2026-11-20", "document_number": "QT-15/2026"}
    assert event.summary == f"Ghi nhận quyết toán 390.000.000 đ (chứng từ QT-15/2026 ngày 20/11/2026) của đề án {d.code}"
    assert Transition.objects.get(de_an=d, action="settle").data == {"settled_on": "2026-11-20",
                                                                     "settlement_document": "QT-15/2026"}


@pytest.mark.parametrize(("document", "message"), [
    ("", NEEDS_DOCUMENT),
    ("   ", NEEDS_DOCUMENT),
    (None, NEEDS_DOCUMENT),
    ("Q" * 51, "Số văn bản quyết toán dài quá 50 ký tự."),
])
def test_settle_is_refused_without_a_document_number(users, document, message):
    d = advance(ready_de_an(users.centre), "accepted", users)
    before = _state(d)
    with pytest.raises(WorkflowError) as exc:
        services.de_an_settle(actor=users.reviewer, de_an=d, settled_amount=390_000_000, settlement_document=document)
    assert str(exc.value) == message
    _untouched(d, before)
    assert not Disbursement.objects.filter(de_an=d).exists()
    assert not AuditEvent.objects.filter(action="funding.disbursement_recorded").exists()


def test_settle_is_refused_while_a_settlement_row_of_old_data_exists(users):
    d = advance(ready_de_an(users.centre), "accepted", users)
    old = Disbursement.objects.create(de_an=d, kind="settlement", source="national", amount=380_000_000,
                                      date=date(2026, 11, 6), document_number="QT-cu")
    before = _state(d)
    with pytest.raises(WorkflowError) as exc:
        services.de_an_settle(actor=users.reviewer, de_an=d, settled_amount=390_000_000, settlement_document="QT-2")
    assert str(exc.value) == (
        f"Đề án {d.code} đã có khoản quyết toán 380.000.000 đ (văn bản QT-cu ngày 06/11/2026) ở trang kinh phí; "
        "không ghi khoản quyết toán thứ hai. Nếu khoản đó nhập sai, hãy hủy nó (kèm lý do) rồi quyết toán lại.")
    _untouched(d, before)
    assert list(Disbursement.objects.filter(de_an=d)) == [old]
    # Voided (the đề án is still payable), the step records the settlement.
    disbursement_void(actor=users.admin, disbursement=old, reason="Nhập nhầm trước khi quyết toán")
    d = services.de_an_settle(actor=users.reviewer, de_an=d, settled_amount=390_000_000, settlement_document="QT-2")
    assert d.status == "settled"
    (counted,) = Disbursement.objects.counted().filter(de_an=d, kind="settlement")
    assert (counted.amount, counted.document_number) == (390_000_000, "QT-2")


def test_settling_below_what_was_paid_is_refused_until_the_payments_are_put_right(users):
    """Settled at 10 triệu after 300 triệu paid would freeze a 290 triệu overpayment (no void once
    settled) with no record of the money to recover."""
    from funding.services import disbursement_record

    d = advance(ready_de_an(users.centre), "accepted", users)
    paid = disbursement_record(actor=users.province, de_an=d, kind="advance", amount=300_000_000,
                               date=date(2026, 3, 2), document_number="12/UNC")
    before = _state(d)
    with pytest.raises(WorkflowError) as exc:
        services.de_an_settle(actor=users.reviewer, de_an=d, settled_amount="10.000.000",
                              settled_on=date(2026, 11, 20), settlement_document="QT-15/2026")
    assert str(exc.value) == (
        f"Kinh phí quyết toán 10.000.000 đ thấp hơn số đã tạm ứng, thanh toán 300.000.000 đ cho đề án {d.code}. "
        "Phần chênh lệch 290.000.000 đ phải được thu hồi trước: hãy hủy (kèm lý do) hoặc ghi lại các khoản chi ở "
        "trang kinh phí cho đúng số thực chi, rồi quyết toán.")
    _untouched(d, before)
    assert list(Disbursement.objects.filter(de_an=d)) == [paid]
    # Equal to what was paid, or above it, is a settlement like any other.
    d = services.de_an_settle(actor=users.reviewer, de_an=d, settled_amount="300.000.000",
                              settled_on=date(2026, 11, 20), settlement_document="QT-15/2026")
    assert (d.status, d.settled_amount) == ("settled", 300_000_000)


# --- the settle panel ---------------------------------------------------------------------------------

def _panel(page):
    start = page.index('id="action-settle"')
    return page[start:page.index("</details>", start)]


def test_the_settle_panel_asks_for_the_document_number(users, client_as):
    d = advance(ready_de_an(users.centre), "accepted", users)
    panel = _panel(client_as(users.reviewer).get(reverse("projects:detail", args=[d.pk])).content.decode())
    assert '<label for="sd-settle">Số văn bản quyết toán *</label>' in panel
    assert 'name="settlement_document" id="sd-settle" maxlength="50"' in panel


@pytest.mark.parametrize(("typed", "message"), [
    ("", NEEDS_DOCUMENT),
    ("Q" * 51, "Số văn bản quyết toán: "),  # past the input's maxlength (a forged form): the form's own limit
])
def test_settle_without_a_document_number_keeps_what_was_typed(users, client_as, typed, message):
    d = advance(ready_de_an(users.centre), "accepted", users)
    before = _state(d)
    response = client_as(users.reviewer).post(reverse("projects:transition", args=[d.pk]), {
        "action": "settle", "amount": "389.500.000", "settled_on": "20/11/2026", "settlement_document": typed,
        "comment": "Quyết toán theo hồ sơ"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="action-settle" open' in page and message in page
    panel = _panel(page)
    for kept in ('value="389.500.000"', 'value="20/11/2026"', f'value="{typed}"', "Quyết toán theo hồ sơ"):
        assert kept in panel, kept
    _untouched(d, before)
    assert not Disbursement.objects.filter(de_an=d).exists()


def test_settle_through_the_page_records_the_row(users, client_as):
    d = advance(ready_de_an(users.centre), "accepted", users)
    response = client_as(users.reviewer).post(reverse("projects:transition", args=[d.pk]), {
        "action": "settle", "amount": "390.000.000", "settled_on": "20/11/2026", "settlement_document": "QT-9/2026"})
    assert response.status_code == 302
    row = Disbursement.objects.get(de_an=d)
    assert (row.kind, row.amount, row.date, row.document_number) == ("settlement", 390_000_000, date(2026, 11, 20),
                                                                      "QT-9/2026")
    # The đề án page gives the settlement with its date and document number.
    page = client_as(users.reviewer).get(reverse("projects:detail", args=[d.pk])).content.decode()
    assert "390.000.000 đ (20/11/2026, văn bản số QT-9/2026)" in page
