"""Inspection and supervision pages (kiểm tra, giám sát): plans, missions, records (biên bản),
recommendations and their follow-up. Thin: selectors scope, services decide and write.

An id the user may not see (another province's record, a plan for a local account) answers 404 and
changes nothing; an action the user may see but not do answers 403 with the reason.
"""
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from khuyencong import submissions
from khuyencong.access import can, is_nationwide
from khuyencong.pagination import paginate

from . import inspection_selectors as sel
from . import inspection_services as svc
from .forms import (
    AnswerForm,
    CloseForm,
    DeAnFilterForm,
    EvidenceForm,
    InspectionAttachmentForm,
    InspectionPlanForm,
    InspectionRecordForm,
    MemberFormSet,
    MissionForm,
    RecommendationFilterForm,
    RecommendationFormSet,
    RecordFilterForm,
    ReopenForm,
)
from .models import FollowUp, MemberRole
from .selectors import in_vietnamese_order

PAGE_SIZE = 25
T = "reports/inspection/"


def _page(request, queryset):
    return paginate(request, queryset, PAGE_SIZE)


def _require(user, action, obj=None):
    decision = can(user, action, obj)
    if not decision:
        raise PermissionDenied(decision.reason)


def _apply_errors(form, err):
    """Put a service's ValidationError on the form's fields (or on top when the field is not there)."""
    if hasattr(err, "error_dict"):
        for field, errors in err.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, err.messages)


def _form_errors(form, row=""):
    """The errors of ``form`` for the error summary, in the page's order: its non-field errors (no link),
    then each field's, «label: message» linked to the field (``id_…``; a hidden field's without link).
    ``row`` («Kiến nghị 2») names a formset's row: «Kiến nghị 2 — Thời hạn: …»; a service's error that
    names its row already (code ``recommendation``: «Kiến nghị 2 («…»): …») is shown as it is."""
    items = []
    by_field = form.errors.as_data() if form.is_bound else {}
    for error in by_field.get("__all__", []):
        for message in error:
            items.append({"anchor": "", "text": f"{row}: {message}" if row and error.code != "recommendation" else message})
    for field in form:
        for error in by_field.get(field.name, []):
            for message in error:
                if error.code == "recommendation":
                    text = message
                elif row:
                    text = f"{row} — {field.label}: {message}"
                else:
                    text = f"{field.label}: {message}"
                # A list of ticked boxes has no one control to point at: its fieldset (id = the field's id).
                items.append({"anchor": "" if field.is_hidden else (field.id_for_label or field.auto_id), "text": text})
    return items


def _error_summary(*parts):
    """The summary at the top of a form page sent with errors (the đề án form's pattern): every error,
    each linked to its field, ``{"items": [{"anchor", "text"}], "fields": True when one is linked}``, or
    None without errors. ``parts``: lists of such items (``_form_errors``), in the page's order."""
    items = [item for part in parts for item in part]
    if not items:
        return None
    return {"items": items, "fields": any(item["anchor"] for item in items)}


def _save_edit(request, form, save, done_url, saved_message, apply_errors=None):
    """Run ``save(revision)`` (a service update) for a valid edit form. Saved, or the same form sent
    already (its key claimed: a double click, the back button and «Lưu» again): the redirect to
    ``done_url``, with ``saved_message`` or the already-sent message. Otherwise the status to show the
    form again with, everything typed kept and the reason on the form: 409 when someone saved in between
    (``svc.ConflictError``), 400 otherwise. ``apply_errors(form, err)``: how a ValidationError is put on
    the page (default ``_apply_errors``)."""
    revision = form.cleaned_data.get("revision")
    if revision is None:
        form.add_error(None, _("Thiếu phiên bản của hồ sơ; hãy tải lại trang rồi sửa lại."))
        return 400
    try:
        with transaction.atomic():
            claim = submissions.claim(request)  # the same form sent twice is saved once
            save(revision)
            claim.done(done_url)
    except submissions.AlreadySubmitted as sent:
        messages.info(request, submissions.ALREADY_SUBMITTED_MESSAGE)
        return redirect(sent.url or done_url)
    except svc.ConflictError as err:
        form.add_error(None, str(err))
        return 409
    except ValidationError as err:
        (apply_errors or _apply_errors)(form, err)
        return 400
    messages.success(request, saved_message)
    return redirect(done_url)


