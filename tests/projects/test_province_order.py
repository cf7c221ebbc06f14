"""The province lists of the đề án and dashboard screens follow the one Vietnamese alphabetical order of
the report screens (tests/reports/test_province_order.py): «Cà Mau» before «Cao Bằng», «Đà Nẵng» after
every «D…», not the database's byte order («Tây Ninh, Vĩnh Long, Điện Biên…»)."""
import re

import pytest
from django.urls import reverse

from khuyencong.models import Province
from khuyencong.textsearch import in_vietnamese_order

from .factories import make_users

pytestmark = pytest.mark.django_db


def _options(body, name):
    start = body.index(f'name="{name}"')
    return [o.strip() for o in
            re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', body[start:body.index("</select>", start)])]


def test_dashboard_list_and_form_give_the_provinces_in_vietnamese_order(client):
    users = make_users()
    names = [p.name for p in in_vietnamese_order(Province.objects.current())]
    assert names.index("Cà Mau") < names.index("Cao Bằng") and names[-1] == "Vĩnh Long"
    client.force_login(users.reviewer)
    dashboard = client.get(reverse("dashboards:national")).content.decode()
    assert _options(dashboard, "province") == names
    listing = client.get(reverse("projects:list")).content.decode()
    assert [o.removeprefix("Tỉnh ").removeprefix("Thành phố ") for o in _options(listing, "current_province")] == names
    client.force_login(users.admin)
    form = client.get(reverse("projects:create")).content.decode()
    shown = _options(form, "province")
    assert len(shown) == len(names)
    assert shown.index(next(s for s in shown if s.endswith("Cà Mau"))) < shown.index(
        next(s for s in shown if s.endswith("Cao Bằng")))
    assert shown[-1].endswith("Vĩnh Long")
