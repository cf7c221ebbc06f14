"""Notification e-mail through the outbox: rows written with the transition, mail sent by a Celery task
(eager in-process here unless a test points Celery elsewhere), retried with backoff, failed after the
maximum, re-sent by the beat sweep when the broker was down, never sent twice by two senders.

Mail goes through Django's mail API only: pytest-django's locmem backend (``mailoutbox``), test-only
backends below that fail the way an SMTP server does, and for the real worker a small SMTP sink.
"""
import email
import email.header
import os
import smtplib
import socket
import socketserver
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from projects import notifications, services, tasks
from projects.models import EmailStatus, Notification, Status
from tests.conftest import require_service
from tests.khuyencong.factories import province_user
from tests.reports.conftest import restore_broker, use_broker

from .factories import make_users, ready_de_an

FAILING = f"{__name__}.FailingBackend"
REFUSING = f"{__name__}.RefusingBackend"
SLOW = f"{__name__}.SlowBackend"
CALLS = []  # every open/send a test backend saw


class FailingBackend(BaseEmailBackend):
    """A mail server that is down: the connection is refused."""

    def open(self):
        CALLS.append("open")
        raise ConnectionRefusedError(111, "Connection refused")

    def send_messages(self, messages):
        CALLS.append("send")
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class RefusingBackend(LocmemBackend):
    """Delivers, except to addresses at refused.test (SMTP 550 for that recipient)."""

    def send_messages(self, messages):
        for message in messages:
            if any(to.endswith("@refused.test") for to in message.to):
                raise smtplib.SMTPRecipientsRefused({message.to[0]: (550, b"5.1.1 User unknown")})
        return super().send_messages(messages)


class SlowBackend(LocmemBackend):
    """Delivers after a pause, so two senders overlap."""

    def send_messages(self, messages):
        time.sleep(0.2)
        return super().send_messages(messages)


@pytest.fixture(autouse=True)
def _clear_calls():
    CALLS.clear()


def status_of(d):
    d.refresh_from_db(fields=["status"])
    return d.status


def later(minutes):
    return timezone.now() + timedelta(minutes=minutes)


def submit(users, **kwargs):
    return services.de_an_submit(actor=users.centre, de_an=ready_de_an(users.centre), **kwargs)


# --- rows in the transition's transaction ------------------------------------------------------------

@pytest.mark.django_db
def test_rows_written_with_the_transition_and_mail_sent_by_the_task(users, django_capture_on_commit_callbacks, mailoutbox):
    no_mail = province_user("24")  # a Sở officer without an e-mail address: in-app only
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        d = submit(users)
    assert len(callbacks) == 1
    note = Notification.objects.get(recipient=users.province)
    assert note.de_an == d and note.verb == "submit" and "gửi Sở Công Thương" in note.message
    assert note.email_status == EmailStatus.SENT and note.email_attempts == 1 and note.emailed_at
    assert note.email_error == "" and note.email_retry_at is None
    assert Notification.objects.get(recipient=no_mail).email_status == EmailStatus.NOT_NEEDED
    assert [m.to for m in mailoutbox] == [["so@bacninh.test"]]
    assert mailoutbox[0].subject == f"[Cổng khuyến công] {d.code}: gửi Sở Công Thương"
    assert mailoutbox[0].body == note.message


@pytest.mark.django_db
def test_a_recipient_who_turned_mail_off_gets_the_notice_in_the_portal_only(users, django_capture_on_commit_callbacks,
                                                                           mailoutbox):
    from khuyencong.services import user_update_contact

    officer = users.province
    user_update_contact(user=officer, email=officer.email, phone=officer.phone, job_title=officer.job_title,
                        notify_by_email=False)
    with django_capture_on_commit_callbacks(execute=True):
        submit(users)
    note = Notification.objects.get(recipient=officer)
    assert note.email_status == EmailStatus.NOT_NEEDED and not mailoutbox


