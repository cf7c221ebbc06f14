"""Reading the workbooks administrators already keep: allocation tables and plan annexes.

``parse_workbook(workbook)`` finds the data sheet and its header row (title rows above, two-level
merged headers, the "ĐVT" line, the "(1) (2) …" column-number row), reads every row into a
``ParsedImport`` and checks it: amounts (numbers or Vietnamese text, in the stated unit), provinces
(code or any spelling, read on the map of the plan year; a name and a code on one row must denote one
province; a province recorded before 01/07/2025 keeps its record and maps to today's),
duplicates, row totals, every group subtotal and the grand total. It touches the database once, to
load the 97 provinces. Nothing is written here; ``funding.services`` plans and applies.

Every problem is a ``Problem(sheet_row, message)`` with the row number as Excel shows it and a
Vietnamese reason. A file that cannot be read at all raises ``ImportRejected``.
"""
import functools
import hashlib
import operator
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from khuyencong.choices import Era, Level
from khuyencong.formatting import UNIT_LABELS, MoneyError, format_decimal, parse_money, split_unit
from khuyencong.textsearch import fold, fold_words, nfc
from khuyencong.xlsx import CellErrorValue, FormulaWithoutValue, column_letter

from .models import AllocationSource, ImportKind

_NOT_NONE = functools.partial(operator.is_not, None)
HEADER_SCAN_ROWS = 40
MAX_LISTED_PROBLEMS = 1000
MAX_PROBLEM_CHARS = 1000
ROMAN = re.compile(r"^[IVXLCDM]+\.?$")
ROMAN_LABEL = re.compile(r"^([IVXLC]+)\s*[.\-–)]\s*(\S.*)$", re.S)
COLUMN_NUMBER = re.compile(r"^\(?\s*\d{1,2}\s*\)?$")
# The column-number row also comes as "(8)=(9)+(10)" or "8=9+10" (how a total column is made), and some
# tables number their first columns with letters: "A", "B", "(C)".
COLUMN_FORMULA = re.compile(r"^\(?\s*\d{1,2}\s*\)?(?:\s*[=+\-x*×:/]\s*\(?\s*\d{1,2}\s*\)?)+$|^\(?[A-Z]\)?$")


class ImportRejected(Exception):
    """The whole file is refused (not a workbook, no header, no unit …). ``str(err)`` is Vietnamese."""


# --- column recognition -----------------------------------------------------------------------

FIELD_LABELS = {  # lazily translated

    "stt": _lazy("STT"),
    "name": _lazy("Tên đề án"),
    "contents": _lazy("Nội dung hoạt động khuyến công"),
    "implementing_unit": _lazy("Đơn vị thực hiện"),
    "beneficiary": _lazy("Đơn vị thụ hưởng"),
    "location": _lazy("Địa điểm thực hiện"),
    "schedule": _lazy("Thời gian thực hiện"),
    "total": _lazy("Tổng kinh phí"),
    "national": _lazy("Kinh phí KCQG"),
    "local": _lazy("Kinh phí KCĐP"),
    "counterpart": _lazy("Vốn đối ứng và nguồn khác"),
    "note": _lazy("Ghi chú"),
    "province": _lazy("Tỉnh, thành phố"),
    "province_code": _lazy("Mã tỉnh"),
    "source": _lazy("Nguồn kinh phí"),
    "amount": _lazy("Kinh phí"),
    "year": _lazy("Năm"),
    "level": _lazy("Cấp"),
}
MONEY_FIELDS = ("total", "national", "local", "counterpart", "amount")


_NATIONAL_WORDS = re.compile(r"\bnstw\b|\bns\s*tw\b|\bngan sach tw\b")
_LOCAL_WORDS = re.compile(r"\bnsdp\b|\bns\s*dp\b|\bngan sach tinh\b")


_UNIT_BRACKETS = re.compile(r"\(([^()]*)\)")


def classify_header(label):
    """Folded header text → field code, or None."""
    if "(" in label:  # "Kinh phí (triệu đồng)": the unit is read elsewhere, the name is what is left
        label = _UNIT_BRACKETS.sub(lambda m: " " if unit_words(m.group(1)) else m.group(0), label)
    lab = " ".join(label.split()).strip(" :.*")
    if not lab:
        return None
    if lab in ("stt", "tt", "so tt", "so thu tu") or lab.replace(".", "").replace(" ", "") in ("stt", "tt", "sott"):
        return "stt"  # also "S.T.T", "S TT", "Số T.T"
    if lab.startswith("ma tinh") or lab in ("ma", "ma so", "ma dvhc", "ma don vi hanh chinh"):
        return "province_code"
    if "ten de an" in lab or "ten nhiem vu" in lab or lab.startswith("ten de an"):
        return "name"
    if lab.startswith("noi dung"):
        return "contents"
    if "don vi thuc hien" in lab or "don vi chu tri" in lab:
        return "implementing_unit"
    if "thu huong" in lab:
        return "beneficiary"
    if lab.startswith("dia diem"):
        return "location"
    if lab.startswith("thoi gian"):
        return "schedule"
    if lab.startswith("ghi chu"):
        return "note"
    if "doi ung" in lab or "nguon khac" in lab:
        return "counterpart"
    if lab in ("nguon", "nguon kinh phi", "nguon von"):
        return "source"
    if "kcqg" in lab or "quoc gia" in lab or "trung uong" in lab or _NATIONAL_WORDS.search(lab):
        return "national"
    if "kcdp" in lab or ("dia phuong" in lab and ("kinh phi" in lab or "khuyen cong" in lab or "ngan sach" in lab)) \
            or _LOCAL_WORDS.search(lab):
        return "local"
    if lab.startswith("tinh") or lab in ("dia phuong", "don vi", "tinh, thanh pho", "tinh/thanh pho", "thanh pho") \
            or lab.startswith(("ten tinh", "ten dia phuong", "ten don vi hanh chinh")):
        return "province"
    if lab.startswith(("kinh phi khuyen cong", "kinh phi ho tro")) or "khuyen cong ho tro" in lab:
        # DOMAIN §4's "kinh phí khuyến công hỗ trợ": national or local money by the plan's level
        return "support"
    if lab.startswith("tong"):
        return "total"
    if lab in ("nam", "nam ke hoach"):
        return "year"
    if lab in ("cap", "cap de an", "cap ke hoach"):
        return "level"
    if lab.startswith("so tien") or lab in ("kinh phi", "kinh phi phan bo", "kinh phi duoc phan bo"):
        return "amount"
    return None


SOURCE_WORDS = {
    "kcqg": AllocationSource.NATIONAL,
    "quoc gia": AllocationSource.NATIONAL,
    "khuyen cong quoc gia": AllocationSource.NATIONAL,
    "kinh phi kcqg": AllocationSource.NATIONAL,
    "kinh phi khuyen cong quoc gia": AllocationSource.NATIONAL,
    "national": AllocationSource.NATIONAL,
    "trung uong": AllocationSource.NATIONAL,
    "kcdp": AllocationSource.LOCAL,
    "dia phuong": AllocationSource.LOCAL,
    "khuyen cong dia phuong": AllocationSource.LOCAL,
    "kinh phi kcdp": AllocationSource.LOCAL,
    "kinh phi khuyen cong dia phuong": AllocationSource.LOCAL,
    "local": AllocationSource.LOCAL,
}
SOURCE_LABELS = {AllocationSource.NATIONAL: "KCQG", AllocationSource.LOCAL: "KCĐP"}
LEVEL_WORDS = {"kcqg": Level.NATIONAL, "quoc gia": Level.NATIONAL, "kcdp": Level.LOCAL, "dia phuong": Level.LOCAL}


# --- results ----------------------------------------------------------------------------------

@dataclass
class Problem:
    sheet_row: int
    message: str


@dataclass
class AllocationLine:
    """One (province, source) amount read from an allocation table."""

    sheet_row: int
    year: int
    level: str
    province: object  # current Province
    recorded: object  # Province as written (former or current)
    source: str
    amount: int
    # Rows of former provinces merged into one current province (a 2021–2025 table on the 63-province
    # map): [(sheet row, recorded Province, đồng), …], ``amount`` being their sum; None for one row.
    parts: list | None = None
    warning: str = ""  # shown in the preview, does not block the import (a former province in a 2026 table)


