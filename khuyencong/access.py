"""Who may see and do what. The one place: nothing else filters by province.

Two kinds of function live here:

* **scoping** — ``visible_<aggregate>(user)`` returns the queryset of what ``user`` may see. Lists,
  detail pages, downloads, exports, reports and the API all start from these.
* **decisions** — ``can(user, action, obj=None)`` returns a ``Decision(allowed, reason)`` with a
  Vietnamese reason when refused. Each action is a small rule function registered with ``@rule``.

Scope is always read from the database row of the signed-in user (Django loads it on every request),
so deactivating an account or moving it to another organisation/province takes effect on the next
request. Ministry roles (reviewer, administrator) see every province; the others see the *current*
province of their organisation, which includes records made under the former provinces that merged
into it.

Each app adds its section below (scoping functions and rules for its aggregates), importing its models
lazily inside functions to keep this module free of import cycles.
"""
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .choices import Role


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""

    def __bool__(self):
        return self.allowed


ALLOW = Decision(True)


def deny(reason):
    return Decision(False, str(reason))


# --- who the user is ------------------------------------------------------------------------

def is_active_user(user):
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_nationwide(user):
    """Reviewers and administrators work on every province."""
    return is_active_user(user) and user.role in (Role.REVIEWER, Role.ADMIN)


def is_admin(user):
    return is_active_user(user) and (user.role == Role.ADMIN or user.is_superuser)


def is_reviewer(user):
    return is_active_user(user) and user.role == Role.REVIEWER


def user_province(user):
    """The current province a local account works for; None for nationwide or unattached accounts."""
    if not is_active_user(user) or is_nationwide(user):
        return None
    organisation = user.organisation
    if organisation is None or organisation.province_id is None:
        return None
    province = organisation.province
    return province.current


def user_province_id(user):
    province = user_province(user)
    return province.pk if province else None


def scope_by_current_province(queryset, user, field="current_province"):
    """Filter ``queryset`` to what ``user`` may see, given the path to the row's *current* province.

    Nationwide users see everything; local users see their province; anyone else sees nothing.
    This is the one place where a province filter for access is written.
    """
    if is_nationwide(user):
        return queryset
    province_id = user_province_id(user)
    if province_id is None:
        return queryset.none()
    return queryset.filter(**{f"{field}_id" if not field.endswith("_id") else field: province_id})


def in_user_province(user, current_province_id):
    """True when a row whose current province is ``current_province_id`` is in ``user``'s scope."""
    if is_nationwide(user):
        return True
    province_id = user_province_id(user)
    return province_id is not None and province_id == current_province_id


# --- decisions ------------------------------------------------------------------------------

Rule = Callable[[object, object], Decision]
_RULES: dict[str, Rule] = {}


def rule(action):
    """Register the rule deciding ``action``. One rule per action."""

    def register(func):
        if action in _RULES and _RULES[action] is not func:
            raise RuntimeError(f"access rule {action!r} registered twice")
        _RULES[action] = func
        return func

    return register


def can(user, action, obj=None):
    """Decide whether ``user`` may do ``action`` (on ``obj``). Unknown actions are refused."""
    if not is_active_user(user):
        return deny(_("Bạn cần đăng nhập bằng tài khoản đang hoạt động."))
    func = _RULES.get(action)
    if func is None:
        return deny(_("Thao tác không được hỗ trợ."))
    return func(user, obj)


def registered_actions():
    return sorted(_RULES)


# --- core: reference data and users -----------------------------------------------------------

def visible_current_provinces(user):
    """Current provinces whose figures ``user`` may see: ministry roles all 34, local roles their own."""
    from .models import Province

    if is_nationwide(user):
        return Province.objects.current()
    province_id = user_province_id(user)
    if province_id is None:
        return Province.objects.none()
    return Province.objects.current().filter(pk=province_id)


