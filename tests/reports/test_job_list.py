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
