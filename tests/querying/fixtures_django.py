"""Fixtures for the Django side of governed SQL: a real DuckDB warehouse and published products.

Import them into a test module with ``from tests.querying.fixtures_django import *``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from catalog.models import DataProduct
from catalog.services import product_publish
from tests.factories import contract_document

ATTRIBUTION_COLUMNS = (
    "attribution_id VARCHAR NOT NULL, user_id VARCHAR NOT NULL, campaign_id VARCHAR NOT NULL, "
    "channel VARCHAR NOT NULL, touchpoint_at TIMESTAMP NOT NULL, conversion_at TIMESTAMP, "
    "revenue_cents BIGINT, attribution_model VARCHAR NOT NULL"
)
ATTRIBUTION_ROWS = [
    (
        "a-1",
        "user-00012345",
        "c-1",
        "paid",
        "2025-03-01 10:00:00",
        "2025-03-01 11:00:00",
        1250,
        "linear",
    ),
    ("a-2", "user-00067890", "c-1", "email", "2025-03-01 12:00:00", None, None, "linear"),
    ("a-3", "user-00011111", "c-2", "organic", "2025-03-02 09:30:00", None, 300, "time_decay"),
]
# A fixed "now" for the policy: after the fixture's past sunset, before the future one.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
FUTURE_SUNSET = "2027-03-31T00:00:00Z"
PAST_SUNSET = datetime(2026, 1, 31, tzinfo=UTC)

# product id -> (status, table rows)
PRODUCTS = {
    "marketing.campaign_attribution": "published",
    "marketing.legacy_attribution": "deprecated",
    "marketing.old_attribution": "deprecated",  # sunset moved into the past below
    "marketing.draft_attribution": "draft",
    "marketing.gone_attribution": "published",  # retired below
    "finance.revenue_attribution": "published",
}


def build_warehouse(path: Path, *, big_rows: int = 0) -> Path:
    """Write a DuckDB file holding one attribution table per product (and ``big`` rows)."""
    con = duckdb.connect(str(path))
    try:
        for product_id in PRODUCTS:
            table = product_id.replace(".", "_")
            con.execute(f"CREATE TABLE {table} ({ATTRIBUTION_COLUMNS})")
            con.executemany(
                f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ATTRIBUTION_ROWS
            )
        if big_rows:
            con.execute(
                "INSERT INTO marketing_campaign_attribution SELECT 'b-' || i, 'user-' || i, 'c-9', "
                "'paid', TIMESTAMP '2025-01-01', NULL, i, 'linear' FROM range(?) t(i)",
                [big_rows],
            )
    finally:
        con.close()
    return path


def publish(product_id: str, status: str = "published", **overrides: Any) -> DataProduct:
    """Publish a seed-shaped contract for ``product_id`` as a trusted system caller."""
    if status != "deprecated":
        doc = contract_document(product_id, status=status, **overrides)
        return product_publish(actor=None, document=doc).product
    # The lifecycle gate wants a product published before it is deprecated.
    product_publish(actor=None, document=contract_document(product_id, status="published"))
    doc = contract_document(product_id, status=status, version=4, **overrides)
    doc.setdefault(
        "deprecation",
        {
            "sunsetAt": FUTURE_SUNSET,
            "replacedBy": "marketing.campaign_attribution",
            "reason": "superseded by the multi-touch model",
        },
    )
    return product_publish(actor=None, document=doc).product


@pytest.fixture
def warehouse(tmp_path: Path, settings: Any, marketing: Any, finance: Any) -> Path:
    """A DuckDB warehouse with every fixture product published against it."""
    path = build_warehouse(tmp_path / "warehouse.duckdb")
    settings.WAREHOUSE_URL = f"duckdb:///{path}"
    settings.PII_HASH_KEY = "test-hash-key"
    publish_fixture_products()
    return path


def publish_fixture_products() -> None:
    """Publish every product of PRODUCTS (one sunset moved into the past, one retired)."""
    for product_id, status in PRODUCTS.items():
        publish(product_id, status)
    DataProduct.objects.filter(product_id="marketing.old_attribution").update(
        deprecation_sunset_at=PAST_SUNSET
    )
    DataProduct.objects.filter(product_id="marketing.gone_attribution").update(status="retired")


@pytest.fixture
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Pin the clock query_submit reads (django.utils.timezone.now) to NOW."""
    monkeypatch.setattr("querying.services.timezone.now", lambda: NOW)
    return NOW


# A warehouse test's two engines (the PostgreSQL one only where PORTAL_TEST_PG_URL is set).
ENGINES = ["duckdb", pytest.param("postgres", marks=pytest.mark.integration)]


@contextmanager
def read_only_warehouses(folder: Path, postgres_sql: str) -> Iterator[Callable[[str], str]]:
    """``url(engine)`` of a module's warehouses, each built on first use and kept for the module
    (its tests only read them): ``build_warehouse``'s DuckDB file in ``folder``, or a PostgreSQL
    database holding ``postgres_sql`` that its role may only SELECT from."""
    from tests.support.pg import pg_warehouse

    built: dict[str, str] = {}
    with ExitStack() as stack:

        def url(engine: str) -> str:
            if engine not in built:
                if engine == "duckdb":
                    built[engine] = f"duckdb:///{build_warehouse(folder / 'warehouse.duckdb')}"
                else:
                    built[engine] = stack.enter_context(pg_warehouse(postgres_sql))
            return built[engine]

        yield url
