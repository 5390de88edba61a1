"""Late hashing: group and count a hash-masked column by its text, hash only what is shown.

The "hash" mask is ``md5(key || CAST(col AS TEXT))``: one keyed MD5 per row, which costs more
than the aggregate itself when a query groups or counts distinct values over millions of rows.
But the mask is injective (two different texts collide with probability ~2^-128), so:

* ``GROUP BY mask(c)`` makes the same groups as ``GROUP BY text(c)``;
* ``count(DISTINCT mask(c))`` equals ``count(DISTINCT text(c))``, and ``count(mask(c))`` equals
  ``count(text(c))`` (the mask keeps NULLs NULL);

where ``text(c)`` is ``CAST(c AS TEXT)`` compared byte by byte (masks.pretext): a
case-insensitive column must still make different groups for "A" and "a", as their hashes do.

The mask of that text has the ordinary mask's value and collation ("C" on PostgreSQL, "binary"
on DuckDB), so comparisons and sorts over it behave as over the ordinary mask.

So for one SELECT that reads a single product, a hash column used as a plain GROUP BY key or
counted is projected as ``text(c)``, those positions use it as is, and every other reference in
that SELECT becomes ``mask`` of it: the hash is computed once per group shown instead of once per
row read. The query's result is the one it has over the masked table.

Why this does not widen what the user sees (the package invariant): in such a SELECT the pre-hash
text reaches only (1) a bare GROUP BY key, which decides the partition and nothing else, (2) the
argument of ``count(...)``/``count(DISTINCT ...)``, a number that is the same as over the hashes,
and (3) the mask itself. Anything that could read it another way makes the SELECT ineligible and
it keeps the ordinary masked projection: a star or ``COLUMNS(...)``, a positional column (``#1``),
a whole-row reference (any name that is not a product column or an output alias), a struct path,
a lambda, a subquery (which could correlate), a join, a column-renaming table alias, ROLLUP / CUBE
/ GROUPING SETS, an output alias reusing a product column's name for something else. After the
skeleton is regenerated and re-parsed, ``check()`` walks each such SELECT again and the query is
refused unless every reference to a pre-hash column sits in one of those three places.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from sqlglot import exp

from .masks import hash_text, is_key_expression, keep_null, pretext
from .nodes import literal_int, nonempty_args
from .policy import Mask, ProductPolicy

Norm = Callable[[exp.Expression | None], str]

# Nodes that can read a derived table's columns without naming them one by one, or that open a
# new scope (which could correlate): a SELECT containing any of them is not eligible.
_BLOCKERS = tuple(
    cls
    for cls in (
        getattr(exp, name, None)
        for name in (
            "Star",
            "PositionalColumn",
            "Columns",
            "Lambda",
            "Dot",
            "Subquery",
            "Select",
            "Union",
            "Intersect",
            "Except",
            "Table",
            "Lateral",
            "Values",
            "Cube",
            "Rollup",
            "GroupingSets",
            "Grouping",
            "Placeholder",
            "Parameter",
        )
    )
    if isinstance(cls, type)
)
_COUNT_ARGS = frozenset({"this", "big_int"})
_SELECT_ARGS = frozenset({"expressions", "from_", "where", "group", "having", "order", "limit"})


def pretext_expression(column: str, dialect: str) -> exp.Expression:
    """The projection of a late-hashed column: its text, compared byte by byte."""
    return pretext(exp.column(column, quoted=True), dialect)


def late_mask(ref: exp.Column, *, dialect: str) -> exp.Expression:
    """The hash mask of a pre-hash text reference: the ordinary mask's value and collation."""
    return keep_null(ref.copy(), hash_text(ref.copy(), dialect=dialect))


def is_late_mask(node: exp.Expr, dialect: str) -> bool:
    """Whether ``node`` is exactly the late mask of the one column it contains."""
    column = node.find(exp.Column)
    return (
        isinstance(node, exp.Case)
        and column is not None
        and node.sql(dialect=dialect)
        == late_mask(ref_of(column), dialect=dialect).sql(dialect=dialect)
    )


@dataclass
class _Scan:
    refs: list[tuple[exp.Column, str]]  # references to hash columns: (node, column name)
    outputs: dict[str, exp.Expression]  # output alias -> its expression
    columns: dict[str, str]  # the product's columns: name as the engine compares it -> name


def _by_norm(names: Iterable[str], norm: Norm) -> dict[str, str]:
    """Column names keyed as the engine compares them (they are projected quoted)."""
    return {norm(exp.to_identifier(name, quoted=True)): name for name in names}


def _walk(select: exp.Select) -> Iterator[exp.Expr]:
    """Every node of ``select`` except its FROM clause (the product's derived table)."""
    for key, value in select.args.items():
        if key == "from_":
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, exp.Expression):
                yield from item.walk()


