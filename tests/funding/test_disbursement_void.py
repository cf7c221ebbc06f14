"""Cancelling (voiding) a wrongly entered disbursement: the row stays, struck through with who, when and
why; no total counts it; every refusal explained in Vietnamese; audited; the confirmation before a
permanent entry; and a void racing a payment or another void under the đề án's lock."""
import re
import threading
import time
from datetime import date

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from funding import selectors
from funding.models import Disbursement
from funding.services import DisbursementRefused, disbursement_record, disbursement_void, paid_amount
from khuyencong.models import AuditEvent, Province
from tests.conftest import require_service
from tests.funding.conftest import is_postgres
from tests.funding.factories import make_de_an
from tests.khuyencong.factories import admin_user, centre_user, province_user, reviewer

APPROVED = 100_000_000


def _de_an(**extra):
    extra.setdefault("status", "approved")
    return make_de_an(province=Province.objects.get(code="24", era="current"), year=2026,
                      approved_national_amount=APPROVED, name="Đề án máy sấy nông sản", **extra)


def _record(de_an, kind="advance", amount=30_000_000, doc="15/TU", actor=None):
    return disbursement_record(actor=actor or admin_user(), de_an=de_an, kind=kind, amount=amount,
                               date=date(2026, 3, 5), document_number=doc)


def money_url(de_an):
    return reverse("funding:de_an_money", kwargs={"de_an_id": de_an.pk})


def void_url(de_an):
    return reverse("funding:disbursement_void", kwargs={"de_an_id": de_an.pk})


# --- the service ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_voided_disbursement_stays_but_counts_nowhere():
    de_an = _de_an()
    actor = province_user("24")
    advance = _record(de_an, amount=30_000_000, doc="1/TU")
    wrong = _record(de_an, kind="payment", amount=50_000_000, doc="2/TT")
    assert paid_amount(de_an) == 80_000_000
    voided = disbursement_void(actor=actor, disbursement=wrong, reason="  Nhập nhầm số tiền,\n nhập lại ở chứng từ 3/TT ")
    assert voided.voided_at is not None and voided.voided_by == actor
    assert voided.void_reason == "Nhập nhầm số tiền, nhập lại ở chứng từ 3/TT"
    row = Disbursement.objects.get(pk=wrong.pk)  # kept, amount unchanged
    assert row.amount == 50_000_000 and row.voided and row.document_number == "2/TT"
    # Totals: paid_amount (the adjustment checks), the money page, the national summary.
    assert paid_amount(de_an) == 30_000_000
    money = selectors.de_an_money(user=actor, de_an_id=de_an.pk)
    assert [d.pk for d in money.disbursements] == [advance.pk, wrong.pk] and money.voided_count == 1
    assert (money.totals["advance"], money.totals["payment"], money.totals["paid"], money.totals["remaining"]) == (
        30_000_000, 0, 30_000_000, 70_000_000)
    summary = selectors.funding_summary(user=reviewer(), year=2026)
    assert summary.by_source("national", "disbursed") == 30_000_000
    # What the void gave back may be paid again: 30 + 70 = the approved 100 million.
    _record(de_an, kind="payment", amount=70_000_000, doc="3/TT")
    assert paid_amount(de_an) == APPROVED


@pytest.mark.django_db
def test_the_void_is_audited():
    de_an = _de_an()
    actor = province_user("24")
    wrong = _record(de_an, kind="payment", amount=1_500_000, doc="2/TT")
    disbursement_void(actor=actor, disbursement=wrong, reason="Trùng chứng từ 1/TT")
    event = AuditEvent.objects.get(action="funding.disbursement_voided")
    assert event.actor == actor and (event.object_type, event.object_id) == ("funding.Disbursement", str(wrong.pk))
    assert event.summary == f"Hủy thanh toán 1.500.000 đ (chứng từ 2/TT) của đề án {de_an.code}: Trùng chứng từ 1/TT"
    assert event.data == {"de_an_id": de_an.pk, "de_an_code": de_an.code, "kind": "payment", "source": "national",
                          "amount": 1_500_000, "date": "2026-03-05", "document_number": "2/TT",
                          "reason": "Trùng chứng từ 1/TT"}


