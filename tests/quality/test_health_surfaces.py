"""One health verdict, the same on every surface (issue 12).

Four products whose checks really ran against a DuckDB warehouse file (one never checked):
failing (NULL campaign ids), stale (data 30 h old against a 1h SLA), ok and unknown. Every
API answer and every server-rendered page that shows them must say the same verdict.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import DataProduct
from catalog.services import product_publish
from quality import services
from quality.models import Incident
from tests.factories import contract_document

EXPECTED = {
    "marketing.failing_product": "failing",
    "marketing.stale_product": "stale",
    "marketing.ok_product": "ok",
    "marketing.unknown_product": "unknown",
}
ROWS = 1200  # the seed's row_count check wants at least 1000


def write_table(
    con: duckdb.DuckDBPyConnection, table: str, *, newest: datetime, nulls: int = 0
) -> None:
    """The seed product's columns, ``ROWS`` rows, newest touchpoint at ``newest``."""
    con.execute(
        f"CREATE TABLE {table} (attribution_id VARCHAR, user_id VARCHAR, campaign_id VARCHAR, "
        "channel VARCHAR, touchpoint_at TIMESTAMP, conversion_at TIMESTAMP, "
        "revenue_cents BIGINT, attribution_model VARCHAR)"
    )
    naive = newest.astimezone(UTC).replace(tzinfo=None)
    con.execute(
        f"INSERT INTO {table} SELECT 'a' || i, 'u' || i, "
        "CASE WHEN i < ? THEN NULL ELSE 'c' || (i % 7) END, 'paid', "
        "?::TIMESTAMP - to_minutes(i), NULL, i, 'linear' FROM range(?) t(i)",
        [nulls, naive, ROWS],
    )


def build_warehouse(path: Path, now: datetime) -> str:
    con = duckdb.connect(str(path))
    try:
        write_table(con, "marketing_failing_product", newest=now, nulls=12)
        write_table(con, "marketing_stale_product", newest=now - timedelta(hours=30))
        write_table(con, "marketing_ok_product", newest=now - timedelta(minutes=10))
        write_table(con, "marketing_unknown_product", newest=now)
    finally:
        con.close()
    return f"duckdb:///{path}"


@pytest.fixture
def products(marketing: Any, tmp_path: Path, settings: Any) -> dict[str, DataProduct]:
    now = timezone.now()
    settings.WAREHOUSE_URL = build_warehouse(tmp_path / "wh.duckdb", now)
    out = {}
    for product_id in EXPECTED:
        doc = contract_document(product_id)
        doc["schema"][1]["mask"] = "hash"
        out[product_id] = product_publish(actor=None, document=doc).product
    for product_id in (
        "marketing.failing_product",
        "marketing.stale_product",
        "marketing.ok_product",
    ):
        services.check_run(product=out[product_id], trigger="manual")
    for product in out.values():
        product.refresh_from_db()
    return out


def browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def card_verdicts(html: str) -> dict[str, str]:
    """product id -> the data-health of its product card (search, domain, home pages)."""
    out = {}
    for chunk in html.split('<li class="product-card')[1:]:
        product = re.search(r'href="/products/([^/"]+)/"', chunk)
        health = re.search(r'data-health="(\w+)"', chunk)
        assert product and health, chunk[:300]
        out[product.group(1)] = health.group(1)
    return out


def test_the_checks_really_produced_the_four_situations(products: dict[str, DataProduct]) -> None:
    assert products["marketing.failing_product"].check_runs.get().status in ("failed", "error")
    assert products["marketing.ok_product"].check_runs.get().status == "passed"
    assert not products["marketing.unknown_product"].check_runs.exists()
    kinds = set(Incident.objects.filter(status="open").values_list("product__product_id", "kind"))
    assert kinds == {
        ("marketing.failing_product", "quality_failure"),
        ("marketing.stale_product", "stale_data"),
    }


def test_search_api_and_product_api_give_each_products_verdict_with_reasons(
    products: dict[str, DataProduct], api_as: Any, analyst: Any
) -> None:
    api = api_as(analyst)
    hits = api.get("/v1/catalog/search?domain=marketing").json()["products"]
    assert {h["id"]: h["health"] for h in hits} == EXPECTED
    for product_id, expected in EXPECTED.items():
        detail = api.get(f"/v1/catalog/products/{product_id}").json()
        quality = api.get(f"/v1/quality/products/{product_id}").json()
        assert detail["health"] == quality["health"] == expected
        assert detail["healthReasons"] == quality["healthReasons"]
        assert detail["healthReasons"] and all(isinstance(r, str) for r in detail["healthReasons"])
        hit = next(h for h in hits if h["id"] == product_id)
        assert hit["healthReasons"] == detail["healthReasons"]


def test_the_reasons_say_why_in_sentences(
    products: dict[str, DataProduct], api_as: Any, analyst: Any
) -> None:
    api = api_as(analyst)

    def reasons(product_id: str) -> list[str]:
        return api.get(f"/v1/catalog/products/{product_id}").json()["healthReasons"]

    assert reasons("marketing.failing_product")[0].startswith(
        "Error-severity check no_null_campaign_ids failed"
    )
    assert reasons("marketing.stale_product")[0].startswith("The newest data is 30.0 h old")
    assert reasons("marketing.ok_product")[0] == (
        f"All {products['marketing.ok_product'].check_runs.get().results.count()} check "
        "results of the last run passed."
    )
    assert reasons("marketing.unknown_product")[0].startswith("No check run has finished yet")


