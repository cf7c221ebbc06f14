"""Reads of the dashboards: programme results and money, aggregated in the database.

Every figure comes from a handful of GROUP BY queries (no query per row), always starting from the
``khuyencong.access`` scoping functions, then narrowed to the selected programme years, level,
province and content. Definitions (also in docs/dashboards.md):

* **Phân bổ** (allocated): ``funding.Allocation.amount`` of the plans of the selected years, by source
  (current provinces only: allocations are made to the 34 provinces).
* **Cam kết** (committed): ``funding.Commitment.amount`` of the selected đề án, by the allocation's
  year and source.
* **Giải ngân** (disbursed): the advances and payments (``funding.Disbursement``, not voided) of the
  selected đề án, by the đề án's plan year and the disbursement's source. A settlement row is the
  settled amount, not money paid out: funding counts it as settled, never as disbursed
  (``funding.services.paid_amount``, ``funding.selectors.funding_summary``), and so do the dashboards.
* **Quyết toán** (settled): ``DeAn.settled_amount`` of settled đề án, by plan year; source by level
  (KCQG → national, KCĐP → local).
* Province **grouping**: ``current`` uses ``DeAn.current_province`` (the 34 provinces after
  01/07/2025), ``historical`` uses ``DeAn.province`` (the province recorded on the dossier).
* **Sản phẩm** (outputs): planned outputs of đề án not rejected/cancelled; achieved outputs of đề án
  in implementation or later.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db import connection
from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from khuyencong import access
from khuyencong.choices import Era, FundingSource, Level
from khuyencong.formatting import format_date, format_dong, format_number, format_percent
from khuyencong.models import ActivityContent, Indicator, Province

from . import charts
from .models import QUEUE_STATES, DeAnEconomicResult, DeAnIndicatorOutput, QueueTotals

SOURCES = (FundingSource.NATIONAL.value, FundingSource.LOCAL.value)
SOURCE_LABELS = {FundingSource.NATIONAL.value: _("KCQG"), FundingSource.LOCAL.value: _("KCĐP")}
MEASURES = ("allocated", "committed", "disbursed", "settled")
PLANNED_EXCLUDED = ("rejected", "cancelled")
ACHIEVED_STATES = ("in_implementation", "adjustment_requested", "accepted", "settled")
# Steps where a đề án waits for somebody (the review queue), in lifecycle order (QueueTotals has
# a pair of columns for each).
WAITING_STATES = QUEUE_STATES
N_KEYS, N_VALUES = 4, 6  # key and value columns of the rows of Facts' one statement
OVERDUE_DAYS = 30
STATUS_GROUPS = (
    ("preparing", ("draft", "submitted", "forwarded", "under_appraisal", "returned")),
    ("running", ("approved", "in_implementation", "adjustment_requested")),
    ("done", ("accepted", "settled")),
    ("stopped", ("rejected", "cancelled")),
)


def _status_group_labels():
    return {"preparing": _("Đang lập, chờ duyệt"), "running": _("Đã duyệt, đang thực hiện"),
            "done": _("Đã nghiệm thu, quyết toán"), "stopped": _("Không duyệt, đã hủy")}


def measure_labels():
    return {"allocated": _("Phân bổ"), "committed": _("Cam kết"), "disbursed": _("Giải ngân"),
            "settled": _("Quyết toán")}


# --- tables ------------------------------------------------------------------------------------

@dataclass
class Column:
    key: str
    label: str
    kind: str = "text"  # text | int | dong | pct | days


@dataclass
class Block:
    key: str
    title: str
    columns: list
    rows: list  # dicts keyed by column key; "_link" optional (URL of the matching đề án list)
    totals: dict | None = None
    charts: list = field(default_factory=list)
    note: str = ""
    facts: list = field(default_factory=list)  # [(label, text)]


def cell_text(kind, value, row=None):
    if kind == "mixed":
        kind = (row or {}).get("kind", "int")
    if value is None:
        return "—"
    if kind == "dong":
        return format_dong(value)
    if kind == "int":
        return format_number(value)
    if kind == "pct":
        return format_percent(value)
    if kind == "days":
        return duration_text(value)
    return str(value)


def duration_text(days):
    """A wait of ``days`` (float) in the unit that reads: «2,5 ngày», «3,5 giờ» under a day, «20 phút»
    under an hour, «dưới 1 phút» — a 30-minute wait is not «0» days."""
    seconds = float(days) * 86400
    for key, size, _title in charts.DURATION_UNITS:
        if seconds >= size:
            return charts.FORMATS[key][0](seconds / size)
    return _("dưới 1 phút")


def _pct(part, whole):
    if not whole or part is None:
        return None
    return round(part * 100 / whole, 1)


def _days(delta_seconds):
    return None if delta_seconds is None else float(delta_seconds) / 86400


# --- the selection -----------------------------------------------------------------------------

def selection_q(filters, path=""):
    """The filters as a Q on the đề án reached through ``path`` (``""`` for DeAn itself,
    ``"de_an__"`` for money rows…), so related tables filter through their join, not a subquery."""
    from projects.models import DeAn

    q = Q(**{f"{path}plan_year__gte": filters.year_from, f"{path}plan_year__lte": filters.year_to})
    if filters.level:
        q &= Q(**{f"{path}level": filters.level})
    if filters.province is not None:
        q &= Q(**{f"{path}current_province": filters.province})
    if filters.content is not None:
        through = DeAn.contents.through.objects.filter(
            Q(activitycontent_id=filters.content.pk) | Q(activitycontent__parent_id=filters.content.pk))
        q &= Q(**{f"{path}id__in": through.values("dean_id")})
    return q


def selected_de_an(*, user, filters):
    """Đề án ``user`` may see within the filters (scoped through access, then narrowed)."""
    return access.visible_de_an(user).filter(selection_q(filters))


def related_to_selection(queryset, *, user, filters, path):
    """Rows of ``queryset`` whose đề án (through ``path``) is in the user's selection."""
    return access.scope_related_to_de_an(queryset, user, path).filter(selection_q(filters, path))