@pytest.mark.django_db
@pytest.mark.parametrize(("reason", "message"), [
    ("", "Cần nhập lý do hủy khoản giải ngân."),
    (None, "Cần nhập lý do hủy khoản giải ngân."),
    ("  \n\t ", "Cần nhập lý do hủy khoản giải ngân."),
    ("x" * 501, "Lý do hủy dài quá 500 ký tự."),
])
def test_a_reason_is_required(reason, message):
    de_an = _de_an()
    row = _record(de_an)
    with pytest.raises(DisbursementRefused) as err:
        disbursement_void(actor=admin_user(), disbursement=row, reason=reason)
    assert str(err.value) == message
    assert Disbursement.objects.get(pk=row.pk).voided_at is None
    assert not AuditEvent.objects.filter(action="funding.disbursement_voided").exists()


@pytest.mark.django_db
def test_a_void_is_refused_when_already_voided():
    de_an = _de_an()
    row = _record(de_an)
    first = disbursement_void(actor=admin_user(), disbursement=row, reason="Nhập nhầm")
    with pytest.raises(DisbursementRefused) as err:
        disbursement_void(actor=admin_user(), disbursement=row, reason="Lần nữa")
    assert "Khoản giải ngân này đã được hủy lúc" in str(err.value) and "không hủy lại được" in str(err.value)
    again = Disbursement.objects.get(pk=row.pk)
    assert (again.voided_at, again.void_reason) == (first.voided_at, "Nhập nhầm")
    assert AuditEvent.objects.filter(action="funding.disbursement_voided").count() == 1


@pytest.mark.django_db
def test_a_void_is_refused_once_the_de_an_is_cancelled():
    from projects.models import DeAn

    de_an = _de_an()
    row = _record(de_an)
    DeAn.objects.filter(pk=de_an.pk).update(status="cancelled")
    with pytest.raises(DisbursementRefused) as err:
        disbursement_void(actor=admin_user(), disbursement=row, reason="Nhập nhầm")
    assert str(err.value) == (f"Đề án {de_an.code} đang ở trạng thái «Đã hủy»: chỉ hủy được khoản giải ngân của đề án "
                              "đã được phê duyệt, chưa hủy.")
    assert Disbursement.objects.get(pk=row.pk).voided_at is None
    assert not AuditEvent.objects.filter(action="funding.disbursement_voided").exists()


@pytest.mark.django_db
def test_after_the_settlement_a_payment_may_be_voided_but_not_the_settlement():
    """A payment made after the settlement and entered wrongly can be put right; the settlement row is
    the «Quyết toán» step's own and stays."""
    from tests.funding.factories import settle

    de_an = _de_an()
    row = _record(de_an)
    settle(de_an, amount=APPROVED, day=date(2026, 11, 20))
    voided = disbursement_void(actor=admin_user(), disbursement=row, reason="Nhập nhầm số tiền")
    assert voided.voided_at is not None
    settlement = Disbursement.objects.get(de_an=de_an, kind="settlement")
    with pytest.raises(DisbursementRefused) as err:
        disbursement_void(actor=admin_user(), disbursement=settlement, reason="Sai")
    assert str(err.value) == (f"Khoản quyết toán của đề án {de_an.code} là kết quả của bước «Quyết toán»; không hủy "
                              "được ở trang kinh phí.")
    assert Disbursement.objects.get(pk=settlement.pk).voided_at is None


@pytest.mark.django_db
def test_a_void_is_refused_without_the_access_rule():
    de_an = _de_an()
    row = _record(de_an)
    for actor in (centre_user("24"), reviewer(), province_user("19")):
        with pytest.raises(DisbursementRefused) as err:
            disbursement_void(actor=actor, disbursement=row, reason="Nhập nhầm")
        assert str(err.value) == "Chỉ Sở Công Thương của tỉnh hoặc quản trị hệ thống được ghi nhận giải ngân."
    assert Disbursement.objects.get(pk=row.pk).voided_at is None
    assert not AuditEvent.objects.filter(action="funding.disbursement_voided").exists()


