"""The đề án filter of the mission form is part of the form: filtering shows the page again with the list
filtered and everything typed kept (no error messages), and never saves; a wrong filter year is shown
next to its field; what was ticked stays ticked whatever the filter, but a forged id never becomes a
choice."""
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from khuyencong.models import FormSubmission
from reports.models import Mission
from tests.projects.factories import current
from tests.reports import inspection_factories as f

pytestmark = pytest.mark.django_db


class _Form(HTMLParser):
    """What a rendered page would send back: input values, textarea texts, selected options and ticked
    boxes (by name), the options offered by each select or list of boxes, and the attributes of each
    input (by id). A <template>'s content (a row «Thêm …» copies) is not part of the form."""

    def __init__(self, html):
        super().__init__()
        self.values, self.options, self.selected, self.inputs = {}, {}, {}, {}
        self._select = self._textarea = None
        self._template = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "template":
            self._template += 1
        if self._template:
            return
        if tag == "input" and attrs.get("type") in ("checkbox", "radio") and attrs.get("name"):
            value = attrs.get("value", "on")
            self.options.setdefault(attrs["name"], []).append(value)
            ticked = self.selected.setdefault(attrs["name"], [])
            if "checked" in attrs:
                ticked.append(value)
            if attrs.get("id"):
                self.inputs[attrs["id"]] = attrs
        elif tag == "input" and attrs.get("name"):
            self.values[attrs["name"]] = attrs.get("value", "")
            if attrs.get("id"):
                self.inputs[attrs["id"]] = attrs
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self.values[self._textarea] = ""
        elif tag == "select":
            self._select = attrs["name"]
            self.options[self._select], self.selected[self._select] = [], []
        elif tag == "option" and self._select:
            self.options[self._select].append(attrs.get("value"))
            if "selected" in attrs:
                self.selected[self._select].append(attrs.get("value"))

    def handle_endtag(self, tag):
        if tag == "template":
            self._template -= 1
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data


@pytest.fixture
def world(db):
    reviewer = f.reviewer()
    d_2026, d_2024 = f.de_an("24", year=2026, status="approved"), f.de_an("24", year=2024)
    plan = f.plan(reviewer)
    return {"reviewer": reviewer, "plan": plan, "d_2026": d_2026, "d_2024": d_2024,
            "local": f.de_an("24", level="kcdp"),  # a local đề án: never a mission's choice
            "url": reverse("reports:inspection_mission_create", args=[plan.pk])}


def _typed(world, **extra):
    return {"name": "Đoàn kiểm tra miền núi phía Bắc", "provinces": [current("24").pk], "start_date": "02/04/2026",
            "end_date": "", "legal_basis": "Quyết định số 88/QĐ-ĐMST", "contents_to_check": "Tiến độ; thiết bị",
            "sites": "Xã Tân Cương", "de_an": [world["d_2026"].pk], "members-TOTAL_FORMS": 2,
            "members-INITIAL_FORMS": 0, "members-0-full_name": "Ngô Văn Đức", "members-0-job_title": "Chuyên viên",
            "members-0-role": "lead", "members-1-full_name": "Phạm Thị Hoa", "members-1-role": "member",
            "submission_key": "3f2b8c1e9a7d4e5f8a6b1c2d3e4f5a6b", **extra}


def test_filtering_keeps_what_was_typed_and_saves_nothing(client, world):
    client.force_login(world["reviewer"])
    response = client.post(world["url"], _typed(world, de_an_year="2024", loc_de_an="1"))
    assert response.status_code == 200
    body = response.content.decode()
    page = _Form(body)
    assert page.values["name"] == "Đoàn kiểm tra miền núi phía Bắc"
    assert page.values["start_date"] == "02/04/2026" and page.values["legal_basis"] == "Quyết định số 88/QĐ-ĐMST"
    assert page.values["contents_to_check"].strip() == "Tiến độ; thiết bị" and page.values["sites"].strip() == "Xã Tân Cương"
    assert page.selected["provinces"] == [str(current("24").pk)]
    assert (page.values["members-0-full_name"], page.values["members-0-job_title"], page.selected["members-0-role"]) == (
        "Ngô Văn Đức", "Chuyên viên", ["lead"])
    assert page.values["members-1-full_name"] == "Phạm Thị Hoa" and page.values["members-TOTAL_FORMS"] == "2"
    # The list is filtered to 2024, and the 2026 đề án ticked before stays (ticked).
    assert str(world["d_2024"].pk) in page.options["de_an"]
    assert page.selected["de_an"] == [str(world["d_2026"].pk)]
    assert page.values["de_an_year"] == "2024"
    assert "Đã lọc danh sách đề án. Đoàn kiểm tra chưa được lưu." in body
    assert "aria-invalid" not in body and "field-error" not in body  # filtering is not a failed save
    assert not Mission.objects.exists() and not FormSubmission.objects.exists()


