"""The report page's list of jobs: every job the account may see is reachable (pages instead of the
50 newest), filters by kind, year and state, the scope of a local account, and wrong query strings."""
import pytest
from django.urls import reverse

from khuyencong.models import Province
from reports.models import JobStatus, ReportJob, ReportKind

pytestmark = pytest.mark.django_db


def _job(kind, year, status=JobStatus.DONE, province=None):
    n = ReportJob.objects.count()
    return ReportJob.objects.create(kind=kind, year=year, status=status, province=province,
                                    request_key=f"{kind}:{year}:{province.pk if province else '-'}:{n}",
                                    file=f"bao-cao/{n}.pdf" if status == JobStatus.DONE else "")


@pytest.fixture
def bac_ninh():
    return Province.objects.current().get(code="24")


def test_older_jobs_are_on_later_pages(client, users):
    jobs = [_job(ReportKind.NATIONAL, 2000 + i) for i in range(60)]
    client.force_login(users["reviewer"])
    first = client.get(reverse("reports:job_list")).content.decode()
    assert "1–25 trong 60" in first
    third = client.get(reverse("reports:job_list"), {"page": "3"}).content.decode()
    assert "51–60 trong 60" in third
    oldest = jobs[0]
    assert reverse("reports:job_detail", args=[oldest.pk]) in third  # the 60th newest: unreachable before
    assert reverse("reports:job_detail", args=[oldest.pk]) not in first


def test_filters_by_kind_year_and_state(client, users, bac_ninh):
    national = _job(ReportKind.NATIONAL, 2025)
    province = _job(ReportKind.PROVINCE, 2025, province=bac_ninh)
    older = _job(ReportKind.PROVINCE, 2024, province=bac_ninh, status=JobStatus.FAILED)
    client.force_login(users["reviewer"])

    def shown(**params):
        body = client.get(reverse("reports:job_list"), params).content.decode()
        return {job for job in (national, province, older) if reverse("reports:job_detail", args=[job.pk]) in body}

    assert shown() == {national, province, older}
    assert shown(kind="province") == {province, older}
    assert shown(kind="province", year="2025") == {province}
    assert shown(status="failed") == {older}
    body = client.get(reverse("reports:job_list"), {"year": "2023"}).content.decode()
    assert "Không có báo cáo nào khớp với bộ lọc." in body and "Bỏ lọc" in body


def test_a_local_account_pages_through_its_own_province_only(client, users, bac_ninh):
    ha_noi = Province.objects.current().get(code="01")
    own = [_job(ReportKind.PROVINCE, 2000 + i, province=bac_ninh) for i in range(30)]
    other = _job(ReportKind.PROVINCE, 2025, province=ha_noi)
    national = _job(ReportKind.NATIONAL, 2025)
    client.force_login(users["bac_ninh"])
    pages = [client.get(reverse("reports:job_list"), {"page": p}).content.decode() for p in ("1", "2")]
    assert "1–25 trong 30" in pages[0] and "26–30 trong 30" in pages[1]
    both = "".join(pages)
    assert all(reverse("reports:job_detail", args=[job.pk]) in both for job in own)
    assert reverse("reports:job_detail", args=[other.pk]) not in both
    assert reverse("reports:job_detail", args=[national.pk]) not in both
    # A filter cannot widen the scope.
    body = client.get(reverse("reports:job_list"), {"kind": "national"}).content.decode()
    assert reverse("reports:job_detail", args=[national.pk]) not in body


@pytest.mark.parametrize("params", [{"page": "999"}, {"page": "abc"}, {"year": "hai nghìn"}, {"kind": "<b>đậm</b>"},
                                    {"status": "x" * 500}])
def test_wrong_query_strings_still_show_the_page(client, users, params):
    _job(ReportKind.NATIONAL, 2025)
    client.force_login(users["reviewer"])
    response = client.get(reverse("reports:job_list"), params)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<b>đậm</b>" not in body  # echoed escaped in the error, never as markup
    if "page" not in params:
        assert 'class="field-error"' in body  # the wrong filter is named, the list stays unfiltered


def test_a_refused_request_keeps_the_list_below(client, users):
    job = _job(ReportKind.NATIONAL, 2025)
    client.force_login(users["reviewer"])
    response = client.post(reverse("reports:request"), {"kind": "province", "year": "2025"})
    assert response.status_code == 400
    assert reverse("reports:job_detail", args=[job.pk]) in response.content.decode()