def _national_base(*, user, filters):
    """The same selection over every province (for national averages on a province dashboard)."""
    from dataclasses import replace

    qs = access.national_aggregate_base(user)
    f = replace(filters, province=None)
    qs = qs.filter(plan_year__gte=f.year_from, plan_year__lte=f.year_to)
    if f.level:
        qs = qs.filter(level=f.level)
    if f.content is not None:
        from projects.models import DeAn

        through = DeAn.contents.through.objects.filter(
            Q(activitycontent_id=f.content.pk) | Q(activitycontent__parent_id=f.content.pk))
        qs = qs.filter(id__in=through.values("dean_id"))
    return qs


def _list_url(filters, **extra):
    return f"{reverse('projects:list')}?{filters.list_query(**extra)}"


def _allocations(user, filters):
    qs = access.visible_allocations(user).filter(plan__year__gte=filters.year_from, plan__year__lte=filters.year_to)
    if filters.level:
        qs = qs.filter(plan__level=filters.level)
    if filters.province is not None:
        qs = qs.filter(province=filters.province)
    return qs


def _commitments(user, filters):
    from funding.models import Commitment

    return related_to_selection(Commitment.objects.all(), user=user, filters=filters, path="de_an__")


def paid_out(disbursements):
    """Money paid out, as funding counts it: advances and payments not voided (a settlement row is the
    settled amount, not a payment)."""
    from funding.models import DisbursementKind

    return disbursements.counted().exclude(kind=DisbursementKind.SETTLEMENT)


def _disbursements(user, filters):
    from funding.models import Disbursement

    return related_to_selection(paid_out(Disbursement.objects.all()), user=user, filters=filters, path="de_an__")


# --- shared grouped queries ---------------------------------------------------------------------

