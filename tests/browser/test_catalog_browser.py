"""End to end in a real browser: log in, search, open a product, register, query."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.models import Consumer

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_analyst_logs_in_searches_and_opens_a_product(demo: Any, page: Any, shoot: Any) -> None:
    login(page, demo.url, "ana.analyst", "demo-ana.analyst")
    assert page.get_by_role("heading", name="Find trustworthy data").is_visible()
    shoot(page, "home")
    page.locator("#home-q").fill("attribution")
    page.locator("#home-q").press("Enter")
    page.wait_for_url("**/search/?q=attribution")
    first = page.locator(".product-card").first
    assert first.locator("mark").first.inner_text().lower() == "attribution"
    shoot(page, "search")
    first.locator(".product-card__title").click()
    page.wait_for_url("**/products/marketing.campaign_attribution/")
    assert page.get_by_role("heading", name="Campaign Attribution", level=1).is_visible()
    assert page.locator("text=masked: last4").first.is_visible()
    shoot(page, "product")


def test_analyst_registers_as_a_consumer_from_the_product_page(
    demo: Any, page: Any, shoot: Any
) -> None:
    login(page, demo.url, "ana.analyst", "demo-ana.analyst")
    page.goto(f"{demo.url}/products/marketing.campaign_attribution/")
    page.get_by_label("Contact").fill("")  # prefilled with the analyst's address
    page.get_by_role("button", name="Register").click()  # empty form: field errors, nothing saved
    assert page.locator(".field.has-error").count() == 3
    shoot(page, "product-register-errors")
    page.get_by_label("Team").fill("Pricing")
    page.get_by_label("Use case").fill("Price elasticity model")
    page.get_by_label("Contact").fill("pricing@company.com")
    page.get_by_role("button", name="Register").click()
    page.wait_for_url("**/products/marketing.campaign_attribution/#consumers")
    assert page.get_by_text("Pricing registered as a consumer").is_visible()
    assert page.locator("#consumers").get_by_text("Price elasticity model").is_visible()
    assert Consumer.objects.filter(
        team="Pricing", product__product_id="marketing.campaign_attribution"
    ).exists()


def test_deprecated_product_shows_its_banner_and_domain_page_links_the_scorecard(
    demo: Any, page: Any, shoot: Any
) -> None:
    login(page, demo.url, "yuki.vp", "demo-yuki.vp")
    page.goto(f"{demo.url}/products/finance.revenue_daily_legacy/")
    banner = page.locator(".alert--warn")
    assert "finance.orders_revenue" in banner.inner_text()
    shoot(page, "product-deprecated")
    page.goto(f"{demo.url}/domains/finance/")
    assert page.get_by_role("link", name="Open the finance compliance scorecard →").is_visible()
    shoot(page, "domain")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{demo.url}/products/marketing.campaign_attribution/")
    shoot(page, "product-mobile")


def test_query_this_product_runs_a_query_and_shows_results(
    demo: Any, page: Any, shoot: Any
) -> None:
    login(page, demo.url, "ana.analyst", "demo-ana.analyst")
    page.goto(f"{demo.url}/products/marketing.campaign_attribution/")
    page.get_by_role("link", name="Query this product").click()
    page.wait_for_url("**/query/?product=marketing.campaign_attribution")
    page.get_by_role("button", name="Run query").click()
    table = page.locator("table.results")
    table.wait_for()
    assert table.locator("tbody tr").count() > 0
    shoot(page, "query-results")
