import pytest


@pytest.fixture
def world(db):
    from .factories import world as build

    return build()


@pytest.fixture(autouse=True)
def _no_dashboard_cache(settings):
    """Figures and query counts are measured uncached; test_cache.py turns the cache on."""
    settings.DASHBOARD_CACHE_SECONDS = 0
