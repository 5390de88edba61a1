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
  through the custom-SQL gate before sending it, except a check whose governed statement is
  ``SELECT COUNT(*) FROM <its product> [WHERE ...]``: that one is a filtered count of the scan
  (``lifted``, gate.filtered_count);
- with ``profile``, the scan also computes each column's profile aggregates (profile.py);
- on DuckDB the scan's bare extremes (``min(col)``, ``max(col)``) are a statement of their
  own, which the engine answers from its statistics (``EXTREMES_APART``);
- what the catalog already proves is not computed: a column the warehouse declares NOT NULL
  needs no null count.

What each check type computes is declared in types.py; this module assembles the plan. All
SQL is built as a sqlglot AST (nodes.py: quoted identifiers, literal nodes) and generated for
the dialect; no user string is ever pasted into SQL text. Each statement names the result keys
its output columns carry (``Statement.outputs``), so evaluation never depends on aliases.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlglot import exp

from .gate import FilteredCount
from .nodes import (
    ROWS,
    col,
    count_star,
    custom_key,
    dupes_key,
    newest_key,
    null_count,
    nulls_key,
    outside_key,
)
from .nodes import table as table_node
from .specs import CheckSpec, ProductSpec
from .types import Aggregate, Compiling, Query, declaration

__all__ = [
    "ROWS",
    "UNIQUE_STYLE",
    "Plan",
    "Statement",
    "compile_plan",
    "custom_key",
    "dupes_key",
    "newest_key",
    "nulls_key",
    "outside_key",
    "param_problem",
    "scan_floor_sql",
    "unique_floor_sql",
]

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
# Where the scan's bare ``min(col)`` / ``max(col)`` (the profile's extremes, freshness's newest
# value) go into a statement of their own. DuckDB 2.0 answers an aggregate of nothing but
# extremes from its column statistics (a 1 ms "Column Data Scan"), but reads every row once
# one of them shares a statement with anything else: 10M rows, the draft's scan 133 ms with
# its six extremes, 100 ms + 1 ms apart. Where the statistics cannot answer (rows deleted or
# updated), the extremes statement scans its columns alone (18 ms against 17 ms fused).
EXTREMES_APART = frozenset({"duckdb"})


@dataclass(frozen=True)
class Statement:
    """One SQL statement of a run; `outputs[i]` is the result key of output column i."""

    sql: str
    params: tuple[object, ...]
    # "scan" | "extremes" | "unique:<column>" | "custom_sql:<check>" | "scan:<key>" (split)
    purpose: str
    outputs: tuple[str, ...]
    owner_sql: bool = False  # the owner's SQL (custom_sql): gated, one row with one count
    # Session variables the statement reads (a lifted custom check's hash key); never logged.
    session: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class Plan:
    """The exact set of statements one product run sends, in order."""

    statements: list[Statement] = field(default_factory=list)


def param_problem(check: CheckSpec, spec: ProductSpec) -> str | None:
    """Why `check` cannot run as declared (unknown type, its column or params), or None.

    The rules are the contract's (types.py): a check the contract refuses is never run.
    """
    declared = declaration(check.type)
    if declared is None:
        return f"unknown check type {check.type!r}"
    problems = declared.problems(check)
    if problems:
        return str(problems[0])
    return declared.runnable(check, spec) if declared.runnable else None


