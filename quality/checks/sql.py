"""Compile a product's checks into the statements one run sends. Pure Python, sqlglot only.

The plan (see DESIGN.md, "Quality checks"):

- every column-level aggregate of the product goes into ONE fused scan:
  ``count(*)``, ``count(*) FILTER (WHERE col IS NULL)``, ``max(col)``,
  ``count(*) FILTER (WHERE col IS NOT NULL AND NOT col IN (...))``, range filters, ...
  Aggregates shared by several checks (a ``not_null`` check and the schema's
  ``nullable: false``) are computed once;
- each ``unique`` column gets its own statement (measured faster than fusing
  ``count(DISTINCT col)`` into the scan on both engines; see ``UNIQUE_STYLE``);
- each ``custom_sql`` check is one statement carrying the owner's SQL; the runner passes it
  through the custom-SQL gate before sending it;
- what the catalog already proves is not computed: a column the warehouse declares NOT NULL
  needs no null count.

All SQL is built as a sqlglot AST (quoted identifiers, literal nodes) and generated for the
dialect; no user string is ever pasted into SQL text. Each statement names the result keys
its output columns carry (``Statement.outputs``), so evaluation never depends on aliases.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlglot import exp

from .specs import CHECK_TYPES, COLUMN_CHECK_TYPES, SLA_MAX_STALE_HOURS, CheckSpec, ProductSpec

# Result keys: what one output column of a statement means.
ROWS = "rows"


def nulls_key(column: str) -> str:
    """Key of the NULL count of `column`."""
    return f"nulls:{column}"


def dupes_key(column: str) -> str:
    """Key of `column`'s non-null rows minus its distinct non-null values."""
    return f"dupes:{column}"


def newest_key(column: str) -> str:
    """Key of `max(column)`."""
    return f"newest:{column}"


def outside_key(index: int) -> str:
    """Key of the out-of-bounds row count of check number `index` (range, accepted_values)."""
    return f"outside:{index}"


def custom_key(index: int) -> str:
    """Key of the number returned by custom_sql check number `index`."""
    return f"custom:{index}"


# How `unique` is computed, per dialect: "fused" puts `count(col) - count(DISTINCT col)` into
# the scan; "distinct" runs that expression as its own statement; "group" runs
# `SELECT coalesce(sum(c - 1), 0) FROM (SELECT count(*) c ... GROUP BY col HAVING count(*) > 1)`.
# All three mean rows minus distinct values. Measured with bench/quality.py (2 cores, 1M and 5M
# shuffled unique BIGINT keys): a DISTINCT fused into the scan stops the scan's other
# aggregates from running in parallel, so a separate statement wins or ties on both engines;
# on PostgreSQL (work_mem 4MB) the GROUP BY's hash aggregate spills to disk for a column that
# is nearly all distinct (which is what a unique column is), and the sort behind
# count(DISTINCT) was about 2x faster (0.28 s vs 0.64 s at 1M rows), the reverse of the
# figure in DESIGN.md; on DuckDB the two are within noise.
UNIQUE_STYLE: Mapping[str, str] = {"duckdb": "distinct", "postgres": "distinct"}


@dataclass(frozen=True)
class Statement:
    """One SQL statement of a run; `outputs[i]` is the result key of output column i."""

    sql: str
    params: tuple[object, ...]
    purpose: str  # "scan" | "unique:<column>" | "custom_sql:<check>" | "scan:<key>" (split)
    outputs: tuple[str, ...]


@dataclass
class Plan:
    """The exact set of statements one product run sends, in order."""

    statements: list[Statement] = field(default_factory=list)


