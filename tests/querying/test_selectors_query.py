"""Selectors: the caller's policy, the latency p95 from the audit log, recent queries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from querying.models import QueryLog, QueryProductUse
from querying.selectors import (
    product_latency_p95_ms,
    query_policy,
    queryable_products,
    recent_queries,
)
from tests.querying.fixtures_django import *  # noqa: F403
from tests.querying.fixtures_django import NOW

pytestmark = pytest.mark.django_db
PID = "marketing.campaign_attribution"


def products_by_id(policy):
    return {p.product_id: p for p in policy.products}


def test_analyst_policy_masks_pii_and_forbids_drafts(analyst, warehouse, settings):
    policy, pii, forbidden = query_policy(analyst, now=NOW)
    products = products_by_id(policy)
    columns = {c.name: c.mask for c in products[PID].columns}
    assert columns["user_id"] == "last4"
    assert columns["channel"] is None
    assert [c.name for c in products[PID].columns][:2] == ["attribution_id", "user_id"]
    assert "marketing.draft_attribution" not in products
    assert {
        "marketing.draft_attribution",
        "marketing_draft_attribution",
        "draft_attribution",
    } <= forbidden
    assert f"{PID}.user_id" in pii
    assert policy.hash_key == "test-hash-key"
    assert policy.max_rows == settings.QUERY_MAX_ROWS


def test_member_policy_reads_pii_raw_and_includes_drafts(member, warehouse):
    policy, _, forbidden = query_policy(member, now=NOW)
    products = products_by_id(policy)
    assert {c.name: c.mask for c in products[PID].columns}["user_id"] is None
    assert products["marketing.draft_attribution"].refusal is None
    assert "marketing.draft_attribution" not in forbidden


def test_member_of_marketing_still_sees_finance_pii_masked(member, warehouse):
    products = products_by_id(query_policy(member, now=NOW)[0])
    masks = {c.name: c.mask for c in products["finance.revenue_attribution"].columns}
    assert masks["user_id"] == "last4"


def test_lifecycle_rules_become_refusals_and_warnings(analyst, warehouse):
    products = products_by_id(query_policy(analyst, now=NOW)[0])
    assert products["marketing.legacy_attribution"].refusal is None
    assert products["marketing.legacy_attribution"].warning == (
        "marketing.legacy_attribution is deprecated (sunset 2027-03-31), "
        "use marketing.campaign_attribution"
    )
    assert "sunset on 2026-01-31" in products["marketing.old_attribution"].refusal
    assert "retired" in products["marketing.gone_attribution"].refusal
    assert products[PID].refusal is None and products[PID].warning is None


def test_the_same_deprecated_product_is_refused_once_its_sunset_passes(analyst, warehouse):
    later = NOW.replace(year=2027, month=4)
    products = products_by_id(query_policy(analyst, now=later)[0])
    assert products["marketing.legacy_attribution"].refusal is not None


def test_anonymous_policy_is_empty(warehouse):
    from django.contrib.auth.models import AnonymousUser

    policy, _, forbidden = query_policy(AnonymousUser(), now=NOW)
    assert policy.products == ()
    assert "marketing.campaign_attribution" in forbidden


def test_queryable_products_show_masks_per_user(analyst, admin_user, warehouse):
    for_analyst = {p.product_id: p for p in queryable_products(analyst, now=NOW)}
    assert {c.name: c.mask for c in for_analyst[PID].columns}["user_id"] == "last4"
    for_admin = {p.product_id: p for p in queryable_products(admin_user, now=NOW)}
    assert for_admin[PID].sees_raw_pii is True
    assert "marketing.draft_attribution" in for_admin


def log(product_id: str, duration_ms: float, *, decision: str = "allowed", at=NOW) -> None:
    entry = QueryLog.objects.create(
        submitted_sql="SELECT 1", decision=decision, duration_ms=duration_ms, created_at=at
    )
    QueryProductUse.objects.create(
        log=entry, product_id=product_id, decision=decision, duration_ms=duration_ms, created_at=at
    )


def test_p95_is_the_nearest_rank_over_the_queries_of_the_last_days(db):
    for ms in range(1, 101):  # 1..100 ms
        log(PID, float(ms))
    log(PID, 99999.0, decision="timeout")  # a sample too (issue 12): 101 samples, rank 96
    log(PID, 88888.0, at=NOW - timedelta(days=8))
    log("other.product", 77777.0)
    assert product_latency_p95_ms(PID, days=7, now=NOW) == 96.0


def test_p95_is_none_without_data(db):
    assert product_latency_p95_ms(PID) is None
    log(PID, 5.0, decision="refused")
    assert product_latency_p95_ms(PID, now=NOW) is None


def test_p95_of_one_query_is_that_query(db):
    log(PID, 12.5)
    assert product_latency_p95_ms(PID, now=NOW) == 12.5


def test_p95_counts_queries_made_through_the_api(api_as, analyst, warehouse):
    api_as(analyst).post("/v1/query", {"sql": f"SELECT count(*) FROM {PID}"}, format="json")
    value = product_latency_p95_ms(PID)
    assert value is not None and value > 0


def test_recent_queries_are_the_users_own_newest_first(analyst, member, db):
    QueryLog.objects.create(user=analyst, submitted_sql="first", decision="allowed", created_at=NOW)
    QueryLog.objects.create(
        user=analyst,
        submitted_sql="second",
        decision="refused",
        created_at=NOW + timedelta(minutes=1),
    )
    QueryLog.objects.create(user=member, submitted_sql="theirs", decision="allowed", created_at=NOW)
    assert [q.submitted_sql for q in recent_queries(analyst)] == ["second", "first"]
    assert [q.submitted_sql for q in recent_queries(analyst, limit=1)] == ["second"]
