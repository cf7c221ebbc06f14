"""Thin Celery tasks: IDs in, one service call."""
import logging

from celery import shared_task
from celery.signals import worker_ready

logger = logging.getLogger(__name__)


@shared_task(name="funding.apply_import", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def apply_import(batch_id, actor_id=None):
    from .services import import_apply_queued

    import_apply_queued(batch_id=batch_id, actor_id=actor_id)


@shared_task(name="funding.sweep_stuck_imports", ignore_result=True)
def sweep_stuck_imports():
    from .services import import_sweep_stuck

    return import_sweep_stuck()


@worker_ready.connect
def _sweep_when_worker_starts(sender=None, **kwargs):
    """A worker coming up (after a crash, or once the broker is back) hands over batches whose task was
    lost, without waiting for beat (which may be down too)."""
    from .services import import_sweep_stuck

    try:
        import_sweep_stuck()
    except Exception:
        logger.warning("import sweep at worker start failed", exc_info=True)
