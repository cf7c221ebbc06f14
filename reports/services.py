"""Writes of the reports app: asking for a report, rendering it, sweeping jobs whose worker died.

Life of a job::

    report_request ──(row queued, on_commit)──> report_dispatch ──(broker)──> tasks.run_report
         │ same request while queued/running: joins the existing row          │
         │ broker down: row stays queued, user told; the sweeper re-sends     v
         v                                                              report_run: claims the row
    report_sweep_stuck (beat, every minute; also when a worker starts):   (queued → running with a
      running longer than REPORT_MAX_SECONDS → failed (a hung render)      conditional UPDATE), renders,
      running with a stale heartbeat → queued again (attempts < max)       publishes the PDF atomically,
      or failed with a reason; queued but never sent → sent again          marks done (or failed + reason)

A render that hangs keeps its heartbeat thread beating, so the heartbeat alone never shows it: Celery's
soft/hard time limits on ``run_report`` (settings, from REPORT_MAX_SECONDS) stop it, and a job still
running after REPORT_MAX_SECONDS is failed with the reason (by the sweeper, or by an identical request,
which then starts afresh instead of joining it), so the user gets «Tạo lại báo cáo».

A PDF is written to a temporary file, then moved into place (``os.replace`` on the same file system)
or saved through the storage API; only then does the row point at it. A worker killed mid-render
leaves at most a ``.part`` file in ``reports/.tmp/`` (removed by the sweeper), never a published one.
"""
import hashlib
import logging
import os
import tempfile
import threading
import time
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from khuyencong.access import can
from khuyencong.models import Province

from . import pdf
from .models import ACTIVE_STATUSES, Grouping, InspectionRecord, JobStatus, ReportJob, ReportKind, report_file_path

logger = logging.getLogger(__name__)


def _setting(name, default):
    """A reports knob: Django setting if defined, else the environment variable, else the default."""
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name)
    return default if value in (None, "") else value


def max_attempts():
    return int(_setting("REPORT_MAX_ATTEMPTS", 3))


def stale_after():
    return timedelta(seconds=int(_setting("REPORT_STALE_SECONDS", 120)))


def heartbeat_every():
    return float(_setting("REPORT_HEARTBEAT_SECONDS", 10))


def resend_after():
    return timedelta(seconds=int(_setting("REPORT_RESEND_SECONDS", 600)))


def max_render():
    """The longest a render may run (REPORT_MAX_SECONDS, default 900 s; run_report's soft time limit)."""
    return timedelta(seconds=int(_setting("REPORT_MAX_SECONDS", 900)))


def _overdue_reason(limit):
    minutes = max(round(limit.total_seconds() / 60), 1)
    return _(
        "Báo cáo chưa tạo xong sau %(m)d phút (quá thời gian tối đa cho phép) nên đã dừng. Hãy bấm «Tạo lại báo "
        "cáo» để thử lại; nếu vẫn không được, vui lòng liên hệ quản trị hệ thống."
    ) % {"m": minutes}


def _fail_overdue(jobs, *, now):
    """Fail the running jobs among ``jobs`` started more than REPORT_MAX_SECONDS ago: a hung render (its
    heartbeat thread beats on, so it never looks dead). Conditional on the status, so a job that has
    just finished stays done. Returns how many."""
    limit = max_render()
    return jobs.filter(status=JobStatus.RUNNING, started_at__lt=now - limit).update(
        status=JobStatus.FAILED, finished_at=now, error=_overdue_reason(limit), message=_("Không tạo được báo cáo."),
    )


def _part_name(job_id):
    """The temporary file of a render: named after its job, so the sweeper can tell whose it is."""
    return f"job-{job_id}-{uuid.uuid4().hex}.pdf.part"


def _part_owner(filename):
    """The job id a ``.part`` file belongs to (None for a name of another form)."""
    head, _sep, _rest = filename.partition("-")[2].partition("-")
    return int(head) if filename.startswith("job-") and head.isdigit() else None


BROKER_DOWN_MESSAGE = gettext_lazy(
    "Hàng đợi xử lý báo cáo tạm thời không hoạt động. Yêu cầu của bạn đã được ghi nhận và báo cáo sẽ "
    "được tạo tự động khi hàng đợi hoạt động trở lại; bạn có thể quay lại trang này sau."
)


class ReportRefused(PermissionDenied):
    """The user may not ask for this report; ``str(err)`` is the Vietnamese reason."""


@dataclass(frozen=True)
class ReportTarget:
    """What a report is about (the object access rules decide on)."""

    kind: str
    year: int
    province: Province | None = None
    record: InspectionRecord | None = None