def compile_plan(
    spec: ProductSpec,
    dialect: str,
    *,
    known_not_null: frozenset[str] = frozenset(),
    unique_style: str | None = None,
    split_scan: bool = False,
    lifted: Mapping[int, FilteredCount] | None = None,
    profile: Mapping[str, exp.Expr] | None = None,
) -> Plan:
    """Compile `spec` into statements; `split_scan` sends one statement per aggregate instead.

    Steps: ask each runnable check's declaration (types.py) for its parts: aggregates for the
    fused scan, deduplicated by key, or statements of its own (one per key, e.g. per `unique`
    column; a `custom_sql` check in `lifted` is an aggregate); add a NULL count per
    `nullable: false` column and the `profile` aggregates (profile.py); emit the scan (and,
    on `EXTREMES_APART` dialects, its bare extremes apart), then the engine's own statements,
    then the owners' SQL (`custom_sql`). Checks with a
    `param_problem` are left out (evaluate reports them).
    """
    style = unique_style or UNIQUE_STYLE.get(dialect, "distinct")
    at = Compiling(table_node(spec.table), dialect, known_not_null, style, dict(lifted or {}))
    aggregates: dict[str, exp.Expr] = {}
    sessions: dict[str, Mapping[str, str]] = {}
    queries: dict[str, Query] = {}

    for index, check in enumerate(spec.checks):
        declared = declaration(check.type)
        if declared is None or param_problem(check, spec) is not None:
            continue
        for part in declared.sql(check, index, at):
            if isinstance(part, Aggregate):
                aggregates[part.key] = part.expr
                if part.session:
                    sessions[part.key] = part.session
            else:
                queries.setdefault(part.key, part)

    for column_spec in spec.columns:
        if not column_spec.nullable and column_spec.name not in known_not_null:
            aggregates[nulls_key(column_spec.name)] = null_count(column_spec.name)
    for key, aggregate in (profile or {}).items():
        aggregates.setdefault(key, aggregate)  # shared with a check's aggregate of that key

    plan = Plan()
    if aggregates:
        if ROWS not in aggregates:
            aggregates = {ROWS: count_star(), **aggregates}
        if split_scan:
            for key, aggregate in aggregates.items():
                plan.statements.append(
                    _scan(at.table, {key: aggregate}, dialect, f"scan:{key}", sessions.get(key))
                )
        else:
            extremes = (
                {k: a for k, a in aggregates.items() if _is_extreme(a)}
                if dialect in EXTREMES_APART
                else {}
            )
            scanned = {k: a for k, a in aggregates.items() if k not in extremes}
            merged = {name: value for s in sessions.values() for name, value in s.items()}
            plan.statements.append(_scan(at.table, scanned, dialect, "scan", merged))
            if extremes:
                plan.statements.append(_scan(at.table, extremes, dialect, "extremes"))
    # The engine's own statements first, the owners' SQL last (in check order within each).
    for query in sorted(queries.values(), key=lambda q: q.owner_sql):
        plan.statements.append(
            Statement(
                sql=query.sql,
                params=(),
                purpose=query.purpose,
                outputs=(query.key,),
                owner_sql=query.owner_sql,
            )
        )
    return plan


def scan_floor_sql(table: str, columns: Iterable[str], dialect: str) -> str:
    """A bare scan reading `columns` (the cost floor the fused scan is measured against)."""
    selects: list[exp.Expr] = [exp.Count(this=col(c)) for c in columns] or [count_star()]
    return exp.select(*selects).from_(table_node(table)).sql(dialect=dialect)


def unique_floor_sql(table: str, column: str, dialect: str, *, style: str = "group") -> str:
    """The distinct count a `unique` check cannot avoid (its floor): GROUP BY or DISTINCT."""
    if style == "distinct":
        selects = exp.Count(this=exp.Distinct(expressions=[col(column)]))
        return exp.select(selects).from_(table_node(table)).sql(dialect=dialect)
    groups = exp.select(col(column)).from_(table_node(table)).group_by(col(column))
    return exp.select(count_star()).from_(groups.subquery("d")).sql(dialect=dialect)


def _is_extreme(node: exp.Expr) -> bool:
    """``min(col)`` or ``max(col)`` of a plain column (EXTREMES_APART)."""
    return isinstance(node, exp.Min | exp.Max) and isinstance(node.this, exp.Column)


def _count_if(node: exp.Expr) -> exp.Expr:
    """``count(*) FILTER (WHERE c)`` as DuckDB's ``coalesce(count_if(c), 0)``: the same count
    (rows where ``c`` is true), and much faster once a scan has several (DuckDB 2.0, 10M rows, 5
    filtered counts: 52 ms instead of 137 ms)."""
    if (
        isinstance(node, exp.Filter)
        and isinstance(node.this, exp.Count)
        and isinstance(node.this.this, exp.Star)
        and isinstance(node.expression, exp.Where)
    ):
        # count_if over no rows is NULL where count(*) FILTER is 0.
        return exp.Coalesce(
            this=exp.CountIf(this=node.expression.this), expressions=[exp.Literal.number(0)]
        )
    return node


def _scan(
    table: exp.Table,
    aggregates: Mapping[str, exp.Expr],
    dialect: str,
    purpose: str,
    session: Mapping[str, str] | None = None,
) -> Statement:
    selects = [exp.alias_(agg.copy(), f"a{i}") for i, agg in enumerate(aggregates.values())]
    tree: exp.Expr = exp.select(*selects).from_(table.copy())
    if dialect == "duckdb":
        tree = tree.transform(_count_if)
    sql = tree.sql(dialect=dialect)
    return Statement(
        sql=sql, params=(), purpose=purpose, outputs=tuple(aggregates), session=dict(session or {})
    )
