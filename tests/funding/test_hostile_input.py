"""Workbooks as ministry staff really produce them (LibreOffice, Google Sheets, WPS, hand-edited) and
hostile ones: each is either read right to the đồng or refused with a Vietnamese message naming the
sheet row, and a refusal leaves the database exactly as before."""
import io
import zipfile

import openpyxl
import pytest
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from funding.importers import ImportRejected
from funding.services import import_file, import_preview
from khuyencong import xlsx
from tests.funding.conftest import (
    ANNEX,
    allocation_book,
    rejected,
    replace_in_zip,
    snapshot,
    with_problems,
    xlsx_bytes,
)
from tests.funding.handmade import MAIN, alloc_rows, cell_xml, hand_built

pytestmark = pytest.mark.django_db
TRIEU = 1_000_000
GOOD = [("Thành phố Hà Nội", "01", 100, 50), ("Tỉnh Cao Bằng", "04", 30, 20)]


def accepted(data, name="bang.xlsx"):
    preview = import_preview(fileobj=io.BytesIO(data), name=name, actor=None, save=False)
    assert preview.ok, [p.message for p in preview.problems]
    return preview


def amounts(preview):
    return {(line.province.code, line.source): line.amount for line in preview.parsed.lines}


def annex():
    wb = openpyxl.load_workbook(ANNEX)
    return wb, wb.worksheets[0]


# === money as staff write it ==================================================================

def test_float_noise_from_formulas_is_read_as_excel_shows_it():
    """A SUM of decimals cached as 191.34000000000003 (what Excel stores) is 191,34 triệu, as Excel shows it."""
    rows, r = alloc_rows([("Thành phố Hà Nội", "01", 123.45, 67.89, "191.34000000000003")])
    body = rows.replace('<is><t>191.34000000000003</t></is>', "").replace(
        '<c r="F7" t="inlineStr">', '<c r="F7"><f>D7+E7</f><v>191.34000000000003</v>')
    preview = accepted(hand_built(body))
    assert amounts(preview) == {("01", "national"): 123_450_000, ("01", "local"): 67_890_000}


@pytest.mark.parametrize("text, dong", [
    ("1\u00a0500", 1_500 * TRIEU), ("1 500", 1_500 * TRIEU), ("1\u202f500", 1_500 * TRIEU), (" 1.500 ", 1_500 * TRIEU),
    ("1.250,5", 1_250_500_000),
])
def test_amounts_as_text_with_spaces_and_separators(text, dong):
    preview = accepted(xlsx_bytes(allocation_book([("Thành phố Hà Nội", "01", text, 0, None)], total=None)))
    assert amounts(preview)[("01", "national")] == dong


@pytest.mark.parametrize("text, words", [
    ("1,500.5", "kiểu tiếng Anh"), ("1,500", "không rõ nghĩa"), ("1.5", "không rõ nghĩa"), ("(1.500)", "số âm"),
    ("#REF!", "#REF!"),
])
def test_ambiguous_or_negative_text_is_an_error_naming_the_cell(text, words):
    messages = with_problems(xlsx_bytes(allocation_book([("Thành phố Hà Nội", "01", text, 0, None)], total=None)))
    assert any(m.startswith("Dòng 7:") and "D7" in m and words in m for m in messages), messages


def test_amount_with_its_own_unit_dong_in_a_trieu_table_is_not_scaled():
    preview = accepted(xlsx_bytes(allocation_book([("Thành phố Hà Nội", "01", "1.500.000.000 đồng", 7, None)], total=None)))
    assert amounts(preview)[("01", "national")] == 1_500_000_000


@pytest.mark.parametrize("code", ["#REF!", "#DIV/0!", "#N/A", "#VALUE!"])
def test_error_cells_are_errors_naming_the_row_not_zero(code):
    rows, _r = alloc_rows([("Thành phố Hà Nội", "01", 100, 0, 100), ("Tỉnh Cao Bằng", "04", 5, 0, 5)], total=None)
    rows = rows.replace('<c r="E7"><v>0</v></c>', f'<c r="E7" t="e"><f>1/0</f><v>{code}</v></c>')
    messages = with_problems(hand_built(rows))
    assert any(m.startswith("Dòng 7:") and "E7" in m and code in m for m in messages), messages


def test_formula_without_value_in_a_shared_formula():
    rows, _r = alloc_rows([("Thành phố Hà Nội", "01", 100, 0, 100)], total=None)
    rows = rows.replace('<c r="F7"><v>100</v></c>', '<c r="F7"><f t="shared" si="0"/></c>')
    messages = with_problems(hand_built(rows))
    assert any(m.startswith("Dòng 7:") and "F7" in m and "chưa có giá trị tính sẵn" in m for m in messages), messages


# === units =====================================================================================

@pytest.mark.parametrize("line, factor", [
    ("ĐVT: đồng", 1), ("Đơn vị tính: Đồng", 1), ("ĐVT: nghìn đồng", 1_000), ("ĐVT: ngàn đồng", 1_000),
    ("ĐVT: triệu đồng", TRIEU), ("ĐVT: Tr.đồng", TRIEU), ("ĐVT: Trđ", TRIEU), ("ĐVT: tr.đ", TRIEU),
    ("ĐVT: Triệu VNĐ", TRIEU), ("Đơn vị tính: 1.000.000 đồng", TRIEU), ("ĐVT: tỷ đồng", 1_000_000_000),
    ("ĐVT : Triệu đồng.", TRIEU), ("Đơn vị: triệu đồng", TRIEU), ("Đơn vị triệu đồng", TRIEU), ("ĐVT: Ng.đồng", 1_000),
    ("ĐVT: 1.000.000đ", TRIEU), ("ĐVT: Triệu đồng/năm", TRIEU),
])
def test_unit_line_spellings(line, factor):
    preview = accepted(xlsx_bytes(allocation_book([("Thành phố Hà Nội", "01", 150, 0, 150)], unit_line=line, total=None)))
    assert amounts(preview)[("01", "national")] == 150 * factor


