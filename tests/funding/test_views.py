"""The web flow: upload → preview → confirm as an administrator; scoping of the money views."""
import io

import openpyxl
import pytest
from django.urls import reverse

from funding.models import Allocation, ImportBatch
from khuyencong.models import Organisation, Province, User
from tests.funding.conftest import ALLOCATION, ANNEX, allocation_book, snapshot, xlsx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def local_user(code, role="province"):
    province = Province.objects.current().get(code=code)
    org = Organisation.objects.filter(province=province, kind="department").first() or Organisation.objects.create(
        code=f"so-ct-{code}", kind="department", province=province, name=f"Sở Công Thương {province.name}")
    return User.objects.create_user(username=f"so{code}", password="x" * 20, role=role, organisation=org)


def upload(client, path, name=None):
    with open(path, "rb") as fh:
        return client.post(reverse("funding:import_upload"), {"file": fh})


def test_upload_preview_confirm(admin_client):
    response = upload(admin_client, ALLOCATION)
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    page = admin_client.get(response["Location"]).content.decode()
    assert "Xác nhận nhập" in page and "chờ xác nhận" in page.lower()
    assert "125.860.000.000 đ" in page and "156.740.000.000 đ" in page
    assert "Thành phố Hà Nội" in page and "2.750.000.000 đ" in page
    assert not Allocation.objects.exists()
    response = admin_client.post(reverse("funding:import_confirm", args=[batch.pk]), follow=True)
    assert "Đã nhập lô" in response.content.decode()
    assert Allocation.objects.count() == 68
    national = admin_client.get(reverse("funding:national") + "?nam=2026").content.decode()
    assert "125.860.000.000 đ" in national and "156.740.000.000 đ" in national


def test_upload_with_errors_shows_rows_and_writes_nothing(admin_client):
    before = snapshot()
    data = xlsx_bytes(allocation_book([("Hà Tây", "", 10, 10), ("Thành phố Hà Nội", "01", -1, 5, 4)], total=None))
    response = admin_client.post(reverse("funding:import_upload"), {"file": io.BytesIO(data)})
    if response.status_code == 302:  # pragma: no cover - would mean the file was accepted
        pytest.fail("a file with errors was accepted")
    body = response.content.decode()
    assert "Hà Tây" in body and "số âm" in body and "chưa có gì được lưu" in body
    assert snapshot() == before


def test_upload_refused_file_shows_reason(admin_client):
    response = admin_client.post(reverse("funding:import_upload"), {"file": io.BytesIO(b"a;b;c\n1;2;3\n")})
    assert response.status_code == 400
    assert "CSV" in response.content.decode() or "văn bản" in response.content.decode()


