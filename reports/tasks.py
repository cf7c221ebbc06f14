"""Celery tasks of the reports app: thin wrappers around reports.services.

``run_report`` is ``acks_late`` with ``reject_on_worker_lost``: the broker keeps the message until the
task returns, and a worker process that dies mid-report gives it back. Either way the job row is the
truth: report_run claims it with a conditional UPDATE (a second delivery does nothing) and the sweeper
re-queues or fails a job whose heartbeat stopped.
"""
import logging

from celery import shared_task
from django.utils import timezone

from khuyencong.runtime import at_worker_start

from . import services

logger = logging.getLogger(__name__)


@shared_task(name="reports.run_report", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_report(job_id):
    try:
        services.report_run(job_id=job_id)
    except Exception as exc:  # report_run marks its own failures; this is the last resort
        logger.exception("run_report %s crashed", job_id)
        services.report_fail(job_id=job_id, reason=services.failure_reason(exc))
        raise


@shared_task(name="reports.sweep_stuck", ignore_result=True)
def sweep_stuck():
    return services.report_sweep_stuck()


@shared_task(name="reports.annual_reports", ignore_result=True)
def annual_reports(year=None):
    """Last year's national and provincial annual reports (beat, each January)."""
    year = int(year) if year else timezone.localdate().year - 1
    jobs = services.report_request_annual(year=year)
    return len(jobs)


# A worker coming up (e.g. after a crash, or once the broker is back) sends what is waiting.
at_worker_start(services.report_sweep_stuck, "report sweep")
