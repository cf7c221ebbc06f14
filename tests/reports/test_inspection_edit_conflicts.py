"""Editing plans, missions and records: the same edit form sent twice (a double click, the back button
and «Lưu» again) saves once — a biên bản's new recommendations are not added twice — and tells the
person in Vietnamese; two people editing the same plan, mission or biên bản do not silently overwrite
each other: the second save answers 409 with the form as typed and who saved in between, and nothing
of it is written."""
from datetime import date

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from khuyencong import submissions
from khuyencong.models import AuditEvent
from reports import inspection_services as svc
from reports.models import InspectionPlan, InspectionRecord, Mission, Recommendation
from tests.projects.factories import current
from tests.reports import inspection_factories as f
from tests.reports.test_mission_filter import _Form

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    return {"first": f.reviewer(first_name="Trần Thị", last_name="Hạnh"),
            "second": f.reviewer(first_name="Lê Văn", last_name="Minh")}


@pytest.fixture
def world(people):
    d1 = f.de_an("24")
    plan = f.plan(people["first"])
    mission = f.mission(people["first"], plan, [d1])
    record = f.record(people["first"], d1, mission)
    return {"plan": plan, "mission": mission, "record": record}


def _sent(client, url):
    """What the edit page, as shown now, sends back when saved without a change."""
    page = _Form(client.get(url).content.decode())
    data = dict(page.values)
    data.update({name: values for name, values in page.selected.items()})
    return data


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- a form sent twice ----------------------------------------------------------------------------------

def test_record_edit_sent_twice_adds_the_new_recommendation_once(client, people, world):
    record = world["record"]
    client.force_login(people["first"])
    url = reverse("reports:inspection_record_edit", args=[record.pk])
    data = _sent(client, url)
    assert data["revision"] == "1" and data[submissions.FIELD]
    data.update({"recs-1-text": "Bổ sung nhật ký vận hành máy sấy.", "recs-1-deadline": "30/06/2026"})

    first = client.post(url, data)
    second = client.post(url, data)

    assert first.status_code == 302 and second.status_code == 302
    assert second["Location"] == reverse("reports:inspection_record", args=[record.pk])
    assert str(submissions.ALREADY_SUBMITTED_MESSAGE) in _messages(second)
    assert Recommendation.objects.filter(record=record, text="Bổ sung nhật ký vận hành máy sấy.").count() == 1
    assert record.recommendations.count() == 2
    record.refresh_from_db()
    assert record.revision == 2
    assert AuditEvent.objects.filter(action="inspection_record.update", object_id=str(record.pk)).count() == 1


def test_record_edit_sent_again_without_its_key_is_a_conflict(client, people, world):
    """A copy of the form without the one-time key (an old page, a script): the revision still stops it."""
    record = world["record"]
    client.force_login(people["first"])
    url = reverse("reports:inspection_record_edit", args=[record.pk])
    data = _sent(client, url)
    data.pop(submissions.FIELD)
    data.update({"recs-1-text": "Bổ sung nhật ký vận hành máy sấy.", "recs-1-deadline": "30/06/2026"})

    assert client.post(url, data).status_code == 302
    again = client.post(url, data)

    assert again.status_code == 409
    body = again.content.decode()
    assert "Biên bản kiểm tra đề án" in body and "Trần Thị Hạnh" in body and "chưa được lưu" in body
    assert Recommendation.objects.filter(record=record, text="Bổ sung nhật ký vận hành máy sấy.").count() == 1


# --- two people at once -------------------------------------------------------------------------------

EDITS = {
    "plan": ("reports:inspection_plan_edit", "title", "Kế hoạch kiểm tra năm 2026 (bản của Hạnh)",
             "Kế hoạch kiểm tra năm 2026 (bản của Minh)", "Kế hoạch kiểm tra, giám sát năm 2026"),
    "mission": ("reports:inspection_mission_edit", "name", "Đoàn số 1 (bản của Hạnh)", "Đoàn số 1 (bản của Minh)",
                "Đoàn kiểm tra số 1"),
    "record": ("reports:inspection_record_edit", "place", "Xưởng chè (bản của Hạnh)", "Xưởng chè (bản của Minh)",
               "Xưởng chế biến chè"),
}


def _obj(world, kind):
    model = {"plan": InspectionPlan, "mission": Mission, "record": InspectionRecord}[kind]
    return model.objects.get(pk=world[kind].pk)


