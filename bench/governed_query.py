"""Benchmark the governor: rewrite overhead, and governed vs raw execution on a large table.

    python -m bench.governed_query                 # 5M-row DuckDB table
    python -m bench.governed_query --rows 1000000  # smaller
    python -m bench.governed_query --postgres postgresql://portal:portal@127.0.0.1:5432/portal

Part 1 times govern() alone over typical queries (µs p50/p95), then (1b) a grant holder's
govern() against today's masked caller's, interleaved in the same run: the grant holder's policy
is built per call the way querying.selectors.query_policy builds it (the masked columns with the
granted ones unmasked, each with its justification; issue 17). Part 2 runs a few aggregates on a
table of --rows rows, raw (straight at the physical table) and governed (through the masking
derived table), interleaved, through the real warehouse adapter; ratios come from the same run.
Aggregates over masked columns also run hand-masked (the mask written straight into the raw
query, every row masked), so the governor's own share shows apart from the mask's. Over hash
columns the governor beats it: a column the query only groups or counts is hashed once per group
shown, not once per row read (querying/governor/pseudonyms.py), hence gov/hand well under 1.
Customer ids are scattered over the table as in a real orders table (ids generated in physical
order would hand the raw side an already-sorted input for DISTINCT that no real table gives it).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

import sqlglot
from sqlglot import exp

from querying.governor import ColumnPolicy, Policy, ProductPolicy, govern, unmasked
from querying.governor.masks import HASH_KEY_SETTING, mask_expression
from querying.warehouses import Warehouse, warehouse_from_url

TABLE = "sales_big_orders"
PRODUCT = ProductPolicy(
    product_id="sales.big_orders",
    table=TABLE,
    columns=(
        ColumnPolicy("order_id", None),
        ColumnPolicy("user_id", "last4"),
        ColumnPolicy("email", "email"),
        ColumnPolicy("phone", "hash"),
        ColumnPolicy("country", None),
        ColumnPolicy("amount", None),
        ColumnPolicy("created_at", None),
    ),
    names=("big_orders",),
)
POLICY = Policy(products=(PRODUCT,), hash_key="bench-secret-key", max_rows=10000)

TYPICAL = [
    "SELECT * FROM sales.big_orders",
    "SELECT country, count(*) FROM big_orders GROUP BY country ORDER BY 2 DESC LIMIT 10",
    "SELECT user_id, email FROM big_orders WHERE amount > 100 ORDER BY amount DESC LIMIT 50",
    "SELECT date_trunc('month', created_at) AS m, sum(amount) FROM big_orders GROUP BY 1",
    "WITH c AS (SELECT country, avg(amount) AS a FROM big_orders GROUP BY 1) "
    "SELECT * FROM c WHERE a > 10",
    "SELECT o.country, count(DISTINCT o.user_id) FROM big_orders o "
    "JOIN big_orders p ON o.order_id = p.order_id GROUP BY 1",
    "SELECT country, row_number() OVER (PARTITION BY country ORDER BY amount DESC) AS r "
    "FROM big_orders",
    "SELECT country FROM big_orders WHERE amount > 1 UNION SELECT country FROM big_orders",
    "SELECT * FROM big_orders WHERE user_id IN (SELECT user_id FROM big_orders WHERE "
    "amount > 990) LIMIT 100",
    "SELECT CASE WHEN amount > 500 THEN 'big' ELSE 'small' END AS size, count(*), "
    "min(created_at), max(created_at) FROM big_orders GROUP BY 1",
]

AGGREGATES = [
    ("count(*)", "SELECT count(*) FROM {t}"),
    ("sum by country", "SELECT country, sum(amount) FROM {t} GROUP BY country"),
    ("filtered avg", "SELECT avg(amount) FROM {t} WHERE amount > 500 AND country = 'DE'"),
    ("monthly count", "SELECT date_trunc('month', created_at), count(*) FROM {t} GROUP BY 1"),
    ("distinct last4 id", "SELECT count(DISTINCT user_id) FROM {t}"),
    ("email domains", "SELECT email, count(*) FROM {t} GROUP BY 1 ORDER BY 2 DESC LIMIT 10"),
    ("distinct hashed phone", "SELECT count(DISTINCT phone) FROM {t}"),
    ("top hashed phones", "SELECT phone, count(*) FROM {t} GROUP BY 1 ORDER BY 2 DESC LIMIT 10"),
    ("hashed phones/country", "SELECT country, count(DISTINCT phone) FROM {t} GROUP BY 1"),
]


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def bench_overhead(iterations: int) -> None:
    """Part 1: govern() wall time per call."""
    print(f"\n1. governor overhead (govern() only, {iterations} iterations per query, DuckDB)")
    print(f"   {'query':<60} {'p50 µs':>9} {'p95 µs':>9} {'cpu p50':>9}")
    every: list[float] = []
    every_cpu: list[float] = []
    for sql in TYPICAL:
        govern(sql, POLICY, dialect="duckdb")  # warm the per-product projection cache
        samples = []
        cpu = []
        for _ in range(iterations):
            started, started_cpu = time.perf_counter(), time.thread_time()
            govern(sql, POLICY, dialect="duckdb")
            samples.append((time.perf_counter() - started) * 1e6)
            cpu.append((time.thread_time() - started_cpu) * 1e6)
        every += samples
        every_cpu += cpu
        label = sql if len(sql) <= 58 else sql[:55] + "..."
        print(
            f"   {label:<60} {_pct(samples, 50):>9.0f} {_pct(samples, 95):>9.0f} "
            f"{_pct(cpu, 50):>9.0f}"
        )
    print(
        f"   {'ALL':<60} {_pct(every, 50):>9.0f} {_pct(every, 95):>9.0f} "
        f"{_pct(every_cpu, 50):>9.0f}"
    )
    print("   (cpu = this thread's CPU time: wall-clock minus waiting for a busy machine)")


# A grant on two of the four PII columns (issue 17).
GRANTED = {"user_id": "grant:1", "email": "grant:1"}


def granted_policy() -> Policy:
    """A grant holder's policy, built as query_policy builds it for every query."""
    product = dataclasses.replace(PRODUCT, columns=unmasked(PRODUCT.columns, GRANTED))
    return Policy(products=(product,), hash_key=POLICY.hash_key, max_rows=POLICY.max_rows)


