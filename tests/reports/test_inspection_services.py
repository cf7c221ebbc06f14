"""Inspection services: each write and each refusal (Vietnamese reason, nothing changed)."""
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from khuyencong.models import AuditEvent
from reports import inspection_services as svc
from reports.models import FollowUp, InspectionPlan, InspectionRecord, Mission, MissionMember, Recommendation
from tests.projects.factories import current
from tests.reports import inspection_factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    return {"reviewer": f.reviewer(), "admin": f.admin_user(), "centre": f.centre_user("24"),
            "province": f.province_user("24"), "other": f.province_user("19"), "other_centre": f.centre_user("19")}


@pytest.fixture
def world(people):
    d1, d2 = f.de_an("24"), f.de_an("24", status="approved")
    d_other = f.de_an("19")
    plan = f.plan(people["reviewer"])
    mission = f.mission(people["reviewer"], plan, [d1, d2, d_other], provinces=("24", "19"))
    rec = f.record(people["reviewer"], d1, mission)
    return {"plan": plan, "mission": mission, "record": rec, "d1": d1, "d2": d2, "d_other": d_other,
            "rec": rec.recommendations.get()}


def _snapshot():
    return (
        tuple(InspectionPlan.objects.values_list("pk", "title", "decision_number", "decision_date")),
        tuple(Mission.objects.values_list("pk", "name", "start_date", "end_date")),
        tuple(MissionMember.objects.values_list("pk", "full_name", "role")),
        tuple(InspectionRecord.objects.values_list("pk", "place", "inspected_on", "conclusion")),
        tuple(Recommendation.objects.values_list("pk", "text", "deadline", "status", "response", "closed_at")),
        AuditEvent.objects.count(),
    )


def _refused(call, *, words, exc=(PermissionDenied, ValidationError)):
    before = _snapshot()
    with pytest.raises(exc) as info:
        call()
    message = " ".join(info.value.messages) if isinstance(info.value, ValidationError) else str(info.value)
    assert words in message, message
    assert _snapshot() == before
    return message


# --- plans --------------------------------------------------------------------------------------------

def test_plan_create_canonical_number_and_audit(people):
    plan = svc.inspection_plan_create(actor=people["reviewer"], year=2026, title="  Kế hoạch năm 2026 ",
                                      decision_number="55/QD-BCT", decision_date=date(2026, 1, 5))
    assert plan.decision_number == "55/QĐ-BCT"
    assert plan.title == "Kế hoạch năm 2026"
    assert plan.created_by == people["reviewer"]
    event = AuditEvent.objects.get(action="inspection_plan.create")
    assert event.actor == people["reviewer"] and event.object_id == str(plan.pk)


def test_plan_update_records_changes(people):
    plan = f.plan(people["reviewer"])
    svc.inspection_plan_update(actor=people["admin"], plan=plan, revision=plan.revision, title="Kế hoạch sửa", decision_number="56/QĐ-ĐMST",
                               decision_date=date(2026, 1, 12), purpose="Đánh giá hiệu quả")
    plan.refresh_from_db()
    assert (plan.title, plan.decision_number, plan.purpose) == ("Kế hoạch sửa", "56/QĐ-ĐMST", "Đánh giá hiệu quả")
    event = AuditEvent.objects.get(action="inspection_plan.update")
    assert event.data["changed"]["decision_number"] == ["55/QĐ-ĐMST", "56/QĐ-ĐMST"]


@pytest.mark.parametrize("role", ["centre", "province"])
def test_plan_create_refused_for_local_roles(people, role):
    _refused(lambda: svc.inspection_plan_create(actor=people[role], year=2026, title="X"),
             words="Chỉ chuyên viên của Cục")


@pytest.mark.parametrize("number, words", [
    ("55-QĐ", "không đúng dạng"), ("55/XYZ-BCT", "không có trong danh mục"), ("0/QĐ-BCT", "số thứ tự phải lớn hơn 0"),
])
def test_plan_invalid_decision_number(people, number, words):
    _refused(lambda: svc.inspection_plan_create(actor=people["reviewer"], year=2026, title="Kế hoạch",
                                                decision_number=number, decision_date=date(2026, 1, 5)), words=words)


