"""«Cơ sở thụ hưởng»: the beneficiaries a user may see, with how many đề án supported each and when
last; one establishment's đề án; and, on a đề án's page, how many other đề án each beneficiary is in —
all scoped to the user's province, forged ids and filters ignored or refused, never a server error."""
import pytest
from django.urls import reverse

from projects import services
from projects.models import Establishment

from .factories import EstablishmentFactory, advance, current, make_users, ready_de_an

pytestmark = pytest.mark.django_db

LIST = reverse("projects:establishments")


@pytest.fixture
def world():
    u = make_users()
    supported = advance(ready_de_an(u.centre, name="Đề án máy chẻ nan"), "in_implementation", u)
    shared = supported.beneficiaries.first().establishment
    draft = ready_de_an(u.centre, name="Đề án nhãn hiệu mây tre", plan_year=2027)
    services.beneficiary_add(actor=u.centre, de_an=draft, establishment=shared)
    other = ready_de_an(u.centre_other, name="Đề án chè Tân Cương", province=current("19"))
    secret = EstablishmentFactory(name="Hợp tác xã Chè Bí Mật", province=current("19"))
    services.beneficiary_add(actor=u.centre_other, de_an=other, establishment=secret)
    return u, supported, draft, shared, secret


def rows(page):
    return {row.name: row for row in page.context["page"].object_list}


def test_the_list_counts_each_establishment_s_de_an_and_support(client, world):
    u, supported, draft, shared, secret = world
    client.force_login(u.reviewer)
    response = client.get(LIST)
    found = rows(response)
    assert (found[shared.name].de_an_count, found[shared.name].supported_count, found[shared.name].last_year) == (2, 1, 2026)
    only_draft = next(link.establishment for link in draft.beneficiaries.all() if link.establishment != shared)
    assert (found[only_draft.name].de_an_count, found[only_draft.name].supported_count,
            found[only_draft.name].last_year) == (1, 0, None)
    assert secret.name in found  # the ministry sees every province
    page = response.content.decode()
    assert reverse("projects:establishment", kwargs={"establishment_id": shared.pk}) in page
    assert "Được hỗ trợ" in page and "Năm gần nhất" in page


def test_a_province_sees_only_its_own(client, world):
    u, supported, draft, shared, secret = world
    client.force_login(u.province)
    found = rows(client.get(LIST))
    assert shared.name in found and secret.name not in found
    assert all(e.province.code == "24" for e in found.values())
    assert client.get(reverse("projects:establishment", kwargs={"establishment_id": secret.pk})).status_code == 404
    page = client.get(LIST).content.decode()
    assert 'name="province"' not in page  # no province filter for a local account


@pytest.mark.parametrize("query, expect", [
    ({"q": "che bi mat"}, {"Hợp tác xã Chè Bí Mật"}),
    ({"q": "CHÈ BÍ"}, {"Hợp tác xã Chè Bí Mật"}),
    ({"q": "khong co ai"}, set()),
])
def test_search_by_name_with_or_without_diacritics(client, world, query, expect):
    u = world[0]
    client.force_login(u.reviewer)
    assert set(rows(client.get(LIST, query))) == expect


def test_search_by_tax_code_filters_and_sorts(client, world):
    u, supported, draft, shared, secret = world
    client.force_login(u.reviewer)
    assert set(rows(client.get(LIST, {"q": shared.tax_code[:8]}))) >= {shared.name}
    assert set(rows(client.get(LIST, {"q": shared.tax_code}))) == {shared.name}
    thai_nguyen = set(rows(client.get(LIST, {"province": current("19").pk})))
    assert secret.name in thai_nguyen and shared.name not in thai_nguyen
    Establishment.objects.filter(pk=secret.pk).update(women_owned=True, legal_form="household_business")
    assert set(rows(client.get(LIST, {"priority": "phu-nu"}))) == {secret.name}
    assert set(rows(client.get(LIST, {"legal_form": "household_business"}))) == {secret.name}
    by_support = list(rows(client.get(LIST, {"sort": "-so-de-an"})))
    assert by_support[0] == shared.name
    by_year = list(rows(client.get(LIST, {"sort": "-nam"})))
    assert by_year[0] in {link.establishment.name for link in supported.beneficiaries.all()}