class Facts:
    """The grouped rows every block rolls up from, all read by ONE statement per request: the
    selected đề án (scoped through ``access.visible_de_an`` and the filters) form a CTE of narrow
    rows; each table hanging off a đề án is grouped through a join to it. "Province" below is the one
    of the chosen grouping (``current_province_id`` or ``province_id``: the other key is absent):

    * ``de_an``: GROUP BY plan year, level, status, province (count, settled amount — kept for the
      settled status only —, registered support);
    * ``commitments``: GROUP BY the allocation's year and source and the đề án's province;
    * ``disbursements``: advances and payments (no settlement row, nothing voided) GROUP BY the đề án's
      plan year, the source and the đề án's province;
    * ``contents``: đề án per content area (a sub-content counts in its area) and status;
    * ``outputs``: planned/achieved per indicator (grouped by indicator and status in SQL, the status
      rules applied to the few grouped rows); ``econ``: economic results of accepted đề án;
    * ``queue``: the review-queue sums per status of the đề án, from ``QueueTotals`` (one narrow row
      per đề án, kept from its transitions): how many have transitions, the sum/min of their last
      transition's time, how many got there before the overdue line, and per waiting step the
      number of transitions leaving it and Σ(leaving) − Σ(entering) of their times. The transition
      table itself is not read.

    On PostgreSQL a national selection is inlined into each part (``NOT MATERIALIZED``): each part
    reads it by an index-only scan of ``de_an_dashboard_cover``, the planner hashes the narrow
    selection and reads the other table once, and the parts run in parallel. A one-province selection
    is read once and each table is reached through its ``de_an_id`` index, đề án by đề án.

    ``allocations`` (a small table, not tied to đề án) is a separate query.
    """

    def __init__(self, *, user, filters, de_an, now=None):
        self.user, self.filters, self.qs = user, filters, de_an
        self.now = now or timezone.now()
        self._cache = {}

    def _get(self, name):
        if name not in self._cache:
            self._load()
        return self._cache[name]

    de_an = property(lambda self: self._get("de_an"))
    commitments = property(lambda self: self._get("commitments"))
    disbursements = property(lambda self: self._get("disbursements"))
    contents = property(lambda self: self._get("contents"))
    outputs = property(lambda self: self._get("outputs"))
    econ = property(lambda self: self._get("econ"))
    queue = property(lambda self: self._get("queue"))

    @property
    def allocations(self):
        if "allocations" not in self._cache:
            self._cache["allocations"] = list(_allocations(self.user, self.filters).order_by().values(
                "plan__year", "source", "province_id").annotate(a=Sum("amount")))
        return self._cache["allocations"]

    def _load(self):
        from funding.models import Allocation, AnnualPlan, Commitment, Disbursement, DisbursementKind
        from projects.models import DeAn

        pg = connection.vendor == "postgresql"
        def text(x):
            return f"CAST({x} AS TEXT)"

        num = (lambda x: f"CAST({x} AS NUMERIC)") if pg else (lambda x: x)
        sel_sql, sel_params = self.qs.order_by().values(
            "id", "plan_year", "level", "status", "province_id", "current_province_id", "settled_amount",
            "national_amount", "local_amount").query.sql_with_params()
        t = {m.__name__: m._meta.db_table for m in (Commitment, Disbursement, Allocation, AnnualPlan, QueueTotals,
                                                     DeAnIndicatorOutput, DeAnEconomicResult, ActivityContent)}
        through = DeAn.contents.through._meta.db_table

        def row(tag, keys, values):
            keys = [text(k) if k != "NULL" else "CAST(NULL AS TEXT)" for k in keys] + ["CAST(NULL AS TEXT)"] * (N_KEYS - len(keys))
            values = [num(v) if v != "NULL" else num("NULL") for v in values] + [num("NULL")] * (N_VALUES - len(values))
            return f"SELECT '{tag}' AS tag, " + ", ".join(keys + values)

        # Queue: one GROUP BY s.status over sel ⋈ QueueTotals, then one output row per (status, step)
        # (a CASE picks the step's two sums), so that every row of the statement stays narrow.
        queue_sums = ", ".join(f"SUM(q.{prefix}_{state}) AS {prefix}_{state}"
                               for state in WAITING_STATES for prefix in ("left", "net"))
        steps = " UNION ALL ".join("SELECT %s AS state" for _s in WAITING_STATES)

        def pick(prefix):
            return "CASE st.state " + " ".join(f"WHEN '{state}' THEN g.{prefix}_{state}" for state in WAITING_STATES) + " END"

        # A small selection (one province: a few hundred đề án) reaches the rows hanging off each đề
        # án through their de_an index, one lookup per đề án (LATERAL … OFFSET 0 keeps PostgreSQL
        # from turning it back into a hash join that reads the whole table); a national selection
        # (tens of thousands) is hashed and joined to one pass over each table.
        small = pg and (self.filters.province is not None or not access.is_nationwide(self.user))

        def hang(table, alias, column):
            if small:
                return f"sel s CROSS JOIN LATERAL (SELECT * FROM {table} {alias}0 WHERE {alias}0.{column} = s.id OFFSET 0) {alias}"
            return f"{table} {alias} JOIN sel s ON s.id = {alias}.{column}"

        # Grouped by the province of the chosen grouping only (the other is never read): half the rows.
        gf = f"s.{_group_field(self.filters)}"
        parts = [
            (row("d", ["s.plan_year", "s.level", "s.status", gf],
                 ["COUNT(*)", "SUM(s.settled_amount)", "SUM(s.national_amount + s.local_amount)"])
             + f" FROM sel s GROUP BY s.plan_year, s.level, s.status, {gf}", []),
            # Commitments summed per allocation and province first, then named by the allocation's
            # year and source (a few hundred rows go through those joins instead of every commitment).
            (row("c", ["p.year", "a.source", "g.prov"], ["SUM(g.amount)"])
             + f" FROM (SELECT c.allocation_id, {gf} AS prov, SUM(c.amount) AS amount"
               f" FROM {hang(t['Commitment'], 'c', 'de_an_id')} GROUP BY c.allocation_id, {gf}) g"
               f" JOIN {t['Allocation']} a ON a.id = g.allocation_id JOIN {t['AnnualPlan']} p ON p.id = a.plan_id"
               " GROUP BY p.year, a.source, g.prov", []),
            (row("b", ["s.plan_year", "x.source", gf], ["SUM(x.amount)"])
             + f" FROM {hang(t['Disbursement'], 'x', 'de_an_id')} WHERE x.voided_at IS NULL AND x.kind <> %s"
               f" GROUP BY s.plan_year, x.source, {gf}", [DisbursementKind.SETTLEMENT.value]),
            (row("n", ["COALESCE(ac.parent_id, ac.id)", "s.status"], ["COUNT(DISTINCT s.id)"])
             + f" FROM {hang(through, 'dc', 'dean_id')} JOIN {t['ActivityContent']} ac ON ac.id = dc.activitycontent_id"
               " GROUP BY COALESCE(ac.parent_id, ac.id), s.status", []),
            (row("o", ["o.indicator_id", "s.status"], ["SUM(o.planned)", "SUM(o.achieved)", "COUNT(o.achieved)"])
             + f" FROM {hang(t['DeAnIndicatorOutput'], 'o', 'de_an_id')} GROUP BY o.indicator_id, s.status", []),
            (row("e", [], ["SUM(r.output_value)", "SUM(r.revenue)", "SUM(r.jobs_created)", "SUM(r.counterpart_mobilised)",
                           "COUNT(*)"])
             + f" FROM {hang(t['DeAnEconomicResult'], 'r', 'de_an_id')} WHERE s.status IN (%s, %s)",
             ["accepted", "settled"]),
            (row("q", ["g.status", "st.state"], ["g.n", "g.last_sum", "g.last_min", "g.n_over", pick("left"), pick("net")])
             + " FROM (SELECT s.status, COUNT(*) AS n, SUM(q.last_at) AS last_sum, MIN(q.last_at) AS last_min,"
               f" SUM(CASE WHEN q.last_at < %s THEN 1 ELSE 0 END) AS n_over, {queue_sums}"
               f" FROM {hang(t['QueueTotals'], 'q', 'de_an_id')} GROUP BY s.status) g"
               f" CROSS JOIN ({steps}) st",
             [self.now.timestamp() - OVERDUE_DAYS * 86400, *WAITING_STATES]),
        ]
        columns = "id, plan_year, level, status, province_id, current_province_id, settled_amount, national_amount, local_amount"
        # National: the selection inlined into each part (an index-only scan of de_an_dashboard_cover
        # each time, and the planner knows its size); small: read once.
        inline = ("MATERIALIZED " if small else "NOT MATERIALIZED ") if pg else ""
        sql = (f"WITH sel ({columns}) AS {inline}({sel_sql}) "
               + " UNION ALL ".join(f"SELECT * FROM ({p}) AS part{i}" for i, (p, _x) in enumerate(parts)))
        params = [*sel_params]
        for _p, extra in parts:
            params.extend(extra)
        out = {k: [] for k in ("de_an", "commitments", "disbursements", "contents", "outputs", "econ")}
        queue = out["queue"] = {"waiting": {}, "left": dict.fromkeys(WAITING_STATES, 0),
                                "net": dict.fromkeys(WAITING_STATES, 0.0)}
        with connection.cursor() as cursor:
            if pg:
                _numbers_as_python(cursor)
            cursor.execute(sql, params)
            fetched = cursor.fetchall()

        def i(v):
            return None if v is None else int(v)

        if pg:  # already int (integral) or float, None for NULL
            def n(v):
                return 0 if v is None else v
        else:
            def n(v):
                return 0 if v is None else (int(v) if float(v).is_integer() else float(v))

        group = _group_field(self.filters)
        outputs = {}
        for tag, k1, k2, k3, k4, v1, v2, v3, v4, v5, v6 in fetched:
            if tag == "d":
                out["de_an"].append({"plan_year": i(k1), "level": k2, "status": k3, group: i(k4), "n": n(v1),
                                     "settled": n(v2) if k3 == "settled" else 0, "support": n(v3)})
            elif tag == "c":
                out["commitments"].append({"allocation__plan__year": i(k1), "allocation__source": k2,
                                           f"de_an__{group}": i(k3), "c": n(v1)})
            elif tag == "b":
                out["disbursements"].append({"de_an__plan_year": i(k1), "source": k2, f"de_an__{group}": i(k3),
                                             "d": n(v1)})
            elif tag == "n":
                out["contents"].append({"area": i(k1), "status": k2, "n": n(v1)})
            elif tag == "o":  # per indicator and status: the status rules are applied here, not per row
                entry = outputs.setdefault(i(k1), {"indicator_id": i(k1), "s_planned": 0, "s_achieved": 0, "n": 0})
                if k2 not in PLANNED_EXCLUDED:
                    entry["s_planned"] += n(v1)
                if k2 in ACHIEVED_STATES:
                    entry["s_achieved"] += n(v2)
                    entry["n"] += n(v3)
            elif tag == "e":
                out["econ"].append({"s_output": n(v1), "s_revenue": n(v2), "s_jobs": n(v3), "s_counterpart": n(v4),
                                    "n": n(v5)})
            elif tag == "q":  # k1 = status of the đề án, k2 = a waiting step
                if k1 == k2:
                    queue["waiting"][k1] = (n(v1), float(v2 or 0), float(v3 or 0), n(v4))
                queue["left"][k2] += n(v5)
                queue["net"][k2] += float(v6 or 0)
        out["outputs"] = list(outputs.values())
        self._cache.update(out)


