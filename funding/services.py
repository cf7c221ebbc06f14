"""Writes of the funding app. Keyword-only, each in one transaction."""
import logging
import os
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from khuyencong.choices import Level
from khuyencong.formatting import UNIT_LABELS, format_date, format_datetime, format_dong, format_number
from khuyencong.models import AuditEvent
from khuyencong.runtime import cycle_collector_paused

from .bulk import copy_lines, copy_text, insert_rows, reserve_ids, update_rows
from .importers import Problem
from .models import (
    Allocation,
    AllocationSource,
    AnnualPlan,
    Commitment,
    ImportBatch,
    ImportKind,
    ImportRow,
    ImportStatus,
    RowAction,
    source_for_level,
)

logger = logging.getLogger(__name__)

class OverAllocation(Exception):
    """Committing would exceed what is allocated (or nothing is allocated). ``str(err)`` is Vietnamese."""


def _allocation_for_update(*, year, level, province, source):
    """The allocation row for (year, level, current province, source), locked until commit."""
    return (
        Allocation.objects.select_for_update()
        .select_related("plan", "province")
        .filter(plan__year=year, plan__level=level, province=province, source=source)
        .first()
    )


@transaction.atomic
def commitment_reserve(*, de_an, amount, actor=None):
    """Commit ``amount`` đồng of ``de_an``'s approved money against its province's allocation.

    The allocation row for (de_an.plan_year, de_an.level, de_an.current_province, source of the level)
    is locked with SELECT … FOR UPDATE, so two approvals racing for the same allocation are
    serialised: the second sees the first one's commitment. The database CHECK
    ``committed <= amount`` backs this up. Raises OverAllocation with a Vietnamese message.

    ``amount`` is added to what the đề án already holds (an approved adjustment sets the new total
    with ``commitment_set``). Returns the Commitment (one per đề án and allocation).
    """
    amount = int(amount)
    if amount < 0:
        raise OverAllocation(_("Số tiền cam kết phải lớn hơn hoặc bằng 0."))
    province = de_an.current_province
    source = source_for_level(de_an.level)
    allocation = _allocation_for_update(year=de_an.plan_year, level=de_an.level, province=province, source=source)
    if allocation is None:
        raise _nothing_allocated(de_an, amount)
    commitment = Commitment.objects.select_for_update().filter(de_an=de_an, allocation=allocation).first()
    previous = commitment.amount if commitment else 0
    _commit_add(allocation=allocation, add=amount)
    if commitment is None:
        commitment = Commitment.objects.create(de_an=de_an, allocation=allocation, amount=amount, created_by=actor)
    elif amount:
        commitment.amount = previous + amount
        commitment.save(update_fields=["amount", "updated_at"])
    return commitment


@transaction.atomic
def commitment_set(*, de_an, amount, actor=None):
    """Make what ``de_an`` holds against its province's allocation ``amount`` đồng (an approved
    adjustment of its support money). An increase is checked against the allocation under its row
    lock, as an approval is (``commitment_reserve``); a decrease gives the difference back. Returns
    the change in đồng; raises OverAllocation with a Vietnamese message."""
    amount = int(amount)
    if amount < 0:
        raise OverAllocation(_("Số tiền cam kết phải lớn hơn hoặc bằng 0."))
    source = source_for_level(de_an.level)
    allocation = _allocation_for_update(year=de_an.plan_year, level=de_an.level, province=de_an.current_province,
                                        source=source)
    commitment = None
    if allocation is not None:
        commitment = Commitment.objects.select_for_update().filter(de_an=de_an, allocation=allocation).first()
    before = commitment.amount if commitment else 0
    if amount == before:
        return 0
    if allocation is None:
        raise _nothing_allocated(de_an, amount)
    _commit_add(allocation=allocation, add=amount - before)
    if commitment is None:
        Commitment.objects.create(de_an=de_an, allocation=allocation, amount=amount, created_by=actor)
    else:
        commitment.amount = amount
        commitment.save(update_fields=["amount", "updated_at"])
    return amount - before


def _nothing_allocated(de_an, amount):
    source = source_for_level(de_an.level)
    return OverAllocation(
        _("Chưa có kinh phí %(source)s năm %(year)s được phân bổ cho %(province)s; không thể cam kết %(amount)s.")
        % {
            "source": _("khuyến công quốc gia") if source == "national" else _("khuyến công địa phương"),
            "year": de_an.plan_year,
            "province": de_an.current_province,
            "amount": format_dong(amount),
        }
    )


@transaction.atomic
def commitment_release(*, de_an, actor=None):
    """Give back what ``de_an`` holds and has not spent (stopped or cancelled after approval): money
    already advanced or paid (not voided) stays committed against the allocation — it has left the
    budget, and releasing it would let another đề án spend it again. Returns the đồng released."""
    from .models import Disbursement, DisbursementKind

    released = 0
    for commitment in Commitment.objects.select_for_update().filter(de_an=de_an).select_related("allocation"):
        allocation = Allocation.objects.select_for_update().get(pk=commitment.allocation_id)
        spent = (Disbursement.objects.counted().filter(de_an_id=de_an.pk, source=allocation.source)
                 .exclude(kind=DisbursementKind.SETTLEMENT).aggregate(total=Sum("amount"))["total"] or 0)
        keep = min(commitment.amount, spent)
        give_back = commitment.amount - keep
        if give_back:
            Allocation.objects.filter(pk=allocation.pk).update(committed=allocation.committed - give_back)
        released += give_back
        if keep:
            commitment.amount = keep
            commitment.save(update_fields=["amount", "updated_at"])
        else:
            commitment.delete()
    return released


def _commit_add(*, allocation, add):
    """Add ``add`` đồng (may be negative) to the locked allocation's committed total."""
    new_committed = allocation.committed + add
    if new_committed > allocation.amount:
        raise OverAllocation(over_allocation_message(allocation=allocation, add=add))
    Allocation.objects.filter(pk=allocation.pk).update(committed=new_committed)
    allocation.committed = new_committed


def over_allocation_message(*, allocation, add, province=None, year=None):
    return _(
        "Vượt kinh phí được phân bổ: %(province)s năm %(year)s được phân bổ %(allocated)s, đã cam kết "
        "%(committed)s, còn lại %(available)s; không thể cam kết thêm %(amount)s."
    ) % {
        "province": province or allocation.province,
        "year": year or allocation.plan.year,
        "allocated": format_dong(allocation.amount),
        "committed": format_dong(allocation.committed),
        "available": format_dong(allocation.amount - allocation.committed),
        "amount": format_dong(add),
    }


@transaction.atomic
def annual_plan_get_or_create(*, year, level, decision_number="", decision_date=None, title=""):
    from khuyencong.selectors import programme_for_year

    plan, created = AnnualPlan.objects.get_or_create(
        year=year,
        level=level,
        defaults={
            "decision_number": decision_number,
            "decision_date": decision_date,
            "title": title,
            "programme": programme_for_year(year),
        },
    )
    return plan


# === Excel import: read → plan (preview) → apply ================================================

class ImportFailed(Exception):
    """Applying an import was refused or interrupted; nothing was written. ``str(err)`` is Vietnamese."""

    def __init__(self, message, problems=None):
        self.problems = problems or []
        super().__init__(str(message))


class _PlanProblems(ImportFailed):
    """Checking against the database found problems (e.g. lowering below commitments)."""


@dataclass
class RowPlan:
    """What one parsed line will do: ``action`` create/update/unchanged, with the figure it replaces."""

    line: object
    action: str
    previous: int | None = None
    object_id: int | None = None
    message: str = ""
    before: dict | None = None  # plan annex: the đề án as it was before an update (for undo)
    commit: bool = True  # plan annex: False for a đề án an import may no longer touch (not recorded, not committed)
    previous_batch: int | None = None  # allocation table: the batch that last wrote the allocation (for undo)


@dataclass
class ImportPreview:
    parsed: object
    plans: list = field(default_factory=list)
    sha256: str = ""
    size: int = 0
    name: str = ""
    duplicate_of: object = None
    batch: object = None

    @property
    def problems(self):
        return self.parsed.problems

    @property
    def ok(self):
        return not self.parsed.problems and self.duplicate_of is None

    @property
    def warnings(self):
        """What the preview points out without blocking the import (Problem rows)."""
        return self.parsed.warnings

    def counts(self):
        errors = len({p.sheet_row for p in self.parsed.problems})
        omitted = getattr(self.parsed, "omitted_rows", 0)
        if omitted:  # rows whose problems were only counted (the first of them is listed as the note)
            errors += omitted - 1
        counts = {"create": 0, "update": 0, "unchanged": 0, "error": errors}
        for plan in self.plans:
            counts[plan.action] += 1
        return counts

    def summary_lines(self):
        """The same summary the web preview shows, as plain text lines (for the command)."""
        from .importers import SOURCE_LABELS  # noqa: F401 - keeps labels in one module

        parsed = self.parsed
        counts = self.counts()
        kind = ImportKind(parsed.kind).label if parsed.kind else ""
        lines = [
            _("Tệp: %(name)s (SHA-256 %(sha)s…)") % {"name": self.name, "sha": self.sha256[:12]},
            _("Loại bảng: %(kind)s — trang «%(sheet)s», dòng tiêu đề %(row)s, đơn vị tính: %(unit)s")
            % {"kind": kind, "sheet": parsed.sheet_name, "row": parsed.header_row, "unit": UNIT_LABELS.get(parsed.unit, "")},
            _("Năm %(year)s, cấp %(level)s, quyết định %(dec)s%(date)s")
            % {
                "year": parsed.year or "—",
                "level": Level(parsed.level).label if parsed.level else _("theo nguồn"),
                "dec": parsed.decision_number or "—",
                "date": (" " + pgettext("ngày ban hành", "ngày") + " " + format_date(parsed.decision_date)) if parsed.decision_date else "",
            },
            _("Số dòng dữ liệu trong bảng: %(rows)s; số khoản sẽ nhập: tạo mới %(create)s, cập nhật %(update)s, không đổi %(unchanged)s; số dòng lỗi: %(error)s")
            % {"rows": format_number(parsed.rows_read), **{key: format_number(n) for key, n in counts.items()}},
        ]
        if self.duplicate_of is not None:
            lines.append(duplicate_message(self.duplicate_of))
        totals = parsed.totals()
        lines.append(_("Tổng theo nguồn (đồng): KCQG %(n)s; KCĐP %(l)s; vốn đối ứng, khác %(c)s")
                     % {"n": format_dong(totals["national"]), "l": format_dong(totals["local"]), "c": format_dong(totals["counterpart"])})
        lines.append(_("Tổng theo tỉnh, thành phố (hiện nay):"))
        for province, entry in parsed.totals_by_province().items():
            lines.append(
                f"  {province.code} {province.full_name}: KCQG {format_dong(entry['national'])}; "
                f"KCĐP {format_dong(entry['local'])}; " + _("đối ứng, khác") + f" {format_dong(entry['counterpart'])}"
            )
        if parsed.warnings:
            lines.append(_("Cảnh báo (%(n)s; không ngăn việc nhập):") % {"n": format_number(parsed.warning_count)})
            for warning in parsed.warnings:
                lines.append(f"  ! {warning.message}")
            if parsed.warnings_omitted:
                lines.append("  ! " + _("Còn %(n)s cảnh báo khác không liệt kê ở đây.")
                             % {"n": format_number(parsed.warnings_omitted)})
        if parsed.problems:
            lines.append(_("Lỗi (%(n)s):") % {"n": format_number(parsed.problem_count)})
            for problem in parsed.problems:
                lines.append(f"  - {problem.message}")
        return lines


