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
from khuyencong.security import private_download

from . import selectors, services
from .exports import XLSX_CONTENT_TYPE, allocations_workbook, commitments_workbook, template_workbook
from .forms import DisbursementForm, ImportUploadForm
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
    summary = selectors.funding_summary(user=request.user, year=year)
    return render(request, "funding/national.html", {
        "summary": summary, "year": year, "years": selectors.funding_years(user=request.user),
    })


@login_required
@require_GET
def province_year(request, code, year):
    province = Province.objects.current().filter(code=code).first()
    if province is None:
        raise Http404(_("Không có tỉnh, thành phố mã %(c)s.") % {"c": code})
    _require(access.can(request.user, "province.view", province))
    summary = selectors.funding_summary(user=request.user, year=year, province=province)
    commitments = selectors.commitment_list(user=request.user, year=year, province=province)
    return render(request, "funding/province.html", {
        "province": province, "year": year, "summary": summary, "commitments": commitments[:500],
        "years": selectors.funding_years(user=request.user),
    })


# --- exports ----------------------------------------------------------------------------------

@login_required
@require_GET
def export_allocations(request):
    year = _year(request)
    return _xlsx(allocations_workbook(user=request.user, year=year), f"phan-bo-kinh-phi-{year}.xlsx")


@login_required
@require_GET
def export_commitments(request):
    year = _year(request)
    return _xlsx(commitments_workbook(user=request.user, year=year), f"cam-ket-kinh-phi-{year}.xlsx")


@login_required
@require_GET
def template_download(request):
    year = _year(request)
    return _xlsx(template_workbook(year=year), f"mau-phan-bo-kinh-phi-{year}.xlsx")


# --- import -----------------------------------------------------------------------------------

@login_required
@require_GET
def import_list(request):
    _require(access.can(request.user, "funding.import"))
    page = Paginator(selectors.import_batch_list(user=request.user), 50).get_page(request.GET.get("trang"))
    return render(request, "funding/import_list.html", {"page": page, "form": ImportUploadForm()})


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request):
    _require(access.can(request.user, "funding.import"))
    form = ImportUploadForm(request.POST or None, request.FILES or None)
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

@login_required
@require_http_methods(["GET", "POST"])
def de_an_money(request, de_an_id):
    """What a đề án holds and what was paid out; the roles of ``funding.record_disbursement`` also get
    the entry form (POST → redirect, so a reload does not send it again; the hidden key makes a
    double click record once)."""
    from projects.models import DeAn

    try:
        money = selectors.de_an_money(user=request.user, de_an_id=de_an_id)
    except DeAn.DoesNotExist as exc:
        raise Http404(_("Không tìm thấy đề án.")) from exc
    de_an = money.de_an
    _require(access.can(request.user, "de_an.view", de_an))
    decision = access.can(request.user, "funding.record_disbursement", de_an)
    form = None
    status = 200
    if request.method == "POST":
        _require(decision)
        form = DisbursementForm(request.POST)
        if form.is_valid():
            try:
                disbursement = services.disbursement_record(actor=request.user, de_an=de_an, **form.cleaned_data)
            except services.DisbursementRefused as exc:
                form.add_error(None, str(exc))
            else:
                if getattr(disbursement, "replayed", False):
                    messages.info(request, _("Khoản này đã được ghi nhận trước đó (gửi lại cùng một biểu mẫu)."))
                else:
                    messages.success(request, _("Đã ghi nhận %(kind)s %(amount)s.") % {
                        "kind": disbursement.get_kind_display().lower(), "amount": format_dong(disbursement.amount)})
                return redirect("funding:de_an_money", de_an_id=de_an.pk)
        status = 400
    elif decision:
        form = DisbursementForm(initial={"request_key": uuid.uuid4().hex})
    return render(request, "funding/de_an_money.html", {
        "money": money, "de_an": de_an, "form": form, "totals": money.totals,
        "can_record": bool(decision), "record_reason": "" if decision else decision.reason,
    }, status=status)