def _numbers_as_python(cursor):
    """NUMERIC values of ``cursor`` (psycopg2) arrive as int when integral, float otherwise, instead of
    Decimal (building thousands of Decimals, then converting them, was a tenth of the page's time)."""
    try:
        import psycopg2.extensions as ext
    except ImportError:  # pragma: no cover - another driver: Decimals, converted by n()
        return
    raw = getattr(cursor, "cursor", cursor)
    ext.register_type(ext.new_type((1700,), "KC_DASH_NUMERIC", _numeric), raw)


def _numeric(value, _cursor):
    if value is None:
        return None
    return float(value) if "." in value else int(value)


# --- blocks ------------------------------------------------------------------------------------

def _elapsed_share(programme, today=None):
    today = today or timezone.localdate()
    start, end = date(programme.start_year, 1, 1), date(programme.end_year + 1, 1, 1)
    share = (today - start).days / (end - start).days
    return round(min(max(share, 0), 1) * 100, 1)


def indicators_block(*, user, filters, de_an, facts=None):
    indicators = list(Indicator.objects.filter(programme=filters.programme).order_by("order", "id"))
    sums = {row["indicator_id"]: row for row in facts.outputs}
    elapsed = _elapsed_share(filters.programme)
    rows = []
    for ind in indicators:
        s = sums.get(ind.pk, {})
        achieved = s.get("s_achieved") or 0
        rows.append({
            "code": ind.code, "name": ind.name, "unit": ind.unit, "target": ind.target,
            "planned": s.get("s_planned") or 0, "achieved": achieved, "de_an": s.get("n") or 0,
            "pct": _pct(achieved, ind.target), "elapsed": elapsed,
            "_link": f"{reverse('dashboards:indicator', args=[ind.code])}?{filters.query()}",
        })
    econ = facts.econ[0] if facts.econ else {"s_output": 0, "s_revenue": 0, "s_jobs": 0, "s_counterpart": 0, "n": 0}
    fact_rows = [
        # Up to today; the annual report's figure is up to the end of its year (and says so).
        (_("Tỷ lệ thời gian chương trình đã qua (đến %(d)s)") % {"d": format_date(timezone.localdate())},
         format_percent(elapsed)),
        (_("Đề án đã ghi hiệu quả kinh tế"), format_number(econ["n"] or 0)),
        (_("Giá trị sản xuất tăng thêm"), format_dong(econ["s_output"] or 0)),
        (_("Doanh thu"), format_dong(econ["s_revenue"] or 0)),
        (_("Việc làm tạo thêm"), format_number(econ["s_jobs"] or 0)),
        (_("Vốn đối ứng huy động"), format_dong(econ["s_counterpart"] or 0)),
    ]
    with_target = [r for r in rows if r["target"]]
    chart = charts.bar_chart(
        title=_("Tiến độ chỉ tiêu chương trình (% mục tiêu 5 năm)"),
        desc=_("Mỗi thanh là phần trăm mục tiêu 5 năm đã đạt của một chỉ tiêu; đường đứt nét là %(e)s thời gian "
               "chương trình đã qua. Chỉ tiêu chưa có mục tiêu không vẽ.") % {"e": format_percent(elapsed)},
        categories=[r["name"] for r in with_target],
        series=[{"label": _("Đã đạt"), "values": [r["pct"] for r in with_target]}],
        fmt="pct", x_label=_("Phần trăm mục tiêu 5 năm (%)"), y_label=_("Chỉ tiêu"),
        links=[r["_link"] for r in with_target],
        marker=(elapsed, _("thời gian đã qua %(e)s") % {"e": format_percent(elapsed, 0)}),
        empty_text=_("Chương trình chưa có mục tiêu định lượng"),
    )
    return Block(
        key="chi-tieu", title=_("Kết quả thực hiện chỉ tiêu chương trình"),
        columns=[Column("name", _("Chỉ tiêu")), Column("unit", _("Đơn vị tính")), Column("target", _("Mục tiêu 5 năm"), "int"),
                 Column("planned", _("Kế hoạch (đề án)"), "int"), Column("achieved", _("Đã đạt"), "int"),
                 Column("de_an", _("Số đề án có kết quả"), "int"), Column("pct", _("% mục tiêu"), "pct"),
                 Column("elapsed", _("% thời gian đã qua"), "pct")],
        rows=rows, charts=[chart], facts=fact_rows,
        note=_("Đã đạt: sản phẩm ghi nhận của đề án đang thực hiện, đã nghiệm thu hoặc quyết toán. Kế hoạch: sản phẩm "
               "đăng ký của đề án chưa bị hủy hoặc không phê duyệt."),
    )


