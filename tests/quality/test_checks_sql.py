"""quality/checks/sql.py: compiled SQL as text (pure, no database)."""

from __future__ import annotations

import pytest

from quality.checks import CheckSpec, ColumnSpec, ProductSpec, compile_plan
from quality.checks.sql import ROWS, dupes_key, newest_key, nulls_key, outside_key


def _spec(*checks: CheckSpec, columns: tuple[ColumnSpec, ...] = ()) -> ProductSpec:
    return ProductSpec("shop.orders", "shop_orders", columns, checks, "1h")


ALL = _spec(
    CheckSpec("email_nn", "not_null", column="email"),
    CheckSpec("id_unique", "unique", column="id"),
    CheckSpec("status_ok", "accepted_values", column="status", params={"values": ["a", "b"]}),
    CheckSpec("amount_ok", "range", column="amount", params={"min": 0, "max": 10}),
    CheckSpec("fresh", "freshness", column="ts"),
    CheckSpec("rows", "row_count", params={"minRows": 1}),
    CheckSpec("custom", "custom_sql", params={"sql": "SELECT 0"}),
)


def test_every_column_aggregate_goes_into_one_scan() -> None:
    plan = compile_plan(ALL, "duckdb")
    assert [s.purpose for s in plan.statements] == [
        "scan",
        "extremes",
        "unique:id",
        "custom_sql:custom",
    ]
    scan = plan.statements[0]
    # DuckDB counts with count_if (much faster than FILTER there; 0, not NULL, over no rows),
    # and reads the extremes apart, where its statistics answer them (EXTREMES_APART).
    assert scan.sql == (
        'SELECT COALESCE(COUNT_IF("email" IS NULL), 0) AS a0, '
        "COALESCE(COUNT_IF(NOT \"status\" IS NULL AND (NOT \"status\" IN ('a', 'b'))), 0) AS a1, "
        'COALESCE(COUNT_IF(NOT "amount" IS NULL AND ("amount" < 0 OR "amount" > 10)), 0) AS a2, '
        'COUNT(*) AS a3 FROM "shop_orders"'
    )
    extremes = plan.statements[1]
    assert extremes.sql == 'SELECT MAX("ts") AS a0 FROM "shop_orders"'
    assert extremes.outputs == (newest_key("ts"),)
    assert compile_plan(ALL, "postgres").statements[0].sql == (
        'SELECT COUNT(*) FILTER(WHERE "email" IS NULL) AS a0, '
        "COUNT(*) FILTER(WHERE NOT \"status\" IS NULL AND (NOT \"status\" IN ('a', 'b'))) AS a1, "
        'COUNT(*) FILTER(WHERE NOT "amount" IS NULL AND ("amount" < 0 OR "amount" > 10)) AS a2, '
        'COUNT(*) AS a3, MAX("ts") AS a4 FROM "shop_orders"'
    )
    assert scan.outputs == (nulls_key("email"), outside_key(2), outside_key(3), ROWS)
    assert compile_plan(ALL, "postgres").statements[0].outputs == (*scan.outputs, newest_key("ts"))
    assert scan.params == ()


def test_unique_is_rows_minus_distinct_in_its_own_statement_on_both_engines() -> None:
    for dialect in ("duckdb", "postgres"):
        [unique] = [s for s in compile_plan(ALL, dialect).statements if s.purpose == "unique:id"]
        assert unique.sql == 'SELECT COUNT("id") - COUNT(DISTINCT "id") AS dupes FROM "shop_orders"'
        assert unique.outputs == (dupes_key("id"),)


def test_group_style_unique_sums_duplicate_rows_not_duplicated_values() -> None:
    unique = compile_plan(ALL, "postgres", unique_style="group").statements[1]
    assert unique.sql == (
        'SELECT COALESCE(SUM(c - 1), 0) AS dupes FROM (SELECT COUNT(*) AS c FROM "shop_orders" '
        'WHERE NOT "id" IS NULL GROUP BY "id" HAVING COUNT(*) > 1) AS d'
    )


