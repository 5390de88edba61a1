"""DuckDB adapter: short-lived, hardened, read-only connections to one database file.

A read-write DuckDB connection locks the file against every other process, readers included,
so the portal never holds one: each call opens ``read_only=True``, retries briefly while a
writer holds the lock, and closes. Writers (the demo loader) build a temp file and
``os.replace`` it, so readers never see a half-written warehouse.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

import duckdb

from .base import (
    InformationSchemaMixin,
    QueryTimeout,
    Result,
    WarehouseError,
    WarehouseUnavailable,
    checked_session,
    fetch_capped,
)

# Applied at connect time, then frozen by lock_configuration so SQL cannot undo them.
HARDENED_CONFIG: dict[str, bool] = {
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "lock_configuration": True,
}
LOCK_RETRY_S = 2.0


class DuckDBWarehouse(InformationSchemaMixin):
    """Read-only access to a DuckDB file."""

    kind = "duckdb"
    dialect = "duckdb"
    schema = "main"
    placeholder = "?"

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)

    @classmethod
    def from_url(cls, url: str) -> DuckDBWarehouse:
        """Build from ``duckdb:///abs/path.duckdb``."""
        parsed = urlparse(url)
        path = unquote(parsed.netloc + parsed.path)
        if path.startswith("//"):  # duckdb:////abs/path: one leading slash is enough
            path = "/" + path.lstrip("/")
        if not path:
            raise WarehouseUnavailable("duckdb URL needs a file path: duckdb:///abs/path.duckdb")
        return cls(path)

    def _connect(self) -> duckdb.DuckDBPyConnection:
        """Open a hardened read-only connection, retrying briefly while a writer holds the lock."""
        if not Path(self.path).exists():
            raise WarehouseUnavailable(
                f"warehouse file {self.path} does not exist (run seed_demo?)"
            )
        deadline = time.monotonic() + LOCK_RETRY_S
        while True:
            try:
                return duckdb.connect(self.path, read_only=True, config=dict(HARDENED_CONFIG))
            except duckdb.IOException as exc:  # "Could not set lock on file"
                if time.monotonic() >= deadline:
                    raise WarehouseUnavailable(f"warehouse is locked: {exc}") from exc
                time.sleep(0.05)
            except duckdb.Error as exc:
                raise WarehouseUnavailable(str(exc)) from exc

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
        """Run one statement with ``?`` parameters; interrupt it after ``timeout_s``."""
        variables = checked_session(session)
        conn = self._connect()
        timed_out = threading.Event()

        def interrupt() -> None:
            timed_out.set()
            conn.interrupt()

        timer = threading.Timer(timeout_s, interrupt)
        started = time.perf_counter()
        timer.start()
        try:
            for name, value in variables:  # a fresh connection: visible to this statement only
                conn.execute(f"SET VARIABLE {name} = ?", [value])
            cursor = conn.execute(sql, list(params))
            description = cursor.description or []
            rows, cut_by = fetch_capped(cursor, max_rows=max_rows, max_bytes=max_bytes)
        except duckdb.Error as exc:
            if timed_out.is_set():
                raise QueryTimeout(f"query exceeded {timeout_s:g}s and was cancelled") from exc
            raise WarehouseError(str(exc)) from exc
        finally:
            timer.cancel()
            conn.close()
        return Result(
            columns=[d[0] for d in description],
            rows=rows,
            truncated=cut_by is not None,
            truncated_by=cut_by,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            types=[str(d[1]) for d in description],
        )
