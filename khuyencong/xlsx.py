"""The portal's .xlsx rules: a small, fast and careful reader for workbooks uploaded by users (the budget
imports, the accounts import), and ``neutralise``, the one function every .xlsx the portal writes puts
its text cells through.

Why not openpyxl for reading: on this project's machines openpyxl's read-only mode reads about 6.700
rows of 11 cells per second; the import has to run end to end at 20.000 rows/s or more. This reader
streams the sheet XML out of the zip in blocks, cuts it at ``</row>`` boundaries and lets the C
ElementTree parser build each block, so Python touches each cell once (≈ 4× openpyxl). openpyxl (with
defusedxml) is still what writes the template and the exports.

What it refuses, each with a Vietnamese message (``WorkbookError``), before any row is read:
* files over the size limit (checked on the size alone, before opening);
* anything that is not an .xlsx zip: .xls and encrypted workbooks (OLE2 files), renamed CSV/text,
  .xlsm (macros), other Office documents;
* truncated or corrupted zips (also a CRC error met while reading);
* zip bombs: declared uncompressed sizes over the limit or absurd compression ratios (the zip module
  never inflates an entry beyond its declared size, so the check holds while reading);
* XML with a DTD (``<!DOCTYPE``/``<!ENTITY``: the "billion laughs" entity bomb) — the same rule
  defusedxml applies; without a DTD the XML parser expands no custom entity.

Values come back as str, int, float, bool, datetime (number cells with a date format), or one of two
markers the importer turns into row errors: ``FormulaWithoutValue`` and ``CellErrorValue``.
"""
import re
import zipfile
import zlib
from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from khuyencong.formatting import format_file_size

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
# "Strict Open XML" (Excel's "Save as Strict Open XML Spreadsheet"): the same parts under other names.
NS_MAIN_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
NS_REL_STRICT = "http://purl.oclc.org/ooxml/officeDocument/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
BLOCK = 1 << 20
# One row (or one shared string) bigger than this is refused: Excel's own limits (16.384 cells of at
# most 32.767 characters) are never approached by a real table, and a block is held whole in memory.
MAX_ROW_BYTES = 16 * 1024 * 1024
# Cells right of this column are not kept: no table the import reads is wider, and padding each row up
# to column XFD (16.384) is how a small hostile file would make reading take minutes.
MAX_COLUMNS = 1024
# Beyond XFD there are no columns at all: such a reference is a damaged or forged file.
LAST_COLUMN = 16383
# Parts read whole (workbook, relationships, styles): a real one is well under a megabyte, Excel's
# bloated "too many cell formats" styles a few MB; a bigger one would be parsed into a huge tree.
MAX_SMALL_PART = 32 * 1024 * 1024
# The string table is held in memory: one string per distinct text. 200.000 rows (IMPORT_MAX_ROWS) of
# a dozen text columns never come near; 16 million tiny strings (a 400 MB part) would take gigabytes.
MAX_SHARED_STRINGS = 2_000_000
# Nor rows beyond 1.048.576 (a forged r="3000000000" would not even fit the import log's row number).
LAST_ROW = 1_048_576


class WorkbookError(Exception):
    """The file cannot be read as a workbook; ``str(err)`` is a Vietnamese message."""


class FormulaWithoutValue:
    """A formula cell saved without its computed value (written by a program, never opened in Excel)."""

    __slots__ = ("formula",)

    def __init__(self, formula):
        self.formula = formula or ""

    def __repr__(self):
        return f"FormulaWithoutValue({self.formula!r})"


class CellErrorValue:
    """An Excel error value such as #REF! or #VALUE!."""

    __slots__ = ("code",)

    def __init__(self, code):
        self.code = code

    def __repr__(self):
        return f"CellErrorValue({self.code!r})"


def limits():
    return {
        "max_bytes": getattr(settings, "IMPORT_MAX_BYTES", getattr(settings, "UPLOAD_MAX_BYTES", 20 * 1024 * 1024)),
        "max_uncompressed": getattr(settings, "IMPORT_MAX_UNCOMPRESSED_BYTES", 400 * 1024 * 1024),
        "max_ratio": getattr(settings, "IMPORT_MAX_COMPRESSION_RATIO", 200),
    }


def check_size(size, *, max_bytes=None):
    max_bytes = max_bytes or limits()["max_bytes"]
    if size > max_bytes:
        raise WorkbookError(
            _("Tệp quá lớn (%(size)s); dung lượng tối đa cho phép là %(max)s.")
            % {"size": format_file_size(size, beside=max_bytes), "max": format_file_size(max_bytes)}
        )
    if size == 0:
        raise WorkbookError(_("Tệp rỗng (0 byte)."))


