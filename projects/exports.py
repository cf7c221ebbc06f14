"""The đề án list as an .xlsx workbook (openpyxl write_only: rows are streamed, memory stays flat).

Every text cell goes through ``khuyencong.xlsx.neutralise`` (the portal's one formula-neutralising
function): text starting with ``= + - @``, a tab, CR or NUL gets a leading apostrophe.
"""
import tempfile

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from khuyencong.choices import Era
from khuyencong.xlsx import neutralise

from .models import DeAn, Kind, Status

# Marked for translation here, translated when written (the export speaks the user's language).
HEADERS = (
    (gettext_noop("STT"), 6),
    (gettext_noop("Mã đề án"), 22),
    (gettext_noop("Tên đề án"), 60),
    (gettext_noop("Cấp"), 8),
    (gettext_noop("Loại"), 14),
    (gettext_noop("Năm"), 7),
    (gettext_noop("Tỉnh, thành phố (khi đăng ký)"), 22),
    (gettext_noop("Tỉnh, thành phố (hiện nay)"), 22),
    (gettext_noop("Đơn vị thực hiện"), 36),
    (gettext_noop("Nội dung hoạt động"), 30),
    (gettext_noop("Bắt đầu"), 12),
    (gettext_noop("Kết thúc"), 12),
    (gettext_noop("Trạng thái"), 20),
    (gettext_noop("Tổng kinh phí (đồng)"), 18),
    (gettext_noop("KCQG (đồng)"), 16),
    (gettext_noop("KCĐP (đồng)"), 16),
    (gettext_noop("Đối ứng (đồng)"), 16),
    (gettext_noop("Nguồn khác (đồng)"), 16),
    (gettext_noop("KCQG được duyệt (đồng)"), 18),
    (gettext_noop("Số quyết định"), 18),
    (gettext_noop("Ngày quyết định"), 14),
    (gettext_noop("KCĐP được duyệt (đồng)"), 18),
    (gettext_noop("Số quyết định của UBND tỉnh"), 18),
    (gettext_noop("Ngày quyết định của UBND tỉnh"), 14),
    (gettext_noop("Kinh phí quyết toán (đồng)"), 18),
)
MONEY_FORMAT = "#,##0"
DATE_FORMAT = "DD/MM/YYYY"
CHUNK = 2000


COLUMNS = (
    "pk", "code", "name", "level", "kind", "plan_year", "province__name", "current_province__name",
    "implementing_unit__name", "implementing_unit_name", "start_date", "end_date", "status", "total_amount",
    "national_amount", "local_amount", "counterpart_amount", "other_amount", "approved_national_amount",
    "decision_number", "decision_date", "province__era", "approved_local_amount", "local_decision_number",
    "local_decision_date", "settled_amount",
)


def max_rows():
    """Rows one export may hold (a bigger list must be filtered first): EXPORT_MAX_ROWS, default 10,000."""
    return getattr(settings, "EXPORT_MAX_ROWS", 10_000)


def _chunks(iterable, size):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _contents_of(ids):
    """{đề án id: "1.2 Tên nội dung; 4.1 …"} for ``ids``, in one query."""
    through = DeAn.contents.through
    result = {}
    for de_an_id, code, name in (through.objects.filter(dean_id__in=ids)
                                 .order_by("dean_id", "activitycontent__code")
                                 .values_list("dean_id", "activitycontent__code", "activitycontent__name")):
        text = f"{code} {name}"
        result[de_an_id] = f"{result[de_an_id]}; {text}" if de_an_id in result else text
    return result


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

    kinds = {k: str(v) for k, v in Kind.choices}
    statuses = {k: str(v) for k, v in Status.choices}
    # Plain tuples rather than model instances (a model per row and per join costs more than the
    # spreadsheet cell); the contents of each chunk come from one query on the link table.
    rows = queryset.prefetch_related(None).values_list(*COLUMNS)
    former_name = _("%(name)s (cũ)")
    number = 0
    for chunk in _chunks(rows.iterator(chunk_size=CHUNK), CHUNK):
        contents = _contents_of([r[0] for r in chunk])
        for (pk, code, name, level, kind, year, province, current, unit_name, unit_text, start, end, status,
             total, national, local, counterpart, other, approved, decision, decision_date, era, approved_local,
             local_decision, local_decision_date, settled) in chunk:
            number += 1
            if era != Era.CURRENT:
                province = former_name % {"name": province}
            ws.append([
                number, neutralise(code), neutralise(name), "KCQG" if level == "kcqg" else "KCĐP",
                kinds.get(kind, kind), year, neutralise(province), neutralise(current),
                neutralise(unit_name or unit_text or ""), neutralise(contents.get(pk, "")),
                day(start), day(end), statuses.get(status, status),
                money(total), money(national), money(local), money(counterpart), money(other), money(approved),
                neutralise(decision or ""), day(decision_date),
                money(approved_local), neutralise(local_decision or ""), day(local_decision_date), money(settled),
            ])
    return _saved(wb)