def param_problem(check: CheckSpec, spec: ProductSpec) -> str | None:
    """Why `check` cannot run as declared (bad type, column or params), or None."""
    p = check.params
    if check.type not in CHECK_TYPES:
        return f"unknown check type {check.type!r}"
    if check.type in COLUMN_CHECK_TYPES and not check.column:
        return f"{check.type} check needs a column"
    if check.type == "accepted_values":
        values = p.get("values")
        if not isinstance(values, list | tuple) or not values:
            return "accepted_values needs params.values, a non-empty list"
        if any(_literal(v) is None for v in values):
            return "params.values may hold only strings, numbers and booleans"
    elif check.type == "range":
        if p.get("min") is None and p.get("max") is None:
            return "range needs params.min and/or params.max"
        for bound in ("min", "max"):
            if p.get(bound) is not None and _literal(p[bound]) is None:
                return f"params.{bound} must be a number, a date or a timestamp"
    elif check.type == "freshness":
        hours = p.get("maxStaleHours")
        if hours is None and spec.freshness_sla not in SLA_MAX_STALE_HOURS:
            return f"no params.maxStaleHours and unknown SLA freshness {spec.freshness_sla!r}"
        if hours is not None and not _is_number(hours):
            return "params.maxStaleHours must be a number"
    elif check.type == "row_count":
        for bound in ("minRows", "maxRows"):
            if p.get(bound) is not None and not _is_number(p[bound]):
                return f"params.{bound} must be a number"
    elif check.type == "custom_sql":
        if not isinstance(p.get("sql"), str) or not str(p.get("sql")).strip():
            return "custom_sql needs params.sql"
    return None


def compile_plan(
    spec: ProductSpec,
    dialect: str,
    *,
    known_not_null: frozenset[str] = frozenset(),
    unique_style: str | None = None,
    split_scan: bool = False,
) -> Plan:
    """Compile `spec` into statements; `split_scan` sends one statement per aggregate instead.

    Steps: collect the scan aggregates every runnable check (and every `nullable: false`
    column) needs, deduplicated by key; emit the fused scan; then one grouping statement per
    `unique` column; then one statement per `custom_sql` check. Checks with a
    `param_problem` are left out (evaluate reports them).
    """
    style = unique_style or UNIQUE_STYLE.get(dialect, "distinct")
    table = _table(spec.table)
    aggregates: dict[str, exp.Expr] = {}
    unique_columns: list[str] = []
    customs: list[tuple[int, CheckSpec]] = []

    for index, check in enumerate(spec.checks):
        if param_problem(check, spec) is not None:
            continue
        column = check.column or ""
        if check.type == "row_count":
            aggregates[ROWS] = _count_star()
        elif check.type == "not_null":
            if column not in known_not_null:
                aggregates[nulls_key(column)] = _count_where(_col(column).is_(exp.null()))
        elif check.type == "unique":
            if style == "fused":
                aggregates[dupes_key(column)] = _rows_minus_distinct(column)
            elif column not in unique_columns:
                unique_columns.append(column)
        elif check.type == "accepted_values":
            values = [_literal(v) for v in _as_list(check.params.get("values"))]
            outside = exp.not_(exp.In(this=_col(column), expressions=values))
            aggregates[outside_key(index)] = _count_where(_non_null_and(column, outside))
        elif check.type == "range":
            aggregates[outside_key(index)] = _count_where(
                _non_null_and(column, _out_of_range(column, check.params))
            )
        elif check.type == "freshness":
            aggregates[ROWS] = _count_star()  # tells "no rows" from "all NULL"
            aggregates[newest_key(column)] = exp.Max(this=_col(column))
        elif check.type == "custom_sql":
            customs.append((index, check))

    for column_spec in spec.columns:
        if not column_spec.nullable and column_spec.name not in known_not_null:
            aggregates[nulls_key(column_spec.name)] = _count_where(
                _col(column_spec.name).is_(exp.null())
            )

    plan = Plan()
    if aggregates:
        if ROWS not in aggregates:
            aggregates = {ROWS: _count_star(), **aggregates}
        if split_scan:
            for key, aggregate in aggregates.items():
                plan.statements.append(_scan(table, {key: aggregate}, dialect, f"scan:{key}"))
        else:
            plan.statements.append(_scan(table, aggregates, dialect, "scan"))
    for column in unique_columns:
        plan.statements.append(
            Statement(
                sql=_unique_sql(table, column, style).sql(dialect=dialect),
                params=(),
                purpose=f"unique:{column}",
                outputs=(dupes_key(column),),
            )
        )
    for index, check in customs:
        plan.statements.append(
            Statement(
                sql=str(check.params["sql"]),
                params=(),
                purpose=f"custom_sql:{check.name}",
                outputs=(custom_key(index),),
            )
        )
    return plan


