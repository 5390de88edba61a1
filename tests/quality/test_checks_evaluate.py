"""quality/checks/evaluate.py: rows -> outcomes, with a fixed `now` (pure, no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from quality.checks import CheckOutcome, CheckSpec, ColumnSpec, ProductSpec, compile_plan, evaluate
from quality.checks.gate import CustomSqlRefused
from quality.checks.sql import Statement
from querying.warehouses.base import QueryTimeout, Result, WarehouseError

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def _spec(*checks: CheckSpec, columns: tuple[ColumnSpec, ...] = (), sla: str = "1h") -> ProductSpec:
    return ProductSpec("shop.orders", "shop_orders", columns, checks, sla)


def _run(
    spec: ProductSpec,
    values: dict[str, object],
    *,
    fail: dict[str, BaseException] | None = None,
    known_not_null: frozenset[str] = frozenset(),
) -> list[CheckOutcome]:
    """Answer each compiled statement from `values` (by result key), or fail it by purpose."""
    plan = compile_plan(spec, "duckdb", known_not_null=known_not_null)
    results: dict[Statement, Result | BaseException] = {}
    for statement in plan.statements:
        if fail and statement.purpose in fail:
            results[statement] = fail[statement.purpose]
        else:
            row = tuple(values[key] for key in statement.outputs)
            results[statement] = Result(columns=list(statement.outputs), rows=[row])
    return evaluate(spec, results, now=NOW, known_not_null=known_not_null)


def _one(check: CheckSpec, values: dict[str, object], **kwargs: object) -> CheckOutcome:
    return _run(_spec(check), values, **kwargs)[0]  # type: ignore[arg-type]


NN = CheckSpec("email_nn", "not_null", "warning", "email")


def test_not_null_passes_at_zero_and_fails_with_the_null_count() -> None:
    ok = _one(NN, {"rows": 5, "nulls:email": 0})
    assert (ok.status, ok.passed, ok.value, ok.severity) == ("passed", True, 0.0, "warning")
    bad = _one(NN, {"rows": 5, "nulls:email": 3})
    assert (bad.status, bad.passed, bad.value) == ("failed", False, 3.0)
    assert bad.message == "3 NULL values in email"


def test_not_null_on_all_null_column_counts_every_row() -> None:
    assert _one(NN, {"rows": 4, "nulls:email": 4}).value == 4.0


def test_not_null_on_a_warehouse_not_null_column_passes_without_a_value_from_the_scan() -> None:
    out = _one(NN, {}, known_not_null=frozenset({"email"}))
    assert (out.status, out.value) == ("passed", 0.0)


def test_unique_value_is_rows_minus_distinct() -> None:
    check = CheckSpec("u", "unique", column="id")
    assert _one(check, {"dupes:id": 0}).status == "passed"
    out = _one(check, {"dupes:id": Decimal(3)})
    assert (out.status, out.value) == ("failed", 3.0)


@pytest.mark.parametrize("kind", ["accepted_values", "range"])
def test_outside_counts_fail_above_zero(kind: str) -> None:
    params: dict[str, object] = {"values": ["a"]} if kind == "accepted_values" else {"min": 0}
    check = CheckSpec("c", kind, column="x", params=params)
    assert _one(check, {"rows": 9, "outside:0": 0}).status == "passed"
    out = _one(check, {"rows": 9, "outside:0": 2})
    assert (out.status, out.value) == ("failed", 2.0)
    assert "2 rows with x not" in out.message


def test_freshness_hours_since_newest_value_against_max_stale_hours() -> None:
    check = CheckSpec("f", "freshness", column="ts", params={"maxStaleHours": 2})
    fresh = _one(check, {"rows": 1, "newest:ts": NOW - timedelta(hours=1, minutes=30)})
    assert (fresh.status, fresh.value) == ("passed", 1.5)
    stale = _one(check, {"rows": 1, "newest:ts": NOW - timedelta(hours=3)})
    assert (stale.status, stale.value) == ("failed", 3.0)


def test_freshness_naive_timestamps_are_utc_and_aware_ones_are_converted() -> None:
    check = CheckSpec("f", "freshness", column="ts", params={"maxStaleHours": 24})
    naive = _one(check, {"rows": 1, "newest:ts": datetime(2025, 6, 1, 10, 0)})
    assert naive.value == 2.0
    plus2 = timezone(timedelta(hours=2))
    aware = _one(check, {"rows": 1, "newest:ts": datetime(2025, 6, 1, 12, 0, tzinfo=plus2)})
    assert aware.value == 2.0
    day = _one(check, {"rows": 1, "newest:ts": date(2025, 6, 1)})
    assert day.value == 12.0


@pytest.mark.parametrize(
    ("sla", "hours_old", "status"),
    [("realtime", 0.2, "passed"), ("realtime", 0.3, "failed"), ("1h", 0.9, "passed"),
     ("4h", 4.5, "failed"), ("24h", 23.0, "passed")],
)  # fmt: skip
def test_freshness_defaults_to_the_sla(sla: str, hours_old: float, status: str) -> None:
    spec = _spec(CheckSpec("f", "freshness", column="ts"), sla=sla)
    newest = NOW - timedelta(hours=hours_old)
    assert _run(spec, {"rows": 1, "newest:ts": newest})[0].status == status


def test_freshness_on_an_empty_table_fails_with_no_rows() -> None:
    out = _one(CheckSpec("f", "freshness", column="ts"), {"rows": 0, "newest:ts": None})
    assert (out.status, out.value, out.message) == ("failed", None, "no rows")


def test_freshness_with_only_null_timestamps_fails() -> None:
    out = _one(CheckSpec("f", "freshness", column="ts"), {"rows": 3, "newest:ts": None})
    assert out.status == "failed" and "no non-null" in out.message


def test_freshness_unknown_sla_without_max_stale_hours_is_an_error() -> None:
    spec = _spec(CheckSpec("f", "freshness", column="ts"), sla="weekly")
    assert _run(spec, {})[0].status == "error"


def test_row_count_bounds() -> None:
    both = CheckSpec("r", "row_count", params={"minRows": 2, "maxRows": 4})
    assert _one(both, {"rows": 2}).status == "passed"
    assert _one(both, {"rows": 4}).status == "passed"
    assert _one(both, {"rows": 1}).status == "failed"
    assert _one(both, {"rows": 5}).value == 5.0
    assert _one(CheckSpec("r", "row_count", params={"maxRows": 3}), {"rows": 0}).passed


@pytest.mark.parametrize("params", [{}, {"minRows": None}, {"minRows": None, "maxRows": None}])
def test_row_count_without_bounds_is_an_error_as_the_contract_refuses_it(
    params: dict[str, object],
) -> None:
    # Issue 14: the evaluator used to default to minRows: 1 where the contract refused the
    # check; the stricter rule won, so the engine never runs what the contract would refuse.
    for rows in (0, 1):
        out = _one(CheckSpec("r", "row_count", params=params), {"rows": rows})
        assert (out.status, out.passed, out.value) == ("error", False, None)
        assert out.message == "params: row_count needs params.minRows and/or params.maxRows"


def test_row_count_with_min_rows_one_fails_an_empty_table() -> None:
    check = CheckSpec("r", "row_count", params={"minRows": 1})
    assert _one(check, {"rows": 0}).status == "failed"
    assert _one(check, {"rows": 1}).status == "passed"


CUSTOM = CheckSpec("c", "custom_sql", params={"sql": "SELECT 0"})


def test_custom_sql_passes_at_zero_only() -> None:
    assert _one(CUSTOM, {"custom:0": 0}).status == "passed"
    out = _one(CUSTOM, {"custom:0": 7})
    assert (out.status, out.value) == ("failed", 7.0)


@pytest.mark.parametrize("value", [None, "zero", True])
def test_custom_sql_without_a_number_is_an_error(value: object) -> None:
    assert _one(CUSTOM, {"custom:0": value}).status == "error"


def test_custom_sql_returning_no_rows_is_an_error() -> None:
    spec = _spec(CUSTOM)
    (statement,) = compile_plan(spec, "duckdb").statements
    (out,) = evaluate(spec, {statement: Result(columns=["x"], rows=[])}, now=NOW)
    assert out.status == "error" and out.message.startswith("custom checks return a single count")


def test_refused_custom_sql_is_an_error_with_the_gate_message() -> None:
    out = _one(CUSTOM, {}, fail={"custom_sql:c": CustomSqlRefused("DROP is not allowed")})
    assert out.status == "error" and out.message == "custom SQL refused: DROP is not allowed"


def test_a_failed_scan_errors_every_check_it_served_and_never_passes_them() -> None:
    spec = _spec(
        NN,
        CheckSpec("r", "row_count", params={"minRows": 1}),
        CheckSpec("u", "unique", column="id"),
        columns=(ColumnSpec("email", "string", nullable=False),),
    )
    outcomes = _run(spec, {"dupes:id": 0}, fail={"scan": QueryTimeout("exceeded 1s")})
    assert [(o.check_name, o.status) for o in outcomes] == [
        ("email_nn", "error"),
        ("r", "error"),
        ("u", "passed"),
        ("schema:email:nullable", "error"),
    ]
    assert outcomes[0].message == "timed out (scan): exceeded 1s"
    other = _run(spec, {"dupes:id": 0}, fail={"scan": WarehouseError("boom")})
    assert other[1].message == "query failed (scan): boom"


def test_a_statement_that_was_never_sent_is_an_error() -> None:
    spec = _spec(NN)
    (out,) = evaluate(spec, {}, now=NOW)
    assert out.status == "error" and "not sent" in out.message


def test_unknown_check_type_is_an_error() -> None:
    out = _one(CheckSpec("weird", "median", column="x"), {})
    assert (out.status, out.passed) == ("error", False)


def test_nullable_false_column_with_nulls_is_a_schema_failure() -> None:
    spec = _spec(columns=(ColumnSpec("email", "string", nullable=False),))
    (out,) = _run(spec, {"rows": 3, "nulls:email": 2})
    assert (out.check_name, out.type, out.status, out.value) == (
        "schema:email:nullable", "schema", "failed", 2.0
    )  # fmt: skip
    assert _run(spec, {"rows": 3, "nulls:email": 0}) == []
    assert _run(spec, {}, known_not_null=frozenset({"email"})) == []
