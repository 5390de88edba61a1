"""POST /v1/query against a real PostgreSQL warehouse (needs PORTAL_TEST_PG_URL)."""

from __future__ import annotations

import pytest

from tests.querying.fixtures_django import PRODUCTS, publish
from tests.support.pg import pg_warehouse

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

SETUP = """
CREATE TABLE marketing_campaign_attribution (
  attribution_id text NOT NULL, user_id text NOT NULL, campaign_id text NOT NULL,
  channel text NOT NULL, touchpoint_at timestamp NOT NULL, conversion_at timestamp,
  revenue_cents bigint, attribution_model text NOT NULL
);
INSERT INTO marketing_campaign_attribution VALUES
  ('a-1', 'user-00012345', 'c-1', 'paid', '2025-03-01 10:00', NULL, 1250, 'linear'),
  ('a-2', 'user-00067890', 'c-1', 'email', '2025-03-01 12:00', NULL, NULL, 'linear');
INSERT INTO marketing_campaign_attribution
  SELECT 'b-' || i, 'user-' || i, 'c-9', 'paid', '2025-01-01', NULL, i, 'linear'
  FROM generate_series(1, 3000) AS i;
"""


@pytest.fixture
def pg(settings, marketing, finance):
    with pg_warehouse(SETUP) as dsn:
        settings.WAREHOUSE_URL = dsn
        assert "marketing.campaign_attribution" in PRODUCTS
        publish("marketing.campaign_attribution")
        yield dsn


def test_postgres_query_masks_pii_for_an_analyst(api_as, analyst, member, pg):
    sql = "SELECT attribution_id, user_id, touchpoint_at FROM campaign_attribution ORDER BY 1"
    response = api_as(analyst).post("/v1/query", {"sql": sql}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["rows"][0] == ["a-1", "***2345", "2025-03-01T10:00:00"]
    raw = api_as(member).post("/v1/query", {"sql": sql}, format="json")
    assert raw.json()["rows"][0][1] == "user-00012345"


def test_postgres_engine_error_is_scrubbed(api_as, analyst, pg):
    sql = "SELECT CAST(channel AS INTEGER) FROM marketing.campaign_attribution"
    response = api_as(analyst).post("/v1/query", {"sql": sql}, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "ENGINE_ERROR"
    assert "paid" not in response.json()["error"]["message"]


def test_postgres_timeout_is_a_408(api_as, analyst, pg, settings):
    settings.QUERY_TIMEOUT_S = 0.3
    sql = (
        "SELECT sum(a.revenue_cents * b.revenue_cents * c.revenue_cents) FROM "
        "marketing.campaign_attribution a, marketing.campaign_attribution b, "
        "marketing.campaign_attribution c"
    )
    response = api_as(analyst).post("/v1/query", {"sql": sql}, format="json")
    assert response.status_code == 408, response.json()
    assert response.json()["error"]["code"] == "TIMEOUT"
