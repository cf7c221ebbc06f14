"""Races: a double click / two reviewers approving at once, two editors of one draft, two creators
getting codes at the same moment. The thread races need PostgreSQL (SQLite serialises the whole
database); the optimistic-lock conflict is tested on any database."""
import threading
from datetime import date

import pytest
from django.db import connection, connections

from projects import services
from projects.models import DeAn, Status, Transition
from projects.services import ConflictError, WorkflowError
from tests.conftest import require_service

from .factories import advance, allocate, make_users, ready_de_an


def _run_concurrently(funcs):
    barrier = threading.Barrier(len(funcs))
    results = [None] * len(funcs)

    def run(i, func):
        try:
            barrier.wait(timeout=10)
            results[i] = ("ok", func())
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(funcs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def _needs_postgres():
    require_service("PostgreSQL", connection.vendor == "postgresql",
                    "set DATABASE_URL=postgres://… to run the thread races")


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_approving_at_once_give_one_approval():
    _needs_postgres()
    u = make_users()
    d = advance(ready_de_an(u.centre), "under_appraisal", u)
    allocate(d)

    def approve(reviewer):
        return lambda: services.de_an_approve(actor=reviewer, de_an=d.pk, decision_number="15/QĐ-BCT",
                                              decision_date=date(2026, 1, 15))

    results = _run_concurrently([approve(u.reviewer), approve(u.reviewer2), approve(u.reviewer)])
    oks = [r for r in results if r[0] == "ok"]
    errors = [r[1] for r in results if r[0] == "error"]
    assert len(oks) == 1, results
    assert len(errors) == 2 and all(isinstance(e, WorkflowError) for e in errors), errors
    assert all("Đã phê duyệt" in str(e) or "người khác" in str(e) for e in errors), [str(e) for e in errors]
    assert Transition.objects.filter(de_an=d, action="approve").count() == 1
    assert DeAn.objects.get(pk=d.pk).status == Status.APPROVED
    from funding.models import Allocation

    assert Allocation.objects.get(province=d.current_province, plan__year=2026).committed == 400_000_000


@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_gets_distinct_codes():
    _needs_postgres()
    u = make_users()

    def create(i):
        return lambda: services.de_an_create(actor=u.centre, name=f"Đề án song song {i}", level="kcqg", plan_year=2026)

    results = _run_concurrently([create(i) for i in range(4)])
    assert all(r[0] == "ok" for r in results), results
    codes = sorted(r[1].code for r in results)
    assert codes == [f"KCQG-2026-24-{n:04d}" for n in range(1, 5)]


@pytest.mark.django_db
def test_second_editor_is_told_of_the_conflict_and_nothing_is_overwritten():
    u = make_users()
    d = ready_de_an(u.centre)
    loaded_by_a = d.revision
    loaded_by_b = d.revision
    services.de_an_update(actor=u.centre, de_an=d, revision=loaded_by_a, objectives="Mục tiêu của A")
    with pytest.raises(ConflictError) as err:
        services.de_an_update(actor=u.province, de_an=d, revision=loaded_by_b, objectives="Mục tiêu của B",
                              budget_lines=[])
    message = str(err.value)
    assert d.code in message and "chưa được lưu" in message and str(u.centre) in message
    fresh = DeAn.objects.get(pk=d.pk)
    assert fresh.objectives == "Mục tiêu của A"
    assert fresh.budget_lines.count() == 4 and fresh.total_amount == 800_000_000
    # With the fresh revision B can save.
    services.de_an_update(actor=u.province, de_an=d, revision=fresh.revision, objectives="Mục tiêu của B")
    assert DeAn.objects.get(pk=d.pk).objectives == "Mục tiêu của B"


@pytest.mark.django_db
def test_code_sequence_is_unique_and_readable():
    u = make_users()
    codes = [services.de_an_create(actor=u.centre, name=f"Đề án {i}", level="kcqg", plan_year=2026).code for i in range(3)]
    local = services.de_an_create(actor=u.centre, name="Đề án địa phương", level="kcdp", plan_year=2026).code
    other = services.de_an_create(actor=u.centre_other, name="Đề án Thái Nguyên", level="kcqg", plan_year=2026).code
    assert codes == ["KCQG-2026-24-0001", "KCQG-2026-24-0002", "KCQG-2026-24-0003"]
    assert local == "KCDP-2026-24-0001" and other == "KCQG-2026-19-0001"
    # A code already taken (e.g. seeded or imported) is skipped, never duplicated.
    DeAn.objects.filter(code="KCQG-2026-24-0003").update(code="KCQG-2026-24-0004")
    from projects.models import CodeSequence

    CodeSequence.objects.filter(prefix="KCQG-2026-24").update(last=3)
    assert services.de_an_create(actor=u.centre, name="Đề án 5", level="kcqg", plan_year=2026).code == "KCQG-2026-24-0005"


@pytest.mark.django_db(transaction=True)
def test_deleting_the_acceptance_minutes_while_the_step_is_taken_never_leaves_a_step_without_them(settings, tmp_path):
    """An administrator deletes the minutes while the Sở clicks «Nghiệm thu». Before, the deletion locked
    only the file's row: both passed their checks and the đề án ended accepted with no minutes. Now the
    deletion takes the đề án's lock first, as every step does: one of the two waits for the other."""
    _needs_postgres()
    from projects.models import Attachment

    from .factories import ACCEPTED_ON, pdf_file

    settings.MEDIA_ROOT = str(tmp_path)
    u = make_users()
    d = advance(ready_de_an(u.centre), "in_implementation", u)
    minutes = services.attachment_add(actor=u.province, de_an=d, file=pdf_file(), kind="acceptance_minutes")
    checked, go = threading.Event(), threading.Event()
    real_audit = services._attachment_audit
    results = {}

    def paused_audit(*args, **kwargs):  # the deletion has passed its rule check and holds its locks
        checked.set()
        go.wait(10)
        return real_audit(*args, **kwargs)

    def run(name, func):
        try:
            results[name] = ("ok", func())
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[name] = ("error", exc)
        finally:
            connections.close_all()

    services._attachment_audit = paused_audit
    try:
        deleter = threading.Thread(target=run, args=("delete", lambda: services.attachment_delete(
            actor=u.admin, attachment=minutes.pk)))
        deleter.start()
        assert checked.wait(10)
        accepter = threading.Thread(target=run, args=("accept", lambda: services.de_an_accept(
            actor=u.province, de_an=d.pk, accepted_on=ACCEPTED_ON)))
        accepter.start()
        accepter.join(1.0)
        assert accepter.is_alive(), results  # waits for the deletion's lock on the đề án
        go.set()
        deleter.join(20)
        accepter.join(20)
    finally:
        services._attachment_audit = real_audit
        go.set()
    assert results["delete"][0] == "ok", results
    assert results["accept"][0] == "error" and isinstance(results["accept"][1], WorkflowError), results
    row = DeAn.objects.get(pk=d.pk)
    assert row.status == Status.IN_IMPLEMENTATION
    assert not Attachment.objects.filter(de_an=d, kind="acceptance_minutes").exists()
    assert not Transition.objects.filter(de_an=d, action="accept").exists()
