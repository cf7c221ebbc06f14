"""Allocation tables over time: 2021–2025 tables on the 63-province map add merged provinces
together, a batch undone gives the allocation back to the batch before it, and a table's decision is
written only into the plan of the level it approves."""
import io
from datetime import date

import openpyxl
import pytest
from django.urls import reverse

from funding.exports import allocations_workbook
from funding.models import Allocation, AnnualPlan, ImportBatch, ImportRow, ImportStatus, RowAction
from funding.services import ImportFailed, import_file, import_preview, import_undo
from tests.funding.conftest import ALLOCATION, allocation_book, snapshot, with_problems, xlsx_bytes

pytestmark = pytest.mark.django_db
TRIEU = 1_000_000


def apply(rows, actor, *, year=2024, name="phan-bo.xlsx", **kwargs):
    data = xlsx_bytes(allocation_book(rows, year=year, **kwargs))
    preview = import_file(fileobj=io.BytesIO(data), name=name, actor=actor)
    assert preview.ok and preview.batch is not None, [p.message for p in preview.problems][:5]
    return preview


def amounts():
    return {(a.plan.year, a.province.code, a.source): a.amount for a in Allocation.objects.select_related("plan", "province")}


# --- 4. former provinces merged into one current province ---------------------------------------

MERGED_2024 = [("Tỉnh Hà Giang", "02", 100, 50), ("Tỉnh Tuyên Quang", "08", 30, 20), ("Thành phố Hà Nội", "01", 7, 3)]


def test_2024_table_adds_merged_provinces_into_todays_allocation(admin_user):
    preview = apply(MERGED_2024, admin_user)
    assert preview.counts() == {"create": 4, "update": 0, "unchanged": 0, "error": 0}
    assert amounts() == {(2024, "08", "national"): 130 * TRIEU, (2024, "08", "local"): 70 * TRIEU,
                         (2024, "01", "national"): 7 * TRIEU, (2024, "01", "local"): 3 * TRIEU}
    row = ImportRow.objects.get(batch=preview.batch, province__code="08", source="national")
    assert row.sheet_row == 7 and row.amount == 130 * TRIEU
    assert row.data["parts"] == [{"row": 7, "recorded": "Tỉnh Hà Giang (02)", "amount": 100 * TRIEU},
                                 {"row": 8, "recorded": "Tỉnh Tuyên Quang (08)", "amount": 30 * TRIEU}]
    assert ImportRow.objects.get(batch=preview.batch, province__code="01", source="local").data == {
        "recorded": "Thành phố Hà Nội (01)"}  # recorded on the former map, as before
    # The batch's totals by province are today's.
    by_province = {p["code"]: p for p in preview.batch.summary["by_province"]}
    assert by_province["08"]["national"] == 130 * TRIEU


def test_merged_rows_are_shown_in_the_preview(client, admin_user):
    data = xlsx_bytes(allocation_book(MERGED_2024, year=2024))
    preview = import_preview(fileobj=io.BytesIO(data), name="phan-bo-2024.xlsx", actor=admin_user)
    assert preview.ok, [p.message for p in preview.problems]
    client.force_login(admin_user)
    page = client.get(reverse("funding:import_detail", args=[preview.batch.pk])).content.decode()
    assert "cộng các dòng ghi trong tệp" in page
    assert "dòng 7 Tỉnh Hà Giang (02) 100.000.000 đ; dòng 8 Tỉnh Tuyên Quang (08) 30.000.000 đ" in page


def test_the_same_former_province_twice_is_still_a_duplicate():
    rows = [("Tỉnh Hà Giang", "02", 100, 50), ("Tỉnh Tuyên Quang", "08", 30, 20), ("Hà Giang", "02", 1, 1)]
    messages = with_problems(xlsx_bytes(allocation_book(rows, year=2024)))
    assert "Dòng 9: Tỉnh Hà Giang (nguồn KCQG) trùng với dòng 7." in messages
    assert "Dòng 9: Tỉnh Hà Giang (nguồn KCĐP) trùng với dòng 7." in messages
    assert len(messages) == 2


