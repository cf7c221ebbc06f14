import pytest
from django.conf import settings
from django.utils import translation


@pytest.fixture(autouse=True)
def _vietnamese_afterwards():
    """Requests with English selected leave English active in the thread; put Vietnamese back so no
    later test (of any app, in the same worker) runs in English."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