def visible_users(user):
    """Accounts ``user`` may see: ministry roles all; local roles those working for their current
    province, including accounts still attached to an organisation of a former province that merged
    into it (they work for the same province: ``user_province``)."""
    from django.db.models import Q

    from .models import User

    qs = User.objects.select_related("organisation__province")
    if is_nationwide(user):
        return qs
    province_id = user_province_id(user)
    if province_id is None:
        return qs.filter(pk=user.pk) if is_active_user(user) else qs.none()
    return qs.filter(Q(organisation__province_id=province_id) | Q(organisation__province__successor_id=province_id))


def visible_organisations(user):
    from .models import Organisation

    return Organisation.objects.select_related("province") if is_active_user(user) else Organisation.objects.none()


@rule("reference.manage")
def _reference_manage(user, obj):
    if is_admin(user):
        return ALLOW
    return deny(_("Chỉ quản trị hệ thống được sửa dữ liệu danh mục."))


@rule("users.manage")
def _users_manage(user, obj):
    if is_admin(user):
        return ALLOW
    return deny(_("Chỉ quản trị hệ thống được quản lý tài khoản người dùng."))


@rule("province.view")
def _province_view(user, province):
    """Seeing one province's pages (dashboard, report, export) by its current province."""
    if province is None:
        return deny(_("Không xác định được tỉnh, thành phố."))
    current = province.current if hasattr(province, "current") else province
    if in_user_province(user, current.pk):
        return ALLOW
    return deny(_("Bạn chỉ được xem dữ liệu của tỉnh, thành phố mình."))


# === projects (đề án) =========================================================================
# (section owned by the projects app)

def _establishment_province_q(province_id, prefix=""):
    """Establishments are recorded under a province of either era; match the current one."""
    from django.db.models import Q

    return Q(**{f"{prefix}province_id": province_id}) | Q(**{f"{prefix}province__successor_id": province_id})


def visible_de_an(user):
    """Đề án ``user`` may see: ministry roles all; local roles their current province (incl. former
    provinces merged into it, through ``current_province``)."""
    from projects.models import DeAn

    if not is_active_user(user):
        return DeAn.objects.none()
    return scope_by_current_province(DeAn.objects.all(), user, "current_province")


def visible_establishments(user):
    from projects.models import Establishment

    qs = Establishment.objects.select_related("province")
    if is_nationwide(user):
        return qs
    province_id = user_province_id(user)
    if province_id is None:
        return qs.none()
    return qs.filter(_establishment_province_q(province_id))


def visible_attachments(user):
    from projects.models import Attachment

    if not is_active_user(user):
        return Attachment.objects.none()
    return scope_by_current_province(Attachment.objects.select_related("de_an"), user, "de_an__current_province")


def visible_notifications(user):
    from projects.models import Notification

    if not is_active_user(user):
        return Notification.objects.none()
    mine = Notification.objects.filter(recipient=user)
    if is_nationwide(user):
        return mine
    # A user moved to another province no longer reads what was sent about its đề án (names, comments).
    from django.db.models import Q

    return mine.filter(Q(de_an__isnull=True) | Q(de_an__in=visible_de_an(user).values("pk")))


_LOCAL_WRITERS = (Role.CENTRE, Role.PROVINCE)


def _de_an_in_scope(user, de_an):
    if de_an is None:
        return deny(_("Không tìm thấy đề án."))
    if in_user_province(user, de_an.current_province_id):
        return ALLOW
    return deny(_("Đề án này thuộc tỉnh, thành phố khác; bạn chỉ được làm việc với đề án của tỉnh, thành phố mình."))


@rule("de_an.view")
def _de_an_view(user, de_an):
    return _de_an_in_scope(user, de_an)


