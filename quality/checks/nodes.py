"""The sqlglot nodes check types compile to, and the result keys naming their values. Pure.

All SQL is built as an AST (quoted identifiers, literal nodes) and generated for the dialect;
no user string is ever pasted into SQL text. A result key says what one output column of a
statement means, so evaluation never depends on aliases.
"""

from __future__ import annotations

import math
from datetime import date, datetime

from sqlglot import exp

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


def col(name: str) -> exp.Column:
    """A quoted column reference."""
    return exp.column(name, quoted=True)


def table(name: str) -> exp.Table:
    """A quoted table reference."""
    return exp.Table(this=exp.to_identifier(name, quoted=True))


def count_star() -> exp.Expr:
    """``count(*)``."""
    return exp.Count(this=exp.Star())


def count_where(condition: exp.Expr) -> exp.Expr:
    """``count(*) FILTER (WHERE condition)``."""
    return exp.Filter(this=count_star(), expression=exp.Where(this=condition))


def null_count(column: str) -> exp.Expr:
    """How many rows hold NULL in `column`."""
    return count_where(col(column).is_(exp.null()))


def non_null_and(column: str, condition: exp.Expr) -> exp.Expr:
    """``NOT column IS NULL AND (condition)``."""
    # NULLs are never "outside": a NOT IN / comparison against NULL is unknown anyway, but
    # spelling it out keeps the intent obvious and survives any rewrite of the condition.
    return exp.and_(exp.not_(col(column).is_(exp.null())), exp.paren(condition, copy=False))


def rows_minus_distinct(column: str) -> exp.Expr:
    """``count(column) - count(DISTINCT column)``: the duplicate non-null rows."""
    return exp.Sub(
        this=exp.Count(this=col(column)),
        expression=exp.Count(this=exp.Distinct(expressions=[col(column)])),
    )


def is_finite_number(value: object) -> bool:
    """An int or float (not a boolean) that is finite."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def literal(value: object) -> exp.Expr | None:
    """A literal node for a param value, or None when the value has no safe SQL spelling."""
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if is_finite_number(value):
        return exp.Literal.number(value)  # int | float, checked above
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, datetime | date):
        return exp.Literal.string(value.isoformat())
    return None
