"""A đề án recorded under a province of the map before 01/07/2025 says so: «Bắc Ninh (cũ)» — the old
Bắc Ninh (27) and today's Bắc Ninh (24, formerly Bắc Giang's code) share a name, so «Bắc Ninh (khi
đăng ký: Bắc Ninh)» told the reader nothing. In the list, the detail, the money page and both exports."""
import io

import openpyxl
import pytest
from django.urls import reverse

from funding.models import Commitment
from khuyencong.models import Province
from projects import services

from .factories import allocate

pytestmark = pytest.mark.django_db


@pytest.fixture
def old(users):
    former = Province.objects.get(code="27", era="former")
    return services.de_an_create(actor=users.admin, name="Đề án năm 2023 của Bắc Ninh cũ", level="kcqg",
                                 plan_year=2023, province=former)


def test_names():
    assert Province.objects.get(code="27", era="former").era_name == "Bắc Ninh (cũ)"
    assert Province.objects.get(code="27", era="former").era_full_name == "Tỉnh Bắc Ninh (cũ)"
    assert Province.objects.get(code="24", era="current").era_full_name == "Tỉnh Bắc Ninh"


def test_list_and_detail(users, client_as, old):
    client = client_as(users.centre)
    assert "(khi đăng ký: Bắc Ninh (cũ))" in client.get(reverse("projects:list")).content.decode()
    detail = client.get(reverse("projects:detail", args=[old.pk])).content.decode()
    assert "Tỉnh Bắc Ninh (cũ)" in detail


def test_exports(users, client_as, old):
    client = client_as(users.reviewer)
    book = openpyxl.load_workbook(io.BytesIO(b"".join(client.get(reverse("projects:export")).streaming_content)))
    values = [c.value for row in book.active.iter_rows() for c in row]
    assert "Bắc Ninh (cũ)" in values and "Bắc Ninh" in values
    allocation = allocate(old)
    Commitment.objects.create(de_an=old, allocation=allocation, amount=1_000_000)
    book = openpyxl.load_workbook(io.BytesIO(
        client.get(reverse("funding:export_commitments"), {"nam": 2023}).content))
    values = [c.value for row in book.active.iter_rows() for c in row]
    assert "Tỉnh Bắc Ninh (cũ)" in values and "Tỉnh Bắc Ninh" in values


def _queries(client, url, params=None):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_label_costs_no_query_per_row(users, client_as, old):
    """«(cũ)» reads the province's era: it is loaded with the row (the list reads only the columns it
    shows, and a missing one cost a query per đề án recorded under a former province)."""
    client = client_as(users.reviewer)
    pages = [(reverse("projects:list"), None), (reverse("projects:export"), None),
             (reverse("funding:export_commitments"), {"nam": 2023})]
    allocation = allocate(old)
    Commitment.objects.create(de_an=old, allocation=allocation, amount=1_000_000)
    for url, params in pages:  # the filters' lists, cached per process, read once before measuring
        _queries(client, url, params)
    before = [_queries(client, url, params) for url, params in pages]
    for code in ("02", "06", "17"):  # Hà Giang, Bắc Kạn, Hòa Bình: merged into other provinces
        former = Province.objects.get(code=code, era="former")
        d = services.de_an_create(actor=users.admin, name=f"Đề án cũ {code}", level="kcqg", plan_year=2023,
                                  province=former)
        Commitment.objects.create(de_an=d, allocation=allocate(d), amount=1_000_000)
    assert [_queries(client, url, params) for url, params in pages] == before
