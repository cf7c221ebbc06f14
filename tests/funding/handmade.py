"""Workbooks written by hand, part by part, as XML: what openpyxl would never write (hostile or odd
files). Shared by tests/funding/test_hostile_input.py and bench/bench_hostile.py."""
import io
import zipfile

CT = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
      b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
      b'<Default Extension="xml" ContentType="application/xml"/>'
      b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
      b'</Types>')
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELNS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def hand_built(sheet_rows, *, shared=None, styles=None, main=MAIN, relns=RELNS, sheet_head="", workbook_pr="",
               extra_parts=None, sheet_xml=None):
    """An .xlsx written by hand: ``sheet_rows`` is the XML inside <sheetData>."""
    rels = [f'<Relationship Id="rId1" Type="{relns}/worksheet" Target="worksheets/sheet1.xml"/>']
    parts = {}
    if shared is not None:
        rels.append(f'<Relationship Id="rId2" Type="{relns}/sharedStrings" Target="sharedStrings.xml"/>')
        sis = "".join(s if s.startswith("<si>") else f"<si><t xml:space=\"preserve\">{s}</t></si>" for s in shared)
        parts["xl/sharedStrings.xml"] = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{main}">{sis}</sst>'
    if styles is not None:
        rels.append(f'<Relationship Id="rId3" Type="{relns}/styles" Target="styles.xml"/>')
        parts["xl/styles.xml"] = f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{main}">{styles}</styleSheet>'
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CT)
        z.writestr("_rels/.rels", f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{pkg}">'
                                  f'<Relationship Id="rId1" Type="{relns}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{relns}">'
                                      f'{workbook_pr}<sheets><sheet name="Phụ lục" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{pkg}">'
                                                 + "".join(rels) + "</Relationships>")
        body = sheet_xml if sheet_xml is not None else (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}">{sheet_head}<sheetData>{sheet_rows}'
            f'</sheetData></worksheet>')
        z.writestr("xl/worksheets/sheet1.xml", body)
        for name, data in {**parts, **(extra_parts or {})}.items():
            z.writestr(name, data)
    return out.getvalue()


def cell_xml(ref, value):
    if value is None:
        return ""
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'
    return f'<c r="{ref}"><v>{value}</v></c>'


def alloc_rows(rows, *, unit="ĐVT: triệu đồng", start=7, total="auto"):
    """The allocation table's rows as sheet XML (header on row 6)."""
    out = [f'<row r="3">{cell_xml("A3", "PHÂN BỔ KINH PHÍ KHUYẾN CÔNG NĂM 2026")}</row>']
    if unit:
        out.append(f'<row r="5">{cell_xml("E5", unit)}</row>')
    heads = ["STT", "Tỉnh, thành phố", "Mã tỉnh", "Kinh phí KCQG", "Kinh phí KCĐP", "Tổng cộng"]
    out.append('<row r="6">' + "".join(cell_xml(f"{c}6", h) for c, h in zip("ABCDEF", heads, strict=True)) + "</row>")
    r = start
    for i, row in enumerate(rows, 1):
        out.append(f'<row r="{r}">' + "".join(cell_xml(f"{c}{r}", v) for c, v in zip("ABCDEF", (i, *row), strict=False)) + "</row>")
        r += 1
    return "".join(out), r
