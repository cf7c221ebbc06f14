"""The signer's name printed under the signature: asked for with the report, kept on the job, carried by
«Tạo lại báo cáo»; another signer is another document; bad names refused in Vietnamese, nothing made."""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from reports import selectors, services
from reports.models import JobStatus, ReportJob
from tests.reports.conftest import pdf_text

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore"), pytest.mark.usefixtures("eager_celery")]

SIGNER = "Nguyễn Thị Thu Hà"


def test_the_name_is_printed_under_the_signature(users, media_root, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.report_request(user=users["reviewer"], kind="national", year=2025, signer_name=f"  {SIGNER} ")
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.signer_name == SIGNER
    text = pdf_text(job.file.path)
    assert SIGNER in text and text.index("PHÓ CỤC TRƯỞNG") < text.index(SIGNER)
    # Without a name the line stays empty, for the name to be written by hand.
    header = selectors.document_header(ReportJob(kind="national", year=2025))
    assert header["signer_name"] == ""


def test_another_signer_is_another_document(users, monkeypatch):
    monkeypatch.setattr(services, "report_dispatch", lambda job_id: True)  # keep them queued
    a = services.report_request(user=users["reviewer"], kind="national", year=2025, signer_name=SIGNER)
    same = services.report_request(user=users["reviewer"], kind="national", year=2025, signer_name=SIGNER)
    other = services.report_request(user=users["reviewer"], kind="national", year=2025, signer_name="Trần Văn Nam")
    unsigned = services.report_request(user=users["reviewer"], kind="national", year=2025)
    assert same.pk == a.pk and same.joined
    assert len({a.pk, other.pk, unsigned.pk}) == 3


@pytest.mark.parametrize(("name", "message"), [
    ("A" * 101, "dài quá 100 ký tự"),
    ("\x01=HYPERLINK(\"x\")", "ký tự điều khiển"),
])
def test_a_bad_name_is_refused_and_nothing_is_made(users, name, message):
    with pytest.raises(ValidationError, match=message):
        services.report_request(user=users["reviewer"], kind="national", year=2025, signer_name=name)
    assert not ReportJob.objects.exists()


def test_the_page_asks_for_it_and_the_rerun_keeps_it(users, client, media_root):
    client.force_login(users["reviewer"])
    page = client.get(reverse("reports:job_list")).content.decode()
    assert 'name="signer_name"' in page and "Họ tên người ký" in page
    response = client.post(reverse("reports:request"), {"kind": "national", "year": 2025, "grouping": "current",
                                                        "signer_name": SIGNER})
    job = ReportJob.objects.get()
    assert response.status_code == 302 and job.signer_name == SIGNER
    ReportJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error="thử")
    detail = client.get(reverse("reports:job_detail", args=[job.pk])).content.decode()
    assert f'name="signer_name" value="{SIGNER}"' in detail