def duplicate_message(batch):
    return _(
        "Tệp này đã được nhập trước đây: lô #%(id)s, «%(name)s», lúc %(when)s bởi %(who)s. Nhập lại cùng một tệp "
        "không thay đổi gì; nếu cần nhập lại, hãy hoàn tác lô đó trước."
    ) % {
        "id": batch.pk,
        "name": batch.original_name,
        "when": format_datetime(batch.applied_at or batch.created_at),
        "who": (batch.applied_by or batch.created_by or _("hệ thống")),
    }


def import_read(*, fileobj, name="", size=None, max_problems=None):
    """Open and parse an uploaded workbook. Raises ImportRejected for a file that cannot be used."""
    from khuyencong.xlsx import Workbook, WorkbookError, check_size

    from .importers import ImportRejected, file_sha256, parse_workbook

    if size is None:
        fileobj.seek(0, 2)
        size = fileobj.tell()
        fileobj.seek(0)
    try:
        check_size(size)  # before reading a single byte of content
        if name and not name.lower().endswith((".xlsx", ".xltx")):
            lower = name.lower()
            if lower.endswith(".xlsm"):
                raise WorkbookError(_("Tệp có chứa macro (.xlsm) không được nhận vì lý do an toàn; hãy lưu lại dạng .xlsx (không macro)."))
            if lower.endswith(".xls"):
                raise WorkbookError(_("Đây là tệp Excel 97–2003 (.xls), không được hỗ trợ; hãy mở trong Excel và lưu lại dạng .xlsx."))
            if lower.endswith(".csv"):
                raise WorkbookError(_("Tệp CSV không được nhận; hãy mở trong Excel và lưu lại dạng .xlsx."))
        sha = file_sha256(fileobj)
        workbook = Workbook(fileobj, size=size)
        try:
            parsed = parse_workbook(workbook, max_problems=max_problems)
        finally:
            workbook.close()
    except WorkbookError as exc:
        raise ImportRejected(str(exc)) from exc
    return parsed, sha, size


def _existing_allocations(keys, *, lock=False):
    """{(year, level, province_id, source): Allocation} for the given keys, in one query."""
    years = {k[0] for k in keys}
    qs = Allocation.objects.filter(plan__year__in=years).select_related("plan")
    if lock:
        qs = qs.select_for_update(of=("self",)) if connection.features.has_select_for_update_of else qs.select_for_update()
    wanted = set(keys)
    out = {}
    for allocation in qs.order_by("pk"):
        key = (allocation.plan.year, allocation.plan.level, allocation.province_id, allocation.source)
        if key in wanted:
            out[key] = allocation
    return out


def _plan_allocations(parsed, *, lock=False):
    keys = [(line.year, line.level, line.province.id, line.source) for line in parsed.lines]
    existing = _existing_allocations(keys, lock=lock)
    plans = []
    for line, key in zip(parsed.lines, keys, strict=True):
        allocation = existing.get(key)
        if allocation is None:
            plans.append(RowPlan(line, RowAction.CREATE))
            continue
        if allocation.amount == line.amount:
            plans.append(RowPlan(line, RowAction.UNCHANGED, allocation.amount, allocation.pk))
            continue
        if line.amount < allocation.committed:
            parsed.problem(
                line.sheet_row,
                _(
                    "Dòng %(row)s: không thể giảm kinh phí %(source)s năm %(year)s của %(p)s xuống %(new)s vì đã cam kết "
                    "%(committed)s cho các đề án được duyệt."
                )
                % {
                    "row": _rows_text(line),
                    "source": SOURCE_TEXT[line.source],
                    "year": line.year,
                    "p": line.province.full_name,
                    "new": format_dong(line.amount),
                    "committed": format_dong(allocation.committed),
                },
            )
            continue
        plans.append(RowPlan(line, RowAction.UPDATE, allocation.amount, allocation.pk,
                             previous_batch=allocation.import_batch_id))
    return plans


def _rows_text(line):
    """The sheet row of an allocation line, or its rows when former provinces were added up ("7, 8")."""
    return ", ".join(str(row) for row, _p, _a in line.parts) if line.parts else str(line.sheet_row)


def _allocation_row_data(plan):
    """ImportRow.data of an allocation line: the province(s) as recorded when not today's (each merged
    row with its sheet row and amount), and for an update the batch that wrote the allocation before
    (``previous_batch``, given back on undo)."""
    line = plan.line
    data = {}
    if line.parts:
        labels = [f"{p.full_name} ({p.code})" for _row, p, _a in line.parts]
        data["recorded"] = "; ".join(labels)
        data["parts"] = [{"row": row, "recorded": label, "amount": amount}
                         for (row, _p, amount), label in zip(line.parts, labels, strict=True)]
    elif line.recorded.id != line.province.id:
        data["recorded"] = f"{line.recorded.full_name} ({line.recorded.code})"
    if line.warning:
        data["warning"] = line.warning
    if plan.action == RowAction.UPDATE:
        data["previous_batch"] = plan.previous_batch
    return data


SOURCE_TEXT = {"national": "KCQG", "local": "KCĐP"}


# A đề án an import may still update (and commit money for): approved, not yet settled or cancelled.
# Settled, cancelled or rejected đề án are history: a row naming one must leave it exactly as it is.
ANNEX_UPDATABLE_STATUSES = frozenset({"approved", "in_implementation", "adjustment_requested", "accepted"})


def _plan_annex(parsed, *, lock=False):
    """What each annex row will do. A row of a đề án outside ``ANNEX_UPDATABLE_STATUSES`` is "unchanged,
    not committed" when it is as recorded, an error when it would change the đề án; a row setting a
    đề án's money below what was already paid out for it is an error. With ``lock`` (apply) the đề án
    rows are locked, so their state and payments cannot change before they are written."""
    from projects.models import DeAn

    refs = [line.source_ref for line in parsed.lines]
    existing = {}
    for start in range(0, len(refs), 5000):
        qs = DeAn.objects.filter(source_ref__in=refs[start:start + 5000]).only(
            "pk", "code", "source_ref", "name", "location", "start_date", "end_date", "decision_number",
            "decision_date", "implementing_unit_name", "national_amount", "local_amount", "counterpart_amount",
            "other_amount", "total_amount", "province_id", "status",
        )
        if lock:
            qs = qs.select_for_update(of=("self",)).order_by("pk")
        for de_an in qs:
            existing[de_an.source_ref] = de_an
    national = source_for_level(parsed.level) == AllocationSource.NATIONAL
    same_of = {}
    for line in parsed.lines:
        de_an = existing.get(line.source_ref)
        if de_an is not None:
            same_of[line.source_ref] = (
                de_an.name == line.name
                and de_an.location == line.location
                and de_an.start_date == line.start_date
                and de_an.end_date == line.end_date
                and de_an.decision_number == parsed.decision_number
                and de_an.decision_date == parsed.decision_date
                and de_an.implementing_unit_name == line.implementing_unit
                and de_an.national_amount == line.national
                and de_an.local_amount == line.local
                and de_an.counterpart_amount + de_an.other_amount == line.counterpart
                and de_an.total_amount == line.total
            )
    paid = _paid_by_de_an([existing[ref].pk for ref, same in same_of.items() if not same], parsed.level)
    plans = []
    for line in parsed.lines:
        de_an = existing.get(line.source_ref)
        if de_an is None:
            plans.append(RowPlan(line, RowAction.CREATE))
            continue
        same = same_of[line.source_ref]
        if de_an.status not in ANNEX_UPDATABLE_STATUSES:
            status = _status_label(de_an.status)
            if not same:
                parsed.problem(line.sheet_row, _(
                    "Dòng %(row)s: đề án %(code)s đang ở trạng thái «%(s)s», không thể thay đổi bằng nhập phụ lục; "
                    "hãy giữ dòng này đúng như đã nhập trước đây.") % {"row": line.sheet_row, "code": de_an.code, "s": status})
                continue
            plans.append(RowPlan(line, RowAction.UNCHANGED, de_an.national_amount, de_an.pk, commit=False, message=_(
                "Đề án %(code)s đang ở trạng thái «%(s)s»: giữ nguyên, không cam kết lại kinh phí.")
                % {"code": de_an.code, "s": status}))
            continue
        amount = line.national if national else line.local
        if not same and amount < paid.get(de_an.pk, 0):
            parsed.problem(line.sheet_row, _(
                "Dòng %(row)s: không thể đặt kinh phí %(source)s của đề án %(code)s là %(new)s vì đã giải ngân "
                "%(paid)s (tạm ứng và thanh toán).") % {
                "row": line.sheet_row, "source": SOURCE_TEXT[source_for_level(parsed.level)], "code": de_an.code,
                "new": format_dong(amount), "paid": format_dong(paid[de_an.pk])})
            continue
        plans.append(RowPlan(line, RowAction.UNCHANGED if same else RowAction.UPDATE, de_an.national_amount, de_an.pk))
    _check_annex_allocations(parsed, plans)
    return plans


def _status_label(status):
    from projects.models import Status

    return Status(status).label


def _paid_by_de_an(ids, level):
    """{đề án id: advances + payments not voided, of the level's source} for ``ids`` (one query per 5.000)."""
    from .models import Disbursement, DisbursementKind

    paid = {}
    source = source_for_level(level)
    for start in range(0, len(ids), 5000):
        paid.update(Disbursement.objects.counted().filter(de_an_id__in=ids[start:start + 5000], source=source)
                    .exclude(kind=DisbursementKind.SETTLEMENT).values("de_an_id").annotate(total=Sum("amount"))
                    .values_list("de_an_id", "total"))
    return paid


