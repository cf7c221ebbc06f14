"""Writes of the dashboards app: planned and achieved outputs per indicator, economic results.

``queue_totals_refresh`` keeps ``QueueTotals`` (the review-queue sums per đề án) equal to the
transition rows; the projects app calls it wherever it writes or deletes transitions.

Each service checks ``khuyencong.access.can`` (scope, role, the đề án's state), locks the đề án row,
validates, writes and logs an ``AuditEvent``. A refusal raises ``OutputRefused`` with a Vietnamese
message and leaves the data untouched.
"""
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from khuyencong import access
from khuyencong.models import AuditEvent

from .models import QUEUE_STATES, DeAnEconomicResult, DeAnIndicatorOutput, QueueTotals

MAX_UNITS = 10_000_000
MAX_DONG = 10**16


ECONOMIC_FIELDS = ("output_value", "revenue", "jobs_created", "counterpart_mobilised")


class OutputRefused(Exception):
    """The write was refused; ``str(err)`` is the Vietnamese reason. ``errors`` maps the outputs page's
    field names (``planned_field``, ``achieved_field``, ``ECONOMIC_FIELDS``; None: the whole form) to
    their messages."""

    def __init__(self, message=None, *, errors=None):
        self.errors = errors or {None: [message]}
        super().__init__(message or " ".join(m for messages in self.errors.values() for m in messages))


def planned_field(indicator):
    """The outputs page's field for the planned output of ``indicator``."""
    return f"planned-{indicator.code}"


def achieved_field(indicator):
    """The outputs page's field for the achieved output of ``indicator``."""
    return f"achieved-{indicator.code}"


def _lock(de_an):
    from projects.models import DeAn

    return DeAn.objects.select_for_update().get(pk=de_an.pk)


def _check(decision):
    if not decision:
        raise OutputRefused(decision.reason)


def _check_indicator(de_an, indicator):
    if indicator is None:
        raise OutputRefused(_("Không tìm thấy chỉ tiêu."))
    if de_an.programme_id is not None and indicator.programme_id != de_an.programme_id:
        raise OutputRefused(_("Chỉ tiêu «%(i)s» không thuộc chương trình của đề án.") % {"i": indicator.name})


def _units(value, label):
    if isinstance(value, bool) or not isinstance(value, int):
        raise OutputRefused(_("%(f)s phải là số nguyên.") % {"f": label})
    if value < 0:
        raise OutputRefused(_("%(f)s không được âm.") % {"f": label})
    if value > MAX_UNITS:
        raise OutputRefused(_("%(f)s quá lớn (tối đa %(m)s).") % {"f": label, "m": f"{MAX_UNITS:,}".replace(",", ".")})
    return value


def _money(value, label):
    if isinstance(value, bool) or not isinstance(value, int):
        raise OutputRefused(_("%(f)s phải là số đồng nguyên.") % {"f": label})
    if value < 0:
        raise OutputRefused(_("%(f)s không được âm.") % {"f": label})
    if value > MAX_DONG:
        raise OutputRefused(_("%(f)s quá lớn; kiểm tra lại đơn vị tính.") % {"f": label})
    return value


def _audit(actor, action, de_an, summary, data):
    AuditEvent.objects.create(actor=actor, action=action, object_type="projects.DeAn", object_id=str(de_an.pk),
                              summary=summary[:500], data=data)


def output_plan_set(*, actor, de_an, indicator, planned: int, note: str = "") -> DeAnIndicatorOutput:
    """Declare the output ``de_an`` plans for ``indicator`` (while the dossier is being drafted)."""
    with transaction.atomic():
        de_an = _lock(de_an)
        _check(access.can(actor, "dashboards.output_plan", de_an))
        _check_indicator(de_an, indicator)
        planned = _units(planned, _("Sản phẩm kế hoạch"))
        output, _created = DeAnIndicatorOutput.objects.select_for_update().get_or_create(de_an=de_an, indicator=indicator)
        before = output.planned
        output.planned = planned
        output.planned_at = timezone.now()
        output.planned_by = actor
        if note:
            output.note = note[:255]
        output.save()
        _audit(actor, "output_plan_set", de_an, _("Ghi sản phẩm kế hoạch «%(i)s»: %(n)d %(u)s") % {
            "i": indicator.name, "n": planned, "u": indicator.unit}, {"indicator": indicator.code, "before": before,
                                                                     "after": planned})
        return output