@rule("de_an.create")
def _de_an_create(user, province):
    """``province``: where the new đề án is recorded (None: the user's own)."""
    if is_admin(user):
        return ALLOW
    if user.role not in _LOCAL_WRITERS:
        return deny(_("Chỉ cán bộ Trung tâm khuyến công hoặc Sở Công Thương được lập đề án."))
    own = user_province_id(user)
    if own is None:
        return deny(_("Tài khoản chưa gắn với tỉnh, thành phố nào nên không lập được đề án."))
    if province is not None and (province.current.pk if hasattr(province, "current") else province) != own:
        return deny(_("Bạn chỉ được lập đề án của tỉnh, thành phố mình."))
    return ALLOW


@rule("de_an.edit")
def _de_an_edit(user, de_an):
    from projects.models import Status
    from projects.workflow import EDITABLE_STATES

    scope = _de_an_in_scope(user, de_an)
    if not scope:
        return scope
    if not (is_admin(user) or user.role in _LOCAL_WRITERS):
        return deny(_("Chỉ cán bộ Trung tâm khuyến công hoặc Sở Công Thương được sửa hồ sơ đề án."))
    if de_an.status not in EDITABLE_STATES:
        return deny(
            _("Đề án đang ở trạng thái «%(state)s» nên không sửa được; chỉ sửa được khi đang soạn hoặc bị trả lại.")
            % {"state": Status(de_an.status).label}
        )
    return ALLOW


def pending_adjustment(de_an):
    """The đề án's adjustment waiting for a decision (None when it is not in «Đề nghị điều chỉnh»): which
    adjustment steps apply depends on whether the Sở has confirmed it (``projects.workflow.Step.fits``)."""
    from projects.models import Adjustment, AdjustmentStatus, Status

    if de_an.status != Status.ADJUSTMENT_REQUESTED:
        return None
    return Adjustment.objects.filter(de_an_id=de_an.pk, status=AdjustmentStatus.PENDING).first()


def _de_an_transition_rule(action):
    def decide(user, de_an):
        from projects.workflow import find

        scope = _de_an_in_scope(user, de_an)
        if not scope:
            return scope
        role = Role.ADMIN if is_admin(user) else user.role
        found = find(de_an.status, action, de_an.level, role, adjustment=pending_adjustment(de_an))
        if found.step is None:
            return deny(found.reason)
        return ALLOW

    decide.__name__ = f"_de_an_{action}"
    return decide


# One rule per workflow action (kept in step with projects.workflow.ACTIONS, checked by a test).
DE_AN_ACTIONS = (
    "submit", "forward", "start_appraisal", "return", "approve", "reject", "approve_local",
    "start_implementation", "request_adjustment", "confirm_adjustment", "approve_adjustment", "reject_adjustment",
    "accept", "settle", "cancel",
)
for _action in DE_AN_ACTIONS:
    rule(f"de_an.{_action}")(_de_an_transition_rule(_action))


@rule("de_an.comment")
def _de_an_comment(user, de_an):
    return _de_an_in_scope(user, de_an)


@rule("de_an.attach")
def _de_an_attach(user, de_an):
    from projects.workflow import FINAL_STATES

    scope = _de_an_in_scope(user, de_an)
    if not scope:
        return scope
    if de_an.status in FINAL_STATES and not is_admin(user):
        return deny(_("Đề án đã kết thúc (không phê duyệt, đã quyết toán hoặc đã hủy); không thêm tài liệu được nữa."))
    return ALLOW


@rule("de_an.import_approved")
def _de_an_import_approved(user, obj):
    if is_admin(user) or is_reviewer(user):
        return ALLOW
    return deny(_("Chỉ chuyên viên của Cục hoặc quản trị hệ thống được nhập đề án đã phê duyệt từ kế hoạch."))


@rule("attachment.view")
def _attachment_view(user, attachment):
    if attachment is None:
        return deny(_("Không tìm thấy tài liệu."))
    return _de_an_in_scope(user, attachment.de_an)


