"""Every bad input gets a clear Vietnamese message and leaves the database exactly as before."""
import io
import struct

import openpyxl
import pytest

from funding.exports import commitments_workbook
from funding.services import import_file, import_preview
from khuyencong import xlsx
from khuyencong.xlsx import neutralise
from tests.funding.conftest import (
    ANNEX,
    allocation_book,
    rejected,
    replace_in_zip,
    with_problems,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db
GOOD = [("Thành phố Hà Nội", "01", 100, 50), ("Tỉnh Cao Bằng", "04", 30, 20)]


def test_file_over_the_size_limit_is_rejected_before_parsing(settings, monkeypatch):
    settings.IMPORT_MAX_BYTES = 1024
    opened = []
    monkeypatch.setattr(xlsx.Workbook, "__init__", lambda self, *a, **k: opened.append(1))
    message = rejected(xlsx_bytes(allocation_book(GOOD)))
    assert "Tệp quá lớn" in message and "tối đa" in message
    assert opened == []


def test_renamed_csv():
    message = rejected("STT;Tỉnh;Kinh phí\n1;Hà Nội;1.500\n".encode(), name="phan-bo.xlsx")
    assert "CSV" in message or "văn bản" in message


def _ole(streams):
    """A minimal OLE2 compound file header followed by a directory holding ``streams`` names."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    directory = b"".join(name.encode("utf-16-le").ljust(64, b"\x00") + struct.pack("<H", len(name) * 2 + 2) + b"\x00" * 62
                         for name in streams)
    return header + directory.ljust(4096, b"\x00")


def test_xls_file():
    message = rejected(_ole(["Root Entry", "Workbook"]), name="phan-bo.xls")
    assert ".xls" in message


def test_xls_renamed_to_xlsx():
    message = rejected(_ole(["Root Entry", "Workbook"]), name="phan-bo.xlsx")
    assert "97–2003 (.xls)" in message


def test_encrypted_xlsx():
    message = rejected(_ole(["Root Entry", "EncryptionInfo", "EncryptedPackage"]), name="phan-bo.xlsx")
    assert "mật khẩu" in message


def test_truncated_xlsx():
    data = xlsx_bytes(allocation_book(GOOD))
    message = rejected(data[: len(data) // 2])
    assert "bị hỏng hoặc không đầy đủ" in message


def test_xlsm_even_when_renamed():
    data = xlsx_bytes(allocation_book(GOOD))
    macro = replace_in_zip(
        data,
        {"[Content_Types].xml": lambda body: body.replace(
            b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")},
        extra={"xl/vbaProject.bin": b"\x00" * 64},
    )
    assert "macro" in rejected(macro, name="phan-bo.xlsx")
    assert "macro" in rejected(macro, name="phan-bo.xlsm")


def test_zip_bomb():
    data = xlsx_bytes(allocation_book(GOOD))
    bomb = replace_in_zip(data, {}, extra={"xl/media/padding.bin": b"\x00" * (60 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024
    assert "bom nén" in rejected(bomb)


def test_xml_entity_bomb():
    data = xlsx_bytes(allocation_book(GOOD))
    lol = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
           + b']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
           b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>')
    bomb = replace_in_zip(data, {"xl/worksheets/sheet1.xml": lol})
    assert "DTD" in rejected(bomb)


def test_formula_without_cached_value_is_an_error_not_zero():
    wb = allocation_book(GOOD, total=None)
    ws = wb["Phan bo"]
    ws["D7"] = "=40+60"  # openpyxl writes the formula with no computed value
    ws["B9"] = "Tổng cộng"
    ws["D9"] = "=SUM(D7:D8)"
    messages = with_problems(xlsx_bytes(wb))
    assert any("Ô D7 có công thức «=40+60» nhưng chưa có giá trị tính sẵn" in m for m in messages)
    assert any(m.startswith("Dòng 9:") and "D9" in m for m in messages)


def test_negative_amount():
    messages = with_problems(xlsx_bytes(allocation_book([("Thành phố Hà Nội", "01", -100, 50, -50)], total=None)))
    assert any(m.startswith("Dòng 7:") and "số âm" in m for m in messages)


def test_negative_amount_as_text():
    messages = with_problems(xlsx_bytes(allocation_book([("Thành phố Hà Nội", "01", "-1.500", 50, None)], total=None)))
    assert any("Dòng 7" in m and "số âm" in m for m in messages)


def test_province_that_does_not_exist():
    messages = with_problems(xlsx_bytes(allocation_book([("Hà Tây", "", 100, 50)] + GOOD[1:])))
    assert any(m.startswith("Dòng 7:") and "Hà Tây" in m for m in messages)


def test_duplicate_province_rows():
    rows = GOOD + [("Hà Nội", "01", 5, 5)]
    messages = with_problems(xlsx_bytes(allocation_book(rows)))
    assert any(m.startswith("Dòng 9:") and "trùng với dòng 7" in m for m in messages)


def test_former_and_current_name_of_the_same_province_are_duplicates():
    rows = [("Tỉnh Bắc Ninh", "", 10, 10), ("Bắc Giang", "", 5, 5)]  # 2026: both are today's Bắc Ninh
    messages = with_problems(xlsx_bytes(allocation_book(rows)))
    assert any(m.startswith("Dòng 8:") and "trùng với dòng 7" in m for m in messages)


def test_wrong_headers():
    wb = allocation_book(GOOD, headers=["Số", "Địa bàn", "Mã", "Tiền 1", "Tiền 2", "Cộng"])
    message = rejected(xlsx_bytes(wb))
    assert "Không tìm thấy bảng dữ liệu" in message


def test_missing_header_column():
    wb = allocation_book(GOOD, headers=["STT", "Tỉnh, thành phố", "Mã tỉnh", "Ghi chú", "Ghi chú 2", "Tổng cộng"])
    message = rejected(xlsx_bytes(wb))
    assert "thiếu cột bắt buộc" in message and "Kinh phí KCQG" in message and "dòng 6" in message


def test_missing_unit_line():
    message = rejected(xlsx_bytes(allocation_book(GOOD, unit_line=None)))
    assert "ĐVT" in message


def test_grand_total_that_does_not_add_up():
    messages = with_problems(xlsx_bytes(allocation_book(GOOD, total=[130, 70, 201])))
    assert any(m.startswith("Dòng 9 (dòng tổng cộng)") and "«Tổng cộng» ghi 201 triệu đồng" in m and "200 triệu đồng" in m
               for m in messages)


def test_row_total_that_does_not_add_up():
    messages = with_problems(xlsx_bytes(allocation_book([("Thành phố Hà Nội", "01", 100, 50, 151)], total=None)))
    assert any(m.startswith("Dòng 7:") and "khác KCQG + KCĐP" in m for m in messages)


def _annex_rows():
    wb = openpyxl.load_workbook(ANNEX)
    return wb, wb.worksheets[0]


def test_annex_group_subtotal_that_does_not_add_up():
    wb, ws = _annex_rows()
    ws["I15"] = 1527  # Bắc Giang's subtotal, one triệu off
    messages = with_problems(xlsx_bytes(wb))
    assert any(m.startswith("Dòng 15 (nhóm II – TỈNH BẮC GIANG)") and "lệch 1 triệu đồng" in m for m in messages)


def test_annex_unknown_province_group():
    wb, ws = _annex_rows()
    ws["B21"] = "TỈNH HÀ TÂY"
    messages = with_problems(xlsx_bytes(wb))
    assert any(m.startswith("Dòng 21") and "Hà Tây" in m for m in messages)
    assert any(m.startswith("Dòng 22") for m in messages)


def test_data_sheet_found_when_not_first_and_blank_rows_skipped(admin_user):
    wb = allocation_book(GOOD, extra_sheet_first=True)
    ws = wb["Phan bo"]
    ws.insert_rows(8)  # a blank row inside the table
    preview = import_preview(fileobj=io.BytesIO(xlsx_bytes(wb)), name="b.xlsx", actor=admin_user)
    assert preview.ok, preview.problems
    assert preview.parsed.sheet_name == "Phan bo" and preview.counts()["create"] == 4


def test_amounts_as_vietnamese_text_and_spellings(admin_user):
    rows = [("TP. Hồ Chí Minh", "", "1.500", "1.250,5", None), ("thanh pho ha noi", "", 7, 0, 7),
            ("Tỉnh Khánh Hoà", "", 3, 0, 3), ("Tỉnh Đồng Tháp".replace("á", "a\u0301"), "", 2, 0, 2)]
    preview = import_preview(fileobj=io.BytesIO(xlsx_bytes(allocation_book(rows, total=None))), name="c.xlsx", actor=admin_user)
    assert preview.ok, preview.problems
    amounts = {(line.province.code, line.source): line.amount for line in preview.parsed.lines}
    assert amounts[("79", "national")] == 1_500_000_000
    assert amounts[("79", "local")] == 1_250_500_000
    assert {code for code, _s in amounts} == {"79", "01", "56", "82"}


def test_text_starting_with_equals_is_stored_as_text_and_neutralised_on_export(admin_user):
    wb, ws = _annex_rows()
    ws["B10"] = "=HYPERLINK(\"http://x\",\"Đề án\")"
    ws["B10"].data_type = "s"  # typed as text in the sheet, as a user would with a leading '
    import_file(fileobj=io.BytesIO(xlsx_bytes(wb)), name="annex.xlsx", actor=admin_user)
    from projects.models import DeAn

    de_an = DeAn.objects.get(name__startswith="=HYPERLINK")
    assert de_an.name == '=HYPERLINK("http://x","Đề án")'
    exported = openpyxl.load_workbook(io.BytesIO(commitments_workbook(user=admin_user, year=2024)))
    cells = [c for row in exported.active.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.value.startswith("'=") and c.data_type == "s" for c in cells)


@pytest.mark.parametrize("text", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\x00=1"])
def test_neutralise(text):
    assert neutralise(text).startswith("'")
    assert "\x00" not in neutralise(text)


def test_neutralise_drops_nul_and_keeps_plain_text_plain():
    assert neutralise("\x00x") == "x"


def test_neutralise_leaves_plain_values():
    assert neutralise("Hà Nội") == "Hà Nội" and neutralise(5) == 5 and neutralise(None) is None
