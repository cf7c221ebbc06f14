"""Money, numbers, dates and document numbers, the Vietnamese way. The one place that converts.

Money is stored as integer đồng. Display: ``1.234.567 đ``, ``1.500 triệu đồng``, ``1,44 tỷ đồng``,
``36,6 %``. Parsing takes Vietnamese text ("1.500" → one thousand five hundred, "1.250,5" → one
thousand two hundred fifty and a half) or numbers from a spreadsheet, in a stated unit, and refuses
what is ambiguous, negative, fractional in đồng or absurdly large, with a message in Vietnamese.
"""
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

UNITS = {"dong": 1, "nghin": 1_000, "trieu": 1_000_000, "ty": 1_000_000_000}
UNIT_LABELS = {"dong": "đồng", "nghin": "nghìn đồng", "trieu": "triệu đồng", "ty": "tỷ đồng"}
# Ten million tỷ đồng: far beyond any khuyến công figure; larger means a typing or unit error.
MAX_DONG = 10**16


class MoneyError(ValueError):
    """Money text that cannot be read safely. ``str(err)`` is a Vietnamese message for the user."""


# --- display --------------------------------------------------------------------------------

def group_thousands(n):
    """12345678 → "12.345.678"."""
    sign = "-" if n < 0 else ""
    return sign + f"{abs(int(n)):,}".replace(",", ".")


def format_decimal(value, places=None):
    """A number with Vietnamese separators: 1250.5 → "1.250,5"; places=None drops trailing zeros."""
    if isinstance(value, float):
        value = Decimal(repr(value))  # 0.1 stays 0,1, not 0,1000000000000000055…
    value = Decimal(value)
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    value = abs(value)
    integer = int(value)
    fraction = value - integer
    text = group_thousands(integer)
    if places is None:
        frac = format(fraction.normalize(), "f")[2:] if fraction else ""
    else:
        frac = format(fraction, f".{places}f")[2:] if places else ""
    return sign + text + ("," + frac if frac else "")


def format_dong(amount):
    """1234567 → "1.234.567 đ"."""
    if amount is None:
        return ""
    return f"{group_thousands(amount)} đ"


def format_trieu(amount, places=None, unit=True):
    """Đồng shown in triệu: 1_500_000_000 → "1.500 triệu đồng"; 1_250_500_000 → "1.250,5 triệu đồng"."""
    if amount is None:
        return ""
    text = format_decimal(Decimal(amount) / UNITS["trieu"], places)
    return f"{text} triệu đồng" if unit else text


def format_ty(amount, places=2, unit=True, trim=True):
    """Đồng shown in tỷ, rounded to ``places``: 1_440_000_000 → "1,44 tỷ đồng"; 1_436 tỷ → "1.436 tỷ đồng".

    ``trim`` drops trailing zeros ("1,5" not "1,50"); pass ``trim=False`` for aligned table columns."""
    if amount is None:
        return ""
    value = (Decimal(amount) / UNITS["ty"]).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = format_decimal(value.normalize() if trim else value, None if trim else places)
    return f"{text} tỷ đồng" if unit else text


def format_percent(value, places=1):
    """0.366 is not a percent: pass 36.6 → "36,6 %"."""
    if value is None:
        return ""
    return f"{format_decimal(value, places)} %"


def format_number(n):
    if n is None:
        return ""
    if isinstance(n, int):
        return group_thousands(n)
    return format_decimal(n)


# --- parsing --------------------------------------------------------------------------------

_VN_NUMBER = re.compile(r"^\d{1,3}(\.\d{3})+(,\d+)?$|^\d+(,\d+)?$")
_CLEAN_UNITS = re.compile(r"(đồng|đ|vnđ|vnd|dong)$", re.IGNORECASE)
# A unit written in the text itself: "1.500 triệu đồng", "1,44 tỷ", "250 nghìn đồng".
_TEXT_UNITS = (
    ("ty", re.compile(r"(tỷ|tỉ)(đồng|đ)?$", re.IGNORECASE)),
    ("trieu", re.compile(r"(triệu)(đồng|đ)?$", re.IGNORECASE)),
    ("nghin", re.compile(r"(nghìn|ngàn)(đồng|đ)?$", re.IGNORECASE)),
)
_MINUS_SIGNS = ("-", "\u2212", "\u2013", "\u2014")


