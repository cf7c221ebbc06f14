"""Shared by the benchmarks (not a benchmark itself: bench/run.py runs only bench_*.py)."""
from urllib.parse import urlparse


def ensure_database(url):
    """CREATE DATABASE for a postgres:// URL if it does not exist yet; other URLs are left alone."""
    parts = urlparse(url)
    if not parts.scheme.startswith("postgres"):
        return
    import psycopg2

    name = parts.path.lstrip("/")
    conn = psycopg2.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
                            user=parts.username or "postgres", password=parts.password or None, dbname="postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()


def setup_reference_database(default_url):
    """Django on BENCH_DATABASE_URL (else ``default_url``), created, migrated and with the reference data
    loaded; returns the URL."""
    import os

    url = os.environ.get("BENCH_DATABASE_URL", default_url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "khuyencong.settings")
    ensure_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_reference", verbosity=0)
    return url
