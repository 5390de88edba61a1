"""govern(): a user's SQL plus a resolved Policy in, governed SQL (or a refusal) out.

Steps:
1. text gate: length cap, no control / zero-width / bidi / other format characters
2. parse in the warehouse dialect; exactly one SELECT / UNION / INTERSECT / EXCEPT
3. walk every node against the allowlist (allowlist.py), resolving every table reference to a
   visible CTE or a product the policy lists; anything else is refused
4. replace each product reference with a derived table projecting its columns, masked (first
   as a placeholder table with a random name; the projection text is spliced in last); a hash
   column the reading SELECT only groups or counts is hashed late (pseudonyms.py); a column
   whose name appears nowhere in the query is left out when nothing in it can read a column
   without naming it (``_named_columns``: an engine then analyses less, ~10-25 ms a statement
   on Spark)
5. cap the top-level LIMIT at max_rows + 1
6. regenerate the SQL without comments, re-parse it and walk the result again (only CTEs and
   the step-4 placeholders may remain as tables; late-hashed text only where pseudonyms.check()
   allows it), then splice in the masking projections
"""

from __future__ import annotations

import difflib
import functools
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, TokenError

from . import pseudonyms
from .allowlist import (
    ALLOWED_ANONYMOUS,
    ALLOWED_FUNCS,
    ALLOWED_NODES,
    ALLOWED_TYPES,
    NILADIC_FUNCTION_NAMES,
)
from .masks import HASH_KEY_SETTING, is_key_expression, mask_expression
from .names import ascii_lower, confusable, fold_identifier
from .nodes import literal_int, nonempty_args
from .policy import MASKS, ColumnPolicy, GovernedQuery, Mask, Policy, ProductPolicy, QueryRefused

MAX_SQL_CHARS = 100_000
MAX_NODES = 50_000
DIALECTS = {"duckdb": "duckdb", "postgres": "postgres", "postgresql": "postgres", "spark": "spark"}
DEFAULT_SCHEMA = {"duckdb": "main", "postgres": "public", "spark": "default"}
# Spark reads files as tables: ``parquet.`/path```, ``csv.`s3://…```. Refused by name (and Spark
# runs with spark.sql.runSQLOnFiles=false, warehouses/spark.py), whatever the product names are.
SPARK_FILE_FORMATS = frozenset(
    "parquet orc json csv text avro delta binaryfile jdbc libsvm hive iceberg hudi xml".split()
)

_ALLOWED = ALLOWED_NODES | ALLOWED_FUNCS
_QUERY_TYPES = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery)
_SET_OPS = (exp.Union, exp.Intersect, exp.Except)
# Non-empty args each node type may carry; anything else (sampling, time travel, INTO, locks,
# hints, pivots, ...) is refused even when sqlglot models it.
_ARG_KEYS: dict[type[exp.Expression], frozenset[str]] = {
    exp.Select: frozenset(
        {
            "with_",
            "expressions",
            "distinct",
            "from_",
            "joins",
            "where",
            "group",
            "having",
            "qualify",
            "windows",
            "order",
            "limit",
            "offset",
            "sample",
        }
    ),
    exp.Union: frozenset(
        {"this", "expression", "distinct", "by_name", "with_", "limit", "offset", "order"}
    ),
    exp.Subquery: frozenset({"this", "alias", "with_", "limit", "offset", "order"}),
    exp.Table: frozenset({"this", "db", "catalog", "alias", "only", "sample"}),
    exp.TableSample: frozenset({"method", "size", "percent", "seed"}),
    exp.Join: frozenset({"this", "on", "using", "kind", "side", "method"}),
    exp.Lateral: frozenset({"this", "alias"}),
    exp.With: frozenset({"expressions", "recursive"}),
    exp.CTE: frozenset({"this", "alias", "materialized"}),
    exp.From: frozenset({"this"}),
    exp.Values: frozenset({"expressions", "alias"}),
    exp.Limit: frozenset({"expression", "limit_options"}),
}
_ARG_KEYS[exp.Intersect] = _ARG_KEYS[exp.Union]
_ARG_KEYS[exp.Except] = _ARG_KEYS[exp.Union]
_FROM_ITEMS = (exp.Table, exp.Subquery, exp.Values, exp.Lateral)
# Select items whose output name is a name the user wrote (or a column's): never renamed.
_NAMED_ITEMS = tuple(
    cls
    for cls in (exp.Alias, exp.Aliases, exp.Column, exp.Star, exp.Dot)
    + tuple(getattr(exp, n) for n in ("Columns", "PositionalColumn") if hasattr(exp, n))
    if isinstance(cls, type)
)
_UNIT_PARENTS = (exp.Extract, exp.Interval, exp.IntervalSpan)
SAMPLE_METHODS = frozenset({"system", "bernoulli", "reservoir"})
# Date parts both engines know (lower-case, singular, plural and abbreviated spellings).
# fmt: off
DATE_PARTS = frozenset({
    "millennium", "millennia", "millenium", "millenniums", "mil", "mils",
    "century", "centuries", "cent", "c",
    "decade", "decades", "dec", "decs",
    "year", "years", "yr", "yrs", "y", "yyyy", "yy",
    "isoyear", "yearweek",
    "quarter", "quarters", "qtr", "q",
    "month", "months", "mon", "mons", "mm",
    "week", "weeks", "w", "wk", "wks", "weekofyear", "isoweek",
    "day", "days", "d", "dd", "dayofmonth",
    "dow", "dayofweek", "weekday", "isodow", "doy", "dayofyear", "julian",
    "hour", "hours", "h", "hr", "hrs",
    "minute", "minutes", "m", "min", "mins",
    "second", "seconds", "s", "sec", "secs",
    "millisecond", "milliseconds", "ms", "msec", "msecs",
    "microsecond", "microseconds", "us", "usec", "usecs",
    "nanosecond", "nanoseconds", "ns",
    "epoch", "era", "timezone", "timezone_hour", "timezone_minute",
})
# fmt: on


