"""The access module: can() with Vietnamese reasons, scoping by current province, and changes to a
user (deactivation, move) taking effect on the next request."""
import pytest
from django.core.exceptions import ValidationError

from khuyencong import access
from khuyencong.access import can, scope_by_current_province, user_province, visible_users
from khuyencong.choices import OrganisationKind, Role
from khuyencong.models import AuditEvent, Organisation, Province
from khuyencong.services import UserChangeRefused, user_move, user_move_to_successor, user_set_active, user_set_role

from .factories import PASSWORD, admin_user, centre_user, organisation, province_user, reviewer

pytestmark = pytest.mark.django_db


def current(code):
    return Province.objects.get(era="current", code=code)


def former(code):
    return Province.objects.get(era="former", code=code)


# --- can() -----------------------------------------------------------------------------------------


def test_anonymous_and_inactive_users_are_refused_with_a_reason():
    from django.contrib.auth.models import AnonymousUser

    decision = can(AnonymousUser(), "reference.manage")
    assert not decision and decision.reason == "Bạn cần đăng nhập bằng tài khoản đang hoạt động."
    admin = admin_user(is_active=False)
    assert not can(admin, "reference.manage")
    assert not can(None, "reference.manage")


def test_unknown_action_is_refused():
    decision = can(admin_user(), "khong.co")
    assert not decision and decision.reason == "Thao tác không được hỗ trợ."


@pytest.mark.parametrize("action", ["reference.manage", "users.manage"])
def test_only_administrators_manage_reference_data_and_users(action):
    assert can(admin_user(), action)
    for user in (centre_user(), province_user(), reviewer()):
        decision = can(user, action)
        assert not decision
        assert decision.reason.startswith("Chỉ quản trị hệ thống")


def test_province_view_denies_another_province():
    user = centre_user("24")
    assert can(user, "province.view", current("24"))
    assert can(user, "province.view", former("27"))  # old Bắc Ninh is in new Bắc Ninh
    assert can(user, "province.view", former("24"))  # old Bắc Giang too
    decision = can(user, "province.view", current("19"))
    assert not decision and decision.reason == "Bạn chỉ được xem dữ liệu của tỉnh, thành phố mình."
    assert not can(user, "province.view", former("06"))  # Bắc Kạn is now Thái Nguyên
    assert not can(user, "province.view", None)
    assert can(reviewer(), "province.view", current("19"))
    assert can(admin_user(), "province.view", former("91"))


def test_decision_is_truthy_only_when_allowed():
    assert bool(access.Decision(True)) and not bool(access.Decision(False, "x"))
    assert "province.view" in access.registered_actions()


def test_rule_registered_twice_is_a_programming_error():
    @access.rule("test.only")
    def first(user, obj):
        return access.ALLOW

    try:
        with pytest.raises(RuntimeError):
            @access.rule("test.only")
            def second(user, obj):
                return access.ALLOW
    finally:
        access._RULES.pop("test.only", None)


# --- scoping ---------------------------------------------------------------------------------------


def _centres():
    return Organisation.objects.filter(kind=OrganisationKind.CENTRE)


def test_scope_by_current_province():
    centres = _centres().filter(valid_to__isnull=True)
    own = scope_by_current_province(centres, centre_user("24"), "province")
    assert list(own.values_list("code", flat=True)) == ["ttkc-24"]
    assert scope_by_current_province(centres, reviewer(), "province").count() == 34
    assert scope_by_current_province(centres, admin_user(), "province").count() == 34
    assert scope_by_current_province(centres, admin_user(is_active=False), "province").count() == 0
    # Former provinces' organisations group under today's province through their successor.
    former_centres = _centres().filter(valid_to__isnull=False)
    scoped = scope_by_current_province(former_centres, province_user("24"), "province__successor")
    assert sorted(scoped.values_list("code", flat=True)) == ["ttkc-cu-24", "ttkc-cu-27"]


def test_user_of_a_former_organisation_works_for_the_successor_province():
    user = centre_user("24")
    user.organisation = organisation("ttkc-cu-91")  # Kiên Giang centre before the merger
    user.save()
    assert user_province(user) == current("91")
    assert can(user, "province.view", former("89"))


def test_visible_users():
    bn = centre_user("24")
    bn_province = province_user("24")
    tn = centre_user("19")
    seen = set(visible_users(bn))
    assert bn in seen and bn_province in seen and tn not in seen
    assert {bn, bn_province, tn} <= set(visible_users(reviewer()))


