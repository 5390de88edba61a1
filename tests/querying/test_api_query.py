"""POST /v1/query: shapes, masking per role, lifecycle refusals, errors, CSV."""

from __future__ import annotations

from typing import Any

import pytest

from querying.models import QueryLog
from tests.querying.fixtures_django import *  # noqa: F403

URL = "/v1/query"
pytestmark = pytest.mark.django_db


def run(client: Any, sql: Any, **extra: Any) -> Any:
    return client.post(URL, {"sql": sql}, format="json", **extra)


def test_analyst_gets_rows_with_user_id_masked(api_as, analyst, warehouse, fixed_now):
    response = run(
        api_as(analyst),
        "SELECT attribution_id, user_id FROM marketing.campaign_attribution ORDER BY 1",
    )
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


def test_marketing_member_sees_user_id_raw(api_as, member, warehouse, fixed_now):
    response = run(api_as(member), "SELECT user_id FROM marketing_campaign_attribution ORDER BY 1")
    assert response.status_code == 200, response.json()
    assert response.json()["rows"] == [["user-00011111"], ["user-00012345"], ["user-00067890"]]
    assert response.json()["maskedColumns"] == []


def test_admin_sees_user_id_raw(api_as, admin_user, warehouse, fixed_now):
    response = run(api_as(admin_user), "SELECT min(user_id) AS u FROM campaign_attribution")
    assert response.status_code == 200, response.json()
    assert response.json()["rows"] == [["user-00011111"]]