def test_reimport_of_merged_rows_is_unchanged_and_a_change_updates_the_sum_and_undoes(admin_user):
    apply(MERGED_2024, admin_user, name="v1.xlsx")
    again = apply(MERGED_2024, admin_user, name="v1-ban-sao.xlsx", title="PHÂN BỔ KINH PHÍ KHUYẾN CÔNG NĂM 2024 (BẢN SAO)")
    assert again.counts() == {"create": 0, "update": 0, "unchanged": 4, "error": 0}
    changed = [("Tỉnh Hà Giang", "02", 110, 50), ("Tỉnh Tuyên Quang", "08", 30, 20), ("Thành phố Hà Nội", "01", 7, 3)]
    second = apply(changed, admin_user, name="v2.xlsx")
    assert second.counts() == {"create": 0, "update": 1, "unchanged": 3, "error": 0}
    row = ImportRow.objects.get(batch=second.batch, action=RowAction.UPDATE)
    assert (row.amount, row.previous_amount) == (140 * TRIEU, 130 * TRIEU)
    import_undo(batch=second.batch, actor=admin_user)
    assert amounts()[(2024, "08", "national")] == 130 * TRIEU


def test_lowering_merged_rows_below_commitments_names_both_rows(admin_user):
    from funding.services import commitment_reserve
    from khuyencong.models import Province
    from tests.funding.factories import make_de_an

    apply(MERGED_2024, admin_user, name="v1.xlsx")
    commitment_reserve(de_an=make_de_an(province=Province.objects.former().get(code="02"), year=2024),
                       amount=120 * TRIEU)
    before = snapshot()
    lowered = [("Tỉnh Hà Giang", "02", 80, 50), ("Tỉnh Tuyên Quang", "08", 30, 20), ("Thành phố Hà Nội", "01", 7, 3)]
    preview = import_file(fileobj=io.BytesIO(xlsx_bytes(allocation_book(lowered, year=2024))), name="v2.xlsx",
                          actor=admin_user)
    assert not preview.ok
    assert preview.problems[0].message.startswith("Dòng 7, 8: không thể giảm kinh phí KCQG năm 2024")
    assert snapshot() == before


# --- 5. undoing a later batch gives the allocation back to the earlier one ---------------------

def test_undo_the_later_batch_then_the_earlier_one(admin_user):
    before = snapshot()
    rows = [("Thành phố Hà Nội", "01", 100, 50), ("Tỉnh Cao Bằng", "04", 30, 20)]
    first = apply(rows, admin_user, year=2026, name="v1.xlsx")
    second = apply([("Thành phố Hà Nội", "01", 120, 50), ("Tỉnh Cao Bằng", "04", 30, 20)], admin_user, year=2026,
                   name="v2.xlsx")
    hanoi = Allocation.objects.get(province__code="01", source="national")
    assert hanoi.import_batch_id == second.batch.pk
    assert ImportRow.objects.get(batch=second.batch, action=RowAction.UPDATE).data["previous_batch"] == first.batch.pk
    import_undo(batch=second.batch, actor=admin_user)
    hanoi.refresh_from_db()
    assert (hanoi.amount, hanoi.import_batch_id) == (100 * TRIEU, first.batch.pk)
    import_undo(batch=first.batch, actor=admin_user)
    assert not Allocation.objects.exists()
    assert ImportBatch.objects.get(pk=first.batch.pk).status == ImportStatus.UNDONE
    after = snapshot()
    for table in ("AnnualPlan", "Allocation", "Commitment"):
        assert after[table] == before[table], table


def test_undo_of_an_update_over_an_allocation_written_by_hand_leaves_no_batch(admin_user):
    plan = AnnualPlan.objects.create(year=2026, level="kcqg")
    from khuyencong.models import Province

    Allocation.objects.create(plan=plan, province=Province.objects.current().get(code="01"), source="national",
                              amount=90 * TRIEU)
    second = apply([("Thành phố Hà Nội", "01", 120, 0)], admin_user, year=2026)
    import_undo(batch=second.batch, actor=admin_user)
    hanoi = Allocation.objects.get(province__code="01", source="national")
    assert (hanoi.amount, hanoi.import_batch_id) == (90 * TRIEU, None)


