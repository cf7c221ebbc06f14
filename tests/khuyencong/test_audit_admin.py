"""«Nhật ký thao tác» in /quan-tri/: the codes services write are shown by their Vietnamese labels, in the
list and its filters; each event links to its record's page; the list is filtered by day, action or
kind of record, searched by who did it; its queries do not grow with the rows; nobody edits it."""
import pytest
from django.urls import reverse

from khuyencong import audit
from khuyencong.models import AuditEvent

from .factories import admin_user, centre_user, reviewer

pytestmark = pytest.mark.django_db

LIST = reverse("admin:khuyencong_auditevent_changelist")


def event(actor, action, object_type, object_id, summary):
    return AuditEvent.objects.create(actor=actor, action=action, object_type=object_type, object_id=str(object_id),
                                     summary=summary)


def test_the_list_speaks_vietnamese_and_links_each_record(client):
    admin = admin_user(first_name="Phạm Quốc", last_name="Dũng")
    user = centre_user()
    event(admin, "user.create", "user", user.pk, f"Tạo tài khoản {user.username}.")
    event(None, "login.locked_out", "login", "ten.sai", "Tạm khóa đăng nhập «ten.sai».")
    event(admin, "funding.import_applied", "funding.ImportBatch", 7, "Nhập «phan-bo.xlsx»")
    client.force_login(admin)
    page = client.get(LIST).content.decode()
    for label in ("Tạo tài khoản", "Tạm khóa đăng nhập", "Nhập Excel", "Tài khoản", "Lô nhập Excel", "Đăng nhập"):
        assert label in page, label
    assert ">user.create<" not in page and ">funding.import_applied<" not in page  # codes only in the filter links
    user_page = reverse("admin:khuyencong_user_change", args=[user.pk])
    assert f'<a href="{user_page}">Tài khoản {user.pk}</a>' in page
    assert '<a href="/kinh-phi/nhap/7/">Lô nhập Excel 7</a>' in page
    assert ">Đăng nhập ten.sai<" in page and '<a href="?object_type=login">Đăng nhập</a>' in page


def test_filters_by_action_and_search_by_who_did_it(client):
    admin = admin_user()
    someone = reviewer(first_name="Lê Minh", last_name="Châu")
    event(admin, "user.create", "user", 1, "Tạo tài khoản thứ nhất.")
    event(someone, "establishment.change", "projects.Establishment", 3, "Sửa thông tin cơ sở «Mây tre Phú Vinh».")
    client.force_login(admin)
    only = client.get(LIST, {"action": "establishment.change"}).content.decode()
    assert "Mây tre Phú Vinh" in only and "Tạo tài khoản thứ nhất" not in only
    assert '<a href="/de-an/co-so/3/">Cơ sở thụ hưởng 3</a>' in only
    found = client.get(LIST, {"q": "Châu"}).content.decode()
    assert "Mây tre Phú Vinh" in found and "Tạo tài khoản thứ nhất" not in found
    assert client.get(LIST, {"action": "khong.co"}).status_code == 200
    counted = client.get(LIST, {"_facets": "True"}).content.decode()  # «Hiện số lượng»
    assert "Sửa thông tin cơ sở thụ hưởng (1)" in counted and "Tạo tài khoản (1)" in counted


def test_the_list_s_queries_do_not_grow_with_the_rows(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin = admin_user()
    client.force_login(admin)
    event(centre_user(), "user.contact_change", "user", 0, "Cập nhật 0.")

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIST).status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    for i in range(1, 41):
        event(centre_user(), "user.contact_change", "user", i, f"Cập nhật {i}.")
    assert queries() == few  # each actor came with its event (list_select_related)


def test_labels_cover_what_the_trail_holds_and_an_unknown_code_is_shown_as_it_is():
    assert audit.action_label("user.invitation_sent") == "Gửi thư mời đặt mật khẩu"
    assert audit.action_label("ma.la") == "ma.la" and audit.object_type_label("la") == "la"
    odd = AuditEvent(action="login.locked_out", object_type="user", object_id="ten-dang-nhap")
    assert audit.object_url(odd) == reverse("admin:khuyencong_user_change", args=["ten-dang-nhap"])
    assert audit.object_url(AuditEvent(object_type="projects.DeAn", object_id="abc")) is None
    assert audit.object_url(AuditEvent(object_type="funding.Disbursement", object_id="5")) is None


def test_nobody_edits_the_trail(client):
    admin = admin_user()
    entry = event(admin, "user.create", "user", 1, "Tạo tài khoản.")
    client.force_login(admin)
    change = reverse("admin:khuyencong_auditevent_change", args=[entry.pk])
    assert client.post(change, {"summary": "Đã sửa"}).status_code == 403
    assert client.post(reverse("admin:khuyencong_auditevent_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.summary == "Tạo tài khoản."
