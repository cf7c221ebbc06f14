"""Report jobs: request, join, scoping, download, sweeper, broker down — with Celery eager (any database)."""
import os
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from khuyencong.access import can, visible_report_jobs
from khuyencong.models import Province
from reports import services
from reports.models import Grouping, InspectionRecord, JobStatus, ReportJob, ReportKind
from tests.reports.conftest import pdf_text
from tests.reports.factories import build_year, group_dots

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore"), pytest.mark.usefixtures("eager_celery")]


def province(code):
    return Province.objects.current().get(code=code)


@pytest.fixture
def no_dispatch():
    """Keep jobs queued: nothing is sent to the broker."""
    with mock.patch.object(services, "report_dispatch", return_value=True) as patched:
        yield patched


# --- request, join -----------------------------------------------------------------------------

def test_same_request_while_queued_joins_it(users, no_dispatch, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.report_request(user=users["reviewer"], kind="national", year=2025)
        second = services.report_request(user=users["reviewer"], kind="national", year=2025)
    assert first.pk == second.pk and not first.joined and second.joined
    assert no_dispatch.call_count == 1  # the joined request sends nothing
    other_grouping = services.report_request(user=users["reviewer"], kind="national", year=2025, grouping=Grouping.HISTORICAL)
    other_year = services.report_request(user=users["reviewer"], kind="national", year=2024)
    assert len({first.pk, other_grouping.pk, other_year.pk}) == 3
    # A province user asking for their province's report while a reviewer's identical one runs joins it.
    a = services.report_request(user=users["reviewer"], kind="province", year=2025, province=province("24"))
    b = services.report_request(user=users["bac_ninh"], kind="province", year=2025, province=province("24"))
    assert a.pk == b.pk and b.joined
    # Once finished, the same request makes a new job.
    ReportJob.objects.filter(pk=first.pk).update(status=JobStatus.FAILED)
    again = services.report_request(user=users["reviewer"], kind="national", year=2025)
    assert again.pk != first.pk and not again.joined


def test_database_refuses_two_active_jobs_for_one_request(users):
    key = services.request_key(kind="national", year=2025)
    ReportJob.objects.create(kind="national", year=2025, request_key=key)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportJob.objects.create(kind="national", year=2025, request_key=key, status=JobStatus.RUNNING)
    ReportJob.objects.create(kind="national", year=2025, request_key=key, status=JobStatus.DONE, file="x.pdf")


def test_former_province_is_asked_as_its_current_one(users, no_dispatch):
    old_bac_ninh = Province.objects.former().get(code="27")  # merged into new Bắc Ninh (24)
    job = services.report_request(user=users["bac_ninh"], kind="province", year=2024, province=old_bac_ninh)
    assert job.province.code == "24" and job.province.era == "current"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kind": "bogus", "year": 2025}, "Loại báo cáo không hợp lệ"),
        ({"kind": "national", "year": 1999}, "2000–2100"),
        ({"kind": "national", "year": "abc"}, "phải là một số"),
        ({"kind": "province", "year": 2025}, "cần chọn tỉnh"),
        ({"kind": "record", "year": 2025, "target_id": 999999}, "Không tìm thấy biên bản"),
        ({"kind": "national", "year": 2025, "grouping": "x"}, "Cách nhóm"),
    ],
)
def test_bad_requests_are_refused_with_a_reason_and_create_nothing(users, kwargs, message):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as err:
        services.report_request(user=users["reviewer"], **kwargs)
    assert message in " ".join(err.value.messages)
    assert not ReportJob.objects.exists()


# --- scoping ---------------------------------------------------------------------------------------

