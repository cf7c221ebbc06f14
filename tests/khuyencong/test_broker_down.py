"""A broker that is down must not hold up the web request that queues a job or an e-mail: the
request gives up after one immediate retry (kombu's defaults retried 3 times with 2 s + 4 s waits:
6 s per request, measured) and the job is left for the beat sweep."""
import socket
import threading

from tests.reports.conftest import restore_broker, use_broker


class _ClosingListener:
    """A TCP port that accepts connections and closes them at once (a broker that is going away),
    counting how many times a client tries."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                conn, _addr = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            conn.close()

    def close(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()


def test_queueing_with_the_broker_down_tries_twice_then_reports():
    from khuyencong.celery import app
    from projects.notifications import notification_mail_enqueue

    listener = _ClosingListener()
    before = (app.conf.broker_url, app.conf.task_always_eager)
    use_broker(f"redis://127.0.0.1:{listener.port}/0", eager=False)
    try:
        assert notification_mail_enqueue(ids=[1]) is False  # logged, not raised: the decision stands
    finally:
        restore_broker(before)
        listener.close()
    assert 1 <= listener.accepted <= 2


def test_an_unreachable_broker_host_is_given_up_on_within_seconds():
    """A host that never answers (no refusal to count) is bounded by the connect timeout instead."""
    from khuyencong.celery import app

    assert 0 < app.conf.broker_transport_options["socket_connect_timeout"] <= 5
