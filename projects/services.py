"""Writes of the projects app: one explicit function per state change, plus the dossier writes.

Every function is keyword-only and runs in ``transaction.atomic``. A refusal raises ``WorkflowError``
(``str(err)`` and ``err.messages`` are Vietnamese, fit to show the user) and leaves the data untouched.
Transitions lock the đề án row (``select_for_update``) and also guard the write with a conditional
UPDATE on ``revision``, so a double click or two reviewers at once give exactly one change and one
``Transition`` row; the loser is told what happened. The in-app notifications are written in the
same transaction; their e-mail is handed to Celery after commit (``projects.notifications``).
"""
import hashlib
import logging
import mimetypes
import operator
import os
import re
import unicodedata
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from khuyencong import access
from khuyencong.choices import FundingSource, Level, Role
from khuyencong.copy import copy_lines, copy_text
from khuyencong.formatting import (
    MAX_DONG,
    MoneyError,
    format_date,
    format_dong,
    format_file_size,
    parse_money,
    tidy_document_number,
)
from khuyencong.models import ActivityContent, AuditEvent, Organisation, Province, User
from khuyencong.textsearch import fold, fold_words, join_fields, nfc

from . import notifications, workflow
from .models import (
    Adjustment,
    AdjustmentKind,
    AdjustmentStatus,
    Attachment,
    AttachmentKind,
    BudgetLine,
    CodeSequence,
    Comment,
    DeAn,
    DeAnBeneficiary,
    Establishment,
    Kind,
    LegalForm,
    Notification,
    Status,
    Transition,
    validate_tax_code,
)
from .rules import check_caps, check_submission

logger = logging.getLogger(__name__)


class WorkflowError(Exception):
    """A refused write. ``str(err)`` is one Vietnamese sentence; ``err.messages`` lists every reason."""

    def __init__(self, message, messages=None, *, fields=None, field=None):
        self.messages = [str(m) for m in (messages or [message])]
        # {message: the action form's field it is about}, so a page can mark that field (aria-invalid).
        self.fields = {str(k): v for k, v in (fields or {}).items()}
        if field:
            self.fields.setdefault(str(message), field)
        super().__init__(str(message))


class ConflictError(WorkflowError):
    """Someone else saved the đề án after the caller loaded it (optimistic concurrency)."""


# --- small helpers ----------------------------------------------------------------------------

def _money(value, label, *, required=True):
    """Integer đồng from an int or Vietnamese text ("1.500.000"); refuses negative, fractional đồng,
    absurd sizes, with the field named in the message."""
    if type(value) is int and 0 <= value < MAX_DONG:  # the import's already-parsed đồng
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise WorkflowError(_("%(f)s: chưa nhập số tiền.") % {"f": label}, field="amount")
        return None
    try:
        return parse_money(value)
    except MoneyError as exc:
        raise WorkflowError(f"{label}: {exc}", field="amount") from exc


def _text(value, max_length=None):
    value = nfc(value) or ""
    if max_length and len(value) > max_length:
        raise WorkflowError(_("Nội dung quá dài (tối đa %(n)s ký tự).") % {"n": max_length})
    return value


def _require(decision):
    if not decision:
        raise WorkflowError(decision.reason)


def _role(user):
    return Role.ADMIN if access.is_admin(user) else user.role


def _de_an_pk(de_an):
    return de_an.pk if isinstance(de_an, DeAn) else int(de_an)


def _history_user(obj, actor):
    obj._history_user = actor
    return obj


def _lock(de_an):
    """The đề án row, locked until the end of the transaction."""
    try:
        return (
            DeAn.objects.select_for_update(of=("self",))
            .select_related("province", "current_province", "implementing_unit")
            .get(pk=_de_an_pk(de_an))
        )
    except DeAn.DoesNotExist as exc:
        raise WorkflowError(_("Không tìm thấy đề án.")) from exc


def _bump(row):
    """Conditional UPDATE on the revision we read: the second of two racing writers gets 0 rows."""
    updated = DeAn.objects.filter(pk=row.pk, revision=row.revision, status=row.status).update(
        revision=F("revision") + 1
    )
    if updated != 1:
        raise ConflictError(_("Đề án vừa được người khác thay đổi; hãy tải lại trang để xem trạng thái mới."))
    row.revision += 1


def search_text_for(de_an, beneficiary_names=()):
    """The folded text the search box looks in: code, name, units, place, provinces and beneficiaries,
    each kept apart by « | » (``join_fields``), so a quoted phrase is found within one of them only.
    Migration 0013 rebuilds stored texts by the same rule."""
    parts = [de_an.code, de_an.name, de_an.implementing_unit_name, de_an.partner_unit, de_an.location]
    if de_an.implementing_unit_id:
        parts.append(de_an.implementing_unit.name)
    if de_an.province_id:
        parts.append(de_an.province.name)
    if de_an.current_province_id and de_an.current_province_id != de_an.province_id:
        parts.append(de_an.current_province.name)
    parts.extend(beneficiary_names)
    return join_fields(parts)


def _refresh_search_text(de_an):
    names = list(
        DeAnBeneficiary.objects.filter(de_an=de_an).values_list("establishment__name", flat=True)
    )
    de_an.search_text = search_text_for(de_an, names)
    DeAn.objects.filter(pk=de_an.pk).update(search_text=de_an.search_text)


def _recompute_totals(de_an):
    totals = {source: 0 for source in FundingSource.values}
    for source, amount in BudgetLine.objects.filter(de_an=de_an).values_list("source", "amount"):
        totals[source] += amount
    de_an.national_amount = totals[FundingSource.NATIONAL]
    de_an.local_amount = totals[FundingSource.LOCAL]
    de_an.counterpart_amount = totals[FundingSource.COUNTERPART]
    de_an.other_amount = totals[FundingSource.OTHER]
    de_an.total_amount = sum(totals.values())


def code_prefix(level, plan_year, province_code):
    return f"{'KCQG' if level == Level.NATIONAL else 'KCDP'}-{plan_year}-{province_code}"


def next_code(*, level, plan_year, province_code):
    """The next readable code ``KCQG-2026-24-0001``. The sequence row is incremented with an UPDATE,
    which holds its row lock until commit: concurrent creators queue and never share a number."""
    prefix = code_prefix(level, plan_year, province_code)
    seq, _created = CodeSequence.objects.get_or_create(prefix=prefix)
    while True:
        CodeSequence.objects.filter(pk=seq.pk).update(last=F("last") + 1)
        last = CodeSequence.objects.filter(pk=seq.pk).values_list("last", flat=True).get()
        code = f"{prefix}-{last:04d}"
        if not DeAn.objects.filter(code=code).exists():
            return code


# --- notifications ----------------------------------------------------------------------------

def recipients_for(de_an, roles, exclude=None):
    """Active users of ``roles`` who must act next: reviewers nationwide, local roles of the đề án's
    current province (organisations of a former province that merged into it included)."""
    users = []
    local = [r for r in roles if r in (Role.CENTRE, Role.PROVINCE)]
    if Role.REVIEWER in roles:
        users.extend(User.objects.filter(is_active=True, role=Role.REVIEWER))
    if local:
        from django.db.models import Q

        pid = de_an.current_province_id
        users.extend(
            User.objects.filter(is_active=True, role__in=local).filter(
                Q(organisation__province_id=pid) | Q(organisation__province__successor_id=pid)
            )
        )
    seen, result = set(), []
    for user in users:
        if user.pk in seen or (exclude is not None and user.pk == exclude):
            continue
        seen.add(user.pk)
        result.append(user)
    return result


def _notify(*, de_an, action, actor, roles, comment=""):
    """Notifications of a transition: the in-app rows are written now, in the transition's transaction
    (same commit or rollback); their e-mail is queued for Celery on commit (projects.notifications)."""
    if not roles:
        return []
    actor_id = getattr(actor, "pk", None)
    recipients = recipients_for(de_an, roles, exclude=actor_id)
    return notifications.notifications_create(
        de_an=de_an, action=action, actor=actor, recipients=recipients, comment=comment
    )


def notification_mark_read(*, user, ids=None):
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


# --- establishments ---------------------------------------------------------------------------

ESTABLISHMENT_FIELDS = (
    "name", "legal_form", "tax_code", "address", "commune", "province", "trade", "workers",
    "women_owned", "ethnic_minority", "craft_village",
)


def _clean_establishment(values, instance=None, actor=None):
    errors = []
    name = _text(values.get("name", getattr(instance, "name", "")), 255)
    if not name:
        errors.append(_("Chưa nhập tên cơ sở thụ hưởng."))
    values["name"] = name
    legal_form = values.get("legal_form", getattr(instance, "legal_form", ""))
    if legal_form not in LegalForm.values:
        errors.append(_("Loại hình «%(v)s» không thuộc đối tượng thụ hưởng (doanh nghiệp nhỏ và vừa, tổ hợp tác, "
                        "hợp tác xã, liên hiệp hợp tác xã, hộ kinh doanh, làng nghề, nghệ nhân).") % {"v": legal_form})
    if "tax_code" in values:
        tax_code = (values["tax_code"] or "").strip().replace(" ", "") or None
        try:
            validate_tax_code(tax_code)
        except ValidationError as exc:
            errors.extend(exc.messages)
        else:
            if tax_code and legal_form != LegalForm.HOUSEHOLD_BUSINESS and legal_form != LegalForm.ARTISAN \
                    and len(tax_code) == 12:
                errors.append(_("Mã số thuế 12 số (định danh cá nhân) chỉ dùng cho hộ kinh doanh, cá nhân."))
            clash = Establishment.objects.filter(tax_code=tax_code) if tax_code else Establishment.objects.none()
            if instance is not None:
                clash = clash.exclude(pk=instance.pk)
            existing = clash.first()
            if existing is not None and (actor is None
                                         or access.visible_establishments(actor).filter(pk=existing.pk).exists()):
                errors.append(_("Mã số thuế %(t)s đã có trong danh sách: «%(n)s». Hãy chọn cơ sở đó thay vì tạo mới.")
                              % {"t": tax_code, "n": existing.name})
            elif existing is not None:
                # Another province's establishment: its name (for a household business, the owner behind
                # a citizen's ID number) is not the user's to see.
                errors.append(_("Mã số thuế %(t)s đã được đăng ký cho một cơ sở ở tỉnh, thành phố khác. Hãy kiểm tra "
                                "lại mã số thuế; nếu đúng, đề nghị quản trị hệ thống hỗ trợ.") % {"t": tax_code})
        values["tax_code"] = tax_code
    for key in ("address", "commune", "trade"):
        if key in values:
            values[key] = _text(values[key], 255)
    if "workers" in values and values["workers"] not in (None, ""):
        try:
            workers = int(values["workers"])
        except (TypeError, ValueError):
            workers = -1
        if workers < 0 or workers > 1_000_000:
            errors.append(_("Số lao động không hợp lệ."))
        values["workers"] = workers
    if not values.get("province", getattr(instance, "province", None)):
        errors.append(_("Chưa chọn tỉnh, thành phố của cơ sở."))
    if errors:
        raise WorkflowError(errors[0], errors)
    return values


