"""«Nhập tài khoản từ Excel» (/quan-tri/ → Người dùng → «Nhập từ Excel»): a workbook laid out as the
template is previewed row by row (the row number the sheet shows, «Sẽ tạo» or each error in
Vietnamese), and confirmed only when every row is right: all accounts are created or none, each in the
audit trail, and each holder is mailed an invitation. Every way a file or a row is refused leaves the
accounts as they were."""
import io
import re

import pytest
from django.core import mail
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from khuyencong.choices import Role
from khuyencong.models import AuditEvent, User

from .factories import admin_user, centre_user, reviewer

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:khuyencong_user_import")
TEMPLATE = reverse("admin:khuyencong_user_import_template")
HEADER = ["Tên đăng nhập", "Họ và tên đệm", "Tên", "Thư điện tử", "Vai trò", "Mã đơn vị", "Chức vụ", "Điện thoại"]
GOOD = [
    ["tt.hanoi.hoa", "Đỗ Thị", "Hoa", "hoa.do@congthuong.gov.vn", "Cán bộ Trung tâm khuyến công", "ttkc-24",
     "Chuyên viên", "0222 3821 234"],
    ["so.bacninh.lam", "Ngô Văn", "Lâm", "lam.ngo@congthuong.gov.vn", "province", "SO-CT-24", "", 2223821235],
    ["cuc.moi", "Vũ", "Mai", "mai.vu@moit.gov.vn", "chuyen vien tham dinh (cuc)", "", "", ""],
]


@pytest.fixture(autouse=True)
def _in_process(eager_celery):
    """Invitations run in-process (the real worker's test is test_password_reset_worker.py)."""


def book(rows, *, header=HEADER, title_rows=(), sheet_first=None):
    wb = Workbook()
    ws = wb.active
    if sheet_first:
        ws.title = sheet_first
        ws.append(["Trang ghi chú"])
        ws = wb.create_sheet("Tài khoản")
    for line in title_rows:
        ws.append(line)
    ws.append(header)
    for row in rows:
        ws.append(row)
    return saved(wb, "tai-khoan.xlsx")


def saved(wb, name):
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    out.name = name
    return out


def upload(client, fileobj):
    return client.post(IMPORT, {"file": fileobj})


def confirm(client, response):
    page = response.content.decode()
    token = re.search(r'name="rows" value="([^"]+)"', page).group(1)
    key = re.search(r'name="submission_key" value="([^"]+)"', page).group(1)
    return client.post(IMPORT, {"rows": token, "submission_key": key, "confirm": "1"})


@pytest.fixture
def admin(client):
    user = admin_user()
    client.force_login(user)
    return user


def test_the_list_offers_the_import_and_the_template_reimports(client, admin):
    assert f'href="{IMPORT}"' in client.get(reverse("admin:khuyencong_user_changelist")).content.decode()
    page = client.get(IMPORT).content.decode()
    assert "Tải tệp mẫu (.xlsx)" in page and f'href="{TEMPLATE}"' in page
    template = client.get(TEMPLATE)
    assert template["Content-Disposition"] == 'attachment; filename="mau-tai-khoan.xlsx"'
    wb = load_workbook(io.BytesIO(template.content))
    assert wb.sheetnames == ["Tài khoản", "Danh mục", "Hướng dẫn"]
    assert [c.value for c in wb["Tài khoản"][1]] == HEADER
    codes = {row[0] for row in wb["Danh mục"].iter_rows(min_row=2, values_only=True) if row[0]}
    assert {"ttkc-24", "so-ct-24", "cuc-khuyen-cong"} <= codes and "ttkc-cu-27" not in codes  # current ones only
    roles = {row[4] for row in wb["Danh mục"].iter_rows(min_row=2, values_only=True) if row[4]}
    assert roles == {str(label) for _c, label in Role.choices}
    validations = {str(v.sqref): v.formula1 for v in wb["Tài khoản"].data_validations.dataValidation}
    assert validations["E2:E1001"].startswith("='Danh mục'!$E$2")
    assert validations["F2:F1001"].startswith("='Danh mục'!$A$2")
    # The template filled with the rows imports as it is.
    ws = wb["Tài khoản"]
    for row in GOOD:
        ws.append(row)
    preview = upload(client, saved(wb, "mau-da-dien.xlsx")).content.decode()
    assert preview.count("Sẽ tạo") == 3 and "Mọi dòng hợp lệ" in preview


