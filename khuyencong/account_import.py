"""«Nhập tài khoản từ Excel»: many accounts at once, from a workbook laid out as the template
(``template_workbook``), each holder then mailed an invitation to set their own password.

    admin «Người dùng» → «Nhập từ Excel» (PortalUserAdmin.import_view)
      upload → read_accounts: the workbook checked (khuyencong.xlsx: size, zip bombs, entity bombs, .xls,
        encrypted, macros…), the header row found by its labels, each row checked (``check_rows``);
        the preview lists every row with «Sẽ tạo» or its errors, with the row number the sheet shows
      confirm (only when no row has an error) → services.users_import: every row checked again against
        the database, all accounts created in one transaction or none, each in the audit trail; then
        their invitations go to the worker (services.user_invite)

Between the two steps the rows travel signed (``sign_rows``/``unsign_rows``): nothing is stored, and
a forged or stale preview is refused.
"""
import re
from dataclasses import dataclass, field

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .choices import Role
from .models import Organisation, User
from .security import CONTROL_CHARACTERS
from .textsearch import fold

# (key, header as the template writes it, required); headers are matched with case and diacritics ignored.
COLUMNS = (
    ("username", gettext_lazy("Tên đăng nhập"), True),
    ("first_name", gettext_lazy("Họ và tên đệm"), False),
    ("last_name", gettext_lazy("Tên"), False),
    ("email", gettext_lazy("Thư điện tử"), True),
    ("role", gettext_lazy("Vai trò"), True),
    ("organisation", gettext_lazy("Mã đơn vị"), False),
    ("job_title", gettext_lazy("Chức vụ"), False),
    ("phone", gettext_lazy("Điện thoại"), False),
)
MAX_ROWS = 1000
HEADER_SEARCH_ROWS = 20
SIGNING_SALT = "khuyencong.account_import"
PREVIEW_MAX_AGE = 2 * 60 * 60  # seconds a preview may be confirmed


class AccountImportError(Exception):
    """The whole file is refused; ``str(err)`` says why, in Vietnamese."""


@dataclass
class AccountRow:
    number: int  # the row number the sheet shows
    values: dict
    errors: list = field(default_factory=list)
    organisation: Organisation | None = None

    @property
    def role_label(self):
        return Role(self.values["role"]).label if self.values.get("role") in Role.values else self.values.get("role", "")

    @property
    def full_name(self):
        return " ".join(p for p in (self.values.get("first_name"), self.values.get("last_name")) if p)


def _cell_text(value):
    from .xlsx import CellErrorValue, FormulaWithoutValue

    if isinstance(value, (FormulaWithoutValue, CellErrorValue)):
        raise ValueError(_("ô có công thức chưa được tính (hãy mở tệp trong Excel, lưu lại rồi tải lên)")
                         if isinstance(value, FormulaWithoutValue) else _("ô báo lỗi của Excel"))
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a telephone typed as a number
    return " ".join(str(value).split()) if not isinstance(value, str) else value.strip()


def read_accounts(fileobj, *, size=None):
    """The rows of an accounts workbook (first sheet with the headers), checked (``check_rows``).
    Raises ``AccountImportError`` for a file that cannot be read at all."""
    from .xlsx import Workbook, WorkbookError

    try:
        book = Workbook(fileobj, size=size)
    except WorkbookError as exc:
        raise AccountImportError(str(exc)) from exc
    wanted = {fold(str(label)): key for key, label, _required in COLUMNS}
    try:
        for index in range(len(book.sheets)):
            header, rows = None, []
            for number, values in book.rows(index):
                if header is None:
                    found = {i: wanted[fold(str(v))] for i, v in enumerate(values)
                             if isinstance(v, str) and fold(v) in wanted}
                    if "username" in found.values():
                        header = found
                        missing = [str(label) for key, label, required in COLUMNS if required and key not in found.values()]
                        if missing:
                            raise AccountImportError(_("Thiếu cột %(c)s ở dòng tiêu đề (dòng %(n)d).") % {
                                "c": ", ".join(f"«{m}»" for m in missing), "n": number})
                    elif number >= HEADER_SEARCH_ROWS:
                        break
                    continue
                row = AccountRow(number=number, values={})
                for i, key in header.items():
                    try:
                        row.values[key] = _cell_text(values[i] if i < len(values) else None)
                    except ValueError as exc:
                        row.values[key] = ""
                        row.errors.append(_("cột «%(c)s»: %(e)s") % {"c": dict((k, str(lb)) for k, lb, _r in COLUMNS)[key],
                                                                     "e": exc})
                if not any(row.values.values()) and not row.errors:
                    continue  # a blank row
                rows.append(row)
                if len(rows) > MAX_ROWS:
                    raise AccountImportError(_("Tệp có hơn %(n)d tài khoản; hãy chia thành nhiều tệp.") % {"n": MAX_ROWS})
            if header is not None:
                if not rows:
                    raise AccountImportError(_("Bảng không có dòng tài khoản nào dưới dòng tiêu đề."))
                return check_rows(rows)
    except WorkbookError as exc:
        raise AccountImportError(str(exc)) from exc
    finally:
        book.close()
    raise AccountImportError(_("Không tìm thấy dòng tiêu đề có cột «Tên đăng nhập» trong %(n)d dòng đầu của các trang "
                               "tính; hãy dùng tệp mẫu.") % {"n": HEADER_SEARCH_ROWS})


