"""A dashboard block's table as .xlsx: title, the selection, header, rows, totals. Text cells go
through ``khuyencong.xlsx.neutralise`` (no formula injection); money stays integer đồng."""
import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from khuyencong.xlsx import XLSX_CONTENT_TYPE, neutralise

__all__ = ["block_workbook", "XLSX_CONTENT_TYPE"]


def _value(column, row):
    value = row.get(column.key)
    if column.kind in ("days", "pct") and value is not None:
        return round(float(value), 1)
    return neutralise(value) if isinstance(value, str) else value


def block_workbook(*, block, scope, filters):
    wb = Workbook()
    ws = wb.active
    ws.title = neutralise(block.key)[:31]
    width = len(block.columns)
    ws.cell(row=1, column=1, value=neutralise(f"{block.title} — {scope}")).font = Font(bold=True, size=13)
    ws.cell(row=2, column=1, value=neutralise(filters.describe())).font = Font(italic=True)
    ws.cell(row=3, column=1, value=_("Đơn vị tiền: đồng"))
    for col, column in enumerate(block.columns, start=1):
        # Durations are shown on the page in the unit that reads; the sheet keeps one unit, days.
        label = _("%(label)s (ngày)") % {"label": column.label} if column.kind == "days" else str(column.label)
        cell = ws.cell(row=5, column=col, value=neutralise(label))
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        ws.column_dimensions[get_column_letter(col)].width = 44 if col <= 2 and column.kind == "text" else 18
    r = 6
    for row in block.rows:
        for col, column in enumerate(block.columns, start=1):
            cell = ws.cell(row=r, column=col, value=_value(column, row))
            kind = row.get("kind", "int") if column.kind == "mixed" else column.kind
            if kind in ("dong", "int"):
                cell.number_format = "#,##0"
        r += 1
    if block.totals:
        for col, column in enumerate(block.columns, start=1):
            cell = ws.cell(row=r, column=col, value=_value(column, block.totals))
            cell.font = Font(bold=True)
            if column.kind in ("dong", "int"):
                cell.number_format = "#,##0"
    ws.freeze_panes = "A6"
    if width:
        ws.auto_filter.ref = f"A5:{get_column_letter(width)}{max(r - 1, 5)}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
