"""Throwaway Spark databases for the warehouse suites (issue 18).

``PORTAL_TEST_SPARK_URL`` is a Spark Connect URL (CI: ``sc://127.0.0.1:<port>``; ``.ci/run``
starts one local server for the whole run). ``spark_warehouse(statements)`` creates a fresh
database, runs the statements in it through a session of its own (the loader), and yields the
portal's URL for that database (``…;database=<name>``); the database is dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest

SPARK_URL_ENV = "PORTAL_TEST_SPARK_URL"


def spark_url() -> str:
    """The Spark Connect URL, or skip the test when no Spark server is configured."""
    url = os.environ.get(SPARK_URL_ENV)
    if not url:
        pytest.skip(f"{SPARK_URL_ENV} is not set (CI sets it; see .ci/run)")
    return url


def loader_session(url: str) -> Any:
    """A Spark Connect session of the test's own (not the adapter's), to write tables."""
    from pyspark.sql import SparkSession

    return SparkSession.builder.remote(url.split(";", 1)[0]).create()


@contextmanager
def spark_warehouse(statements: Sequence[str], *, database: str | None = None) -> Iterator[str]:
    """Yield a portal URL for a Spark database built by ``statements`` (run in it).

    ``database=None``: a fresh database, dropped afterwards. ``database="default"``: the tables
    go into Spark's default database (what the governor reads when no schema is given, as the
    governor suites call it) and are dropped afterwards; one run per server at a time.
    """
    url = spark_url()
    name = database or "wh_" + secrets.token_hex(4)
    spark = loader_session(url)
    tables = [s.split()[2] for s in statements if s.upper().startswith("CREATE TABLE")]
    if database is None:
        spark.sql(f"CREATE DATABASE `{name}`")
    try:
        spark.sql(f"USE `{name}`")
        for table in tables:  # left over by a run that was killed
            spark.sql(f"DROP TABLE IF EXISTS `{table}`")
        for statement in statements:
            spark.sql(statement)
        yield url if database == "default" else f"{url};database={name}"
    finally:
        if database is None:
            spark.sql(f"DROP DATABASE IF EXISTS `{name}` CASCADE")
        else:
            for table in tables:
                spark.sql(f"DROP TABLE IF EXISTS `{name}`.`{table}`")
        spark.stop()
