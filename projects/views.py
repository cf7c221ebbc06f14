"""Đề án pages. Thin: every object comes through ``khuyencong.access`` scoping (via the selectors),
every write goes through ``projects.services``; a refusal is shown as its Vietnamese message and
leaves the data untouched. Another province's đề án, attachment or establishment is a 404.
"""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from khuyencong import access, submissions
from khuyencong.choices import FundingSource, Level
from khuyencong.formatting import format_dong, format_number
from khuyencong.models import ActivityContent
from khuyencong.security import private_download, whole_numbers

from . import exports, selectors, services, workflow
from .forms import (
    AttachmentForm,
    BeneficiaryFormSet,
    BudgetLineFormSet,
    BulkApproveForm,
    CommentForm,
    DeAnForm,
    TransitionForm,
    filter_choices,
)
from .models import AdjustmentStatus, Attachment, AttachmentKind, DeAn, Kind, Status

PAGE_SIZES = (20, 50, 100)
DEFAULT_PAGE_SIZE = 50


# --- helpers ------------------------------------------------------------------------------------

def _de_an_or_404(user, pk):
    """The đề án if ``user`` may see it (404 otherwise: we do not say whether it exists)."""
    de_an = access.visible_de_an(user).select_related("current_province", "province").filter(pk=pk).first()
    if de_an is None:
        raise Http404(_("Không tìm thấy đề án."))
    return de_an


def _int(value, default, lo=1, hi=None):
    try:
        n = int(value)
    except (TypeError, ValueError):
        return default
    if n < lo:
        return default
    return min(n, hi) if hi else n


