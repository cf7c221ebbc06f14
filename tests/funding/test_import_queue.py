"""Big batches go to the worker; a lost task (broker down at confirmation, Redis restarted, worker
dead) never leaves a batch "applying" for ever and never writes half of it."""
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from funding.models import Allocation, ImportBatch
from funding.services import import_apply_queued, import_dispatch, import_sweep_stuck
from tests.conftest import require_service
from tests.funding.conftest import ALLOCATION, is_postgres
from tests.funding.test_views import upload
from tests.reports.conftest import use_broker


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def later(minutes=11):
    return timezone.now() + timedelta(minutes=minutes)


@pytest.mark.django_db
def test_broker_down_at_confirmation_keeps_the_batch_waiting_and_the_sweep_applies_it(
        admin_client, settings, dead_broker, django_capture_on_commit_callbacks):
    settings.IMPORT_SYNC_MAX_ROWS = 10  # the 34-row table goes to the worker
    upload(admin_client, ALLOCATION)
    batch = ImportBatch.objects.get()
    with django_capture_on_commit_callbacks(execute=True):  # the request's commit: the broker is tried
        response = admin_client.post(reverse("funding:import_confirm", args=[batch.pk]))
    assert response.status_code == 302  # no server error for the administrator
    page = admin_client.get(response["Location"]).content.decode()
    assert "Chưa chuyển được lô tới bộ xử lý nền" in page and "chưa có gì được nhập" in page
    batch.refresh_from_db()
    assert batch.status == "applying" and batch.dispatches == 1 and not Allocation.objects.exists()
    assert dead_broker.accepted >= 1  # it did try the broker

    from khuyencong.celery import app

    use_broker("memory://", eager=True)  # the broker is back (the fixture restores the original after)
    assert app.conf.task_always_eager
    assert import_sweep_stuck() == (0, 0)  # handed over a moment ago: not yet
    assert import_sweep_stuck(now=later()) == (1, 0)
    batch.refresh_from_db()
    assert batch.status == "applied" and batch.error == "" and batch.dispatches == 2
    assert Allocation.objects.count() == 68


@pytest.mark.django_db
def test_the_sweep_gives_up_after_the_last_dispatch_and_the_batch_can_be_confirmed_again(
        admin_client, settings, eager_celery, django_capture_on_commit_callbacks):
    settings.IMPORT_SYNC_MAX_ROWS = 10
    settings.IMPORT_MAX_DISPATCHES = 3
    upload(admin_client, ALLOCATION)
    batch = ImportBatch.objects.get()
    ImportBatch.objects.filter(pk=batch.pk).update(status="applying", dispatches=3, queued_at=timezone.now())
    assert import_sweep_stuck(now=later()) == (0, 1)
    batch.refresh_from_db()
    assert batch.status == "previewed" and "sau 3 lần chuyển" in batch.error and not Allocation.objects.exists()
    page = admin_client.get(reverse("funding:import_detail", args=[batch.pk])).content.decode()
    assert "Xác nhận nhập" in page and "sau 3 lần chuyển" in page
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("funding:import_confirm", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == "applied" and Allocation.objects.count() == 68


@pytest.mark.django_db
def test_a_task_handed_over_twice_applies_the_batch_once(admin_client, settings, eager_celery,
                                                          django_capture_on_commit_callbacks):
    from funding.services import import_queue

    settings.IMPORT_SYNC_MAX_ROWS = 10
    upload(admin_client, ALLOCATION)
    batch = ImportBatch.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert import_queue(batch=batch, actor=None)
    batch.refresh_from_db()
    assert batch.status == "applied" and Allocation.objects.count() == 68
    import_apply_queued(batch_id=batch.pk)  # the lost task turns up after all
    assert import_dispatch(batch_id=batch.pk) is False  # and the sweep no longer hands it over
    batch.refresh_from_db()
    assert batch.status == "applied" and Allocation.objects.count() == 68


@pytest.mark.django_db
def test_the_sweep_leaves_other_batches_alone(admin_client, eager_celery):
    upload(admin_client, ALLOCATION)
    batch = ImportBatch.objects.get()
    assert import_sweep_stuck(now=later(60)) == (0, 0)  # previewed: the administrator has not confirmed it
    assert ImportBatch.objects.get().status == "previewed"
    ImportBatch.objects.filter(pk=batch.pk).update(status="applying", queued_at=timezone.now(), dispatches=1)
    assert import_sweep_stuck(now=timezone.now() + timedelta(minutes=5)) == (0, 0)  # handed over 5 min ago


@pytest.mark.django_db(transaction=True)
def test_a_batch_a_worker_is_applying_is_not_handed_over_again(admin_client, eager_celery):
    require_service("PostgreSQL", is_postgres(), "set DATABASE_URL=postgres://… for SKIP LOCKED")
    upload(admin_client, ALLOCATION)
    batch = ImportBatch.objects.get()
    ImportBatch.objects.filter(pk=batch.pk).update(status="applying", queued_at=timezone.now(), dispatches=1)
    locked, release = threading.Event(), threading.Event()

    def worker():  # holds the batch's row lock, as _apply does for the whole import
        try:
            with transaction.atomic():
                ImportBatch.objects.select_for_update().get(pk=batch.pk)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert locked.wait(10)
        assert import_sweep_stuck(now=later()) == (0, 0)
    finally:
        release.set()
        thread.join(10)
    assert import_sweep_stuck(now=later()) == (1, 0)  # lock gone (the worker died): handed over, applied
    assert ImportBatch.objects.get().status == "applied"
    assert connection.vendor == "postgresql"


def test_the_beat_runs_the_sweep(settings):
    from funding import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["funding-sweep-imports"]
    assert entry["task"] == tasks.sweep_stuck_imports.name == "funding.sweep_stuck_imports"


@pytest.mark.django_db
def test_a_worker_coming_up_hands_over_what_was_lost(admin_client, eager_celery):
    """Without waiting for beat (which may be down too): the worker_ready sweep."""
    from celery.signals import worker_ready

    upload(admin_client, ALLOCATION)
    batch = ImportBatch.objects.get()
    long_ago = timezone.now() - timedelta(hours=1)
    ImportBatch.objects.filter(pk=batch.pk).update(status="applying", queued_at=long_ago, dispatches=1)
    worker_ready.send(sender=None)
    batch.refresh_from_db()
    assert batch.status == "applied" and Allocation.objects.count() == 68