def test_filtering_an_unfinished_form_shows_no_errors(client, world):
    """The name and the team leader are missing: a save would be refused, a filter is not."""
    client.force_login(world["reviewer"])
    response = client.post(world["url"], {"name": "", "members-TOTAL_FORMS": 1, "members-INITIAL_FORMS": 0,
                                          "members-0-full_name": "", "members-0-role": "member",
                                          "de_an_status": "approved", "loc_de_an": "1"})
    assert response.status_code == 200
    body = response.content.decode()
    page = _Form(body)
    assert "aria-invalid" not in body and "field-error" not in body and 'class="errorlist"' not in body
    assert page.options["de_an"] == [str(world["d_2026"].pk)]  # approved only
    assert page.selected["de_an_status"] == ["approved"]
    assert not Mission.objects.exists()


@pytest.mark.parametrize("year, message", [("1990", "Năm kế hoạch phải từ 2000 đến 2100."),
                                           ("2024a", "Năm kế hoạch phải là số có bốn chữ số, ví dụ 2024.")])
def test_a_wrong_filter_year_is_shown_next_to_it_and_nothing_is_lost(client, world, year, message):
    client.force_login(world["reviewer"])
    response = client.post(world["url"], _typed(world, de_an_year=year, loc_de_an="1"))
    assert response.status_code == 400
    body = response.content.decode()
    page = _Form(body)
    field = page.inputs["id_de_an_year"]
    assert field["value"] == year and field.get("aria-invalid") == "true"
    assert "id_de_an_year_error" in field["aria-describedby"]
    assert message in body.split('id="id_de_an_year_error"', 1)[1].split("</div></div>", 1)[0]
    assert page.values["name"] == "Đoàn kiểm tra miền núi phía Bắc"
    assert {str(world["d_2024"].pk), str(world["d_2026"].pk)} <= set(page.options["de_an"])  # not filtered
    assert not Mission.objects.exists()


def test_saving_after_filtering_keeps_the_ticked_de_an(client, world):
    """The filter now shows 2024 only, the 2026 đề án ticked earlier is still saved."""
    client.force_login(world["reviewer"])
    response = client.post(world["url"], _typed(world, de_an_year="2024", de_an=[world["d_2026"].pk,
                                                                                  world["d_2024"].pk]))
    mission = Mission.objects.get(name="Đoàn kiểm tra miền núi phía Bắc")
    assert response["Location"] == reverse("reports:inspection_mission", args=[mission.pk])
    assert set(mission.de_an.values_list("pk", flat=True)) == {world["d_2026"].pk, world["d_2024"].pk}


def test_a_forged_de_an_id_does_not_become_a_choice(client, world):
    client.force_login(world["reviewer"])
    for extra in ({"loc_de_an": "1"}, {}):
        response = client.post(world["url"], _typed(world, de_an=[world["local"].pk], **extra))
        page = _Form(response.content.decode())
        assert str(world["local"].pk) not in page.options["de_an"]
    assert response.status_code == 400  # the save is refused: not a valid choice
    assert not Mission.objects.exists()


def test_editing_filter_keeps_the_changes_and_leaves_the_mission(client, world):
    mission = f.mission(world["reviewer"], world["plan"], [world["d_2026"]])
    client.force_login(world["reviewer"])
    url = reverse("reports:inspection_mission_edit", args=[mission.pk])
    data = _typed(world, name="Tên mới chưa lưu", de_an_status="in_implementation", loc_de_an="1")
    data.pop("submission_key")
    response = client.post(url, data)
    assert response.status_code == 200
    page = _Form(response.content.decode())
    assert page.values["name"] == "Tên mới chưa lưu"
    assert page.selected["de_an"] == [str(world["d_2026"].pk)]
    mission.refresh_from_db()
    assert mission.name == "Đoàn kiểm tra số 1"


def test_the_address_still_pre_filters_the_list(client, world):
    client.force_login(world["reviewer"])
    response = client.get(world["url"], {"de_an_year": "2024"})
    assert response.status_code == 200
    page = _Form(response.content.decode())
    assert page.options["de_an"] == [str(world["d_2024"].pk)] and page.values["de_an_year"] == "2024"
    assert page.selected["members-0-role"] == ["lead"]
