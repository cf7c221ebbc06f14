"""Inspection pages as people use them: a WEBP photo is checked by its content (never a server error);
Enter in the mission form saves it; the answer form shows the date the answer was sent with; every bad
recommendation row of a biên bản is named and marked; the close button says what it closes."""
from datetime import date
from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from reports import inspection_services as svc
from reports.models import FollowUp, InspectionAttachment, InspectionRecord, Recommendation
from tests.reports import inspection_factories as f

pytestmark = pytest.mark.django_db

WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64


@pytest.fixture
def people(db):
    return {"reviewer": f.reviewer(), "centre": f.centre_user("24")}


@pytest.fixture
def world(people):
    d1, d2 = f.de_an("24"), f.de_an("24", status="approved")
    plan = f.plan(people["reviewer"])
    mission = f.mission(people["reviewer"], plan, [d1, d2])
    record = f.record(people["reviewer"], d1, mission)
    return {"plan": plan, "mission": mission, "record": record, "d2": d2, "rec": record.recommendations.get()}


# --- 1. WEBP photos ------------------------------------------------------------------------------------------

def test_a_webp_photo_is_accepted(people, world, media_root):
    attachment = svc.inspection_attachment_add(actor=people["reviewer"], record=world["record"],
                                               file=SimpleUploadedFile("máy sấy.webp", WEBP, "image/webp"))
    assert attachment.is_photo and attachment.content_type == "image/webp"


@pytest.mark.parametrize("content", [b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 64, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
                                     b"GIF89a" + b"\x00" * 64])
def test_a_webp_name_on_other_content_is_refused_in_vietnamese(people, world, media_root, content):
    with pytest.raises(ValidationError) as refused:
        svc.inspection_attachment_add(actor=people["reviewer"], record=world["record"],
                                      file=SimpleUploadedFile("ảnh.webp", content, "image/webp"))
    assert "Nội dung tệp «ảnh.webp» không đúng định dạng WEBP." in refused.value.messages
    assert not InspectionAttachment.objects.exists()


def test_webp_upload_through_the_page(client, people, world, media_root):
    client.force_login(people["reviewer"])
    add = reverse("reports:inspection_attachment_add", args=[world["record"].pk])
    response = client.post(add, {"file": SimpleUploadedFile("ảnh.webp", WEBP, "image/webp")}, follow=True)
    assert response.status_code == 200 and "Đã thêm tệp vào biên bản." in response.content.decode()
    response = client.post(add, {"file": SimpleUploadedFile("giả.webp", b"MZ not a picture", "image/webp")}, follow=True)
    assert response.status_code == 200 and "không đúng định dạng WEBP" in response.content.decode()
    assert InspectionAttachment.objects.count() == 1


# --- 2. Enter in the mission form saves it ---------------------------------------------------------------------

class _Buttons(HTMLParser):
    """The submit buttons of the page's post forms, in order: (attributes, label)."""

    def __init__(self, html):
        super().__init__()
        self.buttons, self._in_form, self._button = [], False, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method") == "post" and "action" not in attrs:
            self._in_form = True
        elif tag == "button" and self._in_form and attrs.get("type", "submit") == "submit":
            self._button = [attrs, ""]
            self.buttons.append(self._button)

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "button":
            self._button = None

    def handle_data(self, data):
        if self._button is not None:
            self._button[1] += data


@pytest.mark.parametrize("page", ["create", "edit"])
def test_the_mission_forms_default_button_saves(client, people, world, page):
    client.force_login(people["reviewer"])
    url = (reverse("reports:inspection_mission_create", args=[world["plan"].pk]) if page == "create"
           else reverse("reports:inspection_mission_edit", args=[world["mission"].pk]))
    buttons = _Buttons(client.get(url).content.decode()).buttons
    first, label = buttons[0]
    # Enter in a field presses the first submit button: the save one (no name: not the filter), out of
    # the keyboard's and the screen reader's way since the visible «Lưu đoàn kiểm tra» is there too.
    assert "name" not in first and label.strip() == "Lưu đoàn kiểm tra"
    assert first.get("tabindex") == "-1" and first.get("aria-hidden") == "true"
    assert [b[1].strip() for b in buttons[1:]] == ["Lọc danh sách đề án", "Lưu đoàn kiểm tra"]
    assert buttons[1][0].get("name") == "loc_de_an"


