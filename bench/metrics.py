"""Benchmark the platform metrics and the lineage API (issue 16): p50/p95 latency.

    python bench/metrics.py --postgres postgresql://portal:portal@127.0.0.1:5432/portal
    python bench/metrics.py --postgres DSN --audit-rows 1000000 --check-runs 200000 --products 2000

Generates, on a throwaway PostgreSQL database (created next to the DSN's and dropped at the
end): ``--products`` products in 20 domains (every 25th a draft; each drafted 12 hours to 2 weeks
before its first publication, what the time to publish reads), a random lineage over them
(each product built from up to 3 earlier ones, 2 registered consumers each), ``--audit-rows``
governed queries (1 or 2 products each) over 120 days, and ``--check-runs`` finished check runs
with 5 results each; then runs the daily rollups once (their time is printed too). Requests go
through Django's test client (full stack, DEBUG off). Printed: ``GET /v1/metrics`` and the
metrics page (an admin and an analyst), lineage at depth 3 (products in the middle of the
graph), and, in the same run, the baseline the rollups replace: the same queries-per-day-by-role
figure counted from the raw audit log (the ratio says what the rollups save).
Targets: metrics p95 ≤ 150 ms, lineage depth 3 over 2,000 products p95 ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.search import (  # noqa: E402 - after the path is set
    create_pg_database,
    drop_pg_database,
    percentile,
    setup_django,
)

DAYS = 120
DOMAINS = 20


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--postgres", metavar="DSN", default=os.environ.get("PORTAL_TEST_PG_URL"))
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--audit-rows", type=int, default=1_000_000)
    parser.add_argument("--check-runs", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=60, help="timed requests per shape")
    parser.add_argument("--seed", type=int, default=16)
    return parser.parse_args()


def copy_rows(table: str, columns: list[str], rows: Any) -> int:
    """COPY rows into a table (PostgreSQL): the fastest way in, for generation only."""
    from django.db import connection

    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        with raw.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


def generate(args: argparse.Namespace) -> dict[str, Any]:
    """The products, lineage, audit log and check runs (module docstring); returns names."""
    from django.db import connection
    from django.utils import timezone

    from accounts import permissions
    from accounts.models import User
    from catalog.models import Column, Consumer, DataProduct, Domain

    rnd = random.Random(args.seed)
    now = timezone.now()
    # Its own stream, so the rest of the data is what it was before products carried these.
    drafting = random.Random(args.seed + 1)
    domains = []
    for i in range(DOMAINS):
        domain = Domain.objects.create(slug=f"d{i:02d}", name=f"Domain {i}")
        permissions.grant_domain(domain)
        domains.append(domain)
    # Each product's freshness SLA and publication date, drawn in the order they always were.
    drawn = [
        (rnd.choice(["1h", "4h", "24h"]), now - timedelta(days=rnd.randint(1, 300)))
        for _ in range(args.products)
    ]
    products = [
        DataProduct(
            product_id=f"d{i % DOMAINS:02d}.product_{i}",
            domain=domains[i % DOMAINS],
            name=f"Product {i}",
            owner_team="Team",
            owner_contact="team@example.com",
            sla_freshness=drawn[i][0],
            sla_availability=99.0,
            sla_query_latency_p95_ms=500,
            status="draft" if i % 25 == 0 else "published",
            table=f"d{i % DOMAINS:02d}_product_{i}",
            published_at=drawn[i][1],
            # What the metrics' time to publish reads: drafted 12 hours to 2 weeks before.
            first_draft_at=drawn[i][1] - timedelta(hours=drafting.uniform(12, 336)),
            first_published_at=None if i % 25 == 0 else drawn[i][1],
        )
        for i in range(args.products)
    ]
    DataProduct.objects.bulk_create(products, batch_size=2000)
    products = list(DataProduct.objects.order_by("pk"))
    Column.objects.bulk_create(
        [Column(product=p, name="email", type="string", pii=True) for p in products],
        batch_size=5000,
    )
    links: list[Consumer] = []
    for index, product in enumerate(products):
        upstream = rnd.sample(products[:index], min(index, rnd.randint(0, 3)))
        links.extend(
            Consumer(
                product=source,
                kind="product",
                name=product.product_id,
                downstream=product,
                team="Team",
                contact="team@example.com",
                use_case="input",
            )
            for source in upstream
        )
        links.extend(
            Consumer(
                product=product,
                kind=rnd.choice(["dashboard", "application", "notebook", "team"]),
                name=f"Consumer {index}-{k}",
                team="Team",
                contact="c@example.com",
                use_case="use",
            )
            for k in range(2)
        )
    Consumer.objects.bulk_create(links, batch_size=5000)
    admin = User.objects.create(username="bench-admin", role="admin")
    analyst = User.objects.create(username="bench-analyst", role="analyst")
    people = [admin, analyst] + [
        User.objects.create(username=f"user{i}", role=rnd.choice(["analyst", "manager"]))
        for i in range(60)
    ]
    live = [p for p in products if p.status == "published"]
    weights = [1.0 / (1 + i % 50) for i in range(len(live))]
    started = now - timedelta(days=DAYS)
    span = DAYS * 86400

    def logs() -> Any:
        for i in range(args.audit_rows):
            user = people[i % len(people)]
            at = started + timedelta(seconds=span * i / args.audit_rows)
            yield (
                i + 1,
                user.pk,
                user.username,
                user.role,
                "SELECT 1",
                "SELECT 1",
                "allowed",
                "",
                "",
                "[]",
                "[]",
                "[]",
                "{}",
                "masked",
                10,
                False,
                float(rnd.randint(20, 900)),
                at,
            )

    log_columns = [
        "id",
        "user_id",
        "username",
        "role",
        "submitted_sql",
        "executed_sql",
        "decision",
        "code",
        "message",
        "products",
        "pii_columns",
        "masked_columns",
        "raw_columns",
        "pii_access",
        "row_count",
        "truncated",
        "duration_ms",
        "created_at",
    ]
    t0 = time.perf_counter()
    copy_rows("querying_querylog", log_columns, logs())

    def uses() -> Any:
        for i in range(args.audit_rows):
            at = started + timedelta(seconds=span * i / args.audit_rows)
            read = rnd.choices(live, weights, k=1 + (i % 5 == 0))
            for product in {p.product_id: p for p in read}.values():
                yield (i + 1, product.product_id, "allowed", 100.0, at, "masked")

    copy_rows(
        "querying_queryproductuse",
        ["log_id", "product_id", "decision", "duration_ms", "created_at", "pii_access"],
        uses(),
    )

    def runs() -> Any:
        for i in range(args.check_runs):
            at = started + timedelta(seconds=span * i / args.check_runs)
            product = live[i % len(live)]
            failed = rnd.random() < 0.06
            yield (
                i + 1,
                product.pk,
                "schedule",
                f"bench:{i}",
                "failed" if failed else "passed",
                "",
                at,
                at,
                at,
                at - timedelta(hours=rnd.random() * 30),
                0,
                0,
                "",
            )

    copy_rows(
        "quality_checkrun",
        [
            "id",
            "product_id",
            "trigger",
            "run_key",
            "status",
            "claim_token",
            "created_at",
            "started_at",
            "finished_at",
            "newest_data_at",
            "statements_sent",
            "requeues",
            "message",
        ],
        runs(),
    )

    def results() -> Any:
        for i in range(args.check_runs):
            at = started + timedelta(seconds=span * i / args.check_runs)
            for position in range(5):
                passed = rnd.random() > 0.03
                yield (
                    i + 1,
                    position,
                    f"c{position}",
                    "not_null",
                    "passed" if passed else "failed",
                    passed,
                    "error",
                    "",
                    at,
                )

    copy_rows(
        "quality_checkresult",
        [
            "run_id",
            "position",
            "check_name",
            "check_type",
            "status",
            "passed",
            "severity",
            "message",
            "created_at",
        ],
        results(),
    )
    with connection.cursor() as cursor:
        for table in ("querying_querylog", "quality_checkrun"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'(SELECT max(id) FROM "{table}"))'
            )
        cursor.execute("VACUUM ANALYZE")
    print(f"generated in {time.perf_counter() - t0:.1f}s")
    # Published products from the middle of the graph (an analyst sees no other domain's draft).
    third = [p for p in products[len(products) // 3 :] if p.status == "published"]
    middle = [p.product_id for p in third[:40]]
    return {"admin": admin, "analyst": analyst, "middle": middle}


def timed(client: Any, url: str, n: int) -> tuple[float, float]:
    for _ in range(5):
        client.get(url)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}: {response.content[:200]!r}")
    return statistics.median(times), percentile(times, 95)


def main() -> int:
    args = parse_args()
    if not args.postgres:
        print("bench/metrics.py: give --postgres DSN (or set PORTAL_TEST_PG_URL)")
        return 2
    var_dir = tempfile.mkdtemp(prefix="bench-metrics-")
    try:
        database_url, pg_name = create_pg_database(args.postgres)
    except Exception as exc:  # noqa: BLE001 - one readable line for the operator
        print(f"bench/metrics.py: cannot create a database on {args.postgres}: {exc}")
        return 2
    try:
        os.environ.setdefault(
            "PII_HASH_KEY", f"bench-only-hash-key-{os.getpid()}-{random.random()}"
        )
        setup_django(database_url, var_dir)
        from django.db import connection
        from django.db.models import Count
        from django.db.models.functions import TruncDate
        from django.test import Client

        from catalog.usage_rollup import usage_rollup
        from quality.rollups import quality_rollup
        from querying.models import QueryLog, UsageDomainDay

        names = generate(args)
        t0 = time.perf_counter()
        usage_rollup()
        t1 = time.perf_counter()
        quality_rollup()
        t2 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(
            f"PostgreSQL: {args.products:,} products, {args.audit_rows:,} audited queries, "
            f"{args.check_runs:,} check runs; rollups: usage {t1 - t0:.1f}s, quality "
            f"{t2 - t1:.1f}s ({UsageDomainDay.objects.count():,} domain-day rows)"
        )
        rows = []
        for who in ("admin", "analyst"):
            client = Client()
            client.force_login(names[who])
            rows.append((f"GET /v1/metrics ({who})", *timed(client, "/v1/metrics", args.requests)))
            rows.append((f"metrics page ({who})", *timed(client, "/metrics/", args.requests)))
        client = Client()
        client.force_login(names["analyst"])
        rows.append(
            ("GET /v1/metrics?domain=d03", *timed(client, "/v1/metrics?domain=d03", args.requests))
        )
        lineage = [
            timed(client, f"/v1/catalog/products/{product_id}/lineage?depth=3", 3)
            for product_id in names["middle"][: max(1, args.requests // 3)]
        ]
        depth3 = client.get(f"/v1/catalog/products/{names['middle'][0]}/lineage?depth=3").json()
        rows.append(
            (
                f"lineage depth 3 ({len(depth3['nodes'])} nodes, first)",
                statistics.median(p for p, _ in lineage),
                max(p95 for _, p95 in lineage),
            )
        )
        # Baseline: what a request would pay without the rollups (one figure of six).
        base = []
        for _ in range(5):
            started = time.perf_counter()
            list(
                QueryLog.objects.filter(decision="allowed")
                .annotate(day=TruncDate("created_at"))
                .values("day", "role")
                .annotate(n=Count("id"))
                .order_by()
            )
            base.append((time.perf_counter() - started) * 1000)
        print(f"{'request':<42} {'p50 ms':>8} {'p95 ms':>8}")
        for label, p50, p95 in rows:
            print(f"{label:<42} {p50:8.1f} {p95:8.1f}")
        metrics_p95 = max(p95 for label, _, p95 in rows if "metrics" in label)
        print(
            f"baseline: queries per day by role from the raw audit log: p50 "
            f"{statistics.median(base):.1f} ms (one figure of six), "
            f"{statistics.median(base) / statistics.median(r[1] for r in rows[:1]):.1f}× "
            f"the whole metrics API's p50"
        )
        print(
            f"worst metrics p95: {metrics_p95:.1f} ms (target 150); lineage depth 3 p95: "
            f"{rows[-1][2]:.1f} ms (target 100); load average {os.getloadavg()[0]:.2f}"
        )
    finally:
        from django.db import connections

        connections.close_all()
        drop_pg_database(args.postgres, pg_name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
