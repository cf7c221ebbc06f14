"""«Quên mật khẩu» (and an administrator's invitation, below) end to end on the real parts: the web request hands the address to Redis, a real
Celery worker process (PostgreSQL) writes the mail, and the link in that mail sets the new password."""
import email
import time

import pytest
from django.core.cache import cache

from khuyencong.models import AuditEvent
from tests.reports.test_worker import broker, media, services_up, workers  # noqa: F401 (fixtures)

from .factories import PASSWORD, centre_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.filterwarnings("ignore")]

NEW = "Mat-khau-moi-2026!"


def test_a_real_worker_mails_a_link_that_sets_the_password(client, broker, workers, tmp_path):  # noqa: F811
    outbox = tmp_path / "mail"
    cache.clear()
    user = centre_user(email="an.nguyen@congthuong.gov.vn")
    workers(EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend", EMAIL_FILE_PATH=str(outbox))
    response = client.post("/quen-mat-khau/", {"email": "an.nguyen@congthuong.gov.vn"}, REMOTE_ADDR="198.51.100.30")
    assert response.status_code == 302
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (outbox.exists() and any(outbox.iterdir())):
        time.sleep(0.1)
    [written] = list(outbox.iterdir())
    message = email.message_from_bytes(written.read_bytes().split(b"\n" + b"-" * 79)[0])
    assert message["To"] == "an.nguyen@congthuong.gov.vn"
    body = message.get_payload(decode=True).decode(message.get_content_charset())
    assert f"tên đăng nhập: {user.username}" in body
    link = next(word for word in body.split() if "/dat-lai-mat-khau/" in word)
    assert link.startswith("http://testserver/dat-lai-mat-khau/")
    form = client.get(link.removeprefix("http://testserver"), follow=True)
    form_url = form.redirect_chain[-1][0]
    assert "Đặt mật khẩu mới" in form.content.decode()
    assert client.post(form_url, {"new_password1": NEW, "new_password2": NEW}).status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW) and not user.check_password(PASSWORD)
    assert set(AuditEvent.objects.filter(object_id=str(user.pk)).values_list("action", flat=True)) >= {
        "user.password_reset_requested", "user.password_reset"}


def test_a_real_worker_mails_an_invitation_whose_link_sets_the_first_password(client, broker, workers, tmp_path):  # noqa: F811
    """An administrator adds an account in /quan-tri/ with «Gửi thư mời…»: the request commits the
    account and hands the invitation to Redis; the worker process mails it; its link sets the password."""
    from django.urls import reverse

    from khuyencong.choices import Role
    from khuyencong.models import User

    from .factories import admin_user, organisation

    outbox = tmp_path / "mail"
    workers(EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend", EMAIL_FILE_PATH=str(outbox))
    client.force_login(admin_user())
    response = client.post(reverse("admin:khuyencong_user_add"), {
        "username": "tt.moi", "first_name": "Đỗ Thị", "last_name": "Hoa", "email": "hoa.do@congthuong.gov.vn",
        "usable_password": "invite", "role": Role.CENTRE, "organisation": organisation("ttkc-24").pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    client.logout()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (outbox.exists() and any(outbox.iterdir())):
        time.sleep(0.1)
    [written] = list(outbox.iterdir())
    message = email.message_from_bytes(written.read_bytes().split(b"\n" + b"-" * 79)[0])
    assert message["To"] == "hoa.do@congthuong.gov.vn"
    body = message.get_payload(decode=True).decode(message.get_content_charset())
    assert "- Tên đăng nhập: tt.moi" in body
    link = next(word for word in body.split() if "/kich-hoat-tai-khoan/" in word)
    form = client.get(link.removeprefix("http://testserver"), follow=True)
    assert "Đặt mật khẩu cho tài khoản mới" in form.content.decode()
    assert client.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW}).status_code == 302
    user = User.objects.get(username="tt.moi")
    assert user.check_password(NEW)
    assert set(AuditEvent.objects.filter(object_id=str(user.pk)).values_list("action", flat=True)) >= {
        "user.create", "user.invitation_sent", "user.invitation_accepted"}
