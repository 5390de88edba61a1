"""run_product against a real PostgreSQL (integration; skipped unless PORTAL_TEST_PG_URL is set)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from quality.checks import CheckSpec, ColumnSpec, ProductSpec, run_product
from querying.warehouses.postgres import PostgresWarehouse
from tests.support.pg import pg_warehouse

from .test_checks_duckdb import EXPECTED, NOW, SETUP_SQL, Recorder, by_name, orders_spec

pytestmark = pytest.mark.integration

BIG_SQL = """
CREATE TABLE shop_big AS SELECT g AS id FROM generate_series(1, 200000) g;
CREATE TABLE shop_events (at TIMESTAMPTZ, day DATE);
INSERT INTO shop_events VALUES ('2025-06-01 13:00:00+02', '2025-06-01'), (NULL, NULL);
"""


@pytest.fixture(scope="module")
def warehouse() -> Iterator[PostgresWarehouse]:
    with pg_warehouse(SETUP_SQL + BIG_SQL) as dsn:
        yield PostgresWarehouse(dsn)


def test_every_check_type_against_real_postgres(warehouse: PostgresWarehouse) -> None:
    recorder = Recorder(warehouse)
    report = run_product(recorder, orders_spec(), now=NOW)
    assert by_name(report) == EXPECTED
    assert report.newest_value_at == datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
    # the scan (with no_negative folded in) + 2 unique + all_good's own statement
    assert len(recorder.executed) == 4 == report.statements_sent
    assert recorder.looked_up == ["shop_orders"]


def test_group_style_unique_gives_the_same_values(warehouse: PostgresWarehouse) -> None:
    report = run_product(warehouse, orders_spec(), now=NOW, unique_style="group")
    assert by_name(report) == EXPECTED


def test_timestamptz_and_date_freshness(warehouse: PostgresWarehouse) -> None:
    spec = ProductSpec(
        "shop.events",
        "shop_events",
        columns=(ColumnSpec("at", "timestamp"), ColumnSpec("day", "timestamp")),
        checks=(
            CheckSpec("at_fresh", "freshness", "error", "at", {"maxStaleHours": 1}),
            CheckSpec("day_fresh", "freshness", "error", "day", {"maxStaleHours": 6}),
            CheckSpec("no_column", "freshness", "error", None, {"maxStaleHours": 1}),
        ),
    )
    report = run_product(warehouse, spec, now=NOW)
    assert by_name(report) == {
        "at_fresh": ("passed", 1.0),  # 13:00+02 is 11:00 UTC
        "day_fresh": ("failed", 12.0),  # a DATE is midnight UTC
        "no_column": ("error", None),
    }
    assert report.newest_value_at == datetime(2025, 6, 1, 11, 0, tzinfo=UTC)


def test_missing_table_and_missing_column(warehouse: PostgresWarehouse) -> None:
    report = run_product(warehouse, orders_spec(table="nope"), now=NOW)
    assert not report.table_reachable and {o.status for o in report.outcomes} == {"error"}
    spec = orders_spec(
        columns=(ColumnSpec("ghost", "string"), ColumnSpec("amount", "integer")),
        checks=(CheckSpec("ghost_u", "unique", "error", "ghost"),),
    )
    assert by_name(run_product(warehouse, spec, now=NOW)) == {
        "schema:ghost": ("failed", None),
        "schema:amount": ("failed", None),
        "ghost_u": ("error", None),
    }


def test_refused_bad_and_heavy_custom_sql_are_errors(warehouse: PostgresWarehouse) -> None:
    sqls = {
        "drop": "DROP TABLE shop_orders",
        "file": "SELECT pg_read_file('/etc/passwd')",
        "other": "SELECT count(*) FROM shop_empty",
        "catalog": "SELECT count(*) FROM pg_catalog.pg_roles",
        "bad_column": "SELECT count(*) FROM orders WHERE no_such_column > 0",
    }
    checks = tuple(CheckSpec(n, "custom_sql", "error", None, {"sql": s}) for n, s in sqls.items())
    report = run_product(warehouse, orders_spec(checks=checks), now=NOW)
    custom = [o for o in report.outcomes if o.check_name in sqls]
    assert {o.status for o in custom} == {"error"}
    assert report.statements_sent == 2  # the scan and bad_column; the rest never left
    assert "no_such_column" in custom[-1].message

    heavy = "SELECT count(*) FROM shop_big a JOIN shop_big b ON a.id < b.id"
    spec = ProductSpec(
        "shop.big",
        "shop_big",
        columns=(ColumnSpec("id", "integer"),),
        checks=(CheckSpec("heavy", "custom_sql", "error", None, {"sql": heavy}),),
    )
    report = run_product(warehouse, spec, now=NOW, timeout_s=0.5)
    assert report.outcomes[0].status == "error"
    assert report.outcomes[0].message.startswith("timed out (custom_sql:heavy)")


def test_one_bad_check_does_not_take_the_fused_scan_down_with_it(
    warehouse: PostgresWarehouse,
) -> None:
    checks = (
        CheckSpec("email_not_null", "not_null", "error", "email"),
        CheckSpec("ids", "accepted_values", "error", "id", {"values": ["one", "two"]}),
        CheckSpec("rows", "row_count", params={"minRows": 1}),
    )
    report = run_product(warehouse, orders_spec(columns=(), checks=checks), now=NOW)
    assert by_name(report) == {
        "email_not_null": ("failed", 2.0),
        "ids": ("error", None),
        "rows": ("passed", 5.0),
    }
