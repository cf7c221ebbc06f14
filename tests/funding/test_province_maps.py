"""Provinces on the map of the plan year (docs/funding.md, "Provinces: the map of the plan year").

1. A row's province name and code must denote one and the same province (``ProvinceResolver.pair``):
   a 2025 row «Tỉnh Bắc Ninh» / «24» was recorded as the former Bắc Giang without a word.
2. The templates and the allocation export write the provinces of the year's map, and what the export
   writes re-imports unchanged, before and after the merger.
3. A former province in a table of 2026 or later is imported for its successor with a warning, shown
   in the preview page and the command's summary, that does not block the confirmation.
"""
import io
import os

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse

from funding.exports import allocations_workbook, plan_annex_template_workbook, template_workbook
from funding.models import Allocation, AnnualPlan, Commitment, ImportBatch, ImportRow, ImportStatus, RowAction
from funding.services import import_file, import_preview
from khuyencong.models import Province
from tests.funding.conftest import ALLOCATION, ANNEX, allocation_book, snapshot, with_problems, xlsx_bytes

pytestmark = pytest.mark.django_db
TRIEU = 1_000_000


def table(rows, year):
    return xlsx_bytes(allocation_book(rows, year=year))


def accepted(data, actor=None, name="phan-bo.xlsx"):
    preview = import_preview(fileobj=io.BytesIO(data), name=name, actor=actor, save=False)
    assert preview.ok, [p.message for p in preview.problems]
    return preview


def recorded(preview):
    """{sheet row: (recorded name, era, current name)} of an accepted allocation table."""
    out = {}
    for line in preview.parsed.lines:
        for row, province, _amount in line.parts or [(line.sheet_row, line.recorded, line.amount)]:
            out[row] = (province.name, province.era, line.province.name)
    return out


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


# --- 1. name and code of one row --------------------------------------------------------------------

BAC_NINH_24_IN_2025 = (
    "Dòng 7: Tên tỉnh «Tỉnh Bắc Ninh» và mã tỉnh «24» không cùng một tỉnh: mã 24 là Tỉnh Bắc Giang (trước "
    "01/07/2025), còn «Tỉnh Bắc Ninh» là Tỉnh Bắc Ninh (trước 01/07/2025, mã 27). Bảng năm 2025 đọc tên và mã tỉnh "
    "theo danh mục 63 tỉnh, thành phố trước 01/07/2025. Mã 24 và tên «Tỉnh Bắc Ninh» cùng chỉ Tỉnh Bắc Ninh (từ "
    "01/07/2025, mã 24): nếu đúng là tỉnh, thành phố này, hãy ghi tên là «Tỉnh Bắc Ninh (mới)»."
)


def test_2025_row_naming_bac_ninh_with_code_24_is_refused_naming_both():
    """The reviewer's file: row 7 «Tỉnh Bắc Ninh» 24 was recorded as the former Bắc Giang, and row 8
    «Tỉnh Bắc Giang» 24 was then «trùng với dòng 7». Row 7 is now the one error, naming both provinces;
    row 8 is what it says, Bắc Giang."""
    messages = with_problems(table([("Tỉnh Bắc Ninh", "24", 100, 50), ("Tỉnh Bắc Giang", "24", 30, 20)], 2025))
    assert messages == [BAC_NINH_24_IN_2025]


@pytest.mark.parametrize("name,code,by_code,by_name", [
    ("Tỉnh Quảng Trị", "44", "Tỉnh Quảng Bình", "Tỉnh Quảng Trị (trước 01/07/2025, mã 45)"),
    ("Tỉnh Gia Lai", "52", "Tỉnh Bình Định", "Tỉnh Gia Lai (trước 01/07/2025, mã 64)"),
    ("Tỉnh Lào Cai", "15", "Tỉnh Yên Bái", "Tỉnh Lào Cai (trước 01/07/2025, mã 10)"),
    ("Tỉnh Tây Ninh", "80", "Tỉnh Long An", "Tỉnh Tây Ninh (trước 01/07/2025, mã 72)"),
    ("Tỉnh An Giang", "91", "Tỉnh Kiên Giang", "Tỉnh An Giang (trước 01/07/2025, mã 89)"),
])
def test_2024_row_written_with_todays_code_is_refused(name, code, by_code, by_name):
    """Today's codes of the merged provinces (DOMAIN §7) in a table on the 63-province map."""
    messages = with_problems(table([(name, code, 10, 5)], 2024))
    assert len(messages) == 1
    assert messages[0].startswith(
        f"Dòng 7: Tên tỉnh «{name}» và mã tỉnh «{code}» không cùng một tỉnh: mã {code} là {by_code} (trước "
        f"01/07/2025), còn «{name}» là {by_name}. Bảng năm 2024 đọc tên và mã tỉnh theo danh mục 63 tỉnh")
    assert f"hãy ghi tên là «{name} (mới)»" in messages[0]