def _role_of(text):
    if text in Role.values:
        return text
    folded = fold(text)
    for code, label in Role.choices:
        if fold(str(label)) == folded or fold(code) == folded:
            return code
    return None


def check_rows(rows):
    """Check each row (its values as read or as signed) against the rules of an account and the
    database as it is now; each problem goes to the row's ``errors`` in Vietnamese. Returns ``rows``."""
    from .forms import PHONE_PATTERN
    from .services import validate_assignment

    limits = {name: User._meta.get_field(name).max_length
              for name in ("username", "first_name", "last_name", "email", "job_title", "phone")}
    usernames = {r.values.get("username", "").lower() for r in rows} - {""}
    taken = set(User.objects.annotate(key=Lower("username")).filter(key__in=usernames).values_list("key", flat=True))
    seen = {}
    codes = {r.values.get("organisation", "").lower() for r in rows} - {""}
    organisations = {o.code.lower(): o for o in Organisation.objects.annotate(key=Lower("code")).filter(key__in=codes)}
    for row in rows:
        values = row.values
        for key, label, required in COLUMNS:
            text = values.get(key, "")
            if required and not text:
                row.errors.append(_("thiếu «%(c)s»") % {"c": label})
            if CONTROL_CHARACTERS.search(text):
                row.errors.append(_("«%(c)s» có ký tự điều khiển không hiển thị") % {"c": label})
            if key in limits and len(text) > limits[key]:
                row.errors.append(_("«%(c)s» dài quá %(n)d ký tự") % {"c": label, "n": limits[key]})
        username = values.get("username", "")
        if username:
            try:
                UnicodeUsernameValidator()(username)
            except ValidationError:
                row.errors.append(_("tên đăng nhập «%(u)s» chỉ được gồm chữ, số và @ . + - _") % {"u": username})
            if username.lower() in taken:
                row.errors.append(_("tên đăng nhập «%(u)s» đã có tài khoản") % {"u": username})
            elif username.lower() in seen:
                row.errors.append(_("tên đăng nhập «%(u)s» trùng với dòng %(n)d") % {"u": username, "n": seen[username.lower()]})
            seen.setdefault(username.lower(), row.number)
        phone = values.get("phone", "")
        if phone and not re.fullmatch(PHONE_PATTERN, phone):
            row.errors.append(_("số điện thoại «%(p)s» chỉ được gồm chữ số, dấu cách, dấu chấm, gạch ngang, ngoặc và dấu "
                                "+ ở đầu") % {"p": phone})
        email = values.get("email", "")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                row.errors.append(_("thư điện tử «%(e)s» không hợp lệ") % {"e": email})
        role = _role_of(values.get("role", "")) if values.get("role") else None
        if values.get("role") and role is None:
            row.errors.append(_("vai trò «%(r)s» không có; dùng một trong: %(all)s") % {
                "r": values["role"], "all": ", ".join(str(label) for _c, label in Role.choices)})
        if role:
            values["role"] = role
        code = values.get("organisation", "")
        organisation = organisations.get(code.lower()) if code else None
        if code and organisation is None:
            row.errors.append(_("không có đơn vị mã «%(c)s» (xem trang «Danh mục» của tệp mẫu)") % {"c": code})
        if organisation is not None:
            values["organisation"] = organisation.code
        row.organisation = organisation
        if role and not (code and organisation is None):
            try:
                validate_assignment(role, organisation)
            except ValidationError as exc:
                row.errors.append(" ".join(exc.messages).rstrip("."))
    return rows


def sign_rows(rows, *, name):
    """The rows of a preview without errors, signed for the confirmation form."""
    return signing.dumps({"name": name, "rows": [[r.number, r.values] for r in rows]}, salt=SIGNING_SALT, compress=True)


def unsign_rows(token):
    """``(file name, rows)`` from ``sign_rows``; raises ``AccountImportError`` if forged or stale."""
    try:
        data = signing.loads(token or "", salt=SIGNING_SALT, max_age=PREVIEW_MAX_AGE)
        rows = [AccountRow(number=int(number), values={k: str(v) for k, v in values.items()})
                for number, values in data["rows"]]
        return str(data["name"]), rows
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise AccountImportError(_("Bản xem trước đã quá hạn hoặc không hợp lệ; hãy tải tệp lên lại.")) from exc


