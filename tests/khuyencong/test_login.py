"""Login page, lockout after repeated failures (not reset by a rotating X-Forwarded-For), the lockout
logged, idle session timeout, the home page and the English catalogue."""
import logging
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.utils import timezone

from khuyencong.models import AuditEvent

from .factories import PASSWORD, admin_user, centre_user, reviewer

pytestmark = pytest.mark.django_db

LOGIN = "/dang-nhap/"


def test_login_page_is_vietnamese(client):
    response = client.get(LOGIN)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="vi">' in html
    for text in ("Đăng nhập", "Tên đăng nhập", "Mật khẩu", "Bỏ qua điều hướng", "Bộ Công Thương"):
        assert text in html
    assert 'for="id_username"' in html and 'for="id_password"' in html
    assert 'autocomplete="current-password"' in html


def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == f"{LOGIN}?next=/"


def test_wrong_password_gets_a_vietnamese_message(client):
    user = centre_user()
    response = client.post(LOGIN, {"username": user.username, "password": "sai-mat-khau-123"})
    assert response.status_code == 200
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in response.content.decode()


def test_sign_in_then_home_says_who_you_are(client):
    user = centre_user("24", first_name="Nguyễn Thị", last_name="Mai", job_title="Chuyên viên")
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    html = client.get("/").content.decode()
    for text in ("Xin chào, Nguyễn Thị Mai", "Cán bộ Trung tâm khuyến công", "Trung tâm Khuyến công tỉnh Bắc Ninh",
                 "Tỉnh Bắc Ninh", "Việc đang chờ bạn", "Đăng xuất", "Chuyên viên"):
        assert text in html, text


def test_home_for_a_reviewer_shows_nationwide_scope_and_the_agency_name_of_today(client):
    user = reviewer(first_name="Lê", last_name="Hoa")
    client.force_login(user)
    html = client.get("/").content.decode()
    assert "Toàn quốc (34 tỉnh, thành phố)" in html
    assert "Cục Đổi mới sáng tạo, Chuyển đổi xanh và Khuyến công" in html


def test_previous_login_is_shown_not_the_current_one(client):
    user = centre_user()
    user.last_login = timezone.now() - timedelta(days=3)
    user.save()
    client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    html = client.get("/").content.decode()
    assert "Lần đăng nhập trước" in html
    assert (timezone.localtime(timezone.now() - timedelta(days=3))).strftime("%d/%m/%Y") in html


def _fail(client, username, n, *, start=0):
    responses = []
    for i in range(start, start + n):
        responses.append(
            client.post(
                LOGIN,
                {"username": username, "password": f"sai-{i}"},
                HTTP_X_FORWARDED_FOR=f"203.0.113.{i + 1}",
                REMOTE_ADDR="198.51.100.7",
            )
        )
    return responses


