"""Writes of inspection and supervision: annual plans, missions, inspection records (biên bản kiểm
tra), recommendations and their follow-up.

Every function is keyword-only, runs in ``transaction.atomic``, checks ``khuyencong.access.can`` and
writes an ``AuditEvent`` (who changed what; reopen comments live there too). Refusals raise
``InspectionRefused`` (a ``PermissionDenied``) or ``ValidationError`` with a Vietnamese message and
leave the database untouched.

Plans, missions and records are edited against the ``revision`` the edit form was loaded with: the
update locks the row and compares; if someone saved in between, ``ConflictError`` is raised and nothing
is written (two people editing the same biên bản do not silently overwrite each other). A save that
changes something increments the revision.

Follow-up of a recommendation::

    open ──answer (local staff of the đề án's province)──> answered ──close (ministry)──> closed
      ^  │         (answering again updates the report)        │                            ^  │
      │  └──────────── close with a reason (ministry) ─────────┼────────────────────────────┘  │
      └──────────────── reopen with a comment (ministry) ──────┴───────────────────────────────┘

While it is not closed, the staff who may answer attach evidence files (photos, scanned documents) to
the remedial report and the uploader's province may delete them (``recommendation_evidence_*``).
A biên bản's disbursed amount above the đề án's approved money needs ``confirm_over_approved``.
"""
import re
from dataclasses import dataclass
from datetime import date, datetime, time

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from khuyencong.access import can
from khuyencong.formatting import format_date, format_dong, format_file_size, parse_document_number
from khuyencong.models import AuditEvent

from .models import (
    Conclusion,
    FollowUp,
    InspectionPlan,
    InspectionRecord,
    MemberRole,
    Mission,
    MissionMember,
    Recommendation,
)

# Đề án an inspection may look at: approved or later, not rejected or cancelled.
INSPECTABLE_STATUSES = ("approved", "in_implementation", "adjustment_requested", "accepted", "settled")
INSPECTABLE_LEVEL = "kcqg"  # national đề án (the ministry inspects those)


class InspectionRefused(PermissionDenied):
    """``str(err)`` is the Vietnamese reason."""


class ConflictError(Exception):
    """Someone else saved the plan, mission or record after the caller loaded it (optimistic
    concurrency). ``str(err)`` is the Vietnamese message, naming who saved and when if known."""


def _conflict_message(row, what):
    """``what``: the object as the sentence names it («Biên bản kiểm tra đề án KC-…»)."""
    last = (AuditEvent.objects.filter(object_type=row._meta.model_name, object_id=str(row.pk),
                                      action__endswith=".update")
            .select_related("actor").order_by("-created_at", "-id").first())
    if last is None:
        return _("%(what)s đã được người khác lưu sau khi bạn mở để sửa. Thay đổi của bạn chưa được lưu; hãy tải "
                 "lại trang, xem nội dung mới rồi sửa lại.") % {"what": what}
    return _("%(what)s đã được %(who)s lưu lúc %(when)s, sau khi bạn mở để sửa. Thay đổi của bạn chưa được lưu; "
             "hãy tải lại trang, xem nội dung mới rồi sửa lại.") % {
        "what": what, "who": last.actor or _("người khác"),
        "when": timezone.localtime(last.created_at).strftime("%H:%M %d/%m/%Y")}


def _check_revision(row, revision, what):
    """On the locked row: the revision the form was loaded with must still be the current one."""
    try:
        loaded = int(revision)
    except (TypeError, ValueError):
        loaded = None
    if loaded != row.revision:
        raise ConflictError(_conflict_message(row, what))


def _require(user, action, obj=None):
    decision = can(user, action, obj)
    if not decision:
        raise InspectionRefused(decision.reason)


def _audit(actor, action, obj, summary, **data):
    AuditEvent.objects.create(
        actor=actor, action=action, object_type=obj._meta.model_name, object_id=str(obj.pk), summary=summary[:500],
        data={k: (str(v) if isinstance(v, (date, datetime)) else v) for k, v in data.items()},
    )


def _text(value):
    return (value or "").strip()


def _year(value):
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise ValidationError({"year": _("Năm phải là một số, ví dụ 2026.")}) from None
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": _("Năm phải trong khoảng 2000–2100.")})
    return year


def _decision(number, decision_date, year):
    """Canonical decision number (or ''), checked with the date."""
    number = _text(number)
    if not number:
        if decision_date:
            raise ValidationError({"decision_number": _("Có ngày quyết định thì cần ghi cả số quyết định phê duyệt.")})
        return ""
    try:
        parsed = parse_document_number(number)
    except ValueError as err:
        raise ValidationError({"decision_number": str(err)}) from None
    if decision_date is None:
        raise ValidationError({"decision_date": _("Cần ghi ngày của quyết định phê duyệt kế hoạch.")})
    if decision_date > timezone.localdate():
        raise ValidationError({"decision_date": _("Ngày quyết định không được sau ngày hôm nay.")})
    if decision_date.year not in (year - 1, year):
        raise ValidationError({"decision_date": _("Quyết định phê duyệt kế hoạch năm %(y)s phải ban hành trong năm "
                                                  "%(p)s hoặc năm %(y)s.") % {"y": year, "p": year - 1}})
    return str(parsed)