def money_block(*, user, filters, de_an, facts):
    figures = {y: {s: dict.fromkeys(MEASURES, 0) for s in SOURCES} for y in filters.years}
    for row in facts.allocations:
        figures[row["plan__year"]][row["source"]]["allocated"] += row["a"] or 0
    for row in facts.commitments:
        if row["allocation__plan__year"] in figures:
            figures[row["allocation__plan__year"]][row["allocation__source"]]["committed"] += row["c"] or 0
    for row in facts.disbursements:
        figures[row["de_an__plan_year"]][row["source"]]["disbursed"] += row["d"] or 0
    for row in facts.de_an:
        source = FundingSource.NATIONAL.value if row["level"] == Level.NATIONAL else FundingSource.LOCAL.value
        figures[row["plan_year"]][source]["settled"] += row["settled"] or 0
    rows = []
    totals = {"year": _("Cộng")}
    for year in filters.years:
        row = {"year": year, "_link": _list_url(filters, year=[year])}
        for m in MEASURES:
            for s in SOURCES:
                row[f"{m}_{s}"] = figures[year][s][m]
            row[m] = sum(figures[year][s][m] for s in SOURCES)
        rows.append(row)
    for key in [f"{m}_{s}" for m in MEASURES for s in SOURCES] + list(MEASURES):
        totals[key] = sum(r[key] for r in rows)
    labels = measure_labels()
    columns = [Column("year", _("Năm"))]
    for m in MEASURES:
        for s in SOURCES:
            columns.append(Column(f"{m}_{s}", _("%(m)s %(s)s (đồng)") % {"m": labels[m], "s": SOURCE_LABELS[s]}, "dong"))
        columns.append(Column(m, _("%(m)s cộng (đồng)") % {"m": labels[m]}, "dong"))
    by_year = charts.bar_chart(
        title=_("Kinh phí theo năm"),
        desc=_("Kinh phí phân bổ, cam kết, giải ngân và quyết toán của từng năm kế hoạch (cộng hai nguồn KCQG và KCĐP)."),
        categories=[str(r["year"]) for r in rows],
        series=[{"label": labels[m], "values": [r[m] for r in rows]} for m in MEASURES],
        fmt="dong", x_label=_("Kinh phí (tỷ đồng)"), y_label=_("Năm kế hoạch"), links=[r["_link"] for r in rows],
    )
    by_source = charts.bar_chart(
        title=_("Kinh phí theo nguồn"),
        desc=_("Tổng kinh phí các năm đã chọn theo nguồn: khuyến công quốc gia (KCQG) và địa phương (KCĐP)."),
        categories=[str(FundingSource(s).label) for s in SOURCES],
        series=[{"label": labels[m], "values": [totals[f"{m}_{s}"] for s in SOURCES]} for m in MEASURES],
        fmt="dong", x_label=_("Kinh phí (tỷ đồng)"), y_label=_("Nguồn kinh phí"),
        links=[_list_url(filters, level=[Level.NATIONAL if s == "national" else Level.LOCAL]) for s in SOURCES],
    )
    return Block(key="kinh-phi", title=_("Kinh phí phân bổ, cam kết, giải ngân, quyết toán"), columns=columns,
                 rows=rows, totals=totals, charts=[by_year, by_source],
                 note=_("Phân bổ: theo kế hoạch năm. Cam kết: kinh phí được duyệt của đề án giữ trong phân bổ. "
                        "Giải ngân: tạm ứng và thanh toán (không tính số quyết toán). Quyết toán: số quyết toán của đề án "
                        "đã quyết toán. Lọc theo nội dung không áp dụng cho số phân bổ."))


def _group_field(filters):
    return "current_province_id" if filters.grouping == "current" else "province_id"