ESTABLISHMENT_HEADERS = (
    (gettext_noop("STT"), 6),
    (gettext_noop("Tên cơ sở"), 40),
    (gettext_noop("Loại hình"), 22),
    (gettext_noop("Mã số thuế"), 16),
    (gettext_noop("Địa chỉ"), 30),
    (gettext_noop("Xã, phường, đặc khu"), 20),
    (gettext_noop("Tỉnh, thành phố"), 20),
    (gettext_noop("Ngành nghề"), 20),
    (gettext_noop("Số lao động"), 10),
    (gettext_noop("Phụ nữ làm chủ"), 10),
    (gettext_noop("Dân tộc thiểu số"), 10),
    (gettext_noop("Làng nghề"), 10),
    (gettext_noop("Số đề án"), 10),
    (gettext_noop("Được hỗ trợ"), 10),
    (gettext_noop("Năm gần nhất"), 10),
)


def establishment_workbook(queryset, *, user):
    """«Cơ sở thụ hưởng» as listed (``selectors.establishment_list``: scoped, filtered, sorted) with
    each one's đề án counts, to a temporary file returned opened for reading at its start."""
    from . import selectors
    from .models import LegalForm

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_("Cơ sở thụ hưởng"))
    for index, (_header, width) in enumerate(ESTABLISHMENT_HEADERS, start=1):
        ws.column_dimensions[chr(64 + index)].width = width
    title = WriteOnlyCell(ws, value=neutralise(_("DANH SÁCH CƠ SỞ THỤ HƯỞNG")))
    title.font = Font(bold=True, size=13)
    ws.append([title])
    ws.append([neutralise(_("Xuất lúc %(t)s") % {"t": timezone.localtime().strftime("%H:%M %d/%m/%Y")}),
               neutralise(_("«Được hỗ trợ»: đề án đã phê duyệt và không bị hủy."))])
    header_cells = []
    for header, _width in ESTABLISHMENT_HEADERS:
        cell = WriteOnlyCell(ws, value=str(_(header)))
        cell.font = Font(bold=True)
        header_cells.append(cell)
    ws.append(header_cells)
    forms = {k: str(v) for k, v in LegalForm.choices}
    yes = _("Có")
    former_name = _("%(name)s (cũ)")
    number = 0
    for chunk in _chunks(queryset.iterator(chunk_size=CHUNK), CHUNK):
        selectors.establishment_counts(user=user, establishments=chunk)
        for e in chunk:
            number += 1
            province = e.province.full_name if e.province.era == Era.CURRENT else former_name % {"name": e.province.full_name}
            ws.append([
                number, neutralise(e.name), forms.get(e.legal_form, e.legal_form), neutralise(e.tax_code or ""),
                neutralise(e.address), neutralise(e.commune), neutralise(province), neutralise(e.trade),
                e.workers, yes if e.women_owned else "", yes if e.ethnic_minority else "",
                yes if e.craft_village else "", e.de_an_count, e.supported_count, e.last_year,
            ])
    return _saved(wb)


def _saved(wb):
    """``wb`` written to a temporary file, returned opened for reading at its start (the download
    streams it; a big export never sits whole in memory)."""
    out = tempfile.TemporaryFile(suffix=".xlsx")
    wb.save(out)
    out.seek(0)
    return out
