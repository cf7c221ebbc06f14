"""Demo accounts, one per role, for ``manage.py load_demo`` (and ``make run``).

Idempotent: accounts are matched by user name; a second run creates nothing. Passwords are set when
an account is created (or with ``reset_passwords=True``); a password someone changed since is kept and
reported as changed. After the accounts, each app's ``<app>.demo.load_demo(accounts)`` is called when
it exists, so the apps add their own demo data.
"""
import importlib
import importlib.util
from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from .choices import Role
from .models import Organisation, User

DEMO_APP_MODULES = ("projects.demo", "funding.demo", "reports.demo")


@dataclass(frozen=True)
class DemoAccount:
    key: str
    username: str
    password: str
    role: str
    organisation_code: str
    first_name: str
    last_name: str
    job_title: str
    is_staff: bool = False


DEMO_ACCOUNTS = [
    DemoAccount("centre", "tt.bacninh", "KhuyenCong#TT24", Role.CENTRE, "ttkc-24",
                "Nguyễn Văn", "An", "Chuyên viên Trung tâm Khuyến công"),
    DemoAccount("province", "so.bacninh", "KhuyenCong#So24", Role.PROVINCE, "so-ct-24",
                "Trần Thị", "Bình", "Chuyên viên Phòng Quản lý công nghiệp"),
    DemoAccount("reviewer", "cuc.thamdinh", "KhuyenCong#Cuc", Role.REVIEWER, "cuc-khuyen-cong",
                "Lê Minh", "Châu", "Chuyên viên Cục"),
    DemoAccount("admin", "quantri", "KhuyenCong#QuanTri", Role.ADMIN, "cuc-khuyen-cong",
                "Phạm Quốc", "Dũng", "Quản trị hệ thống", is_staff=True),
    DemoAccount("centre_other", "tt.thainguyen", "KhuyenCong#TT19", Role.CENTRE, "ttkc-19",
                "Hoàng Thu", "Hà", "Chuyên viên Trung tâm Khuyến công"),
    DemoAccount("province_other", "so.thainguyen", "KhuyenCong#So19", Role.PROVINCE, "so-ct-19",
                "Vũ Đức", "Giang", "Chuyên viên Phòng Quản lý công nghiệp"),
]


@dataclass
class DemoResult:
    accounts: dict
    created: list
    password_kept: list
    apps: list


@transaction.atomic
def load_demo_accounts(*, reset_passwords=False):
    """Create or refresh the demo accounts; returns DemoResult (accounts: key → User)."""
    organisations = {o.code: o for o in Organisation.objects.filter(code__in={a.organisation_code for a in DEMO_ACCOUNTS})}
    missing = {a.organisation_code for a in DEMO_ACCOUNTS} - set(organisations)
    if missing:
        raise RuntimeError(
            "Chưa có dữ liệu danh mục (thiếu đơn vị {}): hãy chạy manage.py load_reference trước.".format(", ".join(sorted(missing)))
        )
    accounts, created, kept = {}, [], []
    for spec in DEMO_ACCOUNTS:
        values = {
            "role": spec.role,
            "organisation": organisations[spec.organisation_code],
            "first_name": spec.first_name,
            "last_name": spec.last_name,
            "job_title": spec.job_title,
            "is_staff": spec.is_staff,
            "is_active": True,
        }
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user = User(username=spec.username, **values)
            validate_password(spec.password, user)
            user.set_password(spec.password)
            user.save()
            created.append(spec.key)
        else:
            changed = [field for field, value in values.items() if getattr(user, field) != value]
            for field in changed:
                setattr(user, field, values[field])
            if reset_passwords and not user.check_password(spec.password):
                user.set_password(spec.password)
                changed.append("password")
            if changed:
                user.save(update_fields=changed)
            if not user.check_password(spec.password):
                kept.append(spec.key)
        accounts[spec.key] = user
    return DemoResult(accounts=accounts, created=created, password_kept=kept, apps=[])


def _app_demo_loaders():
    for name in DEMO_APP_MODULES:
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError:
            spec = None
        if spec is None:
            continue
        module = importlib.import_module(name)
        loader = getattr(module, "load_demo", None)
        if callable(loader):
            yield name, loader


def demo_address(account):
    """A reserved domain (RFC 2606): «Quên mật khẩu» and notification mail can be tried with the
    development server, which prints mail to its console instead of sending it."""
    return f"{account.username}@demo.example"


def load_demo(*, reset_passwords=False):
    """Demo accounts, then each app's demo data, then the accounts' e-mail addresses — after, so the
    demo's own history (dozens of workflow steps) mails nobody; an address changed at «Tài khoản»
    is kept. Returns DemoResult."""
    result = load_demo_accounts(reset_passwords=reset_passwords)
    for name, loader in _app_demo_loaders():
        loader(result.accounts)
        result.apps.append(name)
    for account in result.accounts.values():
        if not account.email:
            account.email = demo_address(account)
            account.save(update_fields=["email"])
    return result