def provinces_block(*, user, filters, de_an, facts):
    gf = _group_field(filters)
    rows = defaultdict(lambda: {"count": 0, "allocated": None, "committed": 0, "disbursed": 0, "settled": 0})
    for row in facts.de_an:
        rows[row[gf]]["count"] += row["n"]
        rows[row[gf]]["settled"] += row["settled"] or 0
    for row in facts.commitments:
        rows[row[f"de_an__{gf}"]]["committed"] += row["c"] or 0
    for row in facts.disbursements:
        rows[row[f"de_an__{gf}"]]["disbursed"] += row["d"] or 0
    if filters.grouping == "current":
        for row in facts.allocations:
            entry = rows[row["province_id"]]
            entry["allocated"] = (entry["allocated"] or 0) + (row["a"] or 0)
    provinces = Province.objects.select_related("successor").in_bulk(list(rows))
    result = []
    for pid, row in rows.items():
        p = provinces[pid]
        key = "current_province" if filters.grouping == "current" else "province"
        result.append({
            # A former province's own code (old Bắc Ninh 27, old Bắc Giang 24) and «(cũ)» in its name: many
            # merged provinces kept an old name (Bắc Ninh 27 + Bắc Giang 24 → Bắc Ninh 24), and grouped by
            # the province recorded, «Tỉnh Bắc Ninh» appeared twice with different figures.
            "code": p.code, "province": str(p.era_full_name), "era": str(Era(p.era).label) if p.era == Era.FORMER else "",
            "successor": p.successor.full_name if p.era == Era.FORMER and p.successor_id else "", **row,
            "_link": _list_url(filters, **{key: [pid]}), "_sort": (p.era != Era.CURRENT, p.code), "_pid": pid,
        })
    result.sort(key=lambda r: r["_sort"])
    totals = {"province": _("Cộng"), "code": ""}
    for key in ("count", "committed", "disbursed", "settled"):
        totals[key] = sum(r[key] for r in result)
    totals["allocated"] = sum(r["allocated"] or 0 for r in result) if filters.grouping == "current" else None
    labels = measure_labels()
    series = [{"label": labels[m], "values": [r[m] for r in result]}
              for m in (("allocated", "committed", "disbursed") if filters.grouping == "current" else ("committed", "disbursed"))]
    names = [r["province"] for r in result]
    links = [r["_link"] for r in result]
    money = charts.bar_chart(
        title=_("So sánh tỉnh, thành phố theo kinh phí"),
        desc=_("Kinh phí của từng tỉnh, thành phố (%(g)s) trong các năm đã chọn.") % {
            "g": _("tỉnh hiện nay") if filters.grouping == "current" else _("tỉnh khi đăng ký")},
        categories=names, series=series, fmt="dong", x_label=_("Kinh phí (tỷ đồng)"), y_label=_("Tỉnh, thành phố"),
        links=links,
    )
    count = charts.bar_chart(
        title=_("So sánh tỉnh, thành phố theo số đề án"),
        desc=_("Số đề án của từng tỉnh, thành phố trong các năm đã chọn."),
        categories=names, series=[{"label": _("Số đề án"), "values": [r["count"] for r in result]}],
        fmt="int", x_label=_("Số đề án"), y_label=_("Tỉnh, thành phố"), links=links,
    )
    columns = [Column("code", _("Mã")), Column("province", _("Tỉnh, thành phố"))]
    if filters.grouping == "historical":
        columns.append(Column("successor", _("Nay thuộc")))
    columns += [Column("count", _("Số đề án"), "int")]
    if filters.grouping == "current":
        columns.append(Column("allocated", _("Phân bổ (đồng)"), "dong"))
    columns += [Column("committed", _("Cam kết (đồng)"), "dong"), Column("disbursed", _("Giải ngân (đồng)"), "dong"),
                Column("settled", _("Quyết toán (đồng)"), "dong")]
    return Block(key="tinh", title=_("So sánh các tỉnh, thành phố"), columns=columns, rows=result, totals=totals,
                 charts=[money, count],
                 note=_("Nhóm theo tỉnh hiện nay: 34 tỉnh, thành phố từ 01/07/2025, số liệu tỉnh cũ cộng vào tỉnh mới. "
                        "Nhóm theo tỉnh khi đăng ký: tỉnh ghi trên hồ sơ đề án (phân bổ kinh phí chỉ có theo tỉnh hiện nay)."))


def contents_block(*, user, filters, de_an, facts=None):
    counts = defaultdict(lambda: defaultdict(int))
    for row in facts.contents:
        counts[row["area"]][row["status"]] += row["n"]
    areas = ActivityContent.objects.in_bulk(list(counts))
    group_labels = _status_group_labels()
    rows = []
    for area_id, by_status in counts.items():
        area = areas[area_id]
        row = {"code": area.code, "name": area.name, "_link": _list_url(filters, content=[area_id]),
               "_sort": [int(x) if x.isdigit() else 0 for x in area.code.split(".")]}
        for group, statuses in STATUS_GROUPS:
            row[group] = sum(by_status.get(s, 0) for s in statuses)
        row["total"] = sum(row[g] for g, _s in STATUS_GROUPS)
        rows.append(row)
    rows.sort(key=lambda r: r["_sort"])
    totals = {"code": "", "name": _("Cộng (một đề án nhiều lĩnh vực được đếm ở mỗi lĩnh vực)")}
    for key in [g for g, _s in STATUS_GROUPS] + ["total"]:
        totals[key] = sum(r[key] for r in rows)
    chart = charts.bar_chart(
        title=_("Đề án theo nội dung hoạt động"),
        desc=_("Số đề án theo lĩnh vực nội dung khuyến công, chia theo nhóm trạng thái."),
        categories=[f"{r['code']}. {r['name']}" for r in rows],
        series=[{"label": group_labels[g], "values": [r[g] for r in rows]} for g, _s in STATUS_GROUPS],
        fmt="int", x_label=_("Số đề án"), y_label=_("Nội dung"), links=[r["_link"] for r in rows], stacked=True,
    )
    columns = [Column("code", _("Mã")), Column("name", _("Nội dung hoạt động"))]
    columns += [Column(g, group_labels[g], "int") for g, _s in STATUS_GROUPS]
    columns.append(Column("total", _("Cộng"), "int"))
    return Block(key="noi-dung", title=_("Đề án theo nội dung hoạt động"), columns=columns, rows=rows, totals=totals,
                 charts=[chart])


def status_block(*, user, filters, de_an, facts):
    from projects.models import Status

    data = defaultdict(lambda: {"n": 0, "support": 0})
    for row in facts.de_an:
        data[row["status"]]["n"] += row["n"]
        data[row["status"]]["support"] += row["support"] or 0
    rows = []
    for code, label in Status.choices:
        row = data.get(code, {})
        rows.append({"status": str(label), "code": code, "count": row.get("n") or 0, "support": row.get("support") or 0,
                     "_link": _list_url(filters, status=[code])})
    totals = {"status": _("Cộng"), "count": sum(r["count"] for r in rows), "support": sum(r["support"] for r in rows)}
    chart = charts.bar_chart(
        title=_("Đề án theo trạng thái"), desc=_("Số đề án ở từng trạng thái của quy trình."),
        categories=[r["status"] for r in rows], series=[{"label": _("Số đề án"), "values": [r["count"] for r in rows]}],
        fmt="int", x_label=_("Số đề án"), y_label=_("Trạng thái"), links=[r["_link"] for r in rows],
    )
    return Block(key="trang-thai", title=_("Đề án theo trạng thái"),
                 columns=[Column("status", _("Trạng thái")), Column("count", _("Số đề án"), "int"),
                          Column("support", _("Kinh phí hỗ trợ đăng ký (đồng)"), "dong")],
                 rows=rows, totals=totals, charts=[chart])


