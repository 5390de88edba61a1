"""Issue 16 where a person sees it, in Chromium over the seeded demo and its past: the metrics
page (charts drawn on the server with their numbers, the domain and date filters) and the
lineage pages (the CEO dashboard on its three products, the legacy table that lost it).

Screenshots in test-artifacts/screenshots/.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import login, seed_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(live_server: Any) -> Any:
    """The demo with its 120 days of history (no quality run today: the past is enough)."""
    seed_demo("--no-checks")
    return live_server


def test_the_metrics_page_shows_the_write_ups_outcomes_with_their_numbers(
    seeded: Any, page: Any, shoot: Any
) -> None:
    login(page, seeded.url, "ana.analyst", "demo-ana.analyst")
    page.goto(f"{seeded.url}/metrics/")
    assert page.get_by_role("heading", name="Is the mesh working?").is_visible()
    charts = page.locator("svg.chart")
    assert charts.count() >= 6
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box is not None and box["width"] > 150 and box["height"] > 20
    queries = float(page.locator('[data-figure="queries-7d"]').inner_text())
    assert 300 <= queries <= 520  # rising to about 450 a weekday
    quality = float(page.locator('[data-figure="quality-average"]').inner_text().rstrip("%"))
    assert 90 <= quality <= 97
    assert page.locator('[data-figure="masked-share"]').inner_text() == "100.0%"
    stale = [int(c.inner_text()) for c in page.locator("td[data-stale]").all()]
    assert stale[0] >= 6 and max(stale[-3:-1]) <= 3  # about 8 a month falling to about 2
    shoot(page, "metrics-page")
    page.get_by_label("Domain", exact=True).select_option("finance")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**domain=finance**")
    assert page.locator('[data-figure="queries-7d"]').is_visible()
    assert float(page.locator('[data-figure="queries-7d"]').inner_text()) < queries
    page.goto(f"{seeded.url}/metrics/?since=2026-13-01")
    assert page.get_by_role("alert").inner_text().startswith("since")


def test_the_lineage_pages_show_the_ceo_dashboards_move(seeded: Any, page: Any, shoot: Any) -> None:
    login(page, seeded.url, "fiona.finance", "demo-fiona.finance")
    page.goto(f"{seeded.url}/products/finance.orders_revenue/")
    page.get_by_role("link", name="Lineage").click()
    graph = page.locator("svg.lineage-graph")
    assert graph.is_visible()
    dashboard = graph.locator("g.node--dashboard", has_text="Executive / CEO dashboard")
    assert dashboard.count() == 1 and dashboard.bounding_box() is not None
    downstream = page.locator("#down-h").inner_text()
    assert "Used by" in downstream
    assert page.locator("[data-impact]").inner_text().startswith(("1 consumer", "2 consumers", "3"))
    shoot(page, "lineage-orders-revenue")
    # A downstream product's box links to its own lineage.
    graph.locator('a:has(g[data-node="product:finance.refunds"])').click()
    page.wait_for_url("**/products/finance.refunds/lineage/")
    assert page.locator('g[data-node="product:finance.orders_revenue"]').count() == 1
    page.goto(f"{seeded.url}/products/finance.revenue_daily_legacy/lineage/")
    former = page.locator("#former-h").locator("xpath=..")
    assert "Executive / CEO dashboard" in former.inner_text()
    assert (
        "moved to finance.invoices, finance.orders_revenue, finance.refunds" in former.inner_text()
    )
    shoot(page, "lineage-legacy-lost-the-ceo-dashboard")


def test_the_search_page_sorts_by_usage_quality_and_age(seeded: Any, page: Any, shoot: Any) -> None:
    login(page, seeded.url, "ana.analyst", "demo-ana.analyst")
    page.goto(f"{seeded.url}/search/?q=a&domain=marketing")
    control = page.get_by_role("navigation", name="Sort the results")
    assert control.get_by_role("link", name="Best match").get_attribute("aria-current") == "true"
    control.get_by_role("link", name="Most used").click()
    page.wait_for_url("**sort=popular**")
    assert "q=a" in page.url and "domain=marketing" in page.url  # the search and filter stay
    used = [
        int(n)
        for n in page.locator("[data-queries30d]").evaluate_all(
            "cells => cells.map(c => c.dataset.queries30d)"
        )
    ]
    assert len(used) >= 2 and used == sorted(used, reverse=True) and used[0] > 0, used
    shoot(page, "search-sorted-by-usage")
    # A new search from the box keeps the chosen order.
    page.get_by_label("Search data products").first.fill("campaign")
    page.get_by_label("Search data products").first.press("Enter")
    page.wait_for_url("**q=campaign**")
    assert "sort=popular" in page.url
