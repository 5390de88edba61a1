"""query_submit: JSON-safe values, audit of odd input, failures that must not become 500s."""

from __future__ import annotations

import base64
import math
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from querying import routing
from querying.models import QueryLog
from querying.services import json_safe, query_submit
from tests.querying.fixtures_django import *  # noqa: F403
from tests.querying.fixtures_django import NOW

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2025, 3, 1, 10, 0), "2025-03-01T10:00:00"),
        (date(2025, 3, 1), "2025-03-01"),
        (time(9, 30), "09:30:00"),
        (Decimal("12.3400"), "12.3400"),
        (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        (b"\x00\xff", base64.b64encode(b"\x00\xff").decode()),
        (timedelta(minutes=1, seconds=30), 90.0),
        (math.nan, "NaN"),
        (-math.inf, "-Infinity"),
        ([1, Decimal("2.5"), None], [1, "2.5", None]),
        ({"k": date(2025, 1, 2), 3: (1, 2)}, {"k": "2025-01-02", "3": [1, 2]}),
        (True, True),
        (7, 7),
    ],
)
def test_json_safe_turns_warehouse_values_into_json(value, expected):
    assert json_safe(value) == expected


def test_duckdb_types_reach_the_api_as_json(api_as, analyst, warehouse, fixed_now):
    sql = (
        "SELECT CAST(1.50 AS DECIMAL(5, 2)) AS d, [1, 2] AS l, {'a': 1} AS s, "
        "CAST('2025-01-02' AS DATE) AS dt, 'x'::BLOB AS b, INTERVAL 2 HOUR AS i, "
        "CAST('00000000-0000-0000-0000-000000000001' AS UUID) AS u "
        "FROM marketing.campaign_attribution LIMIT 1"
    )
    response = api_as(analyst).post("/v1/query", {"sql": sql}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["rows"] == [
        [
            "1.50",
            [1, 2],
            {"a": 1},
            "2025-01-02",
            "eA==",
            7200.0,
            "00000000-0000-0000-0000-000000000001",
        ]
    ]


def test_nul_characters_are_refused_and_still_audited(analyst, warehouse):
    outcome = query_submit(user=analyst, sql="SELECT 1\x00", now=NOW)
    assert outcome.decision == "refused"
    assert outcome.http_status == 400
    assert "\x00" not in QueryLog.objects.get().submitted_sql


def test_a_governor_crash_fails_closed_and_is_audited(analyst, warehouse, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(routing, "govern", boom)  # routing picks the warehouse, then governs
    outcome = query_submit(user=analyst, sql="SELECT 1", now=NOW)
    assert (outcome.decision, outcome.code, outcome.http_status) == (
        "refused",
        "REWRITE_FAILED",
        400,
    )
    assert QueryLog.objects.get().code == "REWRITE_FAILED"


def test_an_unsupported_warehouse_url_is_a_503(analyst, warehouse, settings):
    settings.WAREHOUSE_URL = "mysql://nope"
    outcome = query_submit(user=analyst, sql="SELECT 1", now=NOW)
    assert (outcome.code, outcome.http_status) == ("WAREHOUSE_UNAVAILABLE", 503)


def test_the_outcome_names_products_and_masks_for_an_allowed_query(analyst, warehouse):
    outcome = query_submit(
        user=analyst, sql="SELECT user_id, channel FROM campaign_attribution", now=NOW
    )
    assert outcome.is_allowed
    assert outcome.products == ["marketing.campaign_attribution"]
    assert outcome.masked_columns == ["marketing.campaign_attribution.user_id"]
    assert outcome.row_count == 3
    assert outcome.log_id == QueryLog.objects.get().pk