def test_what_the_default_button_sends_saves_the_mission(client, people, world):
    from khuyencong.models import Province

    mission = world["mission"]
    client.force_login(people["reviewer"])
    url = reverse("reports:inspection_mission_edit", args=[mission.pk])
    data = {"revision": mission.revision, "name": "Đoàn kiểm tra số 1 (sửa)",
            "provinces": [Province.objects.current().get(code="24").pk], "start_date": "02/03/2026",
            "end_date": "20/03/2026", "de_an": list(mission.de_an.values_list("pk", flat=True)), "de_an_year": "2026",
            "members-TOTAL_FORMS": 1, "members-INITIAL_FORMS": 0, "members-0-full_name": "Trần Thị Bình",
            "members-0-role": "lead"}
    response = client.post(url, data)  # the default button has no name: no «loc_de_an» in the data
    assert response.status_code == 302, response.content.decode()[:2000]
    mission.refresh_from_db()
    assert mission.name == "Đoàn kiểm tra số 1 (sửa)"


# --- 3. the answer form keeps the answer's date ---------------------------------------------------------------

def _date_value(body):
    import re

    return re.search(r'<input[^>]*name="responded_on"[^>]*value="([^"]*)"', body).group(1)


def test_the_answer_form_shows_the_saved_answer_date(client, people, world):
    rec = world["rec"]
    svc.recommendation_answer(actor=people["centre"], recommendation=rec, response="Đã lắp đặt xong",
                              responded_on=date(2026, 6, 15))
    client.force_login(people["centre"])
    page = reverse("reports:inspection_recommendation", args=[rec.pk])
    body = client.get(page).content.decode()
    assert _date_value(body) == "15/06/2026"
    # Sending the form again as shown keeps the reported date.
    client.post(reverse("reports:inspection_recommendation_answer", args=[rec.pk]),
                {"response": "Đã lắp đặt xong, bổ sung ảnh", "responded_on": _date_value(body)})
    rec.refresh_from_db()
    assert rec.response == "Đã lắp đặt xong, bổ sung ảnh"
    from django.utils import timezone

    assert timezone.localdate(rec.responded_at) == date(2026, 6, 15)


def test_an_unanswered_or_reopened_recommendation_offers_today(client, people, world):
    from django.utils import timezone

    from khuyencong.formatting import format_date

    rec = world["rec"]
    client.force_login(people["centre"])
    page = reverse("reports:inspection_recommendation", args=[rec.pk])
    assert _date_value(client.get(page).content.decode()) == format_date(timezone.localdate())
    rec = svc.recommendation_answer(actor=people["centre"], recommendation=rec, response="Xong",
                                    responded_on=date(2026, 6, 15))
    rec = svc.recommendation_close(actor=people["reviewer"], recommendation=rec)
    svc.recommendation_reopen(actor=people["reviewer"], recommendation=rec, comment="Chưa đủ ảnh")
    assert _date_value(client.get(page).content.decode()) == format_date(timezone.localdate())  # a new report is due


# --- 4. every bad recommendation row is named ----------------------------------------------------------------

def test_every_bad_recommendation_row_is_reported(people, world):
    with pytest.raises(ValidationError) as refused:
        f.record(people["reviewer"], world["d2"], world["mission"], inspected_on=date(2026, 3, 10), recommendations=[
            {"text": "Bổ sung hóa đơn", "deadline": date(2026, 3, 1)},
            {"text": "Lắp đặt xong máy", "deadline": date(2026, 5, 1)},
            {"text": "Báo cáo doanh thu", "deadline": None},
        ])
    assert refused.value.message_dict["recommendations"] == [
        "Kiến nghị 1 («Bổ sung hóa đơn»): thời hạn 01/03/2026 không được trước ngày kiểm tra 10/03/2026.",
        "Kiến nghị 3 («Báo cáo doanh thu»): cần có thời hạn thực hiện.",
    ]


