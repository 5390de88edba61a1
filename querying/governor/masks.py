"""Mask expressions, built as sqlglot trees so each dialect generates its own spelling.

Every mask casts the raw value to text first, so no mask can raise an error that would quote a
raw value, and every masked value is text (except "null", which keeps the column type if known).
"""

from __future__ import annotations

from sqlglot import exp

from .policy import Mask

# last4 reveals the last four characters only of values at least this long; shorter values
# would be (nearly) disclosed by their last four characters, so they become "***".
LAST4_MIN_LENGTH = 8


def _text(column: str) -> exp.Expression:
    return exp.Cast(this=exp.column(column, quoted=True), to=exp.DataType.build("text"))


def keep_null(value: exp.Expression, masked: exp.Expression) -> exp.Expression:
    """CASE WHEN value IS NULL THEN NULL ELSE masked END: NULL stays NULL."""
    return exp.Case(
        ifs=[exp.If(this=exp.Is(this=value, expression=exp.Null()), true=exp.Null())],
        default=masked,
    )


def _keep_null(column: str, masked: exp.Expression) -> exp.Expression:
    return keep_null(exp.column(column, quoted=True), masked)


def pretext(value: exp.Expression, dialect: str) -> exp.Expression:
    """``CAST(value AS TEXT)`` compared byte by byte: what the hash mask hashes.

    DuckDB: collation "binary", whatever the column's (a NOCASE column's hashes would otherwise
    compare case-insensitively, and its text, when grouped, would merge "A" and "a").
    PostgreSQL: collation "default", the database's, which is always deterministic (equal only
    when the bytes are); for an ordinary text column it is a no-op the planner removes ("C"
    would add a per-row expression to a grouping key, ~10 % on a 1M-row GROUP BY).
    Spark: no COLLATE (Spark refuses DuckDB's "binary"); a cast to STRING has the default
    collation UTF8_BINARY, which compares bytes.
    """
    text = exp.Cast(this=value, to=exp.DataType.build("text"))
    if dialect == "spark":
        return text
    collation = "default" if dialect == "postgres" else "binary"
    return exp.Collate(this=text, expression=exp.to_identifier(collation, quoted=True))


# Where each engine keeps the hash mask's key for the statement: a session variable the adapter
# sets before it runs the query (querying.warehouses: ``execute(..., session=...)``). The key is
# never a literal of the SQL, so no engine-chosen column name, error message or server log line
# can show it; users cannot read the variable (getvariable/current_setting are not allowed).
# Spark: a named parameter (``:portal_hash_key``) bound per statement (``spark.sql(args=)``);
# users cannot write one (placeholders are refused). Spark shows bound values in the plans of
# failed statements, which the adapter cuts from its error messages (warehouses/spark.py).
HASH_KEY_SETTING = {
    "duckdb": "portal_hash_key",
    "postgres": "portal.hash_key",
    "spark": "portal_hash_key",
}
_KEY_READERS = {"duckdb": "getvariable", "postgres": "current_setting"}


def key_expression(dialect: str) -> exp.Expression:
    """The expression that reads the hash key from the statement's session."""
    if dialect == "spark":
        return exp.Placeholder(this=HASH_KEY_SETTING[dialect])
    return _fn(_KEY_READERS[dialect], exp.Literal.string(HASH_KEY_SETTING[dialect]))


def is_key_expression(node: exp.Expr, dialect: str) -> bool:
    """Whether ``node`` is exactly ``key_expression(dialect)``."""
    expected = key_expression(dialect)
    return type(node) is type(expected) and node.sql(dialect=dialect) == expected.sql(
        dialect=dialect
    )


def hash_text(text: exp.Expression, *, dialect: str, per_row: bool = False) -> exp.Expression:
    """md5(key || text): the "hash" mask of a value already turned into text by pretext().

    Keyed: equal inputs give equal outputs, so joins and distinct counts still work, and nobody
    without the key can build a dictionary of hashes of guessed values (MD5's known weaknesses
    are collisions and length extension, neither of which recovers the key or a value).
    ``per_row``: the key is read once per statement, not once per row (PostgreSQL evaluates a
    stable function per row unless it sits in a scalar subquery: ~8 % of a 1M-row aggregate).
    """
    key = key_expression(dialect)
    if per_row and dialect == "postgres":
        key = exp.Subquery(this=exp.Select(expressions=[key]))
    digest: exp.Expression = _fn("md5", exp.DPipe(this=key, expression=text, safe=True))
    if dialect == "postgres":
        # Hex digests have no linguistic order: the "C" collation sorts and groups them with
        # memcmp instead of strcoll (the same order for [0-9a-f]), which is most of the cost of
        # DISTINCT / GROUP BY / ORDER BY over a hashed column. (DuckDB: the digest inherits
        # "binary" from its input.)
        digest = exp.Collate(this=digest, expression=exp.to_identifier("C", quoted=True))
    return digest


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def mask_expression(
    column: str, mask: str, *, null_type: str | None, dialect: str
) -> exp.Expression:
    """The expression that replaces raw ``column`` for ``mask``."""
    if mask == Mask.LAST4:
        text = _text(column)
        shown = exp.DPipe(
            this=exp.Literal.string("***"),
            expression=_fn("right", text.copy(), exp.Literal.number(4)),
            safe=True,
        )
        long_enough = exp.GTE(
            this=_fn("length", text.copy()), expression=exp.Literal.number(LAST4_MIN_LENGTH)
        )
        masked = exp.Case(
            ifs=[exp.If(this=long_enough, true=shown)], default=exp.Literal.string("***")
        )
        return _keep_null(column, masked)
    if mask == Mask.EMAIL:
        domain = _fn("split_part", _text(column), exp.Literal.string("@"), exp.Literal.number(2))
        return _keep_null(
            column, exp.DPipe(this=exp.Literal.string("***@"), expression=domain, safe=True)
        )
    if mask == Mask.HASH:
        # One md5 per row is the whole cost of this mask (pseudonyms.py avoids most of it for
        # grouping and counting).
        if dialect == "postgres":
            text = _text(column)  # the digest is collated "C": its input's collation is moot
        else:
            text = pretext(exp.column(column, quoted=True), dialect)
        return _keep_null(column, hash_text(text, dialect=dialect, per_row=True))
    if mask == Mask.NULL:
        target = exp.DataType.build(null_type or "text", dialect=dialect)
        return exp.Cast(this=exp.Null(), to=target)
    if mask == Mask.REDACT:
        # Constant, NULL included: a redacted column does not even reveal which rows are empty.
        return exp.Literal.string("[REDACTED]")
    raise ValueError(f"unknown mask {mask!r}")
