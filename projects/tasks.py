"""Celery tasks of the projects app: thin wrappers around projects.notifications.

The Notification rows are the outbox and the truth: a task that is lost (broker down, worker killed)
only delays the mail; the beat sweep ``projects.resend_notification_mail`` sends what is still pending.
"""
import logging

from celery import shared_task
from celery.exceptions import Retry

from khuyencong.runtime import at_worker_start

from . import notifications

logger = logging.getLogger(__name__)


@shared_task(bind=True, name="projects.send_notification_mail", ignore_result=True, max_retries=None)
def send_notification_mail(self, notification_ids):
    """Send the e-mail of these notifications; mails that failed for a passing reason are tried again
    after the backoff (attempts are counted on the rows, which give up after the maximum)."""
    result = notifications.notification_mail_send(ids=notification_ids)
    if result["retry"] and not self.request.is_eager:  # eager (development): the sweep retries
        try:
            self.retry(args=[result["retry"]], countdown=result["retry_in"] + 1)
        except Retry:
            raise
        except Exception as exc:  # broker gone meanwhile: the rows are pending, the sweep sends them
            logger.warning("notification mail %s: retry not queued (%s)", result["retry"], exc)
    return {key: result[key] for key in ("sent", "failed", "not_needed")}


@shared_task(name="projects.resend_notification_mail", ignore_result=True)
def resend_notification_mail():
    return notifications.notification_mail_resend()


# A worker coming up sends the mail a dead broker or worker left pending, without waiting for beat.
at_worker_start(notifications.notification_mail_resend, "notification mail resend")
