"""``QueueTotals`` (the review-queue sums per đề án) stays equal to the transition rows on every path
that writes or deletes transitions — the workflow services, the set-based plan-annex recording (new
and updated đề án), its undo, the scale seed — and rolls back with them; the dashboard's queue-age
figures equal the ones recomputed here from the raw Transition rows."""
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from dashboards import selectors
from dashboards.filters import parse_filters
from dashboards.models import QUEUE_STATES, QueueTotals
from dashboards.services import STAYING_ACTIONS, queue_totals_rebuild
from projects import services
from projects.models import DeAn, Transition
from projects.scale import seed_reset, seed_scale
from tests.projects.factories import advance, current, make_users, ready_de_an
from tests.projects.test_record_approved_bulk import rows as annex_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """Every ``timezone.now()`` (and every Transition's default time) is 2 days and 1 hour after the
    previous one, so the steps last long enough for the sums to mean something."""
    state = {"t": datetime(2026, 1, 5, 8, 0, tzinfo=UTC)}

    def tick():
        state["t"] += timedelta(days=2, hours=1)
        return state["t"]

    monkeypatch.setattr(timezone, "now", tick)
    # Field.get_default() calls the cached ``_get_default`` (the default callable, read once per process).
    monkeypatch.setattr(Transition._meta.get_field("at"), "_get_default", tick)
    return state


@pytest.fixture
def users(db):
    return make_users()


def raw_totals():
    """{de_an_id: {"last_at", "left_S", "net_S"}} recomputed in Python from every Transition row."""
    out = {}
    for de_an_id, from_status, to_status, at, action in Transition.objects.values_list(
            "de_an_id", "from_status", "to_status", "at", "action"):
        row = out.setdefault(de_an_id, {"last_at": None, **{f"left_{s}": 0 for s in QUEUE_STATES},
                                        **{f"net_{s}": 0.0 for s in QUEUE_STATES}})
        epoch = at.timestamp()
        if action in STAYING_ACTIONS:  # stays in its state and its wait (the Sở confirming an adjustment request)
            continue
        row["last_at"] = epoch if row["last_at"] is None else max(row["last_at"], epoch)
        if from_status in QUEUE_STATES:
            row[f"left_{from_status}"] += 1
            row[f"net_{from_status}"] += epoch
        if to_status in QUEUE_STATES:
            row[f"net_{to_status}"] -= epoch
    return out


def stored_totals():
    fields = ["last_at"] + [f"{p}_{s}" for s in QUEUE_STATES for p in ("left", "net")]
    return {row["de_an_id"]: {f: row[f] for f in fields} for row in QueueTotals.objects.values("de_an_id", *fields)}


def assert_totals_match():
    want, got = raw_totals(), stored_totals()
    assert set(got) == set(want)
    for pk, row in want.items():
        for key, value in row.items():
            assert got[pk][key] == pytest.approx(value, abs=1e-3), (pk, key)
    return want


def raw_queue_age(de_an_ids, now):
    """The queue-age figures from consecutive Transition rows of each đề án (no sums, no QueueTotals)."""
    status = dict(DeAn.objects.filter(pk__in=de_an_ids).values_list("id", "status"))
    rows = list(Transition.objects.filter(de_an_id__in=de_an_ids).exclude(action__in=STAYING_ACTIONS)
                .order_by("de_an_id", "at", "id").values_list("de_an_id", "from_status", "at"))
    last = {}
    for d, _f, at in rows:
        last[d] = at
    spans = {}
    for (d1, _f1, at1), (d2, f2, at2) in zip(rows, rows[1:], strict=False):
        if d1 == d2 and f2:
            spans.setdefault(f2, []).append((at2 - at1).total_seconds())
    out = {}
    for state in QUEUE_STATES:
        waits = [(now - last[i]).total_seconds() for i, s in status.items() if s == state and i in last]
        done = spans.get(state, [])
        out[state] = {"waiting": len(waits), "avg_wait": sum(waits) / len(waits) if waits else None,
                      "max_wait": max(waits) if waits else None, "done": len(done),
                      "avg_done": sum(done) / len(done) if done else None,
                      "over": sum(1 for w in waits if w > selectors.OVERDUE_DAYS * 86400)}
    return out


