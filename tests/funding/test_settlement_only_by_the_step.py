"""The money page takes advances and payments only: the settlement is written by the đề án's
«Quyết toán» step (projects.services.de_an_settle → funding.services.settlement_record). And the
data migration that gives settled đề án of earlier data their missing settlement row."""
import importlib
import re
from datetime import date

import pytest
from django.apps import apps
from django.urls import reverse

from funding.models import Disbursement
from funding.services import DisbursementRefused, disbursement_record
from khuyencong.models import AuditEvent, Province
from projects.models import DeAn, Transition
from tests.funding.factories import make_de_an, settle
from tests.khuyencong.factories import admin_user, province_user

pytestmark = pytest.mark.django_db

ELSEWHERE = ("Quyết toán không ghi nhận ở trang giải ngân: kinh phí, ngày và số văn bản quyết toán được ghi ở bước "
             "«Quyết toán» của đề án.")


def _de_an(**extra):
    extra.setdefault("status", "accepted")
    return make_de_an(province=Province.objects.get(code="24", era="current"), approved_national_amount=100_000_000,
                      name="Đề án lò sấy", **extra)


def _nothing_written():
    assert not Disbursement.objects.exists()
    assert not AuditEvent.objects.filter(action="funding.disbursement_recorded").exists()


def test_disbursement_record_refuses_a_settlement():
    d = _de_an()
    with pytest.raises(DisbursementRefused) as exc:
        disbursement_record(actor=admin_user(), de_an=d, kind="settlement", amount=90_000_000, date=date(2026, 11, 2),
                            document_number="1/QT")
    assert str(exc.value) == ELSEWHERE
    _nothing_written()
    assert DeAn.objects.get(pk=d.pk).status == "accepted"


def test_a_forged_settlement_post_is_refused_and_writes_nothing(client):
    d = _de_an()
    url = reverse("funding:de_an_money", kwargs={"de_an_id": d.pk})
    client.force_login(province_user("24"))
    key = re.search(r'name="request_key" value="([0-9a-f]{32})"', client.get(url).content.decode()).group(1)
    response = client.post(url, {"kind": "settlement", "amount": "90.000.000", "date": "02/11/2026",
                                 "document_number": "1/QT", "request_key": key})
    assert response.status_code == 400 and ELSEWHERE in response.content.decode()
    _nothing_written()


def test_the_money_page_shows_what_the_step_settled(client):
    d = _de_an()
    disbursement_record(actor=admin_user(), de_an=d, kind="advance", amount=40_000_000, date=date(2026, 5, 2),
                        document_number="1/TU")
    settle(d, amount="95.000.001", day=date(2026, 11, 20), document="QT-5/2026")
    client.force_login(province_user("24"))
    text = client.get(reverse("funding:de_an_money", kwargs={"de_an_id": d.pk})).content.decode()
    assert "95.000.001 đ" in text and "QT-5/2026" in text and "20/11/2026" in text


def test_the_data_migration_adds_the_missing_settlement_rows():
    migration = importlib.import_module("funding.migrations.0009_settlement_rows_of_settled_de_an")
    admin = admin_user()
    dated = _de_an(status="settled", settled_amount=90_000_000, settled_on=date(2025, 3, 1))
    undated = _de_an(status="settled", settled_amount=80_000_000, level="kcdp", approved_local_amount=80_000_000)
    Transition.objects.create(de_an=undated, action="settle", from_status="accepted", to_status="settled",
                              actor=admin, at=date(2025, 4, 2).strftime("%Y-%m-%dT10:00:00+07:00"))
    has_row = _de_an(status="settled", settled_amount=70_000_000, settled_on=date(2025, 5, 1))
    Disbursement.objects.create(de_an=has_row, kind="settlement", source="national", amount=70_000_000,
                                date=date(2025, 5, 1), document_number="QT-3")
    _de_an(status="accepted")  # not settled: nothing
    _de_an(status="settled")  # no settled amount: nothing to record
    migration.add_missing_settlement_rows(apps, None)
    rows = {r.de_an_id: r for r in Disbursement.objects.filter(kind="settlement")}
    assert set(rows) == {dated.pk, undated.pk, has_row.pk}
    assert (rows[dated.pk].amount, rows[dated.pk].date, rows[dated.pk].source, rows[dated.pk].document_number,
            rows[dated.pk].created_by) == (90_000_000, date(2025, 3, 1), "national", "—", None)
    assert (rows[undated.pk].amount, rows[undated.pk].date, rows[undated.pk].source) == (80_000_000, date(2025, 4, 2),
                                                                                          "local")
    assert rows[has_row.pk].document_number == "QT-3"
    migration.add_missing_settlement_rows(apps, None)  # run again: nothing more
    assert Disbursement.objects.filter(kind="settlement").count() == 3