@dataclass
class PlanLine:
    """One đề án row of a plan annex."""

    sheet_row: int
    stt: str
    province: object  # as recorded (the map in force for the plan year)
    name: str
    contents: str
    implementing_unit: str
    beneficiary: str
    location: str
    schedule: str
    start_date: object
    end_date: object
    total: int
    national: int
    local: int
    counterpart: int
    note: str
    source_ref: str = ""
    warning: str = ""  # shown in the preview, does not block the import (a former province in a 2026 annex)


@dataclass
class ParsedImport:
    kind: str = ""
    sheet_name: str = ""
    header_row: int = 0
    unit: str = ""
    year: int | None = None
    level: str = ""
    decision_number: str = ""
    decision_date: date | None = None
    title: str = ""
    lines: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    rows_read: int = 0
    labels: dict = field(default_factory=dict)  # field → header text as written in the sheet
    bad_unit: str = ""  # an "ĐVT: …" line naming no money unit (the file is refused)
    omitted: int = 0  # problems beyond MAX_LISTED_PROBLEMS: counted, not kept
    omitted_rows: int = 0
    _last_omitted_row: int = -1
    # Warnings: shown in the preview and the command's summary, kept with the batch, never blocking the
    # import (``ok`` looks at problems only). At most MAX_LISTED_PROBLEMS kept, the rest counted.
    warnings: list = field(default_factory=list)
    warnings_omitted: int = 0

    def label(self, field_name):
        return self.labels.get(field_name) or str(FIELD_LABELS[field_name])

    @property
    def ok(self):
        return not self.problems

    @property
    def problem_count(self):
        """Every problem found, listed or only counted: past MAX_LISTED_PROBLEMS one note line stands
        for the omitted ones, which ``omitted`` counts (that line is not a problem of its own)."""
        return len(self.problems) - (1 if self.omitted else 0) + self.omitted

    @property
    def warning_count(self):
        return len(self.warnings) + self.warnings_omitted

    def problem(self, row, message):
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            message = str(message)
            if len(message) > MAX_PROBLEM_CHARS:  # a 32.767-character cell quoted whole, a thousand times
                message = message[:MAX_PROBLEM_CHARS - 1] + "…"
            self.problems.append(Problem(row, message))
            return
        # A file where every row is wrong (a wrong layout, or one made to be) must not fill the memory
        # and the preview page with a million messages: the rows are still all read and counted.
        if not self.omitted:
            self.problems.append(Problem(row, ""))  # filled in by close_problems
        if row != self._last_omitted_row:
            self.omitted_rows += 1
            self._last_omitted_row = row
        self.omitted += 1

    def row_problems(self, row, errors):
        """Each of one row's errors, as «Dòng N: …»; the text is built only for the problems listed (a
        file wrong on every row is still read to the end, and counted)."""
        for error in errors:
            if len(self.problems) < MAX_LISTED_PROBLEMS:
                self.problem(row, _("Dòng %(row)s: %(msg)s") % {"row": row, "msg": error})
            else:
                self.problem(row, "")

    def warn(self, row, message):
        if len(self.warnings) < MAX_LISTED_PROBLEMS:
            self.warnings.append(Problem(row, str(message)[:MAX_PROBLEM_CHARS]))
        else:
            self.warnings_omitted += 1

    def close_problems(self):
        if self.omitted:
            first = self.problems[MAX_LISTED_PROBLEMS]
            first.message = _(
                "Còn %(n)s lỗi khác ở %(rows)s dòng, từ dòng %(row)s trở đi, không liệt kê ở đây; hãy sửa các lỗi trên "
                "rồi tải lên lại."
            ) % {"n": format_decimal(self.omitted), "rows": format_decimal(self.omitted_rows), "row": first.sheet_row}

    def totals_by_province(self):
        """{current province: {"national": đồng, "local": đồng, "counterpart": đồng}} over valid lines."""
        cached = getattr(self, "_totals_cache", None)
        if cached is not None and cached[0] == len(self.lines):
            return cached[1]
        # Keyed by the province's id (a model instance's __hash__ costs more than the sums).
        totals = {}
        provinces = {}
        allocation = self.kind == ImportKind.ALLOCATION
        for line in self.lines:
            province = line.province if allocation else line.province.current
            entry = totals.get(province.id)
            if entry is None:
                entry = totals[province.id] = {"national": 0, "local": 0, "counterpart": 0}
                provinces[province.id] = province
            if allocation:
                entry[line.source] += line.amount
            else:
                entry["national"] += line.national
                entry["local"] += line.local
                entry["counterpart"] += line.counterpart
        result = {provinces[pk]: totals[pk] for pk in sorted(totals, key=lambda pk: provinces[pk].code)}
        self._totals_cache = (len(self.lines), result)
        return result

    def totals(self):
        out = {"national": 0, "local": 0, "counterpart": 0}
        for entry in self.totals_by_province().values():
            for key in out:
                out[key] += entry[key]
        return out


def file_sha256(fileobj):
    digest = hashlib.sha256()
    fileobj.seek(0)
    for chunk in iter(lambda: fileobj.read(1 << 20), b""):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


# --- helpers ----------------------------------------------------------------------------------

def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return nfc(value) or ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, (FormulaWithoutValue, CellErrorValue)):
        return ""
    return str(value)


def _is_blank(values):
    if values:
        first = values[0]  # the STT of a data row: decided at once
        if first is not None and (type(first) is not str or first.strip()):
            return False
        last = values[-1]  # the reader ends a row at its last value: a row with one far right, at once
        if last is not None and (type(last) is not str or last.strip()):
            return False
    if values.count(None) == len(values):  # C speed for an empty row
        return True
    for v in filter(_NOT_NONE, values):  # the Nones of a sparse row skipped at C speed
        if v is not None and not (isinstance(v, str) and not v.strip()):
            return False
    return True


def _cell_name(col, row):
    return f"{column_letter(col)}{row}"


def _bad_cell_message(value, col, row):
    if isinstance(value, FormulaWithoutValue) and not value.formula:
        return _(
            "Ô %(cell)s có công thức nhưng chưa có giá trị tính sẵn (tệp do phần mềm tạo ra, chưa được mở và lưu trong "
            "Excel); không thể coi là 0. Hãy mở tệp trong Excel, lưu lại rồi tải lên."
        ) % {"cell": _cell_name(col, row)}
    if isinstance(value, FormulaWithoutValue):
        return _(
            "Ô %(cell)s có công thức «=%(f)s» nhưng chưa có giá trị tính sẵn (tệp do phần mềm tạo ra, chưa được mở "
            "và lưu trong Excel); không thể coi là 0. Hãy mở tệp trong Excel, lưu lại rồi tải lên."
        ) % {"cell": _cell_name(col, row), "f": value.formula}
    return _("Ô %(cell)s có giá trị lỗi %(code)s.") % {"cell": _cell_name(col, row), "code": value.code}


_DECISION = re.compile(r"(?:quyết định|qđ)\s*(?:số)?\s*:?\s*(\d{1,6}(?:/\d{4})?/[\wĐđ]{2,4}-[\wĐđ\-]{1,30})"
                       r"(?:\s*,?\s*ngày\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{4}))?", re.IGNORECASE)
_DECISION_LONG_DATE = re.compile(r"ngày\s*(\d{1,2})\s*tháng\s*(\d{1,2})\s*năm\s*(\d{4})", re.IGNORECASE)
_YEAR = re.compile(r"\bnam\s+(\d{4})\b")


# --- the unit line -----------------------------------------------------------------------------
# "ĐVT: triệu đồng" as staff write it: "Tr.đồng", "trđ", "tr.đ", "Triệu VNĐ", "1.000.000 đồng", "Tỷ", …
# The unit is read from the words after "ĐVT"/"Đơn vị tính" (or inside a header cell's brackets). A
# bare "đồng" counts only when nothing else is written before it: "Tr. đồng" must never become đồng
# (a silent × 1.000.000), and "USD" or "bộ" is no money unit at all: the file is refused.
_UNIT_WORDS = [
    ("ty", re.compile(r"^(?:ty|ti)\b")),
    ("trieu", re.compile(r"^(?:trieu|tr)\b|^trd\b|^tr\s*dong\b")),
    ("nghin", re.compile(r"^(?:nghin|ngan|ng)\b|^ngd\b")),
    ("ty", re.compile(r"^1[.,\s]?000[.,\s]?000[.,\s]?000\s*(?:dong|d|vnd)\b")),
    ("trieu", re.compile(r"^1[.,\s]?000[.,\s]?000\s*(?:dong|d|vnd)\b")),
    ("nghin", re.compile(r"^1[.,\s]?000\s*(?:dong|d|vnd)\b")),
    ("dong", re.compile(r"^(?:dong|vnd|vn dong|d)\b")),
]
_UNIT_LEAD = re.compile(r"(?:\bdvt\b|\bd\.v\.t\b|\bdon vi tinh\b)\s*[:.\-–]?\s*|\bdon vi\b\s*:?\s*")
_MONEY_AFTER_UNIT = re.compile(r"^(?:\s|\.)*(?:dong|d|vnd|vn dong)\b")


