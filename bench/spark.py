"""Benchmark the portal on Spark (issue 18): start-up, checks vs a full scan, governed vs raw.

    python bench/spark.py [--rows 10000000] [--repeats 3] [--url sc://host:15002 | spark://local[2]]

Without --url it starts a Spark Connect server of its own (pyspark's spark-submit, the machine's
Java 17, local[2], 127.0.0.1 on a free port, Spark's default settings otherwise) and stops it at
the end; --url uses a running server, or Spark inside this process (spark://local[N]). Tables go
into a scratch database, dropped at the end. Every statement goes through the portal's Spark
adapter, so per-statement costs are counted everywhere; ratios come from the same run (median of
--repeats after one warm-up run each). It prints:

- start-up: from launching the server (or opening the in-process session) to the first answer;
- one full scan of the checked columns of an N-row orders table (bench/quality.py's), and the
  product's checks through the check engine (run_product, the same code as a scheduled run)
  against it: the five scan checks against one scan (target <= 1.3x), and the six checks
  (a ``unique`` one too) against that scan plus the cheapest distinct count of the column,
  which a ``unique`` check cannot avoid (bench/quality.py's floor; target <= 1.3x);
- governed vs raw execution of bench/governed_query.py's aggregates on an N-row table, the
  governed statement as the governor writes it for a masked user, interleaved with the raw one
  (target <= 1.1x), and with the masks hand-written into the raw query;
- the governor's overhead: govern() alone over the typical queries, Spark and DuckDB dialects
  interleaved in the same run.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.governed_query import AGGREGATES, POLICY, TABLE, TYPICAL, hand_masked  # noqa: E402
from bench.quality import PRIME, SCANNED, UNIQUE_COLUMN, median_ms, product_spec  # noqa: E402
from quality.checks import ProductSpec, run_product  # noqa: E402
from quality.checks.sql import scan_floor_sql, unique_floor_sql  # noqa: E402
from querying.governor import govern  # noqa: E402
from querying.governor.masks import HASH_KEY_SETTING  # noqa: E402
from querying.warehouses import Warehouse, warehouse_from_url  # noqa: E402
from querying.warehouses.spark import forget_session, parse_url, session_for  # noqa: E402

NOW = datetime(2030, 1, 1, tzinfo=UTC)
TIMEOUT_S = 3600
SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
START_TIMEOUT_S = 300
CHECK_TARGET = 1.3
GOVERNED_TARGET = 1.1


# ------------------------------------------------------------------------------ Spark itself


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def connect_server(folder: Path, driver_memory: str) -> Iterator[tuple[str, float]]:
    """Start a local Spark Connect server; yield (its URL, seconds until it answered a query)."""
    import pyspark

    home = Path(pyspark.__file__).parent
    if shutil.which("java") is None:
        raise SystemExit("bench/spark.py: no java on PATH (Debian: openjdk-17-jre-headless)")
    port = _free_port()
    conf = {
        "spark.ui.enabled": "false",
        "spark.sql.catalogImplementation": "in-memory",
        # As the README says to size them: the portal's sessions run without adaptive execution.
        "spark.sql.shuffle.partitions": "4",
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        "spark.sql.warehouse.dir": str(folder / "warehouse"),
        "spark.driver.extraJavaOptions": f"-Djava.io.tmpdir={folder}",
    }
    command = [str(home / "bin" / "spark-submit"), "--class", SERVER_CLASS]
    command += ["--name", "portal-bench-spark", "--master", "local[2]"]
    command += ["--driver-memory", driver_memory]
    for key, value in conf.items():
        command += ["--conf", f"{key}={value}"]
    command.append("spark-internal")
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1"}
    env.pop("SPARK_REMOTE", None)
    log_path = folder / "server.log"
    started = time.perf_counter()
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own command line)
            command, env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    url = f"sc://127.0.0.1:{port}"
    try:
        while "Spark Connect server started" not in log_path.read_text(errors="replace"):
            if process.poll() is not None or time.perf_counter() - started > START_TIMEOUT_S:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise SystemExit(f"bench/spark.py: the Spark Connect server did not start:\n{tail}")
            time.sleep(0.2)
        warehouse_from_url(url).execute("SELECT 1", timeout_s=START_TIMEOUT_S)
        yield url, time.perf_counter() - started
    finally:
        close_session(url)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def close_session(url: str) -> None:
    """Close the adapter's session on a Spark Connect ``url`` while its server still runs (one
    left open would be closed at exit, where a gone server can hang the interpreter)."""
    if not url.startswith("sc://"):
        return  # in-process: stopping one session would stop Spark for all of them
    target = parse_url(url)
    with suppress(Exception):
        session_for(target).stop()
    forget_session(target)


def open_spark(url: str) -> float:
    """Seconds until the Spark at ``url`` answered its first query (an in-process session
    starts its JVM here)."""
    started = time.perf_counter()
    warehouse_from_url(url).execute("SELECT 1", timeout_s=START_TIMEOUT_S)
    return time.perf_counter() - started


# ------------------------------------------------------------------------------ the tables


def orders_sql(rows: int) -> str:
    """bench/quality.py's orders table in Spark SQL: ``id`` a permutation of 0..N-1."""
    return f"""
        SELECT CAST((id * {PRIME}) % {rows} AS BIGINT) AS id,
               CASE WHEN id % 50 = 0 THEN NULL
                    ELSE concat('user', CAST(id % 1000003 AS STRING), '@example.com') END AS email,
               element_at(array('new', 'paid', 'refunded', 'shipped'), CAST(id % 4 AS INT) + 1)
                 AS status,
               round(rand(42) * 1000, 2) AS amount,
               timestamp_seconds(1704067200 + (id * 7919) % {rows}) AS created_at
        FROM range({rows})
    """


