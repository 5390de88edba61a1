"""The one gate for `custom_sql` checks: the query governor, scoped to the check's own product.

A custom check's SQL goes through ``querying.governor.govern`` exactly as an analyst's query
does (one SELECT, the allowlist, names compared as the engine compares them, fail closed), with
a policy that lists only the check's own product (by id, short name or physical table): a check
reads its own product and nothing else.

It reads that product **through the PII masks** (issue 21): a check result is shown to everyone
who can read the product, mailed to its consumers and posted to Slack, so what a check computes
over a PII column must never be more than any reader could compute with a governed query. A
check over the masked view can still count NULLs, duplicates (the ``hash`` mask is injective)
and e-mail domains, but ``ascii(substr(email, 1, 1))`` sees ``*``, not a letter. Columns that
are not PII are read raw, as for every reader. The engine's result must be one integer count
(evaluate.py); the portal writes the message from that number, never from the data.

The adapters are hardened on top of this (DuckDB without external access, a PostgreSQL role
that can only SELECT, read-only transactions).

**Folded into the scan** (issue 15, ``filtered_count``): a check whose *governed* statement is
exactly ``SELECT COUNT(*) FROM (<the product's masked projection>) AS t [WHERE <condition>]`` is
computed by the run's fused scan as ``COUNT(*) FILTER (WHERE <condition'>)``, where
``<condition'>`` is the condition with every column replaced by its projection, i.e. by the
*masked* expression for a PII column. That is the same count the statement returns (inlining a
derived table's deterministic projections), read from the same rows through the same masks; the
lift is refused, and the check runs on its own, for anything else: joins, CTEs, subqueries
anywhere (they could read another product's rows or the table again), GROUP BY, HAVING, LIMIT,
OFFSET, ORDER BY, DISTINCT, QUALIFY, windows, aggregates or volatile functions in the
condition, lambdas, stars, positional or struct references, names the projection does not
define, a sampled or late-hashed projection (``derived_sql`` must match exactly), and any
declared column the warehouse lacks (the statement would fail on it; a lifted count would not).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from catalog.contract.vocabulary import DEFAULT_MASK
from querying.governor import ColumnPolicy, Policy, ProductPolicy, QueryRefused, govern
from querying.governor.core import DEFAULT_SCHEMA, derived_sql
from querying.governor.masks import is_key_expression
from querying.governor.names import ascii_lower, fold_identifier
from querying.governor.nodes import nonempty_args
from querying.governor.policy import NULL_MASK_TYPES

from .specs import ProductSpec


class CustomSqlRefused(ValueError):
    """A custom check's SQL was refused by the gate."""


@dataclass(frozen=True)
class GatedSql:
    """What a custom check sends: governed SQL and the session it reads (the hash key)."""

    sql: str
    session: Mapping[str, str] = field(default_factory=dict, repr=False)
    masked_columns: tuple[str, ...] = ()  # PII columns the check read through their masks


GateFunction = Callable[[str], GatedSql]
# When no key is given (publish-time validation only), hashes are computed with this stand-in;
# the key is never part of the SQL, so nothing else changes.
_VALIDATION_KEY = "validation-only"


def custom_check_policy(spec: ProductSpec, *, hash_key: str) -> Policy:
    """The product alone, PII columns masked: what a custom check of ``spec`` may read."""
    return Policy(
        products=(
            ProductPolicy(
                product_id=spec.product_id,
                table=spec.table,
                columns=tuple(
                    ColumnPolicy(
                        name=c.name,
                        mask=(c.mask or DEFAULT_MASK) if c.pii else None,
                        type=NULL_MASK_TYPES.get(c.type),
                    )
                    for c in spec.columns
                ),
                names=(spec.short_name,),
            ),
        ),
        hash_key=hash_key or _VALIDATION_KEY,
        max_rows=None,
    )


