"""Factories for funding data. Other apps' tests use them to give a province money to commit:

    from tests.funding.factories import AllocationFactory
    AllocationFactory(year=2026, level="kcqg", province=current_province, amount=1_000_000_000)
"""
import factory
from factory.django import DjangoModelFactory

from funding.models import Allocation, AllocationSource, AnnualPlan, source_for_level
from khuyencong.choices import Level
from khuyencong.models import Province


class AnnualPlanFactory(DjangoModelFactory):
    class Meta:
        model = AnnualPlan
        django_get_or_create = ("year", "level")

    year = 2026
    level = Level.NATIONAL
    decision_number = factory.Sequence(lambda n: f"{n + 100}/QĐ-BCT")


class AllocationFactory(DjangoModelFactory):
    """``AllocationFactory(year=…, level=…, province=…, amount=…)``; source follows the level unless given."""

    class Meta:
        model = Allocation
        django_get_or_create = ("plan", "province", "source")
        exclude = ("year", "level")

    year = 2026
    level = Level.NATIONAL
    plan = factory.LazyAttribute(lambda o: AnnualPlanFactory(year=o.year, level=o.level))
    province = factory.LazyFunction(lambda: Province.objects.current().order_by("code").first())
    source = factory.LazyAttribute(lambda o: source_for_level(o.level))
    amount = 1_000_000_000


__all__ = ["AllocationFactory", "AnnualPlanFactory", "AllocationSource"]


def make_de_an(*, province, year=2026, level=Level.NATIONAL, name="Đề án thử", status="approved", **extra):
    """A bare đề án row for funding tests (the projects app's own factories build full dossiers)."""
    from projects.models import DeAn

    current = province.current
    code = extra.pop("code", None) or f"T-{year}-{DeAn.objects.count() + 1}-{province.code}"
    return DeAn.objects.create(
        code=code, name=name, level=level, plan_year=year, province=province, current_province=current,
        status=status, **extra,
    )


def settle(de_an, *, amount, day, document="QT-01/2026", actor=None):
    """Settle ``de_an`` through the «Quyết toán» step, the one writer of the settlement: the đề án is
    put in "accepted" first (a bare row of ``make_de_an``); the step records the settlement row."""
    from projects.models import DeAn
    from projects.services import de_an_settle
    from tests.khuyencong.factories import admin_user

    DeAn.objects.filter(pk=de_an.pk).update(status="accepted")
    return de_an_settle(actor=actor or admin_user(), de_an=de_an.pk, settled_amount=amount, settled_on=day,
                        settlement_document=document)