def unit_words(text):
    """The unit key of the words at the start of ``text`` (folded), "" when they name no Vietnamese
    money unit, None when ``text`` is empty."""
    words = text.strip(" :.-–()[]")
    if not words:
        return None
    for key, pattern in _UNIT_WORDS:
        match = pattern.match(words)
        if not match:
            continue
        if key in ("ty", "trieu", "nghin") and match.group(0) in ("ty", "ti", "tr", "ng", "trieu", "nghin", "ngan"):
            rest = words[match.end():]
            # "triệu", "triệu đồng", "tr.đ", "Tr. VNĐ": the money word may follow or not; another word may not
            if rest.strip(" .") and not _MONEY_AFTER_UNIT.match(rest):
                return ""
        return key
    return ""


def unit_from_line(text):
    """The unit of an "ĐVT: …" line (any spelling above); None when ``text`` is no unit line; "" when it
    is one but names no Vietnamese money unit (the caller refuses the file)."""
    folded = fold(text)
    match = _UNIT_LEAD.search(folded)
    if not match:
        return None
    key = unit_words(folded[match.end():])
    if not key and match.group(0).startswith("don vi") and not match.group(0).startswith("don vi tinh"):
        return None  # "Đơn vị: Sở Công Thương …" names an organisation, not a unit
    return "" if key is None else key


def _unit_in_header(text):
    """"Kinh phí (triệu đồng)" → "trieu"; None when the header cell names no unit."""
    folded = fold(text)
    for inner in re.findall(r"\(([^()]*)\)", folded):
        key = unit_words(inner)
        if key:
            return key
    return None


def _title_facts(parsed, texts):
    """Year, level, decision and unit from the rows above the header."""
    from khuyencong.formatting import parse_document_number

    lead_only = False  # "ĐVT:" in one cell, "triệu đồng" in the next
    for text in texts:
        folded = fold(text)
        if not parsed.unit:
            unit = unit_from_line(text)
            if lead_only and unit is None:
                unit = unit_words(folded) or None
                if unit:
                    parsed.unit = unit
                    parsed.bad_unit = ""
                    continue
            lead = _UNIT_LEAD.search(folded) if unit == "" else None
            lead_only = lead is not None and not folded[lead.end():].strip(" :.-–")
            if unit:
                parsed.unit = unit
                continue
            if unit == "" and not parsed.bad_unit and not lead_only:
                parsed.bad_unit = text
        if parsed.year is None:
            match = _YEAR.search(folded)
            if match and 2000 <= int(match.group(1)) <= 2100:
                parsed.year = int(match.group(1))
                parsed.title = parsed.title or text
        if not parsed.level:
            if "quoc gia" in folded or "kcqg" in folded:
                parsed.level = Level.NATIONAL
            elif "dia phuong" in folded or "kcdp" in folded:
                parsed.level = Level.LOCAL
        if not parsed.decision_number:
            match = _DECISION.search(text)
            if match:
                try:
                    parsed.decision_number = str(parse_document_number(match.group(1)))
                except ValueError:
                    parsed.decision_number = match.group(1)
                day = match.groups()[1:]
                if not day[0]:
                    long_match = _DECISION_LONG_DATE.search(text)
                    day = long_match.groups() if long_match else (None, None, None)
                if day[0]:
                    try:
                        parsed.decision_date = date(int(day[2]), int(day[1]), int(day[0]))
                    except ValueError:
                        pass


_SCHEDULE_MONTHS = re.compile(r"thang\s*(\d{1,2})(?:\s*/\s*(\d{4}))?\s*(?:-|–|den)\s*(?:thang\s*)?(\d{1,2})\s*/\s*(\d{4})")
_SCHEDULE_MY = re.compile(r"(\d{1,2})\s*/\s*(\d{4})\s*(?:-|–|den)\s*(\d{1,2})\s*/\s*(\d{4})")
_SCHEDULE_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})\s*(?:-|–|den)\s*(\d{1,2})/(\d{1,2})/(\d{4})")
_SCHEDULE_YEAR = re.compile(r"^(?:nam\s*)?(\d{4})$")


def _month_end(year, month):
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1).fromordinal(date(year, month + 1, 1).toordinal() - 1)


def parse_schedule(text, year):
    """"Tháng 3 - tháng 9/2024" → (01/03/2024, 30/09/2024); None, None when not understood."""
    folded = fold_words(text)
    if not folded:
        return None, None
    try:
        match = _SCHEDULE_DMY.search(folded)
        if match:
            d1, m1, y1, d2, m2, y2 = map(int, match.groups())
            return date(y1, m1, d1), date(y2, m2, d2)
        match = _SCHEDULE_MONTHS.search(folded)
        if match:
            m1, y1, m2, y2 = match.groups()
            y2 = int(y2)
            y1 = int(y1) if y1 else y2
            return date(y1, int(m1), 1), _month_end(y2, int(m2))
        match = _SCHEDULE_MY.search(folded)
        if match:
            m1, y1, m2, y2 = map(int, match.groups())
            return date(y1, m1, 1), _month_end(y2, m2)
        match = _SCHEDULE_YEAR.match(folded)
        if match:
            y = int(match.group(1))
            return date(y, 1, 1), date(y, 12, 31)
    except ValueError:
        return None, None
    return None, None


_ERA_NOTE = re.compile(r"\s*[(\[]?\s*(cũ|mới|trước sáp nhập|sau sáp nhập)\s*[)\]]?\s*$", re.IGNORECASE)

# The last plan year read on the 63-province map. A plan is decided before its year starts, so every
# plan up to 2025 was decided before the merger of 01/07/2025 and names the provinces of that time;
# plans from 2026 are decided after it, on the 34-province map.
LAST_FORMER_MAP_YEAR = 2025


def year_era(year):
    """The province map a plan year is read on: ``Era.FORMER`` (63 provinces, before 01/07/2025) for 2025
    and earlier, ``Era.CURRENT`` (34, from 01/07/2025) from 2026 — and when the year is not known."""
    return Era.FORMER if year is not None and year <= LAST_FORMER_MAP_YEAR else Era.CURRENT


def split_era_note(text):
    """"Hà Giang (cũ)" → ("Hà Giang", Era.FORMER); "Bắc Ninh (mới)" → ("Bắc Ninh", Era.CURRENT); a name
    without such a note → (text, None)."""
    text = nfc(text) or ""
    match = _ERA_NOTE.search(text)
    if not match or match.start() == 0:
        return text, None
    era = Era.FORMER if fold(match.group(1)).startswith(("cu", "truoc")) else Era.CURRENT
    return text[:match.start()], era


def province_label(province, *, code=True):
    """"Tỉnh Bắc Giang (trước 01/07/2025, mã 24)", "Tỉnh Bắc Ninh (từ 01/07/2025, mã 24)": which map a
    province belongs to, for messages about the two maps."""
    if province.era == Era.FORMER:
        if code:
            return _("%(name)s (trước 01/07/2025, mã %(code)s)") % {"name": province.full_name, "code": province.code}
        return _("%(name)s (trước 01/07/2025)") % {"name": province.full_name}
    if code:
        return _("%(name)s (từ 01/07/2025, mã %(code)s)") % {"name": province.full_name, "code": province.code}
    return _("%(name)s (từ 01/07/2025)") % {"name": province.full_name}


def era_noted_name(province):
    """The name with the note that picks its map whatever the table's year: "Tỉnh Bắc Ninh (mới)"."""
    return f"{province.full_name} ({'cũ' if province.era == Era.FORMER else 'mới'})"