def test_queries_do_not_grow_with_the_jobs(client, users, bac_ninh, django_assert_max_num_queries):
    client.force_login(users["reviewer"])
    _job(ReportKind.PROVINCE, 2025, province=bac_ninh)
    client.get(reverse("reports:job_list"))
    with django_assert_max_num_queries(30) as few:
        client.get(reverse("reports:job_list"))
    for i in range(24):
        _job(ReportKind.PROVINCE, 2000 + i, province=bac_ninh)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("reports:job_list"))


# --- biên bản jobs: which record, and no data grouping ------------------------------------------------------

def _record_job(record, status=JobStatus.DONE):
    n = ReportJob.objects.count()
    return ReportJob.objects.create(kind=ReportKind.RECORD, year=record.inspected_on.year, status=status,
                                    province=record.de_an.current_province, target_id=record.pk,
                                    request_key=f"record:{record.pk}:{n}", file=f"bao-cao/{n}.pdf" if status == JobStatus.DONE else "")


@pytest.fixture
def two_records(users):
    from datetime import date

    from tests.reports import inspection_factories as f

    d1, d2 = f.de_an("24"), f.de_an("24")
    plan = f.plan(users["reviewer"])
    mission = f.mission(users["reviewer"], plan, [d1, d2])
    return (f.record(users["reviewer"], d1, mission, inspected_on=date(2026, 3, 10)),
            f.record(users["reviewer"], d2, mission, inspected_on=date(2026, 3, 12)))


def test_two_bien_ban_jobs_of_one_province_and_year_are_told_apart(client, users, two_records):
    first, second = two_records
    jobs = [_record_job(first), _record_job(second)]
    for user in (users["reviewer"], users["bac_ninh"]):
        client.force_login(user)
        body = client.get(reverse("reports:job_list")).content.decode()
        assert f"Đề án {first.de_an.code}, kiểm tra ngày 10/03/2026" in body
        assert f"Đề án {second.de_an.code}, kiểm tra ngày 12/03/2026" in body
        assert f"Tải PDF: Biên bản kiểm tra đề án {first.de_an.code} ngày 10/03/2026" in body
        assert all(reverse("reports:job_detail", args=[job.pk]) in body for job in jobs)


def test_a_bien_ban_job_names_its_record_and_no_data_grouping(client, users, two_records, bac_ninh):
    first, _ = two_records
    job = _record_job(first)
    client.force_login(users["bac_ninh"])
    body = client.get(reverse("reports:job_detail", args=[job.pk])).content.decode()
    assert "Nhóm số liệu" not in body and "Theo tỉnh" not in body
    assert f"Đề án {first.de_an.code}, kiểm tra ngày 10/03/2026" in body
    assert reverse("reports:inspection_record", args=[first.pk]) in body
    # Other reports still say how their figures are grouped.
    province = _job(ReportKind.PROVINCE, 2025, province=bac_ninh)
    assert "Nhóm số liệu" in client.get(reverse("reports:job_detail", args=[province.pk])).content.decode()


def test_a_deleted_record_leaves_its_job_listed(client, users, two_records):
    first, _ = two_records
    job = _record_job(first, status=JobStatus.FAILED)
    first.recommendations.all().delete()
    first.delete()
    client.force_login(users["reviewer"])
    assert reverse("reports:job_detail", args=[job.pk]) in client.get(reverse("reports:job_list")).content.decode()
    assert client.get(reverse("reports:job_detail", args=[job.pk])).status_code == 200


def test_bien_ban_jobs_cost_one_query_per_page(client, users, two_records, django_assert_max_num_queries):
    client.force_login(users["reviewer"])
    _record_job(two_records[0])
    client.get(reverse("reports:job_list"))
    with django_assert_max_num_queries(30) as few:
        client.get(reverse("reports:job_list"))
    for _ in range(12):
        for record in two_records:
            _record_job(record)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("reports:job_list"))


def test_a_running_job_shows_how_far_it_got_in_the_list(client, users):
    running = _job(ReportKind.NATIONAL, 2025, status=JobStatus.RUNNING)
    ReportJob.objects.filter(pk=running.pk).update(progress=40)
    _job(ReportKind.NATIONAL, 2024, status=JobStatus.QUEUED)
    client.force_login(users["reviewer"])
    page = client.get(reverse("reports:job_list")).content.decode()
    assert '<span class="status status-running">Đang tạo</span> <span class="muted small">40 %</span>' in page
    assert page.count('<span class="muted small">') == page.count("40 %")  # only the running one