def _refuse(code: str, message: str, http_status: int = 400) -> QueryRefused:
    return QueryRefused(code, message, http_status)


def _check_text(sql: str) -> None:
    """Step 1: refuse empty, oversized or invisibly-formatted text."""
    if not isinstance(sql, str) or not sql.strip():
        raise _refuse("EMPTY_QUERY", "the query is empty")
    if len(sql) > MAX_SQL_CHARS:
        raise _refuse("QUERY_TOO_LONG", f"the query is longer than {MAX_SQL_CHARS} characters")
    for position, char in enumerate(sql):
        if char in "\t\n\r" or (" " <= char <= "~"):
            continue
        # Cc: control (NUL...), Cf: format (zero-width, bidi overrides, BOM, tags),
        # Cs: lone surrogates, Zl/Zp: line/paragraph separators tokenizers disagree about.
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            raise _refuse(
                "INVALID_CHARACTER",
                f"the query contains a control or invisible character (U+{ord(char):04X}) "
                f"at position {position}",
            )


def _parse(sql: str, dialect: str) -> exp.Expression:
    """Step 2: exactly one statement, parsed in the warehouse dialect."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as exc:
        raise _refuse("PARSE_ERROR", _parse_message(exc.errors[0] if exc.errors else {})) from None
    except TokenError:
        raise _refuse(
            "PARSE_ERROR",
            "could not parse the query: a quoted string or name is not closed (check the quotes)",
        ) from None
    except (SqlglotError, RecursionError, ValueError, TypeError, KeyError, IndexError):
        raise _refuse("PARSE_ERROR", "could not parse the query") from None
    if not statements:
        raise _refuse("EMPTY_QUERY", "the query is empty")
    if len(statements) > 1:
        raise _refuse("MULTIPLE_STATEMENTS", "only one statement is allowed")
    root = statements[0]
    while isinstance(root, exp.Subquery) and nonempty_args(root) == {"this"}:
        root = root.this  # "(SELECT ...)" alone: the parentheses mean nothing
    if not isinstance(root, (exp.Select, *_SET_OPS, exp.Subquery)):
        kind = type(root).__name__.upper()
        if isinstance(root, exp.Command):
            kind = str(root.this).upper()
        raise _refuse("NOT_A_SELECT", f"only SELECT queries are allowed, not {kind}")
    return root


def _parse_message(error: dict[str, object]) -> str:
    """A parse error as a sentence with its position, never the parser's internals."""
    description = str(error.get("description") or "")
    near = str(error.get("highlight") or "").strip()
    if description.startswith("Expecting )"):
        sentence = "a closing parenthesis is missing"
    elif description.startswith("Expecting "):
        sentence = f"expected {description.removeprefix('Expecting ').strip()}"
    elif description.startswith("Required keyword") or "missing for" in description:
        sentence = "the query is incomplete"
    elif "Unexpected token" in description or "Invalid expression" in description:
        sentence = "this is not valid SQL here"
    else:
        sentence = "this is not valid SQL"
    shown = near if len(near) <= 40 else near[:37] + "..."
    where = f" near {shown!r}" if shown else ""
    if error.get("line"):
        where += f" (line {error.get('line')}, column {error.get('col')})"
    return f"could not parse the query: {sentence}{where}"


@dataclass
class _Use:
    """One product reference found in the query, to be replaced by its derived table."""

    table: exp.Table
    product: ProductPolicy


