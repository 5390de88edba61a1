"""The warehouse protocol: the only way the portal talks to a warehouse.

Pure Python: no Django import. ``duckdb.py``, ``postgres.py`` and ``spark.py`` are the only
modules that import a driver; ``registry.py`` picks one from a URL and imports it lazily.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

# Names of session variables a statement may read (``execute(..., session=...)``).
SESSION_NAME = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")


def checked_session(session: Mapping[str, str] | None) -> list[tuple[str, str]]:
    """``session`` as (name, value) pairs, refusing names that are not plain identifiers."""
    pairs = list((session or {}).items())
    for name, value in pairs:
        if not SESSION_NAME.match(name) or not isinstance(value, str):
            raise WarehouseError(f"invalid session variable {name!r}")
    return pairs


class WarehouseError(Exception):
    """The warehouse could not answer (unreachable, locked, engine error)."""


class WarehouseUnavailable(WarehouseError):
    """The warehouse cannot be reached at all (file missing or locked, server down)."""


class QueryTimeout(WarehouseError):
    """The statement ran longer than its timeout and was cancelled."""


@dataclass(frozen=True)
class WarehouseColumn:
    """A column as the warehouse reports it."""

    name: str
    type: str  # the engine's own type name, upper-case (e.g. VARCHAR, TIMESTAMP WITH TIME ZONE)
    nullable: bool


@dataclass
class Result:
    """Rows of one statement; ``truncated`` is set when more than ``max_rows`` existed.

    ``truncated_by`` says which cap cut it: "rows" (``max_rows``) or "bytes" (``max_bytes``).
    """

    columns: list[str]
    rows: list[tuple[object, ...]]
    truncated: bool = False
    elapsed_ms: float = 0.0
    types: list[str] = field(default_factory=list)
    truncated_by: str | None = None


class Cursor(Protocol):
    """The part of a DB-API cursor ``fetch_capped`` uses."""

    def fetchmany(self, size: int = ...) -> Sequence[Sequence[object]]: ...


FETCH_BATCH = 256


def value_bytes(value: object) -> int:
    """About what a value costs in memory and in a JSON or CSV answer (cheap, not exact)."""
    if isinstance(value, str | bytes | bytearray | memoryview):
        return len(value) + 8
    if isinstance(value, list | tuple | dict):
        return len(str(value)) + 8
    return 16


def fetch_capped(
    cursor: Cursor, *, max_rows: int | None, max_bytes: int | None
) -> tuple[list[tuple[object, ...]], str | None]:
    """Rows in batches, stopping at ``max_rows`` rows or ``max_bytes`` bytes (what cut it)."""
    rows: list[tuple[object, ...]] = []
    size = 0
    while True:
        want = FETCH_BATCH if max_rows is None else min(FETCH_BATCH, max_rows + 1 - len(rows))
        batch = cursor.fetchmany(want)
        if not batch:
            return rows, None
        for row in batch:
            if max_rows is not None and len(rows) >= max_rows:
                return rows, "rows"
            if max_bytes is not None:
                size += sum(value_bytes(v) for v in row)
                if size > max_bytes:
                    return rows, "bytes"
            rows.append(tuple(row))


class Warehouse(Protocol):
    """What every adapter offers."""

    kind: str  # "duckdb" | "postgres" | "spark"
    dialect: str  # the sqlglot dialect name
    schema: str  # where unqualified product tables live (main, public, a Spark database)

    def execute(
        self,
        sql: str,
        params: Sequence[object] = (),
        *,
        timeout_s: float,
        max_rows: int | None = None,
        session: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> Result:
        """Run one read-only statement; fetch at most ``max_rows`` (+1 to flag truncation)
        and at most about ``max_bytes`` of values (``fetch_capped``).

        ``session``: variables set (bound, never spliced into SQL) for this statement only,
        read by the statement by name (the governor's hash key).
        """
        ...

    def columns(self, table: str) -> list[WarehouseColumn] | None:
        """The table's columns in order, or None when the table does not exist."""
        ...

    def tables(self) -> list[str]:
        """Names of the base tables and views the warehouse holds."""
        ...


class InformationSchemaMixin:
    """``columns()`` and ``tables()`` from the SQL-standard information_schema, bound params."""

    schema: str  # the schema our tables live in (DuckDB: main, PostgreSQL: public)
    placeholder: str  # the driver's parameter marker
    type_expression = "data_type"

    def execute(
        self,
        sql: str,
        params: Sequence[object] = (),
        *,
        timeout_s: float,
        max_rows: int | None = None,
        session: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> Result:
        raise NotImplementedError

    def columns(self, table: str) -> list[WarehouseColumn] | None:
        """Columns of ``table`` in order, or None when the table does not exist."""
        p = self.placeholder
        result = self.execute(
            f"SELECT column_name, {self.type_expression}, is_nullable "
            "FROM information_schema.columns "
            f"WHERE table_schema = {p} AND table_name = {p} ORDER BY ordinal_position",
            [self.schema, table],
            timeout_s=10,
        )
        if not result.rows:
            return None
        return [
            WarehouseColumn(name=str(n), type=str(t).upper(), nullable=(str(nl) == "YES"))
            for n, t, nl in result.rows
        ]

    def tables(self) -> list[str]:
        """Base tables and views in our schema."""
        result = self.execute(
            "SELECT table_name FROM information_schema.tables "
            f"WHERE table_schema = {self.placeholder} ORDER BY table_name",
            [self.schema],
            timeout_s=10,
        )
        return [str(r[0]) for r in result.rows]