def gate_custom_sql(
    sql: str, *, spec: ProductSpec, dialect: str, hash_key: str = "", schema: str | None = None
) -> GatedSql:
    """The SQL to execute for a custom check of ``spec``, or raise CustomSqlRefused."""
    if not isinstance(sql, str) or not sql.strip():
        raise CustomSqlRefused("custom_sql needs params.sql: one SELECT returning a single count")
    if not spec.columns:
        raise CustomSqlRefused(f"{spec.product_id} declares no columns for custom SQL to read")
    try:
        governed = govern(
            sql, custom_check_policy(spec, hash_key=hash_key), dialect=dialect, schema=schema
        )
    except QueryRefused as exc:
        raise CustomSqlRefused(exc.message) from None
    return GatedSql(
        sql=governed.sql,
        session=dict(governed.session),
        masked_columns=tuple(c.name for c in spec.columns if c.pii),
    )


def make_default_gate(
    spec: ProductSpec, dialect: str, hash_key: str = "", schema: str | None = None
) -> GateFunction:
    """The gate for ``spec``'s custom checks in ``dialect`` (tables in ``schema``)."""

    def gate(sql: str) -> GatedSql:
        return gate_custom_sql(sql, spec=spec, dialect=dialect, hash_key=hash_key, schema=schema)

    return gate


# ---------------------------------------------------------------------------------------------
# Folding a governed count into the fused scan (issue 15; the rule is in the module docstring)
# ---------------------------------------------------------------------------------------------

LIFT_DIALECTS = frozenset({"duckdb", "postgres", "spark"})
_OUTER_ARGS = frozenset({"expressions", "from_", "where"})
_INNER_ARGS = frozenset({"expressions", "from_"})
# Nodes a lifted condition may not contain: anything that reads rows or tables (queries,
# subqueries, EXISTS, IN/ANY over a subquery), aggregates and windows (not per-row), lambdas
# (their parameters look like columns), stars, positional columns, parameters.
_NOT_PER_ROW: tuple[type[exp.Expression], ...] = tuple(
    cls
    for cls in (
        exp.Query,
        exp.Subquery,
        exp.Table,
        exp.AggFunc,
        exp.Window,
        exp.Lambda,
        exp.Star,
        exp.Placeholder,
        exp.Parameter,
        exp.Filter,
        getattr(exp, "Columns", None),
        getattr(exp, "PositionalColumn", None),
        exp.Rand,
        getattr(exp, "Uuid", None),
    )
    if isinstance(cls, type)
)
# Volatile functions the allowlist lets through by name: a count over them is not one number.
_VOLATILE = frozenset({"random", "rand", "uuid", "gen_random_uuid", "setseed", "uuidv4", "uuidv7"})


@dataclass(frozen=True)
class FilteredCount:
    """A custom check folded into the fused scan: ``COUNT(*) FILTER (WHERE condition)``.

    ``condition`` reads the physical table with every column replaced by its projection (the
    mask for a PII column); None counts every row. ``session`` is what the condition reads (the
    hash key), empty unless it uses a ``hash`` mask.
    """

    condition: exp.Expr | None
    session: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)