@rule("attachment.delete")
def _attachment_delete(user, attachment):
    """While the dossier is editable (its editors), administrators in any state — except the evidence a
    step required (``projects.workflow.EVIDENCE``, e.g. the acceptance minutes) once that step has been
    taken: nobody deletes it then."""
    from projects.models import Transition
    from projects.workflow import ACTION_LABELS, evidence_of

    if attachment is None:
        return deny(_("Không tìm thấy tài liệu."))
    scope = _de_an_in_scope(user, attachment.de_an)
    if not scope:
        return scope
    actions = evidence_of(attachment.kind)
    if actions:
        taken = (Transition.objects.filter(de_an_id=attachment.de_an_id, action__in=actions)
                 .order_by("at", "id").values_list("action", flat=True).first())
        if taken:
            return deny(_("Không xóa được tài liệu «%(n)s» (%(k)s): đây là căn cứ của bước «%(a)s» đã thực hiện, "
                          "phải được giữ lại trong hồ sơ đề án.")
                        % {"n": attachment.original_name, "k": attachment.get_kind_display(),
                           "a": ACTION_LABELS.get(taken, taken)})
    edit = _de_an_edit(user, attachment.de_an)
    if edit:
        return edit
    if is_admin(user):
        return ALLOW
    return deny(_("Chỉ xóa được tài liệu khi hồ sơ đề án đang soạn hoặc bị trả lại."))


@rule("establishment.edit")
def _establishment_edit(user, establishment):
    if is_nationwide(user):
        return ALLOW
    if user.role not in _LOCAL_WRITERS:
        return deny(_("Bạn không được sửa thông tin cơ sở thụ hưởng."))
    own = user_province_id(user)
    if own is None:
        return deny(_("Tài khoản chưa gắn với tỉnh, thành phố nào."))
    if establishment is not None and establishment.province.current.pk != own:
        return deny(_("Cơ sở thụ hưởng này thuộc tỉnh, thành phố khác."))
    return ALLOW


# === funding (kế hoạch, phân bổ kinh phí, nhập Excel) ==========================================
# (section owned by the funding app)

def visible_allocations(user):
    """Allocations ``user`` may see: ministry roles every province; local roles their current one."""
    from funding.models import Allocation

    if not is_active_user(user):
        return Allocation.objects.none()
    return scope_by_current_province(Allocation.objects.all(), user, "province")


def visible_commitments(user):
    from funding.models import Commitment

    if not is_active_user(user):
        return Commitment.objects.none()
    return scope_by_current_province(Commitment.objects.all(), user, "allocation__province")


def visible_disbursements(user):
    from funding.models import Disbursement

    if not is_active_user(user):
        return Disbursement.objects.none()
    return scope_by_current_province(Disbursement.objects.all(), user, "de_an__current_province")


def visible_import_batches(user):
    """Excel import batches: administrators only (they hold whole-country files)."""
    from funding.models import ImportBatch

    if not is_admin(user):
        return ImportBatch.objects.none()
    return ImportBatch.objects.all()


@rule("funding.import")
def _funding_import(user, obj):
    if is_admin(user):
        return ALLOW
    return deny(_("Chỉ quản trị hệ thống được nhập bảng phân bổ kinh phí và phụ lục kế hoạch."))


@rule("funding.view_national")
def _funding_view_national(user, obj):
    if is_nationwide(user):
        return ALLOW
    return deny(_("Chỉ Cục và quản trị hệ thống được xem kinh phí toàn quốc; bạn có thể xem kinh phí của tỉnh mình."))


@rule("funding.record_disbursement")
def _funding_record_disbursement(user, de_an):
    if de_an is None:
        return deny(_("Không xác định được đề án."))
    if is_admin(user) or (user.role == Role.PROVINCE and in_user_province(user, de_an.current_province_id)):
        return ALLOW
    return deny(_("Chỉ Sở Công Thương của tỉnh hoặc quản trị hệ thống được ghi nhận giải ngân."))


# === reports (kiểm tra, giám sát, báo cáo) =====================================================
# (section owned by the reports app)