class Page:
    """One page of a big list, cheap at any page number.

    * The page's rows come from one query whose ids are chosen in a subquery (an index-only scan on
      the sort index); past the middle of the list the subquery walks the index from the other end
      (the last page costs what the first costs).
    * ``count`` is exact, except for searches: counting every row that matches a common word means
      re-reading thousands of rows, so at most ``COUNT_CAP`` + 1 are counted ("hơn 500").
    """

    COUNT_CAP = 500

    def __init__(self, queryset, number, size, *, capped=False):
        self.size = size
        counted = queryset.order_by().values("pk")
        if capped:
            n = counted[:self.COUNT_CAP + 1].count()
            self.count_is_exact = n <= self.COUNT_CAP
        else:
            n = counted.count()
            self.count_is_exact = True
        self.count = n
        self.num_pages = max(1, -(-n // size))
        if self.count_is_exact:
            number = min(number, self.num_pages)
        self.number = number
        offset = (number - 1) * size
        rows = []
        if n and (offset < n or not self.count_is_exact):
            if queryset.query.distinct:
                rows = list(queryset[offset:offset + size + 1])
            elif offset == 0:
                rows = list(queryset[:size + 1])
            elif self.count_is_exact and offset > n // 2:
                # Closer to the end: take the ids from the end of the reversed order.
                take = min(size, n - offset)
                start = n - offset - take
                ids = queryset.reverse().values("pk")[start:start + take]
                rows = list(queryset.filter(pk__in=ids))
            else:
                ids = queryset.values("pk")[offset:offset + size + 1]
                rows = list(queryset.filter(pk__in=ids))
        self.has_more = len(rows) > size or (self.count_is_exact and offset + size < n)
        self.object_list = rows[:size]
        self.start_index = offset + 1 if self.object_list else 0
        self.end_index = offset + len(self.object_list)

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)

    @property
    def has_previous(self):
        return self.number > 1

    @property
    def has_next(self):
        return self.has_more

    def page_links(self):
        """Page numbers to show: first, last and a window around the current page (None = gap)."""
        last = self.num_pages if self.count_is_exact else max(self.num_pages, self.number + (1 if self.has_more else 0))
        pages = sorted({1, last, *range(max(1, self.number - 2), min(last, self.number + 2) + 1)})
        result, previous = [], 0
        for p in pages:
            if p - previous > 1:
                result.append(None)
            result.append(p)
            previous = p
        return result


def _query_without(request, *names):
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


def _page_size(request):
    size = _int(request.GET.get("size"), DEFAULT_PAGE_SIZE)
    return size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE


def _paginate(request, queryset, *, capped=False):
    return Page(queryset, _int(request.GET.get("page"), 1, hi=1_000_000), _page_size(request), capped=capped)


_OPTIONS_CACHE = {}


def _options_html(choices, blank=None):
    parts = [format_html('<option value="">{}</option>', blank)] if blank is not None else []
    parts.extend(format_html('<option value="{}">{}</option>', value, label) for value, label in choices)
    return "".join(parts)


def _select(html, selected):
    """Mark the chosen values of an options string (values are unique within one select)."""
    for value in {str(v) for v in selected if v not in (None, "")}:
        needle = format_html('value="{}"', value)
        html = html.replace(needle + ">", needle + " selected>", 1)
    return mark_safe(html)


def _filter_options(request):
    """``<option>`` tags of the filter selects, built once per language (and per change of the
    reference lists) in Python: a few hundred options through template tags cost tens of
    milliseconds per page; marking the chosen ones costs microseconds."""
    c = filter_choices(request.user)
    key = (get_language(), c["generation"])
    cached = _OPTIONS_CACHE.get(key)
    if cached is None:
        everything = _("Tất cả")
        former = _("(trước 07/2025)")
        cached = {
            "year": _options_html([(y, y) for y in c["years"]], everything),
            "level": _options_html(Level.choices, everything),
            "kind": _options_html(Kind.choices, everything),
            "status": _options_html(Status.choices, everything),
            "current_province": _options_html(c["provinces_current"], everything),
            "province": _options_html([(pk, f"{name} {former}" if era == "former" else name)
                                       for pk, name, era in c["provinces_all"]], everything),
            "content": _options_html([(pk, f"{code}. {name[:50]}{'…' if len(name) > 50 else ''} ({instrument})")
                                      for pk, code, name, instrument in c["areas"]], everything),
            "implementing_unit": _options_html([(pk, f"{name} {former}" if era == "former" else name)
                                                for pk, name, era in c["units"]], everything),
            "size": _options_html([(s, s) for s in PAGE_SIZES]),
        }
        _OPTIONS_CACHE.clear()
        _OPTIONS_CACHE[key] = cached
    get = request.GET.getlist
    result = {name: _select(html, get(name)) for name, html in cached.items() if name != "size"}
    result["size"] = _select(cached["size"], [_page_size(request)])
    return result


LIST_COLUMNS = (
    "code", "name", "level", "kind", "plan_year", "status", "total_amount", "national_amount",
    "implementing_unit_name", "province_id", "current_province_id", "implementing_unit_id",
    "province__name", "province__era", "current_province__name", "implementing_unit__name",
)


def _list_columns(queryset):
    return (queryset.prefetch_related(None).select_related(None)
            .select_related("province", "current_province", "implementing_unit").only(*LIST_COLUMNS))


_ROW = (
    '<tr>{check}<td class="code">{code}</td><td><a href="{url}">{name}</a><div class="muted">{level} · {kind}</div></td>'
    '<td>{year}</td><td>{province}{recorded}</td><td>{unit}</td><td class="num">{total}</td>'
    '<td class="num">{national}</td><td><span class="status status-{status}">{status_label}</span></td></tr>'
)


def _rows_html(rows, *, can_bulk_approve, checked=(), row=None, extra=None):
    """The list's table rows, rendered in Python: at 50 rows the template engine costs more than the
    database; the output is the same markup (escaped with ``format_html``). ``checked``: the ids
    whose bulk-approval box stays ticked (a refused bulk approval shown again). ``row`` and ``extra``
    (a function of the đề án giving more fields) let the queue add its own columns."""
    checked = {int(pk) for pk in checked}
    levels = {k: str(v) for k, v in Level.choices}
    kinds = {k: str(v) for k, v in Kind.choices}
    statuses = {k: str(v) for k, v in Status.choices}
    prefix = reverse("projects:list")
    choose = _("Chọn")
    recorded_text = _("(khi đăng ký: %(p)s)")
    parts = []
    for d in rows:
        check = ""
        if can_bulk_approve:
            check = format_html(
                '<td><input type="checkbox" data-national="{}" name="ids" value="{}" form="bulk-form"'
                ' aria-label="{} {}"{}></td>',
                d.national_amount, d.pk, choose, d.code, mark_safe(" checked") if d.pk in checked else "",
            ) if d.status == "under_appraisal" else mark_safe("<td></td>")
        recorded = ""
        if d.province_id != d.current_province_id:
            recorded = format_html('<div class="muted">{}</div>', recorded_text % {"p": d.province.era_name})
        unit = d.implementing_unit.name if d.implementing_unit_id else (d.implementing_unit_name or "—")
        parts.append(format_html(
            row or _ROW, check=check, code=d.code, url=f"{prefix}{d.pk}/", name=d.name,
            level=levels.get(d.level, d.level), kind=kinds.get(d.kind, d.kind), year=d.plan_year,
            province=d.current_province.name, recorded=recorded, unit=unit, total=format_dong(d.total_amount),
            national=format_dong(d.national_amount), status=d.status, status_label=statuses.get(d.status, d.status),
            **(extra(d) if extra else {})))
    return mark_safe("".join(parts))


def _can_bulk_approve(user):
    return access.is_reviewer(user) or access.is_admin(user)


# --- list, queue, export -----------------------------------------------------------------------

@login_required
@require_GET
def de_an_list(request):
    return _list_page(request)


def _list_page(request, *, status=200, **extra):
    # The rows show no contents: the page then costs two queries (count, rows) whatever its size;
    # only the columns the rows show are read.
    qs = _list_columns(selectors.de_an_list(user=request.user, filters=request.GET))
    page = _paginate(request, qs, capped=bool(selectors.search_terms(request.GET.get("q"))))
    sort = request.GET.get("sort") or selectors.DEFAULT_SORT
    can_bulk_approve = _can_bulk_approve(request.user)
    context = {
        "page": page,
        "filters": request.GET,
        "options": _filter_options(request),
        "sort": sort,
        "query_no_page": _query_without(request, "page"),
        "query_no_sort": _query_without(request, "page", "sort"),
        "export_query": _query_without(request, "page", "size"),
        "can_create": access.can(request.user, "de_an.create", None).allowed,
        "can_bulk_approve": can_bulk_approve,
        "rows_html": _rows_html(page.object_list, can_bulk_approve=can_bulk_approve,
                                checked=extra.get("bulk_checked", ())),
        **extra,
    }
    return render(request, "projects/list.html", context, status=status)



@login_required
@require_GET
def queue(request):
    """"What waits for me": the đề án on which the user's role has the next move."""
    return _queue_page(request)


def _queue_page(request, *, status=200, **extra):
    # The list's filters inside the queue's scope; the page costs the same few queries (count, rows
    # with their waiting time from one subquery) whatever its size.
    filters = selectors.queue_filters(request.GET, user=request.user)
    sort = request.GET.get("sort")
    if sort not in selectors.QUEUE_SORTS:
        sort = selectors.DEFAULT_QUEUE_SORT
    page = _paginate(request, selectors.queue_for(request.user, filters=filters, sort=sort))
    can_bulk_approve = _can_bulk_approve(request.user)
    return render(request, "projects/queue.html", {
        "page": page,
        "filters": request.GET,
        "filters_active": bool(filters),
        "options": _queue_options(request, sort),
        "sort": sort,
        "sortable": True,
        "query_no_page": _query_without(request, "page"),
        "query_no_sort": _query_without(request, "page", "sort"),
        "can_bulk_approve": can_bulk_approve,
        "rows_html": _queue_rows_html(page.object_list, can_bulk_approve=can_bulk_approve,
                                      checked=extra.get("bulk_checked", ())),
        **extra,
    }, status=status)


def _queue_sort_choices():
    return (
        ("-waiting", _("Chờ lâu nhất trước")), ("waiting", _("Chờ ít nhất trước")),
        ("code", _("Mã đề án (A → Z)")), ("-code", _("Mã đề án (Z → A)")),
        ("name", _("Tên đề án (A → Z)")), ("-name", _("Tên đề án (Z → A)")),
        ("-total", _("Tổng kinh phí (lớn → nhỏ)")), ("total", _("Tổng kinh phí (nhỏ → lớn)")),
    )


def _queue_options(request, sort):
    """The queue's filter selects: the list's (``_filter_options``), with the statuses narrowed to those
    the user's queue can hold and, for a local account, the provinces to its own (and the former ones
    merged into it): a filter offers nothing the user may not see."""
    from khuyencong.models import Province

    user = request.user
    get = request.GET.getlist
    options = _filter_options(request)
    everything = _("Tất cả")
    labels = dict(Status.choices)
    states = selectors.queue_states(user.role) if access.is_active_user(user) else []
    options["status"] = _select(_options_html([(s, labels[s]) for s in states], everything), get("status"))
    if not access.is_nationwide(user):
        province_id = access.user_province_id(user)
        own = set()
        if province_id is not None:
            own = {province_id, *Province.objects.filter(successor_id=province_id).values_list("pk", flat=True)}
        c = filter_choices(user)
        former = _("(trước 07/2025)")
        options["current_province"] = _select(
            _options_html([(pk, name) for pk, name in c["provinces_current"] if pk in own], everything),
            get("current_province"))
        options["province"] = _select(
            _options_html([(pk, f"{name} {former}" if era == "former" else name)
                           for pk, name, era in c["provinces_all"] if pk in own], everything), get("province"))
    options["sort"] = _select(_options_html(_queue_sort_choices()), [sort])
    return options


_QUEUE_ROW = (
    '<tr>{check}<td class="code">{code}</td><td><a href="{url}">{name}</a><div class="muted">{level} · {kind}</div></td>'
    '<td>{year}</td><td>{province}{recorded}</td><td>{unit}</td><td class="num">{total}</td>'
    '<td><span class="status status-{status}">{status_label}</span></td>'
    '<td><time datetime="{since_iso}">{since}</time></td><td class="num">{days}</td></tr>'
)


def _queue_rows_html(rows, *, can_bulk_approve, checked=()):
    """The queue's table rows (``_rows_html`` with its own columns): when each đề án entered its status
    and the whole days it has waited since (Vietnam time)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(selectors.QUEUE_TIME_ZONE)
    today = timezone.localdate(timezone=zone)

    def waited(d):
        since = timezone.localtime(d.waiting_since, zone)
        return {"since_iso": since.isoformat(), "since": since.strftime("%H:%M %d/%m/%Y"),
                "days": format_number(selectors.days_waiting(since, today))}

    return _rows_html(rows, can_bulk_approve=can_bulk_approve, checked=checked, row=_QUEUE_ROW, extra=waited)


@login_required
@require_GET
def export_xlsx(request):
    """The filtered list (same filters as the page, same scoping) as an .xlsx file."""
    qs = selectors.de_an_list(user=request.user, filters=request.GET)
    limit = exports.max_rows()
    n = qs.order_by().values("pk")[:limit + 1].count()
    if n > limit:
        messages.error(request, _(
            "Danh sách có hơn %(n)s đề án, vượt giới hạn một lần xuất Excel; hãy lọc bớt (theo năm, cấp, "
            "tỉnh, thành phố, trạng thái…) rồi xuất lại.") % {"n": format_number(limit)})
        return redirect(reverse("projects:list") + ("?" + request.GET.urlencode() if request.GET else ""))
    stream = exports.de_an_workbook(qs)
    response = FileResponse(stream, as_attachment=True, filename="danh-sach-de-an.xlsx",
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return private_download(response)


@login_required
@require_http_methods(["GET", "POST"])
def bulk_approve(request):
    """The reviewer approves several đề án under one decision number: all or none."""
    if not _can_bulk_approve(request.user):
        raise PermissionDenied(_("Chỉ chuyên viên của Cục được phê duyệt đề án."))
    if request.method == "GET":
        # The address a refusal was shown at, opened again (language switch, reload from the address
        # bar): the queue, not a bare «405».
        return redirect("projects:queue")
    form = BulkApproveForm(request.POST)
    back = request.POST.get("next") or ""
    # Only a path of this site (the list or the queue it was sent from): no scheme, host or backslash.
    if not (back.startswith("/") and "\\" not in back
            and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})):
        back = reverse("projects:queue")
    if not form.is_valid():
        return _bulk_refused(request, back, form, [e for errors in form.errors.values() for e in errors])
    ids = form.cleaned_data["ids"]
    if access.visible_de_an(request.user).filter(pk__in=ids).count() != len(set(ids)):
        raise Http404(_("Không tìm thấy đề án."))
    try:
        approved = services.de_an_approve_many(
            actor=request.user, de_an_ids=ids, decision_number=form.cleaned_data["decision_number"],
            decision_date=form.cleaned_data["decision_date"], comment=form.cleaned_data["comment"])
    except services.WorkflowError as exc:
        return _bulk_refused(request, back, form, list(exc.messages))
    messages.success(request, _("Đã phê duyệt %(n)s đề án theo quyết định số %(d)s.")
                     % {"n": len(approved), "d": form.cleaned_data["decision_number"]})
    return redirect(back)


def _bulk_refused(request, back, form, errors):
    """The page the bulk approval was sent from, again (400), with the boxes still ticked, what was
    typed still in the fields and the reasons beside them; nothing was approved."""
    path, _sep, query = back.partition("?")
    request.GET = QueryDict(query)  # the list's filters, sort and page as they were
    extra = {"bulk_form": form, "bulk_errors": errors, "bulk_next": back,
             "bulk_checked": whole_numbers(request.POST.getlist("ids"))}
    if path == reverse("projects:list"):
        return _list_page(request, status=400, **extra)
    return _queue_page(request, status=400, **extra)


# --- detail, actions, comments ------------------------------------------------------------------

@login_required
@require_GET
def de_an_detail(request, pk):
    try:
        de_an = selectors.de_an_detail(user=request.user, pk=pk)
    except DeAn.DoesNotExist:
        raise Http404(_("Không tìm thấy đề án."))
    return render(request, "projects/detail.html", _detail_context(request, de_an))


# Messages about attachments are shown inside the "Tài liệu đính kèm" section (the page comes back
# scrolled to #tai-lieu, where a message at the top of the page would be out of view).
ATTACHMENT_MESSAGES = "tai-lieu"


def _section_messages(request):
    """The pending messages split: those tagged ``ATTACHMENT_MESSAGES`` for the attachments section,
    the others for the top of the page (the view's ``messages`` hides the context processor's)."""
    top, attachments = [], []
    for message in messages.get_messages(request):
        (attachments if ATTACHMENT_MESSAGES in (message.extra_tags or "").split() else top).append(message)
    return {"messages": top, "attachment_messages": attachments}


def _with_other_de_an(user, de_an):
    """The đề án's beneficiaries, each with ``others``: (other đề án the user may see it is in, of
    which supported) or None — what an appraiser checks before supporting it again."""
    counts = selectors.other_de_an_counts(user=user, de_an=de_an)
    links = list(de_an.beneficiaries.all())
    for link in links:
        link.others = counts.get(link.establishment_id)
    return links


def _detail_context(request, de_an, **extra):
    lines = list(de_an.budget_lines.all())
    totals = []
    for source, label in FundingSource.choices:
        amount = sum(line.amount for line in lines if line.source == source)
        totals.append({"source": source, "label": label, "amount": amount})
    steps = selectors.available_actions(user=request.user, de_an=de_an)
    forms = {s.action: TransitionForm(initial={"action": s.action, "amount": _default_amount(de_an, s.action),
                                               **_default_dates(s.action)})
             for s in steps}
    for action, form in extra.pop("transition_forms", {}).items():
        forms[action] = form
    # The revised-estimate inputs of an adjustment request: the lines of the đề án's own source, with
    # what was typed when the request comes back refused.
    own_source = FundingSource.NATIONAL if de_an.level == Level.NATIONAL else FundingSource.LOCAL
    adjust_form = forms.get("request_adjustment")
    adjust_lines = [
        {"line": line, "name": f"line-{line.pk}",
         "value": adjust_form.data.get(f"line-{line.pk}", "") if adjust_form.is_bound else format_number(line.amount)}
        for line in lines if line.source == own_source
    ] if adjust_form is not None else []
    user = request.user
    attachments = list(de_an.attachments.all())
    adjustments = list(de_an.adjustments.all())
    pending = next((a for a in adjustments if a.status == AdjustmentStatus.PENDING), None)
    notes = _money_notes(user, de_an, {s.action for s in steps}, pending)
    return {
        "de_an": de_an,
        "lines": lines,
        "totals": totals,
        "grand_total": sum(t["amount"] for t in totals),
        "beneficiaries": _with_other_de_an(user, de_an),
        "attachments": attachments,
        "contents": list(de_an.contents.all()),
        "adjustments": adjustments,
        "pending_adjustment": pending,
        "adjust_lines": adjust_lines,
        "own_money_label": _("kinh phí KCQG") if de_an.level == Level.NATIONAL else _("kinh phí KCĐP"),
        "actions": [{"step": s, "form": forms[s.action], "confirm": s.question(pending),
                     "stops": s.action == "approve_adjustment" and pending is not None and pending.stop,
                     "money_note": notes.get(s.action, "")}
                    for s in steps],
        "timeline": _label_timeline(selectors.timeline(de_an)),
        "settlement_document": selectors.settlement_document(de_an),
        "reason": selectors.latest_reason(de_an),
        "has_acceptance_minutes": any(f.kind == AttachmentKind.ACCEPTANCE_MINUTES for f in attachments),
        "can_edit": access.can(user, "de_an.edit", de_an).allowed,
        "can_attach": access.can(user, "de_an.attach", de_an).allowed,
        "deletable_attachments": {f.pk for f in attachments if access.can(user, "attachment.delete", f)},
        "attachment_form": extra.pop("attachment_form", None) or AttachmentForm(),
        "comment_form": extra.pop("comment_form", None) or CommentForm(),
        "status_label": Status(de_an.status).label,
        **_section_messages(request),
        **extra,
    }


def _money_notes(user, de_an, actions, pending):
    """{action: one sentence} of the money a decision in the panel works with: what is left of the
    province's allocation beside an approval (or an adjustment asking for new money), what has been
    approved and paid beside a settlement. Queries only when such an action is offered."""
    from funding.selectors import headroom_for
    from funding.services import paid_amount

    notes = {}
    level_money = _("kinh phí KCQG") if de_an.level == Level.NATIONAL else _("kinh phí KCĐP")
    approving = actions & {"approve", "approve_local"}
    if pending is not None and pending.new_amount is not None and not pending.stop:
        approving |= actions & {"approve_adjustment"}
    if approving:
        room = headroom_for(user=user, de_an=de_an)
        province = de_an.current_province.name
        if room is not None:
            text = _("Phân bổ %(m)s năm %(y)s của %(p)s: %(a)s; đã cam kết %(c)s; còn lại %(r)s.") % {
                "m": level_money, "y": de_an.plan_year, "p": province, "a": format_dong(room.amount),
                "c": format_dong(room.committed), "r": format_dong(room.remaining)}
        elif de_an.level == Level.NATIONAL:
            text = _("Chưa có phân bổ %(m)s năm %(y)s cho %(p)s: phê duyệt sẽ bị từ chối cho đến khi phân bổ được "
                     "nhập.") % {"m": level_money, "y": de_an.plan_year, "p": province}
        else:
            text = _("%(p)s chưa ghi phân bổ %(m)s năm %(y)s trên cổng: phê duyệt theo quyết định của UBND tỉnh, "
                     "không trừ vào phân bổ.") % {"m": level_money, "y": de_an.plan_year, "p": province}
        notes.update(dict.fromkeys(approving, text))
    if "settle" in actions:
        approved = (de_an.approved_national_amount if de_an.level == Level.NATIONAL else de_an.approved_local_amount) or 0
        notes["settle"] = _("Kinh phí được duyệt: %(a)s; đã giải ngân (tạm ứng và thanh toán): %(p)s.") % {
            "a": format_dong(approved), "p": format_dong(paid_amount(de_an))}
    return notes


def _label_timeline(entries):
    labels = {k: str(v) for k, v in Status.choices}
    for entry in entries:
        entry.status_label = labels.get(entry.status, entry.status)
    return entries


def _default_amount(de_an, action):
    if action == "approve":
        return de_an.national_amount
    if action == "approve_local":
        return de_an.local_amount
    if action == "settle":
        return de_an.approved_national_amount if de_an.level == Level.NATIONAL else de_an.approved_local_amount
    return None


def _default_dates(action):
    if action == "settle":
        return {"settled_on": timezone.localdate()}  # a settlement recorded late is given its real date
    return {}


def _run_transition(user, de_an, action, data):
    """Call the service of ``action`` with the inputs it takes."""
    common = {"actor": user, "de_an": de_an}
    comment = data.get("comment") or ""
    if action in ("submit", "forward", "start_appraisal", "start_implementation"):
        return services.TRANSITION_SERVICES[action](**common, comment=comment)
    if action in ("return", "reject", "cancel", "reject_adjustment", "confirm_adjustment"):
        return services.TRANSITION_SERVICES[action](**common, comment=comment)
    if action == "approve":
        return services.de_an_approve(**common, decision_number=data.get("decision_number") or "",
                                      decision_date=data.get("decision_date"),
                                      approved_national_amount=data.get("amount"), comment=comment)
    if action == "approve_local":
        return services.de_an_approve_local(**common, decision_number=data.get("decision_number") or "",
                                            decision_date=data.get("decision_date"),
                                            approved_local_amount=data.get("amount"), comment=comment)
    if action == "request_adjustment":
        return services.de_an_request_adjustment(
            **common, reason=comment, more_money=data.get("more_money", False),
            new_content=data.get("new_content", False), extension=data.get("extension", False),
            stop=data.get("stop", False), new_end_date=data.get("new_end_date"), new_amount=data.get("amount"),
            new_lines=data.get("new_lines") or None, new_location=data.get("new_location") or "",
            new_partner_unit=data.get("new_partner_unit") or "")
    if action == "approve_adjustment":
        return services.de_an_approve_adjustment(**common, decision_number=data.get("decision_number") or "",
                                                 decision_date=data.get("decision_date"), comment=comment)
    if action == "accept":
        return services.de_an_accept(**common, accepted_on=data.get("accepted_on"), comment=comment)
    if action == "settle":
        return services.de_an_settle(**common, settled_amount=data.get("amount"), settled_on=data.get("settled_on"),
                                     settlement_document=data.get("settlement_document") or "", comment=comment)
    raise services.WorkflowError(_("Thao tác không được hỗ trợ."))


@login_required
@require_http_methods(["GET", "POST"])
def de_an_transition(request, pk):
    de_an = _de_an_or_404(request.user, pk)
    if request.method == "GET":
        # A refused step is shown at this address; opened again (the footer's language switch, a reload
        # from the address bar) it leads back to the đề án instead of a bare «405».
        return redirect("projects:detail", pk=de_an.pk)
    form = TransitionForm(request.POST)
    action = request.POST.get("action", "")
    if action not in workflow.ACTIONS:
        messages.error(request, _("Thao tác không được hỗ trợ."))
        return redirect("projects:detail", pk=de_an.pk)
    decision = access.can(request.user, f"de_an.{action}", de_an)
    if not decision:
        messages.error(request, decision.reason)
        return redirect("projects:detail", pk=de_an.pk)
    if not form.is_valid():
        return _transition_refused(request, de_an, action, form)
    try:
        if form.cleaned_data.get("revision") is None:
            _run_transition(request.user, de_an, action, form.cleaned_data)
        else:
            with transaction.atomic():  # compared under the đề án's lock, which the step then takes again
                stale = _stale_transition_message(de_an, action, form.cleaned_data["revision"])
                if stale:
                    messages.error(request, stale)
                    return redirect("projects:detail", pk=de_an.pk)
                _run_transition(request.user, de_an, action, form.cleaned_data)
    except services.WorkflowError as exc:
        form.service_messages = set(exc.messages)  # they name what they are about: listed without the label
        for message in exc.messages:
            # On the field the reason is about (marked aria-invalid in the panel), else for the action.
            field = exc.fields.get(message)
            form.add_error(field if field in form.fields else None, message)
        return _transition_refused(request, de_an, action, form)
    de_an.refresh_from_db(fields=["status"])
    messages.success(request, _("Đã %(a)s đề án %(c)s. Trạng thái mới: %(s)s.") % {
        "a": workflow.ACTION_LABELS[action], "c": de_an.code, "s": Status(de_an.status).label})
    return redirect("projects:detail", pk=de_an.pk)


def _stale_transition_message(de_an, action, loaded):
    """The refusal of a workflow form sent for revision ``loaded`` when the đề án has moved on since
    (locks the đề án row); "" when it has not."""
    revision, status = DeAn.objects.select_for_update().filter(pk=de_an.pk).values_list("revision", "status").get()
    if revision == loaded:
        return ""
    return _("Đề án %(c)s đã thay đổi sau khi bạn mở trang (trạng thái hiện nay: %(s)s). Thao tác «%(a)s» chưa được "
             "thực hiện; hãy xem lại đề án rồi làm lại nếu vẫn cần.") % {
        "c": de_an.code, "s": Status(status).label, "a": workflow.ACTION_LABELS[action]}


def _transition_refused(request, de_an, action, form):
    """The đề án page again (400) with the refused action's panel open, what was typed still in it and
    the reasons beside it. When the action is no longer offered (the đề án moved on meanwhile, e.g. a
    second click), the reasons go to the top of the page instead."""
    de_an = selectors.de_an_detail(user=request.user, pk=de_an.pk)
    context = _detail_context(request, de_an, transition_forms={action: form})
    if any(a["step"].action == action for a in context["actions"]):
        return render(request, "projects/detail.html", context, status=400)
    for message in form.non_field_errors():
        messages.error(request, message)
    for name, errors in form.errors.items():
        if name in form.fields:
            for error in errors:
                messages.error(request, f"{form.fields[name].label}: {error}")
    return redirect("projects:detail", pk=de_an.pk)


@login_required
@require_POST
def comment_add(request, pk):
    de_an = _de_an_or_404(request.user, pk)
    form = CommentForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("text") or [_("Chưa nhập nội dung ý kiến.")]:
            messages.error(request, error)
        return redirect("projects:detail", pk=de_an.pk)
    try:
        services.comment_add(actor=request.user, de_an=de_an, text=form.cleaned_data["text"])
    except services.WorkflowError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Đã ghi ý kiến."))
    return redirect(reverse("projects:detail", args=[de_an.pk]) + "#dong-thoi-gian")


# --- attachments --------------------------------------------------------------------------------

@login_required
@require_POST
def attachment_upload(request, pk):
    de_an = _de_an_or_404(request.user, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error, extra_tags=ATTACHMENT_MESSAGES)
        return _upload_refused(request, de_an, form)
    upload = form.cleaned_data["file"]
    back = reverse("projects:detail", args=[de_an.pk]) + "#tai-lieu"
    try:
        with transaction.atomic():
            claim = submissions.claim(request)  # the same upload sent twice is stored once
            attachment = services.attachment_add(actor=request.user, de_an=de_an, file=upload,
                                                 kind=form.cleaned_data["kind"],
                                                 description=form.cleaned_data["description"], name=upload.name)
            claim.done(back)
    except submissions.AlreadySubmitted:
        messages.info(request, submissions.ALREADY_SUBMITTED_MESSAGE, extra_tags=ATTACHMENT_MESSAGES)
    except services.WorkflowError as exc:
        messages.error(request, str(exc), extra_tags=ATTACHMENT_MESSAGES)
        return _upload_refused(request, de_an, form)
    else:
        messages.success(request, _("Đã tải lên «%(n)s».") % {"n": attachment.original_name},
                         extra_tags=ATTACHMENT_MESSAGES)
    return redirect(back)


def _upload_refused(request, de_an, form):
    """The đề án page again (400) with the refusal in the attachments section and the type and
    description as chosen (a file cannot be sent back to the browser: it is chosen again); the file
    field has the focus, so the page opens at the section."""
    page = selectors.de_an_detail(user=request.user, pk=de_an.pk)
    form.fields["file"].widget.attrs["autofocus"] = True
    return render(request, "projects/detail.html", _detail_context(request, page, attachment_form=form), status=400)


@login_required
@require_GET
def attachment_download(request, attachment_id):
    """Stream a private file after the permission check (there is no public media URL)."""
    try:
        attachment = selectors.attachment_for_download(user=request.user, pk=attachment_id)
    except Attachment.DoesNotExist:
        raise Http404(_("Không tìm thấy tài liệu."))
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404(_("Tệp không còn trong kho lưu trữ."))
    name = services.sanitise_filename(attachment.original_name)
    inline = request.GET.get("xem") == "1" and attachment.content_type in ("application/pdf", "image/png", "image/jpeg")
    response = FileResponse(handle, as_attachment=not inline, filename=name, content_type=attachment.content_type)
    return private_download(response)


@login_required
@require_POST
def attachment_delete(request, attachment_id):
    try:
        attachment = selectors.attachment_for_download(user=request.user, pk=attachment_id)
    except Attachment.DoesNotExist:
        raise Http404(_("Không tìm thấy tài liệu."))
    de_an_id = attachment.de_an_id
    try:
        services.attachment_delete(actor=request.user, attachment=attachment)
    except services.WorkflowError as exc:
        messages.error(request, str(exc), extra_tags=ATTACHMENT_MESSAGES)
    else:
        messages.success(request, _("Đã xóa tài liệu «%(n)s».") % {"n": attachment.original_name},
                         extra_tags=ATTACHMENT_MESSAGES)
    return redirect(reverse("projects:detail", args=[de_an_id]) + "#tai-lieu")


# --- create and edit ----------------------------------------------------------------------------

def _establishment_choices(user, de_an=None, extra_ids=()):
    """A short list for the beneficiary selects: the đề án's own plus the latest of the user's scope
    (the search box fetches others)."""
    qs = access.visible_establishments(user)
    chosen = []
    if de_an is not None:
        chosen = [link.establishment for link in de_an.beneficiaries.select_related("establishment")]
    latest = list(qs.order_by("-id")[:200])
    extra = list(qs.filter(pk__in=[i for i in extra_ids if i])) if extra_ids else []
    seen, result = set(), []
    for est in chosen + extra + sorted(latest, key=lambda e: e.name):
        if est.pk in seen:
            continue
        seen.add(est.pk)
        result.append((est.pk, f"{est.name}" + (f" — MST {est.tax_code}" if est.tax_code else "")))
    return result


def _posted_establishment_ids(data):
    return whole_numbers([value for key, value in data.items() if key.startswith("ben-") and key.endswith("-establishment")])


def _content_queryset():
    return ActivityContent.objects.filter(parent__isnull=False).order_by("instrument", "code")


def _build_forms(request, user, de_an=None):
    data = request.POST if request.method == "POST" else None
    form = DeAnForm(data, user=user, instance=de_an)
    est_choices = _establishment_choices(user, de_an, _posted_establishment_ids(data) if data else ())
    ben_initial = None
    line_initial = None
    if de_an is not None and data is None:
        ben_initial = [{"establishment": link.establishment_id} for link in de_an.beneficiaries.all()]
        line_initial = [{"id": line.pk, "description": line.description, "content": line.content_id,
                         "source": line.source, "amount": line.amount, "cost_basis": line.cost_basis,
                         "establishment": line.establishment_id} for line in de_an.budget_lines.all()]
    beneficiary_choices = []
    if de_an is not None:
        beneficiary_choices = [(link.establishment_id, link.establishment.name)
                               for link in de_an.beneficiaries.select_related("establishment")]
    ben_formset = BeneficiaryFormSet(data, prefix="ben", initial=ben_initial,
                                     form_kwargs={"user": user, "choices": est_choices})
    line_formset = BudgetLineFormSet(data, prefix="line", initial=line_initial,
                                     form_kwargs={"contents_qs": _content_queryset(),
                                                  "beneficiary_choices": beneficiary_choices})
    return form, ben_formset, line_formset


def _beneficiaries_from(user, ben_formset, province):
    """Establishments for the đề án: the chosen ones, and new ones created (or reused by tax code)
    in the đề án's province."""
    result = []
    for f in ben_formset.forms:
        data = getattr(f, "cleaned_data", None) or {}
        if not data or data.get("DELETE") or f.is_blank():
            continue
        if data.get("establishment"):
            result.append(data["establishment"])
            continue
        fields = f.new_establishment_fields()
        est, _created = services.establishment_get_or_create(actor=user, province=province, **fields)
        result.append(est)
    return result