def test_preview_then_confirm_creates_every_account_and_invites_each(client, admin):
    preview = upload(client, book(GOOD, title_rows=[["DANH SÁCH CÁN BỘ"], []]))
    page = preview.content.decode()
    assert preview.status_code == 200 and page.count("Sẽ tạo") == 3
    assert "Tạo 3 tài khoản và gửi thư mời" in page
    assert "<td>4</td>" in page and "<td>6</td>" in page  # the rows as the sheet numbers them (two title rows)
    assert not User.objects.filter(username="tt.hanoi.hoa").exists()  # a preview writes nothing
    done = confirm(client, preview)
    assert done.status_code == 302 and done["Location"] == reverse("admin:khuyencong_user_changelist")
    created = {u.username: u for u in User.objects.filter(username__in=["tt.hanoi.hoa", "so.bacninh.lam", "cuc.moi"])}
    assert set(created) == {"tt.hanoi.hoa", "so.bacninh.lam", "cuc.moi"}
    hoa, lam, mai = created["tt.hanoi.hoa"], created["so.bacninh.lam"], created["cuc.moi"]
    assert (hoa.role, hoa.organisation.code, hoa.first_name, hoa.last_name, hoa.job_title, hoa.phone) == (
        Role.CENTRE, "ttkc-24", "Đỗ Thị", "Hoa", "Chuyên viên", "0222 3821 234")
    assert (lam.role, lam.organisation.code, lam.phone) == (Role.PROVINCE, "so-ct-24", "2223821235")
    assert (mai.role, mai.organisation) == (Role.REVIEWER, None)
    assert all(u.has_usable_password() and u.last_login is None and not u.is_staff for u in created.values())
    # One hash of a thrown-away random password for the whole file (bench/bench_accounts.py: the real
    # hasher costs ≈ 0,25 s a hash); each holder's own password gets its own when they set it.
    assert len({u.password for u in created.values()}) == 1
    events = AuditEvent.objects.filter(action="user.create", object_id__in=[str(u.pk) for u in created.values()])
    assert events.count() == 3 and {e.actor_id for e in events} == {admin.pk}
    assert "nhập từ tệp «tai-khoan.xlsx», dòng 4" in events.get(object_id=str(hoa.pk)).summary
    assert sorted(m.to[0] for m in mail.outbox) == ["hoa.do@congthuong.gov.vn", "lam.ngo@congthuong.gov.vn",
                                                     "mai.vu@moit.gov.vn"]
    listing = client.get(done["Location"]).content.decode()
    assert "Đã tạo 3 tài khoản từ tệp «tai-khoan.xlsx»." in listing and "Đã gửi thư mời đặt mật khẩu cho 3 tài khoản" in listing


def test_each_bad_row_is_named_and_nothing_is_created(client, admin):
    centre_user(username="da.co")
    rows = [
        GOOD[0],
        ["", "Không", "Tên", "a@congthuong.gov.vn", "Cán bộ Trung tâm khuyến công", "ttkc-24", "", ""],
        ["da.co", "", "", "b@congthuong.gov.vn", "Cán bộ Trung tâm khuyến công", "ttkc-24", "", ""],
        ["TT.HANOI.HOA", "", "", "c@congthuong.gov.vn", "Cán bộ Trung tâm khuyến công", "ttkc-24", "", ""],
        ["co dau cach", "", "", "khong-phai-thu", "Giám đốc", "ttkc-99", "", "gọi tôi"],
        ["tt.khong.don.vi", "", "", "d@congthuong.gov.vn", "Cán bộ Trung tâm khuyến công", "", "", ""],
        ["tt.don.vi.cu", "", "", "e@congthuong.gov.vn", "Cán bộ Trung tâm khuyến công", "ttkc-cu-27", "", ""],
        ["tt.bo", "", "", "f@congthuong.gov.vn", "Cán bộ Sở Công Thương", "bo-cong-thuong", "", ""],
        ["=cmd|' /C calc'!A0", "", "", "g@congthuong.gov.vn", "Cán bộ Trung tâm khuyến công", "ttkc-24", "", ""],
        ["tt.dai", "x" * 151, "", "h@congthuong.gov.vn", "Cán bộ Trung tâm khuyến công", "ttkc-24", "", ""],
        ["so.o.trung.tam", "", "", "i@congthuong.gov.vn", "Cán bộ Sở Công Thương", "ttkc-24", "", ""],
    ]
    response = upload(client, book(rows))
    page = response.content.decode()
    assert response.status_code == 200 and 'name="confirm"' not in page and 'name="rows"' not in page
    assert "10 dòng có lỗi" in page and "Chưa tài khoản nào được tạo" in page
    for message in ("Thiếu «Tên đăng nhập»", "Tên đăng nhập «da.co» đã có tài khoản",
                    "Tên đăng nhập «TT.HANOI.HOA» trùng với dòng 2",
                    "Tên đăng nhập «co dau cach» chỉ được gồm chữ, số", "Thư điện tử «khong-phai-thu» không hợp lệ",
                    "Vai trò «Giám đốc» không có", "Không có đơn vị mã «ttkc-99»", "Số điện thoại «gọi tôi»",
                    "phải thuộc một cơ quan, đơn vị", "đã hết hiệu lực", "không thuộc tỉnh, thành phố nào",
                    "«Họ và tên đệm» dài quá 150 ký tự", "Cán bộ Sở Công Thương không thể thuộc «Trung tâm"):
        assert message in page, message
    assert page.count("Sẽ tạo") == 1
    assert not User.objects.filter(email__endswith="@congthuong.gov.vn").exclude(username="da.co").exists()
    assert not mail.outbox


