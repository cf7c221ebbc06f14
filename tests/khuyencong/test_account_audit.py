"""Every change to an account is in the audit trail — a password set by an administrator or changed by
its owner (never the password itself), a deletion (single or «delete selected»), groups and permissions —
and an administrator can lift a sign-in lockout before its cool-off ends."""
import json

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from khuyencong import services
from khuyencong.models import AuditEvent, User

from .factories import PASSWORD, admin_user, centre_user, reviewer
from .test_user_admin import _change_data

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Mat-khau-moi#2026"
LOGIN = "/dang-nhap/"


def _events(action, user):
    return AuditEvent.objects.filter(action=action, object_type="user", object_id=str(user.pk))


def _never_the_password(event, *secrets):
    text = json.dumps(event.data, ensure_ascii=False) + event.summary
    for secret in secrets:
        assert secret not in text


# --- passwords --------------------------------------------------------------------------------------

def test_an_administrator_setting_a_password_is_audited(client):
    admin, target = admin_user(), centre_user()
    client.force_login(admin)
    url = reverse("admin:auth_user_password_change", args=[target.pk])
    response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert response.status_code == 302, response.content.decode()[:2000]
    target.refresh_from_db()
    assert target.check_password(NEW_PASSWORD)
    event = _events("user.password_set", target).get()
    assert event.actor == admin and target.username in event.summary
    _never_the_password(event, NEW_PASSWORD, target.password)


def test_an_administrator_turning_password_sign_in_off_is_audited(client):
    admin, target = admin_user(), centre_user()
    client.force_login(admin)
    url = reverse("admin:auth_user_password_change", args=[target.pk])
    # Without the «unset-password» button Django refuses it as conflicting data (a redirect, nothing saved).
    assert client.post(url, {"usable_password": "false"}).status_code == 302
    target.refresh_from_db()
    assert target.has_usable_password() and not AuditEvent.objects.filter(object_id=str(target.pk)).exists()
    assert client.post(url, {"usable_password": "false", "unset-password": "1"}).status_code == 302
    target.refresh_from_db()
    assert not target.has_usable_password()
    assert _events("user.password_disable", target).get().actor == admin


def test_a_refused_password_form_writes_nothing(client):
    admin, target = admin_user(), centre_user()
    client.force_login(admin)
    url = reverse("admin:auth_user_password_change", args=[target.pk])
    response = client.post(url, {"password1": NEW_PASSWORD, "password2": "khac-" + NEW_PASSWORD,
                                 "usable_password": "true"})
    assert response.status_code == 200
    assert not AuditEvent.objects.filter(object_id=str(target.pk)).exists()


def test_changing_one_s_own_password_is_audited(client):
    user = centre_user()
    client.force_login(user)
    response = client.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                                         "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    event = _events("user.password_change", user).get()
    assert event.actor == user
    _never_the_password(event, NEW_PASSWORD, PASSWORD, user.password)


