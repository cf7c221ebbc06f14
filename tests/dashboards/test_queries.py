"""The dashboards cost a bounded number of queries, whatever the number of đề án."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.scale import seed_scale

pytestmark = pytest.mark.django_db
P = "programme=qd-1881-2021-2025"
NATIONAL_MAX = 30
PROVINCE_MAX = 45


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(ctx.captured_queries)


def test_query_count_bounded_and_independent_of_volume(client, world):
    client.force_login(world.reviewer)
    urls = [f"/tong-quan/toan-quoc/?{P}", f"/tong-quan/toan-quoc/?{P}&grouping=historical",
            f"/tong-quan/tinh/24/?{P}"]
    client.force_login(world.reviewer)
    before = [_count(client, url) for url in urls]
    client.force_login(world.province)
    before_local = _count(client, f"/tong-quan/tinh/24/?{P}")
    seed_scale(600)  # more than twice the đề án
    client.force_login(world.reviewer)
    after = [_count(client, url) for url in urls]
    client.force_login(world.province)
    after_local = _count(client, f"/tong-quan/tinh/24/?{P}")
    assert before == after
    assert before_local == after_local
    assert max(before[:2]) <= NATIONAL_MAX
    assert max(before[2], before_local) <= PROVINCE_MAX


def test_table_and_export_query_counts(client, world):
    client.force_login(world.reviewer)
    for key in ("chi-tieu", "kinh-phi", "tinh", "noi-dung", "trang-thai", "hang-cho"):
        assert _count(client, f"/tong-quan/toan-quoc/bang/{key}/?{P}") <= 14
        assert _count(client, f"/tong-quan/toan-quoc/xuat/{key}/?{P}") <= 14