@pytest.mark.parametrize("line", ["ĐVT: USD", "ĐVT: Tr. USD", "ĐVT: bộ"])
def test_unit_that_is_not_vietnamese_money_is_refused(line):
    message = rejected(xlsx_bytes(allocation_book(GOOD, unit_line=line)))
    assert "đơn vị tính" in message.lower()


# === layout ======================================================================================

@pytest.mark.parametrize("label", ["Tổng cộng", "TỔNG SỐ", "Cộng", "Tổng", "Tổng cộng toàn quốc", "Cộng:"])
def test_grand_total_wordings(label):
    wb = allocation_book(GOOD)
    wb["Phan bo"]["B9"] = label
    preview = accepted(xlsx_bytes(wb))
    assert len(preview.parsed.lines) == 4


def test_grand_total_wrong_in_another_wording_names_the_row():
    wb = allocation_book(GOOD)
    ws = wb["Phan bo"]
    ws["B9"] = "TỔNG SỐ"
    ws["D9"] = 131
    messages = with_problems(xlsx_bytes(wb))
    assert any(m.startswith("Dòng 9 (dòng tổng cộng)") and "lệch 1 triệu đồng" in m for m in messages), messages


def test_grand_total_above_the_rows():
    """Many ministry tables put TỔNG CỘNG right under the header, before group I."""
    wb, ws = annex()
    total = [ws.cell(row=45, column=c).value for c in range(1, 12)]
    ws.delete_rows(45)
    ws.insert_rows(9)
    for c, v in enumerate(total, 1):
        ws.cell(row=9, column=c, value=v)
    preview = accepted(xlsx_bytes(wb))
    assert len(preview.parsed.lines) == 30
    assert preview.parsed.totals()["national"] == 6_800 * TRIEU
    ws["I9"] = 6_801
    messages = with_problems(xlsx_bytes(wb))
    assert any(m.startswith("Dòng 9 (dòng tổng cộng)") for m in messages), messages


def test_rows_after_the_total_are_not_silently_dropped():
    """A "Cộng" subtotal of a region is not the end of the table: rows after it must not be lost."""
    wb = allocation_book(GOOD, total=None)
    ws = wb["Phan bo"]
    ws["B9"] = "Cộng"
    ws["D9"], ws["E9"], ws["F9"] = 130, 70, 200
    for c, v in enumerate((3, "Tỉnh Sơn La", "14", 5, 5, 10), 1):
        ws.cell(row=10, column=c, value=v)
    messages = with_problems(xlsx_bytes(wb))
    assert any(m.startswith("Dòng 10:") and "dưới dòng tổng cộng (dòng 9)" in m for m in messages), messages


def test_footer_lines_after_the_total_are_fine():
    wb = allocation_book(GOOD)
    ws = wb["Phan bo"]
    ws["B11"] = "NGƯỜI LẬP BIỂU"
    ws["E11"] = "KT. BỘ TRƯỞNG"
    ws["E12"] = "Hà Nội, ngày 15 tháng 01 năm 2026"
    assert len(accepted(xlsx_bytes(wb)).parsed.lines) == 4


def test_data_row_without_stt_whose_name_starts_like_a_total():
    """"Tổng kết…" or "Công nghệ…" in a row without STT is a đề án, not the total row."""
    wb, ws = annex()
    ws["A10"] = None
    ws["B10"] = "Tổng kết, đánh giá hoạt động khuyến công tại HTX Quyết Thắng"
    preview = accepted(xlsx_bytes(wb))
    assert len(preview.parsed.lines) == 30
    assert any(line.name.startswith("Tổng kết") for line in preview.parsed.lines)


def test_column_number_row_with_formulas_of_columns():
    wb, ws = annex()
    ws["H8"] = "(8)=(9)+(10)"
    ws["A8"] = "A"
    ws["B8"] = "B"
    preview = accepted(xlsx_bytes(wb))
    assert len(preview.parsed.lines) == 30


def test_extra_empty_columns_and_table_not_in_column_a():
    wb, ws = annex()
    ws.insert_cols(1, 2)
    ws.insert_cols(7)
    preview = accepted(xlsx_bytes(wb))
    assert preview.parsed.totals()["national"] == 6_800 * TRIEU


def test_hidden_sheet_with_an_old_table_is_not_read():
    wb = allocation_book([("Thành phố Hà Nội", "01", 999, 999)])
    old = wb["Phan bo"]
    old.title = "Cu"
    old.sheet_state = "hidden"
    new = allocation_book(GOOD)["Phan bo"]
    ws = wb.create_sheet("Phan bo")
    for row in new.iter_rows():
        for c in row:
            ws[c.coordinate] = c.value
    preview = accepted(xlsx_bytes(wb))
    assert preview.parsed.sheet_name == "Phan bo"
    assert amounts(preview)[("01", "national")] == 100 * TRIEU


def test_hidden_rows_are_read_and_counted():
    wb = allocation_book(GOOD)
    wb["Phan bo"].row_dimensions[8].hidden = True
    assert len(accepted(xlsx_bytes(wb)).parsed.lines) == 4


@pytest.mark.parametrize("name, code", [
    ("Tp. Hồ Chí Minh", "79"), ("TP HCM", "79"), ("TP.HCM", "79"), ("  Thành phố Hồ Chí Minh  ", "79"),
    ("Tỉnh Đồng Tháp".replace("á", "a\u0301"), "82"), ("Thừa Thiên Huế", "46"), ("Tỉnh Hoà Bình", "25"),
])
def test_province_spellings(name, code):
    preview = accepted(xlsx_bytes(allocation_book([(name, "", 10, 5)])))
    assert {c for c, _s in amounts(preview)} == {code}


