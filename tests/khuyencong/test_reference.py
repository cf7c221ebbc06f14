"""Reference data after the 2025 merger, written out independently of khuyencong.reference_data
(from DOMAIN.md §1, §4, §5, §7) so a wrong code in the loader's data fails here."""
from datetime import date

import pytest

from khuyencong.catalogue import ND235, QD1881, TT28, load_catalogue
from khuyencong.choices import Era, OrganisationKind
from khuyencong.models import (
    ActivityContent,
    Indicator,
    Organisation,
    OrganisationName,
    Programme,
    Province,
    SupportCap,
)
from khuyencong.reference import load_reference
from khuyencong.selectors import agency_on, programme_for_year

pytestmark = pytest.mark.django_db

CURRENT = {
    "01": "Hà Nội", "04": "Cao Bằng", "08": "Tuyên Quang", "11": "Điện Biên", "12": "Lai Châu", "14": "Sơn La",
    "15": "Lào Cai", "19": "Thái Nguyên", "20": "Lạng Sơn", "22": "Quảng Ninh", "24": "Bắc Ninh", "25": "Phú Thọ",
    "31": "Hải Phòng", "33": "Hưng Yên", "37": "Ninh Bình", "38": "Thanh Hóa", "40": "Nghệ An", "42": "Hà Tĩnh",
    "44": "Quảng Trị", "46": "Huế", "48": "Đà Nẵng", "51": "Quảng Ngãi", "52": "Gia Lai", "56": "Khánh Hòa",
    "66": "Đắk Lắk", "68": "Lâm Đồng", "75": "Đồng Nai", "79": "Hồ Chí Minh", "80": "Tây Ninh", "82": "Đồng Tháp",
    "86": "Vĩnh Long", "91": "An Giang", "92": "Cần Thơ", "96": "Cà Mau",
}
CURRENT_CITIES = {"01", "31", "46", "48", "79", "92"}

OLD_TO_NEW = dict(
    pair.split("→")
    for pair in (
        "01→01 02→08 04→04 06→19 08→08 10→15 11→11 12→12 14→14 15→15 17→25 19→19 20→20 22→22 24→24 "
        "25→25 26→25 27→24 30→31 31→31 33→33 34→33 35→37 36→37 37→37 38→38 40→40 42→42 44→44 45→44 46→46 48→48 "
        "49→48 51→51 52→52 54→66 56→56 58→56 60→68 62→51 64→52 66→66 67→68 68→68 70→75 72→80 74→79 75→75 77→79 "
        "79→79 80→80 82→82 83→86 84→86 86→86 87→82 89→91 91→91 92→92 93→92 94→92 95→96 96→96"
    ).split()
)

RENAMED_FORMER = {
    "02": "Hà Giang", "06": "Bắc Kạn", "10": "Lào Cai", "15": "Yên Bái", "17": "Hòa Bình", "24": "Bắc Giang",
    "26": "Vĩnh Phúc", "27": "Bắc Ninh", "30": "Hải Dương", "34": "Thái Bình", "35": "Hà Nam", "36": "Nam Định",
    "44": "Quảng Bình", "45": "Quảng Trị", "46": "Thừa Thiên Huế", "49": "Quảng Nam", "52": "Bình Định",
    "54": "Phú Yên", "58": "Ninh Thuận", "60": "Bình Thuận", "62": "Kon Tum", "64": "Gia Lai", "67": "Đắk Nông",
    "70": "Bình Phước", "72": "Tây Ninh", "74": "Bình Dương", "77": "Bà Rịa – Vũng Tàu", "80": "Long An",
    "82": "Tiền Giang", "83": "Bến Tre", "84": "Trà Vinh", "87": "Đồng Tháp", "89": "An Giang", "91": "Kiên Giang",
    "93": "Hậu Giang", "94": "Sóc Trăng", "95": "Bạc Liêu",
}