def _number(value):
    """A whole number from a query parameter (ASCII digits only, at most 9 of them), else None: a
    wrong or forged value is ignored, never a server error (``"²".isdigit()`` is True, ``int("²")`` fails)."""
    return int(value) if value and re.fullmatch(r"[0-9]{1,9}", value) else None


# --- plans -------------------------------------------------------------------------------------------

@login_required
def plan_list(request):
    _require_found(can(request.user, "inspection.view_plan"))
    year = _number(request.GET.get("year"))
    page, query = _page(request, sel.plan_list(request.user, year=year))
    return render(request, T + "plan_list.html", {"page": page, "query_no_page": query, "year": year,
                                                 "can_manage": bool(can(request.user, "inspection.manage"))})


def _require_found(decision):
    """Pages local accounts have no business with (plans, missions): 404, as for any unseen id."""
    if not decision:
        raise Http404(decision.reason)


def _plan_or_404(request, plan_id):
    plan = sel.plan_for(request.user, plan_id)
    if plan is None:
        raise Http404(_("Không tìm thấy kế hoạch kiểm tra."))
    return plan


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request):
    _require(request.user, "inspection.manage")
    form = InspectionPlanForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                claim = submissions.claim(request)  # the same form sent twice makes one plan
                plan = svc.inspection_plan_create(actor=request.user, **form.cleaned_data)
                claim.done(reverse("reports:inspection_plan", args=[plan.pk]))
        except submissions.AlreadySubmitted as sent:
            messages.info(request, submissions.ALREADY_SUBMITTED_MESSAGE)
            return redirect(sent.url or reverse("reports:inspection_plans"))
        except ValidationError as err:
            _apply_errors(form, err)
        else:
            messages.success(request, _("Đã lập kế hoạch kiểm tra, giám sát năm %(y)s.") % {"y": plan.year})
            return redirect("reports:inspection_plan", plan_id=plan.pk)
    return render(request, T + "plan_form.html", {"form": form, "plan": None, "errors": _error_summary(_form_errors(form))},
                  status=400 if form.errors else 200)


@login_required
def plan_detail(request, plan_id):
    plan = _plan_or_404(request, plan_id)
    return render(request, T + "plan_detail.html", {
        "plan": plan, "missions": sel.missions_of(plan), "can_manage": bool(can(request.user, "inspection.manage")),
    })


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request, plan_id):
    plan = _plan_or_404(request, plan_id)
    _require(request.user, "inspection.manage", plan)
    initial = {f: getattr(plan, f) for f in svc.PLAN_FIELDS}
    initial["revision"] = plan.revision
    form = InspectionPlanForm(request.POST if request.method == "POST" else None, initial=initial, plan=plan)
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("year", "revision")}
        status = _save_edit(request, form, lambda revision: svc.inspection_plan_update(
            actor=request.user, plan=plan, revision=revision, **data),
            reverse("reports:inspection_plan", args=[plan.pk]), _("Đã lưu kế hoạch."))
        if not isinstance(status, int):
            return status
    return render(request, T + "plan_form.html", {"form": form, "plan": plan, "errors": _error_summary(_form_errors(form))},
                  status=status)


# --- missions ------------------------------------------------------------------------------------------

def _mission_or_404(request, mission_id):
    mission = sel.mission_for(request.user, mission_id)
    if mission is None:
        raise Http404(_("Không tìm thấy đoàn kiểm tra."))
    return mission