_COL_CACHE = {}


def column_index(ref):
    """"B12" → 1 (0-based column)."""
    letters = ref.rstrip("0123456789")
    idx = _COL_CACHE.get(letters)
    if idx is None:
        idx = 0
        for ch in letters.upper():
            idx = idx * 26 + (ord(ch) - 64)
        idx -= 1
        _COL_CACHE[letters] = idx
    return idx


def column_letter(idx):
    idx += 1
    out = ""
    while idx:
        idx, rem = divmod(idx - 1, 26)
        out = chr(65 + rem) + out
    return out


_BUILTIN_DATE_FORMATS = set(range(14, 23)) | {45, 46, 47}
_DATE_CODE = re.compile(r"(?<![\\\"])[dmyhs]", re.IGNORECASE)


def _is_date_format(code):
    code = re.sub(r"\[[^\]]*\]|\"[^\"]*\"", "", code or "")
    return bool(_DATE_CODE.search(code)) and "General" not in code


class Workbook:
    """An opened, checked workbook. Use ``sheets`` (list of names) and ``rows(index)``."""

    def __init__(self, fileobj, *, size=None, max_bytes=None):
        lim = limits()
        if max_bytes:
            lim["max_bytes"] = max_bytes
        if size is None:
            fileobj.seek(0, 2)
            size = fileobj.tell()
        check_size(size, max_bytes=lim["max_bytes"])
        fileobj.seek(0)
        head = fileobj.read(4096)
        fileobj.seek(0)
        if head.startswith(OLE_MAGIC):
            fileobj.seek(0)
            body = fileobj.read(min(size, 4 * 1024 * 1024))
            if "EncryptionInfo".encode("utf-16-le") in body or "EncryptedPackage".encode("utf-16-le") in body:
                raise WorkbookError(
                    _("Tệp Excel được đặt mật khẩu (mã hóa); hãy gỡ mật khẩu rồi lưu lại dạng .xlsx trước khi tải lên.")
                )
            raise WorkbookError(
                _("Đây là tệp Excel 97–2003 (.xls), không được hỗ trợ; hãy mở trong Excel và lưu lại dạng .xlsx.")
            )
        if not head.startswith(ZIP_MAGIC):
            lowered = head[:4096].lower()
            if b"<html" in lowered or b"<table" in lowered:
                raise WorkbookError(
                    _("Tệp là trang web (HTML) mang tên bảng tính, như một số phần mềm vẫn xuất ra; hãy mở trong Excel "
                      "và lưu lại dạng .xlsx (Excel Workbook).")
                )
            if b"urn:schemas-microsoft-com:office:spreadsheet" in lowered:
                raise WorkbookError(
                    _("Tệp là «XML Spreadsheet 2003», không được hỗ trợ; hãy mở trong Excel và lưu lại dạng .xlsx.")
                )
            if _looks_like_text(head):
                raise WorkbookError(
                    _(
                        "Tệp không phải bảng tính Excel .xlsx mà là tệp văn bản (có thể là CSV đổi tên); "
                        "hãy mở trong Excel và lưu lại dạng .xlsx."
                    )
                )
            raise WorkbookError(_("Tệp không phải bảng tính Excel .xlsx."))
        try:
            self.zip = zipfile.ZipFile(fileobj)
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError) as exc:
            raise WorkbookError(_("Tệp .xlsx bị hỏng hoặc không đầy đủ (có thể tải lên bị gián đoạn); hãy tải lại tệp.")) from exc
        names = {info.filename for info in infos}
        if len(names) != len(infos):
            # Two parts under one name: which one a program reads is up to it, so what the preview
            # shows could differ from what Excel shows. Excel itself refuses such a file.
            raise WorkbookError(_("Tệp .xlsx bị hỏng: có hai phần trùng tên trong tệp nén."))
        if any(info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for info in infos):
            raise WorkbookError(
                _("Tệp .xlsx dùng kiểu nén không phải của Excel (chỉ nhận «Deflate» hoặc không nén); hãy mở trong Excel "
                  "và lưu lại dạng .xlsx.")
            )
        total = sum(info.file_size for info in infos)
        if total > lim["max_uncompressed"]:
            raise WorkbookError(_bomb_message())
        for info in infos:
            if info.file_size > 1024 * 1024 and info.file_size > lim["max_ratio"] * max(info.compress_size, 1):
                raise WorkbookError(_bomb_message())
            if info.flag_bits & 0x1:
                raise WorkbookError(_("Tệp Excel được đặt mật khẩu (mã hóa); hãy gỡ mật khẩu rồi lưu lại dạng .xlsx."))
        if "[Content_Types].xml" not in names:
            if "mimetype" in names and b"opendocument" in self._read_small("mimetype"):
                raise WorkbookError(
                    _("Đây là tệp LibreOffice/OpenOffice (.ods), không được hỗ trợ; hãy chọn «Lưu thành» → «Excel 2007-365 "
                      "(.xlsx)» rồi tải lên.")
                )
            raise WorkbookError(_("Tệp nén không phải bảng tính Excel .xlsx."))
        content_types = self._read_small("[Content_Types].xml")
        if b"macroEnabled" in content_types or "xl/vbaProject.bin" in names:
            raise WorkbookError(
                _("Tệp có chứa macro (.xlsm) không được nhận vì lý do an toàn; hãy lưu lại dạng .xlsx (không macro).")
            )
        if b"spreadsheetml.sheet.main+xml" not in content_types and b"spreadsheetml.template.main+xml" not in content_types:
            raise WorkbookError(_("Tệp không phải bảng tính Excel .xlsx (có thể là tài liệu Word/PowerPoint đổi tên)."))
        self._names = names
        self._load_workbook()
        self._shared = None
        self._date_styles = None

    # --- small parts -----------------------------------------------------------------------

    def _read_small(self, name):
        try:
            if self.zip.getinfo(name).file_size > MAX_SMALL_PART:
                raise WorkbookError(
                    _("Tệp .xlsx có phần «%(n)s» lớn bất thường (hơn %(max)s); tệp đã bị từ chối.")
                    % {"n": name, "max": format_file_size(MAX_SMALL_PART)}
                )
            data = self.zip.read(name)
        except KeyError as exc:
            raise WorkbookError(_("Tệp .xlsx thiếu phần «%(n)s»; tệp bị hỏng.") % {"n": name}) from exc
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise WorkbookError(_("Tệp .xlsx bị hỏng hoặc không đầy đủ (có thể tải lên bị gián đoạn); hãy tải lại tệp.")) from exc
        _refuse_dtd(data)
        return data

    def _parse_small(self, name):
        data = self._read_small(name)
        try:
            return ET.fromstring(data)
        except ET.ParseError as exc:
            raise WorkbookError(_("Tệp .xlsx bị hỏng: phần «%(n)s» không đọc được.") % {"n": name}) from exc

    def _load_workbook(self):
        wb_path = "xl/workbook.xml"
        rels = {}
        if "_rels/.rels" in self._names:
            for rel in self._parse_small("_rels/.rels"):
                if rel.get("Type", "").endswith("/officeDocument"):
                    wb_path = rel.get("Target", wb_path).lstrip("/")
        root = self._parse_small(wb_path)
        if root.tag == f"{{{NS_MAIN_STRICT}}}workbook":
            self.ns, ns_rel = NS_MAIN_STRICT, NS_REL_STRICT
        else:
            self.ns, ns_rel = NS_MAIN, NS_REL
        base = wb_path.rsplit("/", 1)[0]
        rels_path = f"{base}/_rels/{wb_path.rsplit('/', 1)[1]}.rels"
        if rels_path in self._names:
            for rel in self._parse_small(rels_path):
                target = rel.get("Target", "")
                target = target.lstrip("/") if target.startswith("/") else f"{base}/{target}"
                rels[rel.get("Id")] = (rel.get("Type", ""), _normpath(target))
        pr = root.find(f"{{{self.ns}}}workbookPr")
        self.date1904 = pr is not None and pr.get("date1904") in ("1", "true")
        self.sheets = []
        self.hidden = []  # per sheet: hidden or "very hidden" (not shown in Excel's sheet tabs)
        self._sheet_paths = []
        for sheet in root.iter(f"{{{self.ns}}}sheet"):
            rid = sheet.get(f"{{{ns_rel}}}id")
            kind, target = rels.get(rid, ("", ""))
            if not target or target not in self._names:
                continue
            self.sheets.append(sheet.get("name", "")[:100])  # Excel allows 31 characters
            self.hidden.append(sheet.get("state", "visible") in ("hidden", "veryHidden"))
            self._sheet_paths.append(target)
        self._shared_path = None
        self._styles_path = None
        for kind, target in rels.values():
            if kind.endswith("/sharedStrings"):
                self._shared_path = target
            elif kind.endswith("/styles"):
                self._styles_path = target
        # Some generators leave the relationship out but put the part at its usual place.
        if self._shared_path is None and f"{base}/sharedStrings.xml" in self._names:
            self._shared_path = f"{base}/sharedStrings.xml"
        if self._styles_path is None and f"{base}/styles.xml" in self._names:
            self._styles_path = f"{base}/styles.xml"
        if not self.sheets:
            raise WorkbookError(_("Bảng tính không có trang tính nào."))

    def _load_shared(self):
        if self._shared is not None:
            return self._shared
        shared = []
        if self._shared_path and self._shared_path in self._names:
            si_tag = f"{{{self.ns}}}si"
            t_tag = f"{{{self.ns}}}t"
            for wrapper, part in self._blocks(self._shared_path, b"si"):
                if len(shared) > MAX_SHARED_STRINGS:
                    raise WorkbookError(
                        _("Tệp .xlsx có hơn %(n)s chuỗi văn bản; quá lớn đối với một bảng phân bổ hay phụ lục kế hoạch.")
                        % {"n": f"{MAX_SHARED_STRINGS:,}".replace(",", ".")}
                    )
                try:
                    fast = _fast_shared(part)
                except ValueError:
                    fast = None
                if fast is not None:
                    shared.extend(fast)
                    continue
                for si in _parse_block(wrapper, part, self._shared_path):
                    if si.tag != si_tag:
                        continue
                    direct = si.find(t_tag)
                    if direct is not None and len(si) == 1:
                        shared.append(direct.text or "")
                    else:
                        shared.append(_rich_text(si, self.ns))
        self._shared = shared
        return shared

    def _load_date_styles(self):
        if self._date_styles is not None:
            return self._date_styles
        dates = set()
        if self._styles_path and self._styles_path in self._names:
            root = self._parse_small(self._styles_path)
            custom = {}
            numfmts = root.find(f"{{{self.ns}}}numFmts")
            if numfmts is not None:
                for fmt in numfmts:
                    custom[int(fmt.get("numFmtId", "0"))] = fmt.get("formatCode", "")
            xfs = root.find(f"{{{self.ns}}}cellXfs")
            if xfs is not None:
                for i, xf in enumerate(xfs):
                    fid = int(xf.get("numFmtId", "0"))
                    if fid in _BUILTIN_DATE_FORMATS or (fid in custom and _is_date_format(custom[fid])):
                        dates.add(str(i))
        self._date_styles = dates
        return dates

    # --- streaming ----------------------------------------------------------------------------

    def _blocks(self, path, tag):
        """Read the part at ``path`` block by block, cut after ``</tag>``; yield ``(wrapper, part)``:
        the raw bytes of whole ``tag`` elements and the root start tag (namespace declarations) to
        parse them with when the fast path cannot."""
        end_tag = b"</" + tag + b">"
        try:
            stream = self.zip.open(path)
        except KeyError as exc:
            raise WorkbookError(_("Tệp .xlsx thiếu phần «%(n)s»; tệp bị hỏng.") % {"n": path}) from exc
        buffer = b""
        wrapper_open = None
        closing = None
        try:
            with stream:
                while True:
                    chunk = stream.read(BLOCK)
                    buffer += chunk
                    if wrapper_open is None:
                        wrapper_open, closing, buffer = _split_head(buffer, tag, final=not chunk)
                        if wrapper_open is None:
                            if not chunk:
                                return
                            if len(buffer) > MAX_ROW_BYTES:
                                raise WorkbookError(_too_big_message(path))
                            continue
                        if wrapper_open == b"":
                            return
                    if chunk:
                        cut = _rfind_end(buffer, tag, end_tag)
                        if cut <= 0:
                            if len(buffer) > MAX_ROW_BYTES:
                                raise WorkbookError(_too_big_message(path))
                            continue
                        part, buffer = buffer[:cut], buffer[cut:]
                    else:
                        part, buffer = _strip_tail(buffer, closing), b""
                    if part.strip():
                        yield wrapper_open, part
                    if not chunk:
                        return
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise WorkbookError(_("Tệp .xlsx bị hỏng hoặc không đầy đủ (có thể tải lên bị gián đoạn); hãy tải lại tệp.")) from exc

    def rows(self, index):
        """Yield ``(row_number, values)`` for the sheet at ``index``; values indexed by column (0 = A)."""
        shared = self._load_shared()
        date_styles = self._load_date_styles()
        row_tag = f"{{{self.ns}}}row"
        v_tag = f"{{{self.ns}}}v"
        f_tag = f"{{{self.ns}}}f"
        is_tag = f"{{{self.ns}}}is"
        last = 0
        path = self._sheet_paths[index]
        for wrapper, part in self._blocks(path, b"row"):
            if b"v>" not in part and b"is>" not in part and b"<f" not in part and b":f" not in part:
                # No cell of this block has a value (rows of empty styled cells, as a whole formatted
                # sheet gives): only the row numbers are followed, nothing is built.
                for attrs in _ROW_TAG.findall(part):
                    number = _ROW_NUM.search(attrs)
                    last = int(number.group(1)) if number else last + 1
                continue
            try:
                fast = _fast_rows(part, shared, date_styles, self.date1904)
            except ValueError:  # bytes or characters XML does not allow: the XML parser says which
                fast = None
            if fast is not None:
                for row_number, values in fast:
                    last = row_number if row_number else last + 1
                    if last > LAST_ROW:
                        raise WorkbookError(_row_beyond_message(last))
                    if values:
                        yield last, values
                continue
            for row in _parse_block(wrapper, part, path).iter(row_tag):
                r = row.get("r")
                last = int(r) if r and r.isdigit() else last + 1
                if last > LAST_ROW:
                    raise WorkbookError(_row_beyond_message(last))
                values = []
                col = -1
                for c in row:
                    ref = c.get("r")
                    col = column_index(ref) if ref else col + 1
                    if col > LAST_COLUMN or col < 0:
                        raise WorkbookError(
                            _("Tệp .xlsx bị hỏng: ô «%(c)s» (dòng %(r)s) nằm ngoài số cột tối đa của Excel.")
                            % {"c": ref[:20], "r": last}
                        )
                    if col >= MAX_COLUMNS:
                        continue
                    t = c.get("t")
                    v = c.find(v_tag)
                    text = v.text if v is not None else None
                    if t is None or t == "n":
                        if text is None or text == "":
                            value = FormulaWithoutValue(c.findtext(f_tag)) if c.find(f_tag) is not None else None
                        else:
                            value = _number(text)
                            if date_styles and c.get("s") in date_styles:
                                value = _excel_date(value, self.date1904)
                    elif t == "s":
                        value = _shared_string(shared, text, ref or last)
                    elif t == "inlineStr":
                        node = c.find(is_tag)
                        value = _rich_text(node, self.ns) if node is not None else ""
                    elif t == "str":
                        # <v></v> is a cached empty text (=IF(D7=0;"";D7) hides zeros): a value, not a
                        # formula left without one — only a missing <v> is that.
                        if v is None and c.find(f_tag) is not None:
                            value = FormulaWithoutValue(c.findtext(f_tag))
                        else:
                            value = text or ""
                    elif t == "b":
                        value = text == "1"
                    elif t == "e":
                        value = CellErrorValue(text)
                    elif t == "d":
                        try:
                            value = datetime.fromisoformat(text)
                        except (TypeError, ValueError):
                            value = text
                    else:
                        value = text
                    if value is None:
                        continue
                    if len(values) < col:
                        values.extend([None] * (col - len(values)))
                    values.append(value)
                if values:
                    yield last, values

    def close(self):
        self.zip.close()