class ProvinceResolver:
    """Find provinces by code or name against the 97 rows loaded once; answers are memoised.

    ``year`` is the plan year of the rows: names and codes are read on that year's map first
    (``year_era``), then on the other one."""

    def __init__(self, year, rows=None):
        from khuyencong.models import Province

        self.rows = rows if rows is not None else list(Province.objects.select_related("successor").all())
        self.year = year
        self.preferred = year_era(year)
        self.other = Era.CURRENT if self.preferred == Era.FORMER else Era.FORMER
        self.cache = {}
        self.on_cache = {}
        self.pair_cache = {}
        self.note_cache = {}
        predecessors = {}
        for province in self.rows:
            if province.era == Era.FORMER and province.successor_id:
                predecessors[province.successor_id] = predecessors.get(province.successor_id, 0) + 1
        self.predecessors = predecessors
        self.map_size = {era: sum(1 for p in self.rows if p.era == era) for era in (Era.FORMER, Era.CURRENT)}

    def find(self, text):
        """Return (province, None) or (None, Vietnamese message)."""
        key = text
        if key in self.cache:
            return self.cache[key]
        from khuyencong.selectors import ProvinceNotFound, find_province

        try:
            result = (find_province(text, era=self.preferred, provinces=self.rows), None)
        except ProvinceNotFound as first:
            try:
                result = (find_province(text, era=self.other, provinces=self.rows), None)
            except ProvinceNotFound:
                result = (None, str(first))
        if result[0] is None:
            result = self._with_era_note(text) or result
        self.cache[key] = result
        return result

    def find_on(self, text, era):
        """The province ``text`` (a code or a name, without a map note) names on the map ``era``, or None."""
        key = (text, era)
        if key not in self.on_cache:
            from khuyencong.selectors import ProvinceNotFound, find_province

            try:
                self.on_cache[key] = find_province(text, era=era, provinces=self.rows)
            except ProvinceNotFound:
                self.on_cache[key] = None
        return self.on_cache[key]

    def pair(self, name, code):
        """The province a row's name and code written together denote: (province, None), or (None,
        Vietnamese message) when they do not denote one and the same province.

        The rule (docs/funding.md, "Name and code on one row"): both are read on the year's map; if each
        names a province there, they must name the same one. If one of them names nothing on that map,
        both are read on the other map and must name the same province there. A map note on the name
        («(cũ)», «(mới)») reads both on that map only. So in a 2025 table «Tỉnh Bắc Ninh» with «24» is
        refused (24 is Bắc Giang on the 2025 map, Bắc Ninh was 27) even though the pair is today's Bắc
        Ninh, while «Thành phố Huế» with «46» (no Huế before the merger) is today's Huế."""
        key = (name, code)
        hit = self.pair_cache.get(key)
        if hit is None:
            hit = self.pair_cache[key] = self._pair(name, code)
        return hit

    def _pair(self, name, code):
        code_key = code.zfill(2) if code.isdigit() and len(code) <= 2 else code
        by_code, message = self.find(code_key)
        if by_code is None:
            return None, message
        base, noted = split_era_note(name)
        readings = None
        for era in (noted,) if noted else (self.preferred, self.other):
            named, coded = self.find_on(base, era), self.find_on(code_key, era)
            if named is not None and coded is not None:
                if named.pk == coded.pk:
                    return named, None
                readings = (named, coded)
                break
        if readings is None:
            by_name, _m = self.find(name)
            if by_name is None:
                return None, _("Mã tỉnh %(code)s (%(p)s) không khớp với tên «%(name)s».") % {
                    "code": code, "p": by_code.full_name, "name": name}
            if by_name.pk == by_code.pk:  # e.g. «Tỉnh Hà Giang (mới)» with «02»: the note was wrong, not the pair
                return by_name, None
            readings = (by_name, by_code)
        named, coded = readings
        parts = [_("Tên tỉnh «%(name)s» và mã tỉnh «%(code)s» không cùng một tỉnh: mã %(code)s là %(by_code)s, còn "
                   "«%(name)s» là %(by_name)s.") % {
            "name": name, "code": code, "by_code": province_label(coded, code=False), "by_name": province_label(named)}]
        if self.year is not None and not noted:
            parts.append(
                (_("Bảng năm %(year)s đọc tên và mã tỉnh theo danh mục %(n)s tỉnh, thành phố trước 01/07/2025.")
                 if self.preferred == Era.FORMER else
                 _("Bảng năm %(year)s đọc tên và mã tỉnh theo danh mục %(n)s tỉnh, thành phố từ 01/07/2025."))
                % {"year": self.year, "n": self.map_size[self.preferred]})
        if not noted:
            # The pair may be right on the other map (a 2025 table written with today's codes): say how
            # to write that province so the table means it.
            other = Era.CURRENT if named.era == Era.FORMER else Era.FORMER
            same = self.find_on(base, other)
            if same is not None and same == self.find_on(code_key, other):
                parts.append(_("Mã %(code)s và tên «%(name)s» cùng chỉ %(p)s: nếu đúng là tỉnh, thành phố này, hãy ghi "
                               "tên là «%(noted)s».") % {"code": code, "name": base.strip(), "p": province_label(same),
                                                         "noted": era_noted_name(same)})
        return None, " ".join(parts)

    def merger_note(self, province, year):
        """For a row of a plan year from 2026 (today's map), what a former province written in it became —
        "Tỉnh Bắc Giang (cũ, mã 24) đã sáp nhập vào Tỉnh Bắc Ninh (mã 24) từ 01/07/2025" — else ""."""
        if province.era != Era.FORMER or year is None or year_era(year) != Era.CURRENT:
            return ""
        note = self.note_cache.get(province.pk)
        if note is None:
            successor = province.successor
            merged = self.predecessors.get(successor.pk, 0) > 1
            note = self.note_cache[province.pk] = (
                _("%(old)s (cũ, mã %(old_code)s) đã sáp nhập vào %(new)s (mã %(new_code)s) từ 01/07/2025") if merged
                else _("%(old)s (cũ, mã %(old_code)s) là tỉnh, thành phố của danh mục trước 01/07/2025, nay là %(new)s "
                       "(mã %(new_code)s)")
            ) % {"old": province.full_name, "old_code": province.code, "new": successor.full_name,
                 "new_code": successor.code}
        return note

    def _with_era_note(self, text):
        """"Hà Giang (cũ)", "Tuyên Quang (mới)", "… (trước sáp nhập)": staff mark which map they mean."""
        from khuyencong.selectors import ProvinceNotFound, find_province

        base, era = split_era_note(text)
        if era is None:
            return None
        for attempt in (era, Era.CURRENT if era == Era.FORMER else Era.FORMER):
            try:
                return find_province(base, era=attempt, provinces=self.rows), None
            except ProvinceNotFound:
                continue
        return None


# --- the parser -------------------------------------------------------------------------------

def parse_workbook(workbook, *, max_problems=None):
    """Read ``workbook`` (a khuyencong.xlsx.Workbook) into a ParsedImport. Raises ImportRejected."""
    scanned = []
    hidden = list(getattr(workbook, "hidden", None) or [False] * len(workbook.sheets))
    # Hidden sheets (an old copy of the table, a lookup list) are not read: what the administrator sees
    # in Excel is what is imported. They are looked at only to explain a refusal.
    order = [i for i in range(len(workbook.sheets)) if not hidden[i]] + [i for i in range(len(workbook.sheets)) if hidden[i]]
    for index in order:
        name = workbook.sheets[index]
        rows = workbook.rows(index)
        head = []
        header = None
        for row_number, values in rows:
            head.append((row_number, values))
            found = _header_columns(values)
            if found is not None:
                header = (row_number, values, found)
                break
            if len(head) >= HEADER_SCAN_ROWS:
                break
        if header is None:
            scanned.append(name)
            continue
        if hidden[index]:
            raise ImportRejected(
                _(
                    "Bảng dữ liệu chỉ có ở trang tính ẩn «%(sheet)s»; trang tính ẩn không được nhập. Nếu đó đúng là bảng "
                    "cần nhập, hãy bỏ ẩn trang (chuột phải vào tên trang → Unhide / Bỏ ẩn), lưu lại rồi tải lên."
                )
                % {"sheet": name}
            )
        return _parse_sheet(name, head, header, rows, max_problems=max_problems)
    raise ImportRejected(
        _(
            "Không tìm thấy bảng dữ liệu trong các trang tính (%(sheets)s): cần một dòng tiêu đề có các cột "
            "«STT», «Tỉnh, thành phố», «Kinh phí KCQG», «Kinh phí KCĐP» (bảng phân bổ) hoặc «STT», «Tên đề án», "
            "«Đơn vị thực hiện», «Kinh phí KCQG hỗ trợ» (phụ lục kế hoạch)."
        )
        % {"sheets": ", ".join(f"«{s}»" for s in scanned)}
    )


