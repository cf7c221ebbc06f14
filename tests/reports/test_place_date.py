"""The place-and-date line and running text name a province as NĐ 30/2020 writes it: «Bắc Ninh, ngày …»,
but a place named after a person in full, «Thành phố Hồ Chí Minh, ngày …»; in running text the kind is
lower case («UBND tỉnh Bắc Ninh», «UBND thành phố Hà Nội»)."""
from datetime import date
from unittest import mock

import pytest

from khuyencong.models import Province
from reports import selectors, services
from reports.models import ReportJob
from tests.reports import inspection_factories as f
from tests.reports.conftest import pdf_text

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore"), pytest.mark.usefixtures("eager_celery")]
DAY = date(2026, 1, 15)


def _province_job(code):
    province = Province.objects.current().get(code=code)
    return ReportJob(kind="province", year=2025, grouping="current", province=province, issued_on=DAY)


@pytest.mark.parametrize("code, place, ubnd, scope", [
    ("24", "Bắc Ninh", "UBND tỉnh Bắc Ninh", "tỉnh Bắc Ninh"),
    ("01", "Hà Nội", "UBND thành phố Hà Nội", "thành phố Hà Nội"),
    ("79", "Thành phố Hồ Chí Minh", "UBND Thành phố Hồ Chí Minh", "Thành phố Hồ Chí Minh"),
])
def test_province_report_place_date_recipients_and_scope(code, place, ubnd, scope):
    job = _province_job(code)
    doc = selectors.document_header(job)
    assert doc["place_date"] == f"{place}, ngày 15 tháng 01 năm 2026"
    assert ubnd in doc["recipients"] and not any("UBND Tỉnh" in line for line in doc["recipients"])
    assert selectors.annual_report_context(job)["scope"] == scope


def test_bien_ban_in_ho_chi_minh_city_is_dated_with_the_citys_full_name(db):
    reviewer = f.reviewer()
    d = f.de_an("79")
    mission = f.mission(reviewer, f.plan(reviewer), [d], provinces=("79",))
    record = f.record(reviewer, d, mission)
    job = ReportJob(kind="record", year=record.inspected_on.year, target_id=record.pk, grouping="current")
    doc = selectors.record_context(job)["doc"]
    assert doc["place_date"].startswith("Thành phố Hồ Chí Minh, ngày ")


def test_ho_chi_minh_city_report_pdf(users, media_root):
    hcm = Province.objects.current().get(code="79")
    with mock.patch.object(services, "report_dispatch", return_value=True):
        job = services.report_request(user=users["reviewer"], kind="province", year=2025, province=hcm)
    services.report_run(job_id=job.pk)
    job.refresh_from_db()
    text = " ".join(pdf_text(job.file.path).split())
    assert "Thành phố Hồ Chí Minh, ngày" in text and "UBND Thành phố Hồ Chí Minh" in text
    assert "Hồ Chí Minh, ngày" not in text.replace("Thành phố Hồ Chí Minh, ngày", "")