class _Governor:
    """One govern() call: resolves names, walks, rewrites and verifies."""

    def __init__(
        self,
        policy: Policy,
        dialect: str,
        schema: str,
        forbidden_names: frozenset[str],
    ) -> None:
        self.policy = policy
        self.dialect = dialect
        self.schema = schema
        self.forbidden = {ascii_lower(n) for n in forbidden_names}
        self.names: dict[str, ProductPolicy | None] = {}  # None marks an ambiguous name
        for product in policy.products:
            physical = ascii_lower(product.table)
            keys = {
                ascii_lower(product.product_id),
                physical,
                *(ascii_lower(n) for n in product.names),
            }
            if "." not in physical:
                keys.add(f"{ascii_lower(schema)}.{physical}")
            for key in keys:
                seen = self.names.get(key, product)
                self.names[key] = product if seen is product else None
        # Names an output may not take (fold keys): the query's identifiers, product columns.
        self.taken: set[str] = {
            ascii_lower(column.name) for product in policy.products for column in product.columns
        }
        self.uses: list[_Use] = []
        self.nodes = 0
        self.verifying = False
        self.nonce = secrets.token_hex(8)
        self.placeholders: dict[str, str] = {}  # placeholder table name -> projection SQL
        # placeholder table name -> (product, hash columns projected as pre-hash text)
        self.late: dict[str, tuple[ProductPolicy, frozenset[str]]] = {}

    # -- names --------------------------------------------------------------------------------

    def _norm(self, ident: exp.Expression | None) -> str:
        """An identifier as the engine compares it (names.py: ASCII folding, never str.lower)."""
        if not isinstance(ident, exp.Identifier):
            raise _refuse("DISALLOWED_SYNTAX", "expected a plain name")
        return fold_identifier(ident, self.dialect)

    # -- walk ---------------------------------------------------------------------------------

    def visit(self, node: exp.Expression, env: tuple[dict[str, exp.CTE], ...]) -> None:
        """Check ``node`` and its subtree; ``env`` holds the CTE frames visible here."""
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _refuse("QUERY_TOO_COMPLEX", "the query is too large")
        self._check(node)
        if isinstance(node, exp.Table):
            self._table(node, env)
            return
        if isinstance(node, exp.Select) and not self.verifying:
            self._name_outputs(node)
        inner = env
        with_ = node.args.get("with_") if isinstance(node, _QUERY_TYPES) else None
        if with_ is not None:
            inner = self._with(with_, env)
        for key, value in node.args.items():
            if key == "with_" and with_ is not None:
                continue
            if isinstance(value, exp.Expression):
                self.visit(value, inner)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, exp.Expression):
                        self.visit(item, inner)

    def _name_outputs(self, select: exp.Select) -> None:
        """Give every computed select item a name the governor chose (before any rewrite).

        Engines name an unaliased expression after its text (DuckDB: the whole of it, literals
        included), so a rewritten expression would name its column after the rewrite. Items
        that are a column, a star or already aliased keep their names; every other item becomes
        ``<item> AS col_<position>`` (a fresh name: never one the query or a product uses).
        """
        for position, item in enumerate(list(select.expressions), start=1):
            if isinstance(item, _NAMED_ITEMS):
                continue
            name = self._fresh(f"col_{position}")
            item.replace(exp.Alias(this=item.copy(), alias=exp.to_identifier(name)))

    def _fresh(self, base: str) -> str:
        name, suffix = base, 1
        while ascii_lower(name) in self.taken:
            suffix += 1
            name = f"{base}_{suffix}"
        self.taken.add(ascii_lower(name))
        return name

    def _with(
        self, with_: exp.Expression, env: tuple[dict[str, exp.CTE], ...]
    ) -> tuple[dict[str, exp.CTE], ...]:
        """Visit each CTE with exactly the names the engine lets it see; return the new env."""
        self.nodes += 1
        self._check(with_)
        recursive = bool(with_.args.get("recursive"))
        frame: dict[str, exp.CTE] = {}
        for cte in with_.expressions:
            self._check(cte)
            if not isinstance(cte, exp.CTE):
                raise _refuse("DISALLOWED_SYNTAX", "unexpected WITH item")
            name = self._norm(cte.args["alias"].this if cte.args.get("alias") else None)
            if name in frame:
                raise _refuse("DISALLOWED_SYNTAX", "a WITH clause names two queries the same")
            # A CTE sees only the ones before it; a self-reference in a non-recursive WITH means
            # the table of that name. Under RECURSIVE it sees itself only in the recursive arm
            # of a top-level UNION (the anchor arm and a non-UNION body never do), which is
            # where every engine binds it to the CTE; elsewhere it is resolved as a table name.
            before = (*env, dict(frame))
            body = cte.this
            if recursive and isinstance(body, exp.Union) and body.args.get("with_") is None:
                self.nodes += 1
                self._check(body)
                for key, value in body.args.items():
                    scope = (*env, {**frame, name: cte}) if key == "expression" else before
                    for item in value if isinstance(value, list) else [value]:
                        if isinstance(item, exp.Expression):
                            self.visit(item, scope)
            else:
                self.visit(body, before)
            self.visit(cte.args["alias"], env)
            frame[name] = cte
        return (*env, frame)

    def _check(self, node: exp.Expression) -> None:
        """Allowlist checks that need only the node and its parent."""
        kind = type(node)
        if kind is exp.Anonymous:
            if self.verifying and is_key_expression(node, self.dialect):
                if not any(pseudonyms.is_late_mask(a, self.dialect) for a in _ancestors(node)):
                    raise _refuse("REWRITE_FAILED", "the governed query could not be verified")
                return  # the hash key, read inside a late mask (pseudonyms.py)
            name = ascii_lower(str(node.this))
            if not isinstance(node.this, str) or name not in ALLOWED_ANONYMOUS:
                raise _refuse("FUNCTION_NOT_ALLOWED", f"function {str(node.this)!r} is not allowed")
            return
        if kind is exp.Placeholder and self.verifying and is_key_expression(node, self.dialect):
            if not any(pseudonyms.is_late_mask(a, self.dialect) for a in _ancestors(node)):
                raise _refuse("REWRITE_FAILED", "the governed query could not be verified")
            return  # Spark's hash key (a bound parameter), read inside a late mask
        if self.verifying and self.late and _is_digest_collation(node):
            return  # a late-hashed digest's COLLATE "C" (pseudonyms.check() verifies its place)
        if kind not in _ALLOWED:
            if isinstance(node, exp.Func):
                name = node.sql_name() if hasattr(node, "sql_name") else kind.__name__
                raise _refuse("FUNCTION_NOT_ALLOWED", f"function {name!r} is not allowed")
            raise _refuse(
                "DISALLOWED_SYNTAX", f"{_describe(node)} is not allowed in a governed query"
            )
        allowed_keys = _ARG_KEYS.get(kind)
        if allowed_keys is not None:
            extra = [k for k in nonempty_args(node) if k not in allowed_keys]
            if extra:
                raise _refuse(
                    "DISALLOWED_SYNTAX",
                    f"{kind.__name__.upper()} with {', '.join(sorted(extra))} is not allowed",
                )
        if kind is exp.Select and node.args.get("sample") is not None and self.dialect != "duckdb":
            raise _refuse("DISALLOWED_SYNTAX", "USING SAMPLE is DuckDB's; use TABLESAMPLE")
        if kind is exp.DataType:
            if node.this not in ALLOWED_TYPES:
                raise _refuse("TYPE_NOT_ALLOWED", f"type {node.sql(self.dialect)} is not allowed")
        elif kind is exp.Var and isinstance(node.parent, exp.TableSample):
            if node.arg_key != "method" or ascii_lower(str(node.this)) not in SAMPLE_METHODS:
                raise _refuse(
                    "DISALLOWED_SYNTAX",
                    f"sampling method {str(node.this)!r} is not allowed "
                    "(use SYSTEM, BERNOULLI or RESERVOIR)",
                )
        elif kind is exp.TableSample:
            for key in ("size", "percent", "seed"):
                value = node.args.get(key)
                if value is not None and not (
                    isinstance(value, exp.Literal) and not value.is_string
                ):
                    raise _refuse("DISALLOWED_SYNTAX", "a sample size must be a plain number")
        elif kind is exp.Var:
            parent = node.parent
            is_unit = node.arg_key == "unit" or isinstance(parent, _UNIT_PARENTS)
            is_all = isinstance(parent, (exp.Limit, exp.Ordered)) and (
                str(node.this).upper() == "ALL"
            )
            if not (is_unit or is_all):
                raise _refuse("DISALLOWED_SYNTAX", f"keyword {str(node.this)!r} is not allowed")
            if is_unit:
                _check_unit(node)
        elif kind is exp.Dot:
            if not isinstance(node.expression, exp.Identifier):
                raise _refuse(
                    "DISALLOWED_SYNTAX",
                    "qualified function calls (schema.function()) are not allowed",
                )
        elif kind is exp.Column and isinstance(node, exp.Column):
            if not isinstance(node.this, (exp.Identifier, exp.Star)):
                raise _refuse("DISALLOWED_SYNTAX", "unexpected column reference")
            db = node.args.get("db")
            # "marketing.campaign_attribution.user_id": the product is now a derived table
            # aliased "campaign_attribution", so the schema part must go.
            if (
                not self.verifying
                and db is not None
                and node.args.get("catalog") is None
                and ascii_lower(f"{db.name}.{node.table}") in self.names
            ):
                node.set("db", None)
            if (
                self.dialect in ("postgres", "spark")
                and not node.table
                and isinstance(node.this, exp.Identifier)
                and not node.this.quoted
                and ascii_lower(node.name) in NILADIC_FUNCTION_NAMES
            ):
                raise _refuse("FUNCTION_NOT_ALLOWED", f"function {node.name!r} is not allowed")
        elif kind in (exp.From, exp.Join):
            if not isinstance(node.this, _FROM_ITEMS):
                raise _refuse(
                    "TABLE_FUNCTION_NOT_ALLOWED",
                    "only tables, subqueries and VALUES may appear in FROM "
                    "(table functions are not allowed)",
                )
        elif kind is exp.Lateral:
            if not isinstance(node.this, exp.Subquery):
                raise _refuse(
                    "TABLE_FUNCTION_NOT_ALLOWED", "LATERAL is only allowed with a subquery"
                )
        elif kind is exp.Literal:
            if not isinstance(node.this, str):
                raise _refuse("DISALLOWED_SYNTAX", "unexpected literal")
            if node.arg_key == "unit" or (
                isinstance(node.parent, _UNIT_PARENTS) and node.arg_key != "this"
            ):
                _check_unit(node)

    def _table(self, node: exp.Table, env: tuple[dict[str, exp.CTE], ...]) -> None:
        """Resolve one table reference: a visible CTE, a product, or a refusal."""
        if not isinstance(node.parent, (exp.From, exp.Join)):
            raise _refuse("DISALLOWED_SYNTAX", "a table may only appear in FROM or JOIN")
        parts_nodes = [p for k in ("catalog", "db", "this") if (p := node.args.get(k)) is not None]
        for part in parts_nodes:
            if not isinstance(part, exp.Identifier):
                raise _refuse(
                    "TABLE_FUNCTION_NOT_ALLOWED",
                    "only named tables may appear in FROM (table functions are not allowed)",
                )
        alias = node.args.get("alias")
        if alias is not None:
            self.visit(alias, env)
        sample = node.args.get("sample")
        if sample is not None:
            self.visit(sample, env)
        display = ".".join(str(p.this) for p in parts_nodes)
        if self.dialect == "spark" and (
            "/" in display
            or (len(parts_nodes) > 1 and self._norm(parts_nodes[-2]) in SPARK_FILE_FORMATS)
        ):
            raise _refuse(
                "TABLE_FUNCTION_NOT_ALLOWED", "files cannot be read directly; query data products"
            )
        if len(parts_nodes) == 1:
            name = self._norm(parts_nodes[0])
            if any(name in frame for frame in env):
                return  # a CTE the engine will resolve the same way
        if self.verifying:
            # After the rewrite only CTEs and our placeholders may remain.
            name = str(parts_nodes[0].this) if len(parts_nodes) == 1 else ""
            if name not in self.placeholders or name in self.verified:
                raise _refuse("REWRITE_FAILED", "the governed query could not be verified")
            self.verified.add(name)
            if name in self.late:
                late_product, late = self.late[name]
                select = node.parent.parent if isinstance(node.parent, exp.From) else None
                if node.args.get("alias") is None or not pseudonyms.check(
                    select,
                    node.args["alias"],
                    late_product,
                    late,
                    dialect=self.dialect,
                    norm=self._norm,
                ):
                    raise _refuse("REWRITE_FAILED", "the governed query could not be verified")
            return
        key = ".".join(self._norm(p) for p in parts_nodes)
        if key in self.forbidden:
            raise _refuse(
                "FORBIDDEN_PRODUCT", f"you do not have access to data product {display}", 403
            )
        if key not in self.names:
            raise _refuse("UNKNOWN_TABLE", f"unknown table {display}{self._did_you_mean(key)}")
        product = self.names[key]
        if product is None:
            raise _refuse("AMBIGUOUS_TABLE", f"the name {display} matches several data products")
        if product.refusal is not None:
            raise _refuse(product.refusal_code, product.refusal, product.refusal_status)
        self.uses.append(_Use(node, product))

    def _did_you_mean(self, key: str) -> str:
        """The closest name of a readable product, as a hint (``""`` when none is close)."""
        known = sorted(name for name, product in self.names.items() if product is not None)
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
        return f" (did you mean {close[0]}?)" if close else ""

    # -- rewrite ------------------------------------------------------------------------------

    def rewrite(self, named: frozenset[str] | None = None) -> None:
        """Step 4: each product reference becomes a unique placeholder table, keeping its alias.

        ``named``: the names (ASCII-folded) the query can reach a product column by, or None
        when it may read columns without naming them (``_named_columns``); the projection keeps
        only those columns.

        The placeholders are swapped for "(masked projection)" text after the skeleton has been
        regenerated, re-parsed and verified; the projection text is built (and round-trip
        checked) once per product, so the guard re-parses only what the user wrote.
        """
        for index, use in enumerate(self.uses):
            name = f"__governed_{self.nonce}_{index}"
            alias = use.table.args.get("alias")
            if alias is None:
                alias = exp.TableAlias(this=use.table.this.copy())
            elif alias.args.get("this") is None:
                alias = alias.copy()
                alias.set("this", use.table.this.copy())
            else:
                alias = alias.copy()
            # Column aliases (``FROM t AS u(a, b)``) rename the projection's columns by position.
            keep = named if not use.table.args.get("alias") or not alias.columns else None
            late = self._late_hashing(use, alias)
            # TABLESAMPLE samples the physical table, inside the masked projection (PostgreSQL
            # samples only real tables); its parts were checked to be plain numbers and names.
            sample = use.table.args.get("sample")
            sample_sql = sample.sql(dialect=self.dialect) if sample is not None else ""
            placeholder = exp.Table(this=exp.to_identifier(name, quoted=True), alias=alias)
            use.table.replace(placeholder)
            if late:
                self.late[name] = (use.product, late)
            self.placeholders[name] = derived_sql(
                use.product, self.dialect, self.schema, late, sample_sql, keep
            )

    def _late_hashing(self, use: _Use, alias: exp.TableAlias) -> frozenset[str]:
        """Hash columns the SELECT reading ``use`` only groups or counts (pseudonyms.py)."""
        from_ = use.table.parent
        if not isinstance(from_, exp.From) or from_.arg_key != "from_":
            return frozenset()
        select = from_.parent
        if not isinstance(select, exp.Select):
            return frozenset()
        return pseudonyms.plan(
            select,
            alias,
            use.product,
            dialect=self.dialect,
            norm=self._norm,
        )

    def verify(self, root: exp.Expression) -> None:
        """Step 6: walk the re-parsed skeleton; tables are visible CTEs or our placeholders."""
        self.verifying = True
        self.verified: set[str] = set()
        self.nodes = 0
        self.visit(root, ())
        if self.verified != set(self.placeholders):
            raise _refuse("REWRITE_FAILED", "the governed query could not be verified")

    def splice(self, skeleton_sql: str) -> str:
        """Replace each placeholder (exactly once in the text) by its masked projection."""
        out = skeleton_sql
        for name, projection in self.placeholders.items():
            token = exp.to_identifier(name, quoted=True).sql(dialect=self.dialect)
            if out.count(token) != 1:
                raise _refuse("REWRITE_FAILED", "the governed query could not be verified")
            out = out.replace(token, f"({projection})")
        return out