def test_rich_text_cells_and_shared_strings():
    wb = allocation_book(GOOD)
    ws = wb["Phan bo"]
    ws["B7"] = CellRichText([TextBlock(InlineFont(b=True), "Thành phố "), "Hà Nội"])
    preview = accepted(xlsx_bytes(wb))
    assert amounts(preview)[("01", "national")] == 100 * TRIEU


def test_very_long_texts_are_an_error_naming_the_row():
    wb, ws = annex()
    ws["B10"] = "Hỗ trợ " * 200
    ws["D11"] = "Trung tâm " * 100
    messages = with_problems(xlsx_bytes(wb))
    assert any(m.startswith("Dòng 10:") and "Tên đề án" in m and "500" in m for m in messages), messages
    assert any(m.startswith("Dòng 11:") and "255" in m for m in messages), messages


# === the reader: hostile and unusual files =======================================================

def test_shared_string_index_out_of_range_or_negative():
    body = '<row r="1"><c r="A1" t="s"><v>-1</v></c></row>'
    wb = xlsx.Workbook(io.BytesIO(hand_built(body, shared=["a", "b"])))
    with pytest.raises(xlsx.WorkbookError):
        list(wb.rows(0))


def test_missing_shared_strings_part_is_a_clear_error():
    rows, _r = alloc_rows([("Thành phố Hà Nội", "01", 100, 0, 100)], total=None)
    rows = rows.replace('<c r="B7" t="inlineStr"><is><t>Thành phố Hà Nội</t></is></c>', '<c r="B7" t="s"><v>0</v></c>')
    data = hand_built(rows, shared=["Thành phố Hà Nội"])
    broken = replace_in_zip(data, {}, extra=None)
    src = zipfile.ZipFile(io.BytesIO(broken))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename != "xl/sharedStrings.xml":
                dst.writestr(info.filename, src.read(info.filename))
    message = rejected(out.getvalue())
    assert "chuỗi" in message


def test_shared_strings_without_relationship_still_found():
    rows, _r = alloc_rows([("Thành phố Hà Nội", "01", 100, 0, 100)], total=None)
    rows = rows.replace('<c r="B7" t="inlineStr"><is><t>Thành phố Hà Nội</t></is></c>', '<c r="B7" t="s"><v>0</v></c>')
    data = hand_built(rows, extra_parts={"xl/sharedStrings.xml": f'<sst xmlns="{MAIN}"><si><t>Thành phố Hà Nội</t></si></sst>'})
    assert amounts(accepted(data))[("01", "national")] == 100 * TRIEU


def test_missing_styles_part_reads_numbers():
    rows, _r = alloc_rows([("Thành phố Hà Nội", "01", 100, 0, 100)], total=None)
    rows = rows.replace('<c r="D7">', '<c r="D7" s="5">')
    assert amounts(accepted(hand_built(rows)))[("01", "national")] == 100 * TRIEU


def test_strict_ooxml_is_read_or_clearly_refused():
    rows, _r = alloc_rows([("Thành phố Hà Nội", "01", 100, 0, 100)], total=None)
    data = hand_built(rows, main="http://purl.oclc.org/ooxml/spreadsheetml/main",
                      relns="http://purl.oclc.org/ooxml/officeDocument/relationships")
    preview = accepted(data)
    assert amounts(preview)[("01", "national")] == 100 * TRIEU


def test_date_1904_system():
    rows = '<row r="1"><c r="A1" s="1"><v>0</v></c></row>'
    styles = '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs>'
    wb = xlsx.Workbook(io.BytesIO(hand_built(rows, styles=styles, workbook_pr='<workbookPr date1904="1"/>')))
    assert list(wb.rows(0))[0][1][0].year == 1904


# The guards against runaway work below assert the work itself — how many rows the reader hands on,
# how wide they are, how many bytes it decompresses —, not a duration: a timing would fail on a slow or
# busy machine and pass a regression on a fast one. bench/bench_hostile.py reports how long each
# hostile workbook takes (`make bench`).
def _real_rows(data):
    """The rows the reader hands on to the import, and the most values any of them holds."""
    rows = list(xlsx.Workbook(io.BytesIO(data)).rows(0))
    return len(rows), max(len(values) for _, values in rows)


def test_huge_column_reference_is_refused_as_soon_as_it_is_seen():
    body = '<row r="1"><c r="A1" t="inlineStr"><is><r><t>x</t></r></is></c><c r="AAAAAAAAAA1"><v>1</v></c></row>'
    wb = xlsx.Workbook(io.BytesIO(hand_built(body)))
    with pytest.raises(xlsx.WorkbookError, match="ngoài số cột tối đa của Excel"):
        list(wb.rows(0))


def test_a_million_empty_styled_rows_are_skipped_by_the_reader():
    rows, r = alloc_rows(GOOD, total=None)
    empty = "".join(f'<row r="{n}" spans="1:6" s="1" customFormat="1" ht="15"/>' for n in range(r, 1_048_577))
    data = hand_built(rows + empty, sheet_head='<dimension ref="A1:XFD1048576"/>')
    # Nothing is built for a row without a value: only the table's own rows reach the import.
    assert _real_rows(data)[0] == _real_rows(hand_built(rows))[0] == 5
    preview = accepted(data)
    assert len(preview.parsed.lines) == 4


