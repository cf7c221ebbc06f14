"""Thin Celery tasks: IDs in, one service call."""
from celery import shared_task

from khuyencong.runtime import at_worker_start


@shared_task(name="funding.apply_import", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def apply_import(batch_id, actor_id=None):
    from .services import import_apply_queued

    import_apply_queued(batch_id=batch_id, actor_id=actor_id)


@shared_task(name="funding.sweep_stuck_imports", ignore_result=True)
def sweep_stuck_imports():
    from .services import import_sweep_stuck

    return import_sweep_stuck()


def _sweep_stuck_imports():
    from .services import import_sweep_stuck

    return import_sweep_stuck()


# A worker coming up hands over batches whose task was lost, without waiting for beat (maybe down too).
at_worker_start(_sweep_stuck_imports, "import sweep")
