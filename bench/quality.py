"""Benchmark the quality engine against a naive run and against the floor.

    python bench/quality.py [--rows 5000000] [--repeats 5] [--postgres DSN] [--no-duckdb]

Builds an N-row table (a temp DuckDB file; with --postgres, also a table loaded server side
with generate_series in that database, dropped afterwards) with 6 checks, one of them
`unique`, and prints the median over `--repeats` runs (after one warm-up) of:

- engine: `run_product` (columns() lookup, one fused scan, one `unique` statement);
- each `unique` style the engine can use (`UNIQUE_STYLE` in quality/checks/sql.py);
- naive: one query per check (the `unique` one as `count(col) - count(DISTINCT col)`);
- floor: one scan reading the same columns, plus the cheapest distinct count of the
  `unique` column (GROUP BY or count(DISTINCT), whichever was faster in this run).

Then the custom SQL figures (issue 15), on the same table with the 5 scan checks and two
`custom_sql` checks of the shape `SELECT COUNT(*) FROM <product> WHERE <condition>`, against
the one-scan floor (no `unique` check, so nothing but the scan is needed):

- engine, custom SQL folded: both counts are aggregates of the one scan (the default);
- engine, custom SQL on its own: each check its own (governed) statement, as before;
- floor: one scan reading the same columns.

Every query goes through the same warehouse adapter, so per-statement connection costs are
counted everywhere. Ratios come from the same run.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from quality.checks import CheckSpec, ColumnSpec, ProductSpec, compile_plan, run_product  # noqa: E402
from quality.checks.gate import GatedSql, GateFunction, make_default_gate  # noqa: E402
from quality.checks.sql import scan_floor_sql, unique_floor_sql  # noqa: E402
from querying.warehouses.base import Warehouse  # noqa: E402

NOW = datetime(2030, 1, 1, tzinfo=UTC)
SCANNED = ("email", "status", "amount", "created_at")
UNIQUE_COLUMN = "id"
# Rows are scrambled: `id` is a permutation of 0..N-1 (multiplicative hash, N coprime with
# the prime), so neither engine gets presorted input for the distinct count.
PRIME = 2_654_435_761


def product_spec(table: str) -> ProductSpec:
    """6 checks, one `unique`; `id` is NOT NULL in the warehouse, `status` only in the contract."""
    return ProductSpec(
        product_id="bench.orders",
        table=table,
        columns=(
            ColumnSpec("id", "integer", nullable=False),
            ColumnSpec("email", "string"),
            ColumnSpec("status", "string", nullable=False),
            ColumnSpec("amount", "float"),
            ColumnSpec("created_at", "timestamp"),
        ),
        checks=(
            CheckSpec("email_not_null", "not_null", "warning", "email"),
            CheckSpec("id_unique", "unique", "error", "id"),
            CheckSpec(
                "status_values",
                "accepted_values",
                "error",
                "status",
                {"values": ["new", "paid", "refunded", "shipped"]},
            ),
            CheckSpec("amount_range", "range", "error", "amount", {"min": 0, "max": 1000}),
            CheckSpec("fresh", "freshness", "error", "created_at", {"maxStaleHours": 87_600}),
            CheckSpec("rows", "row_count", "error", None, {"minRows": 1}),
        ),
        freshness_sla="24h",
    )


# Two custom checks of the shape that folds into the scan (issue 15).
CUSTOM_CHECKS = (
    CheckSpec(
        "no_negative_amount",
        "custom_sql",
        "error",
        None,
        {"sql": "SELECT COUNT(*) FROM orders WHERE amount < 0"},
    ),
    CheckSpec(
        "refund_cap",
        "custom_sql",
        "warning",
        None,
        {"sql": "SELECT COUNT(*) FROM orders WHERE status = 'refunded' AND amount > 999.5"},
    ),
)


def custom_sql_spec(table: str) -> ProductSpec:
    """The scan checks of `product_spec` (no `unique`) plus two folding custom SQL checks."""
    base = product_spec(table)
    scan_checks = tuple(c for c in base.checks if c.type != "unique")
    return dataclasses.replace(base, checks=(*scan_checks, *CUSTOM_CHECKS))


def unfolded_gate(spec: ProductSpec, dialect: str) -> GateFunction:
    """The default gate, its output wrapped so that it no longer folds: each check alone."""
    gate = make_default_gate(spec, dialect)

    def alone(sql: str) -> GatedSql:
        gated = gate(sql)
        return GatedSql(f"SELECT * FROM ({gated.sql}) AS alone", gated.session)

    return alone


def build_duckdb(path: Path, rows: int) -> None:
    """Create the bench table in a fresh DuckDB file (read-write, then closed)."""
    import duckdb

    conn = duckdb.connect(str(path))
    try:
        conn.execute(
            f"""
            CREATE TABLE orders (id BIGINT NOT NULL, email VARCHAR, status VARCHAR,
                                 amount DOUBLE, created_at TIMESTAMP);
            INSERT INTO orders
            SELECT (i * {PRIME}) % {rows},
                   CASE WHEN i % 50 = 0 THEN NULL
                        ELSE 'user' || (i % 1000003) || '@example.com' END,
                   (['new', 'paid', 'refunded', 'shipped'])[1 + (i % 4)::INTEGER],
                   round(random() * 1000, 2),
                   TIMESTAMP '2024-01-01' + to_seconds((i * 7919) % {rows})
            FROM range({rows}) r(i)
            """
        )
    finally:
        conn.close()


def build_postgres(dsn: str, table: str, rows: int) -> None:
    """Create and vacuum the bench table server side with generate_series."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            f"""
            CREATE TABLE {table} (id BIGINT NOT NULL, email TEXT, status TEXT,
                                  amount DOUBLE PRECISION, created_at TIMESTAMP);
            INSERT INTO {table}
            SELECT (i * {PRIME}::bigint) % {rows},
                   CASE WHEN i % 50 = 0 THEN NULL
                        ELSE 'user' || (i % 1000003) || '@example.com' END,
                   (ARRAY['new', 'paid', 'refunded', 'shipped'])[1 + i % 4],
                   round((random() * 1000)::numeric, 2)::double precision,
                   TIMESTAMP '2024-01-01' + ((i * 7919::bigint) % {rows}) * interval '1 second'
            FROM generate_series(0, {rows - 1}) i
            """
        )
        # Set hint bits and the visibility map now, not during the first timed scan.
        conn.execute(f"VACUUM (FREEZE, ANALYZE) {table}")


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of `fn` over `repeats` runs, after one warm-up."""
    fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def bench(warehouse: Warehouse, table: str, repeats: int) -> None:
    """Time engine, naive and floor on one warehouse and print them."""
    spec = product_spec(table)
    dialect = warehouse.dialect
    report = run_product(warehouse, spec, now=NOW, timeout_s=600)
    assert all(o.status != "error" for o in report.outcomes), report.outcomes
    print(
        f"\n== {warehouse.kind}: {table}, statements per run: {report.statements_sent} "
        f"(+1 columns lookup)"
    )
    for o in report.outcomes:
        print(f"   {o.check_name:<16} {o.status:<7} {o.message}")

    def run_sql(sql: str) -> Callable[[], object]:
        return lambda: warehouse.execute(sql, timeout_s=600)

    figures: dict[str, float] = {}
    figures["engine"] = median_ms(
        lambda: run_product(warehouse, spec, now=NOW, timeout_s=600), repeats
    )
    for style in ("group", "distinct", "fused"):
        figures[f"engine, unique={style}"] = median_ms(
            lambda style=style: run_product(  # type: ignore[misc]
                warehouse, spec, now=NOW, timeout_s=600, unique_style=style
            ),
            repeats,
        )
    naive = compile_plan(spec, dialect, unique_style="fused", split_scan=True)
    naive_sql = [s.sql for s in naive.statements]
    figures["naive (one query per check)"] = median_ms(
        lambda: [warehouse.execute(sql, timeout_s=600) for sql in naive_sql], repeats
    )
    scan = median_ms(run_sql(scan_floor_sql(table, (UNIQUE_COLUMN, *SCANNED), dialect)), repeats)
    group = median_ms(run_sql(unique_floor_sql(table, UNIQUE_COLUMN, dialect)), repeats)
    distinct = median_ms(
        run_sql(unique_floor_sql(table, UNIQUE_COLUMN, dialect, style="distinct")), repeats
    )
    floor = scan + min(group, distinct)
    print(
        f"   floor parts: scan {scan:.0f} ms, GROUP BY {group:.0f} ms, "
        f"count(DISTINCT) {distinct:.0f} ms"
    )
    print(f"   {'floor':<32} {floor:9.0f} ms   1.00x")
    for label, ms in figures.items():
        print(f"   {label:<32} {ms:9.0f} ms   {ms / floor:.2f}x")

    custom = custom_sql_spec(table)
    folded = run_product(warehouse, custom, now=NOW, timeout_s=600)
    assert all(o.status != "error" for o in folded.outcomes), folded.outcomes
    alone = unfolded_gate(custom, dialect)
    unfolded = run_product(warehouse, custom, now=NOW, timeout_s=600, custom_sql_gate=alone)
    print(
        f"   custom SQL: {folded.statements_sent} statement(s) per run folded, "
        f"{unfolded.statements_sent} with each check on its own"
    )
    one_scan = median_ms(run_sql(scan_floor_sql(table, SCANNED, dialect)), repeats)
    checks_only = dataclasses.replace(
        custom, checks=tuple(c for c in custom.checks if c.type != "custom_sql")
    )
    without = median_ms(
        lambda: run_product(warehouse, checks_only, now=NOW, timeout_s=600), repeats
    )
    with_folded = median_ms(lambda: run_product(warehouse, custom, now=NOW, timeout_s=600), repeats)
    with_alone = median_ms(
        lambda: run_product(warehouse, custom, now=NOW, timeout_s=600, custom_sql_gate=alone),
        repeats,
    )
    print(f"   {'one-scan floor':<32} {one_scan:9.0f} ms   1.00x")
    print(
        f"   {'the 5 scan checks, no custom SQL':<32} {without:9.0f} ms   {without / one_scan:.2f}x"
    )
    print(f"   {'2 custom SQL, folded':<32} {with_folded:9.0f} ms   {with_folded / one_scan:.2f}x")
    print(
        f"   {'2 custom SQL, on their own':<32} {with_alone:9.0f} ms   {with_alone / one_scan:.2f}x"
    )
    print(
        f"   what 2 custom SQL checks add to the checks' own scan: folded "
        f"{with_folded / without:.2f}x, on their own {with_alone / without:.2f}x"
    )


def main() -> None:
    """Parse arguments, build the tables, run the benchmark, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--postgres", metavar="DSN", help="also bench this PostgreSQL database")
    parser.add_argument("--no-duckdb", action="store_true")
    args = parser.parse_args()
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
            build_duckdb(path, args.rows)
            print(f"duckdb load: {time.perf_counter() - started:.1f} s")
            bench(DuckDBWarehouse(path), "orders", args.repeats)

    if args.postgres:
        import psycopg

        from querying.warehouses.postgres import PostgresWarehouse

        table = "qbench_" + secrets.token_hex(4)
        try:
            started = time.perf_counter()
            build_postgres(args.postgres, table, args.rows)
            print(f"postgres load: {time.perf_counter() - started:.1f} s")
            bench(PostgresWarehouse(args.postgres), table, args.repeats)
        finally:
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f"DROP TABLE IF EXISTS {table}")


if __name__ == "__main__":
    main()
