"""Reads of the funding app, always scoped through khuyencong.access."""
from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum

from khuyencong import access

from .models import AllocationSource, AnnualPlan, DisbursementKind, ImportBatch

SOURCES = (AllocationSource.NATIONAL, AllocationSource.LOCAL)
MEASURES = ("allocated", "committed", "disbursed", "settled")


@dataclass
class FundingLine:
    """One province's money for a year, by source; every figure integer đồng."""

    province: object
    figures: dict = field(default_factory=lambda: {s: {m: 0 for m in MEASURES} for s in SOURCES})

    def total(self, measure):
        return sum(self.figures[s][measure] for s in SOURCES)

    @property
    def is_empty(self):
        """Nothing allocated, committed, disbursed or settled (a province with no money this year)."""
        return not any(value for figures in self.figures.values() for value in figures.values())

    @property
    def available(self):
        return {s: self.figures[s]["allocated"] - self.figures[s]["committed"] for s in SOURCES}


@dataclass
class FundingSummary:
    year: int
    lines: list
    totals: FundingLine

    def by_source(self, source, measure):
        return self.totals.figures[source][measure]

    @property
    def empty_count(self):
        return sum(1 for line in self.lines if line.is_empty)


def funding_summary(*, user, year, province=None, every_province=False):
    """Allocated, committed, disbursed (advances + payments) and settled money for ``year`` by current
    province and source, scoped to what ``user`` may see; voided disbursements count nowhere. Totals
    are the sums of the lines.

    With ``every_province`` (the national page), once the year has any money every current province
    the user may see has a line, zero where nothing is recorded, so a province left out of the
    allocation table shows as such instead of missing from the list; a year with no money at all
    still has no lines."""
    from khuyencong.models import Province

    allocations = access.visible_allocations(user).filter(plan__year=year)
    disbursements = access.visible_disbursements(user).counted().filter(de_an__plan_year=year)
    if province is not None:
        allocations = allocations.filter(province=province)
        disbursements = disbursements.filter(de_an__current_province=province)
    lines = {}

    def line(pid):
        if pid not in lines:
            lines[pid] = FundingLine(province=None)
        return lines[pid]

    for row in allocations.values("province_id", "source").annotate(a=Sum("amount"), c=Sum("committed")):
        entry = line(row["province_id"]).figures[row["source"]]
        entry["allocated"] += row["a"] or 0
        entry["committed"] += row["c"] or 0
    for row in disbursements.values("de_an__current_province_id", "source", "kind").annotate(s=Sum("amount")):
        measure = "settled" if row["kind"] == DisbursementKind.SETTLEMENT else "disbursed"
        line(row["de_an__current_province_id"]).figures[row["source"]][measure] += row["s"] or 0
    if every_province and lines:
        for pid in access.visible_current_provinces(user).values_list("pk", flat=True):
            line(pid)
    provinces = Province.objects.in_bulk(list(lines))
    for pid, entry in lines.items():
        entry.province = provinces[pid]
    ordered = sorted(lines.values(), key=lambda item: item.province.code)
    totals = FundingLine(province=None)
    for item in ordered:
        for source in SOURCES:
            for measure in MEASURES:
                totals.figures[source][measure] += item.figures[source][measure]
    return FundingSummary(year=year, lines=ordered, totals=totals)


def funding_years(*, user):
    years = set(AnnualPlan.objects.values_list("year", flat=True))
    return sorted(years, reverse=True)


def _commitments(*, user, year=None, province=None):
    qs = access.visible_commitments(user)
    if year:
        qs = qs.filter(allocation__plan__year=year)
    if province is not None:
        qs = qs.filter(allocation__province=province)
    return qs


def commitment_list(*, user, year=None, province=None):
    qs = _commitments(user=user, year=year, province=province).select_related(
        "de_an", "allocation__plan", "allocation__province", "de_an__province"
    )
    # The id last: a đề án may hold money on two allocations, and a page must cut the list in one order.
    return qs.order_by("allocation__province__code", "de_an__code", "pk")


