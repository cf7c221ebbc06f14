import pytest


@pytest.fixture(autouse=True)
def _eager_celery(eager_celery):
    """Notification e-mail goes through Celery: run its tasks in-process."""


@pytest.fixture(autouse=True)
def _private_media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}


@pytest.fixture
def users(db):
    from tests.projects.factories import make_users

    return make_users()
