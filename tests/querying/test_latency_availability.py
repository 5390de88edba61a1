"""Figures mean what they say (issue 12): p95 latency counts timed-out and unanswered queries at
the time cap; availability is measured on the product's query path and its check runs."""

from __future__ import annotations

import math
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from catalog.models import DataProduct
from catalog.services import product_publish
from quality import selectors, services
from quality.models import CheckRun
from querying.models import QueryLog, QueryProductUse
from querying.selectors import (
    product_latency_p95_ms,
    products_latency_p95_ms,
    products_query_outcomes,
)
from tests.factories import contract_document

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PID = "marketing.campaign_attribution"
CAP_MS = 30_000.0


@pytest.fixture(autouse=True)
def cap(settings: Any) -> None:
    settings.QUERY_TIMEOUT_S = 30


def log(
    product_id: str,
    duration_ms: float | None,
    *,
    decision: str = "allowed",
    code: str = "",
    at: datetime = NOW,
) -> None:
    entry = QueryLog.objects.create(
        submitted_sql="SELECT 1",
        decision=decision,
        code=code,
        duration_ms=duration_ms,
        created_at=at,
    )
    QueryProductUse.objects.create(
        log=entry, product_id=product_id, decision=decision, duration_ms=duration_ms, created_at=at
    )


def test_timeouts_count_at_the_time_cap(db: Any) -> None:
    for _ in range(18):
        log(PID, 100.0)
    assert product_latency_p95_ms(PID, now=NOW) == 100.0
    log(PID, 500.0, decision="timeout")  # recorded shorter than the cap: still the cap
    log(PID, None, decision="timeout")  # no duration recorded: the cap
    # 20 samples, rank 19: without the timeouts the p95 would read 100 ms.
    assert product_latency_p95_ms(PID, now=NOW) == CAP_MS


def test_a_timeout_that_took_longer_than_the_cap_counts_at_its_duration(db: Any) -> None:
    log(PID, 31_250.0, decision="timeout")
    assert product_latency_p95_ms(PID, now=NOW) == 31_250.0


def test_queries_the_warehouse_could_not_answer_count_at_the_cap(db: Any) -> None:
    log(PID, 3.0, decision="error", code="WAREHOUSE_UNAVAILABLE")
    assert product_latency_p95_ms(PID, now=NOW) == CAP_MS


def test_refusals_and_errors_in_the_callers_sql_are_not_latency(db: Any) -> None:
    log(PID, 7.0, decision="refused", code="UNKNOWN_TABLE")
    log(PID, 9.0, decision="error", code="ENGINE_ERROR")
    assert product_latency_p95_ms(PID, now=NOW) is None
    log(PID, 12.0)
    assert product_latency_p95_ms(PID, now=NOW) == 12.0


def test_the_cap_follows_the_setting(db: Any, settings: Any) -> None:
    log(PID, None, decision="timeout")
    settings.QUERY_TIMEOUT_S = 5
    assert product_latency_p95_ms(PID, now=NOW) == 5000.0


def nearest_rank_p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def test_the_batched_p95_is_the_nearest_rank_for_generated_logs(db: Any) -> None:
    rng = random.Random(12)
    expected: dict[str, float] = {}
    for i in range(6):
        product_id = f"d.p{i}"
        samples: list[float] = []
        for _ in range(rng.randint(1, 60)):
            kind = rng.choice(["allowed"] * 6 + ["timeout", "unavailable", "engine", "refused"])
            ms = round(rng.uniform(1, 40_000), 1)
            old = rng.random() < 0.1
            at = NOW - timedelta(days=8) if old else NOW - timedelta(hours=rng.randint(0, 160))
            if kind == "allowed":
                log(product_id, ms, at=at)
                value: float | None = ms
            elif kind == "timeout":
                log(product_id, ms, decision="timeout", at=at)
                value = max(ms, CAP_MS)
            elif kind == "unavailable":
                log(product_id, ms, decision="error", code="WAREHOUSE_UNAVAILABLE", at=at)
                value = max(ms, CAP_MS)
            elif kind == "engine":
                log(product_id, ms, decision="error", code="ENGINE_ERROR", at=at)
                value = None
            else:
                log(product_id, None, decision="refused", at=at)
                value = None
            if value is not None and not old:
                samples.append(value)
        if samples:
            expected[product_id] = nearest_rank_p95(samples)
    ids = [f"d.p{i}" for i in range(6)] + ["d.none"]
    batched = products_latency_p95_ms(ids, days=7, now=NOW)
    assert batched == expected
    for product_id in ids:
        assert product_latency_p95_ms(product_id, days=7, now=NOW) == expected.get(product_id)


def test_query_outcomes_count_answers_and_warehouse_failures_only(db: Any) -> None:
    for _ in range(6):
        log(PID, 10.0)
    log(PID, 5.0, decision="error", code="WAREHOUSE_UNAVAILABLE")
    for _ in range(3):
        log(PID, 5.0, decision="error", code="ENGINE_ERROR")
    log(PID, None, decision="refused", code="FORBIDDEN_TABLE")
    log(PID, 30_000.0, decision="timeout")
    log(PID, 10.0, at=NOW - timedelta(days=31))  # outside the window
    assert products_query_outcomes([PID, "x.y"], days=30, now=NOW) == {PID: (6, 1)}