def test_there_are_34_current_and_63_former_provinces():
    assert Province.objects.current().count() == 34
    assert Province.objects.former().count() == 63
    assert len(OLD_TO_NEW) == 63


def test_current_codes_and_names_match_the_table():
    got = {p.code: p.name for p in Province.objects.current()}
    assert got == CURRENT
    cities = set(Province.objects.current().filter(kind="city").values_list("code", flat=True))
    assert cities == CURRENT_CITIES
    assert Province.objects.get(era=Era.CURRENT, code="24").full_name == "Tỉnh Bắc Ninh"
    assert Province.objects.get(era=Era.CURRENT, code="79").full_name == "Thành phố Hồ Chí Minh"


def test_old_to_new_mapping_is_exactly_the_table():
    got = {p.code: p.successor.code for p in Province.objects.former().select_related("successor")}
    assert got == OLD_TO_NEW
    for p in Province.objects.former().select_related("successor"):
        assert p.successor.era == Era.CURRENT
        assert p.current == p.successor


def test_former_names_keep_history():
    former = {p.code: p.name for p in Province.objects.former()}
    for code, name in RENAMED_FORMER.items():
        assert former[code] == name, code
    # The others kept their names: same name as the current province with the same code.
    for code, name in former.items():
        if code not in RENAMED_FORMER:
            assert CURRENT[OLD_TO_NEW[code]] == name, code


@pytest.mark.parametrize(
    ("old", "old_name", "new", "new_name"),
    [
        ("89", "An Giang", "91", "An Giang"),
        ("91", "Kiên Giang", "91", "An Giang"),
        ("77", "Bà Rịa – Vũng Tàu", "79", "Hồ Chí Minh"),
        ("24", "Bắc Giang", "24", "Bắc Ninh"),
        ("27", "Bắc Ninh", "24", "Bắc Ninh"),
        ("15", "Yên Bái", "15", "Lào Cai"),
        ("10", "Lào Cai", "15", "Lào Cai"),
        ("45", "Quảng Trị", "44", "Quảng Trị"),
        ("64", "Gia Lai", "52", "Gia Lai"),
        ("72", "Tây Ninh", "80", "Tây Ninh"),
        ("87", "Đồng Tháp", "82", "Đồng Tháp"),
    ],
)
def test_merged_province_keeps_the_code_of_the_seat(old, old_name, new, new_name):
    former = Province.objects.get(era=Era.FORMER, code=old)
    assert former.name == old_name
    assert former.successor.code == new
    assert former.successor.name == new_name


def test_validity_dates():
    assert set(Province.objects.former().values_list("valid_to", flat=True)) == {date(2025, 6, 30)}
    assert set(Province.objects.current().values_list("valid_from", flat=True)) == {date(2025, 7, 1)}
    assert Province.objects.on(date(2025, 6, 30)).count() == 63
    assert Province.objects.on(date(2025, 7, 1)).count() == 34


def test_agency_name_changes_on_1_march_2025():
    agency, before = agency_on(date(2025, 2, 15))
    _, after = agency_on(date(2025, 3, 15))
    assert before == "Cục Công Thương địa phương"
    assert after == "Cục Đổi mới sáng tạo, Chuyển đổi xanh và Khuyến công"
    assert agency.name_on(date(2025, 2, 28)) == before
    assert agency.name_on(date(2025, 3, 1)) == after
    assert agency.kind == OrganisationKind.AGENCY
    assert agency.parent.name == "Bộ Công Thương"