def test_a_million_rows_with_an_empty_styled_cell_at_the_last_column():
    rows, r = alloc_rows(GOOD, total=None)
    empty = "".join(f'<row r="{n}"><c r="A{n}" s="1"/><c r="XFD{n}" s="1"/></row>' for n in range(r, 300_000))
    data = hand_built(rows + empty)
    count, widest = _real_rows(data)
    assert count == _real_rows(hand_built(rows))[0] == 5  # the styled but empty rows are not handed on
    assert widest <= 6  # nor padded out to column XFD
    preview = accepted(data)
    assert len(preview.parsed.lines) == 4


def test_one_giant_row_is_refused_without_reading_it_all(settings, monkeypatch):
    settings.IMPORT_MAX_COMPRESSION_RATIO = 10_000
    cell = '<c r="A1" t="inlineStr"><is><t>' + "x" * (64 * 1024 * 1024) + "</t></is></c>"
    data = hand_built(f'<row r="1">{cell}</row>')
    assert "lớn bất thường" in rejected(data)
    # The reader stops once a row is bigger than MAX_ROW_BYTES: a quarter of this 64 MB part.
    wb = xlsx.Workbook(io.BytesIO(data))
    opened, decompressed = wb.zip.open, []

    class Counted:
        def __init__(self, stream):
            self.stream = stream

        def read(self, n=-1):
            chunk = self.stream.read(n)
            decompressed.append(len(chunk))
            return chunk

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.stream.close()

    monkeypatch.setattr(wb.zip, "open", lambda *a, **k: Counted(opened(*a, **k)))
    with pytest.raises(xlsx.WorkbookError, match="lớn bất thường"):
        list(wb.rows(0))
    assert 0 < sum(decompressed) <= xlsx.MAX_ROW_BYTES + 2 * xlsx.BLOCK


def test_utf16_part_with_an_entity_bomb_is_refused():
    lol = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + "".join(f'<!ENTITY lol{i} "{(f"&lol{i - 1};" if i > 1 else "&lol;") * 10}">' for i in range(1, 10))
           + f']><styleSheet xmlns="{MAIN}"><numFmts><numFmt numFmtId="200" formatCode="&lol9;"/></numFmts></styleSheet>')
    rows, _r = alloc_rows(GOOD)
    data = hand_built(rows, styles="")
    data = replace_in_zip(data, {"xl/styles.xml": lol.encode("utf-16")})
    assert "UTF-8" in rejected(data)


def test_dtd_after_a_long_comment_is_refused():
    rows, _r = alloc_rows(GOOD)
    data = hand_built(rows, styles="")
    bomb = ('<?xml version="1.0"?><!--' + " " * 70_000 + '--><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'
            f'<styleSheet xmlns="{MAIN}"/>')
    assert "DTD" in rejected(replace_in_zip(data, {"xl/styles.xml": bomb.encode()}))


def test_external_entity_is_refused():
    data = xlsx_bytes(allocation_book(GOOD))
    xxe = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
           b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
           b'<row r="1"><c r="A1" t="inlineStr"><is><t>&e;</t></is></c></row></sheetData></worksheet>')
    assert "DTD" in rejected(replace_in_zip(data, {"xl/worksheets/sheet1.xml": xxe}))


def test_zip_slip_names_are_never_extracted():
    data = xlsx_bytes(allocation_book(GOOD))
    evil = replace_in_zip(data, {}, extra={"../../../../tmp/kc-zip-slip.txt": b"x", "/etc/kc-zip-slip": b"y"})
    preview = accepted(evil)
    assert len(preview.parsed.lines) == 4
    import os

    assert not os.path.exists("/tmp/kc-zip-slip.txt")


def test_relationship_pointing_outside_the_package():
    data = xlsx_bytes(allocation_book(GOOD))
    rels = zipfile.ZipFile(io.BytesIO(data)).read("xl/_rels/workbook.xml.rels")
    evil = rels.replace(b'Target="/xl/worksheets/sheet1.xml"', b'Target="../../../../etc/passwd"').replace(
        b'Target="worksheets/sheet1.xml"', b'Target="../../../../etc/passwd"')
    message = rejected(replace_in_zip(data, {"xl/_rels/workbook.xml.rels": evil}))
    assert "trang tính" in message


def test_many_thousand_problem_rows_stay_bounded():
    rows = [("Hà Tây", "", 1, 1)] * 20_000
    wb = allocation_book(rows, total=None)
    preview = import_preview(fileobj=io.BytesIO(xlsx_bytes(wb)), name="x.xlsx", actor=None, save=False)
    assert not preview.ok


# === headers as ministry staff write them =======================================================

def test_unrecognised_money_column_is_not_dropped_silently():
    """"Ngân sách tỉnh" was not read as KCĐP: its money vanished; now it is KCĐP, and any money column
    still not understood shows as a row total that does not add up."""
    wb = allocation_book(GOOD, headers=["STT", "Tỉnh, thành phố", "Mã tỉnh", "Kinh phí KCQG", "Ngân sách tỉnh", "Tổng cộng"])
    preview = accepted(xlsx_bytes(wb))
    assert amounts(preview)[("01", "local")] == 50 * TRIEU
    wb = allocation_book(GOOD, headers=["STT", "Tỉnh, thành phố", "Mã tỉnh", "Kinh phí KCQG", "Vốn lồng ghép", "Tổng cộng"])
    messages = with_problems(xlsx_bytes(wb))
    assert any(m.startswith("Dòng 7:") and "khác KCQG + KCĐP" in m for m in messages), messages


def test_province_column_called_ten_tinh():
    wb = allocation_book(GOOD, headers=["STT", "Tên tỉnh, thành phố", "Mã tỉnh", "Kinh phí KCQG", "Kinh phí KCĐP", "Tổng cộng"])
    assert len(accepted(xlsx_bytes(wb)).parsed.lines) == 4