def filtered_count(
    gated: GatedSql,
    *,
    spec: ProductSpec,
    dialect: str,
    hash_key: str = "",
    schema: str | None = None,
) -> FilteredCount | None:
    """``gated`` (a governed custom check of ``spec``) as a filtered count, or None.

    None means the statement is not exactly ``SELECT COUNT(*) FROM <spec's masked projection>
    [WHERE <per-row condition>]``; such a check runs on its own.
    """
    if dialect not in LIFT_DIALECTS:
        return None
    try:
        parsed = [s for s in sqlglot.parse(gated.sql, read=dialect) if s is not None]
    except (SqlglotError, RecursionError, ValueError):
        return None
    if len(parsed) != 1 or type(parsed[0]) is not exp.Select:
        return None
    outer = parsed[0]
    if not _only_args(outer, _OUTER_ARGS) or not _is_count_star(outer.expressions):
        return None
    from_ = outer.args.get("from_")
    derived = from_.this if isinstance(from_, exp.From) else None
    if type(derived) is not exp.Subquery or not _only_args(derived, frozenset({"this", "alias"})):
        return None
    alias = derived.args.get("alias")
    inner = derived.this
    if (
        not isinstance(alias, exp.TableAlias)
        or alias.args.get("columns")
        or not isinstance(alias.this, exp.Identifier)
        or type(inner) is not exp.Select
        or not _only_args(inner, _INNER_ARGS)
    ):
        return None
    # The projection must be exactly the ordinary masked one of this product: no sampling, no
    # late hashing, no other table (derived_sql is what the governor splices in), of the
    # columns the condition names (the governor leaves the others out).
    kept = frozenset(ascii_lower(item.alias_or_name) for item in inner.expressions)
    expected = derived_sql(
        custom_check_policy(spec, hash_key=hash_key).products[0],
        dialect,
        schema or DEFAULT_SCHEMA[dialect],
        keep=kept,
    )
    if inner.sql(dialect=dialect, comments=False) != expected:
        return None
    projections = _projections(inner, dialect)
    if projections is None:
        return None
    where = outer.args.get("where")
    if where is None:
        return FilteredCount(None)
    condition = _substituted(where.this, projections, fold_identifier(alias.this, dialect), dialect)
    if condition is None:
        return None
    uses_key = any(is_key_expression(node, dialect) for node in condition.find_all(exp.Anonymous))
    return FilteredCount(condition, dict(gated.session) if uses_key else {})


def _only_args(node: exp.Expression, allowed: frozenset[str]) -> bool:
    """Whether every non-empty arg of ``node`` is in ``allowed``."""
    return nonempty_args(node) <= allowed


def _is_count_star(items: list[exp.Expression]) -> bool:
    """``COUNT(*)`` (aliased or not), without DISTINCT or FILTER."""
    if len(items) != 1:
        return False
    item = items[0].this if isinstance(items[0], exp.Alias) else items[0]
    return (
        type(item) is exp.Count
        and isinstance(item.this, exp.Star)
        and _only_args(item, frozenset({"this", "big_int"}))
    )


def _projections(inner: exp.Select, dialect: str) -> dict[str, exp.Expression | None] | None:
    """The derived table's columns by engine-folded name: their projected expressions (None for
    a name two columns share, which no condition may use)."""
    out: dict[str, exp.Expression | None] = {}
    for item in inner.expressions:
        if isinstance(item, exp.Column) and isinstance(item.this, exp.Identifier):
            key = fold_identifier(item.this, dialect)
            expression: exp.Expression = exp.column(item.name, quoted=True)
        elif isinstance(item, exp.Alias) and isinstance(item.args.get("alias"), exp.Identifier):
            key, expression = fold_identifier(item.args["alias"], dialect), item.this
        else:
            return None
        out[key] = None if key in out else expression
    return out


def _substituted(
    condition: exp.Expression,
    projections: Mapping[str, exp.Expression | None],
    alias: str,
    dialect: str,
) -> exp.Expr | None:
    """``condition`` with each column replaced by its projection; None if it is not per-row."""
    for node in condition.walk():
        if isinstance(node, _NOT_PER_ROW):
            return None
        if isinstance(node, exp.Anonymous) and str(node.this).lower() in _VOLATILE:
            return None
        if isinstance(node, exp.Column):
            if not isinstance(node.this, exp.Identifier) or node.args.get("db"):
                return None
            table = node.args.get("table")
            if table is not None and fold_identifier(table, dialect) != alias:
                return None
            if projections.get(fold_identifier(node.this, dialect)) is None:
                return None
    lifted = condition.copy()
    for column in list(lifted.find_all(exp.Column)):
        projection = projections[fold_identifier(column.this, dialect)]
        assert projection is not None  # checked above
        replacement = exp.Paren(this=projection.copy())
        if column is lifted:
            lifted = replacement
        else:
            column.replace(replacement)
    return lifted


__all__ = [
    "LIFT_DIALECTS",
    "CustomSqlRefused",
    "FilteredCount",
    "GateFunction",
    "GatedSql",
    "custom_check_policy",
    "filtered_count",
    "gate_custom_sql",
    "make_default_gate",
]