def queue_age(facts):
    """{status: {"waiting", "avg_wait", "max_wait", "over", "done", "avg_done"}} in seconds.

    *Waiting now*: đề án of the selection in each step, since their last transition (the one that
    brought them there). *Done*: how long the selected đề án stayed in a step before leaving it, from
    the transition history: each stay runs from the transition entering the step to the next one
    leaving it, so the total of the stays in step S is Σ(leaving S) − Σ(entering S) + Σ(last entry of
    the đề án still in S), and their number is the count of transitions leaving S. The first two sums
    are kept per đề án in ``QueueTotals`` (``net_S``, ``left_S``); no window, no row per transition."""
    now_epoch = facts.now.timestamp()
    result = {s: {"waiting": 0, "avg_wait": None, "max_wait": None, "over": 0, "done": 0, "avg_done": None}
              for s in WAITING_STATES}
    still = dict.fromkeys(WAITING_STATES, 0.0)
    for status, (n, last_sum, last_min, n_over) in facts.queue["waiting"].items():
        if n:
            still[status] = last_sum
            result[status].update(waiting=n, avg_wait=now_epoch - last_sum / n, max_wait=now_epoch - last_min,
                                  over=n_over)
    for state in WAITING_STATES:
        leaving = facts.queue["left"][state]
        if leaving:
            result[state].update(done=leaving, avg_done=(facts.queue["net"][state] + still[state]) / leaving)
    return result


def queue_block(*, user, filters, de_an, facts=None):
    from projects.models import Status

    data = queue_age(facts)
    rows = []
    for status in WAITING_STATES:
        d = data[status]
        rows.append({"status": str(Status(status).label), "code": status, "waiting": d["waiting"],
                     "avg_wait": _days(d["avg_wait"]), "max_wait": _days(d["max_wait"]), "over": d["over"],
                     "done": d["done"], "avg_done": _days(d["avg_done"]), "_link": _list_url(filters, status=[status])})
    # The chart in days, or in hours or minutes when every wait is shorter (a bar and its label agree).
    fmt, unit_seconds, axis_title = charts.duration_unit(
        [d[k] for d in data.values() for k in ("avg_wait", "avg_done")])

    def in_unit(seconds):
        return None if seconds is None else float(seconds) / unit_seconds

    chart = charts.bar_chart(
        title=_("Thời gian chờ ở từng bước"),
        desc=_("Thời gian bình quân đề án đang chờ ở mỗi bước (tính đến hôm nay) và thời gian bình quân các đề án "
               "đã qua bước đó phải chờ, tính từ lịch sử chuyển trạng thái."),
        categories=[r["status"] for r in rows],
        series=[{"label": _("Đang chờ (bình quân)"), "values": [in_unit(data[s]["avg_wait"]) for s in WAITING_STATES]},
                {"label": _("Đã xử lý (bình quân)"), "values": [in_unit(data[s]["avg_done"]) for s in WAITING_STATES]}],
        fmt=fmt, x_label=axis_title, y_label=_("Bước"), links=[r["_link"] for r in rows],
    )
    totals = {"status": _("Cộng"), "waiting": sum(r["waiting"] for r in rows), "over": sum(r["over"] for r in rows),
              "done": sum(r["done"] for r in rows)}
    return Block(key="hang-cho", title=_("Tuổi hàng chờ xử lý"),
                 columns=[Column("status", _("Bước (trạng thái)")), Column("waiting", _("Đang chờ"), "int"),
                          Column("avg_wait", _("Chờ bình quân"), "days"),
                          Column("max_wait", _("Chờ lâu nhất"), "days"),
                          Column("over", _("Chờ quá %(n)d ngày") % {"n": OVERDUE_DAYS}, "int"),
                          Column("done", _("Đã qua bước"), "int"), Column("avg_done", _("Thời gian bình quân đã qua"), "days")],
                 rows=rows, totals=totals, charts=[chart])


BLOCKS = {
    "chi-tieu": indicators_block,
    "kinh-phi": money_block,
    "tinh": provinces_block,
    "noi-dung": contents_block,
    "trang-thai": status_block,
    "hang-cho": queue_block,
}


def dashboard(*, user, filters, only=None, with_comparison=False):
    """The blocks of a dashboard (national when ``filters.province`` is None), each a ``Block``;
    ``with_comparison`` adds the province's comparison with the national average second."""
    de_an = selected_de_an(user=user, filters=filters)
    facts = Facts(user=user, filters=filters, de_an=de_an)
    if only == "so-sanh":
        return [province_comparison(user=user, filters=filters, facts=facts)]
    keys = [only] if only else list(BLOCKS)
    blocks = [BLOCKS[key](user=user, filters=filters, de_an=de_an, facts=facts) for key in keys]
    if with_comparison and filters.province is not None:
        blocks.insert(1, province_comparison(user=user, filters=filters, facts=facts))
    return blocks


# --- province dashboard extras -------------------------------------------------------------------

