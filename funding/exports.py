"""Workbooks the portal writes: the import template and the exports of allocations and commitments.

``neutralise(value)`` is the one formula-neutralising function for every .xlsx the portal writes
(other apps import it from here): text starting with ``= + - @``, a tab, a carriage return or NUL gets
a leading apostrophe, so a spreadsheet never runs user text as a formula; characters XML cannot hold
are dropped. The allocation export uses the template's own layout, so what it exports re-imports
unchanged.

Provinces are written on the map of the plan year (``funding.importers.year_era``): the 63 provinces
before 01/07/2025 for 2025 and earlier, today's 34 from 2026. The templates' «Danh mục» lists that map;
the allocation export of a year up to 2025 writes each allocation as the last allocation table recorded
it (the former provinces added up into it, each with its own amount), else the former province whose
territory it is, else today's province with the note «(mới)» — every name checked against the importer's
own rule (``ProvinceResolver.pair``) so that the file re-imports unchanged.
"""
import io
from datetime import date

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from khuyencong.choices import Era
from khuyencong.formatting import format_date
from khuyencong.xlsx import neutralise

from .models import AllocationSource, source_for_level

SOURCE_CELL = {AllocationSource.NATIONAL: "KCQG", AllocationSource.LOCAL: "KCĐP"}
TEMPLATE_HEADERS = ["STT", "Tỉnh, thành phố", "Mã tỉnh", "Nguồn kinh phí", "Kinh phí", "Ghi chú"]


def _bold(ws, row, count):
    for col in range(1, count + 1):
        cell = ws.cell(row=row, column=col)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _save(wb):
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _title_block(ws, *, title, decision, unit_text, width):
    ws.cell(row=1, column=1, value=_("BỘ CÔNG THƯƠNG")).font = Font(bold=True)
    ws.cell(row=3, column=1, value=neutralise(title)).font = Font(bold=True, size=13)
    ws.merge_cells(start_row=3, start_column=1, end_row=3, end_column=width)
    ws.cell(row=3, column=1).alignment = Alignment(horizontal="center")
    ws.cell(row=4, column=1, value=neutralise(decision)).font = Font(italic=True)
    ws.merge_cells(start_row=4, start_column=1, end_row=4, end_column=width)
    ws.cell(row=4, column=1).alignment = Alignment(horizontal="center")
    ws.cell(row=5, column=width - 1, value=unit_text).font = Font(italic=True)


def map_provinces(year):
    """The provinces of the map a plan year is read on (importers.year_era), in code order."""
    from khuyencong.models import Province

    from .importers import year_era

    return list(Province.objects.filter(era=year_era(year)).order_by("code"))


def _province_sheet(wb, provinces):
    lists = wb.create_sheet(_("Danh mục"))
    lists.append([_("Tỉnh, thành phố"), _("Mã tỉnh")])
    for province in provinces:
        lists.append([province.full_name, province.code])
    lists.append([])
    lists.cell(row=1, column=4, value=_("Nguồn kinh phí"))
    lists.cell(row=2, column=4, value="KCQG")
    lists.cell(row=3, column=4, value="KCĐP")
    lists.sheet_state = "hidden"
    return len(provinces)