def test_an_empty_or_missing_file_is_refused_in_plain_words(admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    empty = SimpleUploadedFile("phan-bo.xlsx", b"")
    response = admin_client.post(reverse("funding:import_upload"), {"file": empty})
    assert response.status_code == 400
    assert "không có nội dung (0 byte)" in response.content.decode()
    response = admin_client.post(reverse("funding:import_upload"), {})
    assert response.status_code == 400
    assert "Chưa chọn tệp Excel để tải lên." in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_the_upload_form_says_the_size_limit_and_offers_the_templates_after_an_error(admin_client, settings):
    """Before choosing a file the user reads the limit the importer enforces; a refused file shows the
    form again with the reason beside it, the templates and the way back."""
    settings.UPLOAD_MAX_BYTES = 5 * 1024 * 1024
    listing = admin_client.get(reverse("funding:import_list")).content.decode()
    refused = admin_client.post(reverse("funding:import_upload"), {"file": io.BytesIO(b"a;b;c\n1;2;3\n")})
    assert refused.status_code == 400
    for page in (listing, refused.content.decode()):
        assert "Dung lượng tối đa 5 MB." in page
        assert 'aria-describedby="id_file_helptext' in page
        assert reverse("funding:template") in page and reverse("funding:plan_template") in page
    assert 'role="alert" id="id_file_error"' in refused.content.decode()
    assert 'aria-describedby="id_file_helptext id_file_error"' in refused.content.decode()
    assert reverse("funding:import_list") + '">Quay lại' in refused.content.decode()
    big = io.BytesIO(b"x" * (5 * 1024 * 1024 + 1))
    big.name = "phan-bo.xlsx"
    response = admin_client.post(reverse("funding:import_upload"), {"file": big})
    assert response.status_code == 400 and "dung lượng tối đa cho phép là 5 MB" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_only_administrators_import(client):
    user = local_user("01")
    client.force_login(user)
    assert client.get(reverse("funding:import_list")).status_code == 403
    with open(ALLOCATION, "rb") as fh:
        assert client.post(reverse("funding:import_upload"), {"file": fh}).status_code == 403
    assert not ImportBatch.objects.exists()


def test_province_view_is_scoped(client, admin_client):
    upload(admin_client, ALLOCATION)
    admin_client.post(reverse("funding:import_confirm", args=[ImportBatch.objects.get().pk]))
    user = local_user("24")
    client.force_login(user)
    assert client.get(reverse("funding:overview")).status_code == 302
    own = client.get(reverse("funding:province", args=["24", 2026])).content.decode()
    assert "5.980.000.000 đ" in own and "7.110.000.000 đ" in own
    assert client.get(reverse("funding:province", args=["01", 2026])).status_code == 403
    assert client.get(reverse("funding:national")).status_code == 403
    # The export holds only the user's province.
    wb = openpyxl.load_workbook(io.BytesIO(client.get(reverse("funding:export_allocations") + "?nam=2026").content))
    names = {row[1] for row in wb.active.iter_rows(min_row=7, values_only=True) if isinstance(row[0], int)}
    assert names == {"Tỉnh Bắc Ninh"}


def test_template_download_has_validation(admin_client):
    response = admin_client.get(reverse("funding:template") + "?nam=2027")
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    ws = wb.worksheets[0]
    kinds = {dv.type for dv in ws.data_validations.dataValidation}
    assert kinds == {"list", "decimal"}
    assert ws["A6"].value == "STT" and ws["D7"].value == "KCQG"
    assert wb["Danh mục"].sheet_state == "hidden" and wb["Danh mục"].max_row == 35


def test_the_plan_annex_template_reads_back_as_the_annex_it_shows(admin_client):
    """The template is laid out as the annexes in use: uploaded as it is (its example row), the preview
    finds the province group, its subtotals and the grand total right, and one đề án to create."""
    from projects.models import DeAn
    from tests.funding.factories import AllocationFactory

    response = admin_client.get(reverse("funding:plan_template") + "?nam=2026")
    assert response["Content-Disposition"].endswith('mau-phu-luc-ke-hoach-2026.xlsx"')
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    ws = wb.worksheets[0]
    assert ws["A8"].value == "(1)" and ws["H7"].value == "Tổng kinh phí" and ws["A9"].value == "I"
    assert "ĐVT: triệu đồng" in [c.value for row in ws.iter_rows(max_row=5) for c in row]
    assert wb["Danh mục"].sheet_state == "hidden"
    AllocationFactory(year=2026, province=Province.objects.current().get(code="24"), amount=10_000_000_000)
    page = admin_client.post(reverse("funding:import_upload"),
                             {"file": io.BytesIO(response.content)}, follow=True).content.decode()
    batch = ImportBatch.objects.get()
    assert batch.kind == "plan_annex" and batch.year == 2026, page[:2000]
    assert (batch.rows_total, batch.rows_created, batch.rows_error) == (1, 1, 0), page[:3000]
    assert batch.total_national == 300_000_000
    assert "300.000.000 đ" in page  # 300 triệu of KCQG support, the example's
    admin_client.post(reverse("funding:import_confirm", args=[batch.pk]))
    d = DeAn.objects.get()
    assert (d.status, d.approved_national_amount, d.current_province.code) == ("approved", 300_000_000, "24")


def test_the_templates_are_vietnamese_documents_in_any_language(admin_client):
    """An English-speaking administrator's download must still read back: the reader recognises the
    Vietnamese title («… NĂM 2026», «QUỐC GIA») and unit."""
    admin_client.post(reverse("set_language"), {"language": "en"})
    for name in ("funding:template", "funding:plan_template"):
        response = admin_client.get(reverse(name) + "?nam=2026")
        ws = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
        assert "NĂM 2026" in ws["A3"].value, (name, ws["A3"].value)


def test_annex_upload_through_the_web(admin_client):
    upload(admin_client, ANNEX)
    batch = ImportBatch.objects.get()
    page = admin_client.get(reverse("funding:import_detail", args=[batch.pk])).content.decode()
    assert "6.800.000.000 đ" in page and "Tỉnh Bắc Giang (24)" in page
    admin_client.post(reverse("funding:import_confirm", args=[batch.pk]))
    from projects.models import DeAn

    assert DeAn.objects.count() == 30


def test_big_batches_are_applied_by_the_worker(admin_client, settings, django_capture_on_commit_callbacks, monkeypatch):
    from khuyencong.celery import app as celery_app

    settings.IMPORT_SYNC_MAX_ROWS = 10  # the 34-row table counts as big: queued for the worker
    # The task runs in-process here (CI's broker is Redis with no worker for this test); the real
    # worker path is covered by tests/reports/test_worker.py.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    upload(admin_client, ALLOCATION)
    batch = ImportBatch.objects.get()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(reverse("funding:import_confirm", args=[batch.pk]), follow=True)
    assert "đang được nhập ở chế độ nền" in response.content.decode()
    assert 'http-equiv="refresh"' in response.content.decode()
    assert ImportBatch.objects.get().status == "applying" and not Allocation.objects.exists()
    for callback in callbacks:  # the commit happens: the (eager) worker runs the task
        callback()
    response = admin_client.get(reverse("funding:import_detail", args=[batch.pk]))
    assert "Đã nhập" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == "applied" and Allocation.objects.count() == 68
    # A second confirmation does nothing.
    response = admin_client.post(reverse("funding:import_confirm", args=[batch.pk]), follow=True)
    assert "không ở trạng thái chờ xác nhận" in response.content.decode()
    assert Allocation.objects.count() == 68


def test_worker_refusal_puts_the_batch_back_with_the_reason(admin_client, settings, django_capture_on_commit_callbacks):
    from funding.services import import_apply_queued, import_queue

    settings.IMPORT_SYNC_MAX_ROWS = 1
    upload(admin_client, ALLOCATION)
    batch = ImportBatch.objects.get()
    # The stored file disappears before the worker runs (e.g. storage cleaned): refused, put back.
    with django_capture_on_commit_callbacks(execute=False):
        assert import_queue(batch=batch, actor=None)
    batch.file.storage.delete(batch.file.name)
    import_apply_queued(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == "previewed" and "Không đọc được tệp gốc" in batch.error
    assert not Allocation.objects.exists()
    page = admin_client.get(reverse("funding:import_detail", args=[batch.pk])).content.decode()
    assert "Xác nhận nhập" in page


# --- the year toolbar of the province page ---------------------------------------------------------

def test_year_toolbar_goes_to_the_chosen_years_page(admin_client):
    url = reverse("funding:province", args=["01", 2026])
    page = admin_client.get(url).content.decode()
    assert 'name="nam"' in page and 'action=""' in page  # the toolbar submits ?nam= to this same URL
    response = admin_client.get(url + "?nam=2025")
    assert response.status_code == 302 and response["Location"] == reverse("funding:province", args=["01", 2025])
    response = admin_client.get(url + "?nam=%202024%20")
    assert response["Location"] == reverse("funding:province", args=["01", 2024])
    page = admin_client.get(url + "?nam=2025", follow=True).content.decode()
    assert "Kinh phí khuyến công Thành phố Hà Nội năm 2025" in page


@pytest.mark.parametrize("value, message", [
    ("abc", "Năm «abc» không hợp lệ: hãy nhập năm từ 2000 đến 2100."),
    ("1999", "Năm «1999» không hợp lệ"),
    ("99999999999999999999", "không hợp lệ"),
    ("2025.5", "Năm «2025.5» không hợp lệ"),
    ("", "Hãy nhập năm cần xem (từ 2000 đến 2100)."),
])
def test_year_toolbar_refuses_a_wrong_year_with_a_message(admin_client, value, message):
    url = reverse("funding:province", args=["01", 2026])
    response = admin_client.get(url, {"nam": value})
    assert response.status_code == 302 and response["Location"] == url
    page = admin_client.get(response["Location"]).content.decode()
    assert message in page
    assert "Kinh phí khuyến công Thành phố Hà Nội năm 2026" in page


def test_a_year_outside_the_range_in_the_url_is_explained(admin_client):
    from datetime import date

    response = admin_client.get(reverse("funding:province", args=["01", 1999]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("funding:province", args=["01", date.today().year])
    assert "Năm «1999» không hợp lệ" in response.content.decode()


def test_year_toolbar_does_not_redirect_past_the_access_check(client):
    client.force_login(local_user("24"))
    assert client.get(reverse("funding:province", args=["01", 2026]) + "?nam=2025").status_code == 403
    assert client.get(reverse("funding:province", args=["99", 2026]) + "?nam=2025").status_code == 404
    own = client.get(reverse("funding:province", args=["24", 2026]) + "?nam=2025")
    assert own["Location"] == reverse("funding:province", args=["24", 2025])


def test_a_file_wrong_on_more_rows_than_are_listed_says_the_real_count(admin_client):
    """1.100 rows naming a province that does not exist: 1.000 problems are listed and one note stands
    for the rest, but the preview and the command's summary count all 1.100, with Vietnamese separators."""
    from funding.importers import MAX_LISTED_PROBLEMS
    from funding.services import import_preview

    before = snapshot()
    rows = [("Hà Tây", "", 10, 10)] * 1100
    data = xlsx_bytes(allocation_book(rows))
    response = admin_client.post(reverse("funding:import_upload"), {"file": io.BytesIO(data)})
    body = response.content.decode()
    assert "Bảng tính có 1.100 lỗi; chưa có gì được lưu." in body
    assert "Số dòng dữ liệu</dt><dd>1.100</dd>" in body and "lỗi 1.100" in body
    preview = import_preview(fileobj=io.BytesIO(data), name="ha-tay.xlsx", actor=None, size=len(data))
    assert len(preview.parsed.problems) == MAX_LISTED_PROBLEMS + 1 and preview.parsed.problem_count == 1100
    lines = preview.summary_lines()
    assert "Lỗi (1.100):" in lines and any("số dòng lỗi: 1.100" in line for line in lines)
    assert snapshot() == before


def test_the_import_pages_write_counts_with_vietnamese_separators(admin_client):
    upload(admin_client, ALLOCATION)
    batch = ImportBatch.objects.get()
    ImportBatch.objects.filter(pk=batch.pk).update(rows_total=12345, rows_created=10001, rows_updated=2344)
    detail = admin_client.get(reverse("funding:import_detail", args=[batch.pk])).content.decode()
    assert "<dd>12.345</dd>" in detail and "<strong>10.001</strong>" in detail and "<strong>2.344</strong>" in detail
    listing = admin_client.get(reverse("funding:import_list")).content.decode()
    assert '<td class="num">10.001</td><td class="num">2.344</td>' in listing


def test_counts_include_what_is_only_counted():
    from funding.importers import MAX_LISTED_PROBLEMS, ParsedImport

    parsed = ParsedImport()
    for row in range(1, 1501):
        parsed.problem(row, "sai")
        parsed.warn(row, "chú ý")
    assert len(parsed.problems) == MAX_LISTED_PROBLEMS + 1 and parsed.problem_count == 1500
    assert len(parsed.warnings) == MAX_LISTED_PROBLEMS and parsed.warning_count == 1500
    few = ParsedImport()
    few.problem(7, "sai")
    assert few.problem_count == 1 and few.warning_count == 0


def test_national_page_shows_provinces_without_money_as_such(admin_client):
    from tests.funding.factories import AllocationFactory

    AllocationFactory(year=2026, province=Province.objects.current().get(code="01"), amount=1_234_567)
    page = admin_client.get(reverse("funding:national") + "?nam=2026").content.decode()
    assert "Thành phố Hà Nội" in page and "1.234.567 đ" in page
    # Every other current province has a dimmed row of zeros and the page counts them.
    assert "Tỉnh Bắc Ninh" in page and "Tỉnh Cao Bằng" in page
    assert page.count('<tr class="muted">') == 33
    assert "33 tỉnh, thành phố chưa có số liệu kinh phí năm 2026" in page
    # A province page never says so about itself when it has money.
    province_page = admin_client.get(reverse("funding:province", kwargs={"code": "01", "year": 2026})).content.decode()
    assert "chưa có số liệu kinh phí năm" not in province_page
    empty = admin_client.get(reverse("funding:national") + "?nam=2027").content.decode()
    assert "Chưa có số liệu kinh phí cho năm này." in empty and '<tr class="muted">' not in empty