@pytest.mark.parametrize("query", [
    {"province": "99999999999999999999999"}, {"province": "abc"}, {"province": "²"}, {"legal_form": "x"},
    {"priority": "<script>"}, {"sort": "; drop table"}, {"page": "-3"}, {"page": "99999999999999999999"},
    {"q": "x" * 500}, {"q": "\"" * 9},
])
def test_odd_filters_are_ignored_never_a_server_error(client, world, query):
    u = world[0]
    client.force_login(u.reviewer)
    response = client.get(LIST, query)
    assert response.status_code == 200


def test_the_establishment_page_lists_its_de_an_in_scope(client, world):
    u, supported, draft, shared, secret = world
    client.force_login(u.centre)
    url = reverse("projects:establishment", kwargs={"establishment_id": shared.pk})
    response = client.get(url)
    page = response.content.decode()
    assert shared.name in page and shared.tax_code in page
    assert [d.pk for d in response.context["rows"]] == [draft.pk, supported.pk]  # newest plan year first
    assert response.context["supported_count"] == 1
    assert "KCQG 250.000.000 đ" in page or "KCQG 400.000.000 đ" in page
    assert "Đang soạn" in page and "Đang thực hiện" in page
    # Another province's staff: not found, not "forbidden" (no hint that it exists).
    client.force_login(u.centre_other)
    assert client.get(url).status_code == 404
    assert client.get(reverse("projects:establishment", kwargs={"establishment_id": 10 ** 15})).status_code == 404


def test_a_de_an_page_says_which_beneficiaries_are_in_other_de_an(client, world):
    u, supported, draft, shared, secret = world
    client.force_login(u.province)
    page = client.get(reverse("projects:detail", kwargs={"pk": draft.pk})).content.decode()
    assert "Có trong 1 đề án khác (1 được hỗ trợ)" in page
    assert page.count("đề án khác") == 1  # the draft's other beneficiary is in no other đề án
    assert reverse("projects:establishment", kwargs={"establishment_id": shared.pk}) in page


def test_queries_do_not_grow_with_the_rows(client, world, django_assert_max_num_queries):
    u = world[0]
    for i in range(30):
        EstablishmentFactory(name=f"Cơ sở thêm {i}")
    client.force_login(u.reviewer)
    # Sorted by the figures: count, the page's ids, its rows, their figures (one more than by name).
    for query in ({}, {"sort": "-so-de-an"}, {"sort": "-nam", "page": "2"}):
        with django_assert_max_num_queries(13):
            client.get(LIST, query)


@pytest.mark.parametrize("sort", ["-so-de-an", "-nam", "ten"])
def test_every_page_of_a_sorted_list_follows_the_figures_shown(world, sort):
    """Page after page (two rows each), the rows come in the order their own figures say — support,
    then all đề án, then name; or the latest supported year (none last), then name — each row once,
    and the count is of the filtered rows alone."""
    from projects import selectors

    u, supported, draft, shared, secret = world
    for i in range(3):
        EstablishmentFactory(name=f"Cơ sở chưa có đề án {i}")
    pages, number = [], 1
    while True:
        page = selectors.establishment_page(user=u.reviewer, filters={"sort": sort}, page=number, per_page=2)
        pages.extend(page.object_list)
        if not page.has_next():
            break
        number += 1
    expected_count = selectors.establishment_filtered(user=u.reviewer).count()
    assert page.paginator.count == expected_count == len(pages) == len({e.pk for e in pages})
    if sort == "-so-de-an":
        key = lambda e: (-e.supported_count, -e.de_an_count, e.search_name, e.pk)  # noqa: E731
    elif sort == "-nam":
        key = lambda e: (e.last_year is None, -(e.last_year or 0), e.search_name, e.pk)  # noqa: E731
    else:
        key = lambda e: (e.search_name, e.pk)  # noqa: E731
    assert [e.pk for e in pages] == [e.pk for e in sorted(pages, key=key)]
    assert any(e.supported_count for e in pages) and any(not e.de_an_count for e in pages)
    by_pk = {e.pk: e for e in pages}
    assert (by_pk[shared.pk].de_an_count, by_pk[shared.pk].supported_count, by_pk[shared.pk].last_year) == (2, 1, 2026)


