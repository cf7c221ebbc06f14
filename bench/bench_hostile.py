"""How long the import takes to read, and refuse or accept, hostile workbooks (run:
.venv/bin/python bench/bench_hostile.py).

tests/funding/test_hostile_input.py asserts what bounds the work on each of these files — rows without
a value are not handed on, no row is wider than the reader's last column, a too-big row is refused
after at most MAX_ROW_BYTES —; this benchmark reports the time, which a test must not assert (it
would fail on a busy machine and pass a regression on a fast one). Each figure is the CPU time of
this process (the reader runs in-process), the best of three, for one upload:

    hostile_empty_styled_rows_s: X s   1.048.576 rows of empty styled cells after a 2-row table
    hostile_last_column_rows_s: X s    300.000 rows with empty styled cells in A and XFD
    hostile_far_right_rows_s: X s      210.000 rows with values in AMJ and XFC (refused: too many rows)
    hostile_giant_row_s: X s           one 64 MB cell (refused: row too big)

Database: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/kc_bench), created and
migrated when missing, reference data loaded; the previews save nothing.
"""
import io
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.benchdb import setup_reference_database  # noqa: E402  (the repository root is on sys.path)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kc_bench"
GOOD = [("Thành phố Hà Nội", "01", 100, 50), ("Tỉnh Cao Bằng", "04", 30, 20)]


def setup_django():
    setup_reference_database(DEFAULT_URL)


def workbooks():
    from tests.funding.handmade import alloc_rows, hand_built

    rows, r = alloc_rows(GOOD, total=None)
    empty = "".join(f'<row r="{n}" spans="1:6" s="1" customFormat="1" ht="15"/>' for n in range(r, 1_048_577))
    yield "hostile_empty_styled_rows_s", hand_built(rows + empty, sheet_head='<dimension ref="A1:XFD1048576"/>'), True
    last = "".join(f'<row r="{n}"><c r="A{n}" s="1"/><c r="XFD{n}" s="1"/></row>' for n in range(r, 300_000))
    yield "hostile_last_column_rows_s", hand_built(rows + last), True
    far = "".join(f'<row r="{n}"><c r="AMJ{n}"><v>1</v></c><c r="XFC{n}"><v>1</v></c></row>' for n in range(r, 210_000))
    yield "hostile_far_right_rows_s", hand_built(rows + far), False
    cell = '<c r="A1" t="inlineStr"><is><t>' + "x" * (64 * 1024 * 1024) + "</t></is></c>"
    yield "hostile_giant_row_s", hand_built(f'<row r="1">{cell}</row>'), False


def preview_once(data, expect_ok):
    from funding.importers import ImportRejected
    from funding.services import import_preview

    start = time.process_time()
    try:
        preview = import_preview(fileobj=io.BytesIO(data), name="bang.xlsx", actor=None, save=False)
        outcome = "accepted" if preview.ok else "problems: " + "; ".join(p.message for p in preview.problems[:3])
    except ImportRejected:
        outcome = "refused"
    elapsed = time.process_time() - start
    if (outcome == "accepted") != expect_ok:
        raise SystemExit(f"unexpected outcome: {outcome}")
    return elapsed, outcome


def main():
    setup_django()
    from django.conf import settings

    settings.IMPORT_MAX_COMPRESSION_RATIO = 10_000  # the giant row must reach the reader, not the zip check
    for name, data, expect_ok in workbooks():
        runs = [preview_once(data, expect_ok) for _ in range(3)]
        best = min(t for t, _ in runs)
        print(f"# {name}: {len(data) / 1e6:.1f} MB file, {runs[0][1]}, runs "
              + ", ".join(f"{t:.2f}" for t, _ in runs), file=sys.stderr)
        print(f"{name}: {best:.2f} s", flush=True)


if __name__ == "__main__":
    main()
