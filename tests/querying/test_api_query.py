"""POST /v1/query: shapes, masking per role, lifecycle refusals, errors, CSV."""

from __future__ import annotations

from typing import Any

import pytest

from querying.models import QueryLog
from tests.querying.fixtures_django import *  # noqa: F403
from tests.querying.fixtures_django import NOW

URL = "/v1/query"
pytestmark = pytest.mark.django_db


def run(client: Any, sql: Any, **extra: Any) -> Any:
    return client.post(URL, {"sql": sql}, format="json", **extra)


def test_analyst_gets_rows_with_user_id_masked(api_as, analyst, warehouse, fixed_now):
    response = run(api_as(analyst), "SELECT attribution_id, user_id FROM marketing.campaign_attribution ORDER BY 1")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["columns"] == ["attribution_id", "user_id"]
    assert body["rows"] == [["a-1", "***2345"], ["a-2", "***7890"], ["a-3", "***1111"]]
    assert body["rowCount"] == 3
    assert body["truncated"] is False
    assert body["maskedColumns"] == ["marketing.campaign_attribution.user_id"]
    assert body["products"] == ["marketing.campaign_attribution"]
    assert body["warnings"] == []
    assert isinstance(body["queryTimeMs"], (int, float))