@pytest.mark.django_db
def test_the_database_keeps_a_void_complete():
    row = _record(_de_an())
    for fields in ({"voided_at": timezone.now()}, {"void_reason": "Không có thời điểm"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Disbursement.objects.filter(pk=row.pk).update(**fields)
    Disbursement.objects.filter(pk=row.pk).update(voided_at=timezone.now(), void_reason="Đủ cả hai")


# --- the money page ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_recording_asks_first_and_says_the_entry_cannot_be_edited(client):
    de_an = _de_an()
    client.force_login(province_user("24"))
    body = client.get(money_url(de_an)).content.decode()
    form = re.search(rf'<form method="post" action="{re.escape(money_url(de_an))}"[^>]*>', body).group(0)
    assert ('data-confirm="Ghi nhận khoản giải ngân này? Sau khi ghi nhận, khoản này không sửa được; nếu nhập sai '
            'chỉ có thể hủy kèm lý do."') in form


@pytest.mark.django_db
def test_the_department_voids_a_row_from_the_money_page(client):
    de_an = _de_an()
    user = province_user("24")
    keep = _record(de_an, amount=30_000_000, doc="1/TU")
    wrong = _record(de_an, kind="payment", amount=50_000_000, doc="2/TT")
    client.force_login(user)
    body = client.get(money_url(de_an)).content.decode()
    # A void form beside each row, asking first.
    for row in (keep, wrong):
        assert f'name="disbursement" value="{row.pk}"' in body and f'id="void-{row.pk}-reason"' in body
    assert ('data-confirm="Hủy khoản thanh toán 50.000.000 đ (chứng từ 2/TT)? Khoản đã hủy không còn được tính vào '
            'tổng giải ngân và không khôi phục được."') in body
    assert body.count(f'action="{void_url(de_an)}"') == 2
    response = client.post(void_url(de_an), {"disbursement": wrong.pk, "reason": "Nhập nhầm <số tiền>"})
    assert response.status_code == 302 and response["Location"] == money_url(de_an)
    body = client.get(money_url(de_an)).content.decode()
    assert ("Đã hủy thanh toán 50.000.000 đ (chứng từ 2/TT); khoản này không còn được tính vào tổng giải ngân."
            in body)
    voided = Disbursement.objects.get(pk=wrong.pk)
    row = re.search(rf'<tr class="voided" id="giai-ngan-{wrong.pk}">.*?</tr>', body, re.S).group(0)
    assert "<s>50.000.000 đ</s>" in row and "<s>2/TT</s>" in row
    assert f"Đã hủy lúc {timezone.localtime(voided.voided_at):%H:%M %d/%m/%Y} bởi {user}. Lý do: Nhập nhầm &lt;số tiền&gt;" in row
    assert 'name="disbursement"' not in row  # nothing left to void
    assert body.count(f'action="{void_url(de_an)}"') == 1
    # The totals no longer count it.
    assert "70.000.000 đ" in body and "Không tính các khoản đã hủy." in body  # remaining: 100 − 30


@pytest.mark.django_db
def test_an_administrator_may_void_too(client):
    de_an = _de_an()
    row = _record(de_an)
    client.force_login(admin_user())
    assert client.post(void_url(de_an), {"disbursement": row.pk, "reason": "Sai"}).status_code == 302
    assert Disbursement.objects.get(pk=row.pk).voided


@pytest.mark.django_db
@pytest.mark.parametrize(("reason", "message"), [
    ("", "Cần nhập lý do hủy khoản giải ngân."),
    ("   ", "Cần nhập lý do hủy khoản giải ngân."),
    ("x" * 501, "Lý do hủy dài quá 500 ký tự."),
    ("Nhập\x07nhầm", "ký tự điều khiển"),
])
def test_a_wrong_reason_is_named_beside_its_field(client, reason, message):
    de_an = _de_an()
    row = _record(de_an)
    client.force_login(province_user("24"))
    response = client.post(void_url(de_an), {"disbursement": row.pk, "reason": reason})
    assert response.status_code == 400
    body = response.content.decode()
    error = re.search(rf'<div class="field-error" id="void-{row.pk}-reason_error">(.*?)</div>\s*</div>', body, re.S)
    assert error and message in error.group(1)
    assert re.search(r'<details class="void" open>', body)
    assert Disbursement.objects.get(pk=row.pk).voided_at is None


@pytest.mark.django_db
def test_voiding_twice_is_refused_on_the_page(client):
    de_an = _de_an()
    row = _record(de_an)
    client.force_login(province_user("24"))
    assert client.post(void_url(de_an), {"disbursement": row.pk, "reason": "Sai"}).status_code == 302
    response = client.post(void_url(de_an), {"disbursement": row.pk, "reason": "Sai lần nữa"})
    assert response.status_code == 400
    assert "Khoản giải ngân này đã được hủy lúc" in response.content.decode()
    assert AuditEvent.objects.filter(action="funding.disbursement_voided").count() == 1


@pytest.mark.django_db
def test_a_settled_de_an_offers_no_void_of_its_settlement_and_refuses_one(client):
    from tests.funding.factories import settle

    de_an = _de_an()
    row = _record(de_an)
    settle(de_an, amount=APPROVED, day=date(2026, 11, 20))
    settlement = Disbursement.objects.get(de_an=de_an, kind="settlement")
    client.force_login(province_user("24"))
    page = client.get(money_url(de_an)).content.decode()
    assert f'value="{row.pk}"' in page and f'value="{settlement.pk}"' not in page
    response = client.post(void_url(de_an), {"disbursement": settlement.pk, "reason": "Sai"})
    assert response.status_code == 400
    assert "là kết quả của bước «Quyết toán»" in response.content.decode()
    assert Disbursement.objects.get(pk=settlement.pk).voided_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("sent", ["", "abc", "0", "-3", "other"])
def test_an_unknown_disbursement_is_refused(client, sent):
    de_an = _de_an()
    other = _de_an(code="KHAC-1")
    elsewhere = _record(other)
    client.force_login(province_user("24"))
    value = elsewhere.pk if sent == "other" else sent
    response = client.post(void_url(de_an), {"disbursement": value, "reason": "Sai"})
    assert response.status_code == 400
    body = response.content.decode()
    if sent == "other":  # a row of another đề án, even one the user may void there
        assert f"Không tìm thấy khoản giải ngân này trong đề án {de_an.code}." in body
    else:
        assert "Không rõ khoản giải ngân cần hủy; hãy mở lại trang." in body
    assert not Disbursement.objects.filter(voided_at__isnull=False).exists()


@pytest.mark.django_db
def test_who_may_void(client):
    de_an = _de_an()
    row = _record(de_an)
    # The centre and the ministry see the money but get no void form, and a POST is refused.
    for user in (centre_user("24"), reviewer()):
        client.force_login(user)
        assert 'name="disbursement"' not in client.get(money_url(de_an)).content.decode()
        assert client.post(void_url(de_an), {"disbursement": row.pk, "reason": "Sai"}).status_code == 403
    # Another province's department does not see the đề án at all.
    client.force_login(province_user("19"))
    assert client.post(void_url(de_an), {"disbursement": row.pk, "reason": "Sai"}).status_code == 404
    # A GET is not a void.
    client.force_login(province_user("24"))
    assert client.get(void_url(de_an), {"disbursement": row.pk, "reason": "Sai"}).status_code == 405
    # Signed out: to the login page.
    client.logout()
    response = client.post(void_url(de_an), {"disbursement": row.pk, "reason": "Sai"})
    assert response.status_code == 302 and "next=" in response["Location"]
    assert Disbursement.objects.get(pk=row.pk).voided_at is None
    assert not AuditEvent.objects.filter(action="funding.disbursement_voided").exists()


@pytest.mark.django_db
def test_void_forms_are_labelled_and_their_errors_linked(client):
    from tests.khuyencong.test_ui_review import page

    de_an = _de_an()
    rows = [_record(de_an, amount=1_000_000, doc=f"{i}/TU") for i in range(3)]
    disbursement_void(actor=admin_user(), disbursement=rows[0], reason="Nhập nhầm")
    client.force_login(province_user("24"))
    for response in (client.get(money_url(de_an)),
                     client.post(void_url(de_an), {"disbursement": rows[1].pk, "reason": ""})):
        p = page(response)
        assert p.unlabelled() == [] and p.dangling_describedby() == []
        assert [i for i, n in p.ids.items() if n > 1] == []  # one reason field per row, each its own id
    sent = next(c for c in p.controls if c.get("id") == f"void-{rows[1].pk}-reason")
    assert sent.get("aria-invalid") == "true" and f"void-{rows[1].pk}-reason_error" in sent["aria-describedby"].split()


@pytest.mark.django_db
def test_the_page_query_count_does_not_grow_with_voided_rows_and_void_forms(client):
    de_an = _de_an()
    user = province_user("24")
    admin = admin_user()
    client.force_login(user)
    counts = []
    for n in (1, 6):
        while Disbursement.objects.count() < n:
            row = _record(de_an, kind="payment", amount=1_000, doc=f"{Disbursement.objects.count()}/TT", actor=admin)
            if Disbursement.objects.count() % 2 == 0:
                disbursement_void(actor=admin, disbursement=row, reason="Nhập nhầm")
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(money_url(de_an)).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


# --- racing -------------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_void_racing_a_payment_and_another_void_is_checked_in_turn():
    """The void holds the đề án's lock until it commits: a payment that fits only once the voided
    row stops counting waits and is then recorded; a second void of the same row waits and is refused
    (without the lock the payment would be refused and the row voided twice)."""
    require_service("PostgreSQL", is_postgres(), "set DATABASE_URL=postgres://…")
    de_an = _de_an()
    admin = admin_user()
    _record(de_an, amount=40_000_000, doc="1/TU", actor=admin)
    wrong = _record(de_an, kind="payment", amount=60_000_000, doc="2/TT", actor=admin)  # paid = approved
    voiding = threading.Event()
    outcomes = {}

    def first_void():
        try:
            with transaction.atomic():
                disbursement_void(actor=admin, disbursement=wrong, reason="Nhập nhầm")
                voiding.set()
                time.sleep(0.5)  # hold the locks a while before committing
            outcomes["void"] = "ok"
        except Exception as exc:  # noqa: BLE001
            outcomes["void"] = repr(exc)
        finally:
            voiding.set()
            connections.close_all()

    def payment():
        try:
            voiding.wait(10)
            _record(de_an, kind="payment", amount=60_000_000, doc="3/TT", actor=admin)
            outcomes["payment"] = "ok"
        except Exception as exc:  # noqa: BLE001
            outcomes["payment"] = str(exc)
        finally:
            connections.close_all()

    def second_void():
        try:
            voiding.wait(10)
            disbursement_void(actor=admin, disbursement=wrong, reason="Lần nữa")
            outcomes["again"] = "ok"
        except Exception as exc:  # noqa: BLE001
            outcomes["again"] = str(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=f) for f in (first_void, payment, second_void)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes["void"] == "ok" and outcomes["payment"] == "ok", outcomes
    assert "đã được hủy lúc" in outcomes["again"], outcomes
    assert paid_amount(de_an) == APPROVED
    assert Disbursement.objects.get(pk=wrong.pk).void_reason == "Nhập nhầm"
    assert AuditEvent.objects.filter(action="funding.disbursement_voided").count() == 1
