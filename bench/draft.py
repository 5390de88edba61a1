"""Benchmark drafting a contract from a table, and what a profile adds to a check run.

    python bench/draft.py [--rows 10000000] [--repeats 3] [--postgres DSN] [--no-duckdb]

Builds an N-row table (a temp DuckDB file; with --postgres, also a table loaded server side
with generate_series in that database, dropped afterwards) with an id, personal data (e-mail,
phone, a customer id that repeats), a low-cardinality status, an amount, a timestamp and free
text, and prints the median over `--repeats` runs (after one warm-up) of:

- floor: one scan reading every column (`count(col)` each: the `SELECT count(*)`-style scan);
- unique floor: the distinct count of the id (what proving `unique` cannot avoid);
- draft without the `unique` proof: columns, the first-rows sample, one fused pass (the
  candidate checks and the profile's NULL counts and extremes), the policy gate's sample;
- draft: the same plus the `unique` proof of the id (the service's default);
- the drafted product's check run without and with its profile.

Ratios (all from the same run): draft without the proof / floor (target <= 1.5), draft /
(floor + unique floor), run with profile / run without (target <= 1.15).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import catalog.contract  # noqa: E402, F401  (loads the contract before the engine)
from bench.quality import median_ms  # noqa: E402
from catalog.contract import parse_contract  # noqa: E402
from catalog.governance.drafting import Identity, draft_table  # noqa: E402
from catalog.governance.policies import DEFAULT_POLICIES  # noqa: E402
from quality.checks import CheckSpec, ColumnSpec, ProductSpec, run_product  # noqa: E402
from quality.checks.sql import scan_floor_sql, unique_floor_sql  # noqa: E402
from querying.warehouses.base import Warehouse  # noqa: E402

KEY = "bench-hash-key-" + "x" * 32
PRIME = 2_654_435_761
COLUMNS = (
    "id",
    "email",
    "phone",
    "customer_id",
    "status",
    "amount",
    "created_at",
    "note",
)


def build_duckdb(path: Path, rows: int, now: datetime) -> None:
    """Create the bench table in a fresh DuckDB file."""
    import duckdb

    stamp = now.replace(tzinfo=None).isoformat(sep=" ")
    conn = duckdb.connect(str(path))
    try:
        conn.execute(
            f"""
            CREATE TABLE sales_orders (id BIGINT NOT NULL, email VARCHAR, phone VARCHAR,
                customer_id VARCHAR, status VARCHAR, amount DOUBLE, created_at TIMESTAMP,
                note VARCHAR);
            INSERT INTO sales_orders
            SELECT (i * {PRIME}) % {rows},
                   CASE WHEN i % 50 = 0 THEN NULL
                        ELSE 'user' || (i % 1000003) || '@example.com' END,
                   '+1-555-' || lpad(CAST(i % 9973 AS VARCHAR), 4, '0'),
                   'cus-' || (i % 200003),
                   (['new', 'paid', 'refunded', 'shipped'])[1 + (i % 4)::INTEGER],
                   round((i % 100000) / 100.0, 2),
                   TIMESTAMP '{stamp}' - to_seconds((i * 7919) % 86400),
                   CASE WHEN i % 3 = 0 THEN NULL
                        ELSE (['gift', 'fast please', 'leave at door'])[1 + (i % 3)::INTEGER] END
            FROM range({rows}) r(i)
            """
        )
    finally:
        conn.close()


def build_postgres(dsn: str, table: str, rows: int, now: datetime) -> None:
    """Create and vacuum the bench table server side with generate_series."""
    import psycopg

    stamp = now.replace(tzinfo=None).isoformat(sep=" ")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            f"""
            CREATE TABLE {table} (id BIGINT NOT NULL, email TEXT, phone TEXT, customer_id TEXT,
                status TEXT, amount DOUBLE PRECISION, created_at TIMESTAMP, note TEXT);
            INSERT INTO {table}
            SELECT (i * {PRIME}::bigint) % {rows},
                   CASE WHEN i % 50 = 0 THEN NULL
                        ELSE 'user' || (i % 1000003) || '@example.com' END,
                   '+1-555-' || lpad((i % 9973)::text, 4, '0'),
                   'cus-' || (i % 200003),
                   (ARRAY['new', 'paid', 'refunded', 'shipped'])[1 + i % 4],
                   round(((i % 100000) / 100.0)::numeric, 2)::double precision,
                   TIMESTAMP '{stamp}' - ((i * 7919::bigint) % 86400) * interval '1 second',
                   CASE WHEN i % 3 = 0 THEN NULL
                        ELSE (ARRAY['gift', 'fast please', 'leave at door'])[1 + i % 3] END
            FROM generate_series(0, {rows - 1}) i
            """
        )
        conn.execute(f"VACUUM (FREEZE, ANALYZE) {table}")


def product_of(document: dict[str, object]) -> ProductSpec:
    """The engine's view of a drafted contract."""
    contract = parse_contract(document)
    return ProductSpec(
        product_id=contract.id,
        table=contract.table,
        columns=tuple(
            ColumnSpec(c.column, c.type, c.nullable, c.pii, c.mask) for c in contract.schema
        ),
        checks=tuple(
            CheckSpec(c.name, c.type, c.severity, c.column, dict(c.params))
            for c in contract.quality_checks
        ),
        freshness_sla=contract.sla.freshness,
    )