def big_orders_sql(rows: int) -> str:
    """bench/governed_query.py's table in Spark SQL: customer ids scattered over the table."""
    return f"""
        SELECT id AS order_id,
               concat('U-', lpad(CAST((id * 7919) % 1000003 AS STRING), 10, '0')) AS user_id,
               concat('user', CAST(id % 1000003 AS STRING), '@example', CAST(id % 7 AS STRING),
                      '.test') AS email,
               concat('+1-555-', CAST(id % 9973 AS STRING)) AS phone,
               element_at(array('DE', 'FR', 'US', 'NL', 'SE', 'JP'), CAST(id % 6 AS INT) + 1)
                 AS country,
               CAST((id * 7919) % 1000 AS DOUBLE) AS amount,
               date_add(DATE '2024-01-01', CAST(id % 730 AS INT)) AS created_at
        FROM range({rows})
    """


def build_tables(url: str, database: str, rows: int) -> None:
    """Create the scratch database and both tables (parquet), through a session of Spark's."""
    spark = session_for(parse_url(url))
    spark.sql(f"CREATE DATABASE `{database}`")
    for table, select in (("orders", orders_sql(rows)), (TABLE, big_orders_sql(rows))):
        started = time.perf_counter()
        spark.sql(f"CREATE TABLE `{database}`.`{table}` USING parquet AS {select}")
        print(f"   built {table}: {rows:,} rows in {time.perf_counter() - started:.1f} s")


def drop_database(url: str, database: str) -> None:
    spark = session_for(parse_url(url))
    spark.sql(f"DROP DATABASE IF EXISTS `{database}` CASCADE")


# ------------------------------------------------------------------------------ the figures


def ratio_line(label: str, ms: float, base: float, target: float | None = None) -> str:
    verdict = ""
    if target is not None:
        verdict = "  (target <= {:.1f}x: {})".format(
            target, "met" if ms / base <= target else "NOT met"
        )
    return f"   {label:<44} {ms:9.0f} ms  {ms / base:5.2f}x{verdict}"


