"""Accessibility of the portal's forms and tables, as found in the UI review: every input has a visible
(or visually hidden) <label for>, every ``aria-describedby`` Django writes points at an element that
exists (help text ``<id>_helptext``, errors ``<id>_error``), workflow inputs are labelled, table headers
carry ``scope``, and the sorted column says so (``aria-sort``)."""
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from khuyencong.models import Province
from tests.funding.factories import make_de_an
from tests.khuyencong.factories import centre_user, province_user, reviewer
from tests.reports import inspection_factories as insp

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _eager_celery(eager_celery):
    """Workflow services queue notification mail; run it in-process, as tests/projects does."""


class Page(HTMLParser):
    """The bits of a page these tests look at: form controls, labels, ids, table headers."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.controls, self.label_for, self.ids, self.ths = [], set(), {}, []
        self._stack, self._open_labels, self._text_of = [], 0, {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids[a["id"]] = self.ids.get(a["id"], 0) + 1
            self._text_of.setdefault(a["id"], "")
        if tag == "label":
            self._open_labels += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        if tag in ("input", "select", "textarea"):
            a["_in_label"] = self._open_labels > 0
            a["_tag"] = tag
            self.controls.append(a)
        if tag == "th":
            self.ths.append(a)
        if tag not in ("input", "br", "img", "meta", "link", "hr"):
            self._stack.append((tag, a.get("id")))

    def handle_endtag(self, tag):
        if tag == "label":
            self._open_labels = max(0, self._open_labels - 1)
        while self._stack:
            t, _ = self._stack.pop()
            if t == tag:
                break

    def handle_data(self, data):
        for _, ident in self._stack:
            if ident:
                self._text_of[ident] += data

    def text(self, ident):
        return " ".join(self._text_of.get(ident, "").split())

    def unlabelled(self):
        out = []
        for c in self.controls:
            if c.get("type") in ("hidden", "submit", "button") or c["_in_label"] or c.get("aria-label"):
                continue
            if not c.get("id") or c["id"] not in self.label_for:
                out.append(c.get("name") or c.get("id"))
        return out

    def dangling_describedby(self):
        return [(c.get("name"), ref) for c in self.controls for ref in (c.get("aria-describedby") or "").split()
                if ref not in self.ids]

    def control(self, name):
        return next(c for c in self.controls if c.get("name") == name)


def page(response):
    assert response.status_code in (200, 400), response.status_code
    return Page(response.content.decode())


def test_de_an_form_labels_every_input_including_budget_lines(client):
    client.force_login(centre_user("24"))
    p = page(client.get(reverse("projects:create")))
    assert "line-0-amount" in [c.get("name") for c in p.controls]
    assert p.unlabelled() == []
    assert p.dangling_describedby() == []
    # Django points the multi-select at its help text; the text must be there under that id.
    assert "Ctrl" in p.text("id_contents_helptext")


def test_de_an_form_errors_are_linked_to_their_inputs(client):
    client.force_login(centre_user("24"))
    p = page(client.post(reverse("projects:create"), {
        "name": "", "level": "kcqg", "kind": "normal", "plan_year": "2026",
        "ben-TOTAL_FORMS": "0", "ben-INITIAL_FORMS": "0",
        "line-TOTAL_FORMS": "1", "line-INITIAL_FORMS": "0",
        "line-0-description": "Thuê chuyên gia", "line-0-source": "national", "line-0-amount": "1,5abc",
    }))
    assert p.dangling_describedby() == []
    name = p.control("name")
    assert name.get("aria-invalid") == "true" and "id_name_error" in name["aria-describedby"].split()
    assert "bắt buộc" in p.text("id_name_error")
    amount = p.control("line-0-amount")
    assert "id_line-0-amount_error" in amount["aria-describedby"].split()
    assert "1,5abc" in p.text("id_line-0-amount_error")


def test_login_errors_are_linked_to_their_inputs(client):
    p = page(client.post(reverse("login"), {"username": "", "password": ""}))
    assert p.unlabelled() == []
    assert p.dangling_describedby() == []
    assert p.text("id_username_error")


def test_workflow_amount_input_is_the_one_its_label_names(client):
    d = make_de_an(province=Province.objects.get(code="24", era="current"), year=2026, status="under_appraisal",
                   name="Đề án đang thẩm định")
    client.force_login(reviewer())
    p = page(client.get(reverse("projects:detail", args=[d.pk])))
    assert "am-approve" in p.label_for and p.ids.get("am-approve") == 1
    assert p.control("amount").get("id") == "am-approve"
    assert p.unlabelled() == []
    assert [i for i, n in p.ids.items() if n > 1] == []


def test_disbursement_form_help_and_errors_are_linked(client):
    d = make_de_an(province=Province.objects.get(code="24", era="current"), year=2026, status="approved",
                   approved_national_amount=100_000_000, name="Đề án máy sấy nông sản")
    client.force_login(province_user("24"))
    url = reverse("funding:de_an_money", kwargs={"de_an_id": d.pk})
    first = client.get(url)
    p = page(first)
    assert p.unlabelled() == [] and p.dangling_describedby() == []
    key = re.search(r'name="request_key" value="([0-9a-f]{32})"', first.content.decode()).group(1)
    p = page(client.post(url, {"kind": "advance", "amount": "mười triệu", "date": "05/03/2026",
                               "document_number": "15/TU", "request_key": key}))
    assert p.dangling_describedby() == []
    assert "id_amount_error" in p.control("amount")["aria-describedby"].split()


def test_report_request_form_help_text_exists(client):
    client.force_login(reviewer())
    p = page(client.get(reverse("reports:job_list")))
    assert p.unlabelled() == [] and p.dangling_describedby() == []


@pytest.fixture
def inspection_world():
    boss = insp.reviewer()
    d = insp.de_an("24")
    plan = insp.plan(boss)
    mission = insp.mission(boss, plan, [d], provinces=("24",))
    record = insp.record(boss, d, mission)
    return {"boss": boss, "plan": plan, "mission": mission, "record": record}


def test_inspection_forms_label_their_formset_rows(client, inspection_world):
    client.force_login(inspection_world["boss"])
    for url in (reverse("reports:inspection_record_edit", args=[inspection_world["record"].pk]),
                reverse("reports:inspection_mission_edit", args=[inspection_world["mission"].pk]),
                reverse("reports:inspection_plan_create")):
        p = page(client.get(url))
        assert p.unlabelled() == [], url
        assert p.dangling_describedby() == [], url


def test_inspection_tables_have_scoped_headers(client, inspection_world):
    client.force_login(inspection_world["boss"])
    for url in (reverse("reports:inspection_plans"), reverse("reports:inspection_plan", args=[inspection_world["plan"].pk]),
                reverse("reports:inspection_mission", args=[inspection_world["mission"].pk]),
                reverse("reports:inspection_records"), reverse("reports:inspection_recommendations"),
                reverse("reports:inspection_record", args=[inspection_world["record"].pk])):
        p = page(client.get(url))
        assert p.ths, url
        assert [th for th in p.ths if not th.get("scope")] == [], url


def test_action_columns_have_a_name(client):
    client.force_login(centre_user("24"))
    body = client.get(reverse("projects:notifications")).content.decode()
    assert '<th scope="col"></th>' not in body
    assert '<th scope="col">Thao tác</th>' in body  # a visible name: the button under it is an action


def test_sorted_column_is_announced(client):
    make_de_an(province=Province.objects.get(code="24", era="current"), year=2026, status="draft", name="Đề án A")
    client.force_login(centre_user("24"))
    body = client.get(reverse("projects:list") + "?sort=-total").content.decode()
    assert body.count("aria-sort=") == 1
    assert re.search(r'<th scope="col" class="num" aria-sort="descending"><a class="sort-link"[^>]*sort=total"', body)


def test_the_activity_select_of_a_budget_line_asks_in_vietnamese():
    from projects.forms import BudgetLineForm

    html = str(BudgetLineForm()["content"])
    assert "— Chọn nội dung —" in html and "---------" not in html
