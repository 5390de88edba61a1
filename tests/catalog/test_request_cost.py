"""What the busiest requests cost (issue 13's load target): a bounded number of SQL statements
for search, the product page and API, and a governed query, whatever the catalog holds, so an
N+1 or a per-request policy rebuild shows up here before it shows up in bench/load.py."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import permissions
from catalog import selectors
from catalog.api.serializers import ProductSummarySerializer
from catalog.models import Consumer, DataProduct
from catalog.search import search_index_refresh
from catalog.services import product_publish
from quality import services as quality_services
from quality.models import FINISHED_STATUSES, CheckResult, CheckRun, Incident
from tests.factories import contract_document
from tests.querying.fixtures_django import build_warehouse, publish

pytestmark = pytest.mark.django_db


def token_client(user: Any) -> APIClient:
    """An API client sending the user's token, as scripts and bench/load.py do."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def statements(send: Any) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = send()
    return response, [q["sql"] for q in captured.captured_queries]


def grow(marketing: Any, n: int) -> None:
    """``n`` more published products, each with runs, results, incidents, consumers, versions."""
    for i in range(n):
        product = product_publish(
            actor=None, document=contract_document(f"marketing.extra_{len_products()}_{i}")
        ).product
        add_history(product, runs=3)
    search_index_refresh()  # what the publish's on-commit task does (PostgreSQL)


def len_products() -> int:
    return DataProduct.objects.count()


def add_history(product: DataProduct, *, runs: int) -> None:
    now = timezone.now()
    for r in range(runs):
        finished = now - timedelta(hours=r)
        run = CheckRun.objects.create(
            product=product, trigger="schedule", run_key=uuid.uuid4().hex, status="failed",
            finished_at=finished, table_reachable=True,
        )  # fmt: skip
        for i, check in enumerate(product.checks.all()):
            CheckResult.objects.create(
                run=run, position=i, check_name=check.name, check_type=check.type,
                status="passed" if i else "failed", passed=bool(i), severity=check.severity,
                created_at=finished,
            )  # fmt: skip
    Incident.objects.get_or_create(
        product=product, kind="quality_failure", status="open", defaults={"opened_at": now}
    )
    Incident.objects.create(
        product=product, kind="stale_data", status="resolved", opened_at=now, resolved_at=now
    )
    for team in ("Growth", "Finance", "Ops"):
        Consumer.objects.create(
            product=product, team=f"{team} {uuid.uuid4().hex[:6]}", use_case="x",
            contact="a@example.com",
        )  # fmt: skip
    quality_services.product_health_refresh(product_ids=[product.pk])


@pytest.fixture
def catalog(marketing: Any) -> DataProduct:
    product = product_publish(actor=None, document=contract_document()).product
    add_history(product, runs=2)
    search_index_refresh()  # what the publish's on-commit task does (PostgreSQL)
    return product


# --- search -----------------------------------------------------------------------------------


def test_a_search_costs_three_statements_whatever_the_catalog_holds(
    catalog: DataProduct, analyst: Any
) -> None:
    api = token_client(analyst)
    api.get("/v1/catalog/search?q=attribution")  # the user's domain ids are read once
    small, sent = statements(lambda: api.get("/v1/catalog/search?q=attribution"))
    assert small.status_code == 200 and small.json()["count"] == 1
    # The token (with its user), the ranked page, the page's rows. No COUNT (a short page says
    # how many), no permission lookup (kept), no quality table (health is stored).
    assert len(sent) == 3, sent
    assert not any(('FROM "quality_' in sql or 'JOIN "quality_' in sql) for sql in sent)

    grow(catalog.domain, 6)
    big, sent_big = statements(lambda: api.get("/v1/catalog/search"))
    assert big.status_code == 200 and big.json()["count"] == 7
    assert len(sent_big) == 3, sent_big
    full, sent_full = statements(lambda: api.get("/v1/catalog/search?pageSize=2"))
    assert full.json()["count"] == 7 and len(full.json()["products"]) == 2
    assert len(sent_full) == 4, sent_full  # a full page: the COUNT as well