def output_record_achieved(*, actor, de_an, indicator, achieved: int, note: str = "") -> DeAnIndicatorOutput:
    """Record the output ``de_an`` achieved for ``indicator`` (implementation or later)."""
    with transaction.atomic():
        de_an = _lock(de_an)
        _check(access.can(actor, "dashboards.output_record", de_an))
        _check_indicator(de_an, indicator)
        achieved = _units(achieved, _("Sản phẩm đạt được"))
        output, _created = DeAnIndicatorOutput.objects.select_for_update().get_or_create(de_an=de_an, indicator=indicator)
        before = output.achieved
        output.achieved = achieved
        output.recorded_at = timezone.now()
        output.recorded_by = actor
        if note:
            output.note = note[:255]
        output.save()
        _audit(actor, "output_record_achieved", de_an, _("Ghi kết quả «%(i)s»: %(n)d %(u)s") % {
            "i": indicator.name, "n": achieved, "u": indicator.unit}, {"indicator": indicator.code, "before": before,
                                                                      "after": achieved})
        return output


def economic_result_record(*, actor, de_an, output_value: int, revenue: int, jobs_created: int,
                           counterpart_mobilised: int) -> DeAnEconomicResult:
    """Record the economic results stated at acceptance (nghiệm thu)."""
    with transaction.atomic():
        de_an = _lock(de_an)
        _check(access.can(actor, "dashboards.economic_record", de_an))
        values = {
            "output_value": _money(output_value, _("Giá trị sản xuất")),
            "revenue": _money(revenue, _("Doanh thu")),
            "jobs_created": _units(jobs_created, _("Số việc làm tạo thêm")),
            "counterpart_mobilised": _money(counterpart_mobilised, _("Vốn đối ứng huy động")),
        }
        result, _created = DeAnEconomicResult.objects.update_or_create(
            de_an=de_an, defaults={**values, "recorded_at": timezone.now(), "recorded_by": actor})
        _audit(actor, "economic_result_record", de_an, _("Ghi hiệu quả kinh tế của đề án %(c)s") % {"c": de_an.code},
               values)
        return result


def outputs_save(*, actor, de_an, planned=None, achieved=None, economic=None) -> int:
    """Save what the outputs page sent for ``de_an``, all or nothing; returns the number of changes.

    ``planned`` / ``achieved`` map indicators to a count (an indicator left out stays as it is);
    ``economic`` holds the four ``ECONOMIC_FIELDS`` (None: not sent). Only what differs from the stored
    figures is written, each through its service above (access, the đề án's state, limits, audit).
    Every value is checked before anything is written, so one refusal names every wrong field at once
    (``OutputRefused.errors``); a refusal while writing rolls back what was written before it."""
    planned, achieved = dict(planned or {}), dict(achieved or {})
    with transaction.atomic():
        de_an = _lock(de_an)
        existing = {o.indicator_id: o for o in DeAnIndicatorOutput.objects.filter(de_an=de_an)}
        writes, errors = [], {}

        def refuse(field, message):
            errors.setdefault(field, []).append(str(message))

        def check(field, validate, *args):
            try:
                validate(*args)
            except OutputRefused as err:
                refuse(field, err)

        for kind, values, action in (("planned", planned, "dashboards.output_plan"),
                                     ("achieved", achieved, "dashboards.output_record")):
            changed = []
            for indicator, value in values.items():
                old = existing.get(indicator.pk)
                stored = getattr(old, kind) if old is not None else (0 if kind == "planned" else None)
                if value is not None and value != stored:
                    changed.append((indicator, value))
            if not changed:
                continue
            decision = access.can(actor, action, de_an)
            if not decision:
                refuse(None, decision.reason)
                continue
            for indicator, value in changed:
                field = planned_field(indicator) if kind == "planned" else achieved_field(indicator)
                check(field, _check_indicator, de_an, indicator)
                check(field, _units, value, _("Sản phẩm kế hoạch") if kind == "planned" else _("Sản phẩm đạt được"))
                if kind == "planned":
                    writes.append((field, output_plan_set, {"indicator": indicator, "planned": value}))
                else:
                    writes.append((field, output_record_achieved, {"indicator": indicator, "achieved": value}))
        if economic is not None:
            values = {name: economic.get(name) or 0 for name in ECONOMIC_FIELDS}
            stored = DeAnEconomicResult.objects.filter(de_an=de_an).first()
            if stored is None or any(getattr(stored, name) != value for name, value in values.items()):
                decision = access.can(actor, "dashboards.economic_record", de_an)
                if not decision:
                    refuse(None, decision.reason)
                else:
                    check("output_value", _money, values["output_value"], _("Giá trị sản xuất"))
                    check("revenue", _money, values["revenue"], _("Doanh thu"))
                    check("jobs_created", _units, values["jobs_created"], _("Số việc làm tạo thêm"))
                    check("counterpart_mobilised", _money, values["counterpart_mobilised"], _("Vốn đối ứng huy động"))
                    writes.append((None, economic_result_record, values))
        if errors:
            raise OutputRefused(errors=errors)
        for field, write, kwargs in writes:
            try:
                write(actor=actor, de_an=de_an, **kwargs)
            except OutputRefused as err:
                raise OutputRefused(errors={field: [str(err)]}) from err
        return len(writes)