@pytest.mark.django_db
def test_mail_still_waiting_when_the_recipient_turns_it_off_is_not_sent(users, django_capture_on_commit_callbacks,
                                                                        mailoutbox):
    from khuyencong.services import user_update_contact

    with django_capture_on_commit_callbacks(execute=False):  # written, not yet sent (the worker is busy)
        submit(users)
    officer = users.province
    assert Notification.objects.get(recipient=officer).email_status == EmailStatus.PENDING
    user_update_contact(user=officer, email=officer.email, phone=officer.phone, job_title=officer.job_title,
                        notify_by_email=False)
    result = notifications.notification_mail_send()
    assert result["not_needed"] == 1 and result["sent"] == 0 and not mailoutbox
    assert Notification.objects.get(recipient=officer).email_status == EmailStatus.NOT_NEEDED


@pytest.mark.django_db
def test_an_english_speaking_actor_writes_the_notice_and_mail_in_vietnamese(users, django_capture_on_commit_callbacks,
                                                                             mailoutbox):
    """Notices are read later by other people: stored and mailed in the portal's language, whatever
    language the acting user's page is in."""
    from django.utils import translation

    with translation.override("en"):
        assert str(Status.SUBMITTED.label) != "Đã gửi Sở Công Thương"  # the English catalogue is in use
        with django_capture_on_commit_callbacks(execute=True):
            d = submit(users, comment="Đề nghị xem xét")
        assert translation.get_language() == "en"
    note = Notification.objects.get(recipient=users.province)
    assert "đã gửi Sở Công Thương đề án" in note.message and "Trạng thái: Đã gửi Sở Công Thương." in note.message
    assert "Ý kiến: Đề nghị xem xét" in note.message and "performed" not in note.message
    assert mailoutbox[0].subject == f"[Cổng khuyến công] {d.code}: gửi Sở Công Thương"
    assert mailoutbox[0].body == note.message


@pytest.mark.django_db
def test_no_rows_when_the_transition_rolls_back(users, django_capture_on_commit_callbacks, mailoutbox):
    d = ready_de_an(users.centre)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.de_an_submit(actor=users.centre, de_an=d)
            assert Notification.objects.filter(recipient=users.province).exists()  # written inside
            raise RuntimeError("a later step of the same request fails")
    d.refresh_from_db()
    assert d.status == Status.DRAFT
    assert not Notification.objects.exists() and callbacks == [] and mailoutbox == []


@pytest.mark.django_db
def test_the_request_never_talks_to_the_mail_server(users, client, settings, django_capture_on_commit_callbacks):
    """Celery with a broker and no worker in this process: the decision is made, the mail is only
    queued; the worker (run here from the queued message) is what talks to the mail server."""
    from khuyencong.celery import app

    settings.EMAIL_BACKEND = FAILING
    d = ready_de_an(users.centre)
    before = (app.conf.broker_url, app.conf.task_always_eager)
    try:
        use_broker("memory://", eager=False)
        client.force_login(users.centre)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = client.post(reverse("projects:transition", args=[d.pk]), {"action": "submit"})
        assert len(callbacks) == 1
        assert response.status_code == 302
        d.refresh_from_db()
        assert d.status == Status.SUBMITTED
        note = Notification.objects.get(recipient=users.province)
        assert note.email_status == EmailStatus.PENDING and note.email_attempts == 0 and CALLS == []
        with app.connection_for_write() as conn:
            message = conn.SimpleQueue("celery").get(timeout=2)
            assert message.headers["task"] == "projects.send_notification_mail"
            args = message.payload[0]
            message.ack()
        assert args == [[note.pk]]
    finally:
        restore_broker(before)
    # The worker's run: the failing server is met there, the error recorded, a retry planned.
    tasks.send_notification_mail.apply(args=args)
    note.refresh_from_db()
    assert CALLS and note.email_status == EmailStatus.PENDING and note.email_attempts == 1
    assert note.email_error.startswith("ConnectionRefusedError") and note.email_retry_at > timezone.now()


# --- failures, retries, giving up -------------------------------------------------------------------