# --- plans ------------------------------------------------------------------------------------------

PLAN_FIELDS = ("title", "decision_number", "decision_date", "legal_basis", "purpose")


def inspection_plan_create(*, actor, year, title, decision_number="", decision_date=None, legal_basis="",
                           purpose="") -> InspectionPlan:
    _require(actor, "inspection.manage")
    year = _year(year)
    title = _text(title)
    if not title:
        raise ValidationError({"title": _("Cần ghi tên kế hoạch.")})
    number = _decision(decision_number, decision_date, year)
    with transaction.atomic():
        if InspectionPlan.objects.filter(year=year).exists():
            raise ValidationError({"year": _("Đã có kế hoạch kiểm tra, giám sát năm %(y)s; hãy sửa kế hoạch đó.") % {"y": year}})
        try:
            with transaction.atomic():
                plan = InspectionPlan.objects.create(
                    year=year, title=title, decision_number=number, decision_date=decision_date if number else None,
                    legal_basis=_text(legal_basis), purpose=_text(purpose), created_by=actor,
                )
        except IntegrityError:
            raise ValidationError({"year": _("Đã có kế hoạch kiểm tra, giám sát năm %(y)s; hãy sửa kế hoạch đó.") % {"y": year}}) from None
        _audit(actor, "inspection_plan.create", plan, _("Lập kế hoạch kiểm tra, giám sát năm %(y)s") % {"y": year},
               title=title, decision_number=number, decision_date=decision_date)
    return plan


def inspection_plan_update(*, actor, plan, revision, title, decision_number="", decision_date=None, legal_basis="",
                           purpose="") -> InspectionPlan:
    """``revision``: the plan's revision when the edit form was loaded (``ConflictError`` if it moved)."""
    _require(actor, "inspection.manage", plan)
    title = _text(title)
    if not title:
        raise ValidationError({"title": _("Cần ghi tên kế hoạch.")})
    number = _decision(decision_number, decision_date, plan.year)
    with transaction.atomic():
        plan = InspectionPlan.objects.select_for_update().get(pk=plan.pk)
        _check_revision(plan, revision, _("Kế hoạch kiểm tra, giám sát năm %(y)s") % {"y": plan.year})
        new = {"title": title, "decision_number": number, "decision_date": decision_date if number else None,
               "legal_basis": _text(legal_basis), "purpose": _text(purpose)}
        changed = {k: [str(getattr(plan, k) or ""), str(v or "")] for k, v in new.items() if getattr(plan, k) != v}
        for k, v in new.items():
            setattr(plan, k, v)
        if changed:
            plan.revision += 1
        plan.save()
        if changed:
            _audit(actor, "inspection_plan.update", plan, _("Sửa kế hoạch kiểm tra, giám sát năm %(y)s") % {"y": plan.year},
                   changed=changed)
    return plan


# --- missions -----------------------------------------------------------------------------------------

@dataclass
class MemberInput:
    full_name: str
    job_title: str = ""
    unit: str = ""
    role: str = MemberRole.MEMBER


def inspectable_de_an(*, year, provinces=None, statuses=None):
    """National đề án a mission of ``year``'s plan may visit: of that plan year or earlier (still being
    implemented or closed out), in an inspectable status, optionally within ``provinces`` (their current
    province; provinces or their ids)."""
    from projects.models import DeAn

    statuses = [s for s in (statuses or INSPECTABLE_STATUSES) if s in INSPECTABLE_STATUSES] or list(INSPECTABLE_STATUSES)
    qs = DeAn.objects.filter(level=INSPECTABLE_LEVEL, plan_year__lte=year, plan_year__gte=year - 3, status__in=statuses)
    if provinces:
        qs = qs.filter(current_province__in=[getattr(p, "pk", p) for p in provinces])
    return qs.select_related("current_province", "province").order_by("current_province__code", "code")