def commitment_totals(*, user, year=None, province=None):
    """How many commitments ``commitment_list`` (same arguments) holds and their money in integer đồng —
    ``count``, ``amount`` and by source (``national``, ``local``) — over every row, not a page of them.
    One query."""
    sums = _commitments(user=user, year=year, province=province).aggregate(
        rows=Count("pk"), money=Sum("amount"),
        **{f"money_{source.value}": Sum("amount", filter=Q(allocation__source=source)) for source in SOURCES})
    totals = {"count": sums["rows"], "amount": sums["money"] or 0}
    totals.update({source.value: sums[f"money_{source.value}"] or 0 for source in SOURCES})
    return totals


def allocation_list(*, user, year=None, province=None):
    qs = access.visible_allocations(user).select_related("plan", "province")
    if year:
        qs = qs.filter(plan__year=year)
    if province is not None:
        qs = qs.filter(province=province)
    return qs.order_by("plan__year", "province__code", "source", "plan__level")


@dataclass
class DeAnMoney:
    """A đề án's money: approved amount of its source, commitments, disbursements and their totals."""

    de_an: object
    source: str
    approved: int
    commitments: list
    disbursements: list
    totals: dict

    @property
    def voided_count(self):
        return sum(1 for d in self.disbursements if d.voided_at is not None)


def de_an_money(*, user, de_an_id):
    """The money view of one đề án ``user`` may see (raises DeAn.DoesNotExist otherwise). Every
    disbursement is listed, voided ones too (``voided_at`` set: shown struck through); the totals, in
    integer đồng, count only those not voided: advances, payments, settlement, paid (advances +
    payments), remaining (approved − paid; once settled, settled − paid), ceiling, committed. Three
    queries."""
    from .models import source_for_level

    de_an = access.visible_de_an(user).select_related("current_province", "province").get(pk=de_an_id)
    source = source_for_level(de_an.level)
    approved = (de_an.approved_national_amount if source == AllocationSource.NATIONAL else de_an.approved_local_amount) or 0
    commitments = list(access.visible_commitments(user).filter(de_an=de_an)
                       .select_related("allocation__plan", "allocation__province").order_by("pk"))
    disbursements = list(access.visible_disbursements(user).filter(de_an=de_an).select_related("created_by", "voided_by")
                         .order_by("date", "id"))
    counted = [d for d in disbursements if d.voided_at is None]
    totals = {kind: sum(d.amount for d in counted if d.kind == kind) for kind in DisbursementKind.values}
    paid = totals[DisbursementKind.ADVANCE] + totals[DisbursementKind.PAYMENT]
    # Once settled, what is left to pay is the settled amount less what was paid (services.payable_ceiling).
    ceiling = de_an.settled_amount if de_an.status == "settled" and de_an.settled_amount is not None else approved
    totals.update(paid=paid, remaining=ceiling - paid, ceiling=ceiling, committed=sum(c.amount for c in commitments))
    return DeAnMoney(de_an=de_an, source=source, approved=approved, commitments=commitments,
                     disbursements=disbursements, totals=totals)


def import_batch_list(*, user, kind=None, status=None, year=None):
    """The import batches ``user`` may see (``access.visible_import_batches``), newest first, narrowed
    by the list's filters; a filter only narrows that scope."""
    qs = access.visible_import_batches(user).select_related("created_by", "applied_by", "plan").order_by("-created_at", "-id")
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if year:
        qs = qs.filter(year=year)
    return qs


def import_batch_get(*, user, pk):
    return access.visible_import_batches(user).select_related("created_by", "applied_by", "undone_by").get(pk=pk)


__all__ = ["ImportBatch", "funding_summary", "commitment_list", "commitment_totals", "allocation_list", "import_batch_list"]


@dataclass
class Headroom:
    """What is left of the allocation a đề án's approval commits against (integer đồng)."""

    allocation: object
    amount: int
    committed: int
    source: str

    @property
    def remaining(self):
        return self.amount - self.committed


