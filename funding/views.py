"""Thin views: access checks through khuyencong.access, reads through selectors, writes through services."""
import uuid
from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from khuyencong import access
from khuyencong.formatting import format_dong
from khuyencong.models import Province
from khuyencong.pagination import paginate
from khuyencong.security import private_download
from khuyencong.xlsx import XLSX_CONTENT_TYPE

from . import selectors, services
from .exports import (
    allocations_workbook,
    commitments_workbook,
    plan_annex_template_workbook,
    template_workbook,
)
from .forms import DisbursementForm, DisbursementVoidForm, ImportFilterForm, ImportUploadForm
from .importers import ImportRejected
from .models import ImportBatch, ImportStatus


def _require(decision):
    if not decision:
        raise PermissionDenied(decision.reason)


def _year(request, default=None):
    try:
        year = int(request.GET.get("nam") or default or date.today().year)
    except ValueError:
        year = date.today().year
    return min(max(year, 2000), 2100)


YEAR_MIN, YEAR_MAX = 2000, 2100


def _chosen_year(text):
    """(year, None) for a plan year typed in the toolbar, or (None, Vietnamese reason)."""
    text = (text or "").strip()
    if not text:
        return None, _("Hãy nhập năm cần xem (từ %(a)s đến %(b)s).") % {"a": YEAR_MIN, "b": YEAR_MAX}
    try:
        year = int(text) if text.isdigit() and len(text) <= 4 else None
    except ValueError:
        year = None
    if year is None or not YEAR_MIN <= year <= YEAR_MAX:
        return None, _("Năm «%(v)s» không hợp lệ: hãy nhập năm từ %(a)s đến %(b)s.") % {
            "v": text[:20], "a": YEAR_MIN, "b": YEAR_MAX}
    return year, None


def _visible_province(request, code):
    """The current province of ``code`` that the user may see (the province page, the exports' ``?tinh=``):
    404 for a code of no current province, 403 with the access rule's reason for another's."""
    code = code[:10]
    province = Province.objects.current().filter(code=code).first()
    if province is None:
        raise Http404(_("Không có tỉnh, thành phố mã %(c)s.") % {"c": code})
    _require(access.can(request.user, "province.view", province))
    return province


def _xlsx(content, filename):
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return private_download(response)


# --- overview ---------------------------------------------------------------------------------

@login_required
@require_GET
def overview(request):
    """Nationwide users land on the national view, local users on their province's."""
    province = access.user_province(request.user)
    if access.can(request.user, "funding.view_national"):
        return redirect(f"{reverse('funding:national')}?nam={_year(request)}")
    if province is None:
        raise PermissionDenied(_("Tài khoản chưa gắn với tỉnh, thành phố nào."))
    return redirect("funding:province", code=province.code, year=_year(request))


@login_required
@require_GET
def national(request):
    _require(access.can(request.user, "funding.view_national"))
    year = _year(request)
    summary = selectors.funding_summary(user=request.user, year=year, every_province=True)
    return render(request, "funding/national.html", {
        "summary": summary, "year": year, "years": selectors.funding_years(user=request.user),
    })


# The province page's commitments, a page at a time (``?page=``, ``?size=`` one of these); the totals
# under the table count every commitment of the year, and the export holds them all.
COMMITMENT_PAGE_SIZES = (20, 50, 100, 200)
DEFAULT_COMMITMENT_PAGE_SIZE = 50


def _commitment_page_size(request):
    try:
        size = int(request.GET.get("size") or DEFAULT_COMMITMENT_PAGE_SIZE)
    except ValueError:
        return DEFAULT_COMMITMENT_PAGE_SIZE
    return size if size in COMMITMENT_PAGE_SIZES else DEFAULT_COMMITMENT_PAGE_SIZE


@login_required
@require_GET
def province_year(request, code, year):
    """A province's money for a year (the summary by source) and its commitments by đề án, a page at a
    time; the totals under the list are over every commitment of the year."""
    province = _visible_province(request, code)
    # The year toolbar sends ?nam=…: go to that year's page (the year is in the URL).
    chosen = request.GET.get("nam")
    if chosen is not None or not YEAR_MIN <= year <= YEAR_MAX:
        target, problem = _chosen_year(chosen if chosen is not None else str(year))
        if problem:
            messages.error(request, problem)
            target = year if YEAR_MIN <= year <= YEAR_MAX else date.today().year
        return redirect("funding:province", code=province.code, year=target)
    summary = selectors.funding_summary(user=request.user, year=year, province=province)
    commitments = selectors.commitment_list(user=request.user, year=year, province=province)
    size = _commitment_page_size(request)
    page, query = paginate(request, commitments, size)
    return render(request, "funding/province.html", {
        "province": province, "year": year, "summary": summary, "page": page, "query_no_page": query,
        "commitment_totals": selectors.commitment_totals(user=request.user, year=year, province=province),
        "allocation_split": selectors.allocation_split(user=request.user, year=year, province=province),
        "page_sizes": COMMITMENT_PAGE_SIZES, "page_size": size,
        "years": selectors.funding_years(user=request.user),
    })