def _header_columns(values):
    """{field: column} when ``values`` looks like a header row, else None."""
    found = {}
    for col, value in enumerate(values):
        if not isinstance(value, str):
            continue
        code = classify_header(fold(value))
        if code and code not in found:
            found[code] = col
    anchors = {"name", "province", "province_code"} & set(found)
    if len(found) >= 3 and anchors:
        return found
    return None


def _sub_header(values, header_cols):
    """The second line of a two-level header: text only, nothing in the STT column, some known labels."""
    texts = [(col, v) for col, v in enumerate(values) if v is not None and not (isinstance(v, str) and not v.strip())]
    if not texts or any(not isinstance(v, str) or _NUMERIC_TEXT.match(v) for _c, v in texts):
        return None  # amounts written as text make a data or total row, never a header
    if all(COLUMN_NUMBER.match(v.strip()) for _c, v in texts):
        return None
    stt = header_cols.get("stt")
    if stt is not None and stt < len(values) and values[stt] not in (None, ""):
        return None
    found = {}
    for col, value in texts:
        code = classify_header(fold(value))
        if code:
            found[col] = code
    return found or None


def _is_column_number_row(values):
    texts = [v for v in values if v is not None and not (isinstance(v, str) and not v.strip())]
    if len(texts) < 3:
        return False
    if all(isinstance(v, str) and COLUMN_NUMBER.match(v.strip()) for v in texts):
        return True
    if all(isinstance(v, int) and not isinstance(v, bool) or isinstance(v, str) and (
            COLUMN_NUMBER.match(v.strip()) or COLUMN_FORMULA.match(v.strip().upper())) for v in texts):
        # mixed: some numbered, some "(8)=(9)+(10)" or letters; at least half plain column numbers
        plain = sum(1 for v in texts if isinstance(v, int) or COLUMN_NUMBER.match(v.strip()))
        return plain * 2 >= len(texts)
    return all(isinstance(v, int) for v in texts) and [int(v) for v in texts] == list(range(1, len(texts) + 1))


def _parse_sheet(sheet_name, head, header, rows, *, max_problems):
    parsed = ParsedImport(sheet_name=sheet_name)
    header_row, header_values, columns = header
    _title_facts(parsed, [_cell_text(v) for _r, vals in head[:-1] for v in vals if isinstance(v, str)])
    # Two- or three-level header ("Kinh phí" → "Tổng số" | "Trong đó" → "KCQG" | "Đối ứng"): look at the
    # next rows before the data.
    pending = []
    sub_rows = []
    for row_number, values in rows:
        sub = _sub_header(values, columns)
        if sub and len(sub_rows) < 2:
            sub_rows.append(values)
            for col, code in sub.items():
                # A sub-header names the column more precisely than the merged cell above it.
                for k, c in list(columns.items()):
                    if c == col:
                        del columns[k]
                columns.setdefault(code, col)
            header_row = row_number
            continue
        pending.append((row_number, values))
        break
    # Units written in the header cells, e.g. "Kinh phí (triệu đồng)".
    header_units = {}
    for row_values in (header_values, *sub_rows):
        for value in row_values:
            if isinstance(value, str):
                unit = unit_from_line(value) or _unit_in_header(value)
                if unit:
                    header_units.setdefault(unit, nfc(value))
    if not parsed.unit and len(header_units) == 1:
        parsed.unit = next(iter(header_units))
    elif len(header_units | ({parsed.unit: ""} if parsed.unit else {})) > 1:
        raise ImportRejected(
            _("Đơn vị tính mâu thuẫn (trang «%(sheet)s»): %(units)s; hãy để một đơn vị tính cho cả bảng.")
            % {
                "sheet": sheet_name,
                "units": "; ".join(
                    ([_("dòng ĐVT ghi %(u)s") % {"u": UNIT_LABELS[parsed.unit]}] if parsed.unit else [])
                    + [_("cột «%(c)s» ghi %(u)s") % {"c": text, "u": UNIT_LABELS[u]}
                       for u, text in header_units.items() if u != parsed.unit]
                ),
            }
        )
    if "support" in columns:
        col = columns.pop("support")
        if not ({"national", "local"} & set(columns)):
            columns["local" if parsed.level == Level.LOCAL else "national"] = col
    parsed.header_row = header_row
    header_text = {}
    for col, value in enumerate(header_values):
        if isinstance(value, str) and value.strip():
            header_text[col] = nfc(value)
    for sub_row in sub_rows:
        for col, value in enumerate(sub_row):
            if isinstance(value, str) and value.strip():
                header_text[col] = nfc(value)
    parsed.labels = {f: header_text[c] for f, c in columns.items() if c in header_text}
    fields = set(columns)
    if "name" in fields and ({"implementing_unit", "beneficiary", "contents"} & fields):
        parsed.kind = ImportKind.PLAN_ANNEX
        required = ["stt", "name"]
        if not ({"national", "local"} & fields):
            required.append("national")
    elif {"province", "province_code"} & fields:
        parsed.kind = ImportKind.ALLOCATION
        required = []
        if "source" in fields or "amount" in fields:
            required += ["source", "amount"]
        elif not ({"national", "local"} & fields):
            required.append("national")
    else:
        parsed.kind = ImportKind.ALLOCATION if "name" not in fields else ImportKind.PLAN_ANNEX
        required = ["name", "national"] if parsed.kind == ImportKind.PLAN_ANNEX else ["province", "national"]
    missing = [FIELD_LABELS[f] for f in required if f not in fields]
    if missing:
        raise ImportRejected(
            _("Dòng tiêu đề (dòng %(row)s, trang «%(sheet)s») thiếu cột bắt buộc: %(cols)s. Các cột đọc được: %(found)s.")
            % {
                "row": header_row,
                "sheet": sheet_name,
                "cols": ", ".join(f"«{m}»" for m in missing),
                "found": ", ".join(f"«{_cell_text(v)}»" for v in header_values if _cell_text(v)) or "—",
            }
        )
    if not parsed.unit and parsed.bad_unit:
        raise ImportRejected(
            _(
                "Đơn vị tính «%(text)s» (phía trên dòng tiêu đề, trang «%(sheet)s») không phải đơn vị tiền Việt Nam "
                "đọc được; hãy ghi «ĐVT: đồng», «ĐVT: nghìn đồng», «ĐVT: triệu đồng» hoặc «ĐVT: tỷ đồng»."
            )
            % {"text": parsed.bad_unit.strip(), "sheet": sheet_name}
        )
    if not parsed.unit:
        raise ImportRejected(
            _(
                "Không tìm thấy đơn vị tính: cần dòng «ĐVT: triệu đồng» (hoặc đồng, nghìn đồng, tỷ đồng) phía trên "
                "dòng tiêu đề (dòng %(row)s, trang «%(sheet)s»)."
            )
            % {"row": header_row, "sheet": sheet_name}
        )
    if parsed.year is None and "year" not in fields:
        raise ImportRejected(
            _("Không tìm thấy năm kế hoạch: tiêu đề phía trên bảng cần ghi «… năm 2026» (trang «%(sheet)s»).")
            % {"sheet": sheet_name}
        )
    if parsed.kind == ImportKind.PLAN_ANNEX and not parsed.level:
        parsed.level = Level.NATIONAL if "national" in fields else Level.LOCAL
    data = _chain(pending, rows)
    # The header pasted again inside the table (tables copied together from several sheets) is skipped.
    repeated = [header_values, *sub_rows]
    if parsed.kind == ImportKind.PLAN_ANNEX:
        _read_plan_rows(parsed, columns, data, max_problems, repeated)
    else:
        _read_allocation_rows(parsed, columns, data, max_problems, repeated)
    parsed.close_problems()
    return parsed


def _chain(first, rest):
    yield from first
    yield from rest