def _annex_needs(parsed, plans):
    """{(province_id, source): (amount needed, first sheet row)} for the annex's đề án."""
    source = source_for_level(parsed.level)
    needs = {}
    for plan in plans:
        if not plan.commit:  # settled, cancelled: holds what it holds, commits nothing more
            continue
        line = plan.line
        amount = line.national if source == AllocationSource.NATIONAL else line.local
        key = (line.province.current.pk, source)
        total, row = needs.get(key, (0, line.sheet_row))
        needs[key] = (total + amount, row)
    return needs


def _check_annex_allocations(parsed, plans):
    """The annex's đề án must fit in the province's allocation (created from the annex when missing).
    What the đề án written again already hold is replaced by their new amount; a đề án left as it is
    (``commit`` False) keeps what it holds and counts nothing more."""
    needs = _annex_needs(parsed, plans)
    keys = [(parsed.year, parsed.level, pid, source) for pid, source in needs]
    allocations = _existing_allocations(keys)
    held = {}
    ids = [plan.object_id for plan in plans if plan.commit and plan.object_id]
    for commitment in Commitment.objects.filter(de_an_id__in=ids, allocation__in=allocations.values()):
        held[commitment.allocation_id] = held.get(commitment.allocation_id, 0) + commitment.amount
    for (pid, source), (amount, row) in needs.items():
        allocation = allocations.get((parsed.year, parsed.level, pid, source))
        if allocation is None:
            continue
        after = allocation.committed - held.get(allocation.pk, 0) + amount
        if after > allocation.amount:
            parsed.problem(
                row,
                _(
                    "Dòng %(row)s: các đề án của %(p)s cần %(need)s kinh phí %(source)s nhưng phân bổ năm %(year)s chỉ có "
                    "%(alloc)s (các đề án khác đã cam kết %(other)s)."
                )
                % {
                    "row": row,
                    "p": allocation.province.full_name,
                    "need": format_dong(amount),
                    "source": SOURCE_TEXT[source],
                    "year": parsed.year,
                    "alloc": format_dong(allocation.amount),
                    "other": format_dong(allocation.committed - held.get(allocation.pk, 0)),
                },
            )


def _find_duplicate(sha):
    return (
        ImportBatch.objects.filter(sha256=sha, status=ImportStatus.APPLIED)
        .select_related("applied_by", "created_by")
        .order_by("-applied_at")
        .first()
    )


def import_preview(*, fileobj, name, actor, save=True, size=None):
    """Read, check and plan an upload. When everything is right (and ``save``), keep the file and an
    ImportBatch in state "previewed" with one ImportRow per line, waiting for confirmation. When
    anything is wrong nothing at all is written: the preview (with its problems) is only returned.
    Raises ImportRejected for an unusable file."""
    with cycle_collector_paused():
        return _import_preview(fileobj=fileobj, name=name, actor=actor, save=save, size=size)


def _import_preview(*, fileobj, name, actor, save=True, size=None):
    """``import_preview``, called with the cycle collector paused."""
    parsed, sha, size = import_read(fileobj=fileobj, name=name, size=size)
    preview = ImportPreview(parsed=parsed, sha256=sha, size=size, name=name)
    preview.duplicate_of = _find_duplicate(sha)
    if parsed.ok:
        preview.plans = _plan_allocations(parsed) if parsed.kind == ImportKind.ALLOCATION else _plan_annex(parsed)
    if preview.ok and save:
        with transaction.atomic():
            batch = _new_batch(preview, actor=actor)
            fileobj.seek(0)
            batch.file.save(_stored_name(sha, name), File(fileobj, name=name), save=True)
            _write_import_rows(batch, preview)
        preview.batch = batch
    return preview


def _stored_name(sha, name):
    from django.utils.text import get_valid_filename

    base = get_valid_filename(os.path.basename(name or "bang-tinh.xlsx"))[-80:] or "bang-tinh.xlsx"
    return f"{sha[:16]}-{base}"


def _new_batch(preview, *, actor, status=ImportStatus.PREVIEWED):
    parsed = preview.parsed
    counts = preview.counts()
    totals = parsed.totals()
    return ImportBatch.objects.create(
        kind=parsed.kind,
        status=status,
        original_name=(preview.name or "")[:255],
        sha256=preview.sha256,
        size=preview.size,
        created_by=actor if getattr(actor, "pk", None) else None,
        year=parsed.year,
        sheet_name=parsed.sheet_name[:100],
        unit=parsed.unit,
        rows_total=parsed.rows_read,
        rows_created=counts["create"],
        rows_updated=counts["update"],
        rows_unchanged=counts["unchanged"],
        rows_error=counts["error"],
        total_national=totals["national"],
        total_local=totals["local"],
        total_counterpart=totals["counterpart"],
        summary=_summary_json(preview),
    )


def _summary_json(preview):
    parsed = preview.parsed
    return {
        "level": parsed.level,
        "decision_number": parsed.decision_number,
        "decision_date": parsed.decision_date.isoformat() if parsed.decision_date else None,
        "decision_date_text": format_date(parsed.decision_date) if parsed.decision_date else "",
        "header_row": parsed.header_row,
        "title": parsed.title,
        "by_province": [
            {"province_id": p.pk, "code": p.code, "name": p.full_name, **entry}
            for p, entry in parsed.totals_by_province().items()
        ],
        # Shown on the batch page; they never block the confirmation (see ParsedImport.warn).
        "warnings": [{"row": w.sheet_row, "message": w.message} for w in parsed.warnings],
        "warnings_omitted": parsed.warnings_omitted,
    }


def _write_import_rows(batch, preview, *, new=False):
    """One ImportRow per planned line (COPY). ``new``: the batch was created in this transaction and
    has no rows yet (no DELETE first)."""
    if not new:
        ImportRow.objects.filter(batch=batch).delete()
    rows = []
    append = rows.append
    batch_id = batch.id
    plain = {**{a: a.value for a in RowAction}, **{s: s.value for s in AllocationSource}}  # enums → str: COPY fast path
    if preview.parsed.kind == ImportKind.ALLOCATION and connection.vendor == "postgresql":
        # The COPY text of each row built directly (ids and amounts are ints, actions and sources
        # plain ASCII; the message and the data go through copy_text): no per-value type checks.
        def lines():  # streamed: the server takes each chunk while the next is built
            update = RowAction.UPDATE
            for plan in preview.plans:
                line = plan.line
                province = line.province
                data = "{}" if (line.recorded.id == province.id and line.parts is None and plan.action != update
                                and not line.warning) else copy_text(_allocation_row_data(plan))
                message = copy_text(plan.message) if plan.message else ""
                previous = "\\N" if plan.previous is None else plan.previous
                object_id = "\\N" if plan.object_id is None else plan.object_id
                yield (f"{batch_id}\t{line.sheet_row}\t{plain[plan.action]}\t{message}\t{province.id}\t"
                       f"{plain[line.source]}\t{line.amount}\t{previous}\t{object_id}\t{data}")

        copy_lines(ImportRow, IMPORT_ROW_FIELDS, lines())
        return
    if preview.parsed.kind == ImportKind.ALLOCATION:
        for plan in preview.plans:
            line = plan.line
            province = line.province
            data = _allocation_row_data(plan)
            append((batch_id, line.sheet_row, plain[plan.action], plan.message, province.id, plain[line.source],
                    line.amount, plan.previous, plan.object_id, data))
    else:
        level = preview.parsed.level
        source = plain[source_for_level(level)]
        national = level == Level.NATIONAL
        recorded = {}  # province id → "Tỉnh … (code)", built once per province (full_name is a property)
        for plan in preview.plans:
            line = plan.line
            label = recorded.get(line.province.id)
            if label is None:
                label = recorded[line.province.id] = f"{line.province.full_name} ({line.province.code})"
            data = {"name": line.name, "beneficiary": line.beneficiary, "stt": line.stt, "national": line.national,
                    "local": line.local, "counterpart": line.counterpart, "total": line.total, "recorded": label}
            if line.warning:
                data["warning"] = line.warning
            if plan.before is not None:
                data["before"] = plan.before
            append((batch_id, line.sheet_row, plain[plan.action], plan.message, line.province.current.id, source,
                    line.national if national else line.local, plan.previous, plan.object_id, data))
    insert_rows(ImportRow, IMPORT_ROW_FIELDS, rows)


IMPORT_ROW_FIELDS = ["batch", "sheet_row", "action", "message", "province", "source", "amount", "previous_amount",
                     "object_id", "data"]


def _prepare_connection():
    """After a lost database connection, start the retry on a fresh one."""
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()


def import_apply(*, batch, actor):
    """Apply a previewed batch in one transaction: the stored file is read again and re-checked
    against the database as it is now (under row locks); on any problem nothing is written and
    ImportFailed lists why. A lost database connection rolls everything back (ImportFailed)."""
    with cycle_collector_paused():
        return _import_apply(batch=batch, actor=actor)


def _import_apply(*, batch, actor):
    """``import_apply``, called with the cycle collector paused."""
    _prepare_connection()
    if batch.status not in (ImportStatus.PREVIEWED, ImportStatus.APPLYING):
        raise ImportFailed(_("Lô #%(id)s không ở trạng thái chờ xác nhận (hiện: %(s)s).")
                           % {"id": batch.pk, "s": batch.get_status_display()})
    try:
        stored = batch.file.open("rb")
    except (OSError, ValueError) as exc:
        raise ImportFailed(_("Không đọc được tệp gốc đã lưu của lô #%(id)s; hãy tải tệp lên lại.") % {"id": batch.pk}) from exc
    with stored:
        parsed, sha, size = import_read(fileobj=stored, name=batch.original_name)
    if sha != batch.sha256:
        raise ImportFailed(_("Tệp lưu của lô #%(id)s đã bị thay đổi; hãy tải lên lại.") % {"id": batch.pk})
    preview = ImportPreview(parsed=parsed, sha256=sha, size=size, name=batch.original_name)
    return _apply_guarded(preview=preview, batch=batch, actor=actor)


def import_file(*, fileobj, name, actor=None, dry_run=False, store=True):
    """Preview and, unless ``dry_run``, apply in one go (the management command and the benchmark).
    Returns the ImportPreview (with ``batch`` set when applied). Raises ImportRejected/ImportFailed."""
    with cycle_collector_paused():
        return _import_file(fileobj=fileobj, name=name, actor=actor, dry_run=dry_run, store=store)