def split_unit(value):
    """"1.500 triệu đồng" → ("1.500", "trieu"); text without a unit word → (text, None)."""
    text = unicodedata.normalize("NFC", str(value)).strip().replace("\u00a0", " ")
    compact = text.replace(" ", "")
    for key, pattern in _TEXT_UNITS:
        match = pattern.search(compact)
        if match:
            return compact[: match.start()], key
    return text, None


def _to_decimal(value, shown=None):
    """Read a number written the Vietnamese way into a Decimal, or raise MoneyError. ``shown``: the
    entry as the person typed it, quoted in the messages (``value`` may be only its number part)."""
    if shown is None:
        shown = value
    if isinstance(value, bool):
        raise MoneyError(_("Giá trị «%(v)s» không phải là số tiền.") % {"v": shown})
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise MoneyError(_("Giá trị «%(v)s» không phải là số tiền.") % {"v": shown})
        # repr gives the shortest text that round-trips: 1250.5 stays 1250.5, not 1250.4999…
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError(_("Giá trị «%(v)s» không phải là số tiền.") % {"v": shown})
        return value
    text = unicodedata.normalize("NFC", str(value)).strip()
    text = text.replace("\u00a0", " ").replace(" ", "")
    text = _CLEAN_UNITS.sub("", text)
    if not text:
        raise MoneyError(_("Chưa nhập số tiền."))
    negative = text.startswith(_MINUS_SIGNS) or (text.startswith("(") and text.endswith(")"))
    if negative:
        raise MoneyError(_("Số tiền «%(v)s» là số âm; số tiền phải lớn hơn hoặc bằng 0.") % {"v": shown})
    if text.startswith("+"):
        text = text[1:]
    if not _VN_NUMBER.match(text):
        if re.fullmatch(r"\d+\.\d{1,2}|\d+\.\d{4,}", text):
            raise MoneyError(
                _(
                    "Số «%(v)s» không rõ nghĩa: dấu chấm dùng để phân cách hàng nghìn (1.500), "
                    "dấu phẩy dùng cho phần thập phân (1,5)."
                )
                % {"v": shown}
            )
        if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", text):
            raise MoneyError(
                _(
                    "Số «%(v)s» viết theo kiểu tiếng Anh (dấu phẩy phân cách hàng nghìn); "
                    "hãy viết theo kiểu Việt Nam, ví dụ 1.500.000 hoặc 1.250,5."
                )
                % {"v": shown}
            )
        raise MoneyError(_("«%(v)s» không phải là số tiền hợp lệ.") % {"v": shown})
    if re.fullmatch(r"[1-9]\d{0,2},\d{3}", text):
        raise MoneyError(
            _(
                "Số «%(v)s» không rõ nghĩa: có thể là %(a)s hoặc %(b)s. Viết 1.500 cho một nghìn năm trăm, "
                "1,5 cho một phẩy năm."
            )
            % {"v": shown, "a": text.replace(",", "."), "b": format_decimal(Decimal(text.replace(",", ".")))}
        )
    try:
        return Decimal(text.replace(".", "").replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - the regex above already guards this
        raise MoneyError(_("«%(v)s» không phải là số tiền hợp lệ.") % {"v": shown}) from exc


def parse_money(value, unit="dong"):
    """Read money in ``unit`` (dong, nghin, trieu, ty) and return integer đồng.

    ``parse_money("1.500", "trieu") == 1_500_000_000``;
    ``parse_money("1.250,5", "trieu") == 1_250_500_000``;
    ``parse_money("1.500.000") == 1_500_000``; ``parse_money("1,44 tỷ đồng") == 1_440_000_000``
    (a unit written in the text wins over ``unit``).
    """
    if unit not in UNITS:
        raise ValueError(f"unknown money unit {unit!r}")
    if value is None or (isinstance(value, str) and not value.strip()):
        raise MoneyError(_("Chưa nhập số tiền."))
    if isinstance(value, str):
        # A unit written in the cell ("1,44 tỷ đồng") is more specific than the column's unit.
        value_text, text_unit = split_unit(value)
        if text_unit is not None:
            if not value_text:
                raise MoneyError(_("Chưa nhập số tiền."))
            unit = text_unit
            number = _to_decimal(value_text, shown=value.strip())  # quote "hai triệu", not "hai"
        else:
            number = _to_decimal(value)
    else:
        number = _to_decimal(value)
    if number < 0:
        raise MoneyError(_("Số tiền «%(v)s» là số âm; số tiền phải lớn hơn hoặc bằng 0.") % {"v": value})
    dong = number * UNITS[unit]
    if dong != dong.to_integral_value():
        raise MoneyError(
            _("Số tiền «%(v)s» %(u)s có phần lẻ dưới 1 đồng; số tiền phải là số đồng nguyên.")
            % {"v": value, "u": UNIT_LABELS[unit]}
        )
    if dong >= MAX_DONG:
        raise MoneyError(
            _("Số tiền «%(v)s» %(u)s lớn bất thường; hãy kiểm tra lại đơn vị tính.") % {"v": value, "u": UNIT_LABELS[unit]}
        )
    return int(dong)


# --- dates ----------------------------------------------------------------------------------

def clip(text, limit):
    """``text`` (in NFC) cut to at most ``limit`` characters, the last one "…" when cut: Django's
    truncatechars for composed Vietnamese text, without its per-character Python walk (a 300-row PDF
    appendix clips 600 texts)."""
    text = unicodedata.normalize("NFC", str(text or ""))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_date(value):
    """date → "20/11/2020"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        from django.utils import timezone

        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return value.strftime("%d/%m/%Y")


def format_datetime(value):
    if value is None:
        return ""
    from django.utils import timezone

    value = timezone.localtime(value) if timezone.is_aware(value) else value
    return value.strftime("%H:%M %d/%m/%Y")


def format_date_long(value, place=None):
    """"ngày 20 tháng 11 năm 2020", optionally after a place: "Hà Nội, ngày …"."""
    if value is None:
        return ""
    day = f"0{value.day}" if value.day < 10 else str(value.day)
    # Decree 30/2020: days below 10 and months 1–2 take a leading zero.
    month = f"0{value.month}" if value.month < 3 else str(value.month)
    text = f"ngày {day} tháng {month} năm {value.year}"
    return f"{place}, {text}" if place else text


_LONG_DATE = re.compile(r"ngày\s+(?P<d>\d{1,2})\s+tháng\s+(?P<m>\d{1,2})\s+năm\s+(?P<y>\d{4})", re.IGNORECASE)


def parse_date(text):
    """"20/11/2020", "ngày 20 tháng 11 năm 2020" (or ISO "2020-11-20") → date; ValueError with a
    Vietnamese message otherwise."""
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    raw = unicodedata.normalize("NFC", str(text or "")).strip()
    long_form = _LONG_DATE.search(raw)
    if long_form:
        try:
            return date(int(long_form["y"]), int(long_form["m"]), int(long_form["d"]))
        except ValueError:
            raise ValueError(_("Ngày «%(v)s» không tồn tại.") % {"v": raw})
    for fmt in ("%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise ValueError(_("Ngày «%(v)s» không hợp lệ; hãy nhập theo dạng ngày/tháng/năm, ví dụ 20/11/2020.") % {"v": raw})


# --- document numbers -----------------------------------------------------------------------

DOCUMENT_TYPES = {
    "QĐ": "Quyết định",
    "NĐ": "Nghị định",
    "TT": "Thông tư",
    "NQ": "Nghị quyết",
    "CT": "Chỉ thị",
    "BC": "Báo cáo",
    "TTr": "Tờ trình",
    "KH": "Kế hoạch",
    "TB": "Thông báo",
    "CV": "Công văn",
    "BB": "Biên bản",
    "HĐ": "Hợp đồng",
}
_ASCII_TYPES = {"QD": "QĐ", "ND": "NĐ", "HD": "HĐ"}
# Issuers whose official spelling is not all capitals: "1881/QĐ-TTg" (Thủ tướng Chính phủ).
_ISSUER_SPELLING = {"TTG": "TTg"}
_DOC_NUMBER = re.compile(r"^(?P<number>\d{1,6})(?:/(?P<year>\d{4}))?/(?P<type>[A-Za-zĐđ]{2,4})-(?P<issuer>[A-Za-z0-9ĐđÂâƠơƯư\-]{1,30})$")


_ASSEMBLY_RESOLUTION = re.compile(r"^(?P<number>\d{1,6})/(?P<year>\d{4})/(?P<issuer>QH\d{1,2})$", re.IGNORECASE)


@dataclass(frozen=True)
class DocumentNumber:
    number: int
    type: str
    issuer: str
    year: int | None = None

    def __str__(self):
        if self.type == "NQ" and self.issuer.startswith("QH") and self.year:
            # National Assembly resolutions: "202/2025/QH15" (no type letters).
            return f"{self.number}/{self.year}/{self.issuer}"
        middle = f"/{self.year}" if self.year else ""
        return f"{self.number}{middle}/{self.type}-{self.issuer}"

    @property
    def type_name(self):
        return DOCUMENT_TYPES.get(self.type, self.type)


def tidy_document_number(text):
    """A document number as it is written on the document: «  45 /qd-bct » → «45/QĐ-BCT» when it reads
    as one (``parse_document_number``), else the text with its spaces collapsed and none around «/» and
    «-» («12 / UBND» → «12/UBND»): typed spacing never makes two spellings of one decision."""
    try:
        return str(parse_document_number(text))
    except ValueError:
        collapsed = " ".join(unicodedata.normalize("NFC", str(text or "")).split())
        return re.sub(r"\s*([/\-–])\s*", r"\1", collapsed)


def parse_document_number(text):
    """"2646/QĐ-BCT" → DocumentNumber(2646, "QĐ", "BCT"); "28/2018/TT-BTC" carries the year.

    ASCII spellings ("2646/QD-BCT") are accepted and written back with Đ. Raises ValueError with a
    Vietnamese message when the text is not a document number.
    """
    raw = unicodedata.normalize("NFC", str(text or "")).strip().replace(" ", "")
    raw = raw.replace("\u00d0", "Đ").replace("\u0189", "Đ")  # look-alike capital D-with-stroke letters
    assembly = _ASSEMBLY_RESOLUTION.match(raw)
    if assembly:
        year = int(assembly["year"])
        if not (1945 <= year <= 2100) or int(assembly["number"]) == 0:
            raise ValueError(_("Số văn bản «%(v)s» không hợp lệ.") % {"v": text})
        return DocumentNumber(number=int(assembly["number"]), type="NQ", issuer=assembly["issuer"].upper(), year=year)
    match = _DOC_NUMBER.match(raw)
    if not match:
        raise ValueError(
            _("Số văn bản «%(v)s» không đúng dạng; ví dụ đúng: 2646/QĐ-BCT hoặc 28/2018/TT-BTC.") % {"v": text}
        )
    doc_type = match["type"]
    doc_type = _ASCII_TYPES.get(doc_type.upper(), doc_type)
    canonical = {key.upper(): key for key in DOCUMENT_TYPES}
    if doc_type.upper() not in canonical:
        raise ValueError(
            _("Loại văn bản «%(t)s» trong số «%(v)s» không có trong danh mục (QĐ, NĐ, TT, BC, TTr, …).")
            % {"t": doc_type, "v": text}
        )
    doc_type = canonical[doc_type.upper()]
    year = int(match["year"]) if match["year"] else None
    if year is not None and not (1945 <= year <= 2100):
        raise ValueError(_("Năm %(y)s trong số văn bản «%(v)s» không hợp lệ.") % {"y": year, "v": text})
    number = int(match["number"])
    if number == 0:
        raise ValueError(_("Số văn bản «%(v)s» không hợp lệ: số thứ tự phải lớn hơn 0.") % {"v": text})
    issuer = match["issuer"].upper()
    issuer = _ISSUER_SPELLING.get(issuer, issuer)
    return DocumentNumber(number=number, type=doc_type, issuer=issuer, year=year)


def format_file_size(n, *, beside=None):
    """A file size as people write it: «20 MB», «20,3 MB», «512 KB» (one decimal, none when it is 0).
    ``beside``: a size written next to it (a limit): when the two would read the same — a file a few
    bytes over «20 MB» — this one is written in KB, so the message does not say «20 MB is over 20 MB»."""
    unit, size = ("MB", n / (1024 * 1024)) if n >= 1024 * 1024 else ("KB", n / 1024)
    text = format_decimal(size, 1)
    text = f"{text[:-2] if text.endswith(',0') else text} {unit}"
    if beside is not None and beside != n and unit == "MB" and text == format_file_size(beside):
        text = f"{format_decimal(n / 1024, 1)} KB"
    return text