def test_province_user_can_only_ask_for_their_province(users, no_dispatch):
    user = users["bac_ninh"]
    for kwargs, reason in (
        ({"kind": "national", "year": 2025}, "Chỉ Cục"),
        ({"kind": "plan", "year": 2025}, "Chỉ Cục"),
        ({"kind": "province", "year": 2025, "province": province("01")}, "tỉnh, thành phố mình"),
    ):
        with pytest.raises(services.ReportRefused) as err:
            services.report_request(user=user, **kwargs)
        assert reason in str(err.value)
    assert not ReportJob.objects.exists()
    own = services.report_request(user=user, kind="province", year=2025, province=province("24"))
    centre = services.report_request(user=users["bac_ninh_centre"], kind="province", year=2025, province=province("24"))
    assert own.pk == centre.pk


def test_visible_jobs_and_download_rule(users, no_dispatch):
    national = services.report_request(user=users["reviewer"], kind="national", year=2025)
    bn = services.report_request(user=users["reviewer"], kind="province", year=2025, province=province("24"))
    hn = services.report_request(user=users["reviewer"], kind="province", year=2025, province=province("01"))
    assert set(visible_report_jobs(users["reviewer"])) == {national, bn, hn}
    assert set(visible_report_jobs(users["bac_ninh"])) == {bn}
    assert set(visible_report_jobs(users["ha_noi"])) == {hn}
    decision = can(users["bac_ninh"], "report.download", bn)
    assert not decision and "chưa tạo xong" in decision.reason
    ReportJob.objects.filter(pk=bn.pk).update(status=JobStatus.DONE, file="reports/x.pdf")
    bn.refresh_from_db()
    assert can(users["bac_ninh"], "report.download", bn)
    assert not can(users["ha_noi"], "report.download", bn)
    assert not can(users["bac_ninh"], "report.preview", bn)
    assert can(users["reviewer"], "report.preview", bn)


# --- rendering end to end (eager) -------------------------------------------------------------------