def _money_reader(parsed, columns):
    from khuyencong.formatting import MAX_DONG, UNITS

    unit = parsed.unit
    labels = {f: parsed.label(f) for f in MONEY_FIELDS}
    factor = UNITS[unit]
    limit = MAX_DONG // factor  # below it, a plain number is good money in the sheet's unit

    def read(values, row, field_name, errors, *, blank=0):
        col = columns.get(field_name)
        if col is None or col >= len(values):
            return blank
        value = values[col]
        if value is None:
            return blank
        kind = type(value)
        cell_unit = unit
        if kind is int:  # fast paths: plain numbers (the usual cell), no Decimal
            if 0 <= value < limit:
                return value * factor
        elif kind is float:
            if 0 <= value < limit and value.is_integer():
                return int(value) * factor
            # A formula's binary noise (=123.45+67.89 is cached as 191.34000000000003): read the number
            # as Excel shows it, to 15 significant digits. A figure with more digits than that is not
            # what anyone typed; one with a real fraction of a đồng is still refused below.
            if value == value and abs(value) != float("inf"):
                value = float(f"{value:.15g}")
                if 0 <= value < limit and value.is_integer():
                    return int(value) * factor
        elif isinstance(value, str):
            stripped = value.strip()
            if not stripped or stripped in _DASHES:
                # a lone dash is how Vietnamese tables write "nothing" in a money column
                return blank
            value = nfc(value).translate(_SPACES)
            if _DONG_SUFFIX.search(value) and split_unit(value)[1] is None:
                # "1.500.000.000 đồng" written in a triệu table: the cell's own unit wins, as for
                # "1,5 tỷ" — read in the column's unit it would be a million times too large.
                cell_unit = "dong"
        elif isinstance(value, (FormulaWithoutValue, CellErrorValue)):
            errors.append(_bad_cell_message(value, col, row))
            return None
        elif isinstance(value, datetime):
            errors.append(
                _("Cột «%(col)s» (ô %(cell)s) đang ở định dạng ngày (Excel hiện %(d)s), không phải số tiền; hãy định dạng "
                  "ô là số và nhập lại số tiền.")
                % {"col": labels[field_name], "cell": _cell_name(col, row), "d": value.strftime("%d/%m/%Y")}
            )
            return None
        try:
            return parse_money(value, cell_unit)
        except MoneyError as exc:
            errors.append(
                _("Cột «%(col)s» (ô %(cell)s): %(msg)s") % {"col": labels[field_name], "cell": _cell_name(col, row), "msg": exc}
            )
            return None

    return read


# Thin, narrow no-break and figure spaces that LibreOffice and Google Sheets put in "1 500" (the no-break
# space and the plain space are taken out by parse_money itself).
_SPACES = {0x2009: " ", 0x202F: " ", 0x2007: " ", 0x200B: None, 0xFEFF: None}
_DASHES = frozenset(("-", "–", "—", "−", "--"))
_DONG_SUFFIX = re.compile(r"\d\s*(?:đồng|đ|vnđ|vnd|dong)\s*$", re.IGNORECASE)


def _text_reader(columns):
    memo = {}

    def read(values, field_name, row, errors):
        col = columns.get(field_name)
        if col is None or col >= len(values):
            return ""
        value = values[col]
        if isinstance(value, (FormulaWithoutValue, CellErrorValue)):
            errors.append(_bad_cell_message(value, col, row))
            return ""
        if value is None:
            return ""
        if type(value) is str:
            text = memo.get(value)
            if text is None:
                text = nfc(value) or ""
                if len(memo) < 50_000:
                    memo[value] = text
            return text
        return _cell_text(value)

    return read


def _dong_text(amount, unit):
    """Đồng shown in the sheet's unit: 875_000_000 in triệu → "875 triệu đồng"."""
    from khuyencong.formatting import UNITS

    return f"{format_decimal(amount / UNITS[unit] if amount % UNITS[unit] else amount // UNITS[unit])} {UNIT_LABELS[unit]}"


def _stt_label(values, columns):
    col = columns.get("stt")
    value = values[col] if col is not None and col < len(values) else None
    match = ROMAN_LABEL.match(value.strip()) if isinstance(value, str) else None
    return nfc(match.group(2)).strip() if match else ""


def _row_kind(values, columns, label_fields):
    """"group", "total" or "data" for a non-blank row."""
    stt_col = columns.get("stt")
    stt = values[stt_col] if stt_col is not None and stt_col < len(values) else None
    stt_text = stt.strip() if isinstance(stt, str) else stt
    if isinstance(stt_text, str):
        if ROMAN.match(stt_text):
            return "group", stt_text.rstrip(".")
        match = ROMAN_LABEL.match(stt_text)
        if match:  # "I. TỈNH THÁI NGUYÊN" written whole in the STT cell
            return "group", match.group(1)
    if stt_text in (None, ""):
        for f in label_fields:
            col = columns.get(f)
            if col is not None and col < len(values) and isinstance(values[col], str) and is_total_label(values[col]):
                return "total", None
        # A label in the first column (e.g. "Tổng cộng" written in STT's cell, merged across).
        for value in values[: (stt_col or 0) + 1]:
            if isinstance(value, str) and is_total_label(value):
                return "total", None
    return "data", stt_text


# "Tổng cộng", "TỔNG SỐ", "Cộng", "Tổng", "Tổng cộng toàn quốc", "Cộng:", "Tổng cộng (I+II+…)" — but not a
# đề án called "Tổng kết …", "Công nghệ …" or "Cộng đồng …" written without its STT.
_TOTAL_LABEL = re.compile(r"^(?:tong cong|tong so)\b|^(?:tong|cong)(?:$|[\s:(.,\-–]+(?:$|toan quoc|ca nuoc|chung|\(|[ivx+ ]+\)?$))")


def is_total_label(text):
    return bool(_TOTAL_LABEL.match(fold(text).strip(" *")))


class _SumCheck:
    """Subtotals and the grand total against the rows under them."""

    def __init__(self, parsed, money_fields):
        self.parsed = parsed
        self.fields = money_fields
        self.group = None  # (row, label, stated sums, computed sums)
        self.grand = {f: 0 for f in money_fields}
        self.total_seen = False
        self.rows_seen = False  # a data or group row met (a total before any is a total on top)
        self.top_total = None  # (row, stated) of a grand total written above the rows

    def add(self, amounts):
        self.rows_seen = True
        for f in self.fields:
            value = amounts.get(f) or 0
            self.grand[f] += value
            if self.group is not None:
                self.group[3][f] += value

    def add_one(self, field_name, value):
        """``add({field_name: value})`` without building the dict (a 10.000-row table calls it per row)."""
        self.rows_seen = True
        self.grand[field_name] += value
        if self.group is not None:
            self.group[3][field_name] += value

    def open_group(self, row, label, stated):
        self.rows_seen = True
        self.close_group()
        self.group = (row, label, stated, {f: 0 for f in self.fields})

    def close_group(self):
        if self.group is None:
            return
        row, label, stated, computed = self.group
        self._compare(row, _("nhóm %(g)s") % {"g": label}, stated, computed)
        self.group = None

    def total(self, row, stated):
        """A grand-total row. Returns True when it closes the table (rows after it must be footers),
        False for a total written above the rows (ministry tables often put it first), checked at the end."""
        if not self.rows_seen and self.top_total is None:
            self.top_total = (row, stated)
            return False
        self.close_group()
        self.total_seen = True
        self._compare(row, _("dòng tổng cộng"), stated, self.grand)
        return True

    def finish(self):
        self.close_group()
        if self.top_total is not None:
            self.total_seen = True
            self._compare(self.top_total[0], _("dòng tổng cộng"), self.top_total[1], self.grand)

    def _compare(self, row, what, stated, computed):
        unit = self.parsed.unit
        for f in self.fields:
            value = stated.get(f)
            if value is None:
                continue
            if value != computed[f]:
                diff = value - computed[f]
                self.parsed.problem(
                    row,
                    _(
                        "Dòng %(row)s (%(what)s): cột «%(col)s» ghi %(stated)s nhưng cộng các dòng được %(computed)s "
                        "(lệch %(diff)s)."
                    )
                    % {
                        "row": row,
                        "what": what,
                        "col": self.parsed.label(f),
                        "stated": _dong_text(value, unit),
                        "computed": _dong_text(computed[f], unit),
                        "diff": _dong_text(abs(diff), unit),
                    },
                )


_NUMERIC_TEXT = re.compile(r"^\s*\(?[\d.,\s\u00a0]*\d[\d.,\s\u00a0]*\)?\s*$")


