"""The mission's and the biên bản's đề án pickers named only the current province: a đề án registered in
Bắc Giang (merged into Bắc Ninh) read «(Bắc Ninh, …)». They now add the province at registration when it
differs, as the đề án pages do, without a query per đề án."""
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from khuyencong.models import Province
from tests.reports import inspection_factories as f


def _registered_in_bac_giang():
    d = f.de_an("24", name="Đề án máy sấy vải thiều Lục Ngạn")
    bac_giang = Province.objects.former().get(name="Bắc Giang")
    d.province = bac_giang
    d.save(update_fields=["province"])
    return d


def test_pickers_show_the_province_at_registration(client, db):
    reviewer = f.reviewer()
    plan = f.plan(reviewer)
    moved = _registered_in_bac_giang()
    stayed = f.de_an("24", name="Đề án máy chẻ nan Bắc Ninh")
    client.force_login(reviewer)

    page = client.get(reverse("reports:inspection_mission_create", args=[plan.pk])).content.decode()
    assert f"{moved.code} – {moved.name} (Bắc Ninh (khi đăng ký: Bắc Giang (cũ)), 2026," in page
    assert f"{stayed.code} – {stayed.name} (Bắc Ninh, 2026," in page

    page = client.get(reverse("reports:inspection_record_create")).content.decode()
    assert f"{moved.code} – {moved.name} (Bắc Ninh (khi đăng ký: Bắc Giang (cũ)))" in page


def test_the_label_costs_no_query_per_de_an(client, db):
    reviewer = f.reviewer()
    plan = f.plan(reviewer)
    client.force_login(reviewer)
    url = reverse("reports:inspection_mission_create", args=[plan.pk])

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    _registered_in_bac_giang()
    few = count()
    for _i in range(5):
        _registered_in_bac_giang()
    assert count() == few