def test_national_report_through_the_views(client, users, media_root, django_capture_on_commit_callbacks):
    expected = build_year(year=2025, n_de_an=40, n_records=6)
    build_year(year=2024, n_de_an=10, n_records=0, seed=5)
    client.force_login(users["reviewer"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:request"), {"kind": "national", "year": 2025, "grouping": "current"})
    assert response.status_code == 302
    job = ReportJob.objects.get()
    assert response["Location"] == reverse("reports:job_detail", args=[job.pk])
    assert job.status == JobStatus.DONE, job.error
    assert job.progress == 100 and job.pages >= 3 and job.attempts == 1
    page = client.get(response["Location"])
    assert "Tải báo cáo PDF" in page.content.decode()
    partial = client.get(reverse("reports:job_status", args=[job.pk])).content.decode()
    assert "hx-trigger" not in partial  # finished: no more polling
    download = client.get(reverse("reports:job_download", args=[job.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert "bao-cao-toan-quoc-2025.pdf" in download["Content-Disposition"]
    data = b"".join(download.streaming_content)
    text = pdf_text(data, layout=True)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text
    assert "KẾT QUẢ THỰC HIỆN KẾ HOẠCH KINH PHÍ" in text
    assert group_dots(expected["support"]) in text
    assert group_dots(expected["total"]) in text
    assert group_dots(expected["plan_national"] + expected["plan_local"]) in text
    assert "Nơi nhận:" in text
    for caption in ("Hình 1. Kế hoạch và thực hiện", "Hình 2. Số đề án theo nhóm nội dung", "Hình 3. Các tỉnh, thành phố có kinh phí"):
        assert caption in text
    # Files published: exactly the one the job points at, none half-written.
    files = [p for p in media_root.rglob("*") if p.is_file()]
    assert [p.name for p in files] == [os.path.basename(job.file.name)]


def test_status_partial_polls_while_active(client, users, no_dispatch):
    job = services.report_request(user=users["reviewer"], kind="national", year=2025)
    client.force_login(users["reviewer"])
    partial = client.get(reverse("reports:job_status", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in partial and "Đang chờ xử lý" in partial
    ReportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, progress=40, message="Đang dàn trang PDF…")
    partial = client.get(reverse("reports:job_status", args=[job.pk])).content.decode()
    assert 'aria-valuenow="40"' in partial and "Đang dàn trang" in partial
    ReportJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error="Lỗi khi tạo báo cáo: thử")
    partial = client.get(reverse("reports:job_status", args=[job.pk])).content.decode()
    assert "Lỗi khi tạo báo cáo: thử" in partial and "hx-trigger" not in partial


def test_other_province_cannot_see_or_download(client, users, media_root, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.report_request(user=users["reviewer"], kind="province", year=2025, province=province("24"))
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    client.force_login(users["ha_noi"])
    for name in ("job_detail", "job_status", "job_download"):
        assert client.get(reverse(f"reports:{name}", args=[job.pk])).status_code == 404
    client.force_login(users["bac_ninh"])
    assert client.get(reverse("reports:job_download", args=[job.pk])).status_code == 200
    assert client.get(reverse("reports:job_download", args=[job.pk]) + "?format=html").status_code == 403
    client.force_login(users["reviewer"])
    preview = client.get(reverse("reports:job_download", args=[job.pk]) + "?format=html")
    assert preview.status_code == 200 and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in preview.content.decode()
    # A province user posting a national request is told why, and nothing is created.
    client.force_login(users["bac_ninh"])
    response = client.post(reverse("reports:request"), {"kind": "province", "year": 2025, "province": province("01").pk, "grouping": "current"}, follow=True)
    assert response.status_code in (200, 400)
    assert ReportJob.objects.count() == 1


def test_no_data_year_gives_a_valid_pdf_that_says_so(users, media_root, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.report_request(user=users["reviewer"], kind="national", year=2031)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    text = pdf_text(job.file.path)
    assert "Không có số liệu cho năm 2031" in text
    assert job.pages == 1


def test_hostile_de_an_name_is_printed_as_text(users, media_root, django_capture_on_commit_callbacks, tmp_path):
    names = ['<img src="file:///etc/passwd"> Đề án A', '<link rel="attachment" href="file:///etc/passwd"> Đề án B',
             'Xem http://169.254.169.254/latest/meta-data/ Đề án C']
    # The national report prints đề án names in its inspection appendix.
    build_year(year=2025, n_de_an=3, n_records=3, names=names)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.report_request(user=users["reviewer"], kind="national", year=2025)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    text = " ".join(pdf_text(job.file.path).split())
    assert '<img src="file:///etc/passwd">' in text
    assert '<link rel="attachment" href="file:///etc/passwd">' in text
    assert "169.254.169.254" in text and "root:" not in text
    import subprocess

    listing = subprocess.run(["pdfdetach", "-list", job.file.path], capture_output=True, text=True, check=True).stdout
    assert "0 embedded files" in listing


def test_historical_grouping_lists_former_provinces(users, media_root, django_capture_on_commit_callbacks):
    build_year(year=2024, n_de_an=30, n_records=0)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.report_request(user=users["reviewer"], kind="national", year=2024, grouping=Grouping.HISTORICAL)
    job.refresh_from_db()
    text = pdf_text(job.file.path, layout=True)
    assert "(cũ)" in text and "khi đăng ký" in text


def test_record_and_plan_reports(users, media_root, django_capture_on_commit_callbacks):
    build_year(year=2025, n_de_an=6, n_records=2)
    record = InspectionRecord.objects.first()
    with django_capture_on_commit_callbacks(execute=True):
        rec_job = services.report_request(user=users["bac_ninh"] if record.de_an.current_province.code == "24" else users["reviewer"],
                                          kind="record", year=2000, target_id=record.pk)
        plan_job = services.report_request(user=users["reviewer"], kind="plan", year=2025)
    rec_job.refresh_from_db()
    plan_job.refresh_from_db()
    assert rec_job.year == 2025 and rec_job.province_id == record.de_an.current_province_id
    assert rec_job.status == plan_job.status == JobStatus.DONE
    assert "BIÊN BẢN" in pdf_text(rec_job.file.path)
    plan_text = pdf_text(plan_job.file.path)
    assert "KẾ HOẠCH" in plan_text and "Trần Thị Bình" in plan_text


def test_report_run_claims_once(users, media_root, no_dispatch):
    job = services.report_request(user=users["reviewer"], kind="national", year=2031)
    assert services.report_run(job_id=job.pk).status == JobStatus.DONE
    assert services.report_run(job_id=job.pk) is None  # a duplicate delivery does nothing
    job.refresh_from_db()
    assert job.attempts == 1


def test_render_error_marks_failed_with_reason_and_publishes_nothing(users, media_root, no_dispatch):
    job = services.report_request(user=users["reviewer"], kind="national", year=2025)
    with mock.patch("reports.pdf.html_to_pdf", side_effect=RuntimeError("hết bộ nhớ")):
        services.report_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and not job.file
    # The user reads a plain sentence, not the exception (that goes to the log with the job's number).
    assert job.error == "Đã có lỗi ngoài dự kiến trong lúc lập báo cáo; số liệu không bị thay đổi."
    assert "RuntimeError" not in job.error and "hết bộ nhớ" not in job.error
    assert not [p for p in media_root.rglob("*.pdf*") if p.is_file()]


def test_a_full_disk_is_named_in_plain_words(users, media_root, no_dispatch):
    import errno

    job = services.report_request(user=users["reviewer"], kind="national", year=2025)
    with mock.patch("reports.pdf.html_to_pdf", side_effect=OSError(errno.ENOSPC, "No space left on device")):
        services.report_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("Máy chủ đã hết chỗ lưu tệp") and "Errno" not in job.error


# --- sweeper and broker down ------------------------------------------------------------------------

def test_sweeper_requeues_then_fails_a_job_whose_worker_died(users, media_root, no_dispatch, settings):
    settings.REPORT_MAX_ATTEMPTS = 2
    job = services.report_request(user=users["reviewer"], kind="national", year=2025)
    old = timezone.now() - timedelta(minutes=10)
    ReportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, attempts=1, heartbeat_at=old, started_at=old)
    fresh = services.report_request(user=users["reviewer"], kind="national", year=2024)
    ReportJob.objects.filter(pk=fresh.pk).update(status=JobStatus.RUNNING, attempts=1, heartbeat_at=timezone.now())
    part = media_root / "reports" / ".tmp" / "dead.pdf.part"
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(b"%PDF-1.7 half")
    os.utime(part, (old.timestamp(), old.timestamp()))
    result = services.report_sweep_stuck()
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and "bị gián đoạn" in job.message and result["requeued"] == 1
    assert ReportJob.objects.get(pk=fresh.pk).status == JobStatus.RUNNING  # alive: untouched
    assert not part.exists() and result["tmp_removed"] == 1
    ReportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, attempts=2, heartbeat_at=old)
    services.report_sweep_stuck()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "dừng đột ngột 2 lần" in job.error and job.finished_at


def test_broker_down_keeps_the_row_tells_the_user_and_runs_later(client, users, media_root, django_capture_on_commit_callbacks):
    from reports import tasks

    client.force_login(users["reviewer"])
    with mock.patch.object(tasks.run_report, "apply_async", side_effect=OperationalError("Connection refused")):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("reports:request"), {"kind": "national", "year": 2031, "grouping": "current"}, follow=True)
    job = ReportJob.objects.get()
    assert job.status == JobStatus.QUEUED and not job.dispatched
    assert "tạm thời không hoạt động" in job.message
    assert "tạm thời không hoạt động" in response.content.decode()
    # Broker back: the sweeper (beat, or a worker starting) sends it; eager mode runs it here.
    result = services.report_sweep_stuck()
    job.refresh_from_db()
    assert result["sent"] == 1 and job.status == JobStatus.DONE


def test_annual_task_asks_for_national_and_every_province(no_dispatch, db):
    from reports.tasks import annual_reports

    assert annual_reports(year=2025) == 35
    assert ReportJob.objects.filter(kind=ReportKind.NATIONAL, year=2025, requested_by=None).count() == 1
    assert ReportJob.objects.filter(kind=ReportKind.PROVINCE, year=2025).count() == 34
    assert annual_reports(year=2025) == 35  # joins, creates nothing new
    assert ReportJob.objects.count() == 35


def test_generate_report_command(db, tmp_path, capsys):
    build_year(year=2025, n_de_an=8, n_records=1)
    out = tmp_path / "bn.pdf"
    call_command("generate_report", "--kind", "province", "--year", "2025", "--province", "Bắc Ninh", "--output", str(out))
    text = pdf_text(out)
    assert "SỞ CÔNG THƯƠNG" in text.upper() and "Tỉnh Bắc Ninh" in text
    assert "trang" in capsys.readouterr().out
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Không tìm thấy tỉnh"):
        call_command("generate_report", "--kind", "province", "--year", "2025", "--province", "Atlantis", "--output", str(out))


def test_overdue_recommendations_panel_is_scoped(users, client):
    from reports.home import overdue_recommendations

    build_year(year=2024, n_de_an=40, n_records=12)  # deadlines 30/09/2024: long past
    reviewer_panels = overdue_recommendations(users["reviewer"])
    assert reviewer_panels and reviewer_panels[0]["count"] == 8  # 12 records, one in three closed
    bac_ninh = overdue_recommendations(users["bac_ninh"])
    expected = InspectionRecord.objects.filter(de_an__current_province__code="24", recommendations__status__in=["open", "answered"]).count()
    assert (bac_ninh[0]["count"] if bac_ninh else 0) == expected
    client.force_login(users["reviewer"])
    assert "Kiến nghị sau kiểm tra đã quá hạn" in client.get(reverse("home")).content.decode()


def test_disbursed_money_is_reported(users, media_root, no_dispatch):
    from datetime import date

    from funding.models import Disbursement
    from projects.models import DeAn

    build_year(year=2025, n_de_an=6, n_records=0)
    counted = DeAn.objects.filter(plan_year=2025, status="approved").first()
    draft = DeAn.objects.get(plan_year=2025, status="draft")
    Disbursement.objects.create(de_an=counted, kind="advance", source="national", amount=123_456_789, date=date(2025, 5, 1), document_number="1/TU")
    Disbursement.objects.create(de_an=counted, kind="payment", source="national", amount=1_000_001, date=date(2025, 9, 1), document_number="2/TT")
    Disbursement.objects.create(de_an=draft, kind="advance", source="national", amount=5_000_000, date=date(2025, 5, 1), document_number="3/TU")
    # Entered by mistake and voided: kept on the money page, counted nowhere.
    Disbursement.objects.create(de_an=counted, kind="payment", source="national", amount=70_000_000, date=date(2025, 9, 2),
                                document_number="4/TT", voided_at=timezone.now(), void_reason="Nhập nhầm số tiền")
    job = services.report_request(user=users["reviewer"], kind="national", year=2025)
    services.report_run(job_id=job.pk)
    job.refresh_from_db()
    text = " ".join(pdf_text(job.file.path).split())
    assert "đã giải ngân (tạm ứng, thanh toán) là 124.456.790 đ" in text


def test_bien_ban_is_dated_at_the_inspection_with_the_agency_name_then(users, media_root, no_dispatch):
    build_year(year=2024, n_de_an=3, n_records=1)
    record = InspectionRecord.objects.get()
    job = services.report_request(user=users["reviewer"], kind="record", year=2024, target_id=record.pk)
    services.report_run(job_id=job.pk)
    job.refresh_from_db()
    text = " ".join(pdf_text(job.file.path).split())
    from khuyencong.formatting import format_date_long

    assert format_date_long(record.inspected_on, record.de_an.current_province.name) in text
    assert "tháng 6 năm 2024" in text  # Decree 30: no leading zero for months from March
    assert "CỤC CÔNG THƯƠNG ĐỊA PHƯƠNG" in text and "/BB-CTĐP" in text  # renamed on 01/03/2025
    assert "ĐỔI MỚI SÁNG TẠO" not in text


def test_indicator_results_are_achieved_outputs_cumulative_over_the_programme(users, media_root, no_dispatch):
    """Section IV sums DeAnIndicatorOutput.achieved (the indicator's unit) for đề án in implementation
    onwards, this year and cumulative from 2021; approved-only đề án and other programmes do not count."""
    from khuyencong.models import Indicator
    from reports.selectors import indicator_results

    earlier = build_year(year=2023, n_de_an=24, n_records=0, seed=3)
    this = build_year(year=2025, n_de_an=40, n_records=0, seed=4)
    assert this["indicators"] and earlier["indicators"]
    programme, rows, elapsed = indicator_results(2025)
    assert programme.start_year == 2021 and elapsed == 100.0
    by_code = {row["indicator"].code: row for row in rows}
    assert set(by_code) == set(Indicator.objects.filter(programme=programme).values_list("code", flat=True))
    for code, row in by_code.items():
        assert row["year"] == this["indicators"].get(code, 0), code
        assert row["cumulative"] == this["indicators"].get(code, 0) + earlier["indicators"].get(code, 0), code
    _, rows_2023, elapsed_2023 = indicator_results(2023)
    assert elapsed_2023 == 60.0
    assert {r["indicator"].code: r["cumulative"] for r in rows_2023} == {
        code: earlier["indicators"].get(code, 0) for code in by_code
    }
    job = services.report_request(user=users["reviewer"], kind="national", year=2025)
    services.report_run(job_id=job.pk)
    job.refresh_from_db()
    text = " ".join(pdf_text(job.file.path).split())
    assert "KẾT QUẢ SO VỚI MỤC TIÊU CHƯƠNG TRÌNH" in text
    assert "chương trình đã qua 100 % thời gian thực hiện" in text or "chương trình đã qua 100,0 % thời gian thực hiện" in text


def test_national_report_summarises_and_province_report_lists_each_de_an(users, media_root, no_dispatch):
    from khuyencong.models import Province
    from projects.models import DeAn

    expected = build_year(year=2025, n_de_an=70, n_records=0)
    assert expected["count"] == 70
    job = services.report_request(user=users["reviewer"], kind="national", year=2025)
    services.report_run(job_id=job.pk)
    job.refresh_from_db()
    national = " ".join(pdf_text(job.file.path).split())
    assert "Phụ lục I " not in national and "DANH MỤC ĐỀ ÁN" not in national
    assert "Năm 2025 có 70 đề án được triển khai" in national
    bac_ninh = Province.objects.current().get(code="24")
    job = services.report_request(user=users["reviewer"], kind="province", year=2025, province=bac_ninh)
    services.report_run(job_id=job.pk)
    job.refresh_from_db()
    provincial = " ".join(pdf_text(job.file.path).split())
    assert "Phụ lục DANH MỤC ĐỀ ÁN KHUYẾN CÔNG TRIỂN KHAI NĂM 2025" in provincial  # the only appendix: no number
    assert "Danh mục các đề án triển khai trong năm tại Phụ lục kèm theo." in provincial
    codes = list(DeAn.objects.filter(plan_year=2025, current_province=bac_ninh, status__in=["approved", "in_implementation", "accepted", "settled"]).values_list("code", flat=True))
    assert codes and all(code in provincial for code in codes)
    other = DeAn.objects.filter(plan_year=2025, status="approved").exclude(current_province=bac_ninh).first()
    assert other.code not in provincial


def _image_bytes(fmt, colour):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), colour).save(buffer, fmt)
    return buffer.getvalue()


def test_bien_ban_embeds_its_photos_and_lists_its_documents(users, media_root, no_dispatch, tmp_path):
    """Photos uploaded to a record are printed in the biên bản (through the per-render media allowlist);
    documents are listed by name; a 'photo' whose bytes are not an image is left out, not fatal."""
    import subprocess

    from django.core.files.base import ContentFile
    from django.core.files.uploadedfile import SimpleUploadedFile

    from reports.inspection_services import inspection_attachment_add
    from reports.models import InspectionAttachment
    from tests.khuyencong.factories import admin_user

    build_year(year=2025, n_de_an=3, n_records=1)
    record = InspectionRecord.objects.get()
    actor = admin_user()
    inspection_attachment_add(actor=actor, record=record, file=SimpleUploadedFile("may-say.png", _image_bytes("PNG", "navy")),
                              description="Máy sấy nông sản đã lắp đặt")
    inspection_attachment_add(actor=actor, record=record, file=SimpleUploadedFile("nha-xuong.jpg", _image_bytes("JPEG", "olive")),
                              description="Nhà xưởng <script>x</script>")
    inspection_attachment_add(actor=actor, record=record, file=SimpleUploadedFile("hoa-don.pdf", b"%PDF-1.4 tiny"),
                              description="Hóa đơn mua máy")
    forged = InspectionAttachment(record=record, is_photo=True, original_name="gia.png", size=9, content_type="image/png",
                                  description="Ảnh giả")
    forged.file.save("gia.png", ContentFile(b"not a png"), save=True)
    job = services.report_request(user=users["reviewer"], kind="record", year=2025, target_id=record.pk)
    assert set(services.report_media(job)) == {f"kc-media:{a.pk}" for a in record.attachments.filter(is_photo=True).exclude(pk=forged.pk)}
    services.report_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    text = " ".join(pdf_text(job.file.path).split())
    assert "HÌNH ẢNH KIỂM TRA" in text and "Ảnh giả" not in text
    assert "ĐẠI DIỆN ĐOÀN KIỂM TRA" in text and "Trần Thị Bình" in text
    assert "Ảnh 1. Máy sấy nông sản đã lắp đặt" in text and "Nhà xưởng <script>x</script>" in text
    assert "TÀI LIỆU KÈM THEO" in text.upper() and "hoa-don.pdf – Hóa đơn mua máy" in text
    images = subprocess.run(["pdfimages", "-list", job.file.path], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in images.splitlines()[2:] if line.strip()]
    assert sorted((r[3], r[4]) for r in rows) == [("320", "200"), ("320", "200")]  # the two real photos, nothing else


def test_media_urls_resolve_only_for_the_render_they_were_given_to():
    from reports import pdf

    fetcher = pdf.make_fetcher(media={"kc-media:7": (b"\x89PNG\r\n\x1a\nxx", "image/png")})
    response = fetcher.fetch("kc-media:7")
    assert response.read().startswith(b"\x89PNG") and response.content_type == "image/png"
    for url in ("kc-media:8", "kc-media:../../etc/passwd", "kc-media:7/../8"):
        with pytest.raises(pdf.RefusedURL):
            fetcher.fetch(url)
    with pytest.raises(pdf.RefusedURL):
        pdf.make_fetcher().fetch("kc-media:7")


def test_failed_job_says_what_to_do_and_is_asked_again_with_one_click(client, users, media_root, django_capture_on_commit_callbacks):
    """A failed job's page explains in Vietnamese and offers «Tạo lại báo cáo»: the same kind, year,
    province and grouping posted again (rights checked anew), a new job that runs to the end."""
    import re

    build_year(year=2025, n_de_an=6, n_records=0, provinces=[province("24")])
    key = services.request_key(kind="province", year=2025, province_id=province("24").pk, grouping=Grouping.HISTORICAL)
    failed = ReportJob.objects.create(kind="province", year=2025, province=province("24"), grouping=Grouping.HISTORICAL,
                                      request_key=key, status=JobStatus.FAILED, requested_by=users["bac_ninh"],
                                      error="Máy chủ đã hết chỗ lưu tệp nên chưa lưu được báo cáo.")
    client.force_login(users["bac_ninh"])
    page = client.get(reverse("reports:job_detail", args=[failed.pk])).content.decode()
    assert "Không tạo được báo cáo." in page and "Máy chủ đã hết chỗ lưu tệp" in page
    assert f"nếu lỗi lặp lại, vui lòng báo quản trị hệ thống kèm mã yêu cầu số {failed.pk}" in page
    form = re.search(r'<form method="post" action="([^"]+)" id="rerun-form">(.*?)</form>', page, re.S)
    assert form and form.group(1) == reverse("reports:request") and "Tạo lại báo cáo" in form.group(2)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form.group(2)))
    assert fields == {"csrfmiddlewaretoken": fields["csrfmiddlewaretoken"], "kind": "province", "year": "2025",
                      "province": str(province("24").pk), "grouping": "historical", "record": "",
                      "signer_name": ""}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(form.group(1), fields)
    again = ReportJob.objects.exclude(pk=failed.pk).get()
    assert response.status_code == 302 and response["Location"] == reverse("reports:job_detail", args=[again.pk])
    assert (again.kind, again.year, again.province_id, again.grouping) == ("province", 2025, province("24").pk, "historical")
    assert again.status == JobStatus.DONE, again.error
    assert "Tạo lại báo cáo" not in client.get(response["Location"]).content.decode()