def test_anonymous_is_sent_to_sign_in(client):
    assert client.get(LIST).status_code == 302



def _sheet(response):
    import io

    import openpyxl

    assert response["Content-Disposition"].startswith('attachment; filename="co-so-thu-huong.xlsx"')
    assert "no-store" in response["Cache-Control"]
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def test_export_holds_the_filtered_list_with_its_counts(client, world):
    u, supported, draft, shared, secret = world
    Establishment.objects.filter(pk=shared.pk).update(name="=HYPERLINK(\"http://x\")")
    client.force_login(u.province)
    page = client.get(LIST, {"q": "23"}).content.decode()
    assert reverse("projects:establishments_export") + "?q=23" in page
    rows = _sheet(client.get(reverse("projects:establishments_export")))
    assert rows[0][0] == "DANH SÁCH CƠ SỞ THỤ HƯỞNG" and rows[2][:3] == ["STT", "Tên cơ sở", "Loại hình"]
    data = {row[1]: row for row in rows[3:]}
    assert "Hợp tác xã Chè Bí Mật" not in data  # another province's
    row = data["'=HYPERLINK(\"http://x\")"]  # neutralised, not a formula
    assert row[12:15] == [2, 1, 2026] and row[6] == "Tỉnh Bắc Ninh"
    assert len(data) == Establishment.objects.filter(province__code="24").count()
    assert [r[0] for r in rows[3:]] == list(range(1, len(data) + 1))


def test_export_over_the_limit_is_refused_with_a_message(client, world, settings):
    settings.EXPORT_MAX_ROWS = 2
    client.force_login(world[0].reviewer)
    response = client.get(reverse("projects:establishments_export"), {"legal_form": "cooperative"}, follow=True)
    assert response.redirect_chain[-1][0] == LIST + "?legal_form=cooperative"
    assert "vượt giới hạn một lần xuất Excel" in response.content.decode()


def test_the_beneficiary_picker_says_who_was_supported_before(client, world):
    u, supported, draft, shared, secret = world
    client.force_login(u.centre)
    body = client.get(reverse("projects:establishment_options"), {"q": shared.tax_code}).content.decode()
    assert f'<option value="{shared.pk}">' in body
    assert "đã được hỗ trợ trong 1 đề án, gần nhất năm 2026" in body
    only_draft = next(link.establishment for link in draft.beneficiaries.all() if link.establishment != shared)
    body = client.get(reverse("projects:establishment_options"), {"q": only_draft.tax_code}).content.decode()
    assert only_draft.name in body and "đã được hỗ trợ" not in body


# --- «Sửa thông tin cơ sở» ---------------------------------------------------------------------------

def edit_url(e):
    return reverse("projects:establishment_edit", kwargs={"establishment_id": e.pk})


def edit_data(client, e, **changes):
    form = client.get(edit_url(e)).context["form"]
    data = {key: value for key, value in form.initial.items() if value not in (None, False)}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def fresh(e):
    return Establishment.objects.get(pk=e.pk)


def test_local_staff_correct_their_province_s_establishment_and_it_is_recorded(client, world):
    from khuyencong.models import AuditEvent

    u, supported, draft, shared, secret = world
    client.force_login(u.province)
    page = client.get(reverse("projects:establishment", kwargs={"establishment_id": shared.pk})).content.decode()
    assert edit_url(shared) in page
    response = client.post(edit_url(shared), edit_data(client, shared, name="HTX Mây tre đan Tân Yên mới",
                                                        workers="48", women_owned="on"))
    assert response.status_code == 302
    e = fresh(shared)
    assert (e.name, e.workers, e.women_owned, e.search_name) == ("HTX Mây tre đan Tân Yên mới", 48, True,
                                                                 "htx may tre dan tan yen moi")
    event = AuditEvent.objects.get(action="establishment.change")
    assert event.actor == u.province and event.object_id == str(shared.pk)
    assert event.data["before"] == {"name": shared.name, "workers": shared.workers, "women_owned": False}
    assert event.data["after"] == {"name": "HTX Mây tre đan Tân Yên mới", "workers": 48, "women_owned": True}
    detail = client.get(response["Location"]).content.decode()
    assert "Đã lưu thông tin cơ sở thụ hưởng." in detail and "Lịch sử sửa thông tin cơ sở" in detail
    # Sent again unchanged (a double click): nothing more is written.
    client.post(edit_url(shared), edit_data(client, e))
    assert AuditEvent.objects.filter(action="establishment.change").count() == 1