def province_comparison(*, user, filters, facts=None):
    """The province's figures against the national average per province (34 current provinces)."""
    from funding.models import Allocation, Commitment, Disbursement

    province = filters.province
    if facts is None:
        facts = Facts(user=user, filters=filters, de_an=selected_de_an(user=user, filters=filters))
    national = _national_base(user=user, filters=filters)
    n_provinces = Province.objects.filter(era=Era.CURRENT).count() or 1
    mine = {
        "count": sum(r["n"] for r in facts.de_an), "settled": sum(r["settled"] or 0 for r in facts.de_an),
        "allocated": sum(r["a"] or 0 for r in facts.allocations),
        "committed": sum(r["c"] or 0 for r in facts.commitments),
        "disbursed": sum(r["d"] or 0 for r in facts.disbursements),
    }
    alloc_all = Allocation.objects.filter(plan__year__gte=filters.year_from, plan__year__lte=filters.year_to)
    if filters.level:
        alloc_all = alloc_all.filter(plan__level=filters.level)
    agg = national.aggregate(n=Count("id"), settled=Sum("settled_amount", filter=Q(status="settled")))
    everyone = {
        "count": agg["n"] or 0, "settled": agg["settled"] or 0,
        "allocated": alloc_all.aggregate(s=Sum("amount"))["s"] or 0,
        "committed": Commitment.objects.filter(de_an__in=national).aggregate(s=Sum("amount"))["s"] or 0,
        "disbursed": paid_out(Disbursement.objects.all()).filter(de_an__in=national).aggregate(s=Sum("amount"))["s"] or 0,
    }
    labels = {"count": _("Số đề án"), **measure_labels()}
    rows = []
    for key in ("count", "allocated", "committed", "disbursed", "settled"):
        average = everyone[key] / n_provinces
        rows.append({"measure": labels[key], "kind": "int" if key == "count" else "dong", "own": mine[key],
                     "average": round(average), "ratio": _pct(mine[key], average), "national": everyone[key]})
    chart = charts.bar_chart(
        title=_("%(p)s so với bình quân cả nước") % {"p": province.full_name},
        desc=_("Mỗi thanh là số liệu của tỉnh tính bằng phần trăm bình quân một tỉnh, thành phố của cả nước "
               "(%(n)d tỉnh, thành phố); đường đứt nét là mức bình quân (100 %%).") % {"n": n_provinces},
        categories=[r["measure"] for r in rows],
        series=[{"label": _("% bình quân cả nước"), "values": [r["ratio"] for r in rows]}],
        fmt="pct", x_label=_("Phần trăm bình quân một tỉnh (%)"), y_label=_("Chỉ số"), marker=(100, _("bình quân")),
    )
    return Block(key="so-sanh", title=_("So với bình quân cả nước"),
                 columns=[Column("measure", _("Chỉ số")), Column("own", province.full_name, "mixed"),
                          Column("average", _("Bình quân một tỉnh"), "mixed"), Column("ratio", _("% bình quân"), "pct"),
                          Column("national", _("Cả nước"), "mixed")],
                 rows=rows, charts=[chart],
                 note=_("Bình quân = số liệu cả nước chia cho %(n)d tỉnh, thành phố hiện nay.") % {"n": n_provinces})


def waiting_for_me(user, limit=10):
    from projects.selectors import queue_for

    qs = queue_for(user)
    items = list(qs[:limit])
    count = len(items) if len(items) < limit else qs.count()
    return {"items": items, "count": count}


def overdue_recommendations(user, province=None):
    """Inspection recommendations past their deadline and not closed, in the user's scope (the
    reports app's own selector, the one its home panel uses), narrowed to the đề án now in ``province``
    (the page's province: ministry staff on a province's page see that province's only)."""
    from reports.home import overdue_recommendations as panel

    panels = panel(user, province=province)
    return panels[0] if panels else {"items": [], "count": 0}


def indicator_de_an(*, user, filters, indicator, limit=500):
    """The selected đề án with an output for ``indicator`` (planned, achieved), biggest first."""
    return list(
        related_to_selection(DeAnIndicatorOutput.objects.all(), user=user, filters=filters, path="de_an__")
        .filter(indicator=indicator)
        .select_related("de_an__current_province").order_by("-achieved", "-planned", "de_an__code")[:limit]
    )


# --- short-lived cache ---------------------------------------------------------------------------

def data_version():
    """A cheap stamp that changes whenever a đề án changes state or money/outputs are recorded: the
    newest id of the transition, commitment, disbursement, output and economic-result tables and the
    number of voided disbursements (a void changes no id) — each an index lookup —, and the number,
    total and last change of the allocations (an import or its undo rewrites amounts in place; the
    table has a few hundred rows), all in one query. Edits that write none of these show after the
    cache's TTL."""
    from funding.models import Allocation, Commitment, Disbursement
    from projects.models import Transition

    tables = [m._meta.db_table for m in (Transition, Commitment, Disbursement, DeAnIndicatorOutput, DeAnEconomicResult)]
    allocation = Allocation._meta.db_table
    sql = ("SELECT " + ", ".join(f"(SELECT MAX(id) FROM {t})" for t in tables)
           + f", (SELECT COUNT(*) FROM {Disbursement._meta.db_table} WHERE voided_at IS NOT NULL)"
           + f", (SELECT COUNT(*) FROM {allocation}), (SELECT SUM(amount) FROM {allocation})"
           + f", (SELECT MAX(updated_at) FROM {allocation})")
    with connection.cursor() as cursor:
        cursor.execute(sql)
        # No spaces in a cache key (the timestamp's): memcached would refuse it.
        return "-".join(str(v or 0).replace(" ", "T") for v in cursor.fetchone())


def cache_seconds():
    from django.conf import settings

    return int(getattr(settings, "DASHBOARD_CACHE_SECONDS", 60))


def cached_dashboard(*, user, filters, only=None, with_comparison=False, refresh=False):
    """``dashboard()`` kept for ``DASHBOARD_CACHE_SECONDS`` (60 s by default; 0 turns it off) per
    scope (nationwide or the user's province), filters, language and ``data_version()``.
    Returns (blocks, computed_at)."""
    from django.core.cache import cache
    from django.utils.translation import get_language

    seconds = cache_seconds()
    if seconds <= 0:
        return dashboard(user=user, filters=filters, only=only, with_comparison=with_comparison), timezone.now()
    scope = "all" if access.is_nationwide(user) else f"p{access.user_province_id(user)}"
    key = (f"dashboards:v1:{get_language()}:{scope}:{only or '*'}:{int(with_comparison)}:{data_version()}:"
           f"{filters.query()}")
    if not refresh:
        hit = cache.get(key)
        if hit is not None:
            return hit
    value = (dashboard(user=user, filters=filters, only=only, with_comparison=with_comparison), timezone.now())
    cache.set(key, value, seconds)
    return value