def test_a_wrong_old_password_changes_and_records_nothing(client):
    user = centre_user()
    client.force_login(user)
    response = client.post(reverse("password_change"), {"old_password": "sai-" + PASSWORD,
                                                         "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not _events("user.password_change", user).exists()


# --- deletion ---------------------------------------------------------------------------------------

def test_deleting_an_account_is_audited(client):
    admin, target = admin_user(), centre_user()
    pk, username = target.pk, target.username
    client.force_login(admin)
    response = client.post(reverse("admin:khuyencong_user_delete", args=[pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=pk).exists()
    event = AuditEvent.objects.get(action="user.delete", object_id=str(pk))
    assert event.actor == admin and username in event.summary
    assert event.data["before"]["username"] == username and event.data["before"]["organisation"] == "ttkc-24"


def test_deleting_selected_accounts_is_audited_one_by_one(client):
    admin = admin_user()
    targets = [centre_user(), centre_user("19")]
    client.force_login(admin)
    response = client.post(reverse("admin:khuyencong_user_changelist"), {
        "action": "delete_selected", "_selected_action": [t.pk for t in targets], "post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk__in=[t.pk for t in targets]).exists()
    events = AuditEvent.objects.filter(action="user.delete", actor=admin)
    assert sorted(e.object_id for e in events) == sorted(str(t.pk) for t in targets)


def test_a_refused_deletion_records_nothing(client):
    admin = admin_user()
    root = User.objects.create_superuser("goc", "goc@example.test", PASSWORD)
    client.force_login(admin)
    assert client.post(reverse("admin:khuyencong_user_delete", args=[root.pk]), {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=root.pk).exists()
    assert not AuditEvent.objects.filter(action="user.delete").exists()


# --- groups and permissions -------------------------------------------------------------------------

def test_groups_and_permissions_given_in_the_admin_are_audited(client):
    root = User.objects.create_superuser("goc", "goc@example.test", PASSWORD)
    target = centre_user()
    group = Group.objects.create(name="Kế toán")
    permission = Permission.objects.get(codename="view_auditevent")
    client.force_login(root)
    url = reverse("admin:khuyencong_user_change", args=[target.pk])
    response = client.post(url, _change_data(target, groups=[group.pk], user_permissions=[permission.pk]))
    assert response.status_code == 302, response.content.decode()[:2000]
    event = _events("user.admin_change", target).get()
    assert event.actor == root
    assert event.data["before"]["groups"] == [] and event.data["after"]["groups"] == ["Kế toán"]
    assert event.data["after"]["permissions"] == ["khuyencong.view_auditevent"]
    assert "groups" in event.summary and "permissions" in event.summary


def test_saving_an_account_unchanged_records_nothing(client):
    admin, target = admin_user(), centre_user()
    client.force_login(admin)
    url = reverse("admin:khuyencong_user_change", args=[target.pk])
    assert client.post(url, _change_data(target)).status_code == 302
    assert not _events("user.admin_change", target).exists()


# --- unlocking a locked-out account -----------------------------------------------------------------

def _lock_out(user):
    anonymous = Client()
    for i in range(settings.AXES_FAILURE_LIMIT):
        anonymous.post(LOGIN, {"username": user.username, "password": f"sai-{i}"}, REMOTE_ADDR=f"198.51.100.{i + 1}")
    return anonymous.post(LOGIN, {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="192.0.2.50")


def _unlock(client, user):
    return client.post(reverse("admin:khuyencong_user_changelist"),
                       {"action": "unlock_login", "_selected_action": [user.pk]})


def test_an_administrator_unlocks_a_locked_out_account(client):
    admin, user = admin_user(), centre_user()
    assert _lock_out(user).status_code == 429
    client.force_login(admin)
    changelist = client.get(reverse("admin:khuyencong_user_changelist")).content.decode()
    assert 'value="unlock_login"' in changelist
    response = _unlock(client, user)
    assert response.status_code == 302
    event = _events("user.unlock", user).get()
    assert event.actor == admin and user.username in event.summary
    response = Client().post(LOGIN, {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="192.0.2.51")
    assert response.status_code == 302  # signed in


@pytest.mark.parametrize("who", ["reviewer", "centre"])
def test_only_an_administrator_may_unlock(client, who):
    user = centre_user()
    assert _lock_out(user).status_code == 429
    # Staff with Django's permission to see accounts, but not the administrator role.
    actor = reviewer(is_staff=True) if who == "reviewer" else centre_user(is_staff=True)
    actor.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(actor)
    page = client.get(reverse("admin:khuyencong_user_changelist"))
    assert page.status_code == 200 and 'value="unlock_login"' not in page.content.decode()
    _unlock(client, user)
    assert not _events("user.unlock", user).exists()
    response = Client().post(LOGIN, {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="192.0.2.52")
    assert response.status_code == 429  # still locked
    with pytest.raises(services.UserChangeRefused):
        services.user_unlock_login(actor=actor, users=[user])



def test_an_account_that_has_signed_in_is_deactivated_not_deleted(client):
    """Deleting it would blank the «who» of every step it took (the links are SET_NULL): refused, by the
    page and by «delete selected», with what to do instead; nothing is deleted or recorded."""
    from django.utils import timezone

    admin, used, unused = admin_user(), centre_user(), centre_user()
    User.objects.filter(pk=used.pk).update(last_login=timezone.now())
    client.force_login(admin)
    page = client.post(reverse("admin:khuyencong_user_delete", args=[used.pk]), {"post": "yes"})
    body = page.content.decode()
    assert page.status_code == 200 and f"Tài khoản {used.username} đã từng đăng nhập" in body
    assert "Hãy bỏ chọn «Kích hoạt»" in body
    response = client.post(reverse("admin:khuyencong_user_changelist"), {
        "action": "delete_selected", "_selected_action": [used.pk, unused.pk], "post": "yes"})
    assert response.status_code == 200 and f"Tài khoản {used.username} đã từng đăng nhập" in response.content.decode()
    assert User.objects.filter(pk__in=[used.pk, unused.pk]).count() == 2
    assert not AuditEvent.objects.filter(action="user.delete").exists()
    # One never used can go.
    assert client.post(reverse("admin:khuyencong_user_delete", args=[unused.pk]), {"post": "yes"}).status_code == 302
    assert not User.objects.filter(pk=unused.pk).exists()