def visible_report_jobs(user):
    """Report jobs ``user`` may see and download: nationwide users all; a local user the jobs about
    their (current) province — province reports and inspection records; national reports and
    inspection plans are for the ministry only."""
    from reports.models import ReportJob

    qs = ReportJob.objects.all()
    if is_nationwide(user):
        return qs
    province_id = user_province_id(user)
    if province_id is None:
        return qs.none()
    return qs.filter(province_id=province_id, kind__in=["province", "record"])


def visible_inspection_records(user):
    from reports.models import InspectionRecord

    return scope_by_current_province(InspectionRecord.objects.all(), user, field="de_an__current_province")


@rule("report.request")
def _report_request(user, target):
    """``target`` is a reports.services.ReportTarget (kind, year, province, record)."""
    if target is None:
        return deny(_("Không xác định được báo cáo cần tạo."))
    if target.kind in ("national", "plan"):
        if is_nationwide(user):
            return ALLOW
        return deny(_("Chỉ Cục (chuyên viên, quản trị) được tạo báo cáo toàn quốc và kế hoạch kiểm tra."))
    province = target.province
    if province is None:
        return deny(_("Không xác định được tỉnh, thành phố của báo cáo."))
    if in_user_province(user, province.current.pk):
        return ALLOW
    return deny(_("Bạn chỉ được tạo báo cáo của tỉnh, thành phố mình."))


@rule("report.download")
def _report_download(user, job):
    if job is None or not visible_report_jobs(user).filter(pk=job.pk).exists():
        return deny(_("Bạn không có quyền xem báo cáo này."))
    if job.status != "done" or not job.file:
        return deny(_("Báo cáo chưa tạo xong."))
    return ALLOW


@rule("report.preview")
def _report_preview(user, job):
    """The ?format=html preview is for staff checking templates: ministry users and administrators."""
    if not (is_nationwide(user) or user.is_staff):
        return deny(_("Chỉ cán bộ của Cục được xem bản HTML của báo cáo."))
    if job is None or not visible_report_jobs(user).filter(pk=job.pk).exists():
        return deny(_("Bạn không có quyền xem báo cáo này."))
    return ALLOW


# --- inspection and supervision: plans, missions, records, recommendations (reports app) ---

def visible_inspection_plans(user):
    """Annual plans and their missions name đề án of every province: ministry accounts only."""
    from reports.models import InspectionPlan

    return InspectionPlan.objects.all() if is_nationwide(user) else InspectionPlan.objects.none()


def visible_missions(user):
    from reports.models import Mission

    return Mission.objects.all() if is_nationwide(user) else Mission.objects.none()


def visible_recommendations(user):
    """Recommendations of the inspection records ``user`` may see (by the đề án's current province)."""
    from reports.models import Recommendation

    if not is_active_user(user):
        return Recommendation.objects.none()
    return scope_by_current_province(Recommendation.objects.all(), user, field="record__de_an__current_province")


def visible_inspection_attachments(user):
    from reports.models import InspectionAttachment

    if not is_active_user(user):
        return InspectionAttachment.objects.none()
    return scope_by_current_province(InspectionAttachment.objects.all(), user, field="record__de_an__current_province")


def visible_recommendation_evidence(user):
    """Files attached to remedial reports: the ministry all; local staff those of their province's đề án."""
    from reports.models import RecommendationEvidence

    if not is_active_user(user):
        return RecommendationEvidence.objects.none()
    return scope_by_current_province(RecommendationEvidence.objects.all(), user,
                                     field="recommendation__record__de_an__current_province")


def _inspection_manager(user):
    if is_nationwide(user):
        return ALLOW
    return deny(_("Chỉ chuyên viên của Cục (hoặc quản trị hệ thống) được lập và sửa kế hoạch, đoàn kiểm tra "
                  "và biên bản kiểm tra."))


@rule("inspection.manage")
def _inspection_manage(user, obj):
    """Plans, missions and records: create, edit, delete (ministry accounts)."""
    return _inspection_manager(user)