def test_each_current_province_has_a_department_and_a_centre():
    for province in Province.objects.current():
        kinds = sorted(Organisation.objects.filter(province=province).values_list("kind", flat=True))
        assert kinds == sorted([OrganisationKind.DEPARTMENT, OrganisationKind.CENTRE]), province.code
        centre = Organisation.objects.get(province=province, kind=OrganisationKind.CENTRE)
        assert centre.parent.kind == OrganisationKind.DEPARTMENT
        assert centre.successor is None and centre.valid_from == date(2025, 7, 1)
    assert Organisation.objects.get(code="ttkc-24").name == "Trung tâm Khuyến công tỉnh Bắc Ninh"
    assert Organisation.objects.get(code="so-ct-24").name == "Sở Công Thương tỉnh Bắc Ninh"
    assert Organisation.objects.get(code="so-ct-01").name == "Sở Công Thương thành phố Hà Nội"
    assert Organisation.objects.get(code="so-ct-79").name == "Sở Công Thương Thành phố Hồ Chí Minh"


def test_former_organisations_link_to_the_merged_provinces_organisations():
    for former in Province.objects.former().select_related("successor"):
        orgs = Organisation.objects.filter(province=former).select_related("successor__province")
        assert {o.kind for o in orgs} == {OrganisationKind.DEPARTMENT, OrganisationKind.CENTRE}
        for org in orgs:
            assert org.valid_to == date(2025, 6, 30)
            assert org.successor is not None
            assert org.successor.kind == org.kind
            assert org.successor.province == former.successor, (former.code, org.code)
    kien_giang_centre = Organisation.objects.get(code="ttkc-cu-91")
    assert kien_giang_centre.name == "Trung tâm Khuyến công tỉnh Kiên Giang"
    assert kien_giang_centre.successor.name == "Trung tâm Khuyến công tỉnh An Giang"
    assert kien_giang_centre.name_on(date(2024, 5, 1)) == "Trung tâm Khuyến công tỉnh Kiên Giang"


QD1881_TARGETS = [
    340, 1600, 300, 300, 100, 50, 350, 50, 60, 15, 5, 10000,
]


def test_programmes_and_qd1881_targets():
    qd1881 = Programme.objects.get(decision_number="1881/QĐ-TTg")
    assert (qd1881.start_year, qd1881.end_year, qd1881.decision_date) == (2021, 2025, date(2020, 11, 20))
    assert list(qd1881.indicators.values_list("target", flat=True)) == QD1881_TARGETS
    names = " | ".join(qd1881.indicators.values_list("name", flat=True)).lower()
    for word in ("mô hình trình diễn", "máy móc", "dây chuyền", "sản xuất sạch hơn", "nhãn hiệu", "cụm công nghiệp",
                 "hội chợ", "lao động nông thôn"):
        assert word in names
    qd2646 = Programme.objects.get(decision_number="2646/QĐ-BCT")
    assert (qd2646.start_year, qd2646.end_year, qd2646.decision_date) == (2026, 2030, date(2025, 9, 23))
    assert qd2646.indicators.count() == 12
    assert set(qd2646.indicators.values_list("target", flat=True)) == {None}
    assert programme_for_year(2023) == qd1881
    assert programme_for_year(2026) == qd2646
    assert programme_for_year(2019) is None


def test_catalogue_has_seven_areas_then_decree_235_additions_by_date():
    before = ActivityContent.objects.valid_on(date(2025, 10, 14))
    after = ActivityContent.objects.valid_on(date(2025, 10, 15))
    areas_before = before.filter(parent__isnull=True)
    assert list(areas_before.values_list("code", flat=True)) == ["1", "2", "3", "4", "5", "6", "7"]
    assert set(areas_before.values_list("instrument", flat=True)) == {QD1881}
    for area in areas_before:
        assert area.children.count() >= 2, area.code
    added = after.exclude(pk__in=before.values("pk"))
    assert added.exists()
    assert set(added.values_list("instrument", flat=True)) == {ND235}
    added_names = " ".join(added.values_list("name", flat=True)).lower()
    assert "bền vững" in added_names and "chuyển đổi số" in added_names
    # Nothing valid before the programme started.
    assert not ActivityContent.objects.valid_on(date(2020, 12, 31)).exists()