def _import_file(*, fileobj, name, actor=None, dry_run=False, store=True):
    """``import_file``, called with the cycle collector paused."""
    _prepare_connection()
    parsed, sha, size = import_read(fileobj=fileobj, name=name)
    preview = ImportPreview(parsed=parsed, sha256=sha, size=size, name=name)
    preview.duplicate_of = _find_duplicate(sha)
    if dry_run or not preview.ok:
        if parsed.ok:
            preview.plans = _plan_allocations(parsed) if parsed.kind == ImportKind.ALLOCATION else _plan_annex(parsed)
        return preview
    fileobj.seek(0)
    try:
        # Planned once, inside the apply transaction, under row locks.
        return _apply_guarded(preview=preview, batch=None, actor=actor, fileobj=fileobj if store else None)
    except _PlanProblems:
        return preview  # problems found against the database: nothing written, reported like a preview


def _apply_guarded(*, preview, batch, actor, fileobj=None):
    # The driver's own classes too: a COPY (projects' bulk writes) is not wrapped by Django.
    lost = (OperationalError, InterfaceError, connection.Database.OperationalError, connection.Database.InterfaceError)
    try:
        return _apply(preview=preview, batch=batch, actor=actor, fileobj=fileobj)
    except lost as exc:
        raise ImportFailed(
            _("Mất kết nối tới cơ sở dữ liệu trong khi nhập; mọi thay đổi của lần nhập này đã được hủy, dữ liệu vẫn "
              "như trước. Hãy thử lại sau ít phút.")
        ) from exc


@transaction.atomic
def _apply(*, preview, batch, actor, fileobj=None):
    parsed = preview.parsed
    duplicate = _find_duplicate(preview.sha256)
    if duplicate is not None and (batch is None or duplicate.pk != batch.pk):
        raise ImportFailed(duplicate_message(duplicate))
    if parsed.ok:
        if parsed.kind == ImportKind.ALLOCATION:
            preview.plans = _plan_allocations(parsed, lock=True)
        else:
            preview.plans = _plan_annex(parsed, lock=True)
    if not parsed.ok:
        raise _PlanProblems(
            _("Bảng tính có %(n)s lỗi; chưa có gì được nhập.") % {"n": format_number(parsed.problem_count)}, parsed.problems
        )
    created_here = batch is None
    if batch is None:
        batch = _new_batch(preview, actor=actor, status=ImportStatus.PREVIEWED)
        if fileobj is not None:
            batch.file.save(_stored_name(preview.sha256, preview.name), File(fileobj, name=preview.name), save=False)
    else:
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status not in (ImportStatus.PREVIEWED, ImportStatus.APPLYING):
            raise ImportFailed(_("Lô #%(id)s đã được xử lý.") % {"id": batch.pk})
    plan = _ensure_plans(parsed, batch)
    if parsed.kind == ImportKind.ALLOCATION:
        _apply_allocations(preview, batch, plan)
    else:
        _apply_annex(preview, batch, plan, actor)
    counts = preview.counts()
    batch.status = ImportStatus.APPLIED
    batch.applied_by = actor if getattr(actor, "pk", None) else None
    batch.applied_at = timezone.now()
    batch.rows_created, batch.rows_updated, batch.rows_unchanged = counts["create"], counts["update"], counts["unchanged"]
    batch.rows_error = 0
    batch.error = ""
    batch.plan = plan
    batch.summary = {**_summary_json(preview), "applied": batch.summary.get("applied", {})}
    batch.save()
    _write_import_rows(batch, preview, new=created_here)
    AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None, action="funding.import_applied", object_type="funding.ImportBatch",
        object_id=str(batch.pk),
        summary=_("Nhập «%(name)s»: tạo %(c)s, cập nhật %(u)s, không đổi %(n)s")
        % {"name": batch.original_name[:200], "c": counts["create"], "u": counts["update"], "n": counts["unchanged"]},
        data={"sha256": batch.sha256, "kind": batch.kind},
    )
    preview.batch = batch
    return preview


def _ensure_plans(parsed, batch):
    """The AnnualPlan rows the file writes into (created when missing, in one statement; the file's
    decision filled in for its own year). Returns the plan of the file's year (or the first one)."""
    pairs = sorted({(line.year, line.level) for line in parsed.lines}) if parsed.kind == ImportKind.ALLOCATION else [
        (parsed.year, parsed.level)]
    years = {y for y, _l in pairs}
    existing = {(p.year, p.level): p for p in AnnualPlan.objects.select_for_update().filter(year__in=years)
                if (p.year, p.level) in pairs}
    missing = [pair for pair in pairs if pair not in existing]
    # The file's decision belongs to one plan: its year, and the level it approves (a plan annex's
    # own level; for an allocation table the level named in the title, else the one of its issuer).
    own = (parsed.year, _decision_level(parsed, pairs))
    if missing:
        from khuyencong.models import Programme

        known = list(Programme.objects.all())
        programmes = {y: next((p for p in known if p.start_year <= y <= p.end_year), None) for y, _l in missing}
        AnnualPlan.objects.bulk_create(
            [AnnualPlan(year=y, level=lv, programme=programmes[y],
                        decision_number=parsed.decision_number if (y, lv) == own else "",
                        decision_date=parsed.decision_date if (y, lv) == own else None,
                        title=parsed.title[:500] if y == parsed.year else "") for y, lv in missing],
            batch_size=1000,
        )
        created = {(p.year, p.level): p for p in AnnualPlan.objects.filter(year__in={y for y, _l in missing})}
        batch.summary.setdefault("applied", {})["plans_created"] = [created[pair].pk for pair in missing]
        existing.update(created)
    for (year, level), plan in existing.items():
        if (year, level) in missing or (year, level) != own or not parsed.decision_number:
            continue
        if (plan.decision_number, plan.decision_date) != (parsed.decision_number, parsed.decision_date):
            batch.summary.setdefault("applied", {}).setdefault("plans_before", []).append({
                "id": plan.pk, "decision_number": plan.decision_number,
                "decision_date": plan.decision_date.isoformat() if plan.decision_date else None,
                "updated_at": plan.updated_at.isoformat()})
            plan.decision_number, plan.decision_date = parsed.decision_number, parsed.decision_date
            plan.save(update_fields=["decision_number", "decision_date", "updated_at"])
    by_year = [existing[pair] for pair in pairs if pair[0] == parsed.year]
    return (by_year or [existing[pairs[0]]])[0] if pairs else None


# Issuers of a plan decision (the part after the type: "95/QĐ-BCT" → BCT): the ministry (or, before
# 2025, the Prime Minister) approves national money; the province (its People's Committee, its
# Department of Industry and Trade) local money.
_NATIONAL_ISSUERS = ("BCT", "TTG")
_LOCAL_ISSUERS = ("UBND", "SCT", "HĐND")


def _decision_level(parsed, pairs):
    """The level whose plan the file's decision approves, or None when the file does not say."""
    if parsed.kind == ImportKind.PLAN_ANNEX or parsed.level:
        return parsed.level or None
    issuer = parsed.decision_number.rsplit("/", 1)[-1].partition("-")[2].upper()
    if issuer.startswith(_NATIONAL_ISSUERS):
        return Level.NATIONAL
    if issuer.startswith(_LOCAL_ISSUERS):
        return Level.LOCAL
    levels = {level for _y, level in pairs}
    return levels.pop() if len(levels) == 1 else None


def _apply_allocations(preview, batch, plan):
    plans = {(p.year, p.level): p.pk for p in AnnualPlan.objects.filter(year__in={pl.line.year for pl in preview.plans})}
    now = timezone.now()
    stamp = now.isoformat()
    creates = []
    updates = []
    batch_id = batch.id
    sources = {src: src.value for src in AllocationSource}
    if connection.vendor == "postgresql":
        # Keys reserved first, COPY text built directly (all ints and ASCII words): no per-value checks.
        new = [row for row in preview.plans if row.action == RowAction.CREATE]
        tail = f"\t0\t{batch_id}\t{stamp}"
        ids = reserve_ids(Allocation, len(new)) if new else ()

        def lines():  # streamed; each row learns its key as its line is sent
            for pk, row in zip(ids, new, strict=True):
                line = row.line
                row.object_id = pk
                yield f"{pk}\t{plans[(line.year, line.level)]}\t{line.province.id}\t{sources[line.source]}\t{line.amount}{tail}"

        if new:
            copy_lines(Allocation, ["id", "plan", "province", "source", "amount", "committed", "import_batch",
                                    "updated_at"], lines())
        updates = [(row.object_id, row.line.amount) for row in preview.plans if row.action == RowAction.UPDATE]
        update_rows(Allocation, ["amount"], updates, extra={"import_batch": batch.pk, "updated_at": now})
        return
    for row in preview.plans:
        line = row.line
        if row.action == RowAction.CREATE:
            creates.append((plans[(line.year, line.level)], line.province.id, sources[line.source], line.amount, 0,
                            batch_id, stamp))
        elif row.action == RowAction.UPDATE:
            updates.append((row.object_id, line.amount))
    ids = insert_rows(Allocation, ["plan", "province", "source", "amount", "committed", "import_batch", "updated_at"],
                      creates, returning_ids=True)
    update_rows(Allocation, ["amount"], updates, extra={"import_batch": batch.pk, "updated_at": now})
    created = iter(ids)
    for row in preview.plans:
        if row.action == RowAction.CREATE:
            row.object_id = next(created)


ANNEX_CHUNK = 5000  # rows per call of projects.services.de_an_record_approved_many


