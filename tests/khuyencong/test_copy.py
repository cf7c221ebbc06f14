"""khuyencong.copy: COPY text values, the streamed line source, and a COPY fed from a generator on
PostgreSQL — many chunks arrive whole, and a line that cannot be built stops the COPY and writes nothing."""
from datetime import date

import pytest
from django.db import DatabaseError, connection, transaction

from khuyencong import copy
from tests.conftest import require_service


def test_copy_text_escapes_what_copy_would_misread():
    assert copy.copy_text(None) == "\\N"
    assert copy.copy_text(True) == "t" and copy.copy_text(False) == "f"
    assert copy.copy_text(12) == "12"
    assert copy.copy_text(date(2026, 11, 30)) == "2026-11-30"
    assert copy.copy_text("a\tb\nc\\d\re") == "a\\tb\\nc\\\\d\\re"
    assert copy.copy_text({}) == "{}" and copy.copy_text([]) == "[]"
    assert copy.copy_text({"tên": "Bắc\tNinh"}) == '{"tên":"Bắc\\\\tNinh"}'


def test_line_stream_reads_in_chunks_and_ends():
    lines = [f"{i}\tdòng {i}" for i in range(1000)]
    stream = copy.LineStream(iter(lines))
    chunks = []
    while chunk := stream.read(100):
        assert len(chunk) < 100 + 20  # at most one line past the size asked for
        chunks.append(chunk)
    assert "".join(chunks) == "".join(line + "\n" for line in lines)
    assert stream.lines == 1000
    assert stream.read(100) == ""


def test_line_stream_read_without_size_takes_everything():
    stream = copy.LineStream(["a", "b", "c"])
    assert stream.read() == "a\nb\nc\n"
    assert stream.read() == ""
    assert copy.LineStream([]).read(10) == ""


@pytest.fixture
def scratch_table(db):
    require_service("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL=postgres://…")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE kc_copy_scratch (id integer PRIMARY KEY, label text NOT NULL)")
    yield "kc_copy_scratch"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS kc_copy_scratch")


def _count(table):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), coalesce(sum(id), 0) FROM {table}")
        return cursor.fetchone()


def test_copy_from_a_generator_sends_every_line_across_many_chunks(scratch_table):
    rows = 30_000  # ≈ 600 kB: about ten reads of the driver
    built = []

    def lines():
        for i in range(1, rows + 1):
            built.append(i)
            label = copy.copy_text("Cơ sở\tsố " + str(i))
            yield f"{i}\t{label}"

    with connection.cursor() as cursor:
        sent = copy.copy_lines(cursor, scratch_table, ["id", "label"], lines())
    assert sent == rows == len(built)
    assert _count(scratch_table) == (rows, rows * (rows + 1) // 2)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT label FROM {scratch_table} WHERE id = 12345")
        assert cursor.fetchone()[0] == "Cơ sở\tsố 12345"


def test_a_line_that_fails_to_build_stops_the_copy_and_writes_nothing(scratch_table):
    def lines():
        for i in range(1, 20_001):
            if i == 15_000:  # well past the first chunks the server has already taken
                raise ValueError("dòng hỏng")
            yield f"{i}\tx"

    with pytest.raises(ValueError, match="dòng hỏng"):  # the error itself, not the driver's "COPY cancelled"
        with transaction.atomic(), connection.cursor() as cursor:
            copy.copy_lines(cursor, scratch_table, ["id", "label"], lines())
    assert _count(scratch_table) == (0, 0)


def test_a_row_the_database_refuses_mid_stream_writes_nothing(scratch_table):
    """A duplicate key in the middle of the stream: the driver's error, and none of the rows before it."""
    def lines():
        for i in range(1, 20_001):
            yield f"{7 if i == 12_000 else i}\tx"

    with pytest.raises(DatabaseError):
        with transaction.atomic(), connection.cursor() as cursor, connection.wrap_database_errors:
            copy.copy_lines(cursor, scratch_table, ["id", "label"], lines())
    assert _count(scratch_table) == (0, 0)