def test_finance_owner_sees_marketing_pii_masked_even_through_star(
    api_as, outsider, warehouse, fixed_now
):
    response = run(
        api_as(outsider),
        "SELECT * FROM marketing.campaign_attribution WHERE attribution_id = 'a-1'",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    row = dict(zip(body["columns"], body["rows"][0], strict=True))
    assert row["user_id"] == "***2345"
    assert row["channel"] == "paid"


def test_timestamps_come_back_as_iso_strings_and_nulls_as_null(
    api_as, analyst, warehouse, fixed_now
):
    response = run(
        api_as(analyst),
        "SELECT touchpoint_at, conversion_at, revenue_cents "
        "FROM marketing.campaign_attribution WHERE attribution_id = 'a-2'",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["rows"] == [["2025-03-01T12:00:00", None, None]]


def test_deprecated_product_is_readable_with_a_sunset_warning(
    api_as, analyst, warehouse, fixed_now
):
    response = run(api_as(analyst), "SELECT count(*) AS n FROM marketing.legacy_attribution")
    assert response.status_code == 200, response.json()
    assert response.json()["rows"] == [[3]]
    assert response.json()["warnings"] == [
        "marketing.legacy_attribution is deprecated (sunset 2027-03-31), "
        "use marketing.campaign_attribution"
    ]


def test_deprecated_product_past_its_sunset_is_refused(api_as, analyst, warehouse, fixed_now):
    response = run(api_as(analyst), "SELECT * FROM marketing.old_attribution")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "PRODUCT_NOT_QUERYABLE"
    assert "sunset on 2026-01-31" in error["message"]


def test_retired_product_is_refused(api_as, admin_user, warehouse, fixed_now):
    response = run(api_as(admin_user), "SELECT * FROM marketing.gone_attribution")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "PRODUCT_NOT_QUERYABLE"
    assert "retired" in response.json()["error"]["message"]


def test_draft_is_forbidden_to_another_domains_owner(api_as, outsider, warehouse, fixed_now):
    response = run(api_as(outsider), "SELECT * FROM marketing.draft_attribution")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN_PRODUCT"


def test_draft_physical_table_is_forbidden_to_an_analyst_too(api_as, analyst, warehouse, fixed_now):
    response = run(api_as(analyst), "SELECT * FROM marketing_draft_attribution")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN_PRODUCT"


def test_draft_is_readable_by_its_own_team_with_a_warning(api_as, member, warehouse, fixed_now):
    response = run(api_as(member), "SELECT count(*) FROM marketing.draft_attribution")
    assert response.status_code == 200, response.json()
    assert "draft" in response.json()["warnings"][0]


def test_unknown_table_is_refused_with_its_code(api_as, analyst, warehouse, fixed_now):
    response = run(api_as(analyst), "SELECT * FROM pg_catalog.pg_tables")
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"UNKNOWN_TABLE", "DISALLOWED_SYNTAX"}
    response = run(api_as(analyst), "SELECT * FROM payroll")
    assert response.json()["error"] == {"code": "UNKNOWN_TABLE", "message": "unknown table payroll"}


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("DELETE FROM marketing.campaign_attribution", "NOT_A_SELECT"),
        ("SELECT 1; SELECT 2", "MULTIPLE_STATEMENTS"),
        ("SELECT read_csv('/etc/passwd')", "FUNCTION_NOT_ALLOWED"),
        ("   ", "EMPTY_QUERY"),
    ],
)
def test_refused_sql_gets_400_with_a_stable_code(api_as, analyst, warehouse, fixed_now, sql, code):
    response = run(api_as(analyst), sql)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "sql"), ({"sql": 42}, "sql"), ({"sql": None}, "sql"), ({"sql": ["SELECT 1"]}, "sql")],
)
def test_missing_or_non_string_sql_is_a_400_naming_the_field(
    api_as, analyst, warehouse, body, field
):
    response = api_as(analyst).post(URL, body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID"
    assert field in error["fields"]


def test_malformed_json_is_a_400_not_a_500(api_as, analyst, warehouse):
    response = api_as(analyst).post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID"


def test_a_huge_body_is_refused_before_parsing(api_as, analyst, warehouse):
    response = api_as(analyst).post(
        URL, '{"sql": "' + "x" * 600_000 + '"}', content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "BODY_TOO_LARGE"


def test_anonymous_caller_gets_401(api_as, warehouse):
    response = run(api_as(None), "SELECT 1")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert not QueryLog.objects.exists()


def test_token_auth_works(analyst, warehouse, fixed_now):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token = Token.objects.create(user=analyst)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = run(client, "SELECT count(*) FROM marketing.campaign_attribution")
    assert response.status_code == 200, response.json()
    assert response.json()["rows"] == [[3]]


def test_rows_are_capped_and_flagged_truncated(api_as, analyst, warehouse, fixed_now, settings):
    settings.QUERY_MAX_ROWS = 2
    response = run(
        api_as(analyst), "SELECT attribution_id FROM marketing.campaign_attribution ORDER BY 1"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["rows"] == [["a-1"], ["a-2"]]
    assert body["rowCount"] == 2
    assert body["truncated"] is True


def test_engine_error_is_scrubbed_of_literals(api_as, analyst, warehouse, fixed_now):
    response = run(
        api_as(analyst),
        "SELECT CAST(channel AS INTEGER) FROM marketing.campaign_attribution",
    )
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "ENGINE_ERROR"
    for raw in ("paid", "email", "organic"):
        assert raw not in error["message"]


def test_masked_values_never_leak_through_engine_errors(api_as, analyst, warehouse, fixed_now):
    response = run(
        api_as(analyst), "SELECT CAST(user_id AS INTEGER) FROM marketing.campaign_attribution"
    )
    assert response.status_code == 400, response.json()
    assert "00012345" not in response.json()["error"]["message"]


def test_missing_warehouse_file_is_a_503(api_as, analyst, warehouse, fixed_now, settings, tmp_path):
    settings.WAREHOUSE_URL = f"duckdb:///{tmp_path / 'nope.duckdb'}"
    response = run(api_as(analyst), "SELECT count(*) FROM marketing.campaign_attribution")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "WAREHOUSE_UNAVAILABLE"
    assert str(tmp_path) not in error["message"]


def test_a_slow_query_times_out_with_408(
    api_as, analyst, tmp_path, settings, marketing, finance, fixed_now
):
    from tests.querying.fixtures_django import build_warehouse, publish

    path = build_warehouse(tmp_path / "big.duckdb", big_rows=20_000)
    settings.WAREHOUSE_URL = f"duckdb:///{path}"
    publish("marketing.campaign_attribution")
    settings.QUERY_TIMEOUT_S = 0.3
    response = run(
        api_as(analyst),
        "SELECT sum(a.revenue_cents * b.revenue_cents * c.revenue_cents) FROM "
        "marketing.campaign_attribution a, marketing.campaign_attribution b, "
        "marketing.campaign_attribution c",
    )
    assert response.status_code == 408, response.json()
    assert response.json()["error"]["code"] == "TIMEOUT"
    entry = QueryLog.objects.get()
    assert entry.decision == "timeout"