def test_the_search_page_costs_a_bounded_number_of_statements(
    catalog: DataProduct, analyst: Any
) -> None:
    client = Client()
    client.force_login(analyst)
    client.get("/search/")
    _, few = statements(lambda: client.get("/search/?q=attribution"))
    grow(catalog.domain, 6)
    page, many = statements(lambda: client.get("/search/?q=attribution"))
    assert page.status_code == 200
    assert len(many) == len(few) <= 10, "\n".join(many)


# --- the product ------------------------------------------------------------------------------


def test_the_product_api_costs_the_same_few_statements_however_long_its_history(
    catalog: DataProduct, analyst: Any
) -> None:
    api = token_client(analyst)
    url = f"/v1/catalog/products/{catalog.product_id}"
    api.get(url)
    selectors._histories.clear()  # measure a product whose history this process has not read
    _, short = statements(lambda: api.get(url))
    add_history(catalog, runs=20)
    for version in range(4, 7):
        doc = contract_document(version=version)
        product_publish(actor=None, document=doc)
    selectors._histories.clear()
    response, long = statements(lambda: api.get(url))
    body = response.json()
    assert response.status_code == 200
    assert len(body["qualityHistory"]) == 30 and len(body["consumers"]) == 6
    assert len(body["changelog"]) == 4 and body["incidents"]
    # token, product, columns, checks, history, score runs, incidents, profile, consumers,
    # versions, usage: the rolled-up days and today's queries (issue 16)
    assert len(long) == len(short) <= 12, "\n".join(long)


def test_the_quality_history_read_is_kept_until_quality_stores_the_health_again(
    catalog: DataProduct, analyst: Any
) -> None:
    api = token_client(analyst)
    url = f"/v1/catalog/products/{catalog.product_id}"
    api.get("/v1/catalog/domains")  # the user's domain ids are read (and kept) here
    first, cold = statements(lambda: api.get(url))
    again, warm = statements(lambda: api.get(url))
    assert again.json() == first.json()
    assert len(warm) == len(cold) - 4  # no history, score, incident or profile read
    assert not any(('FROM "quality_' in sql or 'JOIN "quality_' in sql) for sql in warm)
    add_history(catalog, runs=1)  # a run recorded: quality stores the health again
    later = api.get(url).json()
    assert len(later["incidents"]) == len(first.json()["incidents"]) + 1


def test_the_product_page_costs_a_bounded_number_of_statements(
    catalog: DataProduct, analyst: Any
) -> None:
    client = Client()
    client.force_login(analyst)
    url = f"/products/{catalog.product_id}/"
    client.get(url)
    selectors._histories.clear()
    _, short = statements(lambda: client.get(url))
    add_history(catalog, runs=20)
    selectors._histories.clear()
    page, long = statements(lambda: client.get(url))
    assert page.status_code == 200
    # usage: 2 (issue 16); access requests and the masking figure: 2 (issue 17); the shared
    # queries that read it ("Example queries"): 1 (issue 19)
    assert len(long) == len(short) <= 18, "\n".join(long)


# --- governed queries -------------------------------------------------------------------------


@pytest.fixture
def warehouse(tmp_path: Path, settings: Any, marketing: Any, finance: Any) -> Path:
    path = build_warehouse(tmp_path / "warehouse.duckdb")
    settings.WAREHOUSE_URL = f"duckdb:///{path}"
    for product_id in ("marketing.campaign_attribution", "finance.revenue_attribution"):
        publish(product_id)
    return path


def query(api: APIClient, sql: str) -> Any:
    return api.post("/v1/query", {"sql": sql}, format="json")


SQL = "SELECT count(*) AS n FROM marketing.campaign_attribution"


def test_a_governed_query_reuses_the_catalog_snapshot_between_catalog_changes(
    warehouse: Path, analyst: Any
) -> None:
    api = token_client(analyst)
    assert query(api, SQL).status_code == 200
    response, sent = statements(lambda: query(api, SQL))
    assert response.status_code == 200
    assert not any("catalog_column" in sql for sql in sent), sent
    # token, the catalog version, the caller's active access grants (read on every query, never
    # kept: a revocation counts from the next one, issue 17), the audit row and its product use
    # (and their transaction)
    assert len([s for s in sent if not s.startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]) <= 5, (
        "\n".join(s[:90] for s in sent)
    )
    assert sum("accounts_accessrequest" in s for s in sent) == 1


