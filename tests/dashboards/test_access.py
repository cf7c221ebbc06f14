"""Who may see which dashboard, table and export; bad filters get a clear Vietnamese message."""
import pytest

from khuyencong.models import Province

pytestmark = pytest.mark.django_db
P = "programme=qd-1881-2021-2025"


@pytest.fixture
def people(db):
    from types import SimpleNamespace

    from tests.khuyencong.factories import admin_user, centre_user, province_user, reviewer

    return SimpleNamespace(reviewer=reviewer(), admin=admin_user(), centre=centre_user("24"),
                           province=province_user("24"), province_other=province_user("19"))


@pytest.mark.parametrize("url", [
    "/tong-quan/tinh/19/", "/tong-quan/tinh/19/bang/tinh/", "/tong-quan/tinh/19/xuat/tinh/",
    "/tong-quan/tinh/19/xuat/so-sanh/", "/tong-quan/tinh/19/bang/kinh-phi/",
])
@pytest.mark.parametrize("role", ["province", "centre"])
def test_local_staff_cannot_open_another_province(client, people, url, role):
    client.force_login(getattr(people, role))
    response = client.get(f"{url}?{P}")
    assert response.status_code == 403
    text = response.content.decode()
    assert "Bạn chỉ được xem tổng quan và xuất số liệu của tỉnh, thành phố mình." in text
    assert "spreadsheetml" not in response.get("Content-Type", "")


@pytest.mark.parametrize("url", ["/tong-quan/toan-quoc/", "/tong-quan/toan-quoc/bang/tinh/", "/tong-quan/toan-quoc/xuat/tinh/"])
def test_national_dashboard_is_for_the_ministry_only(client, people, url):
    client.force_login(people.province)
    response = client.get(f"{url}?{P}")
    assert response.status_code == 403
    assert "Chỉ Cục (chuyên viên thẩm định, quản trị hệ thống) được xem tổng quan toàn quốc" in response.content.decode()
    for key in ("reviewer", "admin"):
        client.force_login(getattr(people, key))
        assert client.get(f"{url}?{P}").status_code == 200


def test_each_role_lands_on_its_dashboard(client, people):
    expectations = {"reviewer": "/tong-quan/toan-quoc/", "admin": "/tong-quan/toan-quoc/",
                    "province": "/tong-quan/tinh/24/", "centre": "/tong-quan/tinh/24/",
                    "province_other": "/tong-quan/tinh/19/"}
    for key, target in expectations.items():
        client.force_login(getattr(people, key))
        response = client.get("/tong-quan/")
        assert response.status_code == 302 and response["Location"] == target
        assert client.get(target).status_code == 200


def test_reviewer_may_open_any_province_and_its_export(client, people):
    client.force_login(people.reviewer)
    assert client.get(f"/tong-quan/tinh/19/?{P}").status_code == 200
    response = client.get(f"/tong-quan/tinh/19/xuat/so-sanh/?{P}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_anonymous_is_sent_to_login(client):
    response = client.get("/tong-quan/toan-quoc/")
    assert response.status_code == 302 and "/dang-nhap/" in response["Location"]


@pytest.mark.parametrize("query, message", [
    ("programme=qd-1881-2021-2025&year_from=2019", "Năm 2019 nằm ngoài chương trình 1881/QĐ-TTg (2021–2025)"),
    ("programme=qd-1881-2021-2025&year_to=2027", "Năm 2027 nằm ngoài chương trình 1881/QĐ-TTg (2021–2025)"),
    ("programme=qd-1881-2021-2025&year_from=2024&year_to=2022", "Từ năm 2024 lớn hơn đến năm 2022"),
    ("programme=qd-1881-2021-2025&year_from=abc", "Từ năm «abc» không phải là số"),
    ("programme=khong-co", "Không có chương trình khuyến công mã «khong-co»"),
    ("programme=qd-1881-2021-2025&level=tw", "Cấp «tw» không hợp lệ"),
    ("programme=qd-1881-2021-2025&province=999999", "Không có tỉnh, thành phố hiện hành mã số 999999"),
    ("programme=qd-1881-2021-2025&content=999999", "Không có nội dung hoạt động mã số 999999"),
    ("programme=qd-1881-2021-2025&grouping=xyz", "Cách nhóm tỉnh «xyz» không hợp lệ"),
])
def test_bad_filters_get_a_clear_message(client, people, query, message):
    client.force_login(people.reviewer)
    for url in ("/tong-quan/toan-quoc/", "/tong-quan/toan-quoc/bang/tinh/", "/tong-quan/toan-quoc/xuat/kinh-phi/"):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 400, url
        assert message in response.content.decode(), url


def test_former_province_code_in_the_url_is_not_a_dashboard(client, people):
    client.force_login(people.reviewer)
    assert Province.objects.filter(code="27", era="former").exists()
    assert client.get("/tong-quan/tinh/27/").status_code == 404


def test_unknown_indicator_gets_a_clear_message(client, people):
    client.force_login(people.reviewer)
    response = client.get(f"/tong-quan/chi-tieu/khong-ton-tai/?{P}")
    assert response.status_code == 404
    assert "Không có chỉ tiêu «khong-ton-tai» trong chương trình 1881/QĐ-TTg" in response.content.decode()
    assert client.get(f"/tong-quan/chi-tieu/nhan-hieu/?{P}").status_code == 200


def test_unknown_block_is_404(client, people):
    client.force_login(people.reviewer)
    assert client.get(f"/tong-quan/toan-quoc/bang/khong-co/?{P}").status_code == 404
    # The comparison with the national average exists only on a province dashboard.
    assert client.get(f"/tong-quan/toan-quoc/bang/so-sanh/?{P}").status_code == 404


def test_refused_filters_stay_in_the_form_to_be_corrected(client, people):
    client.force_login(people.province)
    response = client.get("/tong-quan/tinh/24/?programme=qd-1881-2021-2025&year_from=2019&level=kcdp")
    assert response.status_code == 400
    text = response.content.decode()
    assert 'name="year_from" value="2019"' in text
    assert '<option value="kcdp" selected>' in text
    assert "Tổng quan chương trình khuyến công · Tỉnh Bắc Ninh" in text
