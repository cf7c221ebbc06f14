"""The plan annex goes through projects' set-based recording: the result does not depend on how
many rows go in one call (one row per call is what the import did before), and the number of
queries of an import does not grow with its rows."""
import io

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from funding import services as funding_services
from funding.models import Allocation, AnnualPlan, Commitment
from funding.services import import_file
from khuyencong.models import Province
from projects.models import BudgetLine, DeAn, DeAnBeneficiary, Establishment, Transition
from projects.services import _m2m_history_model
from tests.funding.conftest import ANNEX, load_bench_import

pytestmark = pytest.mark.django_db


def state():
    code = dict(DeAn.objects.values_list("pk", "code"))
    skip = {"id", "created_at", "updated_at"}
    fields = [f.attname for f in DeAn._meta.concrete_fields if f.attname not in skip]
    m2m = {}
    for h_id, content_id in _m2m_history_model().objects.values_list("history_id", "activitycontent_id"):
        m2m.setdefault(h_id, []).append(content_id)
    return {
        "de_an": sorted(tuple(getattr(d, f) for f in fields) for d in DeAn.objects.all()),
        "lines": sorted((code[x.de_an_id], x.order, x.description, x.source, x.amount, x.content_id)
                        for x in BudgetLine.objects.all()),
        "beneficiaries": sorted((code[b.de_an_id], b.establishment.name, b.order) for b in DeAnBeneficiary.objects.all()),
        "establishments": sorted(Establishment.objects.values_list("name", "province_id", "legal_form")),
        "transitions": sorted((code[t.de_an_id], t.action, t.from_status, t.to_status, t.actor_id, t.decision_number,
                               repr(sorted(t.data.items()))) for t in Transition.objects.all()),
        "commitments": sorted((code[c.de_an_id], c.allocation.province_id, c.allocation.source, c.amount)
                              for c in Commitment.objects.select_related("allocation")),
        "allocations": sorted(Allocation.objects.values_list("plan__year", "plan__level", "province_id", "source",
                                                             "amount", "committed")),
        "de_an_history": sorted((h.code, h.history_type, h.history_user_id, h.name, h.total_amount,
                                 h.national_amount, tuple(m2m.get(h.history_id, []))) for h in DeAn.history.all()),
        "line_history": sorted((code[h.de_an_id], h.history_type, h.order, h.source, h.amount)
                               for h in BudgetLine.history.all()),
        "beneficiary_history": sorted((code[h.de_an_id], h.history_type) for h in DeAnBeneficiary.history.all()),
    }


class Rollback(Exception):
    pass


def import_with_chunk(monkeypatch, chunk, admin_user):
    monkeypatch.setattr(funding_services, "ANNEX_CHUNK", chunk)
    out = {}
    try:
        with transaction.atomic():
            # One province already has an allocation with room (the rest are created from the annex).
            plan = AnnualPlan.objects.create(year=2024, level="kcqg")
            bac_ninh = Province.objects.get(code="24", era="current")
            Allocation.objects.create(plan=plan, province=bac_ninh, source="national", amount=10_000_000_000)
            with open(ANNEX, "rb") as fh:
                preview = import_file(fileobj=fh, name="ke-hoach.xlsx", actor=admin_user)
            assert preview.ok and preview.counts()["create"] == 30, preview.problems
            out.update(state())
            out["actions"] = [(p.line.sheet_row, p.action) for p in preview.plans]
            raise Rollback
    except Rollback:
        pass
    return out


def test_annex_one_row_per_call_and_one_call_write_the_same(monkeypatch, admin_user):
    one_by_one = import_with_chunk(monkeypatch, 1, admin_user)
    in_one_go = import_with_chunk(monkeypatch, 5000, admin_user)
    assert len(one_by_one["de_an"]) == 30 and len(one_by_one["commitments"]) == 30
    for key in one_by_one:
        assert one_by_one[key] == in_one_go[key], key
    bac_ninh = [a for a in in_one_go["allocations"] if a[3] == "national" and a[4] == 10_000_000_000]
    assert bac_ninh and 0 < bac_ninh[0][5] <= bac_ninh[0][4]  # committed against the existing allocation