def bench(warehouse: Warehouse, table: str, repeats: int, now: datetime) -> None:
    """Time the draft and the profile against their floors on one warehouse and print them."""
    identity = Identity(
        product_id="sales.orders",
        name="Orders",
        domain="sales",
        domain_name="Sales",
        table=table,
        contact="sales@example.com",
        slack_channel="#sales",
    )

    def draft(verify_unique: bool = True) -> object:
        return draft_table(
            warehouse,
            identity,
            rules=DEFAULT_POLICIES,
            now=now,
            timeout_s=3600,
            hash_key=KEY,
            verify_unique=verify_unique,
        )

    drafted = draft()
    spec = product_of(drafted.document)  # type: ignore[attr-defined]
    print(f"\n== {warehouse.kind}: {table}")
    print(f"   drafted: {len(spec.columns)} columns, {len(spec.checks)} checks")
    for note in drafted.notes[:40]:  # type: ignore[attr-defined]
        print(f"     {note}")
    report = run_product(warehouse, spec, now=now, timeout_s=3600, hash_key=KEY)
    failing = [o for o in report.outcomes if not o.passed]
    print(
        f"   its checks on the table: {len(report.outcomes) - len(failing)} passed, "
        f"{len(failing)} not: {[(o.check_name, o.message) for o in failing]}"
    )

    def run_sql(sql: str) -> Callable[[], object]:
        return lambda: warehouse.execute(sql, timeout_s=3600)

    dialect = warehouse.dialect
    floor = median_ms(run_sql(scan_floor_sql(table, COLUMNS, dialect)), repeats)
    unique = median_ms(run_sql(unique_floor_sql(table, "id", dialect, style="distinct")), repeats)
    no_proof = median_ms(lambda: draft(verify_unique=False), repeats)
    full = median_ms(draft, repeats)
    plain = median_ms(
        lambda: run_product(warehouse, spec, now=now, timeout_s=3600, hash_key=KEY), repeats
    )
    profiled = median_ms(
        lambda: run_product(warehouse, spec, now=now, timeout_s=3600, hash_key=KEY, profile=True),
        repeats,
    )
    print(f"   floor: one scan of {len(COLUMNS)} columns {floor:9.0f} ms")
    print(f"   unique floor: distinct ids      {unique:9.0f} ms")
    print(
        f"   draft without the unique proof  {no_proof:9.0f} ms   {no_proof / floor:.2f}x the floor"
    )
    print(
        f"   draft (with the unique proof)   {full:9.0f} ms   "
        f"{full / (floor + unique):.2f}x floor + unique floor"
    )
    print(f"   check run without profile       {plain:9.0f} ms")
    print(f"   check run with profile          {profiled:9.0f} ms   {profiled / plain:.2f}x")


def main() -> None:
    """Parse arguments, build the tables, run the benchmark, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--postgres", metavar="DSN", help="also bench this PostgreSQL database")
    parser.add_argument("--no-duckdb", action="store_true")
    args = parser.parse_args()
    now = datetime.now(UTC)
    load = os.getloadavg()
    print(
        f"rows={args.rows:,} repeats={args.repeats} cpus={os.cpu_count()} "
        f"load={load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    if not args.no_duckdb:
        from querying.warehouses.duckdb import DuckDBWarehouse

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bench.duckdb"
            started = time.perf_counter()
            build_duckdb(path, args.rows, now)
            print(f"duckdb load: {time.perf_counter() - started:.1f} s")
            bench(DuckDBWarehouse(path), "sales_orders", args.repeats, now)
    if args.postgres:
        import psycopg

        from querying.warehouses.postgres import PostgresWarehouse

        table = "sales_dbench_" + secrets.token_hex(4)
        try:
            started = time.perf_counter()
            build_postgres(args.postgres, table, args.rows, now)
            print(f"postgres load: {time.perf_counter() - started:.1f} s")
            bench(PostgresWarehouse(args.postgres), table, args.repeats, now)
        finally:
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f"DROP TABLE IF EXISTS {table}")
    load = os.getloadavg()
    print(f"\nload at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
