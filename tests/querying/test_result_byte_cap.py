"""QUERY_MAX_BYTES: a governed answer is cut at a byte budget, flagged and explained (issue 11).

One query used to take a web process from 155 MB to 710 MB: rows are now fetched in batches
and counted as they come, on both engines (PostgreSQL through a server-side cursor), and the
API, the CSV export and the page say the answer was cut.
"""

from __future__ import annotations

import csv
import io
import tracemalloc
from typing import Any

import pytest

from querying.warehouses import Warehouse
from querying.warehouses.base import fetch_capped
from tests.querying.conftest import gov_duckdb, gov_postgres  # noqa: F401 - fixtures
from tests.querying.fixtures_django import *  # noqa: F403

SQL = "SELECT attribution_id, user_id, revenue_cents FROM marketing.campaign_attribution ORDER BY 1"


class Rows:
    """A cursor over ``count`` rows of ``width`` characters, counting what was fetched."""

    def __init__(self, count: int, width: int) -> None:
        self.left, self.width, self.fetched = count, width, 0

    def fetchmany(self, size: int = 1) -> list[tuple[object, ...]]:
        size = min(size, self.left)
        self.left -= size
        self.fetched += size
        return [("x" * self.width, 1)] * size


def test_fetch_stops_at_the_byte_budget_and_says_so() -> None:
    cursor = Rows(100_000, 1000)
    rows, cut = fetch_capped(cursor, max_rows=None, max_bytes=50_000)
    assert cut == "bytes" and 40 <= len(rows) <= 50
    assert cursor.fetched < 400  # it stopped fetching, not only keeping


def test_fetch_stops_at_the_row_cap_first_when_rows_are_small() -> None:
    rows, cut = fetch_capped(Rows(100, 10), max_rows=10, max_bytes=1_000_000)
    assert (len(rows), cut) == (10, "rows")
    rows, cut = fetch_capped(Rows(10, 10), max_rows=10, max_bytes=1_000_000)
    assert (len(rows), cut) == (10, None)


@pytest.mark.parametrize(
    "engine", ["duckdb", pytest.param("postgres", marks=pytest.mark.integration)]
)
def test_a_huge_answer_never_sits_whole_in_the_process(
    request: pytest.FixtureRequest, engine: str
) -> None:
    warehouse: Warehouse = request.getfixturevalue(f"gov_{engine}")
    series = (
        "SELECT repeat('x', 10000) AS v FROM range(20000)"
        if engine == "duckdb"
        else "SELECT repeat('x', 10000) AS v FROM generate_series(1, 20000)"
    )  # 200 MB of text
    tracemalloc.start()
    try:
        result = warehouse.execute(series, timeout_s=60, max_rows=None, max_bytes=1_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.truncated and result.truncated_by == "bytes"
    assert 90 <= len(result.rows) <= 100
    assert peak < 30_000_000, f"peak Python memory {peak / 1e6:.0f} MB"


@pytest.mark.django_db
def test_the_api_flags_a_cut_answer_and_explains_it(
    api_as, analyst, warehouse, fixed_now, settings
):
    settings.QUERY_MAX_BYTES = 50
    body = api_as(analyst).post("/v1/query", {"sql": SQL}, format="json").json()
    assert body["truncated"] is True and body["rowCount"] == 1
    assert any("QUERY_MAX_BYTES" in w for w in body["warnings"])


@pytest.mark.django_db
def test_the_csv_export_is_cut_too(api_as, analyst, warehouse, fixed_now, settings):
    settings.QUERY_MAX_BYTES = 50
    response = api_as(analyst).post("/v1/query.csv", {"sql": SQL}, format="json")
    assert response["X-Query-Truncated"] == "true"
    text = b"".join(response.streaming_content).decode()
    assert len(list(csv.reader(io.StringIO(text)))) == 2


@pytest.mark.django_db
def test_an_answer_under_the_budget_is_whole(api_as, analyst, warehouse, fixed_now):
    body: Any = api_as(analyst).post("/v1/query", {"sql": SQL}, format="json").json()
    assert body["truncated"] is False and body["rowCount"] == 3
    assert not any("QUERY_MAX_BYTES" in w for w in body["warnings"])
