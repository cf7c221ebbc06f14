"""Reads of the projects app. Every selector starts from ``khuyencong.access`` scoping.

``de_an_list(user=…, filters=…)`` returns a queryset already scoped, filtered, sorted and joined
for the list page (a page of any size costs the same few queries: one count, one page of rows with
their province/unit/programme joined, one prefetch of contents).
"""
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Case, Count, Exists, F, IntegerField, Max, OuterRef, Prefetch, Q, Value, When
from django.db.models.functions import Collate
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from khuyencong import access
from khuyencong.choices import Role
from khuyencong.formatting import format_date, format_dong
from khuyencong.models import ActivityContent
from khuyencong.security import whole_numbers as _ints  # a malformed value, or one past 64 bits, is dropped
from khuyencong.textsearch import fold, search_terms  # noqa: F401  (search_terms: views use it from here)

from . import workflow
from .models import (
    Adjustment,
    AdjustmentStatus,
    Attachment,
    BudgetLine,
    Comment,
    DeAn,
    DeAnBeneficiary,
    Status,
    Transition,
)

# Sort keys offered to the user → ORDER BY (always ending on a unique column for stable pages).
SORTS = {
    "code": ("code",),
    "-code": ("-code",),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "year": ("plan_year", "id"),
    "-year": ("-plan_year", "-id"),
    "status": ("status", "-id"),  # by workflow order (``_order_by``), not by the internal codes
    "-status": ("-status", "-id"),
    "total": ("total_amount", "id"),
    "-total": ("-total_amount", "-id"),
    "national": ("national_amount", "id"),
    "-national": ("-national_amount", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
    "province": ("current_province__code", "-plan_year", "-id"),
}
DEFAULT_SORT = "-year"
LIST_FILTERS = ("year", "level", "kind", "status", "province", "current_province", "content",
                "implementing_unit", "q", "sort", "programme")


# Names sort the Vietnamese way ("Đào tạo…" after "Dệt…", before "E…") where the database can.
VIETNAMESE_COLLATIONS = ("vi-x-icu", "vi-VN-x-icu")
_collations = {}


def vietnamese_collation():
    """The name of a Vietnamese ICU collation of the database, or None (SQLite, PostgreSQL without
    ICU): then names keep the database's own order. Looked up once per process and database."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    if connection.alias not in _collations:
        with connection.cursor() as cursor:
            cursor.execute("SELECT collname FROM pg_collation WHERE collname = ANY(%s)", [list(VIETNAMESE_COLLATIONS)])
            found = {row[0] for row in cursor.fetchall()}
        _collations[connection.alias] = next((c for c in VIETNAMESE_COLLATIONS if c in found), None)
    return _collations[connection.alias]


def _status_rank():
    """The status as its place in the workflow (draft first, cancelled last)."""
    return Case(*[When(status=state, then=Value(rank)) for rank, state in enumerate(workflow.STATES)],
                default=Value(len(workflow.STATES)), output_field=IntegerField())


def _order_by(sort):
    """``SORTS[sort]`` as ORDER BY terms: the name by Vietnamese collation where there is one, the
    status by workflow order; the unique tie-breaker stays last."""
    terms = []
    for term in SORTS.get(sort or DEFAULT_SORT, SORTS[DEFAULT_SORT]):
        name = term.lstrip("-")
        descending = term.startswith("-")
        if name == "name" and (collation := vietnamese_collation()):
            expression = Collate(F("name"), collation)
        elif name == "status":
            expression = _status_rank()
        else:
            terms.append(term)
            continue
        terms.append(expression.desc() if descending else expression.asc())
    return terms




def _strs(value, allowed):
    if value in (None, ""):
        return []
    values = value if isinstance(value, (list, tuple, set)) else [value]
    return [v for v in values if v in allowed]


def apply_search(qs, text, column="search_text", *, loose=True):
    """Diacritic-insensitive: every folded word, and every quoted phrase as written (its words
    side by side, in that order), must occur in the folded column (pg_trgm GIN on PostgreSQL serves
    these ``contains`` filters). ``loose``: the column is built by ``textsearch.join_fields``
    (punctuation at a word's edge left out, on both sides); False for a plain ``fold`` column."""
    for word in search_terms(text, loose=loose)[:8]:
        qs = qs.filter(**{f"{column}__contains": word})
    return qs


def _known_provinces(recorded, current):
    """The ids of ``recorded`` that are provinces (any era) and of ``current`` that are current ones (one
    query): a forged or stale id is dropped, as the filter's select shows it — «Tất cả» — instead of
    narrowing the list to nothing."""
    from khuyencong.models import Province

    known = dict(Province.objects.filter(pk__in=[*recorded, *current]).values_list("pk", "era"))
    return [pk for pk in recorded if pk in known], [pk for pk in current if known.get(pk) == "current"]


def de_an_list(*, user, filters=None):
    """Scoped, filtered and sorted đề án for the list page and its export.

    ``filters`` (e.g. ``request.GET``): year, level, kind, status (one or several), province (as
    recorded, any era), current_province, content, implementing_unit, programme, q (search), sort
    (a key of ``SORTS``). Unknown or malformed values are ignored, never trusted — province ids of no
    province included (one query, only when a province is asked for).
    """
    filters = filters or {}
    get = filters.getlist if hasattr(filters, "getlist") else (lambda k: filters.get(k))
    qs = access.visible_de_an(user)
    if years := _ints(get("year")):
        qs = qs.filter(plan_year__in=years)
    if levels := _strs(get("level"), {"kcqg", "kcdp"}):
        qs = qs.filter(level__in=levels)
    if kinds := _strs(get("kind"), {"diem", "nhom", "thuong"}):
        qs = qs.filter(kind__in=kinds)
    if statuses := _strs(get("status"), set(Status.values)):
        qs = qs.filter(status__in=statuses)
    provinces, current = _ints(get("province")), _ints(get("current_province"))
    if (provinces or current) and not isinstance(filters, QueueFilters):
        provinces, current = _known_provinces(provinces, current)
    if provinces:
        qs = qs.filter(province_id__in=provinces)
    if current:
        qs = qs.filter(current_province_id__in=current)
    if contents := _ints(get("content")):
        # A content area also matches its sub-contents. A semi-join (IN subquery) rather than a join:
        # no DISTINCT, so pages keep their cheap id-first plan.
        links = DeAn.contents.through.objects.filter(
            Q(activitycontent_id__in=contents) | Q(activitycontent__parent_id__in=contents))
        qs = qs.filter(pk__in=links.values("dean_id"))
    if units := _ints(get("implementing_unit")):
        qs = qs.filter(implementing_unit_id__in=units)
    if programmes := _ints(get("programme")):
        qs = qs.filter(programme_id__in=programmes)
    q = filters.get("q") if hasattr(filters, "get") else None
    if q:
        qs = apply_search(qs, q)
    sort = filters.get("sort") if hasattr(filters, "get") else None
    order = _order_by(sort if sort in SORTS else None)
    return (
        qs.select_related("province", "current_province", "implementing_unit", "programme")
        .prefetch_related(Prefetch("contents", queryset=ActivityContent.objects.only("id", "code", "name")))
        .defer("rationale", "objectives", "scale", "expected_output", "search_text")
        .order_by(*order)
    )


class IdFirstPaginator(Paginator):
    """A paginator for big lists: a page first reads the page's ids (an index-only scan on the sort
    index, cheap at any OFFSET), then loads those rows with their joins and prefetches. Deep pages
    cost about what the first one costs. Queries per page: count, ids, rows, each prefetch.
    ``count_queryset``: the same rows without what only the order needs (a list sorted by counts of
    related rows is counted without joining them)."""

    def __init__(self, object_list, per_page, *args, count_queryset=None, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.count_queryset = count_queryset

    @cached_property
    def count(self):
        if self.count_queryset is not None:
            return self.count_queryset.count()
        return super().count

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        if ids:
            by_id = {obj.pk: obj for obj in self.object_list.filter(pk__in=ids).order_by()}
            rows = [by_id[pk] for pk in ids if pk in by_id]
        else:
            rows = []
        return self._get_page(rows, number, self)


def de_an_page(*, user, filters=None, page=1, per_page=25):
    """One page of ``de_an_list`` (invalid page numbers fall back to the nearest valid one)."""
    paginator = IdFirstPaginator(de_an_list(user=user, filters=filters), per_page)
    return paginator.get_page(page)


def de_an_detail(*, user, pk):
    """One đề án with everything its page shows, or ``DeAn.DoesNotExist`` when missing or out of
    the user's scope (views turn both into 404)."""
    return (
        access.visible_de_an(user)
        .select_related("province", "current_province", "implementing_unit", "programme", "created_by")
        .prefetch_related(
            Prefetch("contents", queryset=ActivityContent.objects.select_related("parent")),
            Prefetch("beneficiaries", queryset=DeAnBeneficiary.objects.select_related("establishment__province")),
            Prefetch("budget_lines", queryset=BudgetLine.objects.select_related("content", "establishment", "support_cap")),
            Prefetch("attachments", queryset=Attachment.objects.select_related("uploaded_by")),
            Prefetch("adjustments", queryset=Adjustment.objects.order_by("-requested_at")),
            "implementing_unit__names",
        )
        .get(pk=pk)
    )


def available_actions(*, user, de_an):
    """The workflow steps ``user`` may take on ``de_an`` now (for the detail page's buttons)."""
    if not access.can(user, "de_an.view", de_an):
        return []
    role = Role.ADMIN if access.is_admin(user) else user.role
    steps, seen = [], set()
    candidates = workflow.steps_from(de_an.status, de_an.level)
    pending = access.pending_adjustment(de_an) if any(s.adjustment_confirmed is not None for s in candidates) else None
    for step in candidates:
        if step.action in seen or not step.allows_role(role) or not step.fits(pending):
            continue
        seen.add(step.action)
        steps.append(step)
    return steps


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # "transition" | "change" | "comment" | "attachment" | "money"
    actor: Any
    title: str
    comment: str = ""
    decision_number: str = ""
    decision_date: Any = None
    changes: list = field(default_factory=list)  # [(field label, old, new)]
    status: str = ""
    note: str = ""  # a plain detail line (an attachment's kind and size)
    from_status: Any = None  # a transition's state before it ("" for the creation)


def _value_text(field_obj, value, targets=None):
    """A value as the timeline shows it: money as ``1.234.567 đ``, dates ``dd/mm/yyyy``, choices by label;
    a foreign key by its target's name, from ``targets`` ({model: {pk: object}}, loaded in bulk)."""
    from django.db import models as m

    from khuyencong.formatting import format_date, format_dong

    if value is None or value == "":
        return "—"
    choices = getattr(field_obj, "choices", None)
    if choices:
        return str(dict(choices).get(value, value))
    if isinstance(field_obj, m.BigIntegerField):
        return format_dong(value)
    if isinstance(field_obj, m.DateField):
        return format_date(value)
    if isinstance(field_obj, m.ForeignKey):
        if targets is None:
            targets = _load_targets([(field_obj, value)])
        target = targets.get(field_obj.related_model, {}).get(value)
        return str(target) if target is not None else str(value)
    return str(value)


def _load_targets(pairs):
    """{model: {pk: object}} for the foreign-key values in ``pairs`` [(field, value)]: one query per model
    (the timeline named each changed key's old and new target with a query of its own: ≈ 5 per edit)."""
    from django.db import models as m

    wanted = {}
    for field_obj, value in pairs:
        if isinstance(field_obj, m.ForeignKey) and value not in (None, ""):
            wanted.setdefault(field_obj.related_model, set()).add(value)
    return {model: model._default_manager.in_bulk(pks) for model, pks in wanted.items()}


def _history_entries(records, title_for, fields_for):
    """Diff each historical record against the previous one of the same object."""
    raw = []  # (record, title, [(label, field or None, old, new)]), rendered once the keys are loaded
    previous = {}
    for record in records:
        obj_id = record.id
        prev = previous.get(obj_id)
        changes = []
        model_fields = fields_for
        if record.history_type == "+":
            title = title_for(record, "+")
        elif record.history_type == "-":
            title = title_for(record, "-")
        else:
            title = title_for(record, "~")
            if prev is not None:
                for name in model_fields:
                    old, new = getattr(prev, name, None), getattr(record, name, None)
                    if old != new:
                        if name == "content_codes":
                            changes.append((str(_("nội dung hoạt động")), None, old or "—", new or "—"))
                            continue
                        field_obj = record.instance_type._meta.get_field(name.removesuffix("_id")) \
                            if name.endswith("_id") else record.instance_type._meta.get_field(name)
                        changes.append((str(field_obj.verbose_name), field_obj, old, new))
                if not changes:
                    previous[obj_id] = record
                    continue
        previous[obj_id] = record
        raw.append((record, title, changes))
    targets = _load_targets((f, v) for _r, _t, changes in raw for _l, f, old, new in changes if f is not None
                            for v in (old, new))
    return [TimelineEntry(at=record.history_date, kind="change", actor=record.history_user, title=title,
                          changes=[(label, old, new) if f is None else
                                   (label, _value_text(f, old, targets), _value_text(f, new, targets))
                                   for label, f, old, new in changes])
            for record, title, changes in raw]


_DE_AN_DIFF_FIELDS = (
    "name", "kind", "plan_year", "implementing_unit_name", "partner_unit", "start_date", "end_date", "location",
    "rationale", "objectives", "scale", "expected_output", "expected_revenue", "expected_jobs", "total_amount",
    "national_amount", "local_amount", "counterpart_amount", "other_amount", "decision_number", "decision_date",
    "approved_national_amount", "local_decision_number", "local_decision_date", "approved_local_amount", "accepted_on",
    "settled_amount", "settled_on", "implementing_unit_id", "programme_id",
)
# Foreign keys are shown by name (an establishment's, a cap's description), dates as dd/mm/yyyy.
_LINE_DIFF_FIELDS = ("description", "source", "amount", "cost_basis", "content_id", "establishment_id", "support_cap_id")


def _attachment_entries(de_an):
    """The attachments added and deleted (their AuditEvents, ``services.ATTACHMENT_AUDIT_ACTIONS``)."""
    from khuyencong.models import AuditEvent

    from .models import AttachmentKind
    from .services import ATTACHMENT_ADDED, ATTACHMENT_AUDIT_ACTIONS

    kinds = dict(AttachmentKind.choices)
    events = (AuditEvent.objects.filter(object_type="projects.DeAn", object_id=str(de_an.pk),
                                        action__in=ATTACHMENT_AUDIT_ACTIONS)
              .select_related("actor").order_by("created_at", "id"))
    entries = []
    for event in events:
        data = event.data or {}
        title = _("Thêm tài liệu «%(n)s»") if event.action == ATTACHMENT_ADDED else _("Xóa tài liệu «%(n)s»")
        details = [str(kinds.get(data.get("kind"), data.get("kind") or ""))]
        if data.get("size"):
            details.append(filesizeformat(data["size"]))
        entries.append(TimelineEntry(at=event.created_at, kind="attachment", actor=event.actor,
                                     title=title % {"n": data.get("name", "")},
                                     note=" · ".join(d for d in details if d)))
    return entries


def _money_entries(de_an):
    """The disbursements recorded for the đề án and those voided since, read from the rows themselves
    (who entered or voided each, and when; the same facts their AuditEvents hold)."""
    from funding.models import Disbursement
    from khuyencong.formatting import format_date, format_dong

    entries = []
    rows = (Disbursement.objects.filter(de_an_id=de_an.pk).select_related("created_by", "voided_by")
            .order_by("created_at", "id"))
    for row in rows:
        params = {"kind": row.get_kind_display().lower(), "amount": format_dong(row.amount)}
        note = _("%(s)s · chứng từ %(doc)s ngày %(d)s") % {
            "s": row.get_source_display(), "doc": row.document_number, "d": format_date(row.date)}
        entries.append(TimelineEntry(at=row.created_at, kind="money", actor=row.created_by,
                                     title=_("Ghi nhận %(kind)s %(amount)s") % params, note=note))
        if row.voided_at is not None:
            entries.append(TimelineEntry(at=row.voided_at, kind="money", actor=row.voided_by,
                                         title=_("Hủy khoản %(kind)s %(amount)s") % params, note=note,
                                         comment=row.void_reason))
    return entries


def settlement_document(de_an):
    """The number of the settlement document given at the «Quyết toán» step ("" when not settled, or
    settled before the step took one): one query, for a settled đề án only."""
    if de_an.settled_amount is None:
        return ""
    data = (Transition.objects.filter(de_an=de_an, action="settle").order_by("-at", "-id")
            .values_list("data", flat=True).first()) or {}
    return data.get("settlement_document", "")


def latest_reason(de_an):
    """Why a returned or rejected đề án is where it is: the transition that brought it there (its
    comment, who, when), or None in any other state. One query, for those two states only."""
    if de_an.status not in ("returned", "rejected"):
        return None
    return (Transition.objects.filter(de_an=de_an, to_status=de_an.status, action__in=("return", "reject"))
            .select_related("actor__organisation").order_by("-at", "-id").first())


def _adjustment_note(asked):
    """What an adjustment request asked for, in words («Điều chỉnh lớn: kéo dài sang năm sau; thời gian kết
    thúc mới 31/12/2027»); "" for other transitions."""
    if not asked:
        return ""
    parts = []
    for key, text in (("stop", _("dừng thực hiện")), ("more_money", _("tăng kinh phí hỗ trợ")),
                      ("new_content", _("bổ sung nội dung")), ("extension", _("kéo dài sang năm sau"))):
        if asked.get(key):
            parts.append(str(text))
    if asked.get("new_end_date"):
        parts.append(_("thời gian kết thúc mới %(d)s") % {"d": format_date(date.fromisoformat(asked["new_end_date"]))})
    if asked.get("new_location"):
        parts.append(_("địa điểm thực hiện mới: %(v)s") % {"v": asked["new_location"]})
    if asked.get("new_partner_unit"):
        parts.append(_("đơn vị phối hợp mới: %(v)s") % {"v": asked["new_partner_unit"]})
    if asked.get("new_amount") is not None:
        parts.append(_("kinh phí hỗ trợ mới %(a)s") % {"a": format_dong(asked["new_amount"])})
    if asked.get("new_lines"):
        parts.append(_("dự toán điều chỉnh: %(l)s") % {"l": "; ".join(
            f"«{c.get('description', '')}» {format_dong(c.get('was') or 0)} → {format_dong(c.get('amount') or 0)}"
            for c in asked["new_lines"])})
    kind = _("Điều chỉnh lớn") if asked.get("major") else _("Điều chỉnh nhỏ")
    return f"{kind}: {'; '.join(parts)}" if parts else str(kind)


def timeline(de_an):
    """Transitions, comments, attachments added and deleted, disbursements recorded and voided, and
    every change of the đề án and its lines, oldest first."""
    from .models import BudgetLine as _BL

    entries = _attachment_entries(de_an) + _money_entries(de_an)
    transitions = Transition.objects.filter(de_an=de_an).select_related("actor").order_by("at", "id")
    for t in transitions:
        label = workflow.ACTION_LABELS.get(t.action, t.action)
        entries.append(TimelineEntry(
            at=t.at, kind="transition", actor=t.actor, title=str(label)[:1].upper() + str(label)[1:], comment=t.comment,
            decision_number=t.decision_number, decision_date=t.decision_date, status=t.to_status,
            from_status=t.from_status, note=_adjustment_note((t.data or {}).get("adjustment")),
        ))
    for c in Comment.objects.filter(de_an=de_an).select_related("author"):
        entries.append(TimelineEntry(at=c.created_at, kind="comment", actor=c.author, title=_("Ý kiến"), comment=c.text))

    de_an_records = list(de_an.history.select_related("history_user").order_by("history_date", "history_id"))
    # The activity contents each historical record had (simple-history snapshots the M2M per record).
    contents_by_record = {}
    through = DeAn.history.model._meta.get_field("historicaldean_contents").related_model
    for row in through.objects.filter(history__id=de_an.pk).select_related("activitycontent"):
        contents_by_record.setdefault(row.history_id, []).append(row.activitycontent.code)
    for record in de_an_records:
        record.content_codes = ", ".join(sorted(contents_by_record.get(record.history_id, []))) or None
    # The creation and status-only saves are shown by their transition rows; keep field edits.
    entries.extend(e for e in _history_entries(
        de_an_records,
        lambda r, t: _("Sửa hồ sơ đề án") if t == "~" else (_("Tạo hồ sơ") if t == "+" else _("Xóa hồ sơ")),
        _DE_AN_DIFF_FIELDS + ("content_codes",),
    ) if e.changes)

    line_records = list(_BL.history.filter(de_an_id=de_an.pk).select_related("history_user")
                        .order_by("history_date", "history_id"))
    entries.extend(_history_entries(
        line_records,
        lambda r, t: {"+": _("Thêm dòng kinh phí «%(d)s»: %(a)s"), "-": _("Xóa dòng kinh phí «%(d)s» (%(a)s)"),
                      "~": _("Sửa dòng kinh phí «%(d)s»")}[t] % {"d": r.description, "a": _money_text(r.amount)},
        _LINE_DIFF_FIELDS,
    ))
    ben_records = list(DeAnBeneficiary.history.filter(de_an_id=de_an.pk)
                       .select_related("history_user", "establishment").order_by("history_date", "history_id"))
    entries.extend(e for e in _history_entries(
        ben_records,
        lambda r, t: {"+": _("Thêm đơn vị thụ hưởng «%(n)s»"), "-": _("Bỏ đơn vị thụ hưởng «%(n)s»"),
                      "~": _("Sửa đơn vị thụ hưởng «%(n)s»")}[t] % {"n": r.establishment.name},
        ("note",),
    ))
    # Oldest first, the creation first of all: the lines, beneficiaries and fields written by the
    # creating transaction were saved a few milliseconds before its transition row, so they take its
    # instant and come after it (a stable sort keeps the rest in the order they were gathered).
    creation = next((e for e in entries if e.kind == "transition" and e.from_status == ""), None)
    if creation is not None:
        for e in entries:
            if e.at < creation.at:
                e.at = creation.at
    entries.sort(key=lambda e: (e.at, 0 if e is creation else 1))
    return entries


def _money_text(amount):
    from khuyencong.formatting import format_dong

    return format_dong(amount)


# --- queues and notifications -------------------------------------------------------------------

# Actions that move a dossier forward: a đề án waiting for one of these is "waiting for" its actor.
QUEUE_ACTIONS = frozenset({
    "submit", "forward", "start_appraisal", "approve", "approve_local", "start_implementation",
    "confirm_adjustment", "approve_adjustment", "settle",
})


def queue_filter(role):
    """Q of (state, level) pairs where ``role`` has a forward-moving action, read from the workflow table."""
    q = Q(pk__in=[])
    for state in workflow.STATES:
        for step in workflow.WORKFLOW.get(state, ()):
            if step.action in QUEUE_ACTIONS and role in step.queue_roles():
                here = Q(status=state, level__in=sorted(step.levels))
                if step.adjustment_confirmed is not None:
                    # Only while its pending adjustment is (not yet) confirmed by the Sở.
                    here &= Q(Exists(Adjustment.objects.filter(
                        de_an_id=OuterRef("pk"), status=AdjustmentStatus.PENDING,
                        confirmed_at__isnull=not step.adjustment_confirmed)))
                q |= here
    return q


# The queue's own sort keys (the waiting time) and those of ``SORTS`` it offers; "-waiting" (waited
# longest first) is its default. Every order ends on the id, so pages are stable.
QUEUE_SORTS = {
    "-waiting": ("waiting_since", "id"),  # the longest wait first: entered its status earliest
    "waiting": ("-waiting_since", "-id"),
    "code": SORTS["code"],
    "-code": SORTS["-code"],
    "name": SORTS["name"],
    "-name": SORTS["-name"],
    "total": SORTS["total"],
    "-total": SORTS["-total"],
}
DEFAULT_QUEUE_SORT = "-waiting"
# The list's filters the queue offers (applied by ``de_an_list``, inside the queue's scope).
QUEUE_FILTERS = ("q", "year", "level", "status", "province", "current_province")
# "Whole days waited" are counted between calendar days of Vietnam time.
QUEUE_TIME_ZONE = "Asia/Ho_Chi_Minh"


def queue_states(role):
    """The states in which ``role`` has a forward-moving action (those its queue can hold), in workflow order."""
    return [state for state in workflow.STATES
            if any(step.action in QUEUE_ACTIONS and role in step.queue_roles() for step in workflow.WORKFLOW.get(state, ()))]


class QueueFilters(dict):
    """What ``queue_filters`` returns: filters already cleaned, which ``queue_for`` takes as they are."""


def queue_filters(filters, *, user=None):
    """The queue's filters of ``filters`` (e.g. ``request.GET``) that hold a usable value, cleaned as
    ``de_an_list`` cleans them: {name: [values]} and ``q`` as text. Unknown names, malformed numbers and
    unknown codes are dropped, and so are provinces the filter selects do not offer ``user`` (one query,
    only when a province is asked for); an empty result means "no filter"."""
    from khuyencong.choices import Level

    if isinstance(filters, QueueFilters):
        return filters
    if not filters:
        return QueueFilters()
    get = filters.getlist if hasattr(filters, "getlist") else (lambda k: filters.get(k))
    cleaned = {
        "year": _ints(get("year")),
        "level": _strs(get("level"), set(Level.values)),
        "status": _strs(get("status"), set(Status.values)),
        "province": _ints(get("province")),
        "current_province": _ints(get("current_province")),
    }
    if cleaned["province"] or cleaned["current_province"]:
        cleaned["province"], cleaned["current_province"] = _offered_provinces(
            user, cleaned["province"], cleaned["current_province"])
    cleaned = QueueFilters((name, values) for name, values in cleaned.items() if values)
    q = filters.get("q") if hasattr(filters, "get") else None
    if isinstance(q, str) and search_terms(q):
        cleaned["q"] = q
    return cleaned


def _offered_provinces(user, recorded, current):
    """The ids of ``recorded`` (province as recorded, any era) and ``current`` (current province) that the
    queue's selects offer ``user``: any province for nationwide accounts, for a local one its province
    and the former ones merged into it. Ids of no province are dropped."""
    from khuyencong.models import Province

    provinces = Province.objects.filter(pk__in=[*recorded, *current])
    if not access.is_nationwide(user):
        province_id = access.user_province_id(user)
        if province_id is None:
            return [], []
        provinces = provinces.filter(Q(pk=province_id) | Q(successor_id=province_id))
    known = dict(provinces.values_list("pk", "era"))
    return ([pk for pk in recorded if pk in known],
            [pk for pk in current if known.get(pk) == "current"])


def waiting_since():
    """When the đề án entered its current status: the latest transition into it (one correlated subquery
    on the ``transition_de_an_at`` index, no query per row); ``updated_at`` for a đề án without such a
    transition (rows recorded before transitions were kept)."""
    from django.db.models import OuterRef, Subquery
    from django.db.models.functions import Coalesce

    entered = (Transition.objects.filter(de_an=OuterRef("pk"), to_status=OuterRef("status"))
               .order_by("-at", "-id").values("at")[:1])
    return Coalesce(Subquery(entered), F("updated_at"))


def days_waiting(since, today=None):
    """Whole days from the day ``since`` fell on to ``today`` (both in Vietnam time): 0 for today."""
    from zoneinfo import ZoneInfo

    if since is None:
        return None
    zone = ZoneInfo(QUEUE_TIME_ZONE)
    today = today or timezone.localdate(timezone=zone)
    return max(0, (today - timezone.localtime(since, zone).date()).days)


def queue_for(user, limit=None, *, filters=None, sort=None):
    """"What waits for me": đề án in the user's scope on which their role has the next move, each with
    ``waiting_since`` (when it entered its current status), the longest wait first.

    ``filters`` (e.g. ``request.GET``, or what ``queue_filters`` made of it): the list's ``q``, year,
    level, status, province and current_province (``QUEUE_FILTERS``), applied inside the queue's scope
    by ``de_an_list``; ``sort`` (or ``filters["sort"]``): a key of ``QUEUE_SORTS``. Unknown or malformed
    values are ignored."""
    if not access.is_active_user(user) or access.is_admin(user):
        return DeAn.objects.none()
    if sort is None and filters is not None and hasattr(filters, "get"):
        sort = filters.get("sort")
    order = QUEUE_SORTS[sort] if sort in QUEUE_SORTS else QUEUE_SORTS[DEFAULT_QUEUE_SORT]
    if order[0].lstrip("-") != "waiting_since":
        order = _order_by(sort)  # the list's order (names by Vietnamese collation)
    qs = (
        de_an_list(user=user, filters=queue_filters(filters, user=user)).filter(queue_filter(user.role))
        .prefetch_related(None).select_related(None)
        .select_related("province", "current_province", "implementing_unit")
        .annotate(waiting_since=waiting_since())
        .order_by(*order)
    )
    return qs[:limit] if limit else qs


def notifications_for(user, *, unread_only=False, limit=None):
    qs = access.visible_notifications(user).select_related("de_an")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    qs = qs.order_by("-created_at", "-id")
    return qs[:limit] if limit else qs


def unread_count(user):
    return access.visible_notifications(user).filter(read_at__isnull=True).count()


def establishment_search(*, user, q="", limit=20):
    qs = access.visible_establishments(user)
    if q:
        digits = q.strip().replace(" ", "")
        if digits.replace("-", "").isdigit():
            qs = qs.filter(tax_code__startswith=digits)
        else:
            qs = apply_search(qs, q, column="search_name", loose=False)  # search_name = fold(name)
    return qs.order_by("name", "id")[:limit]


def attachment_for_download(*, user, pk):
    """The attachment if ``user`` may see it; ``Attachment.DoesNotExist`` otherwise (→ 404)."""
    return access.visible_attachments(user).get(pk=pk)


def de_an_url(de_an):
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("projects:detail", args=[de_an.pk])
    except NoReverseMatch:
        return f"/de-an/{de_an.pk}/"


def home_panels(user):
    """Home page panels: what waits for me, unread notifications."""
    if not access.is_active_user(user):
        return []
    panels = []
    if not access.is_admin(user):
        queue = queue_for(user)
        items = list(queue[:8])
        panels.append({
            "title": _("Đề án chờ tôi xử lý"),
            "items": [{"label": f"{d.code} — {d.name}", "url": de_an_url(d), "meta": str(Status(d.status).label)}
                      for d in items],
            "count": queue.count() if len(items) == 8 else len(items),
            "url": _queue_url(),
            "order": 10,
        })
    notes = list(notifications_for(user, unread_only=True, limit=8))
    panels.append({
        "title": _("Thông báo mới"),
        "items": [{"label": n.message, "url": de_an_url(n.de_an) if n.de_an_id else "",
                   "meta": timezone.localtime(n.created_at).strftime("%H:%M %d/%m/%Y")} for n in notes],
        "count": unread_count(user) if len(notes) == 8 else len(notes),
        "url": _notifications_url(),
        "order": 20,
    })
    return panels


def _queue_url():
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("projects:queue")
    except NoReverseMatch:
        return ""


def _notifications_url():
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("projects:notifications")
    except NoReverseMatch:
        return ""


# --- establishments (cơ sở thụ hưởng) ----------------------------------------------------------------

# Sort keys offered on «Cơ sở thụ hưởng» → ORDER BY (ending on the primary key for stable pages).
ESTABLISHMENT_SORTS = {
    "ten": ("search_name", "pk"),
    "-so-de-an": ("-supported_count", "-de_an_count", "search_name", "pk"),
    "-nam": (F("last_year").desc(nulls_last=True), "search_name", "pk"),
}
DEFAULT_ESTABLISHMENT_SORT = "ten"
PRIORITY_FILTERS = {"phu-nu": "women_owned", "dan-toc": "ethnic_minority", "lang-nghe": "craft_village"}


def _links_in_scope(user, prefix="de_an_links__"):
    """The condition on an establishment's đề án links that keeps the đề án ``user`` may see."""
    if access.is_nationwide(user):
        return Q()
    return Q(**{f"{prefix}de_an__current_province_id": access.user_province_id(user)})


def establishment_filtered(*, user, filters=None):
    """Beneficiaries ``user`` may see (their province's, or all for the ministry), unordered, narrowed
    by ``filters``: q (words of the name, or the start of a tax code), province (current, former ones
    included), legal_form, priority (``PRIORITY_FILTERS``), supported ("co": in at least one supported
    đề án, "chua": in none). Unknown values are ignored."""
    from khuyencong.models import Province

    from .models import LegalForm

    filters = filters or {}
    qs = access.visible_establishments(user)
    q = (filters.get("q") or "").strip()
    if q:
        digits = q.replace(" ", "")
        if digits.replace("-", "").isdecimal() and digits.isascii():
            qs = qs.filter(tax_code__startswith=digits)
        else:
            qs = apply_search(qs, q, column="search_name", loose=False)
    province = _ints(filters.get("province"))
    if province and access.is_nationwide(user):
        if Province.objects.current().filter(pk=province[0]).exists():
            qs = qs.filter(Q(province_id=province[0]) | Q(province__successor_id=province[0]))
    if filters.get("legal_form") in LegalForm.values:
        qs = qs.filter(legal_form=filters["legal_form"])
    flag = PRIORITY_FILTERS.get(filters.get("priority"))
    if flag:
        qs = qs.filter(**{flag: True})
    supported_filter = filters.get("supported")
    if supported_filter in ("co", "chua"):
        scoped = DeAnBeneficiary.objects.filter(_links_in_scope(user, prefix=""), establishment=OuterRef("pk"),
                                                de_an__status__in=workflow.SUPPORTED_STATES)
        qs = qs.filter(Exists(scoped)) if supported_filter == "co" else qs.exclude(Exists(scoped))
    return qs


def establishment_list(*, user, filters=None):
    """Beneficiaries ``user`` may see (their province's, or all for the ministry), filtered and sorted
    as ``establishment_filtered`` and ``filters["sort"]`` (``ESTABLISHMENT_SORTS``) say. The figures
    shown beside each — how many visible đề án it is in (``de_an_count``), how many of them were
    approved and not called off (``supported_count``, ``workflow.SUPPORTED_STATES``) and the latest
    plan year of those (``last_year``) — come from ``establishment_counts`` for the rows shown: sorting
    by them counts every establishment's đề án in the database, but only into the order."""
    filters = filters or {}
    return _establishments_sorted(establishment_filtered(user=user, filters=filters), user=user,
                                  sort=filters.get("sort"))


def _establishments_sorted(qs, *, user, sort):
    if sort not in ESTABLISHMENT_SORTS or sort == DEFAULT_ESTABLISHMENT_SORT:
        return qs.order_by(*ESTABLISHMENT_SORTS[DEFAULT_ESTABLISHMENT_SORT])
    scope = _links_in_scope(user)
    supported = scope & Q(de_an_links__de_an__status__in=workflow.SUPPORTED_STATES)
    # alias(), not annotate(): the figures are for ordering only, so a page's ids are found over narrow
    # grouped rows (pk alone) — the whole rows grouped and sorted cost twice as much at 16.000.
    qs = qs.alias(
        de_an_count=Count("de_an_links", filter=scope),
        supported_count=Count("de_an_links", filter=supported),
        last_year=Max("de_an_links__de_an__plan_year", filter=supported),
    )
    return qs.order_by(*ESTABLISHMENT_SORTS[sort])


def establishment_page(*, user, filters=None, page=1, per_page=50):
    """One page of ``establishment_list`` with each row's figures (``establishment_counts``). Sorted by
    the figures, the page's ids come first (``IdFirstPaginator``) and the rows are counted without the
    joins the order needs. Invalid page numbers fall back to the nearest valid one."""
    filters = filters or {}
    found = establishment_filtered(user=user, filters=filters)
    ordered = _establishments_sorted(found, user=user, sort=filters.get("sort"))
    if ordered.query.annotations:  # sorted by figures: the ids of the page first, over narrow rows
        paginator = IdFirstPaginator(ordered, per_page, count_queryset=found)
    else:  # by name: the page's rows straight from the name index
        paginator = Paginator(ordered, per_page)
    result = paginator.get_page(page)
    result.object_list = establishment_counts(user=user, establishments=list(result.object_list))
    return result


def establishment_counts(*, user, establishments):
    """Give each of ``establishments`` (a page) the figures ``establishment_list`` sorts by when they
    are not there yet: ``de_an_count``, ``supported_count``, ``last_year`` (one query)."""
    missing = [e for e in establishments if not hasattr(e, "de_an_count")]
    if not missing:
        return establishments
    supported = Q(de_an__status__in=workflow.SUPPORTED_STATES)
    rows = (DeAnBeneficiary.objects.filter(establishment__in=missing).filter(_links_in_scope(user, prefix=""))
            .values("establishment_id")
            .annotate(n=Count("pk"), s=Count("pk", filter=supported), y=Max("de_an__plan_year", filter=supported)))
    found = {row["establishment_id"]: row for row in rows}
    for e in missing:
        row = found.get(e.pk)
        e.de_an_count, e.supported_count, e.last_year = (row["n"], row["s"], row["y"]) if row else (0, 0, None)
    return establishments


def establishment_get(*, user, pk):
    """One beneficiary ``user`` may see, or None."""
    return access.visible_establishments(user).filter(pk=pk).first()


def establishment_changes(establishment, limit=20):
    """The latest edits of ``establishment``'s record (audit trail), newest first, with who made them."""
    from khuyencong.models import AuditEvent

    return list(AuditEvent.objects.filter(object_type="projects.Establishment", object_id=str(establishment.pk))
                .select_related("actor").order_by("-created_at", "-pk")[:limit])


def establishment_de_an(*, user, establishment):
    """The đề án ``user`` may see that ``establishment`` is a beneficiary of, newest plan year first,
    with their contents (two queries)."""
    return (access.visible_de_an(user).filter(beneficiaries__establishment=establishment)
            .select_related("current_province", "implementing_unit")
            .prefetch_related(Prefetch("contents", queryset=ActivityContent.objects.only("id", "code", "name")))
            .order_by("-plan_year", "-pk"))


def other_de_an_counts(*, user, de_an):
    """For each beneficiary of ``de_an``: how many other đề án ``user`` may see it is in, and how
    many of those were supported (one query) — {establishment id: (others, supported others)}."""
    links = (DeAnBeneficiary.objects.filter(establishment__de_an_links__de_an=de_an)
             .exclude(de_an=de_an).filter(_links_in_scope(user, prefix=""))
             .values("establishment_id")
             .annotate(n=Count("pk"), supported=Count("pk", filter=Q(de_an__status__in=workflow.SUPPORTED_STATES))))
    return {row["establishment_id"]: (row["n"], row["supported"]) for row in links}


def workflow_guide(user):
    """«Quy trình xử lý đề án» from the one table that defines it (``workflow.WORKFLOW``): for each state,
    in lifecycle order, the steps that leave it — label, who takes them, for which level, what they ask
    for, where they lead and who is told — with ``mine`` set on the steps ``user``'s role takes."""
    from khuyencong.choices import Level

    from .models import Status

    role = getattr(user, "role", None)
    roles_in_order = [r for r, _label in Role.choices]
    levels_in_order = [lv for lv, _label in Level.choices]

    def names(codes, choices, order):
        return [str(choices(code).label) for code in sorted(codes, key=order.index)]

    states = []
    for state in workflow.STATES:
        steps = []
        for step in workflow.WORKFLOW[state]:
            steps.append({
                "label": step.label,
                "roles": names(step.roles, Role, roles_in_order),
                "levels": names(step.levels, Level, levels_in_order),
                "requires": [workflow.REQUIREMENT_LABELS[code] for code in step.requires],
                "target": Status(step.target).label,
                "target_code": step.target,
                "notify": names(set(step.notify), Role, roles_in_order),
                "mine": role in step.roles,
                "danger": step.danger,
            })
        states.append({"code": state, "label": Status(state).label, "steps": steps,
                       "final": state in workflow.FINAL_STATES, "editable": state in workflow.EDITABLE_STATES})
    return states
