"""Benchmark of the đề án pages at 50k đề án on PostgreSQL (run: .venv/bin/python bench/bench_de_an.py).

Seeds 50.000 đề án with ``manage.py seed_scale`` (``projects.scale.seed_scale``; it tops up, so a
second run reuses them), runs VACUUM ANALYZE, then times in-process requests through the whole
Django stack (middleware, view, template) with the test client, signed in as a ministry reviewer
(who sees every province, i.e. the biggest lists):

    de_an_list_p50_ms / de_an_list_p95_ms   GET /de-an/?page=N over pages 1, 2, 10, 100, 500 and the last
    de_an_search_p95_ms                     GET /de-an/?q=hoa+binh (diacritic-insensitive: also "Hoà Bình")
    de_an_detail_p95_ms                     GET /de-an/<pk>/ over 50 đề án of every status, with timeline
    de_an_queue_p95_ms                      GET /de-an/cho-xu-ly/ (the reviewer's queue, longest wait first):
                                            pages 1 and 2 and a search
    de_an_list_queries                      queries of the list page (the most of page 1 and the last page)
    establishment_list_p95_ms               GET /de-an/co-so/ («Cơ sở thụ hưởng», each with its đề án counts):
                                            pages 1, 2 and the last by name, and a search
    establishment_list_by_support_p95_ms    the same sorted by support or by latest year (every
                                            establishment's đề án counted to sort them)
    establishment_detail_p95_ms             GET /de-an/co-so/<id>/ over the 20 establishments in most đề án
    de_an_admin_search_p95_ms               a Django admin changelist of DeAn with default settings
                                            (a plain ModelAdmin, search_fields = ["name"], on an admin site
                                            of its own) searching the same words, on the same data

Each figure is printed as ``name: value unit``; details go to stderr.

Database: BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/kc_bench_projects (created
and migrated when missing). BENCH_DE_AN=N changes the volume, BENCH_REPEAT the samples (default 50).
"""
import os
import statistics
import sys
import time
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.benchdb import ensure_database  # noqa: E402  (the repository root is on sys.path)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kc_bench_projects"
VOLUME = int(os.environ.get("BENCH_DE_AN", "50000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "50"))
SEARCH = "hoa binh"


def log(*args):
    print(*args, file=sys.stderr, flush=True)




def setup():
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("BENCH_DE_AN_DATABASE_URL") or DEFAULT_URL
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "khuyencong.settings")
    os.environ["DEBUG"] = "true"  # development settings (no HTTPS redirect); query logging is switched off below
    os.environ.pop("REDIS_CACHE_URL", None)
    ensure_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("load_reference", verbosity=0)
    log(f"database: {url}")


def percentile(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(client, urls, repeat=REPEAT):
    """GET each url in turn (cycling) ``repeat`` times after one warm-up pass; times in ms."""
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    samples, cpu = [], []
    for i in range(repeat):
        url = urls[i % len(urls)]
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    # Python CPU time of the request (the database's time is not in it): shows how much of the wall
    # time is waiting for a busy machine.
    log(f"  {urls[0]}{' …' if len(urls) > 1 else ''}: Python CPU p50 {statistics.median(cpu):.1f} ms")
    return samples, response


def bench_urlconf(model):
    """The project's URLs plus /bench-admin/: an admin site with a plain ModelAdmin (default settings)."""
    from django.contrib import admin
    from django.urls import include, path

    site = admin.AdminSite(name="bench_admin")
    site.register(model, type("PlainDeAnAdmin", (admin.ModelAdmin,), {"search_fields": ["name"]}))
    module = types.ModuleType("bench_de_an_urls")
    module.urlpatterns = [path("bench-admin/", site.urls), path("", include("khuyencong.urls"))]
    sys.modules[module.__name__] = module
    return module.__name__


def main():
    setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.urls import reverse

    from khuyencong.choices import Role
    from khuyencong.models import Organisation, User
    from projects.models import DeAn, Status
    from projects.selectors import de_an_list, queue_for

    started = time.perf_counter()
    have = DeAn.objects.count()
    if have < VOLUME:
        call_command("seed_scale", "--de-an", str(VOLUME), verbosity=1, stdout=sys.stderr)
        log(f"seed_scale: {DeAn.objects.count() - have} new đề án in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    total = DeAn.objects.count()
    log(f"đề án: {total}")

    agency = Organisation.objects.get(code="cuc-khuyen-cong")
    reviewer, _c = User.objects.get_or_create(username="bench.reviewer",
                                              defaults={"role": Role.REVIEWER, "organisation": agency})
    superuser, _c = User.objects.get_or_create(username="bench.superuser", defaults={
        "role": Role.ADMIN, "organisation": agency, "is_staff": True, "is_superuser": True})
    client = Client()
    client.force_login(reviewer)
    admin_client = Client()
    admin_client.force_login(superuser)
    settings.DEBUG = False  # no query logging while timing

    with override_settings(ROOT_URLCONF=bench_urlconf(DeAn)):
        list_url = reverse("projects:list")
        size = 50
        last = max(1, -(-total // size))
        pages = sorted({1, 2, 10, 100, 500, last} & set(range(1, last + 1)))
        samples, _r = run(client, [f"{list_url}?page={p}" for p in pages])
        print(f"de_an_list_p50_ms: {statistics.median(samples):.1f} ms")
        print(f"de_an_list_p95_ms: {percentile(samples, 0.95):.1f} ms")
        deep, _r = run(client, [f"{list_url}?page={last}"], repeat=20)
        log(f"list pages {pages}; last page alone: p50 {statistics.median(deep):.1f} ms, p95 {percentile(deep, .95):.1f} ms")

        counts = {}
        for p in (1, last):
            with CaptureQueriesContext(connection) as ctx:
                client.get(f"{list_url}?page={p}")
            counts[p] = len(ctx.captured_queries)
        print(f"de_an_list_queries: {max(counts.values())} queries")
        log(f"queries by page: {counts} (incl. session read/save and the user)")

        samples, _r = run(client, [f"{list_url}?q={SEARCH.replace(' ', '+')}",
                                   f"{list_url}?q={SEARCH.replace(' ', '+')}&page=2"])
        print(f"de_an_search_p95_ms: {percentile(samples, 0.95):.1f} ms")
        hits = de_an_list(user=reviewer, filters={"q": SEARCH}).count()
        log(f"search «{SEARCH}»: p50 {statistics.median(samples):.1f} ms, {hits} đề án found")

        # The reviewer's queue: every đề án waiting for the ministry, longest wait first (a subquery of
        # the transition into the current status per đề án, sorted), its first and a deeper page.
        queue_url = reverse("projects:queue")
        waiting = queue_for(reviewer).count()
        samples, _r = run(client, [queue_url, f"{queue_url}?page=2", f"{queue_url}?q={SEARCH.replace(' ', '+')}"])
        print(f"de_an_queue_p95_ms: {percentile(samples, 0.95):.1f} ms")
        with CaptureQueriesContext(connection) as ctx:
            client.get(queue_url)
        log(f"queue: {waiting} đề án waiting, p50 {statistics.median(samples):.1f} ms, "
            f"{len(ctx.captured_queries)} queries")

        ids = []
        for status in Status.values:
            ids.extend(DeAn.objects.filter(status=status).order_by("pk").values_list("pk", flat=True)[:5])
        ids = ids[:50]
        samples, _r = run(client, [reverse("projects:detail", args=[pk]) for pk in ids], repeat=max(REPEAT, len(ids)))
        print(f"de_an_detail_p95_ms: {percentile(samples, 0.95):.1f} ms")
        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse("projects:detail", args=[ids[-1]]))
        log(f"detail: p50 {statistics.median(samples):.1f} ms, {len(ctx.captured_queries)} queries")

        from django.db.models import Count

        from projects.models import Establishment

        est_url = reverse("projects:establishments")
        n_est = Establishment.objects.count()
        last_est = max(1, -(-n_est // 50))
        samples, _r = run(client, [est_url, f"{est_url}?page=2", f"{est_url}?page={last_est}",
                                   f"{est_url}?q={SEARCH.replace(' ', '+')}"])
        print(f"establishment_list_p95_ms: {percentile(samples, 0.95):.1f} ms")
        samples, _r = run(client, [f"{est_url}?sort=-so-de-an", f"{est_url}?sort=-nam&page=2"], repeat=max(10, REPEAT // 2))
        print(f"establishment_list_by_support_p95_ms: {percentile(samples, 0.95):.1f} ms")
        with CaptureQueriesContext(connection) as ctx:
            client.get(f"{est_url}?sort=-so-de-an")
        log(f"establishments: {n_est}, p50 {statistics.median(samples):.1f} ms, {len(ctx.captured_queries)} queries")
        busiest = list(Establishment.objects.annotate(n=Count("de_an_links")).order_by("-n", "pk")
                       .values_list("pk", flat=True)[:20])
        samples, _r = run(client, [reverse("projects:establishment", args=[pk]) for pk in busiest])
        print(f"establishment_detail_p95_ms: {percentile(samples, 0.95):.1f} ms")

        admin_url = reverse("bench_admin:projects_dean_changelist")
        samples, _r = run(admin_client, [f"{admin_url}?q={SEARCH.replace(' ', '+')}"], repeat=max(10, REPEAT // 2))
        print(f"de_an_admin_search_p95_ms: {percentile(samples, 0.95):.1f} ms")
        admin_hits = DeAn.objects.filter(name__icontains="hoa").filter(name__icontains="binh").count()
        log(f"admin search: p50 {statistics.median(samples):.1f} ms, {admin_hits} đề án found (icontains misses "
            f"the diacritics: the portal's search finds {hits})")
        samples, _r = run(admin_client, [admin_url], repeat=max(10, REPEAT // 2))
        log(f"admin changelist without search: p50 {statistics.median(samples):.1f} ms, "
            f"p95 {percentile(samples, .95):.1f} ms")


if __name__ == "__main__":
    main()
