"""The default read-only gate for `custom_sql` checks. Pure Python, sqlglot only.

A custom check may read its own product and nothing else. The gate fails closed:

1. text: length cap; no control, zero-width or bidi characters
2. `sqlglot.parse` in the warehouse dialect; exactly one SELECT / UNION / INTERSECT / EXCEPT
3. refuse any DDL/DML/command node, `SELECT ... INTO`, table functions (`read_csv(...)`,
   `generate_series(...)`), string "tables" (DuckDB's `FROM '/etc/passwd'`), system catalogs,
   and functions that touch files, settings, sessions or other queries
4. every table must be a CTE of the query or the product itself, named by its physical table,
   its short name (`campaign_attribution`) or its id (`marketing.campaign_attribution`);
   product references are rewritten to the quoted physical table
5. regenerate the SQL (comments dropped) and re-parse it as a guard

The adapters are hardened on top of this (DuckDB without external access, a PostgreSQL role
that can only SELECT, read-only transactions); the gate is the first line, not the only one.
Callers that have the governor (`querying.governor.govern`) may inject it instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from .specs import ProductSpec

GateFunction = Callable[[str], str]

MAX_SQL_CHARS = 20_000

# Zero-width, bidi and other invisible format characters, plus control characters but tab/CR/LF.
_BAD_CHARS = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)

_REFUSED_NODES: tuple[type[exp.Expr], ...] = (
    exp.Command,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Copy,
    exp.Pragma,
    exp.Set,
    exp.Use,
    exp.Into,
    exp.TruncateTable,
    exp.Attach,
    exp.Detach,
    exp.ReadCSV,
    exp.ReadParquet,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
)

_SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "pg_toast", "system", "temp"})
_SYSTEM_PREFIXES = ("pg_", "duckdb_", "sqlite_")

# Function names (lower-case) refused by prefix or substring: file and network access, settings,
# sequences, other sessions, SQL-in-a-string (`query(...)`, `query_to_xml(...)`), and catalogs.
_REFUSED_FUNCTION_PREFIXES = (
    "pg_",
    "duckdb_",
    "read_",
    "lo_",
    "dblink",
    "query",
    "glob",
    "sniff_",
    "parquet_",
    "getenv",
    "set_config",
    "current_setting",
    "nextval",
    "setval",
    "currval",
    "txid_",
    "load",
    "install",
    "checkpoint",
    "sqlite_",
    "postgres_",
    "mysql_",
    "http",
    "which_secret",
    "to_reg",
    "has_",
)
_REFUSED_FUNCTION_PARTS = ("_to_xml", "_to_json", "xpath", "_read_", "file")


class CustomSqlRefused(ValueError):
    """A custom check's SQL was refused by the gate."""


def make_default_gate(spec: ProductSpec, dialect: str) -> GateFunction:
    """The default gate for `spec`'s custom checks in `dialect`."""

    def gate(sql: str) -> str:
        return gate_custom_sql(sql, spec=spec, dialect=dialect)

    return gate


def gate_custom_sql(sql: str, *, spec: ProductSpec, dialect: str) -> str:
    """The SQL to execute for a custom check of `spec`, or raise CustomSqlRefused."""
    if len(sql) > MAX_SQL_CHARS:
        raise CustomSqlRefused(f"custom SQL is longer than {MAX_SQL_CHARS} characters")
    if _BAD_CHARS.search(sql):
        raise CustomSqlRefused("custom SQL contains control or invisible characters")
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except SqlglotError as exc:
        raise CustomSqlRefused(f"custom SQL does not parse: {_first_line(exc)}") from exc
    if len(statements) != 1:
        raise CustomSqlRefused("custom SQL must be exactly one statement")
    tree = statements[0]
    if not isinstance(tree, exp.Select | exp.SetOperation):
        raise CustomSqlRefused(f"custom SQL must be a SELECT, not {tree.key.upper()}")

    cte_names = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for node in list(tree.walk()):
        if isinstance(node, _REFUSED_NODES):
            raise CustomSqlRefused(f"{node.key.upper()} is not allowed in custom SQL")
        if isinstance(node, exp.Func) and not isinstance(node, exp.Anonymous):
            if isinstance(node.parent, exp.Table) or node.arg_key == "rows_from":
                raise CustomSqlRefused(f"table function {_function_name(node)} is not allowed")
        if isinstance(node, exp.Anonymous):
            _check_function_name(node.name)
        if isinstance(node, exp.Table):
            _check_and_rewrite_table(node, spec=spec, cte_names=cte_names)

    try:
        gated = tree.sql(dialect=dialect, comments=False)
        sqlglot.parse_one(gated, read=dialect)
    except SqlglotError as exc:  # pragma: no cover - a sqlglot round-trip bug
        raise CustomSqlRefused(f"custom SQL could not be regenerated: {_first_line(exc)}") from exc
    return gated


def _check_function_name(name: str) -> None:
    lowered = name.lower()
    if lowered.startswith(_REFUSED_FUNCTION_PREFIXES) or any(
        part in lowered for part in _REFUSED_FUNCTION_PARTS
    ):
        raise CustomSqlRefused(f"function {name} is not allowed in custom SQL")


def _check_and_rewrite_table(table: exp.Table, *, spec: ProductSpec, cte_names: set[str]) -> None:
    if table.args.get("rows_from") or not isinstance(table.this, exp.Identifier):
        inner = table.this
        what = _function_name(inner) if isinstance(inner, exp.Func) else "this table expression"
        raise CustomSqlRefused(f"table function {what} is not allowed in custom SQL")
    name = table.name
    db = table.db
    if table.catalog:
        raise CustomSqlRefused(f"{table.sql()} is not this product's table")
    lowered, db_lowered = name.lower(), db.lower()
    if db_lowered in _SYSTEM_SCHEMAS or (
        not db and lowered.startswith(_SYSTEM_PREFIXES) and lowered != spec.table.lower()
    ):
        raise CustomSqlRefused(f"system catalog {table.sql()} is not allowed in custom SQL")
    if not db and lowered in cte_names:
        return
    domain, _, short = spec.product_id.partition(".")
    is_product = (
        (not db and lowered in {spec.table.lower(), short.lower()})
        or (db_lowered == domain.lower() and lowered == short.lower())
        or (db_lowered in {"main", "public"} and lowered == spec.table.lower())
    )
    if not is_product:
        raise CustomSqlRefused(
            f"custom SQL may read only {spec.product_id} ({spec.table}), not {table.sql()}"
        )
    alias = table.args.get("alias")
    if alias is None and (db or lowered != spec.table.lower()):
        # keep qualified column references (`campaign_attribution.col`) resolving
        table.set("alias", exp.TableAlias(this=exp.to_identifier(name)))
    table.set("this", exp.to_identifier(spec.table, quoted=True))
    table.set("db", None)
    table.set("catalog", None)


def _function_name(node: exp.Func) -> str:
    return node.name if isinstance(node, exp.Anonymous) else node.sql_name().lower()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