def template_workbook():
    """The accounts template: the header row on «Tài khoản», the roles as a drop-down, and on «Danh
    mục» the current organisations' codes (with name and province) and an example row."""
    import io

    from openpyxl import Workbook as OpenWorkbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    book = OpenWorkbook()
    sheet = book.active
    sheet.title = _("Tài khoản")
    sheet.append([str(label) for _k, label, _r in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEFGH", (22, 18, 12, 30, 32, 22, 24, 16), strict=True):
        sheet.column_dimensions[letter].width = width
    lists = book.create_sheet(_("Danh mục"))
    lists.append([_("Mã đơn vị"), _("Tên đơn vị"), _("Tỉnh, thành phố"), "", _("Vai trò")])
    today = timezone.localdate()
    organisations = [o for o in Organisation.objects.select_related("province").order_by("province__code", "kind", "code")
                     if o.is_valid_on(today)]
    roles = [str(label) for _c, label in Role.choices]
    for i in range(max(len(organisations), len(roles))):
        o = organisations[i] if i < len(organisations) else None
        lists.append([o.code if o else None, o.name if o else None,
                      (o.province.full_name if o and o.province_id else (_("Toàn quốc") if o else None)), None,
                      roles[i] if i < len(roles) else None])
    for cell in lists[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDE", (22, 60, 24, 4, 32), strict=True):
        lists.column_dimensions[letter].width = width
    role_list = DataValidation(type="list", formula1=f"='{_('Danh mục')}'!$E$2:$E${len(roles) + 1}", allow_blank=False,
                               showErrorMessage=True)
    role_list.add("E2:E1001")
    code_list = DataValidation(type="list", formula1=f"='{_('Danh mục')}'!$A$2:$A${len(organisations) + 1}",
                               allow_blank=True, showErrorMessage=True)
    code_list.add("F2:F1001")
    sheet.add_data_validation(role_list)
    sheet.add_data_validation(code_list)
    guide = book.create_sheet(_("Hướng dẫn"))
    for line in (
        _("Mỗi dòng của trang «Tài khoản» là một tài khoản mới; không sửa dòng tiêu đề."),
        _("Bắt buộc: Tên đăng nhập (chữ, số và @ . + - _), Thư điện tử (thư mời đặt mật khẩu được gửi tới đây), Vai trò."),
        _("Mã đơn vị: lấy ở trang «Danh mục»; bắt buộc với cán bộ Sở Công Thương và Trung tâm khuyến công."),
        _("Ví dụ: tt.nguyenvana | Nguyễn Văn | A | nguyenvana@congthuong.gov.vn | Cán bộ Trung tâm khuyến công | "
          "ttkc-24 | Chuyên viên | 0222 3821 234"),
        _("Không có tài khoản nào được tạo nếu một dòng có lỗi: trang xem trước chỉ rõ dòng và lỗi."),
    ):
        guide.append([line])
    guide.column_dimensions["A"].width = 120
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def accounts_workbook(accounts, *, with_sign_in=False):
    """«Cán bộ, tài khoản» as listed (``selectors.account_list``: scoped, searched, filtered) to .xlsx
    bytes: a few hundred rows at most. Every text cell goes through the portal's formula neutralising;
    ``with_sign_in`` (administrators) adds when each account last signed in."""
    import io

    from openpyxl import Workbook as OpenWorkbook
    from openpyxl.styles import Font

    from .formatting import format_datetime
    from .xlsx import neutralise

    headers = [_("STT"), _("Họ và tên"), _("Tên đăng nhập"), _("Vai trò"), _("Cơ quan, đơn vị"), _("Tỉnh, thành phố"),
               _("Chức vụ"), _("Thư điện tử"), _("Điện thoại")] + ([_("Đăng nhập gần nhất")] if with_sign_in else [])
    book = OpenWorkbook()
    sheet = book.active
    sheet.title = _("Cán bộ, tài khoản")
    sheet.append([_("DANH SÁCH CÁN BỘ, TÀI KHOẢN")])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([neutralise(_("Xuất lúc %(t)s") % {"t": format_datetime(timezone.now())})])
    sheet.append([str(h) for h in headers])
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEFGHIJ", (6, 26, 20, 30, 44, 22, 22, 32, 18, 18), strict=True):
        sheet.column_dimensions[letter].width = width
    for number, user in enumerate(accounts, start=1):
        organisation = user.organisation
        province = organisation.province.full_name if organisation and organisation.province_id else _("Toàn quốc")
        row = [number, neutralise(user.get_full_name() or user.username), neutralise(user.username),
               str(user.get_role_display()), neutralise(organisation.name if organisation else ""),
               neutralise(str(province)), neutralise(user.job_title), neutralise(user.email), neutralise(user.phone)]
        if with_sign_in:
            row.append(format_datetime(user.last_login) if user.last_login else _("chưa đăng nhập lần nào"))
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
