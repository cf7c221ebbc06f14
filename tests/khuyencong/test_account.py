"""«Thông tin tài khoản»: an account holder keeps their e-mail address, telephone and job title up to
date; a new e-mail address needs the current password (with guesses limited); every change is in the
audit trail; a refused form changes nothing."""
import re

import pytest
from django.conf import settings
from django.core.cache import cache

from khuyencong.models import AuditEvent, User

from .factories import PASSWORD, centre_user, reviewer

pytestmark = pytest.mark.django_db

URL = "/tai-khoan/"


def form_data(user, **changes):
    data = {"email": user.email, "phone": user.phone, "job_title": user.job_title, "current_password": "",
            **({"notify_by_email": "on"} if user.notify_by_email else {}), **changes}
    return {key: value for key, value in data.items() if value is not None}


def state(user):
    user = User.objects.get(pk=user.pk)
    return user.email, user.phone, user.job_title, AuditEvent.objects.filter(action="user.contact_change").count()


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/dang-nhap/")


def test_page_shows_who_the_account_is_and_links_from_the_top_bar(client):
    user = centre_user(email="an@congthuong.gov.vn", phone="0222 3822 123", job_title="Chuyên viên")
    client.force_login(user)
    page = client.get(URL).content.decode()
    assert "Thông tin tài khoản" in page and user.username in page and user.get_full_name() in page
    assert "Trung tâm Khuyến công tỉnh Bắc Ninh" in page and "Tỉnh Bắc Ninh" in page
    assert 'value="an@congthuong.gov.vn"' in page and 'value="0222 3822 123"' in page
    assert 'href="/tai-khoan/" aria-current="page"' in page
    assert 'href="/tai-khoan/"' in client.get("/").content.decode()


def test_phone_and_job_title_are_saved_and_recorded_without_the_password(client):
    user = centre_user(email="an@congthuong.gov.vn", phone="", job_title="Chuyên viên")
    client.force_login(user)
    response = client.post(URL, form_data(user, phone="+84 912 345 678", job_title="Phó Giám đốc"), follow=True)
    assert "Đã lưu thông tin liên hệ." in response.content.decode()
    assert state(user)[:3] == ("an@congthuong.gov.vn", "+84 912 345 678", "Phó Giám đốc")
    event = AuditEvent.objects.get(action="user.contact_change")
    assert event.actor == user and event.object_id == str(user.pk)
    assert event.data == {"before": {"phone": "", "job_title": "Chuyên viên"},
                          "after": {"phone": "+84 912 345 678", "job_title": "Phó Giám đốc"}}
    assert "điện thoại, chức vụ" in event.summary
    # Sending the same again (a double click) writes nothing more.
    again = client.post(URL, form_data(User.objects.get(pk=user.pk)), follow=True)
    assert "Thông tin liên hệ không thay đổi." in again.content.decode()
    assert AuditEvent.objects.filter(action="user.contact_change").count() == 1


def test_mail_can_be_turned_off_and_on_without_the_password(client):
    user = centre_user(email="an@congthuong.gov.vn")
    client.force_login(user)
    assert re.search(r'<input type="checkbox" name="notify_by_email"[^>]* checked>', client.get(URL).content.decode())
    client.post(URL, form_data(user, notify_by_email=None))
    assert User.objects.get(pk=user.pk).notify_by_email is False
    event = AuditEvent.objects.get(action="user.contact_change")
    assert event.data == {"before": {"notify_by_email": True}, "after": {"notify_by_email": False}}
    client.post(URL, form_data(User.objects.get(pk=user.pk), notify_by_email="on"))
    assert User.objects.get(pk=user.pk).notify_by_email is True


def test_a_new_email_needs_the_current_password(client):
    user = centre_user(email="an@congthuong.gov.vn")
    client.force_login(user)
    before = state(user)
    missing = client.post(URL, form_data(user, email="ke.gian@example.com"))
    assert missing.status_code == 200 and "Để đổi địa chỉ thư điện tử, hãy nhập mật khẩu đang dùng." in missing.content.decode()
    wrong = client.post(URL, form_data(user, email="ke.gian@example.com", current_password="sai-mat-khau"))
    assert "Mật khẩu đang dùng không đúng." in wrong.content.decode()
    assert state(user) == before
    # Only the case differs: the same address, no password asked.
    client.post(URL, form_data(user, email="An@CongThuong.gov.vn"))
    assert state(user)[0] == "An@CongThuong.gov.vn"
    ok = client.post(URL, form_data(user, email="an.nguyen@congthuong.gov.vn", current_password=PASSWORD), follow=True)
    assert "Đã lưu thông tin liên hệ." in ok.content.decode()
    assert state(user)[0] == "an.nguyen@congthuong.gov.vn"
    assert PASSWORD not in str(list(AuditEvent.objects.values_list("data", flat=True)))