def assert_dashboard_queue_matches(user, year, province=None):
    """The dashboard's figures (national, or ``province``'s: the per-đề-án lookup path) against the raw rows."""
    now = datetime(2026, 12, 31, tzinfo=UTC)
    filters = parse_filters({"year_from": str(year), "year_to": str(year)}, fixed_province=province)
    got = selectors.queue_age(selectors.Facts(user=user, filters=filters,
                                              de_an=selectors.selected_de_an(user=user, filters=filters), now=now))
    selected = DeAn.objects.filter(plan_year=year)
    if province is not None:
        selected = selected.filter(current_province=province)
    want = raw_queue_age(list(selected.values_list("pk", flat=True)), now)
    for state in QUEUE_STATES:
        for key in ("waiting", "done", "over"):
            assert got[state][key] == want[state][key], (state, key)
        for key in ("avg_wait", "max_wait", "avg_done"):
            if want[state][key] is None:
                assert got[state][key] is None, (state, key)
            else:
                assert got[state][key] == pytest.approx(want[state][key], abs=1e-3), (state, key)
    return got


def test_workflow_services_keep_the_totals(users, clock):
    first = advance(ready_de_an(users.centre), "approved", users)
    second = advance(ready_de_an(users.centre, name="Đề án thứ hai"), "forwarded", users)
    services.de_an_return(actor=users.reviewer, de_an=second, comment="Bổ sung hồ sơ")
    third = ready_de_an(users.centre, name="Đề án thứ ba")
    services.de_an_submit(actor=users.centre, de_an=third)
    want = assert_totals_match()
    # The returned dossier left "submitted" and "forwarded" once each and waits in "returned".
    assert want[second.pk]["left_submitted"] == 1 and want[second.pk]["left_forwarded"] == 1
    assert want[first.pk]["net_under_appraisal"] >= 2 * 86400 + 3600  # one stay, at least one clock tick long
    got = assert_dashboard_queue_matches(users.reviewer, 2026)
    assert got["returned"]["waiting"] == 1 and got["submitted"]["waiting"] == 1 and got["approved"]["waiting"] == 1
    assert got["submitted"]["done"] == 2 and got["submitted"]["avg_done"] > 86400
    local = assert_dashboard_queue_matches(users.province, 2026, province=first.current_province)
    assert local == got  # every đề án here is in Bắc Ninh


def test_the_so_confirming_an_adjustment_request_neither_ends_nor_restarts_its_wait(users, clock):
    """request → the Sở confirms (stays «Đề nghị điều chỉnh») → the Cục decides: one stay, from the
    request to the decision; a request confirmed and still waiting waits since the request."""
    decided = advance(ready_de_an(users.centre), "in_implementation", users)
    waiting = advance(ready_de_an(users.centre, name="Đề án thứ hai"), "in_implementation", users)
    for d in (decided, waiting):
        services.de_an_request_adjustment(actor=users.centre, de_an=d, reason="Đổi địa điểm", new_location="Xã Việt Yên")
        services.de_an_confirm_adjustment(actor=users.province, de_an=d)
    services.de_an_approve_adjustment(actor=users.reviewer, de_an=decided)
    want = assert_totals_match()
    asked = Transition.objects.get(de_an=decided, action="request_adjustment").at
    done = Transition.objects.get(de_an=decided, action="approve_adjustment").at
    assert want[decided.pk]["left_adjustment_requested"] == 1
    assert want[decided.pk]["net_adjustment_requested"] == pytest.approx((done - asked).total_seconds())
    assert want[waiting.pk]["last_at"] == Transition.objects.get(de_an=waiting, action="request_adjustment").at.timestamp()
    got = assert_dashboard_queue_matches(users.reviewer, 2026)
    assert got["adjustment_requested"]["done"] == 1 and got["adjustment_requested"]["waiting"] == 1
    assert got["adjustment_requested"]["avg_done"] == pytest.approx((done - asked).total_seconds())


def test_a_rolled_back_transition_leaves_the_totals_as_they_were(users, clock):
    de_an = ready_de_an(users.centre)
    before = stored_totals()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.de_an_submit(actor=users.centre, de_an=de_an)
        assert stored_totals()[de_an.pk]["left_submitted"] == 0  # written inside the transaction…
        assert stored_totals() != before
        raise RuntimeError("abandon")
    assert stored_totals() == before  # …and gone with it
    # A refused transition (forwarding a draft) writes nothing at all.
    with pytest.raises(services.WorkflowError):
        services.de_an_forward(actor=users.province, de_an=de_an)
    assert stored_totals() == before
    assert_totals_match()