def test_plan_decision_needs_date_and_sane_date(people):
    _refused(lambda: svc.inspection_plan_create(actor=people["reviewer"], year=2026, title="K", decision_number="5/QĐ-BCT"),
             words="Cần ghi ngày của quyết định")
    _refused(lambda: svc.inspection_plan_create(actor=people["reviewer"], year=2026, title="K", decision_number="5/QĐ-BCT",
                                                decision_date=date(2020, 1, 1)), words="phải ban hành trong năm 2025 hoặc năm 2026")
    _refused(lambda: svc.inspection_plan_create(actor=people["reviewer"], year=2026, title="K", decision_number="5/QĐ-BCT",
                                                decision_date=timezone.localdate() + timedelta(days=1)),
             words="không được sau ngày hôm nay")


def test_plan_same_year_twice_refused(people):
    f.plan(people["reviewer"])
    _refused(lambda: f.plan(people["reviewer"]), words="Đã có kế hoạch kiểm tra, giám sát năm 2026")


def test_plan_update_invalid_number_changes_nothing(people):
    plan = f.plan(people["reviewer"])
    _refused(lambda: svc.inspection_plan_update(actor=people["reviewer"], plan=plan, revision=plan.revision, title="Mới",
                                                decision_number="abc", decision_date=date(2026, 1, 5)),
             words="không đúng dạng")


# --- missions ------------------------------------------------------------------------------------------

def test_mission_create_with_team_and_scope(people):
    d1 = f.de_an("24")
    plan = f.plan(people["reviewer"])
    mission = f.mission(people["reviewer"], plan, [d1])
    assert list(mission.members.values_list("full_name", "role")) == [("Trần Thị Bình", "lead"), ("Lê Văn Cường", "member")]
    assert list(mission.de_an.all()) == [d1]
    assert list(mission.provinces.values_list("code", flat=True)) == ["24"]
    assert AuditEvent.objects.filter(action="mission.create", object_id=str(mission.pk)).exists()


def test_inspectable_de_an_by_year_status_and_level(people):
    ok = f.de_an("24", status="approved", year=2025)
    draft = f.de_an("24", status="draft")
    local = f.de_an("24", level="kcdp")
    future = f.de_an("24", year=2027)
    other = f.de_an("19")
    picked = set(svc.inspectable_de_an(year=2026, provinces=[current("24")]))
    assert ok in picked and not {draft, local, future, other} & picked
    assert set(svc.inspectable_de_an(year=2026, statuses=["in_implementation"])) >= {other}
    assert ok not in set(svc.inspectable_de_an(year=2026, statuses=["in_implementation"]))


@pytest.mark.parametrize("kwargs, words", [
    ({"members": [f.MEMBER]}, "đúng một trưởng đoàn"),
    ({"members": [f.LEAD, f.LEAD]}, "đúng một trưởng đoàn"),
    ({"end_date": date(2026, 3, 1)}, "Ngày kết thúc phải từ ngày bắt đầu"),
    ({"start_date": date(2025, 12, 1)}, "phải kiểm tra trong năm 2026"),
    ({"provinces": []}, "Chọn ít nhất một tỉnh"),
    ({"name": " "}, "Cần ghi tên đoàn"),
])
def test_mission_refusals(people, kwargs, words):
    plan = f.plan(people["reviewer"])
    _refused(lambda: f.mission(people["reviewer"], plan, [], **kwargs), words=words)


def test_mission_de_an_out_of_scope_refused(people):
    plan = f.plan(people["reviewer"])
    other = f.de_an("19")
    draft = f.de_an("24", status="draft")
    msg = _refused(lambda: f.mission(people["reviewer"], plan, [other, draft], provinces=("24",)), words="không thuộc phạm vi")
    assert other.code in msg and draft.code in msg


def test_mission_former_province_refused(people):
    from khuyencong.models import Province

    plan = f.plan(people["reviewer"])
    former = Province.objects.former().first()
    _refused(lambda: svc.mission_create(actor=people["reviewer"], plan=plan, name="Đoàn", provinces=[former],
                                        members=[f.LEAD]), words="Chỉ chọn tỉnh, thành phố hiện nay")


def test_mission_create_refused_for_local(people):
    plan = f.plan(people["reviewer"])
    _refused(lambda: f.mission(people["centre"], plan, []), words="Chỉ chuyên viên của Cục")


