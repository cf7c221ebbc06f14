"""Reads of the reports app: what a report says, aggregated in the database, in a handful of queries.

Definitions used in the annual report (stated in the report itself):

* **Kế hoạch** (plan): the year's allocations (``funding.Allocation``) by source, national and local.
* **Thực hiện** (implemented): the money of đề án of that plan year that were approved and carried out
  (approved, in implementation, adjustment requested, accepted, settled), by source. Khuyến công money
  counts at the **approved** amount (``approved_national_amount`` / ``approved_local_amount``, which an
  approved adjustment rewrites), the requested amount only where no approved one is recorded (a
  KCQG đề án's local share, rows imported without one); a settled đề án counts at its **settled**
  amount (``settled_amount``, the quyết toán) for the source of its level (KCQG: national, KCĐP:
  local), in place of the approved one; counterpart and other money as registered.
* **Giải ngân** (disbursed): advances and payments not voided — a settlement row records the settled
  amount, not a payment (``funding.services.paid_amount``, ``funding.selectors.funding_summary``).
* **Đã quyết toán** (settled): the settlement rows not voided, by source, as funding counts them
  (``funding.selectors.funding_summary``'s «settled»).
* Grouping by **current** province (the 34 after 01/07/2025) or by the **historical** province the
  đề án was recorded under.
"""
import re
from collections import defaultdict
from datetime import date

from django.db.models import BigIntegerField, Case, Count, F, Q, Sum, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from khuyencong.choices import Era, Level
from khuyencong.formatting import clip, format_date, format_date_long, format_number, format_trieu
from khuyencong.models import Indicator, Organisation, Province
from khuyencong.reference import _province_place
from khuyencong.selectors import agency_on, programme_for_year, province_choices  # noqa: F401 (re-exported)
from khuyencong.textsearch import in_vietnamese_order, vietnamese_key  # noqa: F401 (used here and re-exported)

from .models import (
    Conclusion,
    FollowUp,
    Grouping,
    InspectionPlan,
    InspectionRecord,
    Recommendation,
    ReportJob,
    ReportKind,
)

IMPLEMENTED_STATUSES = ["approved", "in_implementation", "adjustment_requested", "accepted", "settled"]

# Programme indicator → activity-content sub-codes whose đề án typically produce it (QĐ 1881 catalogue).
# Not used by the report (which sums the achieved outputs); the test and benchmark seeders use it to give
# đề án plausible outputs.
INDICATOR_CONTENTS = {
    "mo-hinh-trinh-dien": ["1.1"],
    "may-moc-tien-tien": ["1.2"],
    "day-chuyen-cong-nghe": ["1.3"],
    "danh-gia-sxsh": ["2.1"],
    "mo-hinh-sxsh": ["2.2"],
    "xu-ly-o-nhiem": ["2.3"],
    "nhan-hieu": ["3.4"],
    "quy-hoach-ccn": ["4.2"],
    "ha-tang-ccn": ["4.3"],
    "hoi-cho-trong-nuoc": ["3.2"],
    "hoi-cho-nuoc-ngoai": [],
    "dao-tao-lao-dong": ["5.1"],
}


def clip_words(text, limit):
    """``clip`` at a word boundary: «Hỗ trợ xây dựng mô hình trình…», not «… mô hình trình di…» (a reader
    takes a cut word for a typo). A single word longer than the limit is still cut inside."""
    text = clip(text, limit)
    if not text.endswith("…") or " " not in text:
        return text
    head = text[:-1]
    return head.rsplit(" ", 1)[0].rstrip(" ,;:–-") + "…"


# --- Vietnamese alphabetical order (khuyencong.textsearch; kept importable from here) --------------


def visible_jobs_for(user):
    from khuyencong.access import visible_report_jobs

    return visible_report_jobs(user).select_related("province", "requested_by")


def job_list(user, *, kind=None, year=None, status=None):
    """The report jobs ``user`` may see, newest first, narrowed by the list's filters."""
    qs = visible_jobs_for(user).order_by("-created_at", "-id")
    if kind:
        qs = qs.filter(kind=kind)
    if year:
        qs = qs.filter(year=year)
    if status:
        qs = qs.filter(status=status)
    return qs


def _pct(part, whole):
    if not whole:
        return None
    return round(part * 100 / whole, 1)