def scan_floor_sql(table: str, columns: Iterable[str], dialect: str) -> str:
    """A bare scan reading `columns` (the cost floor the fused scan is measured against)."""
    selects: list[exp.Expr] = [exp.Count(this=_col(c)) for c in columns] or [_count_star()]
    return exp.select(*selects).from_(_table(table)).sql(dialect=dialect)


def unique_floor_sql(table: str, column: str, dialect: str, *, style: str = "group") -> str:
    """The distinct count a `unique` check cannot avoid (its floor): GROUP BY or DISTINCT."""
    if style == "distinct":
        selects = exp.Count(this=exp.Distinct(expressions=[_col(column)]))
        return exp.select(selects).from_(_table(table)).sql(dialect=dialect)
    groups = exp.select(_col(column)).from_(_table(table)).group_by(_col(column))
    return exp.select(_count_star()).from_(groups.subquery("d")).sql(dialect=dialect)


def _scan(
    table: exp.Table, aggregates: Mapping[str, exp.Expr], dialect: str, purpose: str
) -> Statement:
    selects = [exp.alias_(agg, f"a{i}") for i, agg in enumerate(aggregates.values())]
    sql = exp.select(*selects).from_(table.copy()).sql(dialect=dialect)
    return Statement(sql=sql, params=(), purpose=purpose, outputs=tuple(aggregates))


def _rows_minus_distinct(column: str) -> exp.Expr:
    return exp.Sub(
        this=exp.Count(this=_col(column)),
        expression=exp.Count(this=exp.Distinct(expressions=[_col(column)])),
    )


def _unique_sql(table: exp.Table, column: str, style: str) -> exp.Select:
    if style != "group":
        return exp.select(exp.alias_(_rows_minus_distinct(column), "dupes")).from_(table.copy())
    # rows minus distinct values = sum over duplicated values of (count - 1)
    groups = (
        exp.select(exp.alias_(_count_star(), "c"))
        .from_(table.copy())
        .where(exp.not_(_col(column).is_(exp.null())))
        .group_by(_col(column))
        .having(exp.GT(this=_count_star(), expression=exp.Literal.number(1)))
    )
    total = exp.Coalesce(
        this=exp.Sum(this=exp.Sub(this=exp.column("c"), expression=exp.Literal.number(1))),
        expressions=[exp.Literal.number(0)],
    )
    return exp.select(exp.alias_(total, "dupes")).from_(groups.subquery("d"))


def _out_of_range(column: str, params: Mapping[str, object]) -> exp.Expr:
    conditions: list[exp.Expr] = []
    low, high = params.get("min"), params.get("max")
    if low is not None:
        conditions.append(exp.LT(this=_col(column), expression=_literal(low)))
    if high is not None:
        conditions.append(exp.GT(this=_col(column), expression=_literal(high)))
    return exp.or_(*conditions) if len(conditions) > 1 else conditions[0]


def _non_null_and(column: str, condition: exp.Expr) -> exp.Expr:
    # NULLs are never "outside": a NOT IN / comparison against NULL is unknown anyway, but
    # spelling it out keeps the intent obvious and survives any rewrite of the condition.
    return exp.and_(exp.not_(_col(column).is_(exp.null())), exp.paren(condition, copy=False))


def _count_star() -> exp.Expr:
    return exp.Count(this=exp.Star())


def _count_where(condition: exp.Expr) -> exp.Expr:
    return exp.Filter(this=_count_star(), expression=exp.Where(this=condition))


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _table(name: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name, quoted=True))


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _literal(value: object) -> exp.Expr | None:
    """A literal node for a param value, or None when the value has no safe SQL spelling."""
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if _is_number(value):
        return exp.Literal.number(value)  # int | float, checked above
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, datetime | date):
        return exp.Literal.string(value.isoformat())
    return None