def test_earlier_batch_still_refused_while_the_later_one_is_applied(admin_user):
    first = apply([("Thành phố Hà Nội", "01", 100, 50)], admin_user, year=2026, name="v1.xlsx")
    second = apply([("Thành phố Hà Nội", "01", 120, 50)], admin_user, year=2026, name="v2.xlsx")
    before = snapshot()
    with pytest.raises(ImportFailed) as err:
        import_undo(batch=first.batch, actor=admin_user)
    assert f"(lô #{second.batch.pk})" in "\n".join(p.message for p in err.value.problems)
    assert snapshot() == before


# --- 3. an allocation table's decision goes to the plan of its level only -----------------------

def test_ministry_decision_of_the_sample_table_is_not_written_into_the_local_plan(admin_user):
    local = AnnualPlan.objects.create(year=2026, level="kcdp", decision_number="12/QĐ-UBND",
                                      decision_date=date(2026, 1, 10))
    with open(ALLOCATION, "rb") as fh:
        result = import_file(fileobj=fh, name="phan-bo-2026.xlsx", actor=admin_user)
    assert result.ok
    local.refresh_from_db()
    assert (local.decision_number, local.decision_date) == ("12/QĐ-UBND", date(2026, 1, 10))
    assert AnnualPlan.objects.get(year=2026, level="kcqg").decision_number == "95/QĐ-BCT"


def test_plans_created_by_a_table_take_its_decision_for_its_level_only(admin_user):
    with open(ALLOCATION, "rb") as fh:
        import_file(fileobj=fh, name="phan-bo-2026.xlsx", actor=admin_user)
    assert AnnualPlan.objects.get(year=2026, level="kcqg").decision_number == "95/QĐ-BCT"
    assert AnnualPlan.objects.get(year=2026, level="kcdp").decision_number == ""


def test_export_then_reimport_keeps_each_plans_decision(admin_user):
    from khuyencong.models import Province

    national = AnnualPlan.objects.create(year=2026, level="kcqg", decision_number="95/QĐ-BCT",
                                         decision_date=date(2026, 1, 15))
    local = AnnualPlan.objects.create(year=2026, level="kcdp", decision_number="12/QĐ-UBND",
                                      decision_date=date(2026, 1, 10))
    hanoi = Province.objects.current().get(code="01")
    Allocation.objects.create(plan=national, province=hanoi, source="national", amount=100 * TRIEU)
    Allocation.objects.create(plan=local, province=hanoi, source="local", amount=50 * TRIEU)
    data = allocations_workbook(user=admin_user, year=2026)
    assert "12/QĐ-UBND" in {c for row in openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)
                            for c in row if isinstance(c, str) and "Quyết định" in c}.pop()
    result = import_file(fileobj=io.BytesIO(data), name="phan-bo-xuat.xlsx", actor=admin_user)
    assert result.ok and result.counts()["unchanged"] == 2
    national.refresh_from_db()
    local.refresh_from_db()
    assert (national.decision_number, national.decision_date) == ("95/QĐ-BCT", date(2026, 1, 15))
    assert (local.decision_number, local.decision_date) == ("12/QĐ-UBND", date(2026, 1, 10))


def test_a_2026_table_on_todays_map_still_refuses_two_rows_for_one_province():
    rows = [("Tỉnh Tuyên Quang", "", 10, 5), ("Tỉnh Hà Giang (cũ)", "", 1, 1)]
    messages = with_problems(xlsx_bytes(allocation_book(rows, year=2026)))
    assert "Dòng 8: Tỉnh Tuyên Quang (nguồn KCQG) trùng với dòng 7." in messages


def test_a_2024_table_mixing_a_former_and_a_current_province_is_a_duplicate():
    rows = [("Tỉnh Hà Giang", "02", 10, 5), ("Tỉnh Tuyên Quang (mới)", "", 1, 1)]
    messages = with_problems(xlsx_bytes(allocation_book(rows, year=2024)))
    assert any(m.startswith("Dòng 8: Tỉnh Tuyên Quang") and "trùng với dòng 7" in m for m in messages), messages
