"""PostgreSQL COPY for the bulk paths (the Excel import, the set-based đề án recording): values in
COPY text format, and a COPY fed from a generator of lines.

Streaming the lines instead of building the whole text first lets the two cores work at once: the
server parses, checks and indexes one chunk while Python builds the next. The bench of a 10.000-row
plan annex writes ≈ 140.000 rows this way (bench/bench_import.py, docs/funding.md).
"""
import json

from django.core.serializers.json import DjangoJSONEncoder

CHUNK_CHARS = 1 << 16  # what the driver asks for per read: one socket write's worth, not the whole table


def copy_text(value):
    """One value in PostgreSQL COPY text format (``\\N`` for None, escaped tabs, newlines, backslashes)."""
    if value is None:
        return "\\N"
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is bool:
        return "t" if value else "f"
    if kind is dict or kind is list:
        if not value:
            return "{}" if kind is dict else "[]"
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder)
    elif hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


class LineStream:
    """A read-only text file over an iterable of COPY lines (without their newline), for
    ``cursor.copy_expert``: each ``read`` takes lines from the iterable until about ``size`` characters,
    so the lines are built while the server already works on the earlier ones. An exception raised
    while building a line cancels the COPY; ``copy_lines`` then raises that exception itself (the
    transaction must be rolled back by whoever opened it, as after any failed statement)."""

    def __init__(self, lines):
        self._lines = iter(lines)
        self._done = False
        self.lines = 0
        self.error = None

    def read(self, size=-1):
        if self._done:
            return ""
        if size is None or size < 0:  # everything left, as a file's read()
            size = float("inf")
        parts = []
        length = 0
        try:
            for line in self._lines:
                parts.append(line)
                length += len(line) + 1
                if length >= size:
                    break
            else:
                self._done = True
        except Exception as exc:  # the driver reports it as a cancelled COPY: kept to be raised as it is
            self.error = exc
            raise
        self.lines += len(parts)
        if not parts:
            return ""
        parts.append("")
        return "\n".join(parts)


def copy_lines(cursor, table, columns, lines):
    """``COPY table (columns) FROM STDIN`` fed from ``lines`` as they are built; ``table`` and
    ``columns`` are already quoted. Returns the number of lines sent."""
    stream = LineStream(lines)
    try:
        cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", stream, CHUNK_CHARS)
    except Exception:
        if stream.error is not None:  # a line could not be built: that error, not the driver's "COPY cancelled"
            raise stream.error from None
        raise
    return stream.lines
