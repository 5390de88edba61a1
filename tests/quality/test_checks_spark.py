"""run_product against a real Spark Connect server (issue 18): the same checks, the same values.

Marked ``spark`` (and ``integration``): skipped unless the run has Spark (tests/support/spark.py:
``PORTAL_TEST_SPARK=1`` starts a local Spark Connect server once per test run).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from quality.checks import CheckSpec, ColumnSpec, ProductSpec, run_product
from querying.warehouses import Warehouse, warehouse_from_url
from tests.support.spark import spark_warehouse

from .test_checks_duckdb import EXPECTED, NOW, Recorder, by_name, orders_spec

pytestmark = [pytest.mark.integration, pytest.mark.spark]

# SETUP_SQL in Spark's words: parquet tables, a STRUCT for JSON, ARRAY<STRING> for VARCHAR[].
SPARK_SETUP = [
    "CREATE TABLE shop_orders (id BIGINT NOT NULL, code VARCHAR(10), email VARCHAR(50), "
    "status VARCHAR(10), amount DOUBLE, created_at TIMESTAMP_NTZ, meta STRUCT<k: INT>, "
    "tags ARRAY<STRING>) USING parquet",
    "INSERT INTO shop_orders (id, code, email, status, amount, created_at, meta) VALUES "
    "(1, 'a', 'x@example.com', 'new', -1, TIMESTAMP_NTZ '2025-05-31 09:00:00', "
    "named_struct('k', 1)), "
    "(2, 'a', NULL, 'paid', 5, TIMESTAMP_NTZ '2025-06-01 10:00:00', NULL), "
    "(3, 'a', 'y@example.com', 'bogus', 200, NULL, NULL), "
    "(4, 'b', NULL, NULL, NULL, TIMESTAMP_NTZ '2025-05-30 00:00:00', NULL), "
    "(5, NULL, 'z@example.com', 'paid', 50, TIMESTAMP_NTZ '2025-06-01 09:00:00', NULL)",
    "CREATE TABLE shop_empty (id BIGINT NOT NULL, created_at TIMESTAMP) USING parquet",
    "CREATE TABLE shop_big USING parquet AS SELECT id FROM range(200000)",
    "CREATE TABLE shop_events (at TIMESTAMP, day DATE) USING parquet",
    "INSERT INTO shop_events VALUES (TIMESTAMP '2025-06-01 13:00:00+02:00', DATE '2025-06-01'), "
    "(NULL, NULL)",
]


@pytest.fixture(scope="module")
def warehouse() -> Iterator[Warehouse]:
    with spark_warehouse(SPARK_SETUP) as url:
        yield warehouse_from_url(url)


def test_every_check_type_against_real_spark(warehouse: Warehouse) -> None:
    recorder = Recorder(warehouse)
    report = run_product(recorder, orders_spec(), now=NOW)
    assert by_name(report) == EXPECTED
    assert report.table_reachable
    assert report.newest_value_at == datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
    # one fused scan (no_negative folded in) + 2 unique + all_good's own statement
    assert len(recorder.executed) == 4 == report.statements_sent
    assert recorder.looked_up == ["shop_orders"]


def test_spark_type_names_conform(warehouse: Warehouse) -> None:
    columns = {c.name: c for c in warehouse.columns("shop_orders") or []}
    assert columns["created_at"].type == "TIMESTAMP_NTZ"
    assert columns["tags"].type == "ARRAY<STRING>"
    assert columns["meta"].type == "STRUCT<K:INT>"  # a json column in the contract
    # Spark's file tables report every column nullable (NOT NULL is not kept): scanned instead.
    assert columns["id"].nullable is True
    spec = orders_spec(checks=(CheckSpec("rows", "row_count", params={"minRows": 1}),))
    outcomes = by_name(run_product(warehouse, spec, now=NOW))
    assert {k: v for k, v in outcomes.items() if k.startswith("schema:")} == {
        "schema:email:nullable": ("failed", 2.0)
    }


def test_timestamp_and_date_freshness(warehouse: Warehouse) -> None:
    spec = ProductSpec(
        "shop.events",
        "shop_events",
        columns=(ColumnSpec("at", "timestamp"), ColumnSpec("day", "timestamp")),
        checks=(
            CheckSpec("at_fresh", "freshness", "error", "at", {"maxStaleHours": 1}),
            CheckSpec("day_fresh", "freshness", "error", "day", {"maxStaleHours": 6}),
        ),
    )
    report = run_product(warehouse, spec, now=NOW)
    assert by_name(report) == {
        "at_fresh": ("passed", 1.0),  # 13:00+02 is 11:00 UTC
        "day_fresh": ("failed", 12.0),  # a DATE is midnight UTC
    }


def test_empty_and_missing_tables(warehouse: Warehouse) -> None:
    spec = ProductSpec(
        "shop.empty",
        "shop_empty",
        (ColumnSpec("id", "integer", nullable=False), ColumnSpec("created_at", "timestamp")),
        (
            CheckSpec("rows", "row_count", "error", None, {"minRows": 1}),
            CheckSpec("u", "unique", "error", "id"),
        ),
        "1h",
    )
    assert by_name(run_product(warehouse, spec, now=NOW)) == {
        "rows": ("failed", 0.0),
        "u": ("passed", 0.0),
    }
    report = run_product(warehouse, orders_spec(table="nope"), now=NOW)
    assert not report.table_reachable and {o.status for o in report.outcomes} == {"error"}


def test_refused_bad_and_heavy_custom_sql_are_errors(warehouse: Warehouse) -> None:
    sqls = {
        "drop": "DROP TABLE shop_orders",
        "file": "SELECT count(*) FROM parquet.`/etc`",
        "reflect": "SELECT count(*) FROM orders WHERE reflect('java.lang.System', 'exit', 1) > 0",
        "other": "SELECT count(*) FROM shop_empty",
        "bad_column": "SELECT count(*) FROM orders WHERE no_such_column > 0",
    }
    checks = tuple(CheckSpec(n, "custom_sql", "error", None, {"sql": s}) for n, s in sqls.items())
    report = run_product(warehouse, orders_spec(checks=checks), now=NOW)
    custom = [o for o in report.outcomes if o.check_name in sqls]
    assert {o.status for o in custom} == {"error"}
    assert report.statements_sent == 2  # the scan and bad_column; the rest never left
    assert "no_such_column" in custom[-1].message.lower()

    # A range join: a nested loop Spark could not cancel, refused before it runs
    # (querying/warehouses/spark.py, relates_its_tables).
    nested = "SELECT count(*) FROM shop_big a JOIN shop_big b ON a.id < b.id"
    # An equi-join of 40 million rows, each hashed: minutes uncapped, cancelled at the cap.
    heavy = (
        "SELECT count(DISTINCT sha2(repeat(CAST(a.id AS STRING), 100), 256)) "
        "FROM shop_big a JOIN shop_big b ON a.id % 1000 = b.id % 1000"
    )
    spec = ProductSpec(
        "shop.big",
        "shop_big",
        columns=(ColumnSpec("id", "integer"),),
        checks=(
            CheckSpec("nested", "custom_sql", "error", None, {"sql": nested}),
            CheckSpec("heavy", "custom_sql", "error", None, {"sql": heavy}),
        ),
    )
    report = run_product(warehouse, spec, now=NOW, timeout_s=1.0)
    nested_outcome, heavy_outcome = report.outcomes
    assert nested_outcome.status == "error"
    assert "without an equality between them" in nested_outcome.message
    assert heavy_outcome.status == "error"
    assert heavy_outcome.message.startswith("timed out (custom_sql:heavy)")
    assert report.elapsed_ms < 15000
