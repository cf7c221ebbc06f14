"""The mission and biên bản forms as the server renders them for «Thêm thành viên», «Thêm kiến nghị» and
the filterable lists of ticked boxes (static/js/form_rows.js, mission_form.js; the browser test
test_inspection_rows_e2e.py drives them): the row to copy is the formset's empty form in a <template>
(«__prefix__», «__num__»), the button is a real type="button" hidden until the script shows it, rows
added beyond the extra ones are saved; provinces and đề án are labelled checkboxes in a fieldset that
work without JavaScript, with a count of the ticked ones."""
import re
from datetime import date

import pytest
from django.urls import reverse

from reports.models import InspectionRecord, Mission
from tests.projects.factories import current
from tests.reports import inspection_factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    return {"reviewer": f.reviewer()}


@pytest.fixture
def world(people):
    d1, d2 = f.de_an("24"), f.de_an("24", status="approved")
    plan = f.plan(people["reviewer"])
    mission = f.mission(people["reviewer"], plan, [d1], follow_up_deadline=date(2026, 9, 30))
    record = f.record(people["reviewer"], d1, mission)
    return {"plan": plan, "mission": mission, "record": record, "d1": d1, "d2": d2}


def _template(body, ident):
    return re.search(rf'<template id="{ident}">(.*?)</template>', body, re.S).group(1)


def test_the_mission_form_carries_the_member_row_to_copy(client, people, world):
    client.force_login(people["reviewer"])
    body = client.get(reverse("reports:inspection_mission_edit", args=[world["mission"].pk])).content.decode()
    row = _template(body, "members-template")
    assert 'name="members-__prefix__-full_name"' in row and 'id="id_members-__prefix__-full_name"' in row
    assert '<label class="visually-hidden" for="id_members-__prefix__-full_name">Họ và tên, thành viên __num__</label>' in row
    assert re.search(r'<option value="member" selected>Thành viên</option>', row)
    assert '<button type="button" class="btn" hidden>Thêm thành viên</button>' in body
    assert 'data-add-row="members" data-template="members-template" data-rows="members-rows"' in body
    assert "Đoàn có tối đa 30 thành viên." in body
    assert re.search(r'<p class="helptext" data-without-js>Để thêm thành viên, lưu rồi mở lại trang sửa', body)
    assert 'id="id_members-TOTAL_FORMS"' in body and 'id="id_members-MAX_NUM_FORMS"' in body
    assert "js/form_rows.js" in body


def test_the_record_form_carries_the_recommendation_row_to_copy(client, people, world):
    client.force_login(people["reviewer"])
    url = reverse("reports:inspection_record_create") + f"?mission={world['mission'].pk}"
    body = client.get(url).content.decode()
    row = _template(body, "recs-template")
    assert 'name="recs-__prefix__-text"' in row and "Kiến nghị __num__</label>" in row
    assert re.search(r'name="recs-__prefix__-deadline" value="30/09/2026"', row)  # due when the mission asked
    assert '<button type="button" class="btn" hidden>Thêm kiến nghị</button>' in body
    assert "js/form_rows.js" in body


def test_members_added_beyond_the_empty_rows_are_saved(client, people, world):
    """What the page sends after «Thêm thành viên» twice: six rows, the last ones filled."""
    mission = world["mission"]
    client.force_login(people["reviewer"])
    data = {"revision": mission.revision, "name": mission.name, "provinces": [current("24").pk],
            "start_date": "02/03/2026", "end_date": "20/03/2026", "de_an": [world["d1"].pk],
            "members-TOTAL_FORMS": 6, "members-INITIAL_FORMS": 0, "members-MAX_NUM_FORMS": 30,
            "members-0-full_name": "Trần Thị Bình", "members-0-role": "lead"}
    for i in range(1, 4):
        data[f"members-{i}-role"] = "member"
    data.update({"members-4-full_name": "Phạm Thu Hà", "members-4-role": "secretary",
                 "members-5-full_name": "Đỗ Minh Khôi", "members-5-job_title": "Chuyên viên", "members-5-role": "member"})
    response = client.post(reverse("reports:inspection_mission_edit", args=[mission.pk]), data)
    assert response.status_code == 302, response.content.decode()[:1500]
    assert list(Mission.objects.get(pk=mission.pk).members.values_list("full_name", "role")) == [
        ("Trần Thị Bình", "lead"), ("Phạm Thu Hà", "secretary"), ("Đỗ Minh Khôi", "member")]


