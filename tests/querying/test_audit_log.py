"""Every governed query request is audited: allowed, refused, errors and timeouts."""

from __future__ import annotations

import pytest

from querying.models import QueryLog, QueryProductUse
from tests.querying.fixtures_django import *  # noqa: F403
from tests.querying.fixtures_django import NOW

pytestmark = pytest.mark.django_db


def test_allowed_query_is_logged_with_what_governance_did(api_as, analyst, warehouse, fixed_now):
    sql = "SELECT user_id FROM marketing.campaign_attribution"
    response = api_as(analyst).post("/v1/query", {"sql": sql}, format="json")
    assert response.status_code == 200
    entry = QueryLog.objects.get()
    assert entry.user == analyst
    assert entry.role == "analyst"
    assert entry.submitted_sql == sql
    assert entry.decision == "allowed"
    assert entry.code == ""
    assert entry.products == ["marketing.campaign_attribution"]
    assert entry.masked_columns == ["marketing.campaign_attribution.user_id"]
    assert entry.pii_columns == ["marketing.campaign_attribution.user_id"]
    assert entry.row_count == 3
    assert entry.truncated is False
    assert entry.duration_ms is not None and entry.duration_ms >= 0
    assert entry.created_at == NOW
    assert "marketing_campaign_attribution" in entry.executed_sql
    assert list(QueryProductUse.objects.values_list("product_id", "decision")) == [
        ("marketing.campaign_attribution", "allowed")
    ]


def test_raw_pii_reads_are_logged_as_touched_but_not_masked(api_as, member, warehouse, fixed_now):
    api_as(member).post("/v1/query", {"sql": "SELECT * FROM campaign_attribution"}, format="json")
    entry = QueryLog.objects.get()
    assert entry.masked_columns == []
    assert entry.pii_columns == ["marketing.campaign_attribution.user_id"]


def test_refused_query_is_logged_with_its_code(api_as, outsider, warehouse, fixed_now):
    api_as(outsider).post(
        "/v1/query", {"sql": "SELECT * FROM marketing.draft_attribution"}, format="json"
    )
    entry = QueryLog.objects.get()
    assert entry.decision == "refused"
    assert entry.code == "FORBIDDEN_PRODUCT"
    assert entry.executed_sql == ""
    assert entry.row_count is None
    assert entry.role == "manager"


def test_invalid_input_is_logged_as_refused(api_as, analyst, warehouse):
    api_as(analyst).post("/v1/query", {"sql": 7}, format="json")
    entry = QueryLog.objects.get()
    assert entry.decision == "refused"
    assert entry.code == "INVALID"


def test_engine_error_is_logged_as_error(api_as, analyst, warehouse, fixed_now):
    api_as(analyst).post(
        "/v1/query",
        {"sql": "SELECT CAST(channel AS INTEGER) FROM marketing.campaign_attribution"},
        format="json",
    )
    entry = QueryLog.objects.get()
    assert (entry.decision, entry.code) == ("error", "ENGINE_ERROR")
    assert entry.products == ["marketing.campaign_attribution"]


def test_the_hash_key_never_reaches_the_audit_log(api_as, analyst, warehouse, fixed_now):
    from catalog.models import Column

    Column.objects.filter(
        product__product_id="marketing.campaign_attribution", name="user_id"
    ).update(mask="hash")
    response = api_as(analyst).post(
        "/v1/query", {"sql": "SELECT user_id FROM marketing.campaign_attribution"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert len(response.json()["rows"][0][0]) == 32
    entry = QueryLog.objects.get()
    assert "test-hash-key" not in entry.executed_sql
    assert "md5" in entry.executed_sql.lower()


def test_admin_changelist_filters_by_decision_and_product(
    client, admin_user, warehouse, fixed_now, api_as
):
    api_as(admin_user).post(
        "/v1/query", {"sql": "SELECT 1 FROM campaign_attribution"}, format="json"
    )
    api_as(admin_user).post("/v1/query", {"sql": "SELECT * FROM nowhere"}, format="json")
    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    page = client.get("/admin/querying/querylog/", {"decision": "refused"})
    assert page.status_code == 200
    assert [e.submitted_sql for e in page.context["cl"].result_list] == ["SELECT * FROM nowhere"]
    page = client.get("/admin/querying/querylog/", {"product": "marketing.campaign_attribution"})
    assert page.status_code == 200
    assert [e.submitted_sql for e in page.context["cl"].result_list] == [
        "SELECT 1 FROM campaign_attribution"
    ]
    page = client.get("/admin/querying/querylog/", {"role": "admin", "code": "UNKNOWN_TABLE"})
    assert [e.code for e in page.context["cl"].result_list] == ["UNKNOWN_TABLE"]


def test_admin_cannot_add_change_or_delete_log_rows(
    client, admin_user, warehouse, fixed_now, api_as
):
    api_as(admin_user).post(
        "/v1/query", {"sql": "SELECT 1 FROM campaign_attribution"}, format="json"
    )
    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    entry = QueryLog.objects.get()
    assert client.get("/admin/querying/querylog/add/").status_code == 403
    assert client.get(f"/admin/querying/querylog/{entry.pk}/delete/").status_code == 403
    detail = client.get(f"/admin/querying/querylog/{entry.pk}/change/")
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
