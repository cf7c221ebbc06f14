"""Closing a recommendation the province has not answered (still open) needs a reason; an answered one
closes with an optional comment. Each refusal names the reason in Vietnamese and changes nothing; the
close form says the reason is required exactly when it is."""
import re
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from khuyencong.models import AuditEvent
from reports import inspection_services as svc
from reports.models import FollowUp, Recommendation
from tests.reports import inspection_factories as f

pytestmark = pytest.mark.django_db

REASON_NEEDED = "Đóng kiến nghị khi tỉnh chưa báo cáo khắc phục cần ghi lý do."


@pytest.fixture
def people(db):
    return {"reviewer": f.reviewer(), "province": f.province_user("24")}


@pytest.fixture
def world(people):
    d1 = f.de_an("24")
    plan = f.plan(people["reviewer"])
    mission = f.mission(people["reviewer"], plan, [d1])
    record = f.record(people["reviewer"], d1, mission)
    return {"record": record, "rec": record.recommendations.get()}


def _state(rec):
    row = Recommendation.objects.get(pk=rec.pk)
    return row.status, row.closed_by_id, row.closed_at, AuditEvent.objects.count()


def _answered(people, rec):
    return svc.recommendation_answer(actor=people["province"], recommendation=rec, response="Đã lắp xong",
                                     responded_on=date(2026, 6, 1))


# --- the service ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("comment", ["", "   \n "])
def test_closing_an_unanswered_recommendation_without_a_reason_is_refused(people, world, comment):
    before = _state(world["rec"])
    with pytest.raises(ValidationError) as refused:
        svc.recommendation_close(actor=people["reviewer"], recommendation=world["rec"], comment=comment)
    assert refused.value.message_dict == {"comment": [REASON_NEEDED]}
    assert _state(world["rec"]) == before


def test_closing_an_unanswered_recommendation_with_a_reason(people, world):
    rec = svc.recommendation_close(actor=people["reviewer"], recommendation=world["rec"],
                                   comment="  Đã khắc phục ngay khi đoàn kiểm tra. ")
    assert rec.status == FollowUp.CLOSED and rec.closed_by == people["reviewer"]
    event = AuditEvent.objects.get(action="recommendation.close")
    assert event.data["status"] == ["open", "closed"] and event.data["comment"] == "Đã khắc phục ngay khi đoàn kiểm tra."


def test_an_answered_recommendation_closes_without_a_comment(people, world):
    rec = svc.recommendation_close(actor=people["reviewer"], recommendation=_answered(people, world["rec"]))
    assert rec.status == FollowUp.CLOSED
    assert AuditEvent.objects.get(action="recommendation.close").data["comment"] == ""


def test_a_reopened_recommendation_not_answered_again_needs_a_reason(people, world):
    """Reopened, it is open again: the province owes a new report (its old one is kept, judged short)."""
    rec = svc.recommendation_close(actor=people["reviewer"], recommendation=_answered(people, world["rec"]))
    rec = svc.recommendation_reopen(actor=people["reviewer"], recommendation=rec, comment="Thiếu ảnh")
    before = _state(rec)
    with pytest.raises(ValidationError) as refused:
        svc.recommendation_close(actor=people["reviewer"], recommendation=rec)
    assert refused.value.messages == [REASON_NEEDED]
    assert _state(rec) == before


def test_the_reason_is_checked_on_the_locked_row(people, world):
    """Loaded while answered, reopened by someone else since: the close is checked on the row as it is now."""
    stale = _answered(people, world["rec"])
    svc.recommendation_close(actor=people["reviewer"], recommendation=stale)
    svc.recommendation_reopen(actor=people["reviewer"], recommendation=Recommendation.objects.get(pk=stale.pk),
                              comment="Thiếu ảnh")
    before = _state(stale)
    with pytest.raises(ValidationError):
        svc.recommendation_close(actor=people["reviewer"], recommendation=stale)
    assert _state(stale) == before


# --- the pages --------------------------------------------------------------------------------------------

def _textarea(body):
    return re.search(r'<textarea name="comment"[^>]*id="close_comment"[^>]*>', body).group(0)


def test_the_close_form_says_the_reason_is_required_when_unanswered(client, people, world):
    client.force_login(people["reviewer"])
    body = client.get(reverse("reports:inspection_recommendation", args=[world["rec"].pk])).content.decode()
    assert '<label for="close_comment">Lý do đóng khi tỉnh chưa báo cáo khắc phục *</label>' in body
    area = _textarea(body)
    assert " required" in area and 'aria-required="true"' in area and 'aria-describedby="close_comment_helptext"' in area
    assert 'id="close_comment_helptext">Bắt buộc: tỉnh, thành phố chưa báo cáo khắc phục kiến nghị này.' in body


