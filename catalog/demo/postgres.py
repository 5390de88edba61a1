"""Load the demo warehouse into PostgreSQL: the rows ``bin/demo`` puts in its DuckDB file.

Pure Python: no Django import. ``seed_demo --warehouse postgresql://…`` calls
``load_demo_warehouse_postgres`` (docker-compose.yml's ``demo`` profile runs it as the loader
role). Invariants (tests/deploy/test_demo_postgres.py):

- The same data: the DuckDB warehouse is built first, in a temporary folder, by
  ``build_demo_warehouse`` (deterministic for a ``now`` and ``seed``), then each table is copied
  column for column: same names, order, NOT NULL constraints and the matching PostgreSQL types.
- Atomic: every table is dropped, created, filled and granted in one transaction, so the
  portal's reader sees the old tables or the new ones, never a half-loaded warehouse.
- ``grant_to`` roles get SELECT on each demo table, and on nothing else.
- Names reach SQL only as quoted identifiers (``psycopg.sql.Identifier``); rows travel by COPY.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse, urlunparse

import duckdb
import psycopg
from psycopg import sql

from .warehouse import build_demo_warehouse

# DuckDB's information_schema type names of the demo tables -> PostgreSQL types.
POSTGRES_TYPES: dict[str, str] = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "JSON": "jsonb",
    "VARCHAR[]": "text[]",
}
CONNECT_TIMEOUT_S = 10
BATCH = 5_000


def _columns(source: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str, bool]]:
    """``(name, PostgreSQL type, nullable)`` of a DuckDB table, in column order."""
    rows = source.execute(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    columns = []
    for name, data_type, nullable in rows:
        if data_type not in POSTGRES_TYPES:
            raise ValueError(f"{table}.{name}: no PostgreSQL type for DuckDB's {data_type}")
        columns.append((str(name), POSTGRES_TYPES[data_type], nullable == "YES"))
    return columns


def _copy_table(
    source: duckdb.DuckDBPyConnection,
    target: psycopg.Connection[Any],
    table: str,
    grant_to: Sequence[str],
) -> None:
    columns = _columns(source, table)
    name = sql.Identifier(table)
    target.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(name))
    target.execute(
        sql.SQL("CREATE TABLE {} ({})").format(
            name,
            sql.SQL(", ").join(
                sql.SQL("{} {}{}").format(
                    sql.Identifier(column),
                    sql.SQL(pg_type),  # from POSTGRES_TYPES only
                    sql.SQL("" if nullable else " NOT NULL"),
                )
                for column, pg_type, nullable in columns
            ),
        )
    )
    names = sql.SQL(", ").join(sql.Identifier(column) for column, _, _ in columns)
    reader = source.execute(f"SELECT * FROM {_duckdb_identifier(table)}")
    with (
        target.cursor() as cursor,
        cursor.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(name, names)) as copy,
    ):
        while batch := reader.fetchmany(BATCH):
            for row in batch:
                copy.write_row(row)
    for role in grant_to:
        target.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(name, sql.Identifier(role)))


def _duckdb_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load_demo_warehouse_postgres(
    url: str,
    *,
    now: datetime,
    seed: int = 42,
    grant_to: Sequence[str] = (),
    contracts: list[dict[str, Any]] | None = None,
) -> dict[str, int]:
    """Load the demo tables into the PostgreSQL database at ``url``; return ``{table: rows}``.

    ``url``'s role creates the tables (the warehouse's loader); ``grant_to`` roles may then
    SELECT them. Raises psycopg.Error when PostgreSQL refuses (unreachable, no rights).
    """
    # Connect first: a warehouse that is unreachable or refuses the role fails fast.
    with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S) as target:
        target.execute("SET TIME ZONE 'UTC'")
        with tempfile.TemporaryDirectory(prefix="demo-warehouse-") as folder:
            path = Path(folder) / "warehouse.duckdb"
            counts = build_demo_warehouse(path, now=now, seed=seed, contracts=contracts)
            source = duckdb.connect(str(path), read_only=True)
            try:
                source.execute("SET TimeZone = 'UTC'")
                for table in counts:
                    _copy_table(source, target, table, grant_to)
            finally:
                source.close()
        # Leaving the connection block commits: every table at once.
    return counts


def _parts(url: str) -> tuple[str, str, str] | None:
    """``(user, host:port, database)`` of a ``postgresql://`` URL, or None for another URL."""
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        return None
    where = f"{parsed.hostname or ''}:{parsed.port or 5432}"
    return unquote(parsed.username or ""), where, unquote(parsed.path.lstrip("/"))


def display_url(url: str) -> str:
    """``url`` without its password, for messages."""
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    netloc = parsed.netloc.rsplit("@", 1)[-1]
    user = parsed.username or ""
    return urlunparse(parsed._replace(netloc=f"{user}:***@{netloc}"))


def reader_roles(loader_url: str, warehouse_url: str) -> list[str]:
    """Who is granted SELECT: the portal's warehouse role (``WAREHOUSE_URL``), if not the loader.

    Raises ValueError (a readable sentence) unless both are PostgreSQL URLs of one database.
    """
    loader = _parts(loader_url)
    if loader is None or not loader[0] or not loader[2]:
        raise ValueError(
            "must be the loader role's URL, postgresql://user:password@host:5432/database"
        )
    reader = _parts(warehouse_url)
    if reader is None or not reader[0]:
        raise ValueError(
            "WAREHOUSE_URL must be the portal's reader role on the same PostgreSQL database "
            f"(postgresql://warehouse_reader:…@host/{loader[2]}), not {display_url(warehouse_url)}"
        )
    if reader[1:] != loader[1:]:
        raise ValueError(
            f"loads {loader[1]}/{loader[2]} but WAREHOUSE_URL reads {reader[1]}/{reader[2]}: "
            "the portal would not see the demo tables"
        )
    return [] if reader[0] == loader[0] else [reader[0]]