def _after_total(parsed, row, total_row, values, columns, money_fields):
    """A row under the grand total: signatures, notes and dates are fine; a row with an STT or an amount
    is refused — it would otherwise be left out of the import without a word (a "Cộng" subtotal of a
    region taken for the end of the table)."""
    stt_col = columns.get("stt")
    found = False
    if stt_col is not None and stt_col < len(values):
        stt = values[stt_col]
        if isinstance(stt, str):
            stt = stt.strip()
            found = stt.isdigit() or bool(ROMAN.match(stt))
        else:
            found = isinstance(stt, (int, float)) and not isinstance(stt, bool)
    for f in money_fields:
        if found:
            break
        col = columns.get(f)
        if col is not None and col < len(values):
            v = values[col]
            if isinstance(v, str):
                found = bool(_NUMERIC_TEXT.match(v))
            else:
                found = isinstance(v, (int, float, FormulaWithoutValue, CellErrorValue)) and not isinstance(v, bool)
    if found:
        parsed.problem(
            row,
            _(
                "Dòng %(row)s: có số liệu nằm dưới dòng tổng cộng (dòng %(total)s) nên không được tính vào bảng. Nếu dòng "
                "%(total)s là dòng cộng của một nhóm, hãy ghi số La Mã (I, II, …) ở cột STT của dòng nhóm; nếu đúng là tổng "
                "cộng, hãy đưa dòng %(row)s lên trên hoặc xóa đi."
            )
            % {"row": row, "total": total_row},
        )


def max_import_rows():
    from django.conf import settings

    return settings.IMPORT_MAX_ROWS


def _too_many_rows(parsed, max_rows):
    raise ImportRejected(
        _(
            "Bảng (trang «%(sheet)s») có hơn %(n)s dòng dữ liệu; một lần nhập nhận tối đa %(n)s dòng. Hãy chia bảng "
            "thành nhiều tệp."
        )
        % {"sheet": parsed.sheet_name, "n": format_decimal(max_rows)}
    )


def _read_plan_rows(parsed, columns, data, max_problems, repeated=None):
    repeated = [] if repeated is None else repeated
    max_rows = max_import_rows()
    money = _money_reader(parsed, columns)
    text = _text_reader(columns)
    resolver = ProvinceResolver(parsed.year)
    money_fields = [f for f in ("total", "national", "local", "counterpart") if f in columns]
    sums = _SumCheck(parsed, money_fields)
    seen_data = False
    group_province = None
    group_warning = ""
    group_row = None
    groups_seen = {}
    keys_seen = {}
    schedules = {}
    year = parsed.year
    lines = parsed.lines
    total_row = None
    for row, values in data:
        if max_problems and len(parsed.problems) >= max_problems:
            break
        if _is_blank(values) or values in repeated:
            continue
        if total_row is not None:
            _after_total(parsed, row, total_row, values, columns, money_fields)
            continue
        if not seen_data and _is_column_number_row(values):
            repeated.append(values)  # the "(1) (2) …" row may be pasted again further down too
            continue
        seen_data = True
        kind, stt = _row_kind(values, columns, ("name",))
        errors = []
        if kind in ("group", "total"):
            stated = {}
            for f in money_fields:
                stated[f] = money(values, row, f, errors, blank=None)
            parsed.row_problems(row, errors)
            if kind == "total":
                if sums.total(row, stated):
                    total_row = row
                continue
            label = text(values, "name", row, errors) or _stt_label(values, columns) or stt
            province, message = resolver.find(label) if label else (None, _("Dòng nhóm không có tên tỉnh, thành phố."))
            sums.open_group(row, f"{stt} – {label}", stated)
            group_row = row
            if province is None:
                parsed.problem(row, _("Dòng %(row)s (nhóm %(stt)s): %(msg)s") % {"row": row, "stt": stt, "msg": message})
                group_province = None
                group_warning = ""
                continue
            key = province.pk  # former provinces that merged later are separate groups
            if key in groups_seen:
                parsed.problem(
                    row,
                    _("Dòng %(row)s: nhóm %(p)s trùng với nhóm ở dòng %(prev)s.")
                    % {"row": row, "p": province.full_name, "prev": groups_seen[key]},
                )
            groups_seen.setdefault(key, row)
            group_province = province
            # A former province in an annex of 2026 or later (decided after the merger, on today's map):
            # its đề án keep it as the province they were registered in and count for its successor
            # (allocation, commitments, lists); the preview says so, the import is not blocked.
            note = resolver.merger_note(province, year)
            group_warning = _(
                "%(note)s; các đề án của nhóm được ghi cho %(p)s (tỉnh, thành phố khi đăng ký vẫn là %(old)s)."
            ) % {"note": note, "p": province.current.full_name, "old": province.era_full_name} if note else ""
            if group_warning:
                parsed.warn(row, _("Dòng %(row)s (nhóm %(stt)s): %(msg)s") % {"row": row, "stt": stt, "msg": group_warning})
            continue
        parsed.rows_read += 1
        if parsed.rows_read > max_rows:
            _too_many_rows(parsed, max_rows)
        name = text(values, "name", row, errors)
        name_failed = bool(errors)  # an error cell or a formula without value: said once, not twice
        national = money(values, row, "national", errors)
        local = money(values, row, "local", errors)
        counterpart = money(values, row, "counterpart", errors)
        total = money(values, row, "total", errors, blank=None)
        sums.add({"total": total or 0, "national": national or 0, "local": local or 0, "counterpart": counterpart or 0})
        if not name:
            if not name_failed:
                errors.append(_("Chưa có tên đề án."))
        elif not errors and not (national or local or counterpart or total):
            # A sub-heading inside a group ("Đề án chuyển tiếp", "A. Nhiệm vụ mới") would otherwise become
            # a đề án of 0 đồng.
            errors.append(
                _("«%(name)s» không có kinh phí nào (các cột kinh phí đều trống hoặc bằng 0): một đề án trong phụ lục "
                  "phải có kinh phí; nếu đây là dòng tiêu đề nhóm con, hãy xóa dòng hoặc ghi kinh phí.")
                % {"name": name[:80]}
            )
        if group_province is None:
            if group_row is None:
                errors.append(_("Đề án không nằm dưới dòng nhóm tỉnh, thành phố nào (dòng số La Mã I, II, …)."))
            else:
                errors.append(_("Tỉnh, thành phố của nhóm (dòng %(g)s) không xác định được.") % {"g": group_row})
        if None not in (national, local, counterpart) and total is not None:
            parts = national + local + counterpart
            if parts != total:
                errors.append(
                    _("«Tổng kinh phí» %(t)s khác tổng các nguồn %(p)s.")
                    % {"t": _dong_text(total, parsed.unit), "p": _dong_text(parts, parsed.unit)}
                )
        if errors:
            parsed.row_problems(row, errors)
            continue
        schedule = text(values, "schedule", row, errors)
        dates = schedules.get(schedule)
        if dates is None:  # the same few schedules repeat down an annex
            dates = schedules[schedule] = parse_schedule(schedule, year)
        start, end = dates
        beneficiary = text(values, "beneficiary", row, errors)
        line = PlanLine(
            sheet_row=row,
            stt="" if stt is None else str(stt),
            province=group_province,
            name=name,
            contents=text(values, "contents", row, errors),
            implementing_unit=text(values, "implementing_unit", row, errors),
            beneficiary=beneficiary,
            location=text(values, "location", row, errors),
            schedule=schedule,
            start_date=start,
            end_date=end,
            total=national + local + counterpart if total is None else total,
            national=national,
            local=local,
            counterpart=counterpart,
            note=text(values, "note", row, errors),
            warning=group_warning,
        )
        late = []
        for attr, field_name, limit in _TEXT_LIMITS:
            if len(getattr(line, attr)) > limit:
                late.append(
                    _("Cột «%(col)s» dài %(n)s ký tự, quá giới hạn %(max)s ký tự.")
                    % {"col": parsed.label(field_name), "n": format_decimal(len(getattr(line, attr))), "max": limit}
                )
        if start and end and end < start:
            late.append(_("«%(col)s» «%(v)s»: ngày kết thúc trước ngày bắt đầu.") % {"col": parsed.label("schedule"), "v": schedule})
        if late:
            parsed.row_problems(row, late)
            continue
        line.source_ref = plan_source_ref(year, parsed.level, group_province, name, beneficiary)
        if line.source_ref in keys_seen:
            parsed.problem(
                row,
                _("Dòng %(row)s: đề án trùng với dòng %(prev)s (cùng tỉnh, tên đề án và đơn vị thụ hưởng).")
                % {"row": row, "prev": keys_seen[line.source_ref]},
            )
            continue
        keys_seen[line.source_ref] = row
        lines.append(line)
    sums.finish()


# What the đề án tables hold (projects.models.DeAn, Establishment): longer text is refused at the
# preview, naming the row, instead of by the database when the administrator confirms.
_TEXT_LIMITS = (("name", "name", 500), ("implementing_unit", "implementing_unit", 255),
                ("beneficiary", "beneficiary", 255), ("location", "location", 255))


