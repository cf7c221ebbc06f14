"""The đề án lifecycle as ONE declarative table: state → transitions.

Each transition says which action code it answers to, the state it leads to, which roles may take it
(always within their scope: local roles only on đề án of their current province, ministry roles on
all), which level it applies to (KCQG national / KCĐP local / both), what the actor must supply, and
who is told afterwards. Services in ``projects.services`` (one function per action) lock the row,
look the transition up here with ``find()``, check ``khuyencong.access.can`` and the requirements,
write a ``Transition`` row and schedule notifications after commit.

Nothing in this module touches the database; it is imported by ``khuyencong.access``.

Requirement codes (checked by the services):
    comment            a non-empty comment / reason
    decision_number    a decision number (approval; Minister's number for a major adjustment)
    decision_date      the decision's date
    approved_amount    the approved national (KCQG) or local (KCĐP) support in đồng
    local_decision     the UBND tỉnh decision number and date (KCĐP approval)
    rules              the pre-submission rules of ``projects.rules`` pass
    accepted_on        the acceptance (nghiệm thu) date (not in the future)
    acceptance_minutes an attachment of kind "acceptance_minutes" exists (evidence: see EVIDENCE)
    settled_amount     the settled amount in đồng (with the settlement date: default today, not in the
                       future, not before the acceptance date)
    adjustment         a pending adjustment exists (minor: reviewer; major: also decision_number)

Dates a step records follow the order of this table (``projects.services.date_lower_bounds``): a
decision date (approve, approve_local, approve_adjustment), the acceptance date and the settlement date
are never in the future and never before the day the đề án was last submitted («submit», in the
portal's time zone); those after the approval are not before the approval decision nor an adjustment
decision recorded earlier, and an adjustment's decision is not before its request. A đề án that never
went through «submit» (recorded from a plan annex: "import_approved") has no submission bound.
"""
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from khuyencong.choices import Level, Role

# States (stable codes; the Status TextChoices in models.py gives their Vietnamese labels).
DRAFT = "draft"
SUBMITTED = "submitted"
FORWARDED = "forwarded"
UNDER_APPRAISAL = "under_appraisal"
RETURNED = "returned"
APPROVED = "approved"
REJECTED = "rejected"
IN_IMPLEMENTATION = "in_implementation"
ADJUSTMENT_REQUESTED = "adjustment_requested"
ACCEPTED = "accepted"
SETTLED = "settled"
CANCELLED = "cancelled"

STATES = (
    DRAFT, SUBMITTED, FORWARDED, UNDER_APPRAISAL, RETURNED, APPROVED, REJECTED,
    IN_IMPLEMENTATION, ADJUSTMENT_REQUESTED, ACCEPTED, SETTLED, CANCELLED,
)
# The dossier (fields, beneficiaries, budget lines) may be edited only in these states.
EDITABLE_STATES = frozenset({DRAFT, RETURNED})
FINAL_STATES = frozenset({REJECTED, SETTLED, CANCELLED})
# Approved and not called off: the đề án's beneficiaries have been (or are being) supported.
SUPPORTED_STATES = frozenset({APPROVED, IN_IMPLEMENTATION, ADJUSTMENT_REQUESTED, ACCEPTED, SETTLED})

KCQG = Level.NATIONAL
KCDP = Level.LOCAL
BOTH = frozenset({KCQG, KCDP})

CENTRE = Role.CENTRE
PROVINCE = Role.PROVINCE
REVIEWER = Role.REVIEWER
ADMIN = Role.ADMIN

# Administrators may take every transition (to repair a stuck dossier); it is logged like any other.
ALWAYS_ALLOWED = frozenset({ADMIN})


@dataclass(frozen=True)
class Step:
    action: str
    target: str
    roles: frozenset
    label: str
    levels: frozenset = BOTH
    requires: tuple = ()
    notify: tuple = ()  # roles told afterwards (local roles: of the đề án's province)
    danger: bool = False  # shown as a red button
    queue: frozenset | None = None  # roles whose "what waits for me" lists it (None: all of ``roles``)
    # The question asked before the step is sent (a step that cannot be undone). A ``danger`` step
    # without one gets the page's general "cannot be undone" question; see ``needs_confirmation``.
    confirm: str = ""
    # The question asked instead when the pending adjustment is a stop (approving it cancels the đề án).
    confirm_stop: str = ""
    # Offered only while the pending adjustment is (True) or is not yet (False) confirmed by the Sở Công
    # Thương; None: whatever it is. A KCQG adjustment a centre asks for goes to the Cục once the Sở has
    # confirmed it (``confirm_adjustment``); the Sở's own requests are confirmed when made.
    adjustment_confirmed: bool | None = None

    def fits(self, adjustment):
        """Whether the step applies given the đề án's pending adjustment (None when there is none)."""
        if self.adjustment_confirmed is None or adjustment is None:
            return True
        return (adjustment.confirmed_at is not None) == self.adjustment_confirmed

    @property
    def needs_confirmation(self):
        return bool(self.confirm) or self.danger

    def question(self, adjustment=None):
        """The question asked before this step is sent, given the đề án's pending adjustment (if any):
        ``confirm_stop`` when that adjustment is a stop, else ``confirm`` ("" for none)."""
        if self.confirm_stop and adjustment is not None and adjustment.stop:
            return self.confirm_stop
        return self.confirm

    def queue_roles(self):
        return self.roles if self.queue is None else self.queue

    def allows_role(self, role):
        return role in self.roles or role in ALWAYS_ALLOWED


