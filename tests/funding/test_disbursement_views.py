"""The đề án money page: commitments, disbursements with totals, and the entry form for the roles of
``funding.record_disbursement`` (the province's Sở Công Thương, administrators)."""
import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from funding.models import Disbursement
from funding.services import DisbursementRefused, disbursement_record, disbursement_void
from khuyencong.models import Province
from tests.funding.factories import make_de_an, settle
from tests.khuyencong.factories import admin_user, centre_user, province_user, reviewer

pytestmark = pytest.mark.django_db

APPROVED = 100_000_000


@pytest.fixture
def de_an():
    return make_de_an(province=Province.objects.get(code="24", era="current"), year=2026, status="approved",
                      approved_national_amount=APPROVED, name="Đề án máy sấy nông sản")


def url(de_an):
    return reverse("funding:de_an_money", kwargs={"de_an_id": de_an.pk})


def form_key(response):
    match = re.search(r'name="request_key" value="([0-9a-f]{32})"', response.content.decode())
    assert match, "no entry form on the page"
    return match.group(1)


def data(key, **over):
    out = {"kind": "advance", "amount": "1.500.000", "date": "05/03/2026", "document_number": "15/TU",
           "note": "Tạm ứng đợt 1", "request_key": key}
    out.update(over)
    return {k: v for k, v in out.items() if v is not None}


def test_province_department_records_an_advance_in_vietnamese_formats(client, de_an):
    client.force_login(province_user("24"))
    page = client.get(url(de_an))
    assert page.status_code == 200 and "Ghi nhận giải ngân" in page.content.decode()
    response = client.post(url(de_an), data(form_key(page)))
    assert response.status_code == 302 and response["Location"] == url(de_an)
    d = Disbursement.objects.get()
    assert (d.kind, d.amount, d.date, d.document_number, d.source) == ("advance", 1_500_000, date(2026, 3, 5), "15/TU",
                                                                        "national")
    text = client.get(url(de_an)).content.decode()
    assert "Đã ghi nhận tạm ứng 1.500.000 đ" in text
    assert "05/03/2026" in text and "15/TU" in text
    assert "98.500.000 đ" in text  # still payable: 100.000.000 − 1.500.000


def test_totals_on_the_money_view_add_up(client, de_an):
    admin = admin_user()
    for kind, amount, doc in (("advance", 30_000_000, "1/TU"), ("payment", 20_000_000, "2/TT")):
        disbursement_record(actor=admin, de_an=de_an, kind=kind, amount=amount, date=date(2026, 6, 1),
                            document_number=doc)
    settle(de_an, amount=52_000_000, day=date(2026, 6, 1), document="3/QT")  # the «Quyết toán» step writes its row
    client.force_login(admin)
    text = client.get(url(de_an)).content.decode()
    for figure in ("30.000.000 đ", "20.000.000 đ", "50.000.000 đ", "52.000.000 đ"):
        assert figure in text, figure


def test_sending_the_same_form_twice_records_once(client, de_an):
    client.force_login(province_user("24"))
    key = form_key(client.get(url(de_an)))
    first = client.post(url(de_an), data(key))
    second = client.post(url(de_an), data(key))
    assert first.status_code == second.status_code == 302
    assert Disbursement.objects.count() == 1
    assert "đã được ghi nhận trước đó" in client.get(url(de_an)).content.decode()
    # A new form (new key) records a second payment.
    client.post(url(de_an), data(form_key(client.get(url(de_an))), kind="payment", document_number="16/TT"))
    assert Disbursement.objects.count() == 2


def test_a_document_number_is_recorded_once_per_de_an(client, de_an):
    """«UNC-01/2026» entered again, also as «unc - 01/2026 », is refused with the first entry named."""
    client.force_login(province_user("24"))
    client.post(url(de_an), data(form_key(client.get(url(de_an))), document_number="UNC-01/2026"))
    response = client.post(url(de_an), data(form_key(client.get(url(de_an))), kind="payment", amount="2.000.000",
                                            document_number=" unc - 01/2026 "))
    assert response.status_code == 400
    assert ("Chứng từ số UNC-01/2026 đã được ghi cho đề án này: tạm ứng 1.500.000 đ ngày 05/03/2026."
            in response.content.decode())
    assert Disbursement.objects.count() == 1
    # Once the first is voided (entered by mistake), the number may be used again.
    disbursement_void(actor=admin_user(), disbursement=Disbursement.objects.get(), reason="Nhập nhầm loại")
    client.post(url(de_an), data(form_key(client.get(url(de_an))), kind="payment", document_number="UNC-01/2026"))
    assert Disbursement.objects.counted().get().kind == "payment"


def test_the_same_key_from_the_service_returns_the_first_row(de_an):
    admin = admin_user()
    args = {"actor": admin, "de_an": de_an, "kind": "advance", "amount": 5, "date": date(2026, 1, 2),
            "document_number": "1", "request_key": "a" * 32}
    assert disbursement_record(**args).pk == disbursement_record(**args).pk
    other = make_de_an(province=de_an.current_province, status="approved", approved_national_amount=10, name="Khác")
    with pytest.raises(DisbursementRefused):
        disbursement_record(**{**args, "de_an": other})


