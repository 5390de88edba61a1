"""DuckDB adapter: hardened, read-only access to one database file.

A read-write DuckDB connection locks the file against every other process, readers included,
so the portal never holds one: it opens ``read_only=True`` (retrying briefly while a writer
holds the lock). Writers (the demo loader) build a temp file and ``os.replace`` it, so readers
never see a half-written warehouse.

Opening a DuckDB instance costs 15-20 ms, most of a small query; so each process keeps one
read-only instance per file and gives every statement its own cursor (a separate connection to
that instance: session variables and interrupts stay per statement). Before each statement the
file's identity (inode, size, modification time) is compared with the one the instance was
opened on, and a file swapped in by a writer is opened afresh, so no statement reads an old
warehouse. DuckDB shares one instance per file path within a process (an open instance of the
old file would be handed back for the same path), so each generation is opened through its own
hard link, ``.<name>.readers/<inode>`` beside the file; links of older generations are removed.
Where links cannot be made (another filesystem, a read-only folder), or with
``WAREHOUSE_DUCKDB_REUSE=0``, every statement opens its own instance, as before.
"""

from __future__ import annotations

import contextlib
import os
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
REUSE = os.environ.get("WAREHOUSE_DUCKDB_REUSE", "1").strip() not in ("0", "false", "no")

# path -> (file identity, instance): this process's open read-only instances.
_instances: dict[str, tuple[tuple[int, int, int], duckdb.DuckDBPyConnection]] = {}
_instances_lock = threading.Lock()


def _identity(path: str) -> tuple[int, int, int]:
    stat = os.stat(path)
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _generation_link(path: str, inode: int) -> str | None:
    """A hard link to the file's current generation (made if missing), or None if impossible."""
    folder = Path(path).parent / f".{Path(path).name}.readers"
    link = folder / str(inode)
    try:
        folder.mkdir(exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another process made it first
            os.link(path, link)
        if os.stat(link).st_ino != inode:  # the file was swapped again meanwhile
            return None
        for old in folder.iterdir():  # earlier generations: their instances hold the inodes
            if old.name != str(inode):
                old.unlink(missing_ok=True)
    except OSError:
        return None
    return str(link)


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
        """A connection for one statement: a cursor of this process's instance for the file."""
        if not Path(self.path).exists():
            raise WarehouseUnavailable(
                f"warehouse file {self.path} does not exist (run seed_demo?)"
            )
        if not REUSE:
            return self._open()
        try:
            identity = _identity(self.path)
        except OSError as exc:
            raise WarehouseUnavailable(f"warehouse file {self.path}: {exc}") from exc
        with _instances_lock:
            held = _instances.get(self.path)
            if held is None or held[0] != identity:
                # A new or swapped file: open it through this generation's link. Statements still
                # running on the old instance keep their cursors; it closes after the last one.
                link = _generation_link(self.path, identity[0])
                if link is None:
                    return self._open()
                _instances[self.path] = (identity, self._open(link))
            instance = _instances[self.path][1]
        try:
            return instance.cursor()
        except duckdb.Error as exc:  # the instance was closed under us: open afresh
            with _instances_lock:
                _instances.pop(self.path, None)
            raise WarehouseUnavailable(str(exc)) from exc

    def _open(self, path: str | None = None) -> duckdb.DuckDBPyConnection:
        """Open a hardened read-only instance, retrying briefly while a writer holds the lock."""
        deadline = time.monotonic() + LOCK_RETRY_S
        while True:
            try:
                return duckdb.connect(
                    path or self.path, read_only=True, config=dict(HARDENED_CONFIG)
                )
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
            for name, value in variables:  # this statement's own cursor: visible to it only
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