def _number(text):
    try:
        if "." not in text and "E" not in text and "e" not in text:
            return int(text)
        value = float(text)
        if value.is_integer() and abs(value) < 1e15:
            return int(value)
        return value
    except ValueError:
        return text


def _rich_text(node, ns):
    """The text of an <si> or <is>: plain <t>, or the runs <r><t> of rich text; phonetic runs left out."""
    t_tag, rph_tag = f"{{{ns}}}t", f"{{{ns}}}rPh"
    parts = []
    for run in node:
        if run.tag == rph_tag:
            continue
        for t in run.iter(t_tag):
            parts.append(t.text or "")
    return "".join(parts)


def _shared_string(shared, text, where):
    try:
        index = int(text)
        if index < 0:
            raise IndexError
        return shared[index]
    except (TypeError, ValueError, IndexError):
        raise WorkbookError(
            _("Tệp .xlsx bị hỏng: ô %(c)s tham chiếu chuỗi không tồn tại (thiếu hoặc hỏng phần sharedStrings).")
            % {"c": where}
        ) from None


def _excel_date(value, date1904):
    if not isinstance(value, (int, float)):
        return value
    base = datetime(1904, 1, 1) if date1904 else datetime(1899, 12, 30)
    try:
        return base + timedelta(days=value)
    except OverflowError:
        return value


