"""«Nhập tài khoản từ Excel» at its largest file (run: .venv/bin/python bench/bench_accounts.py).

An administrator's upload is read and checked (the preview), then confirmed: every account created in
one transaction with its audit event — in the request, with the portal's real password hasher (PBKDF2,
as in production; the tests use MD5). The request must end well inside gunicorn's timeout
(GUNICORN_TIMEOUT, 60 s). The invitations are not part of it: they go to the worker after the commit.

    accounts_import_rows: N rows                the file (account_import.MAX_ROWS)
    accounts_preview_s: X s                     read_accounts: reading + checking every row
    accounts_create_s: X s                      services.users_import, committed
    accounts_password_hash_s: X s               one hash of the portal's hasher, for scale

Database: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/kc_bench), created and
migrated when missing; the accounts it makes are deleted afterwards.
"""
import io
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.benchdb import setup_reference_database  # noqa: E402  (the repository root is on sys.path)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kc_bench"
PREFIX = "bench.tk."


def setup_django():
    setup_reference_database(DEFAULT_URL)


def workbook(n):
    from openpyxl import Workbook

    from khuyencong.account_import import COLUMNS

    wb = Workbook()
    ws = wb.active
    ws.append([str(label) for _key, label, _required in COLUMNS])
    for i in range(n):
        kind, org = (("Cán bộ Trung tâm khuyến công", "ttkc-24") if i % 2 else ("Cán bộ Sở Công Thương", "so-ct-19"))
        ws.append([f"{PREFIX}{i:04d}", "Nguyễn Văn", f"Cán bộ {i}", f"canbo{i}@congthuong.gov.vn", kind, org,
                   "Chuyên viên", f"0222 38{i:05d}"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def main():
    setup_django()
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from khuyencong import account_import, services
    from khuyencong.models import AuditEvent, Organisation, User

    admin, _created = User.objects.get_or_create(username="bench.quantri", defaults={
        "role": "admin", "organisation": Organisation.objects.get(code="cuc-khuyen-cong"), "is_staff": True})
    n = account_import.MAX_ROWS
    data = workbook(n)

    def clean():
        ids = [str(pk) for pk in User.objects.filter(username__startswith=PREFIX).values_list("pk", flat=True)]
        AuditEvent.objects.filter(object_type="user", object_id__in=ids).delete()
        User.objects.filter(username__startswith=PREFIX).delete()

    clean()
    started = time.perf_counter()
    rows = account_import.read_accounts(io.BytesIO(data), size=len(data))
    preview = time.perf_counter() - started
    assert not any(r.errors for r in rows), [r.errors for r in rows if r.errors][:3]
    started = time.perf_counter()
    with transaction.atomic():
        created = services.users_import(actor=admin, rows=rows, source_name="bench.xlsx")
    create = time.perf_counter() - started
    assert len(created) == n
    started = time.perf_counter()
    make_password("mot-mat-khau-de-do")
    one_hash = time.perf_counter() - started
    clean()
    print(f"accounts_import_rows: {n} rows")
    print(f"accounts_preview_s: {preview:.2f} s")
    print(f"accounts_create_s: {create:.2f} s")
    print(f"accounts_password_hash_s: {one_hash:.3f} s")


if __name__ == "__main__":
    main()