@pytest.mark.django_db
def test_mail_server_down_keeps_the_decision_and_retries_with_backoff(users, settings, django_capture_on_commit_callbacks,
                                                                     mailoutbox):
    settings.EMAIL_BACKEND = FAILING
    settings.NOTIFICATION_MAIL_RETRY_SECONDS = 60
    with django_capture_on_commit_callbacks(execute=True):
        d = submit(users)
    assert d.status == Status.SUBMITTED and status_of(d) == Status.SUBMITTED
    note = Notification.objects.get(recipient=users.province)
    assert note.email_status == EmailStatus.PENDING and note.email_attempts == 1
    assert "Connection refused" in note.email_error
    first_retry = note.email_retry_at
    assert timedelta(seconds=55) < first_retry - timezone.now() <= timedelta(seconds=60)
    # Not due yet: the sweep leaves it alone even when it is old enough.
    assert notifications.notification_mail_resend(older_than=timedelta(0))["retry"] == 0
    note.refresh_from_db()
    assert note.email_attempts == 1
    # Due and still failing: the wait doubles.
    notifications.notification_mail_resend(now=later(2))
    note.refresh_from_db()
    assert note.email_attempts == 2 and note.email_retry_at - later(2) > timedelta(seconds=115)
    # The server is back: the next sweep delivers it.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    result = notifications.notification_mail_resend(now=later(10))
    note.refresh_from_db()
    assert result["sent"] == 1 and note.email_status == EmailStatus.SENT and note.email_attempts == 3
    assert note.email_error == "" and note.email_retry_at is None
    assert [m.to for m in mailoutbox] == [["so@bacninh.test"]]
    # Sent is final: later sweeps send nothing more.
    assert notifications.notification_mail_resend(now=later(60))["sent"] == 0 and len(mailoutbox) == 1


@pytest.mark.django_db
def test_gives_up_after_max_attempts_and_an_operator_can_retry(users, settings, django_capture_on_commit_callbacks,
                                                               mailoutbox, caplog):
    settings.EMAIL_BACKEND = FAILING
    settings.NOTIFICATION_MAIL_MAX_ATTEMPTS = 3
    with django_capture_on_commit_callbacks(execute=True):
        submit(users)
    note = Notification.objects.get(recipient=users.province)
    for minutes in (30, 90):
        notifications.notification_mail_resend(now=later(minutes))
    note.refresh_from_db()
    assert note.email_status == EmailStatus.FAILED and note.email_attempts == 3
    assert note.email_retry_at is None and "Connection refused" in note.email_error
    assert any(r.levelname == "ERROR" and "failed 3 times" in r.getMessage() for r in caplog.records)
    calls = len(CALLS)
    assert notifications.notification_mail_resend(now=later(600)) == {"sent": 0, "failed": 0, "not_needed": 0, "retry": 0}
    assert len(CALLS) == calls  # failed is final for the sweep
    # The operator fixes the mail server and asks again (admin action): pending, counted afresh, sent.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications.notification_mail_retry(ids=[note.pk]) == 1
    note.refresh_from_db()
    assert note.email_status == EmailStatus.SENT and note.email_attempts == 1
    assert [m.to for m in mailoutbox] == [["so@bacninh.test"]]


@pytest.mark.django_db
def test_a_refused_address_does_not_hold_back_the_others(users, settings, django_capture_on_commit_callbacks, mailoutbox):
    settings.EMAIL_BACKEND = REFUSING
    unknown = province_user("24", email="khong-ton-tai@refused.test")
    with django_capture_on_commit_callbacks(execute=True):
        submit(users)
    refused = Notification.objects.get(recipient=unknown)
    assert refused.email_status == EmailStatus.PENDING and "SMTPRecipientsRefused" in refused.email_error
    assert Notification.objects.get(recipient=users.province).email_status == EmailStatus.SENT
    assert [m.to for m in mailoutbox] == [["so@bacninh.test"]]


# --- broker down ------------------------------------------------------------------------------------

