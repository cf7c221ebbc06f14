"""The short-lived cache: a second request reads no figures again; a state change (new transition),
new money or outputs, or «Làm mới» computes them afresh."""
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import DeAn, Transition

pytestmark = pytest.mark.django_db
URL = "/tong-quan/toan-quoc/?programme=qd-1881-2021-2025"


def _get(client, url=URL):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return response, len(ctx.captured_queries)


def test_cache_hit_and_invalidation(client, world, settings):
    settings.DASHBOARD_CACHE_SECONDS = 60
    cache.clear()
    client.force_login(world.reviewer)
    first, n_first = _get(client)
    second, n_second = _get(client)
    assert n_second <= n_first - 4
    assert "Số liệu tính lúc" in second.content.decode()
    # A đề án changes state: its transition row changes the data version, figures are read again.
    de_an = DeAn.objects.filter(plan_year__in=range(2021, 2026), status="in_implementation").first()
    Transition.objects.create(de_an=de_an, action="cancel", from_status="in_implementation", to_status="cancelled")
    DeAn.objects.filter(pk=de_an.pk).update(status="cancelled")
    _third, n_third = _get(client)
    assert n_third == n_first
    _fourth, n_fourth = _get(client, URL + "&lam_moi=1")
    assert n_fourth == n_first
    # Another scope (a province user) never reads the national entry.
    client.force_login(world.province)
    assert client.get(URL).status_code == 403
    cache.clear()


def test_a_voided_disbursement_is_read_afresh(client, world, settings):
    """A void changes no table's newest id: the data version counts the voided rows too, so the
    «Giải ngân» figure drops at once instead of after the cache's lifetime."""
    from django.utils import timezone

    from dashboards.selectors import data_version
    from funding.models import Disbursement

    settings.DASHBOARD_CACHE_SECONDS = 600
    cache.clear()
    client.force_login(world.reviewer)
    _first, n_first = _get(client)
    _cached, n_cached = _get(client)
    assert n_cached < n_first
    before = data_version()
    row = Disbursement.objects.counted().order_by("id").first()
    Disbursement.objects.filter(pk=row.pk).update(voided_at=timezone.now(), void_reason="Nhập nhầm")
    assert data_version() != before
    _again, n_again = _get(client)
    assert n_again == n_first


def test_an_allocation_import_or_undo_is_read_afresh(client, world, settings):
    """An import rewrites allocation amounts in place (no new id anywhere): the dashboard showed the
    old money for the cache's lifetime while the money page showed the new."""
    from dashboards.selectors import data_version
    from funding.models import Allocation

    settings.DASHBOARD_CACHE_SECONDS = 600
    cache.clear()
    client.force_login(world.reviewer)
    _first, n_first = _get(client)
    before = data_version()
    allocation = Allocation.objects.order_by("id").first()
    Allocation.objects.filter(pk=allocation.pk).update(amount=allocation.amount + 1_000_000)  # as an import's UPDATE
    assert data_version() != before
    _again, n_again = _get(client)
    assert n_again == n_first
    middle = data_version()
    Allocation.objects.filter(pk=allocation.pk).update(amount=allocation.amount)  # the undo puts it back
    assert data_version() not in (middle,)
