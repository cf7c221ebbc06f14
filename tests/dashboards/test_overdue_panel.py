"""The «Kiến nghị sau kiểm tra đã quá hạn» panel of a province's dashboard lists that province's
recommendations only — also when ministry staff (who see every province) open the page."""
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from khuyencong.models import Province
from reports.models import FollowUp, Recommendation

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    from types import SimpleNamespace

    from tests.khuyencong.factories import province_user, reviewer
    from tests.reports.factories import build_year

    build_year(year=2024, n_de_an=40, n_records=12)  # deadlines 30/09/2024: long past, 12 provinces
    return SimpleNamespace(reviewer=reviewer(), province=province_user("24"))


def _overdue(province=None):
    """Overdue recommendations, computed from the rows: {id} of đề án now in ``province`` (all if None)."""
    today = timezone.localdate()
    return {r.pk for r in Recommendation.objects.select_related("record__de_an")
            if r.status != FollowUp.CLOSED and r.deadline and r.deadline < today
            and (province is None or r.record.de_an.current_province_id == province.pk)}


def _panel(page):
    section = re.search(r'<section class="card" aria-labelledby="h-overdue">(.*?)</section>', page, re.S).group(1)
    count = int(re.search(r'<span class="badge">(\d+)</span>', section).group(1))
    ids = {int(pk) for pk in re.findall(r'/kiem-tra/kien-nghi/(\d+)/', section)}
    return count, ids, section


@pytest.mark.parametrize("who", ["reviewer", "province"])
def test_province_page_lists_only_that_provinces_overdue_recommendations(client, people, who):
    bac_ninh = Province.objects.current().get(code="24")
    mine = _overdue(bac_ninh)
    assert mine and _overdue() - mine  # other provinces have overdue ones too
    client.force_login(getattr(people, who))
    count, ids, _section = _panel(client.get(reverse("dashboards:province", args=["24"])).content.decode())
    assert count == len(mine) and ids == mine


def test_province_page_without_overdue_recommendations_says_so(client, people):
    ca_mau = Province.objects.current().get(code="96")
    assert not _overdue(ca_mau) and _overdue()
    client.force_login(people.reviewer)
    count, ids, section = _panel(client.get(reverse("dashboards:province", args=["96"])).content.decode())
    assert count == 0 and not ids and "Không có kiến nghị nào quá hạn." in section


def test_panel_selector_narrows_to_the_province_and_links_its_list(people):
    from reports.home import overdue_recommendations

    bac_ninh = Province.objects.current().get(code="24")
    everywhere = overdue_recommendations(people.reviewer)[0]
    assert everywhere["count"] == len(_overdue())
    assert everywhere["url"].endswith("?overdue=on")
    panel = overdue_recommendations(people.reviewer, province=bac_ninh)[0]
    assert panel["count"] == len(_overdue(bac_ninh))
    assert panel["url"].endswith(f"?overdue=on&province={bac_ninh.pk}")
