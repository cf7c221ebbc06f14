"""The admin's «Xuất» button on allocations, commitments and disbursements (django-import-export,
funding.resources): the filtered list as .xlsx or .csv with Vietnamese headers, integer đồng and every
text cell neutralised by the portal's own function; for whoever may view the list, and never an import."""
import csv
import io
from datetime import date

import openpyxl
import pytest
from django.urls import reverse

from funding.models import Allocation, Commitment, Disbursement
from khuyencong.models import Province
from tests.funding.factories import AllocationFactory, make_de_an
from tests.khuyencong.factories import admin_user, province_user, reviewer

pytestmark = pytest.mark.django_db

ALLOCATION_HEADERS = ["Năm", "Cấp", "Số quyết định", "Mã tỉnh", "Tỉnh, thành phố", "Nguồn kinh phí",
                      "Kinh phí phân bổ (đồng)", "Đã cam kết (đồng)", "Lô nhập"]


def _province(code):
    return Province.objects.current().get(code=code)


@pytest.fixture
def money():
    bac_ninh, ha_noi = _province("24"), _province("01")
    national = AllocationFactory(year=2026, level="kcqg", province=bac_ninh, amount=2_000_000_000)
    AllocationFactory(year=2026, level="kcdp", province=bac_ninh, amount=500_000_007)
    AllocationFactory(year=2025, level="kcqg", province=ha_noi, amount=900_000_000)
    de_an = make_de_an(province=bac_ninh, name='=HYPERLINK("http://evil","Bấm vào")', code="KCQG-2026-24-0001",
                       national_amount=300_000_000, total_amount=300_000_000)
    Commitment.objects.create(de_an=de_an, allocation=national, amount=300_000_000)
    Allocation.objects.filter(pk=national.pk).update(committed=300_000_000)
    Disbursement.objects.create(de_an=de_an, kind="advance", source="national", amount=120_000_000,
                                date=date(2026, 3, 5), document_number="+UNC-01", note="@tạm ứng đợt 1")
    return de_an


def _export(client, model, fmt="0", query=""):
    url = reverse(f"admin:funding_{model}_export") + query
    form = client.get(url)
    assert form.status_code == 200
    page = form.content.decode()
    data = {"format": fmt, "resource": "0"}
    data.update({name: "on" for name in form.context["form"].fields if name not in ("format", "resource", "export_items")})
    return page, client.post(url, data)


def _sheet(response):
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats"), response.content.decode()[-3000:]
    ws = openpyxl.load_workbook(io.BytesIO(response.content)).active
    return [[cell.value for cell in row] for row in ws.iter_rows()]


def test_allocations_export_as_xlsx_with_vietnamese_headers_and_integer_dong(client, money):
    client.force_login(admin_user())
    page, response = _export(client, "allocation")
    # The columns to tick are named as in the file; .xlsx is chosen to start with.
    assert "Kinh phí phân bổ (đồng)" in page and "Allocated" not in page and "Province Code" not in page
    assert '<option value="0" selected>xlsx</option>' in page
    rows = _sheet(response)
    assert rows[0] == ALLOCATION_HEADERS
    body = sorted(rows[1:], key=lambda r: (r[0], r[3], r[5]))
    assert [(r[0], r[1], r[3], r[4], r[5], r[6], r[7]) for r in body] == [
        (2025, "KCQG", "01", "Thành phố Hà Nội", "KCQG", 900_000_000, 0),
        (2026, "KCQG", "24", "Tỉnh Bắc Ninh", "KCQG", 2_000_000_000, 300_000_000),
        (2026, "KCĐP", "24", "Tỉnh Bắc Ninh", "KCĐP", 500_000_007, 0),
    ]
    assert all(type(r[6]) is int for r in body)


def test_the_export_follows_the_lists_filter(client, money):
    client.force_login(admin_user())
    _page, response = _export(client, "allocation", query="?plan__year=2026")
    rows = _sheet(response)
    assert {r[0] for r in rows[1:]} == {2026} and len(rows) == 3


def test_text_cells_are_neutralised_in_xlsx_and_csv(client, money):
    client.force_login(admin_user())
    _page, response = _export(client, "commitment")
    rows = _sheet(response)
    assert rows[0][:3] == ["Mã đề án", "Tên đề án", "Tỉnh, thành phố (hiện nay)"]
    assert rows[1][1] == '\'=HYPERLINK("http://evil","Bấm vào")' and rows[1][5] == 300_000_000
    ws = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert not [c for row in ws.iter_rows() for c in row if c.data_type == "f"]

    _page, response = _export(client, "disbursement", fmt="1")
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == ["Mã đề án", "Tên đề án", "Loại", "Nguồn", "Số tiền (đồng)", "Ngày", "Số chứng từ", "Ghi chú",
                        "Đã hủy lúc", "Lý do hủy"]
    assert table[1][1] == '\'=HYPERLINK("http://evil","Bấm vào")'
    assert table[1][4:8] == ["120000000", "05/03/2026", "'+UNC-01", "'@tạm ứng đợt 1"]


@pytest.mark.parametrize("make_user", [province_user, reviewer])
def test_who_may_not_view_the_list_may_not_export_it(client, money, make_user):
    user = make_user()
    user.is_staff = True
    user.save()
    client.force_login(user)
    for model in ("allocation", "commitment", "disbursement"):
        url = reverse(f"admin:funding_{model}_export")
        assert client.get(url).status_code == 403
        assert client.post(url, {"format": "0", "resource": "0"}).status_code == 403
        assert client.get(reverse(f"admin:funding_{model}_changelist")).status_code == 403


def test_there_is_no_import_through_the_admin(client, money):
    client.force_login(admin_user())
    page = client.get(reverse("admin:funding_allocation_changelist")).content.decode()
    assert reverse("admin:funding_allocation_export") in page
    assert "2.000.000.000\u00a0đ" in page and "2000000000" not in page  # the list shows đồng too
    assert "/import/" not in page
    followed = client.get("/quan-tri/funding/allocation/import/", follow=True)
    assert "Tệp cần nhập" not in followed.content.decode() and "import_file" not in followed.content.decode()


def test_a_forged_filter_in_the_export_address_is_refused_in_vietnamese(client, money):
    client.force_login(admin_user())
    for model in ("allocation", "commitment", "disbursement"):
        url = reverse(f"admin:funding_{model}_export")
        for query in ("?ids=1", "?nguon=x"):
            response = client.get(url + query, follow=True)
            assert response.status_code == 200, (model, query)
            assert response.redirect_chain[-1][0] == reverse(f"admin:funding_{model}_changelist"), (model, query)
            assert "Bộ lọc trong địa chỉ trang không hợp lệ; chưa xuất gì." in response.content.decode()
        assert client.post(url + "?ids=1", {"format": "0", "resource": "0"}).status_code == 302