@functools.lru_cache(maxsize=4096)
def derived_sql(
    product: ProductPolicy,
    dialect: str,
    schema: str,
    pretext: frozenset[str] = frozenset(),
    sample: str = "",
    keep: frozenset[str] | None = None,
) -> str:
    """``SELECT a, <mask>(b) AS b, ... FROM "schema"."table"`` for one product (checked).

    Hash columns named in ``pretext`` are projected as the text their hash is computed from
    (only for a SELECT that pseudonyms.check() accepts). With ``keep``, only the columns whose
    ASCII-folded name is in it (at least one: the first, for ``count(*)``).
    """
    columns = product.columns
    if keep is not None:
        columns = tuple(c for c in columns if ascii_lower(c.name) in keep) or columns[:1]
    projections: list[exp.Expr] = []
    for column in columns:
        if column.name in pretext and column.mask == Mask.HASH:
            pretext_of = pseudonyms.pretext_expression(column.name, dialect)
            projections.append(exp.alias_(pretext_of, exp.to_identifier(column.name, quoted=True)))
            continue
        if column.mask is None:
            projections.append(exp.column(column.name, quoted=True))
            continue
        if column.mask not in MASKS:
            raise ValueError(f"unknown mask {column.mask!r} on {product.product_id}")
        masked = mask_expression(column.name, column.mask, null_type=column.type, dialect=dialect)
        projections.append(exp.alias_(masked, exp.to_identifier(column.name, quoted=True)))
    if not projections:
        raise ValueError(f"product {product.product_id} lists no columns")
    parts = tuple(product.table.split("."))
    if len(parts) == 1:
        parts = (schema, parts[0])
    if len(parts) > 3 or not all(parts):
        raise ValueError(f"bad physical table name {product.table!r}")
    table = exp.Table(
        this=exp.to_identifier(parts[-1], quoted=True),
        db=exp.to_identifier(parts[-2], quoted=True),
        catalog=exp.to_identifier(parts[-3], quoted=True) if len(parts) > 2 else None,
    )
    if sample:
        table.set(
            "sample",
            sqlglot.parse_one(f"SELECT 1 FROM t {sample}", read=dialect).find(exp.TableSample),
        )
    select = exp.Select(expressions=projections).from_(table, copy=False)
    text = select.sql(dialect=dialect, comments=False, unsupported_level=ErrorLevel.RAISE)
    # The projection is ours, but check it the same way: one SELECT reading only that table,
    # regenerating to the same text.
    reparsed = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
    tables = list(reparsed[0].find_all(exp.Table)) if len(reparsed) == 1 else []
    if (
        len(reparsed) != 1
        or not isinstance(reparsed[0], exp.Select)
        or len(tables) != 1
        or reparsed[0].sql(dialect=dialect, comments=False) != text
    ):
        raise ValueError(f"masking projection for {product.product_id} does not round-trip")
    return text


