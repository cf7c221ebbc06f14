"""The account list (/can-bo/): scope, search with or without diacritics, role filter, pages, and
what a wrong query string gets."""
import pytest
from django.urls import reverse

from khuyencong import selectors
from khuyencong.choices import Role
from tests.khuyencong.factories import centre_user, province_user, reviewer

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return {
        "reviewer": reviewer(first_name="Trần Thị", last_name="Hằng"),
        "bn_centre": centre_user("24", first_name="Nguyễn Đức", last_name="Thắng", email="thang@bacninh.gov.vn"),
        "bn_so": province_user("24", first_name="Lê", last_name="Văn Hòa"),
        "tn_centre": centre_user("19", first_name="Nguyễn Thị", last_name="Lan"),
    }


def test_search_ignores_diacritics_and_needs_every_word(people):
    found = selectors.account_list(people["reviewer"], q="nguyen")
    assert set(found) == {people["bn_centre"], people["tn_centre"]}
    assert selectors.account_list(people["reviewer"], q="NGUYỄN thang") == [people["bn_centre"]]
    assert selectors.account_list(people["reviewer"], q="bacninh.gov") == [people["bn_centre"]]  # e-mail
    assert set(selectors.account_list(people["reviewer"], q="thai nguyen")) == {people["tn_centre"]}  # province
    assert selectors.account_list(people["reviewer"], q="không ai tên này") == []


def test_search_keeps_a_quoted_phrase_whole_within_one_field(people):
    assert selectors.account_list(people["reviewer"], q='"thị lan"') == [people["tn_centre"]]
    assert selectors.account_list(people["reviewer"], q='"lan thị"') == []
    assert selectors.account_list(people["reviewer"], q="lan thị") == [people["tn_centre"]]  # words: anywhere
    # The last word of the full name and the user name side by side are in no one field.
    account = people["bn_centre"]
    across = f'"{account.get_full_name().split()[-1]} {account.username}"'
    assert selectors.account_list(people["reviewer"], q=across) == []
    assert selectors.account_list(people["reviewer"], q=across.strip('"')) == [account]


def test_search_stays_inside_the_province_of_a_local_account(people):
    """A Bắc Ninh account searching for a Thái Nguyên colleague's name finds nobody."""
    assert selectors.account_list(people["bn_so"], q="lan") == []
    assert set(selectors.account_list(people["bn_so"], q="nguyen")) == {people["bn_centre"]}


def test_role_filter(people):
    assert selectors.account_list(people["reviewer"], role=Role.PROVINCE) == [people["bn_so"]]


def test_page_shows_the_search_and_keeps_it_in_the_page_links(client, people):
    for i in range(55):
        centre_user("24", username=f"tt.bn{i:02d}", first_name="Phạm", last_name=f"Minh {i}")
    client.force_login(people["reviewer"])
    first = client.get(reverse("user_list"), {"q": "pham minh"}).content.decode()
    assert "1–50 trong 55" in first
    assert 'href="?q=pham+minh&amp;page=2"' in first
    second = client.get(reverse("user_list"), {"q": "pham minh", "page": "2"}).content.decode()
    assert "51–55 trong 55" in second and people["bn_centre"].username not in second
    assert 'value="pham minh"' in second  # the search box keeps what was typed


@pytest.mark.parametrize("page", ["999", "abc", "-1", ""])
def test_a_page_number_out_of_range_or_not_a_number_shows_a_page(client, people, page):
    client.force_login(people["reviewer"])
    response = client.get(reverse("user_list"), {"page": page})
    assert response.status_code == 200
    assert people["bn_centre"].username in response.content.decode()


def test_an_unknown_role_is_said_and_the_list_is_not_narrowed(client, people):
    client.force_login(people["reviewer"])
    body = client.get(reverse("user_list"), {"role": "superuser"}).content.decode()
    assert "Hãy chọn một lựa chọn hợp lệ. superuser không phải là một trong các lựa chọn khả thi." in body
    assert people["bn_centre"].username in body and people["tn_centre"].username in body


def test_no_match_says_so(client, people):
    client.force_login(people["bn_so"])
    body = client.get(reverse("user_list"), {"q": "zzz"}).content.decode()
    assert "Không có tài khoản nào khớp với tìm kiếm." in body
    assert "Bỏ lọc" in body