@pytest.mark.parametrize("make, message", [
    (lambda: book([], header=["Họ tên", "Email"]), "Không tìm thấy dòng tiêu đề có cột «Tên đăng nhập»"),
    (lambda: book([GOOD[0]], header=["Tên đăng nhập", "Họ và tên đệm", "Tên"]),
     "Thiếu cột «Thư điện tử», «Vai trò» ở dòng tiêu đề (dòng 1)"),
    (lambda: book([]), "Bảng không có dòng tài khoản nào"),
    (lambda: io.BytesIO(b"ten,email\nan,an@x.vn\n"), "không phải bảng tính Excel .xlsx mà là tệp văn bản"),
    (lambda: io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600), "Excel 97–2003 (.xls)"),
    (lambda: io.BytesIO(book(GOOD).getvalue()[:300]), "hỏng hoặc không đầy đủ"),
])
def test_a_file_that_cannot_be_read_is_refused_plainly(client, admin, make, message):
    fileobj = make()
    fileobj.name = getattr(fileobj, "name", "tai-khoan.xlsx")
    response = upload(client, fileobj)
    page = response.content.decode()
    assert response.status_code == 200 and message in page, page[page.find("errorlist"):][:600]
    assert not User.objects.filter(username="tt.hanoi.hoa").exists()


def test_the_headers_are_found_on_any_sheet_and_blank_rows_skipped(client, admin):
    rows = [GOOD[0], [None] * 8, ["", "", "", "", "", "", "", ""], GOOD[1]]
    page = upload(client, book(rows, sheet_first="Ghi chú", header=[h.upper() for h in HEADER])).content.decode()
    assert page.count("Sẽ tạo") == 2 and "<td>5</td>" in page


def test_a_forged_or_stale_preview_creates_nothing(client, admin):
    preview = upload(client, book(GOOD))
    page = preview.content.decode()
    token = re.search(r'name="rows" value="([^"]+)"', page).group(1)
    forged = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")
    response = client.post(IMPORT, {"rows": forged, "confirm": "1"})
    assert "Bản xem trước đã quá hạn hoặc không hợp lệ" in response.content.decode()
    assert not User.objects.filter(username="tt.hanoi.hoa").exists()


def test_confirming_twice_creates_once(client, admin):
    preview = upload(client, book(GOOD))
    first = confirm(client, preview)
    again = confirm(client, preview)
    assert first.status_code == again.status_code == 302
    assert User.objects.filter(username__in=["tt.hanoi.hoa", "so.bacninh.lam", "cuc.moi"]).count() == 3
    assert len(mail.outbox) == 3
    assert "đã được gửi trước đó" in client.get(again["Location"]).content.decode()


def test_a_name_taken_since_the_preview_stops_the_whole_import(client, admin):
    preview = upload(client, book(GOOD))
    centre_user(username="so.bacninh.lam")  # someone else, meanwhile
    response = confirm(client, preview)
    page = response.content.decode()
    assert response.status_code == 200 and "Có dòng không còn hợp lệ" in page
    assert "Tên đăng nhập «so.bacninh.lam» đã có tài khoản" in page
    assert not User.objects.filter(username__in=["tt.hanoi.hoa", "cuc.moi"]).exists() and not mail.outbox


def test_only_an_administrator_may_import(client):
    client.force_login(reviewer(is_staff=True))
    assert client.get(IMPORT).status_code in (302, 403)
    assert client.post(IMPORT, {"file": book(GOOD)}).status_code in (302, 403)
    assert client.get(TEMPLATE).status_code in (302, 403)
    assert not User.objects.filter(username="tt.hanoi.hoa").exists()