def _apply_annex(preview, batch, plan, actor):
    """Record the annex's đề án through ``projects.services.de_an_record_approved_many`` (the one
    sanctioned way to record an approved đề án: code, history, budget lines, beneficiary, transition),
    set-based, ``ANNEX_CHUNK`` rows per call; then commit their money in bulk."""
    from projects.models import CodeSequence
    from projects.services import (
        RecordError,
        WorkflowError,
        code_prefix,
        de_an_record_approved_many,
        de_an_snapshot_many,
    )

    parsed = preview.parsed
    level = parsed.level
    actor = actor if getattr(actor, "pk", None) else None
    actions = {"created": RowAction.CREATE, "updated": RowAction.UPDATE}
    results = {}
    # A đề án an import may no longer touch (settled, cancelled: ``RowPlan.commit`` False) is left out:
    # not recorded again, not committed; its row stays "unchanged" with the reason.
    plans = [row for row in preview.plans if row.commit]
    # What undo needs to put everything back: when the writes started, the đề án that may be updated
    # as they are now, and the code sequences before and after.
    started = timezone.now()
    snapshots = de_an_snapshot_many([row.object_id for row in plans if row.object_id])
    prefixes = sorted({code_prefix(level, parsed.year, row.line.province.code) for row in plans if not row.object_id})
    sequences = dict(CodeSequence.objects.select_for_update().filter(prefix__in=prefixes).order_by("prefix")
                     .values_list("prefix", "last")) if prefixes else {}
    for start in range(0, len(plans), ANNEX_CHUNK):
        chunk = plans[start:start + ANNEX_CHUNK]
        rows = [
            {
                "plan_year": parsed.year, "level": level, "province": row.line.province, "name": row.line.name,
                "implementing_unit_name": row.line.implementing_unit, "beneficiary_name": row.line.beneficiary,
                "contents_text": row.line.contents, "location": row.line.location, "start_date": row.line.start_date,
                "end_date": row.line.end_date, "total_amount": row.line.total, "national_amount": row.line.national,
                "local_amount": row.line.local, "counterpart_amount": row.line.counterpart,
                "decision_number": parsed.decision_number, "decision_date": parsed.decision_date,
                "source_ref": row.line.source_ref,
            }
            for row in chunk
        ]
        try:
            recorded = de_an_record_approved_many(actor=actor, rows=rows)
        except WorkflowError as exc:
            index = exc.index if isinstance(exc, RecordError) else 0
            line = chunk[index].line
            raise ImportFailed(
                _("Dòng %(row)s: %(msg)s; chưa có gì được nhập.") % {"row": line.sheet_row, "msg": exc},
                [Problem(line.sheet_row, str(exc))],
            ) from exc
        for row, (de_an, action) in zip(chunk, recorded, strict=True):
            de_an._created_now = action == "created"  # holds no commitment yet: not looked up
            row.action = actions.get(action, RowAction.UNCHANGED)
            row.object_id = de_an.pk
            if action == "updated":
                row.before = snapshots[de_an.pk]
            results[de_an.pk] = (de_an, row.line)
    applied = batch.summary.setdefault("applied", {})
    if prefixes:
        after = CodeSequence.objects.filter(prefix__in=prefixes).values_list("prefix", "last")
        applied["code_sequences"] = {p: [sequences.get(p), last] for p, last in after if last != sequences.get(p)}
    _commit_annex(parsed, preview, batch, plan, results, actor)
    applied["window"] = [started.isoformat(), timezone.now().isoformat()]


def _commit_annex(parsed, preview, batch, plan, results, actor):
    """Hold each imported đề án's approved money against its province's allocation (creating the
    allocation from the annex when the plan has none yet), under row locks."""
    source = source_for_level(parsed.level)
    needs = _annex_needs(parsed, preview.plans)
    keys = [(parsed.year, parsed.level, pid, src) for pid, src in needs]
    allocations = _existing_allocations(keys, lock=True)
    missing = [Allocation(plan=plan, province_id=pid, source=src, amount=amount, import_batch=batch)
               for (pid, src), (amount, _row) in needs.items() if (parsed.year, parsed.level, pid, src) not in allocations]
    Allocation.objects.bulk_create(missing, batch_size=1000)  # pks returned (PostgreSQL, SQLite ≥ 3.35)
    created_ids = []
    for allocation in missing:
        allocations[(parsed.year, parsed.level, allocation.province_id, allocation.source)] = allocation
        created_ids.append(allocation.pk)
    if created_ids:
        batch.summary.setdefault("applied", {})["allocations_created"] = created_ids
    by_pk = {a.pk: a for a in allocations.values()}
    existing = {}
    ids = [pk for pk, (de_an, _line) in results.items() if not getattr(de_an, "_created_now", False)]
    for start in range(0, len(ids), 5000):
        for c in Commitment.objects.select_for_update().filter(de_an_id__in=ids[start:start + 5000],
                                                               allocation__in=list(by_pk)):
            existing[(c.de_an_id, c.allocation_id)] = c
    delta = {}
    new_rows = []
    changed = []
    existing_before = {}
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    now = timezone.now()
    for de_an_id, (_de_an, line) in results.items():
        allocation = allocations[(parsed.year, parsed.level, line.province.current.pk, source)]
        amount = line.national if source == AllocationSource.NATIONAL else line.local
        current = existing.get((de_an_id, allocation.pk))
        before = current.amount if current else 0
        if current is None:
            new_rows.append((de_an_id, allocation.pk, amount, actor_id, batch.pk, now, now))
        elif before != amount:
            existing_before[current.pk] = before
            current.amount = amount
            changed.append(current)
        delta[allocation.pk] = delta.get(allocation.pk, 0) + amount - before
    for pk, add in delta.items():
        allocation = by_pk[pk]
        if allocation.committed + add > allocation.amount:
            raise ImportFailed(over_allocation_message(allocation=allocation, add=add))
    insert_rows(Commitment, ["de_an", "allocation", "amount", "created_by", "import_batch", "created_at", "updated_at"],
                new_rows)
    Commitment.objects.bulk_update(changed, ["amount"], batch_size=2000)
    if changed:
        batch.summary.setdefault("applied", {})["commitments_changed"] = [
            [c.pk, existing_before[c.pk], c.amount] for c in changed]
    update_rows(Allocation, ["committed"], [(pk, by_pk[pk].committed + add) for pk, add in delta.items() if add])


# === undo / discard ==============================================================================