@pytest.fixture
def product(marketing: Any) -> DataProduct:
    doc = contract_document(PID)
    doc["schema"][1]["mask"] = "hash"
    return product_publish(actor=None, document=doc).product


def finished_run(product: DataProduct, *, reachable: bool, at: datetime) -> None:
    CheckRun.objects.create(
        product=product, trigger="schedule", run_key=uuid.uuid4().hex,
        status="passed" if reachable else "error", table_reachable=reachable,
        started_at=at, finished_at=at,
    )  # fmt: skip


def test_availability_is_successful_answers_over_attempts_on_runs_and_queries(
    product: DataProduct,
) -> None:
    finished_run(product, reachable=True, at=NOW - timedelta(days=1))
    finished_run(product, reachable=True, at=NOW - timedelta(days=2))
    finished_run(product, reachable=False, at=NOW - timedelta(days=3))
    finished_run(product, reachable=False, at=NOW - timedelta(days=40))  # outside the window
    for _ in range(6):
        log(PID, 10.0, at=NOW - timedelta(hours=1))
    log(PID, 4.0, decision="error", code="WAREHOUSE_UNAVAILABLE", at=NOW - timedelta(hours=1))
    for _ in range(3):
        log(PID, 4.0, decision="error", code="ENGINE_ERROR", at=NOW - timedelta(hours=1))
    log(PID, None, decision="refused", at=NOW - timedelta(hours=1))
    log(PID, 30_000.0, decision="timeout", at=NOW - timedelta(hours=1))

    status = selectors.sla_status(product, now=NOW)

    # (2 runs reached + 6 answered) / (3 runs + 6 answered + 1 unanswered) = 80 %
    assert status.availability_pct == 80.0
    assert status.availability_met is False
    assert (status.availability_runs, status.availability_runs_reached) == (3, 2)
    assert (status.availability_queries_answered, status.availability_queries_failed) == (6, 1)
    body = status.as_dict()["availability"]
    assert body["pct"] == 80.0 and body["queriesAnswered"] == 6 and body["queriesFailed"] == 1
    assert body["formula"] == selectors.AVAILABILITY_FORMULA
    assert status.latency_p95_ms == CAP_MS  # 8 samples, two of them at the cap


@pytest.mark.parametrize(
    ("runs", "reached", "answered", "failed", "expected"),
    [
        (0, 0, 0, 0, None),
        (4, 4, 0, 0, 100.0),
        (0, 0, 3, 1, 75.0),
        (1, 0, 0, 0, 0.0),
        (10, 9, 990, 0, 99.9),
        (2, 1, 1, 1, 50.0),
    ],
)
def test_the_availability_formula(
    runs: int, reached: int, answered: int, failed: int, expected: float | None
) -> None:
    got = selectors.availability_pct(
        runs=runs, runs_reached=reached, answered=answered, failed=failed
    )
    assert got == expected


def test_a_missing_warehouse_counts_against_availability_and_at_the_cap_in_p95(
    product: DataProduct, api_as: Any, analyst: Any, settings: Any, tmp_path: Path
) -> None:
    settings.WAREHOUSE_URL = f"duckdb:///{tmp_path / 'missing.duckdb'}"
    response = api_as(analyst).post(
        "/v1/query", {"sql": f"SELECT count(*) FROM {PID}"}, format="json"
    )
    assert response.status_code == 503
    assert product_latency_p95_ms(PID) == CAP_MS
    status = selectors.sla_status(product, now=datetime.now(UTC))
    assert (status.availability_queries_answered, status.availability_queries_failed) == (0, 1)
    assert status.availability_pct == 0.0


def test_the_product_page_shows_availability_with_its_formula(
    product: DataProduct, analyst: Any
) -> None:
    finished_run(product, reachable=True, at=datetime.now(UTC) - timedelta(hours=1))
    log(PID, 10.0, at=datetime.now(UTC) - timedelta(hours=1))
    log(PID, 4.0, decision="error", code="WAREHOUSE_UNAVAILABLE", at=datetime.now(UTC))
    # The page shows the figures quality stored (the beat's refresh, or a run, stores them).
    services.product_health_refresh()
    client = Client()
    client.force_login(analyst)
    html = client.get(f"/products/{PID}/").content.decode()
    assert "66.67%" in html  # (1 run + 1 answer) / (1 run + 2 queries)
    assert "1 of 1 check runs reached the table; 1 governed queries answered, 1 not answered" in (
        html
    )
    assert "(answered governed queries + check runs that reached the table)" in html
    assert selectors.AVAILABILITY_FORMULA.split(".")[0] in html
    assert "timed out or that the warehouse could not answer at the time cap" in html
