from types import SimpleNamespace

import pytest
from django.db import IntegrityError, transaction

from funding.models import Allocation
from funding.services import OverAllocation, commitment_reserve
from khuyencong.models import Province
from tests.funding.factories import AllocationFactory

pytestmark = pytest.mark.django_db


def _de_an(province, year=2026, level="kcqg"):
    return SimpleNamespace(plan_year=year, level=level, current_province=province, pk=None)


def test_reserve_within_allocation_then_refuse_over():
    province = Province.objects.current().get(code="01")
    allocation = AllocationFactory(year=2026, province=province, amount=500_000_000)
    commitment_reserve(de_an=_de_an(province), amount=300_000_000, actor=None)
    allocation.refresh_from_db()
    assert allocation.committed == 300_000_000
    with pytest.raises(OverAllocation) as err:
        commitment_reserve(de_an=_de_an(province), amount=200_000_001, actor=None)
    assert "Vượt kinh phí được phân bổ" in str(err.value)
    assert "200.000.001 đ" in str(err.value)
    allocation.refresh_from_db()
    assert allocation.committed == 300_000_000


def test_reserve_without_allocation_is_refused():
    province = Province.objects.current().get(code="04")
    with pytest.raises(OverAllocation) as err:
        commitment_reserve(de_an=_de_an(province), amount=1, actor=None)
    assert "Chưa có kinh phí" in str(err.value)


def test_database_refuses_negative_and_over_commitment():
    allocation = AllocationFactory(amount=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        Allocation.objects.filter(pk=allocation.pk).update(amount=-1, committed=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Allocation.objects.filter(pk=allocation.pk).update(committed=11)
