"""Models written only through services (workflow, evidence rules, audit) are read-only in /quan-tri/
for everyone: the administrator role's access (RoleAccessMixin) never lifts ReadOnlyMixin, whatever the
order of the base classes, and a superuser is refused too."""
import pytest
from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.test import RequestFactory
from django.urls import reverse

from funding.models import Allocation, AnnualPlan, Commitment, Disbursement, ImportBatch
from khuyencong.admin import ReadOnlyMixin, RoleAccessMixin
from khuyencong.choices import Role
from khuyencong.models import Province, User
from projects.models import Adjustment, Attachment, BudgetLine, DeAn, Establishment, Notification, Transition
from reports.models import (
    InspectionAttachment,
    InspectionPlan,
    InspectionRecord,
    Mission,
    MissionMember,
    Recommendation,
    ReportJob,
)
from tests.projects.factories import ready_de_an
from tests.reports import inspection_factories as inspection

from .factories import PASSWORD, admin_user, centre_user

pytestmark = pytest.mark.django_db

SERVICE_WRITTEN = {DeAn, Establishment, Attachment, Adjustment, Notification, BudgetLine, Transition,
                   AnnualPlan, Allocation, Commitment, Disbursement, ImportBatch, ReportJob,
                   # Inspection: reports.inspection_services (access, revision checks, audit trail).
                   InspectionPlan, Mission, MissionMember, InspectionRecord, Recommendation, InspectionAttachment,
                   # The province maps are law (Nghị quyết 202/2025/QH15), kept by load_reference.
                   Province}


def _read_only_admins():
    """Every registered admin, and every inline of one, that is read-only."""
    found = []
    for model_admin in admin.site._registry.values():
        if isinstance(model_admin, ReadOnlyMixin):
            found.append(model_admin)
        for inline_class in model_admin.inlines:
            inline = inline_class(model_admin.model, admin.site)
            if isinstance(inline, ReadOnlyMixin):
                found.append(inline)
    return found


def _superuser():
    return User.objects.create_superuser("goc", "goc@example.test", PASSWORD)


@pytest.fixture(params=["administrator", "superuser"])
def staff(request):
    return admin_user() if request.param == "administrator" else _superuser()


@pytest.fixture
def rows(db):
    """One đề án (with its beneficiaries, budget lines and history), a notification, an import batch,
    a report job, and an inspection plan with a mission, a biên bản and its recommendation."""
    centre = centre_user("24")
    de_an = ready_de_an(centre)
    reviewer = inspection.reviewer()
    inspected = inspection.de_an("24")
    plan = inspection.plan(reviewer)
    mission = inspection.mission(reviewer, plan, [inspected])
    record = inspection.record(reviewer, inspected, mission)
    return {
        InspectionPlan: plan,
        Mission: mission,
        InspectionRecord: record,
        Recommendation: record.recommendations.get(),
        DeAn: de_an,
        Province: Province.objects.get(code="24", era="current"),
        Establishment: de_an.beneficiaries.first().establishment,
        Notification: Notification.objects.create(recipient=centre, de_an=de_an, verb="submit", message="Thử"),
        ImportBatch: ImportBatch.objects.create(original_name="phan-bo.xlsx", sha256="0" * 64, created_by=centre,
                                                status="failed", error="Tệp thử"),
        ReportJob: ReportJob.objects.create(kind="national", year=2026, request_key="thu-chi-doc", status="failed",
                                            requested_by=centre),
    }


def test_every_service_written_model_has_a_read_only_admin():
    assert {a.model for a in _read_only_admins()} >= SERVICE_WRITTEN


def test_read_only_admins_refuse_add_change_delete(staff, rows):
    request = RequestFactory().get("/quan-tri/")
    request.user = staff
    for model_admin in _read_only_admins():
        obj = rows.get(model_admin.model) or model_admin.model.objects.first()
        name = type(model_admin).__name__
        if isinstance(model_admin, InlineModelAdmin):
            assert not model_admin.has_add_permission(request, obj), name
        else:
            assert not model_admin.has_add_permission(request), name
            # Still shown: to superusers, and to the role where the admin opens to it.
            if staff.is_superuser or isinstance(model_admin, RoleAccessMixin):
                assert model_admin.has_view_permission(request, obj), name
        for o in (None, obj):
            assert not model_admin.has_change_permission(request, o), name
            assert not model_admin.has_delete_permission(request, o), name


def test_read_only_admins_refuse_writes_over_http(client, staff, rows):
    client.force_login(staff)
    for model, obj in rows.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        assert client.get(reverse(f"{prefix}_add")).status_code == 403, model
        assert client.post(reverse(f"{prefix}_add"), {}).status_code == 403, model
        change = reverse(f"{prefix}_change", args=[obj.pk])
        may_look = staff.is_superuser or isinstance(admin.site._registry[model], RoleAccessMixin)
        assert client.get(change).status_code == (200 if may_look else 403), model
        assert client.post(change, {}).status_code == 403, model
        delete = reverse(f"{prefix}_delete", args=[obj.pk])
        assert client.get(delete).status_code == 403, model
        assert client.post(delete, {"post": "yes"}).status_code == 403, model
        client.post(reverse(f"{prefix}_changelist"),
                    {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"})
        assert model.objects.filter(pk=obj.pk).exists(), model


def test_a_de_an_cannot_be_reverted_from_its_history(client, staff, rows):
    de_an = rows[DeAn]
    version = de_an.history.order_by("history_id").first()
    client.force_login(staff)
    url = reverse("admin:projects_dean_simple_history", args=[de_an.pk, version.history_id])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    response = client.post(url, {"name": "Đã sửa qua lịch sử", "code": de_an.code})
    assert response.status_code == 403
    de_an.refresh_from_db()
    assert de_an.name != "Đã sửa qua lịch sử"


def test_the_order_of_the_mixins_does_not_matter():
    request = RequestFactory().get("/quan-tri/")
    request.user = admin_user()
    for bases in ((RoleAccessMixin, ReadOnlyMixin, admin.ModelAdmin), (ReadOnlyMixin, RoleAccessMixin, admin.ModelAdmin)):
        model_admin = type("ThuAdmin", bases, {})(Establishment, admin.AdminSite())
        assert model_admin.has_view_permission(request)
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
    with pytest.raises(TypeError):
        type("SaiThuTuAdmin", (admin.ModelAdmin, ReadOnlyMixin), {})


def test_the_administrator_role_still_edits_reference_data():
    """What RoleAccessMixin is for: the role edits reference data without Django permissions."""
    request = RequestFactory().get("/quan-tri/")
    request.user = admin_user()
    model_admin = admin.site._registry[User.organisation.field.related_model]
    assert model_admin.has_add_permission(request) and model_admin.has_change_permission(request)
    assert request.user.role == Role.ADMIN and not request.user.is_superuser