def test_the_scorecard_api_gives_the_same_verdicts_and_counts_what_needs_attention(
    products: dict[str, DataProduct], api_as: Any, analyst: Any
) -> None:
    card = api_as(analyst).get("/v1/governance/domains/marketing/scorecard").json()
    assert {p["id"]: p["health"] for p in card["productDetails"]} == EXPECTED
    assert card["needsAttention"] == 2
    assert card["health"] == {"ok": 1, "warning": 0, "failing": 1, "stale": 1, "unknown": 1}
    assert card["openIncidents"] == 2
    listed = api_as(analyst).get("/v1/governance/scorecard").json()["domains"]
    marketing = next(c for c in listed if c["domain"] == "marketing")
    assert marketing["needsAttention"] == 2


def test_search_domain_and_home_pages_show_the_same_verdicts(
    products: dict[str, DataProduct], analyst: Any
) -> None:
    client = browser(analyst)
    search = client.get("/search/?domain=marketing").content.decode()
    assert card_verdicts(search) == EXPECTED
    domain = client.get("/domains/marketing/").content.decode()
    assert card_verdicts(domain) == EXPECTED
    home = client.get("/").content.decode()
    assert card_verdicts(home) == EXPECTED  # recently updated: all four
    attention = home[
        home.index('id="attention-h"') : home.index("</section>", home.index('id="attention-h"'))
    ]
    listed = {
        pid: state
        for state, pid in re.findall(
            r'data-health="(\w+)"[^>]*>[^<]*</span>\s*<a href="/products/([^/"]+)/"', attention
        )
    }
    assert listed == {"marketing.stale_product": "stale", "marketing.failing_product": "failing"}
    assert attention.index("marketing.stale_product") < attention.index("marketing.failing_product")
    assert "<li><strong>1</strong> stale</li>" in domain
    assert "<li><strong>1</strong> failing</li>" in domain


@pytest.mark.parametrize("product_id", list(EXPECTED))
def test_the_product_page_shows_one_verdict_and_no_green_fresh_badge_beside_a_failure(
    products: dict[str, DataProduct], analyst: Any, product_id: str
) -> None:
    html = browser(analyst).get(f"/products/{product_id}/").content.decode()
    assert set(re.findall(r'data-health="(\w+)"', html)) == {EXPECTED[product_id]}
    assert "Health: " in html
    assert "badge--fresh" not in html
    if EXPECTED[product_id] == "failing":
        assert "Error-severity check no_null_campaign_ids failed" in html


def test_the_governance_page_shows_the_same_verdicts(
    products: dict[str, DataProduct], analyst: Any
) -> None:
    html = browser(analyst).get("/governance/domains/marketing/").content.decode()
    rows = {}
    for chunk in html.split("<tr>")[1:]:
        product = re.search(r'href="/products/([^/"]+)/"', chunk)
        health = re.search(r'data-health="(\w+)"', chunk)
        if product and health:
            rows[product.group(1)] = health.group(1)
    assert rows == EXPECTED
    assert "need attention (1 stale, 1 failing)" in html


def test_governed_queries_on_stale_or_failing_products_carry_a_warning(
    products: dict[str, DataProduct], api_as: Any, analyst: Any
) -> None:
    api = api_as(analyst)
    for product_id, expected in EXPECTED.items():
        response = api.post(
            "/v1/query", {"sql": f"SELECT count(*) FROM {product_id}"}, format="json"
        )
        assert response.status_code == 200, response.content
        warnings = response.json().get("warnings", [])
        if expected in ("stale", "failing"):
            assert any(w.startswith(f"{product_id} is {expected}: ") for w in warnings), warnings
        else:
            assert not any(product_id in w for w in warnings), warnings


def test_the_query_page_lists_the_same_warning(
    products: dict[str, DataProduct], analyst: Any
) -> None:
    html = browser(analyst).get("/query/").content.decode()
    assert "marketing.stale_product is stale: the newest data is 30.0 h old" in html
    assert "marketing.failing_product is failing: error-severity check no_null_campaign_ids" in html
    assert "marketing.ok_product is" not in html


def test_the_query_policy_warns_from_the_same_verdict_without_a_run_or_incident(
    products: dict[str, DataProduct], analyst: Any
) -> None:
    from querying.selectors import query_policy

    # Data seen long ago, no run recorded since and no incident: stale all the same.
    DataProduct.objects.filter(product_id="marketing.unknown_product").update(
        newest_data_at=timezone.now() - timedelta(days=3)
    )
    policy, _, _ = query_policy(analyst, now=timezone.now())
    warnings = {p.product_id: p.warning for p in policy.products}
    assert warnings["marketing.unknown_product"] == (
        "marketing.unknown_product is stale: the newest data is 3.0 days old; the 1h freshness "
        "SLA allows 1.0 h."
    )
    assert warnings["marketing.ok_product"] is None
    assert warnings["marketing.failing_product"].startswith("marketing.failing_product is failing:")
