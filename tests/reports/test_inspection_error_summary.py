"""The inspection plan, mission and biên bản forms sent with errors open with a summary of them, as the
đề án form does: a role="alert" box at the top (it takes the focus), every error listed once, each
linked to its field (#id_…) — the form's own, the service's, and each recommendation row's or member
row's — and a page without errors has none."""
import re

import pytest
from django.urls import reverse

from reports.models import InspectionPlan, InspectionRecord, Mission
from tests.projects.factories import current
from tests.reports import inspection_factories as f

pytestmark = pytest.mark.django_db


def _summary(html):
    match = re.search(r'<div role="alert" id="form-errors" tabindex="-1" autofocus><ul class="errorlist">(.*?)</ul></div>',
                      html, re.S)
    assert match, "no error summary"
    assert html.index('id="form-errors"') < html.index("<form method=\"post\" class=\"card")  # above the form
    items = re.findall(r"<li>(.*?)</li>", match.group(1), re.S)
    links = re.findall(r'<a href="#([\w-]+)">(.*?)</a>', match.group(1), re.S)
    for anchor, _text in links:  # each link leads to an element of the page
        assert f'id="{anchor}"' in html, anchor
    return items, dict(links)


@pytest.fixture
def people(db):
    return {"reviewer": f.reviewer()}


def test_plan_form_errors_are_summarised_with_links(client, people):
    client.force_login(people["reviewer"])
    response = client.post(reverse("reports:inspection_plan_create"), {"year": "1990", "title": "",
                                                                       "decision_date": "31/02/2026"})
    assert response.status_code == 400
    html = response.content.decode()
    items, links = _summary(html)
    assert items[0] == "Hồ sơ chưa lưu: hãy sửa các ô được đánh dấu bên dưới."
    form = response.context["form"]
    assert set(links) == {f"id_{name}" for name in form.errors}
    assert {"id_year", "id_title", "id_decision_date"} <= set(links)
    assert links["id_title"].startswith("Tên kế hoạch: ")
    for name, errors in form.errors.items():
        assert all(str(e) in links[f"id_{name}"] for e in errors)
        assert f'id="id_{name}_error"' in html  # the inline message the field points to
    assert not InspectionPlan.objects.exists()


def test_no_summary_before_a_send(client, people):
    client.force_login(people["reviewer"])
    plan = f.plan(people["reviewer"])
    for url in (reverse("reports:inspection_plan_create"), reverse("reports:inspection_plan_edit", args=[plan.pk]),
                reverse("reports:inspection_mission_create", args=[plan.pk]), reverse("reports:inspection_record_create")):
        assert 'id="form-errors"' not in client.get(url).content.decode(), url


def test_a_service_refusal_is_summarised_without_a_link(client, people):
    """Editing a plan with a stale revision: the conflict is said at the top, with no «fix the marked
    fields» line (no field is marked)."""
    plan = f.plan(people["reviewer"])
    client.force_login(people["reviewer"])
    response = client.post(reverse("reports:inspection_plan_edit", args=[plan.pk]), {
        "title": plan.title, "revision": plan.revision - 1 if plan.revision else 99})
    assert response.status_code in (400, 409)
    items, links = _summary(response.content.decode())
    assert links == {} and items and "Hồ sơ chưa lưu" not in items[0]


def test_record_form_lists_each_error_once_linked_to_its_field_and_row(client, people):
    reviewer = people["reviewer"]
    d1, d2 = f.de_an("24"), f.de_an("24", status="approved")
    mission = f.mission(reviewer, f.plan(reviewer), [d1, d2])
    client.force_login(reviewer)
    url = reverse("reports:inspection_record_create") + f"?mission={mission.pk}"
    response = client.post(url, {
        "de_an": d2.pk, "inspected_on": "15/03/2026", "place": "", "conclusion": "on_schedule", "actual_jobs": "nhiều",
        "recs-TOTAL_FORMS": 3, "recs-INITIAL_FORMS": 0,
        "recs-0-text": "Bổ sung hồ sơ", "recs-0-deadline": "01/03/2026",
        "recs-1-text": "Lắp đặt máy", "recs-1-deadline": "ngày mai",
        "recs-2-text": "", "recs-2-deadline": ""})
    assert response.status_code == 400
    html = response.content.decode()
    items, links = _summary(html)
    assert set(links) == {"id_place", "id_actual_jobs", "id_recs-1-deadline"}  # the form's errors first
    assert links["id_recs-1-deadline"].startswith("Kiến nghị 2 — Thời hạn: ")
    # Once the form is valid, the service's row errors are listed, each linked to its row's field, once.
    response = client.post(url, {
        "de_an": d2.pk, "inspected_on": "15/03/2026", "place": "Cơ sở chè", "conclusion": "on_schedule",
        "recs-TOTAL_FORMS": 3, "recs-INITIAL_FORMS": 0,
        "recs-0-text": "Bổ sung hồ sơ", "recs-0-deadline": "01/03/2026",
        "recs-1-text": "Lắp đặt máy", "recs-1-deadline": "01/05/2026",
        "recs-2-text": "Báo cáo doanh thu", "recs-2-deadline": ""})
    assert response.status_code == 400
    html = response.content.decode()
    items, links = _summary(html)
    first = "Kiến nghị 1 («Bổ sung hồ sơ»): thời hạn 01/03/2026 không được trước ngày kiểm tra 15/03/2026."
    third = "Kiến nghị 3 («Báo cáo doanh thu»): cần có thời hạn thực hiện."
    assert links == {"id_recs-0-deadline": first, "id_recs-2-deadline": third}
    assert len(items) == 3 and html.count(first) == 2  # the summary's link and the row's own message
    assert 'id="id_recs-0-deadline_error"' in html and 'id="id_recs-2-deadline_error"' in html
    assert not InspectionRecord.objects.filter(de_an=d2).exists()


def test_mission_form_summarises_fields_and_members(client, people):
    reviewer = people["reviewer"]
    plan = f.plan(reviewer)
    d = f.de_an("24", year=2026, status="approved")
    client.force_login(reviewer)
    data = {"name": "", "provinces": [current("24").pk], "start_date": "02/04/2026", "de_an": [d.pk],
            "members-TOTAL_FORMS": 2, "members-INITIAL_FORMS": 0,
            "members-0-full_name": "Ngô Văn Đức", "members-0-role": "member",
            "members-1-full_name": "x" * 200, "members-1-role": "member"}
    response = client.post(reverse("reports:inspection_mission_create", args=[plan.pk]), data)
    assert response.status_code == 400
    items, links = _summary(response.content.decode())
    assert set(links) == {"id_name", "id_members-1-full_name"}
    assert links["id_members-1-full_name"].startswith("Thành viên 2 — Họ và tên: ")
    # The service's refusal of the members (no lead) is linked to the members' table.
    data.update({"name": "Đoàn 1", "members-1-full_name": "Phạm Thị Hoa"})
    response = client.post(reverse("reports:inspection_mission_create", args=[plan.pk]), data)
    assert response.status_code == 400
    html = response.content.decode()
    items, links = _summary(html)
    assert links == {"members": "Đoàn kiểm tra cần đúng một trưởng đoàn."}
    assert 'id="members_error"' in html and html.count("Đoàn kiểm tra cần đúng một trưởng đoàn.") == 2
    assert not Mission.objects.exists()