def request_key(*, kind, year, province_id=None, target_id=None, grouping=Grouping.CURRENT, signer_name=""):
    key = f"{kind}:{year}:{province_id or '-'}:{target_id or '-'}:{grouping}"
    if signer_name:  # another signer is another document (a digest: the key stays short)
        key += ":" + hashlib.sha1(signer_name.encode("utf-8")).hexdigest()[:12]
    return key


def _signer_name(value):
    from khuyencong.security import reject_control_characters

    name = " ".join(unicodedata.normalize("NFC", str(value or "")).split())
    if len(name) > 100:
        raise ValidationError(_("Họ tên người ký dài quá 100 ký tự."))
    reject_control_characters(name)
    return name


def _validate(kind, year, province, grouping, target_id):
    if kind not in ReportKind.values:
        raise ValidationError(_("Loại báo cáo không hợp lệ."))
    if grouping not in Grouping.values:
        raise ValidationError(_("Cách nhóm tỉnh, thành phố không hợp lệ."))
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationError(_("Năm báo cáo phải là một số, ví dụ 2025.")) from None
    if not 2000 <= year <= 2100:
        raise ValidationError(_("Năm báo cáo phải trong khoảng 2000–2100."))
    record = None
    if kind == ReportKind.PROVINCE:
        if province is None:
            raise ValidationError(_("Báo cáo tỉnh cần chọn tỉnh, thành phố."))
        province = province.current
    elif kind == ReportKind.RECORD:
        record = InspectionRecord.objects.select_related("de_an__current_province").filter(pk=target_id).first()
        if record is None:
            raise ValidationError(_("Không tìm thấy biên bản kiểm tra."))
        province = record.de_an.current_province
        year = record.inspected_on.year
    else:
        province = None
    return kind, year, province, grouping, record


def _create_or_join(*, user, kind, year, province, grouping, record, signer_name=""):
    key = request_key(
        kind=kind, year=year, province_id=province.pk if province else None,
        target_id=record.pk if record else None, grouping=grouping, signer_name=signer_name,
    )
    with transaction.atomic():
        # A render of this request that has hung is failed here, not joined: this request starts afresh.
        _fail_overdue(ReportJob.objects.filter(request_key=key), now=timezone.now())
        existing = ReportJob.objects.filter(request_key=key, status__in=ACTIVE_STATUSES).first()
        if existing is not None:
            existing.joined = True
            return existing
        if user is not None:
            _check_active_limit(user)
        try:
            with transaction.atomic():
                job = ReportJob.objects.create(
                    kind=kind, year=year, province=province, target_id=record.pk if record else None,
                    grouping=grouping, request_key=key, requested_by=user, signer_name=signer_name,
                    message=_("Đang chờ đến lượt xử lý."), issued_on=timezone.localdate(),
                )
        except IntegrityError:
            # Someone else created the same request a moment ago: join it.
            job = ReportJob.objects.get(request_key=key, status__in=ACTIVE_STATUSES)
            job.joined = True
            return job
        job_id = job.pk
        transaction.on_commit(lambda: report_dispatch(job_id=job_id))
        job.joined = False
        return job


def _check_active_limit(user):
    """Refuse a new job while ``user`` has REPORT_MAX_ACTIVE_PER_USER of their own waiting or rendering.
    The user's row is locked first, so two requests at once cannot both pass the count."""
    from khuyencong.models import User

    limit = settings.REPORT_MAX_ACTIVE_PER_USER
    User.objects.select_for_update().filter(pk=user.pk).first()
    active = ReportJob.objects.filter(requested_by=user, status__in=ACTIVE_STATUSES).count()
    if active >= limit:
        raise ValidationError(
            _("Bạn đang có %(n)s báo cáo chờ hoặc đang được lập. Hãy đợi một báo cáo xong (xem danh sách bên dưới) "
              "rồi yêu cầu tiếp.") % {"n": active})


def report_request(*, user, kind, year, province=None, grouping=Grouping.CURRENT, target_id=None, signer_name=""):
    """Ask for a report. Returns the job (``job.joined`` is True when an identical request was already
    queued or running and this one joined it). ``signer_name`` is printed under the signature (blank:
    room left to write it by hand). Raises ReportRefused or ValidationError (Vietnamese)."""
    kind, year, province, grouping, record = _validate(kind, year, province, grouping, target_id)
    signer_name = _signer_name(signer_name)
    decision = can(user, "report.request", ReportTarget(kind=kind, year=year, province=province, record=record))
    if not decision:
        raise ReportRefused(decision.reason)
    job = _create_or_join(user=user, kind=kind, year=year, province=province, grouping=grouping, record=record,
                          signer_name=signer_name)
    job.refresh_from_db()
    job.joined = getattr(job, "joined", False)
    return job


