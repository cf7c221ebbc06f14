import pytest


@pytest.fixture(autouse=True)
def _eager_celery(eager_celery):
    """Notification e-mail goes through Celery: run its tasks in-process here, also when CI points
    CELERY_BROKER_URL at Redis (tests that need a real broker or a dead one set their own)."""


@pytest.fixture
def users(db):
    from .factories import make_users

    return make_users()


@pytest.fixture
def client_as(client):
    """``client_as(user)``: the test client signed in as ``user``."""
    def login(user):
        client.force_login(user)
        return client

    return login
