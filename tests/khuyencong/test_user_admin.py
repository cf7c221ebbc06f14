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


def test_createsuperuser_makes_a_system_administrator(client, monkeypatch):
    """docs/operations.md tells operators to run ``manage.py createsuperuser``: it made a user with the
    default role (centre) and no organisation, which the database refused."""
    from django.core.management import call_command

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command("createsuperuser", interactive=False, username="quantri", email="quantri@example.test", verbosity=0)
    root = User.objects.get(username="quantri")
    assert root.is_superuser and root.is_staff and root.role == Role.ADMIN and root.organisation is None
    response = client.post(reverse("admin:login"), {"username": "quantri", "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:khuyencong_user_changelist")).status_code == 200


def test_create_user_keeps_its_defaults():
    from django.db import IntegrityError, transaction

    from .factories import organisation

    user = User.objects.create_user("canbomoi", password=PASSWORD, organisation=organisation("ttkc-24"))
    assert user.role == Role.CENTRE and not user.is_superuser and not user.is_staff
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("khongdonvi", password=PASSWORD)  # a centre account needs its organisation
    reviewer = User.objects.create_superuser("thamdinhgoc", password=PASSWORD, role=Role.REVIEWER)
    assert reviewer.role == Role.REVIEWER


# --- the admin's user form checks role and organisation like the services -------------------------

def _add_data(username, role, organisation=None):
    data = {"username": username, "usable_password": "true", "password1": "Mat-khau-moi#2026",
            "password2": "Mat-khau-moi#2026", "role": role}
    if organisation is not None:
        data["organisation"] = organisation.pk
    return data


@pytest.mark.parametrize("code,message", [
    ("ttkc-cu-27", "đã hết hiệu lực"),  # a centre of a province that merged away
    ("bo-cong-thuong", "không thuộc tỉnh, thành phố nào"),  # the ministry is no province's
    ("cuc-khuyen-cong", "không thuộc tỉnh, thành phố nào"),
])
def test_the_user_form_refuses_an_organisation_the_services_refuse(client, code, message):
    from .factories import organisation

    client.force_login(admin_user())
    target = centre_user("24")
    change = client.post(reverse("admin:khuyencong_user_change", args=[target.pk]),
                         _change_data(target, organisation=organisation(code).pk))
    assert change.status_code == 200 and message in change.content.decode()
    target.refresh_from_db()
    assert target.organisation.code == "ttkc-24"
    add = client.post(reverse("admin:khuyencong_user_add"), _add_data("canbomoi", Role.CENTRE, organisation(code)))
    assert add.status_code == 200 and message in add.content.decode()
    assert not User.objects.filter(username="canbomoi").exists()


def test_a_local_role_without_organisation_gets_a_vietnamese_message(client):
    client.force_login(admin_user())
    target = User.objects.create_user("thamdinh", password=PASSWORD, role=Role.REVIEWER)
    response = client.post(reverse("admin:khuyencong_user_change", args=[target.pk]),
                           _change_data(target, role=Role.PROVINCE))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Cán bộ Trung tâm khuyến công và Sở Công Thương phải thuộc một cơ quan, đơn vị." in body
    assert "user_local_role_needs_organisation" not in body
    add = client.post(reverse("admin:khuyencong_user_add"), _add_data("canbomoi", Role.CENTRE))
    assert add.status_code == 200 and "user_local_role_needs_organisation" not in add.content.decode()
    assert not User.objects.filter(username="canbomoi").exists()


def test_the_constraint_itself_speaks_vietnamese():
    from django.core.exceptions import ValidationError

    user = User(username="khongdonvi", role=Role.CENTRE)
    with pytest.raises(ValidationError) as exc:
        user.validate_constraints()
    assert exc.value.messages == ["Cán bộ Trung tâm khuyến công và Sở Công Thương phải thuộc một cơ quan, đơn vị."]


def test_the_user_form_accepts_what_the_services_accept(client):
    from .factories import organisation

    client.force_login(admin_user())
    add = client.post(reverse("admin:khuyencong_user_add"), _add_data("canbomoi", Role.PROVINCE, organisation("so-ct-19")))
    assert add.status_code == 302, add.content.decode()[:2000]
    assert User.objects.get(username="canbomoi").organisation.code == "so-ct-19"
    add = client.post(reverse("admin:khuyencong_user_add"), _add_data("thamdinhmoi", Role.REVIEWER))
    assert add.status_code == 302, add.content.decode()[:2000]


def test_an_account_of_a_former_organisation_can_still_be_deactivated(client):
    """The check runs when role or organisation change: an account left at an organisation that has
    since ceased to exist can still be edited (deactivated) without moving it first."""
    from .factories import organisation

    client.force_login(admin_user())
    target = centre_user("24")
    User.objects.filter(pk=target.pk).update(organisation=organisation("ttkc-cu-27"))
    target.refresh_from_db()
    response = client.post(reverse("admin:khuyencong_user_change", args=[target.pk]),
                           _change_data(target, is_active=""))
    assert response.status_code == 302, response.content.decode()[:2000]
    target.refresh_from_db()
    assert not target.is_active


def test_a_vietnamese_name_is_labelled_and_shown_in_its_own_order(client):
    """«Lê Minh Châu»: family and middle names in first_name, the given name in last_name. The list
    showed «Lê Minh» under «Tên» and «Châu» under «Họ», and the greeting said «Lê Minh» alone."""
    admin = admin_user()
    admin.first_name, admin.last_name = "Phạm Quốc", "Khánh"
    admin.save()
    person = centre_user("24")
    person.first_name, person.last_name = "Lê Minh", "Châu"
    person.save()
    client.force_login(admin)
    listing = client.get(reverse("admin:khuyencong_user_changelist")).content.decode()
    assert "Họ và tên" in listing and "Lê Minh Châu" in listing
    tools = listing[listing.index('id="user-tools"'):]
    assert tools[:tools.index("</strong>") + 9].endswith("<strong>Phạm Quốc Khánh</strong>")  # the greeting
    form = client.get(reverse("admin:khuyencong_user_change", args=[person.pk])).content.decode()
    assert "Họ và tên đệm" in form and 'value="Lê Minh"' in form
    assert person.get_short_name() == str(person) == "Lê Minh Châu"


def test_the_user_list_finds_accounts_whose_role_and_organisation_disagree(client):
    """Accounts made before the rule (or by the database directly) are found, to be corrected."""
    from .factories import organisation, province_user

    client.force_login(admin_user())
    right_centre, right_so = centre_user("24"), province_user("24")
    wrong_centre, wrong_so = centre_user("24"), province_user("24")
    User.objects.filter(pk=wrong_centre.pk).update(organisation=organisation("so-ct-24"))
    User.objects.filter(pk=wrong_so.pk).update(organisation=organisation("ttkc-19"))
    page = client.get(reverse("admin:khuyencong_user_changelist"), {"khop": "khong"}).content.decode()
    assert f">{wrong_centre.username}<" in page and f">{wrong_so.username}<" in page
    assert f">{right_centre.username}<" not in page and f">{right_so.username}<" not in page
    assert "Không khớp nhau" in client.get(reverse("admin:khuyencong_user_changelist")).content.decode()