def test_2026_row_naming_two_former_provinces_is_refused_though_they_merged():
    """Bắc Giang (24) and the former Bắc Ninh (27) both became today's Bắc Ninh: the row is still
    ambiguous about what it records."""
    messages = with_problems(table([("Tỉnh Bắc Giang", "27", 10, 5)], 2026))
    assert messages == [
        "Dòng 7: Tên tỉnh «Tỉnh Bắc Giang» và mã tỉnh «27» không cùng một tỉnh: mã 27 là Tỉnh Bắc Ninh (trước "
        "01/07/2025), còn «Tỉnh Bắc Giang» là Tỉnh Bắc Giang (trước 01/07/2025, mã 24). Bảng năm 2026 đọc tên và mã "
        "tỉnh theo danh mục 34 tỉnh, thành phố từ 01/07/2025."]


def test_2026_row_naming_two_current_provinces_is_refused():
    messages = with_problems(table([("Thành phố Hà Nội", "24", 10, 5)], 2026))
    assert messages == [
        "Dòng 7: Tên tỉnh «Thành phố Hà Nội» và mã tỉnh «24» không cùng một tỉnh: mã 24 là Tỉnh Bắc Ninh (từ "
        "01/07/2025), còn «Thành phố Hà Nội» là Thành phố Hà Nội (từ 01/07/2025, mã 01). Bảng năm 2026 đọc tên và "
        "mã tỉnh theo danh mục 34 tỉnh, thành phố từ 01/07/2025."]


def test_map_note_reads_the_code_on_the_same_map():
    """«(mới)» reads name and code on today's map: 27 is no province there, so it is not Bắc Ninh 24."""
    messages = with_problems(table([("Tỉnh Bắc Ninh (mới)", "27", 10, 5)], 2025))
    assert messages == [
        "Dòng 7: Tên tỉnh «Tỉnh Bắc Ninh (mới)» và mã tỉnh «27» không cùng một tỉnh: mã 27 là Tỉnh Bắc Ninh (trước "
        "01/07/2025), còn «Tỉnh Bắc Ninh (mới)» là Tỉnh Bắc Ninh (từ 01/07/2025, mã 24)."]


def test_unknown_name_with_a_known_code_is_still_refused():
    messages = with_problems(table([("Hà Tây", "01", 10, 5)], 2026))
    assert messages == ["Dòng 7: Mã tỉnh 01 (Thành phố Hà Nội) không khớp với tên «Hà Tây»."]


def _long_table(rows, title):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = title
    ws["E2"] = "ĐVT: triệu đồng"
    ws.append(["STT", "Tỉnh, thành phố", "Mã tỉnh", "Năm", "Nguồn kinh phí", "Kinh phí"])
    for i, row in enumerate(rows, 1):
        ws.append([i, *row])
    return xlsx_bytes(wb)


def test_long_layout_reads_names_and_codes_on_the_map_of_the_titles_year():
    messages = with_problems(_long_table([("Tỉnh Bắc Ninh", "24", 2025, "KCQG", 100)],
                                         "PHÂN BỔ KINH PHÍ KHUYẾN CÔNG NĂM 2025 THEO TỈNH, THÀNH PHỐ"))
    assert messages == [BAC_NINH_24_IN_2025.replace("Dòng 7:", "Dòng 4:")]