def test_password_guesses_are_limited(client):
    user = reviewer(email="chau@moit.gov.vn")
    client.force_login(user)
    for i in range(settings.AXES_FAILURE_LIMIT):
        page = client.post(URL, form_data(user, email="x@example.com", current_password=f"doan-{i}")).content.decode()
        assert "Mật khẩu đang dùng không đúng." in page
    # Past the limit even the right password is refused for the hour.
    page = client.post(URL, form_data(user, email="x@example.com", current_password=PASSWORD)).content.decode()
    assert "Đã nhập sai mật khẩu quá nhiều lần" in page
    assert state(user)[0] == "chau@moit.gov.vn"
    cache.clear()
    client.post(URL, form_data(user, email="x@example.com", current_password=PASSWORD))
    assert state(user)[0] == "x@example.com"


@pytest.mark.parametrize("field, value, message", [
    ("email", "khong-phai-thu", "Địa chỉ thư điện tử chưa đúng dạng"),
    ("phone", "gọi tôi", "Số điện thoại chỉ gồm chữ số"),
    ("phone", "12", "Số điện thoại chỉ gồm chữ số"),
    ("phone", "0" * 40, "30"),
    ("job_title", "Chuyên viên\x01=HYPERLINK()", "ký tự điều khiển"),
    ("job_title", "x" * 101, "100"),
])
def test_bad_values_are_refused_in_vietnamese_and_nothing_changes(client, field, value, message):
    user = centre_user(email="an@congthuong.gov.vn", phone="0222 3822 123", job_title="Chuyên viên")
    client.force_login(user)
    before = state(user)
    response = client.post(URL, form_data(user, current_password=PASSWORD, **{field: value}))
    page = response.content.decode()
    assert response.status_code == 200 and message in page and 'role="alert"' in page
    assert f'href="#id_{field}"' in page
    assert state(user) == before


def test_the_form_cannot_change_anything_else(client):
    user = centre_user(email="an@congthuong.gov.vn")
    client.force_login(user)
    client.post(URL, form_data(user, role="admin", is_staff="on", is_superuser="on", organisation="1",
                               first_name="Kẻ", username="quantri2"))
    fresh = User.objects.get(pk=user.pk)
    assert (fresh.role, fresh.is_staff, fresh.is_superuser, fresh.username, fresh.first_name,
            fresh.organisation_id) == (user.role, False, False, user.username, user.first_name, user.organisation_id)


def test_password_change_limits_guesses_of_the_current_password(client):
    new = "Mat-khau-moi-2026!"
    user = centre_user()
    client.force_login(user)
    for i in range(settings.AXES_FAILURE_LIMIT):
        page = client.post("/doi-mat-khau/", {"old_password": f"doan-{i}", "new_password1": new,
                                              "new_password2": new}).content.decode()
        assert "Mật khẩu đang dùng không đúng." in page
    page = client.post("/doi-mat-khau/", {"old_password": PASSWORD, "new_password1": new,
                                          "new_password2": new}).content.decode()
    assert "Đã nhập sai mật khẩu quá nhiều lần" in page
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)
    cache.clear()  # the hour has passed
    assert client.post("/doi-mat-khau/", {"old_password": PASSWORD, "new_password1": new,
                                          "new_password2": new}).status_code == 302
    assert User.objects.get(pk=user.pk).check_password(new)


def test_home_page_asks_for_an_email_address_when_there_is_none(client):
    without = centre_user(email="")
    client.force_login(without)
    page = client.get("/").content.decode()
    assert 'id="no-email"' in page and "không tự đặt lại được mật khẩu" in page and 'href="/tai-khoan/"' in page
    client.force_login(centre_user(email="co@congthuong.gov.vn"))
    assert 'id="no-email"' not in client.get("/").content.decode()


@pytest.mark.parametrize("email, notify, says", [
    ("an@congthuong.gov.vn", True, "Mỗi thông báo cũng được gửi tới an@congthuong.gov.vn."),
    ("an@congthuong.gov.vn", False, "Thông báo chỉ có trên Cổng (không gửi qua thư điện tử)."),
    ("", True, "Tài khoản chưa có địa chỉ thư điện tử: thông báo chỉ có trên Cổng."),
])
def test_notifications_page_says_where_notices_go(client, email, notify, says):
    client.force_login(centre_user(email=email, notify_by_email=notify))
    page = client.get("/de-an/thong-bao/").content.decode()
    assert says in page and 'href="/tai-khoan/"' in page
