"""Benchmark of the đề án pages at 50k đề án on PostgreSQL (run: .venv/bin/python bench/bench_de_an.py).

Seeds 50.000 đề án (``projects.scale.seed_scale``; tops up, so a second run reuses them), runs
VACUUM ANALYZE, then times in-process requests through the whole Django stack (middleware, view,
template) with the test client, signed in as a ministry reviewer (sees every province):

    de_an_list_p50_ms / de_an_list_p95_ms        GET /de-an/ (first page)
    de_an_list_deep_p95_ms                       GET /de-an/?page=<last-ish page>
    de_an_search_p50_ms / de_an_search_p95_ms    GET /de-an/?q=hoa+binh
    de_an_detail_p50_ms / de_an_detail_p95_ms    GET /de-an/<pk>/ of a settled đề án with its timeline
    de_an_list_queries                           queries of the list page
    de_an_selector_*_p95_ms                      the same reads through projects.selectors only (no template)
    de_an_admin_search_p95_ms                    the Django admin changelist of DeAn searching the same words
    de_an_admin_search_hits / de_an_search_hits  how many rows each search finds ("Hoà" spellings
                                                 are missed by the admin's icontains)

Database: BENCH_DE_AN_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/kc_bench_de_an
(created and migrated when missing). BENCH_DE_AN=N changes the volume, BENCH_REPEAT the samples.
"""
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kc_bench_de_an"
VOLUME = int(os.environ.get("BENCH_DE_AN", "50000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "40"))


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def _create_database(url):
    import psycopg2

    name = url.rsplit("/", 1)[1]
    base = url.rsplit("/", 1)[0] + "/postgres"
    conn = psycopg2.connect(base.replace("postgres://", "postgresql://"))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def setup():
    url = os.environ.get("BENCH_DE_AN_DATABASE_URL", DEFAULT_URL)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "khuyencong.settings")
    os.environ.setdefault("DEBUG", "true")
    _create_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("load_reference", verbosity=0)


def percentiles(samples):
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95


def timed(client, url, repeat=REPEAT):
    response = client.get(url)  # warm-up (and correctness check)
    assert response.status_code == 200, (url, response.status_code)
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return percentiles(samples), response


def main():
    setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from khuyencong.choices import Role
    from khuyencong.models import Organisation, User
    from projects.models import DeAn, Status
    from projects.scale import seed_scale

    started = time.perf_counter()
    made = seed_scale(VOLUME)
    log(f"seed_scale: {made} new đề án in {time.perf_counter() - started:.1f} s; total {DeAn.objects.count()}")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")

    agency = Organisation.objects.get(code="cuc-khuyen-cong")
    reviewer, _ = User.objects.get_or_create(username="bench.reviewer",
                                             defaults={"role": Role.REVIEWER, "organisation": agency})
    admin_user, _ = User.objects.get_or_create(username="bench.admin", defaults={
        "role": Role.ADMIN, "organisation": agency, "is_staff": True, "is_superuser": True})
    client = Client()
    client.force_login(reviewer)
    admin_client = Client()
    admin_client.force_login(admin_user)

    list_url = reverse("projects:list")
    (p50, p95), _ = timed(client, list_url)
    print(f"de_an_list_p50_ms: {p50:.1f} ms")
    print(f"de_an_list_p95_ms: {p95:.1f} ms")
    with CaptureQueriesContext(connection) as ctx:
        client.get(list_url)
    print(f"de_an_list_queries: {len(ctx.captured_queries)} queries")
    deep = max(1, DeAn.objects.count() // 25 - 5)
    (p50, p95), _ = timed(client, f"{list_url}?page={deep}")
    print(f"de_an_list_deep_p95_ms: {p95:.1f} ms")
    with CaptureQueriesContext(connection) as ctx:
        client.get(f"{list_url}?page={deep}")
    log(f"deep page {deep}: {len(ctx.captured_queries)} queries, p50 {p50:.1f} ms")

    (p50, p95), response = timed(client, f"{list_url}?q=hoa+binh")
    print(f"de_an_search_p50_ms: {p50:.1f} ms")
    print(f"de_an_search_p95_ms: {p95:.1f} ms")
    from projects.selectors import de_an_list

    hits = de_an_list(user=reviewer, filters={"q": "hoa binh"}).count()
    print(f"de_an_search_hits: {hits} rows")

    # The data layer alone (selectors + IdFirstPaginator, rows and their joins touched, no template).
    from projects.selectors import de_an_page

    def selector_samples(filters, page):
        samples = []
        for _ in range(REPEAT):
            started = time.perf_counter()
            result = de_an_page(user=reviewer, filters=filters, page=page)
            [(d.code, d.province.name, d.current_province.name, d.implementing_unit and d.implementing_unit.name,
              [c.code for c in d.contents.all()]) for d in result.object_list]
            samples.append((time.perf_counter() - started) * 1000)
        return percentiles(samples)

    print(f"de_an_selector_list_p95_ms: {selector_samples({}, 1)[1]:.1f} ms")
    print(f"de_an_selector_deep_p95_ms: {selector_samples({}, deep)[1]:.1f} ms")
    print(f"de_an_selector_search_p95_ms: {selector_samples({'q': 'hoa binh'}, 1)[1]:.1f} ms")

    pk = DeAn.objects.filter(status=Status.SETTLED).order_by("pk").values_list("pk", flat=True)[50]
    (p50, p95), _ = timed(client, reverse("projects:detail", args=[pk]))
    print(f"de_an_detail_p50_ms: {p50:.1f} ms")
    print(f"de_an_detail_p95_ms: {p95:.1f} ms")
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("projects:detail", args=[pk]))
    log(f"detail: {len(ctx.captured_queries)} queries")

    admin_url = reverse("admin:projects_dean_changelist")
    (p50, p95), response = timed(admin_client, f"{admin_url}?q=hoa+binh", repeat=max(10, REPEAT // 2))
    print(f"de_an_admin_search_p95_ms: {p95:.1f} ms")
    from django.db.models import Q

    admin_filter = Q()
    for word in ("hoa", "binh"):  # what the admin's default search does: every word icontains a field
        admin_filter &= Q(name__icontains=word) | Q(code__icontains=word)
    print(f"de_an_admin_search_hits: {DeAn.objects.filter(admin_filter).count()} rows")
    (p50, p95), _ = timed(admin_client, admin_url, repeat=max(10, REPEAT // 2))
    log(f"admin changelist without search: p50 {p50:.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