def _named_columns(root: exp.Expression, uses: Iterable[_Use]) -> frozenset[str] | None:
    """Every name (ASCII-folded) the query could reach a product column by, or None when it may
    read columns without naming them.

    Left out of a product's projection, a column no identifier of the query names cannot change
    what the query reads, except through: a star (``*``, ``t.*``, ``* EXCLUDE``, ``struct(*)``;
    not ``count(*)``), ``COLUMNS(…)``, a positional column (``#1``), a NATURAL join, or a
    whole-row reference (``SELECT t FROM t``, ``row_to_json(t)``). A name that is neither a
    column nor an alias keeps every column too (the engine's error then suggests the closest
    one, as it would without this). Folding is ASCII-only and
    both quoted and unquoted names are folded, so a name kept is never missed (keeping more is
    harmless).
    """
    uses = list(uses)
    sources = {ascii_lower(use.table.alias_or_name) for use in uses}
    # Names a column reference may resolve to; one that is none of them is an error the engine
    # answers with its suggestions ("did you mean revenue?"), drawn from every column.
    known = {ascii_lower(c.name) for use in uses for c in use.product.columns}
    known |= {ascii_lower(a.alias) for a in root.find_all(exp.Alias, exp.TableAlias) if a.alias}
    known |= {
        ascii_lower(str(i.this))
        for alias in root.find_all(exp.TableAlias)
        for i in alias.columns
        if isinstance(i, exp.Identifier)
    }
    names: set[str] = set()
    for node in root.walk():
        if isinstance(node, exp.Star):
            if not (isinstance(node.parent, exp.Count) and node.arg_key == "this"):
                return None
        elif isinstance(node, _UNNAMED_READS):
            return None
        elif isinstance(node, exp.Join) and str(node.args.get("method") or "").upper():
            return None  # NATURAL (and any other method sqlglot may add) joins by every name
        elif isinstance(node, exp.Column) and (
            ascii_lower(node.name) in sources or ascii_lower(node.name) not in known
        ):
            return None
        elif isinstance(node, exp.Identifier):
            names.add(ascii_lower(str(node.this)))
    return frozenset(names)