def test_mission_update_replaces_team(people, world):
    m = world["mission"]
    svc.mission_update(actor=people["reviewer"], mission=m, revision=m.revision, name="Đoàn số 1 (sửa)", provinces=[current("24")],
                       members=[{"full_name": "Phạm Minh", "role": "lead"}], de_an=[world["d1"]],
                       start_date=date(2026, 3, 2), end_date=date(2026, 3, 25))
    m.refresh_from_db()
    assert m.name == "Đoàn số 1 (sửa)" and m.end_date == date(2026, 3, 25)
    assert list(m.members.values_list("full_name", flat=True)) == ["Phạm Minh"]
    assert list(m.de_an.all()) == [world["d1"]]


def test_mission_update_cannot_drop_visited_de_an(people, world):
    m = world["mission"]
    _refused(lambda: svc.mission_update(actor=people["reviewer"], mission=m, revision=m.revision, name="Đoàn", provinces=[current("24")],
                                        members=[f.LEAD], de_an=[world["d2"]], start_date=m.start_date,
                                        end_date=m.end_date), words="đã có biên bản kiểm tra")


def test_mission_delete_and_refusals(people, world):
    _refused(lambda: svc.mission_delete(actor=people["reviewer"], mission=world["mission"]), words="đã có biên bản")
    empty = f.mission(people["reviewer"], world["plan"], [world["d2"]], name="Đoàn số 2")
    _refused(lambda: svc.mission_delete(actor=people["province"], mission=empty), words="Chỉ chuyên viên của Cục")
    svc.mission_delete(actor=people["reviewer"], mission=empty)
    assert not Mission.objects.filter(pk=empty.pk).exists()
    assert AuditEvent.objects.filter(action="mission.delete", object_id=str(empty.pk)).exists()


# --- records ---------------------------------------------------------------------------------------------

def test_record_create_with_recommendations(people, world):
    rec = f.record(people["reviewer"], world["d2"], world["mission"], inspected_on=date(2026, 3, 12), actual_jobs=12,
                   recommendations=[{"text": "Bổ sung hóa đơn", "deadline": date(2026, 5, 1)},
                                    {"text": "Báo cáo doanh thu", "deadline": date(2026, 9, 1)}])
    assert rec.created_by == people["reviewer"] and rec.actual_jobs == 12 and rec.conclusion == "late"
    assert list(rec.recommendations.values_list("order", "text", "status")) == [
        (1, "Bổ sung hóa đơn", "open"), (2, "Báo cáo doanh thu", "open")]
    assert AuditEvent.objects.filter(action="inspection_record.create", object_id=str(rec.pk)).exists()


@pytest.mark.parametrize("kwargs, words", [
    ({"recommendations": [{"text": "Khắc phục", "deadline": date(2026, 3, 1)}]}, "không được trước ngày kiểm tra 10/03/2026"),
    ({"recommendations": [{"text": "Khắc phục", "deadline": None}]}, "cần có thời hạn"),
    ({"inspected_on": date(2026, 4, 1)}, "trong thời gian của đoàn (02/03/2026 – 20/03/2026)"),
    ({"conclusion": "tot"}, "Chọn kết luận trong danh sách"),
    ({"place": ""}, "Cần ghi địa điểm"),
    ({"disbursed_amount": -1}, "không được âm"),
])
def test_record_refusals(people, world, kwargs, words):
    _refused(lambda: f.record(people["reviewer"], world["d2"], world["mission"], **kwargs), words=words)


def test_record_future_date_and_de_an_outside_mission(people, world):
    _refused(lambda: f.record(people["reviewer"], world["d2"], None, inspected_on=timezone.localdate() + timedelta(days=2),
                              recommendations=[]), words="không được sau ngày hôm nay")
    outside = f.de_an("24")
    _refused(lambda: f.record(people["reviewer"], outside, world["mission"]), words="không nằm trong danh sách đề án của đoàn")
    draft = f.de_an("24", status="draft")
    _refused(lambda: f.record(people["reviewer"], draft, None), words="chưa được phê duyệt hoặc đã bị hủy")


@pytest.mark.parametrize("role", ["centre", "province"])
def test_record_create_refused_for_local(people, world, role):
    _refused(lambda: f.record(people[role], world["d2"], world["mission"]), words="Chỉ chuyên viên của Cục")