def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db
def test_broker_down_keeps_the_decision_and_the_sweep_sends_the_mail(users, django_capture_on_commit_callbacks,
                                                                     mailoutbox, caplog):
    from khuyencong.celery import app

    before = (app.conf.broker_url, app.conf.task_always_eager)
    try:
        use_broker(f"redis://127.0.0.1:{_free_port()}/0", eager=False)  # nothing listens there
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            d = submit(users)
        assert len(callbacks) == 1
        assert status_of(d) == Status.SUBMITTED
        note = Notification.objects.get(recipient=users.province)
        assert note.email_status == EmailStatus.PENDING and note.email_attempts == 0 and mailoutbox == []
        assert any("not queued" in r.getMessage() for r in caplog.records)
    finally:
        restore_broker(before)
    # A fresh mail is left to its own task; a minute later the beat sweep sends it.
    assert tasks.resend_notification_mail.apply().get()["sent"] == 0
    Notification.objects.filter(pk=note.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    assert tasks.resend_notification_mail.apply().get()["sent"] == 1
    note.refresh_from_db()
    assert note.email_status == EmailStatus.SENT and [m.to for m in mailoutbox] == [["so@bacninh.test"]]


def test_beat_runs_the_resend_task():
    entry = django_settings.CELERY_BEAT_SCHEDULE["notifications-resend"]
    assert entry["task"] == tasks.resend_notification_mail.name == "projects.resend_notification_mail"
    assert tasks.send_notification_mail.name == "projects.send_notification_mail"


# --- two senders at once (PostgreSQL) ---------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_two_senders_never_send_the_same_mail_twice(settings):
    require_service("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL=postgres://… for row locks")
    settings.EMAIL_BACKEND = SLOW
    u = make_users()
    d = ready_de_an(u.centre)
    people = [province_user("24", email=f"can-bo-{i}@bacninh.test") for i in range(6)]
    ids = [Notification.objects.create(recipient=p, de_an=d, verb="submit", message="Có đề án mới",
                                       email_status=EmailStatus.PENDING).pk for p in people]
    mail.outbox = []
    barrier = threading.Barrier(2)
    results = [None, None]

    def sender(i):
        try:
            barrier.wait(timeout=10)
            # One sender is the task, the other the beat sweep finding the same rows.
            if i == 0:
                results[i] = notifications.notification_mail_send(ids=ids)["sent"]
            else:
                results[i] = notifications.notification_mail_resend(older_than=timedelta(0))["sent"]
        except Exception as exc:  # noqa: BLE001 - reported by the assertion
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 6
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
    assert set(Notification.objects.filter(pk__in=ids).values_list("email_status", "email_attempts")) == {
        (EmailStatus.SENT, 1)}


# --- a real worker, Redis and PostgreSQL ------------------------------------------------------------

class _SMTPSink(socketserver.ThreadingTCPServer):
    """Just enough SMTP for smtplib: keeps (recipients, raw message) of each mail."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        self.messages = []
        super().__init__(("127.0.0.1", 0), _SMTPHandler)


class _SMTPHandler(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self):
        self.reply("220 sink ESMTP")
        recipients, data, in_data = [], [], False
        while line := self.rfile.readline():
            if in_data:
                if line.rstrip(b"\r\n") == b".":
                    self.server.messages.append((recipients, b"".join(data)))
                    recipients, data, in_data = [], [], False
                    self.reply("250 OK queued")
                else:
                    data.append(line[1:] if line.startswith(b"..") else line)
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.reply("250-sink\r\n250 8BITMIME")
            elif verb == b"RCPT":
                recipients.append(line.split(b":", 1)[1].strip().strip(b"<>").decode())
                self.reply("250 OK")
            elif verb == b"DATA":
                in_data = True
                self.reply("354 End data with <CR><LF>.<CR><LF>")
            elif verb == b"QUIT":
                self.reply("221 Bye")
                return
            else:  # HELO, MAIL, RSET, NOOP
                self.reply("250 OK")


def _test_redis_url():
    """The configured broker's Redis (host, port), database 7 unless PROJECTS_TEST_REDIS_DB says otherwise."""
    base = django_settings.CELERY_BROKER_URL
    parsed = urlparse(base if base.startswith("redis://") else "redis://127.0.0.1:6379/0")
    number = int(os.environ.get("PROJECTS_TEST_REDIS_DB", "7"))
    return f"redis://{parsed.hostname or '127.0.0.1'}:{parsed.port or 6379}/{number}"


def _redis_ok(url):
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore")
def test_a_real_worker_delivers_the_mail(tmp_path):
    from khuyencong.celery import app
    from tests.reports.test_worker import Worker

    url = _test_redis_url()
    require_service("PostgreSQL", connection.vendor == "postgresql", "run with DATABASE_URL=postgres://…")
    require_service("Redis", _redis_ok(url), "redis-server on 127.0.0.1:6379")
    import redis

    redis.Redis.from_url(url).flushdb()
    sink = _SMTPSink()
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    before = (app.conf.broker_url, app.conf.task_always_eager)
    worker = Worker(tmp_path / "media", tmp_path / "worker.log", {
        "CELERY_BROKER_URL": url, "EMAIL_URL": f"smtp://127.0.0.1:{sink.server_address[1]}",
    })
    worker.env.pop("EMAIL_BACKEND", None)  # EMAIL_URL decides: Django's SMTP backend
    try:
        use_broker(url, eager=False)
        worker.start()
        u = make_users()
        d = services.de_an_submit(actor=u.centre, de_an=ready_de_an(u.centre))  # commits: the mail is queued
        note = Notification.objects.get(recipient=u.province)
        deadline = time.monotonic() + 60
        while note.email_status == EmailStatus.PENDING and time.monotonic() < deadline:
            time.sleep(0.2)
            note.refresh_from_db()
        assert note.email_status == EmailStatus.SENT, (note.email_error, (tmp_path / "worker.log").read_text()[-3000:])
        assert len(sink.messages) == 1
        recipients, raw = sink.messages[0]
        parsed = email.message_from_bytes(raw)
        assert recipients == ["so@bacninh.test"]
        subject = str(email.header.make_header(email.header.decode_header(parsed["Subject"])))
        assert subject == f"[Cổng khuyến công] {d.code}: gửi Sở Công Thương"
        assert parsed.get_payload(decode=True).decode().rstrip("\r\n") == note.message
    finally:
        worker.stop()
        restore_broker(before)
        sink.shutdown()
        sink.server_close()


# --- admin ------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_admin_shows_the_mail_state_and_resends_failed_mail(users, client, django_capture_on_commit_callbacks, mailoutbox):
    note = Notification.objects.create(recipient=users.province, verb="submit", message="Có đề án mới",
                                       email_status=EmailStatus.FAILED, email_attempts=5,
                                       email_error="ConnectionRefusedError: [Errno 111] Connection refused")
    client.force_login(users.admin)
    url = reverse("admin:projects_notification_changelist")
    page = client.get(url, {"email_status__exact": "failed"}).content.decode()
    assert "Không gửi được" in page or "không gửi được" in page
    assert "Connection refused" in page and "Gửi lại thư điện tử không gửi được" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "retry_mail", "_selected_action": [note.pk]}, follow=True)
    assert "Đã xếp hàng gửi lại 1 thư." in response.content.decode()
    note.refresh_from_db()
    assert note.email_status == EmailStatus.SENT and [m.to for m in mailoutbox] == [["so@bacninh.test"]]