def test_recommendations_added_beyond_the_empty_rows_are_saved(client, people, world):
    record = world["record"]
    rec = record.recommendations.get()
    client.force_login(people["reviewer"])
    data = {"revision": record.revision, "inspected_on": "10/03/2026", "place": record.place,
            "conclusion": record.conclusion, "disbursed_amount": "150.000.000",
            "recs-TOTAL_FORMS": 4, "recs-INITIAL_FORMS": 1, "recs-0-id": rec.pk, "recs-0-text": rec.text,
            "recs-0-deadline": "30/06/2026", "recs-3-text": "Gửi ảnh máy sấy đã vận hành.", "recs-3-deadline": "31/10/2026"}
    response = client.post(reverse("reports:inspection_record_edit", args=[record.pk]), data)
    assert response.status_code == 302, response.content.decode()[:1500]
    assert list(InspectionRecord.objects.get(pk=record.pk).recommendations.values_list("text", "deadline")) == [
        (rec.text, date(2026, 6, 30)), ("Gửi ảnh máy sấy đã vận hành.", date(2026, 10, 31))]


def test_provinces_and_de_an_are_labelled_checkboxes_with_a_count(client, people, world):
    client.force_login(people["reviewer"])
    body = client.get(reverse("reports:inspection_mission_edit", args=[world["mission"].pk])).content.decode()
    assert "<select" not in body.split('id="id_provinces"', 1)[1].split("</fieldset>", 1)[0]
    for name, ticked, legend in (("provinces", current("24").pk, "Tỉnh, thành phố đoàn đến *"),
                                 ("de_an", world["d1"].pk, "Đề án được kiểm tra")):
        box = body.split(f'id="id_{name}"', 1)[1].split("</fieldset>", 1)[0]
        assert f"<legend>{legend}</legend>" in box
        boxes = re.findall(rf'<label for="(id_{name}_\d+)"><input type="checkbox" name="{name}" value="(\d+)"([^>]*)>', box)
        assert boxes and all(f'id="{ident}"' in attrs for ident, _v, attrs in boxes)  # each box in its own label
        assert [v for _i, v, attrs in boxes if "checked" in attrs] == [str(ticked)]
        assert '<p class="pick-count" role="status" data-pick-count>Đã chọn: 1</p>' in box
        assert re.search(rf'<div class="pick-filter" hidden>\s*<label for="id_{name}_filter">', box)  # shown by the script
    de_an_box = body.split('id="id_de_an"', 1)[1].split("</fieldset>", 1)[0]
    assert world["d2"].code in de_an_box  # offered, not ticked
    assert 'data-count-template="Đã chọn: {n}"' in body


def test_an_error_of_a_list_links_to_its_fieldset(client, people, world):
    client.force_login(people["reviewer"])
    response = client.post(reverse("reports:inspection_mission_create", args=[world["plan"].pk]), {
        "name": "Đoàn số 2", "members-TOTAL_FORMS": 1, "members-INITIAL_FORMS": 0,
        "members-0-full_name": "Ngô Văn Đức", "members-0-role": "lead"})
    assert response.status_code == 400
    body = response.content.decode()
    top = body.split('id="form-errors"', 1)[1].split("</ul>", 1)[0]
    assert '<a href="#id_provinces">Tỉnh, thành phố đoàn đến:' in top
    assert re.search(r'<fieldset class="field pick-list has-error" id="id_provinces" tabindex="-1" data-pick-list\s+'
                     r'aria-describedby="id_provinces_error"', body)
    assert not Mission.objects.filter(name="Đoàn số 2").exists()