def report_request_system(*, kind, year, province=None, grouping=Grouping.CURRENT, target_id=None):
    """The same as report_request for scheduled jobs (Celery beat): no user, no access check."""
    kind, year, province, grouping, record = _validate(kind, year, province, grouping, target_id)
    return _create_or_join(user=None, kind=kind, year=year, province=province, grouping=grouping, record=record)


def report_request_annual(*, year):
    """Last year's national report and each current province's report (run by beat each January)."""
    jobs = [report_request_system(kind=ReportKind.NATIONAL, year=year)]
    for province in Province.objects.current().order_by("code"):
        jobs.append(report_request_system(kind=ReportKind.PROVINCE, year=year, province=province))
    return jobs


def report_dispatch(*, job_id):
    """Send the job to the broker. If the broker is down the row stays queued with a message for the
    user; the sweeper sends it again later. Returns True when the broker took it."""
    from .tasks import run_report

    now = timezone.now()
    updated = ReportJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(dispatched=True, enqueued_at=now)
    if not updated:
        return False
    # Replace a "broker down" notice; keep others (e.g. "run 1 was interrupted, re-queued").
    ReportJob.objects.filter(pk=job_id, status=JobStatus.QUEUED, message=str(BROKER_DOWN_MESSAGE)).update(
        message=_("Đang chờ đến lượt xử lý.")
    )
    try:
        run_report.apply_async(args=[job_id], retry=False)
    except Exception as exc:  # kombu.exceptions.OperationalError, redis ConnectionError, socket errors…
        logger.warning("report job %s: broker unavailable (%s); left queued", job_id, exc)
        ReportJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            dispatched=False, message=str(BROKER_DOWN_MESSAGE)
        )
        return False
    return True


# --- rendering ---------------------------------------------------------------------------------

def _set_progress(job_id, progress, message):
    ReportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
        progress=progress, message=message, heartbeat_at=timezone.now()
    )


class _Heartbeat:
    """Touch ``heartbeat_at`` every few seconds while a long render runs (own DB connection)."""

    def __init__(self, job_id):
        self.job_id = job_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"report-heartbeat-{job_id}", daemon=True)

    def _run(self):
        interval = heartbeat_every()
        try:
            while not self._stop.wait(interval):
                try:
                    ReportJob.objects.filter(pk=self.job_id, status=JobStatus.RUNNING).update(heartbeat_at=timezone.now())
                except Exception:  # never let the heartbeat kill the render
                    logger.debug("heartbeat for job %s failed", self.job_id, exc_info=True)
        finally:
            connection.close()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)
        return False


def _tmp_dir():
    if isinstance(default_storage, FileSystemStorage) or hasattr(default_storage, "path"):
        try:
            path = Path(default_storage.path("reports/.tmp"))
        except NotImplementedError:
            path = Path(tempfile.gettempdir()) / "kc-reports"
    else:
        path = Path(tempfile.gettempdir()) / "kc-reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _publish(tmp_path, job):
    """Move a complete PDF into storage; returns the storage name. Atomic on a file system."""
    name = report_file_path(job, "report.pdf")
    try:
        final = Path(default_storage.path(name))
    except NotImplementedError:
        final = None
    if final is not None:
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_path, final)  # same file system: atomic rename
        return name
    with open(tmp_path, "rb") as handle:
        saved = default_storage.save(name, File(handle, name=os.path.basename(name)))
    os.unlink(tmp_path)
    return saved


def _render_pause():
    """Diagnostics and the worker-loss test: REPORT_RENDER_PAUSE_SECONDS (environment) holds a claimed
    job in 'running' for that long before rendering. 0 (default) in normal operation."""
    seconds = float(os.environ.get("REPORT_RENDER_PAUSE_SECONDS", "0") or 0)
    if seconds > 0:
        time.sleep(seconds)


def report_context(job):
    from . import selectors

    return selectors.report_context(job)


TEMPLATES = {
    ReportKind.NATIONAL: "reports/pdf/annual_report.html",
    ReportKind.PROVINCE: "reports/pdf/annual_report.html",
    ReportKind.RECORD: "reports/pdf/inspection_record.html",
    ReportKind.PLAN: "reports/pdf/inspection_plan.html",
}


def report_html(job, media=None):
    """The report's HTML (also the staff's ?format=html preview). ``media``: what report_media gave
    the renderer; a photo not in it is not printed (the preview, with no media, shows every caption)."""
    context = report_context(job)
    if media is not None and "photos" in context:
        context["photos"] = [photo for photo in context["photos"] if photo["url"] in media]
    return render_to_string(TEMPLATES[job.kind], context)


