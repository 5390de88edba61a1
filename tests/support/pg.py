"""Throwaway PostgreSQL warehouses for integration tests.

``PORTAL_TEST_PG_URL`` is a superuser DSN (CI: postgresql://portal:portal@127.0.0.1:5432/portal).
``pg_warehouse(setup_sql)`` creates a fresh database, runs ``setup_sql`` in it as the superuser,
creates a login role that can only SELECT, and yields that role's DSN; everything is dropped after.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse, urlunparse

import pytest

PG_URL_ENV = "PORTAL_TEST_PG_URL"


def pg_admin_url() -> str:
    """The superuser DSN, or skip the test when PostgreSQL is not configured."""
    url = os.environ.get(PG_URL_ENV)
    if not url:
        pytest.skip(f"{PG_URL_ENV} is not set (CI sets it; see .ci/run)")
    return url


def _with(
    url: str, *, dbname: str | None = None, user: str | None = None, password: str | None = None
) -> str:
    parts = urlparse(url)
    host = parts.hostname or "127.0.0.1"
    port = f":{parts.port}" if parts.port else ""
    user = user or parts.username or ""
    password = password if password is not None else (parts.password or "")
    netloc = f"{user}:{password}@{host}{port}" if password else f"{user}@{host}{port}"
    path = f"/{dbname}" if dbname else parts.path
    return urlunparse(parts._replace(netloc=netloc, path=path))


@contextmanager
def pg_warehouse(setup_sql: str = "") -> Iterator[str]:
    """Yield the DSN of a fresh database holding ``setup_sql``, readable by a SELECT-only role."""
    import psycopg

    admin = pg_admin_url()
    name = "wh_" + secrets.token_hex(4)
    role = name + "_reader"
    password = secrets.token_hex(8)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'")
    try:
        with psycopg.connect(_with(admin, dbname=name), autocommit=True) as conn:
            if setup_sql:
                conn.execute(setup_sql)
            conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
            conn.execute(f'GRANT USAGE ON SCHEMA public TO "{role}"')
            conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')
        yield _with(admin, dbname=name, user=role, password=password)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def pg_admin_dsn_for(reader_url: str) -> str:
    """The superuser DSN for the same database as ``reader_url`` (to load data or inspect)."""
    return _with(pg_admin_url(), dbname=urlparse(reader_url).path.lstrip("/"))