def bench_checks(warehouse: Warehouse, repeats: int) -> None:
    """The product's checks through the check engine against one full scan."""
    dialect = warehouse.dialect
    six = product_spec("orders")
    five = ProductSpec(
        product_id=six.product_id,
        table=six.table,
        columns=six.columns,
        checks=tuple(c for c in six.checks if c.type != "unique"),
        freshness_sla=six.freshness_sla,
    )
    for spec in (five, six):
        report = run_product(warehouse, spec, now=NOW, timeout_s=TIMEOUT_S)
        errors = [o for o in report.outcomes if o.status == "error"]
        assert not errors, errors
    print(f"\n1. checks vs one full scan (orders, median of {repeats})")
    for o in report.outcomes:
        print(f"   {o.check_name:<28} {o.status:<7} {o.message}")

    def run_sql(sql: str) -> Callable[[], object]:
        return lambda: warehouse.execute(sql, timeout_s=TIMEOUT_S)

    scan5 = median_ms(run_sql(scan_floor_sql("orders", SCANNED, dialect)), repeats)
    checks5 = median_ms(lambda: run_product(warehouse, five, now=NOW, timeout_s=TIMEOUT_S), repeats)
    scan = median_ms(run_sql(scan_floor_sql("orders", (UNIQUE_COLUMN, *SCANNED), dialect)), repeats)
    group = median_ms(run_sql(unique_floor_sql("orders", UNIQUE_COLUMN, dialect)), repeats)
    distinct = median_ms(
        run_sql(unique_floor_sql("orders", UNIQUE_COLUMN, dialect, style="distinct")), repeats
    )
    checks6 = median_ms(lambda: run_product(warehouse, six, now=NOW, timeout_s=TIMEOUT_S), repeats)
    floor = scan + min(group, distinct)
    print(f"   {'one full scan (4 checked columns)':<44} {scan5:9.0f} ms  1.00x")
    print(ratio_line("check run, 5 scan checks", checks5, scan5, CHECK_TARGET))
    print(
        f"   floor with `unique`: scan of 5 columns {scan:.0f} ms + distinct count "
        f"(GROUP BY {group:.0f} ms, count(DISTINCT) {distinct:.0f} ms)"
    )
    print(f"   {'scan + unique floor':<44} {floor:9.0f} ms  1.00x")
    print(ratio_line("check run, 6 checks (one unique)", checks6, floor, CHECK_TARGET))
    print(ratio_line("  the same, against the scan alone", checks6, scan5))


