"""Warehouses as data (issue 18): named connections, secrets from the environment by name,
every read path on the product's connection, cross-warehouse queries refused.

The marketing domain stays on WAREHOUSE_URL (a DuckDB file); the finance domain is moved to a
connection named ``fin`` on another warehouse (a second DuckDB file, a PostgreSQL database or
a Spark database), whose table holds one more row than the default warehouse's copy would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.core.exceptions import ValidationError

from catalog.models import DataProduct, WarehouseConnection
from catalog.warehouses import product_connection
from quality.services import _engine_report
from querying.services import query_submit
from querying.warehouses.base import WarehouseUnavailable
from querying.warehouses.connections import resolve_url, url_problem
from tests.querying.fixtures_django import ATTRIBUTION_COLUMNS, ATTRIBUTION_ROWS, publish

FIN = "finance_revenue_attribution"
EXTRA = ("a-4", "user-00099999", "c-3", "paid", "2025-03-03 08:00:00", None, 10, "linear")


def _literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value) + "'"


def _rows_sql(table: str, *, timestamp: str = "TIMESTAMP") -> str:
    rows = []
    for row in [*ATTRIBUTION_ROWS, EXTRA]:
        cells = [_literal(v) for v in row]
        for i in (4, 5):
            if row[i] is not None:
                cells[i] = f"{timestamp} {cells[i]}"
        rows.append("(" + ", ".join(cells) + ")")
    return f"INSERT INTO {table} VALUES " + ", ".join(rows)


def test_urls_name_their_secrets() -> None:
    assert url_problem("postgresql://r:clear@h/db") is not None
    assert url_problem("postgresql://r:${FIN_PW}@h/db") is None
    assert url_problem("sc://h:443/;use_ssl=true;token=dapi123") is not None
    assert url_problem("sc://h:443/;use_ssl=true;token=${DATABRICKS_TOKEN}") is None
    assert url_problem("mysql://h/db") is not None
    assert resolve_url("postgresql://r:${P}@h/db", {"P": "s3"}) == "postgresql://r:s3@h/db"
    with pytest.raises(WarehouseUnavailable, match="environment variable P is not set"):
        resolve_url("postgresql://r:${P}@h/db", {})


@pytest.mark.django_db
def test_the_model_refuses_clear_secrets_and_the_default_name() -> None:
    with pytest.raises(ValidationError, match="password"):
        WarehouseConnection(name="fin", url="postgresql://r:clear@h/db").full_clean()
    with pytest.raises(ValidationError, match="default"):
        WarehouseConnection(name="default", url="duckdb:///x.duckdb").full_clean()
    WarehouseConnection(name="fin", url="postgresql://r:${FIN_PW}@h/db").full_clean()


@pytest.fixture(
    params=[
        "duckdb",
        pytest.param("postgres", marks=pytest.mark.integration),
        pytest.param("spark", marks=[pytest.mark.integration, pytest.mark.spark]),
    ]
)
def fin_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """(connection URL template, environment) of the finance warehouse on each engine."""
    create = f"CREATE TABLE {FIN} ({ATTRIBUTION_COLUMNS})"
    if request.param == "duckdb":
        path = tmp_path / "finance.duckdb"
        con = duckdb.connect(str(path))
        con.execute(create)
        con.execute(_rows_sql(FIN))
        con.close()
        yield "duckdb://${FIN_WH_PATH}", {"FIN_WH_PATH": str(path)}
    elif request.param == "postgres":
        from tests.support.pg import pg_warehouse

        with pg_warehouse(create + ";\n" + _rows_sql(FIN)) as dsn:
            from urllib.parse import urlparse

            password = urlparse(dsn).password or ""
            yield (
                dsn.replace(f":{password}@", ":${FIN_WH_PASSWORD}@"),
                {"FIN_WH_PASSWORD": password},
            )
    else:
        from tests.support.spark import spark_warehouse

        spark_create = create.replace("VARCHAR", "STRING").replace(" NOT NULL", "")
        statements = [spark_create + " USING parquet", _rows_sql(FIN)]
        with spark_warehouse(statements) as url:
            yield url, {}


@pytest.fixture
def mesh(
    fin_url: tuple[str, dict[str, str]],
    tmp_path: Path,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    marketing: Any,
    finance: Any,
) -> WarehouseConnection:
    """marketing.campaign_attribution on WAREHOUSE_URL, finance.revenue_attribution on fin."""
    template, env = fin_url
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    default = tmp_path / "default.duckdb"
    con = duckdb.connect(str(default))
    con.execute(f"CREATE TABLE marketing_campaign_attribution ({ATTRIBUTION_COLUMNS})")
    con.executemany(
        "INSERT INTO marketing_campaign_attribution VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        ATTRIBUTION_ROWS,
    )
    con.close()
    settings.WAREHOUSE_URL = f"duckdb://{default}"
    settings.PII_HASH_KEY = "test-hash-key"
    connection = WarehouseConnection.objects.create(name="fin", url=template)
    connection.full_clean()
    finance.warehouse = connection
    finance.save()
    publish("marketing.campaign_attribution")
    publish("finance.revenue_attribution")  # conformance reads the fin warehouse
    return connection


@pytest.mark.django_db
def test_every_read_goes_through_the_products_connection(mesh: Any, admin_user: Any) -> None:
    product = DataProduct.objects.get(product_id="finance.revenue_attribution")
    assert product_connection(product).name == "fin"
    outcome = query_submit(user=admin_user, sql="SELECT count(*) FROM revenue_attribution")
    assert outcome.code == "" and outcome.rows == [[4]], outcome.message
    outcome = query_submit(user=admin_user, sql="SELECT count(*) FROM campaign_attribution")
    assert outcome.rows == [[3]], outcome.message
    report = _engine_report(product, product.published_at or product.updated_at)
    assert report.table_reachable, [o.message for o in report.outcomes]


@pytest.mark.django_db
def test_a_query_over_two_warehouses_is_refused_naming_them(mesh: Any, admin_user: Any) -> None:
    outcome = query_submit(
        user=admin_user,
        sql="SELECT count(*) FROM campaign_attribution c JOIN revenue_attribution r "
        "ON c.user_id = r.user_id",
    )
    assert outcome.code == "CROSS_WAREHOUSE"
    assert "finance.revenue_attribution (warehouse fin)" in outcome.message
    assert "marketing.campaign_attribution (warehouse default)" in outcome.message


@pytest.mark.django_db
def test_a_missing_secret_is_unavailable_not_a_crash(
    mesh: Any, admin_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("FIN_WH_PATH", "FIN_WH_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    if "${" not in mesh.url:
        pytest.skip("this engine's URL reads no environment variable")
    outcome = query_submit(user=admin_user, sql="SELECT count(*) FROM revenue_attribution")
    assert outcome.code == "WAREHOUSE_UNAVAILABLE"
