"""Inspection pages: each page renders for who may see it; forged ids of another province answer 404 and
change nothing; list query counts do not grow with rows."""
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reports.models import FollowUp, InspectionPlan, InspectionRecord, Mission, Recommendation
from tests.projects.factories import current
from tests.reports import inspection_factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    return {"reviewer": f.reviewer(), "centre": f.centre_user("24"), "province": f.province_user("24"),
            "other": f.province_user("19")}


@pytest.fixture
def world(people):
    d1, d2 = f.de_an("24"), f.de_an("24", status="approved")
    d_other = f.de_an("19", name="Đề án bí mật Thái Nguyên")
    plan = f.plan(people["reviewer"])
    mission = f.mission(people["reviewer"], plan, [d1, d2, d_other], provinces=("24", "19"))
    record = f.record(people["reviewer"], d1, mission)
    record_other = f.record(people["reviewer"], d_other, mission,
                            recommendations=[{"text": "Kiến nghị riêng Thái Nguyên", "deadline": date(2026, 6, 30)}])
    return {"plan": plan, "mission": mission, "record": record, "record_other": record_other, "d2": d2,
            "rec": record.recommendations.get(), "rec_other": record_other.recommendations.get()}


def _login(client, user):
    client.force_login(user)
    return client


def test_reviewer_pages_render(client, people, world):
    _login(client, people["reviewer"])
    pages = [
        reverse("reports:inspection_plans"), reverse("reports:inspection_plan", args=[world["plan"].pk]),
        reverse("reports:inspection_plan_create"), reverse("reports:inspection_plan_edit", args=[world["plan"].pk]),
        reverse("reports:inspection_mission", args=[world["mission"].pk]),
        reverse("reports:inspection_mission_create", args=[world["plan"].pk]),
        reverse("reports:inspection_mission_edit", args=[world["mission"].pk]),
        reverse("reports:inspection_mission_delete", args=[world["mission"].pk]),
        reverse("reports:inspection_records"), reverse("reports:inspection_record", args=[world["record"].pk]),
        reverse("reports:inspection_record_create") + f"?mission={world['mission'].pk}",
        reverse("reports:inspection_record_edit", args=[world["record"].pk]),
        reverse("reports:inspection_recommendations"),
        reverse("reports:inspection_recommendation", args=[world["rec"].pk]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Kiểm tra, giám sát" in response.content.decode(), url  # the menu entry
    body = client.get(reverse("reports:inspection_plan", args=[world["plan"].pk])).content.decode()
    assert "Đoàn kiểm tra số 1" in body and "55/QĐ-ĐMST" in body
    body = client.get(reverse("reports:inspection_mission", args=[world["mission"].pk])).content.decode()
    assert "Trần Thị Bình" in body and "Phó Cục trưởng" in body and world["d2"].code in body and "Lập biên bản" in body
    body = client.get(reverse("reports:inspection_record", args=[world["record"].pk])).content.decode()
    assert "Tạo biên bản PDF" in body and "150.000.000 đ" in body and "Chậm tiến độ" in body and "10/03/2026" in body


def test_local_sees_own_records_only_and_no_plans(client, people, world):
    _login(client, people["province"])
    assert client.get(reverse("reports:inspection_plans")).status_code == 404
    assert client.get(reverse("reports:inspection_plan", args=[world["plan"].pk])).status_code == 404
    assert client.get(reverse("reports:inspection_mission", args=[world["mission"].pk])).status_code == 404
    assert client.get(reverse("reports:inspection_plan_create")).status_code == 403
    assert client.get(reverse("reports:inspection_record_create")).status_code == 403
    assert client.get(reverse("reports:inspection_record_edit", args=[world["record"].pk])).status_code == 403
    body = client.get(reverse("reports:inspection_records")).content.decode()
    assert world["record"].de_an.code in body and "bí mật" not in body
    body = client.get(reverse("reports:inspection_recommendations")).content.decode()
    assert "Hoàn thành lắp đặt máy sấy chè." in body and "riêng Thái Nguyên" not in body
    body = client.get(reverse("reports:inspection_record", args=[world["record"].pk])).content.decode()
    assert "Sửa biên bản" not in body and "Báo cáo khắc phục" in body
    assert client.get(reverse("reports:inspection_record", args=[world["record_other"].pk])).status_code == 404
    assert client.get(reverse("reports:inspection_recommendation", args=[world["rec_other"].pk])).status_code == 404


def test_local_answers_through_the_page(client, people, world):
    _login(client, people["centre"])
    url = reverse("reports:inspection_recommendation_answer", args=[world["rec"].pk])
    response = client.post(url, {"response": "Đã lắp đặt xong, gửi kèm ảnh", "responded_on": "2026-06-15"})
    assert response.status_code == 302
    rec = Recommendation.objects.get(pk=world["rec"].pk)
    assert rec.status == FollowUp.ANSWERED and rec.response == "Đã lắp đặt xong, gửi kèm ảnh"
    body = client.get(reverse("reports:inspection_recommendation", args=[rec.pk])).content.decode()
    assert "Báo cáo khắc phục kiến nghị" in body  # history


def test_answer_refusal_shows_message_and_changes_nothing(client, people, world):
    _login(client, people["centre"])
    url = reverse("reports:inspection_recommendation_answer", args=[world["rec"].pk])
    response = client.post(url, {"response": "X", "responded_on": "2026-03-01"})
    assert response.status_code == 400
    assert "không được trước ngày kiểm tra" in response.content.decode()
    assert Recommendation.objects.get(pk=world["rec"].pk).status == FollowUp.OPEN


def test_forged_ids_of_other_province_404_and_nothing_changed(client, people, world):
    _login(client, people["province"])
    other = world["rec_other"]
    for name, data in (("inspection_recommendation_answer", {"response": "Giả mạo", "responded_on": "2026-06-15"}),
                       ("inspection_recommendation_close", {}), ("inspection_recommendation_reopen", {"comment": "x"})):
        assert client.post(reverse(f"reports:{name}", args=[other.pk]), data).status_code == 404
    response = client.post(reverse("reports:inspection_record_edit", args=[world["record_other"].pk]), {"place": "Giả"})
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.status == FollowUp.OPEN and other.response == ""
    assert InspectionRecord.objects.get(pk=world["record_other"].pk).place != "Giả"


def test_local_cannot_close(client, people, world):
    _login(client, people["province"])
    response = client.post(reverse("reports:inspection_recommendation_close", args=[world["rec"].pk]))
    assert response.status_code == 403
    assert Recommendation.objects.get(pk=world["rec"].pk).status == FollowUp.OPEN


def test_reviewer_closes_and_reopens(client, people, world):
    _login(client, people["reviewer"])
    list_url = reverse("reports:inspection_recommendations") + "?overdue=on"
    response = client.post(reverse("reports:inspection_recommendation_close", args=[world["rec"].pk]),
                           {"next": list_url, "comment": "Đạt"})
    assert response.status_code == 302 and response["Location"] == list_url
    assert Recommendation.objects.get(pk=world["rec"].pk).status == FollowUp.CLOSED
    response = client.post(reverse("reports:inspection_recommendation_reopen", args=[world["rec"].pk]), {"comment": ""})
    assert response.status_code == 400 and "Lý do mở lại" in response.content.decode()
    assert Recommendation.objects.get(pk=world["rec"].pk).status == FollowUp.CLOSED
    client.post(reverse("reports:inspection_recommendation_reopen", args=[world["rec"].pk]), {"comment": "Chưa đủ ảnh"})
    assert Recommendation.objects.get(pk=world["rec"].pk).status == FollowUp.OPEN
    # An outside "next" is ignored.
    response = client.post(reverse("reports:inspection_recommendation_close", args=[world["rec"].pk]),
                           {"next": "https://example.com/", "comment": "Đủ ảnh rồi"})
    assert response["Location"] == reverse("reports:inspection_recommendation", args=[world["rec"].pk])


def test_recommendation_filters(client, people, world):
    _login(client, people["reviewer"])
    url = reverse("reports:inspection_recommendations")
    body = client.get(url, {"province": current("19").pk}).content.decode()
    assert "riêng Thái Nguyên" in body and "máy sấy chè" not in body
    assert "máy sấy chè" in client.get(url, {"overdue": "on"}).content.decode()
    body = client.get(url, {"status": "closed"}).content.decode()
    assert "Không có kiến nghị nào" in body


def test_plan_create_and_invalid_number_via_page(client, people):
    _login(client, people["reviewer"])
    url = reverse("reports:inspection_plan_create")
    response = client.post(url, {"year": 2027, "title": "Kế hoạch 2027", "decision_number": "abc", "decision_date": "2026-11-01"})
    assert response.status_code == 400 and "không đúng dạng" in response.content.decode()
    assert not InspectionPlan.objects.filter(year=2027).exists()
    response = client.post(url, {"year": 2027, "title": "Kế hoạch 2027", "decision_number": "12/QĐ-BCT",
                                 "decision_date": "2026-11-01"})
    plan = InspectionPlan.objects.get(year=2027)
    assert response["Location"] == reverse("reports:inspection_plan", args=[plan.pk])


def test_mission_create_and_delete_via_pages(client, people, world):
    _login(client, people["reviewer"])
    url = reverse("reports:inspection_mission_create", args=[world["plan"].pk])
    data = {"name": "Đoàn số 2", "provinces": [current("24").pk], "start_date": "2026-04-01", "end_date": "2026-04-05",
            "de_an": [world["d2"].pk], "members-TOTAL_FORMS": 2, "members-INITIAL_FORMS": 0,
            "members-0-full_name": "Ngô Văn Đức", "members-0-role": "member", "members-1-full_name": "", "members-1-role": "member"}
    response = client.post(url, data)
    assert response.status_code == 400 and "đúng một trưởng đoàn" in response.content.decode()
    data["members-0-role"] = "lead"
    response = client.post(url, data)
    mission = Mission.objects.get(name="Đoàn số 2")
    assert response["Location"] == reverse("reports:inspection_mission", args=[mission.pk])
    assert list(mission.members.values_list("full_name", "role")) == [("Ngô Văn Đức", "lead")]
    delete = reverse("reports:inspection_mission_delete", args=[mission.pk])
    assert "Bạn có chắc muốn xóa đoàn" in client.get(delete).content.decode()
    assert Mission.objects.filter(pk=mission.pk).exists()  # GET only asks
    client.post(delete)
    assert not Mission.objects.filter(pk=mission.pk).exists()
    # A mission with records is not deleted.
    client.post(reverse("reports:inspection_mission_delete", args=[world["mission"].pk]))
    assert Mission.objects.filter(pk=world["mission"].pk).exists()


def test_record_create_and_edit_via_pages(client, people, world):
    _login(client, people["reviewer"])
    url = reverse("reports:inspection_record_create") + f"?mission={world['mission'].pk}"
    data = {"de_an": world["d2"].pk, "inspected_on": "2026-03-15", "place": "Cơ sở chè", "conclusion": "on_schedule",
            "recs-TOTAL_FORMS": 2, "recs-INITIAL_FORMS": 0, "recs-0-text": "Bổ sung hồ sơ", "recs-0-deadline": "2026-03-01",
            "recs-1-text": ""}
    response = client.post(url, data)
    assert response.status_code == 400 and "không được trước ngày kiểm tra 15/03/2026" in response.content.decode()
    assert not InspectionRecord.objects.filter(de_an=world["d2"]).exists()
    data["recs-0-deadline"] = "2026-05-01"
    response = client.post(url, data)
    record = InspectionRecord.objects.get(de_an=world["d2"])
    assert response["Location"] == reverse("reports:inspection_record", args=[record.pk])
    assert record.mission == world["mission"] and record.recommendations.get().deadline == date(2026, 5, 1)
    edit = reverse("reports:inspection_record_edit", args=[record.pk])
    rec = record.recommendations.get()
    response = client.post(edit, {"revision": record.revision, "inspected_on": "2026-03-15",
                                  "place": "Cơ sở chè (sửa)", "conclusion": "violations",
                                  "recs-TOTAL_FORMS": 1, "recs-INITIAL_FORMS": 1, "recs-0-id": rec.pk,
                                  "recs-0-text": "Bổ sung hồ sơ", "recs-0-deadline": "2026-05-01", "recs-0-delete": "on"})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.place == "Cơ sở chè (sửa)" and record.conclusion == "violations" and not record.recommendations.exists()


def test_new_recommendation_rows_are_due_when_the_mission_asked_for_the_remedial_report(client, people, world):
    import re

    mission = world["mission"]
    Mission.objects.filter(pk=mission.pk).update(follow_up_deadline=date(2026, 9, 30))
    _login(client, people["reviewer"])
    url = reverse("reports:inspection_record_create") + f"?mission={mission.pk}"
    page = client.get(url).content.decode()
    deadlines = re.findall(r'name="recs-\d-deadline"[^>]*value="([^"]*)"', page)
    assert deadlines == ["30/09/2026", "30/09/2026"]
    # A row given a text keeps the date; the row left empty is ignored, whatever its date.
    data = {"de_an": world["d2"].pk, "inspected_on": "2026-03-15", "place": "Cơ sở chè", "conclusion": "on_schedule",
            "recs-TOTAL_FORMS": 2, "recs-INITIAL_FORMS": 0, "recs-0-text": "Bổ sung hồ sơ",
            "recs-0-deadline": "30/09/2026", "recs-1-text": "", "recs-1-deadline": "30/09/2026"}
    assert client.post(url, data).status_code == 302
    (rec,) = InspectionRecord.objects.get(de_an=world["d2"]).recommendations.all()
    assert (rec.text, rec.deadline) == ("Bổ sung hồ sơ", date(2026, 9, 30))


def test_home_panel_links_overdue_to_recommendation_page(client, people, world):
    _login(client, people["province"])
    body = client.get(reverse("home")).content.decode()
    assert reverse("reports:inspection_recommendation", args=[world["rec"].pk]) in body
    assert reverse("reports:inspection_recommendation", args=[world["rec_other"].pk]) not in body


def test_record_pdf_button_requests_a_record_job(client, people, world, eager_celery, media_root):
    from reports.models import ReportJob

    _login(client, people["centre"])
    response = client.post(reverse("reports:request"), {"kind": "record", "record": world["record"].pk,
                                                        "year": 2026, "grouping": "current"})
    job = ReportJob.objects.get(kind="record", target_id=world["record"].pk)
    assert response["Location"] == reverse("reports:job_detail", args=[job.pk])
    assert job.province == current("24")


def _extra_rows(people, n, mission):
    for i in range(n):
        d = f.de_an("24")
        mission.de_an.add(d)
        f.record(people["reviewer"], d, mission, recommendations=[
            {"text": f"Kiến nghị {i}", "deadline": date(2026, 6, 1)}, {"text": f"Kiến nghị {i}b", "deadline": date(2026, 7, 1)}])


@pytest.mark.parametrize("name", ["inspection_records", "inspection_recommendations", "inspection_plans"])
def test_list_query_count_bounded(client, people, world, name):
    _login(client, people["reviewer"])
    url = reverse(f"reports:{name}")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _extra_rows(people, 8, world["mission"])
    f.plan(people["reviewer"], year=2025)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few), (len(few), len(many))
    assert len(many) <= 15


def test_pagination(client, people, world):
    _login(client, people["reviewer"])
    _extra_rows(people, 13, world["mission"])  # 2 + 26 recommendations
    url = reverse("reports:inspection_recommendations")
    body = client.get(url).content.decode()
    assert "1–25 trong 28" in body and "page=2" in body
    assert "26–28 trong 28" in client.get(url, {"page": 2}).content.decode()


# --- photos and attachments ---------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_the_record_attachment_form_says_the_size_limit_in_force(client, people, world, settings):
    settings.UPLOAD_MAX_BYTES = 9 * 1024 * 1024
    _login(client, people["reviewer"])
    body = client.get(reverse("reports:inspection_record", args=[world["record"].pk])).content.decode()
    assert "Dung lượng tối đa 9 MB." in body and 'aria-describedby="id_file_helptext"' in body


def test_attachment_upload_download_delete(client, people, world, media_root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from khuyencong.models import AuditEvent
    from reports.models import InspectionAttachment

    _login(client, people["reviewer"])
    add = reverse("reports:inspection_attachment_add", args=[world["record"].pk])
    client.post(add, {"file": SimpleUploadedFile("ảnh máy sấy.png", PNG, "image/png"), "description": "Máy sấy"})
    attachment = InspectionAttachment.objects.get()
    assert attachment.is_photo and attachment.original_name == "ảnh máy sấy.png" and attachment.uploaded_by == people["reviewer"]
    # A file whose content is not what its name says is refused.
    response = client.post(add, {"file": SimpleUploadedFile("gia.pdf", b"MZ not a pdf", "application/pdf")}, follow=True)
    assert "không đúng định dạng PDF" in response.content.decode()
    assert InspectionAttachment.objects.count() == 1
    # The province officer sees and downloads it, but cannot delete or add.
    _login(client, people["province"])
    url = reverse("reports:inspection_attachment", args=[attachment.pk])
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert client.post(reverse("reports:inspection_attachment_delete", args=[attachment.pk])).status_code == 403
    assert client.post(add, {"file": SimpleUploadedFile("x.png", PNG, "image/png")}).status_code == 403
    # Another province: 404.
    _login(client, people["other"])
    assert client.get(url).status_code == 404
    assert client.post(reverse("reports:inspection_attachment_delete", args=[attachment.pk])).status_code == 404
    assert InspectionAttachment.objects.filter(pk=attachment.pk).exists()
    _login(client, people["reviewer"])
    client.post(reverse("reports:inspection_attachment_delete", args=[attachment.pk]))
    assert not InspectionAttachment.objects.exists()
    assert AuditEvent.objects.filter(action__startswith="inspection_attachment.").count() == 2


def _record_data(world, **extra):
    return {"de_an": world["d2"].pk, "inspected_on": "15/03/2026", "place": "Cơ sở chè", "conclusion": "on_schedule",
            "recs-TOTAL_FORMS": 0, "recs-INITIAL_FORMS": 0, **extra}


def test_record_money_is_typed_as_people_write_it(client, people, world):
    """«150.000.000» is 150 million đồng (an integer field refused it as «not a whole number»), and the
    edit page shows the amount back the same way."""
    _login(client, people["reviewer"])
    url = reverse("reports:inspection_record_create") + f"?mission={world['mission'].pk}"
    response = client.post(url, _record_data(world, disbursed_amount="150.000.000", actual_revenue="2.500.000.000 đ"))
    assert response.status_code == 302, response.content.decode()[:2000]
    record = InspectionRecord.objects.get(de_an=world["d2"])
    assert (record.disbursed_amount, record.actual_revenue) == (150_000_000, 2_500_000_000)
    body = client.get(reverse("reports:inspection_record_edit", args=[record.pk])).content.decode()
    assert 'value="150.000.000"' in body and 'value="2.500.000.000"' in body


@pytest.mark.parametrize("extra, message", [
    ({"disbursed_amount": "-5.000"}, "là số âm"),
    ({"disbursed_amount": "1.500,5"}, "phần lẻ dưới 1 đồng"),
    ({"actual_revenue": "nhiều"}, "nhiều"),
    ({"place": "Cơ sở\x01=HYPERLINK(1)"}, "ký tự điều khiển"),
    ({"findings": "Không\x1b phát hiện"}, "ký tự điều khiển"),
])
def test_record_bad_money_or_control_characters_are_refused(client, people, world, extra, message):
    _login(client, people["reviewer"])
    url = reverse("reports:inspection_record_create") + f"?mission={world['mission'].pk}"
    response = client.post(url, _record_data(world, **extra))
    assert response.status_code == 400 and message in response.content.decode()
    assert not InspectionRecord.objects.filter(de_an=world["d2"]).exists()


def test_mission_and_plan_names_refuse_control_characters(client, people, world):
    _login(client, people["reviewer"])
    response = client.post(reverse("reports:inspection_plan_edit", args=[world["plan"].pk]),
                           {"title": "Kế hoạch\x07 kiểm tra", "year": 2026})
    assert response.status_code == 400 and "ký tự điều khiển" in response.content.decode()
    world["plan"].refresh_from_db()
    assert "\x07" not in world["plan"].title


def test_double_submitted_record_page_keeps_one_record(client, people, world):
    _login(client, people["reviewer"])
    url = reverse("reports:inspection_record_create") + f"?mission={world['mission'].pk}"
    first = client.post(url, _record_data(world))
    second = client.post(url, _record_data(world))
    assert first.status_code == 302 and second.status_code == 400
    assert "đã có biên bản kiểm tra đề án" in second.content.decode()
    assert InspectionRecord.objects.filter(de_an=world["d2"]).count() == 1
