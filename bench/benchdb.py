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
