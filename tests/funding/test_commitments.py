import pytest
from django.db import IntegrityError, transaction

from funding.models import Allocation, Commitment
from funding.services import OverAllocation, commitment_reserve
from khuyencong.models import Province
from tests.funding.factories import AllocationFactory, make_de_an

pytestmark = pytest.mark.django_db


def _de_an(province, year=2026, level="kcqg"):
    return make_de_an(province=province, year=year, level=level)


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


def test_reserve_again_adds_to_the_de_an_commitment_and_release_gives_back():
    province = Province.objects.current().get(code="01")
    allocation = AllocationFactory(year=2026, province=province, amount=500_000_000)
    de_an = _de_an(province)
    commitment_reserve(de_an=de_an, amount=400_000_000)
    commitment_reserve(de_an=de_an, amount=50_000_000)  # an approved adjustment passes the increase
    with pytest.raises(OverAllocation):
        commitment_reserve(de_an=de_an, amount=50_000_001)
    allocation.refresh_from_db()
    assert allocation.committed == 450_000_000
    assert Commitment.objects.get(de_an=de_an).amount == 450_000_000
    from funding.services import commitment_release

    assert commitment_release(de_an=de_an) == 450_000_000
    allocation.refresh_from_db()
    assert allocation.committed == 0 and not Commitment.objects.exists()


def test_former_province_de_an_commits_against_current_province():
    former = Province.objects.former().get(code="27")  # Bắc Ninh before 01/07/2025 → Bắc Ninh (24)
    allocation = AllocationFactory(year=2026, province=former.current, amount=100)
    commitment_reserve(de_an=_de_an(former), amount=100)
    allocation.refresh_from_db()
    assert allocation.committed == 100 and allocation.province.code == "24"