def bench_grants(iterations: int) -> None:
    """Part 1b: a grant holder's govern() (policy built per call) vs the masked caller's."""
    print(
        f"\n1b. with a grant vs today ({iterations} interleaved iterations per query, DuckDB; "
        "the grant holder's policy is built per call)"
    )
    print(f"   {'query':<60} {'today µs':>9} {'grant µs':>9} {'Δ µs':>7}")
    today_all: list[float] = []
    grant_all: list[float] = []
    for sql in TYPICAL:
        governed = govern(sql, granted_policy(), dialect="duckdb")  # warm both projections
        assert set(governed.masked_columns) == {"sales.big_orders.phone"}, governed.masked_columns
        govern(sql, POLICY, dialect="duckdb")
        today: list[float] = []
        grant: list[float] = []
        for _ in range(iterations):
            started = time.perf_counter()
            govern(sql, POLICY, dialect="duckdb")
            today.append((time.perf_counter() - started) * 1e6)
            started = time.perf_counter()
            govern(sql, granted_policy(), dialect="duckdb")
            grant.append((time.perf_counter() - started) * 1e6)
        today_all += today
        grant_all += grant
        label = sql if len(sql) <= 58 else sql[:55] + "..."
        a, b = _pct(today, 50), _pct(grant, 50)
        print(f"   {label:<60} {a:>9.0f} {b:>9.0f} {b - a:>7.0f}")
    a, b = _pct(today_all, 50), _pct(grant_all, 50)
    print(f"   {'ALL (p50)':<60} {a:>9.0f} {b:>9.0f} {b - a:>7.0f}")
    a, b = _pct(today_all, 95), _pct(grant_all, 95)
    print(f"   {'ALL (p95)':<60} {a:>9.0f} {b:>9.0f} {b - a:>7.0f}")


def hand_masked(raw_sql: str, dialect: str) -> str | None:
    """``raw_sql`` with each masked column replaced by its mask, written straight into the query.

    The cheapest correct way to run the aggregate for a user who may not see the raw values: the
    floor any masking implementation pays. None when the query reads no masked column.
    """
    masks = {c.name: c.mask for c in PRODUCT.columns if c.mask}
    tree = sqlglot.parse_one(raw_sql, read=dialect)
    touched = False

    def swap(node: exp.Expression) -> exp.Expression:
        nonlocal touched
        if isinstance(node, exp.Column) and node.name in masks:
            touched = True
            return mask_expression(node.name, masks[node.name], null_type=None, dialect=dialect)
        return node

    tree = tree.transform(swap)
    return tree.sql(dialect=dialect) if touched else None


