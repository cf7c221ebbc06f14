"""Shared test set-up.

* Reference data (provinces, organisations, programmes, catalogue, caps) is loaded once into each test
  database, committed; after a transactional test (live_server, real Celery worker), whose teardown
  empties the tables, it is loaded again at once, committed (``pytest_runtest_teardown``).
* ``require_service(name, ok)``: when a real service is missing the test is skipped on a developer's
  bare machine but **fails** under CI=true, so CI never hides a missing service.
* Playwright drives Debian's Chromium (/usr/bin/chromium); its own browser download cannot work here.
"""
import os
import shutil
import weakref

import pytest
from django.core.management import call_command
from django.db.backends.signals import connection_created
from django.dispatch import receiver

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop + Django ORM in tests

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def require_service(name, available, hint=""):
    """Skip locally, fail in CI, when ``name`` is not available."""
    if available:
        return
    message = f"{name} is not available{': ' + hint if hint else ''}"
    if IN_CI:
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache: the rate-limit counters («Quên mật khẩu», password guesses)
    are keyed by ids that a rolled-back SQLite test database hands out again, and the dashboards cache
    by scope."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _audit_codes_have_labels():
    """Every audit event a test makes must have a Vietnamese label for its action and kind of record
    (``khuyencong.audit``): «Nhật ký thao tác» shows the labels, not the codes."""
    from django.db.models.signals import post_save

    from khuyencong.audit import ACTION_LABELS, OBJECT_TYPES
    from khuyencong.models import AuditEvent

    unknown = set()

    def check(sender, instance, created, **kwargs):
        if created:
            unknown.update({instance.action} - set(ACTION_LABELS), {instance.object_type} - set(OBJECT_TYPES))

    post_save.connect(check, sender=AuditEvent, weak=False, dispatch_uid="tests-audit-labels")
    yield
    post_save.disconnect(sender=AuditEvent, dispatch_uid="tests-audit-labels")
    assert not unknown, f"audit codes without a label in khuyencong/audit.py: {sorted(unknown)}"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Every test hashes passwords with MD5: the portal's own hasher (Django's PBKDF2, ≈ 0,6 s a password
    on the CI machine) made each created user and each sign-in through the login page cost that much.
    ``tests/khuyencong/test_settings.py`` checks that the portal itself keeps the slow hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# Every database connection this process opens, so that the session can close them all before the test
# database is dropped (a weak set: a wrapper that is gone has closed its connection).
_OPENED = weakref.WeakSet()


@receiver(connection_created, dispatch_uid="tests-track-connections")
def _track_connection(sender, connection, **kwargs):
    _OPENED.add(connection)


def _close_every_connection():
    """Close every connection opened in this process, not only the current context's. Django keeps one
    connection per thread — and per *context* where an event loop runs: once Playwright's sync API has
    started its loop in the main thread, the ORM's calls there get a second connection, and the first
    one (from the tests before) stayed open. pytest-django closes only the current one, so dropping the
    test database failed with «being accessed by other users» after every run with browser tests."""
    from django.db import DatabaseError

    for wrapper in list(_OPENED):
        if wrapper.connection is None:
            continue
        try:
            wrapper.close()
        except DatabaseError:  # opened by a thread that has ended: close the driver's connection itself
            wrapper.connection.close()


def _load_reference():
    call_command("load_reference", verbosity=0)


# pytest-django's blocker, kept by ``django_db_setup`` for the teardown hook below (hooks get no fixtures).
_DB_BLOCKER = []


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    _DB_BLOCKER[:] = [django_db_blocker]
    with django_db_blocker.unblock():
        _load_reference()
    yield
    _close_every_connection()


def _db_use(item):
    """(uses the database, transactional) for a test, as pytest-django decides it."""
    marker = item.get_closest_marker("django_db")
    fixtures = set(getattr(item, "fixturenames", ()))
    uses_db = marker is not None or bool({"db", "transactional_db", "live_server"} & fixtures)
    transactional = bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))) or bool(
        {"transactional_db", "live_server"} & fixtures
    )
    return uses_db, transactional


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a transactional test has emptied the tables (its teardown flushes them), load the reference
    data again at once, committed, for the tests that follow on this worker. Loaded later, by the next
    test itself, it sat inside that test's transaction and was rolled back with it, so every following
    test of the worker loaded it again (≈ 0,5 s each: half of the suite's time, because pytest groups the
    tests by Playwright's browser parameter and the transactional ones are not all at the end)."""
    result = yield
    if nextitem is not None and _DB_BLOCKER and _db_use(item)[1]:
        from django.db import connection

        from khuyencong.models import Province

        with _DB_BLOCKER[0].unblock():
            if not connection.in_atomic_block and not Province.objects.exists():
                _load_reference()
    return result


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Make sure reference rows exist for every database test (a safety net: ``pytest_runtest_teardown``
    puts them back after a transactional flush)."""
    uses_db, transactional = _db_use(request.node)
    if not uses_db:
        yield
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    from khuyencong.models import Province

    if not Province.objects.exists():
        _load_reference()
    yield


@pytest.fixture(autouse=True)
def _vietnamese_after_each_test():
    """A request made in English must not leave English active for the next test on this worker."""
    yield
    from django.utils import translation

    translation.activate("vi")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    require_service("Chromium", shutil.which(CHROMIUM) or os.path.exists(CHROMIUM), "apt-get install chromium")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "vi-VN", "timezone_id": "Asia/Ho_Chi_Minh", "viewport": {"width": 1366, "height": 900}}


@pytest.fixture
def screenshot_dir():
    """Where browser tests save their screenshots (kept as CI artefacts under test-output/)."""
    path = os.path.join(os.environ.get("TEST_OUTPUT_DIR", "test-output"), "screenshots")
    os.makedirs(path, exist_ok=True)
    return path


@pytest.fixture
def dead_broker():
    """The Celery app pointed at a port that closes every connection (a broker going away)."""
    from khuyencong.celery import app
    from tests.khuyencong.test_broker_down import _ClosingListener
    from tests.reports.conftest import restore_broker, use_broker

    listener = _ClosingListener()
    before = (app.conf.broker_url, app.conf.task_always_eager)
    use_broker(f"redis://127.0.0.1:{listener.port}/0", eager=False)
    yield listener
    restore_broker(before)
    listener.close()


@pytest.fixture
def eager_celery():
    """Celery tasks run in-process (whatever CELERY_BROKER_URL the run has, e.g. Redis in CI): for tests
    of code that queues work (reports, imports, notification mail) without a worker of their own."""
    from khuyencong.celery import app
    from tests.reports.conftest import restore_broker, use_broker

    before = (app.conf.broker_url, app.conf.task_always_eager)
    use_broker("memory://", eager=True)
    yield
    restore_broker(before)