def test_annex_column_kinh_phi_khuyen_cong_ho_tro():
    """DOMAIN §4's column name: national money in a KCQG plan."""
    wb, ws = annex()
    ws["I7"] = "Kinh phí khuyến công hỗ trợ"
    preview = accepted(xlsx_bytes(wb))
    assert preview.parsed.totals()["national"] == 6_800 * TRIEU


def test_group_row_with_roman_numeral_and_name_in_the_stt_cell():
    wb, ws = annex()
    ws["A9"] = "I. TỈNH THÁI NGUYÊN"
    ws["B9"] = None
    preview = accepted(xlsx_bytes(wb))
    assert len(preview.parsed.lines) == 30


def test_header_row_pasted_again_inside_the_table():
    wb = allocation_book(GOOD)
    ws = wb["Phan bo"]
    ws.insert_rows(8)
    for c in range(1, 7):
        ws.cell(row=8, column=c, value=ws.cell(row=6, column=c).value)
    assert len(accepted(xlsx_bytes(wb)).parsed.lines) == 4


def test_two_level_header_with_the_unit_in_the_merged_cell():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A2"] = "PHÂN BỔ KINH PHÍ KHUYẾN CÔNG NĂM 2026"
    for col, v in zip("ABCD", ["STT", "Tỉnh, thành phố", "Kinh phí (triệu đồng)", None], strict=True):
        ws[f"{col}4"] = v
    ws.merge_cells("C4:D4")
    ws.merge_cells("A4:A5")
    ws.merge_cells("B4:B5")
    ws["C5"], ws["D5"] = "KCQG", "KCĐP"
    ws.append([1, "Hà Nội", 100, 50])
    ws.append([2, "Cao Bằng", "30", "20"])
    ws.append([None, "Tổng cộng", 130, 70])
    preview = accepted(xlsx_bytes(wb))
    assert amounts(preview) == {("01", "national"): 100 * TRIEU, ("01", "local"): 50 * TRIEU,
                                ("04", "national"): 30 * TRIEU, ("04", "local"): 20 * TRIEU}


def test_unit_in_a_header_cell_contradicting_the_unit_line():
    wb = allocation_book(GOOD, headers=["STT", "Tỉnh, thành phố", "Mã tỉnh", "Kinh phí KCQG (đồng)", "Kinh phí KCĐP", "Tổng cộng"])
    message = rejected(xlsx_bytes(wb))
    assert "mâu thuẫn" in message and "triệu đồng" in message


def test_problems_beyond_a_thousand_are_counted_not_kept():
    rows = [("Hà Tây", "", 1, 1)] * 3_000
    preview = import_preview(fileobj=io.BytesIO(xlsx_bytes(allocation_book(rows, total=None))), name="x.xlsx",
                             actor=None, save=False)
    assert len(preview.problems) == 1_001
    assert preview.parsed.rows_read == 3_000
    assert "Còn 2.000 lỗi khác ở 2.000 dòng, từ dòng 1007 trở đi" in preview.problems[-1].message
    assert preview.counts()["error"] == 3_000


def test_a_lone_dash_means_nothing_in_a_money_column():
    preview = accepted(xlsx_bytes(allocation_book([("Thành phố Hà Nội", "01", 100, "-", 100)])))
    assert amounts(preview) == {("01", "national"): 100 * TRIEU}


# === files as other programs write them ==========================================================

def _libreoffice_style():
    """What LibreOffice Calc writes: shared strings, every row and cell styled, formulas with aca="false"
    and cached values, booleans spelled out, rows with half a dozen attributes."""
    strings = ["PHÂN BỔ KINH PHÍ KHUYẾN CÔNG NĂM 2026", "ĐVT: Tr.đồng", "STT", "Tỉnh, thành phố", "Mã tỉnh",
               "Kinh phí KCQG", "Kinh phí KCĐP", "Tổng cộng", "Thành phố Hà Nội", "01", "Tỉnh Cao Bằng", "04",
               '<si><r><rPr><b val="true"/></rPr><t xml:space="preserve">Tổng </t></r><r><t>cộng</t></r></si>']
    attrs = 'customFormat="false" ht="12.8" hidden="false" customHeight="false" outlineLevel="0" collapsed="false"'

    def s(ref, i):
        return f'<c r="{ref}" s="1" t="s"><v>{i}</v></c>'

    def n(ref, v, f=None):
        formula = f'<f aca="false">{f}</f>' if f else ""
        return f'<c r="{ref}" s="2" t="n">{formula}<v>{v}</v></c>'

    rows = [
        f'<row r="3" {attrs}>{s("A3", 0)}</row>', f'<row r="5" {attrs}>{s("E5", 1)}</row>',
        f'<row r="6" {attrs}>' + "".join(s(f"{c}6", i) for c, i in zip("ABCDEF", range(2, 8), strict=True)) + "</row>",
        f'<row r="7" {attrs}>{n("A7", 1)}{s("B7", 8)}{s("C7", 9)}{n("D7", "1250.5")}{n("E7", 50)}'
        f'{n("F7", "1300.5", "D7+E7")}<c r="G7" s="0" t="b"><v>1</v></c></row>',
        f'<row r="8" {attrs}>{n("A8", 2)}{s("B8", 10)}{s("C8", 11)}{n("D8", 30)}{n("E8", 20)}{n("F8", 50, "D8+E8")}</row>',
        f'<row r="9" {attrs}>{s("B9", 12)}{n("D9", "1280.5", "SUM(D7:D8)")}{n("E9", 70, "SUM(E7:E8)")}'
        f'{n("F9", "1350.5", "SUM(F7:F8)")}</row>',
        "".join(f'<row r="{r}" {attrs}><c r="A{r}" s="1"/><c r="B{r}" s="1"/></row>' for r in range(10, 2000)),
    ]
    return hand_built("".join(rows), shared=strings,
                      styles='<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="49"/><xf numFmtId="4"/></cellXfs>')