def test_a_table_without_a_year_in_its_title_is_read_on_todays_map():
    """Years only in the «Năm» column (the benchmark's multi-year tables): today's map, as before; a
    former province on a row of 2026 or later still carries the warning, not on a row of 2024."""
    preview = accepted(_long_table([("Tỉnh Bắc Ninh", "24", 2024, "KCQG", 100), ("Tỉnh Bắc Ninh", "24", 2026, "KCQG", 100),
                                    ("Tỉnh Hà Giang (cũ)", "02", 2024, "KCQG", 1),
                                    ("Tỉnh Hà Giang (cũ)", "02", 2026, "KCQG", 1)],
                                   "PHÂN BỔ KINH PHÍ KHUYẾN CÔNG THEO TỈNH, THÀNH PHỐ"))
    assert {(line.year, line.recorded.name, line.recorded.era) for line in preview.parsed.lines} == {
        (2024, "Bắc Ninh", "current"), (2026, "Bắc Ninh", "current"), (2024, "Hà Giang", "former"),
        (2026, "Hà Giang", "former")}
    assert [w.sheet_row for w in preview.warnings] == [7]


def test_name_and_code_of_one_province_are_accepted():
    before = accepted(table([("Tỉnh Bắc Giang", "24", 10, 5), ("Tỉnh Bắc Ninh", "27", 1, 1),
                             ("Thành phố Huế", "46", 2, 2), ("Hà Nội", "1", 3, 3)], 2025))
    assert recorded(before) == {
        7: ("Bắc Giang", "former", "Bắc Ninh"), 8: ("Bắc Ninh", "former", "Bắc Ninh"),  # added up: one allocation
        9: ("Huế", "current", "Huế"),  # no Huế on the 2025 map: the pair is today's Huế
        10: ("Hà Nội", "former", "Hà Nội")}
    assert not before.warnings
    noted = accepted(table([("Tỉnh Bắc Ninh (mới)", "24", 10, 5)], 2025))
    assert recorded(noted) == {7: ("Bắc Ninh", "current", "Bắc Ninh")}
    after = accepted(table([("Tỉnh Bắc Ninh", "24", 10, 5), ("Tỉnh Gia Lai", "52", 1, 1)], 2026))
    assert recorded(after) == {7: ("Bắc Ninh", "current", "Bắc Ninh"), 8: ("Gia Lai", "current", "Gia Lai")}
    assert not after.warnings


# --- 2. templates and exports on the year's map -----------------------------------------------------

def _lists(data):
    wb = openpyxl.load_workbook(io.BytesIO(data))
    lists = wb["Danh mục"]
    return wb, [(a, b) for a, b, *_rest in lists.iter_rows(min_row=2, values_only=True) if a]


def test_templates_list_the_provinces_of_the_year():
    wb, provinces = _lists(template_workbook(year=2025))
    assert len(provinces) == 63
    assert ("Tỉnh Bắc Giang", "24") in provinces and ("Tỉnh Bắc Ninh", "27") in provinces
    assert ("Tỉnh Bắc Ninh", "24") not in provinces and ("Tỉnh Quảng Trị", "45") in provinces
    names = next(dv for dv in wb.active.data_validations.dataValidation if "$A$2:$A$64" in (dv.formula1 or ""))
    assert "trước 01/07/2025" in names.error and "2025" in names.error
    wb, provinces = _lists(template_workbook(year=2026))
    assert len(provinces) == 34 and ("Tỉnh Bắc Ninh", "24") in provinces and ("Tỉnh Bắc Giang", "24") not in provinces
    _wb, annex_provinces = _lists(plan_annex_template_workbook(year=2025))
    assert annex_provinces == _lists(template_workbook(year=2025))[1]
    _wb, annex_provinces = _lists(plan_annex_template_workbook(year=2027))
    assert len(annex_provinces) == 34


def test_the_2025_templates_read_back_on_the_2025_map(admin_user):
    preview = accepted(template_workbook(year=2025))
    assert recorded(preview) == {7: ("Hà Nội", "former", "Hà Nội")}
    annex = import_preview(fileobj=io.BytesIO(plan_annex_template_workbook(year=2025)), name="pl.xlsx",
                           actor=admin_user, save=False)
    assert annex.ok and not annex.warnings, [p.message for p in annex.problems]
    (line,) = annex.parsed.lines
    assert (line.province.name, line.province.code, line.province.era) == ("Bắc Ninh", "27", "former")


def _exported_rows(data):
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    return [(r[1], r[2], r[3], r[4]) for r in ws.iter_rows(min_row=7, values_only=True) if isinstance(r[0], int)]


