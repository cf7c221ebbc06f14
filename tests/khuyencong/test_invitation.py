"""«Thư mời đặt mật khẩu»: an administrator creates an account and its holder is mailed a one-time link
to set their own password (by default, on «Thêm người dùng»; or the list's action for accounts nobody has
used yet). The link works once, for ACCOUNT_INVITATION_DAYS, stops once the account has a password or has
signed in, is no reset link (nor a reset link an invitation); every refusal is said in Vietnamese and
changes nothing."""
import re
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from khuyencong import services
from khuyencong.choices import Role
from khuyencong.models import AuditEvent, User
from khuyencong.tokens import InvitationTokenGenerator, invitation_token_generator

from .factories import PASSWORD, admin_user, centre_user, organisation, reviewer

pytestmark = pytest.mark.django_db

NEW = "Mat-khau-dau-tien-2026!"
ADD = reverse("admin:khuyencong_user_add")
CHANGELIST = reverse("admin:khuyencong_user_changelist")


@pytest.fixture(autouse=True)
def _in_process(eager_celery):
    """Tasks run in-process (the real worker's test is in test_password_reset_worker.py)."""


def add_data(**extra):
    data = {"username": "tt.hanoi.moi", "first_name": "Đỗ Thị", "last_name": "Hoa",
            "email": "hoa.do@congthuong.gov.vn", "usable_password": "invite", "role": Role.CENTRE,
            "organisation": organisation("ttkc-24").pk}
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def link_in(message):
    found = re.search(r"https?://testserver(/kich-hoat-tai-khoan/[^/\s]+/[^/\s]+/)", message.body)
    assert found, message.body
    return found.group(1)


def invitation_path(user, token=None):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"/kich-hoat-tai-khoan/{uid}/{token or invitation_token_generator.make_token(user)}/"


def test_a_new_account_is_invited_by_default(client):
    admin = admin_user()
    client.force_login(admin)
    form = client.get(ADD).content.decode()
    assert 'value="invite" checked' in form or re.search(r'value="invite"[^>]*checked', form), form
    assert "Gửi thư mời để người dùng tự đặt mật khẩu" in form and 'name="email"' in form
    response = client.post(ADD, add_data(), follow=True)
    page = response.content.decode()
    assert response.status_code == 200
    user = User.objects.get(username="tt.hanoi.moi")
    assert "Đã gửi thư mời đặt mật khẩu cho 1 tài khoản: tt.hanoi.moi (hoa.do@congthuong.gov.vn)" in page
    assert "trong 7 ngày" in page
    # A password nobody knows: usable (so «Quên mật khẩu?» works too), never the administrator's.
    assert user.has_usable_password() and not user.check_password("") and user.last_login is None
    [message] = mail.outbox
    assert message.to == ["hoa.do@congthuong.gov.vn"]
    assert message.subject == "Tài khoản Cổng khuyến công của anh/chị đã được tạo"
    body = message.body
    assert "Kính gửi Đỗ Thị Hoa," in body and "- Tên đăng nhập: tt.hanoi.moi" in body
    assert "- Vai trò: Cán bộ Trung tâm khuyến công" in body
    assert f"- Đơn vị: {organisation('ttkc-24').name_on(timezone.localdate())}" in body
    until = (timezone.localtime() + timedelta(days=7)).strftime("%d/%m/%Y")
    assert until in body and "(7 ngày)" in body and "http://testserver/dang-nhap/" in body
    link_in(message)
    event = AuditEvent.objects.get(action="user.invitation_sent")
    assert event.actor == admin and event.object_id == str(user.pk)
    assert event.data == {"email": "hoa.do@congthuong.gov.vn", "days": 7}
    assert AuditEvent.objects.get(action="user.create", object_id=str(user.pk)).actor == admin


def test_an_invitation_needs_an_email_address(client):
    client.force_login(admin_user())
    response = client.post(ADD, add_data(email=""))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Cần địa chỉ thư điện tử để gửi thư mời đặt mật khẩu." in page
    assert not User.objects.filter(username="tt.hanoi.moi").exists() and not mail.outbox