@pytest.mark.parametrize(("over", "message"), [
    ({"kind": "hoan-ung"}, "Loại giải ngân không hợp lệ"),
    ({"amount": ""}, "Chưa nhập số tiền"),
    ({"amount": "-5"}, "số âm"),
    ({"amount": "0"}, "phải lớn hơn 0"),
    ({"amount": "1.000,5"}, "phần lẻ"),
    ({"amount": "mười triệu"}, "Số tiền"),
    ({"date": "05-03-2026"}, "dd/mm/yyyy"),
    ({"date": "31/02/2026"}, "dd/mm/yyyy"),
    ({"date": ""}, "Cần nhập ngày chứng từ"),
    ({"document_number": ""}, "Cần nhập số chứng từ"),
    ({"amount": "100.000.001"}, "vượt kinh phí được duyệt 100.000.000 đ"),
    ({"kind": "settlement"}, "Quyết toán không ghi nhận ở trang giải ngân"),
    ({"request_key": None}, "Biểu mẫu đã cũ"),
])
def test_each_rejection_is_explained_and_writes_nothing(client, de_an, over, message):
    client.force_login(province_user("24"))
    key = form_key(client.get(url(de_an)))
    response = client.post(url(de_an), data(key, **over))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Disbursement.objects.exists()


def test_the_entry_form_offers_no_settlement(client, de_an):
    client.force_login(province_user("24"))
    text = client.get(url(de_an)).content.decode()
    assert 'value="advance"' in text and 'value="payment"' in text and 'value="settlement"' not in text
    assert "Quyết toán được ghi ở bước «Quyết toán» của đề án, không ở đây." in text


def test_a_de_an_not_yet_approved_gets_no_disbursement(client):
    draft = make_de_an(province=Province.objects.get(code="24", era="current"), status="draft", name="Bản nháp")
    client.force_login(province_user("24"))
    # No entry form on the page, but the reason; a forged POST is refused all the same.
    page = client.get(url(draft)).content.decode()
    assert 'name="request_key"' not in page
    assert "Đề án đang ở trạng thái «Đang soạn»: không ghi nhận thêm giải ngân." in page
    response = client.post(url(draft), data("0" * 32))
    assert response.status_code == 400 and "chỉ ghi nhận giải ngân cho đề án đã được phê duyệt" in response.content.decode()
    assert not Disbursement.objects.exists()


def test_a_settled_de_an_is_paid_up_to_its_settled_amount_after_the_settlement(client, de_an):
    """The settlement fixes what the state owes; the rest of it is paid afterwards. Beyond it is refused,
    and once all of it is paid the page says so instead of offering the form."""
    disbursement_record(actor=admin_user(), de_an=de_an, kind="advance", amount=60_000_000, date=date(2026, 6, 1),
                        document_number="1/TU")
    settle(de_an, amount=90_000_000, day=date(2026, 11, 20))
    client.force_login(province_user("24"))
    page = client.get(url(de_an)).content.decode()
    assert 'name="request_key"' in page and "30.000.000 đ" in page  # còn được giải ngân: 90 − 60 triệu
    over = client.post(url(de_an), data(form_key(client.get(url(de_an))), kind="payment", amount="30.000.001",
                                        document_number="2/TT"))
    assert over.status_code == 400
    assert "vượt kinh phí quyết toán 90.000.000 đ" in over.content.decode()
    amount = re.search(r'<input[^>]*name="amount"[^>]*>', over.content.decode())[0]
    assert 'aria-invalid="true"' in amount and "id_amount_error" in amount  # the field it is about
    assert client.post(url(de_an), data(form_key(client.get(url(de_an))), kind="payment", amount="30.000.000",
                                        document_number="2/TT")).status_code == 302
    page = client.get(url(de_an)).content.decode()
    assert 'name="request_key"' not in page
    assert "Đề án đã quyết toán và đã giải ngân đủ kinh phí quyết toán 90.000.000 đ" in page
    response = client.post(url(de_an), data("1" * 32, document_number="3/TT"))
    assert response.status_code == 400
    assert sorted(Disbursement.objects.filter(de_an=de_an).values_list("kind", flat=True)) == [
        "advance", "payment", "settlement"]


def test_who_may_see_and_who_may_record(client, de_an):
    # The centre of the province and the ministry see the money but get no form, and a POST is refused.
    for user in (centre_user("24"), reviewer()):
        client.force_login(user)
        page = client.get(url(de_an))
        assert page.status_code == 200 and 'name="request_key"' not in page.content.decode()
        assert "Chỉ Sở Công Thương của tỉnh hoặc quản trị hệ thống được ghi nhận giải ngân" in page.content.decode()
        assert client.post(url(de_an), data("b" * 32)).status_code == 403
    # Another province's department does not see the đề án at all.
    client.force_login(province_user("19"))
    assert client.get(url(de_an)).status_code == 404
    assert client.post(url(de_an), data("c" * 32)).status_code == 404
    # Signed out: to the login page.
    client.logout()
    response = client.get(url(de_an))
    assert response.status_code == 302 and "next=" in response["Location"]
    assert not Disbursement.objects.exists()
    # An administrator may record.
    client.force_login(admin_user())
    assert client.post(url(de_an), data(form_key(client.get(url(de_an))))).status_code == 302
    assert Disbursement.objects.count() == 1


def test_the_page_query_count_does_not_grow_with_disbursements(client, de_an):
    admin = admin_user()
    client.force_login(admin)
    counts = []
    for n in (1, 6):
        while Disbursement.objects.count() < n:
            disbursement_record(actor=admin, de_an=de_an, kind="payment", amount=1_000, date=date(2026, 2, 1),
                                document_number=f"{Disbursement.objects.count()}/TT")
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url(de_an)).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_the_province_commitment_list_links_to_the_money_page(client, de_an):
    from funding.services import commitment_reserve
    from tests.funding.factories import AllocationFactory

    AllocationFactory(year=2026, level="kcqg", province=de_an.current_province, amount=APPROVED)
    commitment_reserve(de_an=de_an, amount=APPROVED)
    client.force_login(province_user("24"))
    text = client.get(reverse("funding:province", kwargs={"code": "24", "year": 2026})).content.decode()
    assert url(de_an) in text