# Photos printed in a biên bản: JPEG/PNG/WebP whose first bytes say so, at most this many.
PHOTOS_IN_RECORD = 12
_IMAGE_MAGIC = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
}


def report_media(job):
    """The bytes a report may embed besides the bundled assets: for a biên bản, its photos, read from
    storage and checked again by their first bytes ({``pdf.media_url(pk)``: (bytes, type)}). A photo
    that cannot be read or is not what it claims is left out (logged), never fatal."""
    if job.kind != ReportKind.RECORD or not job.target_id:
        return {}
    from .models import InspectionAttachment

    media = {}
    for attachment in InspectionAttachment.objects.filter(record_id=job.target_id, is_photo=True).order_by("uploaded_at", "id")[:PHOTOS_IN_RECORD]:
        try:
            with attachment.file.open("rb") as handle:
                body = handle.read()
        except OSError:
            logger.warning("report %s: photo %s unreadable, left out", job.pk, attachment.pk)
            continue
        if not body.startswith(_IMAGE_MAGIC.get(attachment.content_type, (b"\0no",))):
            logger.warning("report %s: photo %s is not a %s, left out", job.pk, attachment.pk, attachment.content_type)
            continue
        media[pdf.media_url(attachment.pk)] = (body, attachment.content_type)
    return media


def report_run(*, job_id):
    """Render one job. Claims it (queued → running) with a conditional UPDATE, so a duplicate delivery
    of the same message, or a second worker, does nothing. Returns the job, or None if not claimed."""
    now = timezone.now()
    claimed = ReportJob.objects.filter(pk=job_id, status=JobStatus.QUEUED, attempts__lt=max_attempts()).update(
        status=JobStatus.RUNNING, attempts=F("attempts") + 1, started_at=now, heartbeat_at=now, progress=5,
        message=_("Đang tổng hợp số liệu…"), error="",
    )
    if not claimed:
        logger.info("report job %s not claimed (already taken, finished or out of attempts)", job_id)
        return None
    job = ReportJob.objects.select_related("province", "requested_by").get(pk=job_id)
    tmp_path = None
    try:
        with _Heartbeat(job_id):
            _render_pause()
            media = report_media(job)
            html = report_html(job, media)
            _set_progress(job_id, 40, _("Đang dàn trang PDF…"))
            tmp_path = _tmp_dir() / _part_name(job_id)
            with open(tmp_path, "wb") as handle:
                result = pdf.html_to_pdf(html, target=handle, fetcher=pdf.make_fetcher(media=media))
                handle.flush()
                os.fsync(handle.fileno())
            size = tmp_path.stat().st_size
            _set_progress(job_id, 90, _("Đang lưu tệp PDF…"))
            name = _publish(tmp_path, job)
            tmp_path = None
        finished = ReportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
            status=JobStatus.DONE, progress=100, file=name, pages=result.pages, size=size,
            finished_at=timezone.now(), heartbeat_at=timezone.now(),
            message=_("Báo cáo đã sẵn sàng (%(n)d trang).") % {"n": result.pages},
        )
        if not finished:  # the sweeper took the job away meanwhile: do not leave an orphan file
            default_storage.delete(name)
    except SoftTimeLimitExceeded:  # run_report's soft time limit: the render hung or ran too long
        logger.error("report job %s stopped at its time limit", job_id)
        ReportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
            status=JobStatus.FAILED, finished_at=timezone.now(), error=_overdue_reason(max_render()),
            message=_("Không tạo được báo cáo."),
        )
    except Exception as exc:
        logger.exception("report job %s failed", job_id)  # the technical detail: for the operators' log
        reason = failure_reason(exc)
        ReportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
            status=JobStatus.FAILED, finished_at=timezone.now(), error=reason,
            message=_("Không tạo được báo cáo."),
        )
    finally:
        if tmp_path is not None and os.path.exists(tmp_path):
            os.unlink(tmp_path)
    job.refresh_from_db()
    return job


def failure_reason(exc):
    """What the user reads when a render breaks: plain Vietnamese, never a Python exception (its text
    goes to the log with the job's number, which the page gives the user to quote)."""
    import errno

    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return _("Máy chủ đã hết chỗ lưu tệp nên chưa lưu được báo cáo. Quản trị hệ thống cần giải phóng dung lượng, "
                 "sau đó bạn tạo lại báo cáo.")
    return _("Đã có lỗi ngoài dự kiến trong lúc lập báo cáo; số liệu không bị thay đổi.")


