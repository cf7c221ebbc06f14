"""Run every benchmark under bench/ and print its figures.

Each ``bench/bench_*.py`` runs as its own subprocess (a fresh interpreter and, if it wants one, its
own database) from the project root. A benchmark prints its figures on lines of their own as
``name: value unit``; the runner repeats those lines, in file order, and passes everything else
through to stderr. A benchmark that exits non-zero, times out, or prints no figure makes the runner
exit 1 after the others have run, naming it.

    python bench/run.py                 # all benchmarks
    python bench/run.py bench_import    # only files whose name contains "bench_import"
    BENCH_TIMEOUT=1800 python bench/run.py
"""
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(os.environ.get("BENCH_DIR", ROOT / "bench"))
# `name: value unit`; the unit may be absent for a plain ratio or count.
FIGURE = re.compile(r"^\s*(?P<name>[A-Za-z0-9_.\-/]+):\s+(?P<value>-?[0-9][0-9.,]*(?:e[+-]?\d+)?)(?:\s+(?P<unit>\S.*?))?\s*$")
TIMEOUT = int(os.environ.get("BENCH_TIMEOUT", "1200"))


def discover(filters):
    files = sorted(BENCH_DIR.glob("bench_*.py"))
    if filters:
        files = [f for f in files if any(x in f.name for x in filters)]
    return files


def run_one(path):
    """Run one benchmark; return (figures, error or None)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.setdefault("DJANGO_SETTINGS_MODULE", "khuyencong.settings")
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, str(path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired as exc:
        sys.stderr.write((exc.stderr or b"").decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or ""))
        return [], f"quá thời gian {TIMEOUT} s (timeout)"
    elapsed = time.monotonic() - started
    figures = []
    for line in proc.stdout.splitlines():
        if FIGURE.match(line):
            figures.append(line.strip())
        elif line.strip():
            print(f"  [{path.stem}] {line}", file=sys.stderr)
    if proc.stderr.strip():
        sys.stderr.write("".join(f"  [{path.stem}] {line}\n" for line in proc.stderr.splitlines()[-40:]))
    print(f"# {path.name}: {elapsed:.1f} s, exit {proc.returncode}", file=sys.stderr)
    if proc.returncode != 0:
        return figures, f"thoát với mã {proc.returncode} (exit {proc.returncode})"
    if not figures:
        return figures, "không in ra chỉ số nào dạng `name: value unit` (no figure printed)"
    return figures, None


def main(argv):
    files = discover(argv)
    if not files:
        print(f"Không có benchmark nào (bench/bench_*.py{' khớp ' + ' '.join(argv) if argv else ''}).", file=sys.stderr)
        return 1
    failures = []
    for path in files:
        print(f"# chạy {path.name} …", file=sys.stderr, flush=True)
        figures, error = run_one(path)
        for figure in figures:
            print(figure, flush=True)
        if error:
            failures.append(f"{path.name}: {error}")
    if failures:
        print("\nBENCHMARK THẤT BẠI (failed):", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
