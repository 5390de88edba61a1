"""The warehouse protocol: the only way the portal talks to a warehouse.

Pure Python: no Django import. ``duckdb.py`` and ``postgres.py`` are the only modules that
import a driver; ``registry.py`` picks one from a URL and imports it lazily.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


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
    """Rows of one statement; ``truncated`` is set when more than ``max_rows`` existed."""

    columns: list[str]
    rows: list[tuple[object, ...]]
    truncated: bool = False
    elapsed_ms: float = 0.0
    types: list[str] = field(default_factory=list)


class Warehouse(Protocol):
    """What every adapter offers."""

    kind: str  # "duckdb" | "postgres"
    dialect: str  # the sqlglot dialect name

    def execute(
        self,
        sql: str,
        params: Sequence[object] = (),
        *,
        timeout_s: float,
        max_rows: int | None = None,
    ) -> Result:
        """Run one read-only statement; fetch at most ``max_rows`` (+1 to flag truncation)."""
        ...

    def columns(self, table: str) -> list[WarehouseColumn] | None:
        """The table's columns in order, or None when the table does not exist."""
        ...

    def tables(self) -> list[str]:
        """Names of the base tables and views the warehouse holds."""
        ...