def bench_governed(warehouse: Warehouse, rows: int, repeats: int) -> None:
    """bench/governed_query.py's aggregates raw, governed and hand-masked, interleaved."""
    dialect = warehouse.dialect
    print(
        f"\n2. governed vs raw execution ({TABLE}, {rows:,} rows, median of {repeats}, "
        "a masked caller)"
    )
    print(
        f"   {'aggregate':<22} {'raw ms':>9} {'governed ms':>12} {'ratio':>7}"
        f" {'hand-masked ms':>15} {'gov/hand':>9}"
    )
    ratios: list[float] = []
    for label, template in AGGREGATES:
        raw_sql = template.format(t=TABLE)
        governed = govern(
            template.format(t="sales.big_orders"), POLICY, dialect=dialect, schema=warehouse.schema
        )
        session = governed.session or {HASH_KEY_SETTING[dialect]: POLICY.hash_key}
        floor_sql = hand_masked(raw_sql, dialect)
        variants = [raw_sql, governed.sql] + ([floor_sql] if floor_sql else [])
        for sql in variants:  # warm caches for every variant
            warehouse.execute(sql, timeout_s=TIMEOUT_S, session=session)
        times: list[list[float]] = [[] for _ in variants]
        for _ in range(repeats):
            for sql, out in zip(variants, times, strict=True):
                started = time.perf_counter()
                warehouse.execute(sql, timeout_s=TIMEOUT_S, max_rows=10000, session=session)
                out.append((time.perf_counter() - started) * 1000)
        r, g = statistics.median(times[0]), statistics.median(times[1])
        ratios.append(g / r)
        line = f"   {label:<22} {r:>9.1f} {g:>12.1f} {g / r:>7.2f}"
        if floor_sql:
            h = statistics.median(times[2])
            line += f" {h:>15.1f} {g / h:>9.2f}"
        print(line)
    worst = max(ratios)
    print(
        f"   governed/raw: median {statistics.median(ratios):.2f}, worst {worst:.2f} "
        f"(target <= {GOVERNED_TARGET:.1f}: {'met' if worst <= GOVERNED_TARGET else 'NOT met'})"
    )


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def bench_overhead(iterations: int) -> None:
    """govern() alone (parse, check, rewrite, print) per typical query, both dialects."""
    print(f"\n3. governor overhead (govern() only, {iterations} iterations per query, interleaved)")
    print(f"   {'query':<56} {'spark p50':>10} {'p95':>7} {'duckdb p50':>11} {'p95':>7}")
    every: dict[str, list[float]] = {"spark": [], "duckdb": []}
    for sql in TYPICAL:
        samples: dict[str, list[float]] = {"spark": [], "duckdb": []}
        for dialect in samples:  # warm the per-product projection cache
            govern(sql, POLICY, dialect=dialect)
        for _ in range(iterations):
            for dialect, out in samples.items():
                started = time.perf_counter()
                govern(sql, POLICY, dialect=dialect)
                out.append((time.perf_counter() - started) * 1e6)
        for dialect, out in samples.items():
            every[dialect] += out
        label = sql if len(sql) <= 54 else sql[:51] + "..."
        s, d = samples["spark"], samples["duckdb"]
        print(
            f"   {label:<56} {_pct(s, 50):>10.0f} {_pct(s, 95):>7.0f} "
            f"{_pct(d, 50):>11.0f} {_pct(d, 95):>7.0f}"
        )
    s, d = every["spark"], every["duckdb"]
    print(
        f"   {'ALL (µs)':<56} {_pct(s, 50):>10.0f} {_pct(s, 95):>7.0f} "
        f"{_pct(d, 50):>11.0f} {_pct(d, 95):>7.0f}"
    )


def run(url: str, startup: float, args: argparse.Namespace, how: str) -> None:
    print(f"Spark start-up: {startup:.1f} s ({how})")
    database = "bench_" + secrets.token_hex(4)
    build_tables(url, database, args.rows)
    try:
        warehouse = warehouse_from_url(f"{url};database={database}")
        started = time.perf_counter()
        warehouse.execute(
            scan_floor_sql("orders", (UNIQUE_COLUMN, *SCANNED), "spark"), timeout_s=TIMEOUT_S
        )
        print(f"   first full scan of orders (cold): {time.perf_counter() - started:.1f} s")
        bench_checks(warehouse, args.repeats)
        bench_governed(warehouse, args.rows, args.repeats)
    finally:
        drop_database(url, database)
        close_session(f"{url};database={database}")
    bench_overhead(args.iterations)


def main() -> None:
    """Parse arguments, start or open Spark, build the tables, run the benchmark, clean up."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=300, help="govern() calls per query")
    parser.add_argument(
        "--url",
        help="a running Spark Connect server (sc://host:port) or spark://local[N]; default: "
        "start a local Spark Connect server for this run",
    )
    parser.add_argument("--driver-memory", default="2g", help="of the server this run starts")
    args = parser.parse_args()
    if args.rows < 1 or args.repeats < 1 or args.iterations < 1:
        parser.error("--rows, --repeats and --iterations must be at least 1")
    load = os.getloadavg()
    print(
        f"rows={args.rows:,} repeats={args.repeats} cpus={os.cpu_count()} "
        f"load={load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    if args.url:
        if ";" in args.url:
            parser.error("--url without ;parameters: the benchmark picks its own database")
        how = "in-process session" if args.url.startswith("spark://") else "a running server"
        run(args.url, open_spark(args.url), args, f"{how}: first answer")
        return
    with (
        tempfile.TemporaryDirectory(prefix="bench-spark-") as folder,
        connect_server(Path(folder), args.driver_memory) as (url, startup),
    ):
        run(url, startup, args, "spark-submit of a Spark Connect server to its first answer")


if __name__ == "__main__":
    main()
