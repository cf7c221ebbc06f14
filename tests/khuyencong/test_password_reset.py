"""«Quên mật khẩu»: a one-time link mailed to the account's address (by the worker), never saying
whether an account has the address; the new password is checked by the validators, recorded in the
audit trail, ends the other sessions and lifts the login lockout; requests are rate-limited; a broker
that is down is said in plain words. Every rejection leaves the password as it was."""
import re
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.core.cache import cache

from khuyencong.models import AuditEvent, User

from .factories import PASSWORD, centre_user, reviewer

pytestmark = pytest.mark.django_db

REQUEST = "/quen-mat-khau/"
NEW = "Mat-khau-moi-2026!"


@pytest.fixture(autouse=True)
def _in_process(eager_celery):
    """Tasks run in-process (the real worker's test is test_password_reset_worker.py)."""


def ask(client, email, address="198.51.100.20"):
    return client.post(REQUEST, {"email": email}, REMOTE_ADDR=address)


def link_in(message):
    found = re.search(r"https?://testserver(/dat-lai-mat-khau/[^/\s]+/[^/\s]+/)", message.body)
    assert found, message.body
    return found.group(1)


def test_login_and_lockout_pages_offer_the_reset(client):
    page = client.get("/dang-nhap/").content.decode()
    assert 'href="/quen-mat-khau/"' in page and "Quên mật khẩu?" in page
    form = client.get(REQUEST).content.decode()
    assert "Thư điện tử của tài khoản" in form and 'autocomplete="email"' in form
    assert 'aria-describedby="id_email_helptext"' in form


def test_a_known_address_gets_a_one_time_link_in_vietnamese(client):
    user = centre_user(email="an.nguyen@congthuong.gov.vn")
    response = ask(client, "AN.Nguyen@CongThuong.gov.vn")  # case ignored
    assert response.status_code == 302 and response["Location"] == "/quen-mat-khau/da-gui/"
    done = client.get(response["Location"]).content.decode()
    assert "Nếu địa chỉ thư điện tử vừa nhập là của một tài khoản đang hoạt động" in done
    assert f"trong {settings.PASSWORD_RESET_TIMEOUT // 60} phút" in done
    [message] = mail.outbox
    assert message.to == ["an.nguyen@congthuong.gov.vn"]
    assert message.subject == "Đặt lại mật khẩu tài khoản Cổng khuyến công"
    assert f"Kính gửi {user.get_full_name()}," in message.body
    assert f"tên đăng nhập: {user.username}" in message.body
    assert f"trong vòng {settings.PASSWORD_RESET_TIMEOUT // 60} phút" in message.body
    link_in(message)
    event = AuditEvent.objects.get(action="user.password_reset_requested")
    assert event.object_id == str(user.pk) and event.actor is None
    assert event.data == {"address": "198.51.100.20", "email": "an.nguyen@congthuong.gov.vn"}
    # Asking changes nothing by itself.
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("case", ["unknown", "inactive", "no_password"])
def test_the_page_never_says_whether_an_account_has_the_address(client, case):
    if case == "inactive":
        centre_user(email="nghi@congthuong.gov.vn", is_active=False)
    elif case == "no_password":
        user = centre_user(email="nghi@congthuong.gov.vn")
        user.set_unusable_password()
        user.save()
    known = centre_user(email="co@congthuong.gov.vn")
    quiet = ask(client, "nghi@congthuong.gov.vn")
    assert not mail.outbox and not AuditEvent.objects.filter(action="user.password_reset_requested").exists()
    answered = ask(client, known.email, address="198.51.100.21")
    assert len(mail.outbox) == 1
    assert (quiet.status_code, quiet["Location"]) == (answered.status_code, answered["Location"])


@pytest.mark.parametrize("email, message", [
    ("", "Hãy nhập địa chỉ thư điện tử."),
    ("khong-phai-thu", "Địa chỉ thư điện tử chưa đúng dạng"),
    ("a@b\x00.vn", "Địa chỉ thư điện tử chưa đúng dạng"),
    ("x" * 300 + "@congthuong.gov.vn", "254"),
])
def test_a_malformed_address_is_refused_in_vietnamese(client, email, message):
    response = ask(client, email)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page and 'role="alert"' in page and 'href="#id_email"' in page
    assert not mail.outbox