def report_fail(*, job_id, reason):
    """Mark a job failed (used by the task when something outside report_run breaks)."""
    return ReportJob.objects.filter(pk=job_id, status__in=ACTIVE_STATUSES).update(
        status=JobStatus.FAILED, finished_at=timezone.now(), error=str(reason)[:2000], message=_("Không tạo được báo cáo.")
    )


# --- sweeping -----------------------------------------------------------------------------------

def report_sweep_stuck(*, now=None, stale=None, resend=None):
    """Fail hung renders, re-queue or fail jobs whose worker died, and (re)send queued jobs the broker
    never took.

    * running for longer than REPORT_MAX_SECONDS (since ``started_at``) → failed with the reason, whatever
      its heartbeat (a hung render's heartbeat thread beats on); the user may ask again;
    * running with no heartbeat for ``stale`` → queued again while attempts < REPORT_MAX_ATTEMPTS, else
      failed with a reason;
    * queued and never sent (broker was down), or sent more than ``resend`` ago and still not started
      → sent again (a duplicate delivery is harmless: report_run claims the row);
    * ``.part`` files older than ``stale`` in the temporary folder → removed, except those of a job still
      running with a fresh heartbeat (the file is created before the layout, which can take minutes
      without writing to it).
    Returns counts.
    """
    now = now or timezone.now()
    stale = stale if stale is not None else stale_after()
    resend = resend if resend is not None else resend_after()
    requeued = failed = 0
    overdue = _fail_overdue(ReportJob.objects.all(), now=now)
    with transaction.atomic():
        for job in ReportJob.objects.select_for_update(skip_locked=True).filter(
            status=JobStatus.RUNNING
        ).filter(Q(heartbeat_at__lt=now - stale) | Q(heartbeat_at__isnull=True)):
            if job.attempts < max_attempts():
                job.status = JobStatus.QUEUED
                job.dispatched = False
                job.progress = 0
                job.message = _(
                    "Lần chạy thứ %(n)d bị gián đoạn (tiến trình xử lý dừng đột ngột); báo cáo đã được xếp hàng chạy lại."
                ) % {"n": job.attempts}
                job.save(update_fields=["status", "dispatched", "progress", "message"])
                requeued += 1
            else:
                job.status = JobStatus.FAILED
                job.finished_at = now
                job.error = _(
                    "Tiến trình xử lý báo cáo bị dừng đột ngột %(n)d lần (không còn tín hiệu hoạt động); đã ngừng "
                    "thử lại. Vui lòng yêu cầu lại hoặc liên hệ quản trị hệ thống."
                ) % {"n": job.attempts}
                job.message = _("Không tạo được báo cáo.")
                job.save(update_fields=["status", "finished_at", "error", "message"])
                failed += 1
    to_send = list(
        ReportJob.objects.filter(status=JobStatus.QUEUED)
        .filter(Q(dispatched=False) | Q(enqueued_at__lt=now - resend) | Q(enqueued_at__isnull=True))
        .values_list("pk", flat=True)
    )
    sent = sum(1 for job_id in to_send if report_dispatch(job_id=job_id))
    removed = 0
    rendering = set(ReportJob.objects.filter(status=JobStatus.RUNNING, heartbeat_at__gte=now - stale)
                    .values_list("pk", flat=True))
    try:
        folder = _tmp_dir()
        cutoff = time.time() - stale.total_seconds()
        for part in folder.glob("*.part"):
            if _part_owner(part.name) in rendering:
                continue
            if part.stat().st_mtime < cutoff:
                part.unlink(missing_ok=True)
                removed += 1
    except OSError:
        logger.warning("could not clean the report temporary folder", exc_info=True)
    return {"overdue": overdue, "requeued": requeued, "failed": failed, "sent": sent, "unsent": len(to_send) - sent, "tmp_removed": removed}


def report_generate_sync(*, kind, year, province=None, grouping=Grouping.CURRENT, target_id=None, output):
    """For ``manage.py generate_report``: the same context, template and renderer, run here and now,
    written to ``output`` (a path). No job row. Returns the page count."""
    kind, year, province, grouping, record = _validate(kind, year, province, grouping, target_id)
    job = ReportJob(
        kind=kind, year=year, province=province, target_id=record.pk if record else None, grouping=grouping,
        issued_on=timezone.localdate(),
    )
    media = report_media(job)
    html = report_html(job, media)
    tmp = Path(f"{output}.part")
    with open(tmp, "wb") as handle:
        result = pdf.html_to_pdf(html, target=handle, fetcher=pdf.make_fetcher(media=media))
    os.replace(tmp, output)
    return result.pages
