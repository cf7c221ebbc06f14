"""Province lists on the report and inspection screens are in one order, Vietnamese alphabetical: base
letters first (đ after d, ă â after a…), then tones — «Cà Mau» before «Cao Bằng», «Hà Nội» before «Huế»."""
import re

import pytest
from django.urls import reverse

from khuyencong.models import Province
from reports.selectors import in_vietnamese_order, province_choices, vietnamese_key
from tests.reports import inspection_factories as f

pytestmark = pytest.mark.django_db


def test_vietnamese_key_orders_letters_then_tones():
    names = ["Huế", "Cao Bằng", "Đồng Nai", "Hà Nội", "Cà Mau", "Điện Biên", "Đà Nẵng", "Đắk Lắk", "Bắc Ninh",
             "An Giang", "Thanh Hóa", "Thái Nguyên", "Hưng Yên", "TP. Hồ Chí Minh", "Dak Xa", "Ca Mau"]
    assert sorted(names, key=vietnamese_key) == [
        "An Giang", "Bắc Ninh", "Ca Mau", "Cà Mau", "Cao Bằng", "Dak Xa", "Đà Nẵng", "Đắk Lắk", "Điện Biên",
        "Đồng Nai", "Hà Nội", "Huế", "Hưng Yên", "Thái Nguyên", "Thanh Hóa", "TP. Hồ Chí Minh"]
    # NFD spelling and case do not change the place.
    import unicodedata
    assert vietnamese_key(unicodedata.normalize("NFD", "Cà Mau"))[:2] == vietnamese_key("CÀ MAU")[:2]


def test_province_choices_are_every_current_province_in_vietnamese_order():
    names = [p.name for p in province_choices()]
    assert names == [p.name for p in in_vietnamese_order(Province.objects.current())]
    assert len(names) == Province.objects.current().count()
    assert sorted(names, key=vietnamese_key) == names
    for before, after in (("Cà Mau", "Cao Bằng"), ("Hà Nội", "Huế")):
        if before in names and after in names:
            assert names.index(before) < names.index(after)


def _options(body, name):
    """The names a list offers: a <select>'s options, or a list of ticked boxes (the mission form's)."""
    boxes = f'<ul class="pick-options" id="id_{name}_options">'
    if boxes in body:
        start = body.index(boxes)
        return re.findall(rf'<input type="checkbox" name="{name}" value="\d+"[^>]*><span>([^<]+)</span></label>',
                          body[start:body.index("</ul>", start)])
    start = body.index(f'name="{name}"')
    return re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', body[start:body.index("</select>", start)])


def test_every_province_list_of_the_reports_has_the_same_order(client):
    reviewer = f.reviewer()
    plan = f.plan(reviewer)
    client.force_login(reviewer)
    expected = [str(p) for p in province_choices()]  # «Tỉnh Cao Bằng»: shown in full, sorted by name
    pages = [(reverse("reports:inspection_mission_create", args=[plan.pk]), "provinces"),
             (reverse("reports:inspection_recommendations"), "province"),
             (reverse("reports:inspection_records"), "province"),
             (reverse("reports:job_list"), "province")]
    for url, field in pages:
        body = client.get(url).content.decode()
        assert [o.strip() for o in _options(body, field)] == expected, url