@transaction.atomic
def import_undo(*, batch, actor):
    """Undo an applied batch in one transaction, while nothing depends on it; refused with the reasons
    (``ImportFailed``, Vietnamese, naming the sheet row or the đề án) otherwise.

    Allocation tables: allocations the batch created are removed (if nothing is committed against
    them), allocations it changed get their previous amount back (if no later batch changed them and
    the commitments still fit).

    Plan annexes: the đề án the batch created are removed with everything recorded for them (budget
    lines, beneficiaries, contents, transition, history, the establishments created for them, their
    code numbers), the đề án it updated get back the row and budget lines they had (kept in the
    import rows), its commitments are removed or restored and the allocations' committed totals with
    them, allocations it created are removed. Refused when any of those đề án has moved on since
    (a later transition or edit, a disbursement, an inspection record, indicator outputs,
    attachments, comments … — anything else referring to it), checked by queries; the database's
    foreign keys, checked immediately, are the last guard.

    Both: annual plans the batch created are removed when nothing is left in them, a plan decision it
    filled in gets its previous value back; the batch becomes "undone" and an audit event records it."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != ImportStatus.APPLIED:
        raise ImportFailed(_("Chỉ hoàn tác được lô đã nhập (lô #%(id)s: %(s)s).") % {"id": batch.pk, "s": batch.get_status_display()})
    if batch.kind == ImportKind.PLAN_ANNEX:
        details = _undo_annex(batch)
    else:
        details = _undo_allocations(batch)
    _undo_plans(batch)
    batch.status = ImportStatus.UNDONE
    batch.undone_by = actor if getattr(actor, "pk", None) else None
    batch.undone_at = timezone.now()
    batch.save(update_fields=["status", "undone_by", "undone_at"])
    AuditEvent.objects.create(
        actor=batch.undone_by, action="funding.import_undone", object_type="funding.ImportBatch", object_id=str(batch.pk),
        summary=_("Hoàn tác lô nhập #%(id)s «%(name)s»") % {"id": batch.pk, "name": batch.original_name[:200]},
        data={"sha256": batch.sha256, "kind": batch.kind, **details},
    )
    return batch


def _undo_allocations(batch):
    rows = list(batch.rows.filter(action__in=[RowAction.CREATE, RowAction.UPDATE]).order_by("sheet_row"))
    ids = [r.object_id for r in rows if r.object_id]
    allocations = {a.pk: a for a in Allocation.objects.select_for_update().filter(pk__in=ids).select_related("province", "plan")}
    problems = []
    deletes, restores = [], []
    for row in rows:
        allocation = allocations.get(row.object_id)
        if allocation is None:
            continue
        if allocation.import_batch_id != batch.pk:
            later = allocation.import_batch_id
            problems.append(_("Dòng %(row)s: %(a)s đã được thay đổi sau lô này%(by)s.") % {
                "row": row.sheet_row, "a": allocation,
                "by": (" " + _("(lô #%(id)s)") % {"id": later}) if later else ""})
            continue
        target = 0 if row.action == RowAction.CREATE else (row.previous_amount or 0)
        if allocation.committed > target:
            problems.append(_("Dòng %(row)s: %(a)s đã có %(c)s được cam kết cho đề án.") % {
                "row": row.sheet_row, "a": allocation, "c": format_dong(allocation.committed)})
            continue
        if row.action == RowAction.CREATE:
            deletes.append(allocation.pk)
        else:
            # The batch that wrote the allocation before this one gets it back (so that batch can be
            # undone in its turn); batches applied before this was recorded leave none.
            restores.append((allocation.pk, target, (row.data or {}).get("previous_batch")))
    if problems:
        raise ImportFailed(_("Không thể hoàn tác lô #%(id)s vì đã có dữ liệu phụ thuộc vào nó.") % {"id": batch.pk},
                           [Problem(0, p) for p in problems])
    if Commitment.objects.filter(allocation_id__in=deletes).exists():
        raise ImportFailed(_("Không thể hoàn tác: đã có cam kết kinh phí trên các khoản do lô này tạo."))
    Allocation.objects.filter(pk__in=deletes).delete()
    now = timezone.now()
    update_rows(Allocation, ["amount", "import_batch"], [r for r in restores if r[2] is not None], extra={"updated_at": now})
    update_rows(Allocation, ["amount"], [r[:2] for r in restores if r[2] is None], extra={"import_batch": None, "updated_at": now})
    return {"allocations_removed": len(deletes), "allocations_restored": len(restores)}


def _undo_plans(batch):
    """Plans the batch created go when nothing is left in them; a decision it filled in is put back."""
    from django.utils.dateparse import parse_date, parse_datetime

    applied = batch.summary.get("applied") or {}
    for before in applied.get("plans_before") or []:
        AnnualPlan.objects.filter(pk=before["id"], decision_number=batch.summary.get("decision_number", "")).update(
            decision_number=before["decision_number"],
            decision_date=parse_date(before["decision_date"]) if before["decision_date"] else None,
            updated_at=parse_datetime(before["updated_at"]))
    created_plans = applied.get("plans_created") or []
    if created_plans:
        AnnualPlan.objects.filter(pk__in=created_plans).filter(~Q(pk__in=Allocation.objects.values("plan_id"))).delete()


def _undo_annex(batch):
    from django.db import IntegrityError
    from django.utils.dateparse import parse_datetime

    from projects.services import de_an_delete_imported_many, de_an_restore_imported_many

    applied = batch.summary.get("applied") or {}
    touched = batch.rows.filter(action__in=[RowAction.CREATE, RowAction.UPDATE])
    if not applied.get("window"):
        if touched.exists():
            raise ImportFailed(_("Lô #%(id)s được nhập trước khi có chức năng hoàn tác phụ lục kế hoạch nên không đủ thông "
                                 "tin để hoàn tác.") % {"id": batch.pk})
        return {}
    since, until = (parse_datetime(value) for value in applied["window"])
    _lock_annex_rows(batch, applied)
    created = list(batch.rows.filter(action=RowAction.CREATE).order_by("object_id").values_list("object_id", flat=True))
    snapshots = {row.object_id: row.data["before"]
                 for row in batch.rows.filter(action=RowAction.UPDATE).only("object_id", "data")}
    allocations_created = applied.get("allocations_created") or []
    establishments = _annex_establishments(batch, since, until)
    problems = _annex_undo_problems(batch, created, snapshots, allocations_created, establishments, since, until)
    if problems:
        raise ImportFailed(
            _("Không thể hoàn tác lô #%(id)s vì đã có dữ liệu phụ thuộc vào nó: %(first)s")
            % {"id": batch.pk, "first": problems[0]},
            [Problem(0, p) for p in problems],
        )
    released = _undo_annex_commitments(batch, applied)
    Allocation.objects.filter(pk__in=allocations_created).delete()
    try:
        with transaction.atomic():
            de_an_delete_imported_many(de_an_ids=created, establishment_ids=establishments,
                                       code_sequences=applied.get("code_sequences"))
    except IntegrityError as exc:
        raise ImportFailed(_referenced_message(batch, exc)) from exc
    de_an_restore_imported_many(snapshots=snapshots, since=since)
    return {"de_an_removed": len(created), "de_an_restored": len(snapshots), "establishments_removed": len(establishments),
            "commitments_released": released, "allocations_removed": len(allocations_created)}


def _lock_annex_rows(batch, applied):
    """Lock the đề án the batch wrote and the allocations its commitments use (đề án first, as an
    approval does) before checking: a transition, a disbursement, a commitment or any row referring to
    one of these đề án (its foreign-key check takes a share lock on the đề án row) waits until the undo
    is committed or rolled back, so nothing slips in between the checks and the deletes."""
    from projects.models import DeAn

    touched = batch.rows.filter(action__in=[RowAction.CREATE, RowAction.UPDATE]).values("object_id")
    list(DeAn.objects.select_for_update().filter(pk__in=touched).order_by("pk").values_list("pk", flat=True))
    changed = [pk for pk, _before, _after in applied.get("commitments_changed") or []]
    allocations = (Commitment.objects.filter(Q(import_batch=batch) | Q(pk__in=changed)).values("allocation_id"))
    list(Allocation.objects.select_for_update().filter(Q(pk__in=allocations) | Q(pk__in=applied.get("allocations_created") or []))
         .order_by("pk").values_list("pk", flat=True))


def _annex_establishments(batch, since, until):
    """Establishments the batch created: new (created within its write window) and linked to a đề án
    it created."""
    from projects.models import Establishment

    created = batch.rows.filter(action=RowAction.CREATE).values("object_id")
    return sorted(Establishment.objects.filter(created_at__gte=since, created_at__lte=until,
                                               de_an_links__de_an_id__in=created)
                  .values_list("pk", flat=True).distinct())


def _de_an_label(de_an):
    return _("đề án %(code)s «%(name)s»") % {"code": de_an.code, "name": de_an.name[:120]}


LIMIT = 20  # problems reported per kind of dependency


def _annex_undo_problems(batch, created, snapshots, allocations_created, establishments, since, until):
    """Why the batch cannot be undone (Vietnamese, each naming the đề án), by queries; [] when it can."""

    from projects.models import BudgetLine, DeAn, DeAnBeneficiary, Establishment, Status, Transition

    from .models import Disbursement

    created_q = batch.rows.filter(action=RowAction.CREATE).values("object_id")
    touched_q = batch.rows.filter(action__in=[RowAction.CREATE, RowAction.UPDATE]).values("object_id")
    found = []  # (de_an id, text)

    for pk, status in DeAn.objects.filter(pk__in=created_q).exclude(status=Status.APPROVED).values_list("pk", "status")[:LIMIT]:
        found.append((pk, _("đã chuyển sang trạng thái «%(s)s»") % {"s": Status(status).label}))
    for pk in DeAn.objects.filter(pk__in=created_q, status=Status.APPROVED).exclude(revision=1).values_list("pk", flat=True)[:LIMIT]:
        found.append((pk, _("đã được sửa sau khi nhập")))
    if snapshots:
        for pk, revision in DeAn.objects.filter(pk__in=list(snapshots)).values_list("pk", "revision"):
            if revision != snapshots[pk]["de_an"]["revision"] + 1:
                found.append((pk, _("đã được sửa sau khi nhập")))
    for pk, action in (Transition.objects.filter(de_an_id__in=touched_q, at__gt=until)
                       .order_by("at").values_list("de_an_id", "action")[:LIMIT]):
        found.append((pk, _("đã có thao tác «%(a)s» sau khi nhập") % {"a": _action_label(action)}))
    for model, what in ((DeAn, _("đề án")), (BudgetLine, _("dòng kinh phí")), (DeAnBeneficiary, _("đơn vị thụ hưởng"))):
        column = "id" if model is DeAn else "de_an_id"
        for pk in (model.history.filter(**{f"{column}__in": touched_q}, history_date__gt=until)
                   .values_list(column, flat=True).distinct()[:LIMIT]):
            found.append((pk, _("%(what)s đã được sửa sau khi nhập") % {"what": what}))
    if snapshots:
        for pk in (Disbursement.objects.filter(de_an_id__in=list(snapshots), created_at__gte=since)
                   .values_list("de_an_id", flat=True).distinct()[:LIMIT]):
            found.append((pk, _("đã có giải ngân sau khi nhập")))
    # Anything else referring to a đề án the batch created: disbursements, inspection records,
    # indicator outputs, attachments, comments, adjustments, notifications, … (any app, any relation).
    own = {BudgetLine, DeAnBeneficiary, Transition, Commitment}
    for rel in DeAn._meta.related_objects:
        if rel.related_model in own:
            continue
        name = rel.field.name
        for pk in (rel.related_model._base_manager.filter(**{f"{name}__in": created_q})
                   .values_list(name, flat=True).distinct()[:LIMIT]):
            found.append((pk, _("đã có %(what)s") % {"what": rel.related_model._meta.verbose_name_plural}))
    for pk in (Commitment.objects.filter(de_an_id__in=created_q).exclude(import_batch=batch)
               .values_list("de_an_id", flat=True)[:LIMIT]):
        found.append((pk, _("đã có cam kết kinh phí khác")))
    for pk in (Commitment.objects.filter(import_batch=batch, updated_at__gt=until)
               .values_list("de_an_id", flat=True)[:LIMIT]):
        found.append((pk, _("cam kết kinh phí đã thay đổi sau khi nhập")))
    changed = {pk: after for pk, _before, after in (batch.summary.get("applied") or {}).get("commitments_changed") or []}
    if changed:
        current = dict(Commitment.objects.filter(pk__in=list(changed)).values_list("pk", "amount"))
        for pk, after in changed.items():
            if current.get(pk) != after:
                de_an_id = Commitment.objects.filter(pk=pk).values_list("de_an_id", flat=True).first()
                found.append((de_an_id, _("cam kết kinh phí đã thay đổi sau khi nhập")))
    for pk in (Commitment.objects.filter(allocation_id__in=allocations_created).exclude(import_batch=batch)
               .values_list("de_an_id", flat=True)[:LIMIT]):
        found.append((pk, _("đã được cam kết trên khoản phân bổ do lô này tạo")))

    problems = []
    labels = {d.pk: _de_an_label(d) for d in DeAn.objects.filter(pk__in={pk for pk, _t in found if pk}).only("code", "name")}
    seen = set()
    for pk, text in found:
        message = capfirst(_("%(de_an)s %(why)s.") % {"de_an": labels.get(pk, _("đề án #%(id)s") % {"id": pk}),
                                                      "why": text})
        if message not in seen:
            seen.add(message)
            problems.append(message)
    later = Q(updated_at__gt=until) | ~Q(import_batch=batch) | Q(import_batch__isnull=True)
    for allocation in (Allocation.objects.filter(later, pk__in=allocations_created)
                       .select_related("plan", "province")[:LIMIT]):
        problems.append(_("Khoản phân bổ %(a)s do lô này tạo đã được thay đổi sau đó.") % {"a": allocation})
    if establishments:
        others = []
        for rel in Establishment._meta.related_objects:
            qs = rel.related_model._base_manager.filter(**{f"{rel.field.name}__in": establishments})
            if rel.related_model is DeAnBeneficiary:
                qs = qs.exclude(de_an_id__in=created_q)
            others.extend(qs.values_list(rel.field.name, flat=True).distinct()[:LIMIT])
        edited = Establishment.objects.filter(pk__in=establishments, updated_at__gt=until).values_list("pk", flat=True)
        names = dict(Establishment.objects.filter(pk__in=set(others) | set(edited)).values_list("pk", "name"))
        for pk in dict.fromkeys(others):
            problems.append(_("Cơ sở thụ hưởng «%(n)s» do lô này tạo đã được dùng ở nơi khác.")
                            % {"n": names.get(pk, pk)})
        for pk in edited:
            problems.append(_("Cơ sở thụ hưởng «%(n)s» do lô này tạo đã được sửa sau khi nhập.")
                            % {"n": names.get(pk, pk)})
    return problems


def _action_label(action):
    from projects.workflow import ACTION_LABELS

    return ACTION_LABELS.get(action, action)


def _undo_annex_commitments(batch, applied):
    """Remove the commitments the batch created, put back the ones it changed, and give the allocations'
    committed totals back (locked rows). Returns the đồng released."""
    from django.db.models import Sum

    delta = {}
    for row in Commitment.objects.filter(import_batch=batch).values("allocation_id").annotate(s=Sum("amount")):
        delta[row["allocation_id"]] = delta.get(row["allocation_id"], 0) + row["s"]
    changed = {pk: (before, after) for pk, before, after in applied.get("commitments_changed") or []}
    if changed:
        for pk, allocation_id in Commitment.objects.filter(pk__in=list(changed)).values_list("pk", "allocation_id"):
            before, after = changed[pk]
            delta[allocation_id] = delta.get(allocation_id, 0) + after - before
    locked = {a.pk: a for a in Allocation.objects.select_for_update().filter(pk__in=list(delta)).order_by("pk")}
    Commitment.objects.filter(import_batch=batch)._raw_delete(Commitment.objects.db)
    update_rows(Commitment, ["amount"], [(pk, before) for pk, (before, _after) in changed.items()])
    update_rows(Allocation, ["committed"], [(pk, locked[pk].committed - d) for pk, d in delta.items() if d])
    return sum(delta.values())


def _referenced_message(batch, exc):
    """The database refused to delete a đề án (a foreign key): name it when the error says which."""
    import re

    from projects.models import DeAn

    text = str(exc)
    # Checked at the end (deferred keys), PostgreSQL reports the referring row:
    #   insert or update on table "x" violates foreign key constraint … Key (de_an_id)=(7) is not present in table "projects_dean".
    # checked at once, the deleted one: … Key (id)=(7) is still referenced from table "x".
    late = re.search(r'on table "?([\w.]+)"? violates.*Key \(\w+\)=\((\d+)\) is not present in table "?projects_dean"?', text, re.S)
    early = re.search(r'Key \(id\)=\((\d+)\) is still referenced from table "?([\w.]+)"?', text)
    table, pk = (late.group(1), late.group(2)) if late else ((early.group(2), early.group(1)) if early else (None, None))
    de_an = DeAn.objects.filter(pk=int(pk)).only("code", "name").first() if pk else None
    if de_an is not None:
        return _("Không thể hoàn tác lô #%(id)s: %(de_an)s đang được dữ liệu khác tham chiếu (bảng %(t)s).") % {
            "id": batch.pk, "de_an": _de_an_label(de_an), "t": table}
    return _("Không thể hoàn tác lô #%(id)s: dữ liệu do lô này tạo đang được dữ liệu khác tham chiếu.") % {"id": batch.pk}


@transaction.atomic
def import_discard(*, batch, actor):
    """Drop a previewed batch that will not be confirmed: its rows go, its stored file is deleted after
    commit, and an audit event ``funding.import_discarded`` keeps who, when, the file's name and SHA-256."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != ImportStatus.PREVIEWED:
        raise ImportFailed(_("Chỉ hủy được lô đang chờ xác nhận."))
    batch.rows.all().delete()
    batch.status = ImportStatus.DISCARDED
    batch.save(update_fields=["status"])
    name = batch.file.name
    AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None, action="funding.import_discarded",
        object_type="funding.ImportBatch", object_id=str(batch.pk),
        summary=_("Hủy lô nhập #%(id)s «%(name)s» (chưa nhập)") % {"id": batch.pk, "name": batch.original_name[:200]},
        data={"sha256": batch.sha256, "kind": batch.kind, "original_name": batch.original_name, "file": name,
              "size": batch.size, "rows_total": batch.rows_total},
    )
    if name:
        transaction.on_commit(lambda: batch.file.storage.delete(name))
    return batch