def _mission_clean(plan, *, name, provinces, start_date, end_date, follow_up_deadline, de_an, members, kept=()):
    """Check a mission's fields. ``kept``: ids of đề án already in the mission (or visited by it): they
    stay whatever their status became since (a visited đề án stopped or cancelled must not lock the
    mission), as long as they are in the mission's provinces; only đề án added now must be inspectable."""
    errors = {}
    if not _text(name):
        errors["name"] = _("Cần ghi tên đoàn kiểm tra.")
    provinces = list(provinces or [])
    if not provinces:
        errors["provinces"] = _("Chọn ít nhất một tỉnh, thành phố đoàn đến kiểm tra.")
    elif any(p.era != "current" for p in provinces):
        errors["provinces"] = _("Chỉ chọn tỉnh, thành phố hiện nay (34 tỉnh, thành phố từ 01/07/2025).")
    if start_date and end_date and end_date < start_date:
        errors["end_date"] = _("Ngày kết thúc phải từ ngày bắt đầu trở đi.")
    for field, day in (("start_date", start_date), ("end_date", end_date)):
        if day and day.year != plan.year and field not in errors:
            errors[field] = _("Đoàn thuộc kế hoạch năm %(y)s nên phải kiểm tra trong năm %(y)s.") % {"y": plan.year}
    if follow_up_deadline and end_date and follow_up_deadline < end_date:
        errors["follow_up_deadline"] = _("Hạn báo cáo khắc phục phải sau khi đoàn kết thúc kiểm tra.")
    members = [m if isinstance(m, MemberInput) else MemberInput(**m) for m in (members or [])]
    members = [MemberInput(_text(m.full_name), _text(m.job_title), _text(m.unit), m.role or MemberRole.MEMBER)
               for m in members if _text(m.full_name)]
    if any(m.role not in MemberRole.values for m in members):
        errors["members"] = _("Nhiệm vụ trong đoàn không hợp lệ.")
    elif sum(1 for m in members if m.role == MemberRole.LEAD) != 1:
        errors["members"] = _("Đoàn kiểm tra cần đúng một trưởng đoàn.")
    de_an = list(de_an or [])
    if de_an and provinces and "provinces" not in errors:
        from projects.models import DeAn

        kept = set(kept)
        added = [d.pk for d in de_an if d.pk not in kept]
        allowed = set(inspectable_de_an(year=plan.year, provinces=provinces).filter(pk__in=added)
                      .values_list("pk", flat=True))
        allowed |= set(DeAn.objects.filter(pk__in=[d.pk for d in de_an if d.pk in kept],
                                           current_province__in=[p.pk for p in provinces]).values_list("pk", flat=True))
        wrong = [d for d in de_an if d.pk not in allowed]
        if wrong:
            errors["de_an"] = _("Đề án %(codes)s không thuộc phạm vi của đoàn (đề án khuyến công quốc gia đã phê "
                                "duyệt, của tỉnh, thành phố đoàn đến, kế hoạch năm %(y)s hoặc trước đó).") % {
                "codes": ", ".join(d.code for d in wrong[:5]), "y": plan.year}
    if errors:
        raise ValidationError(errors)
    return provinces, de_an, members


def _mission_write(mission, *, provinces, de_an, members):
    mission.provinces.set(provinces)
    mission.de_an.set(de_an)
    mission.members.all().delete()
    MissionMember.objects.bulk_create([
        MissionMember(mission=mission, order=i, full_name=m.full_name, job_title=m.job_title, unit=m.unit, role=m.role)
        for i, m in enumerate(members)
    ])


def mission_create(*, actor, plan, name, provinces, members, start_date=None, end_date=None, legal_basis="",
                   contents_to_check="", sites="", expected_outputs="", follow_up_deadline=None, de_an=()) -> Mission:
    _require(actor, "inspection.manage", plan)
    provinces, de_an, members = _mission_clean(plan, name=name, provinces=provinces, start_date=start_date,
                                               end_date=end_date, follow_up_deadline=follow_up_deadline, de_an=de_an,
                                               members=members)
    with transaction.atomic():
        plan = InspectionPlan.objects.select_for_update().get(pk=plan.pk)
        order = plan.missions.count() + 1
        mission = Mission.objects.create(
            plan=plan, order=order, name=_text(name), start_date=start_date, end_date=end_date,
            legal_basis=_text(legal_basis), contents_to_check=_text(contents_to_check), sites=_text(sites),
            expected_outputs=_text(expected_outputs), follow_up_deadline=follow_up_deadline,
        )
        _mission_write(mission, provinces=provinces, de_an=de_an, members=members)
        _audit(actor, "mission.create", mission, _("Thêm đoàn kiểm tra «%(n)s» vào kế hoạch năm %(y)s")
               % {"n": mission.name, "y": plan.year}, provinces=[p.code for p in provinces],
               de_an=[d.code for d in de_an], members=[m.full_name for m in members])
    return mission


def mission_update(*, actor, mission, revision, name, provinces, members, start_date=None, end_date=None,
                   legal_basis="", contents_to_check="", sites="", expected_outputs="", follow_up_deadline=None,
                   de_an=()) -> Mission:
    """``revision``: the mission's revision when the edit form was loaded (``ConflictError`` if it moved)."""
    _require(actor, "inspection.manage", mission)
    kept = set(mission.de_an.values_list("pk", flat=True)) | set(mission.records.values_list("de_an_id", flat=True))
    provinces, de_an, members = _mission_clean(mission.plan, name=name, provinces=provinces, start_date=start_date,
                                               end_date=end_date, follow_up_deadline=follow_up_deadline, de_an=de_an,
                                               members=members, kept=kept)
    with transaction.atomic():
        mission = Mission.objects.select_for_update().get(pk=mission.pk)
        _check_revision(mission, revision, _("Đoàn kiểm tra «%(n)s»") % {"n": mission.name})
        visited = set(mission.records.values_list("de_an_id", flat=True))
        kept = {d.pk for d in de_an}
        dropped = visited - kept
        if dropped:
            from projects.models import DeAn

            codes = ", ".join(DeAn.objects.filter(pk__in=dropped).values_list("code", flat=True)[:5])
            raise ValidationError({"de_an": _("Không bỏ được đề án %(c)s khỏi đoàn vì đã có biên bản kiểm tra.") % {"c": codes}})
        for field, value in (("name", _text(name)), ("start_date", start_date), ("end_date", end_date),
                             ("legal_basis", _text(legal_basis)), ("contents_to_check", _text(contents_to_check)),
                             ("sites", _text(sites)), ("expected_outputs", _text(expected_outputs)),
                             ("follow_up_deadline", follow_up_deadline)):
            setattr(mission, field, value)
        mission.revision += 1  # every save is audited below
        mission.save()
        _mission_write(mission, provinces=provinces, de_an=de_an, members=members)
        _audit(actor, "mission.update", mission, _("Sửa đoàn kiểm tra «%(n)s»") % {"n": mission.name},
               provinces=[p.code for p in provinces], de_an=[d.code for d in de_an],
               members=[m.full_name for m in members])
    return mission