# --- review-queue totals (derived from the transition rows) -------------------------------------

def _epoch_sql(column):
    if connection.vendor == "postgresql":
        return f"date_part('epoch', {column})"
    return f"((julianday({column}) - 2440587.5) * 86400.0)"


# Workflow steps that leave a đề án in its state and its wait (``projects.workflow``: the Sở confirming a
# centre's KCQG adjustment request before the Cục decides it).
STAYING_ACTIONS = ("confirm_adjustment",)


def _queue_totals_insert_sql(where):
    """``INSERT … SELECT`` of the ``QueueTotals`` rows of the đề án whose transitions match ``where``
    (one GROUP BY over their transitions), and its parameters (the step names)."""
    from projects.models import Transition

    qn = connection.ops.quote_name
    at = _epoch_sql("t.at")
    # The Sở confirming an adjustment request (``STAYING_ACTIONS``) keeps the đề án where it is: neither
    # leaving the state nor restarting its wait — left out of ``last_at`` and ``left_S``; its ``at`` cancels
    # out of ``net_S``. (A re-import's approved → approved does count: the plan was decided again.)
    staying = ", ".join(["%s"] * len(STAYING_ACTIONS))
    columns, values = ["de_an_id", "last_at"], ["t.de_an_id", f"MAX(CASE WHEN t.action NOT IN ({staying}) THEN {at} END)"]
    params = list(STAYING_ACTIONS)
    for state in QUEUE_STATES:
        columns += [f"left_{state}", f"net_{state}"]
        values += [f"SUM(CASE WHEN t.from_status = %s AND t.action NOT IN ({staying}) THEN 1 ELSE 0 END)",
                   f"SUM((CASE WHEN t.from_status = %s THEN {at} ELSE 0 END) - (CASE WHEN t.to_status = %s THEN {at} ELSE 0 END))"]
        params += [state, *STAYING_ACTIONS, state, state]
    sql = (f"INSERT INTO {qn(QueueTotals._meta.db_table)} ({', '.join(qn(c) for c in columns)}) "
           f"SELECT {', '.join(values)} FROM {qn(Transition._meta.db_table)} t WHERE {where} GROUP BY t.de_an_id")
    return sql, params


def queue_totals_refresh(de_an_ids):
    """Rewrite the ``QueueTotals`` rows of ``de_an_ids`` from their transition rows (delete, then one
    ``INSERT … SELECT … GROUP BY``): call it after writing or deleting transitions, inside the same
    transaction, so the dashboards' review-queue figures stay equal to the transition history. Two
    queries on PostgreSQL whatever the number of đề án (the ids go as one array); a đề án without
    transitions (or deleted) is left without a row."""
    ids = sorted({int(pk) for pk in de_an_ids})
    if not ids:
        return 0
    table = connection.ops.quote_name(QueueTotals._meta.db_table)
    written = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            chunks = [ids]
        else:  # SQLite: no arrays; IN lists within its variable limit
            chunks = [ids[i:i + 500] for i in range(0, len(ids), 500)]
        for chunk in chunks:
            if connection.vendor == "postgresql":
                match, match_params = "= ANY(%s)", [chunk]
            else:
                match, match_params = f"IN ({', '.join(['%s'] * len(chunk))})", list(chunk)
            cursor.execute(f"DELETE FROM {table} WHERE de_an_id {match}", match_params)
            sql, params = _queue_totals_insert_sql(f"t.de_an_id {match}")
            cursor.execute(sql, params + match_params)
            written += cursor.rowcount
    return written


def queue_totals_rebuild():
    """Recompute every ``QueueTotals`` row from the transition table (the data migration's backfill;
    also a repair tool). Returns the number of rows written."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(QueueTotals._meta.db_table)}")
        sql, params = _queue_totals_insert_sql("1 = 1")
        cursor.execute(sql, params)
        return cursor.rowcount