# === disbursements ================================================================================

class DisbursementRefused(ImportFailed):
    """A disbursement was not recorded; ``str(err)`` is the Vietnamese reason and ``field`` the entry
    field it is about ("amount", "document_number", …; None for the entry as a whole), so the form can
    mark that field."""

    def __init__(self, message, problems=None, *, field=None):
        super().__init__(message, problems)
        self.field = field


# A đề án's money can be paid out once it is approved, unless it is cancelled. A settled đề án stays payable up to its settled amount: the settlement (quyết toán) fixes what the
# state owes, and the rest of it is paid after the settlement, as the treasury does.
PAYABLE_STATUSES = frozenset({"approved", "in_implementation", "adjustment_requested", "accepted", "settled"})


def payable_ceiling(de_an):
    """What may be paid out for ``de_an`` in all (advances + payments), in đồng, and the Vietnamese
    name of that figure: the settled amount once settled, else the approved amount of its source."""
    if de_an.status == "settled" and de_an.settled_amount is not None:
        return de_an.settled_amount, _("kinh phí quyết toán")
    source = source_for_level(de_an.level)
    approved = (de_an.approved_national_amount if source == AllocationSource.NATIONAL else de_an.approved_local_amount)
    return approved or 0, _("kinh phí được duyệt")


def paid_amount(de_an):
    """What has been paid out for ``de_an`` so far: its advances and payments not voided, in đồng
    (settlements are not payments)."""
    from .models import Disbursement, DisbursementKind

    return (Disbursement.objects.counted().filter(de_an_id=de_an.pk).exclude(kind=DisbursementKind.SETTLEMENT)
            .aggregate(total=Sum("amount"))["total"] or 0)


@transaction.atomic
def disbursement_record(*, actor, de_an, kind, amount, date, document_number, note="", request_key=None):
    """Record an advance or a payment of a đề án's approved money. The total paid (advances +
    payments) never exceeds the approved amount of the đề án's source — once settled, its settled amount
    (``payable_ceiling``: the rest of a settlement is paid after it); only for approved đề án not
    cancelled. A document number already recorded for the đề án (case and spaces aside) is refused.
    A settlement is refused (``settlement_elsewhere_message``): it is written by
    the đề án's «Quyết toán» step only (``settlement_record``). ``amount`` is
    integer đồng or Vietnamese text ("1.500.000"). The đề án row is locked, so two entries at once
    are checked one after the other. ``request_key`` (one per form shown): the same key again
    returns the disbursement already recorded instead of a second one. Records the audit event
    ``funding.disbursement_recorded`` (not on a replay). Raises DisbursementRefused."""
    from khuyencong import access
    from khuyencong.formatting import MoneyError, parse_money
    from projects.models import DeAn, Status

    from .models import Disbursement, DisbursementKind

    decision = access.can(actor, "funding.record_disbursement", de_an)
    if not decision:
        raise DisbursementRefused(decision.reason)
    if kind == DisbursementKind.SETTLEMENT:
        raise DisbursementRefused(settlement_elsewhere_message())
    if kind not in DisbursementKind.values:
        raise DisbursementRefused(_("Loại giải ngân không hợp lệ; chọn tạm ứng hoặc thanh toán."))
    try:
        amount = parse_money(amount)
    except MoneyError as exc:
        raise DisbursementRefused(str(exc), field="amount") from exc
    if amount <= 0:
        raise DisbursementRefused(_("Số tiền giải ngân phải lớn hơn 0."), field="amount")
    if date is None:
        raise DisbursementRefused(_("Cần nhập ngày chứng từ (dd/mm/yyyy)."), field="date")
    if not (document_number or "").strip():
        raise DisbursementRefused(_("Cần nhập số chứng từ."), field="document_number")
    de_an = DeAn.objects.select_for_update().get(pk=de_an.pk)
    if request_key:
        done = Disbursement.objects.filter(request_key=request_key).first()
        if done is not None:
            if done.de_an_id != de_an.pk:
                raise DisbursementRefused(_("Biểu mẫu này đã được dùng cho đề án khác; hãy mở lại trang."))
            done.replayed = True
            return done
    if de_an.status not in PAYABLE_STATUSES:
        raise DisbursementRefused(
            _("Đề án %(code)s đang ở trạng thái «%(s)s»: chỉ ghi nhận giải ngân cho đề án đã được phê duyệt, chưa "
              "hủy.") % {"code": de_an.code, "s": Status(de_an.status).label})
    source = source_for_level(de_an.level)
    ceiling, ceiling_name = payable_ceiling(de_an)
    rows = list(Disbursement.objects.counted().filter(de_an=de_an).values_list("kind", "amount"))
    paid = sum(a for k, a in rows if k != DisbursementKind.SETTLEMENT)
    if paid + amount > ceiling:
        raise DisbursementRefused(
            _("Tổng giải ngân %(p)s vượt %(what)s %(b)s (đã giải ngân %(d)s, còn được giải ngân %(r)s).")
            % {"p": format_dong(paid + amount), "what": ceiling_name, "b": format_dong(ceiling), "d": format_dong(paid),
               "r": format_dong(max(ceiling - paid, 0))}, field="amount",
        )
    duplicate = _same_document(de_an, document_number)
    if duplicate is not None:
        raise DisbursementRefused(
            _("Chứng từ số %(doc)s đã được ghi cho đề án này: %(kind)s %(amount)s ngày %(date)s. Một chứng từ chỉ ghi "
              "một lần; nếu đây là khoản khác, hãy kiểm tra lại số chứng từ.")
            % {"doc": duplicate.document_number, "kind": duplicate.get_kind_display().lower(),
               "amount": format_dong(duplicate.amount), "date": format_date(duplicate.date)}, field="document_number")
    disbursement = Disbursement.objects.create(
        de_an=de_an, kind=kind, source=source, amount=amount, date=date, document_number=document_number.strip()[:50],
        note=(note or "").strip()[:255], created_by=actor if getattr(actor, "pk", None) else None,
        request_key=request_key or None,
    )
    _disbursement_recorded(disbursement, de_an)  # a replayed request_key returned above writes none
    return disbursement


def _document_key(number):
    """A document number as compared for duplicates: case, spaces and dash forms do not count
    («UNC-01/2026», «unc - 01 / 2026»)."""
    text = "".join(str(number or "").split()).casefold()
    return text.replace("–", "-").replace("—", "-")


def _same_document(de_an, document_number):
    """The counted advance or payment of ``de_an`` recorded under the same document number, if any."""
    from .models import Disbursement, DisbursementKind

    key = _document_key(document_number)
    for row in (Disbursement.objects.counted().filter(de_an_id=de_an.pk)
                .exclude(kind=DisbursementKind.SETTLEMENT).order_by("id")):
        if _document_key(row.document_number) == key:
            return row
    return None


def settlement_elsewhere_message():
    """Why the money page (``disbursement_record``, the entry form) takes no settlement."""
    return _("Quyết toán không ghi nhận ở trang giải ngân: kinh phí, ngày và số văn bản quyết toán được ghi ở bước "
             "«Quyết toán» của đề án.")


def _commitment_to_settlement(de_an, settled):
    """A settlement below the approved amount gives the rest of the commitment back to the province's
    allocation (it will not be spent); the commitment keeps the settled amount."""
    for commitment in Commitment.objects.select_for_update().filter(de_an_id=de_an.pk).order_by("pk"):
        if commitment.amount <= settled:
            continue
        allocation = Allocation.objects.select_for_update().get(pk=commitment.allocation_id)
        Allocation.objects.filter(pk=allocation.pk).update(committed=allocation.committed - (commitment.amount - settled))
        commitment.amount = settled
        commitment.save(update_fields=["amount", "updated_at"])


