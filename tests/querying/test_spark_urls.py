"""Spark warehouse URLs (issue 18): what parse_url keeps, passes on and refuses. Pure Python.

docs/warehouses.md's table of connection URLs is read too: every example there is accepted as
an admin would type it (secrets as ``${VAR}``) and opens the adapter its scheme names.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from querying.warehouses.base import WarehouseUnavailable
from querying.warehouses.connections import resolve_url, url_problem
from querying.warehouses.registry import ADAPTERS, url_scheme
from querying.warehouses.spark import SparkTarget, parse_url

DOCS = Path(__file__).resolve().parents[2] / "docs" / "warehouses.md"


def documented_urls() -> list[str]:
    """The URL column of the docs' table of engines."""
    rows = re.findall(r"^\| [^|]+ \| `([^`]+)` \|$", DOCS.read_text(encoding="utf-8"), re.M)
    assert len(rows) >= 5, rows
    return rows


@pytest.mark.parametrize("template", documented_urls())
def test_every_documented_url_is_accepted_and_names_an_adapter(template: str) -> None:
    assert url_problem(template) is None
    url = resolve_url(template, dict.fromkeys(re.findall(r"\$\{(\w+)\}", template), "s3cret"))
    assert url_scheme(url) in ADAPTERS
    if url_scheme(url) in ("sc", "spark"):
        assert parse_url(url).database == "finance"


def test_databricks_parameters_pass_through_and_the_database_stays_the_portals() -> None:
    url = (
        "sc://dbc-1.cloud.databricks.com:443/;use_ssl=true;token=t0k;"
        "x-databricks-cluster-id=0123-456789-abcdef;database=finance"
    )
    assert parse_url(url) == SparkTarget(
        remote="sc://dbc-1.cloud.databricks.com:443/;use_ssl=true;token=t0k;"
        "x-databricks-cluster-id=0123-456789-abcdef",
        master=None,
        database="finance",
    )


def test_a_local_session_keeps_its_folder() -> None:
    target = parse_url("spark://local[2];warehouse=/srv/spark;database=finance")
    assert (target.master, target.warehouse_dir, target.remote) == ("local[2]", "/srv/spark", None)
    assert parse_url("spark://local[*]").database == "default"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sc://h:15002;Token=x", "invalid Spark URL parameter"),
        ("sc://h:15002;=x", "invalid Spark URL parameter"),
        ("sc://;database=x", "needs a host"),
        ("sc://h:15002;database=a-b", "invalid Spark database name"),
        ("spark://yarn", "spark://local"),
        ("spark://local[2];use_ssl=true", "spark://local"),
        ("spark://local[2];warehouse=rel/dir", "absolute folder"),
        ("trino://h:8080", "not a Spark URL"),
    ],
)
def test_urls_that_cannot_work_are_refused(url: str, message: str) -> None:
    with pytest.raises(WarehouseUnavailable, match=re.escape(message)):
        parse_url(url)


def test_an_unreachable_spark_connect_server_is_unavailable_within_seconds() -> None:
    """pyspark's own client would retry for 10 minutes; the portal's policy gives up in ~4 s."""
    import socket
    import time

    pytest.importorskip("pyspark", reason="the portal's 'spark' extra is not installed")
    from querying.warehouses.spark import SparkWarehouse, forget_session

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    warehouse = SparkWarehouse(f"sc://127.0.0.1:{port}")
    started = time.perf_counter()
    try:
        with pytest.raises(WarehouseUnavailable):
            warehouse.execute("SELECT 1", timeout_s=60)
    finally:
        forget_session(warehouse.target)
    assert time.perf_counter() - started < 30