def test_libreoffice_style_workbook():
    preview = accepted(_libreoffice_style())
    assert amounts(preview) == {("01", "national"): 1_250_500_000, ("01", "local"): 50 * TRIEU,
                                ("04", "national"): 30 * TRIEU, ("04", "local"): 20 * TRIEU}


def test_google_sheets_style_workbook():
    """Google Sheets: numbers written as "100.0", single-quoted attributes from some exporters, cells
    referenced in lowercase, a thousand empty styled rows below the table."""
    rows, r = alloc_rows(GOOD)
    rows = rows.replace("<v>100</v>", "<v>100.0</v>").replace('<row r="7">', "<row r='7'>")
    rows = rows.replace('<c r="B8"', '<c r="b8"')
    empty = "".join(f"<row r='{n}' ht='15.75' customHeight='1'><c r='A{n}' s='3'/></row>" for n in range(r + 1, r + 1000))
    total = f'<row r="{r + 1000}">{cell_xml(f"B{r + 1000}", "Tổng cộng")}{cell_xml(f"D{r + 1000}", 130)}</row>'
    preview = accepted(hand_built(rows + empty + total))
    assert amounts(preview)[("01", "national")] == 100 * TRIEU and len(preview.parsed.lines) == 4


def test_province_cell_merged_over_two_rows_is_an_error_naming_the_row():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A2"] = "PHÂN BỔ KINH PHÍ KHUYẾN CÔNG NĂM 2026"
    ws["D3"] = "ĐVT: triệu đồng"
    ws.append(["STT", "Tỉnh, thành phố", "Nguồn kinh phí", "Kinh phí"])
    ws.append([1, "Hà Nội", "KCQG", 100])
    ws.append([None, None, "KCĐP", 50])
    ws.merge_cells("B5:B6")
    messages = with_problems(xlsx_bytes(wb))
    assert any(m.startswith("Dòng 6:") and "tỉnh" in m for m in messages), messages


def test_row_number_beyond_excel_is_refused():
    rows, _r = alloc_rows(GOOD)
    rows = rows.replace('<row r="8">', '<row r="3000000000">').replace('r="B8"', 'r="B3000000000"')
    assert "1.048.576" in rejected(hand_built(rows))


def test_forged_long_sheet_name_is_clipped_and_the_batch_saved(admin_user):
    data = xlsx_bytes(allocation_book(GOOD))
    long_name = "Phân bổ " * 40
    forged = replace_in_zip(data, {"xl/workbook.xml": lambda body: body.replace(b'name="Phan bo"', f'name="{long_name}"'.encode())})
    preview = import_preview(fileobj=io.BytesIO(forged), name="b.xlsx", actor=admin_user)
    assert preview.ok and preview.batch is not None
    assert len(preview.batch.sheet_name) == 100


def test_more_rows_than_an_import_takes(settings):
    settings.IMPORT_MAX_ROWS = 50
    rows = [("Thành phố Hà Nội", "01", 1, 1)] * 60
    message = rejected(xlsx_bytes(allocation_book(rows, total=None)))
    assert "hơn 50 dòng dữ liệu" in message and "Phan bo" in message


def test_a_value_far_right_on_every_row_is_not_padded_out(settings):
    settings.IMPORT_MAX_ROWS = 10_000  # the limit is reached as with 200.000, in a tenth of the rows
    rows, r = alloc_rows(GOOD, total=None)
    far = "".join(f'<row r="{n}"><c r="AMJ{n}"><v>1</v></c><c r="XFC{n}"><v>1</v></c></row>' for n in range(r, 21_000))
    data = hand_built(rows + far)
    # Column XFC (16.383 cells out) is dropped; AMJ, the last column kept, bounds every row's width.
    count, widest = _real_rows(data)
    assert count == _real_rows(hand_built(rows))[0] + 21_000 - r and widest == xlsx.MAX_COLUMNS
    with pytest.raises(ImportRejected, match="hơn 10.000 dòng dữ liệu"):  # more rows than an import takes
        import_preview(fileobj=io.BytesIO(data), name="x.xlsx", actor=None, save=False)


def _patch_method(data, name, method):
    """Set the compression method of one zip entry (local header and central directory)."""
    import struct

    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    d = bytearray(data)
    d[info.header_offset + 8:info.header_offset + 10] = struct.pack("<H", method)
    cd = d.find(b"PK\x01\x02")
    while cd >= 0:
        nlen = struct.unpack("<H", d[cd + 28:cd + 30])[0]
        if d[cd + 46:cd + 46 + nlen] == name.encode():
            d[cd + 10:cd + 12] = struct.pack("<H", method)
        cd = d.find(b"PK\x01\x02", cd + 4)
    return bytes(d)


def test_compression_method_excel_does_not_use_is_refused_not_a_crash():
    data = _patch_method(xlsx_bytes(allocation_book(GOOD)), "xl/worksheets/sheet1.xml", 9)  # Deflate64
    assert "kiểu nén" in rejected(data)


def test_two_parts_with_the_same_name_are_refused():
    import warnings

    data = xlsx_bytes(allocation_book(GOOD))
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(out, "w") as dst:
            for info in src.infolist():
                dst.writestr(info.filename, src.read(info.filename))
            dst.writestr("xl/worksheets/sheet1.xml", src.read("xl/worksheets/sheet1.xml").replace(b">100<", b">999<"))
    assert "trùng tên" in rejected(out.getvalue())


def test_sub_heading_inside_a_group_does_not_become_a_zero_dong_de_an():
    wb, ws = annex()
    ws.insert_rows(10)
    ws["A10"], ws["B10"] = "A", "Đề án chuyển tiếp từ năm 2023"
    messages = with_problems(xlsx_bytes(wb))
    assert any(m.startswith("Dòng 10:") and "không có kinh phí nào" in m for m in messages), messages