def mission_delete(*, actor, mission) -> None:
    _require(actor, "inspection.manage", mission)
    with transaction.atomic():
        mission = Mission.objects.select_for_update().get(pk=mission.pk)
        if mission.records.exists():
            raise ValidationError(_("Đoàn «%(n)s» đã có biên bản kiểm tra nên không xóa được.") % {"n": mission.name})
        _audit(actor, "mission.delete", mission, _("Xóa đoàn kiểm tra «%(n)s» (kế hoạch năm %(y)s)")
               % {"n": mission.name, "y": mission.plan.year})
        mission.delete()


# --- inspection records -------------------------------------------------------------------------

RECORD_TEXT_FIELDS = (
    "place", "legal_basis", "team", "inspected_parties", "progress_check", "equipment_check", "documents_check",
    "effectiveness", "actual_output", "findings", "conclusion_text", "inspected_opinion",
)
RECORD_NUMBER_FIELDS = ("disbursed_amount", "actual_revenue", "actual_jobs")


@dataclass
class RecommendationInput:
    text: str
    deadline: date | None = None
    id: int | None = None
    delete: bool = False
    row: int | None = None  # its line in the form (1, 2 …), named in its errors; else its place in the list


def approved_amount(de_an):
    """The khuyến công money approved for ``de_an``, in đồng: national plus local support, each at its
    approved amount (``approved_national_amount`` / ``approved_local_amount``, which an approved
    adjustment rewrites), the amount requested where none is recorded — as the annual report counts the
    money of a đề án carried out (``reports.selectors``); counterpart and other money are not
    khuyến công money and are not disbursed by the state."""
    national = de_an.approved_national_amount if de_an.approved_national_amount is not None else de_an.national_amount
    local = de_an.approved_local_amount if de_an.approved_local_amount is not None else de_an.local_amount
    return (national or 0) + (local or 0)


def disbursed_over_approved(de_an, amount, previous=None):
    """The approved amount when a biên bản's disbursed ``amount`` exceeds it and must be confirmed, else
    None. ``previous``: the amount the record holds already (editing): kept unchanged, it was checked
    when it was typed (a correction elsewhere in the biên bản does not ask again)."""
    if de_an is None or amount is None or amount == previous:
        return None
    approved = approved_amount(de_an)
    return approved if amount > approved else None


def _record_clean(*, de_an, mission, inspected_on, fields, recommendations, confirm_over_approved=False,
                  previous_disbursed=None):
    errors = {}
    if inspected_on is None:
        errors["inspected_on"] = _("Cần ghi ngày kiểm tra.")
    elif inspected_on > timezone.localdate():
        errors["inspected_on"] = _("Ngày kiểm tra không được sau ngày hôm nay.")
    if not _text(fields.get("place")):
        errors["place"] = _("Cần ghi địa điểm kiểm tra.")
    if fields.get("conclusion") not in Conclusion.values:
        errors["conclusion"] = _("Chọn kết luận trong danh sách.")
    for name in RECORD_NUMBER_FIELDS:
        value = fields.get(name)
        if value is not None and value < 0:
            errors[name] = _("Số liệu không được âm.")
    if "disbursed_amount" not in errors and not confirm_over_approved:
        approved = disbursed_over_approved(de_an, fields.get("disbursed_amount"), previous_disbursed)
        if approved is not None:
            errors["disbursed_amount"] = ValidationError(
                _("Số tiền %(d)s lớn hơn kinh phí được phê duyệt của đề án (%(a)s). Hãy kiểm tra lại; nếu số liệu "
                  "đúng, đánh dấu ô xác nhận rồi lưu lại."), code="over_approved",
                params={"d": format_dong(fields["disbursed_amount"]), "a": format_dong(approved), "approved": approved})
    if mission is not None and de_an is not None:
        if not mission.de_an.filter(pk=de_an.pk).exists():
            errors["de_an"] = _("Đề án %(c)s không nằm trong danh sách đề án của đoàn «%(m)s».") % {"c": de_an.code, "m": mission.name}
        elif inspected_on and mission.start_date and mission.end_date and not (
                mission.start_date <= inspected_on <= mission.end_date):
            errors["inspected_on"] = _("Ngày kiểm tra phải trong thời gian của đoàn (%(a)s – %(b)s).") % {
                "a": format_date(mission.start_date), "b": format_date(mission.end_date)}
    recs = [r if isinstance(r, RecommendationInput) else RecommendationInput(**r) for r in (recommendations or [])]
    recs = [RecommendationInput(_text(r.text), r.deadline, r.id, bool(r.delete), r.row or i) for i, r in enumerate(recs, 1)
            if r.id or _text(r.text)]
    # Every row's error, each naming its row; ``params`` (row, field) let a form mark the row's field.
    row_errors = []
    for r in recs:
        if r.delete:
            continue
        if not r.text:
            row_errors.append(ValidationError(_("Kiến nghị %(n)s: không được để trống nội dung."), code="recommendation",
                                              params={"n": r.row, "field": "text"}))
        elif r.deadline is None:
            row_errors.append(ValidationError(_("Kiến nghị %(n)s («%(t)s»): cần có thời hạn thực hiện."),
                                              code="recommendation", params={"n": r.row, "t": r.text[:60], "field": "deadline"}))
        elif inspected_on and r.deadline < inspected_on:
            row_errors.append(ValidationError(
                _("Kiến nghị %(n)s («%(t)s»): thời hạn %(d)s không được trước ngày kiểm tra %(k)s."), code="recommendation",
                params={"n": r.row, "t": r.text[:60], "d": format_date(r.deadline), "k": format_date(inspected_on),
                        "field": "deadline"}))
    if row_errors:
        errors["recommendations"] = row_errors
    if errors:
        raise ValidationError(errors)
    return recs