def test_historical_appendix_lists_each_recorded_province_once_with_its_subtotal(users, media_root, no_dispatch):
    """New Bắc Ninh kept old Bắc Giang's code 24, so a list ordered by province code alone interleaved
    the đề án recorded under the two: Phụ lục printed «Tỉnh Bắc Ninh (2)», «Tỉnh Bắc Giang (1)»,
    «Tỉnh Bắc Ninh (2)» … dozens of fragments, each with a partial subtotal."""
    from projects.models import DeAn
    from reports import selectors

    bac_ninh = province("24")
    build_year(year=2025, n_de_an=30, n_records=0, provinces=[bac_ninh])
    groups = selectors.de_an_list(2025, Grouping.HISTORICAL, bac_ninh)
    recorded = DeAn.objects.filter(plan_year=2025, current_province=bac_ninh, status__in=selectors.IMPLEMENTED_STATUSES)
    by_province = {}
    for d in recorded:
        by_province.setdefault(d.province_id, []).append(d)
    assert len(by_province) >= 2  # the current province and at least one former one
    assert [g["province"].pk for g in groups] == sorted({g["province"].pk for g in groups}, key=[g["province"].pk for g in groups].index)
    assert len(groups) == len(by_province)
    for g in groups:
        rows = by_province[g["province"].pk]
        assert sorted(d.code for d in g["rows"]) == sorted(d.code for d in rows)
        assert g["total"] == sum(d.total_amount for d in rows) and g["national"] == sum(d.national_amount for d in rows)
    job = services.report_request(user=users["reviewer"], kind="province", year=2025, province=bac_ninh, grouping=Grouping.HISTORICAL)
    services.report_run(job_id=job.pk)
    job.refresh_from_db()
    text = " ".join(pdf_text(job.file.path).split())
    for g in groups:
        assert text.count(f"{g['province'].era_full_name} ({len(g['rows'])})") == 1  # «Tỉnh Bắc Giang (cũ) (5)»


def test_section_ii_labels_its_first_column_as_the_content_code(users, media_root, no_dispatch):
    """Its rows carry the activity codes («1, 3» when no đề án has content 2): the column says «Mã nội
    dung», not «TT», so a missing code does not read as a missing row."""
    build_year(year=2025, n_de_an=12, n_records=0)
    job = services.report_request(user=users["reviewer"], kind="national", year=2025)
    services.report_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    html = services.report_html(job)
    section = html.split("II. Đề án theo nội dung hoạt động", 1)[1].split("III. Đề án theo tỉnh", 1)[0]
    assert "<th>Mã nội dung</th>" in section and "<th>TT</th>" not in section
    text = " ".join(pdf_text(job.file.path).split())
    section_text = text.split("II. ĐỀ ÁN THEO NỘI DUNG HOẠT ĐỘNG", 1)[1].split("III. ĐỀ ÁN THEO TỈNH", 1)[0]
    assert "Mã nội" in section_text and "TT " not in section_text