@pytest.mark.django_db
def test_admin_names_the_action_in_vietnamese_and_dates_as_dd_mm_yyyy(users, client):
    when = datetime(2026, 11, 30, 3, 14, tzinfo=UTC)  # 10:14 in Hà Nội
    Notification.objects.create(recipient=users.province, verb="submit", message="Có đề án mới", created_at=when)
    Notification.objects.create(recipient=users.province, verb="approve", message="Đã duyệt", created_at=when)
    client.force_login(users.admin)
    url = reverse("admin:projects_notification_changelist")
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "gửi Sở Công Thương" in page and "phê duyệt" in page
    assert "10:14 30/11/2026" in page and "Ngày 30 tháng 11" not in page
    assert "Người nhận" in page  # the column heading, not the field's code name
    only = client.get(url, {"verb": "approve"}, HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "Đã duyệt" in only and "Có đề án mới" not in only


@pytest.mark.django_db
def test_a_worker_coming_up_sends_what_was_left_pending(users, mailoutbox):
    """Without waiting for beat (which may be down too): the worker_ready resend."""
    from celery.signals import worker_ready

    note = Notification.objects.create(recipient=users.province, verb="submit", message="Có đề án mới",
                                       email_status=EmailStatus.PENDING,
                                       created_at=timezone.now() - timedelta(minutes=10))
    worker_ready.send(sender=None)
    note.refresh_from_db()
    assert note.email_status == EmailStatus.SENT and [m.to for m in mailoutbox] == [["so@bacninh.test"]]