def _same_visit_error(de_an, mission, inspected_on):
    """The Vietnamese refusal of a second biên bản for one visit (same đề án, day and mission)."""
    if mission is not None:
        return ValidationError({"inspected_on": _(
            "Đoàn «%(m)s» đã có biên bản kiểm tra đề án %(c)s ngày %(d)s; mở biên bản đó để sửa thay vì lập thêm.")
            % {"m": mission.name, "c": de_an.code, "d": format_date(inspected_on)}})
    return ValidationError({"inspected_on": _(
        "Đề án %(c)s đã có biên bản kiểm tra ngày %(d)s; mở biên bản đó để sửa thay vì lập thêm.")
        % {"c": de_an.code, "d": format_date(inspected_on)}})


def _same_visit_exists(de_an, mission, inspected_on, exclude=None):
    qs = InspectionRecord.objects.filter(de_an=de_an, mission=mission, inspected_on=inspected_on)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.exists()


def mission_team_text(mission):
    """The «Thành phần đoàn kiểm tra» a new biên bản of ``mission`` is pre-filled with: its members,
    «Họ tên (chức vụ, vai trò)» separated by commas."""
    return ", ".join(f"{m.full_name} ({m.job_title}, {m.get_role_display()})" if m.job_title else m.full_name
                     for m in mission.members.order_by("order", "id"))


def record_team(record):
    """How a biên bản prints its team, once: ``("members", [MissionMember…])`` when the record's mission
    has members and the record's team text is empty or still the one pre-filled from them; else
    ``("text", record.team)`` (typed or edited by hand, or a mission without members; empty → a line
    to complete by hand)."""
    text = _text(record.team)
    if record.mission_id:
        members = list(record.mission.members.order_by("order", "id"))
        if members and (not text or " ".join(text.split()) == " ".join(mission_team_text(record.mission).split())):
            return "members", members
    return "text", text


def _record_values(fields):
    values = {name: _text(fields.get(name)) for name in RECORD_TEXT_FIELDS}
    values.update({name: fields.get(name) for name in RECORD_NUMBER_FIELDS})
    values["conclusion"] = fields["conclusion"]
    return values


def inspection_record_create(*, actor, de_an, inspected_on, mission=None, recommendations=(),
                             confirm_over_approved=False, **fields) -> InspectionRecord:
    """``fields``: place, conclusion (required), legal_basis, team, inspected_parties, progress_check,
    equipment_check, disbursed_amount, documents_check, effectiveness, actual_output, actual_revenue,
    actual_jobs, findings, conclusion_text, inspected_opinion. A disbursed amount above the đề án's
    approved amount (``approved_amount``) is refused unless ``confirm_over_approved``."""
    _require(actor, "inspection.manage", de_an)
    unknown = set(fields) - set(RECORD_TEXT_FIELDS) - set(RECORD_NUMBER_FIELDS) - {"conclusion"}
    if unknown:
        raise TypeError(f"unknown fields {sorted(unknown)}")
    fields.setdefault("conclusion", Conclusion.ON_SCHEDULE)
    if de_an is None:
        raise ValidationError({"de_an": _("Chọn đề án được kiểm tra.")})
    if de_an.status not in INSPECTABLE_STATUSES:
        raise ValidationError({"de_an": _("Đề án %(c)s chưa được phê duyệt hoặc đã bị hủy, không lập biên bản kiểm tra được.")
                                        % {"c": de_an.code}})
    recs = _record_clean(de_an=de_an, mission=mission, inspected_on=inspected_on, fields=fields, recommendations=recommendations,
                         confirm_over_approved=confirm_over_approved)
    over = disbursed_over_approved(de_an, fields.get("disbursed_amount"))
    if _same_visit_exists(de_an, mission, inspected_on):
        raise _same_visit_error(de_an, mission, inspected_on)
    with transaction.atomic():
        try:
            with transaction.atomic():  # a double submit racing this one: the unique constraint decides
                record = InspectionRecord.objects.create(
                    mission=mission, de_an=de_an, inspected_on=inspected_on, created_by=actor, **_record_values(fields),
                )
        except IntegrityError:
            if _same_visit_exists(de_an, mission, inspected_on):
                raise _same_visit_error(de_an, mission, inspected_on) from None
            raise
        Recommendation.objects.bulk_create([
            Recommendation(record=record, order=i + 1, text=r.text, deadline=r.deadline)
            for i, r in enumerate(r for r in recs if not r.delete)
        ])
        _audit(actor, "inspection_record.create", record, _("Lập biên bản kiểm tra đề án %(c)s ngày %(d)s")
               % {"c": de_an.code, "d": format_date(inspected_on)}, conclusion=record.conclusion,
               recommendations=[r.text[:80] for r in recs if not r.delete],
               **({"over_approved_confirmed": {"disbursed": record.disbursed_amount, "approved": over}} if over else {}))
    return record