def test_2025_export_writes_the_2025_map_and_reimports_unchanged(admin_user):
    """Allocations of 2025: recorded from a 2025 table (former provinces, Hà Giang and Tuyên Quang added up
    into today's Tuyên Quang) and written by hand for today's provinces. The export writes each as the
    table recorded it, else as the one former province of its territory, else as today's province
    marked «(mới)»; re-imported, every row is «Không đổi» and nothing changes."""
    rows = [("Tỉnh Hà Giang", "02", 100, 50), ("Tỉnh Tuyên Quang", "08", 30, 20), ("Thành phố Hà Nội", "01", 7, 3),
            ("Tỉnh Bắc Giang", "24", 11, 0), ("Tỉnh Bắc Ninh", "27", 12, 0)]
    first = import_file(fileobj=io.BytesIO(table(rows, 2025)), name="phan-bo-2025.xlsx", actor=admin_user)
    assert first.ok, [p.message for p in first.problems]
    plan = AnnualPlan.objects.get(year=2025, level="kcqg")
    for code, amount in (("44", 40), ("52", 41), ("15", 42), ("46", 43)):
        Allocation.objects.create(plan=plan, province=Province.objects.current().get(code=code), source="national",
                                  amount=amount * TRIEU)
    data = allocations_workbook(user=admin_user, year=2025)
    written = _exported_rows(data)
    assert ("Tỉnh Hà Giang", "02", "KCQG", 100) in written and ("Tỉnh Tuyên Quang", "08", "KCQG", 30) in written
    assert ("Tỉnh Bắc Giang", "24", "KCQG", 11) in written and ("Tỉnh Bắc Ninh", "27", "KCQG", 12) in written
    assert ("Tỉnh Thừa Thiên Huế", "46", "KCQG", 43) in written  # the one former province of today's Huế
    assert ("Tỉnh Quảng Trị (mới)", "44", "KCQG", 40) in written and ("Tỉnh Gia Lai (mới)", "52", "KCQG", 41) in written
    assert not [r for r in written if (r[0], r[1]) in {("Tỉnh Bắc Ninh", "24"), ("Tỉnh Quảng Trị", "44"),
                                                       ("Tỉnh Gia Lai", "52"), ("Tỉnh Lào Cai", "15")}]
    before = snapshot()
    again = import_file(fileobj=io.BytesIO(data), name="phan-bo-2025-xuat.xlsx", actor=admin_user)
    assert again.ok and not again.warnings, [p.message for p in again.problems]
    actions = set(ImportRow.objects.filter(batch=again.batch).values_list("action", flat=True))
    assert actions == {RowAction.UNCHANGED}
    assert again.counts() == {"create": 0, "update": 0, "unchanged": Allocation.objects.count(), "error": 0}
    after = snapshot()
    assert after["Allocation"] == before["Allocation"] and after["Commitment"] == before["Commitment"]
    # The re-import records the same former provinces as the table did.
    tuyen_quang = ImportRow.objects.get(batch=again.batch, province__code="08", source="national")
    assert [p["recorded"] for p in tuyen_quang.data["parts"]] == ["Tỉnh Hà Giang (02)", "Tỉnh Tuyên Quang (08)"]


def test_2026_export_reimports_unchanged(admin_user):
    with open(ALLOCATION, "rb") as fh:
        assert import_file(fileobj=fh, name="phan-bo-2026.xlsx", actor=admin_user).ok
    # A 2026 row naming a former province is today's province in the export.
    extra = import_file(fileobj=io.BytesIO(table([("Tỉnh Hà Giang (cũ)", "02", 1, 1)], 2027)), name="2027.xlsx",
                        actor=admin_user)
    assert extra.ok and extra.warnings
    for year, count in ((2026, 68), (2027, 2)):
        data = allocations_workbook(user=admin_user, year=year)
        if year == 2027:
            assert [r[:2] for r in _exported_rows(data)] == [("Tỉnh Tuyên Quang", "08")] * 2
        again = import_file(fileobj=io.BytesIO(data), name=f"xuat-{year}.xlsx", actor=admin_user)
        assert again.ok and not again.warnings, [p.message for p in again.problems]
        assert again.counts() == {"create": 0, "update": 0, "unchanged": count, "error": 0}


# --- 3. a former province in a table of 2026 or later: a warning --------------------------------------

BAC_GIANG_2026 = (
    "Dòng 15 (nhóm II): Tỉnh Bắc Giang (cũ, mã 24) đã sáp nhập vào Tỉnh Bắc Ninh (mã 24) từ 01/07/2025; các đề án "
    "của nhóm được ghi cho Tỉnh Bắc Ninh (tỉnh, thành phố khi đăng ký vẫn là Tỉnh Bắc Giang (cũ)).")