def _allocation_sheet(*, year, decision_text, unit, rows, with_level=False):
    """The template layout: title, decision line, ĐVT, header, one row per (province, source)."""
    wb = Workbook()
    ws = wb.active
    ws.title = _("Phân bổ %(y)s") % {"y": year}
    headers = list(TEMPLATE_HEADERS) + (["Cấp"] if with_level else [])
    width = len(headers)
    _title_block(
        ws,
        title=_("PHÂN BỔ KINH PHÍ KHUYẾN CÔNG NĂM %(y)s THEO TỈNH, THÀNH PHỐ") % {"y": year},
        decision=decision_text,
        unit_text="ĐVT: " + ("triệu đồng" if unit == "trieu" else "đồng"),
        width=width,
    )
    ws.append([])
    for col, header in enumerate(headers, start=1):
        ws.cell(row=6, column=col, value=header)
    _bold(ws, 6, width)
    provinces = map_provinces(year)
    count = _province_sheet(wb, provinces)
    former_map = bool(provinces) and provinces[0].era == Era.FORMER
    first = 7
    divisor = 1_000_000 if unit == "trieu" else 1
    total = 0
    for index, row in enumerate(rows, start=1):
        r = first + index - 1
        amount = row["amount"]
        total += amount
        value = amount // divisor if amount % divisor == 0 else amount / divisor
        ws.cell(row=r, column=1, value=index)
        ws.cell(row=r, column=2, value=neutralise(row["province_name"]))
        ws.cell(row=r, column=3, value=row["province_code"]).number_format = "@"
        ws.cell(row=r, column=4, value=row["source"])
        ws.cell(row=r, column=5, value=value).number_format = "#,##0.######"
        ws.cell(row=r, column=6, value=neutralise(row.get("note", "")))
        if with_level:
            ws.cell(row=r, column=7, value=row.get("level", ""))
    last = first + max(len(rows), 1) - 1
    total_row = last + 1
    ws.cell(row=total_row, column=2, value=_("Tổng cộng")).font = Font(bold=True)
    total_value = total // divisor if total % divisor == 0 else total / divisor
    ws.cell(row=total_row, column=5, value=total_value).font = Font(bold=True)
    ws.cell(row=total_row, column=5).number_format = "#,##0.######"
    # Data validation: province names from the hidden list, sources, amounts >= 0 (for 1.000 rows).
    end = max(last, first + 999)
    names = DataValidation(type="list", formula1=f"='{_('Danh mục')}'!$A$2:$A${count + 1}", allow_blank=True,
                           showErrorMessage=True, errorTitle=_("Tỉnh, thành phố"),
                           error=_("Chọn tỉnh, thành phố trong danh sách (%(n)s tỉnh, thành phố trước 01/07/2025, danh "
                                   "mục của kế hoạch năm %(y)s).") % {"n": count, "y": year} if former_map
                           else _("Chọn tỉnh, thành phố trong danh sách (34 tỉnh, thành phố từ 01/07/2025)."))
    codes = DataValidation(type="list", formula1=f"='{_('Danh mục')}'!$B$2:$B${count + 1}", allow_blank=True,
                           showErrorMessage=True, error=_("Chọn mã tỉnh trong danh sách."))
    sources = DataValidation(type="list", formula1='"KCQG,KCĐP"', allow_blank=False, showErrorMessage=True,
                             errorTitle=_("Nguồn kinh phí"), error=_("Chỉ nhận KCQG hoặc KCĐP."))
    amounts = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", showErrorMessage=True,
                             error=_("Kinh phí phải là số lớn hơn hoặc bằng 0."))
    for dv, col in ((names, "B"), (codes, "C"), (sources, "D"), (amounts, "E")):
        ws.add_data_validation(dv)
        dv.add(f"{col}{first}:{col}{end}")
    widths = [6, 32, 10, 16, 18, 30, 8]
    for col in range(1, width + 1):
        ws.column_dimensions[get_column_letter(col)].width = widths[col - 1]
    ws.freeze_panes = "A7"
    return wb


# The workbooks the importer reads back are Vietnamese administrative documents whatever the user's
# language: their title, decision line and unit are what the reader recognises (year, level, ĐVT).
@translation.override("vi")
def template_workbook(*, year=None):
    """The allocation template with an example row (delete it before filling in)."""
    from khuyencong.models import Province

    from .importers import year_era

    year = year or date.today().year
    hanoi = Province.objects.filter(era=year_era(year), code="01").first()
    rows = [{
        "province_name": hanoi.full_name if hanoi else "Thành phố Hà Nội",
        "province_code": "01",
        "source": "KCQG",
        "amount": 1_500_000_000,
        "note": _("Dòng ví dụ: thay bằng số liệu thật"),
    }]
    wb = _allocation_sheet(
        year=year,
        decision_text=_("(Kèm theo Quyết định số …/QĐ-BCT ngày …/…/%(y)s)") % {"y": year},
        unit="trieu",
        rows=rows,
    )
    return _save(wb)