def inspection_record_update(*, actor, record, revision, inspected_on, recommendations=(), confirm_over_approved=False,
                             **fields) -> InspectionRecord:
    """Edit a record; ``recommendations`` lists existing ones by ``id`` (text/deadline changed, or
    ``delete``) and new ones without. Only recommendations not yet answered can be changed or deleted.
    ``revision``: the record's revision when the edit form was loaded; if someone saved in between (or
    this same form was already saved: a double click, the back button and «Lưu» again),
    ``ConflictError`` is raised and nothing is written — new recommendations are not added twice.
    A disbursed amount changed to more than the đề án's approved amount is refused unless
    ``confirm_over_approved`` (one left as it was is not asked about again)."""
    _require(actor, "inspection.manage", record)
    fields.setdefault("conclusion", record.conclusion)
    with transaction.atomic():
        record = InspectionRecord.objects.select_for_update(of=("self",)).select_related("de_an", "mission").get(pk=record.pk)
        _check_revision(record, revision, _("Biên bản kiểm tra đề án %(c)s") % {"c": record.de_an.code})
        recs = _record_clean(de_an=record.de_an, mission=record.mission, inspected_on=inspected_on, fields=fields,
                             recommendations=recommendations, confirm_over_approved=confirm_over_approved,
                             previous_disbursed=record.disbursed_amount)
        over = disbursed_over_approved(record.de_an, fields.get("disbursed_amount"), record.disbursed_amount)
        existing = {r.pk: r for r in record.recommendations.select_for_update()}
        # Recommendations already answered keep a deadline the local staff worked to: check them too.
        for r in existing.values():
            if r.status != FollowUp.OPEN and r.deadline and r.deadline < inspected_on:
                raise ValidationError({"inspected_on": _("Ngày kiểm tra không được sau thời hạn %(d)s của kiến nghị đã được báo cáo.")
                                                       % {"d": format_date(r.deadline)}})
        changes = []
        for r in recs:
            if r.id is None:
                continue
            current = existing.get(r.id)
            if current is None:
                raise ValidationError({"recommendations": _("Kiến nghị không thuộc biên bản này.")})
            if current.status != FollowUp.OPEN and (r.delete or r.text != current.text or r.deadline != current.deadline):
                raise ValidationError({"recommendations": _("Kiến nghị «%(t)s» đã được báo cáo khắc phục hoặc đã đóng nên "
                                                            "không sửa, xóa được.") % {"t": current.text[:60]}})
        values = _record_values(fields)
        changed = {k: [str(getattr(record, k) or ""), str(v or "")] for k, v in values.items() if getattr(record, k) != v}
        if record.inspected_on != inspected_on:
            changed["inspected_on"] = [str(record.inspected_on), str(inspected_on)]
        if record.inspected_on != inspected_on and _same_visit_exists(record.de_an, record.mission, inspected_on,
                                                                     exclude=record.pk):
            raise _same_visit_error(record.de_an, record.mission, inspected_on)
        for k, v in values.items():
            setattr(record, k, v)
        record.inspected_on = inspected_on
        record.save()
        next_order = max([r.order for r in existing.values()] or [0]) + 1
        for r in recs:
            if r.id is None:
                if not r.delete:
                    Recommendation.objects.create(record=record, order=next_order, text=r.text, deadline=r.deadline)
                    next_order += 1
                    changes.append(["+", r.text[:80]])
                continue
            current = existing[r.id]
            if r.delete:
                current.delete()
                changes.append(["-", current.text[:80]])
            elif (r.text, r.deadline) != (current.text, current.deadline):
                current.text, current.deadline = r.text, r.deadline
                current.save(update_fields=["text", "deadline"])
                changes.append(["~", r.text[:80]])
        if changed or changes:
            record.revision += 1
            record.save(update_fields=["revision"])
            _audit(actor, "inspection_record.update", record, _("Sửa biên bản kiểm tra đề án %(c)s") % {"c": record.de_an.code},
                   changed=changed, recommendations=changes,
                   **({"over_approved_confirmed": {"disbursed": record.disbursed_amount, "approved": over}} if over else {}))
    return record


# --- recommendations: follow-up -----------------------------------------------------------------------

def _locked_recommendation(recommendation):
    return Recommendation.objects.select_for_update(of=("self",)).select_related("record__de_an").get(pk=recommendation.pk)