def test_the_close_form_of_an_answered_one_keeps_the_comment_optional(client, people, world):
    _answered(people, world["rec"])
    client.force_login(people["reviewer"])
    body = client.get(reverse("reports:inspection_recommendation", args=[world["rec"].pk])).content.decode()
    assert '<label for="close_comment">Ý kiến khi đóng (không bắt buộc)</label>' in body
    area = _textarea(body)
    assert " required" not in area and "aria-required" not in area
    assert 'id="reopen_comment"' in body  # the reopen form's comment: its own id on the same page


def test_closing_an_unanswered_one_without_a_reason_through_the_page(client, people, world):
    client.force_login(people["reviewer"])
    before = _state(world["rec"])
    response = client.post(reverse("reports:inspection_recommendation_close", args=[world["rec"].pk]), {"comment": " "})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="form-errors"' in body and '<a href="#close_comment">' in body  # the summary links to the field
    assert f'<div class="field-error" id="close_comment_error"><div>{REASON_NEEDED}</div></div>' in body
    assert _state(world["rec"]) == before
    response = client.post(reverse("reports:inspection_recommendation_close", args=[world["rec"].pk]),
                           {"comment": "Cơ sở đã giải thể, không còn đối tượng thực hiện"})
    assert response.status_code == 302
    assert Recommendation.objects.get(pk=world["rec"].pk).status == FollowUp.CLOSED


def test_a_close_sent_from_the_list_for_an_unanswered_one_is_refused(client, people, world):
    """The list offers no one-click close for an unanswered recommendation (a link to its form instead);
    a close sent anyway (an old page) answers with the form and the reason, nothing closed."""
    client.force_login(people["reviewer"])
    list_url = reverse("reports:inspection_recommendations")
    body = client.get(list_url).content.decode()
    form_url = reverse("reports:inspection_recommendation", args=[world["rec"].pk]) + "#dong"
    assert f'href="{form_url}">Đóng (ghi lý do)</a>' in body
    assert '<button type="submit" class="btn ok">Đóng kiến nghị</button>' not in body
    before = _state(world["rec"])
    response = client.post(reverse("reports:inspection_recommendation_close", args=[world["rec"].pk]), {"next": list_url})
    assert response.status_code == 400 and REASON_NEEDED in response.content.decode()
    assert _state(world["rec"]) == before


def test_loaded_answered_then_reopened_the_page_asks_for_the_reason(client, people, world):
    """The close form was shown for an answered recommendation (comment optional); it was reopened
    before the close arrived: the page comes back with the comment now required, nothing closed."""
    rec = svc.recommendation_close(actor=people["reviewer"], recommendation=_answered(people, world["rec"]))
    svc.recommendation_reopen(actor=people["reviewer"], recommendation=rec, comment="Thiếu ảnh")
    client.force_login(people["reviewer"])
    before = _state(rec)
    response = client.post(reverse("reports:inspection_recommendation_close", args=[rec.pk]), {"comment": ""})
    assert response.status_code == 400
    body = response.content.decode()
    assert REASON_NEEDED in body and "Lý do đóng khi tỉnh chưa báo cáo khắc phục *" in body
    assert _state(rec) == before


def test_reopened_while_the_close_was_on_its_way(client, people, world, monkeypatch):
    """The view read the recommendation answered; it was reopened before the service locked it: the
    service refuses, and the page asks for the reason (the message once), nothing closed."""
    from reports import inspection_selectors as sel

    rec = svc.recommendation_close(actor=people["reviewer"], recommendation=_answered(people, world["rec"]))
    stale = Recommendation.objects.get(pk=rec.pk)  # closed: the page offers «mở lại»; take it as answered
    stale.status = FollowUp.ANSWERED
    svc.recommendation_reopen(actor=people["reviewer"], recommendation=rec, comment="Thiếu ảnh")
    monkeypatch.setattr(sel, "recommendation_for", lambda user, pk: stale)
    client.force_login(people["reviewer"])
    before = _state(rec)
    response = client.post(reverse("reports:inspection_recommendation_close", args=[rec.pk]), {"comment": ""})
    assert response.status_code == 400
    body = response.content.decode()
    assert body.count(f"<div>{REASON_NEEDED}</div>") == 1 and "Lý do đóng khi tỉnh chưa báo cáo khắc phục *" in body
    assert _state(rec) == before