def test_annex_import_query_count_does_not_grow_with_rows(monkeypatch, admin_user, settings):
    if connection.vendor == "sqlite":
        monkeypatch.setattr(connection.features, "max_query_params", 32766)  # see tests/projects
    bench = load_bench_import()
    counts = {}
    for n in (12, 120):
        data, rows = bench.plan_annex(n, seed=n)
        try:
            with transaction.atomic():
                with CaptureQueriesContext(connection) as ctx:
                    preview = import_file(fileobj=io.BytesIO(data), name=f"phu-luc-{n}.xlsx", actor=admin_user)
                assert preview.ok and preview.counts()["create"] == rows == n, preview.problems[:3]
                assert DeAn.objects.count() == Commitment.objects.count() == n
                raise Rollback
        except Rollback:
            pass
        counts[n] = len(ctx.captured_queries)
    assert counts[12] == counts[120], counts


@pytest.mark.parametrize(("unit_line", "national", "local", "expected"), [
    ("ĐVT: tỷ đồng", 2, 1.5, (2_000_000_000, 1_500_000_000)),
    ("ĐVT: nghìn đồng", 2_750_000, 3.0, (2_750_000_000, 3_000)),
    ("ĐVT: đồng", 1_000_000, "1.250.000", (1_000_000, 1_250_000)),
    ("ĐVT: triệu đồng", 2.0, 1250.5, (2_000_000, 1_250_500_000)),
])
def test_plain_numbers_in_every_unit(unit_line, national, local, expected):
    """The integer fast path of the money reader gives what the Decimal path gives, in every unit."""
    from funding.importers import parse_workbook
    from khuyencong.xlsx import Workbook
    from tests.funding.conftest import allocation_book, xlsx_bytes

    data = xlsx_bytes(allocation_book([("Hà Nội", "01", national, local, None)], unit_line=unit_line,
                                      total=None))
    parsed = parse_workbook(Workbook(io.BytesIO(data)))
    assert parsed.ok, parsed.problems
    assert sorted((line.source, line.amount) for line in parsed.lines) == sorted(
        [("national", expected[0]), ("local", expected[1])])


def test_negative_and_fractional_dong_are_still_refused():
    from funding.importers import parse_workbook
    from khuyencong.xlsx import Workbook
    from tests.funding.conftest import allocation_book, xlsx_bytes

    data = xlsx_bytes(allocation_book([("Hà Nội", "01", -5, 2.5, None)], unit_line="ĐVT: đồng", total=None))
    parsed = parse_workbook(Workbook(io.BytesIO(data)))
    text = " ".join(p.message for p in parsed.problems)
    assert "số âm" in text and "phần lẻ" in text and not parsed.lines


def _small_allocation():
    plan = AnnualPlan.objects.create(year=2024, level="kcqg")
    bac_ninh = Province.objects.get(code="24", era="current")
    return Allocation.objects.create(plan=plan, province=bac_ninh, source="national", amount=1_000_000)


def test_annex_over_an_existing_allocation_is_refused_and_writes_nothing(admin_user):
    from tests.funding.conftest import snapshot

    _small_allocation()
    before = snapshot()
    with open(ANNEX, "rb") as fh:
        preview = import_file(fileobj=fh, name="ke-hoach.xlsx", actor=admin_user)
    assert not preview.ok and preview.batch is None
    assert any("chỉ có" in p.message and "1.000.000 đ" in p.message for p in preview.problems)
    assert snapshot() == before


def test_bulk_commit_keeps_its_own_guard_under_the_lock(admin_user, monkeypatch):
    """Even past the planning check, the locked bulk commit refuses to go over the allocation (the
    OverAllocation wording) and the whole import rolls back."""
    from tests.funding.conftest import snapshot

    allocation = _small_allocation()
    monkeypatch.setattr(funding_services, "_check_annex_allocations", lambda *a, **k: None)
    before = snapshot()
    with open(ANNEX, "rb") as fh, pytest.raises(funding_services.ImportFailed) as err:
        import_file(fileobj=fh, name="ke-hoach.xlsx", actor=admin_user)
    assert "Vượt kinh phí được phân bổ" in str(err.value) and "1.000.000 đ" in str(err.value)
    assert snapshot() == before
    allocation.refresh_from_db()
    assert allocation.committed == 0
