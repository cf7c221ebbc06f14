"""Recording a disbursement leaves an audit event, as voiding one does: in the same transaction, once
per entry (not on a replayed form), none when the entry is refused."""
from datetime import date

import pytest
from django.db import transaction

from funding.models import Disbursement
from funding.services import DisbursementRefused, disbursement_record, disbursement_void
from khuyencong.models import AuditEvent, Province
from tests.funding.factories import make_de_an
from tests.khuyencong.factories import admin_user, province_user

pytestmark = pytest.mark.django_db
APPROVED = 100_000_000


def _de_an(**extra):
    extra.setdefault("status", "approved")
    return make_de_an(province=Province.objects.get(code="24", era="current"), year=2026,
                      approved_national_amount=APPROVED, name="Đề án máy sấy nông sản", **extra)


def recorded_events():
    return AuditEvent.objects.filter(action="funding.disbursement_recorded")


def test_recording_is_audited():
    de_an = _de_an()
    actor = province_user("24")
    row = disbursement_record(actor=actor, de_an=de_an, kind="advance", amount="1.500.000", date=date(2026, 3, 5),
                              document_number=" 15/TU ")
    event = recorded_events().get()
    assert event.actor == actor and (event.object_type, event.object_id) == ("funding.Disbursement", str(row.pk))
    assert event.summary == f"Ghi nhận tạm ứng 1.500.000 đ (chứng từ 15/TU ngày 05/03/2026) của đề án {de_an.code}"
    assert event.data == {"de_an_id": de_an.pk, "de_an_code": de_an.code, "kind": "advance", "source": "national",
                          "amount": 1_500_000, "date": "2026-03-05", "document_number": "15/TU"}


def test_a_replayed_form_records_no_second_event():
    de_an = _de_an()
    actor = admin_user()
    values = {"actor": actor, "de_an": de_an, "kind": "payment", "amount": 2_000_000, "date": date(2026, 4, 1),
              "document_number": "3/TT", "request_key": "b" * 32}
    first = disbursement_record(**values)
    again = disbursement_record(**values)
    assert again.pk == first.pk and again.replayed
    assert recorded_events().count() == 1 and Disbursement.objects.count() == 1


@pytest.mark.parametrize("values, message", [
    ({"amount": APPROVED + 1}, "vượt kinh phí được duyệt"),
    ({"document_number": ""}, "Cần nhập số chứng từ"),
    ({"amount": 0}, "lớn hơn 0"),
])
def test_a_refused_entry_leaves_no_event(values, message):
    de_an = _de_an()
    args = {"actor": admin_user(), "de_an": de_an, "kind": "advance", "amount": 1_000_000, "date": date(2026, 3, 5),
            "document_number": "1/TU", **values}
    with pytest.raises(DisbursementRefused) as err:
        disbursement_record(**args)
    assert message in str(err.value)
    assert not recorded_events().exists() and not Disbursement.objects.exists()


def test_the_event_rolls_back_with_the_entry():
    de_an = _de_an()
    with pytest.raises(RuntimeError), transaction.atomic():
        disbursement_record(actor=admin_user(), de_an=de_an, kind="advance", amount=1_000_000, date=date(2026, 3, 5),
                            document_number="1/TU")
        assert recorded_events().count() == 1
        raise RuntimeError("the caller's transaction fails")
    assert not recorded_events().exists() and not Disbursement.objects.exists()


def test_recorded_and_voided_events_tell_the_story_of_a_row():
    de_an = _de_an()
    actor = admin_user()
    row = disbursement_record(actor=actor, de_an=de_an, kind="payment", amount=1_000_000, date=date(2026, 3, 5),
                              document_number="2/TT")
    disbursement_void(actor=actor, disbursement=row, reason="Nhập trùng")
    actions = list(AuditEvent.objects.filter(object_type="funding.Disbursement", object_id=str(row.pk))
                   .order_by("created_at", "id").values_list("action", flat=True))
    assert actions == ["funding.disbursement_recorded", "funding.disbursement_voided"]
