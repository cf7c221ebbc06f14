"""Writes of the funding app. Keyword-only, each in one transaction."""
from django.db import transaction
from django.utils.translation import gettext as _

from khuyencong.formatting import format_dong

from .models import Allocation, AnnualPlan, Commitment, source_for_level


class OverAllocation(Exception):
    """Committing would exceed what is allocated (or nothing is allocated). ``str(err)`` is Vietnamese."""


def _allocation_for_update(*, year, level, province, source):
    """The allocation row for (year, level, current province, source), locked until commit."""
    return (
        Allocation.objects.select_for_update()
        .select_related("plan", "province")
        .filter(plan__year=year, plan__level=level, province=province, source=source)
        .first()
    )


@transaction.atomic
def commitment_reserve(*, de_an, amount, actor=None):
    """Commit ``amount`` đồng of ``de_an``'s approved money against its province's allocation.

    The allocation row for (de_an.plan_year, de_an.level, de_an.current_province, source of the level)
    is locked with SELECT … FOR UPDATE, so two approvals racing for the same allocation are
    serialised: the second sees the first one's commitment. The database CHECK
    ``committed <= amount`` backs this up. Raises OverAllocation with a Vietnamese message.

    ``amount`` is added to what the đề án already holds (an approved adjustment passes the increase).
    Returns the Commitment (one per đề án and allocation).
    """
    amount = int(amount)
    if amount < 0:
        raise OverAllocation(_("Số tiền cam kết phải lớn hơn hoặc bằng 0."))
    province = de_an.current_province
    source = source_for_level(de_an.level)
    allocation = _allocation_for_update(year=de_an.plan_year, level=de_an.level, province=province, source=source)
    if allocation is None:
        raise OverAllocation(
            _("Chưa có kinh phí %(source)s năm %(year)s được phân bổ cho %(province)s; không thể cam kết %(amount)s.")
            % {
                "source": _("khuyến công quốc gia") if source == "national" else _("khuyến công địa phương"),
                "year": de_an.plan_year,
                "province": province,
                "amount": format_dong(amount),
            }
        )
    commitment = Commitment.objects.select_for_update().filter(de_an=de_an, allocation=allocation).first()
    previous = commitment.amount if commitment else 0
    _commit_add(allocation=allocation, add=amount)
    if commitment is None:
        commitment = Commitment.objects.create(de_an=de_an, allocation=allocation, amount=amount, created_by=actor)
    elif amount:
        commitment.amount = previous + amount
        commitment.save(update_fields=["amount", "updated_at"])
    return commitment


@transaction.atomic
def commitment_release(*, de_an, actor=None):
    """Give back everything ``de_an`` holds (stopped, cancelled or rejected after approval)."""
    released = 0
    for commitment in Commitment.objects.select_for_update().filter(de_an=de_an).select_related("allocation"):
        allocation = Allocation.objects.select_for_update().get(pk=commitment.allocation_id)
        Allocation.objects.filter(pk=allocation.pk).update(committed=allocation.committed - commitment.amount)
        released += commitment.amount
        commitment.delete()
    return released


def _commit_add(*, allocation, add):
    """Add ``add`` đồng (may be negative) to the locked allocation's committed total."""
    new_committed = allocation.committed + add
    if new_committed > allocation.amount:
        raise OverAllocation(over_allocation_message(allocation=allocation, add=add))
    Allocation.objects.filter(pk=allocation.pk).update(committed=new_committed)
    allocation.committed = new_committed


def over_allocation_message(*, allocation, add, province=None, year=None):
    return _(
        "Vượt kinh phí được phân bổ: %(province)s năm %(year)s được phân bổ %(allocated)s, đã cam kết "
        "%(committed)s, còn lại %(available)s; không thể cam kết thêm %(amount)s."
    ) % {
        "province": province or allocation.province,
        "year": year or allocation.plan.year,
        "allocated": format_dong(allocation.amount),
        "committed": format_dong(allocation.committed),
        "available": format_dong(allocation.amount - allocation.committed),
        "amount": format_dong(add),
    }


@transaction.atomic
def annual_plan_get_or_create(*, year, level, decision_number="", decision_date=None, title=""):
    from khuyencong.selectors import programme_for_year

    plan, created = AnnualPlan.objects.get_or_create(
        year=year,
        level=level,
        defaults={
            "decision_number": decision_number,
            "decision_date": decision_date,
            "title": title,
            "programme": programme_for_year(year),
        },
    )
    return plan