def bench_execution(warehouse: Warehouse, dialect: str, rows: int, repeats: int) -> None:
    """Part 2: the same aggregate raw, governed and hand-masked, interleaved."""
    print(f"\n2. governed vs raw execution ({warehouse.kind}, {rows:,} rows, median of {repeats})")
    print(
        f"   {'aggregate':<22} {'raw ms':>9} {'governed ms':>12} {'ratio':>7}"
        f" {'hand-masked ms':>15} {'gov/hand':>9}"
    )
    for label, template in AGGREGATES:
        raw_sql = template.format(t=TABLE)
        governed = govern(template.format(t="sales.big_orders"), POLICY, dialect=dialect)
        session = governed.session or {HASH_KEY_SETTING[dialect]: POLICY.hash_key}
        floor_sql = hand_masked(raw_sql, dialect)
        variants = [raw_sql, governed.sql] + ([floor_sql] if floor_sql else [])
        for sql in variants:  # warm caches for every variant
            warehouse.execute(sql, timeout_s=600, session=session)
        times: list[list[float]] = [[] for _ in variants]
        for _ in range(repeats):
            for sql, out in zip(variants, times, strict=True):
                started = time.perf_counter()
                warehouse.execute(sql, timeout_s=600, max_rows=10000, session=session)
                out.append((time.perf_counter() - started) * 1000)
        r, g = statistics.median(times[0]), statistics.median(times[1])
        line = f"   {label:<22} {r:>9.1f} {g:>12.1f} {g / r:>7.2f}"
        if floor_sql:
            h = statistics.median(times[2])
            line += f" {h:>15.1f} {g / h:>9.2f}"
        print(line)
    print(
        "   (hand-masked: the raw query with each masked column replaced by its mask expression,"
        "\n    every row masked; gov/hand < 1 over hash columns is late hashing at work)"
    )


def build_duckdb(path: Path, rows: int) -> None:
    import duckdb

    conn = duckdb.connect(str(path))
    try:
        conn.execute(
            f"CREATE TABLE {TABLE} AS SELECT i AS order_id, "
            "'U-' || lpad(CAST((i * 7919) % 1000003 AS VARCHAR), 10, '0') AS user_id, "
            "'user' || CAST(i % 1000003 AS VARCHAR) || '@example' || CAST(i % 7 AS VARCHAR) "
            "|| '.test' AS email, '+1-555-' || CAST(i % 9973 AS VARCHAR) AS phone, "
            "(['DE', 'FR', 'US', 'NL', 'SE', 'JP'])[1 + i % 6] AS country, "
            "CAST((i * 7919) % 1000 AS DOUBLE) AS amount, "
            "DATE '2024-01-01' + CAST(i % 730 AS INTEGER) AS created_at "
            f"FROM range({rows}) AS t(i)"
        )
    finally:
        conn.close()


def build_postgres(dsn: str, rows: int) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.execute(
            f"CREATE TABLE {TABLE} AS SELECT i AS order_id, "
            "'U-' || lpad(((i * 7919) % 1000003)::text, 10, '0') AS user_id, "
            "'user' || (i % 1000003)::text || '@example' || (i % 7)::text || '.test' AS email, "
            "'+1-555-' || (i % 9973)::text AS phone, "
            "(ARRAY['DE', 'FR', 'US', 'NL', 'SE', 'JP'])[1 + i % 6] AS country, "
            "((i * 7919) % 1000)::double precision AS amount, "
            "DATE '2024-01-01' + (i % 730)::int AS created_at "
            f"FROM generate_series(0::bigint, {rows - 1}) AS t(i)"
        )
        conn.execute(f"ANALYZE {TABLE}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="rows in the DuckDB table")
    parser.add_argument("--iterations", type=int, default=500, help="govern() calls per query")
    parser.add_argument("--repeats", type=int, default=5, help="executions per aggregate")
    parser.add_argument(
        "--postgres",
        metavar="DSN",
        help="also run part 2 on PostgreSQL (needs CREATE rights; the table is dropped afterwards)",
    )
    parser.add_argument("--pg-rows", type=int, default=1_000_000, help="rows in the PG table")
    parser.add_argument(
        "--overhead-only", action="store_true", help="run part 1 (and 1b) only, no warehouse"
    )
    args = parser.parse_args()

    bench_overhead(args.iterations)
    bench_grants(args.iterations)
    if args.overhead_only:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        started = time.perf_counter()
        build_duckdb(path, args.rows)
        print(
            f"\n   (built {args.rows:,}-row DuckDB table in {time.perf_counter() - started:.1f}s)"
        )
        bench_execution(warehouse_from_url(f"duckdb://{path}"), "duckdb", args.rows, args.repeats)
    if args.postgres:
        build_postgres(args.postgres, args.pg_rows)
        try:
            warehouse = warehouse_from_url(args.postgres)
            bench_execution(warehouse, "postgres", args.pg_rows, args.repeats)
        finally:
            import psycopg

            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f"DROP TABLE IF EXISTS {TABLE}")


if __name__ == "__main__":
    main()
