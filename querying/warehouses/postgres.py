"""PostgreSQL adapter: psycopg, a READ ONLY transaction per statement, statement_timeout.

Run it as a role without file or program access (no pg_read_server_files,
pg_execute_server_program, not superuser); the transaction is read-only on top of that.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import psycopg
from psycopg import errors as pg_errors

from .base import (
    InformationSchemaMixin,
    QueryTimeout,
    Result,
    WarehouseError,
    WarehouseUnavailable,
    checked_session,
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
    ) -> Result:
        """Run one statement (``%s`` parameters) in a READ ONLY transaction with a timeout."""
        variables = checked_session(session)
        started = time.perf_counter()
        conn_opened = False
        try:
            with psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_S) as conn:
                conn_opened = True
                conn.read_only = True
                with conn.transaction(), conn.cursor() as cur:
                    # SET LOCAL takes no bind parameters; set_config(..., true) is the same, bound.
                    cur.execute(
                        "SELECT set_config('statement_timeout', %s, true)",
                        [str(max(1, int(timeout_s * 1000)))],
                    )
                    for name, value in variables:  # transaction-local, bound (never logged)
                        cur.execute("SELECT set_config(%s, %s, true)", [name, value])
                    cur.execute(sql, list(params) if params else None)
                    description = cur.description or []
                    if max_rows is None:
                        rows = cur.fetchall()
                        truncated = False
                    else:
                        rows = cur.fetchmany(max_rows + 1)
                        truncated = len(rows) > max_rows
                        rows = rows[:max_rows]
        except pg_errors.QueryCanceled as exc:
            raise QueryTimeout(f"query exceeded {timeout_s:g}s and was cancelled") from exc
        except psycopg.OperationalError as exc:
            if conn_opened:
                raise WarehouseError(str(exc).strip()) from exc
            raise WarehouseUnavailable(f"cannot reach the warehouse: {str(exc).strip()}") from exc
        except psycopg.Error as exc:
            raise WarehouseError(str(exc).strip()) from exc
        return Result(
            columns=[d.name for d in description],
            rows=[tuple(r) for r in rows],
            truncated=truncated,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            types=[str(d.type_code) for d in description],
        )