@transaction.atomic
def establishment_create(*, actor, **fields):
    unknown = set(fields) - set(ESTABLISHMENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown establishment fields: {sorted(unknown)}")
    _require(access.can(actor, "establishment.edit", None))
    province = fields.get("province")
    if province is not None and not access.is_nationwide(actor) and province.current.pk != access.user_province_id(actor):
        raise WorkflowError(_("Bạn chỉ được thêm cơ sở thụ hưởng của tỉnh, thành phố mình."))
    values = _clean_establishment(dict(fields), actor=actor)
    est = Establishment(**values)
    est.search_name = fold(est.name)
    try:
        with transaction.atomic():
            est.save()
    except IntegrityError as exc:
        raise WorkflowError(_("Mã số thuế %(t)s đã có trong danh sách.") % {"t": est.tax_code}) from exc
    return est


ESTABLISHMENT_CHANGED = "establishment.change"  # AuditEvent action of an establishment's edit


@transaction.atomic
def establishment_update(*, actor, establishment, expected_updated_at=None, **fields):
    """Change an establishment's record (one kept for every đề án it is in) and record before and after
    of what changed in the audit trail. ``expected_updated_at``: when the editing form was loaded; if
    someone saved the record since, ``ConflictError`` and nothing is written."""
    unknown = set(fields) - set(ESTABLISHMENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown establishment fields: {sorted(unknown)}")
    est = Establishment.objects.select_for_update().select_related("province").get(pk=establishment.pk)
    _require(access.can(actor, "establishment.edit", est))
    if expected_updated_at is not None and est.updated_at != expected_updated_at:
        raise ConflictError(_("Thông tin cơ sở vừa được người khác sửa sau khi bạn mở trang. Chưa có gì được lưu; "
                              "hãy xem lại thông tin mới rồi sửa lại."))
    values = _clean_establishment(dict(fields), instance=est, actor=actor)
    changed = {key: value for key, value in values.items() if getattr(est, key) != value}
    if not changed:
        return est
    before = {key: _audit_value(getattr(est, key)) for key in changed}
    for key, value in changed.items():
        setattr(est, key, value)
    est.search_name = fold(est.name)
    est.save()
    AuditEvent.objects.create(
        actor=actor, action=ESTABLISHMENT_CHANGED, object_type="projects.Establishment", object_id=str(est.pk),
        summary=(_("Sửa thông tin cơ sở thụ hưởng «%(n)s»: %(f)s.")
                 % {"n": est.name, "f": ", ".join(str(Establishment._meta.get_field(k).verbose_name) for k in changed)})[:500],
        data={"before": before, "after": {key: _audit_value(value) for key, value in changed.items()}},
    )
    return est


def _audit_value(value):
    return value.pk if hasattr(value, "pk") else value


@transaction.atomic
def establishment_get_or_create(*, actor, tax_code=None, **fields):
    """Reuse the establishment with this tax code if there is one (beneficiaries are kept once)."""
    code = (tax_code or "").strip().replace(" ", "")
    if code:
        existing = access.visible_establishments(actor).filter(tax_code=code).first()
        if existing is not None:
            return existing, False
    return establishment_create(actor=actor, tax_code=code or None, **fields), True


# --- đề án: create and update -------------------------------------------------------------------

DE_AN_FIELDS = (
    "name", "kind", "programme", "plan_year", "implementing_unit", "implementing_unit_name", "partner_unit",
    "start_date", "end_date", "location", "rationale", "objectives", "scale", "expected_output",
    "expected_revenue", "expected_jobs",
)
_TEXT_LIMITS = {"name": 500, "implementing_unit_name": 255, "partner_unit": 255, "location": 255}


def _apply_fields(de_an, fields):
    errors = []
    for key, value in fields.items():
        if key not in DE_AN_FIELDS:
            raise TypeError(f"unknown de_an field: {key}")
        if key in _TEXT_LIMITS or key in ("rationale", "objectives", "scale", "expected_output"):
            try:
                value = _text(value, _TEXT_LIMITS.get(key))
            except WorkflowError as exc:
                errors.append(f"{DeAn._meta.get_field(key).verbose_name}: {exc}")
                continue
        elif key == "expected_revenue":
            try:
                value = _money(value, _("Doanh thu dự kiến"), required=False)
            except WorkflowError as exc:
                errors.append(str(exc))
                continue
        elif key == "expected_jobs" and value not in (None, ""):
            try:
                value = int(value)
                if value < 0 or value > 10_000_000:
                    raise ValueError
            except (TypeError, ValueError):
                errors.append(_("Số việc làm dự kiến không hợp lệ."))
                continue
        elif key == "kind" and value not in Kind.values:
            errors.append(_("Loại đề án không hợp lệ."))
            continue
        elif key == "plan_year":
            try:
                value = int(value)
                if not 2000 <= value <= 2100:
                    raise ValueError
            except (TypeError, ValueError):
                errors.append(_("Năm kế hoạch không hợp lệ."))
                continue
        setattr(de_an, key, value if value != "" or key not in ("expected_jobs",) else None)
    if not (de_an.name or "").strip():
        errors.append(_("Chưa nhập tên đề án."))
    if de_an.start_date and de_an.end_date and de_an.end_date < de_an.start_date:
        errors.append(_("Ngày kết thúc phải sau ngày bắt đầu."))
    if de_an.implementing_unit_id and de_an.implementing_unit.province_id:
        unit_province = de_an.implementing_unit.province.current
        if unit_province.pk != de_an.current_province_id and de_an.implementing_unit.kind != "regional_centre":
            errors.append(_("Đơn vị thực hiện thuộc tỉnh, thành phố khác với đề án."))
    if errors:
        raise WorkflowError(errors[0], errors)


def _set_contents(de_an, contents):
    ids = []
    for content in contents:
        ids.append(content.pk if isinstance(content, ActivityContent) else int(content))
    found = set(ActivityContent.objects.filter(pk__in=ids).values_list("pk", flat=True))
    if len(found) != len(set(ids)):
        raise WorkflowError(_("Có nội dung hoạt động không có trong danh mục."))
    de_an.contents.set(ids)


@transaction.atomic
def de_an_create(*, actor, name, level, plan_year, kind=Kind.ORDINARY, province=None, contents=(),
                 budget_lines=None, beneficiaries=None, **fields):
    """Create a draft. ``province`` (any era) defaults to the actor's current province; centre staff
    are the implementing unit unless another unit of the province is given. Returns the DeAn."""
    from khuyencong.selectors import programme_for_year

    if level not in Level.values:
        raise WorkflowError(_("Cấp đề án không hợp lệ."))
    if province is None:
        province = access.user_province(actor)
        if province is None:
            raise WorkflowError(_("Hãy chọn tỉnh, thành phố của đề án."))
    _require(access.can(actor, "de_an.create", province))
    de_an = DeAn(level=level, kind=kind, plan_year=plan_year, province=province, current_province=province.current,
                 created_by=actor, status=Status.DRAFT, revision=1, name="")
    if "implementing_unit" not in fields and actor.role == Role.CENTRE and actor.organisation_id:
        unit = own_unit(actor)
        if _names_own_unit(fields.get("implementing_unit_name"), unit):
            fields["implementing_unit"] = unit
    _apply_fields(de_an, {"name": name, "kind": kind, "plan_year": plan_year, **fields})
    if de_an.programme_id is None and "programme" not in fields:
        de_an.programme = programme_for_year(de_an.plan_year)
    de_an.code = next_code(level=level, plan_year=de_an.plan_year, province_code=province.code)
    de_an.search_text = search_text_for(de_an)
    _history_user(de_an, actor)
    de_an.save()
    if contents:
        _set_contents(de_an, contents)
    if budget_lines is not None:
        _replace_budget_lines(de_an, budget_lines, actor)
    if beneficiaries is not None:
        _replace_beneficiaries(de_an, beneficiaries, actor)
    _recompute_totals(de_an)
    _refresh_search_text(de_an)
    DeAn.objects.filter(pk=de_an.pk).update(
        total_amount=de_an.total_amount, national_amount=de_an.national_amount, local_amount=de_an.local_amount,
        counterpart_amount=de_an.counterpart_amount, other_amount=de_an.other_amount,
    )
    Transition.objects.create(de_an=de_an, action="create", from_status="", to_status=Status.DRAFT, actor=actor)
    _transitions_written([de_an.pk])
    return de_an


def own_unit(actor):
    """The organisation a centre's staff member implements đề án for today: their own, or — when it
    was dissolved in the 2025 reorganisation and its account not yet moved — the unit that took it
    over (``Organisation.successor``, followed to the one in force)."""
    unit = actor.organisation
    today = timezone.localdate()
    seen = set()
    while unit is not None and unit.successor_id and not unit.is_valid_on(today) and unit.pk not in seen:
        seen.add(unit.pk)
        unit = unit.successor
    return unit


def _names_own_unit(typed, organisation):
    """True when the «Đơn vị thực hiện (nếu khác đơn vị của bạn)» text is empty or names ``organisation``
    itself (any of its names, ignoring case and diacritics): only then is the đề án linked to it."""
    typed = fold(typed or "")
    if not typed:
        return True
    names = {organisation.name, *(entry.name for entry in organisation.names.all())}
    return typed in {fold(name) for name in names}


def _unit_after_edit(actor, row, typed):
    """The implementing unit (organisation) after an edit of the typed unit name: a name of another
    unit unlinks the organisation (the typed name is shown instead); an empty one keeps the linked
    unit, or links the editing centre's own organisation when none was linked."""
    unit = row.implementing_unit
    if unit is not None:
        return unit if _names_own_unit(typed, unit) else None
    if not (typed or "").strip() and actor.role == Role.CENTRE and actor.organisation_id:
        return own_unit(actor)
    return None


def _set_programme_for_year(row):
    """A new plan year moves the đề án into the programme covering that year (the code keeps the year
    it was issued with); a year no programme covers is refused."""
    from khuyencong.selectors import programme_for_year

    programme = programme_for_year(row.plan_year)
    if programme is None:
        raise WorkflowError(
            _("Chưa có chương trình khuyến công nào cho năm kế hoạch %(y)s; hãy chọn năm khác hoặc đề nghị quản trị "
              "viên thêm chương trình.") % {"y": row.plan_year})
    row.programme = programme


def _conflict_message(row):
    last = row.history.select_related("history_user").first()
    who = getattr(last, "history_user", None) if last else None
    when = timezone.localtime(last.history_date).strftime("%H:%M %d/%m/%Y") if last else ""
    return _(
        "Đề án %(code)s đã được %(who)s lưu lúc %(when)s, sau khi bạn mở để sửa (phiên bản %(rev)s). "
        "Thay đổi của bạn chưa được lưu; hãy tải lại trang, xem nội dung mới rồi sửa lại."
    ) % {"code": row.code, "who": who or _("người khác"), "when": when, "rev": row.revision}


@transaction.atomic
def de_an_update(*, actor, de_an, revision, contents=None, budget_lines=None, beneficiaries=None, **fields):
    """Save edits to a draft/returned đề án. ``revision`` is the one the caller loaded; if someone
    saved in between, ``ConflictError`` is raised and nothing is written.

    ``budget_lines`` (list of dicts, see ``budget_line_add``; a dict with "id" updates that line,
    lines not listed are removed) and ``beneficiaries`` (list of Establishment or ids) replace the
    current ones when given. Returns the DeAn with its new revision.
    """
    row = _lock(de_an)
    _require(access.can(actor, "de_an.edit", row))
    if int(revision) != row.revision:
        raise ConflictError(_conflict_message(row))
    old_year = row.plan_year
    if "implementing_unit_name" in fields and "implementing_unit" not in fields:
        fields["implementing_unit"] = _unit_after_edit(actor, row, fields["implementing_unit_name"])
    _apply_fields(row, fields)
    if row.plan_year != old_year and "programme" not in fields:
        _set_programme_for_year(row)
    if contents is not None:
        _set_contents(row, contents)
    if budget_lines is not None:
        _replace_budget_lines(row, budget_lines, actor)
    if beneficiaries is not None:
        _replace_beneficiaries(row, beneficiaries, actor)
    _recompute_totals(row)
    _bump(row)
    row.updated_at = timezone.now()
    row.search_text = search_text_for(row)
    _history_user(row, actor)
    row.save()
    _refresh_search_text(row)
    return row


def _edit_lock(actor, de_an, revision=None):
    row = _lock(de_an)
    _require(access.can(actor, "de_an.edit", row))
    if revision is not None and int(revision) != row.revision:
        raise ConflictError(_conflict_message(row))
    return row


def _save_after_lines(row, actor):
    _recompute_totals(row)
    _bump(row)
    row.updated_at = timezone.now()
    _history_user(row, actor)
    row.save()


# --- budget lines -----------------------------------------------------------------------------

def _clean_line(de_an, data):
    errors = []
    description = _text(data.get("description", ""), 500)
    if not description:
        errors.append(_("Dòng kinh phí chưa có nội dung chi."))
    source = data.get("source")
    if source not in FundingSource.values:
        errors.append(_("Nguồn kinh phí «%(v)s» không hợp lệ.") % {"v": source})
    label = _("Dòng «%(d)s»") % {"d": description or "?"}
    amount = cost_basis = None
    try:
        amount = _money(data.get("amount"), label)
    except WorkflowError as exc:
        errors.append(str(exc))
    try:
        cost_basis = _money(data.get("cost_basis"), label + " " + _("(tổng chi phí)"), required=False)
    except WorkflowError as exc:
        errors.append(str(exc))
    content = data.get("content")
    if content is not None and not isinstance(content, ActivityContent):
        content = ActivityContent.objects.filter(pk=content).first()
        if content is None:
            errors.append(_("Nội dung hoạt động của dòng kinh phí không có trong danh mục."))
    establishment = data.get("establishment")
    if establishment is not None and not isinstance(establishment, Establishment):
        establishment = Establishment.objects.filter(pk=establishment).first()
    if establishment is not None and not DeAnBeneficiary.objects.filter(de_an=de_an, establishment=establishment).exists():
        errors.append(_("Dòng kinh phí gắn với cơ sở không phải là đơn vị thụ hưởng của đề án."))
    if errors:
        raise WorkflowError(errors[0], errors)
    return {"description": description, "source": source, "amount": amount, "cost_basis": cost_basis,
            "content": content, "establishment": establishment, "support_cap": data.get("support_cap")}


def _replace_budget_lines(de_an, lines, actor):
    existing = {line.pk: line for line in BudgetLine.objects.filter(de_an=de_an)}
    keep = set()
    errors = []
    cleaned = []
    for order, data in enumerate(lines, start=1):
        try:
            cleaned.append((order, data.get("id"), _clean_line(de_an, data)))
        except WorkflowError as exc:
            errors.extend(exc.messages)
    if errors:
        raise WorkflowError(errors[0], errors)
    for order, line_id, values in cleaned:
        if line_id:
            line = existing.get(int(line_id))
            if line is None:
                raise WorkflowError(_("Dòng kinh phí không thuộc đề án này."))
            keep.add(line.pk)
            changed = any(getattr(line, k) != v for k, v in values.items()) or line.order != order
            if changed:
                for key, value in values.items():
                    setattr(line, key, value)
                line.order = order
                _history_user(line, actor).save()
        else:
            _history_user(BudgetLine(de_an=de_an, order=order, **values), actor).save()
    for pk, line in existing.items():
        if pk not in keep:
            _history_user(line, actor).delete()


@transaction.atomic
def budget_line_add(*, actor, de_an, description, source, amount, content=None, cost_basis=None,
                    establishment=None, support_cap=None, revision=None):
    row = _edit_lock(actor, de_an, revision)
    values = _clean_line(row, {"description": description, "source": source, "amount": amount, "content": content,
                               "cost_basis": cost_basis, "establishment": establishment, "support_cap": support_cap})
    order = (BudgetLine.objects.filter(de_an=row).count() or 0) + 1
    line = _history_user(BudgetLine(de_an=row, order=order, **values), actor)
    line.save()
    _save_after_lines(row, actor)
    return line


@transaction.atomic
def budget_line_update(*, actor, line, revision=None, **data):
    line = BudgetLine.objects.get(pk=line.pk if isinstance(line, BudgetLine) else line)
    row = _edit_lock(actor, line.de_an_id, revision)
    current = {"description": line.description, "source": line.source, "amount": line.amount, "content": line.content,
               "cost_basis": line.cost_basis, "establishment": line.establishment, "support_cap": line.support_cap}
    current.update(data)
    for key, value in _clean_line(row, current).items():
        setattr(line, key, value)
    _history_user(line, actor).save()
    _save_after_lines(row, actor)
    return line


@transaction.atomic
def budget_line_remove(*, actor, line, revision=None):
    line = BudgetLine.objects.get(pk=line.pk if isinstance(line, BudgetLine) else line)
    row = _edit_lock(actor, line.de_an_id, revision)
    _history_user(line, actor).delete()
    _save_after_lines(row, actor)


# --- beneficiaries ----------------------------------------------------------------------------

def _replace_beneficiaries(de_an, establishments, actor):
    ids = [e.pk if isinstance(e, Establishment) else int(e) for e in establishments]
    if len(ids) != len(set(ids)):
        raise WorkflowError(_("Một cơ sở được chọn hai lần làm đơn vị thụ hưởng."))
    visible = set(access.visible_establishments(actor).filter(pk__in=ids).values_list("pk", flat=True))
    if visible != set(ids):
        raise WorkflowError(_("Có cơ sở thụ hưởng không tồn tại hoặc thuộc tỉnh, thành phố khác."))
    existing = {link.establishment_id: link for link in DeAnBeneficiary.objects.filter(de_an=de_an)}
    for order, est_id in enumerate(ids, start=1):
        link = existing.pop(est_id, None)
        if link is None:
            _history_user(DeAnBeneficiary(de_an=de_an, establishment_id=est_id, order=order), actor).save()
        elif link.order != order:
            link.order = order
            _history_user(link, actor).save()
    for link in existing.values():
        if BudgetLine.objects.filter(de_an=de_an, establishment_id=link.establishment_id).exists():
            raise WorkflowError(_("Không bỏ được cơ sở «%(n)s» vì còn dòng kinh phí gắn với cơ sở này.")
                                % {"n": link.establishment.name})
        _history_user(link, actor).delete()


@transaction.atomic
def beneficiary_add(*, actor, de_an, establishment, note="", revision=None):
    row = _edit_lock(actor, de_an, revision)
    est = establishment if isinstance(establishment, Establishment) else Establishment.objects.filter(pk=establishment).first()
    if est is None or not access.visible_establishments(actor).filter(pk=est.pk).exists():
        raise WorkflowError(_("Không tìm thấy cơ sở thụ hưởng hoặc cơ sở thuộc tỉnh, thành phố khác."))
    if DeAnBeneficiary.objects.filter(de_an=row, establishment=est).exists():
        raise WorkflowError(_("Cơ sở «%(n)s» đã là đơn vị thụ hưởng của đề án.") % {"n": est.name})
    order = DeAnBeneficiary.objects.filter(de_an=row).count() + 1
    link = _history_user(DeAnBeneficiary(de_an=row, establishment=est, note=_text(note, 255), order=order), actor)
    link.save()
    _save_after_lines(row, actor)
    _refresh_search_text(row)
    return link


@transaction.atomic
def beneficiary_remove(*, actor, de_an, establishment, revision=None):
    row = _edit_lock(actor, de_an, revision)
    est_id = establishment.pk if isinstance(establishment, Establishment) else int(establishment)
    link = DeAnBeneficiary.objects.filter(de_an=row, establishment_id=est_id).first()
    if link is None:
        raise WorkflowError(_("Cơ sở này không phải là đơn vị thụ hưởng của đề án."))
    if BudgetLine.objects.filter(de_an=row, establishment_id=est_id).exists():
        raise WorkflowError(_("Không bỏ được cơ sở «%(n)s» vì còn dòng kinh phí gắn với cơ sở này.")
                            % {"n": link.establishment.name})
    _history_user(link, actor).delete()
    _save_after_lines(row, actor)
    _refresh_search_text(row)


# --- attachments ------------------------------------------------------------------------------

ALLOWED_UPLOADS = {
    # extension: (content type, accepted leading bytes: a prefix, or a pattern matched at the start)
    "pdf": ("application/pdf", (b"%PDF-",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "webp": ("image/webp", (re.compile(rb"RIFF.{4}WEBP", re.DOTALL),)),  # RIFF alone is also WAV, AVI
    "doc": ("application/msword", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    "xls": ("application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    "ppt": ("application/vnd.ms-powerpoint", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", (b"PK\x03\x04",)),
    "odt": ("application/vnd.oasis.opendocument.text", (b"PK\x03\x04",)),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", (b"PK\x03\x04",)),
}
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f<>:\"/\\|?*;]")


def sanitise_filename(name):
    """Keep a readable Vietnamese name, drop any path, control and shell-special characters."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip().lstrip(".").strip()
    if not name:
        name = "tai-lieu"
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = stem[:150].rstrip() or "tai-lieu"
    return f"{stem}.{ext.lower()[:10]}" if ext else stem


def attachment_max_bytes():
    return getattr(settings, "UPLOAD_MAX_BYTES", 20 * 1024 * 1024)


@transaction.atomic
def attachment_add(*, actor, de_an, file, kind=AttachmentKind.OTHER, description="", name=None):
    """Store ``file`` (a Django File/UploadedFile) privately through the storage API. PDF, images and
    Office documents only, checked by extension *and* content; size limited by UPLOAD_MAX_BYTES."""
    row = DeAn.objects.select_related("current_province").get(pk=_de_an_pk(de_an))
    _require(access.can(actor, "de_an.attach", row))
    if kind not in AttachmentKind.values:
        raise WorkflowError(_("Loại tài liệu không hợp lệ."))
    original = sanitise_filename(name or getattr(file, "name", ""))
    ext = original.rsplit(".", 1)[-1].lower() if "." in original else ""
    if ext not in ALLOWED_UPLOADS:
        raise WorkflowError(_("Tệp «%(n)s» không được chấp nhận: chỉ nhận PDF, ảnh (JPG, PNG, WEBP) và tài liệu Office "
                              "(DOC, DOCX, XLS, XLSX, PPT, PPTX, ODT, ODS).") % {"n": original})
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, os.SEEK_END)
        size = file.tell()
    limit = attachment_max_bytes()
    if size <= 0:
        raise WorkflowError(_("Tệp «%(n)s» rỗng.") % {"n": original})
    if size > limit:
        raise WorkflowError(_("Tệp «%(n)s» dung lượng %(s)s, vượt giới hạn %(l)s.")
                            % {"n": original, "s": format_file_size(size, beside=limit), "l": format_file_size(limit)})
    content_type, magics = ALLOWED_UPLOADS[ext]
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    if not any(m.match(head) if isinstance(m, re.Pattern) else head.startswith(m) for m in magics):
        raise WorkflowError(_("Nội dung tệp «%(n)s» không đúng định dạng %(e)s.") % {"n": original, "e": ext.upper()})
    attachment = Attachment(de_an=row, kind=kind, original_name=original, size=size,
                            content_type=content_type or mimetypes.guess_type(original)[0] or "application/octet-stream",
                            description=_text(description, 255), uploaded_by=actor)
    sha256 = _sha256(file)
    attachment.file.save(original, file, save=False)
    stored_name = attachment.file.name
    try:
        attachment.save()
        _attachment_audit(actor, ATTACHMENT_ADDED, attachment, sha256)
    except Exception:
        attachment.file.storage.delete(stored_name)
        raise
    return attachment


# AuditEvent actions of the dossier's attachments (object: the đề án; shown on its timeline).
ATTACHMENT_ADDED = "attachment.add"
ATTACHMENT_DELETED = "attachment.delete"
ATTACHMENT_AUDIT_ACTIONS = (ATTACHMENT_ADDED, ATTACHMENT_DELETED)


def _sha256(file):
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in iter(lambda: file.read(1024 * 1024), b""):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def _attachment_audit(actor, action, attachment, sha256=""):
    """One AuditEvent per attachment added or deleted: who, which file (name, kind, size, type, hash)."""
    summary = (_("Thêm tài liệu «%(n)s»") if action == ATTACHMENT_ADDED else _("Xóa tài liệu «%(n)s»")) % {
        "n": attachment.original_name}
    AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None, action=action, object_type="projects.DeAn",
        object_id=str(attachment.de_an_id), summary=summary[:500],
        data={"attachment": attachment.pk, "name": attachment.original_name, "kind": attachment.kind,
              "size": attachment.size, "content_type": attachment.content_type, "sha256": sha256 or ""},
    )


@transaction.atomic
def attachment_delete(*, actor, attachment):
    """Delete an attachment (rule ``attachment.delete``: while the dossier is editable, administrators in
    any state, nobody once it is the evidence of a step taken). The file goes after commit."""
    pk = attachment.pk if isinstance(attachment, Attachment) else attachment
    de_an_id = Attachment.objects.filter(pk=pk).values_list("de_an_id", flat=True).first()
    if de_an_id is None:
        raise WorkflowError(_("Không tìm thấy tài liệu."))
    # The đề án row first, as every step does: a step that needs this file as its evidence (acceptance
    # minutes for «Nghiệm thu») and this deletion are ordered, so the rule below sees the step if it
    # was taken — the file is never removed from under a step taken at the same moment.
    DeAn.objects.select_for_update().filter(pk=de_an_id).values_list("pk", flat=True).first()
    try:
        attachment = Attachment.objects.select_for_update(of=("self",)).select_related("de_an").get(pk=pk)
    except Attachment.DoesNotExist as exc:
        raise WorkflowError(_("Không tìm thấy tài liệu.")) from exc
    _require(access.can(actor, "attachment.delete", attachment))
    added = (AuditEvent.objects.filter(action=ATTACHMENT_ADDED, object_type="projects.DeAn",
                                       object_id=str(attachment.de_an_id), data__attachment=attachment.pk)
             .order_by("-id").values_list("data", flat=True).first())
    name, storage = attachment.file.name, attachment.file.storage
    _attachment_audit(actor, ATTACHMENT_DELETED, attachment, (added or {}).get("sha256", ""))
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(name))


# The same words from the same person on the same đề án this soon after are the same comment sent twice
# (a double click, a resent form), not a second opinion.
COMMENT_REPEAT_WINDOW = timedelta(minutes=1)


@transaction.atomic
def comment_add(*, actor, de_an, text):
    """Add a comment; the same text by the same person within COMMENT_REPEAT_WINDOW returns the comment
    already written (the đề án row lock orders two copies sent at once)."""
    row = DeAn.objects.get(pk=_de_an_pk(de_an))
    _require(access.can(actor, "de_an.comment", row))
    text = _text(text, 5000)
    if not text:
        raise WorkflowError(_("Chưa nhập nội dung ý kiến."))
    DeAn.objects.select_for_update().filter(pk=row.pk).values_list("pk", flat=True).get()
    now = timezone.now()
    repeat = (Comment.objects.filter(de_an=row, author=actor, text=text, created_at__gte=now - COMMENT_REPEAT_WINDOW)
              .order_by("-created_at", "-id").first())
    if repeat is not None:
        return repeat
    return Comment.objects.create(de_an=row, author=actor, text=text, created_at=now)


# --- transitions ------------------------------------------------------------------------------

# A date a step records (a decision's, the acceptance's, the settlement's) may not precede what the step
# follows in the workflow: the đề án's submission on the portal (its latest «gửi Sở Công Thương», after
# any return for revision), the approval decision (for the steps after approval), an adjustment decision
# recorded earlier, and, for the decision on an adjustment, its request. Days are compared in the
# portal's time zone (Asia/Ho_Chi_Minh): a dossier sent at 23:30 on 14/03 may be approved by a decision
# dated 14/03. A đề án that never went through submission here (recorded approved from a plan annex, as
# the annex import and demo đề án 7 do) has no submission and so no such lower bound.
_BEFORE_MESSAGES = {
    ("decision_date", "submit"): gettext_lazy("Ngày quyết định không được trước ngày trình đề án (%(d)s)."),
    ("decision_date", "approval"): gettext_lazy(
        "Ngày quyết định không được trước ngày quyết định phê duyệt đề án (%(d)s)."),
    ("decision_date", "adjustment"): gettext_lazy(
        "Ngày quyết định không được trước ngày quyết định điều chỉnh đề án đã ghi nhận trước đó (%(d)s)."),
    ("decision_date", "request"): gettext_lazy("Ngày quyết định không được trước ngày đề nghị điều chỉnh (%(d)s)."),
    ("accepted_on", "submit"): gettext_lazy("Ngày nghiệm thu không được trước ngày trình đề án (%(d)s)."),
    ("accepted_on", "approval"): gettext_lazy(
        "Ngày nghiệm thu không được trước ngày quyết định phê duyệt đề án (%(d)s)."),
    ("accepted_on", "adjustment"): gettext_lazy(
        "Ngày nghiệm thu không được trước ngày quyết định điều chỉnh đề án (%(d)s)."),
    ("settled_on", "submit"): gettext_lazy("Ngày quyết toán không được trước ngày trình đề án (%(d)s)."),
    ("settled_on", "approval"): gettext_lazy(
        "Ngày quyết toán không được trước ngày quyết định phê duyệt đề án (%(d)s)."),
    ("settled_on", "adjustment"): gettext_lazy(
        "Ngày quyết toán không được trước ngày quyết định điều chỉnh đề án (%(d)s)."),
}


def _local_day(moment):
    """The calendar day of an aware datetime in the portal's time zone (settings.TIME_ZONE)."""
    return timezone.localdate(moment, timezone=timezone.get_default_timezone()) if moment else None


def date_lower_bounds(row, *, action):
    """The earliest days a date recorded by ``action`` on ``row`` may take, latest first, as
    ``(day, reason)`` with reason one of "submit" (the latest submission on the portal), "approval"
    (the approval decision), "adjustment" (an adjustment decision recorded before), "request" (the
    pending adjustment's request; only for ``approve_adjustment``). A đề án recorded from a plan annex
    has no "submit" bound (it was never submitted here). One query."""
    seen = Transition.objects.filter(de_an_id=row.pk).aggregate(
        submitted=Max("at", filter=Q(action="submit")),
        adjusted=Max("decision_date", filter=Q(action="approve_adjustment")),
        requested=Max("at", filter=Q(action="request_adjustment")),
    )
    bounds = [(_local_day(seen["submitted"]), "submit")]
    if action not in ("approve", "approve_local"):
        approvals = [d for d in (row.decision_date, row.local_decision_date) if d]
        bounds.append((max(approvals) if approvals else None, "approval"))
        bounds.append((seen["adjusted"], "adjustment"))
    if action == "approve_adjustment":
        bounds.append((_local_day(seen["requested"]), "request"))
    return sorted(((day, reason) for day, reason in bounds if day), key=operator.itemgetter(0), reverse=True)


def _refused_before(row, day, field, *, action):
    """The Vietnamese reason ``day`` (the step's ``field``) comes too early for ``row``, or ""."""
    for bound, reason in date_lower_bounds(row, action=action):
        if day < bound:
            return str(_BEFORE_MESSAGES[(field, reason)] % {"d": format_date(bound)})
    return ""


def _check_requirements(step, row, *, comment, decision_number, decision_date):
    errors, fields = [], {}

    def refuse(message, field=None):
        errors.append(message)
        if field:
            fields[str(message)] = field

    if "comment" in step.requires and not comment:
        refuse(_("Cần nhập ý kiến, lý do khi %(a)s.") % {"a": workflow.ACTION_LABELS[step.action]}, "comment")
    if "decision_number" in step.requires and not decision_number:
        refuse(_("Cần nhập số quyết định phê duyệt."), "decision_number")
    if "decision_date" in step.requires and not decision_date:
        refuse(_("Cần nhập ngày quyết định."), "decision_date")
    if decision_date and decision_date > timezone.localdate():
        # A decision is recorded once it has been signed: a later date is a typing mistake.
        refuse(_("Ngày quyết định %(d)s không được sau ngày hôm nay.") % {"d": format_date(decision_date)},
               "decision_date")
    elif decision_date:
        message = _refused_before(row, decision_date, "decision_date", action=step.action)
        if message:
            refuse(message, "decision_date")
    if "rules" in step.requires:
        errors.extend(check_submission(row))
    if errors:
        raise WorkflowError(errors[0], errors, fields=fields)


def _transitions_written(de_an_ids):
    """Derived data kept equal to the transition rows, in the caller's transaction: the dashboards'
    review-queue totals per đề án (``dashboards.services.queue_totals_refresh``, a fixed number of
    queries). Called by every function here that writes or deletes Transition rows (and by
    ``projects.scale``)."""
    from dashboards.services import queue_totals_refresh

    queue_totals_refresh(de_an_ids)


# States in which approved money is committed against the allocation (released on cancellation).
COMMITTED_STATES = frozenset({workflow.APPROVED, workflow.IN_IMPLEMENTATION, workflow.ADJUSTMENT_REQUESTED})


def _decision_number(text):
    """A decision number as typed, written the one way (``tidy_document_number``: «  45 /qd-bct » →
    «45/QĐ-BCT»), at most 50 characters; "" when none was typed."""
    text = _text(text, 50)
    return tidy_document_number(text)[:50] if text else ""


def _transition(*, actor, de_an, action, comment="", decision_number="", decision_date=None, data=None,
                apply=None, row=None):
    """The one path of every state change. Must run inside an atomic block."""
    if row is None:
        row = _lock(de_an)
    comment = _text(comment, 5000)
    decision_number = _decision_number(decision_number)
    decision = access.can(actor, f"de_an.{action}", row)
    if not decision:
        raise WorkflowError(decision.reason)
    step = workflow.find(row.status, action, row.level, _role(actor), adjustment=access.pending_adjustment(row)).step
    _check_requirements(step, row, comment=comment, decision_number=decision_number, decision_date=decision_date)
    from_status = row.status
    target = step.target
    if apply is not None:
        target = apply(row, step) or target
    _bump(row)
    row.status = target
    row.updated_at = timezone.now()
    _history_user(row, actor)
    row.save()
    if target == workflow.CANCELLED and from_status in COMMITTED_STATES:
        from funding.services import commitment_release

        released = commitment_release(de_an=row, actor=actor)
        data = {**(data or {}), "released": released}
    transition = Transition.objects.create(
        de_an=row, action=action, from_status=from_status, to_status=target, actor=actor, comment=comment,
        decision_number=decision_number, decision_date=decision_date, data=data or {},
    )
    _transitions_written([row.pk])
    _notify(de_an=row, action=action, actor=actor, roles=step.notify, comment=comment)
    return row, transition


@transaction.atomic
def de_an_submit(*, actor, de_an, comment=""):
    """Centre (or province) staff send a draft or a returned dossier to the Sở. Pre-submission rules apply."""
    return _transition(actor=actor, de_an=de_an, action="submit", comment=comment)[0]


@transaction.atomic
def de_an_forward(*, actor, de_an, comment=""):
    """The Sở sends a KCQG đề án to the ministry's agency."""
    return _transition(actor=actor, de_an=de_an, action="forward", comment=comment)[0]


@transaction.atomic
def de_an_start_appraisal(*, actor, de_an, comment=""):
    return _transition(actor=actor, de_an=de_an, action="start_appraisal", comment=comment)[0]


@transaction.atomic
def de_an_return(*, actor, de_an, comment):
    """Return for revision (comment required); the dossier becomes editable and goes back the same way."""
    return _transition(actor=actor, de_an=de_an, action="return", comment=comment)[0]


@transaction.atomic
def de_an_reject(*, actor, de_an, comment):
    return _transition(actor=actor, de_an=de_an, action="reject", comment=comment)[0]


def _approve_row(*, actor, row, decision_number, decision_date, approved_national_amount, comment):
    def apply(r, step):
        amount = r.national_amount if approved_national_amount is None else _money(
            approved_national_amount, _("Kinh phí khuyến công quốc gia được duyệt"))
        if amount <= 0:
            raise WorkflowError(_("Kinh phí khuyến công quốc gia được duyệt phải lớn hơn 0."), field="amount")
        if amount > r.national_amount:
            raise WorkflowError(
                _("Đề án %(code)s: kinh phí được duyệt %(a)s lớn hơn kinh phí khuyến công quốc gia đề nghị %(r)s.")
                % {"code": r.code, "a": format_dong(amount), "r": format_dong(r.national_amount)}, field="amount")
        r.decision_number = decision_number
        r.decision_date = decision_date
        r.approved_national_amount = amount
        try:
            from funding.services import OverAllocation, commitment_reserve
        except ImportError:  # pragma: no cover - funding app always installed
            return None
        try:
            commitment_reserve(de_an=r, amount=amount, actor=actor)
        except OverAllocation as exc:
            raise WorkflowError(f"{r.code}: {exc}") from exc
        return None

    return _transition(actor=actor, de_an=row, row=row, action="approve", comment=comment,
                       decision_number=decision_number, decision_date=decision_date, apply=apply,
                       data={"approved_national_amount": approved_national_amount})


@transaction.atomic
def de_an_approve(*, actor, de_an, decision_number, decision_date, approved_national_amount=None, comment=""):
    """Approve a KCQG đề án under appraisal: decision number and date, approved national amount
    (default: the national support requested). Commits the money against the province's allocation
    for the plan year in the same transaction (``funding.services.commitment_reserve``); an
    over-allocation refuses the approval."""
    decision_number = _decision_number(decision_number)
    row = _lock(de_an)
    return _approve_row(actor=actor, row=row, decision_number=decision_number, decision_date=decision_date,
                        approved_national_amount=approved_national_amount, comment=comment)[0]


@transaction.atomic
def de_an_approve_many(*, actor, de_an_ids, decision_number, decision_date, comment=""):
    """Approve several đề án under one decision number in one action: all or none. Rows are locked
    in id order (no deadlock between two reviewers). Each gets its requested national amount."""
    decision_number = _decision_number(decision_number)
    ids = sorted({int(i) for i in de_an_ids})
    if not ids:
        raise WorkflowError(_("Chưa chọn đề án nào để phê duyệt."))
    visible = set(access.visible_de_an(actor).filter(pk__in=ids).values_list("pk", flat=True))
    if visible != set(ids):
        raise WorkflowError(_("Có đề án không tồn tại hoặc bạn không có quyền xem; không đề án nào được phê duyệt."))
    rows = list(
        DeAn.objects.select_for_update(of=("self",)).select_related("province", "current_province", "implementing_unit")
        .filter(pk__in=ids).order_by("pk")
    )
    approved, errors = [], []
    for row in rows:
        try:
            with transaction.atomic():
                approved.append(_approve_row(actor=actor, row=row, decision_number=decision_number,
                                             decision_date=decision_date, approved_national_amount=None,
                                             comment=comment)[0])
        except WorkflowError as exc:
            errors.extend(f"{row.code}: {m}" if not m.startswith(row.code) else m for m in exc.messages)
    if errors:
        raise WorkflowError(
            _("Không phê duyệt được %(n)s đề án; chưa đề án nào được phê duyệt.") % {"n": len(errors)},
            [_("Không phê duyệt được %(n)s đề án; chưa đề án nào được phê duyệt.") % {"n": len(errors)}] + errors,
        )
    return approved


@transaction.atomic
def de_an_approve_local(*, actor, de_an, decision_number, decision_date, approved_local_amount=None, comment=""):
    """The Sở records the UBND tỉnh's approval of a KCĐP đề án (its decision number and date)."""
    decision_number = _decision_number(decision_number)
    def apply(r, step):
        if not decision_number or not decision_date:
            raise WorkflowError(_("Cần nhập số và ngày quyết định phê duyệt của UBND tỉnh."))
        amount = r.local_amount if approved_local_amount is None else _money(
            approved_local_amount, _("Kinh phí khuyến công địa phương được duyệt"))
        if amount <= 0:
            raise WorkflowError(_("Kinh phí khuyến công địa phương được duyệt phải lớn hơn 0."), field="amount")
        if amount > r.local_amount:
            raise WorkflowError(_("Kinh phí được duyệt %(a)s lớn hơn kinh phí khuyến công địa phương đề nghị %(r)s.")
                                % {"a": format_dong(amount), "r": format_dong(r.local_amount)}, field="amount")
        r.local_decision_number = decision_number
        r.local_decision_date = decision_date
        r.approved_local_amount = amount
        # Provinces that record their local (KCĐP) allocation in the portal get it committed too;
        # where none is recorded the approval stands on the UBND decision alone.
        from funding.models import Allocation, source_for_level
        from funding.services import OverAllocation, commitment_reserve

        if amount and Allocation.objects.filter(plan__year=r.plan_year, plan__level=r.level,
                                                province=r.current_province, source=source_for_level(r.level)).exists():
            try:
                commitment_reserve(de_an=r, amount=amount, actor=actor)
            except OverAllocation as exc:
                raise WorkflowError(f"{r.code}: {exc}") from exc

    return _transition(actor=actor, de_an=de_an, action="approve_local", comment=comment,
                       decision_number=decision_number, decision_date=decision_date, apply=apply)[0]


@transaction.atomic
def de_an_start_implementation(*, actor, de_an, comment=""):
    return _transition(actor=actor, de_an=de_an, action="start_implementation", comment=comment)[0]


@transaction.atomic
def de_an_request_adjustment(*, actor, de_an, reason, more_money=False, new_content=False, extension=False,
                             stop=False, new_end_date=None, new_amount=None, new_lines=None, new_location="",
                             new_partner_unit=""):
    """Ask to change a đề án in implementation. Major when it adds money, content, extends into the next
    year or stops it; otherwise minor (location, beneficiary, partner, timing within the year).

    ``new_amount`` is the đề án's new support of its own level's source; ``new_lines`` ({budget line id:
    amount}) a revised estimate of that source's lines. Support above the dossier's estimate needs the
    revised estimate, which must keep within the support caps (``_adjustment_money``). ``new_location``
    and ``new_partner_unit`` are minor changes the dossier takes when the adjustment is approved."""
    adjustment_holder = {}
    new_location = _text(new_location, 255).strip()
    new_partner_unit = _text(new_partner_unit, 255).strip()

    def apply(r, step):
        amount = _money(new_amount, _("Kinh phí hỗ trợ đề nghị"), required=False)
        amount, revised = _adjustment_money(r, amount, new_lines)
        if amount is not None:
            _check_not_below_paid(r, amount)
        more = more_money or (amount is not None and amount > (getattr(r, _approved_field(r)) or 0))
        extends = extension or bool(new_end_date and r.end_date and new_end_date.year > r.end_date.year)
        if new_end_date and r.start_date and new_end_date < r.start_date:
            raise WorkflowError(_("Ngày kết thúc mới phải sau ngày bắt đầu."))
        major = more or new_content or extends or stop
        adjustment_holder["obj"] = Adjustment.objects.create(
            de_an=r, kind=AdjustmentKind.MAJOR if major else AdjustmentKind.MINOR, reason=_text(reason, 5000),
            more_money=more, new_content=new_content, extension=extends, stop=stop, new_end_date=new_end_date,
            new_amount=amount, new_lines=revised, new_location=new_location, new_partner_unit=new_partner_unit,
            requested_by=actor, **confirmation,
        )
        # What was asked for, on the timeline (selectors.timeline): the request's own figures.
        data["adjustment"] = {"major": major, "more_money": more, "new_content": new_content, "extension": extends,
                              "stop": stop, "new_end_date": new_end_date.isoformat() if new_end_date else None,
                              "new_amount": amount, "new_lines": list(revised.values()),
                              "new_location": new_location, "new_partner_unit": new_partner_unit}

    data = {}
    # A centre's KCQG request goes to the Sở first (``confirm_adjustment``); the Sở's own, an
    # administrator's and every KCĐP request (the Sở decides those) are confirmed as they are made.
    row = _lock(de_an)
    needs_confirmation = row.level == Level.NATIONAL and _role(actor) == Role.CENTRE
    confirmation = {} if needs_confirmation else {"confirmed_by": actor, "confirmed_at": timezone.now()}
    row, _t = _transition(actor=actor, de_an=row, row=row, action="request_adjustment", comment=reason, apply=apply,
                          data=data)
    if row.level == Level.NATIONAL and not needs_confirmation:
        _notify(de_an=row, action="request_adjustment", actor=actor, roles=(Role.REVIEWER,), comment=reason)
    return adjustment_holder["obj"]


@transaction.atomic
def de_an_confirm_adjustment(*, actor, de_an, comment=""):
    """The Sở Công Thương confirms a centre's KCQG adjustment request and sends it to the Cục, which then
    approves or rejects it (refusing it instead is ``de_an_reject_adjustment`` by the Sở)."""
    def apply(r, step):
        adjustment = _pending_adjustment(r)
        if adjustment.confirmed_at is not None:
            raise WorkflowError(_("Đề nghị điều chỉnh đã được Sở Công Thương xác nhận."))
        adjustment.confirmed_by = actor
        adjustment.confirmed_at = timezone.now()
        adjustment.save(update_fields=["confirmed_by", "confirmed_at"])

    return _transition(actor=actor, de_an=de_an, action="confirm_adjustment", comment=comment, apply=apply)[0]


def _own_source(row):
    """The budget source of the đề án's own level: KCQG money for a national đề án, KCĐP for a local one."""
    return FundingSource.NATIONAL if row.level == Level.NATIONAL else FundingSource.LOCAL


def _own_money(row):
    """«kinh phí KCQG» / «kinh phí KCĐP»: the đề án's own source in a sentence."""
    return _("kinh phí KCQG") if row.level == Level.NATIONAL else _("kinh phí KCĐP")


def _estimate(row):
    """The dossier's estimate of its own source: the sum of those budget lines, checked against the
    support caps when the dossier was sent (``rules.check_budget``)."""
    return row.national_amount if row.level == Level.NATIONAL else row.local_amount


MAX_ADJUSTED_LINES = 500


def _revised_lines(row, new_lines):
    """The đề án's budget lines with the revised amounts applied (unsaved), and the revision as stored on
    the adjustment: {"<id>": {"amount", "was", "description"}} for the lines whose amount changes."""
    lines = list(BudgetLine.objects.filter(de_an=row).select_related("support_cap", "establishment")
                 .order_by("order", "id"))
    by_pk = {line.pk: line for line in lines}
    source = _own_source(row)
    revised, errors = {}, []
    if len(new_lines) > MAX_ADJUSTED_LINES:
        raise WorkflowError(_("Dự toán điều chỉnh có quá nhiều dòng."))
    for key, value in new_lines.items():
        try:
            line = by_pk.get(int(key))
        except (TypeError, ValueError):
            line = None
        if line is None or line.source != source:
            errors.append(_("Dự toán điều chỉnh có dòng không phải dòng %(s)s của đề án này.")
                          % {"s": _own_money(row)})
            continue
        try:
            amount = _money(value, _("Dự toán điều chỉnh, dòng «%(d)s»") % {"d": line.description})
        except WorkflowError as exc:
            errors.append(str(exc))
            continue
        if amount != line.amount:
            revised[str(line.pk)] = {"amount": amount, "was": line.amount, "description": line.description}
            line.amount = amount
    if errors:
        raise WorkflowError(errors[0], errors)
    return lines, revised


def _adjustment_money(row, amount, new_lines):
    """The adjusted support amount and the revised estimate, checked: support above the dossier's
    estimate of the đề án's own source needs a revised estimate that covers it; a revised estimate of
    KCQG money keeps within the national support caps (TT 28), as the dossier had to. Returns
    (amount, revised); ``amount`` defaults to the revised estimate's total when only lines are given."""
    revised = {}
    estimate = _estimate(row)
    source = _own_source(row)
    if new_lines:
        lines, revised = _revised_lines(row, new_lines)
        if revised:
            estimate = sum(line.amount for line in lines if line.source == source)
            if amount is None:
                amount = estimate
            if estimate <= 0:
                raise WorkflowError(_("Dự toán điều chỉnh phải còn %(s)s lớn hơn 0.")
                                    % {"s": _own_money(row)}, field="amount")
            if row.level == Level.NATIONAL:
                errors = check_caps(row, lines)
                if errors:
                    raise WorkflowError(
                        _("Dự toán điều chỉnh vượt định mức hỗ trợ: %(e)s") % {"e": errors[0]},
                        [_("Dự toán điều chỉnh vượt định mức hỗ trợ: %(e)s") % {"e": e} for e in errors],
                        field="amount")
    if amount is not None and amount > estimate:
        if revised:
            raise WorkflowError(
                _("Kinh phí hỗ trợ mới %(new)s lớn hơn tổng %(s)s của dự toán điều chỉnh (%(est)s).")
                % {"new": format_dong(amount), "est": format_dong(estimate), "s": _own_money(row)},
                field="amount")
        raise WorkflowError(
            _("Kinh phí hỗ trợ mới %(new)s lớn hơn %(s)s trong dự toán của đề án (%(est)s), là mức đã "
              "được kiểm tra theo định mức hỗ trợ. Muốn hỗ trợ nhiều hơn, hãy ghi dự toán điều chỉnh cho từng "
              "dòng kinh phí (mục «Dự toán điều chỉnh») để kiểm tra lại theo định mức.")
            % {"new": format_dong(amount), "est": format_dong(estimate), "s": _own_money(row)},
            field="amount")
    return amount, revised


def _apply_revised_lines(row, revision, actor):
    """Write an approved revised estimate to the budget lines (each change in the lines' history) and
    the đề án's totals. The lines are read again and checked again (``_adjustment_money``) first."""
    if not revision:
        return
    amounts = {int(pk): item["amount"] for pk, item in revision.items()}
    for line in BudgetLine.objects.filter(de_an=row, pk__in=amounts):
        line.amount = amounts[line.pk]
        _history_user(line, actor).save()
    _recompute_totals(row)


def _approved_field(row):
    """The đề án's approved support amount of its own level's source (KCQG or KCĐP money)."""
    return "approved_national_amount" if row.level == Level.NATIONAL else "approved_local_amount"


def _check_not_below_paid(row, amount):
    from funding.services import paid_amount

    paid = paid_amount(row)
    if amount < paid:
        raise WorkflowError(
            _("Kinh phí hỗ trợ mới %(new)s thấp hơn số đã giải ngân %(paid)s cho đề án; không thể điều chỉnh "
              "xuống dưới số đã chi.") % {"new": format_dong(amount), "paid": format_dong(paid)})


def _pending_adjustment(row):
    adjustment = Adjustment.objects.filter(de_an=row, status=AdjustmentStatus.PENDING).first()
    if adjustment is None:
        raise WorkflowError(_("Đề án không có đề nghị điều chỉnh nào đang chờ xử lý."))
    return adjustment


@transaction.atomic
def de_an_approve_adjustment(*, actor, de_an, decision_number="", decision_date=None, comment=""):
    """Approve the pending adjustment. A major one needs the Minister's decision number (KCQG) or the
    UBND tỉnh's (KCĐP). A stop cancels the đề án; more money is committed against the allocation."""
    decision_number = _decision_number(decision_number)
    def apply(r, step):
        adjustment = _pending_adjustment(r)
        if adjustment.is_major and not (decision_number and decision_date):
            who = _("Bộ trưởng Bộ Công Thương") if r.level == Level.NATIONAL else _("UBND tỉnh")
            raise WorkflowError(
                _("Điều chỉnh lớn (tăng kinh phí, bổ sung nội dung, kéo dài sang năm sau hoặc dừng thực hiện) "
                  "cần số và ngày quyết định của %(who)s.") % {"who": who})
        target = None
        if adjustment.stop:
            target = workflow.CANCELLED
        if adjustment.new_end_date:
            r.end_date = adjustment.new_end_date
        if adjustment.new_location or adjustment.new_partner_unit:
            r.location = adjustment.new_location or r.location
            r.partner_unit = adjustment.new_partner_unit or r.partner_unit
            names = DeAnBeneficiary.objects.filter(de_an=r).values_list("establishment__name", flat=True)
            r.search_text = search_text_for(r, list(names))
        if adjustment.new_amount is not None and not adjustment.stop:
            # The new support amount of the đề án's own source (KCQG or KCĐP): the commitment against
            # the allocation follows it both ways, never below what has been paid out (the đề án row
            # is locked, as a disbursement locks it). The estimate and the caps are checked again: the
            # caps or the lines may have changed since the request.
            from funding.services import OverAllocation, commitment_set

            asked = {pk: item["amount"] for pk, item in (adjustment.new_lines or {}).items()}
            _amount, revision = _adjustment_money(r, adjustment.new_amount, asked)
            _check_not_below_paid(r, adjustment.new_amount)
            _apply_revised_lines(r, revision, actor)
            try:
                commitment_set(de_an=r, amount=adjustment.new_amount, actor=actor)
            except OverAllocation as exc:
                raise WorkflowError(str(exc)) from exc
            setattr(r, _approved_field(r), adjustment.new_amount)
        adjustment.status = AdjustmentStatus.APPROVED
        adjustment.decided_by = actor
        adjustment.decided_at = timezone.now()
        adjustment.decision_number = decision_number
        adjustment.decision_date = decision_date
        adjustment.save()
        return target

    return _transition(actor=actor, de_an=de_an, action="approve_adjustment", comment=comment,
                       decision_number=decision_number, decision_date=decision_date, apply=apply)[0]


@transaction.atomic
def de_an_reject_adjustment(*, actor, de_an, comment):
    def apply(r, step):
        adjustment = _pending_adjustment(r)
        adjustment.status = AdjustmentStatus.REJECTED
        adjustment.decided_by = actor
        adjustment.decided_at = timezone.now()
        adjustment.save()

    return _transition(actor=actor, de_an=de_an, action="reject_adjustment", comment=comment, apply=apply)[0]


@transaction.atomic
def de_an_accept(*, actor, de_an, accepted_on, comment=""):
    """Record the acceptance (nghiệm thu): its date; the minutes must be attached first
    (attachment of kind "acceptance_minutes")."""
    def apply(r, step):
        if not accepted_on:
            raise WorkflowError(_("Cần nhập ngày nghiệm thu."))
        if r.start_date and accepted_on < r.start_date:
            raise WorkflowError(_("Ngày nghiệm thu không được trước ngày bắt đầu đề án."), field="accepted_on")
        if accepted_on > timezone.localdate():
            raise WorkflowError(_("Ngày nghiệm thu không được sau ngày hôm nay."), field="accepted_on")
        too_early = _refused_before(r, accepted_on, "accepted_on", action="accept")
        if too_early:
            raise WorkflowError(too_early, field="accepted_on")
        if not Attachment.objects.filter(de_an=r, kind=AttachmentKind.ACCEPTANCE_MINUTES).exists():
            raise WorkflowError(_("Cần đính kèm biên bản nghiệm thu trước khi ghi nhận nghiệm thu."))
        r.accepted_on = accepted_on

    return _transition(actor=actor, de_an=de_an, action="accept", comment=comment, apply=apply,
                       data={"accepted_on": accepted_on.isoformat() if accepted_on else None})[0]


@transaction.atomic
def de_an_settle(*, actor, de_an, settled_amount, settled_on=None, settlement_document, comment=""):
    """Record the settlement (quyết toán): the settled support amount, at most what was approved, its
    date ``settled_on`` (default today; a settlement recorded late keeps its real date): not in the
    future, not before the acceptance date, and the number of the settlement document
    (``settlement_document``, required, at most 50 characters). The one writer of the settlement: in
    the same transaction it records the đề án's settlement row on the funding side
    (``funding.services.settlement_record``: same amount, date and number, and its audit event);
    refused when a settlement row not voided already exists."""
    def apply(r, step):
        amount = _money(settled_amount, _("Kinh phí quyết toán"))
        approved = (r.approved_national_amount if r.level == Level.NATIONAL else r.approved_local_amount)
        if approved is not None and amount > approved:
            raise WorkflowError(_("Kinh phí quyết toán %(a)s lớn hơn kinh phí được duyệt %(b)s.")
                                % {"a": format_dong(amount), "b": format_dong(approved)}, field="amount")
        today = timezone.localdate()
        day = settled_on or today
        if day > today:
            raise WorkflowError(_("Ngày quyết toán %(d)s không được sau ngày hôm nay.") % {"d": format_date(day)},
                                field="settled_on")
        if r.accepted_on and day < r.accepted_on:
            raise WorkflowError(_("Ngày quyết toán %(d)s không được trước ngày nghiệm thu %(a)s.")
                                % {"d": format_date(day), "a": format_date(r.accepted_on)}, field="settled_on")
        too_early = _refused_before(r, day, "settled_on", action="settle")
        if too_early:
            raise WorkflowError(too_early, field="settled_on")
        document = " ".join(nfc(settlement_document or "").split())
        if not document:
            raise WorkflowError(_("Cần nhập số văn bản quyết toán."), field="settlement_document")
        if len(document) > SETTLEMENT_DOCUMENT_MAX:
            raise WorkflowError(_("Số văn bản quyết toán dài quá %(n)s ký tự.") % {"n": SETTLEMENT_DOCUMENT_MAX},
                                field="settlement_document")
        from funding.services import DisbursementRefused, settlement_record

        try:
            settlement_record(actor=actor, de_an=r, amount=amount, date=day, document_number=document)
        except DisbursementRefused as exc:
            raise WorkflowError(str(exc)) from exc
        r.settled_amount = amount
        r.settled_on = day
        data["settled_on"] = day.isoformat()
        data["settlement_document"] = document

    data = {}
    return _transition(actor=actor, de_an=de_an, action="settle", comment=comment, apply=apply, data=data)[0]


SETTLEMENT_DOCUMENT_MAX = 50


@transaction.atomic
def de_an_cancel(*, actor, de_an, comment):
    return _transition(actor=actor, de_an=de_an, action="cancel", comment=comment)[0]


TRANSITION_SERVICES = {
    "submit": de_an_submit, "forward": de_an_forward, "start_appraisal": de_an_start_appraisal,
    "return": de_an_return, "approve": de_an_approve, "reject": de_an_reject, "approve_local": de_an_approve_local,
    "start_implementation": de_an_start_implementation, "request_adjustment": de_an_request_adjustment,
    "confirm_adjustment": de_an_confirm_adjustment, "approve_adjustment": de_an_approve_adjustment, "reject_adjustment": de_an_reject_adjustment,
    "accept": de_an_accept, "settle": de_an_settle, "cancel": de_an_cancel,
}


# --- recording an already-approved đề án (funding's plan-annex import) ---------------------------

_LEGAL_FORM_HINTS = (
    ("lien hiep hop tac xa", LegalForm.COOPERATIVE_UNION), ("htx", LegalForm.COOPERATIVE),
    ("hop tac xa", LegalForm.COOPERATIVE), ("to hop tac", LegalForm.COOPERATIVE_GROUP),
    ("ho kinh doanh", LegalForm.HOUSEHOLD_BUSINESS), ("hkd", LegalForm.HOUSEHOLD_BUSINESS),
    ("co so", LegalForm.HOUSEHOLD_BUSINESS), ("lang nghe", LegalForm.CRAFT_VILLAGE),
    ("nghe nhan", LegalForm.ARTISAN),
)


def guess_legal_form(name):
    folded = fold_words(name)
    for hint, form in _LEGAL_FORM_HINTS:
        if folded.startswith(hint) or f" {hint} " in f" {folded} ":
            return form
    return LegalForm.SME


class _Lookups:
    """Reference lookups for recording approved đề án, cached for one import (organisations of a
    province, the activity-content catalogue, programmes, establishments by folded name). Folded
    texts and answers are memoised: an annex repeats the same units and contents on many rows."""

    def __init__(self):
        self._orgs = {}
        self._catalogue = None
        self._programmes = None
        self._establishments = {}
        self._folded = {}
        self._units = {}
        self._contents = {}

    def fold(self, text):
        folded = self._folded.get(text)
        if folded is None:
            folded = fold_words(text)
            if len(self._folded) < 200_000:
                self._folded[text] = folded
        return folded

    def preload(self, provinces, beneficiary_names):
        ids = set()
        for province in provinces:
            ids.update({province.pk, province.current.pk})
        for org in Organisation.objects.filter(province_id__in=ids):
            self._orgs.setdefault(org.province_id, []).append(org)
        for pid in ids:
            self._orgs.setdefault(pid, [])
        folded = {self.fold(n) for n in beneficiary_names if n}
        if folded:
            for names in _chunks(sorted(folded)):
                for est in Establishment.objects.filter(search_name__in=names, province_id__in=ids).order_by("id"):
                    self._establishments.setdefault((est.search_name, est.province_id), est)

    def organisations(self, province_id):
        if province_id not in self._orgs:
            self._orgs[province_id] = list(Organisation.objects.filter(province_id=province_id))
        return self._orgs[province_id]

    def unit(self, name, province):
        """An Organisation of the province (either era) whose folded name matches ``name``."""
        key = self.fold(name)
        if not key:
            return None
        memo = (key, province.pk)
        if memo in self._units:
            return self._units[memo]
        candidates = self.organisations(province.pk) + (
            self.organisations(province.current.pk) if province.current.pk != province.pk else [])
        found = next((org for org in candidates if self.fold(org.name) == key), None)
        if found is None:
            for org in candidates:
                folded = self.fold(org.name)
                if key in folded or folded in key:
                    found = org
                    break
        self._units[memo] = found
        return found

    def contents(self, text, day):
        """Activity contents named in ``text``: by leading code ("1.2 …") or folded name."""
        memo = (text, day)
        if memo not in self._contents:
            self._contents[memo] = self._find_contents(text, day)
        return self._contents[memo]

    def _find_contents(self, text, day):
        key = self.fold(text)
        if not key:
            return []
        if self._catalogue is None:
            self._catalogue = list(ActivityContent.objects.all())
        catalogue = [c for c in self._catalogue
                     if (c.valid_from is None or c.valid_from <= day) and (c.valid_to is None or c.valid_to >= day)]
        match = re.match(r"^\s*(\d+(?:\.\d+)?)\b", text or "")
        if match:
            found = [c for c in catalogue if c.code == match.group(1)]
            if found:
                return found[:1]
        return [c for c in catalogue if self.fold(c.name) == key or (len(key) > 15 and key in self.fold(c.name))][:1]

    def programme(self, year):
        if self._programmes is None:
            from khuyencong.models import Programme

            self._programmes = list(Programme.objects.all())
        return next((p for p in self._programmes if p.start_year <= year <= p.end_year), None)

    def establishment(self, name, province):
        key = self.fold(name)
        for pid in (province.pk, province.current.pk):
            est = self._establishments.get((key, pid))
            if est is not None:
                return est
        return None

    def remember_establishment(self, est):
        self._establishments.setdefault((est.search_name, est.province_id), est)


RECORD_FIELDS = (
    "plan_year", "level", "province", "name", "implementing_unit_name", "beneficiary_name", "contents_text",
    "location", "start_date", "end_date", "total_amount", "national_amount", "local_amount", "counterpart_amount",
    "decision_number", "decision_date", "source_ref",
)


_LEVELS = frozenset(Level.values)
# Translated only when a message needs them (gettext per row and field was 5 % of a big import).
_LABEL_NATIONAL = gettext_lazy("Kinh phí khuyến công quốc gia")
_LABEL_LOCAL = gettext_lazy("Kinh phí khuyến công địa phương")
_LABEL_COUNTERPART = gettext_lazy("Vốn đối ứng")
_LABEL_TOTAL = gettext_lazy("Tổng kinh phí")


def _prepare_record(values, lookups):
    """Validate one plan-annex row and work out what the đề án must look like."""
    source_ref = values["source_ref"]
    level, province, plan_year = values["level"], values["province"], values["plan_year"]
    start_date, end_date = values["start_date"], values["end_date"]
    if not source_ref:
        raise WorkflowError(_("Thiếu khóa nguồn (source_ref) của dòng kế hoạch."))
    if level not in _LEVELS:
        raise WorkflowError(_("Cấp đề án không hợp lệ."))
    if not isinstance(province, Province):
        raise WorkflowError(_("Không xác định được tỉnh, thành phố của đề án."))
    name = _text(values["name"], 500)
    if not name:
        raise WorkflowError(_("Chưa có tên đề án."))
    if start_date and end_date and end_date < start_date:
        raise WorkflowError(_("Ngày kết thúc phải sau ngày bắt đầu."))
    amounts = {
        FundingSource.NATIONAL: _money(values["national_amount"] or 0, _LABEL_NATIONAL),
        FundingSource.LOCAL: _money(values["local_amount"] or 0, _LABEL_LOCAL),
        FundingSource.COUNTERPART: _money(values["counterpart_amount"] or 0, _LABEL_COUNTERPART),
    }
    total = _money(values["total_amount"], _LABEL_TOTAL, required=False)
    parts = sum(amounts.values())
    if total is None:
        total = parts
    if total < parts:
        raise WorkflowError(_("Tổng kinh phí %(t)s nhỏ hơn tổng các nguồn %(p)s.")
                            % {"t": format_dong(total), "p": format_dong(parts)})
    amounts[FundingSource.OTHER] = total - parts
    decision_number = _text(values["decision_number"], 50)
    decision_date = values["decision_date"]
    unit_name = _text(values["implementing_unit_name"], 255)
    unit = lookups.unit(unit_name, province)
    contents = lookups.contents(values["contents_text"], start_date or date(int(plan_year), 1, 1))
    wanted = {
        "name": name, "level": level, "plan_year": int(plan_year), "province_id": province.pk,
        "current_province_id": province.current.pk, "implementing_unit_id": unit.pk if unit else None,
        "implementing_unit_name": unit_name, "location": _text(values["location"], 255), "start_date": start_date,
        "end_date": end_date, "decision_number": decision_number, "decision_date": decision_date,
        "approved_national_amount": amounts[FundingSource.NATIONAL] if level == Level.NATIONAL else None,
        "approved_local_amount": amounts[FundingSource.LOCAL] if level == Level.LOCAL else None,
        "local_decision_number": decision_number if level == Level.LOCAL else "",
        "local_decision_date": decision_date if level == Level.LOCAL else None,
    }
    return {
        "source_ref": source_ref, "province": province, "unit": unit, "wanted": wanted, "amounts": amounts,
        "content": contents[0] if contents else None,
        "line_text": _text(values["contents_text"], 500) or name,
        "wanted_lines": sorted((src, amount) for src, amount in amounts.items() if amount),
        "beneficiary_name": _text(values["beneficiary_name"], 255),
        "decision_number": decision_number, "decision_date": decision_date,
    }


def _bulk_insert(model, objs, batch_size=1000):
    """Insert new model instances; their primary keys are set. PostgreSQL: the keys are reserved
    from the table's sequence in one query and the rows go in by COPY (Django's bulk_create compiles
    every value of every row: most of the time of a big import); elsewhere ``bulk_create``."""
    from django.db import connection

    if not objs:
        return objs
    if connection.vendor != "postgresql":
        return model.objects.bulk_create(objs, batch_size=batch_size)
    meta = model._meta
    fields = meta.concrete_fields
    missing = [obj for obj in objs if obj.pk is None]
    with connection.cursor() as cursor:
        if missing:
            # The sequence looked up once, not per row (7× faster than nextval(pg_get_serial_sequence(…))).
            cursor.execute("SELECT nextval(q.seq) FROM (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq OFFSET 0) q "
                           "CROSS JOIN generate_series(1, %s)", [meta.db_table, meta.pk.column, len(missing)])
            for obj, (pk,) in zip(missing, cursor.fetchall(), strict=True):
                obj.pk = pk
        now = timezone.now()
        now_text = now.isoformat()
        stamped = [f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
        # Foreign keys by attname (``de_an_id``), set by the callers; a tuple of the row's values in one call.
        values_of = operator.itemgetter(*[f.attname for f in fields])
        if len(fields) == 1:
            values_of = (lambda get: lambda state: (get(state),))(values_of)
        memo = {}

        def convert(value):
            """copy_text, memoised per (type, value): the same dates, stamps and choices repeat on every row."""
            key = (type(value), value)
            try:
                return memo[key]
            except KeyError:
                text = memo[key] = copy_text(value)
                return text
            except TypeError:  # unhashable: a JSON dict or list
                return copy_text(value)

        def lines():
            for obj in objs:
                state = obj.__dict__
                for name in stamped:
                    state[name] = now
                yield "\t".join([
                    v if type(v) is str and v.isprintable() and "\\" not in v
                    else (str(v) if type(v) is int else ("\\N" if v is None else (now_text if v is now else convert(v))))
                    for v in values_of(state)
                ])

        # Streamed: the server checks and indexes each chunk while the next is built.
        quote = connection.ops.quote_name
        copy_lines(cursor, quote(meta.db_table), [quote(f.column) for f in fields], lines())
    alias = connection.alias  # once: the connection proxy costs a thread-local lookup per access
    for obj in objs:
        state = obj._state
        state.adding = False
        state.db = alias
    return objs


class _Maker:
    """New unsaved instances without ``Model.__init__`` (a third of the Python time of a large
    import): the model's static defaults, then the given column values (attnames: ``de_an_id``)."""

    def __init__(self, model, **fixed):
        from django.db.models.base import ModelState

        self.model = model
        self.state_class = ModelState
        self.base = {}
        for f in model._meta.concrete_fields:
            if f.primary_key:
                self.base[f.attname] = None
            elif f.has_default() and callable(f.default):
                continue  # must be given (e.g. a JSON dict, a timestamp): checked below
            else:
                self.base[f.attname] = f.get_default()  # "" for a blank text field, None …
        self.base.update(fixed)
        self.required = {f.attname for f in model._meta.concrete_fields} - set(self.base)

    def __call__(self, **values):
        obj = self.model.__new__(self.model)
        obj._state = self.state_class()
        state = obj.__dict__
        state.update(self.base)
        state.update(values)
        if self.required and not self.required <= values.keys():
            raise TypeError(f"{self.model.__name__}: missing {sorted(self.required - values.keys())}")
        return obj


def _history_rows(model, objs, history_type, *, user, date):
    """Historical rows for ``objs`` like simple-history's ``bulk_history_create`` (which only knows
    "+" and "~"), for any history type; not saved. Built without ``Model.__init__`` (every column is
    given here), which is a third of the Python time of a large import."""
    from django.db.models.base import ModelState

    history = model.history.model
    fields = [f.attname for f in history.tracked_fields]
    expected = {f.attname for f in history._meta.concrete_fields}
    fixed = {"history_id": None, "history_date": date, "history_user_id": user.pk if user is not None else None,
             "history_change_reason": None, "history_type": history_type}
    assert expected == set(fields) | set(fixed), expected ^ (set(fields) | set(fixed))
    rows = []
    new = history.__new__
    for obj in objs:
        row = new(history)
        row._state = ModelState()
        state = row.__dict__
        state.update(fixed)
        source = obj.__dict__
        for name in fields:
            state[name] = source[name]
        rows.append(row)
    return rows


def _chunks(items, size=5000):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _allocate_codes(prefix_counts):
    """Reserve ``n`` consecutive sequence numbers per prefix in one locked step: a single
    ``INSERT … ON CONFLICT (prefix) DO UPDATE SET last = last + n RETURNING`` (PostgreSQL and SQLite
    ≥ 3.35). The rows stay locked until commit, so concurrent importers queue and never share a number."""
    if not prefix_counts:
        return {}
    from django.db import connection

    table = connection.ops.quote_name(CodeSequence._meta.db_table)
    items = sorted(prefix_counts.items())  # one lock order for every importer: no deadlock
    values = ", ".join(["(%s, %s)"] * len(items))
    params = [v for item in items for v in item]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (prefix, last) VALUES {values} ON CONFLICT (prefix) DO UPDATE "
            f"SET last = {table}.last + excluded.last RETURNING prefix, last",
            params,
        )
        lasts = dict(cursor.fetchall())
    return {prefix: [f"{prefix}-{number:04d}" for number in range(lasts[prefix] - n + 1, lasts[prefix] + 1)]
            for prefix, n in items}


@transaction.atomic
def de_an_record_approved(*, actor, plan_year, level, province, name, implementing_unit_name, beneficiary_name,
                          contents_text, location, start_date, end_date, total_amount, national_amount, local_amount,
                          counterpart_amount, decision_number, decision_date, source_ref):
    """Record a đề án already approved in the Minister's (or UBND's) plan annex; idempotent on
    ``source_ref``. Returns ``(de_an, action)`` with action "created", "updated" or "unchanged".
    Amounts are integer đồng (or Vietnamese text). ``actor`` None means a system import; otherwise it
    must be a reviewer or administrator. Runs inside the caller's transaction.
    This is ``de_an_record_approved_many`` with one row (same writes, same history)."""
    values = {
        "plan_year": plan_year, "level": level, "province": province, "name": name,
        "implementing_unit_name": implementing_unit_name, "beneficiary_name": beneficiary_name,
        "contents_text": contents_text, "location": location, "start_date": start_date, "end_date": end_date,
        "total_amount": total_amount, "national_amount": national_amount, "local_amount": local_amount,
        "counterpart_amount": counterpart_amount, "decision_number": decision_number,
        "decision_date": decision_date, "source_ref": source_ref,
    }
    try:
        return de_an_record_approved_many(actor=actor, rows=[values])[0]
    except RecordError as exc:
        raise WorkflowError(str(exc)) from exc


class RecordError(WorkflowError):
    """A refused row of ``de_an_record_approved_many``; ``index`` is its position in ``rows``."""

    def __init__(self, message, index):
        self.index = index
        super().__init__(message)


_DE_AN_WRITE_FIELDS = (
    "total_amount", "national_amount", "local_amount", "counterpart_amount", "other_amount", "search_text",
    "revision", "updated_at",
)


@transaction.atomic
def de_an_record_approved_many(*, actor, rows):
    """``de_an_record_approved`` for many plan-annex rows at once, set-based: a fixed number of
    queries whatever the number of rows (beyond the batching of large inserts).

    Reads: existing đề án by ``source_ref`` (locked), their budget lines and contents, organisations
    of the provinces, establishments by folded name, the activity-content catalogue and programmes.
    Writes: code numbers reserved in one locked statement per import, then one insert per table
    (``_bulk_insert``: COPY on PostgreSQL, ``bulk_create`` elsewhere) of the new đề án, their history
    rows (with the ``contents`` M2M snapshot), new establishments, M2M rows, budget lines,
    beneficiaries (each with history) and Transition rows; ``bulk_update`` of the changed đề án with a
    "~" history row each, replaced budget lines with "-"/"+" history. The rows and history are the
    same as recording the rows one at a time (tests/projects/test_record_approved_bulk.py).

    ``rows``: dicts with the keyword arguments of ``de_an_record_approved`` except ``actor``.
    Returns ``[(de_an, action), …]`` in the order of ``rows``; action "created", "updated" or
    "unchanged". A refused row raises ``RecordError`` (its ``index``) and nothing is written."""
    if actor is not None:
        _require(access.can(actor, "de_an.import_approved", None))
    rows = list(rows)
    if not rows:
        return []
    lookups = _Lookups()
    lookups.preload({r["province"] for r in rows if isinstance(r.get("province"), Province)},
                    [r.get("beneficiary_name") for r in rows])
    specs = []
    seen = set()
    for index, values in enumerate(rows):
        missing = set(RECORD_FIELDS) - set(values)
        if missing:
            raise TypeError(f"row {index}: missing {sorted(missing)}")
        try:
            spec = _prepare_record(values, lookups)
        except WorkflowError as exc:
            raise RecordError(str(exc), index) from exc
        if spec["source_ref"] in seen:
            raise RecordError(_("Khóa nguồn %(r)s xuất hiện hai lần.") % {"r": spec["source_ref"]}, index)
        seen.add(spec["source_ref"])
        specs.append(spec)

    existing = {}
    for refs in _chunks([s["source_ref"] for s in specs]):
        for d in DeAn.objects.select_for_update(of=("self",)).filter(source_ref__in=refs):
            existing[d.source_ref] = d
    existing_lines = {}
    if existing:
        for ids in _chunks([d.pk for d in existing.values()]):
            for line in BudgetLine.objects.filter(de_an_id__in=ids).order_by("id"):
                existing_lines.setdefault(line.de_an_id, []).append(line)

    now = timezone.now()
    results = [None] * len(specs)
    new, updates = [], []
    for index, spec in enumerate(specs):
        row = existing.get(spec["source_ref"])
        if row is None:
            new.append((index, spec))
            continue
        wanted = spec["wanted"]
        changed = [k for k, v in wanted.items() if getattr(row, k) != v]
        lines_changed = sorted((ln.source, ln.amount) for ln in existing_lines.get(row.pk, [])) != spec["wanted_lines"]
        if not changed and not lines_changed:
            results[index] = (row, "unchanged")
            continue
        updates.append((index, spec, row, changed, lines_changed))

    # --- new đề án --------------------------------------------------------------------------
    objs = []
    if new:
        counts = {}
        prefixes = []
        for _i, spec in new:
            w = spec["wanted"]
            prefix = code_prefix(w["level"], w["plan_year"], spec["province"].code)
            prefixes.append(prefix)
            counts[prefix] = counts.get(prefix, 0) + 1
        codes = _allocate_codes(counts)
        taken = set()
        for chunk in _chunks([c for cs in codes.values() for c in cs]):
            taken.update(DeAn.objects.filter(code__in=chunk).values_list("code", flat=True))
        position = dict.fromkeys(codes, 0)
        new_de_an = _Maker(DeAn, status=Status.APPROVED, kind=Kind.ORDINARY, created_by_id=actor.pk if actor else None,
                           created_at=now, updated_at=now, search_text="")
        for (_i, spec), prefix in zip(new, prefixes, strict=True):
            w = spec["wanted"]
            code = codes[prefix][position[prefix]]
            position[prefix] += 1
            if code in taken:  # a code written by hand outside the sequence
                code = next_code(level=w["level"], plan_year=w["plan_year"], province_code=spec["province"].code)
            amounts = spec["amounts"]
            programme = lookups.programme(w["plan_year"])
            obj = new_de_an(source_ref=spec["source_ref"], code=code, programme_id=programme.pk if programme else None,
                            total_amount=sum(amounts.values()), national_amount=amounts[FundingSource.NATIONAL],
                            local_amount=amounts[FundingSource.LOCAL],
                            counterpart_amount=amounts[FundingSource.COUNTERPART],
                            other_amount=amounts[FundingSource.OTHER], **w)
            # Through the descriptors: search_text_for reads the names without a query.
            obj.province = spec["province"]
            obj.current_province = spec["province"].current
            obj.implementing_unit = spec["unit"]
            obj.search_text = search_text_for(obj, [spec["beneficiary_name"]] if spec["beneficiary_name"] else [])
            objs.append(obj)
        _bulk_insert(DeAn, objs)

    # --- changed đề án ----------------------------------------------------------------------
    changed_rows = []
    for _i, spec, row, changed, _lines_changed in updates:
        for key in changed:
            setattr(row, key, spec["wanted"][key])
        amounts = spec["amounts"]
        row.national_amount = amounts[FundingSource.NATIONAL]
        row.local_amount = amounts[FundingSource.LOCAL]
        row.counterpart_amount = amounts[FundingSource.COUNTERPART]
        row.other_amount = amounts[FundingSource.OTHER]
        row.total_amount = sum(amounts.values())
        # The wanted ids are set above; the objects (already loaded) save a query per row in search_text_for.
        row.province, row.current_province = spec["province"], spec["province"].current
        row.implementing_unit = spec["unit"]
        row.search_text = search_text_for(row, [spec["beneficiary_name"]] if spec["beneficiary_name"] else [])
        row.revision += 1
        row.updated_at = now
        changed_rows.append(row)
    if changed_rows:
        fields = sorted({k.removesuffix("_id") for *_x, changed, _l in updates for k in changed}
                        | set(_DE_AN_WRITE_FIELDS))
        DeAn.objects.bulk_update(changed_rows, fields, batch_size=500)

    # --- history of the đề án, with the contents snapshot -----------------------------------
    through_model = DeAn.contents.through
    through = []
    new_through = _Maker(through_model)  # without Model.__init__, as the other new rows here
    for (_i, spec), obj in zip(new, objs, strict=True):
        if spec["content"] is not None:
            through.append(new_through(dean_id=obj.pk, activitycontent_id=spec["content"].pk))
    _bulk_insert(through_model, through)
    snapshot = {}
    for link in through:
        snapshot.setdefault(link.dean_id, []).append(link)
    for ids in _chunks([row.pk for row in changed_rows]):
        for link in through_model.objects.filter(dean_id__in=ids).order_by("id"):
            snapshot.setdefault(link.dean_id, []).append(link)
    history_model = DeAn.history.model
    history = _bulk_insert(history_model, _history_rows(DeAn, objs, "+", user=actor, date=now)
                           + _history_rows(DeAn, changed_rows, "~", user=actor, date=now))
    m2m_history = _m2m_history_model()
    m2m_rows = []
    new_m2m = _Maker(m2m_history)
    for record in history:
        for link in snapshot.get(record.id, ()):
            m2m_rows.append(new_m2m(id=link.id, dean_id=link.dean_id, activitycontent_id=link.activitycontent_id,
                                    history_id=record.history_id))
    _bulk_insert(m2m_history, m2m_rows)

    # --- beneficiaries: reuse by folded name in the province, create the rest once ----------
    new_ests = []
    new_establishment = _Maker(Establishment, created_at=now, updated_at=now)
    for _i, spec in new:
        name = spec["beneficiary_name"]
        if name and lookups.establishment(name, spec["province"]) is None:
            est = new_establishment(name=name, search_name=lookups.fold(name), legal_form=guess_legal_form(name),
                                    province_id=spec["province"].pk)
            lookups.remember_establishment(est)
            new_ests.append(est)
    _bulk_insert(Establishment, new_ests)

    # --- budget lines, beneficiary links, transitions ----------------------------------------
    lines, links, transitions, dropped = [], [], [], []
    actor_id = actor.pk if actor is not None else None
    new_line = _Maker(BudgetLine)
    new_link = _Maker(DeAnBeneficiary, order=1)
    new_transition = _Maker(Transition, action="import_approved", actor_id=actor_id, at=now, comment="")
    for (index, spec), obj in zip(new, objs, strict=True):
        content_id = spec["content"].pk if spec["content"] is not None else None
        for order, (source, amount) in enumerate(spec["wanted_lines"], start=1):
            lines.append(new_line(de_an_id=obj.pk, order=order, description=spec["line_text"], source=source,
                                  amount=amount, content_id=content_id))
        if spec["beneficiary_name"]:
            est = lookups.establishment(spec["beneficiary_name"], spec["province"])
            links.append(new_link(de_an_id=obj.pk, establishment_id=est.pk))
        transitions.append(new_transition(
            de_an_id=obj.pk, from_status="", to_status=Status.APPROVED, decision_number=spec["decision_number"],
            decision_date=spec["decision_date"],
            data={"source_ref": spec["source_ref"], "result": "created", "changed": [], "lines_changed": True},
        ))
        results[index] = (obj, "created")
    for index, spec, row, changed, lines_changed in updates:
        if lines_changed:
            dropped.extend(existing_lines.get(row.pk, []))
            content_id = spec["content"].pk if spec["content"] is not None else None
            for order, (source, amount) in enumerate(spec["wanted_lines"], start=1):
                lines.append(new_line(de_an_id=row.pk, order=order, description=spec["line_text"], source=source,
                                      amount=amount, content_id=content_id))
        transitions.append(new_transition(
            de_an_id=row.pk, from_status=row.status, to_status=row.status, decision_number=spec["decision_number"],
            decision_date=spec["decision_date"],
            data={"source_ref": spec["source_ref"], "result": "updated", "changed": changed,
                  "lines_changed": lines_changed},
        ))
        results[index] = (row, "updated")
    if dropped:
        for ids in _chunks([line.pk for line in dropped]):
            # A raw DELETE: QuerySet.delete() would fire simple-history's post_delete (a query per
            # line); the "-" history rows are written in bulk just below. Nothing references lines.
            BudgetLine.objects.filter(pk__in=ids)._raw_delete(BudgetLine.objects.db)
        _bulk_insert(BudgetLine.history.model, _history_rows(BudgetLine, dropped, "-", user=actor, date=now))
    # Rows and their "+" history, as simple_history.utils.bulk_create_with_history writes them.
    _bulk_insert(BudgetLine, lines)
    _bulk_insert(BudgetLine.history.model, _history_rows(BudgetLine, lines, "+", user=actor, date=now))
    _bulk_insert(DeAnBeneficiary, links)
    _bulk_insert(DeAnBeneficiary.history.model, _history_rows(DeAnBeneficiary, links, "+", user=actor, date=now))
    _bulk_insert(Transition, transitions)
    _transitions_written([t.de_an_id for t in transitions])
    return results


def _m2m_history_model():
    """The historical model of ``DeAn.contents`` (simple-history's ``HistoricalDeAn_contents``)."""
    from django.apps import apps

    return apps.get_model("projects", "HistoricalDeAn_contents")


# --- undo of a plan-annex import (called by funding.services.import_undo) ---------------------------
# The checks that nothing depends on the đề án are the caller's; these only write.

def _json_value(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _row_snapshot(obj):
    return {f.attname: _json_value(getattr(obj, f.attname)) for f in obj._meta.concrete_fields}


def _from_snapshot(model, data):
    values = {}
    for f in model._meta.concrete_fields:
        value = data[f.attname]
        values[f.attname] = None if value is None else f.to_python(value)
    return model(**values)


def de_an_snapshot_many(ids):
    """JSON-ready rows of the đề án ``ids`` and of their budget lines, ``{pk: {"de_an": …, "lines": […]}}``,
    taken before ``de_an_record_approved_many`` updates them so that the import can be undone exactly
    (``de_an_restore_imported_many``). Locks the đề án rows."""
    out = {}
    for chunk in _chunks(ids):
        for row in DeAn.objects.select_for_update(of=("self",)).filter(pk__in=chunk).order_by("pk"):
            out[row.pk] = {"de_an": _row_snapshot(row), "lines": []}
        for line in BudgetLine.objects.filter(de_an_id__in=chunk).order_by("pk"):
            out[line.de_an_id]["lines"].append(_row_snapshot(line))
    return out


@transaction.atomic
def de_an_delete_imported_many(*, de_an_ids, establishment_ids=(), code_sequences=None):
    """Remove đề án that ``de_an_record_approved_many`` created, with everything that call wrote for
    them (budget lines, beneficiary links, contents links, transitions, all their history rows), the
    establishments it created for them (``establishment_ids``) and give back the code numbers
    (``code_sequences``: ``{prefix: [before, after]}``, restored only where no code was handed out
    since). Raw deletes: no "-" history rows, the tables are as before the import (the derived
    transition totals are refreshed, ``_transitions_written``). Foreign keys are
    checked immediately at the end: anything else still referring to a đề án raises IntegrityError."""
    from django.db import connection

    db = DeAn.objects.db
    history = DeAn.history.model
    m2m_history = _m2m_history_model()
    through = DeAn.contents.through
    for ids in _chunks(de_an_ids):
        m2m_history.objects.filter(history_id__in=history.objects.filter(id__in=ids).values("history_id"))._raw_delete(db)
        history.objects.filter(id__in=ids)._raw_delete(db)
        BudgetLine.history.model.objects.filter(de_an_id__in=ids)._raw_delete(db)
        DeAnBeneficiary.history.model.objects.filter(de_an_id__in=ids)._raw_delete(db)
        BudgetLine.objects.filter(de_an_id__in=ids)._raw_delete(db)
        DeAnBeneficiary.objects.filter(de_an_id__in=ids)._raw_delete(db)
        Transition.objects.filter(de_an_id__in=ids)._raw_delete(db)
        through.objects.filter(dean_id__in=ids)._raw_delete(db)
        DeAn.objects.filter(pk__in=ids)._raw_delete(db)
    _transitions_written(de_an_ids)
    for ids in _chunks(establishment_ids):
        Establishment.objects.filter(pk__in=ids)._raw_delete(db)
    _code_sequences_back(code_sequences or {})
    connection.check_constraints()


def _code_sequences_back(code_sequences):
    """``{prefix: [before, after]}``: where ``last`` is still ``after`` (no code handed out since), put
    ``before`` back (delete the row when it did not exist). Two statements whatever the prefixes."""
    from django.db import connection

    table = connection.ops.quote_name(CodeSequence._meta.db_table)
    items = sorted(code_sequences.items())
    gone = [(prefix, after) for prefix, (before, after) in items if before is None]
    back = [(prefix, after, before) for prefix, (before, after) in items if before is not None]
    with connection.cursor() as cursor:
        if gone:
            cursor.execute(f"DELETE FROM {table} WHERE (prefix, last) IN (VALUES {', '.join(['(%s, %s)'] * len(gone))})",
                           [v for row in gone for v in row])
        if back:
            cursor.execute(f"UPDATE {table} SET last = v.column3 FROM (VALUES {', '.join(['(%s, %s, %s)'] * len(back))}) "
                           f"AS v WHERE {table}.prefix = v.column1 AND {table}.last = v.column2",
                           [v for row in back for v in row])


@transaction.atomic
def de_an_restore_imported_many(*, snapshots, since):
    """Put đề án that ``de_an_record_approved_many`` updated back as in ``snapshots``
    (``de_an_snapshot_many``: row and budget lines) and remove what that call wrote for them from
    ``since`` on: its "~" history rows (with their contents snapshot), the replaced lines' "-"/"+"
    history and its transition."""
    if not snapshots:
        return 0
    db = DeAn.objects.db
    ids = sorted(int(pk) for pk in snapshots)
    rows = [_from_snapshot(DeAn, snap["de_an"]) for snap in snapshots.values()]
    fields = [f.name for f in DeAn._meta.concrete_fields if not f.primary_key]
    DeAn.objects.bulk_update(rows, fields, batch_size=500)
    old_lines = [_from_snapshot(BudgetLine, line) for snap in snapshots.values() for line in snap["lines"]]
    old_ids = {line.pk for line in old_lines}
    history = DeAn.history.model
    m2m_history = _m2m_history_model()
    for chunk in _chunks(ids):
        wanted = set(chunk)
        mine = history.objects.filter(id__in=chunk, history_date__gte=since)
        m2m_history.objects.filter(history_id__in=mine.values("history_id"))._raw_delete(db)
        mine._raw_delete(db)
        BudgetLine.history.model.objects.filter(de_an_id__in=chunk, history_date__gte=since)._raw_delete(db)
        Transition.objects.filter(de_an_id__in=chunk, action="import_approved", at__gte=since)._raw_delete(db)
        present = set(BudgetLine.objects.filter(de_an_id__in=chunk).values_list("pk", flat=True))
        BudgetLine.objects.filter(pk__in=present - old_ids)._raw_delete(db)
        BudgetLine.objects.bulk_create([line for line in old_lines if line.de_an_id in wanted and line.pk not in present])
    _transitions_written(ids)
    return len(rows)
