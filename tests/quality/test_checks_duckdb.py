"""run_product against a real DuckDB file: every check type, error paths, statement count."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from quality.checks import CheckOutcome, CheckSpec, ColumnSpec, ProductSpec, RunReport, run_product
from quality.checks.gate import GatedSql
from querying.warehouses.base import Result, Warehouse, WarehouseColumn
from querying.warehouses.duckdb import DuckDBWarehouse

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

# Shared with test_checks_postgres.py: plain SQL both engines accept.
SETUP_SQL = """
CREATE TABLE shop_orders (
    id BIGINT NOT NULL, code VARCHAR(10), email VARCHAR(50), status VARCHAR(10),
    amount DOUBLE PRECISION, created_at TIMESTAMP, meta JSON, tags VARCHAR[]
);
INSERT INTO shop_orders (id, code, email, status, amount, created_at, meta) VALUES
    (1, 'a', 'x@example.com', 'new',   -1,   TIMESTAMP '2025-05-31 09:00:00', '{"k": 1}'),
    (2, 'a', NULL,            'paid',  5,    TIMESTAMP '2025-06-01 10:00:00', NULL),
    (3, 'a', 'y@example.com', 'bogus', 200,  NULL,                            NULL),
    (4, 'b', NULL,            NULL,    NULL, TIMESTAMP '2025-05-30 00:00:00', NULL),
    (5, NULL, 'z@example.com', 'paid', 50,   TIMESTAMP '2025-06-01 09:00:00', NULL);
