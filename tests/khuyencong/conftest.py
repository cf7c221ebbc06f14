import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing cost is not what these tests measure."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
