"""A render that hangs: time limits on the task, the sweeper fails a job running past REPORT_MAX_SECONDS
(its heartbeat thread beats on), an identical request starts afresh instead of joining it, and the
sweeper leaves alone the temporary file of a job still rendering."""
import os
from datetime import timedelta
from unittest import mock

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.urls import reverse
from django.utils import timezone

from reports import services
from reports.models import JobStatus, ReportJob

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore"), pytest.mark.usefixtures("eager_celery")]


@pytest.fixture
def no_dispatch():
    with mock.patch.object(services, "report_dispatch", return_value=True) as patched:
        yield patched


def _running(job, *, started_minutes_ago, heartbeat_minutes_ago=0):
    now = timezone.now()
    ReportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, attempts=1, started_at=now - timedelta(minutes=started_minutes_ago),
        heartbeat_at=now - timedelta(minutes=heartbeat_minutes_ago))


def test_run_report_has_soft_and_hard_time_limits(settings):
    from khuyencong.celery import app

    task = app.tasks["reports.run_report"]
    assert task.soft_time_limit == settings.REPORT_MAX_SECONDS
    assert task.time_limit == settings.REPORT_MAX_SECONDS + 30


def test_sweeper_fails_a_job_running_too_long_even_with_a_fresh_heartbeat(client, users, no_dispatch, settings):
    settings.REPORT_MAX_SECONDS = 600
    hung = services.report_request(user=users["reviewer"], kind="national", year=2025)
    _running(hung, started_minutes_ago=11)  # heartbeat thread still beating
    busy = services.report_request(user=users["reviewer"], kind="national", year=2024)
    _running(busy, started_minutes_ago=5)
    result = services.report_sweep_stuck()
    hung.refresh_from_db()
    assert result["overdue"] == 1 and result["requeued"] == 0
    assert hung.status == JobStatus.FAILED and hung.finished_at
    assert "chưa tạo xong sau 10 phút (quá thời gian tối đa cho phép)" in hung.error
    assert ReportJob.objects.get(pk=busy.pk).status == JobStatus.RUNNING  # within its time: untouched
    client.force_login(users["reviewer"])
    page = client.get(reverse("reports:job_detail", args=[hung.pk])).content.decode()
    assert "Tạo lại báo cáo" in page and "quá thời gian tối đa cho phép" in page


def test_identical_request_starts_afresh_instead_of_joining_a_hung_job(users, no_dispatch, settings):
    settings.REPORT_MAX_SECONDS = 600
    hung = services.report_request(user=users["reviewer"], kind="national", year=2025)
    _running(hung, started_minutes_ago=30)
    again = services.report_request(user=users["reviewer"], kind="national", year=2025)
    assert again.pk != hung.pk and not again.joined and again.status == JobStatus.QUEUED
    hung.refresh_from_db()
    assert hung.status == JobStatus.FAILED and "quá thời gian tối đa" in hung.error
    # a job running within its time is still joined
    _running(again, started_minutes_ago=2)
    third = services.report_request(user=users["reviewer"], kind="national", year=2025)
    assert third.pk == again.pk and third.joined


def test_render_stopped_by_the_soft_time_limit_fails_with_the_reason(users, media_root, no_dispatch):
    job = services.report_request(user=users["reviewer"], kind="national", year=2025)
    with mock.patch("reports.pdf.html_to_pdf", side_effect=SoftTimeLimitExceeded()):
        services.report_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "quá thời gian tối đa cho phép" in job.error and not job.file
    assert not [p for p in media_root.rglob("*.pdf*") if p.is_file()]


def test_render_writes_a_temporary_file_named_after_its_job(users, media_root, no_dispatch):
    job = services.report_request(user=users["reviewer"], kind="national", year=2025)
    seen = []
    real = services.pdf.html_to_pdf

    def spy(html, *, target, fetcher):
        seen.append(os.path.basename(target.name))
        return real(html, target=target, fetcher=fetcher)

    with mock.patch("reports.pdf.html_to_pdf", side_effect=spy):
        services.report_run(job_id=job.pk)
    assert len(seen) == 1 and services._part_owner(seen[0]) == job.pk
    assert services._part_owner("0f3a.pdf.part") is None and services._part_owner("job-x-1.pdf.part") is None


def test_sweeper_keeps_the_part_file_of_a_job_still_rendering(users, media_root, no_dispatch):
    rendering = services.report_request(user=users["reviewer"], kind="national", year=2025)
    _running(rendering, started_minutes_ago=9)  # layout of a big report: the empty .part is minutes old
    dead = services.report_request(user=users["reviewer"], kind="national", year=2024)
    _running(dead, started_minutes_ago=9, heartbeat_minutes_ago=9)  # worker died
    folder = media_root / "reports" / ".tmp"
    folder.mkdir(parents=True, exist_ok=True)
    old = (timezone.now() - timedelta(minutes=9)).timestamp()
    parts = {}
    for name, pk in (("rendering", rendering.pk), ("dead", dead.pk)):
        parts[name] = folder / services._part_name(pk)
        parts[name].write_bytes(b"")
        os.utime(parts[name], (old, old))
    result = services.report_sweep_stuck()
    assert parts["rendering"].exists()
    assert not parts["dead"].exists() and result["tmp_removed"] == 1
    # once its heartbeat stops, its file goes too
    ReportJob.objects.filter(pk=rendering.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=9))
    services.report_sweep_stuck()
    assert not parts["rendering"].exists()
