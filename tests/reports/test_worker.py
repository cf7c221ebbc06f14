"""Integration: a real Celery worker process against Redis and PostgreSQL.

The worker is started by the test (``celery -A khuyencong worker --pool=solo``) with ``DATABASE_URL``
pointing at the test database and its own Redis database number, and stopped by PID. Tests are
transactional so the worker sees committed rows.
"""
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from reports import services
from reports.models import JobStatus, ReportJob
from tests.conftest import require_service
from tests.reports.conftest import pdf_text, redis_url_for_tests, restore_broker, use_broker
from tests.reports.factories import build_year, group_dots

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.filterwarnings("ignore")]

REDIS_URL = redis_url_for_tests()


def _redis_ok():
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_use_broker = use_broker


@pytest.fixture
def services_up():
    require_service("PostgreSQL", connection.vendor == "postgresql", "run with DATABASE_URL=postgres://…")
    require_service("Redis", _redis_ok(), "redis-server on 127.0.0.1:6379")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


@pytest.fixture
def broker(services_up):
    from khuyencong.celery import app

    before = (app.conf.broker_url, app.conf.task_always_eager)
    _use_broker(REDIS_URL, eager=False)
    yield REDIS_URL
    restore_broker(before)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


class Worker:
    def __init__(self, media_root, log_path, extra_env=None):
        db = connection.settings_dict
        user = db.get("USER") or "postgres"
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{user}{password}@{host}:{port}/{db['NAME']}",
            "CELERY_BROKER_URL": REDIS_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "MEDIA_ROOT": str(media_root),
            "DJANGO_SETTINGS_MODULE": "khuyencong.settings",
            "CONN_MAX_AGE": "0",
            **(extra_env or {}),
        }
        self.log_path = log_path
        self.proc = None

    def start(self, timeout=60):
        celery = str(Path(sys.executable).with_name("celery"))
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [celery, "-A", "khuyencong", "worker", "--pool=solo", "--loglevel=INFO", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "-n", f"reports-test-{os.getpid()}-{time.monotonic_ns()}@%h"],
            cwd=settings.BASE_DIR, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited early:\n{Path(self.log_path).read_text()[-3000:]}")
            if b"ready." in Path(self.log_path).read_bytes():
                return self
            time.sleep(0.2)
        raise AssertionError(f"worker not ready:\n{Path(self.log_path).read_text()[-3000:]}")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "log", None):
            self.log.close()


@pytest.fixture
def workers(media, tmp_path):
    started = []

    def start(**extra_env):
        worker = Worker(media, tmp_path / f"worker{len(started)}.log", extra_env).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_for(job_id, statuses, timeout=120, poll=0.1, predicate=None):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        job = ReportJob.objects.get(pk=job_id)
        if not seen or seen[-1] != (job.status, job.progress):
            seen.append((job.status, job.progress))
        if job.status in statuses and (predicate is None or predicate(job)):
            return job, seen
        time.sleep(poll)
    raise AssertionError(f"job {job_id} still {job.status} {job.progress}% after {timeout}s: {seen} {job.error}")


def published_files(media):
    return sorted(p for p in media.rglob("*.pdf") if ".tmp" not in p.parts)


