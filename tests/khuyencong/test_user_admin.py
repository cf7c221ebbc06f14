"""The administrator role manages accounts in /quan-tri/ but cannot reach beyond the portal's roles:
no superuser flag, groups or Django permissions for anyone (itself included), and a superuser's
account is read-only to it (no password reset, no deletion)."""
import pytest
from django.urls import reverse

from khuyencong.choices import Role
from khuyencong.models import User

from .factories import PASSWORD, admin_user, centre_user

pytestmark = pytest.mark.django_db


def _change_data(user, **extra):
    data = {
        "username": user.username, "first_name": user.first_name, "last_name": user.last_name,
        "email": user.email, "is_active": "on", "is_staff": "on" if user.is_staff else "",
        "role": user.role, "organisation": user.organisation_id or "", "job_title": "", "phone": "",
        "last_login_0": "", "last_login_1": "", "date_joined_0": "30/11/2026", "date_joined_1": "08:00:00",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v != ""}


def test_an_administrator_cannot_make_anyone_a_superuser(client):
    admin = admin_user()
    target = centre_user("24")
    client.force_login(admin)
    url = reverse("admin:khuyencong_user_change", args=[target.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="is_superuser"' not in page.content.decode()
    for victim in (target, admin):
        url = reverse("admin:khuyencong_user_change", args=[victim.pk])
        response = client.post(url, _change_data(victim, is_superuser="on", user_permissions=["1"], groups=[]))
        assert response.status_code == 302, response.content.decode()[:2000]
        victim.refresh_from_db()
        assert not victim.is_superuser and not victim.user_permissions.exists()


def test_a_superuser_account_is_read_only_to_an_administrator(client):
    admin = admin_user()
    root = User.objects.create_superuser("goc", "goc@example.test", PASSWORD, role=Role.ADMIN)
    client.force_login(admin)
    change = reverse("admin:khuyencong_user_change", args=[root.pk])
    assert client.get(change).status_code == 200  # may look
    before = root.password
    response = client.post(change, _change_data(root, is_active="", first_name="Đổi"))
    assert response.status_code == 403
    password = reverse("admin:auth_user_password_change", args=[root.pk])
    assert client.post(password, {"password1": "MatKhauMoi#2026", "password2": "MatKhauMoi#2026",
                                  "usable_password": "true"}).status_code == 403
    assert client.post(reverse("admin:khuyencong_user_delete", args=[root.pk]), {"post": "yes"}).status_code == 403
    root.refresh_from_db()
    assert root.is_active and root.first_name != "Đổi" and root.password == before


def test_a_superuser_still_can(client):
    root = User.objects.create_superuser("goc", "goc@example.test", PASSWORD, role=Role.ADMIN)
    target = centre_user("24")
    client.force_login(root)
    url = reverse("admin:khuyencong_user_change", args=[target.pk])
    assert 'name="is_superuser"' in client.get(url).content.decode()
    response = client.post(url, _change_data(target, is_superuser="on", is_staff="on"))
    assert response.status_code == 302, response.content.decode()[:2000]
    target.refresh_from_db()
    assert target.is_superuser
