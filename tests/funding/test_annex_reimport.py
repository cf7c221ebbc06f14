"""Importing a corrected plan annex over one already applied: a đề án that is cancelled or settled is
neither changed nor committed again, an amount is never set below what was already paid, and only the
annex's own plan takes its decision."""
import io
from datetime import date

import openpyxl
import pytest

from funding.models import Allocation, AnnualPlan, Commitment, ImportRow, RowAction
from funding.services import disbursement_record, import_file, import_preview
from projects import services as projects_services
from projects.models import DeAn
from tests.funding.conftest import ANNEX, snapshot, xlsx_bytes

pytestmark = pytest.mark.django_db
TRIEU = 1_000_000

# Sheet rows of the sample annex (ke-hoach-kcqg-2024.xlsx): group I (Thái Nguyên) is row 9, its first
# đề án row 10 (KCQG 315 triệu, total 1.430), the second row 11 (KCQG 145 triệu).
FIRST, SECOND = 10, 11


def annex(changes=None, note=None):
    """The sample annex with some rows' KCQG money changed: ``changes`` {sheet row: new KCQG in triệu}
    (the counterpart takes the difference, so the row total stays); group subtotals and the grand
    total recomputed. ``note`` makes the file differ (another SHA-256) without changing any đề án."""
    wb = openpyxl.load_workbook(ANNEX)
    ws = wb.worksheets[0]
    for row, national in (changes or {}).items():
        total = ws.cell(row=row, column=8).value
        ws.cell(row=row, column=9, value=national)
        ws.cell(row=row, column=10, value=total - national)
    group = None
    sums = {}
    grand = None
    for row in range(9, ws.max_row + 1):
        stt = ws.cell(row=row, column=1).value
        label = ws.cell(row=row, column=2).value
        if isinstance(stt, str) and stt.strip():
            group = row
            sums[group] = [0, 0, 0]
        elif isinstance(stt, int) and group:
            for k in range(3):
                sums[group][k] += ws.cell(row=row, column=8 + k).value
        elif isinstance(label, str) and "TỔNG" in label.upper():
            grand = row
    for row, values in sums.items():
        for k in range(3):
            ws.cell(row=row, column=8 + k, value=values[k])
    for k in range(3):
        ws.cell(row=grand, column=8 + k, value=sum(v[k] for v in sums.values()))
    if note:
        ws.cell(row=ws.max_row + 2, column=2, value=note)
    return xlsx_bytes(wb)


def apply(data, actor, name="phu-luc.xlsx"):
    preview = import_file(fileobj=io.BytesIO(data), name=name, actor=actor)
    assert preview.ok and preview.batch is not None, [p.message for p in preview.problems][:5]
    return preview


def de_an_at(batch, sheet_row):
    return DeAn.objects.get(pk=ImportRow.objects.get(batch=batch, sheet_row=sheet_row).object_id)


def committed_total():
    return sum(Allocation.objects.values_list("committed", flat=True))


# --- 1. a cancelled đề án is not committed again -------------------------------------------------

def test_reimport_does_not_commit_a_cancelled_de_an_again(admin_user):
    first = apply(annex(), admin_user)
    de_an = de_an_at(first.batch, FIRST)
    projects_services.de_an_cancel(actor=admin_user, de_an=de_an, comment="Đơn vị thụ hưởng rút lui")
    assert not Commitment.objects.filter(de_an=de_an).exists()
    committed = committed_total()

    # A corrected annex: another đề án's money changes, the cancelled one's row is as before.
    data = annex({SECOND: 140})
    preview = import_preview(fileobj=io.BytesIO(data), name="phu-luc-sua.xlsx", actor=admin_user)
    assert preview.ok, [p.message for p in preview.problems]
    row = ImportRow.objects.get(batch=preview.batch, sheet_row=FIRST)
    assert row.action == RowAction.UNCHANGED
    assert "Đã hủy" in row.message and "không cam kết lại" in row.message and de_an.code in row.message

    result = apply(data, admin_user, "phu-luc-sua-2.xlsx")
    assert not Commitment.objects.filter(de_an=de_an).exists()
    assert committed_total() == committed - 5 * TRIEU  # only the corrected row's 145 → 140 triệu
    assert ImportRow.objects.get(batch=result.batch, sheet_row=FIRST).action == RowAction.UNCHANGED
    de_an.refresh_from_db()
    assert de_an.status == "cancelled"


def test_cancelled_de_an_is_left_out_of_the_allocation_check(admin_user):
    """Its money no longer counts against the province: what the cancellation gave back may be used by
    the other đề án of the corrected annex."""
    first = apply(annex(), admin_user)
    de_an = de_an_at(first.batch, FIRST)
    other = de_an_at(first.batch, SECOND)
    projects_services.de_an_cancel(actor=admin_user, de_an=de_an, comment="Hủy")
    allocation = Allocation.objects.get(commitments__de_an=other)
    assert allocation.committed == allocation.amount - 315 * TRIEU
    # The second đề án takes 310 of the 315 triệu given back.
    result = apply(annex({SECOND: 145 + 310}), admin_user, "phu-luc-sua.xlsx")
    allocation.refresh_from_db()
    assert allocation.committed == allocation.amount - 5 * TRIEU
    assert Commitment.objects.get(de_an=other).amount == 455 * TRIEU
    assert not Commitment.objects.filter(de_an=de_an).exists()
    assert ImportRow.objects.get(batch=result.batch, sheet_row=SECOND).action == RowAction.UPDATE