def test_a_publish_that_flags_a_column_as_pii_masks_it_in_the_very_next_query(
    warehouse: Path, analyst: Any
) -> None:
    api = token_client(analyst)
    sql = "SELECT channel FROM marketing.campaign_attribution ORDER BY channel"
    assert query(api, sql).json()["rows"][0] == ["email"]  # raw, and the snapshot is kept
    doc = contract_document("marketing.campaign_attribution", version=4)
    next(c for c in doc["schema"] if c["column"] == "channel").update(pii=True, mask="redact")
    product_publish(actor=None, document=doc)
    assert query(api, sql).json()["rows"][0] != ["email"]


def test_joining_a_team_unmasks_pii_in_the_very_next_query(
    warehouse: Path, analyst: Any, marketing: Any
) -> None:
    api = token_client(analyst)
    sql = "SELECT user_id FROM marketing.campaign_attribution ORDER BY attribution_id"
    masked = query(api, sql).json()["rows"][0][0]
    assert masked != "user-00012345"
    permissions.membership_set(user=analyst, domain=marketing, is_owner=False)
    assert query(api, sql).json()["rows"][0][0] == "user-00012345"
    permissions.membership_remove(user=analyst, domain=marketing)
    assert query(api, sql).json()["rows"][0][0] == masked


def test_a_deprecation_is_warned_about_in_the_very_next_query(
    warehouse: Path, analyst: Any
) -> None:
    api = token_client(analyst)
    sql = "SELECT count(*) AS n FROM finance.revenue_attribution"
    assert not query(api, sql).json().get("warnings")
    publish("finance.revenue_attribution", "deprecated")  # version 4, through every gate
    warnings = query(api, sql).json().get("warnings", [])
    assert any("finance.revenue_attribution is deprecated" in w for w in warnings), warnings


def test_data_that_ages_past_its_sla_is_warned_about_without_a_catalog_change(
    warehouse: Path, analyst: Any
) -> None:
    import time_machine

    product = DataProduct.objects.get(product_id="marketing.campaign_attribution")
    DataProduct.objects.filter(pk=product.pk).update(newest_data_at=timezone.now())
    quality_services.product_health_refresh()
    api = token_client(analyst)
    assert not query(api, SQL).json().get("warnings")
    with time_machine.travel(timezone.now() + timedelta(hours=3), tick=False):
        warnings = query(api, SQL).json().get("warnings", [])
    assert any(w.startswith("marketing.campaign_attribution is stale: ") for w in warnings)


# --- what the fast paths give is what the slow ones gave ---------------------------------------


def test_search_hits_read_as_the_declared_serializer_fields_give_them(
    catalog: DataProduct, analyst: Any
) -> None:
    rng = random.Random(7)
    grow(catalog.domain, 3)
    for product in DataProduct.objects.select_related("domain"):
        for tags, score, validated in (
            (["a", "b"], 87.5, timezone.now()),
            ([], None, None),
            ([None, "x"], 0, datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC)),
            ([str(rng.random())], rng.random() * 100, timezone.now()),
        ):
            product.tags, product.quality_score, product.last_validated_at = tags, score, validated
            product.relevance = rng.random() * 10  # type: ignore[attr-defined]
            product.freshness_state = rng.choice(["fresh", "stale", "unknown"])  # type: ignore[attr-defined]
            fast = ProductSummarySerializer(product).data
            declared = serializers.Serializer.to_representation(
                ProductSummarySerializer(product), product
            )
            assert dict(fast) == dict(declared)
            assert list(fast) == list(declared)


