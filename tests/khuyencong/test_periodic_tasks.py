"""Beat's schedule: every entry names a task the workers know, and the nightly session sweep deletes
the expired sign-in sessions and keeps the live ones."""
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_every_scheduled_task_is_registered(settings):
    from khuyencong.celery import app

    app.loader.import_default_modules()  # the apps' tasks modules, as a worker imports them
    missing = {name: entry["task"] for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
               if entry["task"] not in app.tasks}
    assert not missing, f"beat would send tasks no worker knows: {missing}"


def _session(expires_in):
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store["_auth_user_id"] = "1"
    store.create()
    Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() + expires_in)
    return store.session_key


def test_expired_sessions_are_deleted_nightly_and_live_ones_kept(settings):
    from khuyencong.tasks import clear_expired_sessions

    entry = settings.CELERY_BEAT_SCHEDULE["sessions-clear-expired"]
    assert entry["task"] == clear_expired_sessions.name == "khuyencong.clear_expired_sessions"
    expired = [_session(timedelta(minutes=-1)), _session(timedelta(days=-400))]
    live = _session(timedelta(minutes=29))

    clear_expired_sessions()

    assert not Session.objects.filter(session_key__in=expired).exists()
    assert Session.objects.filter(session_key=live).exists()
