"""Benchmark the catalog search API: p50/p95 latency over N generated products.

    python bench/search.py                       # SQLite, 10,000 products
    python bench/search.py --products 2000
    python bench/search.py --postgres postgresql://portal:portal@127.0.0.1:5432/portal

Requests go through Django's test client (full stack: auth, permissions, filters, ranking,
serialization) with DEBUG off, so the figures are server time without network; the shapes are
requested round-robin. With ``--postgres`` a throwaway database is created next to the DSN's one
and dropped at the end. Target: p95 ≤ 50 ms on PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = (
    "revenue orders customer campaign attribution funnel session churn invoice refund "
    "shipment inventory supplier ticket latency error deployment signup experiment segment "
    "engagement email spend margin forecast cohort retention conversion payment fraud "
    "catalog search click basket subscription pricing discount loyalty warehouse route"
).split()
COLUMNS = (
    "id user_id order_id campaign_id amount_cents currency country created_at updated_at "
    "status channel region sku quantity price_cents email device score"
).split()
PII_COLUMNS = {"email", "user_id"}
DOMAINS = ("marketing", "finance", "product", "ops", "engineering")
QUERIES = [
    ("empty", {}),
    ("one word", {"q": "revenue"}),
    ("two words", {"q": "campaign attribution"}),
    ("column name", {"q": "sku"}),
    ("prefix", {"q": "subscr"}),
    ("no match", {"q": "zzzz"}),
    ("tag filter", {"tag": "churn"}),
    ("domain + q", {"domain": "finance", "q": "invoice"}),
    ("filters", {"freshness": "stale", "hasPii": "true", "minQualityScore": "50"}),
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=100, help="requests per query shape")
    parser.add_argument("--postgres", metavar="DSN", help="benchmark on PostgreSQL")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def create_pg_database(dsn: str) -> tuple[str, str]:
    """Create a throwaway database on the DSN's server; return (its URL, its name)."""
    import psycopg

    name = f"bench_search_{os.getpid()}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parsed = urlparse(dsn)
    return urlunparse(parsed._replace(path=f"/{name}")), name