@pytest.mark.parametrize("seed", range(4))
def test_the_score_history_is_the_weighted_window_over_every_finished_run(
    catalog: DataProduct, seed: int
) -> None:
    from quality.selectors import score_history

    rng = random.Random(seed)
    CheckRun.objects.filter(product=catalog).delete()
    now = timezone.now()
    runs = []
    for i in range(rng.randint(1, 70)):
        finished = now - timedelta(days=rng.uniform(0, 150))
        status = rng.choice([*FINISHED_STATUSES, "queued"])
        run = CheckRun.objects.create(
            product=catalog, trigger="schedule", run_key=f"s{seed}-{i}", status=status,
            finished_at=finished if status != "queued" else None,
        )  # fmt: skip
        results = [
            (rng.random() < 0.7, rng.choice(["error", "warning"])) for _ in range(rng.randint(0, 4))
        ]
        for j, (passed, severity) in enumerate(results):
            CheckResult.objects.create(
                run=run, position=j, check_name=f"c{j}", check_type="not_null",
                status="passed" if passed else "failed", passed=passed, severity=severity,
                created_at=finished,
            )  # fmt: skip
        if status != "queued":
            runs.append((finished, run.pk, results))
    runs.sort(key=lambda r: (r[0], r[1]))
    since = now - timedelta(days=90)
    expected = []
    for k, (finished, _, _) in enumerate(runs):
        if finished < since:
            continue
        window = runs[max(0, k - 29) : k + 1]
        weight = {"error": 1.0, "warning": 0.5}
        passed_weight = sum(weight[s] for _, _, rs in window for ok, s in rs if ok)
        total_weight = sum(weight[s] for _, _, rs in window for _, s in rs)
        if total_weight:
            expected.append((finished, round(100.0 * passed_weight / total_weight, 1)))
    assert score_history(catalog, days=90, now=now) == expected


def test_the_product_freshness_read_in_python_is_the_sql_rule_at_every_boundary(
    catalog: DataProduct,
) -> None:
    from catalog.api.filters import with_freshness
    from catalog.contract import FRESHNESS_HOURS
    from catalog.selectors import freshness_state_of

    now = timezone.now()
    for sla, hours in FRESHNESS_HOURS.items():
        limit = timedelta(hours=hours)
        for newest in (
            None,
            now,
            now - limit + timedelta(microseconds=1),
            now - limit,
            now - limit - timedelta(microseconds=1),
            now - 3 * limit,
            now + timedelta(minutes=5),
        ):
            DataProduct.objects.filter(pk=catalog.pk).update(
                sla_freshness=sla, newest_data_at=newest
            )
            row = with_freshness(DataProduct.objects.filter(pk=catalog.pk), now).get()
            # freshness_state: with_freshness's annotation.
            assert freshness_state_of(row, now) == row.freshness_state, (sla, newest)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "stated",
    [
        "2026-03-01T10:00:00Z",
        "2026-03-01T10:00:00+02:00",
        "2026-03-01T10:00:00",  # no offset: not trusted, the stored time is shown
        "not a date",
        "",
        20260301,
        None,
        {"nested": "2026-03-01T10:00:00Z"},
        "MISSING",
    ],
)
def test_the_changelog_read_without_documents_dates_each_version_as_its_document_does(
    catalog: DataProduct, analyst: Any, stated: Any
) -> None:
    from catalog.models import ContractVersion

    version = ContractVersion.objects.filter(product=catalog).latest()
    document = dict(version.document)
    if stated == "MISSING":
        document.pop("publishedAt", None)
    else:
        document["publishedAt"] = stated
    ContractVersion.objects.filter(pk=version.pk).update(document=document)
    whole = ContractVersion.objects.get(pk=version.pk)
    listed = next(
        v for v in selectors.product_versions(user=analyst, product=catalog) if v.pk == version.pk
    )
    assert "document" in listed.get_deferred_fields()
    assert listed.published_at == whole.published_at


# --- metrics and lineage (issue 16's speed target) --------------------------------------------


def audited_queries(user: Any, products: list[DataProduct], days: int) -> None:
    """Answered governed queries on ``products``, one a product a day for ``days`` days, rolled
    up (usage and quality) as the beat does."""
    from catalog.usage_rollup import usage_rollup
    from quality.rollups import quality_rollup
    from querying.models import QueryLog, QueryProductUse

    now = timezone.now()
    for day in range(1, days + 1):
        at = now - timedelta(days=day)
        for product in products:
            log = QueryLog.objects.create(
                user=user, username=user.username, role=user.role, submitted_sql="SELECT 1",
                decision="allowed", products=[product.product_id], duration_ms=50.0,
                created_at=at,
            )  # fmt: skip
            QueryProductUse.objects.create(
                log=log, product_id=product.product_id, decision="allowed", duration_ms=50.0,
                created_at=at, pii_access="masked",
            )  # fmt: skip
    usage_rollup()
    quality_rollup()


