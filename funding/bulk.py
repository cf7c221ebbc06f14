"""Bulk writes without per-row queries: PostgreSQL COPY where available, bulk_create elsewhere, and an
UPDATE … FROM (VALUES …) that works on both PostgreSQL and SQLite."""
from django.db import connection

from khuyencong.copy import copy_lines as _copy
from khuyencong.copy import copy_text

CHUNK = 2000
# New primary keys from the table's sequence, one query: the sequence is looked up once (written as
# ``nextval(pg_get_serial_sequence(…))`` the lookup ran for every row: 7× slower).
RESERVE_IDS = ("SELECT nextval(q.seq) FROM (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq OFFSET 0) q "
               "CROSS JOIN generate_series(1, %s)")


def reserve_ids(model, count):
    """``count`` new primary keys of ``model`` from its sequence, in one query (PostgreSQL)."""
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(RESERVE_IDS, [meta.db_table, meta.pk.column, count])
        return [pk for (pk,) in cursor.fetchall()]


def copy_lines(model, fields, lines):
    """PostgreSQL only: COPY ``lines`` — rows already in COPY text format (tab-separated, escaped with
    ``copy_text``), without their newline; a list or a generator, streamed — into ``model``'s ``fields``.
    Returns the number of rows."""
    quote = connection.ops.quote_name
    columns = [quote(model._meta.get_field(f).column) for f in fields]
    with connection.cursor() as cursor, connection.wrap_database_errors:  # driver errors → django.db ones
        return _copy(cursor, quote(model._meta.db_table), columns, lines)


def insert_rows(model, fields, rows, *, returning_ids=False):
    """Insert ``rows`` (tuples in ``fields`` order, database column values) into ``model``'s table.
    Returns the number of rows, or with ``returning_ids`` the new primary keys in row order
    (PostgreSQL: reserved from the table's sequence in one query, then COPY with the keys)."""
    rows = list(rows)
    if not rows:
        return [] if returning_ids else 0
    if returning_ids and connection.vendor == "postgresql":
        meta = model._meta
        ids = reserve_ids(model, len(rows))
        insert_rows(model, [meta.pk.name, *fields], [(pk, *row) for pk, row in zip(ids, rows, strict=True)])
        return ids
    if connection.vendor == "postgresql":
        convert = copy_text

        def lines():
            for row in rows:
                yield "\t".join([
                    str(v) if type(v) is int
                    else ("\\N" if v is None
                          else (v if type(v) is str and v.isprintable() and "\\" not in v else convert(v)))
                    for v in row
                ])

        copy_lines(model, fields, lines())
        return len(rows)
    attnames = [model._meta.get_field(f).attname for f in fields]
    objects = [model(**dict(zip(attnames, row, strict=True))) for row in rows]
    model.objects.bulk_create(objects, batch_size=CHUNK)
    return [o.pk for o in objects] if returning_ids else len(rows)


def update_rows(model, fields, rows, *, extra=None):
    """``UPDATE table SET f = v.… FROM (VALUES (id, …), …) v WHERE table.id = v.column1``, in chunks.

    ``rows`` are tuples (pk, value for each of ``fields``); ``extra`` sets further columns to one value.
    """
    rows = list(rows)
    if not rows:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    sets = [
        f"{connection.ops.quote_name(model._meta.get_field(f).column)} = v.column{i + 2}" for i, f in enumerate(fields)
    ]
    extra_params = []
    for name, value in (extra or {}).items():
        sets.append(f"{connection.ops.quote_name(model._meta.get_field(name).column)} = %s")
        extra_params.append(value)
    width = len(fields) + 1
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start:start + CHUNK]
            values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(chunk))
            params = [v for row in chunk for v in row]
            cursor.execute(
                f"UPDATE {table} SET {', '.join(sets)} FROM (VALUES {values}) AS v WHERE {table}.{pk} = v.column1",
                extra_params + params,
            )
    return len(rows)
