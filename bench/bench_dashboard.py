"""Benchmark: the national dashboard's server time at 50,000 đề án on PostgreSQL.

Prints
    dashboard_national_p95_ms: X ms          national dashboard, programme QĐ 1881 (2021–2025: the five
                                             programme years, ≈ 25,000 of the 50,000 đề án), current grouping,
                                             every request computing every figure: the result cache is OFF
                                             (DASHBOARD_CACHE_SECONDS=0), so this is the real cost
    dashboard_national_median_ms             the same requests' median
    dashboard_national_queries: N queries    queries of that request (session, user and filter lists included)
    dashboard_national_cached_p95_ms         the same page as served with the short-lived result cache on
                                             (60 s; the first request computes, the others read the entry)
    dashboard_national_cached_queries        queries of a request served from the cache
    dashboard_province_p95_ms                Bắc Ninh's dashboard seen by its Sở Công Thương (with the
                                             comparison with the national average), cache off
    dashboard_national_default_p95_ms (the default page: the programme of the current year) and
    dashboard_national_historical_p95_ms (grouped by the province as recorded), cache off;
    dashboard_load_average (1-minute load when done: the machine is shared), dashboard_de_an: N

Server time = Django test client round trip (middleware, session, views, queries, template), ≥ 30
requests each after 3 warm-up requests, with DEBUG off while timing (no query log, as in production).
After seeding, ``VACUUM ANALYZE`` (what autovacuum does after a bulk load: statistics, and the
visibility map that lets the dashboards read their covering index without visiting the table). Database: BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/kc_bench_dash), created and migrated if missing; đề án from
``manage.py seed_scale --de-an 50000``; money rows (allocations, commitments, disbursements), outputs
per indicator and economic results added here once. Sizes: BENCH_DE_AN (50000), BENCH_REQUESTS (30).
"""
import os
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchdb import ensure_database  # noqa: E402  (the repository root is on sys.path)

