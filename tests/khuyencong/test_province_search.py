"""Finding provinces by code or any usual spelling, and clear errors for unknown ones."""
import unicodedata
from datetime import date

import pytest

from khuyencong.choices import Era
from khuyencong.selectors import ProvinceNotFound, find_province, province_search
from khuyencong.textsearch import fold, fold_province_name, nfc

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "code", "era"),
    [
        ("Bắc Ninh", "24", Era.CURRENT),
        ("bac ninh", "24", Era.CURRENT),
        ("BẮC NINH", "24", Era.CURRENT),
        ("Tỉnh Bắc Ninh", "24", Era.CURRENT),
        ("  tinh   bac   ninh ", "24", Era.CURRENT),
        ("TP. Hồ Chí Minh", "79", Era.CURRENT),
        ("TP.HCM", "79", Era.CURRENT),
        ("Thành phố Hồ Chí Minh", "79", Era.CURRENT),
        ("Sài Gòn", "79", Era.CURRENT),
        ("Thanh pho Ha Noi", "01", Era.CURRENT),
        ("Khánh Hoà", "56", Era.CURRENT),
        ("Khánh Hòa", "56", Era.CURRENT),
        ("Thanh Hoá", "38", Era.CURRENT),
        ("Đắk Lắk", "66", Era.CURRENT),
        ("Dak Lak", "66", Era.CURRENT),
        ("Daklak", "66", Era.CURRENT),
        ("Quangninh", "22", Era.CURRENT),
        ("Tỉnh Laocai", "15", Era.CURRENT),
        ("Huế", "46", Era.CURRENT),
        # Former provinces that have no current namesake are found on the former map.
        ("Hoà Bình", "17", Era.FORMER),
        ("hoa binh", "17", Era.FORMER),
        ("Kiên Giang", "91", Era.FORMER),
        ("Kontum", "62", Era.FORMER),
        ("KonTum", "62", Era.FORMER),
        ("Bà Rịa - Vũng Tàu", "77", Era.FORMER),
        ("Ba Ria Vung Tau", "77", Era.FORMER),
        ("BRVT", "77", Era.FORMER),
        ("Thừa Thiên Huế", "46", Era.FORMER),
        ("24", "24", Era.CURRENT),
        ("1", "01", Era.CURRENT),
    ],
)
def test_find_province_by_any_spelling(text, code, era):
    province = find_province(text)
    assert (province.code, province.era) == (code, era)


def test_nfd_text_is_found():
    nfd = unicodedata.normalize("NFD", "Tỉnh Hòa Bình")
    assert nfd != "Tỉnh Hòa Bình"
    assert find_province(nfd).code == "17"
    assert find_province(unicodedata.normalize("NFD", "Thừa Thiên Huế")).code == "46"


def test_era_and_date_choose_the_map():
    assert find_province("Bắc Ninh", era=Era.FORMER).code == "27"
    assert find_province("Bắc Ninh", on=date(2024, 1, 1)).code == "27"
    assert find_province("Bắc Ninh", on=date(2025, 7, 1)).code == "24"
    assert find_province("24", era=Era.FORMER).name == "Bắc Giang"
    assert find_province("An Giang", era=Era.FORMER).code == "89"
    assert find_province("An Giang").code == "91"


def test_unknown_name_lists_close_matches_in_vietnamese():
    with pytest.raises(ProvinceNotFound) as exc:
        find_province("Bac Nin")
    message = str(exc.value)
    assert "Không tìm thấy tỉnh, thành phố «Bac Nin»" in message
    assert "Tỉnh Bắc Ninh (mã 24)" in message
    assert any("Bắc Ninh" in s for s in exc.value.suggestions)


def test_partial_name_suggests_the_province_containing_it():
    with pytest.raises(ProvinceNotFound) as exc:
        find_province("Vũng Tàu")
    assert any("Bà Rịa – Vũng Tàu" in s for s in exc.value.suggestions)


def test_ha_tay_is_not_a_province_and_points_to_ha_noi():
    with pytest.raises(ProvinceNotFound) as exc:
        find_province("Hà Tây")
    assert exc.value.suggestions[0] == "Thành phố Hà Nội (mã 01)"
    assert "không còn là đơn vị hành chính cấp tỉnh" in str(exc.value)
    with pytest.raises(ProvinceNotFound) as exc:
        find_province("Sông Bé")
    assert exc.value.suggestions == ["Tỉnh Đồng Nai (mã 75)", "Thành phố Hồ Chí Minh (mã 79)"]


def test_unknown_code_suggests_nearest_codes():
    with pytest.raises(ProvinceNotFound) as exc:
        find_province("03")
    assert "«03»" in str(exc.value)
    assert exc.value.suggestions
    assert all("mã 0" in s for s in exc.value.suggestions[:2])


def test_code_of_the_other_map_is_explained():
    with pytest.raises(ProvinceNotFound) as exc:
        find_province("27", era=Era.CURRENT)
    message = str(exc.value)
    assert "trước 01/07/2025" in message
    assert "Tỉnh Bắc Ninh (mã 24)" in exc.value.suggestions


def test_empty_input_is_an_error():
    with pytest.raises(ProvinceNotFound) as exc:
        find_province("   ")
    assert "Chưa nhập" in str(exc.value)
    with pytest.raises(ProvinceNotFound):
        find_province(None)


def test_nonsense_has_no_suggestions_but_a_message():
    with pytest.raises(ProvinceNotFound) as exc:
        find_province("xyzxyz")
    assert exc.value.suggestions == []
    assert str(exc.value) == "Không tìm thấy tỉnh, thành phố «xyzxyz»."


def test_province_search_contains_and_codes():
    names = [p.name for p in province_search("giang", era=Era.FORMER)]
    assert {"Hà Giang", "Bắc Giang", "Tiền Giang", "An Giang", "Kiên Giang", "Hậu Giang"} <= set(names)
    assert [p.code for p in province_search("24", era=Era.CURRENT)] == ["24"]


def test_fold_helpers():
    assert fold("Đắk Lắk") == "dak lak"
    assert fold("Hoà") == fold("Hòa") == "hoa"
    assert fold("Thuỷ") == fold("Thủy")
    assert fold_province_name("Thành phố  Hồ Chí Minh") == "ho chi minh"
    assert fold_province_name("TP. Cần Thơ") == "can tho"
    assert nfc(unicodedata.normalize("NFD", " Hòa  Bình ")) == "Hòa Bình"


def test_nfc_collapses_every_kind_of_white_space():
    """nfc splits with str.split(): every code point the regular expression \\s matches (tabs, NBSP,
    the ideographic space, the line separators …) is collapsed and trimmed, and no other one."""
    import re
    import sys

    spaces = [chr(c) for c in range(sys.maxunicode + 1) if re.fullmatch(r"\s", chr(c)) or chr(c).isspace()]
    assert "\u00a0" in spaces and "\u3000" in spaces and "\u2028" in spaces
    for ch in spaces:
        assert nfc(f"{ch}Hòa{ch}{ch}Bình{ch}") == "Hòa Bình", hex(ord(ch))
    assert nfc("Hòa\u200bBình") == "Hòa\u200bBình"  # a zero-width space is not white space: kept
    assert nfc(None) is None and nfc("") == "" and nfc(12) == "12"


def test_province_search_view(client, django_user_model):
    from khuyencong.models import User

    user = User.objects.create_user("reviewer-x", password="x-Passw0rd-long", role="reviewer")
    client.force_login(user)
    response = client.get("/danh-muc/tinh/", {"q": "hoa binh"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["code"] == "17" and results[0]["current"] == "Tỉnh Phú Thọ"