@rule("inspection.view_plan")
def _inspection_view_plan(user, obj):
    if is_nationwide(user):
        return ALLOW
    return deny(_("Kế hoạch và đoàn kiểm tra chỉ cán bộ của Cục được xem; bạn xem được biên bản kiểm tra "
                  "các đề án của tỉnh, thành phố mình."))


@rule("inspection.record_view")
def _inspection_record_view(user, record):
    if record is None:
        return deny(_("Không tìm thấy biên bản kiểm tra."))
    return _de_an_in_scope(user, record.de_an)


@rule("inspection.answer")
def _inspection_answer(user, recommendation):
    """Province and centre staff of the đề án's (current) province report what they did."""
    if recommendation is None:
        return deny(_("Không tìm thấy kiến nghị."))
    if user.role not in _LOCAL_WRITERS:
        return deny(_("Chỉ cán bộ Sở Công Thương hoặc Trung tâm khuyến công của tỉnh có đề án được báo cáo "
                      "khắc phục kiến nghị."))
    scope = _de_an_in_scope(user, recommendation.record.de_an)
    if not scope:
        return scope
    if recommendation.status == "closed":
        return deny(_("Kiến nghị đã được Cục đóng (đã hoàn thành) nên không báo cáo thêm được."))
    return ALLOW


@rule("inspection.evidence_add")
def _inspection_evidence_add(user, recommendation):
    """Evidence files (photos, scanned documents) go with the remedial report: whoever may answer the
    recommendation may attach them, while it is not closed."""
    if recommendation is not None and recommendation.status == "closed":
        return deny(_("Kiến nghị đã được Cục đóng (đã hoàn thành) nên không thêm tệp minh chứng được."))
    return _inspection_answer(user, recommendation)


@rule("inspection.evidence_delete")
def _inspection_evidence_delete(user, evidence):
    """Staff of the province that uploaded the file (Sở or centre), while the recommendation is not closed."""
    if evidence is None:
        return deny(_("Không tìm thấy tệp."))
    recommendation = evidence.recommendation
    if user.role not in _LOCAL_WRITERS or not in_user_province(user, evidence.province_id):
        return deny(_("Chỉ cán bộ Sở Công Thương hoặc Trung tâm khuyến công của tỉnh đã tải tệp lên được xóa tệp "
                      "minh chứng."))
    scope = _de_an_in_scope(user, recommendation.record.de_an)
    if not scope:
        return scope
    if recommendation.status == "closed":
        return deny(_("Kiến nghị đã được Cục đóng (đã hoàn thành) nên không xóa tệp minh chứng được."))
    return ALLOW


@rule("inspection.close")
def _inspection_close(user, recommendation):
    if recommendation is None:
        return deny(_("Không tìm thấy kiến nghị."))
    if not is_nationwide(user):
        return deny(_("Chỉ chuyên viên của Cục được đóng kiến nghị sau kiểm tra."))
    if recommendation.status == "closed":
        return deny(_("Kiến nghị này đã được đóng."))
    return ALLOW


@rule("inspection.reopen")
def _inspection_reopen(user, recommendation):
    if recommendation is None:
        return deny(_("Không tìm thấy kiến nghị."))
    if not is_nationwide(user):
        return deny(_("Chỉ chuyên viên của Cục được mở lại kiến nghị sau kiểm tra."))
    if recommendation.status == "open":
        return deny(_("Kiến nghị đang ở trạng thái chưa thực hiện; không cần mở lại."))
    return ALLOW


# === dashboards (tổng quan chương trình, kết quả đề án) =========================================
# (section owned by the dashboards app)

# States from which achieved outputs may be recorded (implementation or later, not cancelled).
_OUTPUT_ACHIEVED_STATES = ("in_implementation", "adjustment_requested", "accepted", "settled")
_ECONOMIC_RESULT_STATES = ("accepted", "settled")