def test_lockout_after_repeated_failures_is_not_reset_by_rotating_x_forwarded_for(client, caplog):
    user = centre_user()
    limit = settings.AXES_FAILURE_LIMIT
    responses = _fail(client, user.username, limit - 1)
    assert all(r.status_code == 200 for r in responses)
    with caplog.at_level(logging.WARNING, logger="khuyencong.security"):
        last = _fail(client, user.username, 1, start=limit)[0]
    assert last.status_code == 429
    assert "Tạm khóa đăng nhập" in last.content.decode()
    # The right password from yet another forwarded address is still refused.
    response = client.post(
        LOGIN, {"username": user.username, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="192.0.2.99", REMOTE_ADDR="198.51.100.7",
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Logged and in the audit trail.
    assert any("Khóa đăng nhập" in r.getMessage() and user.username in r.getMessage() for r in caplog.records)
    event = AuditEvent.objects.filter(action="login.locked_out").first()
    assert event is not None and event.data["username"] == user.username
    assert event.data["ip_address"] == "198.51.100.7"


def test_lockout_by_address_covers_other_user_names(client):
    limit = settings.AXES_FAILURE_LIMIT
    for i in range(limit):
        client.post(LOGIN, {"username": f"doan-{i}", "password": "x"}, HTTP_X_FORWARDED_FOR=f"10.0.0.{i}",
                    REMOTE_ADDR="198.51.100.8")
    user = centre_user()
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="198.51.100.8")
    assert response.status_code == 429


def test_failures_below_the_limit_then_success_do_not_lock(client):
    user = centre_user()
    _fail(client, user.username, settings.AXES_FAILURE_LIMIT - 1)
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 302


def test_idle_session_expires(client):
    assert settings.SESSION_SAVE_EVERY_REQUEST
    age = settings.SESSION_COOKIE_AGE
    user = admin_user()
    client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    start = timezone.now()
    real_now = timezone.now

    def at(seconds):
        return mock.patch("django.utils.timezone.now", lambda: start + timedelta(seconds=seconds))

    # Active use keeps the session alive past the idle limit in total …
    with at(age - 60):
        assert client.get("/").status_code == 200
    with at(2 * age - 120):
        assert client.get("/").status_code == 200
    # … but idling longer than the limit ends it.
    with at(3 * age):
        response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert real_now is timezone.now


def test_english_can_be_chosen_and_the_login_page_follows(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": LOGIN})
    assert response.status_code == 302
    html = client.get(LOGIN).content.decode()
    assert '<html lang="en">' in html
    for text in ("Sign in", "Username", "Password", "Skip navigation", "Ministry of Industry and Trade"):
        assert text in html, text
    assert "Tên đăng nhập" not in html
    client.post("/i18n/setlang/", {"language": "vi", "next": LOGIN})
    assert "Tên đăng nhập" in client.get(LOGIN).content.decode()


def test_english_home_page_and_role_names(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    client.force_login(centre_user("24"))
    html = client.get("/").content.decode()
    for text in ("Industrial extension centre staff", "What is waiting for you", "Sign out", "Province"):
        assert text in html, text


def test_english_lockout_page(client):
    client.post("/i18n/setlang/", {"language": "en", "next": LOGIN})
    user = centre_user()
    responses = _fail(client, user.username, settings.AXES_FAILURE_LIMIT)
    assert responses[-1].status_code == 429
    assert "Sign-in temporarily locked" in responses[-1].content.decode()


def test_login_page_states_the_idle_timeout_and_lockout_page_the_cooloff(client):
    minutes = settings.SESSION_COOKIE_AGE // 60
    assert f"sau {minutes} phút không thao tác" in client.get(LOGIN).content.decode()
    user = centre_user()
    last = _fail(client, user.username, settings.AXES_FAILURE_LIMIT)[-1]
    cooloff = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert f"Thời gian tạm khóa: {cooloff} phút." in last.content.decode()


PROXY = "10.0.0.2"  # the reverse proxy, as gunicorn sees it


def _fail_behind_proxy(client, forwarded, n, username_prefix="khach"):
    for i in range(n):
        client.post(LOGIN, {"username": f"{username_prefix}-{i}", "password": "x"},
                    HTTP_X_FORWARDED_FOR=forwarded(i), REMOTE_ADDR=PROXY)


def test_behind_a_proxy_one_client_s_failures_do_not_lock_out_the_others(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    _fail_behind_proxy(client, lambda i: "203.0.113.5", settings.AXES_FAILURE_LIMIT)
    user = centre_user()
    other = client.post(LOGIN, {"username": user.username, "password": PASSWORD},
                        HTTP_X_FORWARDED_FOR="203.0.113.6", REMOTE_ADDR=PROXY)
    assert other.status_code == 302 and "_auth_user_id" in client.session
    client.logout()
    # The client that failed is locked, even with the right password of another account …
    same = client.post(LOGIN, {"username": user.username, "password": PASSWORD},
                       HTTP_X_FORWARDED_FOR="203.0.113.5", REMOTE_ADDR=PROXY)
    assert same.status_code == 429
    # … and writing its own X-Forwarded-For before the proxy's entry changes nothing.
    forged = client.post(LOGIN, {"username": user.username, "password": PASSWORD},
                         HTTP_X_FORWARDED_FOR="198.18.0.1, 203.0.113.5", REMOTE_ADDR=PROXY)
    assert forged.status_code == 429 and "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="login.locked_out").first().data["ip_address"] == "203.0.113.5"


def test_a_client_rotating_its_own_forwarded_entries_is_still_counted_once(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    _fail_behind_proxy(client, lambda i: f"192.0.2.{i}, 203.0.113.7", settings.AXES_FAILURE_LIMIT)
    user = centre_user()
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD},
                           HTTP_X_FORWARDED_FOR="203.0.113.7", REMOTE_ADDR=PROXY)
    assert response.status_code == 429


@pytest.mark.parametrize("forwarded", ["", "không-phải-địa-chỉ", " , "])
def test_a_missing_or_bad_forwarded_entry_falls_back_to_the_peer_address(rf, settings, forwarded):
    from khuyencong.security import client_address

    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.post(LOGIN, HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=PROXY)
    assert client_address(request) == PROXY
    settings.TRUSTED_PROXY_COUNT = 2
    request = rf.post(LOGIN, HTTP_X_FORWARDED_FOR="198.18.0.1, 203.0.113.9, 10.0.0.3", REMOTE_ADDR=PROXY)
    assert client_address(request) == "203.0.113.9"
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request) == PROXY