_UNNAMED_READS = tuple(getattr(exp, n) for n in ("Columns", "PositionalColumn") if hasattr(exp, n))


def _is_digest_collation(node: exp.Expression) -> bool:
    """``md5(...) COLLATE "C"``, as masks.hash_text() writes it on PostgreSQL."""
    collation = node.args.get("expression")
    return (
        type(node) is exp.Collate
        and isinstance(collation, exp.Identifier)
        and collation.quoted
        and collation.this == "C"
        and isinstance(node.this, (exp.MD5, exp.Anonymous))
        and (isinstance(node.this, exp.MD5) or ascii_lower(str(node.this.this)) == "md5")
    )


# Masks that map different values to one (last4, the e-mail domain, a constant, NULL): grouping,
# joining or counting distinct values over them merges what the originals kept apart.
COLLAPSING_MASKS = frozenset({Mask.LAST4, Mask.EMAIL, Mask.REDACT, Mask.NULL})


def _approximate(root: exp.Expression, uses: list[_Use], dialect: str) -> list[str]:
    """Warnings for collapsing-masked columns used as a grouping, join or DISTINCT key."""
    masked: dict[str, list[tuple[ProductPolicy, ColumnPolicy]]] = {}
    for use in uses:
        for c in use.product.columns:
            if c.mask in COLLAPSING_MASKS:
                key = fold_identifier(exp.to_identifier(c.name, quoted=True), dialect)
                masked.setdefault(key, []).append((use.product, c))
    warnings: list[str] = []
    for column in root.find_all(exp.Column) if masked else ():
        if not isinstance(column.this, exp.Identifier) or not _keys_rows(column):
            continue
        for product, spec in masked.get(fold_identifier(column.this, dialect), []):
            text = (
                f"{product.product_id}.{spec.name} is masked ({spec.mask}), which merges "
                "different values: counts of distinct values, groups and joins over it are "
                "approximate"
            )
            if text not in warnings:
                warnings.append(text)
    return warnings