def test_record_update_edits_adds_deletes_open_recommendations(people, world):
    record, rec = world["record"], world["rec"]
    svc.inspection_record_update(
        actor=people["reviewer"], record=record, revision=record.revision, inspected_on=date(2026, 3, 11),
        place="Xưởng mới", conclusion="on_schedule",
        recommendations=[svc.RecommendationInput(text="Sửa nội dung", deadline=date(2026, 7, 1), id=rec.pk),
                         svc.RecommendationInput(text="Kiến nghị mới", deadline=date(2026, 8, 1))],
    )
    record.refresh_from_db()
    assert (record.place, record.conclusion, record.inspected_on) == ("Xưởng mới", "on_schedule", date(2026, 3, 11))
    assert list(record.recommendations.values_list("text", "deadline")) == [
        ("Sửa nội dung", date(2026, 7, 1)), ("Kiến nghị mới", date(2026, 8, 1))]
    new = record.recommendations.get(text="Kiến nghị mới")
    svc.inspection_record_update(actor=people["reviewer"], record=record, revision=record.revision,
                                 inspected_on=date(2026, 3, 11), place="Xưởng mới",
                                 recommendations=[{"text": "", "id": new.pk, "delete": True}])
    assert not Recommendation.objects.filter(pk=new.pk).exists()
    assert AuditEvent.objects.filter(action="inspection_record.update").count() == 2


def test_record_update_cannot_change_answered_recommendation(people, world):
    rec = svc.recommendation_answer(actor=people["province"], recommendation=world["rec"], response="Đã lắp xong")
    _refused(lambda: svc.inspection_record_update(
        actor=people["reviewer"], record=world["record"], revision=world["record"].revision, inspected_on=date(2026, 3, 10), place="X",
        recommendations=[{"text": "Khác", "deadline": rec.deadline, "id": rec.pk}]), words="đã được báo cáo khắc phục")


def test_record_update_refused_for_local(people, world):
    _refused(lambda: svc.inspection_record_update(actor=people["centre"], record=world["record"], revision=world["record"].revision,
                                                  inspected_on=date(2026, 3, 10), place="X"), words="Chỉ chuyên viên của Cục")


# --- recommendations ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["centre", "province"])
def test_local_staff_answer(people, world, role):
    rec = svc.recommendation_answer(actor=people[role], recommendation=world["rec"], response="  Đã lắp đặt xong máy sấy. ",
                                    responded_on=date(2026, 6, 20))
    rec.refresh_from_db()
    assert rec.status == FollowUp.ANSWERED and rec.response == "Đã lắp đặt xong máy sấy." and rec.responded_by == people[role]
    assert timezone.localtime(rec.responded_at).date() == date(2026, 6, 20)
    event = AuditEvent.objects.get(action="recommendation.answer")
    assert event.data["status"] == ["open", "answered"]
    # Answering again updates the report.
    svc.recommendation_answer(actor=people[role], recommendation=rec, response="Bổ sung ảnh")
    rec.refresh_from_db()
    assert rec.response == "Bổ sung ảnh" and rec.status == FollowUp.ANSWERED


@pytest.mark.parametrize("role, words", [
    ("other", "thuộc tỉnh, thành phố khác"), ("other_centre", "thuộc tỉnh, thành phố khác"),
    ("reviewer", "Chỉ cán bộ Sở Công Thương hoặc Trung tâm khuyến công"),
])
def test_answer_refused_for_wrong_role_or_province(people, world, role, words):
    _refused(lambda: svc.recommendation_answer(actor=people[role], recommendation=world["rec"], response="Đã xong"),
             words=words)


def test_answer_refusals_on_content(people, world):
    _refused(lambda: svc.recommendation_answer(actor=people["province"], recommendation=world["rec"], response="  "),
             words="Cần ghi nội dung báo cáo khắc phục")
    _refused(lambda: svc.recommendation_answer(actor=people["province"], recommendation=world["rec"], response="X",
                                               responded_on=date(2026, 3, 1)), words="không được trước ngày kiểm tra")
    _refused(lambda: svc.recommendation_answer(actor=people["province"], recommendation=world["rec"], response="X",
                                               responded_on=timezone.localdate() + timedelta(days=1)),
             words="không được sau ngày hôm nay")


def test_answer_closed_recommendation_refused(people, world):
    svc.recommendation_close(actor=people["reviewer"], recommendation=world["rec"], comment="Đã xử lý tại chỗ khi kiểm tra")
    rec = Recommendation.objects.get(pk=world["rec"].pk)
    _refused(lambda: svc.recommendation_answer(actor=people["province"], recommendation=rec, response="Thêm"),
             words="đã được Cục đóng")
    # A stale object (loaded before the close) is re-checked on the locked row.
    _refused(lambda: svc.recommendation_answer(actor=people["province"], recommendation=world["rec"], response="Thêm"),
             words="đã được Cục đóng")