def plan_source_ref(year, level, province, name, beneficiary):
    """A stable key for a plan-annex row: the same đề án in a corrected annex updates, not duplicates."""
    digest = hashlib.sha1(f"{fold_words(name)}|{fold_words(beneficiary)}".encode()).hexdigest()[:20]
    return f"phu-luc:{year}:{level}:{province.era[0]}{province.code}:{digest}"


_WORD_MEMO = {}


def _word(table, text):
    key = (id(table), text)
    if key not in _WORD_MEMO:
        if len(_WORD_MEMO) > 10_000:
            _WORD_MEMO.clear()
        _WORD_MEMO[key] = table.get(fold(text))
    return _WORD_MEMO[key]


def _read_allocation_rows(parsed, columns, data, max_problems, repeated=None):
    repeated = [] if repeated is None else repeated
    max_rows = max_import_rows()
    money = _money_reader(parsed, columns)
    text = _text_reader(columns)
    # Names and codes are read on the map of the table's year (its title). A table whose title names no
    # year (years only in a «Năm» column) is read on today's map, as it always was: the benchmark's
    # multi-year tables write today's provinces for every year.
    resolver = ProvinceResolver(parsed.year)
    long_format = "source" in columns
    money_fields = ["amount"] if long_format else [f for f in ("national", "local", "total") if f in columns]
    sums = _SumCheck(parsed, money_fields)
    seen = {}
    seen_data = False
    lines = parsed.lines
    default_year = parsed.year
    name_col, code_col = columns.get("province"), columns.get("province_code")
    resolved = {}  # (province cell, code cell) as written → the Province they name, when without error
    total_row = None
    # Translated once: a table in the wrong layout has no province on any of its up to 200.000 rows.
    no_province = _("Chưa có tên hoặc mã tỉnh, thành phố.")
    for row, values in data:
        if max_problems and len(parsed.problems) >= max_problems:
            break
        if _is_blank(values) or values in repeated:
            continue
        if total_row is not None:
            _after_total(parsed, row, total_row, values, columns, money_fields)
            continue
        if not seen_data and _is_column_number_row(values):
            repeated.append(values)  # the "(1) (2) …" row may be pasted again further down too
            continue
        seen_data = True
        kind, stt = _row_kind(values, columns, ("province", "stt"))
        errors = []
        if kind in ("group", "total"):
            stated = {f: money(values, row, f, errors, blank=None) for f in money_fields}
            parsed.row_problems(row, errors)
            if kind == "total":
                if sums.total(row, stated):
                    total_row = row
                continue
            sums.open_group(row, f"{stt} – {text(values, 'province', row, errors)}", stated)
            continue
        parsed.rows_read += 1
        if parsed.rows_read > max_rows:
            _too_many_rows(parsed, max_rows)
        year = default_year
        if "year" in columns:
            raw_year = values[columns["year"]] if columns["year"] < len(values) else None
            if isinstance(raw_year, datetime):  # a date cell shown as "yyyy"
                raw_year = raw_year.year
            if raw_year not in (None, ""):
                try:
                    year = int(str(raw_year).strip())
                    if not 2000 <= year <= 2100:
                        raise ValueError
                except ValueError:
                    errors.append(_("Năm «%(v)s» không hợp lệ.") % {"v": raw_year})
                    year = None
            if year is None and not errors:
                errors.append(_("Chưa có năm kế hoạch."))
        province = recorded = None
        # The same province cells repeat on many rows: resolved once per (name, code) as written.
        raw = (values[name_col] if name_col is not None and name_col < len(values) else None,
               values[code_col] if code_col is not None and code_col < len(values) else None)
        cacheable = (raw[0] is None or type(raw[0]) is str) and (raw[1] is None or type(raw[1]) is str)
        hit = resolved.get(raw) if cacheable else None
        if hit is not None:
            recorded = hit
        else:
            failed = len(errors)
            name = text(values, "province", row, errors)
            code = text(values, "province_code", row, errors)
            if code and name:
                # Name and code must denote one and the same province (ProvinceResolver.pair).
                recorded, message = resolver.pair(name, code)
                if recorded is None:
                    errors.append(message)
            elif code:
                recorded, message = resolver.find(code.zfill(2) if code.isdigit() else code)
                if recorded is None:
                    errors.append(message)
            elif name:
                recorded, message = resolver.find(name)
                if recorded is None:
                    errors.append(message)
            else:
                errors.append(no_province)
            if cacheable and recorded is not None and len(errors) == failed:
                resolved[raw] = recorded
        warning = ""
        if recorded is not None:
            province = recorded.current
            if recorded.era == Era.FORMER and province is not recorded:
                # A former province in a table of 2026 or later (today's map): recorded for its successor,
                # with a warning the preview shows (it does not block the import).
                note = resolver.merger_note(recorded, year)
                if note:
                    warning = _("%(note)s; kinh phí của dòng được ghi cho %(p)s.") % {"note": note, "p": province.full_name}
        if long_format:
            raw_source = text(values, "source", row, errors)
            source = _word(SOURCE_WORDS, raw_source)
            if source is None:
                errors.append(
                    _("Nguồn kinh phí «%(v)s» không hợp lệ; chỉ nhận «KCQG» hoặc «KCĐP».") % {"v": raw_source or "—"}
                )
            amount = money(values, row, "amount", errors, blank=None)
            if amount is None and not errors:
                errors.append(_("Chưa nhập kinh phí."))
            sums.add_one("amount", amount or 0)
            pairs = [(source, amount)] if source else []
        else:
            national = money(values, row, "national", errors, blank=None)
            local = money(values, row, "local", errors, blank=None)
            total = money(values, row, "total", errors, blank=None)
            sums.add({"national": national or 0, "local": local or 0, "total": total or 0})
            # A blank or absent KCQG/KCĐP cell counts 0 here: a "Tổng cộng" above KCQG + KCĐP means money in
            # a column this reader did not recognise, which must not be dropped without a word.
            if total is not None and not errors and (national or 0) + (local or 0) != total:
                errors.append(
                    _("«Tổng cộng» %(t)s khác KCQG + KCĐP = %(p)s.")
                    % {"t": _dong_text(total, parsed.unit), "p": _dong_text((national or 0) + (local or 0), parsed.unit)}
                )
            pairs = [(s, a) for s, a in ((AllocationSource.NATIONAL, national), (AllocationSource.LOCAL, local))
                     if a is not None]
            if not pairs and not errors:
                errors.append(_("Chưa nhập kinh phí KCQG hay KCĐP."))
        level_value = None
        if "level" in columns:
            raw_level = text(values, "level", row, errors)
            if raw_level:
                level_value = _word(LEVEL_WORDS, raw_level)
                if level_value is None:
                    errors.append(_("Cấp «%(v)s» không hợp lệ; chỉ nhận «KCQG» hoặc «KCĐP».") % {"v": raw_level})
        if errors:
            parsed.row_problems(row, errors)
            continue
        if warning:
            parsed.warn(row, _("Dòng %(row)s: %(msg)s") % {"row": row, "msg": warning})
        for source, amount in pairs:
            level = level_value or (Level.NATIONAL if source == AllocationSource.NATIONAL else Level.LOCAL)
            key = (year, level, province.id, source)
            line = seen.get(key)
            if line is None:
                line = seen[key] = AllocationLine(row, year, level, province, recorded, source, amount, warning=warning)
                lines.append(line)
                continue
            # Another row for the same current province. In a table of 2021–2025 (the 63-province map)
            # provinces merged on 01/07/2025 (Hà Giang and Tuyên Quang) add up into today's allocation,
            # each kept as recorded; the same recorded province twice is a duplicate, and so is any
            # second row in a table on today's map (Bắc Ninh and the former Bắc Giang in 2026).
            parts = line.parts or [(line.sheet_row, line.recorded, line.amount)]
            previous = next((r for r, p, _a in parts if p.id == recorded.id), None)
            named = recorded if previous is not None else province
            if previous is None and not (year_era(year) == Era.FORMER and recorded.era == Era.FORMER
                                         and all(p.era == Era.FORMER for _r, p, _a in parts)):
                previous = parts[0][0]
            if previous is not None:
                parsed.problem(
                    row,
                    _("Dòng %(row)s: %(p)s (nguồn %(s)s) trùng với dòng %(prev)s.")
                    % {"row": row, "p": named.full_name, "s": SOURCE_LABELS[source], "prev": previous},
                )
                continue
            parts.append((row, recorded, amount))
            line.parts = parts
            line.amount += amount
    sums.finish()