def test_bulk_recording_new_and_updated_de_an_keeps_the_totals(users, clock):
    created = services.de_an_record_approved_many(actor=users.reviewer, rows=annex_rows(6))
    assert {a for _d, a in created} == {"created"}
    want = assert_totals_match()
    one = created[0][0]
    assert want[one.pk]["left_approved"] == 0 and want[one.pk]["net_approved"] < 0  # entered "approved" once
    # A second import updates them: an approved → approved transition each (one more stay counted).
    updated = services.de_an_record_approved_many(actor=users.reviewer, rows=annex_rows(6, national_amount=200_000_000))
    assert {a for _d, a in updated} == {"updated"}
    want = assert_totals_match()
    assert want[one.pk]["left_approved"] == 1
    got = assert_dashboard_queue_matches(users.reviewer, 2026)
    assert got["approved"]["waiting"] == 6 and got["approved"]["done"] == 6


def test_a_refused_bulk_row_writes_no_totals(users, clock):
    services.de_an_record_approved_many(actor=users.reviewer, rows=annex_rows(3))
    before = stored_totals()
    bad = annex_rows(3, prefix="later") + annex_rows(1, prefix="later")  # the same source key twice
    with pytest.raises(services.RecordError):
        services.de_an_record_approved_many(actor=users.reviewer, rows=bad)
    assert stored_totals() == before
    with pytest.raises(RuntimeError), transaction.atomic():
        services.de_an_record_approved_many(actor=users.reviewer, rows=annex_rows(4, prefix="rolled"))
        assert len(stored_totals()) == len(before) + 4
        raise RuntimeError("abandon the import")
    assert stored_totals() == before
    assert_totals_match()


def test_undoing_a_bulk_recording_removes_or_restores_the_totals(users, clock):
    services.de_an_record_approved_many(actor=users.reviewer, rows=annex_rows(4))
    since = timezone.now()
    ids = list(DeAn.objects.values_list("pk", flat=True))
    snapshots = services.de_an_snapshot_many(ids)
    services.de_an_record_approved_many(actor=users.reviewer, rows=annex_rows(4, national_amount=200_000_000))
    created = services.de_an_record_approved_many(actor=users.reviewer, rows=annex_rows(2, prefix="new"))
    assert_totals_match()
    services.de_an_restore_imported_many(snapshots=snapshots, since=since)
    services.de_an_delete_imported_many(de_an_ids=[d.pk for d, _a in created])
    want = assert_totals_match()
    assert set(want) == set(ids)
    assert all(row["left_approved"] == 0 for row in want.values())  # the update's transition is gone


def test_scale_seed_and_its_reset_keep_the_totals(db):
    seed_scale(120)
    want = assert_totals_match()
    assert len(want) == 120
    assert sum(row["left_submitted"] for row in want.values()) > 0
    seed_reset()
    assert not QueueTotals.objects.exists()


def test_rebuild_gives_the_same_rows(users, clock):
    advance(ready_de_an(users.centre), "under_appraisal", users)
    services.de_an_record_approved_many(actor=users.reviewer, rows=annex_rows(3))
    kept = stored_totals()
    QueueTotals.objects.all().delete()
    assert queue_totals_rebuild() == len(kept)
    rebuilt = stored_totals()
    assert set(rebuilt) == set(kept)
    for pk, row in kept.items():
        for key, value in row.items():
            assert rebuilt[pk][key] == pytest.approx(value, abs=1e-6)


def test_queue_figures_ignore_de_an_outside_the_selection(users, clock):
    advance(ready_de_an(users.centre, plan_year=2027), "submitted", users)
    advance(ready_de_an(users.centre, name="Trong năm chọn"), "under_appraisal", users)
    services.de_an_submit(actor=users.centre_other, de_an=ready_de_an(users.centre_other, province=current("19")))
    got = assert_dashboard_queue_matches(users.reviewer, 2026)
    assert got["submitted"]["waiting"] == 1 and got["under_appraisal"]["waiting"] == 1
    local = assert_dashboard_queue_matches(users.province, 2026, province=current("24"))
    assert local["submitted"]["waiting"] == 0 and local["under_appraisal"]["waiting"] == 1