def test_fused_unique_style_puts_distinct_count_into_the_scan() -> None:
    plan = compile_plan(ALL, "duckdb", unique_style="fused")
    assert [s.purpose for s in plan.statements] == ["scan", "extremes", "custom_sql:custom"]
    assert 'COUNT("id") - COUNT(DISTINCT "id")' in plan.statements[0].sql
    assert dupes_key("id") in plan.statements[0].outputs


def test_identifiers_and_values_are_quoted_never_pasted() -> None:
    spec = ProductSpec(
        "shop.orders",
        'evil"; DROP TABLE x; --',
        (),
        (
            CheckSpec("c", "not_null", column='a"b'),
            CheckSpec("v", "accepted_values", column="s", params={"values": ["it's", "x"]}),
        ),
    )
    sql = compile_plan(spec, "postgres").statements[0].sql
    assert 'FROM "evil""; DROP TABLE x; --"' in sql
    assert '"a""b" IS NULL' in sql
    assert "('it''s', 'x')" in sql


def test_min_only_and_max_only_ranges() -> None:
    spec = _spec(
        CheckSpec("lo", "range", column="n", params={"min": 5}),
        CheckSpec("hi", "range", column="n", params={"max": -1.5}),
    )
    sql = compile_plan(spec, "duckdb").statements[0].sql
    assert 'NOT "n" IS NULL AND ("n" < 5)' in sql
    assert 'NOT "n" IS NULL AND ("n" > -1.5)' in sql


def test_known_not_null_column_needs_no_null_count() -> None:
    spec = _spec(
        CheckSpec("id_nn", "not_null", column="id"),
        columns=(ColumnSpec("id", "integer", nullable=False),),
    )
    assert compile_plan(spec, "duckdb", known_not_null=frozenset({"id"})).statements == []
    plan = compile_plan(spec, "duckdb")
    assert plan.statements[0].outputs == (ROWS, nulls_key("id"))  # computed once, shared


def test_nullable_false_column_gets_a_null_count_from_the_same_scan() -> None:
    spec = _spec(
        CheckSpec("rows", "row_count", params={"minRows": 1}),
        columns=(ColumnSpec("email", "string", nullable=False), ColumnSpec("x", "string")),
    )
    (scan,) = compile_plan(spec, "postgres").statements
    assert scan.outputs == (ROWS, nulls_key("email"))


def test_split_scan_sends_one_statement_per_aggregate() -> None:
    plan = compile_plan(ALL, "duckdb", split_scan=True)
    assert [s.purpose for s in plan.statements] == [
        "scan:nulls:email",
        "scan:outside:2",
        "scan:outside:3",
        "scan:rows",
        "scan:newest:ts",
        "unique:id",
        "custom_sql:custom",
    ]


@pytest.mark.parametrize(
    "check",
    [
        CheckSpec("x", "no_such_type", column="a"),
        CheckSpec("x", "not_null"),
        CheckSpec("x", "range", column="a", params={}),
        CheckSpec("x", "range", column="a", params={"min": {"a": 1}}),
        CheckSpec("x", "accepted_values", column="a", params={"values": []}),
        CheckSpec("x", "accepted_values", column="a", params={"values": "abc"}),
        CheckSpec("x", "accepted_values", column="a", params={"values": [None]}),
        CheckSpec("x", "custom_sql", params={}),
        CheckSpec("x", "row_count", params={"minRows": "ten"}),
        CheckSpec("x", "freshness", column="a", params={"maxStaleHours": float("nan")}),
    ],
)
def test_checks_with_bad_params_are_left_out_of_the_sql(check: CheckSpec) -> None:
    assert compile_plan(_spec(check), "duckdb").statements == []


def test_no_checks_no_statements() -> None:
    assert compile_plan(_spec(), "duckdb").statements == []
