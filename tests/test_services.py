"""CI really runs on the real services.

Under CI=true (`.ci/run`) these fail, never skip, when the suite is not on PostgreSQL, when Redis does
not answer, or when Celery's broker is not Redis. On a developer's bare machine they skip.
"""
import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import IN_CI, require_service

pytestmark = pytest.mark.services


def _redis_url():
    url = settings.CELERY_BROKER_URL
    return url if url.startswith(("redis://", "rediss://")) else None


def test_database_is_postgresql(db):
    require_service(
        "PostgreSQL",
        connection.vendor == "postgresql",
        f"the suite runs on {connection.vendor}; set DATABASE_URL=postgres://…",
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        version = int(cursor.fetchone()[0])
        cursor.execute("SELECT current_database()")
        name = cursor.fetchone()[0]
    assert version >= 140000, "PostgreSQL 14 or newer expected"
    # pytest-django's own database, never the one the portal serves from.
    assert name.startswith("test_")


def test_redis_answers_and_is_the_celery_broker():
    url = _redis_url()
    require_service("Redis broker", url, f"CELERY_BROKER_URL is {settings.CELERY_BROKER_URL!r}; set redis://…")
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        answered = client.ping()
    except redis.exceptions.ConnectionError as exc:
        answered = False
        hint = f"{url}: {exc}"
    else:
        hint = url
    require_service("Redis", answered, hint)
    # Round trip through a scratch key, so a read-only or wrong server cannot pass.
    key = "kc:test_services:ping"
    client.set(key, "pong", ex=30)
    assert client.get(key) == b"pong"
    client.delete(key)


def test_celery_uses_redis_not_eager():
    from khuyencong.celery import app

    url = _redis_url()
    require_service("Celery on Redis", url, f"CELERY_BROKER_URL is {settings.CELERY_BROKER_URL!r}")
    assert app.conf.broker_url == url
    assert app.conf.task_always_eager is False, "with a real broker tasks must go to the workers"
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=3)
        assert conn.connected


@pytest.mark.skipif(not IN_CI, reason="only meaningful under CI=true")
def test_ci_flag_reaches_the_settings():
    assert settings.CI is True