def _shares(parts, whole):
    """``parts`` (non-negative, adding up to ``whole``) as percentages of ``whole`` to one decimal that add
    up to exactly 100: each share rounded down to 0,1 %, the tenths left over going to the largest
    remainders (the first part first on a tie) — rounded one by one, 36,65 + 12,25 + 51,1 would read
    36,7 + 12,3 + 51,1 = 100,1 %. ``None`` for each when ``whole`` is 0."""
    if not whole:
        return [None] * len(parts)
    tenths = [(part * 1000 // whole, part * 1000 % whole) for part in parts]
    left = 1000 - sum(t for t, _rest in tenths)
    bonus = set(sorted(range(len(parts)), key=lambda i: -tenths[i][1])[:max(left, 0)])
    return [(t + (1 if i in bonus else 0)) / 10 for i, (t, _rest) in enumerate(tenths)]


def _money(row=None):
    row = row or {}
    national = row.get("national") or 0
    local = row.get("local") or 0
    counterpart = row.get("counterpart") or 0
    other = row.get("other") or 0
    return {
        "national": national, "local": local, "counterpart": counterpart, "other": other,
        "support": national + local, "total": national + local + counterpart + other,
    }


def _implemented(source, level):
    """The khuyến công money of ``source`` a đề án carried out counts for: once settled, its settled
    amount for the source of its level (the quyết toán fixes what the state pays:
    funding.services.payable_ceiling); else its approved amount (an adjustment approved later rewrites
    it: projects.services.de_an_approve_adjustment), else the amount requested."""
    return Case(
        When(status="settled", level=level, settled_amount__isnull=False, then=F("settled_amount")),
        default=Coalesce(f"approved_{source}_amount", f"{source}_amount"),
        output_field=BigIntegerField(),
    )


IMPLEMENTED_NATIONAL = _implemented("national", Level.NATIONAL)
IMPLEMENTED_LOCAL = _implemented("local", Level.LOCAL)

MONEY_SUMS = {
    "national": Sum(IMPLEMENTED_NATIONAL),
    "local": Sum(IMPLEMENTED_LOCAL),
    "counterpart": Sum("counterpart_amount"),
    "other": Sum("other_amount"),
}


def _de_an_queryset(year, province=None):
    from projects.models import DeAn

    qs = DeAn.objects.filter(plan_year=year, status__in=IMPLEMENTED_STATUSES)
    if province is not None:
        qs = qs.filter(current_province=province)
    return qs


def _plan_by_province(year, province=None):
    """{province_id: {"national": n, "local": n}} and totals, from the year's allocations."""
    from funding.models import Allocation

    qs = Allocation.objects.filter(plan__year=year)
    if province is not None:
        qs = qs.filter(province=province)
    by_province = defaultdict(lambda: {"national": 0, "local": 0})
    totals = {"national": 0, "local": 0}
    for row in qs.values("province_id", "source").annotate(amount=Sum("amount")):
        by_province[row["province_id"]][row["source"]] += row["amount"] or 0
        totals[row["source"]] += row["amount"] or 0
    totals["total"] = totals["national"] + totals["local"]
    return by_province, totals


def _paid_and_settled(year, province=None):
    """Khuyến công money of the year's đề án, by source: ``disbursed``, paid out (advances and payments,
    not voided), and ``settled``, the settlement rows not voided, with ``settled_count`` the đề án they
    settle. A settlement row is the settled amount, not money paid out: funding counts it as «quyết
    toán», never as disbursed (``funding.services.paid_amount``, ``funding.selectors.funding_summary``),
    and so does this."""
    from funding.models import Disbursement, DisbursementKind

    qs = Disbursement.objects.counted().filter(de_an__plan_year=year, de_an__status__in=IMPLEMENTED_STATUSES)
    if province is not None:
        qs = qs.filter(de_an__current_province=province)
    out = {source: {"disbursed": 0, "settled": 0} for source in ("national", "local")}
    settlement = Q(kind=DisbursementKind.SETTLEMENT)
    for row in qs.values("source").annotate(disbursed=Sum("amount", filter=~settlement),
                                            settled=Sum("amount", filter=settlement)).order_by():
        entry = out.setdefault(row["source"], {"disbursed": 0, "settled": 0})
        entry["disbursed"] += row["disbursed"] or 0
        entry["settled"] += row["settled"] or 0
    out["settled_count"] = qs.filter(settlement).values("de_an_id").distinct().count()
    return out


def _disbursed(year, province=None):
    """Khuyến công money paid out (advances and payments, not voided) for the year's đề án."""
    paid = _paid_and_settled(year, province)
    return paid["national"]["disbursed"] + paid["local"]["disbursed"]


def money_summary(year, province=None):
    """Plan vs implemented, by source, with the previous year and the change."""
    plan = _plan_by_province(year, province)[1]
    plan_prev = _plan_by_province(year - 1, province)[1]
    impl = _money(_de_an_queryset(year, province).aggregate(**MONEY_SUMS, count=Count("id")))
    impl_prev = _money(_de_an_queryset(year - 1, province).aggregate(**MONEY_SUMS))
    paid = _paid_and_settled(year, province)
    disbursed = paid["national"]["disbursed"] + paid["local"]["disbursed"]
    settled = paid["national"]["settled"] + paid["local"]["settled"]
    rows = []
    for key, label in (
        ("national", _("Kinh phí khuyến công quốc gia")),
        ("local", _("Kinh phí khuyến công địa phương")),
    ):
        rows.append({
            "label": label, "plan": plan[key], "implemented": impl[key], "pct": _pct(impl[key], plan[key]),
            "previous": impl_prev[key], "change": impl[key] - impl_prev[key], "change_pct": _pct(impl[key] - impl_prev[key], impl_prev[key]),
            "disbursed": paid[key]["disbursed"], "disbursed_pct": _pct(paid[key]["disbursed"], impl[key]),
            "settled": paid[key]["settled"],
        })
    total_row = {
        "label": _("Cộng kinh phí khuyến công"), "plan": plan["total"], "implemented": impl["support"],
        "pct": _pct(impl["support"], plan["total"]), "previous": impl_prev["support"],
        "change": impl["support"] - impl_prev["support"], "change_pct": _pct(impl["support"] - impl_prev["support"], impl_prev["support"]),
        "disbursed": disbursed, "disbursed_pct": _pct(disbursed, impl["support"]), "settled": settled,
    }
    # Section I's sentence: the total carried out (khuyến công money, counterpart and other sources) and its
    # three parts, which add up to it to the đồng, each with its share; the shares add up to 100 %.
    counterpart_other = impl["counterpart"] + impl["other"]
    national_share, local_share, counterpart_share = _shares([impl["national"], impl["local"], counterpart_other],
                                                             impl["total"])
    return {
        "rows": rows, "total": total_row, "implemented": impl, "implemented_prev": impl_prev, "plan": plan,
        "plan_prev": plan_prev, "disbursed": disbursed, "disbursed_pct": _pct(disbursed, impl["support"]),
        "settled": settled, "settled_count": paid["settled_count"], "counterpart_other": counterpart_other,
        "national_share": national_share, "local_share": local_share, "counterpart_share": counterpart_share,
    }


def by_province(year, grouping, province=None):
    """Đề án counts and money per province (current or as recorded), with the plan (current grouping)."""
    field = "current_province_id" if grouping == Grouping.CURRENT else "province_id"
    rows = {
        row[field]: row
        for row in _de_an_queryset(year, province).values(field).annotate(count=Count("id"), **MONEY_SUMS)
    }
    plans, _totals = _plan_by_province(year, province) if grouping == Grouping.CURRENT else ({}, None)
    ids = set(rows) | set(plans)
    provinces = {p.pk: p for p in Province.objects.filter(pk__in=ids)}
    result = []
    for pk in sorted(ids, key=lambda i: (provinces[i].era != "current", provinces[i].code)):
        money = _money(rows.get(pk))
        plan = plans.get(pk) if plans else None
        plan_total = (plan["national"] + plan["local"]) if plan else None
        result.append({
            "province": provinces[pk], "count": (rows.get(pk) or {}).get("count", 0), **money,
            "plan": plan_total, "pct": _pct(money["support"], plan_total) if plan_total else None,
        })
    return result


def by_content(year, province=None):
    """Per activity-content area: đề án count (a đề án with contents in two areas counts in both) and
    money from the budget lines (lines with no content under «chưa phân loại»), by source."""
    from projects.models import BudgetLine, DeAn

    de_an = _de_an_queryset(year, province)
    through = DeAn.contents.through
    counts = {}
    names = {}
    # Counted in the database: distinct đề án per area (the parent content, or the content itself).
    for row in (
        through.objects.filter(dean__in=de_an)
        .values(area=Coalesce("activitycontent__parent__code", "activitycontent__code"),
                area_name=Coalesce("activitycontent__parent__name", "activitycontent__name"))
        .annotate(n=Count("dean_id", distinct=True))
        .order_by()
    ):
        names[row["area"]] = row["area_name"]
        counts[row["area"]] = row["n"]
    money = defaultdict(lambda: defaultdict(int))
    # Khuyến công money counts at the implemented amount (Section I: approved, or settled): the lines of a
    # đề án approved or settled for another amount than it asked are scaled below, one đề án at a time;
    # every other line is summed here.
    implemented = de_an.annotate(impl_national=IMPLEMENTED_NATIONAL, impl_local=IMPLEMENTED_LOCAL)
    as_asked = Q(impl_national=F("national_amount"), impl_local=F("local_amount"))
    scaled = {row[0]: row[1:] for row in implemented.exclude(as_asked).values_list(
        "pk", "impl_national", "impl_local", "national_amount", "local_amount")}
    area_fields = ("content__code", "content__name", "content__parent__code", "content__parent__name")
    for row in (BudgetLine.objects.filter(de_an__in=implemented.filter(as_asked).values("pk"))
                .values(*area_fields, "source").annotate(amount=Sum("amount"))):
        area = row["content__parent__code"] or row["content__code"] or ""
        if area:
            names.setdefault(area, row["content__parent__name"] or row["content__name"])
        money[area][row["source"]] += row["amount"] or 0
    lines = defaultdict(list)  # (đề án, source) → [(area, amount)]
    factors = {}
    for row in (BudgetLine.objects.filter(de_an_id__in=list(scaled))
                .values(*area_fields, "de_an_id", "source")
                .annotate(amount=Sum("amount"))
                .order_by("de_an_id", "source", "content__code")):
        area = row["content__parent__code"] or row["content__code"] or ""
        if area:
            names.setdefault(area, row["content__parent__name"] or row["content__name"])
        key = (row["de_an_id"], row["source"])
        lines[key].append((area, row["amount"] or 0))
        if row["source"] in ("national", "local"):
            impl_national, impl_local, requested_national, requested_local = scaled[row["de_an_id"]]
            approved, requested = ((impl_national, requested_national) if row["source"] == "national"
                                   else (impl_local, requested_local))
            if approved is not None and requested and approved != requested:
                factors[key] = (approved, requested)
    for key, parts in lines.items():
        source = key[1]
        for area, amount in (apportion(parts, *factors[key]) if key in factors else parts):
            money[area][source] += amount
    areas = sorted(set(counts) | set(money), key=lambda a: (a == "", [int(x) if x.isdigit() else x for x in a.split(".")]))
    result = []
    for area in areas:
        m = _money(money.get(area))
        result.append({"code": area, "name": names.get(area) or _("Chưa phân loại nội dung"), "count": counts.get(area, 0), **m})
    return result


def apportion(parts, approved, requested):
    """Scale the lines ``parts`` ([(key, amount)]) of a source requested at ``requested`` to the
    ``approved`` amount, in whole đồng: each line gets its share rounded down, and the đồng left over go
    to the largest remainders (first line first on a tie), so the lines add up to the scaled total."""
    whole = sum(amount for _key, amount in parts) * approved
    target = whole // requested + (1 if (whole % requested) * 2 >= requested else 0)
    shares = [(key, amount * approved // requested, amount * approved % requested) for key, amount in parts]
    left = target - sum(share for _key, share, _rest in shares)
    bonus = {i for i, _item in sorted(enumerate(shares), key=lambda item: -item[1][2])[:max(left, 0)]}
    return [(key, share + (1 if i in bonus else 0)) for i, (key, share, _rest) in enumerate(shares)]


def indicator_results(year, province=None):
    """Programme targets against the outputs the đề án achieved, in each indicator's own unit
    (``dashboards.DeAnIndicatorOutput.achieved``, recorded at acceptance), for đề án of the programme's
    years up to ``year`` that reached implementation — the dashboards' definition. Returns
    ``(programme, rows, elapsed)``: ``elapsed`` is the share (%) of the programme's five years gone by
    the end of ``year``."""
    from dashboards.models import DeAnIndicatorOutput
    from dashboards.selectors import ACHIEVED_STATES

    programme = programme_for_year(year)
    if programme is None:
        return None, [], None
    outputs = DeAnIndicatorOutput.objects.filter(
        indicator__programme=programme, achieved__isnull=False,
        de_an__plan_year__gte=programme.start_year, de_an__plan_year__lte=year, de_an__status__in=ACHIEVED_STATES,
    )
    if province is not None:
        outputs = outputs.filter(de_an__current_province=province)
    sums = {
        row["indicator_id"]: row
        for row in outputs.values("indicator_id").annotate(
            cumulative=Sum("achieved"), this_year=Sum("achieved", filter=Q(de_an__plan_year=year)),
            n=Count("de_an_id"), n_year=Count("de_an_id", filter=Q(de_an__plan_year=year)),
        )
    }
    rows = []
    for indicator in Indicator.objects.filter(programme=programme).order_by("order", "id"):
        row = sums.get(indicator.pk, {})
        cumulative = row.get("cumulative") or 0
        rows.append({
            "indicator": indicator, "year": row.get("this_year") or 0, "cumulative": cumulative,
            "de_an": row.get("n") or 0, "de_an_year": row.get("n_year") or 0,
            "pct": _pct(cumulative, indicator.target) if indicator.target else None,
        })
    start, end = date(programme.start_year, 1, 1), date(programme.end_year + 1, 1, 1)
    elapsed = round(min(max((date(year + 1, 1, 1) - start).days / (end - start).days, 0), 1) * 100, 1)
    return programme, rows, elapsed


def era_name(name, era):
    """A province's name as ``Province.era_name`` gives it, from its name and era read as columns: «Bắc Ninh
    (cũ)» for a province of the map before 01/07/2025, the name alone for a current one."""
    return name if era == Era.CURRENT else _("%(name)s (cũ)") % {"name": name}


def inspections(year, province=None, grouping=Grouping.CURRENT):
    records = InspectionRecord.objects.filter(inspected_on__year=year)
    recs = Recommendation.objects.filter(record__inspected_on__year=year)
    if province is not None:
        records = records.filter(de_an__current_province=province)
        recs = recs.filter(record__de_an__current_province=province)
    by_conclusion = {row["conclusion"]: row["n"] for row in records.values("conclusion").annotate(n=Count("id"))}
    today = timezone.localdate()
    rec_counts = recs.aggregate(
        total=Count("id"),
        open=Count("id", filter=Q(status=FollowUp.OPEN)),
        answered=Count("id", filter=Q(status=FollowUp.ANSWERED)),
        closed=Count("id", filter=Q(status=FollowUp.CLOSED)),
        overdue=Count("id", filter=~Q(status=FollowUp.CLOSED) & Q(deadline__lt=today)),
    )
    # The inspection appendix, one row per biên bản, as the strings the PDF prints: a 300-row appendix is read as
    # tuples and formatted here, not through 2,000 template lookups and filters (bench/bench_report.py).
    # Grouped by the province recorded, a former province reads «Bắc Ninh (cũ)» (Province.era_name): new
    # Bắc Ninh kept the name of one of the two it merged.
    field = "de_an__province" if grouping == Grouping.HISTORICAL else "de_an__current_province"
    labels = dict(Conclusion.choices)
    rows = [
        (f"{code} – {clip_words(name, 90)}", era_name(prov, era), format_date(inspected_on), clip_words(findings, 180),
         str(labels.get(conclusion, conclusion)), f"{n_recs} ({n_open})")
        for code, name, prov, era, inspected_on, findings, conclusion, n_recs, n_open in records
        .annotate(n_recs=Count("recommendations"), n_open=Count("recommendations", filter=~Q(recommendations__status=FollowUp.CLOSED)))
        .order_by("de_an__current_province__code", "inspected_on", "id")
        .values_list("de_an__code", "de_an__name", f"{field}__name", f"{field}__era", "inspected_on", "findings",
                     "conclusion", "n_recs", "n_open")
    ]
    return {
        "records": rows,
        "count": sum(by_conclusion.values()),
        "conclusions": [
            {"label": label, "count": by_conclusion.get(code, 0)} for code, label in Conclusion.choices
        ],
        "recommendations": rec_counts,
        "plan": InspectionPlan.objects.filter(year=year).first(),
    }


def de_an_list(year, grouping, province=None):
    """The appendix: every đề án carried out in the year, grouped by province with subtotals."""
    field = "current_province" if grouping == Grouping.CURRENT else "province"
    qs = (
        _de_an_queryset(year, province)
        .select_related(field)
        .only(
            "code", "name", "counterpart_amount", "other_amount",
            f"{field}__code", f"{field}__name", f"{field}__kind", f"{field}__era",
        )
        # The implemented money (approved, or settled), as in Section I and III: not the amounts requested.
        .annotate(implemented_national=IMPLEMENTED_NATIONAL, implemented_local=IMPLEMENTED_LOCAL)
        # By code, then by the province itself: a merged province keeps the code of one of the old ones
        # (new Bắc Ninh is 24, as old Bắc Giang was), and ordering by code alone interleaved the two,
        # cutting the list into dozens of one- and two-row groups with partial subtotals.
        .order_by(f"{field}__code", f"{field}__era", f"{field}_id", "code")
    )
    groups = []
    current = None
    for d in qs:
        prov = getattr(d, field)
        if current is None or current["province"].pk != prov.pk:
            current = {"province": prov, "rows": [], "national": 0, "local": 0, "counterpart": 0, "total": 0}
            groups.append(current)
        d.implemented_total = d.implemented_national + d.implemented_local + d.counterpart_amount + d.other_amount
        current["rows"].append(d)
        current["national"] += d.implemented_national
        current["local"] += d.implemented_local
        current["counterpart"] += d.counterpart_amount + d.other_amount
        current["total"] += d.implemented_total
    return groups


def proposals(money, provinces, insp):
    """Short proposals drawn from the figures; the signer edits the final text."""
    items = []
    low = [row for row in provinces if row.get("pct") is not None and row["pct"] < 50]
    if low:
        names = ", ".join(str(row["province"].era_name) for row in low[:8])
        items.append(_("Đôn đốc các địa phương có tỷ lệ thực hiện dưới 50 %% kế hoạch (%(p)s) đẩy nhanh tiến độ triển khai đề án.") % {"p": names})
    if insp["recommendations"]["overdue"]:
        items.append(_("Yêu cầu các đơn vị khắc phục %(n)d kiến nghị đã quá hạn sau kiểm tra, báo cáo kết quả về Cục.") % {"n": insp["recommendations"]["overdue"]})
    items.append(_("Tiếp tục ưu tiên kinh phí cho đề án điểm, đề án hỗ trợ cơ sở do phụ nữ, người dân tộc thiểu số làm chủ, sản xuất bền vững và chuyển đổi số."))
    items.append(_("Tăng cường kiểm tra, giám sát việc triển khai đề án, bảo đảm sử dụng kinh phí đúng mục đích, hiệu quả."))
    return items


def document_header(job, *, issued_on=None, place=None):
    """Who issues the document, its number symbol, place and date, recipients and signer."""
    issued_on = issued_on or job.issued_on or timezone.localdate()
    header = _document_header(job, issued_on)
    header["signer_name"] = getattr(job, "signer_name", "") or ""
    header["issuer_lines"] = issuer_lines(header["issuer"])
    header["date_text"] = format_date_long(issued_on)
    if place:
        header["place_date"] = format_date_long(issued_on, place)
    return header


_PROVINCE_PART = re.compile(r"\s+(?=(?:tỉnh|thành phố)\s)", re.IGNORECASE)


def issuer_lines(name):
    """The issuing body's name as the lines of the header: a provincial department's name breaks before
    its province («SỞ CÔNG THƯƠNG» / «TỈNH BẮC NINH»), which otherwise wrapped at the column's edge and
    left the province's last word alone on a line («SỞ CÔNG THƯƠNG TỈNH BẮC» / «NINH»)."""
    return _PROVINCE_PART.split(str(name), maxsplit=1)


def place_in_text(province):
    """A province as running text names it (NĐ 30/2020): the kind in lower case, «tỉnh Bắc Ninh», «thành
    phố Hà Nội»; a place named after a person in full, «Thành phố Hồ Chí Minh» (khuyencong.reference)."""
    return _province_place(province)


def date_place(province):
    """The place of the place-and-date line (NĐ 30/2020): the province's name, «Bắc Ninh, ngày …»; a
    place named after a person in full: «Thành phố Hồ Chí Minh, ngày …»."""
    place = _province_place(province)
    return place if place[:1].isupper() else province.name


def _document_header(job, issued_on):
    if job.kind == ReportKind.PROVINCE and job.province is not None:
        department = Organisation.objects.filter(province=job.province, kind="department").order_by("-valid_from").first()
        place = date_place(job.province)
        return {
            "issuer_parent": _("UBND %(p)s") % {"p": job.province.full_name.upper()},
            "issuer": department.name_on(issued_on) if department else _("Sở Công Thương"),
            "number_suffix": "BC-SCT",
            "place_date": format_date_long(issued_on, place),
            "recipients": [_("Bộ Công Thương (Cục Đổi mới sáng tạo, Chuyển đổi xanh và Khuyến công)"), _("UBND %(p)s") % {"p": place_in_text(job.province)}, _("Lưu: VT, KC")],
            "sign_for": _("KT. GIÁM ĐỐC"), "signer_title": _("PHÓ GIÁM ĐỐC"), "signer_name": "",
        }
    agency, name = agency_on(issued_on)
    symbol = "CTĐP" if issued_on < date(2025, 3, 1) else "ĐMSTKC"
    kind_suffix = {"national": "BC", "province": "BC", "record": "BB", "plan": "KH"}[job.kind]
    return {
        "issuer_parent": _("BỘ CÔNG THƯƠNG"),
        "issuer": name,
        "number_suffix": f"{kind_suffix}-{symbol}",
        "place_date": format_date_long(issued_on, "Hà Nội"),
        "recipients": [_("Bộ trưởng (để báo cáo)"), _("Các Thứ trưởng"), _("Sở Công Thương các tỉnh, thành phố"), _("Lưu: VT, KC")],
        "sign_for": _("KT. CỤC TRƯỞNG"), "signer_title": _("PHÓ CỤC TRƯỞNG"), "signer_name": "",
    }


def annual_report_context(job):
    province = job.province if job.kind == ReportKind.PROVINCE else None
    year = job.year
    money = money_summary(year, province)
    provinces = by_province(year, job.grouping, province)
    contents = by_content(year, province)
    programme, indicators, elapsed = indicator_results(year, province)
    insp = inspections(year, province, job.grouping)
    # The list of every đề án (Phụ lục 1) belongs to a province's report; the national report summarises
    # by province and content (2,000 rows would be 130 landscape pages) and points to the Excel list.
    groups = de_an_list(year, job.grouping, province) if province is not None else []
    has_data = bool(money["implemented"]["total"] or money["plan"]["total"] or insp["count"]
                    or any(row["count"] for row in provinces))
    # Mid-sentence the unit's kind is lower case: «… năm 2025 (tỉnh Bắc Ninh) như sau», «(thành phố Hà Nội)»;
    # a place named after a person is written in full: «(Thành phố Hồ Chí Minh)».
    scope = place_in_text(province) if province else _("toàn quốc")
    doc = document_header(job)
    doc.update({
        "kind_label": _("BÁO CÁO"),
        "title": _("Kết quả thực hiện hoạt động khuyến công năm %(y)d") % {"y": year},
        "subtitle": province.full_name if province else "",
    })
    totals = {
        "count": sum(r["count"] for r in provinces),
        "national": sum(r["national"] for r in provinces), "local": sum(r["local"] for r in provinces),
        "counterpart": sum(r["counterpart"] + r["other"] for r in provinces), "total": sum(r["total"] for r in provinces),
        "plan": sum(r["plan"] or 0 for r in provinces) if job.grouping == Grouping.CURRENT else None,
    }
    totals["support"] = totals["national"] + totals["local"]
    totals["pct"] = _pct(totals["support"], totals["plan"]) if totals["plan"] else None
    content_totals = {k: sum(r[k] for r in contents) for k in ("national", "local", "counterpart", "other", "total")}
    return {
        "appendix": appendix_labels(de_an=bool(groups), inspections=bool(insp["count"])),
        "doc": doc, "job": job, "year": year, "scope": scope, "province": province, "grouping": job.grouping,
        "grouping_label": Grouping(job.grouping).label, "has_data": has_data, "money": money,
        "provinces": provinces, "province_totals": totals, "contents": contents, "content_totals": content_totals,
        "programme": programme, "indicators": indicators, "elapsed": elapsed, "inspections": insp, "groups": groups,
        "de_an_count": totals["count"],
        "proposals": proposals(money, provinces, insp), "chart": money_chart(money),
        # «The provinces with the most money» compares provinces: not drawn for a single one (a province's
        # own report grouped by current province), where it was one bar repeating the table's figure.
        "province_chart": hbar_chart([
            # «Bắc Ninh (cũ)» beside «Bắc Ninh» when grouped by the province recorded (Province.era_name).
            (str(row["province"].era_name), row["support"], format_trieu(row["support"], 0, unit=False))
            for row in sorted(provinces, key=lambda r: -r["support"])[:10]
        ] if len(provinces) > 1 else []),
        "content_chart": hbar_chart([(clip_words(f"{row['code']}. {row['name']}", 36), row["count"], format_number(row["count"])) for row in contents if row["code"]]),
    }


def appendix_labels(**present):
    """«Phụ lục» headings of the appendices present, in order (NĐ 30/2020, Phụ lục I): with two or more,
    numbered in Roman numerals («Phụ lục I», «Phụ lục II»); a single one is just «Phụ lục».
    ``present``: name → whether that appendix is printed; returns name → heading for those printed."""
    names = [name for name, shown in present.items() if shown]
    if len(names) == 1:
        return {names[0]: _("Phụ lục")}
    roman = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]
    return {name: _("Phụ lục %(n)s") % {"n": roman[i]} for i, name in enumerate(names)}


def money_chart(money):
    """Bars for an inline SVG: plan vs implemented by source (national, local), heights in 0–100."""
    bars = []
    top = max([r["plan"] for r in money["rows"]] + [r["implemented"] for r in money["rows"]] + [1])
    for i, row in enumerate(money["rows"]):
        bars.append({
            "label": row["label"], "x": 60 + i * 220, "x2": 140 + i * 220,
            "plan_h": round(row["plan"] * 140 / top, 1), "impl_h": round(row["implemented"] * 140 / top, 1),
            "plan_y": round(170 - row["plan"] * 140 / top, 1), "impl_y": round(170 - row["implemented"] * 140 / top, 1),
            "plan": row["plan"], "implemented": row["implemented"],
            "plan_text": format_trieu(row["plan"], 0, unit=False), "impl_text": format_trieu(row["implemented"], 0, unit=False),
            "plan_ty": round(170 - row["plan"] * 140 / top - 3, 1), "impl_ty": round(170 - row["implemented"] * 140 / top - 3, 1),
            "plan_cx": 60 + i * 220 + 35, "impl_cx": 140 + i * 220 + 35,
        })
    return {"bars": bars, "empty": top == 1}


# The bar values' font size in SVG user units (the templates' font-size="12.7", 4 units per mm: 9 pt),
# and an upper bound of Liberation Serif's advance for the characters of a value (digits, «.», «,», and
# the letters of a unit are at most 0.5 em; 0.56 leaves room for a wider letter).
HBAR_FONT_UNITS = 12.7
HBAR_CHAR_EM = 0.56


def hbar_chart(items, *, label_mm=55, bars_mm=106, row_mm=5):
    """A horizontal bar chart: items are (label, value, text). The labels are HTML beside the SVG, one
    per ``row_mm`` row (WeasyPrint lays out SVG text letter by letter, ten times the cost of the same
    words in HTML); the SVG holds the bars and their values, 4 user units per millimetre.

    ``label_mm`` + the labels' 2 mm gap + ``bars_mm`` must fit the 165 mm of an A4 portrait page between
    the margins, and the longest bar leaves room for the longest value after it: the SVG clips
    whatever passes its right edge (a «27.625 triệu đồng» was cut to «27.625 triệu đ»)."""
    items = [i for i in items if i[1]]
    top = max([i[1] for i in items] + [1])
    unit = 4  # SVG user units per mm
    width, pitch = bars_mm * unit, row_mm * unit
    longest = max([len(i[2]) for i in items] + [0])
    span = width - 5 - round(longest * HBAR_CHAR_EM * HBAR_FONT_UNITS + 3)  # room after the longest bar for its value
    bars = []
    for n, (label, value, text) in enumerate(items):
        w = round(value * span / top, 1)
        bars.append({"label": label, "text": text, "y": n * pitch + 3, "ty": n * pitch + 14, "w": w, "tx": round(w + 5, 1)})
    return {"bars": bars, "width": width, "height": len(bars) * pitch, "bar_height": pitch - 6,
            "label_mm": label_mm, "bars_mm": bars_mm, "height_mm": len(bars) * row_mm}


def record_context(job):
    record = (
        InspectionRecord.objects.select_related("de_an__current_province", "de_an__province", "mission__plan")
        .prefetch_related("recommendations", "de_an__contents", "attachments")
        .get(pk=job.target_id)
    )
    # A biên bản is dated where and when the inspection took place; the agency's name as it was then.
    doc = document_header(job, issued_on=record.inspected_on, place=date_place(record.de_an.current_province))
    doc.update({"kind_label": _("BIÊN BẢN"), "title": _("Kiểm tra đề án khuyến công quốc gia"), "subtitle": record.de_an.name})
    from . import pdf
    from .services import PHOTOS_IN_RECORD

    attachments = list(record.attachments.all())
    photos = [a for a in attachments if a.is_photo]
    from .inspection_services import record_team

    team_kind, team = record_team(record)
    return {
        # «I.1 Đoàn kiểm tra» once: the mission's members, or the team as typed on the biên bản.
        "team_members": team if team_kind == "members" else None, "team_text": team if team_kind == "text" else "",
        "doc": doc, "job": job, "record": record, "de_an": record.de_an,
        # The photos the renderer is given (services.report_media); the ?format=html preview shows
        # their captions only.
        "photos": [{"url": pdf.media_url(a.pk), "caption": a.description or a.original_name} for a in photos[:PHOTOS_IN_RECORD]],
        "photos_left_out": max(len(photos) - PHOTOS_IN_RECORD, 0),
        "documents": [a for a in attachments if not a.is_photo],
        "lead": record.mission.members.filter(role="lead").order_by("id").first() if record.mission_id else None,
    }


def plan_context(job):
    plan = (
        InspectionPlan.objects.filter(year=job.year)
        .prefetch_related("missions__members", "missions__provinces", "missions__de_an__current_province")
        .first()
    )
    doc = document_header(job)
    doc.update({"kind_label": _("KẾ HOẠCH"), "title": _("Kiểm tra, giám sát đề án khuyến công năm %(y)d") % {"y": job.year}, "subtitle": ""})
    # A plan issued with a decision is a document attached to it (NĐ 30/2020): it has no number, place and
    # date or «Nơi nhận» of its own — the decision has them; the header shows «Ban hành kèm theo Quyết định…».
    doc["attached"] = bool(plan and plan.decision_number)
    return {"doc": doc, "job": job, "plan": plan, "year": job.year}


def report_context(job):
    if job.kind in (ReportKind.NATIONAL, ReportKind.PROVINCE):
        return annual_report_context(job)
    if job.kind == ReportKind.RECORD:
        return record_context(job)
    return plan_context(job)


def job_for_user(user, pk):
    return visible_jobs_for(user).filter(pk=pk).first()


def with_records(user, jobs):
    """``jobs`` as a list, each biên bản job given ``record``: the inspection record it prints (its đề án
    code and inspection date tell two «Biên bản kiểm tra 2026 Bắc Ninh» apart), in one query; None for
    other kinds, or a record since deleted or not visible to ``user``."""
    from khuyencong.access import visible_inspection_records

    jobs = list(jobs)
    ids = {job.target_id for job in jobs if job.kind == ReportKind.RECORD and job.target_id}
    records = {}
    if ids:
        records = (visible_inspection_records(user).select_related("de_an").only("pk", "inspected_on", "de_an__code")
                   .in_bulk(ids))
    for job in jobs:
        job.record = records.get(job.target_id) if job.kind == ReportKind.RECORD else None
    return jobs


__all__ = ["report_context", "visible_jobs_for", "job_for_user", "with_records", "ReportJob"]
