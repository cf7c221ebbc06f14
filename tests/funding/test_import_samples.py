"""Both sample workbooks import through the service and the command; expected figures are computed
here, independently, straight from the sheet with openpyxl."""
import io
from collections import defaultdict

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from funding.models import Allocation, AnnualPlan, Commitment, ImportBatch, ImportRow, ImportStatus
from funding.services import ImportFailed, commitment_reserve, import_apply, import_file, import_preview, import_undo
from khuyencong.models import Province
from tests.funding.conftest import ALLOCATION, ANNEX, allocation_book, snapshot, xlsx_bytes
from tests.funding.factories import make_de_an

pytestmark = pytest.mark.django_db
TRIEU = 1_000_000


def expected_allocations():
    """{(current code, source): đồng} read from the 2026 sample with openpyxl."""
    ws = openpyxl.load_workbook(ALLOCATION, data_only=True).worksheets[0]
    out = {}
    for row in ws.iter_rows(min_row=1, values_only=True):
        if isinstance(row[0], int):
            out[(row[2], "national")] = round(row[3] * TRIEU)
            out[(row[2], "local")] = round(row[4] * TRIEU)
    return out


def expected_annex():
    """Per former province name (group row): national total; and all data rows."""
    ws = openpyxl.load_workbook(ANNEX, data_only=True).worksheets[0]
    groups = defaultdict(int)
    rows = []
    group = None
    for row in ws.iter_rows(min_row=9, values_only=True):
        if isinstance(row[0], str) and row[0].strip() in ("I", "II", "III", "IV", "V", "VI"):
            group = row[1]
        elif isinstance(row[0], int):
            groups[group] += round(row[8] * TRIEU)
            rows.append({"name": row[1], "total": round(row[7] * TRIEU), "national": round(row[8] * TRIEU),
                         "counterpart": round(row[9] * TRIEU)})
    return groups, rows


def test_allocation_sample_preview_then_apply(admin_user):
    expected = expected_allocations()
    with open(ALLOCATION, "rb") as fh:
        preview = import_preview(fileobj=fh, name="phan-bo-kinh-phi-2026.xlsx", actor=admin_user)
    assert preview.ok, preview.problems
    assert preview.counts() == {"create": 68, "update": 0, "unchanged": 0, "error": 0}
    batch = preview.batch
    assert batch.status == ImportStatus.PREVIEWED and batch.file and len(batch.sha256) == 64
    assert not Allocation.objects.exists()  # preview writes no money
    assert batch.total_national == sum(v for (c, s), v in expected.items() if s == "national")
    import_apply(batch=batch, actor=admin_user)
    batch.refresh_from_db()
    assert batch.status == ImportStatus.APPLIED and batch.applied_by == admin_user and batch.rows_created == 68
    got = {(a.province.code, a.source): a.amount for a in Allocation.objects.select_related("province")}
    assert got == expected
    assert AnnualPlan.objects.get(year=2026, level="kcqg").decision_number == "95/QĐ-BCT"
    assert ImportRow.objects.filter(batch=batch).count() == 68
    # Row numbers are the sheet's: Hà Nội is on row 7.
    assert ImportRow.objects.get(batch=batch, province__code="01", source="national").sheet_row == 7


def test_same_file_twice_is_detected_and_explained(admin_user):
    with open(ALLOCATION, "rb") as fh:
        import_file(fileobj=fh, name="a.xlsx", actor=admin_user)
    before = snapshot()
    with open(ALLOCATION, "rb") as fh:
        preview = import_preview(fileobj=fh, name="a-lan-2.xlsx", actor=admin_user)
    assert not preview.ok and preview.batch is None
    assert preview.duplicate_of is not None
    text = "\n".join(preview.summary_lines())
    assert "đã được nhập trước đây" in text and f"lô #{preview.duplicate_of.pk}" in text
    assert snapshot() == before


