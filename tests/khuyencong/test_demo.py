"""manage.py load_demo: one account per role, idempotent, app hooks called."""
import importlib.machinery
import sys
import types

import pytest
from django.core.management import call_command

from khuyencong import demo
from khuyencong.choices import Role
from khuyencong.models import AuditEvent, Organisation, User

pytestmark = pytest.mark.django_db

EXPECTED = {
    "centre": ("tt.bacninh", Role.CENTRE, "Trung tâm Khuyến công tỉnh Bắc Ninh", "24"),
    "province": ("so.bacninh", Role.PROVINCE, "Sở Công Thương tỉnh Bắc Ninh", "24"),
    "reviewer": ("cuc.thamdinh", Role.REVIEWER, None, None),
    "admin": ("quantri", Role.ADMIN, None, None),
    "centre_other": ("tt.thainguyen", Role.CENTRE, "Trung tâm Khuyến công tỉnh Thái Nguyên", "19"),
    "province_other": ("so.thainguyen", Role.PROVINCE, "Sở Công Thương tỉnh Thái Nguyên", "19"),
}


def _counts():
    return (User.objects.count(), Organisation.objects.count(), AuditEvent.objects.count())


def test_load_demo_creates_one_account_per_role_and_prints_credentials(capsys):
    call_command("load_demo")
    out = capsys.readouterr().out
    for spec in demo.DEMO_ACCOUNTS:
        assert spec.username in out and spec.password in out
        assert len(spec.password) >= 10
        user = User.objects.get(username=spec.username)
        username, role, organisation, province = EXPECTED[spec.key]
        assert (user.username, user.role) == (username, role)
        if organisation:
            assert user.organisation.name == organisation
            assert user.province.code == province
        else:
            assert user.province is None
        assert user.check_password(spec.password) and user.is_active
    admin = User.objects.get(username="quantri")
    assert admin.is_staff and not User.objects.get(username="cuc.thamdinh").is_staff


def test_load_demo_twice_creates_nothing(capsys):
    first = demo.load_demo()
    counts = _counts()
    second = demo.load_demo()
    assert _counts() == counts
    assert first.created and not second.created
    assert {k: u.pk for k, u in first.accounts.items()} == {k: u.pk for k, u in second.accounts.items()}
    call_command("load_demo")
    assert _counts() == counts
    assert "[mới tạo]" not in capsys.readouterr().out


def test_returns_accounts_by_role_key():
    result = demo.load_demo()
    assert set(result.accounts) == {"centre", "province", "reviewer", "admin", "centre_other", "province_other"}
    assert all(isinstance(u, User) for u in result.accounts.values())


def test_a_changed_password_is_kept_and_reported(capsys):
    demo.load_demo()
    user = User.objects.get(username="tt.bacninh")
    user.set_password("Mot-mat-khau-khac-2026")
    user.save()
    call_command("load_demo")
    out = capsys.readouterr().out
    assert "mật khẩu đã được đổi" in out
    user.refresh_from_db()
    assert user.check_password("Mot-mat-khau-khac-2026")
    call_command("load_demo", "--reset-passwords")
    user.refresh_from_db()
    assert user.check_password("KhuyenCong#TT24")


def test_a_moved_demo_account_is_put_back():
    result = demo.load_demo()
    user = result.accounts["centre"]
    user.organisation = Organisation.objects.get(code="ttkc-19")
    user.is_active = False
    user.save()
    demo.load_demo()
    user.refresh_from_db()
    assert user.organisation.code == "ttkc-24" and user.is_active


def test_app_demo_hooks_are_called_with_the_accounts(monkeypatch):
    calls = []
    module = types.ModuleType("fake_app_demo")
    module.__spec__ = importlib.machinery.ModuleSpec("fake_app_demo", None)
    module.load_demo = lambda accounts: calls.append(sorted(accounts))
    monkeypatch.setitem(sys.modules, "fake_app_demo", module)
    monkeypatch.setattr(demo, "DEMO_APP_MODULES", ("fake_app_demo", "no_such_app.demo"))
    result = demo.load_demo()
    assert calls == [sorted(EXPECTED)]
    assert result.apps == ["fake_app_demo"]


def test_without_reference_data_the_command_says_what_to_do(monkeypatch):
    from django.core.management.base import CommandError

    monkeypatch.setattr(demo, "DEMO_ACCOUNTS", [demo.DemoAccount("centre", "x.y", "KhuyenCong#XY1", Role.CENTRE,
                                                               "khong-co", "A", "B", "")])
    with pytest.raises(CommandError) as exc:
        call_command("load_demo")
    assert "load_reference" in str(exc.value)


def test_demo_accounts_get_addresses_after_the_demo_history_so_it_mails_nobody(mailoutbox, eager_celery,
                                                                               django_capture_on_commit_callbacks):
    from projects.models import EmailStatus, Notification

    with django_capture_on_commit_callbacks(execute=True):
        result = demo.load_demo()
    assert Notification.objects.exists()  # the demo's workflow steps notified people…
    assert not mailoutbox  # …in the portal only
    assert not Notification.objects.exclude(email_status=EmailStatus.NOT_NEEDED).exists()
    assert {u.email for u in User.objects.filter(username__in=[s.username for s in demo.DEMO_ACCOUNTS])} == {
        f"{s.username}@demo.example" for s in demo.DEMO_ACCOUNTS}
    # An address changed at «Tài khoản» is kept by the next run.
    User.objects.filter(pk=result.accounts["centre"].pk).update(email="an.nguyen@congthuong.gov.vn")
    demo.load_demo()
    assert User.objects.get(pk=result.accounts["centre"].pk).email == "an.nguyen@congthuong.gov.vn"