# --- exports ----------------------------------------------------------------------------------

def _export_scope(request):
    """(province or None, file-name suffix) for an export: ``?tinh=<code>`` (the province page's buttons)
    limits it to that current province, which the user must be allowed to see; without it, everything
    the user may see."""
    code = (request.GET.get("tinh") or "").strip()
    if not code:
        return None, ""
    province = _visible_province(request, code)
    return province, f"-{province.code}"


@login_required
@require_GET
def export_allocations(request):
    year = _year(request)
    province, suffix = _export_scope(request)
    return _xlsx(allocations_workbook(user=request.user, year=year, province=province),
                 f"phan-bo-kinh-phi-{year}{suffix}.xlsx")


@login_required
@require_GET
def export_commitments(request):
    year = _year(request)
    province, suffix = _export_scope(request)
    return _xlsx(commitments_workbook(user=request.user, year=year, province=province),
                 f"cam-ket-kinh-phi-{year}{suffix}.xlsx")


@login_required
@require_GET
def template_download(request):
    year = _year(request)
    return _xlsx(template_workbook(year=year), f"mau-phan-bo-kinh-phi-{year}.xlsx")


@login_required
@require_GET
def plan_template_download(request):
    year = _year(request)
    return _xlsx(plan_annex_template_workbook(year=year), f"mau-phu-luc-ke-hoach-{year}.xlsx")


# --- import -----------------------------------------------------------------------------------

IMPORTS_PER_PAGE = 50


@login_required
@require_GET
def import_list(request):
    """Every batch the administrator may see, newest first, 50 a page, filtered by kind, state and
    year (a wrong filter is named beside its field and the list shown unfiltered)."""
    _require(access.can(request.user, "funding.import"))
    filter_form = ImportFilterForm(request.GET or None)
    filters = filter_form.cleaned_data if filter_form.is_valid() else {}
    batches = selectors.import_batch_list(user=request.user, kind=filters.get("kind") or None,
                                          status=filters.get("status") or None, year=filters.get("year"))
    page, query = paginate(request, batches, IMPORTS_PER_PAGE)
    return render(request, "funding/import_list.html", {
        "page": page, "query_no_page": query, "form": ImportUploadForm(), "filter_form": filter_form,
        "filtered": bool(filters and any(filters.values())),
    })


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request):
    _require(access.can(request.user, "funding.import"))
    form = ImportUploadForm(request.POST, request.FILES) if request.method == "POST" else ImportUploadForm()
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            preview = services.import_preview(fileobj=upload, name=upload.name, actor=request.user, size=upload.size)
        except ImportRejected as exc:
            form.add_error("file", str(exc))
        else:
            if preview.batch is not None:
                return redirect("funding:import_detail", pk=preview.batch.pk)
            return render(request, "funding/import_preview.html", {
                "preview": preview, "parsed": preview.parsed, "counts": preview.counts(),
                "plans": preview.plans[:500], "form": ImportUploadForm(),
                "duplicate": services.duplicate_message(preview.duplicate_of) if preview.duplicate_of else "",
            })
    return render(request, "funding/import_upload.html", {"form": form}, status=400 if request.method == "POST" else 200)


@login_required
@require_GET
def import_detail(request, pk):
    _require(access.can(request.user, "funding.import"))
    try:
        batch = selectors.import_batch_get(user=request.user, pk=pk)
    except ImportBatch.DoesNotExist as exc:
        raise Http404 from exc
    rows = batch.rows.select_related("province").order_by("sheet_row", "id")
    page = Paginator(rows, 200).get_page(request.GET.get("trang"))
    return render(request, "funding/import_detail.html", {
        "batch": batch, "page": page, "by_province": batch.summary.get("by_province", []),
        "previewed": batch.status == ImportStatus.PREVIEWED, "applied": batch.status == ImportStatus.APPLIED,
        "applying": batch.status == ImportStatus.APPLYING,
        "warning_count": len(batch.summary.get("warnings", [])) + batch.summary.get("warnings_omitted", 0),
    })