def test_former_provinces_in_a_2026_table_map_to_todays_and_keep_the_record():
    preview = accepted(xlsx_bytes(allocation_book([("Tỉnh Hà Giang", "", 10, 5), ("Tỉnh Yên Bái", "", 1, 1)])))
    lines = preview.parsed.lines
    assert {line.province.name for line in lines} == {"Tuyên Quang", "Lào Cai"}
    assert {line.recorded.name for line in lines} == {"Hà Giang", "Yên Bái"}
    wb = allocation_book([("Tỉnh Hà Giang", "", 10, 5), ("Tỉnh Tuyên Quang", "", 1, 1)])
    messages = with_problems(xlsx_bytes(wb))
    assert any(m.startswith("Dòng 8:") and "trùng với dòng 7" in m for m in messages), messages


def test_a_string_table_too_big_for_memory_is_refused(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_SHARED_STRINGS", 1_000)
    strings = [f"chuỗi {i}" for i in range(30_000)]
    rows, _r = alloc_rows(GOOD)
    assert "chuỗi văn bản" in rejected(hand_built(rows, shared=strings))


def test_a_huge_styles_part_is_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_SMALL_PART", 10_000)
    rows, _r = alloc_rows(GOOD)
    styles = '<cellXfs count="3000">' + '<xf numFmtId="0"/>' * 3000 + "</cellXfs>"
    assert "lớn bất thường" in rejected(hand_built(rows, styles=styles))


@pytest.mark.parametrize("text", ["a&#0;b", "a&#x110000;b", "a&#xD800;b", "a\x01b"])
def test_characters_xml_forbids_are_refused_naming_the_row_not_a_crash(text):
    """The regex fast path decoded "&#0;" to a NUL that PostgreSQL refuses (a server error at the
    preview), "&#x110000;" raised ValueError; now the XML parser's rule applies."""
    rows, _r = alloc_rows(GOOD)
    rows = rows.replace("<t>Tỉnh Cao Bằng</t>", f"<t>{text}</t>")
    message = rejected(hand_built(rows))
    assert "dòng 8 của trang tính" in message and "không hợp lệ" in message


def test_bytes_that_are_not_utf8_are_refused_naming_the_row():
    rows, _r = alloc_rows(GOOD)
    data = hand_built(rows.replace("<t>Tỉnh Cao Bằng</t>", "<t>TINH_CAO_BANG</t>"))
    broken = replace_in_zip(data, {"xl/worksheets/sheet1.xml": lambda body: body.replace(b"TINH_CAO_BANG", b"T\xeenh Cao B\xe0ng")})
    assert "dòng 8 của trang tính" in rejected(broken)


def test_year_column_as_a_date_cell_or_text():
    from datetime import datetime

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "PHÂN BỔ KINH PHÍ KHUYẾN CÔNG"
    ws["D2"] = "ĐVT: triệu đồng"
    ws.append(["STT", "Tỉnh, thành phố", "Năm", "Nguồn kinh phí", "Kinh phí"])
    ws.append([1, "Hà Nội", datetime(2026, 1, 1), "KCQG", 100])
    ws["C4"].number_format = "yyyy"
    ws.append([2, "Hà Nội", " 2026 ", "KCĐP", "1.500"])
    preview = accepted(xlsx_bytes(wb))
    assert {(line.year, line.source, line.amount) for line in preview.parsed.lines} == {
        (2026, "national", 100 * TRIEU), (2026, "local", 1_500 * TRIEU)}


def test_money_cell_formatted_as_a_date_is_explained():
    wb = allocation_book(GOOD)
    wb["Phan bo"]["D7"].number_format = "dd/mm/yyyy"
    messages = with_problems(xlsx_bytes(wb))
    assert any(m.startswith("Dòng 7:") and "D7" in m and "định dạng ngày" in m and "09/04/1900" in m for m in messages), messages


def test_formula_whose_cached_result_is_empty_text_is_blank_not_an_error():
    """=IF(E7=0;"";E7), as tables hide zeros: Excel and LibreOffice cache the empty text as <v></v>."""
    rows, _r = alloc_rows([("Thành phố Hà Nội", "01", 100, 0, 100), ("Tỉnh Cao Bằng", "04", 30, 20, 50)], total=None)
    rows = rows.replace('<c r="E7"><v>0</v></c>', '<c r="E7" t="str"><f>IF(1=1,"",0)</f><v></v></c>')
    preview = accepted(hand_built(rows))
    assert amounts(preview) == {("01", "national"): 100 * TRIEU, ("04", "national"): 30 * TRIEU, ("04", "local"): 20 * TRIEU}
    missing = rows.replace('<f>IF(1=1,"",0)</f><v></v>', '<f>IF(1=1,"",0)</f>')
    messages = with_problems(hand_built(missing))
    assert any(m.startswith("Dòng 7:") and "E7" in m and "chưa có giá trị tính sẵn" in m for m in messages), messages


@pytest.mark.parametrize("label", ["S.T.T", "Số T.T", "TT", "Số thứ tự"])
def test_stt_header_spellings(label):
    wb, ws = annex()
    ws["A6"] = label
    assert len(accepted(xlsx_bytes(wb)).parsed.lines) == 30


def test_a_huge_cell_quoted_in_a_message_is_cut():
    messages = with_problems(xlsx_bytes(allocation_book([("Hà Tây " + "x" * 30_000, "", 1, 1)])))
    assert messages and all(len(m) <= 1_000 for m in messages)
    assert any(m.startswith("Dòng 7:") and m.endswith("…") for m in messages), messages


def test_ods_html_and_xml_spreadsheet_2003_are_named():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>")
    assert ".ods" in rejected(out.getvalue(), name="phan-bo.xlsx")
    html = "<html><body><table><tr><td>STT</td><td>Tỉnh</td></tr></table></body></html>".encode()
    assert "HTML" in rejected(html, name="phan-bo.xlsx")
    xml2003 = (b'<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?>'
               b'<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"></Workbook>')
    assert "XML Spreadsheet 2003" in rejected(xml2003, name="phan-bo.xlsx")


def test_province_marked_old_or_new():
    rows = [("Tỉnh Hà Giang (cũ)", "", 10, 5), ("Lào Cai (mới)", "", 1, 1), ("Tỉnh Bắc Ninh (trước sáp nhập)", "", 2, 2)]
    lines = accepted(xlsx_bytes(allocation_book(rows))).parsed.lines
    assert {(line.recorded.name, line.recorded.era, line.province.name) for line in lines} == {
        ("Hà Giang", "former", "Tuyên Quang"), ("Lào Cai", "current", "Lào Cai"), ("Bắc Ninh", "former", "Bắc Ninh")}
    messages = with_problems(xlsx_bytes(allocation_book([("Hà Tây (cũ)", "", 1, 1)])))
    assert any(m.startswith("Dòng 7:") and "Hà Tây" in m for m in messages), messages


def _random_text(rnd, n):
    pools = ["Hà Nội ", "Đức Thủy ", "a\u0301", "😀", "\u200b", "\u202e", "&<>\"'", "=1+2", "@SUM(A1)", "\t", "\n",
             "ﬁ", "Ǆ", "\u00a0", "'", "%s", "{0}", "\\", "…", "Ω", "ⅷ"]
    return "Đ" + "".join(rnd.choice(pools) for _ in range(n)).strip()  # openpyxl would write "=…" as a formula


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_texts_import_whole_or_are_refused_never_crash(admin_user, seed):
    """Seeded random texts (emoji, bidi marks, NFD, formula-looking, XML specials) in every text cell
    of an annex: the import either stores them as written (NFC) or names the row; nothing else."""
    import random

    from projects.models import DeAn

    rnd = random.Random(seed)
    wb, ws = annex()
    for r in range(10, 45):
        if isinstance(ws.cell(row=r, column=1).value, int):
            for c in (2, 3, 4, 5, 6, 7, 11):
                ws.cell(row=r, column=c, value=_random_text(rnd, rnd.randint(1, 30)))
    data = xlsx_bytes(wb)
    before = snapshot()
    result = import_file(fileobj=io.BytesIO(data), name="r.xlsx", actor=admin_user)
    if not result.ok:
        assert snapshot() == before
        assert all(p.message.startswith("Dòng ") for p in result.problems), [p.message for p in result.problems]
        return
    from khuyencong.textsearch import nfc

    names = {nfc(ws.cell(row=r, column=2).value)
             for r in range(10, 45) if isinstance(ws.cell(row=r, column=1).value, int)}
    assert set(DeAn.objects.values_list("name", flat=True)) == names


def test_a_formula_without_value_in_the_name_is_said_once():
    wb, ws = annex()
    ws["B10"] = "=CONCATENATE(\"Hỗ trợ\", C10)"
    messages = [m for m in with_problems(xlsx_bytes(wb)) if m.startswith("Dòng 10:")]
    assert len(messages) == 1 and "chưa có giá trị tính sẵn" in messages[0], messages


def test_unit_line_split_over_two_cells():
    wb = allocation_book(GOOD, unit_line="ĐVT:")
    wb["Phan bo"]["F5"] = "triệu đồng"
    assert amounts(accepted(xlsx_bytes(wb)))[("01", "national")] == 100 * TRIEU


def test_three_level_header():
    """"Kinh phí (triệu đồng)" over "Tổng số" | "Trong đó", "Trong đó" over "KCQG" | "KCĐP"."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "PHÂN BỔ KINH PHÍ KHUYẾN CÔNG NĂM 2026"
    ws.append(["STT", "Tỉnh, thành phố", "Kinh phí (triệu đồng)", None, None])
    ws.append([None, None, "Tổng số", "Trong đó", None])
    ws.append([None, None, None, "KCQG", "KCĐP"])
    ws.merge_cells("C2:E2")
    ws.merge_cells("D3:E3")
    ws.append(["(1)", "(2)", "(3)=(4)+(5)", "(4)", "(5)"])
    ws.append([1, "Hà Nội", 150, 100, 50])
    ws.append([None, "Tổng cộng", "150", "100", "50"])
    preview = accepted(xlsx_bytes(wb))
    assert amounts(preview) == {("01", "national"): 100 * TRIEU, ("01", "local"): 50 * TRIEU}
    assert preview.parsed.header_row == 4


def test_total_on_top_written_as_text_is_not_taken_for_a_header():
    wb = allocation_book(GOOD, total=None)
    ws = wb["Phan bo"]
    ws.insert_rows(7)
    for c, v in zip("BDEF", ["Tổng cộng", "130", "70", "200"], strict=True):
        ws[f"{c}7"] = v
    preview = accepted(xlsx_bytes(wb))
    assert len(preview.parsed.lines) == 4 and preview.parsed.header_row == 6


def test_header_and_column_number_rows_pasted_again_in_an_annex():
    wb, ws = annex()
    ws.insert_rows(21, 3)  # before group III: the header's three rows again, as when two printouts are joined
    for r_from, r_to in ((6, 21), (7, 22), (8, 23)):
        for c in range(1, 12):
            ws.cell(row=r_to, column=c, value=ws.cell(row=r_from, column=c).value)
    preview = accepted(xlsx_bytes(wb))
    assert len(preview.parsed.lines) == 30 and preview.parsed.totals()["national"] == 6_800 * TRIEU
