"""Behaviour that needs a real PostgreSQL: a connection lost mid-import, and racing commitments."""
import threading
import time

import psycopg2
import pytest
from django.db import connection, connections

from funding import services
from funding.models import Allocation, Commitment, ImportBatch
from funding.services import ImportFailed, OverAllocation, commitment_reserve, import_file
from khuyencong.models import Province
from tests.conftest import require_service
from tests.funding.conftest import ALLOCATION, ANNEX, is_postgres, snapshot
from tests.funding.factories import AllocationFactory, make_de_an


def _terminate(pid):
    params = connection.get_connection_params()
    other = psycopg2.connect(**{k: v for k, v in params.items() if k in ("host", "port", "user", "password", "dbname", "database")})
    other.autocommit = True
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    other.close()


@pytest.mark.parametrize("path", [ALLOCATION, ANNEX], ids=["allocation", "annex"])
@pytest.mark.django_db(transaction=True)
def test_database_going_away_mid_import_rolls_back_and_retry_works(path, monkeypatch):
    require_service("PostgreSQL", is_postgres(), "set DATABASE_URL=postgres://…")
    before = snapshot()
    original = services._write_import_rows
    calls = []

    def dying(batch, preview, **kwargs):
        # Everything else of the import is already written inside the transaction; now the server
        # drops this session, as a restart or a network cut would.
        calls.append(1)
        _terminate(connection.connection.get_backend_pid())
        return original(batch, preview, **kwargs)

    monkeypatch.setattr(services, "_write_import_rows", dying)
    with open(path, "rb") as fh, pytest.raises(ImportFailed) as err:
        import_file(fileobj=fh, name="kinh-phi.xlsx")
    assert calls == [1]
    assert "Mất kết nối tới cơ sở dữ liệu" in str(err.value) and "Hãy thử lại" in str(err.value)
    connection.close_if_unusable_or_obsolete()
    assert snapshot() == before
    monkeypatch.setattr(services, "_write_import_rows", original)
    with open(path, "rb") as fh:
        result = import_file(fileobj=fh, name="kinh-phi.xlsx")
    assert result.ok and result.batch.status == "applied"
    assert ImportBatch.objects.filter(status="applied").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_approvals_racing_for_the_same_allocation(monkeypatch):
    require_service("PostgreSQL", is_postgres(), "set DATABASE_URL=postgres://…")
    province = Province.objects.current().get(code="33")
    allocation = AllocationFactory(year=2026, province=province, amount=1_000_000_000)
    first, second = make_de_an(province=province), make_de_an(province=province)
    original = services._commit_add

    def slow(*, allocation, add):
        time.sleep(0.3)  # hold the row lock a while: without it both would read committed = 0
        return original(allocation=allocation, add=add)

    monkeypatch.setattr(services, "_commit_add", slow)
    barrier = threading.Barrier(2)
    outcomes = {}

    def approve(de_an):
        try:
            barrier.wait()
            commitment_reserve(de_an=de_an, amount=700_000_000)
            outcomes[de_an.pk] = "ok"
        except OverAllocation as exc:
            outcomes[de_an.pk] = str(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(d,)) for d in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(v == "ok" for v in outcomes.values()) == [False, True]
    refused = next(v for v in outcomes.values() if v != "ok")
    assert "Vượt kinh phí được phân bổ" in refused and "700.000.000 đ" in refused
    allocation.refresh_from_db()
    assert allocation.committed == 700_000_000
    assert Commitment.objects.count() == 1
    assert Allocation.objects.get(pk=allocation.pk).amount == 1_000_000_000


@pytest.mark.django_db(transaction=True)
def test_a_transition_racing_an_undo_waits_and_cannot_slip_in(monkeypatch):
    """The undo locks the đề án of the batch before checking them: a transition started meanwhile
    waits, then finds the đề án gone, instead of being silently deleted with it (or the undo removing
    a đề án that had just moved on)."""
    from projects.models import DeAn
    from projects.services import de_an_start_implementation
    from tests.khuyencong.factories import admin_user, province_user

    require_service("PostgreSQL", is_postgres(), "set DATABASE_URL=postgres://…")
    admin = admin_user()
    with open(ANNEX, "rb") as fh:
        batch = import_file(fileobj=fh, name="ke-hoach.xlsx", actor=admin).batch
    target = DeAn.objects.order_by("pk").first()
    actor = province_user(target.current_province.code)
    checking = threading.Event()
    original = services._annex_undo_problems

    def slow_checks(*args, **kwargs):
        checking.set()  # the đề án rows are locked by now
        problems = original(*args, **kwargs)
        time.sleep(0.5)
        return problems

    monkeypatch.setattr(services, "_annex_undo_problems", slow_checks)
    outcomes = {}

    def undo():
        try:
            services.import_undo(batch=batch, actor=admin)
            outcomes["undo"] = "ok"
        except Exception as exc:  # noqa: BLE001
            outcomes["undo"] = repr(exc)
        finally:
            connections.close_all()

    def transition():
        try:
            checking.wait(10)
            de_an_start_implementation(actor=actor, de_an=target)
            outcomes["transition"] = "ok"
        except Exception as exc:  # noqa: BLE001
            outcomes["transition"] = repr(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=undo), threading.Thread(target=transition)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes["undo"] == "ok", outcomes
    assert outcomes["transition"] != "ok", outcomes
    assert not DeAn.objects.exists()
    assert ImportBatch.objects.get(pk=batch.pk).status == "undone"