def _batch_action(request, pk, func, done):
    _require(access.can(request.user, "funding.import"))
    try:
        batch = selectors.import_batch_get(user=request.user, pk=pk)
    except ImportBatch.DoesNotExist as exc:
        raise Http404 from exc
    try:
        func(batch=batch, actor=request.user)
    except (services.ImportFailed, ImportRejected) as exc:
        messages.error(request, str(exc))
        for problem in getattr(exc, "problems", [])[:50]:
            messages.error(request, problem.message)
    else:
        messages.success(request, done % {"id": batch.pk})
    return redirect("funding:import_detail", pk=batch.pk)


SYNC_MAX_ROWS = 2000


@login_required
@require_POST
def import_confirm(request, pk):
    """Small files are applied within the request; big ones (a plan annex from a quarter of the limit:
    its đề án, history and lines cost ≈ 8× an allocation row) go to the worker, and the batch page
    follows its status."""
    _require(access.can(request.user, "funding.import"))
    try:
        batch = selectors.import_batch_get(user=request.user, pk=pk)
    except ImportBatch.DoesNotExist as exc:
        raise Http404 from exc
    limit = getattr(settings, "IMPORT_SYNC_MAX_ROWS", SYNC_MAX_ROWS)
    heavy = batch.rows_total > (limit // 4 if batch.kind == "plan_annex" else limit)
    if heavy:
        if services.import_queue(batch=batch, actor=request.user):
            batch.refresh_from_db()
            if batch.status == ImportStatus.APPLIED:
                messages.success(request, _("Đã nhập lô #%(id)s vào cơ sở dữ liệu.") % {"id": batch.pk})
            elif batch.status == ImportStatus.APPLYING and not batch.error:  # an error: the page shows it
                messages.info(request, _("Lô #%(id)s đang được nhập ở chế độ nền; trang này tự cập nhật.") % {"id": batch.pk})
            else:
                messages.error(request, batch.error.splitlines()[0] if batch.error else _("Không nhập được."))
        else:
            messages.error(request, _("Lô #%(id)s không ở trạng thái chờ xác nhận.") % {"id": batch.pk})
        return redirect("funding:import_detail", pk=batch.pk)
    return _batch_action(request, pk, services.import_apply, _("Đã nhập lô #%(id)s vào cơ sở dữ liệu."))


@login_required
@require_http_methods(["GET", "POST"])
def import_undo(request, pk):
    """GET: what undoing the batch will do, and a button to confirm; POST: undo it."""
    if request.method == "POST":
        return _batch_action(request, pk, services.import_undo, _("Đã hoàn tác lô #%(id)s."))
    _require(access.can(request.user, "funding.import"))
    try:
        batch = selectors.import_batch_get(user=request.user, pk=pk)
    except ImportBatch.DoesNotExist as exc:
        raise Http404 from exc
    if batch.status != ImportStatus.APPLIED:
        messages.error(request, _("Chỉ hoàn tác được lô đã nhập (lô #%(id)s: %(s)s).")
                       % {"id": batch.pk, "s": batch.get_status_display()})
        return redirect("funding:import_detail", pk=batch.pk)
    return render(request, "funding/import_undo.html", {"batch": batch, "annex": batch.kind == "plan_annex"})


@login_required
@require_POST
def import_discard(request, pk):
    return _batch_action(request, pk, services.import_discard, _("Đã hủy lô #%(id)s."))


@login_required
@require_GET
def import_file(request, pk):
    _require(access.can(request.user, "funding.import"))
    try:
        batch = selectors.import_batch_get(user=request.user, pk=pk)
    except ImportBatch.DoesNotExist as exc:
        raise Http404 from exc
    if not batch.file:
        raise Http404(_("Lô này không còn tệp gốc."))
    return private_download(FileResponse(batch.file.open("rb"), as_attachment=True, filename=batch.original_name,
                                         content_type=XLSX_CONTENT_TYPE))


# --- a đề án's money: commitments, disbursements, and the entry form ------------------------------

def _money_or_404(request, de_an_id):
    from projects.models import DeAn

    try:
        money = selectors.de_an_money(user=request.user, de_an_id=de_an_id)
    except DeAn.DoesNotExist as exc:
        raise Http404(_("Không tìm thấy đề án.")) from exc
    _require(access.can(request.user, "de_an.view", money.de_an))
    return money


def _money_page(request, money, decision, *, form=None, void_form=None, status=200):
    """The money page. Users who may record get the entry form (a fresh key unless ``form`` is given)
    and, while the đề án is payable, a void form beside each disbursement not voided (``void_form``: the
    one sent back with its errors; shown beside its row, or above the table when that row has none)."""
    de_an = money.de_an
    payable = de_an.status in services.PAYABLE_STATUSES
    record_reason = "" if decision else decision.reason
    settled = de_an.status == "settled"
    if decision and form is None:
        if settled and money.totals["remaining"] <= 0:
            record_reason = _("Đề án đã quyết toán và đã giải ngân đủ kinh phí quyết toán %(a)s: không còn gì để ghi.") % {
                "a": format_dong(money.totals["ceiling"])}
        elif payable:
            form = DisbursementForm(initial={"request_key": uuid.uuid4().hex})
        else:  # cancelled: the service would refuse, so no form — say why instead
            record_reason = _("Đề án đang ở trạng thái «%(s)s»: không ghi nhận thêm giải ngân.") % {
                "s": de_an.get_status_display()}
    can_void = bool(decision) and payable
    void_errors = []
    sent = void_form.cleaned_data.get("disbursement") if void_form is not None and hasattr(void_form, "cleaned_data") else None
    placed = False
    for d in money.disbursements:
        if can_void and d.voided_at is None and not (settled and d.kind == "settlement"):
            if void_form is not None and d.pk == sent:
                void_form.auto_id = f"void-{d.pk}-%s"
                d.void_form, placed = void_form, True
            else:
                d.void_form = DisbursementVoidForm(auto_id=f"void-{d.pk}-%s", initial={"disbursement": d.pk})
    if void_form is not None and not placed:
        void_errors = [e for errors in void_form.errors.values() for e in errors]
    return render(request, "funding/de_an_money.html", {
        "money": money, "de_an": de_an, "form": form, "totals": money.totals,
        "can_record": bool(decision), "record_reason": record_reason,
        "can_void": can_void, "void_errors": void_errors,
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def de_an_money(request, de_an_id):
    """What a đề án holds and what was paid out; the roles of ``funding.record_disbursement`` also get
    the entry form (POST → redirect, so a reload does not send it again; the hidden key makes a
    double click record once)."""
    money = _money_or_404(request, de_an_id)
    de_an = money.de_an
    decision = access.can(request.user, "funding.record_disbursement", de_an)
    if request.method != "POST":
        return _money_page(request, money, decision)
    _require(decision)
    form = DisbursementForm(request.POST)
    if form.is_valid():
        try:
            disbursement = services.disbursement_record(actor=request.user, de_an=de_an, **form.cleaned_data)
        except services.DisbursementRefused as exc:
            # On the field it is about (marked aria-invalid and linked), else for the entry as a whole.
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            if getattr(disbursement, "replayed", False):
                messages.info(request, _("Khoản này đã được ghi nhận trước đó (gửi lại cùng một biểu mẫu)."))
            else:
                messages.success(request, _("Đã ghi nhận %(kind)s %(amount)s.") % {
                    "kind": disbursement.get_kind_display().lower(), "amount": format_dong(disbursement.amount)})
            return redirect("funding:de_an_money", de_an_id=de_an.pk)
    return _money_page(request, money, decision, form=form, status=400)


@login_required
@require_POST
def disbursement_void(request, de_an_id):
    """Void one disbursement of the đề án (its id and the reason in the form); refused reasons are shown
    beside that row's reason (400), success goes back to the money page."""
    money = _money_or_404(request, de_an_id)
    de_an = money.de_an
    decision = access.can(request.user, "funding.record_disbursement", de_an)
    _require(decision)
    void_form = DisbursementVoidForm(request.POST)
    if void_form.is_valid():
        target = next((d for d in money.disbursements if d.pk == void_form.cleaned_data["disbursement"]), None)
        if target is None:
            void_form.add_error("disbursement", _("Không tìm thấy khoản giải ngân này trong đề án %(code)s.")
                                % {"code": de_an.code})
        else:
            try:
                voided = services.disbursement_void(actor=request.user, disbursement=target,
                                                    reason=void_form.cleaned_data["reason"])
            except services.DisbursementRefused as exc:
                void_form.add_error("reason", str(exc))
                money = _money_or_404(request, de_an_id)  # as it is now (a void from another page, a settlement)
            else:
                messages.success(request, _("Đã hủy %(kind)s %(amount)s (chứng từ %(doc)s); khoản này không còn được "
                                            "tính vào tổng giải ngân.") % {
                    "kind": voided.get_kind_display().lower(), "amount": format_dong(voided.amount),
                    "doc": voided.document_number})
                return redirect("funding:de_an_money", de_an_id=de_an.pk)
    return _money_page(request, money, decision, void_form=void_form, status=400)