def _step(action, target, roles, label, *, levels=BOTH, requires=(), notify=(), danger=False, queue=None, confirm="",
          confirm_stop="", adjustment_confirmed=None):
    return Step(action, target, frozenset(roles), label, frozenset(levels), tuple(requires), tuple(notify), danger,
                frozenset(queue) if queue is not None else None, confirm, confirm_stop, adjustment_confirmed)


# Questions asked before the irreversible steps that are not "danger" (red) ones: nothing leads back.
_CONFIRM_ACCEPT = _("Xác nhận nghiệm thu đề án? Sau khi nghiệm thu, đề án không quay lại giai đoạn thực hiện "
                    "và biên bản nghiệm thu không xóa được nữa.")
_CONFIRM_SETTLE = _("Xác nhận quyết toán đề án? Quyết toán là bước cuối cùng: đề án kết thúc, kinh phí và ngày "
                    "quyết toán không sửa được nữa.")
_CONFIRM_STOP = _("Đây là đề nghị dừng thực hiện: chấp thuận thì đề án bị hủy (chuyển sang «Đã hủy») và không "
                  "hoàn tác được. Xác nhận chấp thuận dừng thực hiện đề án?")


_SUBMIT = _step("submit", SUBMITTED, {CENTRE, PROVINCE}, _("Gửi Sở Công Thương"), requires=("rules",), notify=(PROVINCE,),
                queue={CENTRE})
_CANCEL_LOCAL = _step("cancel", CANCELLED, {CENTRE, PROVINCE}, _("Hủy đề án"), requires=("comment",),
                      notify=(CENTRE, PROVINCE), danger=True)
_CANCEL_PROVINCE = _step("cancel", CANCELLED, {PROVINCE}, _("Hủy đề án"), requires=("comment",),
                         notify=(CENTRE, PROVINCE), danger=True)