def _normpath(path):
    parts = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part and part != ".":
            parts.append(part)
    return "/".join(parts)


def _bomb_message():
    return _(
        "Tệp có dấu hiệu «bom nén» (dung lượng sau giải nén quá lớn so với tệp gửi lên) và đã bị từ chối."
    )


def _looks_like_text(head):
    if b"\x00" in head[:1024]:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        try:
            head.decode("cp1258")
        except UnicodeDecodeError:
            return False
    return True


def _row_beyond_message(row):
    return _("Tệp .xlsx bị hỏng: có dòng số %(r)s, quá số dòng tối đa của Excel (1.048.576).") % {"r": row}


def _too_big_message(path):
    return _(
        "Tệp .xlsx có một dòng (hoặc một ô) lớn bất thường, hơn %(max)s, trong phần «%(n)s»; tệp bị hỏng hoặc "
        "không phải bảng tính thông thường nên đã bị từ chối."
    ) % {"max": format_file_size(MAX_ROW_BYTES), "n": path}


def _refuse_dtd(data):
    """Refuse a DTD (entity bombs, external entities) anywhere before the root element — not only in
    the first kilobytes: comments or blanks can push it further — and XML not in UTF-8 (Excel,
    LibreOffice and every generator write UTF-8; a UTF-16 part would hide ``<!DOCTYPE`` from a byte
    search while the XML parser would still read it)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:200]:
        raise WorkbookError(
            _("Tệp .xlsx có phần XML không ở mã UTF-8 (như Excel vẫn lưu); tệp đã bị từ chối. Hãy mở trong Excel "
              "và lưu lại dạng .xlsx.")
        )
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data or b"<!doctype" in data:
        raise WorkbookError(
            _("Tệp .xlsx chứa khai báo DTD/thực thể XML (có thể là «bom thực thể XML») và đã bị từ chối.")
        )


_ROOT_OPEN = re.compile(rb"<([A-Za-z_][\w.\-]*:)?(worksheet|sst)\b[^>]*>", re.S)


def _split_head(buffer, tag, *, final):
    """Find the root start tag and the start of the first ``tag`` element. Returns
    (wrapper_open, closing_tag, rest) or (None, None, buffer) when more data is needed."""
    _refuse_dtd(buffer)
    match = _ROOT_OPEN.search(buffer)
    if not match:
        if final:
            raise WorkbookError(_("Tệp .xlsx bị hỏng: trang tính không đọc được."))
        return None, None, buffer
    prefix = match.group(1) or b""
    root_name = match.group(2)
    if match.group(0).endswith(b"/>"):
        return b"", b"", b""
    # for worksheets, rows live inside <sheetData>; for the string table, <si> are direct children
    if root_name == b"worksheet":
        sd = re.search(rb"<" + re.escape(prefix) + rb"sheetData\b[^>]*?(/?)>", buffer[match.end():])
        if not sd:
            if final:
                return b"", b"", b""
            return None, None, buffer
        if sd.group(1) == b"/":
            return b"", b"", b""
        start = match.end() + sd.end()
        closing = b"</" + prefix + b"sheetData>"
    else:
        start = match.end()
        closing = b"</" + prefix + b"sst>"
    wrapper = match.group(0)
    return wrapper, closing, buffer[start:]


def _rfind_end(buffer, tag, end_tag):
    # Cut after the last end tag of ``tag`` (any namespace prefix) in the buffer.
    pos = buffer.rfind(b":" + tag + b">")
    plain = buffer.rfind(end_tag)
    best = -1
    if plain >= 0:
        best = plain + len(end_tag)
    if pos >= 0:
        lt = buffer.rfind(b"</", 0, pos)
        if lt >= 0 and pos - lt < 40:
            best = max(best, pos + len(tag) + 2)
    # A self-closing element after that (<row r="9" s="1" customFormat="1"/>: a sheet formatted down to
    # row 1.048.576 is nothing else) also ends a whole element.
    opening = b"<" + tag
    start = buffer.rfind(opening)
    while start > best and buffer[start + len(opening):start + len(opening) + 1] not in (b" ", b"/", b">", b"\t", b"\r", b"\n"):
        start = buffer.rfind(opening, 0, start)
    if start > best:
        gt = buffer.find(b">", start)
        if gt > 0 and buffer[gt - 1:gt] == b"/":
            best = gt + 1
    return best


def _strip_tail(buffer, closing):
    if closing:
        idx = buffer.find(closing)
        if idx >= 0:
            return buffer[:idx]
    return buffer


def _parse_block(wrapper_open, part, path):
    name = re.match(rb"<([^\s>/]+)", wrapper_open).group(1)
    try:
        return ET.fromstring(wrapper_open + part + b"</" + name + b">")
    except ET.ParseError as exc:
        row = _failing_row(wrapper_open, name, part)
        if row:
            message = _(
                "Tệp .xlsx bị hỏng: dòng %(row)s của trang tính có ký tự hoặc cấu trúc XML không hợp lệ (phần «%(n)s»); "
                "hãy mở tệp trong Excel, sửa hoặc xóa dòng đó rồi lưu lại."
            ) % {"row": row, "n": path}
        else:
            message = _("Tệp .xlsx bị hỏng: phần «%(n)s» có XML không hợp lệ, không đọc được.") % {"n": path}
        raise WorkbookError(message) from exc


def _failing_row(wrapper_open, name, part):
    """The sheet row number of the first row of ``part`` the XML parser refuses (error path only)."""
    for piece in part.split(b"</row>"):
        start = piece.find(b"<row")
        if start < 0:
            continue
        try:
            ET.fromstring(wrapper_open + piece[start:] + b"</row></" + name + b">")
        except ET.ParseError:
            number = _ROW_NUM.search(piece[start:piece.find(b">", start) + 1])
            return int(number.group(1)) if number else None
    return None


# --- fast path ---------------------------------------------------------------------------------
# Excel, LibreOffice and openpyxl all write cells as <c r="B7" s="3" t="s"><v>12</v></c>. Blocks made
# only of such cells are read with two C-level regex scans; anything else in a block (rich text,
# namespace prefixes, cells without a reference, …) makes the whole block go through ElementTree.

_ROW_RE = re.compile(rb'<row\b([^>]*?)(?:/>|>(.*?)</row>)', re.S)
_ROW_TAG = re.compile(rb'<(?:[A-Za-z_][\w.\-]*:)?row\b([^>]*)>')
_ROW_NUM = re.compile(rb'\br=["\'](\d+)["\']')
_CELL_RE = re.compile(
    rb'<c r="([A-Z]{1,3})\d+"(?: s="(\d+)")?(?: t="(\w+)")?(?: s="(\d+)")?((?: [a-z]+="[^"]*")*)\s*'
    rb'(?:/>|>(<f\b[^>]*?(?:/>|>[^<]*</f>))?(?:<v>([^<]*)</v>|<is><t(?: [^>]*)?>([^<]*)</t></is>)?</c>)'
)
_SI_RE = re.compile(rb'<si><t(?: [^>]*)?(?:/>|>([^<]*)</t>)</si>')
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _entity(match):
    name = match.group(1)
    if name[0] == "#":
        return chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:]))
    return _ENTITIES[name]


# Characters XML 1.0 forbids. The XML parser refuses them; the regex fast path must as well, or a
# "&#0;" would reach PostgreSQL (which refuses NUL in text: a crash at the preview) and a lone surrogate
# the database encoder. ValueError sends the block to the XML parser, which gives the usual message.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(raw):
    text = raw.decode("utf-8")  # UnicodeDecodeError (a ValueError): not UTF-8, the XML parser decides
    if "&" in text:
        text = _ENTITY.sub(_entity, text)
    if _XML_ILLEGAL.search(text):
        raise ValueError("character not allowed in XML")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _fast_shared(part):
    if b":si" in part or part.count(b"<si>") != part.count(b"<si"):
        return None
    found = _SI_RE.findall(part)
    if len(found) != part.count(b"<si>"):
        return None
    return [_text(raw) if raw else "" for raw in found]


_T_NAMES = {b"s": "s", b"n": "n", b"str": "str", b"inlineStr": "inlineStr", b"b": "b", b"e": "e", b"d": "d"}


def _number_bytes(raw):
    if raw.isdigit():
        return int(raw)
    return _number(raw.decode())


def _attr(attrs, name):
    idx = attrs.find(name)
    if idx < 0:
        return None
    start = idx + len(name)
    return attrs[start:attrs.index(b'"', start)].decode()


def _row_elements(part):
    """``_ROW_RE.findall(part)`` (``(attrs, body)`` of each ``<row …>…</row>``) cut with
    ``bytes.split`` (the lazy ``.*?`` of the regex was a third of the reading time); None when the
    block has anything else (self-closing rows, text after the last row…): the regex then does it."""
    pieces = part.split(b"</row>")
    if b"<row" in pieces.pop():
        return None
    out = []
    for piece in pieces:
        start = piece.find(b"<row")
        if start < 0 or piece.find(b"<row", start + 4) >= 0:
            return None
        end = piece.find(b">", start)
        if end < 0 or piece[end - 1] == 47:  # "/": a self-closing row
            return None
        attrs = piece[start + 4:end]
        if attrs and attrs[:1] not in b" \t\r\n":
            return None
        out.append((attrs, piece[end + 1:]))
    return out


def _fast_rows(part, shared, date_styles, date1904):
    if b"<row" not in part or b":row" in part or b":c " in part:
        return None
    out = []
    col_cache = _COL_CACHE
    texts = {}  # inline strings of this block, decoded once (the same names and labels repeat)
    elements = _row_elements(part)
    for attrs, body in (elements if elements is not None else _ROW_RE.findall(part)):
        number = _ROW_NUM.search(attrs)
        number = int(number.group(1)) if number else 0
        values = []
        if body:
            cells = _CELL_RE.findall(body)
            if len(cells) != body.count(b"<c ") + body.count(b"<c>"):
                return None
            for letters, s1, tb, s2, cattrs, formula, v, inline in cells:
                col = col_cache.get(letters)
                if col is None:
                    col = column_index(letters.decode())
                    if col > LAST_COLUMN:
                        raise WorkbookError(
                            _("Tệp .xlsx bị hỏng: ô «%(c)s» (dòng %(r)s) nằm ngoài số cột tối đa của Excel.")
                            % {"c": letters.decode(), "r": number}
                        )
                    col_cache[letters] = col
                if col >= MAX_COLUMNS or not (v or inline or formula):
                    continue  # beyond any table, or an empty (styled) cell
                if len(values) < col:
                    values.extend([None] * (col - len(values)))
                # The two usual cells first: an inline string, a plain whole number without a style.
                if not cattrs and not formula:
                    if inline and tb == b"inlineStr":
                        value = texts.get(inline)
                        if value is None:
                            value = texts[inline] = _text(inline)
                        values.append(value)
                        continue
                    if v and not s1 and not s2 and (tb == b"n" or not tb) and v.isdigit():
                        values.append(int(v))
                        continue
                if cattrs:
                    t = _attr(cattrs, b' t="') or (tb.decode() if tb else None)
                    style = _attr(cattrs, b' s="') or (s1 or s2).decode()
                else:
                    t = _T_NAMES.get(tb) if tb else None
                    style = s1 or s2
                if t is None or t == "n":
                    if v:
                        value = _number_bytes(v)
                        if date_styles and style and (style if isinstance(style, str) else style.decode()) in date_styles:
                            value = _excel_date(value, date1904)
                    elif formula:
                        value = FormulaWithoutValue(_formula_text(formula))
                    else:
                        value = None
                elif t == "s":
                    value = _shared_string(shared, v, f"{letters.decode()}{number}")
                elif t == "inlineStr":
                    if inline:
                        value = texts.get(inline)
                        if value is None:
                            value = texts[inline] = _text(inline)
                    else:
                        value = ""
                elif t == "str":
                    if not v and formula:
                        return None  # <v></v> (an empty text result) or no <v>: the XML parser tells them apart
                    value = _text(v) if v else ""
                elif t == "b":
                    value = v == b"1"
                elif t == "e":
                    value = CellErrorValue(v.decode())
                elif t == "d":
                    try:
                        value = datetime.fromisoformat(v.decode())
                    except ValueError:
                        value = v.decode()
                else:
                    value = _text(v) if v else None
                values.append(value)
        out.append((number, values))
    if len(out) != part.count(b"<row"):
        return None
    return out


def _formula_text(raw):
    match = re.search(rb">([^<]*)</f>", raw)
    return _text(match.group(1)) if match else ""


# --- Writing -------------------------------------------------------------------------------------------

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\x00")


def neutralise(value):
    """Make ``value`` safe to put in a spreadsheet cell: XML-illegal characters (control characters,
    NUL) are removed first, then text that a spreadsheet would read as a formula (starting with
    = + - @, tab or CR) gets a leading ``'`` — in that order, so "\x01=HYPERLINK(…)" cannot lose its
    first character after the check and become a live formula. Numbers, dates and None pass through."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value.startswith(FORMULA_TRIGGERS):
        value = "'" + value
    return value