def test_close_and_reopen_by_reviewer(people, world):
    svc.recommendation_answer(actor=people["province"], recommendation=world["rec"], response="Đã xong")
    rec = svc.recommendation_close(actor=people["reviewer"], recommendation=world["rec"], comment="Đã kiểm tra ảnh")
    assert rec.status == FollowUp.CLOSED and rec.closed_by == people["reviewer"] and rec.closed_at
    rec = svc.recommendation_reopen(actor=people["reviewer"], recommendation=rec, comment="Thiếu biên bản bàn giao")
    assert rec.status == FollowUp.OPEN and rec.closed_at is None and rec.response == "Đã xong"
    history = list(svc.recommendation_history(rec).values_list("action", flat=True))
    assert history == ["recommendation.answer", "recommendation.close", "recommendation.reopen"]
    assert svc.recommendation_history(rec).last().data["comment"] == "Thiếu biên bản bàn giao"


@pytest.mark.parametrize("role", ["centre", "province", "other"])
def test_close_refused_for_non_reviewer(people, world, role):
    _refused(lambda: svc.recommendation_close(actor=people[role], recommendation=world["rec"]),
             words="Chỉ chuyên viên của Cục được đóng kiến nghị")


def test_close_twice_and_reopen_refusals(people, world):
    _refused(lambda: svc.recommendation_reopen(actor=people["reviewer"], recommendation=world["rec"], comment="X"),
             words="không cần mở lại")
    svc.recommendation_close(actor=people["reviewer"], recommendation=world["rec"], comment="Không còn phù hợp")
    rec = Recommendation.objects.get(pk=world["rec"].pk)
    _refused(lambda: svc.recommendation_close(actor=people["reviewer"], recommendation=rec, comment="Lần hai"),
             words="đã được đóng")
    _refused(lambda: svc.recommendation_reopen(actor=people["reviewer"], recommendation=rec, comment=" "),
             words="cần ghi lý do")
    _refused(lambda: svc.recommendation_reopen(actor=people["province"], recommendation=rec, comment="Mở"),
             words="Chỉ chuyên viên của Cục được mở lại")


# --- one biên bản per visit ------------------------------------------------------------------------------

def test_second_record_of_the_same_visit_is_refused(people, world):
    """A double submit (or a second person) lập biên bản for the same đề án, day and mission: refused
    with the reason, the first one stands alone."""
    _refused(lambda: f.record(people["reviewer"], world["d1"], world["mission"]),
             words="đã có biên bản kiểm tra đề án")
    assert InspectionRecord.objects.filter(de_an=world["d1"]).count() == 1


def test_another_day_or_without_mission_is_a_different_visit(people, world):
    f.record(people["reviewer"], world["d1"], world["mission"], inspected_on=date(2026, 3, 11))
    f.record(people["reviewer"], world["d1"], None)
    _refused(lambda: f.record(people["reviewer"], world["d1"], None), words="đã có biên bản kiểm tra ngày 10/03/2026")
    assert InspectionRecord.objects.filter(de_an=world["d1"]).count() == 3


def test_the_database_refuses_the_second_record_when_two_requests_race(people, world, monkeypatch):
    """Both requests passed the check before either wrote (simulated by skipping the check): the unique
    constraint refuses the second insert and the person gets the same message, nothing half-written."""
    real, calls = svc._same_visit_exists, []

    def checked_before_the_other_wrote(*args, **kwargs):  # the first check runs before the other insert
        calls.append(args)
        return False if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(svc, "_same_visit_exists", checked_before_the_other_wrote)
    with pytest.raises(ValidationError) as info:
        f.record(people["reviewer"], world["d1"], world["mission"])
    assert "đã có biên bản kiểm tra đề án" in " ".join(info.value.messages)
    assert InspectionRecord.objects.filter(de_an=world["d1"]).count() == 1
    assert Recommendation.objects.filter(record__de_an=world["d1"]).count() == 1
    assert len(calls) == 2  # the pre-check, then the look after the database refused


def test_moving_a_record_onto_another_visit_day_is_refused(people, world):
    other = f.record(people["reviewer"], world["d1"], world["mission"], inspected_on=date(2026, 3, 12))
    _refused(lambda: svc.inspection_record_update(actor=people["reviewer"], record=other, revision=other.revision,
                                                  inspected_on=date(2026, 3, 10),
                                                  place=other.place, conclusion=other.conclusion),
             words="đã có biên bản kiểm tra đề án")