def _mission_form_page(request, plan, mission=None):
    """Add or edit a mission. The đề án filter (plan year, status) is part of the form: its button
    (``DeAnFilterForm.BUTTON``) shows the page again with the list filtered and everything typed kept,
    and saves nothing; ``?de_an_year=&de_an_status=`` in the address pre-filter the list."""
    from projects.models import Status

    from .inspection_services import INSPECTABLE_STATUSES

    _require(request.user, "inspection.manage", mission or plan)
    posted = request.method == "POST"
    filtering = posted and DeAnFilterForm.BUTTON in request.POST
    params = request.POST if posted else request.GET
    filter_form = DeAnFilterForm(params if any(k in params for k in ("de_an_year", "de_an_status")) else None,
                                 statuses=[(s, Status(s).label) for s in INSPECTABLE_STATUSES])
    filters = filter_form.filters()
    keep = list(mission.de_an.values_list("pk", flat=True)) if mission else []
    initial, members_initial = {}, []
    if mission is not None:
        initial = {f: getattr(mission, f) for f in ("name", "start_date", "end_date", "legal_basis", "contents_to_check",
                                                     "sites", "expected_outputs", "follow_up_deadline")}
        initial["provinces"] = list(mission.provinces.all())
        initial["de_an"] = keep
        initial["revision"] = mission.revision
        members_initial = [{"full_name": m.full_name, "job_title": m.job_title, "unit": m.unit, "role": m.role}
                           for m in mission.members.order_by("order", "id")]
    elif not posted:
        members_initial = [{"role": MemberRole.LEAD}]
    data = request.POST if posted else None
    form = MissionForm(data, initial=initial, plan=plan, de_an_year=filters.get("de_an_year"),
                       de_an_status=filters.get("de_an_status"), keep=keep, redisplay=filtering,
                       editing=mission is not None)
    members = MemberFormSet(data, initial=members_initial, prefix="members", redisplay=filtering)
    status = 400 if (posted and not filtering) or filter_form.errors else 200
    member_errors = []  # the service's refusal of the members (one lead): under «Thành viên đoàn»

    def apply_errors(form, err):
        if hasattr(err, "error_dict") and "members" in err.error_dict:
            member_errors.extend(err.message_dict["members"])
            err = ValidationError({k: v for k, v in err.error_dict.items() if k != "members"}) if len(err.error_dict) > 1 else None
        if err is not None:
            _apply_errors(form, err)

    if posted and not filtering and form.is_valid() and members.is_valid():
        values = dict(form.cleaned_data)
        values.pop("revision", None)
        values["members"] = [m for m in members.cleaned_data if m.get("full_name")]
        if mission is not None:
            status = _save_edit(request, form, lambda revision: svc.mission_update(
                actor=request.user, mission=mission, revision=revision, **values),
                reverse("reports:inspection_mission", args=[mission.pk]), _("Đã lưu đoàn kiểm tra."),
                apply_errors=apply_errors)
            if not isinstance(status, int):
                return status
        else:
            try:
                with transaction.atomic():
                    claim = submissions.claim(request)  # the same form sent twice makes one mission
                    mission = svc.mission_create(actor=request.user, plan=plan, **values)
                    claim.done(reverse("reports:inspection_mission", args=[mission.pk]))
            except submissions.AlreadySubmitted as sent:
                messages.info(request, submissions.ALREADY_SUBMITTED_MESSAGE)
                return redirect(sent.url or reverse("reports:inspection_plan", args=[plan.pk]))
            except ValidationError as err:
                apply_errors(form, err)
            else:
                messages.success(request, _("Đã thêm đoàn kiểm tra."))
                return redirect("reports:inspection_mission", mission_id=mission.pk)
    member_rows = [] if filtering else [
        item for n, row in enumerate(members.forms, 1)
        for item in _form_errors(row, _("Thành viên %(n)s") % {"n": n})]
    errors = _error_summary(
        _form_errors(form), _form_errors(filter_form),
        [{"anchor": "members", "text": str(e)} for e in [*member_errors, *members.non_form_errors()]], member_rows)
    return render(request, T + "mission_form.html", {
        "form": form, "members": members, "plan": plan, "mission": mission, "filter_form": filter_form,
        "filter_button": DeAnFilterForm.BUTTON, "filtered": filtering, "member_errors": member_errors,
        "errors": errors,
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def mission_create(request, plan_id):
    plan = _plan_or_404(request, plan_id)
    return _mission_form_page(request, plan)


@login_required
@require_http_methods(["GET", "POST"])
def mission_edit(request, mission_id):
    mission = _mission_or_404(request, mission_id)
    return _mission_form_page(request, mission.plan, mission)


@login_required
def mission_detail(request, mission_id):
    mission = _mission_or_404(request, mission_id)
    return render(request, T + "mission_detail.html", {
        "mission": mission, "plan": mission.plan, "members": mission.members.order_by("order", "id"),
        "provinces": in_vietnamese_order(mission.provinces.all()), "de_an": sel.mission_de_an(mission),
        "can_manage": bool(can(request.user, "inspection.manage", mission)),
    })


@login_required
@require_http_methods(["GET", "POST"])
def mission_delete(request, mission_id):
    """GET: the confirmation page; POST: delete (refused when the mission has records)."""
    mission = _mission_or_404(request, mission_id)
    _require(request.user, "inspection.manage", mission)
    if request.method == "POST":
        plan_id = mission.plan_id
        try:
            svc.mission_delete(actor=request.user, mission=mission)
        except ValidationError as err:
            messages.error(request, " ".join(err.messages))
            return redirect("reports:inspection_mission", mission_id=mission.pk)
        messages.success(request, _("Đã xóa đoàn kiểm tra."))
        return redirect("reports:inspection_plan", plan_id=plan_id)
    return render(request, T + "confirm_delete.html", {"mission": mission, "has_records": mission.records.exists()})


# --- records ---------------------------------------------------------------------------------------------

@login_required
def record_list(request):
    form = RecordFilterForm(request.GET or None, user=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = sel.record_list(request.user, year=filters.get("year"), province=filters.get("province"),
                         conclusion=filters.get("conclusion") or None)
    page, query = _page(request, qs)
    return render(request, T + "record_list.html", {
        "form": form, "page": page, "query_no_page": query, "can_manage": bool(can(request.user, "inspection.manage")),
    })


def _record_or_404(request, record_id):
    record = sel.record_for(request.user, record_id)
    if record is None:
        raise Http404(_("Không tìm thấy biên bản kiểm tra."))
    return record


def _recommendation_inputs(formset):
    rows = []
    for row, data in enumerate(formset.cleaned_data, 1):
        if not data or (not data.get("id") and not (data.get("text") or "").strip()):
            continue
        rows.append(svc.RecommendationInput(text=data.get("text") or "", deadline=data.get("deadline"),
                                            id=data.get("id"), delete=bool(data.get("delete")), row=row))
    return rows


def _apply_record_errors(form, recs, err):
    """``_apply_errors``, except that each recommendation row's error is put on that row's field (the
    service names the row and the field in the error's params), once: the error summary lists it there,
    linked to the field; one naming no row it can be put on stays on top of the form."""
    if not hasattr(err, "error_dict") or "recommendations" not in err.error_dict:
        _apply_errors(form, err)
        return
    unplaced = []
    for e in err.error_dict["recommendations"]:
        params = e.params if isinstance(e.params, dict) else {}
        row, field = params.get("n"), params.get("field")
        if isinstance(row, int) and 1 <= row <= len(recs.forms) and field in recs.forms[row - 1].fields:
            recs.forms[row - 1].add_error(field, e)
        else:
            unplaced.append(e)
    rest = {k: v for k, v in err.error_dict.items() if k != "recommendations"}
    if unplaced:
        rest["recommendations"] = unplaced
    if rest:
        _apply_errors(form, ValidationError(rest))


def _record_form_page(request, record=None):
    _require(request.user, "inspection.manage", record)
    mission = None
    if record is not None:
        mission = record.mission
    elif _number(request.GET.get("mission")) is not None:
        mission = sel.mission_for(request.user, _number(request.GET.get("mission")))
        if mission is None:
            raise Http404(_("Không tìm thấy đoàn kiểm tra."))
    if record is not None:
        from projects.models import DeAn

        de_an_qs = DeAn.objects.filter(pk=record.de_an_id).select_related("current_province", "province")
    elif mission is not None:
        de_an_qs = mission.de_an.select_related("current_province", "province").order_by("current_province__code", "code")
    else:
        de_an_qs = svc.inspectable_de_an(year=timezone.localdate().year)
    initial, recs_initial = {}, []
    if record is not None:
        initial = {f: getattr(record, f) for f in (*svc.RECORD_TEXT_FIELDS, *svc.RECORD_NUMBER_FIELDS, "conclusion",
                                                    "inspected_on")}
        initial["revision"] = record.revision
        recs_initial = [{"id": r.pk, "text": r.text, "deadline": r.deadline} for r in record.recommendations.all()]
    else:
        initial = {"inspected_on": timezone.localdate()}
        if _number(request.GET.get("de_an")) is not None:
            initial["de_an"] = _number(request.GET.get("de_an"))
        if mission is not None:
            initial.update(legal_basis=mission.legal_basis, team=svc.mission_team_text(mission))
            today = timezone.localdate()
            if mission.start_date and not (mission.start_date <= today <= (mission.end_date or today)):
                initial["inspected_on"] = mission.start_date  # a day inside the mission's dates
    data = request.POST if request.method == "POST" else None
    form = InspectionRecordForm(data, initial=initial, de_an_queryset=de_an_qs,
                                fixed_de_an=record.de_an if record else None)
    recs = RecommendationFormSet(data, initial=recs_initial, prefix="recs")
    if mission is not None and mission.follow_up_deadline:
        # New recommendations are due when the mission asked for the remedial report; a row left without
        # text is ignored whatever its date.
        for extra in recs.forms[len(recs_initial):]:
            extra.fields["deadline"].initial = mission.follow_up_deadline
    locked = {r.pk for r in record.recommendations.all() if r.status != FollowUp.OPEN} if record else set()
    status = 400 if request.method == "POST" else 200
    # What was typed, as the form read it (a service error put on a field later drops it from cleaned_data).
    typed = {}
    if request.method == "POST":
        form.is_valid()
        typed = dict(form.cleaned_data)
    if request.method == "POST" and form.is_valid() and recs.is_valid():
        values = dict(form.cleaned_data)
        de_an = values.pop("de_an")
        inspected_on = values.pop("inspected_on")
        values.pop("revision", None)
        if record is not None:
            # A resend of this form (its key claimed, or its revision already saved) adds no recommendation twice.
            status = _save_edit(request, form, lambda revision: svc.inspection_record_update(
                actor=request.user, record=record, revision=revision, inspected_on=inspected_on,
                recommendations=_recommendation_inputs(recs), **values),
                reverse("reports:inspection_record", args=[record.pk]), _("Đã lưu biên bản kiểm tra."),
                apply_errors=lambda form, err: _apply_record_errors(form, recs, err))
            if not isinstance(status, int):
                return status
        else:
            try:
                with transaction.atomic():
                    claim = submissions.claim(request)  # the same form sent twice makes one record
                    record = svc.inspection_record_create(actor=request.user, de_an=de_an, mission=mission,
                                                          inspected_on=inspected_on,
                                                          recommendations=_recommendation_inputs(recs), **values)
                    claim.done(reverse("reports:inspection_record", args=[record.pk]))
            except submissions.AlreadySubmitted as sent:
                messages.info(request, submissions.ALREADY_SUBMITTED_MESSAGE)
                return redirect(sent.url or reverse("reports:inspection_records"))
            except ValidationError as err:
                _apply_record_errors(form, recs, err)
            else:
                messages.success(request, _("Đã lập biên bản kiểm tra."))
                return redirect("reports:inspection_record", record_id=record.pk)
    # A disbursed amount above the đề án's approved amount: the box confirming it shows (and is required).
    approved = svc.disbursed_over_approved(record.de_an if record else typed.get("de_an"), typed.get("disbursed_amount"),
                                           record.disbursed_amount if record else None)
    if approved is not None:
        form.ask_over_approved(approved)
    rec_rows = [item for n, row in enumerate(recs.forms, 1) for item in _form_errors(row, _("Kiến nghị %(n)s") % {"n": n})]
    errors = _error_summary(_form_errors(form), [{"anchor": "recommendations", "text": str(e)} for e in recs.non_form_errors()],
                            rec_rows)
    # The row «Thêm kiến nghị» adds (static/js/form_rows.js): the formset's empty form, due when the mission
    # asked for the remedial report, like the extra rows.
    rec_empty = recs.empty_form
    if mission is not None and mission.follow_up_deadline:
        rec_empty.fields["deadline"].initial = mission.follow_up_deadline
    return render(request, T + "record_form.html", {
        "form": form, "recs": recs, "rec_empty": rec_empty, "record": record, "mission": mission, "locked": locked,
        "errors": errors, "approved": svc.approved_amount(record.de_an) if record else None,
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def record_create(request):
    return _record_form_page(request)


@login_required
@require_http_methods(["GET", "POST"])
def record_edit(request, record_id):
    record = _record_or_404(request, record_id)
    return _record_form_page(request, record)


@login_required
def record_detail(request, record_id):
    record = _record_or_404(request, record_id)
    today = timezone.localdate()
    recommendations = list(record.recommendations.all())
    for r in recommendations:
        r.overdue = r.is_overdue(today)
        r.can_answer = bool(can(request.user, "inspection.answer", r))
        r.can_close = bool(can(request.user, "inspection.close", r))
    return render(request, T + "record_detail.html", {
        "record": record, "recommendations": recommendations, "attachment_form": InspectionAttachmentForm(),
        "approved": svc.approved_amount(record.de_an),
        "can_manage": bool(can(request.user, "inspection.manage", record)),
        "can_see_plan": is_nationwide(request.user),
    })


# --- recommendations -------------------------------------------------------------------------------------

@login_required
def recommendation_list(request):
    form = RecommendationFilterForm(request.GET or None, user=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = sel.recommendation_list(request.user, status=filters.get("status") or None, overdue=filters.get("overdue"),
                                 province=filters.get("province"))
    page, query = _page(request, qs)
    today = timezone.localdate()
    nationwide = is_nationwide(request.user)
    local_writer = request.user.role in ("centre", "province")
    for r in page.object_list:
        r.overdue = r.is_overdue(today)
        r.can_answer = local_writer and r.status != FollowUp.CLOSED
        r.can_close = nationwide and r.status != FollowUp.CLOSED
        # One not answered needs a reason to be closed: its own page has the form for it.
        r.close_needs_reason = r.status == FollowUp.OPEN
    return render(request, T + "recommendation_list.html", {"form": form, "page": page, "query_no_page": query})


def _recommendation_or_404(request, recommendation_id):
    rec = sel.recommendation_for(request.user, recommendation_id)
    if rec is None:
        raise Http404(_("Không tìm thấy kiến nghị."))
    return rec


def _answer_initial(rec):
    """The answer form as last sent: its text and, while that answer stands (answered), its date — not
    today's, so sending it again unchanged does not move the reported date. Reopened (open again), a
    new report is due: its date starts at today."""
    initial = {"response": rec.response}
    if rec.responded_at and rec.status == FollowUp.ANSWERED:
        initial["responded_on"] = timezone.localdate(rec.responded_at)
    return initial


def _recommendation_page(request, rec, *, answer=None, close=None, reopen=None, evidence=None, status=200):
    rec.overdue = rec.is_overdue()
    files = list(rec.evidence.all())
    for file in files:
        file.can_delete = bool(can(request.user, "inspection.evidence_delete", file))
    # A form sent with errors: the summary at the top (it takes the focus) links to its fields lower down.
    errors = _error_summary(*[_form_errors(form) for form in (answer, close, reopen, evidence) if form is not None])
    return render(request, T + "recommendation_detail.html", {
        "errors": errors,
        "rec": rec, "record": rec.record, "history": svc.recommendation_history(rec),
        "can_answer": bool(can(request.user, "inspection.answer", rec)),
        "can_close": bool(can(request.user, "inspection.close", rec)),
        "can_reopen": bool(can(request.user, "inspection.reopen", rec)),
        "can_add_evidence": bool(can(request.user, "inspection.evidence_add", rec)),
        "evidence_files": files, "evidence_max": svc.EVIDENCE_MAX_FILES,
        "answer_form": answer or AnswerForm(initial=_answer_initial(rec)),
        "close_form": close or CloseForm(unanswered=rec.status == FollowUp.OPEN), "reopen_form": reopen or ReopenForm(),
        "evidence_form": evidence or EvidenceForm(),
    }, status=status)


@login_required
def recommendation_detail(request, recommendation_id):
    return _recommendation_page(request, _recommendation_or_404(request, recommendation_id))


@login_required
@require_POST
def recommendation_answer(request, recommendation_id):
    rec = _recommendation_or_404(request, recommendation_id)
    _require(request.user, "inspection.answer", rec)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            svc.recommendation_answer(actor=request.user, recommendation=rec, **form.cleaned_data)
        except ValidationError as err:
            _apply_errors(form, err)
        else:
            messages.success(request, _("Đã gửi báo cáo khắc phục kiến nghị."))
            return redirect("reports:inspection_recommendation", recommendation_id=rec.pk)
    return _recommendation_page(request, rec, answer=form, status=400)


@login_required
@require_POST
def recommendation_close(request, recommendation_id):
    rec = _recommendation_or_404(request, recommendation_id)
    _require(request.user, "inspection.close", rec)
    form = CloseForm(request.POST, unanswered=rec.status == FollowUp.OPEN)
    if form.is_valid():
        try:
            svc.recommendation_close(actor=request.user, recommendation=rec, comment=form.cleaned_data["comment"])
        except ValidationError as err:
            # Reopened since this page read it (a race): the form now asks for the reason and says so itself.
            reasked = not form.unanswered
            if reasked:
                form = CloseForm(request.POST, unanswered=True)
            if form.is_valid() or not reasked:
                _apply_errors(form, err)
        else:
            messages.success(request, _("Đã đóng kiến nghị (đã hoàn thành)."))
            nxt = request.POST.get("next", "")
            if nxt.startswith("/bao-cao/kiem-tra/") and "//" not in nxt:
                return redirect(nxt)
            return redirect("reports:inspection_recommendation", recommendation_id=rec.pk)
    return _recommendation_page(request, rec, close=form, status=400)


@login_required
@require_POST
def recommendation_reopen(request, recommendation_id):
    rec = _recommendation_or_404(request, recommendation_id)
    _require(request.user, "inspection.reopen", rec)
    form = ReopenForm(request.POST)
    if form.is_valid():
        try:
            svc.recommendation_reopen(actor=request.user, recommendation=rec, comment=form.cleaned_data["comment"])
        except ValidationError as err:
            _apply_errors(form, err)
        else:
            messages.success(request, _("Đã mở lại kiến nghị."))
            return redirect("reports:inspection_recommendation", recommendation_id=rec.pk)
    return _recommendation_page(request, rec, reopen=form, status=400)


# --- photos and attachments ---------------------------------------------------------------------------------

@login_required
@require_POST
def attachment_add(request, record_id):
    record = _record_or_404(request, record_id)
    _require(request.user, "inspection.manage", record)
    form = InspectionAttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    else:
        try:
            with transaction.atomic():
                claim = submissions.claim(request)  # the same upload sent twice is stored once
                svc.inspection_attachment_add(actor=request.user, record=record, file=form.cleaned_data["file"],
                                              description=form.cleaned_data["description"])
                claim.done(reverse("reports:inspection_record", args=[record.pk]))
        except submissions.AlreadySubmitted:
            messages.info(request, submissions.ALREADY_SUBMITTED_MESSAGE)
        except ValidationError as err:
            messages.error(request, " ".join(err.messages))
        else:
            messages.success(request, _("Đã thêm tệp vào biên bản."))
    return redirect("reports:inspection_record", record_id=record.pk)


def _attachment_or_404(request, attachment_id):
    from khuyencong.access import visible_inspection_attachments

    attachment = visible_inspection_attachments(request.user).select_related("record").filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404(_("Không tìm thấy tệp."))
    return attachment


@login_required
def attachment_download(request, attachment_id):
    """Private file after the scope check (there is no public media URL)."""
    return _private_file(request, _attachment_or_404(request, attachment_id))


def _private_file(request, stored):
    """A stored upload (``file``, ``original_name``, ``content_type``) as a private download; PDFs and
    photos shown in the browser with ``?xem=1``."""
    from projects.services import sanitise_filename

    try:
        handle = stored.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404(_("Tệp không còn trong kho lưu trữ.")) from None
    inline = request.GET.get("xem") == "1" and stored.content_type in ("application/pdf", "image/png", "image/jpeg")
    response = FileResponse(handle, as_attachment=not inline, filename=sanitise_filename(stored.original_name),
                            content_type=stored.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def attachment_delete(request, attachment_id):
    attachment = _attachment_or_404(request, attachment_id)
    _require(request.user, "inspection.manage", attachment)
    record_id = attachment.record_id
    svc.inspection_attachment_delete(actor=request.user, attachment=attachment)
    messages.success(request, _("Đã xóa tệp."))
    return redirect("reports:inspection_record", record_id=record_id)


# --- evidence files of a remedial report -----------------------------------------------------------------

@login_required
@require_POST
def evidence_add(request, recommendation_id):
    """Upload a photo or scanned document with the remedial report. Refused (wrong type, too big, closed
    meanwhile): the recommendation's page again (400), the reason on the form, nothing stored."""
    rec = _recommendation_or_404(request, recommendation_id)
    _require(request.user, "inspection.evidence_add", rec)
    form = EvidenceForm(request.POST, request.FILES)
    done = reverse("reports:inspection_recommendation", args=[rec.pk])  # its message and files are at the top
    if form.is_valid():
        try:
            with transaction.atomic():
                claim = submissions.claim(request)  # the same upload sent twice is stored once
                svc.recommendation_evidence_add(actor=request.user, recommendation=rec, file=form.cleaned_data["file"],
                                                description=form.cleaned_data["description"])
                claim.done(done)
        except submissions.AlreadySubmitted as sent:
            messages.info(request, submissions.ALREADY_SUBMITTED_MESSAGE)
            return redirect(sent.url or done)
        except PermissionDenied as err:  # closed while the file was on its way
            form.add_error(None, str(err))
        except ValidationError as err:
            _apply_errors(form, err)
        else:
            messages.success(request, _("Đã thêm tệp minh chứng vào báo cáo khắc phục."))
            return redirect(done)
    return _recommendation_page(request, rec, evidence=form, status=400)


def _evidence_or_404(request, recommendation_id, evidence_id):
    """An evidence file of that recommendation the user may see; anything else (another province's,
    another recommendation's id) is not found."""
    from khuyencong.access import visible_recommendation_evidence

    evidence = (visible_recommendation_evidence(request.user)
                .select_related("recommendation__record__de_an__current_province", "uploaded_by")
                .filter(pk=evidence_id, recommendation_id=recommendation_id).first())
    if evidence is None:
        raise Http404(_("Không tìm thấy tệp."))
    return evidence


@login_required
def evidence_download(request, recommendation_id, attachment_id):
    """Private file after the scope check (there is no public media URL)."""
    return _private_file(request, _evidence_or_404(request, recommendation_id, attachment_id))


@login_required
@require_http_methods(["GET", "POST"])
def evidence_delete(request, recommendation_id, attachment_id):
    """GET: the confirmation page; POST: delete (the uploader's province, while not closed)."""
    evidence = _evidence_or_404(request, recommendation_id, attachment_id)
    _require(request.user, "inspection.evidence_delete", evidence)
    done = reverse("reports:inspection_recommendation", args=[recommendation_id])
    if request.method == "POST":
        try:
            svc.recommendation_evidence_delete(actor=request.user, evidence=evidence)
        except PermissionDenied as err:  # closed meanwhile
            messages.error(request, str(err))
        except ValidationError as err:
            messages.error(request, " ".join(err.messages))
        else:
            messages.success(request, _("Đã xóa tệp minh chứng «%(n)s».") % {"n": evidence.original_name})
        return redirect(done)
    return render(request, T + "evidence_confirm_delete.html", {
        "evidence": evidence, "rec": evidence.recommendation, "back": done})
