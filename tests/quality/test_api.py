"""Quality API: run history, on-demand runs, quality status, incidents; with permissions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from catalog.models import DataProduct, Domain
from quality import services
from quality.models import CheckRun, Incident
from tests.quality.test_services import build_warehouse, make_product

RUNS = "/v1/quality/products/marketing.campaign_attribution/runs"


@pytest.fixture
def product(marketing: Domain, tmp_path: Path, settings: Any) -> DataProduct:
    settings.WAREHOUSE_URL = build_warehouse(tmp_path / "w.duckdb", newest=timezone.now())
    return make_product(marketing)


def test_owner_runs_checks_and_gets_202_with_the_queued_run(
    api_as: Any, owner: Any, product: Any
) -> None:
    response = api_as(owner).post(RUNS)

    assert response.status_code == 202
    body = response.json()
    assert body["product"] == "marketing.campaign_attribution"
    assert body["trigger"] == "api"
    assert body["status"] == "queued"  # as it was when its task was sent
    run = CheckRun.objects.get(pk=body["id"])
    assert run.requested_by == owner
    assert run.status == "passed"  # eager Celery ran the task on commit
    history = api_as(owner).get(RUNS).json()["results"][0]
    assert {
        "checkName",
        "type",
        "passed",
        "severity",
        "message",
        "value",
        "status",
        "checkedAt",
    } <= set(history["results"][0])


def test_admin_may_run_checks_on_any_domain(api_as: Any, admin_user: Any, product: Any) -> None:
    assert api_as(admin_user).post(RUNS).status_code == 202


def test_member_who_is_not_owner_cannot_run_checks(api_as: Any, member: Any, product: Any) -> None:
    response = api_as(member).post(RUNS)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"
    assert not CheckRun.objects.exists()


def test_outsider_cannot_run_checks_on_another_domains_product(
    api_as: Any, outsider: Any, product: Any
) -> None:
    assert api_as(outsider).post(RUNS).status_code == 403
    assert not CheckRun.objects.exists()


def test_anonymous_cannot_read_or_run(api_as: Any, product: Any) -> None:
    assert api_as(None).get(RUNS).status_code == 401
    assert api_as(None).post(RUNS).status_code == 401


def test_unknown_product_is_404_in_the_one_error_shape(
    api_as: Any, owner: Any, product: Any
) -> None:
    response = api_as(owner).post("/v1/quality/products/marketing.nope/runs")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_reader_sees_paginated_history_newest_first(
    api_as: Any, analyst: Any, product: Any
) -> None:
    runs = [services.check_run(product=product, trigger="manual") for _ in range(3)]

    response = api_as(analyst).get(RUNS, {"pageSize": 2})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [r["id"] for r in body["results"]] == [runs[2].pk, runs[1].pk]
    assert body["next"] is not None
    assert body["results"][0]["results"][0]["checkName"]


def test_a_draft_products_history_is_hidden_from_non_members(
    api_as: Any, analyst: Any, member: Any, product: Any
) -> None:
    DataProduct.objects.filter(pk=product.pk).update(status="draft")

    assert api_as(analyst).get(RUNS).status_code == 404
    assert api_as(member).get(RUNS).status_code == 200


def test_a_page_past_the_end_is_a_json_error(api_as: Any, analyst: Any, product: Any) -> None:
    response = api_as(analyst).get(RUNS, {"page": 99})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_a_second_request_while_a_run_is_queued_returns_that_run(
    api_as: Any, owner: Any, product: Any
) -> None:
    queued = CheckRun.objects.create(product=product, trigger="schedule", run_key="q")

    response = api_as(owner).post(RUNS)

    assert response.status_code == 202
    assert response.json()["id"] == queued.pk
    assert response.json()["created"] is False
    assert CheckRun.objects.count() == 1


def test_quality_status_shows_score_formula_sla_and_results(
    api_as: Any, analyst: Any, product: Any
) -> None:
    services.check_run(product=product, trigger="manual")

    body = api_as(analyst).get("/v1/quality/products/marketing.campaign_attribution").json()

    assert body["qualityScore"] == 100.0
    assert "last 30" in body["scoreFormula"]
    assert body["lastValidated"]
    assert body["checkEveryMinutes"] == 15
    assert body["sla"]["freshness"]["state"] == "fresh"
    assert body["sla"]["availability"]["pct"] == 100.0
    assert body["sla"]["queryLatencyP95Ms"]["target"] == 2000
    assert {r["checkName"] for r in body["latestResults"]} >= {"no_null_campaign_ids"}


def test_incidents_are_listed_for_readers_and_filtered_by_status(
    api_as: Any, analyst: Any, product: Any
) -> None:
    Incident.objects.create(product=product, opened_at=timezone.now(), message="stale")
    Incident.objects.create(
        product=product, opened_at=timezone.now(), status="resolved", message="old"
    )

    open_only = api_as(analyst).get("/v1/quality/incidents", {"status": "open"}).json()
    per_month = api_as(analyst).get("/v1/quality/incidents/per-month").json()

    assert [i["message"] for i in open_only["results"]] == ["stale"]
    assert per_month == [{"month": timezone.now().strftime("%Y-%m"), "count": 2}]


def test_a_bad_incident_status_filter_is_a_400_naming_the_field(
    api_as: Any, analyst: Any, product: Any
) -> None:
    response = api_as(analyst).get("/v1/quality/incidents", {"status": "weird"})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"status": ["must be open or resolved"]}
