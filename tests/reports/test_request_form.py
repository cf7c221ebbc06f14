"""The report request form: the inspection record is chosen from the records the user may see (named by
đề án, day and place), a forged or missing one is a Vietnamese field error, and nothing is queued then."""
import pytest
from django.urls import reverse

from reports.models import ReportJob
from tests.reports import inspection_factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    return {"reviewer": f.reviewer(), "centre": f.centre_user("24"), "other": f.province_user("19")}


@pytest.fixture
def records(people):
    mine, theirs = f.de_an("24"), f.de_an("19")
    mission = f.mission(people["reviewer"], f.plan(people["reviewer"]), [mine, theirs], provinces=("24", "19"))
    return {"mine": f.record(people["reviewer"], mine, mission), "theirs": f.record(people["reviewer"], theirs, mission)}


def _options(client):
    body = client.get(reverse("reports:job_list")).content.decode()
    start = body.index('name="record"')
    return body[start:body.index("</select>", start)]


def test_reviewer_chooses_among_every_record_by_de_an_day_and_place(client, people, records):
    client.force_login(people["reviewer"])
    options = _options(client)
    for record in records.values():
        label = f"{record.de_an.code} – {record.inspected_on:%d/%m/%Y} – {record.place}"
        assert f'value="{record.pk}">{label}</option>' in options
    assert "— Chọn biên bản kiểm tra —" in options


def test_province_user_is_offered_only_own_province_records(client, people, records):
    client.force_login(people["centre"])
    options = _options(client)
    assert f'value="{records["mine"].pk}"' in options
    assert f'value="{records["theirs"].pk}"' not in options


def test_forged_record_of_another_province_is_a_field_error(client, people, records):
    client.force_login(people["centre"])
    response = client.post(reverse("reports:request"), {"kind": "record", "record": records["theirs"].pk,
                                                        "year": 2026, "grouping": "current"})
    assert response.status_code == 400
    assert "Không tìm thấy biên bản kiểm tra này, hoặc bạn không có quyền xem." in response.content.decode()
    assert not ReportJob.objects.exists()


@pytest.mark.parametrize("data, message", [
    ({"kind": "record"}, "Chọn biên bản kiểm tra cần in."),
    ({"kind": "record", "record": "abc"}, "Không tìm thấy biên bản kiểm tra này, hoặc bạn không có quyền xem."),
    ({"kind": "province"}, "Báo cáo của tỉnh, thành phố cần chọn tỉnh, thành phố."),
])
def test_missing_or_malformed_choice_is_a_field_error(client, people, records, data, message):
    client.force_login(people["reviewer"])
    response = client.post(reverse("reports:request"), {"year": 2026, "grouping": "current", **data})
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body and 'class="field has-error"' in body
    assert not ReportJob.objects.exists()
