"""Report pages: ask for a report, watch its job, download the PDF. Thin: services and access decide."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from khuyencong.access import can
from khuyencong.pagination import paginate

from . import selectors, services
from .forms import JobFilterForm, ReportRequestForm

JOBS_PER_PAGE = 25


def _job_list(request, form, *, status=200):
    """The report page: the request form and the jobs the user may see, filtered and paginated."""
    filter_form = JobFilterForm(request.GET or None)
    filters = filter_form.cleaned_data if filter_form.is_valid() else {}
    jobs = selectors.job_list(request.user, kind=filters.get("kind") or None, year=filters.get("year"),
                              status=filters.get("status") or None)
    page, query = paginate(request, jobs, JOBS_PER_PAGE)
    page.object_list = selectors.with_records(request.user, page.object_list)
    return render(request, "reports/job_list.html", {
        "form": form, "filter_form": filter_form, "page": page, "query_no_page": query,
        "filtered": bool(filters and any(filters.values())),
    }, status=status)


@login_required
@require_GET
def job_list(request):
    return _job_list(request, ReportRequestForm(user=request.user))


@login_required
@require_POST
def request_report(request):
    form = ReportRequestForm(request.POST, user=request.user)
    if not form.is_valid():
        return _job_list(request, form, status=400)
    data = form.cleaned_data
    try:
        job = services.report_request(
            user=request.user, kind=data["kind"], year=data["year"], province=data["province"],
            grouping=data["grouping"], target_id=data["record"].pk if data["record"] else None, signer_name=data["signer_name"],
        )
    except PermissionDenied as err:
        messages.error(request, str(err) or _("Bạn không có quyền tạo báo cáo này."))
        return redirect("reports:job_list")
    except ValidationError as err:
        messages.error(request, " ".join(err.messages))
        return redirect("reports:job_list")
    if job.joined:
        messages.info(request, _("Báo cáo này đang được tạo theo một yêu cầu trước; bạn theo dõi cùng yêu cầu đó."))
    elif job.status == "queued" and not job.dispatched:
        messages.warning(request, str(services.BROKER_DOWN_MESSAGE))
    else:
        messages.success(request, _("Đã ghi nhận yêu cầu tạo báo cáo."))
    return redirect("reports:job_detail", pk=job.pk)


def _job_or_404(request, pk):
    job = selectors.job_for_user(request.user, pk)
    if job is None:
        raise Http404(_("Không tìm thấy yêu cầu báo cáo."))
    return job


@login_required
@require_GET
def job_detail(request, pk):
    job = _job_or_404(request, pk)
    return render(request, "reports/job_detail.html", {"job": selectors.with_records(request.user, [job])[0]})


@login_required
@require_GET
def job_status(request, pk):
    """The htmx partial: polls itself every 2 s while the job is queued or running. With it, when the
    state or the progress changed since the one the page shows (``?shown=status-progress``, sent by the
    polling), the new sentence for the page's live region (an out-of-band swap of its text only)."""
    job = _job_or_404(request, pk)
    changed = request.GET.get("shown") != f"{job.status}-{job.progress}"
    return render(request, "reports/_job_status.html", {"job": job, "sentence_changed": changed})


@login_required
@require_GET
def job_download(request, pk):
    job = _job_or_404(request, pk)
    if request.GET.get("format") == "html":
        decision = can(request.user, "report.preview", job)
        if not decision:
            raise PermissionDenied(decision.reason)
        response = HttpResponse(services.report_html(job))
        # The preview is our own template; forbid anything but its inline styles and bundled fonts.
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:"
        return response
    decision = can(request.user, "report.download", job)
    if not decision:
        raise PermissionDenied(decision.reason)
    handle = default_storage.open(job.file.name, "rb")
    return FileResponse(handle, as_attachment=True, filename=job.download_name, content_type="application/pdf")