@transaction.atomic
def settlement_record(*, actor, de_an, amount, date, document_number):
    """The settlement row of ``de_an`` (kind settlement, source of its level, ``amount`` đồng, ``date``,
    ``document_number``), with the audit event ``funding.disbursement_recorded``. Called only by the
    đề án's «Quyết toán» step (``projects.services.de_an_settle``) inside its transaction, after its
    checks and under its lock of the đề án row: that step is the one writer of the settlement, so
    ``DeAn.settled_amount``/``settled_on`` and this row are one fact. Refused (``DisbursementRefused``)
    when a counted settlement row already exists (data written before), or when ``amount`` is below
    what was advanced and paid (the overpayment must be recovered first)."""
    from .models import Disbursement, DisbursementKind

    existing = Disbursement.objects.counted().filter(de_an_id=de_an.pk, kind=DisbursementKind.SETTLEMENT).first()
    if existing is not None:
        raise DisbursementRefused(
            _("Đề án %(code)s đã có khoản quyết toán %(a)s (văn bản %(doc)s ngày %(d)s) ở trang kinh phí; không ghi "
              "khoản quyết toán thứ hai. Nếu khoản đó nhập sai, hãy hủy nó (kèm lý do) rồi quyết toán lại.")
            % {"code": de_an.code, "a": format_dong(existing.amount), "doc": existing.document_number,
               "d": format_date(existing.date)})
    paid = paid_amount(de_an)
    if int(amount) < paid:
        # A settlement below what was paid would leave an overpayment standing with no record of the
        # money to recover: the payments are put right first.
        raise DisbursementRefused(
            _("Kinh phí quyết toán %(a)s thấp hơn số đã tạm ứng, thanh toán %(paid)s cho đề án %(code)s. Phần chênh "
              "lệch %(diff)s phải được thu hồi trước: hãy hủy (kèm lý do) hoặc ghi lại các khoản chi ở trang kinh phí "
              "cho đúng số thực chi, rồi quyết toán.")
            % {"a": format_dong(int(amount)), "paid": format_dong(paid), "code": de_an.code,
               "diff": format_dong(paid - int(amount))})
    _commitment_to_settlement(de_an, int(amount))
    disbursement = Disbursement.objects.create(
        de_an=de_an, kind=DisbursementKind.SETTLEMENT, source=source_for_level(de_an.level), amount=int(amount),
        date=date, document_number=document_number, created_by=actor if getattr(actor, "pk", None) else None,
    )
    _disbursement_recorded(disbursement, de_an)
    return disbursement


def _disbursement_recorded(disbursement, de_an):
    """The audit event of a recorded disbursement, in the caller's transaction."""
    AuditEvent.objects.create(
        actor=disbursement.created_by, action="funding.disbursement_recorded", object_type="funding.Disbursement",
        object_id=str(disbursement.pk),
        summary=(_("Ghi nhận %(kind)s %(amount)s (chứng từ %(doc)s ngày %(date)s) của đề án %(code)s") % {
            "kind": disbursement.get_kind_display().lower(), "amount": format_dong(disbursement.amount),
            "doc": disbursement.document_number, "date": format_date(disbursement.date), "code": de_an.code})[:500],
        data={"de_an_id": de_an.pk, "de_an_code": de_an.code, "kind": disbursement.kind, "source": disbursement.source,
              "amount": disbursement.amount, "date": disbursement.date.isoformat(),
              "document_number": disbursement.document_number},
    )


VOID_REASON_MAX = 500


@transaction.atomic
def disbursement_void(*, actor, disbursement, reason):
    """Cancel a wrongly entered disbursement: the row stays, marked voided (who, when, why), and no
    total counts it any more (``paid_amount``, the money page, the summaries). Refused
    (``DisbursementRefused``, Vietnamese) without a reason, when already voided, when the đề án is no
    longer payable (settled, cancelled: ``PAYABLE_STATUSES``) or when ``actor`` may not record its
    disbursements (``funding.record_disbursement``). Locks the đề án row first, as
    ``disbursement_record`` does, then the disbursement: a void racing a new payment or another void
    of the same row is checked one after the other. Records the audit event
    ``funding.disbursement_voided``."""
    from khuyencong import access
    from projects.models import DeAn, Status

    from .models import Disbursement, DisbursementKind

    reason = " ".join((reason or "").split())
    if not reason:
        raise DisbursementRefused(_("Cần nhập lý do hủy khoản giải ngân."))
    if len(reason) > VOID_REASON_MAX:
        raise DisbursementRefused(_("Lý do hủy dài quá %(limit_value)s ký tự.") % {"limit_value": VOID_REASON_MAX})
    de_an = DeAn.objects.select_for_update().get(pk=disbursement.de_an_id)
    decision = access.can(actor, "funding.record_disbursement", de_an)
    if not decision:
        raise DisbursementRefused(decision.reason)
    row = Disbursement.objects.select_for_update().get(pk=disbursement.pk)
    if row.voided_at is not None:
        raise DisbursementRefused(
            _("Khoản giải ngân này đã được hủy lúc %(when)s; không hủy lại được.") % {"when": format_datetime(row.voided_at)})
    if de_an.status not in PAYABLE_STATUSES:
        raise DisbursementRefused(
            _("Đề án %(code)s đang ở trạng thái «%(s)s»: chỉ hủy được khoản giải ngân của đề án đã được phê duyệt, "
              "chưa hủy.") % {"code": de_an.code, "s": Status(de_an.status).label})
    if row.kind == DisbursementKind.SETTLEMENT and de_an.status == "settled":
        raise DisbursementRefused(
            _("Khoản quyết toán của đề án %(code)s là kết quả của bước «Quyết toán»; không hủy được ở trang kinh phí.")
            % {"code": de_an.code})
    row.voided_at = timezone.now()
    row.voided_by = actor if getattr(actor, "pk", None) else None
    row.void_reason = reason
    row.save(update_fields=["voided_at", "voided_by", "void_reason"])
    AuditEvent.objects.create(
        actor=row.voided_by, action="funding.disbursement_voided", object_type="funding.Disbursement",
        object_id=str(row.pk),
        summary=(_("Hủy %(kind)s %(amount)s (chứng từ %(doc)s) của đề án %(code)s: %(reason)s") % {
            "kind": row.get_kind_display().lower(), "amount": format_dong(row.amount), "doc": row.document_number,
            "code": de_an.code, "reason": reason})[:500],
        data={"de_an_id": de_an.pk, "de_an_code": de_an.code, "kind": row.kind, "source": row.source,
              "amount": row.amount, "date": row.date.isoformat(), "document_number": row.document_number,
              "reason": reason},
    )
    return row


# === background apply for big files ===============================================================

def import_queue(*, batch, actor):
    """Mark a previewed batch "applying" (a conditional UPDATE: a double click queues it once) and hand
    it to the worker after commit (``import_dispatch``). Returns False when it was not waiting for
    confirmation."""
    decision_actor = actor if getattr(actor, "pk", None) else None
    updated = ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.PREVIEWED).update(
        status=ImportStatus.APPLYING, applied_by=decision_actor, error="", queued_at=timezone.now(), dispatches=0)
    if not updated:
        return False
    actor_id = decision_actor.pk if decision_actor else None
    transaction.on_commit(lambda: import_dispatch(batch_id=batch.pk, actor_id=actor_id))
    return True


def _broker_down_message():
    return _("Chưa chuyển được lô tới bộ xử lý nền (hàng đợi không phản hồi). Hệ thống sẽ tự chuyển lại sau ít "
             "phút; chưa có gì được nhập.")


def import_dispatch(*, batch_id, actor_id=None):
    """Hand an "applying" batch to the worker. With the broker down nothing is raised: the batch keeps
    waiting with a notice the batch page shows, and ``import_sweep_stuck`` hands it again. True when
    the broker took it."""
    from .tasks import apply_import

    updated = ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.APPLYING).update(
        queued_at=timezone.now(), dispatches=F("dispatches") + 1)
    if not updated:
        return False
    try:
        apply_import.apply_async(args=[batch_id, actor_id], retry=False)
    except Exception as exc:  # kombu.exceptions.OperationalError, redis ConnectionError, socket errors…
        logger.warning("import batch %s: broker unavailable (%s); left applying for the sweep", batch_id, exc)
        ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.APPLYING).update(error=_broker_down_message())
        return False
    ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.APPLYING, error=_broker_down_message()).update(error="")
    return True


def import_sweep_stuck(*, now=None):
    """The beat sweep of big batches whose task was lost: the broker was down when they were confirmed,
    Redis restarted without the queue, or the worker died while applying (its transaction rolled
    back). A batch still "applying" ``IMPORT_RESEND_SECONDS`` after it was last handed over, and not
    locked by a worker applying it now, is handed over again; after ``IMPORT_MAX_DISPATCHES`` it goes
    back to "previewed" with the reason, for the administrator to confirm again. A task handed over
    twice is harmless: the second finds the batch applied and does nothing. Returns (resent, given up)."""
    now = now or timezone.now()
    wait = timedelta(seconds=getattr(settings, "IMPORT_RESEND_SECONDS", 600))
    most = getattr(settings, "IMPORT_MAX_DISPATCHES", 5)
    resend, given_up = [], 0
    with transaction.atomic():
        stuck = (ImportBatch.objects.select_for_update(skip_locked=True)
                 .filter(status=ImportStatus.APPLYING).filter(Q(queued_at__lt=now - wait) | Q(queued_at__isnull=True))
                 .order_by("pk"))
        for batch in stuck:
            if batch.dispatches >= most:
                batch.status = ImportStatus.PREVIEWED
                batch.error = _("Bộ xử lý nền chưa nhập được lô sau %(n)s lần chuyển (hàng đợi hoặc bộ xử lý nền gặp "
                                "sự cố); chưa có gì được nhập. Hãy bấm «Xác nhận nhập» lại, hoặc báo quản trị hệ "
                                "thống nếu lỗi lặp lại.") % {"n": batch.dispatches}
                batch.save(update_fields=["status", "error"])
                logger.error("import batch %s: gave up after %s dispatches", batch.pk, batch.dispatches)
                given_up += 1
            else:
                resend.append((batch.pk, batch.applied_by_id))
    for batch_id, actor_id in resend:
        import_dispatch(batch_id=batch_id, actor_id=actor_id)
    return len(resend), given_up


def import_apply_queued(*, batch_id, actor_id=None):
    """What the worker runs: apply the batch; on refusal put it back to "previewed" with the reason."""
    from khuyencong.models import User

    batch = ImportBatch.objects.get(pk=batch_id)
    if batch.status != ImportStatus.APPLYING:
        return batch
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    from .importers import ImportRejected

    try:
        import_apply(batch=batch, actor=actor)
    except (ImportFailed, ImportRejected) as exc:
        _back_to_preview(batch_id, exc)
    except Exception as exc:
        _back_to_preview(batch_id, exc)
        raise
    return ImportBatch.objects.get(pk=batch_id)


def _back_to_preview(batch_id, exc):
    _prepare_connection()
    details = "\n".join(p.message for p in getattr(exc, "problems", [])[:50])
    ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.APPLYING).update(
        status=ImportStatus.PREVIEWED, error=(str(exc) + ("\n" + details if details else ""))[:5000])
