"""A biên bản's disbursed amount above the đề án's approved khuyến công money (national + local, each
approved or else requested) is refused unless confirmed: the refusal names the approved amount as people
write money («300.000.000 đ»), the confirmation box shows (and is required) only then, and an amount
left unchanged on a later edit is not asked about again. Refusals change nothing."""
import re
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from khuyencong.models import AuditEvent
from projects.models import DeAn
from reports import inspection_services as svc
from reports.models import InspectionRecord
from tests.reports import inspection_factories as f

pytestmark = pytest.mark.django_db

OVER = "Số tiền 450.000.000 đ lớn hơn kinh phí được phê duyệt của đề án (300.000.000 đ)."
BOX = 'name="confirm_over_approved"'


@pytest.fixture
def people(db):
    return {"reviewer": f.reviewer()}


@pytest.fixture
def world(people):
    d1, d2 = f.de_an("24"), f.de_an("24", status="approved")  # 300.000.000 đ approved (national)
    plan = f.plan(people["reviewer"])
    mission = f.mission(people["reviewer"], plan, [d1, d2])
    record = f.record(people["reviewer"], d1, mission)  # 150.000.000 đ disbursed
    return {"mission": mission, "record": record, "d1": d1, "d2": d2}


def _state():
    return (tuple(InspectionRecord.objects.order_by("pk").values_list("pk", "disbursed_amount", "place", "revision")),
            AuditEvent.objects.count())


def _refused(call, words):
    before = _state()
    with pytest.raises(ValidationError) as info:
        call()
    assert words in " ".join(info.value.messages), info.value.messages
    assert _state() == before
    return info.value


# --- the approved amount ----------------------------------------------------------------------------------

def test_the_approved_amount_is_national_plus_local_approved_or_else_requested(world):
    d = world["d2"]
    assert svc.approved_amount(d) == 300_000_000
    DeAn.objects.filter(pk=d.pk).update(approved_national_amount=250_000_000, local_amount=80_000_000)
    d.refresh_from_db()
    assert svc.approved_amount(d) == 330_000_000  # the local share: requested, none approved
    DeAn.objects.filter(pk=d.pk).update(approved_local_amount=50_000_000, approved_national_amount=None)
    d.refresh_from_db()
    assert svc.approved_amount(d) == 350_000_000  # the national share: requested (300 triệu), none approved
    assert svc.disbursed_over_approved(d, 350_000_000) is None
    assert svc.disbursed_over_approved(d, 350_000_001) == 350_000_000
    assert svc.disbursed_over_approved(d, 400_000_000, previous=400_000_000) is None


# --- the service ------------------------------------------------------------------------------------------

def test_create_above_the_approved_amount_is_refused_unless_confirmed(people, world):
    error = _refused(lambda: f.record(people["reviewer"], world["d2"], world["mission"], disbursed_amount=450_000_000),
                     OVER)
    assert error.error_dict["disbursed_amount"][0].code == "over_approved"
    record = f.record(people["reviewer"], world["d2"], world["mission"], disbursed_amount=450_000_000,
                      confirm_over_approved=True)
    assert record.disbursed_amount == 450_000_000
    event = AuditEvent.objects.get(action="inspection_record.create", object_id=str(record.pk))
    assert event.data["over_approved_confirmed"] == {"disbursed": 450_000_000, "approved": 300_000_000}


def test_up_to_the_approved_amount_needs_no_confirmation(people, world):
    record = f.record(people["reviewer"], world["d2"], world["mission"], disbursed_amount=300_000_000)
    assert record.disbursed_amount == 300_000_000
    assert "over_approved_confirmed" not in AuditEvent.objects.get(action="inspection_record.create",
                                                                   object_id=str(record.pk)).data


def test_update_above_the_approved_amount_is_refused_unless_confirmed(people, world):
    record = world["record"]

    def update(amount, **kwargs):
        current = InspectionRecord.objects.get(pk=record.pk)
        return svc.inspection_record_update(actor=people["reviewer"], record=current, revision=current.revision,
                                            inspected_on=current.inspected_on, place=current.place,
                                            conclusion=current.conclusion, disbursed_amount=amount, **kwargs)

    _refused(lambda: update(450_000_000), OVER)
    update(450_000_000, confirm_over_approved=True)
    assert InspectionRecord.objects.get(pk=record.pk).disbursed_amount == 450_000_000
    event = AuditEvent.objects.filter(action="inspection_record.update").latest("id")
    assert event.data["over_approved_confirmed"] == {"disbursed": 450_000_000, "approved": 300_000_000}
    # Left as it was, the confirmed amount is not asked about again; changed, it is.
    update(450_000_000, findings="Đã kiểm tra chứng từ")
    _refused(lambda: update(460_000_000), "Số tiền 460.000.000 đ lớn hơn kinh phí được phê duyệt")


