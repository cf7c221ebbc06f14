import io
import os
import zipfile

import openpyxl
import pytest
from django.db import connection

# The ministry's two sample workbooks (../shared/samples/ beside the checkout), copied into the
# repository so a bare clone tests against them too; test_samples_are_the_shared_ones keeps the copies
# identical to the originals whenever those are present. KC_SAMPLES_DIR points elsewhere.
SHARED_SAMPLES = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "samples"))
SAMPLES = os.environ.get("KC_SAMPLES_DIR") or os.path.join(os.path.dirname(__file__), "samples")
ANNEX = os.path.abspath(os.path.join(SAMPLES, "ke-hoach-kcqg-2024.xlsx"))
ALLOCATION = os.path.abspath(os.path.join(SAMPLES, "phan-bo-kinh-phi-2026.xlsx"))


def load_bench_import():
    """bench/bench_import.py as a module (its annex generator is what the bulk tests import)."""
    import importlib.util

    path = os.path.join(os.path.dirname(__file__), "..", "..", "bench", "bench_import.py")
    spec = importlib.util.spec_from_file_location("bench_import_for_tests", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def admin_user(db):
    from khuyencong.models import User

    return User.objects.create_user(username="quantri", password="mat-khau-dai-12345", role="admin",
                                    first_name="Quản", last_name="Trị")


def is_postgres():
    return connection.vendor == "postgresql"


def snapshot():
    """Everything the import can touch, as comparable data."""
    from funding.models import Allocation, AnnualPlan, Commitment, Disbursement, ImportBatch, ImportRow
    from khuyencong.models import AuditEvent
    from projects.models import BudgetLine, DeAn, Establishment, Transition

    out = {}
    for model in (AnnualPlan, Allocation, Commitment, Disbursement, ImportBatch, ImportRow, DeAn, BudgetLine,
                  Establishment, Transition, AuditEvent):
        out[model.__name__] = sorted(map(repr, model.objects.values_list()))
    return out


def rejected(data, name="bang.xlsx", actor=None):
    """The file is refused as a whole (ImportRejected); the database is as before. Returns the message."""
    from funding.importers import ImportRejected
    from funding.services import import_preview

    before = snapshot()
    with pytest.raises(ImportRejected) as err:
        import_preview(fileobj=io.BytesIO(data), name=name, actor=actor)
    assert snapshot() == before
    return str(err.value)


def with_problems(data, name="bang.xlsx", actor=None):
    """The preview lists problems and keeps no batch, and the command path refuses the same way; the
    database is as before. Returns the problems' messages."""
    from funding.services import import_file, import_preview

    before = snapshot()
    preview = import_preview(fileobj=io.BytesIO(data), name=name, actor=actor)
    assert not preview.ok and preview.batch is None
    assert snapshot() == before
    again = import_file(fileobj=io.BytesIO(data), name=name, actor=actor)
    assert not again.ok and again.batch is None
    assert snapshot() == before
    return [p.message for p in preview.problems]


def xlsx_bytes(wb):
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def allocation_book(rows, *, year=2026, unit_line="ĐVT: triệu đồng", headers=None, total="auto", title=None,
                    extra_sheet_first=False):
    """An allocation table in the sample's layout. ``rows``: (name, code, national, local[, total])."""
    wb = openpyxl.Workbook()
    ws = wb.active
    if extra_sheet_first:
        ws.title = "Huong dan"
        ws["A1"] = "Hướng dẫn điền bảng"
        ws = wb.create_sheet("Phan bo")
    else:
        ws.title = "Phan bo"
    ws["A1"] = "BỘ CÔNG THƯƠNG"
    ws["A3"] = title or f"PHÂN BỔ KINH PHÍ KHUYẾN CÔNG NĂM {year} THEO TỈNH, THÀNH PHỐ"
    ws["A4"] = f"(Kèm theo Quyết định số 95/QĐ-BCT ngày 15/01/{year})"
    if unit_line:
        ws["E5"] = unit_line
    for col, header in enumerate(headers or ["STT", "Tỉnh, thành phố", "Mã tỉnh", "Kinh phí KCQG", "Kinh phí KCĐP", "Tổng cộng"], 1):
        ws.cell(row=6, column=col, value=header)
    r = 7
    sums = [0, 0, 0]
    for i, row in enumerate(rows, 1):
        name, code, national, local = row[:4]
        row_total = row[4] if len(row) > 4 else (national + local if isinstance(national, int) and isinstance(local, int) else None)
        ws.cell(row=r, column=1, value=i)
        ws.cell(row=r, column=2, value=name)
        ws.cell(row=r, column=3, value=code)
        ws.cell(row=r, column=4, value=national)
        ws.cell(row=r, column=5, value=local)
        ws.cell(row=r, column=6, value=row_total)
        for k, v in enumerate((national, local, row_total)):
            if isinstance(v, int):
                sums[k] += v
        r += 1
    if total is not None:
        ws.cell(row=r, column=2, value="Tổng cộng")
        values = sums if total == "auto" else total
        for k, v in enumerate(values):
            ws.cell(row=r, column=4 + k, value=v)
    return wb


def replace_in_zip(data, replacements, extra=None):
    """Rewrite an .xlsx zip with some parts replaced (name → bytes) and extra parts added."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = replacements.get(info.filename, src.read(info.filename))
            if callable(body):
                body = body(src.read(info.filename))
            dst.writestr(info.filename, body)
        for name, body in (extra or {}).items():
            dst.writestr(name, body)
    return out.getvalue()