def _keys_rows(node: exp.Expr) -> bool:
    """Whether ``node`` is (inside) a GROUP BY key, a join condition or a DISTINCT."""
    child, parent = node, node.parent
    while parent is not None and not isinstance(parent, exp.Query):
        if isinstance(parent, (exp.Group, exp.Distinct)):
            return True
        if isinstance(parent, exp.Join) and child.arg_key in ("on", "using"):
            return True
        if isinstance(parent, exp.Window) and child.arg_key == "partition_by":
            return True
        child, parent = parent, parent.parent
    return (
        isinstance(parent, exp.Select)
        and parent.args.get("distinct") is not None
        and child.arg_key == "expressions"
    )


def _check_names(root: exp.Expression, policy: Policy, dialect: str) -> None:
    """Refuse two names that look alike but that the engine tells apart (names.confusable)."""
    written = [(str(i.this), bool(i.args.get("quoted"))) for i in root.find_all(exp.Identifier)]
    if all(name.isascii() for name, _ in written):
        return  # a clash needs a name that is not plain ASCII; product names are ASCII
    known = [
        (name, True)
        for product in policy.products
        for name in (
            *product.product_id.split("."),
            *product.table.split("."),
            *product.names,
            *(c.name for c in product.columns),
        )
    ]
    pair = confusable([*known, *written], dialect=dialect)
    if pair is not None:
        raise _refuse(
            "AMBIGUOUS_NAME",
            f"the names {pair[0]!r} and {pair[1]!r} look alike, but the warehouse treats them "
            "as different names; write names that are not plain ASCII exactly the same way "
            "everywhere (or use ASCII names)",
        )


def _check_unit(node: exp.Expression) -> None:
    """A date part (``DAY``, ``'month'``) must be one of DATE_PARTS.

    sqlglot turns the string or name a user writes there into a keyword it regenerates as SQL
    text (PostgreSQL ``date_part('day'' || x', ts)`` becomes ``EXTRACT(DAY' || X FROM ts)``), so
    only a fixed set of words may pass.
    """
    text = str(node.this)
    if ascii_lower(text) not in DATE_PARTS:
        shown = text if len(text) <= 30 else text[:27] + "..."
        raise _refuse(
            "DISALLOWED_SYNTAX",
            f"{shown!r} is not a date part (use one of: year, quarter, month, week, day, hour, "
            "minute, second, millisecond, microsecond, epoch, dow, doy, ...)",
        )


def _ancestors(node: exp.Expr) -> list[exp.Expr]:
    out = []
    parent = node.parent
    while parent is not None:
        out.append(parent)
        parent = parent.parent
    return out


def _describe(node: exp.Expression) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    return type(node).__name__.upper()


