"""Notifications of the đề án workflow: the in-app rows and their e-mail, sent through an outbox.

    transition (projects.services._transition, one transaction)
      └ notifications_create: Notification rows (email_status "pending", or "not needed" without an
        address or when the recipient turned mail off at «Tài khoản») written in the same transaction: a rollback leaves none, a commit keeps them all
          └ on commit: notification_mail_enqueue → Celery task projects.send_notification_mail(ids)
            (broker down: logged, the rows stay pending)
                └ notification_mail_send: locks the due pending rows (SELECT … FOR UPDATE SKIP LOCKED,
                  so two workers never send one mail), sends through Django's mail API, marks them
                  sent; an SMTP/network error counts an attempt, keeps the error and sets
                  email_retry_at (backoff); after NOTIFICATION_MAIL_MAX_ATTEMPTS the row is "failed"
    beat projects.resend_notification_mail (every NOTIFICATION_RESEND_SECONDS): sends what is still
    pending a minute after it was written (broker was down, worker died, retry due).

The web request never talks to the mail server (except in the zero-setup development mode, where Celery
runs tasks eagerly in-process).
"""
import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import workflow
from .models import EmailStatus, Notification, Status

logger = logging.getLogger(__name__)

RESEND_AFTER = timedelta(minutes=1)  # a mail still pending this long after it was written is resent
BATCH = 50  # rows locked and sent per transaction
MAX_BACKOFF_SECONDS = 1800  # below the Redis visibility timeout, so a countdown is never redelivered early


def max_attempts():
    return int(getattr(settings, "NOTIFICATION_MAIL_MAX_ATTEMPTS", 5))


def backoff(attempts):
    """Seconds to wait after the ``attempts``-th failure: base, 2×base, 4×base … (capped)."""
    base = int(getattr(settings, "NOTIFICATION_MAIL_RETRY_SECONDS", 60))
    return min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)


# --- writing (inside the transition's transaction) --------------------------------------------------

def notification_message(*, de_an, action, actor, comment=""):
    """The stored text of a notification, in the portal's language (``LANGUAGE_CODE``), never the
    acting user's: it is read (and mailed) later by other people."""
    with translation.override(settings.LANGUAGE_CODE):
        label = workflow.ACTION_LABELS.get(action, action)
        message = _("%(who)s đã %(action)s đề án %(code)s — %(name)s. Trạng thái: %(state)s.") % {
            "who": actor or _("Hệ thống"), "action": label, "code": de_an.code, "name": de_an.name,
            "state": Status(de_an.status).label,
        }
        if comment:
            message = f"{message} {_('Ý kiến')}: {comment}"
    return message[:500]


def notifications_create(*, de_an, action, actor, recipients, comment=""):
    """Write one Notification per recipient in the caller's transaction and queue their e-mail for
    after commit. Returns the rows."""
    message = notification_message(de_an=de_an, action=action, actor=actor, comment=comment)
    rows = [
        Notification(recipient=user, de_an=de_an, verb=action, message=message,
                     email_status=EmailStatus.PENDING if user.email and user.notify_by_email else EmailStatus.NOT_NEEDED)
        for user in recipients
    ]
    Notification.objects.bulk_create(rows)
    pending = [row.pk for row in rows if row.email_status == EmailStatus.PENDING]
    if pending:
        transaction.on_commit(lambda: notification_mail_enqueue(ids=pending))
    return rows


def notification_mail_enqueue(*, ids):
    """Hand the mail of these notifications to Celery. A broker that is down is logged, never raised:
    the decision is committed and the rows stay pending for the resend sweep. True when queued."""
    from .tasks import send_notification_mail

    ids = list(ids)
    if not ids:
        return False
    try:
        send_notification_mail.apply_async(args=[ids], retry=False)
    except Exception as exc:  # kombu.exceptions.OperationalError, redis ConnectionError, socket errors…
        logger.warning("notification mail %s not queued (%s: %s); left pending for the resend sweep",
                       ids, type(exc).__name__, exc)
        return False
    return True


def notification_mail_retry(*, ids):
    """Failed mails (an operator fixed the mail server): pending again with a fresh count, queued on
    commit. Returns how many."""
    with transaction.atomic():
        pks = list(Notification.objects.select_for_update().filter(pk__in=list(ids), email_status=EmailStatus.FAILED)
                   .values_list("pk", flat=True))
        Notification.objects.filter(pk__in=pks).update(email_status=EmailStatus.PENDING, email_attempts=0,
                                                       email_retry_at=None, email_error="")
        if pks:
            transaction.on_commit(lambda: notification_mail_enqueue(ids=pks))
    return len(pks)