def test_queries_do_not_grow_with_the_accounts(client, people, django_assert_max_num_queries):
    client.force_login(people["reviewer"])
    client.get(reverse("user_list"))
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("user_list"), {"q": "nguyen"})
    for i in range(30):
        centre_user("19", username=f"tt.tn{i:02d}", first_name="Nguyễn", last_name=f"An {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(reverse("user_list"), {"q": "nguyen"}).content.decode()
    assert "tt.tn29" in body


def test_the_list_shows_how_to_reach_each_person(client, people):
    from khuyencong.models import User

    User.objects.filter(pk=people["bn_centre"].pk).update(phone="0222 3822 123")
    client.force_login(people["bn_so"])
    page = client.get(reverse("user_list")).content.decode()
    assert '<a href="mailto:thang@bacninh.gov.vn">thang@bacninh.gov.vn</a>' in page
    assert '<a href="tel:02223822123">0222 3822 123</a>' in page
    assert "tn_centre" not in page and people["tn_centre"].username not in page  # still one province


def test_administrators_see_who_has_never_signed_in_and_reach_the_account(client, people):
    from django.utils import timezone

    from tests.khuyencong.factories import admin_user

    people["bn_so"].last_login = timezone.now()
    people["bn_so"].save()
    client.force_login(admin_user())
    page = client.get(reverse("user_list")).content.decode()
    never = people["bn_centre"]
    change = reverse("admin:khuyencong_user_change", args=[never.pk])
    assert f'<a href="{change}">{never.username}</a><br><span class="muted">chưa đăng nhập lần nào</span>' in page
    assert f'href="{reverse("admin:khuyencong_user_add")}"' in page and f'href="{reverse("admin:khuyencong_user_import")}"' in page
    signed_in = reverse("admin:khuyencong_user_change", args=[people["bn_so"].pk])
    assert f'<a href="{signed_in}">{people["bn_so"].username}</a></td>' in page
    # Other roles see the names only: no sign-in history, no admin links.
    client.force_login(people["reviewer"])
    other = client.get(reverse("user_list")).content.decode()
    assert never.username in other and "chưa đăng nhập lần nào" not in other and "/quan-tri/" not in other
    assert "Thêm tài khoản" not in other and "Nhập từ Excel" not in other


def test_the_list_exports_to_excel_as_searched_scoped_and_neutralised(client, people):
    import io

    from openpyxl import load_workbook

    from tests.khuyencong.factories import admin_user

    def rows(response):
        assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
        assert response["Content-Disposition"] == 'attachment; filename="can-bo-tai-khoan.xlsx"'
        sheet = load_workbook(io.BytesIO(response.content)).active
        return [list(r) for r in sheet.iter_rows(min_row=4, values_only=True)], [c.value for c in sheet[3]]

    people["bn_centre"].phone = "=HYPERLINK(\"http://x\")"
    people["bn_centre"].save()
    client.force_login(people["bn_so"])  # a Sở sees its province only
    found, header = rows(client.get(reverse("user_export")))
    usernames = {r[2] for r in found}
    assert people["bn_centre"].username in usernames and people["tn_centre"].username not in usernames
    assert "Đăng nhập gần nhất" not in header
    centre = next(r for r in found if r[2] == people["bn_centre"].username)
    assert centre[8] == "'=HYPERLINK(\"http://x\")" and centre[7] == "thang@bacninh.gov.vn"
    assert centre[5] == "Tỉnh Bắc Ninh" and centre[3] == "Cán bộ Trung tâm khuyến công"
    page = client.get(reverse("user_list"), {"q": "thang"}).content.decode()
    assert f'href="{reverse("user_export")}?q=thang"' in page
    searched, _header = rows(client.get(reverse("user_export"), {"q": "thang"}))
    assert [r[2] for r in searched] == [people["bn_centre"].username]
    client.force_login(admin_user())  # administrators also get the last sign-in
    everyone, header = rows(client.get(reverse("user_export"), {"role": Role.CENTRE}))
    assert header[-1] == "Đăng nhập gần nhất" and {r[3] for r in everyone} == {"Cán bộ Trung tâm khuyến công"}
    assert {r[2] for r in everyone} >= {people["bn_centre"].username, people["tn_centre"].username}
    assert all(r[-1] == "chưa đăng nhập lần nào" for r in everyone)
    client.logout()
    assert client.get(reverse("user_export")).status_code == 302