def test_a_negative_amount_is_refused_for_that_and_not_asked_to_be_confirmed(people, world):
    error = _refused(lambda: f.record(people["reviewer"], world["d2"], world["mission"], disbursed_amount=-1),
                     "không được âm")
    assert "lớn hơn kinh phí được phê duyệt" not in " ".join(error.messages)


# --- the pages --------------------------------------------------------------------------------------------

def _data(world, **extra):
    return {"de_an": world["d2"].pk, "inspected_on": "15/03/2026", "place": "Cơ sở chè", "conclusion": "on_schedule",
            "recs-TOTAL_FORMS": 0, "recs-INITIAL_FORMS": 0, **extra}


def test_the_box_shows_only_when_needed_and_names_the_approved_amount(client, people, world):
    client.force_login(people["reviewer"])
    url = reverse("reports:inspection_record_create") + f"?mission={world['mission'].pk}"
    assert BOX not in client.get(url).content.decode()
    before = _state()
    response = client.post(url, _data(world, disbursed_amount="450.000.000"))
    assert response.status_code == 400
    body = response.content.decode()
    top = body.split('id="form-errors"', 1)[1].split("</ul>", 1)[0]
    assert f"Kinh phí đã giải ngân (đồng): {OVER}" in top and '<a href="#id_disbursed_amount">' in top
    box = re.search(r'<input type="checkbox" name="confirm_over_approved"[^>]*>', body).group(0)
    assert " required" in box and 'aria-required="true"' in box and "checked" not in box
    assert ('<span>Xác nhận số kinh phí đã giải ngân lớn hơn kinh phí được phê duyệt (300.000.000 đ) *</span>'
            in body)
    assert _state() == before
    # Ticked: saved.
    response = client.post(url, _data(world, disbursed_amount="450.000.000", confirm_over_approved="on"))
    assert response.status_code == 302
    assert InspectionRecord.objects.get(de_an=world["d2"]).disbursed_amount == 450_000_000


def test_no_box_for_an_amount_within_the_approved_one(client, people, world):
    client.force_login(people["reviewer"])
    url = reverse("reports:inspection_record_create") + f"?mission={world['mission'].pk}"
    response = client.post(url, _data(world, disbursed_amount="300.000.000", place=""))  # refused for the place
    assert response.status_code == 400 and BOX not in response.content.decode()


def test_the_edit_page_asks_too_and_keeps_the_box_ticked_after_another_error(client, people, world):
    record = world["record"]
    client.force_login(people["reviewer"])
    url = reverse("reports:inspection_record_edit", args=[record.pk])
    body = client.get(url).content.decode()
    assert BOX not in body and "Kinh phí được duyệt: 300.000.000 đ" in body
    data = {"revision": record.revision, "inspected_on": "10/03/2026", "place": record.place,
            "conclusion": record.conclusion, "disbursed_amount": "450.000.000", "recs-TOTAL_FORMS": 0,
            "recs-INITIAL_FORMS": 0}
    before = _state()
    response = client.post(url, data)
    assert response.status_code == 400 and OVER in response.content.decode()
    response = client.post(url, {**data, "confirm_over_approved": "on", "place": ""})  # ticked, but no place
    body = response.content.decode()
    assert response.status_code == 400 and 'id="id_place_error"' in body
    assert re.search(r'<input type="checkbox" name="confirm_over_approved"[^>]*checked', body)
    assert _state() == before
    response = client.post(url, {**data, "confirm_over_approved": "on"})
    assert response.status_code == 302
    assert InspectionRecord.objects.get(pk=record.pk).disbursed_amount == 450_000_000


def test_the_record_page_shows_the_approved_amount_it_compares_with(client, people, world):
    DeAn.objects.filter(pk=world["d1"].pk).update(local_amount=20_000_000)
    client.force_login(people["reviewer"])
    body = client.get(reverse("reports:inspection_record", args=[world["record"].pk])).content.decode()
    assert "150.000.000 đ" in body and "được duyệt: 320.000.000 đ" in body


def test_the_audit_of_a_record_made_on_the_page_says_it_was_confirmed(client, people, world):
    client.force_login(people["reviewer"])
    url = reverse("reports:inspection_record_create") + f"?mission={world['mission'].pk}"
    client.post(url, _data(world, disbursed_amount="301.000.000", confirm_over_approved="on",
                           inspected_on=date(2026, 3, 16).strftime("%d/%m/%Y")))
    record = InspectionRecord.objects.get(de_an=world["d2"])
    event = AuditEvent.objects.get(action="inspection_record.create", object_id=str(record.pk))
    assert event.data["over_approved_confirmed"]["approved"] == 300_000_000