@pytest.mark.parametrize("kind", EDITS)
def test_a_stale_edit_form_is_refused_with_who_saved_in_between(client, people, world, kind):
    url_name, field, first_value, second_value, _title = EDITS[kind]
    url = reverse(url_name, args=[world[kind].pk])
    client.force_login(people["first"])
    first = _sent(client, url)
    client.force_login(people["second"])
    second = _sent(client, url)  # both opened the form at revision 1

    client.force_login(people["first"])
    first[field] = first_value
    assert client.post(url, first).status_code == 302
    assert _obj(world, kind).revision == 2

    client.force_login(people["second"])
    second[field] = second_value
    response = client.post(url, second)

    assert response.status_code == 409
    body = response.content.decode()
    assert "đã được Trần Thị Hạnh lưu lúc" in body and "Thay đổi của bạn chưa được lưu" in body
    assert _Form(body).values[field] == second_value  # the form as typed
    row = _obj(world, kind)
    assert getattr(row, field) == first_value and row.revision == 2  # nothing overwritten


@pytest.mark.parametrize("kind", EDITS)
def test_a_fresh_edit_form_saves_and_increments_the_revision(client, people, world, kind):
    url_name, field, first_value, second_value, _title = EDITS[kind]
    url = reverse(url_name, args=[world[kind].pk])
    client.force_login(people["second"])
    for value, revision in ((first_value, 2), (second_value, 3)):
        data = _sent(client, url)  # opened again after each save: the new revision
        data[field] = value
        assert client.post(url, data).status_code == 302
        row = _obj(world, kind)
        assert getattr(row, field) == value and row.revision == revision


@pytest.mark.parametrize("kind", EDITS)
def test_an_edit_form_without_its_revision_saves_nothing(client, people, world, kind):
    url_name, field, first_value, _second, title = EDITS[kind]
    url = reverse(url_name, args=[world[kind].pk])
    client.force_login(people["first"])
    data = _sent(client, url)
    data.pop("revision")
    data[field] = first_value
    response = client.post(url, data)
    assert response.status_code == 400 and "Thiếu phiên bản" in response.content.decode()
    assert getattr(_obj(world, kind), field).startswith(title)


# --- the services ---------------------------------------------------------------------------------------

def _updates(world, people):
    plan, mission, record = world["plan"], world["mission"], world["record"]
    return {
        "plan": lambda revision: svc.inspection_plan_update(
            actor=people["second"], plan=plan, revision=revision, title="Kế hoạch mới",
            decision_number=plan.decision_number, decision_date=plan.decision_date),
        "mission": lambda revision: svc.mission_update(
            actor=people["second"], mission=mission, revision=revision, name="Đoàn mới", provinces=[current("24")],
            members=[f.LEAD], de_an=list(mission.de_an.all()), start_date=mission.start_date,
            end_date=mission.end_date),
        "record": lambda revision: svc.inspection_record_update(
            actor=people["second"], record=record, revision=revision, inspected_on=record.inspected_on,
            place="Nơi mới", recommendations=[{"text": "Kiến nghị mới", "deadline": date(2026, 9, 30)}]),
    }


@pytest.mark.parametrize("kind", EDITS)
def test_service_refuses_a_stale_revision_and_writes_nothing(people, world, kind):
    update = _updates(world, people)[kind]
    before = (_obj(world, kind).revision, Recommendation.objects.count(), AuditEvent.objects.count())
    for stale in (0, 2, None):
        with pytest.raises(svc.ConflictError) as info:
            update(stale)
        assert "Thay đổi của bạn chưa được lưu" in str(info.value)
    assert (_obj(world, kind).revision, Recommendation.objects.count(), AuditEvent.objects.count()) == before
    update(1)
    assert _obj(world, kind).revision == 2
    with pytest.raises(svc.ConflictError) as info:
        update(1)  # the same call again: refused, naming who saved
    assert "Lê Văn Minh" in str(info.value)
    assert Recommendation.objects.filter(text="Kiến nghị mới").count() == (1 if kind == "record" else 0)


def test_saving_a_plan_unchanged_keeps_its_revision(people, world):
    plan = world["plan"]
    svc.inspection_plan_update(actor=people["first"], plan=plan, revision=1, title=plan.title,
                               decision_number=plan.decision_number, decision_date=plan.decision_date,
                               legal_basis=plan.legal_basis, purpose=plan.purpose)
    plan.refresh_from_db()
    assert plan.revision == 1