def headroom_for(*, user, de_an):
    """The allocation an approval (or an adjustment) of ``de_an`` would commit against — its plan year,
    level, current province and the level's source — as ``Headroom``, or None when ``user`` may not see
    it or none is recorded. One query; the approval itself locks the row and checks again."""
    from .models import source_for_level

    source = source_for_level(de_an.level)
    allocation = (access.visible_allocations(user).select_related("plan", "province")
                  .filter(plan__year=de_an.plan_year, plan__level=de_an.level,
                          province_id=de_an.current_province_id, source=source).first())
    if allocation is None:
        return None
    return Headroom(allocation=allocation, amount=allocation.amount, committed=allocation.committed, source=source)


def last_recorded_parts(allocations, provinces, *, preferred):
    """{allocation id: [(recorded Province, đồng), …]} from the last applied allocation-table row that
    wrote each allocation (``ImportRow.data["parts"]`` / ``["recorded"]``), when it still holds the
    allocation's amount and every recorded province is read back. ``provinces``: every Province (both
    maps, ``successor`` joined); ``preferred``: the era read first when two rows share a name and code.
    Used by the allocation export (to write the rows back as recorded) and the province page."""
    import re

    from .models import ImportKind, ImportRow, ImportStatus, RowAction

    by_pk = {a.pk: a for a in allocations}
    if not by_pk:
        return {}
    latest = {}
    rows = (ImportRow.objects.filter(object_id__in=list(by_pk), batch__kind=ImportKind.ALLOCATION,
                                     batch__status=ImportStatus.APPLIED)
            .exclude(action=RowAction.ERROR)
            .order_by("object_id", "-batch__applied_at", "-batch_id", "-id")
            .values_list("object_id", "amount", "source", "province_id", "data"))
    for object_id, amount, source, province_id, data in rows:
        latest.setdefault(object_id, (amount, source, province_id, data or {}))
    label = re.compile(r"^(.*) \((\d{2})\)$")

    def province_of(text, current_id):
        # "Tỉnh Hà Giang (02)": the name as the import wrote it (in the language of the day) and the code
        match = label.match(text or "")
        if not match:
            return None
        name, code = match.groups()
        found = [p for p in provinces if p.code == code and p.current.pk == current_id
                 and (name == p.full_name or name.endswith(" " + p.name) or name == p.name)]
        found.sort(key=lambda p: (-len(p.name), p.era != preferred))
        return found[0] if found else None

    out = {}
    for pk, (amount, source, province_id, data) in latest.items():
        allocation = by_pk[pk]
        if (amount, source, province_id) != (allocation.amount, allocation.source, allocation.province_id):
            continue  # changed since (by hand, by an undo): the record no longer says how it is made up
        if data.get("parts"):
            parts = [(province_of(part.get("recorded"), province_id), part.get("amount")) for part in data["parts"]]
            if any(p is None for p, _a in parts) or sum(a or 0 for _p, a in parts) != amount:
                continue
            out[pk] = parts
        elif data.get("recorded"):
            province = province_of(data["recorded"], province_id)
            if province is not None:
                out[pk] = [(province, amount)]
    return out


def allocation_split(*, user, year, province):
    """How the applied allocation tables of ``year`` (a year on the map before 01/07/2025) split
    ``province``'s allocations among the provinces of that map: [(allocation, [(former Province, đồng),
    …]), …] in source order, for the allocations whose last table row still holds their amount and
    named several provinces or one of another name (Hà Giang and Tuyên Quang for today's Tuyên Quang,
    Thừa Thiên Huế for Huế; not Hà Nội for Hà Nội). Empty for years on today's map. Three queries."""
    from khuyencong.models import Era, Province

    from .importers import year_era

    if year_era(year) != Era.FORMER:
        return []
    allocations = list(allocation_list(user=user, year=year, province=province))
    if not allocations:
        return []
    provinces = list(Province.objects.select_related("successor"))
    parts = last_recorded_parts(allocations, provinces, preferred=Era.FORMER)
    order = {source: i for i, source in enumerate(SOURCES)}
    out = []
    for allocation in sorted(allocations, key=lambda a: (order.get(a.source, 9), a.plan.level)):
        recorded = parts.get(allocation.pk)
        if recorded and (len(recorded) > 1 or recorded[0][0].full_name != province.full_name):
            out.append((allocation, recorded))
    return out