# --- sending (Celery worker) ------------------------------------------------------------------------

def _mail_for(row):
    code = row.de_an.code if row.de_an_id else ""
    with translation.override(settings.LANGUAGE_CODE):  # like the stored message, whoever's request sends it
        label = workflow.ACTION_LABELS.get(row.verb, row.verb)
        subject = _("[Cổng khuyến công] %(code)s: %(action)s") % {"code": code, "action": label}
    return EmailMessage(subject, row.message, settings.DEFAULT_FROM_EMAIL, [row.recipient.email])


def _error_text(exc):
    return f"{type(exc).__name__}: {exc}"[:300]


def notification_mail_send(*, ids=None, older_than=None, now=None, limit=BATCH):
    """Send the e-mail of due pending notifications (``ids``, or all that are due), at most ``limit``.

    The rows are locked with SKIP LOCKED for the whole send, so a second sender (a duplicate task, the
    resend sweep) passes over them; a row already sent is no longer pending. A refused recipient fails
    that mail only; any other SMTP or network error stops the batch and counts an attempt for every row
    not yet sent. Returns counts and the ids to retry (``retry``, due in ``retry_in`` seconds)."""
    now = now or timezone.now()
    result = {"sent": 0, "failed": 0, "not_needed": 0, "retry": [], "retry_in": None, "picked": 0}
    with transaction.atomic():
        rows = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient", "de_an")
            .filter(email_status=EmailStatus.PENDING)
            .filter(Q(email_retry_at__isnull=True) | Q(email_retry_at__lte=now))
        )
        if ids is not None:
            rows = rows.filter(pk__in=list(ids))
        if older_than is not None:
            rows = rows.filter(created_at__lt=now - older_than)
        rows = list(rows.order_by("pk")[:limit])
        result["picked"] = len(rows)
        if not rows:
            return result
        connection, error = get_connection(fail_silently=False), None
        try:
            connection.open()
        except OSError as exc:  # smtplib.SMTPException is an OSError too
            error = exc
        try:
            for row in rows:
                if not (row.recipient.email and row.recipient.notify_by_email):  # turned off since
                    row.email_status = EmailStatus.NOT_NEEDED
                    row.save(update_fields=["email_status"])
                    result["not_needed"] += 1
                    continue
                if error is None:
                    try:
                        connection.send_messages([_mail_for(row)])
                    except smtplib.SMTPRecipientsRefused as exc:  # this address only
                        _attempt_failed(row, exc, now, result)
                        continue
                    except OSError as exc:  # server down, timeout, disconnect…: the rest would fail too
                        error = exc
                    else:
                        row.email_status = EmailStatus.SENT
                        row.email_attempts += 1
                        row.emailed_at = timezone.now()
                        row.email_retry_at = None
                        row.email_error = ""
                        row.save(update_fields=["email_status", "email_attempts", "emailed_at", "email_retry_at",
                                                "email_error"])
                        result["sent"] += 1
                        continue
                _attempt_failed(row, error, now, result)
        finally:
            try:
                connection.close()
            except OSError:
                pass
    return result


def _attempt_failed(row, exc, now, result):
    row.email_attempts += 1
    row.email_error = _error_text(exc)
    if row.email_attempts >= max_attempts():
        row.email_status = EmailStatus.FAILED
        row.email_retry_at = None
        result["failed"] += 1
        logger.error("notification %s: e-mail to %s failed %d times, giving up: %s",
                     row.pk, row.recipient.email, row.email_attempts, row.email_error)
    else:
        delay = backoff(row.email_attempts)
        row.email_retry_at = now + timedelta(seconds=delay)
        result["retry"].append(row.pk)
        result["retry_in"] = delay if result["retry_in"] is None else min(result["retry_in"], delay)
        logger.warning("notification %s: e-mail attempt %d failed (%s); retry in %d s",
                       row.pk, row.email_attempts, row.email_error, delay)
    row.save(update_fields=["email_status", "email_attempts", "email_error", "email_retry_at"])


def notification_mail_resend(*, older_than=RESEND_AFTER, now=None):
    """The beat sweep: send every due mail still pending ``older_than`` after it was written, in batches.
    Returns summed counts (``retry`` is the number of mails left for a later attempt)."""
    totals = {"sent": 0, "failed": 0, "not_needed": 0, "retry": 0}
    while True:
        result = notification_mail_send(older_than=older_than, now=now)
        for key in ("sent", "failed", "not_needed"):
            totals[key] += result[key]
        totals["retry"] += len(result["retry"])
        if result["picked"] < BATCH:
            return totals
