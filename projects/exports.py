"""The đề án list as an .xlsx workbook (openpyxl write_only: rows are streamed, memory stays flat).

Every text cell goes through ``funding.exports.neutralise`` (the portal's one formula-neutralising
function): text starting with ``= + - @``, a tab, CR or NUL gets a leading apostrophe.
"""
import tempfile

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from funding.exports import neutralise

from .models import Kind, Status

HEADERS = (
    ("STT", 6), ("Mã đề án", 22), ("Tên đề án", 60), ("Cấp", 8), ("Loại", 14), ("Năm", 7),
    ("Tỉnh, thành phố (khi đăng ký)", 22), ("Tỉnh, thành phố (hiện nay)", 22), ("Đơn vị thực hiện", 36),
    ("Nội dung hoạt động", 30), ("Bắt đầu", 12), ("Kết thúc", 12), ("Trạng thái", 20),
    ("Tổng kinh phí (đồng)", 18), ("KCQG (đồng)", 16), ("KCĐP (đồng)", 16), ("Đối ứng (đồng)", 16),
    ("Nguồn khác (đồng)", 16), ("KCQG được duyệt (đồng)", 18), ("Số quyết định", 18), ("Ngày quyết định", 14),
)
MONEY_FORMAT = "#,##0"
DATE_FORMAT = "DD/MM/YYYY"
CHUNK = 2000


def _unit_name(row):
    if row.implementing_unit_id:
        return row.implementing_unit.name
    return row.implementing_unit_name


def de_an_workbook(queryset):
    """Write ``queryset`` (from ``selectors.de_an_list``: already scoped and filtered) to a temporary
    file and return it opened for reading, positioned at the start."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_("Đề án"))
    for index, (_header, width) in enumerate(HEADERS, start=1):
        ws.column_dimensions[chr(64 + index) if index <= 26 else "A"].width = width
    title = WriteOnlyCell(ws, value=neutralise(_("DANH SÁCH ĐỀ ÁN KHUYẾN CÔNG")))
    title.font = Font(bold=True, size=13)
    ws.append([title])
    ws.append([neutralise(_("Xuất lúc %(t)s") % {"t": timezone.localtime().strftime("%H:%M %d/%m/%Y")})])
    header_cells = []
    for header, _width in HEADERS:
        cell = WriteOnlyCell(ws, value=str(_(header)))
        cell.font = Font(bold=True)
        header_cells.append(cell)
    ws.append(header_cells)

    def money(value):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = MONEY_FORMAT
        return cell

    def day(value):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = DATE_FORMAT
        return cell

    for number, row in enumerate(queryset.iterator(chunk_size=CHUNK), start=1):
        contents = "; ".join(f"{c.code} {c.name}" for c in row.contents.all())
        ws.append([
            number,
            neutralise(row.code),
            neutralise(row.name),
            "KCQG" if row.level == "kcqg" else "KCĐP",
            neutralise(str(Kind(row.kind).label)),
            row.plan_year,
            neutralise(row.province.name),
            neutralise(row.current_province.name),
            neutralise(_unit_name(row) or ""),
            neutralise(contents),
            day(row.start_date),
            day(row.end_date),
            neutralise(str(Status(row.status).label)),
            money(row.total_amount),
            money(row.national_amount),
            money(row.local_amount),
            money(row.counterpart_amount),
            money(row.other_amount),
            money(row.approved_national_amount),
            neutralise(row.decision_number or ""),
            day(row.decision_date),
        ])
    out = tempfile.TemporaryFile(suffix=".xlsx")
    wb.save(out)
    out.seek(0)
    return out