def visible_indicator_outputs(user):
    from dashboards.models import DeAnIndicatorOutput

    if not is_active_user(user):
        return DeAnIndicatorOutput.objects.none()
    return scope_by_current_province(DeAnIndicatorOutput.objects.all(), user, "de_an__current_province")


def visible_economic_results(user):
    from dashboards.models import DeAnEconomicResult

    if not is_active_user(user):
        return DeAnEconomicResult.objects.none()
    return scope_by_current_province(DeAnEconomicResult.objects.all(), user, "de_an__current_province")


def scope_related_to_de_an(queryset, user, path):
    """Rows hanging off a đề án (``path`` to it, e.g. ``"de_an__"``), limited to the đề án ``user``
    may see — the same rule as ``visible_de_an``, applied through a join."""
    if not is_active_user(user):
        return queryset.none()
    return scope_by_current_province(queryset, user, f"{path}current_province")


def national_aggregate_base(user):
    """Every đề án, for the *national averages* a province dashboard compares itself with. Only
    aggregates (sums, counts) may be read from it; no row of another province leaves the database."""
    from projects.models import DeAn

    if not is_active_user(user):
        return DeAn.objects.none()
    return DeAn.objects.all()


@rule("dashboards.national")
def _dashboards_national(user, obj):
    if is_nationwide(user):
        return ALLOW
    return deny(_("Chỉ Cục (chuyên viên thẩm định, quản trị hệ thống) được xem tổng quan toàn quốc; "
                  "bạn có thể xem tổng quan của tỉnh, thành phố mình."))


@rule("dashboards.province")
def _dashboards_province(user, province):
    if province is None:
        return deny(_("Không xác định được tỉnh, thành phố."))
    current = province.current if hasattr(province, "current") else province
    if in_user_province(user, current.pk):
        return ALLOW
    return deny(_("Bạn chỉ được xem tổng quan và xuất số liệu của tỉnh, thành phố mình."))


@rule("dashboards.output_plan")
def _dashboards_output_plan(user, de_an):
    from projects.models import Status
    from projects.workflow import EDITABLE_STATES

    scope = _de_an_in_scope(user, de_an)
    if not scope:
        return scope
    if not (is_admin(user) or user.role in _LOCAL_WRITERS):
        return deny(_("Chỉ cán bộ Trung tâm khuyến công hoặc Sở Công Thương được ghi sản phẩm kế hoạch của đề án."))
    if de_an.status not in EDITABLE_STATES:
        return deny(_("Đề án đang ở trạng thái «%(state)s»: sản phẩm kế hoạch chỉ ghi được khi đang soạn hoặc bị trả lại.")
                    % {"state": Status(de_an.status).label})
    return ALLOW


@rule("dashboards.output_record")
def _dashboards_output_record(user, de_an):
    from projects.models import Status

    scope = _de_an_in_scope(user, de_an)
    if not scope:
        return scope
    if not (is_admin(user) or user.role in (Role.CENTRE, Role.PROVINCE, Role.REVIEWER)):
        return deny(_("Bạn không được ghi kết quả thực hiện của đề án."))
    if de_an.status not in _OUTPUT_ACHIEVED_STATES:
        return deny(_("Đề án đang ở trạng thái «%(state)s», chưa triển khai thực hiện: chỉ ghi được kết quả đạt được "
                      "khi đề án đang thực hiện, đã nghiệm thu hoặc đã quyết toán.") % {"state": Status(de_an.status).label})
    return ALLOW


@rule("dashboards.economic_record")
def _dashboards_economic_record(user, de_an):
    from projects.models import Status

    scope = _dashboards_output_record(user, de_an)
    if not scope:
        return scope
    if de_an.status not in _ECONOMIC_RESULT_STATES:
        return deny(_("Hiệu quả kinh tế được ghi khi nghiệm thu: đề án đang ở trạng thái «%(state)s».")
                    % {"state": Status(de_an.status).label})
    return ALLOW