WORKFLOW: dict[str, tuple[Step, ...]] = {
    DRAFT: (_SUBMIT, _CANCEL_LOCAL),
    RETURNED: (_SUBMIT, _CANCEL_LOCAL),
    SUBMITTED: (
        _step("forward", FORWARDED, {PROVINCE}, _("Gửi Cục thẩm định"), levels={KCQG}, requires=("rules",),
              notify=(REVIEWER, CENTRE)),
        _step("approve_local", APPROVED, {PROVINCE}, _("Ghi nhận UBND tỉnh phê duyệt"), levels={KCDP},
              requires=("rules", "local_decision", "approved_amount"), notify=(CENTRE,)),
        _step("return", RETURNED, {PROVINCE}, _("Trả lại để hoàn thiện"), requires=("comment",), notify=(CENTRE,)),
        _step("reject", REJECTED, {PROVINCE}, _("Không phê duyệt"), levels={KCDP}, requires=("comment",),
              notify=(CENTRE,), danger=True),
        _CANCEL_PROVINCE,
    ),
    FORWARDED: (
        _step("start_appraisal", UNDER_APPRAISAL, {REVIEWER}, _("Nhận thẩm định"), levels={KCQG},
              notify=(CENTRE, PROVINCE)),
        _step("return", RETURNED, {REVIEWER}, _("Trả lại để hoàn thiện"), levels={KCQG}, requires=("comment",),
              notify=(CENTRE, PROVINCE)),
    ),
    UNDER_APPRAISAL: (
        _step("approve", APPROVED, {REVIEWER}, _("Phê duyệt"), levels={KCQG},
              requires=("decision_number", "decision_date", "approved_amount"), notify=(CENTRE, PROVINCE)),
        _step("return", RETURNED, {REVIEWER}, _("Trả lại để hoàn thiện"), levels={KCQG}, requires=("comment",),
              notify=(CENTRE, PROVINCE)),
        _step("reject", REJECTED, {REVIEWER}, _("Không phê duyệt"), levels={KCQG}, requires=("comment",),
              notify=(CENTRE, PROVINCE), danger=True),
    ),
    APPROVED: (
        _step("start_implementation", IN_IMPLEMENTATION, {CENTRE, PROVINCE}, _("Bắt đầu thực hiện"),
              notify=(PROVINCE,), queue={CENTRE}),
    ),
    IN_IMPLEMENTATION: (
        # Told: the Sở (it confirms a centre's KCQG request, decides a KCĐP one); the Cục is told of a
        # KCQG request once it is confirmed (``services.de_an_request_adjustment``).
        _step("request_adjustment", ADJUSTMENT_REQUESTED, {CENTRE, PROVINCE}, _("Đề nghị điều chỉnh"),
              requires=("comment",), notify=(PROVINCE,)),
        _step("accept", ACCEPTED, {PROVINCE, REVIEWER}, _("Nghiệm thu"), levels={KCQG},
              requires=("accepted_on", "acceptance_minutes"), notify=(CENTRE, PROVINCE, REVIEWER),
              confirm=_CONFIRM_ACCEPT),
        _step("accept", ACCEPTED, {PROVINCE}, _("Nghiệm thu"), levels={KCDP},
              requires=("accepted_on", "acceptance_minutes"), notify=(CENTRE,), confirm=_CONFIRM_ACCEPT),
    ),
    ADJUSTMENT_REQUESTED: (
        # KCQG: a centre's request is first confirmed (or refused) by the Sở Công Thương (DOMAIN §2),
        # then decided by the Cục. Minor: the reviewer decides. Major (more money, new content,
        # extension, stop): the Minister's decision number is required too. A stop leads to CANCELLED.
        _step("confirm_adjustment", ADJUSTMENT_REQUESTED, {PROVINCE}, _("Xác nhận, gửi Cục"), levels={KCQG},
              requires=("adjustment",), notify=(REVIEWER, CENTRE), adjustment_confirmed=False),
        _step("reject_adjustment", IN_IMPLEMENTATION, {PROVINCE}, _("Không xác nhận điều chỉnh"), levels={KCQG},
              requires=("adjustment", "comment"), notify=(CENTRE,), adjustment_confirmed=False),
        _step("approve_adjustment", IN_IMPLEMENTATION, {REVIEWER}, _("Chấp thuận điều chỉnh"), levels={KCQG},
              requires=("adjustment",), notify=(CENTRE, PROVINCE), confirm_stop=_CONFIRM_STOP,
              adjustment_confirmed=True),
        _step("approve_adjustment", IN_IMPLEMENTATION, {PROVINCE}, _("Chấp thuận điều chỉnh"), levels={KCDP},
              requires=("adjustment",), notify=(CENTRE,), confirm_stop=_CONFIRM_STOP),
        _step("reject_adjustment", IN_IMPLEMENTATION, {REVIEWER}, _("Không chấp thuận điều chỉnh"), levels={KCQG},
              requires=("adjustment", "comment"), notify=(CENTRE, PROVINCE), adjustment_confirmed=True),
        _step("reject_adjustment", IN_IMPLEMENTATION, {PROVINCE}, _("Không chấp thuận điều chỉnh"), levels={KCDP},
              requires=("adjustment", "comment"), notify=(CENTRE,)),
    ),
    ACCEPTED: (
        _step("settle", SETTLED, {REVIEWER}, _("Quyết toán"), levels={KCQG}, requires=("settled_amount",),
              notify=(CENTRE, PROVINCE), confirm=_CONFIRM_SETTLE),
        _step("settle", SETTLED, {PROVINCE}, _("Quyết toán"), levels={KCDP}, requires=("settled_amount",),
              notify=(CENTRE,), confirm=_CONFIRM_SETTLE),
    ),
    REJECTED: (),
    SETTLED: (),
    CANCELLED: (),
}

# Every action code, in lifecycle order (one service function ``de_an_<action>`` each).
ACTIONS = (
    "submit", "forward", "start_appraisal", "return", "approve", "reject", "approve_local",
    "start_implementation", "request_adjustment", "confirm_adjustment", "approve_adjustment", "reject_adjustment",
    "accept", "settle", "cancel",
)
# Administrators may also cancel from any non-final state (e.g. a duplicate that slipped through).
ADMIN_CANCEL = _step("cancel", CANCELLED, {ADMIN}, _("Hủy đề án"), requires=("comment",),
                     notify=(CENTRE, PROVINCE), danger=True)