CREATE TABLE shop_empty (id BIGINT NOT NULL, created_at TIMESTAMP);
"""

ORDERS_COLUMNS = (
    ColumnSpec("id", "integer", nullable=False),
    ColumnSpec("code", "string"),
    ColumnSpec("email", "string", nullable=False),  # declared, but the data has NULLs
    ColumnSpec("status", "string"),
    ColumnSpec("amount", "float"),
    ColumnSpec("created_at", "timestamp"),
    ColumnSpec("meta", "json"),
    ColumnSpec("tags", "array"),
)

ORDERS_CHECKS = (
    CheckSpec("id_not_null", "not_null", "error", "id"),
    CheckSpec("email_not_null", "not_null", "warning", "email"),
    CheckSpec("id_unique", "unique", "error", "id"),
    CheckSpec("code_unique", "unique", "warning", "code"),
    CheckSpec("status_ok", "accepted_values", "error", "status", {"values": ["new", "paid"]}),
    CheckSpec("amount_range", "range", "error", "amount", {"min": 0, "max": 100}),
    CheckSpec("amount_min_only", "range", "error", "amount", {"min": -1}),
    CheckSpec("amount_max_only", "range", "error", "amount", {"max": 100}),
    CheckSpec("fresh", "freshness", "error", "created_at", {"maxStaleHours": 4}),
    CheckSpec("rows", "row_count", "error", None, {"minRows": 1, "maxRows": 10}),
    CheckSpec(
        "no_negative",
        "custom_sql",
        "error",
        None,
        {"sql": "SELECT count(*) FROM orders WHERE amount < 0"},
    ),
    CheckSpec(
        "all_good", "custom_sql", "warning", None, {"sql": "SELECT 0 FROM shop.orders LIMIT 1"}
    ),
)

# (status, value) per check, the same on both engines.
EXPECTED = {
    "id_not_null": ("passed", 0.0),  # NOT NULL in the warehouse: proven, not scanned
    "email_not_null": ("failed", 2.0),
    "id_unique": ("passed", 0.0),
    "code_unique": ("failed", 2.0),  # 4 non-null rows, 2 distinct values
    "status_ok": ("failed", 1.0),  # 'bogus'; the NULL is not counted
    "amount_range": ("failed", 2.0),  # -1 and 200; the NULL is not counted
    "amount_min_only": ("passed", 0.0),
    "amount_max_only": ("failed", 1.0),
    "fresh": ("passed", 2.0),  # newest 10:00 naive = UTC, now 12:00
    "rows": ("passed", 5.0),
    "no_negative": ("failed", 1.0),
    "all_good": ("passed", 0.0),
    "schema:email:nullable": ("failed", 2.0),
}


def orders_spec(**changes: object) -> ProductSpec:
    """The shop.orders product, physical table shop_orders."""
    fields: dict[str, object] = {
        "product_id": "shop.orders",
        "table": "shop_orders",
        "columns": ORDERS_COLUMNS,
        "checks": ORDERS_CHECKS,
        "freshness_sla": "1h",
    }
    fields.update(changes)
    return ProductSpec(**fields)  # type: ignore[arg-type]


def by_name(report: RunReport) -> dict[str, tuple[str, float | None]]:
    """check name -> (status, value)."""
    return {o.check_name: (o.status, o.value) for o in report.outcomes}


def outcome_of(report: RunReport, name: str) -> CheckOutcome:
    """The outcome called `name`."""
    (found,) = [o for o in report.outcomes if o.check_name == name]
    return found


class Recorder:
    """A warehouse proxy that records every call (the statement-count proof)."""

    def __init__(self, inner: Warehouse) -> None:
        self.inner = inner
        self.kind = inner.kind
        self.dialect = inner.dialect
        self.schema = inner.schema
        self.executed: list[str] = []
        self.looked_up: list[str] = []

    def execute(
        self,
        sql: str,
        params: Sequence[object] = (),
        *,
        timeout_s: float,
        max_rows: int | None = None,
        session: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> Result:
        self.executed.append(sql)
        return self.inner.execute(
            sql,
            params,
            timeout_s=timeout_s,
            max_rows=max_rows,
            session=session,
            max_bytes=max_bytes,
        )

    def columns(self, table: str) -> list[WarehouseColumn] | None:
        self.looked_up.append(table)
        return self.inner.columns(table)

    def tables(self) -> list[str]:
        return self.inner.tables()


@pytest.fixture
def warehouse(tmp_path: Path) -> DuckDBWarehouse:
    path = tmp_path / "warehouse.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute(SETUP_SQL)
    conn.execute("CREATE TABLE shop_big AS SELECT range AS id FROM range(200000)")
    conn.close()
    return DuckDBWarehouse(path)


def test_every_check_type_against_real_duckdb(warehouse: DuckDBWarehouse) -> None:
    report = run_product(warehouse, orders_spec(), now=NOW)
    assert by_name(report) == EXPECTED
    assert report.table_reachable
    assert report.newest_value_at == datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
    assert outcome_of(report, "email_not_null").severity == "warning"
    assert not report.passed


def test_one_run_sends_one_scan_one_statement_per_unique_and_per_unfolded_custom_sql(
    warehouse: DuckDBWarehouse,
) -> None:
    recorder = Recorder(warehouse)
    report = run_product(recorder, orders_spec(), now=NOW)
    assert recorder.looked_up == ["shop_orders"]
    # 1 fused scan (no_negative, a filtered count, is one of its aggregates) + its extremes
    # (freshness's newest value) + 2 unique columns + 1 custom_sql check of another shape
    # (all_good: SELECT 0 ... LIMIT 1)
    assert len(recorder.executed) == 5 == report.statements_sent
    assert sum("COUNT_IF(" in sql for sql in recorder.executed) == 1  # DuckDB: count_if
    assert sum('("amount") < 0' in sql for sql in recorder.executed) == 1
    assert sum("DISTINCT" in sql for sql in recorder.executed) == 2
    assert by_name(report)["no_negative"] == EXPECTED["no_negative"]


def test_empty_table(warehouse: DuckDBWarehouse) -> None:
    spec = ProductSpec(
        "shop.empty",
        "shop_empty",
        (ColumnSpec("id", "integer", nullable=False), ColumnSpec("created_at", "timestamp")),
        (
            CheckSpec("fresh", "freshness", "error", "created_at"),
            CheckSpec("rows", "row_count", "error", None, {"minRows": 1}),
            CheckSpec("few", "row_count", "error", None, {"maxRows": 3}),
            CheckSpec("nn", "not_null", "error", "created_at"),
            CheckSpec("u", "unique", "error", "id"),
            CheckSpec("r", "range", "error", "id", {"min": 1}),
        ),
        "1h",
    )
    report = run_product(warehouse, spec, now=NOW)
    assert by_name(report) == {
        "fresh": ("failed", None),
        "rows": ("failed", 0.0),
        "few": ("passed", 0.0),
        "nn": ("passed", 0.0),
        "u": ("passed", 0.0),
        "r": ("passed", 0.0),
    }
    assert outcome_of(report, "fresh").message == "no rows"
    assert report.newest_value_at is None


def test_missing_table_errors_every_check(warehouse: DuckDBWarehouse) -> None:
    report = run_product(warehouse, orders_spec(table="nope"), now=NOW)
    assert not report.table_reachable
    assert {o.status for o in report.outcomes} == {"error"}
    assert len(report.outcomes) == len(ORDERS_CHECKS) + 1
    assert all(o.message == "table nope does not exist" for o in report.outcomes)
    assert not any(o.passed for o in report.outcomes)


def test_warehouse_down_errors_every_check(tmp_path: Path) -> None:
    report = run_product(DuckDBWarehouse(tmp_path / "missing.duckdb"), orders_spec(), now=NOW)
    assert not report.table_reachable
    assert {o.status for o in report.outcomes} == {"error"}
    assert report.outcomes[0].message.startswith("warehouse unavailable: ")


def test_missing_column_and_type_mismatch(warehouse: DuckDBWarehouse) -> None:
    spec = orders_spec(
        columns=(
            ColumnSpec("id", "string"),
            ColumnSpec("ghost", "integer"),
            ColumnSpec("amount", "integer"),
        ),
        checks=(
            CheckSpec("ghost_nn", "not_null", "error", "ghost"),
            CheckSpec("status_fresh", "freshness", "error", "status"),
            CheckSpec("rows", "row_count", params={"minRows": 1}),
        ),
    )
    report = run_product(warehouse, spec, now=NOW)
    assert by_name(report) == {
        "schema:id": ("failed", None),
        "schema:ghost": ("failed", None),
        "schema:amount": ("failed", None),
        "ghost_nn": ("error", None),
        "status_fresh": ("error", None),
        "rows": ("passed", 5.0),
    }
    assert outcome_of(report, "ghost_nn").message == "column ghost does not exist in shop_orders"
    assert "VARCHAR" in outcome_of(report, "status_fresh").message


def test_refused_and_bad_custom_sql_are_errors(warehouse: DuckDBWarehouse) -> None:
    sqls = {
        "drop": "DROP TABLE shop_orders",
        "file": "SELECT * FROM read_csv('/etc/passwd')",
        "other": "SELECT count(*) FROM shop_empty",
        "bad_column": "SELECT count(*) FROM orders WHERE no_such_column > 0",
        "no_rows": "SELECT 1 FROM orders WHERE false",
        "text": "SELECT 'zero'",
    }
    checks = tuple(CheckSpec(n, "custom_sql", "error", None, {"sql": s}) for n, s in sqls.items())
    report = run_product(warehouse, orders_spec(checks=checks), now=NOW)
    messages = {o.check_name: o.message for o in report.outcomes if o.check_name in sqls}
    assert {o.status for o in report.outcomes if o.check_name in sqls} == {"error"}
    assert messages["drop"].startswith("custom SQL refused: ")
    assert "only named tables may appear in FROM" in messages["file"]
    assert "unknown table shop_empty" in messages["other"]
    assert "no_such_column" in messages["bad_column"]
    assert messages["no_rows"].startswith("custom checks return a single count")
    assert "returned text" in messages["text"] and "zero" not in messages["text"]
    # refused SQL never reaches the warehouse: the scan, then bad_column, no_rows, text
    assert report.statements_sent == 4


def test_an_injected_gate_replaces_the_default_one(warehouse: DuckDBWarehouse) -> None:
    def refuse_all(sql: str) -> GatedSql:
        raise PermissionError("governor says no")

    check = CheckSpec("c", "custom_sql", "error", None, {"sql": "SELECT 0"})
    report = run_product(
        warehouse, orders_spec(columns=(), checks=(check,)), now=NOW, custom_sql_gate=refuse_all
    )
    assert by_name(report) == {"c": ("error", None)}
    assert report.outcomes[0].message == "custom SQL refused: governor says no"


def test_timeout_on_a_heavy_custom_query_is_an_error(warehouse: DuckDBWarehouse) -> None:
    heavy = "SELECT count(*) FROM shop_big a JOIN shop_big b ON a.id < b.id"
    spec = ProductSpec(
        "shop.big",
        "shop_big",
        columns=(ColumnSpec("id", "integer"),),
        checks=(
            CheckSpec("heavy", "custom_sql", "error", None, {"sql": heavy}),
            CheckSpec("after", "custom_sql", "error", None, {"sql": "SELECT 0"}),
        ),
    )
    report = run_product(warehouse, spec, now=NOW, timeout_s=0.5)
    assert [(o.check_name, o.status) for o in report.outcomes] == [
        ("heavy", "error"),
        ("after", "error"),  # the run's time budget is spent
    ]
    assert report.outcomes[0].message.startswith("timed out (custom_sql:heavy)")
    assert report.elapsed_ms < 5000


def test_one_bad_check_does_not_take_the_fused_scan_down_with_it(
    warehouse: DuckDBWarehouse,
) -> None:
    checks = (
        CheckSpec("email_not_null", "not_null", "error", "email"),
        CheckSpec("ids", "accepted_values", "error", "id", {"values": ["one", "two"]}),
        CheckSpec("rows", "row_count", params={"minRows": 1}),
    )
    recorder = Recorder(warehouse)
    report = run_product(recorder, orders_spec(columns=(), checks=checks), now=NOW)
    assert by_name(report) == {
        "email_not_null": ("failed", 2.0),
        "ids": ("error", None),
        "rows": ("passed", 5.0),
    }
    assert "Conversion Error" in outcome_of(report, "ids").message
    assert report.statements_sent == 1 + 3  # the fused scan, then one per aggregate


def test_extremes_read_apart_are_the_rows_extremes_after_deletes_and_updates(
    tmp_path: Path,
) -> None:
    """DuckDB answers an extremes-only statement from its column statistics (EXTREMES_APART);
    once rows are deleted or updated those are only bounds, and the values must still be the
    rows' own (the engine scans then)."""
    path = tmp_path / "changed.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute(
        "CREATE TABLE shop_changed AS SELECT i AS id, i * 1.5 AS amount, "
        "TIMESTAMP '2025-06-01 00:00:00' - to_minutes(i) AS created_at FROM range(300000) r(i)"
    )
    conn.execute("DELETE FROM shop_changed WHERE id >= 299990 OR id = 0")
    conn.execute("UPDATE shop_changed SET amount = -7 WHERE id = 5")
    conn.close()
    spec = ProductSpec(
        "shop.changed",
        "shop_changed",
        (
            ColumnSpec("id", "integer"),
            ColumnSpec("amount", "float"),
            ColumnSpec("created_at", "timestamp"),
        ),
        (CheckSpec("fresh", "freshness", "error", "created_at"),),
        "24h",
    )
    recorder = Recorder(DuckDBWarehouse(path))
    report = run_product(recorder, spec, now=NOW, profile=True, profile_sample=False)
    scan, extremes = recorder.executed
    assert "MIN(" not in scan and "MAX(" not in scan, scan
    assert extremes.count("MIN(") == 3 and extremes.count("MAX(") == 3, extremes
    assert "COUNT(" not in extremes, extremes
    assert report.profile is not None
    columns = {c["name"]: c for c in report.profile["columns"]}
    assert (columns["id"]["min"], columns["id"]["max"]) == (1, 299989)
    assert (columns["amount"]["min"], columns["amount"]["max"]) == (-7, 299989 * 1.5)
    assert by_name(report)["fresh"] == ("passed", 12.0 + 1 / 60)  # newest: id 1, 1 minute back