def test_plan_annex_through_the_command(capsys):
    groups, rows = expected_annex()
    call_command("import_budget", ANNEX)
    out = capsys.readouterr().out
    assert "tạo mới 30" in out and "Đã nhập" in out
    from projects.models import DeAn

    assert DeAn.objects.count() == len(rows) == 30
    assert DeAn.objects.filter(status="approved", plan_year=2024, decision_number="312/QĐ-BCT").count() == 30
    for expected in rows:
        de_an = DeAn.objects.get(name=expected["name"])
        assert de_an.national_amount == expected["national"]
        assert de_an.total_amount == expected["total"]
        assert de_an.counterpart_amount + de_an.other_amount == expected["counterpart"]
        assert Commitment.objects.get(de_an=de_an).amount == expected["national"]
    # Bắc Giang (former 24) keeps its record and maps to today's Bắc Ninh (24).
    bac_giang = DeAn.objects.filter(province__name="Bắc Giang").first()
    assert bac_giang.province.era == "former" and bac_giang.current_province.name == "Bắc Ninh"
    by_current = defaultdict(int)
    for name, amount in groups.items():
        province = Province.objects.former().get(search_name=__import__("khuyencong.textsearch", fromlist=["x"]).fold_province_name(name))
        by_current[province.current.code] += amount
    got = {a.province.code: (a.amount, a.committed) for a in Allocation.objects.filter(plan__year=2024)}
    assert got == {code: (amount, amount) for code, amount in by_current.items()}
    assert sum(a for a, _c in got.values()) == 6_800 * TRIEU
    # Importing the same annex again changes nothing and says why.
    before = snapshot()
    with pytest.raises(CommandError):
        call_command("import_budget", ANNEX)
    assert "đã được nhập trước đây" in capsys.readouterr().out
    assert snapshot() == before


def test_command_dry_run_writes_nothing(capsys):
    before = snapshot()
    call_command("import_budget", ALLOCATION, "--dry-run")
    out = capsys.readouterr().out
    assert "tạo mới 68" in out and "--dry-run" in out
    assert "01 Thành phố Hà Nội: KCQG 2.750.000.000 đ; KCĐP 8.070.000.000 đ" in out
    assert snapshot() == before


def test_corrected_table_updates_and_undo_restores(admin_user):
    rows = [("Thành phố Hà Nội", "01", 100, 50), ("Tỉnh Cao Bằng", "04", 30, 20)]
    first = import_file(fileobj=io.BytesIO(xlsx_bytes(allocation_book(rows))), name="v1.xlsx", actor=admin_user)
    rows2 = [("Thành phố Hà Nội", "01", 120, 50), ("Tỉnh Cao Bằng", "04", 30, 20), ("Tỉnh Sơn La", "14", 5, 0)]
    second = import_file(fileobj=io.BytesIO(xlsx_bytes(allocation_book(rows2))), name="v2.xlsx", actor=admin_user)
    assert second.counts() == {"create": 2, "update": 1, "unchanged": 3, "error": 0}
    hanoi = Allocation.objects.get(province__code="01", source="national")
    assert hanoi.amount == 120 * TRIEU
    # The first batch cannot be undone: the second changed what it wrote.
    with pytest.raises(ImportFailed) as err:
        import_undo(batch=first.batch, actor=admin_user)
    assert "đã được thay đổi sau lô này" in "\n".join(p.message for p in err.value.problems)
    import_undo(batch=second.batch, actor=admin_user)
    hanoi.refresh_from_db()
    assert hanoi.amount == 100 * TRIEU
    assert not Allocation.objects.filter(province__code="14").exists()
    assert ImportBatch.objects.get(pk=second.batch.pk).status == ImportStatus.UNDONE


def test_undo_refused_while_money_is_committed(admin_user):
    rows = [("Thành phố Hà Nội", "01", 100, 50)]
    result = import_file(fileobj=io.BytesIO(xlsx_bytes(allocation_book(rows))), name="v1.xlsx", actor=admin_user)
    hanoi = Province.objects.current().get(code="01")
    commitment_reserve(de_an=make_de_an(province=hanoi), amount=10 * TRIEU)
    before = snapshot()
    with pytest.raises(ImportFailed) as err:
        import_undo(batch=result.batch, actor=admin_user)
    assert "cam kết" in "\n".join(p.message for p in err.value.problems)
    assert snapshot() == before


def test_lowering_an_allocation_below_commitments_is_an_error(admin_user):
    rows = [("Thành phố Hà Nội", "01", 100, 50)]
    import_file(fileobj=io.BytesIO(xlsx_bytes(allocation_book(rows))), name="v1.xlsx", actor=admin_user)
    commitment_reserve(de_an=make_de_an(province=Province.objects.current().get(code="01")), amount=90 * TRIEU)
    before = snapshot()
    preview = import_file(fileobj=io.BytesIO(xlsx_bytes(allocation_book([("Hà Nội", "01", 80, 50)]))), name="v2.xlsx",
                          actor=admin_user)
    assert not preview.ok
    assert "Dòng 7: không thể giảm kinh phí KCQG năm 2026" in preview.problems[0].message
    assert snapshot() == before