def test_the_link_sets_a_new_password_once_and_ends_other_sessions(client, django_user_model):
    from django.test import Client

    user = reviewer(email="chau@moit.gov.vn")
    elsewhere = Client()
    elsewhere.force_login(user)
    assert elsewhere.get("/").status_code == 200
    ask(client, user.email)
    link = link_in(mail.outbox[0])
    form_page = client.get(link, follow=True)
    form_url = form_page.redirect_chain[-1][0]
    assert form_url.endswith("/dat-mat-khau-moi/") and "Đặt mật khẩu mới" in form_page.content.decode()
    assert f"Tài khoản: {user.username}" in form_page.content.decode()
    done = client.post(form_url, {"new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302 and done["Location"] == "/dat-lai-mat-khau/xong/"
    assert "Đã đặt mật khẩu mới" in client.get(done["Location"]).content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW) and not user.check_password(PASSWORD)
    event = AuditEvent.objects.get(action="user.password_reset")
    assert event.actor == user and event.object_id == str(user.pk) and NEW not in str(event.data)
    # Not signed in by the reset; the session opened before it has ended.
    assert "_auth_user_id" not in client.session
    assert elsewhere.get("/").status_code == 302
    # The same link a second time: refused, the password stays.
    again = client.get(link, follow=True).content.decode()
    assert "Liên kết không còn dùng được" in again and "Mật khẩu chưa thay đổi" in again
    assert client.post("/dang-nhap/", {"username": user.username, "password": NEW}).status_code == 302


@pytest.mark.parametrize("first, second, message", [
    (NEW, NEW + "x", "Hai trường mật khẩu không giống nhau"),
    ("12345678901", "12345678901", "hoàn toàn là số"),
    ("ngan", "ngan", "quá ngắn"),
])
def test_a_bad_new_password_is_refused_and_the_old_one_kept(client, first, second, message):
    user = centre_user(email="an@congthuong.gov.vn")
    ask(client, user.email)
    form_url = client.get(link_in(mail.outbox[0]), follow=True).redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": first, "new_password2": second})
    page = response.content.decode()
    assert response.status_code == 200 and message in page, page
    assert "Mật khẩu chưa được đặt lại" in page
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action="user.password_reset").exists()


def test_an_expired_or_forged_link_is_refused_plainly(client):
    user = centre_user(email="an@congthuong.gov.vn")
    ask(client, user.email)
    link = link_in(mail.outbox[0])
    later = PasswordResetTokenGenerator()._now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    with mock.patch.object(PasswordResetTokenGenerator, "_now", return_value=later):
        expired = client.get(link, follow=True)
    assert "Liên kết không còn dùng được" in expired.content.decode()
    uid = link.split("/")[2]
    for forged in (f"/dat-lai-mat-khau/{uid}/abc-123/", "/dat-lai-mat-khau/OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ/abc-123/",
                   "/dat-lai-mat-khau/%%%/abc/", f"/dat-lai-mat-khau/{uid}/dat-mat-khau-moi/"):
        response = client.get(forged, follow=True)
        assert response.status_code == 200, forged
        assert "Liên kết không còn dùng được" in response.content.decode(), forged
    # Posting to the form without a valid link in the session sets nothing.
    client.post(f"/dat-lai-mat-khau/{uid}/dat-mat-khau-moi/", {"new_password1": NEW, "new_password2": NEW})
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_requests_are_limited_per_address_and_per_email(client, settings):
    settings.PASSWORD_RESET_LIMIT = 2
    user = centre_user(email="an@congthuong.gov.vn")
    assert ask(client, user.email).status_code == 302
    assert ask(client, "khac@congthuong.gov.vn").status_code == 302
    # A third request from the same address, whatever the e-mail: refused, nothing sent.
    refused = ask(client, user.email)
    assert refused.status_code == 200 and "quá nhiều yêu cầu đặt lại mật khẩu" in refused.content.decode()
    assert len(mail.outbox) == 1
    # From elsewhere the same e-mail still has one request left, then it is refused too.
    assert ask(client, user.email, address="203.0.113.5").status_code == 302
    assert ask(client, user.email, address="203.0.113.6").status_code == 200
    assert len(mail.outbox) == 2
    # The counters forget after the hour.
    cache.clear()
    assert ask(client, user.email).status_code == 302


def test_a_reset_lifts_the_login_lockout(client):
    user = centre_user(email="an@congthuong.gov.vn")
    for i in range(settings.AXES_FAILURE_LIMIT):
        client.post("/dang-nhap/", {"username": user.username, "password": f"sai-{i}"}, REMOTE_ADDR=f"203.0.113.{i + 1}")
    locked = client.post("/dang-nhap/", {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="203.0.113.50")
    assert locked.status_code == 429 and 'href="/quen-mat-khau/"' in locked.content.decode()
    ask(client, user.email)
    form_url = client.get(link_in(mail.outbox[0]), follow=True).redirect_chain[-1][0]
    client.post(form_url, {"new_password1": NEW, "new_password2": NEW})
    response = client.post("/dang-nhap/", {"username": user.username, "password": NEW}, REMOTE_ADDR="203.0.113.51")
    assert response.status_code == 302


def test_a_broker_that_is_down_is_said_plainly_and_nothing_is_sent(client, dead_broker):
    user = centre_user(email="an@congthuong.gov.vn")
    response = ask(client, user.email)
    page = response.content.decode()
    assert response.status_code == 200 and "hệ thống gửi thư đang tạm ngừng" in page
    assert not mail.outbox and not AuditEvent.objects.filter(action__startswith="user.password_reset").exists()


def test_each_account_with_the_address_gets_its_own_link():
    from khuyencong import services

    first = centre_user(email="chung@congthuong.gov.vn")
    second = reviewer(email="Chung@congthuong.gov.vn")
    assert services.password_reset_send(email="chung@congthuong.gov.vn", domain="cong.example", use_https=True) == 2
    bodies = sorted(m.body for m in mail.outbox)
    assert all("https://cong.example/dat-lai-mat-khau/" in b for b in bodies)
    assert {first.username, second.username} == {re.search(r"tên đăng nhập: (\S+)\)", b).group(1) for b in bodies}
    assert services.password_reset_send(email="khong-co@congthuong.gov.vn", domain="cong.example", use_https=True) == 0
    assert User.objects.count() >= 2