def drop_pg_database(dsn: str, name: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(database_url: str, var_dir: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["PORTAL_VAR_DIR"] = var_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    # Production settings: with DEBUG on, Django also records and formats every SQL statement.
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", f"bench-only-{os.getpid()}-{random.random()}")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def generate(n: int, seed: int) -> None:
    """Bulk-create ``n`` products (8 columns each) across five domains; index them for search."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts import permissions
    from catalog.models import Column, DataProduct, Domain
    from catalog.search import search_index_refresh

    rnd = random.Random(seed)
    now = timezone.now()
    domains = []
    for slug in DOMAINS:
        domain, _ = Domain.objects.get_or_create(slug=slug, defaults={"name": slug.title()})
        permissions.grant_domain(domain)
        domains.append(domain)
    products = []
    column_names: dict[int, list[str]] = {}
    for i in range(n):
        domain = domains[i % len(domains)]
        words = rnd.sample(WORDS, 6)
        status = "deprecated" if i % 25 == 0 else ("draft" if i % 40 == 0 else "published")
        column_names[i] = rnd.sample(COLUMNS, 8)
        products.append(
            DataProduct(
                product_id=f"{domain.slug}.{words[0]}_{words[1]}_{i}",
                domain=domain,
                name=f"{words[0].title()} {words[1].title()} {i}",
                description=f"Daily {words[2]} and {words[3]} by {words[4]} "
                f"for the {words[5]} team. " + " ".join(rnd.sample(WORDS, 12)),
                owner_team=f"{domain.slug.title()} Data",
                owner_contact=f"{domain.slug}@company.com",
                owner_slack_channel=f"#{domain.slug}",
                sla_freshness=rnd.choice(["realtime", "1h", "4h", "24h"]),
                sla_availability=99.5,
                sla_query_latency_p95_ms=2000,
                tags=rnd.sample(WORDS, 3),
                version=rnd.randint(1, 9),
                published_at=now - timedelta(days=rnd.randint(0, 400)),
                status=status,
                table=f"{domain.slug}_{words[0]}_{words[1]}_{i}",
                newest_data_at=None if i % 7 == 0 else now - timedelta(hours=rnd.random() * 48),
                quality_score=None if i % 9 == 0 else round(rnd.uniform(40, 100), 1),
                has_pii=bool(PII_COLUMNS.intersection(column_names[i])),
            )
        )
    DataProduct.objects.bulk_create(products, batch_size=2000)
    ids = dict(DataProduct.objects.values_list("product_id", "pk"))
    columns = []
    for i, p in enumerate(products):
        for pos, name in enumerate(column_names[i]):
            columns.append(
                Column(
                    product_id=ids[p.product_id],
                    position=pos,
                    name=name,
                    type="string",
                    description=f"The {name.replace('_', ' ')}",
                    pii=name in PII_COLUMNS,
                )
            )
    Column.objects.bulk_create(columns, batch_size=5000)
    # bulk_create bypasses catalog.services, which keeps search_vector; fill it in one UPDATE.
    search_index_refresh()


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def run(requests: int, seed: int) -> list[tuple[str, float, float, int]]:
    from django.db import connection
    from django.test import Client

    from accounts.models import User

    user, _ = User.objects.get_or_create(username="bench", defaults={"role": "analyst"})
    client = Client()
    client.force_login(user)
    if connection.vendor == "postgresql":
        # Generation inserted every row and then rewrote it (search_index_refresh): vacuum the
        # dead rows and the GIN pending list as autovacuum would in a live database.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
            # Write the generated data out now rather than in a checkpoint during the timings.
            try:
                cursor.execute("CHECKPOINT")
            except Exception as exc:  # noqa: BLE001 - needs superuser or pg_checkpoint
                print(f"(no CHECKPOINT before timing: {str(exc).splitlines()[0]})")
    for _label, params in QUERIES:
        for _ in range(5):  # warm-up: connection, caches, plans
            client.get("/v1/catalog/search", params)
    # Every shape once per round, in a shuffled order, as mixed traffic arrives: a pause of the
    # (shared) machine, or a garbage collection that comes every so many allocations, lands on
    # whichever request is running instead of on one shape's whole tail.
    timings: dict[str, list[float]] = {label: [] for label, _ in QUERIES}
    counts: dict[str, int] = {}
    order = random.Random(seed)
    for _ in range(requests):
        for label, params in order.sample(QUERIES, len(QUERIES)):
            started = time.perf_counter()
            response = client.get("/v1/catalog/search", params)
            timings[label].append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(
                    f"{label}: HTTP {response.status_code}: {response.content[:200]!r}"
                )
            counts[label] = response.json()["count"]
    return [
        (label, statistics.median(t), percentile(t, 95), counts[label])
        for label, t in timings.items()
    ]


def main() -> int:
    args = parse_args()
    var_dir = tempfile.mkdtemp(prefix="bench-search-")
    pg_name = None
    if args.postgres:
        try:
            database_url, pg_name = create_pg_database(args.postgres)
        except Exception as exc:  # noqa: BLE001 - one readable line for the operator
            print(f"bench/search.py: cannot create a database on {args.postgres}: {exc}")
            return 2
    else:
        database_url = f"sqlite:///{var_dir}/bench.sqlite3"
    try:
        setup_django(database_url, var_dir)
        started = time.perf_counter()
        generate(args.products, args.seed)
        print(
            f"{'PostgreSQL' if pg_name else 'SQLite'}: {args.products:,} products generated "
            f"in {time.perf_counter() - started:.1f}s; {args.requests} requests per shape"
        )
        rows = run(args.requests, args.seed)
        print(f"{'query':<14} {'p50 ms':>8} {'p95 ms':>8} {'matches':>8}")
        for label, p50, p95, count in rows:
            print(f"{label:<14} {p50:8.1f} {p95:8.1f} {count:8d}")
        all_p95 = max(r[2] for r in rows)
        print(f"worst p95: {all_p95:.1f} ms")
    finally:
        if pg_name:
            from django.db import connections

            connections.close_all()
            drop_pg_database(args.postgres, pg_name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