def _scan(
    select: exp.Select,
    alias: exp.TableAlias,
    product: ProductPolicy,
    hashed: dict[str, str],
    norm: Norm,
    *,
    dialect: str,
) -> _Scan | None:
    """Eligibility: the hash-column references of ``select``, or None if it is not eligible."""
    if nonempty_args(select) - {
        "expressions",
        "from_",
        "where",
        "group",
        "having",
        "order",
        "limit",
    }:
        return None  # joins, laterals, QUALIFY, named windows, DISTINCT, WITH, ...: keep it simple
    if alias.args.get("columns") or not isinstance(alias.this, exp.Identifier):
        return None
    table = norm(alias.this)
    columns = _by_norm((c.name for c in product.columns), norm)
    if table in columns:
        return None
    group = select.args.get("group")
    if group is not None and nonempty_args(group) != {"expressions"}:
        return None
    outputs: dict[str, exp.Expression] = {}
    for item in select.expressions:
        if isinstance(item, exp.Alias):
            name = norm(item.args.get("alias"))
            inner = item.this
            if name == table:
                return None
            if name in columns and not _names_itself(inner, name, norm, dialect):
                return None  # "SELECT upper(email) AS phone ... GROUP BY phone": ambiguous
            outputs[name] = inner
    nodes = list(_walk(select))
    if any(
        isinstance(node, _BLOCKERS)
        and not _count_star(node)
        and not is_key_expression(node, dialect)  # Spark's key parameter, in a late mask
        for node in nodes
    ):
        return None
    refs: list[tuple[exp.Column, str]] = []
    for node in nodes:
        if not isinstance(node, exp.Column):
            continue
        if node.args.get("db") is not None or node.args.get("catalog") is not None:
            return None
        qualifier = node.args.get("table")
        if qualifier is not None and norm(qualifier) != table:
            return None
        name = norm(node.this)
        if name in columns:
            if name in hashed:
                refs.append((node, hashed[name]))
        elif qualifier is not None or name not in outputs:
            return None  # a whole-row reference, an outer column, or unknown
    return _Scan(refs, outputs, columns)


def _names_itself(inner: exp.Expression, name: str, norm: Norm, dialect: str) -> bool:
    """``col AS col``, or (after plan()) ``<late mask of col> AS col``."""
    if isinstance(inner, exp.Column):
        return norm(inner.this) == name
    column = inner.find(exp.Column)
    return column is not None and norm(column.this) == name and is_late_mask(inner, dialect)


def _count_star(node: exp.Expr) -> bool:
    """``count(*)``: the one star that reads no column."""
    return (
        type(node) is exp.Star
        and isinstance(node.parent, exp.Count)
        and node.arg_key == "this"
        and not nonempty_args(node)
    )


def _counted(node: exp.Column) -> bool:
    """``count(col)`` or ``count(DISTINCT col)`` with nothing else."""
    parent = node.parent
    if isinstance(parent, exp.Distinct):
        if nonempty_args(parent) != {"expressions"} or parent.expressions != [node]:
            return False
        node, parent = parent, parent.parent  # type: ignore[assignment]
    return (
        isinstance(parent, exp.Count)
        and node.arg_key == "this"
        and nonempty_args(parent) <= _COUNT_ARGS
    )


def _raw_position(node: exp.Column, select: exp.Select) -> bool:
    group = select.args.get("group")
    in_group = group is not None and node.parent is group and node.arg_key == "expressions"
    return in_group or _counted(node)


def plan(
    select: exp.Select,
    alias: exp.TableAlias,
    product: ProductPolicy,
    *,
    dialect: str,
    norm: Norm,
) -> frozenset[str]:
    """Rewrite ``select`` (which reads ``product`` as ``alias``) for late hashing, in place.

    Returns the hash columns to project as pre-hash text (empty: nothing changed).
    """
    hashed = _by_norm((c.name for c in product.columns if c.mask == Mask.HASH), norm)
    if not hashed:
        return frozenset()
    scan = _scan(select, alias, product, hashed, norm, dialect=dialect)
    if scan is None:
        return frozenset()

    def ref(column: str) -> exp.Column:
        return exp.column(column, table=alias.this.copy(), quoted=True)

    # GROUP BY 1 / GROUP BY output_alias naming a bare hash column: group by the column itself.
    group = select.args.get("group")
    regroup: list[tuple[exp.Expression, str]] = []
    for key in group.expressions if group is not None else []:
        target: exp.Expression | None = None
        position = literal_int(key)
        if position is not None:
            if 1 <= position <= len(select.expressions):
                target = select.expressions[position - 1]
                target = target.this if isinstance(target, exp.Alias) else target
        elif isinstance(key, exp.Column) and key.args.get("table") is None:
            name = norm(key.this)
            if name not in scan.columns:
                target = scan.outputs.get(name)
        if isinstance(target, exp.Column) and any(target is node for node, _ in scan.refs):
            regroup.append((key, next(col for node, col in scan.refs if node is target)))
    late = {col for node, col in scan.refs if _raw_position(node, select)}
    late |= {col for _, col in regroup}
    if not late:
        return frozenset()
    for key, column in regroup:
        key.replace(ref(column))
    for node, column in scan.refs:
        if column not in late:
            continue
        if _raw_position(node, select):
            node.replace(ref(column))
            continue
        masked: exp.Expr = late_mask(ref(column), dialect=dialect)
        if node.parent is select and node.arg_key == "expressions":
            # A bare select item keeps its output name.
            masked = exp.alias_(masked, exp.to_identifier(column, quoted=True))
        node.replace(masked)
    return frozenset(late)


def check(
    select: exp.Expr | None,
    alias: exp.TableAlias,
    product: ProductPolicy,
    late: frozenset[str],
    *,
    dialect: str,
    norm: Norm,
) -> bool:
    """The guard, on the re-parsed skeleton: pre-hash columns reach only the three safe places."""
    if not isinstance(select, exp.Select):
        return False
    scan = _scan(select, alias, product, _by_norm(late, norm), norm, dialect=dialect)
    if scan is None:
        return False
    for node, _ in scan.refs:
        if _raw_position(node, select):
            continue
        wrapper = node.find_ancestor(exp.Case)
        if wrapper is None or not is_late_mask(wrapper, dialect):
            return False
    return True


def ref_of(node: exp.Column) -> exp.Column:
    """The column reference alone (qualifier and name), detached from its tree."""
    qualifier = node.args.get("table")
    return exp.Column(this=node.this.copy(), table=qualifier.copy() if qualifier else None)