# --- 2. never below what was paid, never a settled or cancelled đề án ---------------------------

def test_corrected_amount_below_what_was_paid_is_refused_naming_the_row(admin_user):
    first = apply(annex(), admin_user)
    de_an = de_an_at(first.batch, FIRST)  # KCQG 315 triệu
    disbursement_record(actor=admin_user, de_an=de_an, kind="advance", amount=300 * TRIEU, date=date(2024, 5, 2),
                        document_number="TU-01")
    before = snapshot()
    preview = import_file(fileobj=io.BytesIO(annex({FIRST: 215})), name="phu-luc-sua.xlsx", actor=admin_user)
    assert not preview.ok and preview.batch is None
    messages = [p.message for p in preview.problems]
    assert any(m.startswith(f"Dòng {FIRST}:") and "đã giải ngân 300.000.000 đ" in m and de_an.code in m
               for m in messages), messages
    assert [p.sheet_row for p in preview.problems] == [FIRST]
    assert snapshot() == before
    # The preview page path too: nothing kept.
    again = import_preview(fileobj=io.BytesIO(annex({FIRST: 215})), name="phu-luc-sua.xlsx", actor=admin_user)
    assert not again.ok and again.batch is None
    assert snapshot() == before


def test_corrected_amount_at_or_above_what_was_paid_applies(admin_user):
    first = apply(annex(), admin_user)
    de_an = de_an_at(first.batch, FIRST)
    disbursement_record(actor=admin_user, de_an=de_an, kind="advance", amount=300 * TRIEU, date=date(2024, 5, 2),
                        document_number="TU-01")
    apply(annex({FIRST: 300}), admin_user, "phu-luc-sua.xlsx")
    de_an.refresh_from_db()
    assert de_an.national_amount == 300 * TRIEU
    assert Commitment.objects.get(de_an=de_an).amount == 300 * TRIEU


def test_a_voided_payment_does_not_count_as_paid(admin_user):
    from funding.services import disbursement_void

    first = apply(annex(), admin_user)
    de_an = de_an_at(first.batch, FIRST)
    paid = disbursement_record(actor=admin_user, de_an=de_an, kind="payment", amount=300 * TRIEU,
                               date=date(2024, 5, 2), document_number="TT-01")
    disbursement_void(actor=admin_user, disbursement=paid, reason="Nhập nhầm")
    apply(annex({FIRST: 215}), admin_user, "phu-luc-sua.xlsx")
    de_an.refresh_from_db()
    assert de_an.national_amount == 215 * TRIEU


@pytest.mark.parametrize("status", ["cancelled", "settled"])
def test_a_row_that_would_change_a_settled_or_cancelled_de_an_is_refused(admin_user, status):
    first = apply(annex(), admin_user)
    de_an = de_an_at(first.batch, FIRST)
    if status == "cancelled":
        projects_services.de_an_cancel(actor=admin_user, de_an=de_an, comment="Hủy")
    else:
        DeAn.objects.filter(pk=de_an.pk).update(status="settled")
    before = snapshot()
    preview = import_file(fileobj=io.BytesIO(annex({FIRST: 300})), name="phu-luc-sua.xlsx", actor=admin_user)
    assert not preview.ok and preview.batch is None
    messages = [p.message for p in preview.problems]
    label = "Đã hủy" if status == "cancelled" else "Đã quyết toán"
    assert any(m.startswith(f"Dòng {FIRST}:") and label in m and de_an.code in m for m in messages), messages
    assert snapshot() == before


def test_an_unchanged_row_of_a_settled_de_an_keeps_its_commitment(admin_user):
    first = apply(annex(), admin_user)
    de_an = de_an_at(first.batch, FIRST)
    DeAn.objects.filter(pk=de_an.pk).update(status="settled")
    held = Commitment.objects.get(de_an=de_an).amount
    committed = committed_total()
    result = apply(annex({SECOND: 140}), admin_user, "phu-luc-sua.xlsx")
    row = ImportRow.objects.get(batch=result.batch, sheet_row=FIRST)
    assert row.action == RowAction.UNCHANGED and "Đã quyết toán" in row.message
    assert Commitment.objects.get(de_an=de_an).amount == held
    assert committed_total() == committed - 5 * TRIEU


# --- 3. a plan annex writes only its own plan's decision ------------------------------------------

def test_annex_decision_goes_to_its_own_level_only(admin_user):
    local = AnnualPlan.objects.create(year=2024, level="kcdp", decision_number="77/QĐ-UBND",
                                      decision_date=date(2024, 1, 20))
    national = AnnualPlan.objects.create(year=2024, level="kcqg", decision_number="1/QĐ-BCT",
                                         decision_date=date(2024, 1, 2))
    result = apply(annex(), admin_user)
    local.refresh_from_db()
    national.refresh_from_db()
    assert (local.decision_number, local.decision_date) == ("77/QĐ-UBND", date(2024, 1, 20))
    assert (national.decision_number, national.decision_date) == ("312/QĐ-BCT", date(2024, 2, 26))
    from funding.services import import_undo

    import_undo(batch=result.batch, actor=admin_user)
    national.refresh_from_db()
    local.refresh_from_db()
    assert national.decision_number == "1/QĐ-BCT" and local.decision_number == "77/QĐ-UBND"
