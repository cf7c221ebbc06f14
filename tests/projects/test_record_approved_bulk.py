"""The set-based ``de_an_record_approved_many``: the same đề án, lines, beneficiaries, transitions and
history rows as recording the rows one at a time, and a query count that does not grow with the rows."""
from datetime import date

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from projects import services
from projects.models import BudgetLine, DeAn, DeAnBeneficiary, Establishment, Transition
from projects.services import _m2m_history_model

from .factories import current

pytestmark = pytest.mark.django_db

SKIP_DE_AN = {"id", "created_at", "updated_at"}


def rows(n, *, prefix="annex", **overrides):
    out = []
    for i in range(n):
        row = dict(
            plan_year=2026, level="kcqg", province=current("24") if i % 2 else current("19"),
            name=f"Hỗ trợ máy móc thiết bị số {i}",
            implementing_unit_name="Trung tâm Khuyến công tỉnh Bắc Ninh" if i % 2 else "Viện Nghiên cứu Cơ khí",
            beneficiary_name=f"HTX Chè Tân Cương {i % 3}" if i % 5 else "", contents_text="1.2 Hỗ trợ máy móc"
            if i % 4 else "Nội dung không có trong danh mục", location="Xã A", start_date=date(2026, 3, 1),
            end_date=date(2026, 11, 30), total_amount=1_000_000_000 + i, national_amount=300_000_000,
            local_amount=0, counterpart_amount=650_000_000, decision_number="2646/QĐ-BCT",
            decision_date=date(2025, 12, 20), source_ref=f"{prefix}:{i}",
        )
        row.update(overrides)
        out.append(row)
    return out


def second_import(n):
    """Creates, updates (amounts → new lines; name only → same lines) and unchanged rows."""
    out = rows(n)
    for i, row in enumerate(out):
        if i % 3 == 0:
            row["national_amount"] = 250_000_000
            row["counterpart_amount"] = 700_000_000
        elif i % 3 == 1:
            row["name"] += " (điều chỉnh)"
    return out + rows(4, prefix="more")


def snapshot():
    """Everything the recording wrote, keyed by the đề án's code (ids and timestamps left out)."""
    code = dict(DeAn.objects.values_list("pk", "code"))
    history = DeAn.history.model

    m2m_by_history = {}
    for h_id, content_id in _m2m_history_model().objects.values_list("history_id", "activitycontent_id"):
        m2m_by_history.setdefault(h_id, []).append(content_id)
    fields = [f.attname for f in DeAn._meta.concrete_fields if f.attname not in SKIP_DE_AN]
    return {
        "de_an": sorted(tuple(getattr(d, f) for f in fields) + (tuple(d.contents.values_list("code", flat=True)),)
                        for d in DeAn.objects.all()),
        "lines": sorted((code[ln.de_an_id], ln.order, ln.description, ln.source, ln.amount, ln.content_id)
                        for ln in BudgetLine.objects.all()),
        "beneficiaries": sorted((code[b.de_an_id], b.establishment.name, b.establishment.province_id,
                                 b.establishment.legal_form, b.order) for b in DeAnBeneficiary.objects.all()),
        "establishments": sorted(Establishment.objects.values_list("name", "search_name", "province_id", "legal_form")),
        "transitions": sorted((code[t.de_an_id], t.action, t.from_status, t.to_status, t.actor_id, t.decision_number,
                               t.decision_date, repr(sorted(t.data.items()))) for t in Transition.objects.all()),
        "de_an_history": sorted(
            (h.code, h.history_type, h.history_user_id, h.revision, h.name, h.total_amount, h.national_amount,
             h.counterpart_amount, h.other_amount, h.implementing_unit_id, h.status,
             tuple(sorted(m2m_by_history.get(h.history_id, []))))
            for h in history.objects.all()),
        "line_history": sorted((code[h.de_an_id], h.history_type, h.history_user_id, h.order, h.source, h.amount)
                               for h in BudgetLine.history.all()),
        "beneficiary_history": sorted((code[h.de_an_id], h.history_type, h.history_user_id, h.order)
                                      for h in DeAnBeneficiary.history.all()),
    }


class Rollback(Exception):
    pass


def run_and_snapshot(func):
    result = {}
    try:
        with transaction.atomic():
            func()
            result.update(snapshot())
            raise Rollback
    except Rollback:
        pass
    return result


