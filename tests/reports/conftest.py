import os
import subprocess
from urllib.parse import urlparse

import pytest
from django.conf import settings as django_settings


def use_broker(url, *, eager):
    """Point the Celery app (this process) at ``url``; eager runs tasks in-process."""
    from khuyencong.celery import app

    # Celery's conf.broker_url prefers the CELERY_BROKER_URL environment variable (set in CI), but
    # broker_write_url / broker_read_url, when set, win over it.
    app.conf.broker_url = url
    app.conf.broker_write_url = url
    app.conf.broker_read_url = url
    app.conf.task_always_eager = eager
    app._pool = None
    try:
        app.amqp._producer_pool = None
    except AttributeError:
        pass


def redis_url_for_tests():
    """A Redis database of our own: the configured broker's host and port (CI may move them), database
    11 + the xdist worker index, so parallel test workers never share a queue."""
    base = django_settings.CELERY_BROKER_URL
    parsed = urlparse(base if base.startswith("redis://") else "redis://127.0.0.1:6379/0")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    number = int(os.environ.get("REPORTS_TEST_REDIS_DB", "11")) + index
    return f"redis://{parsed.hostname or '127.0.0.1'}:{parsed.port or 6379}/{number}"


def restore_broker(before):
    from khuyencong.celery import app

    use_broker(before[0], eager=before[1])
    app.conf.broker_write_url = None
    app.conf.broker_read_url = None


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def pdf_text(path_or_bytes, *, layout=False, first=None, last=None, tmp_dir=None):
    """pdftotext of a file or bytes (NFC text, as poppler gives it)."""
    import tempfile

    if isinstance(path_or_bytes, (bytes, bytearray)):
        handle = tempfile.NamedTemporaryFile(suffix=".pdf", delete=False, dir=tmp_dir)
        handle.write(path_or_bytes)
        handle.close()
        path = handle.name
    else:
        path = str(path_or_bytes)
    args = ["pdftotext"]
    if layout:
        args.append("-layout")
    if first:
        args += ["-f", str(first)]
    if last:
        args += ["-l", str(last)]
    return subprocess.run(args + [path, "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def users(db):
    from tests.khuyencong.factories import centre_user, province_user, reviewer

    return {
        "reviewer": reviewer(),
        "bac_ninh": province_user("24"),
        "bac_ninh_centre": centre_user("24"),
        "ha_noi": province_user("01"),
    }
