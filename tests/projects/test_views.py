"""The đề án pages: list, search, detail, forms, actions, queue, bulk approval, attachments,
notifications and export — each page and each rejection path (Vietnamese messages, nothing changed)."""
import io
import re
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from khuyencong.choices import FundingSource, Level
from projects import services
from projects.models import Attachment, BudgetLine, Comment, DeAn, Establishment, Notification, Transition

from .factories import (
    EstablishmentFactory,
    advance,
    allocate,
    confirm_adjustment,
    content,
    current,
    pdf_file,
    ready_de_an,
    submit,
)

pytestmark = pytest.mark.django_db


def messages_of(response):
    return [str(m) for m in response.wsgi_request._messages] if hasattr(response.wsgi_request, "_messages") else []


def snapshot(de_an):
    de_an.refresh_from_db()
    return (de_an.status, de_an.revision, de_an.name, de_an.total_amount,
            Transition.objects.filter(de_an=de_an).count(), Attachment.objects.filter(de_an=de_an).count(),
            BudgetLine.objects.filter(de_an=de_an).count())


# --- list and search -------------------------------------------------------------------------------

def test_list_shows_own_province_only(users, client_as):
    own = ready_de_an(users.centre, name="Đề án mây tre đan Bắc Ninh")
    other = ready_de_an(users.centre_other, name="Đề án chè Thái Nguyên", province=current("19"))
    response = client_as(users.centre).get(reverse("projects:list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert own.code in body and "Đề án mây tre đan Bắc Ninh" in body
    assert other.code not in body
    # A forged province filter does not widen the scope.
    response = client_as(users.centre).get(reverse("projects:list"), {"current_province": current("19").pk})
    assert other.code not in response.content.decode()


def test_reviewer_sees_every_province(users, client_as):
    own = ready_de_an(users.centre)
    other = ready_de_an(users.centre_other, province=current("19"))
    body = client_as(users.reviewer).get(reverse("projects:list")).content.decode()
    assert own.code in body and other.code in body


@pytest.mark.parametrize("query", ["hoa binh", "HOÀ BÌNH", "Hòa Bình", "đong hoa", "dong hoa"])
def test_search_is_diacritic_insensitive(users, client_as, query):
    hit = ready_de_an(users.centre, name="Đề án điểm mây tre đan Hòa Bình")  # beneficiaries "… Đông Hòa n"
    miss = services.de_an_create(actor=users.centre, name="Đề án gốm sứ Phù Lãng", level=Level.NATIONAL,
                                 plan_year=2026)
    body = client_as(users.centre).get(reverse("projects:list"), {"q": query}).content.decode()
    assert hit.code in body
    assert miss.code not in body


def test_search_d_finds_dj(users, client_as):
    d = ready_de_an(users.centre, name="Đề án đan lát")
    body = client_as(users.centre).get(reverse("projects:list"), {"q": "dan lat"}).content.decode()
    assert d.code in body


def test_quoted_phrase_search_on_the_list(users, client_as):
    hit = services.de_an_create(actor=users.centre, name="Đề án gốm sứ Phù Lãng", level=Level.NATIONAL, plan_year=2026)
    miss = services.de_an_create(actor=users.centre, name="Đề án sứ và gốm", level=Level.NATIONAL, plan_year=2026)
    body = client_as(users.centre).get(reverse("projects:list"), {"q": '"gốm sứ"'}).content.decode()
    assert hit.code in body and miss.code not in body
    assert 'value="&quot;gốm sứ&quot;"' in body  # the box keeps what was typed


@pytest.mark.parametrize("name", ["projects:list", "projects:queue"])
def test_search_box_explains_quoted_phrases(users, client_as, name):
    body = client_as(users.reviewer).get(reverse(name)).content.decode()
    assert 'aria-describedby="f-q-help"' in body
    assert 'id="f-q-help"' in body and "dấu ngoặc kép" in body


def test_filters_and_sort_kept_in_query_string(users, client_as):
    a = ready_de_an(users.centre, name="Alpha", plan_year=2026)
    b = ready_de_an(users.centre, name="Beta", plan_year=2027)
    c = client_as(users.centre)
    body = c.get(reverse("projects:list"), {"year": 2027}).content.decode()
    assert b.code in body and a.code not in body
    body = c.get(reverse("projects:list"), {"sort": "name", "level": "kcqg"}).content.decode()
    assert body.index(a.code) < body.index(b.code)
    assert "level=kcqg" in body  # pagination/sort links keep the filters
    body = c.get(reverse("projects:list"), {"sort": "-name"}).content.decode()
    assert body.index(b.code) < body.index(a.code)
    # Malformed filters are ignored, never an error.
    assert c.get(reverse("projects:list"), {"year": "abc", "status": "nope", "page": "-3", "size": "9999"}).status_code == 200


def test_filter_by_status_kind_content_and_historical_province(users, client_as):
    a = ready_de_an(users.centre, name="Đề án một")
    b = ready_de_an(users.centre, name="Đề án hai")
    services.de_an_submit(actor=users.centre, de_an=b)
    c = client_as(users.reviewer)
    body = c.get(reverse("projects:list"), {"status": "submitted"}).content.decode()
    assert b.code in body and a.code not in body
    body = c.get(reverse("projects:list"), {"kind": "nhom"}).content.decode()
    assert a.code not in body and b.code not in body
    area = content("1.2").parent
    body = c.get(reverse("projects:list"), {"content": area.pk}).content.decode()
    assert a.code in body and b.code in body
    body = c.get(reverse("projects:list"), {"province": current("19").pk}).content.decode()
    assert a.code not in body


def test_a_province_id_of_no_province_is_ignored_as_the_select_shows_it(users, client_as):
    """A forged or stale ``?province=`` / ``?current_province=`` (an id of no province, or a former province
    given as a current one) is dropped: the list is the unfiltered one, as the select — «Tất cả» — says;
    it used to narrow the list to nothing. A real province still filters, and a bad id beside a good
    one leaves the good one."""
    from khuyencong.models import Province

    a = ready_de_an(users.centre, name="Đề án một")
    c = client_as(users.reviewer)
    former = Province.objects.filter(era="former").first()
    for query in ({"province": 999_999}, {"current_province": 999_999}, {"current_province": former.pk},
                  {"province": "99999999999999999999999"}):
        response = c.get(reverse("projects:list"), query)
        assert response.status_code == 200
        body = response.content.decode()
        assert a.code in body, query
        assert "Không có đề án nào phù hợp." not in body
    assert a.code not in c.get(reverse("projects:list"), {"current_province": [999_999, current("19").pk]}).content.decode()
    assert a.code in c.get(reverse("projects:list"), {"current_province": [999_999, current("24").pk]}).content.decode()


def test_pagination_pages(users, client_as):
    for i in range(25):
        services.de_an_create(actor=users.centre, name=f"Đề án số {i:02d}", level=Level.NATIONAL, plan_year=2026)
    c = client_as(users.centre)
    page1 = c.get(reverse("projects:list"), {"size": 20, "sort": "name"}).content.decode()
    page2 = c.get(reverse("projects:list"), {"size": 20, "sort": "name", "page": 2}).content.decode()
    assert "Đề án số 00" in page1 and "Đề án số 19" in page1 and "Đề án số 20" not in page1
    assert "Đề án số 20" in page2 and "Đề án số 24" in page2 and "Đề án số 00" not in page2
    assert "21–25" in page2 and "25" in page2
    # A page past the end shows the last page.
    assert "Đề án số 24" in c.get(reverse("projects:list"), {"size": 20, "sort": "name", "page": 99}).content.decode()


def _list_queries(client, size):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("projects:list"), {"size": size})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_page_size(users, client_as):
    for i in range(55):
        services.de_an_create(actor=users.centre, name=f"Đề án {i}", level=Level.NATIONAL, plan_year=2026,
                              contents=[content("1.2"), content("4.1")])
    c = client_as(users.reviewer)
    _list_queries(c, 5)  # warm the per-process caches (filter choices) so both counts compare like with like
    small, big = _list_queries(c, 20), _list_queries(c, 50)
    assert small == big
    assert big <= 10


def test_list_query_budget(users, client_as, django_assert_max_num_queries):
    for i in range(30):
        services.de_an_create(actor=users.centre, name=f"Đề án {i}", level=Level.NATIONAL, plan_year=2026)
    c = client_as(users.centre)
    # The filters' lists are kept per process for minutes (projects.forms.filter_choices): the first
    # request after a start or a reference reload reads them; the budget is for the requests after it.
    c.get(reverse("projects:list"))
    with django_assert_max_num_queries(10):
        assert c.get(reverse("projects:list"), {"q": "de an", "page": 2, "size": 20}).status_code == 200


# --- detail -----------------------------------------------------------------------------------------

def test_detail_shows_dossier_lines_totals_and_timeline(users, client_as):
    de_an = ready_de_an(users.centre)
    services.comment_add(actor=users.province, de_an=de_an, text="Bổ sung báo giá máy chẻ nan")
    response = client_as(users.centre).get(reverse("projects:detail", args=[de_an.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert de_an.code in body and "Hỗ trợ máy chẻ nan tự động" in body
    assert "250.000.000 đ" in body
    assert "400.000.000 đ" in body  # national total = 250 + 150 million
    assert "800.000.000 đ" in body  # grand total
    assert "Cộng Vốn đối ứng" in body or "400.000.000 đ" in body
    assert "Hợp tác xã Mây tre đan Đông Hòa" in body
    assert "Bổ sung báo giá máy chẻ nan" in body  # timeline comment
    assert "Gửi Sở Công Thương" in body  # the centre's available action
    assert 'name="action" value="approve"' not in body  # not the centre's move
    assert reverse("funding:de_an_money", args=[de_an.pk]) not in body  # no decision yet: no money page
    assert f'{reverse("dashboards:outputs")}?de_an={de_an.pk}' in body  # planned outputs are declared when drafted


def test_detail_of_an_approved_de_an_links_to_its_money_page(users, client_as):
    de_an = ready_de_an(users.centre)
    de_an.decision_number = "123/QĐ-BCT"
    de_an.save(update_fields=["decision_number"])
    body = client_as(users.centre).get(reverse("projects:detail", args=[de_an.pk])).content.decode()
    assert reverse("funding:de_an_money", args=[de_an.pk]) in body and "Cam kết kinh phí, tạm ứng" in body


@pytest.mark.parametrize("level", [Level.NATIONAL, Level.LOCAL])
def test_money_page_link_for_kcqg_and_kcdp_approvals(users, client_as, level):
    """A KCQG đề án gets the Minister's decision (decision_number), a KCĐP one only the UBND tỉnh's
    (local_decision_number): either way the Sở finds the page where it records payments, and the page
    opens (it asks only that the đề án be visible)."""
    de_an = ready_de_an(users.centre, level=level)
    if level == Level.NATIONAL:
        de_an = advance(de_an, "approved", users)
        assert de_an.decision_number and not de_an.local_decision_number
    else:
        de_an = submit(de_an, users.centre)
        de_an = services.de_an_approve_local(actor=users.province, de_an=de_an, decision_number="1234/QĐ-UBND",
                                             decision_date=date(2026, 2, 1))
        assert de_an.local_decision_number and not de_an.decision_number
    money = reverse("funding:de_an_money", args=[de_an.pk])
    for user in (users.province, users.centre, users.reviewer):
        body = client_as(user).get(reverse("projects:detail", args=[de_an.pk])).content.decode()
        assert money in body and "Cam kết kinh phí, tạm ứng, thanh toán và quyết toán" in body
    response = client_as(users.province).get(money)
    assert response.status_code == 200 and response.context["can_record"]


def test_no_money_page_link_before_any_decision(users, client_as):
    de_an = services.de_an_submit(actor=users.centre, de_an=ready_de_an(users.centre, level=Level.LOCAL))
    body = client_as(users.province).get(reverse("projects:detail", args=[de_an.pk])).content.decode()
    assert reverse("funding:de_an_money", args=[de_an.pk]) not in body


def test_detail_query_count_does_not_grow_with_lines(users, client_as):
    small = ready_de_an(users.centre)
    big = ready_de_an(users.centre)
    est = list(Establishment.objects.filter(de_an_links__de_an=big))
    lines = [{"description": f"Dòng {i}", "source": FundingSource.COUNTERPART, "amount": 1_000_000 + i,
              "content": content("1.2"), "establishment": est[i % 2]} for i in range(30)]
    services.de_an_update(actor=users.centre, de_an=big, revision=big.revision,
                          budget_lines=[{"id": line.pk, "description": line.description, "source": line.source,
                                         "amount": line.amount, "content": line.content, "cost_basis": line.cost_basis,
                                         "establishment": line.establishment} for line in big.budget_lines.all()] + lines)
    c = client_as(users.centre)

    def count(d):
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(reverse("projects:detail", args=[d.pk])).status_code == 200
        return len(ctx.captured_queries)

    assert count(small) == count(big)
    assert count(big) <= 25


def test_detail_of_other_province_is_404(users, client_as):
    other = ready_de_an(users.centre_other, province=current("19"))
    assert client_as(users.centre).get(reverse("projects:detail", args=[other.pk])).status_code == 404
    assert client_as(users.province).get(reverse("projects:edit", args=[other.pk])).status_code == 404


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("projects:list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


# --- create and edit ----------------------------------------------------------------------------

def _form_data(**overrides):
    data = {
        "name": "Đề án điểm ứng dụng máy sấy chè Tân Cương", "level": "kcqg", "kind": "diem", "plan_year": "2026",
        "start_date": "2026-03-01", "end_date": "2027-11-30", "location": "Xã Tân Yên",
        "contents": [str(content("1.2").pk), str(content("4.1").pk)], "expected_revenue": "1.500.000.000",
        "ben-TOTAL_FORMS": "2", "ben-INITIAL_FORMS": "0", "ben-MIN_NUM_FORMS": "0", "ben-MAX_NUM_FORMS": "200",
        "line-TOTAL_FORMS": "2", "line-INITIAL_FORMS": "0", "line-MIN_NUM_FORMS": "0", "line-MAX_NUM_FORMS": "300",
        "ben-0-name": "Hợp tác xã Chè Tân Cương", "ben-0-legal_form": "cooperative", "ben-0-tax_code": "4600123456",
        "ben-0-commune": "Xã Tân Cương", "ben-0-trade": "Chế biến chè", "ben-0-workers": "40",
        "ben-1-name": "Hộ kinh doanh Nguyễn Thị Hoa", "ben-1-legal_form": "household_business",
        "ben-1-tax_code": "001190012345", "ben-1-commune": "Xã Tân Cương", "ben-1-women_owned": "on",
        "line-0-description": "Hỗ trợ máy sấy chè", "line-0-content": str(content("1.2").pk), "line-0-source": "national",
        "line-0-amount": "1.500.000", "line-1-description": "Vốn đối ứng", "line-1-source": "counterpart",
        "line-1-amount": "3.000.000",
    }
    data.update(overrides)
    return data


def test_a_tax_code_of_another_province_is_refused_without_naming_its_holder(users, client_as):
    """For a household business the 12-digit code is the owner's citizen ID: the refusal must not tell
    a Bắc Ninh user whose it is in Thái Nguyên."""
    EstablishmentFactory(name="Hộ kinh doanh Trần Văn Bí Mật", province=current("19"), tax_code="001190012345",
                         legal_form="household_business")
    response = client_as(users.centre).post(reverse("projects:create"), _form_data())
    body = response.content.decode()
    assert response.status_code == 400
    assert "Mã số thuế 001190012345 đã được đăng ký cho một cơ sở ở tỉnh, thành phố khác" in body
    assert "Bí Mật" not in body
    assert not DeAn.objects.filter(name="Đề án điểm ứng dụng máy sấy chè Tân Cương").exists()


def test_create_with_new_beneficiaries_and_vietnamese_money(users, client_as):
    response = client_as(users.centre).post(reverse("projects:create"), _form_data())
    assert response.status_code == 302, response.content.decode()[:3000]
    de_an = DeAn.objects.get(name="Đề án điểm ứng dụng máy sấy chè Tân Cương")
    assert de_an.national_amount == 1_500_000  # "1.500.000" is one and a half million đồng, never 1,5
    assert de_an.counterpart_amount == 3_000_000
    assert de_an.expected_revenue == 1_500_000_000
    assert de_an.current_province == current("24")
    assert sorted(de_an.beneficiaries.values_list("establishment__tax_code", flat=True)) == ["001190012345", "4600123456"]
    assert response["Location"] == reverse("projects:detail", args=[de_an.pk])


def test_create_and_edit_show_the_implementing_unit_the_centre_typed(users, client_as):
    c = client_as(users.centre)
    response = c.post(reverse("projects:create"), _form_data(implementing_unit_name="Viện Nghiên cứu Cơ khí"))
    assert response.status_code == 302
    de_an = DeAn.objects.get(name="Đề án điểm ứng dụng máy sấy chè Tân Cương")
    assert de_an.implementing_unit_id is None
    page = c.get(reverse("projects:detail", args=[de_an.pk])).content.decode()
    assert "<dt>Đơn vị thực hiện</dt><dd>Viện Nghiên cứu Cơ khí</dd>" in page
    response = c.post(reverse("projects:edit", args=[de_an.pk]),
                      _edit_data(de_an, implementing_unit_name="Trường Cao đẳng Công Thương"))
    assert response.status_code == 302
    page = c.get(reverse("projects:detail", args=[de_an.pk])).content.decode()
    assert "<dt>Đơn vị thực hiện</dt><dd>Trường Cao đẳng Công Thương</dd>" in page


def test_create_reuses_existing_establishment_by_choice(users, client_as):
    est = EstablishmentFactory()
    data = _form_data(**{"ben-0-establishment": str(est.pk), "ben-0-name": "", "ben-0-tax_code": ""})
    response = client_as(users.centre).post(reverse("projects:create"), data)
    assert response.status_code == 302
    de_an = DeAn.objects.latest("id")
    assert de_an.beneficiaries.filter(establishment=est).exists()


@pytest.mark.parametrize("amount, message", [
    ("-1.000.000", "số âm"),
    ("1.500,5", "phần lẻ dưới 1 đồng"),
    ("999.999.999.999.999.999", "lớn bất thường"),
])
def test_create_refuses_bad_money(users, client_as, amount, message):
    before = DeAn.objects.count(), Establishment.objects.count()
    response = client_as(users.centre).post(reverse("projects:create"), _form_data(**{"line-0-amount": amount}))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert (DeAn.objects.count(), Establishment.objects.count()) == before


def test_the_error_summary_lists_and_links_every_error_and_the_cells_show_theirs(users, client_as):
    """Form, beneficiary and budget-line errors are each listed at the top as a link to the field
    (#id_…), and every cell shows its own message, tied to the input by aria-describedby."""
    response = client_as(users.centre).post(reverse("projects:create"), _form_data(**{
        "plan_year": "1990", "ben-0-tax_code": "12345",
        "line-0-content": "999999", "line-0-establishment": "999999", "line-1-amount": "1,500,000"}))
    assert response.status_code == 400
    page = response.content.decode()
    summary = page[page.index('id="form-errors"'):]
    summary = summary[:summary.index("</div>")]
    for field_id in ("id_plan_year", "id_ben-0-tax_code", "id_line-0-content", "id_line-0-establishment",
                     "id_line-1-amount"):
        assert f'<a href="#{field_id}">' in summary, field_id
    assert "Cơ sở 1 — Mã số thuế: " in summary and "Dòng kinh phí 1 — Nội dung hoạt động: " in summary
    assert "Dòng kinh phí 1 — Cơ sở thụ hưởng: " in summary and "Dòng kinh phí 2 — Số tiền (đồng): " in summary
    for field_id in ("id_line-0-content", "id_line-0-establishment"):
        assert f'<div class="field-error" id="{field_id}_error">' in page
        select = page[page.index(f'id="{field_id}"') - 200:page.index(f'id="{field_id}"') + 200]
        assert f'aria-describedby="{field_id}_error"' in select and 'aria-invalid="true"' in select
    assert not DeAn.objects.exists()


def test_create_refuses_bad_tax_code(users, client_as):
    before = DeAn.objects.count(), Establishment.objects.count()
    response = client_as(users.centre).post(reverse("projects:create"), _form_data(**{"ben-0-tax_code": "12345"}))
    assert response.status_code == 400
    assert "Mã số thuế «12345» không hợp lệ" in response.content.decode()
    assert (DeAn.objects.count(), Establishment.objects.count()) == before


def test_create_refuses_other_province_establishment_in_hidden_field(users, client_as):
    foreign = EstablishmentFactory(province=current("19"))
    before = DeAn.objects.count(), DeAnBeneficiaryCount()
    data = _form_data(**{"ben-0-establishment": str(foreign.pk), "ben-0-name": ""})
    response = client_as(users.centre).post(reverse("projects:create"), data)
    assert response.status_code == 400
    assert "Cơ sở thụ hưởng không tồn tại hoặc thuộc tỉnh, thành phố khác." in response.content.decode()
    assert (DeAn.objects.count(), DeAnBeneficiaryCount()) == before


def DeAnBeneficiaryCount():  # noqa: N802 - reads like a count in the assertions
    from projects.models import DeAnBeneficiary

    return DeAnBeneficiary.objects.count()


def test_create_refused_for_reviewer(users, client_as):
    response = client_as(users.reviewer).get(reverse("projects:create"))
    assert response.status_code == 403


def test_create_rolls_back_new_establishment_when_service_refuses(users, client_as):
    # A line attached to nothing is fine, but an unknown content id is refused by the form.
    before = Establishment.objects.count()
    response = client_as(users.centre).post(reverse("projects:create"), _form_data(**{"line-0-content": "999999"}))
    assert response.status_code == 400
    assert Establishment.objects.count() == before


def _edit_data(de_an, **overrides):
    lines = list(de_an.budget_lines.all())
    bens = list(de_an.beneficiaries.all())
    data = {
        "name": de_an.name, "kind": de_an.kind, "plan_year": str(de_an.plan_year), "revision": str(de_an.revision),
        "start_date": de_an.start_date.isoformat(), "end_date": de_an.end_date.isoformat(), "location": de_an.location,
        "contents": [str(c.pk) for c in de_an.contents.all()],
        "ben-TOTAL_FORMS": str(len(bens)), "ben-INITIAL_FORMS": str(len(bens)), "ben-MIN_NUM_FORMS": "0",
        "ben-MAX_NUM_FORMS": "200",
        "line-TOTAL_FORMS": str(len(lines)), "line-INITIAL_FORMS": str(len(lines)), "line-MIN_NUM_FORMS": "0",
        "line-MAX_NUM_FORMS": "300",
    }
    for i, b in enumerate(bens):
        data[f"ben-{i}-establishment"] = str(b.establishment_id)
    for i, line in enumerate(lines):
        data.update({f"line-{i}-id": str(line.pk), f"line-{i}-description": line.description,
                     f"line-{i}-source": line.source, f"line-{i}-amount": f"{line.amount:,}".replace(",", "."),
                     f"line-{i}-content": str(line.content_id or ""),
                     f"line-{i}-cost_basis": f"{line.cost_basis:,}".replace(",", ".") if line.cost_basis else "",
                     f"line-{i}-establishment": str(line.establishment_id or "")})
    data.update(overrides)
    return data


def test_edit_saves_and_second_save_gets_conflict(users, client_as):
    de_an = ready_de_an(users.centre)
    c = client_as(users.centre)
    assert c.get(reverse("projects:edit", args=[de_an.pk])).status_code == 200
    stale = _edit_data(de_an, name="Tên của người thứ hai")
    response = c.post(reverse("projects:edit", args=[de_an.pk]), _edit_data(de_an, name="Tên mới của người thứ nhất"))
    assert response.status_code == 302
    de_an.refresh_from_db()
    assert de_an.name == "Tên mới của người thứ nhất"
    response = client_as(users.province).post(reverse("projects:edit", args=[de_an.pk]), stale)
    assert response.status_code == 409
    assert "Thay đổi của bạn chưa được lưu" in response.content.decode()
    de_an.refresh_from_db()
    assert de_an.name == "Tên mới của người thứ nhất"


def test_a_double_click_on_save_is_told_it_saved_not_that_it_failed(users, client_as):
    """The second of two identical sends used to get 409 «Thay đổi của bạn chưa được lưu» although the
    first had saved it; the form's one-time key now tells the two apart from a real conflict."""
    de_an = ready_de_an(users.centre)
    c = client_as(users.centre)
    data = {**_edit_data(de_an, name="Tên mới"), "submission_key": "a" * 32}
    first = c.post(reverse("projects:edit", args=[de_an.pk]), data)
    second = c.post(reverse("projects:edit", args=[de_an.pk]), data, follow=True)
    assert first.status_code == 302 and second.status_code == 200
    body = second.content.decode()
    assert f"Đề án {de_an.code} đã được lưu ở lần gửi trước; lần gửi lại không thay đổi gì thêm." in body
    assert "chưa được lưu" not in body
    de_an.refresh_from_db()
    assert de_an.name == "Tên mới" and de_an.revision == int(data["revision"]) + 1
    # A different form (another key) loaded before the save is still a conflict.
    stale = {**data, "submission_key": "b" * 32, "name": "Tên khác"}
    assert c.post(reverse("projects:edit", args=[de_an.pk]), stale).status_code == 409


def test_edit_to_a_year_without_programme_is_refused_on_the_form(users, client_as):
    de_an = ready_de_an(users.centre)
    before = snapshot(de_an)
    response = client_as(users.centre).post(reverse("projects:edit", args=[de_an.pk]),
                                            _edit_data(de_an, plan_year="2031", name="Tên kèm năm mới"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Chưa có chương trình khuyến công nào cho năm kế hoạch 2031" in page and "Tên kèm năm mới" in page
    assert snapshot(de_an) == before


def test_edit_after_submission_is_refused(users, client_as):
    de_an = services.de_an_submit(actor=users.centre, de_an=ready_de_an(users.centre))
    before = snapshot(de_an)
    c = client_as(users.centre)
    assert c.get(reverse("projects:edit", args=[de_an.pk])).status_code == 403
    response = c.post(reverse("projects:edit", args=[de_an.pk]), _edit_data(de_an, name="Sửa lén"))
    assert response.status_code == 409
    assert "không sửa được" in response.content.decode()
    assert snapshot(de_an) == before


def test_a_stale_edit_form_keeps_what_was_typed(users, client_as):
    """The đề án is submitted by someone else while the centre edits it: the page comes back (409) with
    the reason and every value typed, nothing is saved, and no establishment is created."""
    de_an = ready_de_an(users.centre)
    c = client_as(users.centre)
    data = _edit_data(de_an, name="Tên sửa dở dang", location="Thôn Đông Mới, xã Tân Yên")
    data.update({f"line-{k}": v for k, v in {
        "2-description": "Dòng mới đang gõ", "2-source": "counterpart", "2-amount": "12.345.000"}.items()})
    data["line-TOTAL_FORMS"] = str(int(data["line-TOTAL_FORMS"]) + 1)
    data.update({"ben-TOTAL_FORMS": str(int(data["ben-TOTAL_FORMS"]) + 1)})
    n = int(data["ben-TOTAL_FORMS"]) - 1
    data.update({f"ben-{n}-name": "Cơ sở gõ dở", f"ben-{n}-legal_form": "cooperative", f"ben-{n}-commune": "Xã Tân Yên"})
    services.de_an_submit(actor=users.province, de_an=de_an)
    before = snapshot(de_an)
    establishments = Establishment.objects.count()
    response = c.post(reverse("projects:edit", args=[de_an.pk]), data)
    assert response.status_code == 409
    page = response.content.decode()
    assert "Đã gửi Sở Công Thương" in page and "không sửa được" in page
    assert "Thay đổi của bạn chưa được lưu. Những gì bạn đã nhập vẫn còn bên dưới để sao chép lại." in page
    for typed in ("Tên sửa dở dang", "Thôn Đông Mới, xã Tân Yên", "Dòng mới đang gõ", "12.345.000", "Cơ sở gõ dở"):
        assert typed in page, typed
    assert snapshot(de_an) == before and Establishment.objects.count() == establishments


def test_an_edit_refused_for_the_role_still_goes_back_to_the_detail(users, client_as):
    de_an = ready_de_an(users.centre)
    before = snapshot(de_an)
    response = client_as(users.reviewer).post(reverse("projects:edit", args=[de_an.pk]), _edit_data(de_an, name="X"))
    assert response.status_code == 302 and response["Location"] == reverse("projects:detail", args=[de_an.pk])
    assert snapshot(de_an) == before


def test_an_edit_overtaken_during_the_save_keeps_what_was_typed(users, client_as, monkeypatch):
    from projects import views

    de_an = ready_de_an(users.centre)
    real_build = views._build_forms

    def submitted_meanwhile(*args, **kwargs):  # after the page's check, before the service's
        built = real_build(*args, **kwargs)
        DeAn.objects.filter(pk=de_an.pk).update(status="submitted")
        return built

    monkeypatch.setattr(views, "_build_forms", submitted_meanwhile)
    response = client_as(users.centre).post(reverse("projects:edit", args=[de_an.pk]),
                                            _edit_data(de_an, name="Tên gõ lúc người khác gửi"))
    assert response.status_code == 409
    page = response.content.decode()
    assert "không sửa được" in page and "Tên gõ lúc người khác gửi" in page
    de_an.refresh_from_db()
    assert de_an.name != "Tên gõ lúc người khác gửi"


def test_edit_refuses_line_id_of_another_de_an(users, client_as):
    de_an = ready_de_an(users.centre)
    other = ready_de_an(users.centre_other, province=current("19"))
    foreign_line = other.budget_lines.first()
    before, other_before = snapshot(de_an), snapshot(other)
    response = client_as(users.centre).post(reverse("projects:edit", args=[de_an.pk]),
                                            _edit_data(de_an, **{"line-0-id": str(foreign_line.pk)}))
    assert response.status_code == 400
    assert "Dòng kinh phí không thuộc đề án này." in response.content.decode()
    assert snapshot(de_an) == before and snapshot(other) == other_before


# --- transitions --------------------------------------------------------------------------------

def test_submit_forward_return_with_comment(users, client_as):
    de_an = ready_de_an(users.centre)
    url = reverse("projects:transition", args=[de_an.pk])
    response = client_as(users.centre).post(url, {"action": "submit"}, follow=True)
    assert "Trạng thái mới: Đã gửi Sở Công Thương" in response.content.decode()
    response = client_as(users.province).post(url, {"action": "forward"}, follow=True)
    assert "Đã gửi Cục" in response.content.decode()
    services.de_an_start_appraisal(actor=users.reviewer, de_an=de_an)
    c = client_as(users.reviewer)
    response = c.post(url, {"action": "return", "comment": ""}, follow=True)
    assert "Cần nhập ý kiến, lý do khi trả lại để hoàn thiện." in response.content.decode()
    de_an.refresh_from_db()
    assert de_an.status == "under_appraisal"
    c.post(url, {"action": "return", "comment": "Bổ sung báo giá"})
    de_an.refresh_from_db()
    assert de_an.status == "returned"


def test_a_workflow_form_sent_again_after_the_de_an_moved_on_is_refused(users, client_as):
    """The centre asks for an adjustment, the reviewer decides it, the centre's browser sends the same
    form again (back button, a second tab): before, a second adjustment request was created."""
    import re

    from projects.models import Adjustment, Transition

    de_an = advance(ready_de_an(users.centre), "in_implementation", users)
    url = reverse("projects:transition", args=[de_an.pk])
    centre = client_as(users.centre)
    page = centre.get(reverse("projects:detail", args=[de_an.pk])).content.decode()
    panel = page[page.index('name="action" value="request_adjustment"'):]
    (revision,) = re.findall(r'name="revision" value="(\d+)"', panel[:400])
    assert int(revision) == DeAn.objects.get(pk=de_an.pk).revision
    form = {"action": "request_adjustment", "revision": revision, "comment": "Kéo dài do thiết bị về muộn",
            "extension": "on", "new_end_date": "2028-06-30"}
    assert centre.post(url, form).status_code == 302
    confirm_adjustment(de_an)
    services.de_an_reject_adjustment(actor=users.reviewer, de_an=de_an, comment="Không đủ căn cứ")
    count = Transition.objects.filter(de_an=de_an).count()
    response = client_as(users.centre).post(url, form, follow=True)
    body = response.content.decode()
    assert f"Đề án {de_an.code} đã thay đổi sau khi bạn mở trang (trạng thái hiện nay: Đang thực hiện)." in body
    assert "Thao tác «đề nghị điều chỉnh» chưa được thực hiện" in body
    assert Adjustment.objects.filter(de_an=de_an).count() == 1
    assert Transition.objects.filter(de_an=de_an).count() == count
    # With the page opened now, the same request goes through.
    fresh = {**form, "revision": str(DeAn.objects.get(pk=de_an.pk).revision)}
    assert client_as(users.centre).post(url, fresh).status_code == 302
    assert Adjustment.objects.filter(de_an=de_an).count() == 2


def test_a_returned_de_an_says_why_at_the_top_of_its_page(users, client_as):
    de_an = advance(ready_de_an(users.centre), "submitted", users)
    services.de_an_return(actor=users.province, de_an=de_an, comment="Đề nghị bổ sung Giấy chứng nhận ĐKKD của HTX")
    page = client_as(users.centre).get(reverse("projects:detail", args=[de_an.pk])).content.decode()
    box = page[page.index('id="ly-do"'):page.index('id="h-actions"')]
    assert "Lý do trả lại để hoàn thiện" in box and "Đề nghị bổ sung Giấy chứng nhận ĐKKD của HTX" in box
    assert str(users.province) in box
    services.de_an_submit(actor=users.centre, de_an=de_an)
    assert 'id="ly-do"' not in client_as(users.centre).get(reverse("projects:detail", args=[de_an.pk])).content.decode()


def test_the_acceptance_panel_says_the_minutes_come_first(users, client_as, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    de_an = advance(ready_de_an(users.centre), "in_implementation", users)
    url = reverse("projects:detail", args=[de_an.pk])
    assert 'id="ac-needs-minutes"' in client_as(users.province).get(url).content.decode()
    services.attachment_add(actor=users.province, de_an=de_an, file=pdf_file(), kind="acceptance_minutes")
    assert 'id="ac-needs-minutes"' not in client_as(users.province).get(url).content.decode()


def test_a_refused_step_marks_the_fields_its_reasons_are_about(users, client_as):
    """«Cần nhập số quyết định…» and «…ngày quyết định» were listed but the two inputs were not marked."""
    de_an = advance(ready_de_an(users.centre), "under_appraisal", users)
    response = client_as(users.reviewer).post(reverse("projects:transition", args=[de_an.pk]), {
        "action": "approve", "decision_number": "", "decision_date": "", "amount": ""})
    assert response.status_code == 400
    body = response.content.decode()
    for field in ("dn-approve", "dd-approve"):
        tag = re.search(rf'<input[^>]*id="{field}"[^>]*>', body)[0]
        assert 'aria-invalid="true"' in tag and 'aria-describedby="errors-approve"' in tag, tag
    # The service's reasons name what they are about: not prefixed with the field's label again.
    assert "<li>Cần nhập số quyết định phê duyệt.</li>" in body and "Số quyết định: Cần nhập" not in body


def test_the_timeline_says_what_an_adjustment_asked_for(users, client_as):
    de_an = advance(ready_de_an(users.centre), "in_implementation", users)
    services.de_an_request_adjustment(actor=users.centre, de_an=de_an, reason="Thiết bị về muộn",
                                      extension=True, new_end_date=date(2027, 12, 31))
    page = client_as(users.centre).get(reverse("projects:detail", args=[de_an.pk])).content.decode()
    timeline = page[page.index('id="dong-thoi-gian"'):]
    assert "Điều chỉnh lớn: kéo dài sang năm sau; thời gian kết thúc mới 31/12/2027" in timeline
    # A step whose name is its new state says it once («Đề nghị điều chỉnh», not «… → Đề nghị điều chỉnh»).
    assert not re.search(r"<strong>([^<]+)</strong> → <span[^>]*>\1</span>", timeline)


def test_approve_draft_is_refused_with_reason(users, client_as):
    de_an = ready_de_an(users.centre)
    before = snapshot(de_an)
    response = client_as(users.reviewer).post(
        reverse("projects:transition", args=[de_an.pk]),
        {"action": "approve", "decision_number": "12/QĐ-BCT", "decision_date": "2026-02-01"}, follow=True)
    assert "Không thể phê duyệt đề án đang ở trạng thái «Đang soạn»." in response.content.decode()
    assert snapshot(de_an) == before


def test_approve_with_decision_number_and_money(users, client_as):
    de_an = advance(ready_de_an(users.centre), "under_appraisal", users)
    allocate(de_an)
    url = reverse("projects:transition", args=[de_an.pk])
    c = client_as(users.reviewer)
    response = c.post(url, {"action": "approve", "decision_number": "", "decision_date": "2026-02-01"}, follow=True)
    assert "Cần nhập số quyết định phê duyệt." in response.content.decode()
    response = c.post(url, {"action": "approve", "decision_number": "45/QĐ-CĐM", "decision_date": "2026-02-01",
                            "amount": "300.000.000"}, follow=True)
    de_an.refresh_from_db()
    assert de_an.status == "approved" and de_an.approved_national_amount == 300_000_000
    assert de_an.decision_number == "45/QĐ-CĐM"
    # Double click: the second POST is refused and writes no second log row.
    c.post(url, {"action": "approve", "decision_number": "45/QĐ-CĐM", "decision_date": "2026-02-01"})
    assert Transition.objects.filter(de_an=de_an, action="approve").count() == 1


def test_a_refused_action_comes_back_open_with_what_was_typed_and_why(users, client_as):
    de_an = advance(ready_de_an(users.centre), "under_appraisal", users)
    allocate(de_an)
    before = snapshot(de_an)
    url = reverse("projects:transition", args=[de_an.pk])
    c = client_as(users.reviewer)
    # A field the form refuses (not a sum of money) …
    response = c.post(url, {"action": "approve", "decision_number": "45/QĐ-CĐM", "decision_date": "2026-02-01",
                            "amount": "ba trăm", "comment": "Đồng ý"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="action-approve" open' in page and 'role="alert" id="errors-approve"' in page
    assert "Kinh phí được duyệt / quyết toán (đồng):" in page
    assert 'value="45/QĐ-CĐM"' in page and 'value="2026-02-01"' in page and 'value="ba trăm"' in page
    assert ">Đồng ý</textarea>" in page and 'aria-invalid="true"' in page
    # … and a reason of the workflow (no decision number): the same panel, the reason beside it.
    response = c.post(url, {"action": "approve", "decision_number": "", "decision_date": "2026-02-01",
                            "amount": "300.000.000"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="action-approve" open' in page and "Cần nhập số quyết định phê duyệt." in page
    assert 'value="300.000.000"' in page and 'id="action-return" open' not in page
    assert snapshot(de_an) == before


def test_kcdp_approval_of_zero_dong_comes_back_with_the_reason(users, client_as):
    de_an = submit(ready_de_an(users.centre, level=Level.LOCAL), users.centre)
    before = snapshot(de_an)
    response = client_as(users.province).post(reverse("projects:transition", args=[de_an.pk]), {
        "action": "approve_local", "decision_number": "12/QĐ-UBND", "decision_date": "01/02/2026", "amount": "0"})
    assert response.status_code == 400
    assert "Kinh phí khuyến công địa phương được duyệt phải lớn hơn 0." in _panel(response.content.decode(),
                                                                               "approve_local")
    assert snapshot(de_an) == before


def test_a_second_click_after_the_action_is_done_is_told_at_the_top(users, client_as):
    de_an = advance(ready_de_an(users.centre), "under_appraisal", users)
    allocate(de_an)
    url = reverse("projects:transition", args=[de_an.pk])
    c = client_as(users.reviewer)
    data = {"action": "approve", "decision_number": "45/QĐ-CĐM", "decision_date": "2026-02-01"}
    assert c.post(url, data).status_code == 302
    response = c.post(url, data)
    assert response.status_code == 302  # approve is no longer offered: nowhere to reopen it
    page = c.get(response["Location"]).content.decode()
    assert "Không thể phê duyệt đề án đang ở trạng thái «Đã phê duyệt»." in page and 'id="action-approve"' not in page
    assert Transition.objects.filter(de_an=de_an, action="approve").count() == 1


def test_an_action_refused_because_someone_else_moved_the_de_an_on_is_told_at_the_top(users, client_as, monkeypatch):
    """A race: another reviewer approves between the page's check and the write (the service refuses
    the loser); the approve panel is gone, so the reason goes to the top of the page."""
    from projects import views

    de_an = advance(ready_de_an(users.centre), "under_appraisal", users)
    allocate(de_an)
    real = views._run_transition

    def other_reviewer_first(user, row, action, data):
        real(user, row, action, data)  # the other reviewer's click wins …
        real(user, row, action, data)  # … and ours is refused by the service

    monkeypatch.setattr(views, "_run_transition", other_reviewer_first)
    response = client_as(users.reviewer).post(reverse("projects:transition", args=[de_an.pk]), {
        "action": "approve", "decision_number": "45/QĐ-CĐM", "decision_date": "2026-02-01"})
    assert response.status_code == 302
    page = client_as(users.reviewer).get(response["Location"]).content.decode()
    assert 'class="msg msg-error"' in page and 'id="action-approve"' not in page
    assert Transition.objects.filter(de_an=de_an, action="approve").count() == 1


# --- acceptance and settlement on the page ------------------------------------------------------------

SETTLE_QUESTION = ("Xác nhận quyết toán đề án? Quyết toán là bước cuối cùng: đề án kết thúc, kinh phí và ngày "
                   "quyết toán không sửa được nữa.")


def _panel(page, action):
    start = page.index(f'id="action-{action}"')
    return page[start:page.index("</details>", start)]


def test_settle_panel_asks_first_and_offers_todays_date(users, client_as):
    from .factories import ACCEPTED_ON

    de_an = advance(ready_de_an(users.centre), "accepted", users)
    page = client_as(users.reviewer).get(reverse("projects:detail", args=[de_an.pk])).content.decode()
    panel = _panel(page, "settle")
    assert f'data-confirm="{SETTLE_QUESTION}"' in panel
    assert 'class="btn primary">Quyết toán</button>' in panel  # asked first, but not a red button
    assert 'name="settled_on" id="so-settle"' in panel
    assert f'value="{timezone.localdate():%d/%m/%Y}"' in panel
    assert f"Từ ngày nghiệm thu {ACCEPTED_ON:%d/%m/%Y} đến hôm nay; để trống là hôm nay." in panel
    assert 'value="400.000.000"' in panel  # the approved amount, as before


def test_accept_panel_asks_first_and_the_red_steps_keep_their_question(users, client_as):
    de_an = advance(ready_de_an(users.centre), "in_implementation", users)
    page = client_as(users.province).get(reverse("projects:detail", args=[de_an.pk])).content.decode()
    assert ('data-confirm="Xác nhận nghiệm thu đề án? Sau khi nghiệm thu, đề án không quay lại giai đoạn thực hiện '
            'và biên bản nghiệm thu không xóa được nữa."') in _panel(page, "accept")
    assert "data-confirm" not in _panel(page, "request_adjustment")
    page = client_as(users.admin).get(reverse("projects:detail", args=[de_an.pk])).content.decode()
    assert 'data-confirm="Xác nhận: Hủy đề án? Thao tác này không hoàn tác được."' in _panel(page, "cancel")
    appraisal = advance(ready_de_an(users.centre), "under_appraisal", users)
    page = client_as(users.reviewer).get(reverse("projects:detail", args=[appraisal.pk])).content.decode()
    assert "data-confirm" not in _panel(page, "approve")
    assert 'data-confirm="Xác nhận: Không phê duyệt? Thao tác này không hoàn tác được."' in _panel(page, "reject")


STOP_QUESTION = ("Đây là đề nghị dừng thực hiện: chấp thuận thì đề án bị hủy (chuyển sang «Đã hủy») và không "
                 "hoàn tác được. Xác nhận chấp thuận dừng thực hiện đề án?")


def test_a_stop_adjustment_is_shown_as_such_and_its_approval_asks_first(users, client_as):
    de_an = advance(ready_de_an(users.centre), "in_implementation", users)
    services.de_an_request_adjustment(actor=users.centre, de_an=de_an, reason="Cơ sở ngừng sản xuất", stop=True,
                                      new_end_date=date(2026, 12, 31))
    confirm_adjustment(de_an)
    page = client_as(users.reviewer).get(reverse("projects:detail", args=[de_an.pk])).content.decode()
    panel = _panel(page, "approve_adjustment")
    assert f'data-confirm="{STOP_QUESTION}"' in panel
    assert "Đây là đề nghị dừng thực hiện: chấp thuận thì đề án bị hủy." in panel
    assert 'class="btn danger">Chấp thuận điều chỉnh</button>' in panel
    assert "Dừng thực hiện" in panel and "Thời gian kết thúc mới: 31/12/2026" in panel
    # Rejecting a stop keeps the đề án: shown, but not asked as a cancellation.
    assert "data-confirm" not in _panel(page, "reject_adjustment")
    assert "Dừng thực hiện" in _panel(page, "reject_adjustment")
    adjustments = page[page.index('id="h-adj"'):]
    adjustments = adjustments[:adjustments.index("</section>")]
    assert "Cơ sở ngừng sản xuất · <strong" in adjustments and "Dừng thực hiện" in adjustments
    assert "Thời gian kết thúc mới: 31/12/2026" in adjustments


def test_an_ordinary_adjustment_shows_its_flags_and_asks_nothing(users, client_as):
    de_an = advance(ready_de_an(users.centre), "in_implementation", users)
    services.de_an_request_adjustment(actor=users.centre, de_an=de_an, reason="Bổ sung tập huấn", new_content=True,
                                      extension=True, new_end_date=date(2028, 6, 30))
    confirm_adjustment(de_an)
    page = client_as(users.reviewer).get(reverse("projects:detail", args=[de_an.pk])).content.decode()
    panel = _panel(page, "approve_adjustment")
    assert "data-confirm" not in panel and "bị hủy" not in panel
    assert "Bổ sung nội dung" in panel and "Kéo dài sang năm sau" in panel
    assert "Thời gian kết thúc mới: 30/06/2028" in panel
    assert 'class="btn primary">Chấp thuận điều chỉnh</button>' in panel


def test_settle_with_its_real_date_through_the_page(users, client_as):
    de_an = advance(ready_de_an(users.centre), "accepted", users)
    response = client_as(users.reviewer).post(reverse("projects:transition", args=[de_an.pk]), {
        "action": "settle", "amount": "390.000.000", "settled_on": "20/11/2026", "settlement_document": "QT-7/2026"},
        follow=True)
    assert "Đã quyết toán đề án" in response.content.decode()
    de_an.refresh_from_db()
    assert de_an.status == "settled" and de_an.settled_amount == 390_000_000 and de_an.settled_on == date(2026, 11, 20)
    assert "390.000.000 đ (20/11/2026, văn bản số QT-7/2026)" in response.content.decode()


def test_settle_with_an_empty_date_is_settled_today(users, client_as):
    de_an = advance(ready_de_an(users.centre), "accepted", users)
    client_as(users.reviewer).post(reverse("projects:transition", args=[de_an.pk]), {
        "action": "settle", "amount": "390.000.000", "settled_on": "", "settlement_document": "QT-7/2026"})
    de_an.refresh_from_db()
    assert de_an.status == "settled" and de_an.settled_on == timezone.localdate()


def test_settle_refuses_a_bad_date_and_keeps_the_panel_open(users, client_as):
    from .factories import ACCEPTED_ON

    de_an = advance(ready_de_an(users.centre), "accepted", users)
    before = snapshot(de_an)
    url = reverse("projects:transition", args=[de_an.pk])
    c = client_as(users.reviewer)
    tomorrow = timezone.localdate() + timedelta(days=1)
    eve = ACCEPTED_ON - timedelta(days=1)
    cases = [
        (f"{tomorrow:%d/%m/%Y}", f"Ngày quyết toán {tomorrow:%d/%m/%Y} không được sau ngày hôm nay."),
        (f"{eve:%d/%m/%Y}", f"Ngày quyết toán {eve:%d/%m/%Y} không được trước ngày nghiệm thu {ACCEPTED_ON:%d/%m/%Y}."),
        ("31/02/2026", "Ngày quyết toán: Ngày «31/02/2026» không có trên lịch (tháng đó không có ngày này); "
                       "hãy kiểm tra lại."),
        ("3l/02/2026", "Ngày quyết toán: Ngày không hợp lệ; hãy nhập theo dạng dd/mm/yyyy, ví dụ 05/03/2026."),
    ]
    for typed, message in cases:
        response = c.post(url, {"action": "settle", "amount": "390.000.000", "settled_on": typed,
                                "settlement_document": "QT-7/2026"})
        assert response.status_code == 400, typed
        page = response.content.decode()
        assert 'id="action-settle" open' in page and message in page, typed
        assert f'value="{typed}"' in _panel(page, "settle")
    assert snapshot(de_an) == before
    de_an.refresh_from_db()
    assert de_an.settled_amount is None and de_an.settled_on is None


# --- attachments on the timeline, evidence kept -----------------------------------------------------------

def test_attachments_added_and_deleted_are_on_the_timeline(users, client_as, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    de_an = ready_de_an(users.centre)
    c = client_as(users.centre)
    c.post(reverse("projects:attachment_upload", args=[de_an.pk]),
           {"file": SimpleUploadedFile("bao-gia.pdf", pdf_file().read()), "kind": "quotation"})
    att = Attachment.objects.get(de_an=de_an)
    c.post(reverse("projects:attachment_delete", args=[att.pk]))
    page = c.get(reverse("projects:detail", args=[de_an.pk])).content.decode()
    timeline = page[page.index('id="dong-thoi-gian"'):]
    assert "<strong>Thêm tài liệu «bao-gia.pdf»</strong>" in timeline
    assert "<strong>Xóa tài liệu «bao-gia.pdf»</strong>" in timeline
    assert timeline.index("Thêm tài liệu «bao-gia.pdf»") < timeline.index("Xóa tài liệu «bao-gia.pdf»")
    assert '<div class="muted">Báo giá · ' in timeline


def test_acceptance_minutes_cannot_be_deleted_once_accepted(users, client_as, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    de_an = advance(ready_de_an(users.centre), "accepted", users)
    minutes = Attachment.objects.get(de_an=de_an, kind="acceptance_minutes")
    photo = services.attachment_add(actor=users.province, de_an=de_an, file=pdf_file("anh.pdf"), kind="photo")
    c = client_as(users.admin)
    page = c.get(reverse("projects:detail", args=[de_an.pk])).content.decode()
    assert reverse("projects:attachment_delete", args=[minutes.pk]) not in page  # no button for it …
    assert reverse("projects:attachment_delete", args=[photo.pk]) in page  # … the administrator's others keep theirs
    response = c.post(reverse("projects:attachment_delete", args=[minutes.pk]), follow=True)  # a forged post
    assert ("Không xóa được tài liệu «bien-ban.pdf» (Biên bản nghiệm thu): đây là căn cứ của bước «nghiệm thu» đã "
            "thực hiện, phải được giữ lại trong hồ sơ đề án.") in response.content.decode()
    assert Attachment.objects.filter(pk=minutes.pk).exists()


def test_transition_on_other_province_is_404_and_changes_nothing(users, client_as):
    other = ready_de_an(users.centre_other, province=current("19"))
    before = snapshot(other)
    response = client_as(users.centre).post(reverse("projects:transition", args=[other.pk]), {"action": "submit"})
    assert response.status_code == 404
    assert client_as(users.province).post(reverse("projects:comment", args=[other.pk]), {"text": "x"}).status_code == 404
    assert snapshot(other) == before


def test_unknown_action_is_refused(users, client_as):
    de_an = ready_de_an(users.centre)
    response = client_as(users.centre).post(reverse("projects:transition", args=[de_an.pk]), {"action": "explode"},
                                            follow=True)
    assert "Thao tác không được hỗ trợ." in response.content.decode()


def test_comment_required_text(users, client_as):
    de_an = ready_de_an(users.centre)
    response = client_as(users.centre).post(reverse("projects:comment", args=[de_an.pk]), {"text": ""}, follow=True)
    assert "Chưa nhập nội dung ý kiến." in response.content.decode()



def test_comment_sent_twice_is_kept_once(users, client_as):
    """A double click on «Gửi ý kiến»: one comment on the timeline. The same words later, or from
    someone else, are a new comment."""
    de_an = ready_de_an(users.centre)
    url = reverse("projects:comment", args=[de_an.pk])
    for _ in range(2):
        response = client_as(users.centre).post(url, {"text": "Đã bổ sung báo giá"}, follow=True)
        assert "Đã ghi ý kiến." in response.content.decode()
    assert Comment.objects.filter(de_an=de_an).count() == 1
    client_as(users.province).post(url, {"text": "Đã bổ sung báo giá"})
    assert Comment.objects.filter(de_an=de_an).count() == 2
    Comment.objects.filter(de_an=de_an, author=users.centre).update(
        created_at=timezone.now() - services.COMMENT_REPEAT_WINDOW - timedelta(seconds=1))
    client_as(users.centre).post(url, {"text": "Đã bổ sung báo giá"})
    assert Comment.objects.filter(de_an=de_an, author=users.centre).count() == 2

# --- queue and bulk approval --------------------------------------------------------------------

def test_queue_per_role(users, client_as):
    draft = ready_de_an(users.centre, name="Đề án nháp")
    submitted = services.de_an_submit(actor=users.centre, de_an=ready_de_an(users.centre, name="Đề án đã gửi"))
    body = client_as(users.centre).get(reverse("projects:queue")).content.decode()
    assert draft.code in body and submitted.code not in body
    body = client_as(users.province).get(reverse("projects:queue")).content.decode()
    assert submitted.code in body and draft.code not in body
    assert client_as(users.province_other).get(reverse("projects:queue")).content.decode().count(submitted.code) == 0


def test_bulk_approve_under_one_decision(users, client_as):
    a = advance(ready_de_an(users.centre), "under_appraisal", users)
    b = advance(ready_de_an(users.centre), "under_appraisal", users)
    allocate(a)
    body = client_as(users.reviewer).get(reverse("projects:queue")).content.decode()
    assert f'value="{a.pk}"' in body and "Phê duyệt các đề án đã chọn" in body
    response = client_as(users.reviewer).post(reverse("projects:bulk_approve"), {
        "ids": [a.pk, b.pk], "decision_number": "99/QĐ-CĐM", "decision_date": "2026-03-01"}, follow=True)
    assert "Đã phê duyệt 2 đề án theo quyết định số 99/QĐ-CĐM." in response.content.decode()
    for d in (a, b):
        d.refresh_from_db()
        assert d.status == "approved" and d.decision_number == "99/QĐ-CĐM"


def test_bulk_approve_all_or_none(users, client_as):
    a = advance(ready_de_an(users.centre), "under_appraisal", users)
    draft = ready_de_an(users.centre)
    allocate(a)
    before = snapshot(a), snapshot(draft)
    response = client_as(users.reviewer).post(reverse("projects:bulk_approve"), {
        "ids": [a.pk, draft.pk], "decision_number": "99/QĐ-CĐM", "decision_date": "2026-03-01"}, follow=True)
    assert "chưa đề án nào được phê duyệt" in response.content.decode()
    assert (snapshot(a), snapshot(draft)) == before


def test_bulk_approve_refuses_local_roles_and_forged_ids(users, client_as):
    a = advance(ready_de_an(users.centre), "under_appraisal", users)
    before = snapshot(a)
    data = {"ids": [a.pk], "decision_number": "1/QĐ", "decision_date": "2026-03-01"}
    assert client_as(users.province).post(reverse("projects:bulk_approve"), data).status_code == 403
    assert client_as(users.reviewer).post(reverse("projects:bulk_approve"), {**data, "ids": [a.pk, 99999999]}).status_code == 404
    response = client_as(users.reviewer).post(reverse("projects:bulk_approve"), {**data, "decision_number": ""}, follow=True)
    assert "Cần nhập số quyết định phê duyệt." in response.content.decode()
    assert snapshot(a) == before


def test_an_approval_decision_dated_after_today_is_refused(users, client_as):
    """A decision is recorded once signed: 31/12 typed for 31/10 must not reach the đề án page."""
    from datetime import timedelta

    from django.utils import timezone

    a = advance(ready_de_an(users.centre), "under_appraisal", users)
    allocate(a)
    before = snapshot(a)
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client_as(users.reviewer).post(reverse("projects:bulk_approve"), {
        "ids": [a.pk], "decision_number": "12/QĐ-BCT", "decision_date": tomorrow.isoformat()}, follow=True)
    assert f"Ngày quyết định {tomorrow:%d/%m/%Y} không được sau ngày hôm nay." in response.content.decode()
    assert snapshot(a) == before
    with pytest.raises(services.WorkflowError, match="không được sau ngày hôm nay"):
        services.de_an_approve(actor=users.reviewer, de_an=a, decision_number="12/QĐ-BCT", decision_date=tomorrow)
    assert snapshot(a) == before
    d = services.de_an_approve(actor=users.reviewer, de_an=a, decision_number="12/QĐ-BCT",
                               decision_date=timezone.localdate())
    assert d.status == "approved"


def test_a_decision_number_is_stored_as_written_on_the_decision(users):
    """«  45 /qd-bct » typed in a hurry is «45/QĐ-BCT» on the đề án page, the timeline and the export;
    a number that is not a document number keeps its words, without stray spaces."""
    from khuyencong.formatting import tidy_document_number
    from projects.models import Transition

    a = advance(ready_de_an(users.centre), "under_appraisal", users)
    allocate(a)
    d = services.de_an_approve(actor=users.reviewer, de_an=a, decision_number="  45 /qd-bct  ",
                               decision_date=date(2026, 3, 5))
    assert d.decision_number == "45/QĐ-BCT"
    assert Transition.objects.get(de_an=a, action="approve").decision_number == "45/QĐ-BCT"
    assert tidy_document_number(" 12 / UBND  tỉnh ") == "12/UBND tỉnh"
    assert tidy_document_number("123/2026/qđ-ubnd") == "123/2026/QĐ-UBND"


# --- attachments -------------------------------------------------------------------------------

def test_upload_and_download_attachment(users, client_as, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    de_an = ready_de_an(users.centre)
    upload = SimpleUploadedFile("Báo giá; máy/../chẻ nan.pdf", pdf_file().read(), content_type="application/pdf")
    response = client_as(users.centre).post(reverse("projects:attachment_upload", args=[de_an.pk]),
                                            {"file": upload, "kind": "quotation"}, follow=True)
    assert "Đã tải lên" in response.content.decode()
    att = Attachment.objects.get(de_an=de_an)
    assert "/" not in att.original_name and ";" not in att.original_name
    response = client_as(users.province).get(reverse("projects:attachment_download", args=[att.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    # Another province: 404, for download and delete.
    assert client_as(users.province_other).get(reverse("projects:attachment_download", args=[att.pk])).status_code == 404
    assert client_as(users.centre_other).post(reverse("projects:attachment_delete", args=[att.pk])).status_code == 404
    assert Attachment.objects.filter(pk=att.pk).exists()


def test_upload_refuses_wrong_type(users, client_as, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    de_an = ready_de_an(users.centre)
    upload = SimpleUploadedFile("virus.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    response = client_as(users.centre).post(reverse("projects:attachment_upload", args=[de_an.pk]),
                                            {"file": upload, "kind": "other"}, follow=True)
    assert "không được chấp nhận" in response.content.decode()
    fake = SimpleUploadedFile("gia.pdf", b"not a pdf at all", content_type="application/pdf")
    response = client_as(users.centre).post(reverse("projects:attachment_upload", args=[de_an.pk]),
                                            {"file": fake, "kind": "other"}, follow=True)
    assert "không đúng định dạng PDF" in response.content.decode()
    assert not Attachment.objects.filter(de_an=de_an).exists()
    other = ready_de_an(users.centre_other, province=current("19"))
    response = client_as(users.centre).post(reverse("projects:attachment_upload", args=[other.pk]),
                                            {"file": SimpleUploadedFile("a.pdf", pdf_file().read()), "kind": "other"})
    assert response.status_code == 404 and not Attachment.objects.filter(de_an=other).exists()


def test_an_empty_file_or_no_file_is_refused_in_plain_words(users, client_as, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    de_an = ready_de_an(users.centre)
    url = reverse("projects:attachment_upload", args=[de_an.pk])
    empty = SimpleUploadedFile("to-trinh.pdf", b"", content_type="application/pdf")
    page = client_as(users.centre).post(url, {"file": empty, "kind": "other"}, follow=True).content.decode()
    assert "không có nội dung (0 byte)" in page
    page = client_as(users.centre).post(url, {"kind": "other"}, follow=True).content.decode()
    assert "Chưa chọn tệp để tải lên." in page
    assert not Attachment.objects.filter(de_an=de_an).exists()
    assert not any(tmp_path.rglob("*.pdf"))


# --- notifications ----------------------------------------------------------------------------

def test_notifications_list_and_mark_read(users, client_as, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        de_an = services.de_an_submit(actor=users.centre, de_an=ready_de_an(users.centre))
    note = Notification.objects.get(recipient=users.province)
    c = client_as(users.province)
    body = c.get(reverse("projects:notifications")).content.decode()
    assert de_an.code in body and "Đánh dấu tất cả là đã đọc" in body
    other_note = Notification.objects.create(recipient=users.province_other, de_an=de_an, verb="x", message="m")
    c.post(reverse("projects:notifications_mark_read"), {"ids": [note.pk, other_note.pk]})
    note.refresh_from_db()
    other_note.refresh_from_db()
    assert note.read_at is not None and other_note.read_at is None


def test_a_user_moved_to_another_province_no_longer_reads_its_notifications(users, client_as):
    from khuyencong.models import Organisation
    from khuyencong.services import user_move

    de_an = ready_de_an(users.centre, name="Đề án riêng của Bắc Ninh")
    Notification.objects.create(recipient=users.province, de_an=de_an, verb="submit",
                                message="Ý kiến nội bộ về đề án riêng của Bắc Ninh")
    Notification.objects.create(recipient=users.province, de_an=None, verb="system", message="Thông báo chung")
    c = client_as(users.province)
    assert "Ý kiến nội bộ" in c.get(reverse("projects:notifications")).content.decode()
    user_move(actor=users.admin, user=users.province, organisation=Organisation.objects.get(code="so-ct-19"))
    body = c.get(reverse("projects:notifications")).content.decode()
    assert "Ý kiến nội bộ" not in body and "Đề án riêng của Bắc Ninh" not in body
    assert "Thông báo chung" in body
    assert "Ý kiến nội bộ" not in c.get("/").content.decode()


# --- establishment search partial -----------------------------------------------------------

def test_establishment_options_are_scoped(users, client_as):
    EstablishmentFactory(name="Cơ sở Đồng Kỵ", province=current("24"))
    EstablishmentFactory(name="Cơ sở Đồng Hỷ", province=current("19"))
    body = client_as(users.centre).get(reverse("projects:establishment_options"), {"q": "dong"}).content.decode()
    assert "Cơ sở Đồng Kỵ" in body and "Đồng Hỷ" not in body


# --- export -----------------------------------------------------------------------------------

def test_export_xlsx_is_scoped_filtered_and_neutralised(users, client_as):
    own = ready_de_an(users.centre, name="=HYPERLINK(\"http://x\")")
    ready_de_an(users.centre, name="@SUM(A1)", plan_year=2027)
    other = ready_de_an(users.centre_other, province=current("19"), name="Đề án tỉnh khác")
    response = client_as(users.centre).get(reverse("projects:export"), {"year": 2026, "current_province": current("19").pk})
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert response["Content-Disposition"].startswith("attachment;")
    values = [c.value for row in wb.active.iter_rows() for c in row]
    assert other.code not in values and "Đề án tỉnh khác" not in values
    response = client_as(users.centre).get(reverse("projects:export"), {"year": 2026})
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(wb.active.iter_rows(values_only=True))
    names = [r[2] for r in rows[3:]]
    assert names == ["'=HYPERLINK(\"http://x\")"]
    assert rows[3][1] == own.code
    assert rows[3][14] == own.national_amount
    assert rows[3][10].date() == date(2026, 3, 1)


def test_the_export_carries_the_provincial_decision_and_the_settlement(users, client_as):
    """A KCĐP đề án is approved by the UBND tỉnh: its decision and approved amount were missing."""
    d = advance(ready_de_an(users.centre, level=Level.LOCAL, name="Đề án KCĐP xuất Excel"), "submitted", users)
    services.de_an_approve_local(actor=users.province, de_an=d, decision_number="512/QĐ-UBND",
                                 decision_date=date(2026, 3, 9), approved_local_amount="90.000.000")
    response = client_as(users.province).get(reverse("projects:export"), {"year": 2026})
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True))
    header, row = rows[2], next(r for r in rows[3:] if r[1] == d.code)
    found = dict(zip(header, row, strict=True))
    assert found["KCĐP được duyệt (đồng)"] == 90_000_000
    assert found["Số quyết định của UBND tỉnh"] == "512/QĐ-UBND"
    assert found["Ngày quyết định của UBND tỉnh"].date() == date(2026, 3, 9)
    assert found["Kinh phí quyết toán (đồng)"] is None


def test_deep_pages_read_from_the_end_keep_order(users, client_as):
    for i in range(30):
        services.de_an_create(actor=users.centre, name=f"Đề án thứ {i:02d}", level=Level.NATIONAL, plan_year=2026)
    c = client_as(users.centre)
    body = c.get(reverse("projects:list") + "?sort=name&size=20&page=2").content.decode()
    positions = [body.index(f"Đề án thứ {i:02d}") for i in range(20, 30)]
    assert positions == sorted(positions)
    assert "Đề án thứ 19" not in body
    body = c.get(reverse("projects:list") + "?sort=-name&size=20&page=2").content.decode()
    positions = [body.index(f"Đề án thứ {i:02d}") for i in range(9, -1, -1)]
    assert positions == sorted(positions)


def test_search_count_is_capped(users, client_as, monkeypatch):
    from projects.views import Page

    monkeypatch.setattr(Page, "COUNT_CAP", 5)
    for i in range(8):
        services.de_an_create(actor=users.centre, name=f"Đề án Hòa Bình {i}", level=Level.NATIONAL, plan_year=2026)
    c = client_as(users.centre)
    body = c.get(reverse("projects:list"), {"q": "hoa binh", "size": 20}).content.decode()
    assert "1–8 trong hơn 5" in body
    body = c.get(reverse("projects:list"), {"q": "hoa binh"}).content.decode()
    assert body.count("Đề án Hòa Bình") == 8
    # Without a search the count is exact.
    assert "1–8 trong 8" in c.get(reverse("projects:list"), {"size": 20}).content.decode()


def test_admin_creates_de_an_for_a_chosen_province(users, client_as):
    data = _form_data(province=str(current("19").pk))
    response = client_as(users.admin).post(reverse("projects:create"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    de_an = DeAn.objects.get(name=data["name"])
    assert de_an.current_province == current("19")
    assert set(de_an.beneficiaries.values_list("establishment__province__code", flat=True)) == {"19"}


def test_edit_adds_a_new_beneficiary(users, client_as):
    de_an = ready_de_an(users.centre)
    data = _edit_data(de_an)
    n = int(data["ben-TOTAL_FORMS"])
    data.update({"ben-TOTAL_FORMS": str(n + 1), f"ben-{n}-name": "Tổ hợp tác Đan lát Đông Xuyên",
                 f"ben-{n}-legal_form": "cooperative_group", f"ben-{n}-commune": "Xã Đông Xuyên"})
    response = client_as(users.centre).post(reverse("projects:edit", args=[de_an.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert de_an.beneficiaries.filter(establishment__name="Tổ hợp tác Đan lát Đông Xuyên").exists()


def test_attachment_delete_refused_after_submission(users, client_as, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    de_an = ready_de_an(users.centre)
    att = services.attachment_add(actor=users.centre, de_an=de_an, file=pdf_file("bao-gia.pdf"), kind="quotation")
    services.de_an_submit(actor=users.centre, de_an=de_an)
    response = client_as(users.centre).post(reverse("projects:attachment_delete", args=[att.pk]), follow=True)
    assert "Chỉ xóa được tài liệu khi hồ sơ đề án đang soạn hoặc bị trả lại." in response.content.decode()
    assert Attachment.objects.filter(pk=att.pk).exists()


def test_notification_mark_read_by_htmx(users, client_as):
    note = Notification.objects.create(recipient=users.centre, verb="submit", message="Có đề án mới")
    Notification.objects.create(recipient=users.centre, verb="submit", message="Thông báo thứ hai")
    response = client_as(users.centre).post(reverse("projects:notifications_mark_read"), {"ids": [note.pk]},
                                            HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    # The row stays, read (no button); the unread count and a sentence for screen readers come out of band.
    row = body[:body.index("</tr>")]
    assert row.startswith(f'<tr id="tb-{note.pk}">') and "Có đề án mới" in row and "<button" not in row
    assert '<span id="unread-count" hx-swap-oob="innerHTML"><span class="badge">1<' in body
    assert '<div id="notif-status" hx-swap-oob="innerHTML">Đã đánh dấu đã đọc.</div>' in body
    note.refresh_from_db()
    assert note.read_at is not None
    page = client_as(users.centre).get(reverse("projects:notifications")).content.decode()
    assert 'id="notif-status"' in page and 'role="status"' in page and 'id="notif-heading" tabindex="-1"' in page


def test_export_refuses_too_many_rows(users, client_as, settings):
    settings.EXPORT_MAX_ROWS = 1
    ready_de_an(users.centre)
    ready_de_an(users.centre)
    response = client_as(users.centre).get(reverse("projects:export"), {"year": 2026}, follow=True)
    assert "vượt giới hạn một lần xuất Excel" in response.content.decode()
    assert response.redirect_chain[-1][0].endswith("?year=2026")


def test_filter_form_keeps_the_chosen_values(users, client_as):
    c = client_as(users.reviewer)
    hn = current("01")
    body = c.get(reverse("projects:list"), {"year": 2025, "level": "kcdp", "status": "approved",
                                            "current_province": hn.pk, "size": 20}).content.decode()
    assert '<option value="2025" selected>2025</option>' in body
    assert '<option value="kcdp" selected>' in body
    assert '<option value="approved" selected>' in body
    assert f'<option value="{hn.pk}" selected>{hn.name}</option>' in body
    assert '<option value="20" selected>20</option>' in body
    assert body.count(" selected>") == 5


def test_loading_the_reference_data_refreshes_the_list_filters(users, client_as):
    """The filters' choices are kept in process memory for minutes. Loading the reference data (a new
    database, a test's flush that renumbers the provinces) drops them, so the list never offers a
    province under a number that no longer exists (the cause of a flaky CI run: a page request still
    in flight during a flush had cached the old numbers)."""
    from khuyencong.reference import load_reference
    from projects import forms

    c = client_as(users.reviewer)
    hn = current("01")
    c.get(reverse("projects:list"))
    expires, lists = forms._CHOICES_CACHE["all"]
    forms._CHOICES_CACHE["all"] = (expires, {**lists, "provinces_current": [(hn.pk + 99_999, hn.name)],
                                             "generation": -1})
    stale = c.get(reverse("projects:list"), {"current_province": hn.pk}).content.decode()
    assert f'<option value="{hn.pk}" selected>' not in stale  # what the stale lists did
    load_reference()
    body = c.get(reverse("projects:list"), {"current_province": hn.pk}).content.decode()
    assert f'<option value="{hn.pk}" selected>{hn.name}</option>' in body
    assert f'value="{hn.pk + 99_999}"' not in body


def _attachments_section(body):
    start = body.index('id="tai-lieu"')
    return body[start:body.index("</section>", start)], body[:start]


def test_upload_refusal_and_success_are_told_inside_the_attachments_section(users, client_as, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    de_an = ready_de_an(users.centre)
    c = client_as(users.centre)
    url = reverse("projects:attachment_upload", args=[de_an.pk])
    response = c.post(url, {"file": SimpleUploadedFile("virus.exe", b"MZ\x90\x00"), "kind": "quotation",
                            "description": "Báo giá máy sấy"})
    assert response.status_code == 400  # the page again, not a redirect: the choices are kept
    section, above = _attachments_section(response.content.decode())
    assert 'role="alert"' in section and "Tệp «virus.exe» không được chấp nhận" in section
    assert "không được chấp nhận" not in above  # told once, where the page opens (the file field has the focus)
    assert '<option value="quotation" selected>' in section and 'value="Báo giá máy sấy"' in section
    assert re.search(r'<input type="file" name="file"[^>]*autofocus', section)
    assert 'aria-describedby="id_file_helptext"' in section
    response = c.post(url, {"kind": "other"}, follow=True)  # no file chosen
    section, _ = _attachments_section(response.content.decode())
    assert "Chưa chọn tệp để tải lên." in section
    response = c.post(url, {"file": SimpleUploadedFile("gia.pdf", pdf_file().read()), "kind": "quotation"}, follow=True)
    section, above = _attachments_section(response.content.decode())
    assert 'role="status"' in section and "Đã tải lên «gia.pdf»." in section and "Đã tải lên" not in above
    # Other messages still go to the top of the page.
    response = c.post(reverse("projects:comment", args=[de_an.pk]), {"text": ""}, follow=True)
    section, above = _attachments_section(response.content.decode())
    assert "Chưa nhập nội dung ý kiến." in above and "Chưa nhập nội dung ý kiến." not in section


@pytest.mark.parametrize("page", ["projects:queue", "projects:list"])
def test_a_refused_bulk_approval_comes_back_with_everything_kept(users, client_as, page):
    a = advance(ready_de_an(users.centre), "under_appraisal", users)
    b = advance(ready_de_an(users.centre), "under_appraisal", users)
    other = advance(ready_de_an(users.centre), "under_appraisal", users)
    draft = ready_de_an(users.centre)  # not under appraisal: the whole decision is refused
    before = snapshot(a), snapshot(b), snapshot(draft)
    back = reverse(page) + ("?sort=code" if page == "projects:list" else "")
    response = client_as(users.reviewer).post(reverse("projects:bulk_approve"), {
        "ids": [a.pk, b.pk, draft.pk], "decision_number": "77/QĐ-CĐM", "decision_date": "01/03/2026",
        "comment": "Theo biên bản thẩm định", "next": back})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'role="alert"' in body and "chưa đề án nào được phê duyệt" in body
    assert 'id="bulk-approve-errors" tabindex="-1" autofocus' in body  # below the list: the page opens at it
    assert 'value="77/QĐ-CĐM"' in body and 'value="01/03/2026"' in body and 'value="Theo biên bản thẩm định"' in body
    for d in (a, b):
        assert f'value="{d.pk}" form="bulk-form" aria-label="Chọn {d.code}" checked>' in body
    assert f'value="{other.pk}" form="bulk-form" aria-label="Chọn {other.code}">' in body
    assert f'name="next" value="{back}"' in body
    assert (snapshot(a), snapshot(b), snapshot(draft)) == before
    # A form error (no decision number) also keeps the rest.
    response = client_as(users.reviewer).post(reverse("projects:bulk_approve"), {
        "ids": [a.pk], "decision_number": "", "decision_date": "01/03/2026", "comment": "x", "next": back})
    body = response.content.decode()
    assert response.status_code == 400 and "Cần nhập số quyết định phê duyệt." in body
    assert 'value="01/03/2026"' in body and f'aria-label="Chọn {a.code}" checked>' in body


def test_the_unit_filter_tells_a_former_centre_from_its_namesake(users, client_as):
    import re

    from khuyencong.models import Organisation
    from projects import forms

    forms._CHOICES_CACHE.clear()
    name = "Trung tâm Khuyến công Thành phố Hồ Chí Minh"
    units = Organisation.objects.filter(name=name, kind__in=["centre", "regional_centre"])
    former, now = units.get(valid_to__isnull=False), units.get(valid_to__isnull=True)
    body = client_as(users.reviewer).get(reverse("projects:list")).content.decode()
    select = re.search(r'<select[^>]*name="implementing_unit".*?</select>', body, re.S)[0]
    assert f'<option value="{now.pk}">{name}</option>' in select
    assert f'<option value="{former.pk}">{name} (trước 07/2025)</option>' in select
    labels = re.findall(r"<option value=\"\d+\"[^>]*>([^<]*)</option>", select)
    assert len(labels) == len(set(labels))  # no two units read the same


def test_the_mark_read_button_says_what_it_does_under_a_column_header(users, client_as, django_capture_on_commit_callbacks):
    import re

    with django_capture_on_commit_callbacks(execute=True):
        services.de_an_submit(actor=users.centre, de_an=ready_de_an(users.centre))
    body = client_as(users.province).get(reverse("projects:notifications")).content.decode()
    head = re.search(r"<thead>.*?</thead>", body, re.S)[0]
    assert '<th scope="col">Thao tác</th>' in head and "visually-hidden" not in head
    rows = re.search(r"<tbody>.*?</tbody>", body, re.S)[0]
    button = re.search(r'<button type="submit" class="link"[^>]*>([^<]*)</button>', rows)
    assert button[1] == "Đánh dấu đã đọc"
    assert 'aria-label="Đánh dấu đã đọc thông báo lúc' in button[0]  # the visible words start its name


@pytest.mark.parametrize("typed, message", [
    ("hai triệu", "«hai triệu» không phải là số tiền hợp lệ."),
    ("- 2 triệu", "Số tiền «- 2 triệu» là số âm"),
    ("1.5 tỷ đồng", "Số «1.5 tỷ đồng» không rõ nghĩa"),
])
def test_a_money_error_quotes_the_whole_entry(users, client_as, typed, message):
    from khuyencong.formatting import MoneyError, parse_money

    with pytest.raises(MoneyError) as refused:
        parse_money(typed)
    assert message in str(refused.value)
    response = client_as(users.centre).post(reverse("projects:create"), _form_data(**{"line-0-amount": typed}))
    assert response.status_code == 400 and message in response.content.decode().replace("&laquo;", "«").replace("&raquo;", "»")


def test_the_attachment_form_says_the_size_limit_in_force(users, client_as, settings):
    settings.UPLOAD_MAX_BYTES = 3 * 1024 * 1024
    de_an = ready_de_an(users.centre)
    body = client_as(users.centre).get(reverse("projects:detail", args=[de_an.pk])).content.decode()
    assert "PDF, ảnh (JPG, PNG, WEBP), tài liệu Office. Dung lượng tối đa 3 MB." in body


def test_the_detail_writes_jobs_and_workers_with_vietnamese_separators(users, client_as):
    from projects.models import DeAnBeneficiary

    de_an = ready_de_an(users.centre)
    DeAn.objects.filter(pk=de_an.pk).update(expected_jobs=1200)
    est = DeAnBeneficiary.objects.filter(de_an=de_an).first().establishment
    Establishment.objects.filter(pk=est.pk).update(workers=1500)
    body = client_as(users.centre).get(reverse("projects:detail", args=[de_an.pk])).content.decode()
    assert "<dd>1.200</dd>" in body and '<td class="num">1.500</td>' in body


HUGE = "99999999999999999999999"  # past 64 bits: SQLite cannot bind it, PostgreSQL finds nothing


def test_a_forged_id_past_64_bits_is_refused_or_ignored_never_a_server_error(users, client_as):
    """In a đề án form's contents or beneficiary select, and in the ids of «mark as read»: a refusal in
    plain words, or nothing done — on SQLite too (it was «Python int too large to convert to SQLite
    INTEGER», a 500)."""
    from projects.models import Notification

    c = client_as(users.centre)
    before = DeAn.objects.count()
    response = c.post(reverse("projects:create"), _form_data(contents=[str(content("1.2").pk), HUGE]))
    assert response.status_code == 400 and "không phải là một giá trị hợp lệ" in response.content.decode()
    response = c.post(reverse("projects:create"), _form_data(**{"ben-0-establishment": HUGE}))
    assert response.status_code == 400
    assert "Cơ sở thụ hưởng không tồn tại hoặc thuộc tỉnh, thành phố khác." in response.content.decode()
    assert DeAn.objects.count() == before
    unread = Notification.objects.filter(recipient=users.centre, read_at__isnull=True).count()
    response = c.post(reverse("projects:notifications_mark_read"), {"ids": [HUGE, "abc"]})
    assert response.status_code == 302
    assert Notification.objects.filter(recipient=users.centre, read_at__isnull=True).count() == unread


def test_whole_numbers_keep_what_a_database_integer_holds():
    from khuyencong.security import whole_numbers

    assert whole_numbers(["1", "-2", " 3 ", "abc", "²", "", None, HUGE, str(2 ** 63 - 1), str(2 ** 63)]) == [
        1, -2, 3, 2 ** 63 - 1]
    assert whole_numbers("7") == [7] and whole_numbers(None) == [] and whole_numbers("") == []