def recommendation_answer(*, actor, recommendation, response, responded_on=None) -> Recommendation:
    """Province or centre staff report what was done; status → answered (answering again updates it)."""
    _require(actor, "inspection.answer", recommendation)
    response = _text(response)
    today = timezone.localdate()
    responded_on = responded_on or today
    with transaction.atomic():
        rec = _locked_recommendation(recommendation)
        _require(actor, "inspection.answer", rec)  # re-checked on the locked row (closed meanwhile?)
        if not response:
            raise ValidationError({"response": _("Cần ghi nội dung báo cáo khắc phục.")})
        if responded_on > today:
            raise ValidationError({"responded_on": _("Ngày báo cáo không được sau ngày hôm nay.")})
        if responded_on < rec.record.inspected_on:
            raise ValidationError({"responded_on": _("Ngày báo cáo không được trước ngày kiểm tra %(d)s.")
                                                   % {"d": format_date(rec.record.inspected_on)}})
        before = rec.status
        rec.response = response
        rec.responded_by = actor
        rec.responded_at = timezone.now() if responded_on == today else timezone.make_aware(datetime.combine(responded_on, time(12)))
        rec.status = FollowUp.ANSWERED
        rec.save(update_fields=["response", "responded_by", "responded_at", "status"])
        _audit(actor, "recommendation.answer", rec, _("Báo cáo khắc phục kiến nghị của biên bản kiểm tra đề án %(c)s")
               % {"c": rec.record.de_an.code}, status=[before, rec.status], response=response[:500],
               responded_on=responded_on)
    return rec


def recommendation_close(*, actor, recommendation, comment="") -> Recommendation:
    """The ministry closes a recommendation (done). One the province has not answered — still open: never
    answered, or reopened and not answered again — is closed only with a comment saying why (the
    province sees it in the history); closing an answered one, the comment is optional."""
    _require(actor, "inspection.close", recommendation)
    comment = _text(comment)
    with transaction.atomic():
        rec = _locked_recommendation(recommendation)
        _require(actor, "inspection.close", rec)
        if rec.status == FollowUp.OPEN and not comment:
            raise ValidationError({"comment": ValidationError(
                _("Đóng kiến nghị khi tỉnh chưa báo cáo khắc phục cần ghi lý do."), code="unanswered")})
        before = rec.status
        rec.status = FollowUp.CLOSED
        rec.closed_by = actor
        rec.closed_at = timezone.now()
        rec.save(update_fields=["status", "closed_by", "closed_at"])
        _audit(actor, "recommendation.close", rec, _("Đóng kiến nghị (đã hoàn thành) của biên bản kiểm tra đề án %(c)s")
               % {"c": rec.record.de_an.code}, status=[before, rec.status], comment=comment[:500])
    return rec


def recommendation_reopen(*, actor, recommendation, comment) -> Recommendation:
    _require(actor, "inspection.reopen", recommendation)
    comment = _text(comment)
    if not comment:
        raise ValidationError({"comment": _("Mở lại kiến nghị cần ghi lý do để tỉnh, thành phố biết phải làm gì thêm.")})
    with transaction.atomic():
        rec = _locked_recommendation(recommendation)
        _require(actor, "inspection.reopen", rec)
        before = rec.status
        rec.status = FollowUp.OPEN
        rec.closed_by = None
        rec.closed_at = None
        rec.save(update_fields=["status", "closed_by", "closed_at"])
        _audit(actor, "recommendation.reopen", rec, _("Mở lại kiến nghị của biên bản kiểm tra đề án %(c)s")
               % {"c": rec.record.de_an.code}, status=[before, rec.status], comment=comment[:500])
    return rec


def recommendation_history(recommendation):
    return AuditEvent.objects.filter(object_type="recommendation", object_id=str(recommendation.pk)).select_related("actor").order_by("created_at", "id")


def current_provinces():
    from .selectors import province_choices

    return province_choices()


# --- photos and attachments of a record -----------------------------------------------------------------

PHOTO_EXTENSIONS = ("jpg", "jpeg", "png", "webp")


@dataclass
class _Upload:
    original: str
    ext: str
    size: int
    content_type: str

    @property
    def is_photo(self):
        return self.ext in PHOTO_EXTENSIONS


def _checked_upload(file, name=None) -> _Upload:
    """The checks every inspection upload passes (those of đề án attachments): an accepted extension
    *and* leading bytes that match it, not empty, at most ``UPLOAD_MAX_BYTES``; a readable name without
    path or control characters. Refusals: ``ValidationError`` on ``file``, in Vietnamese."""
    import mimetypes
    import os

    from projects.services import ALLOWED_UPLOADS, attachment_max_bytes, sanitise_filename

    original = sanitise_filename(name or getattr(file, "name", ""))
    ext = original.rsplit(".", 1)[-1].lower() if "." in original else ""
    if ext not in ALLOWED_UPLOADS:
        raise ValidationError({"file": _("Tệp «%(n)s» không được chấp nhận: chỉ nhận PDF, ảnh (JPG, PNG, WEBP) và tài "
                                         "liệu Office.") % {"n": original}})
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, os.SEEK_END)
        size = file.tell()
    limit = attachment_max_bytes()
    if not size:
        raise ValidationError({"file": _("Tệp «%(n)s» rỗng.") % {"n": original}})
    if size > limit:
        raise ValidationError({"file": _("Tệp «%(n)s» dung lượng %(s)s, vượt giới hạn %(l)s.")
                                       % {"n": original, "s": format_file_size(size, beside=limit),
                                          "l": format_file_size(limit)}})
    content_type, magics = ALLOWED_UPLOADS[ext]
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    if not any(m.match(head) if isinstance(m, re.Pattern) else head.startswith(m) for m in magics):
        raise ValidationError({"file": _("Nội dung tệp «%(n)s» không đúng định dạng %(e)s.") % {"n": original, "e": ext.upper()}})
    return _Upload(original, ext, size, content_type or mimetypes.guess_type(original)[0] or "application/octet-stream")