DB_URL = os.environ.get("BENCH_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/kc_bench_dash"
os.environ["DATABASE_URL"] = DB_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "khuyencong.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
N_DE_AN = int(os.environ.get("BENCH_DE_AN", "50000"))
N_REQUESTS = max(30, int(os.environ.get("BENCH_REQUESTS", "30")))




ensure_database(DB_URL)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

BATCH = 5000


def log(text):
    print(text, file=sys.stderr, flush=True)


def seed_money_and_results():
    """Allocations for every current province × year × level; commitments of approved đề án;
    disbursements of đề án being carried out; outputs per indicator; economic results. Once."""
    from dashboards.models import DeAnEconomicResult, DeAnIndicatorOutput
    from funding.models import Allocation, AnnualPlan, Commitment, Disbursement
    from khuyencong.models import Indicator, Province
    from projects.models import DeAn
    from reports.selectors import INDICATOR_CONTENTS

    if Commitment.objects.filter(de_an__source_ref__startswith="seed:").exists():
        return
    rng = random.Random(11)
    approved = ("approved", "in_implementation", "adjustment_requested", "accepted", "settled")
    paid = ("in_implementation", "adjustment_requested", "accepted", "settled")
    rows = list(DeAn.objects.filter(source_ref__startswith="seed:").values_list(
        "id", "plan_year", "level", "current_province_id", "status", "national_amount", "local_amount",
        "settled_amount", "programme_id", "counterpart_amount"))
    with transaction.atomic():
        need = {}
        for _pk, year, level, cur, status, nat, loc, _s, _p, _c in rows:
            if status in approved:
                need[(year, level, cur)] = need.get((year, level, cur), 0) + nat + loc
        allocations = []
        provinces = list(Province.objects.filter(era="current"))
        for year in range(2017, 2027):
            for level in ("kcqg", "kcdp"):
                plan, _created = AnnualPlan.objects.get_or_create(year=year, level=level,
                                                                  defaults={"decision_number": f"BENCH-{year}"})
                for p in provinces:
                    committed = need.get((year, level, p.pk), 0)
                    allocations.append(Allocation(plan=plan, province=p, source="national" if level == "kcqg" else "local",
                                                  amount=committed + rng.randrange(0, 200) * 10_000_000, committed=committed))
        Allocation.objects.bulk_create(allocations, batch_size=BATCH, ignore_conflicts=True)
        alloc = {(a.plan.year, a.plan.level, a.province_id): a.pk for a in Allocation.objects.select_related("plan")}
        commitments, disbursements = [], []
        for pk, year, level, cur, status, nat, loc, settled, _p, _c in rows:
            source = "national" if level == "kcqg" else "local"
            if status in approved:
                commitments.append(Commitment(de_an_id=pk, allocation_id=alloc[(year, level, cur)], amount=nat + loc))
            if status in paid:
                advance = (nat + loc) // 2
                disbursements.append(Disbursement(de_an_id=pk, kind="advance", source=source, amount=advance,
                                                  date=date(year, 6, 1), document_number=f"UNC-{pk}"))
                if status == "settled" and settled is not None:  # the row the «Quyết toán» step writes
                    disbursements.append(Disbursement(de_an_id=pk, kind="settlement", source=source,
                                                      amount=settled, date=date(year + 1, 3, 1),
                                                      document_number=f"QT-{pk}"))
        Commitment.objects.bulk_create(commitments, batch_size=BATCH)
        Disbursement.objects.bulk_create(disbursements, batch_size=BATCH)
        indicators = {(i.programme_id, i.code): i.pk for i in Indicator.objects.all()}
        by_content = {c: code for code, contents in INDICATOR_CONTENTS.items() for c in contents}
        links = DeAn.contents.through.objects.filter(dean__source_ref__startswith="seed:").values_list(
            "dean_id", "activitycontent__code")
        info = {r[0]: r for r in rows}
        outputs, econ = [], []
        for dean_id, code in links:
            _pk, _y, _l, _cur, status, *_rest = info[dean_id]
            programme_id = info[dean_id][8]
            ind = indicators.get((programme_id, by_content.get(code)))
            if ind:
                outputs.append(DeAnIndicatorOutput(de_an_id=dean_id, indicator_id=ind, planned=rng.randint(1, 20),
                                                   achieved=rng.randint(0, 20) if status in paid else None))
        for pk, _y, _l, _cur, status, *_rest in rows:
            if status in ("accepted", "settled"):
                econ.append(DeAnEconomicResult(de_an_id=pk, output_value=rng.randrange(1, 900) * 1_000_000,
                                               revenue=rng.randrange(1, 900) * 1_000_000, jobs_created=rng.randint(0, 50),
                                               counterpart_mobilised=info[pk][9]))
        DeAnIndicatorOutput.objects.bulk_create(outputs, batch_size=BATCH, ignore_conflicts=True)
        DeAnEconomicResult.objects.bulk_create(econ, batch_size=BATCH, ignore_conflicts=True)
    log(f"money: {len(allocations)} allocations, {len(commitments)} commitments, {len(disbursements)} disbursements, "
        f"{len(outputs)} outputs, {len(econ)} economic results")


def users():
    from khuyencong.models import Organisation, User

    reviewer, _c = User.objects.get_or_create(username="bench.reviewer", defaults={
        "role": "reviewer", "organisation": Organisation.objects.get(code="cuc-khuyen-cong")})
    so, _c = User.objects.get_or_create(username="bench.so24", defaults={
        "role": "province", "organisation": Organisation.objects.get(code="so-ct-24")})
    return reviewer, so


def measure(client, url, n=N_REQUESTS):
    for _ in range(3):
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return p95, statistics.median(times)


def main():
    call_command("migrate", verbosity=0)
    call_command("load_reference", verbosity=0)
    from projects.models import DeAn

    started = time.monotonic()
    call_command("seed_scale", "--de-an", str(N_DE_AN), verbosity=0)
    seed_money_and_results()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    log(f"data ready in {time.monotonic() - started:.0f} s")
    reviewer, so = users()
    client = Client()
    client.force_login(reviewer)
    heavy = "/tong-quan/toan-quoc/?programme=qd-1881-2021-2025"
    from django.conf import settings
    from django.core.cache import cache
    from django.test import override_settings

    with override_settings(DASHBOARD_CACHE_SECONDS=0), CaptureQueriesContext(connection) as ctx:
        assert client.get(heavy).status_code == 200
    queries = len(ctx.captured_queries)
    slow = sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:5]
    for q in slow:
        log(f"  {float(q['time']) * 1000:.1f} ms  {q['sql'][:160]}")
    local = Client()
    local.force_login(so)
    settings.DEBUG = False  # no query log while timing (CaptureQueriesContext above logs regardless)
    with override_settings(DASHBOARD_CACHE_SECONDS=0):  # every request computes every figure: the honest cost
        p95, median = measure(client, heavy)
        province_p95, _m = measure(local, "/tong-quan/tinh/24/?programme=qd-1881-2021-2025")
        default_p95, _m = measure(client, "/tong-quan/toan-quoc/")
        hist_p95, _m = measure(client, heavy + "&grouping=historical")
    cache.clear()
    cached_p95, cached_median = measure(client, heavy)  # as served: the short-lived cache on (60 s)
    with CaptureQueriesContext(connection) as ctx:
        client.get(heavy)
    cached_queries = len(ctx.captured_queries)
    load = os.getloadavg()[0]
    print(f"dashboard_de_an: {DeAn.objects.count()} đề án")
    print(f"dashboard_national_p95_ms: {p95:.1f} ms")
    print(f"dashboard_national_median_ms: {median:.1f} ms")
    print(f"dashboard_national_queries: {queries} queries")
    print(f"dashboard_national_cached_p95_ms: {cached_p95:.1f} ms")
    print(f"dashboard_national_cached_median_ms: {cached_median:.1f} ms")
    print(f"dashboard_national_cached_queries: {cached_queries} queries")
    print(f"dashboard_province_p95_ms: {province_p95:.1f} ms")
    print(f"dashboard_national_default_p95_ms: {default_p95:.1f} ms")
    print(f"dashboard_national_historical_p95_ms: {hist_p95:.1f} ms")
    print(f"dashboard_load_average: {load:.2f}")


if __name__ == "__main__":
    main()