@translation.override("vi")
def allocations_workbook(*, user, year, province=None):
    """Allocations of ``year`` that ``user`` may see (of one current ``province`` when given), in the
    template layout (re-imports unchanged)."""
    from .selectors import allocation_list

    allocations = list(allocation_list(user=user, year=year, province=province))
    plans = {a.plan for a in allocations}
    decision = next((p for p in sorted(plans, key=lambda p: p.level) if p.decision_number), None)
    with_level = any(a.source != source_for_level(a.plan.level) for a in allocations)
    rows = []
    for allocation, parts in _as_recorded(allocations, year):
        for province_name, province_code, amount in parts:
            rows.append({
                "province_name": province_name,
                "province_code": province_code,
                "source": SOURCE_CELL[allocation.source],
                "amount": amount,
                "level": "KCQG" if allocation.plan.level == "kcqg" else "KCĐP",
            })
    unit = "trieu" if all(row["amount"] % 1_000_000 == 0 for row in rows) else "dong"
    decision_text = (
        _("(Kèm theo Quyết định số %(n)s ngày %(d)s)") % {"n": decision.decision_number, "d": format_date(decision.decision_date)}
        if decision and decision.decision_date else _("(Xuất từ Cổng khuyến công)")
    )
    return _save(_allocation_sheet(year=year, decision_text=decision_text, unit=unit, rows=rows, with_level=with_level))


def _as_recorded(allocations, year):
    """[(allocation, [(province name, code, đồng), …]), …]: the rows that write each allocation on the
    map of ``year`` so that they re-import as it is.

    From 2026 (today's map) an allocation is one row of its province. Up to 2025 (the 63-province map)
    it is written as the last applied allocation table recorded it when that row still holds its
    amount (Hà Giang and Tuyên Quang, each with its amount, for today's Tuyên Quang in 2024); else as
    the one former province whose territory it is (Thừa Thiên Huế for today's Huế, Hà Nội); else as
    today's province marked «(mới)» (today's Bắc Ninh, two former provinces, with no record of the
    split). Each name is checked with the importer's rule (``ProvinceResolver.pair``) and marked
    «(cũ)»/«(mới)» when the plain name and code would not read back as that province."""
    from khuyencong.models import Province

    from .importers import ProvinceResolver, era_noted_name, year_era
    from .selectors import last_recorded_parts

    former_map = year_era(year) == Era.FORMER
    everyone = list(Province.objects.select_related("successor"))
    resolver = ProvinceResolver(year, rows=everyone)
    recorded = last_recorded_parts(allocations, everyone, preferred=resolver.preferred) if former_map else {}
    only_predecessor = {}
    if former_map:
        by_successor = {}
        for province in everyone:
            if province.era == Era.FORMER:
                by_successor.setdefault(province.successor_id, []).append(province)
        only_predecessor = {pk: found[0] for pk, found in by_successor.items() if len(found) == 1}

    def written(province):
        found, _message = resolver.pair(province.full_name, province.code)
        name = province.full_name if found is not None and found.pk == province.pk else era_noted_name(province)
        return neutralise(name), province.code

    out = []
    for allocation in allocations:
        parts = recorded.get(allocation.pk)
        if parts is None:
            province = only_predecessor.get(allocation.province_id, allocation.province) if former_map \
                else allocation.province
            parts = [(province, allocation.amount)]
        out.append((allocation, [(*written(province), amount) for province, amount in parts]))
    return out


COMMITMENT_COLUMNS = (
    (gettext_noop("STT"), 6), (gettext_noop("Mã đề án"), 22), (gettext_noop("Tên đề án"), 60),
    (gettext_noop("Tỉnh, thành phố (hiện nay)"), 28), (gettext_noop("Tỉnh, thành phố (khi đăng ký)"), 28),
    (gettext_noop("Năm kế hoạch"), 10), (gettext_noop("Nguồn"), 8), (gettext_noop("Số tiền cam kết (đồng)"), 20),
    (gettext_noop("Số quyết định"), 16), (gettext_noop("Ngày quyết định"), 14),
)
MONEY_FORMAT = "#,##0"
EXPORT_CHUNK = 2000