ACTION_LABELS = {
    "submit": _("gửi Sở Công Thương"),
    "forward": _("gửi Cục thẩm định"),
    "start_appraisal": _("nhận thẩm định"),
    "return": _("trả lại để hoàn thiện"),
    "approve": _("phê duyệt"),
    "reject": _("không phê duyệt"),
    "approve_local": _("ghi nhận UBND tỉnh phê duyệt"),
    "start_implementation": _("bắt đầu thực hiện"),
    "request_adjustment": _("đề nghị điều chỉnh"),
    "confirm_adjustment": _("xác nhận đề nghị điều chỉnh"),
    "approve_adjustment": _("chấp thuận điều chỉnh"),
    "reject_adjustment": _("không chấp thuận điều chỉnh"),
    "accept": _("nghiệm thu"),
    "settle": _("quyết toán"),
    "cancel": _("hủy"),
    "import_approved": _("nhập đề án đã phê duyệt từ kế hoạch"),
    "create": _("tạo đề án"),
}


# What each requirement code asks of the person taking the step, as «Quy trình xử lý đề án» says it.
REQUIREMENT_LABELS = {
    "comment": _("ý kiến, lý do"),
    "decision_number": _("số quyết định phê duyệt"),
    "decision_date": _("ngày quyết định"),
    "approved_amount": _("kinh phí được duyệt"),
    "local_decision": _("số, ngày quyết định của UBND tỉnh"),
    "rules": _("hồ sơ đủ điều kiện gửi (nội dung, đơn vị thụ hưởng, dự toán, mức hỗ trợ)"),
    "accepted_on": _("ngày nghiệm thu"),
    "acceptance_minutes": _("biên bản nghiệm thu đính kèm"),
    "settled_amount": _("số tiền và ngày quyết toán"),
    "adjustment": _("đề nghị điều chỉnh đang chờ"),
}


# Requirement codes met by an attachment of that kind (code → AttachmentKind value): the evidence the
# step was taken on. Once such a step has been taken, its evidence stays in the dossier: nobody, not even
# an administrator, may delete it (``khuyencong.access``, rule ``attachment.delete``).
EVIDENCE = {"acceptance_minutes": "acceptance_minutes"}


def evidence_of(kind):
    """The actions whose step requires an attachment of ``kind`` as evidence (``()`` for other kinds)."""
    codes = {code for code, k in EVIDENCE.items() if k == kind}
    steps = [s for state_steps in WORKFLOW.values() for s in state_steps if codes & set(s.requires)]
    return tuple(a for a in ACTIONS if any(s.action == a for s in steps))


@dataclass(frozen=True)
class Lookup:
    """The result of looking an action up: the step, or why there is none."""

    step: Step | None
    reason: str = ""
    alternatives: tuple = field(default=())


def steps_from(state, level=None):
    """Transitions leaving ``state`` (for ``level`` if given)."""
    steps = WORKFLOW.get(state, ())
    if state not in FINAL_STATES:
        steps = steps + (ADMIN_CANCEL,)
    return tuple(s for s in steps if level is None or level in s.levels)


def find(state, action, level, role=None, adjustment=None):
    """The step for ``action`` from ``state`` at ``level`` that ``role`` may take.

    Returns ``Lookup(step)``, or ``Lookup(None, reason)`` with a Vietnamese reason: the action is not
    possible from this state, not for this level, or not for this role.
    """
    from .models import Status  # labels only; models do not import this module

    label = ACTION_LABELS.get(action, action)
    candidates = [s for s in steps_from(state) if s.action == action]
    if not candidates:
        return Lookup(None, str(_("Không thể %(action)s đề án đang ở trạng thái «%(state)s».") % {
            "action": label, "state": Status(state).label if state in Status.values else state}))
    candidates = [s for s in candidates if level in s.levels]
    if not candidates:
        return Lookup(None, str(_("Thao tác «%(action)s» không áp dụng cho đề án %(level)s.") % {
            "action": label, "level": Level(level).label}))
    if role is not None:
        allowed = [s for s in candidates if s.allows_role(role)]
        if not allowed:
            roles = sorted({str(Role(r).label) for s in candidates for r in s.roles})
            return Lookup(None, str(_("Chỉ %(roles)s được %(action)s đề án này.") % {
                "roles": ", ".join(roles), "action": label}))
        fitting = [s for s in allowed if s.fits(adjustment)]
        if not fitting:
            if allowed[0].adjustment_confirmed:
                return Lookup(None, str(_("Sở Công Thương chưa xác nhận đề nghị điều chỉnh này; Cục xem xét sau khi Sở "
                                          "xác nhận.")))
            return Lookup(None, str(_("Đề nghị điều chỉnh đã được Sở Công Thương xác nhận và gửi Cục; Cục quyết định.")))
        return Lookup(fitting[0])
    return Lookup(candidates[0])


def describe():
    """The table as plain rows (state, action, target, roles, levels, requires) for docs and tests."""
    rows = []
    for state in STATES:
        for s in steps_from(state):
            rows.append((state, s.action, s.target, sorted(s.roles), sorted(s.levels), s.requires))
    return rows