def test_the_metrics_cost_the_same_few_statements_whatever_the_history_and_catalog_hold(
    catalog: DataProduct, analyst: Any
) -> None:
    api = token_client(analyst)
    page = Client()
    page.force_login(analyst)
    api.get("/v1/metrics")  # the user's domain ids are read once (and kept)
    _, api_few = statements(lambda: api.get("/v1/metrics"))
    _, page_few = statements(lambda: page.get("/metrics/"))
    grow(catalog.domain, 5)
    audited_queries(analyst, list(DataProduct.objects.all()), days=4)
    answer, api_many = statements(lambda: api.get("/v1/metrics"))
    body = answer.json()
    assert sum(body["queriesPerDay"]["total"]) == 6 * 4
    assert body["publishedByDomain"] == [{"domain": "marketing", "count": 6}]
    assert sum(r["freshnessRuns"] for r in body["slaByDomain"]) >= 0 and body["incidentsPerMonth"]
    # The token (with its user); the domains; published products; usage by day and role, and
    # by domain; quality by day, and by domain; incidents; time to publish. Each rollup is read
    # whole in one statement, never once per product, day or row.
    assert len(api_many) == len(api_few) == 9, "\n".join(api_many)
    shown, page_many = statements(lambda: page.get("/metrics/"))
    assert shown.status_code == 200 and shown.content.decode().count("<svg") >= 6
    # The session and its user, and the domains of the filter, instead of the token.
    assert len(page_many) == len(page_few) == 11, "\n".join(page_many)


def test_lineage_at_depth_three_costs_the_same_statements_however_many_nodes(
    catalog: DataProduct, finance: Any, analyst: Any
) -> None:
    root = catalog.product_id
    api = token_client(analyst)
    page = Client()
    page.force_login(analyst)
    url = f"/v1/catalog/products/{root}/lineage?depth=3"
    api.get(url)
    _, api_few = statements(lambda: api.get(url))
    _, page_few = statements(lambda: page.get(f"/products/{root}/lineage/?depth=3"))
    # Three levels down, two products each, a draft of another domain among them, and inputs
    # of its own two levels up: each level's nodes read with the others, not one by one.
    level = [root]
    for depth in range(1, 4):
        built: list[str] = []
        for parent in level:
            for k in range(2):
                product_id = f"marketing.l{depth}_{len(built)}_{k}"
                publish_with_inputs(product_id, [parent])
                built.append(product_id)
        level = built[:2]
    product_publish(
        actor=None,
        document=contract_document("finance.plan", status="draft", inputs=[root]),
        source="test",
    )
    publish_with_inputs("marketing.upstream_b", [])
    publish_with_inputs("marketing.upstream_a", ["marketing.upstream_b"])
    doc = contract_document(root, version=4, inputs=["marketing.upstream_a"])
    product_publish(actor=None, document=doc, source="test")
    answer, api_many = statements(lambda: api.get(url))
    body = answer.json()
    assert len(body["nodes"]) >= 15 and body["hidden"] == 1 and len(body["upstream"]) == 2
    # The token (with its user), the product, its edges downstream and upstream (each a walk
    # in the database, whatever the depth), the consumers it lost.
    assert len(api_many) == len(api_few) == 5, "\n".join(api_many)
    shown, page_many = statements(lambda: page.get(f"/products/{root}/lineage/?depth=3"))
    assert shown.status_code == 200 and shown.content.decode().count("data-node=") >= 15
    assert len(page_many) == len(page_few) == 6, "\n".join(page_many)


def publish_with_inputs(product_id: str, inputs: list[str]) -> DataProduct:
    document = contract_document(product_id, inputs=inputs)
    return product_publish(actor=None, document=document, source="test").product