def test_text_with_a_percent_sign_is_reported_as_typed(people, world):
    with pytest.raises(ValidationError) as refused:
        f.record(people["reviewer"], world["d2"], world["mission"], recommendations=[
            {"text": "Tăng năng suất 30 % (%(x)s)", "deadline": None}])
    assert refused.value.messages == ["Kiến nghị 1 («Tăng năng suất 30 % (%(x)s)»): cần có thời hạn thực hiện."]


def test_the_record_page_names_and_marks_each_bad_row(client, people, world):
    client.force_login(people["reviewer"])
    url = reverse("reports:inspection_record_create") + f"?mission={world['mission'].pk}"
    data = {"de_an": world["d2"].pk, "inspected_on": "15/03/2026", "place": "Cơ sở chè", "conclusion": "on_schedule",
            "recs-TOTAL_FORMS": 4, "recs-INITIAL_FORMS": 0,
            "recs-0-text": "Bổ sung hồ sơ", "recs-0-deadline": "01/03/2026",
            "recs-1-text": "", "recs-1-deadline": "",  # an empty row: skipped, but still counted as row 2
            "recs-2-text": "Lắp đặt máy", "recs-2-deadline": "01/05/2026",
            "recs-3-text": "Báo cáo doanh thu", "recs-3-deadline": "02/03/2026"}
    response = client.post(url, data)
    assert response.status_code == 400
    body = response.content.decode()
    top = body.split('role="alert"', 1)[1].split("</ul>", 1)[0]
    assert "Kiến nghị 1 («Bổ sung hồ sơ»): thời hạn 01/03/2026 không được trước ngày kiểm tra 15/03/2026." in top
    assert "Kiến nghị 4 («Báo cáo doanh thu»): thời hạn 02/03/2026 không được trước ngày kiểm tra 15/03/2026." in top
    assert 'id="id_recs-0-deadline_error"' in body and 'id="id_recs-3-deadline_error"' in body
    assert 'id="id_recs-2-deadline_error"' not in body
    assert body.count('<tr class="has-error">') == 2
    assert not InspectionRecord.objects.filter(de_an=world["d2"]).exists()


def test_the_record_edit_page_marks_the_bad_row_too(client, people, world):
    record = world["record"]
    rec = world["rec"]
    client.force_login(people["reviewer"])
    response = client.post(reverse("reports:inspection_record_edit", args=[record.pk]), {
        "revision": record.revision, "inspected_on": "10/03/2026", "place": record.place, "conclusion": record.conclusion,
        "recs-TOTAL_FORMS": 2, "recs-INITIAL_FORMS": 1, "recs-0-id": rec.pk, "recs-0-text": rec.text,
        "recs-0-deadline": "30/06/2026", "recs-1-text": "Kiến nghị mới", "recs-1-deadline": "01/01/2026"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Kiến nghị 2 («Kiến nghị mới»): thời hạn 01/01/2026 không được trước ngày kiểm tra 10/03/2026." in body
    assert 'id="id_recs-1-deadline_error"' in body and 'id="id_recs-0-deadline_error"' not in body
    assert Recommendation.objects.filter(record=record).count() == 1


# --- 5. the close button says what it closes -----------------------------------------------------------------

def test_the_close_button_of_the_list_says_what_it_closes(client, people, world):
    svc.recommendation_answer(actor=people["centre"], recommendation=world["rec"], response="Xong",
                              responded_on=date(2026, 6, 15))
    client.force_login(people["reviewer"])
    body = client.get(reverse("reports:inspection_recommendations")).content.decode()
    assert '<button type="submit" class="btn ok">Đóng kiến nghị</button>' in body
    assert Recommendation.objects.get(pk=world["rec"].pk).status == FollowUp.ANSWERED