def test_another_province_cannot_open_or_send_the_form(client, world):
    u, supported, draft, shared, secret = world
    client.force_login(u.centre_other)
    before = fresh(shared)
    assert client.get(edit_url(shared)).status_code == 404
    assert client.post(edit_url(shared), {"name": "Đổi trộm", "legal_form": "cooperative"}).status_code == 404
    assert fresh(shared).name == before.name
    client.force_login(u.reviewer)  # the ministry may correct any
    assert client.get(edit_url(secret)).status_code == 200


@pytest.mark.parametrize("changes, message", [
    ({"name": ""}, "Tên cơ sở: Trường này là bắt buộc."),
    ({"legal_form": "tap-doan"}, "Loại hình:"),
    ({"tax_code": "12345"}, "Mã số thuế"),
    ({"workers": "-3"}, "Số lao động:"),
    ({"trade": "Mây\x00tre"}, "ký tự điều khiển"),
    ({"name": "x" * 256}, "255"),
])
def test_bad_values_are_refused_and_nothing_changes(client, world, changes, message):
    u, supported, draft, shared, secret = world
    client.force_login(u.centre)
    before = fresh(shared)
    response = client.post(edit_url(shared), edit_data(client, shared, **changes))
    page = response.content.decode()
    assert response.status_code == 400 and message in page and 'role="alert"' in page
    after = fresh(shared)
    assert (after.name, after.legal_form, after.tax_code, after.workers, after.trade, after.updated_at) == (
        before.name, before.legal_form, before.tax_code, before.workers, before.trade, before.updated_at)


def test_a_tax_code_already_held_is_refused_without_naming_another_province_s_holder(client, world):
    u, supported, draft, shared, secret = world
    other_here = next(link.establishment for link in draft.beneficiaries.all() if link.establishment != shared)
    client.force_login(u.centre)
    page = client.post(edit_url(shared), edit_data(client, shared, tax_code=other_here.tax_code)).content.decode()
    assert f"Mã số thuế {other_here.tax_code} đã có trong danh sách" in page
    page = client.post(edit_url(shared), edit_data(client, shared, tax_code=secret.tax_code)).content.decode()
    assert "đã được đăng ký cho một cơ sở ở tỉnh, thành phố khác" in page and secret.name not in page
    assert fresh(shared).tax_code == shared.tax_code


def test_a_change_saved_in_between_is_not_overwritten(client, world):
    from projects import services as project_services

    u, supported, draft, shared, secret = world
    client.force_login(u.centre)
    stale = edit_data(client, shared, trade="Mây tre đan xuất khẩu")
    project_services.establishment_update(actor=u.province, establishment=shared, trade="Mây tre đan, cói")
    response = client.post(edit_url(shared), stale)
    assert response.status_code == 409
    assert "vừa được người khác sửa" in response.content.decode()
    assert fresh(shared).trade == "Mây tre đan, cói"


def test_filter_by_whether_supported(client, world):
    u, supported, draft, shared, secret = world
    supported_names = {link.establishment.name for link in supported.beneficiaries.all()}
    client.force_login(u.province)
    assert set(rows(client.get(LIST, {"supported": "co"}))) == supported_names
    never = set(rows(client.get(LIST, {"supported": "chua"})))
    assert never and not never & supported_names and shared.name not in never
    assert len(rows(client.get(LIST, {"supported": "x"}))) == len(rows(client.get(LIST)))