def _lines_from(line_formset):
    return [f.service_line() for f in line_formset.forms
            if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE") and not f.is_blank()]


def _form_page(request, form, ben_formset, line_formset, de_an=None, status=200, errors=()):
    return render(request, "projects/form.html", {
        "form": form, "ben_formset": ben_formset, "line_formset": line_formset, "de_an": de_an,
        "service_errors": list(errors), "sources": FundingSource.choices,
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def de_an_create(request):
    user = request.user
    decision = access.can(user, "de_an.create", None)
    if not decision:
        raise PermissionDenied(decision.reason)
    form, ben_formset, line_formset = _build_forms(request, user)
    if request.method == "GET":
        return _form_page(request, form, ben_formset, line_formset)
    valid = form.is_valid() & ben_formset.is_valid() & line_formset.is_valid()
    if not valid:
        return _form_page(request, form, ben_formset, line_formset, status=400)
    fields = form.service_fields()
    province = form.cleaned_data.get("province")
    try:
        with transaction.atomic():
            claim = submissions.claim(request)  # the same form sent twice makes one đề án
            beneficiaries = _beneficiaries_from(user, ben_formset, (province.current if province else None)
                                                or access.user_province(user))
            de_an = services.de_an_create(
                actor=user, level=form.cleaned_data["level"], province=province, beneficiaries=beneficiaries,
                budget_lines=None, **fields)
            lines = _lines_from(line_formset)
            if lines:
                de_an = services.de_an_update(actor=user, de_an=de_an, revision=de_an.revision, budget_lines=lines)
            claim.done(reverse("projects:detail", args=[de_an.pk]))
    except submissions.AlreadySubmitted as sent:
        messages.info(request, submissions.ALREADY_SUBMITTED_MESSAGE)
        return redirect(sent.url or reverse("projects:list"))
    except services.WorkflowError as exc:
        return _form_page(request, form, ben_formset, line_formset, status=400, errors=exc.messages)
    messages.success(request, _("Đã tạo đề án %(c)s (đang soạn).") % {"c": de_an.code})
    return redirect("projects:detail", pk=de_an.pk)


def _unsaved_message():
    return _("Thay đổi của bạn chưa được lưu. Những gì bạn đã nhập vẫn còn bên dưới để sao chép lại.")


@login_required
@require_http_methods(["GET", "POST"])
def de_an_edit(request, pk):
    user = request.user
    de_an = _de_an_or_404(user, pk)
    decision = access.can(user, "de_an.edit", de_an)
    if not decision:
        if request.method == "POST":
            if de_an.status not in workflow.EDITABLE_STATES:
                # The đề án moved on while the form was open (e.g. someone else submitted it): say why and
                # give back everything that was typed, as after a conflicting save.
                form, ben_formset, line_formset = _build_forms(request, user, de_an)
                return _form_page(request, form, ben_formset, line_formset, de_an=de_an, status=409,
                                  errors=[decision.reason, _unsaved_message()])
            messages.error(request, decision.reason)
            return redirect("projects:detail", pk=de_an.pk)
        raise PermissionDenied(decision.reason)
    form, ben_formset, line_formset = _build_forms(request, user, de_an)
    if request.method == "GET":
        return _form_page(request, form, ben_formset, line_formset, de_an=de_an)
    valid = form.is_valid() & ben_formset.is_valid() & line_formset.is_valid()
    if not valid:
        return _form_page(request, form, ben_formset, line_formset, de_an=de_an, status=400)
    revision = form.cleaned_data.get("revision")
    if revision is None:
        return _form_page(request, form, ben_formset, line_formset, de_an=de_an, status=400,
                          errors=[_("Thiếu phiên bản của hồ sơ; hãy tải lại trang rồi sửa lại.")])
    try:
        with transaction.atomic():
            # The same form sent twice (a double click on «Lưu»): the second send is told the first one
            # saved, instead of being refused as a conflict with the user's own save.
            claim = submissions.claim(request)
            beneficiaries = _beneficiaries_from(user, ben_formset, de_an.current_province)
            de_an = services.de_an_update(actor=user, de_an=de_an, revision=revision, beneficiaries=beneficiaries,
                                          budget_lines=_lines_from(line_formset), **form.service_fields())
            claim.done(reverse("projects:detail", args=[de_an.pk]))
    except submissions.AlreadySubmitted:
        messages.info(request, _("Đề án %(c)s đã được lưu ở lần gửi trước; lần gửi lại không thay đổi gì thêm.")
                      % {"c": de_an.code})
        return redirect("projects:detail", pk=de_an.pk)
    except services.ConflictError as exc:
        return _form_page(request, form, ben_formset, line_formset, de_an=de_an, status=409, errors=exc.messages)
    except services.WorkflowError as exc:
        if not DeAn.objects.filter(pk=de_an.pk, status__in=workflow.EDITABLE_STATES).exists():
            # It moved on between the check above and the save.
            return _form_page(request, form, ben_formset, line_formset, de_an=de_an, status=409,
                              errors=[*exc.messages, _unsaved_message()])
        return _form_page(request, form, ben_formset, line_formset, de_an=de_an, status=400, errors=exc.messages)
    messages.success(request, _("Đã lưu đề án %(c)s.") % {"c": de_an.code})
    return redirect("projects:detail", pk=de_an.pk)


@login_required
@require_GET
def establishment_options(request):
    """htmx partial: <option>s of the establishments in the user's scope matching ?q= (name or tax code)."""
    q = request.GET.get("q", "")
    rows = list(selectors.establishment_search(user=request.user, q=q, limit=30)) if q.strip() else []
    selectors.establishment_counts(user=request.user, establishments=rows)  # «đã được hỗ trợ …» in each option
    return render(request, "projects/_establishment_options.html", {"rows": rows, "q": q})


ESTABLISHMENTS_PER_PAGE = 50


@login_required
@require_GET
def workflow_guide(request):
    """«Quy trình xử lý đề án»: every state and the steps out of it, who takes them and what they need,
    generated from ``workflow.WORKFLOW``; the signed-in user's own steps are marked."""
    return render(request, "projects/workflow.html", {
        "states": selectors.workflow_guide(request.user), "role_label": request.user.get_role_display(),
    })


@login_required
@require_GET
def establishment_list(request):
    """«Cơ sở thụ hưởng»: the beneficiaries the user may see, with how many đề án supported each and
    when last — what an appraiser looks up before supporting an establishment again."""
    from khuyencong.pagination import page_number, query_without_page

    from .forms import EstablishmentFilterForm

    form = EstablishmentFilterForm(request.GET or None, user=request.user)
    form.is_valid()  # only to show the values back; the selector reads the query itself
    page = selectors.establishment_page(user=request.user, filters=request.GET, page=page_number(request),
                                        per_page=ESTABLISHMENTS_PER_PAGE)
    query = query_without_page(request)
    filtered = any(request.GET.get(k) for k in ("q", "province", "legal_form", "priority", "supported"))
    return render(request, "projects/establishment_list.html", {
        "form": form, "page": page, "query_no_page": query, "filtered": filtered,
        "province": access.user_province(request.user),
    })


@login_required
@require_GET
def establishment_export(request):
    """«Cơ sở thụ hưởng» as filtered on the page, as an .xlsx file (at most ``EXPORT_MAX_ROWS`` rows)."""
    qs = selectors.establishment_list(user=request.user, filters=request.GET)
    limit = exports.max_rows()
    if qs.order_by().values("pk")[:limit + 1].count() > limit:
        messages.error(request, _(
            "Danh sách có hơn %(n)s cơ sở, vượt giới hạn một lần xuất Excel; hãy lọc bớt (theo tỉnh, thành phố, "
            "loại hình…) rồi xuất lại.") % {"n": format_number(limit)})
        return redirect(reverse("projects:establishments") + ("?" + request.GET.urlencode() if request.GET else ""))
    response = FileResponse(exports.establishment_workbook(qs, user=request.user), as_attachment=True,
                            filename="co-so-thu-huong.xlsx",
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return private_download(response)


@login_required
@require_GET
def establishment_detail(request, establishment_id):
    """One beneficiary: who it is and every đề án (that the user may see) it took part in."""
    establishment = selectors.establishment_get(user=request.user, pk=establishment_id)
    if establishment is None:
        raise Http404(_("Không tìm thấy cơ sở thụ hưởng, hoặc cơ sở không thuộc phạm vi của bạn."))
    rows = list(selectors.establishment_de_an(user=request.user, establishment=establishment))
    supported = [d for d in rows if d.status in workflow.SUPPORTED_STATES]
    return render(request, "projects/establishment_detail.html", {
        "e": establishment, "rows": rows, "supported_count": len(supported),
        "can_edit": access.can(request.user, "establishment.edit", establishment).allowed,
        "changes": selectors.establishment_changes(establishment),
    })


@login_required
@require_http_methods(["GET", "POST"])
def establishment_edit(request, establishment_id):
    """«Sửa thông tin cơ sở»: Sở and Trung tâm staff of its province, and the ministry
    (``access`` rule «establishment.edit»); every change is in the audit trail."""
    from .forms import EstablishmentForm

    establishment = selectors.establishment_get(user=request.user, pk=establishment_id)
    if establishment is None:
        raise Http404(_("Không tìm thấy cơ sở thụ hưởng, hoặc cơ sở không thuộc phạm vi của bạn."))
    decision = access.can(request.user, "establishment.edit", establishment)
    if not decision.allowed:
        raise PermissionDenied(decision.reason)
    form = EstablishmentForm.for_establishment(establishment, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.establishment_update(actor=request.user, establishment=establishment,
                                              expected_updated_at=form.cleaned_data["loaded"], **form.values())
            except services.WorkflowError as err:
                for message in err.messages:
                    form.add_error(None, message)
                status = 409 if isinstance(err, services.ConflictError) else 400
            else:
                messages.success(request, _("Đã lưu thông tin cơ sở thụ hưởng."))
                return redirect("projects:establishment", establishment_id=establishment.pk)
        else:
            status = 400
    return render(request, "projects/establishment_form.html", {"e": establishment, "form": form}, status=status)


# --- notifications ------------------------------------------------------------------------------

@login_required
@require_GET
def notifications(request):
    qs = selectors.notifications_for(request.user, unread_only=request.GET.get("chua-doc") == "1")
    page = _paginate(request, qs)
    return render(request, "projects/notifications.html", {
        "page": page, "unread": selectors.unread_count(request.user),
        "unread_only": request.GET.get("chua-doc") == "1", "query_no_page": _query_without(request, "page")})


@login_required
@require_POST
def notifications_mark_read(request):
    ids = whole_numbers(request.POST.getlist("ids"))
    n = services.notification_mark_read(user=request.user, ids=ids or None)
    if request.headers.get("HX-Request") and len(ids or ()) == 1:
        # The row again, now read (it stays in the list, as without JavaScript), and, out of band, the
        # unread count and a sentence for screen readers; portal.js moves the focus to the next row.
        note = selectors.notifications_for(request.user).filter(pk=ids[0]).first()
        return render(request, "projects/_notification_marked.html", {
            "n": note, "unread": selectors.unread_count(request.user),
            "said": _("Đã đánh dấu đã đọc.") if n else _("Thông báo này đã được đánh dấu đọc trước đó.")})
    messages.success(request, _("Đã đánh dấu %(n)s thông báo là đã đọc.") % {"n": n})
    return redirect("projects:notifications")