def annex_2026():
    """The sample annex (2024) as a 2026 plan decided on 20/12/2025: its groups name Thái Nguyên and An
    Giang (on both maps) and the former Bắc Giang, Nam Định, Thừa Thiên Huế and Bến Tre."""
    wb = openpyxl.load_workbook(ANNEX)
    ws = wb.worksheets[0]
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and "2024" in cell.value:
                cell.value = cell.value.replace("NĂM 2024", "NĂM 2026").replace("/2024", "/2026")
    ws["A4"] = "(Kèm theo Quyết định số 2150/QĐ-BCT ngày 20/12/2025)"
    return xlsx_bytes(wb)


def test_2026_annex_naming_former_provinces_warns_and_imports(admin_client, admin_user):
    upload = io.BytesIO(annex_2026())
    upload.name = "ke-hoach-kcqg-2026.xlsx"
    page = admin_client.post(reverse("funding:import_upload"), {"file": upload}, follow=True).content.decode()
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.PREVIEWED and batch.year == 2026 and batch.rows_error == 0
    warnings = batch.summary["warnings"]
    assert [w["row"] for w in warnings] == [15, 21, 27, 33]
    assert warnings[0]["message"] == BAC_GIANG_2026
    assert warnings[1]["message"].startswith("Dòng 21 (nhóm III): Tỉnh Nam Định (cũ, mã 36) đã sáp nhập vào Tỉnh "
                                             "Ninh Bình (mã 37) từ 01/07/2025")
    assert warnings[2]["message"].startswith(
        "Dòng 27 (nhóm IV): Tỉnh Thừa Thiên Huế (cũ, mã 46) là tỉnh, thành phố của danh mục trước 01/07/2025, nay "
        "là Thành phố Huế (mã 46)")
    # Shown in the preview: the list above the rows and on each row of the group; confirm still offered.
    assert "4 cảnh báo" in page and BAC_GIANG_2026 in page
    assert "Cảnh báo: Tỉnh Bắc Giang (cũ, mã 24) đã sáp nhập" in page
    assert reverse("funding:import_confirm", args=[batch.pk]) in page
    row = ImportRow.objects.get(batch=batch, sheet_row=16)
    assert row.data["warning"] == BAC_GIANG_2026.split(": ", 1)[1]
    assert "warning" not in ImportRow.objects.get(batch=batch, sheet_row=10).data  # Thái Nguyên: today's name
    admin_client.post(reverse("funding:import_confirm", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportStatus.APPLIED and batch.summary["warnings"] == warnings
    from projects.models import DeAn

    de_an = DeAn.objects.get(pk=ImportRow.objects.get(batch=batch, sheet_row=16).object_id)
    assert (de_an.province.name, de_an.province.era, de_an.current_province.name) == ("Bắc Giang", "former", "Bắc Ninh")
    assert Commitment.objects.get(de_an=de_an).allocation.province.code == "24"
    page = admin_client.get(reverse("funding:import_detail", args=[batch.pk])).content.decode()
    assert BAC_GIANG_2026 in page  # kept with the batch after the import


def test_import_budget_command_prints_the_warnings(tmp_path, capsys):
    path = os.path.join(tmp_path, "ke-hoach-2026.xlsx")
    with open(path, "wb") as fh:
        fh.write(annex_2026())
    call_command("import_budget", path, "--dry-run")
    out = capsys.readouterr().out
    assert "Cảnh báo (4; không ngăn việc nhập):" in out and f"  ! {BAC_GIANG_2026}" in out
    assert "--dry-run" in out


def test_error_preview_lists_the_warnings_too(admin_client):
    upload = io.BytesIO(table([("Tỉnh Hà Giang", "02", 10, 5), ("Hà Tây", "", 1, 1)], 2026))
    upload.name = "phan-bo-2026.xlsx"
    page = admin_client.post(reverse("funding:import_upload"), {"file": upload}, follow=True).content.decode()
    assert not ImportBatch.objects.exists()
    assert "Hà Tây" in page
    assert ("Dòng 7: Tỉnh Hà Giang (cũ, mã 02) đã sáp nhập vào Tỉnh Tuyên Quang (mã 08) từ 01/07/2025; kinh phí của "
            "dòng được ghi cho Tỉnh Tuyên Quang.") in page


def test_2026_allocation_row_of_a_former_province_carries_the_warning(admin_user):
    preview = import_preview(fileobj=io.BytesIO(table([("Tỉnh Quảng Trị", "45", 10, 5), ("Tỉnh Quảng Trị", "44", 1, 1)],
                                                      2026)), name="x.xlsx", actor=admin_user)
    assert not preview.ok  # the former and today's Quảng Trị twice: a duplicate, as before
    preview = import_preview(fileobj=io.BytesIO(table([("Tỉnh Quảng Trị", "45", 10, 5)], 2026)), name="x.xlsx",
                             actor=admin_user)
    assert preview.ok and preview.batch is not None
    message = ("Tỉnh Quảng Trị (cũ, mã 45) đã sáp nhập vào Tỉnh Quảng Trị (mã 44) từ 01/07/2025; kinh phí của dòng "
               "được ghi cho Tỉnh Quảng Trị.")
    assert [w.message for w in preview.warnings] == [f"Dòng 7: {message}"]
    rows = ImportRow.objects.filter(batch=preview.batch)
    assert {(r.province.code, r.data["warning"]) for r in rows} == {("44", message)}


def test_tables_before_2026_have_no_warning(admin_user):
    with open(ANNEX, "rb") as fh:  # 2024: Bắc Giang, Nam Định … are the provinces of that year
        preview = import_preview(fileobj=fh, name="ke-hoach-kcqg-2024.xlsx", actor=admin_user, save=False)
    assert preview.ok and preview.warnings == []
    assert not accepted(table([("Tỉnh Hà Giang", "02", 10, 5)], 2025)).warnings


def test_2025_province_page_shows_how_the_table_split_the_allocation(admin_client, admin_user):
    """The historical provinces an allocation table of 2025 named stay visible: today's Tuyên Quang page
    shows Hà Giang (cũ) and Tuyên Quang (cũ) with their money, adding up to the allocation; a province
    whose territory and name did not change (Hà Nội) shows no such table, nor does a year on today's
    map, nor an allocation changed by hand since the table (its split no longer holds)."""
    rows = [("Tỉnh Hà Giang", "02", 100, 50), ("Tỉnh Tuyên Quang", "08", 30, 20), ("Thành phố Hà Nội", "01", 7, 3)]
    assert import_file(fileobj=io.BytesIO(table(rows, 2025)), name="phan-bo-2025.xlsx", actor=admin_user).ok
    page = admin_client.get(reverse("funding:province", kwargs={"code": "08", "year": 2025})).content.decode()
    assert "Phân bổ theo tỉnh, thành phố trước 01/07/2025" in page
    split = page.split('id="phan-bo-truoc-sap-nhap"')[1].split("</table>")[0]
    cells = [" ".join(c.split()) for c in __import__("re").findall(r"<t[dh][^>]*>(.*?)</t[dh]>", split, __import__("re").S)]
    assert cells[3:] == ["Kinh phí khuyến công quốc gia", "Tỉnh Hà Giang (cũ)", "100.000.000 đ",
                         "Tỉnh Tuyên Quang (cũ)", "30.000.000 đ",
                         "Kinh phí khuyến công địa phương", "Tỉnh Hà Giang (cũ)", "50.000.000 đ",
                         "Tỉnh Tuyên Quang (cũ)", "20.000.000 đ"], cells

    hanoi = admin_client.get(reverse("funding:province", kwargs={"code": "01", "year": 2025})).content.decode()
    assert "Phân bổ theo tỉnh, thành phố trước 01/07/2025" not in hanoi

    tuyen_quang = Province.objects.current().get(code="08")
    Allocation.objects.filter(province=tuyen_quang, plan__year=2025, source="local").update(amount=71 * TRIEU)
    changed = admin_client.get(reverse("funding:province", kwargs={"code": "08", "year": 2025})).content.decode()
    split = changed.split('id="phan-bo-truoc-sap-nhap"')[1].split("</table>")[0]
    assert "100.000.000 đ" in split and "50.000.000 đ" not in split

    assert import_file(fileobj=io.BytesIO(table([("Tỉnh Tuyên Quang", "08", 5, 5)], 2026)), name="2026.xlsx",
                       actor=admin_user).ok
    later = admin_client.get(reverse("funding:province", kwargs={"code": "08", "year": 2026})).content.decode()
    assert "Phân bổ theo tỉnh, thành phố trước 01/07/2025" not in later
