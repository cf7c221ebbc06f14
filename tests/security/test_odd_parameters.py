"""Query parameters no form would send — a NUL byte (``%00``), digits Python reads but int() refuses
(«²») — get the portal's 400 page or are ignored; never a server error. PostgreSQL refuses NUL in
text, so the check has to come before any view builds a query."""
import pytest
from django.urls import reverse

from khuyencong.models import Province

pytestmark = pytest.mark.django_db

NUL = "\x00"


def _pages():
    return [
        (reverse("projects:list"), {"q": NUL}),
        (reverse("projects:list"), {"q": f"mây{NUL}tre"}),
        (reverse("projects:export"), {"q": f"12{NUL}3"}),
        (reverse("projects:establishment_options"), {"q": NUL}),
        (reverse("province_search"), {"era": NUL}),
        (reverse("dashboards:national"), {"programme": NUL}),
        (reverse("projects:list"), {f"q{NUL}": "x"}),
    ]


@pytest.mark.parametrize("role", ["reviewer", "admin", "centre"])
def test_a_nul_in_the_query_string_gets_the_400_page(client, users, role):
    client.force_login(getattr(users, role))
    for url, params in _pages():
        response = client.get(url, params)
        assert response.status_code == 400, (url, params, response.status_code)
        assert "Yêu cầu không hợp lệ" in response.content.decode()


def test_a_nul_in_the_path_gets_the_400_page(client, users):
    client.force_login(users.admin)
    for path in ("/tong-quan/tinh/%00/", "/kinh-phi/tinh/%00/2026/", "/de-an/%00/"):
        response = client.get(path)
        assert response.status_code == 400, path


def test_ordinary_searches_still_work(client, users):
    client.force_login(users.reviewer)
    assert client.get(reverse("projects:list"), {"q": "mây tre"}).status_code == 200
    code = Province.objects.filter(era="current").values_list("code", flat=True).first()
    assert client.get(reverse("dashboards:province", args=[code])).status_code == 200


@pytest.mark.parametrize("params", [{"year": "²"}, {"year": "٣"}, {"year": "99999999999999999999"}, {"year": "-1"}])
def test_inspection_plan_list_ignores_a_year_int_cannot_read(client, users, params):
    client.force_login(users.reviewer)
    response = client.get(reverse("reports:inspection_plans"), params)
    assert response.status_code == 200


@pytest.mark.parametrize("params", [{"mission": "²"}, {"de_an": "²"}, {"mission": "١٢"}])
def test_new_record_page_ignores_ids_int_cannot_read(client, users, params):
    client.force_login(users.reviewer)
    response = client.get(reverse("reports:inspection_record_create"), params)
    assert response.status_code == 200


@pytest.mark.parametrize("role", ["reviewer", "centre"])
@pytest.mark.parametrize("value", ["99999999999999999999999", "9" * 400])
def test_a_filter_number_past_64_bits_is_ignored(client, users, role, value):
    """The đề án list, its export and the queue drop such a value like any malformed one (SQLite could not
    bind it: a 500 on the bare-machine set-up; khuyencong.security.whole_numbers)."""
    client.force_login(getattr(users, role))
    pages = {
        reverse("projects:list"): ("year", "province", "current_province", "content", "implementing_unit", "programme"),
        reverse("projects:queue"): ("year", "province", "current_province"),
        reverse("projects:export"): ("year", "province", "current_province"),
    }
    for url, names in pages.items():
        for name in names:
            response = client.get(url, {name: value})
            assert response.status_code in (200, 302), (url, name, response.status_code)
