"""PostgreSQL adapter: psycopg, a READ ONLY transaction per statement, statement_timeout.

Run it as a role without file or program access (no pg_read_server_files,
pg_execute_server_program, not superuser); the transaction is read-only on top of that.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from .base import (
    InformationSchemaMixin,
    QueryTimeout,
    Result,
    WarehouseError,
    WarehouseUnavailable,
    checked_session,
    fetch_capped,
)

CONNECT_TIMEOUT_S = 5


class PostgresWarehouse(InformationSchemaMixin):
    """Read-only access to a PostgreSQL database (``public`` schema)."""

    kind = "postgres"
    dialect = "postgres"
    schema = "public"
    placeholder = "%s"
    # citext, enums and domains report USER-DEFINED; their own type name is what we compare.
    type_expression = "CASE WHEN data_type = 'USER-DEFINED' THEN udt_name ELSE data_type END"

    def __init__(self, url: str) -> None:
        self.url = url

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
        """Run one statement (``%s`` parameters) in a READ ONLY transaction with a timeout."""
        variables = checked_session(session)
        started = time.perf_counter()
        conn_opened = False
        try:
            with psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_S) as conn:
                conn_opened = True
                conn.read_only = True
                deadline = time.monotonic() + timeout_s
                with conn.transaction(), conn.cursor() as setup:
                    _set_timeout(setup, deadline, timeout_s)
                    for name, value in variables:  # transaction-local, bound (never logged)
                        setup.execute("SELECT set_config(%s, %s, true)", [name, value])
                    # A server-side cursor: rows arrive in batches, so a huge answer never sits
                    # whole in this process; each FETCH gets only the time the statement has left.
                    with conn.cursor(name="portal_statement") as cur:
                        cur.execute(sql, list(params) if params else None)
                        description = cur.description or []
                        rows, cut_by = fetch_capped(
                            _Timed(cur, setup, deadline, timeout_s),
                            max_rows=max_rows,
                            max_bytes=max_bytes,
                        )
        except pg_errors.QueryCanceled as exc:
            raise QueryTimeout(f"query exceeded {timeout_s:g}s and was cancelled") from exc
        except psycopg.OperationalError as exc:
            if conn_opened and not _connection_lost(exc):
                raise WarehouseError(str(exc).strip()) from exc
            raise WarehouseUnavailable(f"cannot reach the warehouse: {str(exc).strip()}") from exc
        except psycopg.Error as exc:
            raise WarehouseError(str(exc).strip()) from exc
        return Result(
            columns=[d.name for d in description],
            rows=rows,
            truncated=cut_by is not None,
            truncated_by=cut_by,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            types=[d.type_display for d in description],  # "int4", "numeric(5,2)", "date"
        )


def _set_timeout(cur: psycopg.Cursor[Any], deadline: float, timeout_s: float) -> None:
    """statement_timeout = what is left of the statement's budget (bound; SET takes none)."""
    left_ms = int((deadline - time.monotonic()) * 1000)
    if left_ms <= 0:
        raise QueryTimeout(f"query exceeded {timeout_s:g}s and was cancelled")
    cur.execute("SELECT set_config('statement_timeout', %s, true)", [str(left_ms)])


class _Timed:
    """A server-side cursor whose every FETCH runs under the statement's remaining time."""

    def __init__(
        self, cur: Any, setup: psycopg.Cursor[Any], deadline: float, timeout_s: float
    ) -> None:
        self.cur, self.setup, self.deadline, self.timeout_s = cur, setup, deadline, timeout_s

    def fetchmany(self, size: int = 0) -> Sequence[Sequence[object]]:
        _set_timeout(self.setup, self.deadline, self.timeout_s)
        return self.cur.fetchmany(size)  # type: ignore[no-any-return]


def _connection_lost(exc: psycopg.OperationalError) -> bool:
    """The server went away mid-statement (closed, shut down, crashed, restarting).

    libpq reports a lost connection without an SQLSTATE; the server's own shutdown notices are
    class 57P (admin shutdown, crash, cannot connect now) and class 08 (connection exception).
    Anything else with an SQLSTATE is the statement's own fault (e.g. out of memory for it).
    """
    state = getattr(exc, "sqlstate", None)
    return state is None or state.startswith(("08", "57P"))