def test_national_report_by_a_real_worker(client, broker, workers, media):
    from tests.khuyencong.factories import reviewer

    expected = build_year(year=2025, n_de_an=80, n_records=8)
    build_year(year=2024, n_de_an=20, n_records=0, seed=9)
    user = reviewer()
    client.force_login(user)
    workers()
    response = client.post(reverse("reports:request"), {"kind": "national", "year": 2025, "grouping": "current"})
    assert response.status_code == 302
    job = ReportJob.objects.get()
    assert job.dispatched
    partial = client.get(reverse("reports:job_status", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in partial or job.status == JobStatus.DONE
    job, seen = wait_for(job.pk, {JobStatus.DONE, JobStatus.FAILED})
    assert job.status == JobStatus.DONE, job.error
    assert any(status == JobStatus.RUNNING for status, _ in seen) or len(seen) >= 1
    partial = client.get(reverse("reports:job_status", args=[job.pk])).content.decode()
    assert "Tải báo cáo PDF" in partial and "hx-trigger" not in partial
    download = client.get(reverse("reports:job_download", args=[job.pk]))
    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    text = pdf_text(data, layout=True)
    flat = " ".join(text.split())
    # Vietnamese headings with their diacritics, the motto block, totals to the đồng.
    for heading in ("BÁO CÁO", "Kết quả thực hiện hoạt động khuyến công năm 2025", "I. KẾT QUẢ THỰC HIỆN KẾ HOẠCH KINH PHÍ",
                    "II. ĐỀ ÁN THEO NỘI DUNG HOẠT ĐỘNG", "III. ĐỀ ÁN THEO TỈNH, THÀNH PHỐ", "V. CÔNG TÁC KIỂM TRA, GIÁM SÁT",
                    "VI. ĐỀ XUẤT, KIẾN NGHỊ", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"):
        assert heading in flat, heading
    assert f"là {group_dots(expected['support'])} đ" in flat
    assert group_dots(expected["total"]) in flat
    assert group_dots(expected["plan_national"] + expected["plan_local"]) in flat
    # Page numbers: none on page 1, "2" at the top of page 2, "N" on the report's last page N; the
    # appendix (the inspection list, one page here) is numbered on its own, its first page unnumbered.
    assert job.pages >= 3
    assert pdf_text(data, first=2, last=2).split()[0] == "2"
    firsts = [pdf_text(data, first=n, last=n).split()[:2] for n in range(1, job.pages + 1)]
    appendix = next(n for n, words in enumerate(firsts, 1) if words == ["Phụ", "lục"])
    assert firsts[appendix - 2][0] == str(appendix - 1) and appendix == job.pages
    assert published_files(media) == [Path(job.file.path)]


def test_worker_killed_mid_report_is_retried_never_stuck(broker, workers, media):
    from tests.khuyencong.factories import reviewer

    build_year(year=2025, n_de_an=600, n_records=20)
    worker = workers()
    job = services.report_request(user=reviewer(), kind="national", year=2025)
    # Kill the worker while WeasyPrint lays out the PDF (progress 40 %).
    job, seen = wait_for(job.pk, {JobStatus.RUNNING, JobStatus.DONE}, predicate=lambda j: j.status == JobStatus.DONE or j.progress >= 40, poll=0.05)
    assert job.status == JobStatus.RUNNING, f"finished before it could be killed: {seen}"
    worker.kill()
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.attempts == 1
    assert published_files(media) == []  # nothing half-written was published
    # The sweeper (beat, every minute) sees the heartbeat stop; a zero threshold stands in for waiting.
    result = services.report_sweep_stuck(stale=timedelta(seconds=0))
    job.refresh_from_db()
    assert result["requeued"] == 1 and job.status == JobStatus.QUEUED and "bị gián đoạn" in job.message
    workers()
    job, _ = wait_for(job.pk, {JobStatus.DONE, JobStatus.FAILED})
    assert job.status == JobStatus.DONE and job.attempts == 2
    files = published_files(media)
    assert files == [Path(job.file.path)]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in pdf_text(files[0])
    assert not list((media / "reports" / ".tmp").glob("*.part")) or result["tmp_removed"] >= 0


def test_redis_down_when_asked_runs_once_it_is_back(client, services_up, workers, media):
    from khuyencong.celery import app
    from tests.khuyencong.factories import reviewer

    before = (app.conf.broker_url, app.conf.task_always_eager)
    closed = f"redis://127.0.0.1:{_free_port()}/0"
    try:
        _use_broker(closed, eager=False)
        client.force_login(reviewer())
        response = client.post(reverse("reports:request"), {"kind": "national", "year": 2031, "grouping": "current"}, follow=True)
        page = response.content.decode()
        assert "tạm thời không hoạt động" in page
        job = ReportJob.objects.get()
        assert job.status == JobStatus.QUEUED and not job.dispatched
        # Still down: the sweeper cannot send it either, and the row stays queued.
        assert services.report_sweep_stuck()["unsent"] == 1
        # Redis back: the sweeper sends it, a worker renders it.
        _use_broker(REDIS_URL, eager=False)
        workers()
        services.report_sweep_stuck()
        job, _ = wait_for(job.pk, {JobStatus.DONE, JobStatus.FAILED})
        assert job.status == JobStatus.DONE, job.error
        assert "Không có số liệu cho năm 2031" in pdf_text(job.file.path)
    finally:
        restore_broker(before)
