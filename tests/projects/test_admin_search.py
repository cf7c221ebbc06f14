"""The admin's đề án and establishment lists search as the portal's lists do: diacritics, case and
«Hoà»/«Hòa» ignored, every word needed, quoted phrases kept whole; establishments also by tax code."""
import pytest
from django.urls import reverse

from tests.khuyencong.factories import admin_user
from tests.projects.factories import EstablishmentFactory, ready_de_an

pytestmark = pytest.mark.django_db

DE_AN_LIST = reverse("admin:projects_dean_changelist")
ESTABLISHMENT_LIST = reverse("admin:projects_establishment_changelist")


def _found(client, url, q):
    response = client.get(url, {"q": q})
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


def test_de_an_search_ignores_diacritics_and_finds_by_code(client):
    admin = admin_user()
    client.force_login(admin)
    hoa_binh = ready_de_an(admin, name="Đề án điểm phát triển mây tre đan Hòa Bình")
    hoa_binh_old_accent = ready_de_an(admin, name="Hỗ trợ máy sấy chè xã Hoà Bình")
    other = ready_de_an(admin, name="Hỗ trợ thiết bị dệt thổ cẩm Mường Lát")

    assert _found(client, DE_AN_LIST, "hoa binh") == {hoa_binh.pk, hoa_binh_old_accent.pk}
    assert _found(client, DE_AN_LIST, "HÒA BÌNH") == {hoa_binh.pk, hoa_binh_old_accent.pk}
    assert _found(client, DE_AN_LIST, "phat trien hoa binh") == {hoa_binh.pk}
    assert _found(client, DE_AN_LIST, "say che hoa binh") == {hoa_binh_old_accent.pk}
    assert _found(client, DE_AN_LIST, '"binh may"') == set()  # a quoted phrase stays whole
    assert _found(client, DE_AN_LIST, "det tho cam") == {other.pk}
    assert _found(client, DE_AN_LIST, other.code) == {other.pk}
    assert _found(client, DE_AN_LIST, "   ") == {hoa_binh.pk, hoa_binh_old_accent.pk, other.pk}
    page = client.get(DE_AN_LIST).content.decode()
    assert "không cần gõ dấu" in page


def test_establishment_search_by_name_without_diacritics_or_by_tax_code(client):
    client.force_login(admin_user())
    dong_hoa = EstablishmentFactory(name="Hợp tác xã Mây tre đan Đông Hòa", tax_code="2300123456")
    gom = EstablishmentFactory(name="Công ty TNHH Gốm Phù Lãng", tax_code="2300999999")

    assert _found(client, ESTABLISHMENT_LIST, "dong hoa") == {dong_hoa.pk}
    assert _found(client, ESTABLISHMENT_LIST, "gom phu lang") == {gom.pk}
    assert _found(client, ESTABLISHMENT_LIST, "2300999999") == {gom.pk}
    assert _found(client, ESTABLISHMENT_LIST, "2300") == set()  # a tax code is matched whole
    assert _found(client, ESTABLISHMENT_LIST, "khong co ai") == set()