def test_setting_the_password_now_or_turning_it_off_still_works(client):
    client.force_login(admin_user())
    response = client.post(ADD, add_data(usable_password="true", password1=PASSWORD, password2=PASSWORD, email=""))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert User.objects.get(username="tt.hanoi.moi").check_password(PASSWORD)
    # A password still has to pass the validators when one is set now.
    weak = client.post(ADD, add_data(username="tt.yeu", usable_password="true", password1="123", password2="123"))
    assert weak.status_code == 200 and not User.objects.filter(username="tt.yeu").exists()
    off = client.post(ADD, add_data(username="tt.sso", usable_password="false"))
    assert off.status_code == 302
    assert not User.objects.get(username="tt.sso").has_usable_password()
    assert not mail.outbox


def test_the_holder_sets_the_first_password_once(client):
    client.force_login(admin_user())
    client.post(ADD, add_data())
    client.logout()
    user = User.objects.get(username="tt.hanoi.moi")
    link = link_in(mail.outbox[0])
    opened = client.get(link, follow=True)
    form_url = opened.redirect_chain[-1][0]
    assert form_url.endswith("/dat-mat-khau-lan-dau/")  # the token left the address (Django's redirect)
    page = opened.content.decode()
    assert "Đặt mật khẩu cho tài khoản mới" in page and "Chào mừng Đỗ Thị Hoa" in page
    assert "tt.hanoi.moi" in page and "Cán bộ Trung tâm khuyến công" in page
    # Refused: the two differ, or too weak; nothing set.
    for first, second, message in ((NEW, NEW + "x", "Hai trường mật khẩu không giống nhau"),
                                   ("12345678901", "12345678901", "hoàn toàn là số")):
        refused = client.post(form_url, {"new_password1": first, "new_password2": second})
        assert refused.status_code == 200 and message in refused.content.decode()
        assert "Mật khẩu chưa được đặt:" in refused.content.decode()
    assert not AuditEvent.objects.filter(action="user.invitation_accepted").exists()
    done = client.post(form_url, {"new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302 and done["Location"] == "/kich-hoat-tai-khoan/xong/"
    assert "Tài khoản đã sẵn sàng" in client.get(done["Location"]).content.decode()
    event = AuditEvent.objects.get(action="user.invitation_accepted")
    assert event.actor_id == user.pk and event.object_id == str(user.pk)
    assert client.post("/dang-nhap/", {"username": "tt.hanoi.moi", "password": NEW}).status_code == 302
    client.logout()
    # The same link again: refused, plainly; the password stays.
    again = client.get(link, follow=True).content.decode()
    assert "Liên kết trong thư mời này đã được dùng, đã quá 7 ngày" in again
    assert 'href="/quen-mat-khau/"' in again
    user.refresh_from_db()
    assert user.check_password(NEW)


def test_the_link_stops_working_after_the_days_or_once_the_holder_signs_in(client, settings):
    user = centre_user(email="moi@congthuong.gov.vn")
    user.last_login = None
    user.save()
    link = invitation_path(user)
    later = InvitationTokenGenerator()._now() + timedelta(days=settings.ACCOUNT_INVITATION_DAYS, seconds=60)
    with mock.patch.object(InvitationTokenGenerator, "_now", return_value=later):
        assert "Liên kết không còn dùng được" in client.get(link, follow=True).content.decode()
    almost = InvitationTokenGenerator()._now() + timedelta(days=settings.ACCOUNT_INVITATION_DAYS, seconds=-60)
    with mock.patch.object(InvitationTokenGenerator, "_now", return_value=almost):
        assert "Đặt mật khẩu cho tài khoản mới" in client.get(link, follow=True).content.decode()
    client.logout()
    # Signing in (the holder knew a password after all) ends the invitation.
    client.post("/dang-nhap/", {"username": user.username, "password": PASSWORD})
    client.logout()
    assert "Liên kết không còn dùng được" in client.get(link, follow=True).content.decode()


def test_an_invitation_is_no_reset_link_and_a_reset_link_no_invitation(client):
    user = centre_user(email="moi@congthuong.gov.vn")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    reset_token = default_token_generator.make_token(user)
    invitation_token = invitation_token_generator.make_token(user)
    for path in (f"/kich-hoat-tai-khoan/{uid}/{reset_token}/", f"/dat-lai-mat-khau/{uid}/{invitation_token}/",
                 f"/kich-hoat-tai-khoan/{uid}/abc-123/", f"/kich-hoat-tai-khoan/{uid}/dat-mat-khau-lan-dau/",
                 "/kich-hoat-tai-khoan/%%%/abc/"):
        page = client.get(path, follow=True)
        assert page.status_code == 200 and "Liên kết không còn dùng được" in page.content.decode(), path
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("kind", ["invitation", "reset"])
def test_a_link_of_an_account_locked_since_is_refused(client, kind):
    user = centre_user(email="moi@congthuong.gov.vn")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = (invitation_path(user) if kind == "invitation"
            else f"/dat-lai-mat-khau/{uid}/{default_token_generator.make_token(user)}/")
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert "Liên kết không còn dùng được" in client.get(path, follow=True).content.decode()


def test_the_list_action_invites_only_accounts_nobody_has_used(client):
    admin = admin_user()
    fresh = centre_user(email="moi@congthuong.gov.vn")
    used = centre_user(email="cu@congthuong.gov.vn", last_login=timezone.now())
    no_email = centre_user(email="")
    locked = centre_user(email="khoa@congthuong.gov.vn", is_active=False)
    sso = centre_user(email="sso@congthuong.gov.vn")
    sso.set_unusable_password()
    sso.save()
    root = User.objects.create_superuser("goc", "goc@congthuong.gov.vn", PASSWORD, role=Role.ADMIN)
    client.force_login(admin)
    chosen = [fresh, used, no_email, locked, sso, root]
    response = client.post(CHANGELIST, {"action": "send_invitation", "_selected_action": [u.pk for u in chosen]},
                           follow=True)
    page = response.content.decode()
    assert f"Đã gửi thư mời đặt mật khẩu cho 1 tài khoản: {fresh.username} (moi@congthuong.gov.vn)" in page
    assert f"Không gửi thư mời cho {used.username}: tài khoản đã từng đăng nhập" in page
    assert f"Không gửi thư mời cho {no_email.username}: tài khoản chưa có địa chỉ thư điện tử" in page
    assert f"Không gửi thư mời cho {locked.username}: tài khoản đang bị khóa" in page
    assert f"Không gửi thư mời cho {sso.username}: tài khoản đã tắt đăng nhập bằng mật khẩu" in page
    assert "Không gửi thư mời cho goc: là tài khoản superuser" in page
    assert [m.to for m in mail.outbox] == [["moi@congthuong.gov.vn"]]
    assert list(AuditEvent.objects.filter(action="user.invitation_sent").values_list("object_id", flat=True)) == [
        str(fresh.pk)]
    # The invited password is untouched until the holder sets one.
    fresh.refresh_from_db()
    assert fresh.check_password(PASSWORD)


def test_the_worker_checks_again_before_sending():
    admin = admin_user()
    user = centre_user(email="moi@congthuong.gov.vn")
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())  # signed in while the mail waited
    assert services.invitation_send(user_ids=[user.pk], actor_id=admin.pk, domain="testserver", use_https=True) == 0
    # An actor who lost the administrator role meanwhile sends nothing either.
    User.objects.filter(pk=user.pk).update(last_login=None)
    demoted = reviewer()
    assert services.invitation_send(user_ids=[user.pk], actor_id=demoted.pk, domain="testserver", use_https=True) == 0
    assert not mail.outbox and not AuditEvent.objects.filter(action="user.invitation_sent").exists()
    assert services.invitation_send(user_ids=[user.pk], actor_id=admin.pk, domain="kc.example", use_https=True) == 1
    assert "https://kc.example/kich-hoat-tai-khoan/" in mail.outbox[0].body


def test_only_an_administrator_may_invite():
    user = centre_user(email="moi@congthuong.gov.vn")
    with pytest.raises(services.UserChangeRefused):
        services.user_invite(actor=reviewer(), users=[user], domain="testserver", use_https=False)
    assert not mail.outbox


def test_a_broker_that_is_down_is_said_plainly_and_the_account_is_kept(client, dead_broker):
    client.force_login(admin_user())
    response = client.post(ADD, add_data(), follow=True)
    page = response.content.decode()
    assert "Chưa gửi được thư mời vì hệ thống gửi thư đang tạm ngừng; chưa có thư nào được gửi." in page
    assert User.objects.filter(username="tt.hanoi.moi").exists()
    assert not mail.outbox and not AuditEvent.objects.filter(action="user.invitation_sent").exists()


def test_the_account_page_says_whether_it_was_used_or_invited(client):
    admin = admin_user()
    client.force_login(admin)
    fresh = centre_user(email="moi@congthuong.gov.vn")
    change = reverse("admin:khuyencong_user_change", args=[fresh.pk])
    assert "Chưa đăng nhập lần nào; chưa gửi thư mời. Gửi (lại) bằng nút «Gửi thư mời đặt mật khẩu» ở đầu trang." in (
        client.get(change).content.decode())
    client.post(CHANGELIST, {"action": "send_invitation", "_selected_action": [fresh.pk]})
    page = client.get(change).content.decode()
    assert "Chưa đăng nhập lần nào. Thư mời gần nhất gửi lúc" in page and "tới moi@congthuong.gov.vn." in page
    no_email = centre_user(email="")
    page = client.get(reverse("admin:khuyencong_user_change", args=[no_email.pk])).content.decode()
    assert "Chưa gửi được thư mời: tài khoản chưa có địa chỉ thư điện tử." in page
    services.user_record_invitation_accepted(user=fresh, address="198.51.100.7")
    page = client.get(change).content.decode()
    assert "Đã đặt mật khẩu bằng thư mời lúc" in page and "chưa đăng nhập lần nào." in page and "Gửi (lại)" not in page
    User.objects.filter(pk=fresh.pk).update(last_login=timezone.now())
    page = client.get(change).content.decode()
    assert "Đã đăng nhập (lần cuối" in page and "Gửi (lại)" not in page


def test_a_mail_server_that_is_down_sends_nothing_and_records_nothing(settings):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    admin = admin_user()
    first, second = centre_user(email="mot@congthuong.gov.vn"), centre_user(email="hai@congthuong.gov.vn")
    sent = services.invitation_send(user_ids=[first.pk, second.pk], actor_id=admin.pk, domain="testserver",
                                    use_https=False)
    assert sent == 0 and not AuditEvent.objects.filter(action="user.invitation_sent").exists()
    # Both can be invited again once the server is back.
    assert services.invitation_refusal(first, actor=admin) is None


def test_the_account_page_sends_the_invitation_itself(client):
    admin = admin_user()
    client.force_login(admin)
    fresh = centre_user(email="moi@congthuong.gov.vn")
    change = reverse("admin:khuyencong_user_change", args=[fresh.pk])
    invite = reverse("admin:khuyencong_user_invite", args=[fresh.pk])
    assert f'action="{invite}"' in client.get(change).content.decode()
    assert client.get(invite).status_code == 405  # only a POST sends
    response = client.post(invite)
    assert response.status_code == 302 and response["Location"] == change
    assert [m.to for m in mail.outbox] == [["moi@congthuong.gov.vn"]]
    assert "Đã gửi thư mời đặt mật khẩu cho 1 tài khoản" in client.get(change).content.decode()
    # An account that has signed in offers no such button, and a forged POST sends nothing.
    User.objects.filter(pk=fresh.pk).update(last_login=timezone.now())
    assert f'action="{invite}"' not in client.get(change).content.decode()
    client.post(invite)
    assert len(mail.outbox) == 1
    # Nor may anyone but an administrator.
    client.force_login(reviewer(is_staff=True))
    assert client.post(reverse("admin:khuyencong_user_invite", args=[centre_user(email="x@congthuong.gov.vn").pk])
                       ).status_code in (302, 403)
    assert len(mail.outbox) == 1