def _cap_limit(root: exp.Expression, max_rows: int | None) -> None:
    """Step 5: LIMIT at most max_rows + 1 at the top level (so truncation can be flagged)."""
    limit = root.args.get("limit")
    count: int | None = None
    if isinstance(limit, exp.Fetch):
        options = limit.args.get("limit_options")
        if options is not None and (options.args.get("percent") or options.args.get("with_ties")):
            raise _refuse("LIMIT_NOT_ALLOWED", "FETCH ... PERCENT / WITH TIES is not allowed")
        raw = limit.args.get("count")
        count = 1 if raw is None else literal_int(raw)
        if count is None:
            raise _refuse("LIMIT_NOT_LITERAL", "FETCH FIRST must be a whole number")
    elif isinstance(limit, exp.Limit):
        options = limit.args.get("limit_options")
        if options is not None and (options.args.get("percent") or options.args.get("with_ties")):
            raise _refuse("LIMIT_NOT_ALLOWED", "LIMIT ... PERCENT / WITH TIES is not allowed")
        value = limit.expression
        if isinstance(value, exp.Null) or (
            isinstance(value, exp.Var) and str(value.this).upper() == "ALL"
        ):
            count = None
        else:
            count = literal_int(value)
            if count is None:
                raise _refuse("LIMIT_NOT_LITERAL", "LIMIT must be a whole number")
    elif limit is not None:
        raise _refuse("LIMIT_NOT_LITERAL", "LIMIT must be a whole number")
    if max_rows is None:
        if count is None:
            root.set("limit", None)
        else:
            root.set("limit", exp.Limit(expression=exp.Literal.number(count)))
        return
    if count is None or count > max_rows:
        count = max_rows + 1
    root.set("limit", exp.Limit(expression=exp.Literal.number(count)))


def govern(
    sql: str,
    policy: Policy,
    *,
    dialect: str,
    pii_columns: frozenset[str] = frozenset(),
    forbidden_names: frozenset[str] = frozenset(),
    schema: str | None = None,
) -> GovernedQuery:
    """Turn ``sql`` into governed SQL for ``policy``, or raise QueryRefused (steps above).

    ``schema`` is where unqualified physical tables live (default: DuckDB ``main``, PostgreSQL
    ``public``); the governor always reads them schema-qualified so a user CTE can't capture them.
    """
    engine = DIALECTS.get(dialect.lower())
    if engine is None:
        raise ValueError(f"unsupported dialect {dialect!r} (duckdb, postgres or spark)")
    if policy.max_rows is not None and policy.max_rows < 0:
        raise ValueError("Policy.max_rows must be >= 0 or None")
    _check_text(sql)
    root = _parse(sql, engine)
    _check_names(root, policy, engine)
    governor = _Governor(policy, engine, schema or DEFAULT_SCHEMA[engine], forbidden_names)
    governor.taken |= {ascii_lower(str(i.this)) for i in root.find_all(exp.Identifier)}
    try:
        governor.visit(root, ())
        approximate = _approximate(root, governor.uses, engine)
        governor.rewrite(_named_columns(root, governor.uses))
        _cap_limit(root, policy.max_rows)
        skeleton = root.sql(dialect=engine, comments=False, unsupported_level=ErrorLevel.RAISE)
        reparsed = [s for s in sqlglot.parse(skeleton, read=engine) if s is not None]
        if len(reparsed) != 1 or not isinstance(reparsed[0], (exp.Select, *_SET_OPS, exp.Subquery)):
            raise _refuse("REWRITE_FAILED", "the governed query could not be verified")
        governor.verify(reparsed[0])
        governed_sql = governor.splice(skeleton)
    except RecursionError:
        raise _refuse("QUERY_TOO_COMPLEX", "the query is nested too deeply") from None
    except QueryRefused:
        raise
    except SqlglotError as exc:
        raise _refuse("REWRITE_FAILED", f"the query could not be rewritten: {exc}") from None
    governed = _result(governed_sql, governor, policy, pii_columns)
    governed.warnings.extend(approximate)
    return governed


def _result(
    governed_sql: str, governor: _Governor, policy: Policy, pii_columns: Iterable[str]
) -> GovernedQuery:
    products: list[ProductPolicy] = []
    for use in governor.uses:
        if use.product not in products:
            products.append(use.product)
    pii = {p.lower() for p in pii_columns}
    masked: list[str] = []
    touched: list[str] = []
    raw: dict[str, str] = {}
    warnings: list[str] = []
    for product in products:
        for column in product.columns:
            qualified = f"{product.product_id}.{column.name}"
            if column.mask is not None:
                masked.append(qualified)
            if column.mask is not None or qualified.lower() in pii:
                touched.append(qualified)
            if column.mask is None and qualified.lower() in pii:
                # Every column of a product is projected, so a raw PII column is read raw.
                raw[qualified] = column.basis or ""
        if product.warning and product.warning not in warnings:
            warnings.append(product.warning)
    uses_hash = any(c.mask == Mask.HASH for p in products for c in p.columns)
    if uses_hash and not policy.hash_key:
        raise ValueError("Policy.hash_key is empty; the hash mask needs a secret key")
    session = {HASH_KEY_SETTING[governor.dialect]: policy.hash_key} if uses_hash else {}
    return GovernedQuery(
        sql=governed_sql,
        products=[p.product_id for p in products],
        masked_columns=masked,
        pii_columns=touched,
        warnings=warnings,
        max_rows=policy.max_rows,
        session=session,
        raw_columns=raw,
    )