def _store(row, file, upload, then):
    """Save ``file`` into ``row.file``, then the row, then ``then()`` (its audit event): if the row or
    ``then`` fails, the stored file is removed again."""
    row.file.save(upload.original, file, save=False)
    stored = row.file.name
    try:
        row.save()
        then()
    except Exception:
        row.file.storage.delete(stored)
        raise


def inspection_attachment_add(*, actor, record, file, description="", name=None):
    """Store a photo or document of ``record`` privately (same checks as đề án attachments: extension
    *and* leading bytes, size limit ``UPLOAD_MAX_BYTES``)."""
    from .models import InspectionAttachment

    _require(actor, "inspection.manage", record)
    upload = _checked_upload(file, name)
    with transaction.atomic():
        attachment = InspectionAttachment(
            record=record, is_photo=upload.is_photo, original_name=upload.original, size=upload.size,
            content_type=upload.content_type, description=_text(description)[:255], uploaded_by=actor,
        )
        _store(attachment, file, upload, lambda: _audit(
            actor, "inspection_attachment.add", record, _("Thêm tệp «%(n)s» vào biên bản kiểm tra") % {"n": upload.original},
            attachment=attachment.pk))
    return attachment


def inspection_attachment_delete(*, actor, attachment):
    from .models import InspectionAttachment

    _require(actor, "inspection.manage", attachment)
    with transaction.atomic():
        attachment = InspectionAttachment.objects.select_for_update().select_related("record").get(pk=attachment.pk)
        name, storage = attachment.file.name, attachment.file.storage
        _audit(actor, "inspection_attachment.delete", attachment.record, _("Xóa tệp «%(n)s» khỏi biên bản kiểm tra")
               % {"n": attachment.original_name}, attachment=attachment.pk)
        attachment.delete()
        transaction.on_commit(lambda: storage.delete(name))


# --- evidence files of a remedial report ----------------------------------------------------------------

EVIDENCE_MAX_FILES = 20  # per recommendation: photos and scans of what was done, not an archive


def recommendation_evidence_add(*, actor, recommendation, file, description="", name=None):
    """Attach a photo or scanned document to the remedial report of ``recommendation``: staff who may
    answer it (Sở or centre of the đề án's province), while it is not closed; the upload checks of the
    record's attachments (``_checked_upload``). The file is stored privately, served only through the
    permission-checked download view."""
    from khuyencong.access import user_province

    from .models import RecommendationEvidence

    _require(actor, "inspection.evidence_add", recommendation)
    upload = _checked_upload(file, name)
    with transaction.atomic():
        rec = _locked_recommendation(recommendation)
        _require(actor, "inspection.evidence_add", rec)  # re-checked on the locked row (closed meanwhile?)
        if rec.evidence.count() >= EVIDENCE_MAX_FILES:
            raise ValidationError({"file": _("Mỗi kiến nghị có tối đa %(n)s tệp minh chứng; hãy xóa bớt tệp không cần "
                                             "hoặc gộp nhiều trang vào một tệp PDF.") % {"n": EVIDENCE_MAX_FILES}})
        evidence = RecommendationEvidence(
            recommendation=rec, is_photo=upload.is_photo, original_name=upload.original, size=upload.size,
            content_type=upload.content_type, description=_text(description)[:255], uploaded_by=actor,
            province=user_province(actor),
        )
        _store(evidence, file, upload, lambda: _audit(
            actor, "recommendation_evidence.add", rec, _("Thêm tệp minh chứng «%(n)s» vào báo cáo khắc phục")
            % {"n": upload.original}, evidence=evidence.pk, name=upload.original, size=upload.size))
    return evidence


def recommendation_evidence_delete(*, actor, evidence):
    """Remove an evidence file: staff of the province that uploaded it, while the recommendation is not
    closed. The stored file goes once the transaction commits."""
    from .models import RecommendationEvidence

    _require(actor, "inspection.evidence_delete", evidence)
    with transaction.atomic():
        _locked_recommendation(evidence.recommendation)  # a close running now waits, or is waited for
        evidence = (RecommendationEvidence.objects.select_for_update(of=("self",))
                    .select_related("recommendation__record__de_an").filter(pk=evidence.pk).first())
        if evidence is None:
            raise ValidationError({"file": _("Tệp này đã được xóa trước đó.")})
        _require(actor, "inspection.evidence_delete", evidence)
        name, storage = evidence.file.name, evidence.file.storage
        _audit(actor, "recommendation_evidence.delete", evidence.recommendation,
               _("Xóa tệp minh chứng «%(n)s» khỏi báo cáo khắc phục") % {"n": evidence.original_name},
               evidence=evidence.pk, name=evidence.original_name)
        evidence.delete()
        transaction.on_commit(lambda: storage.delete(name))