CAPS_TRIEU = {
    "mo-hinh-trinh-dien": (None, 1_000),
    "may-moc-tien-tien": (50, 300),
    "day-chuyen-cong-nghe": (None, 450),
    "binh-chon-khu-vuc": (None, 200),
    "binh-chon-quoc-gia": (None, 400),
    "ha-tang-ccn": (None, 6_000),
}


def test_tt28_caps_are_the_documented_values():
    caps = SupportCap.objects.filter(instrument=TT28)
    got = {c.code: (None if c.max_percent is None else int(c.max_percent), c.max_amount // 1_000_000) for c in caps}
    assert got == CAPS_TRIEU
    assert all(c.max_amount % 1_000_000 == 0 for c in caps)
    assert set(caps.values_list("valid_from", flat=True)) == {date(2018, 5, 11)}
    assert not SupportCap.objects.valid_on(date(2018, 5, 10)).exists()
    assert SupportCap.objects.valid_on(date(2026, 1, 1)).count() == 6


@pytest.mark.parametrize(
    ("cost", "expected"),
    [
        (400_000_000, 200_000_000),  # 50 % is lower
        (600_000_000, 300_000_000),  # equal
        (900_000_000, 300_000_000),  # the amount is lower
        (0, 0),
    ],
)
def test_machinery_cap_is_whichever_is_lower(cost, expected):
    cap = SupportCap.objects.get(code="may-moc-tien-tien", instrument=TT28)
    assert cap.limit_for(cost) == expected


def test_amount_only_cap():
    cap = SupportCap.objects.get(code="mo-hinh-trinh-dien", instrument=TT28)
    assert cap.limit_for(5_000_000_000) == 1_000_000_000


def _counts():
    return {
        model.__name__: model.objects.count()
        for model in (Province, Organisation, OrganisationName, Programme, Indicator, ActivityContent, SupportCap)
    }


def test_reloading_creates_nothing_and_keeps_admin_edits():
    before = _counts()
    indicator = Indicator.objects.get(programme__code="qd-2646-2026-2030", code="mo-hinh-trinh-dien")
    indicator.target = 400
    indicator.save()
    load_reference()
    load_catalogue()
    assert _counts() == before
    indicator.refresh_from_db()
    assert indicator.target == 400


def test_reload_repairs_a_wrong_province_link():
    """The two province maps are the loader's data (Nghị quyết 202/2025/QH15), read-only in /quan-tri/
    (tests/khuyencong/test_admin_read_only.py): a wrong row — written by hand in the database — is
    repaired in place."""
    province = Province.objects.get(era=Era.FORMER, code="91")
    province.successor = Province.objects.get(era=Era.CURRENT, code="92")
    province.save()
    load_reference()
    province.refresh_from_db()
    assert province.successor.code == "91"


def test_reloading_keeps_an_administrators_programme_edits_until_overwrite():
    """A programme's name, decision and targets edited in /quan-tri/ survive a start; --overwrite puts the
    decision's own values back and still leaves the targets of a programme shipped without them."""
    from django.core.management import call_command

    qd1881 = Programme.objects.get(code="qd-1881-2021-2025")
    qd1881.name = "Chương trình khuyến công quốc gia 2021–2025 (đã sửa)"
    qd1881.decision_date = date(2020, 11, 21)
    qd1881.save()
    first = qd1881.indicators.order_by("order").first()
    shipped_target = first.target
    first.target = shipped_target + 7
    first.save()
    added = Indicator.objects.get(programme__code="qd-2646-2026-2030", code="mo-hinh-trinh-dien")
    added.target = 400
    added.save()
    before = _counts()

    call_command("load_reference", verbosity=0)
    assert _counts() == before
    for obj in (qd1881, first, added):
        obj.refresh_from_db()
    assert qd1881.name.endswith("(đã sửa)") and qd1881.decision_date == date(2020, 11, 21)
    assert first.target == shipped_target + 7 and added.target == 400

    call_command("load_reference", "--overwrite", verbosity=0)
    for obj in (qd1881, first, added):
        obj.refresh_from_db()
    assert not qd1881.name.endswith("(đã sửa)") and qd1881.decision_date == date(2020, 11, 20)
    assert first.target == shipped_target and added.target == 400
    assert list(qd1881.indicators.values_list("target", flat=True)) == QD1881_TARGETS


def _edit_reference_data():
    """What an administrator may change in /quan-tri/: a cap's amount, % and validity, an organisation's
    name and validity, a dated name, an activity content's name."""
    cap = SupportCap.objects.get(code="may-moc-tien-tien", instrument=TT28)
    cap.max_amount, cap.max_percent, cap.valid_to = 350_000_000, 40, date(2026, 12, 31)
    cap.save()
    centre = Organisation.objects.get(code="ttkc-24")
    centre.name, centre.valid_to = "Trung tâm Khuyến công và Xúc tiến thương mại tỉnh Bắc Ninh", date(2027, 6, 30)
    centre.save()
    dated = OrganisationName.objects.filter(organisation__code="cuc-khuyen-cong").order_by("valid_from").first()
    dated.short_name = "Cục CTĐP (sửa)"
    dated.save()
    content = ActivityContent.objects.get(code="1.2", instrument=QD1881)
    content.name = "Hỗ trợ ứng dụng máy móc, thiết bị tiên tiến (tên đã sửa)"
    content.save()
    return cap, centre, dated, content


def test_reloading_keeps_what_administrators_edited():
    """The web container runs load_reference at every start: a deploy must not undo an edit."""
    from django.core.management import call_command

    before = _counts()
    cap, centre, dated, content = _edit_reference_data()
    load_reference()
    call_command("load_reference", verbosity=0)
    assert _counts() == before
    for obj in (cap, centre, dated, content):
        obj.refresh_from_db()
    assert (cap.max_amount, cap.max_percent, cap.valid_to) == (350_000_000, 40, date(2026, 12, 31))
    assert centre.name.startswith("Trung tâm Khuyến công và Xúc tiến") and centre.valid_to == date(2027, 6, 30)
    assert dated.short_name == "Cục CTĐP (sửa)"
    assert content.name.endswith("(tên đã sửa)")


def test_reloading_creates_what_is_missing():
    SupportCap.objects.filter(code="ha-tang-ccn").delete()
    Organisation.objects.filter(code="ttkc-cu-89").delete()
    load_reference()
    assert SupportCap.objects.get(code="ha-tang-ccn").max_amount == 6_000_000_000
    assert Organisation.objects.get(code="ttkc-cu-89").successor.code == "ttkc-91"


def test_overwrite_puts_the_shipped_values_back():
    from django.core.management import call_command

    cap, centre, dated, content = _edit_reference_data()
    call_command("load_reference", "--overwrite", verbosity=0)
    for obj in (cap, centre, dated, content):
        obj.refresh_from_db()
    assert (cap.max_amount, cap.max_percent, cap.valid_to) == (300_000_000, 50, None)
    assert centre.name == "Trung tâm Khuyến công tỉnh Bắc Ninh" and centre.valid_to is None
    assert dated.short_name != "Cục CTĐP (sửa)"
    assert content.name == "Hỗ trợ ứng dụng máy móc thiết bị tiên tiến vào sản xuất"


def test_load_reference_command_is_idempotent(capsys):
    from django.core.management import call_command

    before = _counts()
    call_command("load_reference")
    call_command("load_reference")
    assert _counts() == before
    assert "34 tỉnh, thành phố hiện hành" in capsys.readouterr().out


def test_cap_never_exceeds_the_cost_itself():
    cap = SupportCap.objects.get(code="mo-hinh-trinh-dien", instrument=TT28)
    assert cap.limit_for(500_000_000) == 500_000_000