def commitments_workbook(*, user, year=None, province=None):
    """Commitments (đề án money held against allocations) that ``user`` may see, of one current
    ``province`` when given, as .xlsx bytes.

    Written with openpyxl's write-only mode: each row goes to the sheet's temporary file as it is read
    (``iterator``, in chunks of ``EXPORT_CHUNK``), so memory does not grow with the rows and the query
    count stays the same (the đề án, provinces and plan come with each row). Money is integer đồng with
    a thousands format; every text cell goes through ``neutralise``."""
    from .selectors import commitment_list

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_("Cam kết kinh phí"))
    for col, (_header, width) in enumerate(COMMITMENT_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width

    def styled(value, *, bold=False, header=False, number_format=None):
        cell = WriteOnlyCell(ws, value=value)
        if bold or header:
            cell.font = Font(bold=True)
        if header:
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        if number_format:
            cell.number_format = number_format
        return cell

    ws.append([_("CAM KẾT KINH PHÍ KHUYẾN CÔNG") + (f" {_('NĂM')} {year}" if year else "")
               + (f" – {neutralise(province.full_name).upper()}" if province is not None else "")])
    ws.append(["ĐVT: đồng"])
    ws.append([styled(str(_(header)), header=True) for header, _width in COMMITMENT_COLUMNS])
    total = 0
    rows = commitment_list(user=user, year=year, province=province).iterator(chunk_size=EXPORT_CHUNK)
    for index, c in enumerate(rows, start=1):
        total += c.amount
        ws.append([
            index, neutralise(c.de_an.code), neutralise(c.de_an.name), neutralise(c.allocation.province.full_name),
            neutralise(c.de_an.province.era_full_name), c.allocation.plan.year, SOURCE_CELL[c.allocation.source],
            styled(c.amount, number_format=MONEY_FORMAT),
            neutralise(c.de_an.decision_number), format_date(c.de_an.decision_date),
        ])
    ws.append([None, None, styled(_("Tổng cộng"), bold=True), None, None, None, None,
               styled(total, bold=True, number_format=MONEY_FORMAT)])
    return _save(wb)


# The plan annex (phụ lục kế hoạch): the layout of the Minister's decision annex the importer reads
# (funding.importers), as in ../shared/samples/ke-hoach-kcqg-2024.xlsx.
ANNEX_HEADERS = [
    "STT", "Tên đề án", "Nội dung hoạt động khuyến công", "Đơn vị thực hiện", "Đơn vị thụ hưởng",
    "Địa điểm thực hiện", "Thời gian thực hiện", "Kinh phí thực hiện", None, None, "Ghi chú",
]
ANNEX_MONEY_HEADERS = ["Tổng kinh phí", "Kinh phí KCQG hỗ trợ", "Vốn đối ứng và nguồn khác"]


@translation.override("vi")
def plan_annex_template_workbook(*, year=None):
    """The plan annex template: title, decision line, «ĐVT: triệu đồng», the two-level header, the
    «(1) (2) …» column-number row, one province group (Roman numeral, subtotals) with an example
    đề án, and the grand total — every total written as a number (the importer refuses formulas
    without cached values, and checks each subtotal against its rows). A hidden «Danh mục» sheet
    lists the provinces and the activity contents; column C offers the contents as a list."""
    from khuyencong.models import ActivityContent, Province

    year = year or date.today().year
    wb = Workbook()
    ws = wb.active
    ws.title = _("Phụ lục %(y)s") % {"y": year}
    width = len(ANNEX_HEADERS)
    _title_block(
        ws,
        title=_("KẾ HOẠCH KINH PHÍ KHUYẾN CÔNG QUỐC GIA NĂM %(y)s") % {"y": year},
        decision=_("(Kèm theo Quyết định số …/QĐ-BCT ngày …/…/%(y)s)") % {"y": year},
        unit_text="ĐVT: triệu đồng",
        width=width,
    )
    for col, header in enumerate(ANNEX_HEADERS, start=1):
        if header:
            ws.cell(row=6, column=col, value=header)
            if col != 8:
                ws.merge_cells(start_row=6, start_column=col, end_row=7, end_column=col)
    ws.merge_cells(start_row=6, start_column=8, end_row=6, end_column=10)
    for offset, header in enumerate(ANNEX_MONEY_HEADERS):
        ws.cell(row=7, column=8 + offset, value=header)
    for col in range(1, width + 1):
        ws.cell(row=8, column=col, value=f"({col})")
    for row in (6, 7, 8):
        _bold(ws, row, width)

    from .importers import year_era

    # The example group names Bắc Ninh on the year's map (27 before 01/07/2025, 24 from then).
    bac_ninh = Province.objects.filter(era=year_era(year), name="Bắc Ninh").first()
    province_name = (bac_ninh.full_name if bac_ninh else "Tỉnh Bắc Ninh").upper()
    example = [1, _("Dòng ví dụ: Hỗ trợ ứng dụng máy móc thiết bị tiên tiến trong sản xuất mây tre đan tại HTX Xuân Lai"),
               _("Hỗ trợ ứng dụng máy móc thiết bị tiên tiến"), _("Trung tâm Khuyến công tỉnh Bắc Ninh"),
               _("HTX Xuân Lai"), _("Xã Xuân Lai, tỉnh Bắc Ninh"), _("Tháng 3 - tháng 10/%(y)s") % {"y": year},
               900, 300, 600, _("Xóa dòng ví dụ này trước khi nhập")]
    ws.cell(row=9, column=1, value="I")
    ws.cell(row=9, column=2, value=province_name)
    for col, value in ((8, 900), (9, 300), (10, 600)):
        ws.cell(row=9, column=col, value=value)
    _bold(ws, 9, width)
    for col, value in enumerate(example, start=1):
        ws.cell(row=10, column=col, value=neutralise(value))
    ws.cell(row=11, column=2, value=_("TỔNG CỘNG"))
    for col, value in ((8, 900), (9, 300), (10, 600)):
        ws.cell(row=11, column=col, value=value)
    _bold(ws, 11, width)
    for row in (9, 10, 11):
        for col in (8, 9, 10):
            ws.cell(row=row, column=col).number_format = "#,##0.######"

    lists = wb.create_sheet(_("Danh mục"))
    lists.append([_("Tỉnh, thành phố"), _("Mã tỉnh"), None, _("Nội dung hoạt động khuyến công")])
    provinces = map_provinces(year)
    contents = list(ActivityContent.objects.filter(parent__isnull=False).order_by("instrument", "code")
                    .values_list("name", flat=True).distinct())
    for index in range(max(len(provinces), len(contents))):
        row = index + 2
        if index < len(provinces):
            lists.cell(row=row, column=1, value=provinces[index].full_name)
            lists.cell(row=row, column=2, value=provinces[index].code)
        if index < len(contents):
            lists.cell(row=row, column=4, value=neutralise(contents[index]))
    lists.sheet_state = "hidden"
    if contents:
        # A suggestion list, not a lock: the annexes in use write contents in their own words.
        offered = DataValidation(type="list", formula1=f"='{_('Danh mục')}'!$D$2:$D${len(contents) + 1}",
                                 allow_blank=True, showErrorMessage=False)
        ws.add_data_validation(offered)
        offered.add("C10:C2000")
    amounts = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", showErrorMessage=True,
                             error=_("Kinh phí phải là số lớn hơn hoặc bằng 0."))
    ws.add_data_validation(amounts)
    amounts.add("H9:J2000")
    for col, w in enumerate([6, 48, 30, 32, 26, 26, 22, 14, 14, 16, 20], start=1):
        ws.column_dimensions[get_column_letter(col)].width = w
    ws.freeze_panes = "A9"
    return _save(wb)