def test_bulk_path_writes_exactly_what_the_one_row_path_writes(users):
    actor = users.reviewer

    def one_by_one():
        actions = [services.de_an_record_approved(actor=actor, **r)[1] for r in rows(12)]
        assert actions == ["created"] * 12
        actions = [services.de_an_record_approved(actor=actor, **r)[1] for r in second_import(12)]
        assert actions == ["updated", "updated", "unchanged"] * 4 + ["created"] * 4

    def all_at_once():
        results = services.de_an_record_approved_many(actor=actor, rows=rows(12))
        assert [a for _d, a in results] == ["created"] * 12
        results = services.de_an_record_approved_many(actor=actor, rows=second_import(12))
        assert [a for _d, a in results] == ["updated", "updated", "unchanged"] * 4 + ["created"] * 4
        for (d, _a), r in zip(results, second_import(12), strict=True):
            assert d.source_ref == r["source_ref"] and d.pk  # in row order, saved

    single = run_and_snapshot(one_by_one)
    bulk = run_and_snapshot(all_at_once)
    assert single["de_an"] and single["de_an_history"]
    for key in single:
        assert single[key] == bulk[key], key
    # The history tells the story: "+" with the contents snapshot, "~" for each update; replaced
    # budget lines "-" and "+".
    types = sorted(h[1] for h in bulk["de_an_history"])
    assert types.count("+") == 16 and types.count("~") == 8
    assert sorted(h[1] for h in bulk["line_history"]).count("-") == 4 * 3  # national, counterpart, other
    assert any(h[-1] for h in bulk["de_an_history"] if h[1] == "~")


def _count(func):
    with CaptureQueriesContext(connection) as ctx:
        func()
    return len(ctx.captured_queries)


@pytest.mark.parametrize("kind", ["create", "update"])
def test_query_count_does_not_grow_with_the_rows(users, kind, monkeypatch):
    if connection.vendor == "sqlite":
        # Django assumes SQLite's old 999-variable limit and splits inserts in batches of ~20 đề án;
        # SQLite ≥ 3.32 allows 32766, which keeps 100 rows in one statement as on PostgreSQL.
        monkeypatch.setattr(connection.features, "max_query_params", 32766)
    counts = {}
    for n in (10, 100):
        prefix = f"q{n}"
        if kind == "update":
            services.de_an_record_approved_many(actor=users.reviewer, rows=rows(n, prefix=prefix))
            changed = rows(n, prefix=prefix, national_amount=200_000_000)
            counts[n] = _count(lambda c=changed: services.de_an_record_approved_many(actor=users.reviewer, rows=c))
        else:
            new = rows(n, prefix=prefix)
            counts[n] = _count(lambda r=new: services.de_an_record_approved_many(actor=users.reviewer, rows=r))
    assert counts[10] == counts[100], counts
    assert counts[100] <= 35, counts  # PostgreSQL: key reservation + COPY per table


def test_codes_are_consecutive_per_prefix_and_survive_hand_written_codes(users):
    first = services.de_an_record_approved_many(actor=users.reviewer, rows=rows(4))
    codes = sorted(d.code for d, _a in first)
    assert codes == ["KCQG-2026-19-0001", "KCQG-2026-19-0002", "KCQG-2026-24-0001", "KCQG-2026-24-0002"]
    DeAn.objects.filter(code="KCQG-2026-24-0002").update(code="KCQG-2026-24-0004")  # a code written by hand
    more = services.de_an_record_approved_many(actor=users.reviewer, rows=rows(4, prefix="later"))
    later = sorted(d.code for d, _a in more)
    assert "KCQG-2026-24-0004" not in later and "KCQG-2026-24-0003" in later
    all_codes = list(DeAn.objects.values_list("code", flat=True))
    assert len(all_codes) == len(set(all_codes)) == 8


def test_a_bad_row_anywhere_names_its_index_and_writes_nothing(users):
    establishments = Establishment.objects.count()
    batch = rows(30)
    batch[17]["end_date"] = date(2026, 1, 1)
    with pytest.raises(services.RecordError) as err:
        services.de_an_record_approved_many(actor=users.reviewer, rows=batch)
    assert err.value.index == 17 and "Ngày kết thúc phải sau ngày bắt đầu" in str(err.value)
    assert not DeAn.objects.exists() and Establishment.objects.count() == establishments