# --- through the test client: effects on the next request ------------------------------------------


def _login(client, user):
    response = client.post("/dang-nhap/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]


def test_moving_a_user_changes_what_they_see_on_the_next_request(client):
    admin = admin_user()
    user = centre_user("24", first_name="Đỗ Thị", last_name="Lan")
    other = centre_user("19", first_name="Phan Văn", last_name="Tùng")
    _login(client, user)
    page = client.get("/can-bo/").content.decode()
    assert "Đỗ Thị Lan" in page and "Phan Văn Tùng" not in page
    assert "Tỉnh Bắc Ninh" in client.get("/").content.decode()

    user_move(actor=admin, user=user, organisation=organisation("ttkc-19"))

    page = client.get("/can-bo/").content.decode()  # same session, next request
    assert "Phan Văn Tùng" in page
    home = client.get("/").content.decode()
    assert "Tỉnh Thái Nguyên" in home and "Trung tâm Khuyến công tỉnh Thái Nguyên" in home
    assert other.organisation.province.code == "19"


def test_deactivating_a_user_signs_them_out_on_the_next_request(client):
    admin = admin_user()
    user = province_user("24")
    _login(client, user)
    assert client.get("/").status_code == 200
    user_set_active(actor=admin, user=user, active=False)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/dang-nhap/")
    assert client.get("/can-bo/").status_code == 302
    # And cannot sign in again.
    response = client.post("/dang-nhap/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in response.content.decode()


def test_navigation_by_role(client):
    _login(client, admin_user())
    page = client.get("/").content.decode()
    assert 'href="/quan-tri/"' in page
    client.logout()
    _login(client, centre_user("24"))
    page = client.get("/").content.decode()
    assert 'href="/quan-tri/"' not in page
    assert 'href="/can-bo/"' in page
    assert 'aria-current="page"' in page


# --- services on users: audit trail and rejections -------------------------------------------------


def test_user_services_write_the_audit_trail():
    admin = admin_user()
    user = centre_user("24")
    user_set_role(actor=admin, user=user, role=Role.PROVINCE, organisation=organisation("so-ct-24"))
    user_move(actor=admin, user=user, organisation=organisation("so-ct-19"))
    user_set_active(actor=admin, user=user, active=False)
    events = list(AuditEvent.objects.filter(object_type="user", object_id=str(user.pk)).order_by("pk"))
    assert [e.action for e in events] == ["user.set_role", "user.move", "user.deactivate"]
    assert all(e.actor == admin for e in events)
    assert events[1].data["before"]["province"] == "24" and events[1].data["after"]["province"] == "19"
    assert "Chuyển" in events[1].summary


def test_non_admin_cannot_change_users_and_nothing_changes():
    actor = province_user("24")
    user = centre_user("24")
    with pytest.raises(UserChangeRefused) as exc:
        user_move(actor=actor, user=user, organisation=organisation("ttkc-19"))
    assert "Chỉ quản trị hệ thống" in str(exc.value)
    user.refresh_from_db()
    assert user.organisation.code == "ttkc-24"
    assert not AuditEvent.objects.filter(object_type="user").exists()


def test_moving_to_an_organisation_that_no_longer_exists_is_refused():
    admin = admin_user()
    user = centre_user("24")
    with pytest.raises(ValidationError) as exc:
        user_move(actor=admin, user=user, organisation=organisation("ttkc-cu-27"))
    assert "đã hết hiệu lực" in str(exc.value)
    user.refresh_from_db()
    assert user.organisation.code == "ttkc-24"


def test_local_role_without_organisation_is_refused():
    admin = admin_user()
    user = reviewer()
    user.organisation = None
    user.save()
    with pytest.raises(ValidationError) as exc:
        user_set_role(actor=admin, user=user, role=Role.CENTRE)
    assert "phải thuộc một cơ quan, đơn vị" in str(exc.value)
    with pytest.raises(ValidationError):
        user_set_role(actor=admin, user=user, role="boss")


def test_admin_cannot_deactivate_themselves():
    admin = admin_user()
    with pytest.raises(ValidationError):
        user_set_active(actor=admin, user=admin, active=False)


def test_move_to_successor_after_the_merger():
    admin = admin_user()
    user = centre_user("24")
    user.organisation = organisation("ttkc-cu-27")
    user.save()
    user_move_to_successor(actor=admin, user=user)
    user.refresh_from_db()
    assert user.organisation.code == "ttkc-24"
    with pytest.raises(ValidationError):
        user_move_to_successor(actor=admin, user=user)


# --- Django admin for the administrator role ------------------------------------------------------


def test_role_admin_uses_the_admin_site_and_others_cannot(client):
    admin = admin_user()
    assert not admin.is_superuser
    client.force_login(admin)
    index = client.get("/quan-tri/")
    assert index.status_code == 200
    html = index.content.decode()
    assert "/quan-tri/khuyencong/province/" in html and "/quan-tri/khuyencong/user/" in html
    assert client.get("/quan-tri/khuyencong/user/").status_code == 200
    assert client.get("/quan-tri/khuyencong/supportcap/").status_code == 200
    client.logout()
    staff_centre = centre_user("24", is_staff=True)
    client.force_login(staff_centre)
    assert client.get("/quan-tri/khuyencong/user/").status_code == 403
    client.logout()
    client.force_login(reviewer())
    assert client.get("/quan-tri/").status_code == 302  # not staff: sent to the admin login


def test_user_changes_in_the_admin_are_audited(client):
    admin = admin_user()
    user = centre_user("24")
    client.force_login(admin)
    url = f"/quan-tri/khuyencong/user/{user.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("password", "groups", "user_permissions", "last_login", "date_joined")}
    data.update({
        "organisation": organisation("ttkc-19").pk,
        "date_joined_0": "26/11/2026", "date_joined_1": "08:00:00",
        "is_active": "on",
    })
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    user.refresh_from_db()
    assert user.organisation.code == "ttkc-19"
    event = AuditEvent.objects.get(action="user.admin_change", object_id=str(user.pk))
    assert event.actor == admin and "organisation" in event.summary
    assert event.data["before"]["province"] == "24" and event.data["after"]["province"] == "19"


def test_admin_home_shows_recent_lockouts(client):
    from khuyencong.security import record_lockout

    record_lockout("axes", request=None, username="ke.do.mat.khau", ip_address="198.51.100.9")
    client.force_login(admin_user())
    html = client.get("/").content.decode()
    assert "Đăng nhập bị tạm khóa (24 giờ qua)" in html and "ke.do.mat.khau" in html
    client.logout()
    client.force_login(centre_user())
    assert "Đăng nhập bị tạm khóa" not in client.get("/").content.decode()


# --- list pages: query counts do not grow with rows --------------------------------------------------


def test_list_pages_query_counts(client, django_assert_max_num_queries):
    for _ in range(5):
        centre_user("24")
        centre_user("19")
    client.force_login(reviewer())
    with django_assert_max_num_queries(12):
        response = client.get("/can-bo/")
    assert response.status_code == 200 and response.content.decode().count("<tr>") >= 11
    with django_assert_max_num_queries(12):
        response = client.get("/danh-muc/tinh-thanh-pho/")
    assert response.content.decode().count("<tr>") == 35


def test_a_local_role_needs_an_organisation_of_a_province():
    admin = admin_user()
    user = centre_user("24")
    for code in ("bo-cong-thuong", "cuc-khuyen-cong"):
        with pytest.raises(ValidationError) as exc:
            user_move(actor=admin, user=user, organisation=organisation(code))
        assert "không thuộc tỉnh, thành phố nào" in str(exc.value)
    user.refresh_from_db()
    assert user.organisation.code == "ttkc-24"
    moved = user_set_role(actor=admin, user=user, role=Role.REVIEWER, organisation=organisation("cuc-khuyen-cong"))
    assert moved.organisation.code == "cuc-khuyen-cong"  # a ministry role may


@pytest.mark.parametrize("role, code", [(Role.CENTRE, "so-ct-24"), (Role.PROVINCE, "ttkc-24")])
def test_a_role_and_an_organisation_of_the_other_kind_are_refused(role, code):
    """A centre's officer given the Sở's role (or the reverse) would take the other body's workflow steps."""
    admin = admin_user()
    user = centre_user("24") if role == Role.PROVINCE else province_user("24")
    before = (user.role, user.organisation_id)
    with pytest.raises(ValidationError) as exc:
        user_set_role(actor=admin, user=user, role=role, organisation=organisation(code))
    assert "không thể thuộc" in str(exc.value) and organisation(code).name in str(exc.value)
    with pytest.raises(ValidationError):
        user_set_role(actor=admin, user=user, role=role)  # keeping its own organisation, of the other kind
    user.refresh_from_db()
    assert (user.role, user.organisation_id) == before
    assert not AuditEvent.objects.filter(object_type="user", object_id=str(user.pk)).exists()
