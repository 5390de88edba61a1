"""Access with consent in a real browser (issue 17): request on the product page → the owner
approves in the inbox → the query page shows raw values; and the demo's grant and request."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.access_models import AccessRequest, AccessStatus

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRODUCT = "marketing.campaign_attribution"
SQL = f"SELECT user_id FROM {PRODUCT} WHERE user_id IS NOT NULL ORDER BY user_id LIMIT 5"


def first_cells(tab: Any) -> list[str]:
    """The first column of the query page's result table (after it has rendered)."""
    tab.locator("#query-results .summary").wait_for()
    return tab.locator("#query-results table.results tbody tr td:first-child").all_inner_texts()


def run(tab: Any, base: str) -> list[str]:
    tab.goto(f"{base}/query/?product={PRODUCT}")
    tab.locator("#query-form textarea").fill(SQL)
    tab.get_by_role("button", name="Run query").click()
    return first_cells(tab)


def test_request_approve_then_the_query_shows_raw_values(
    demo: Any, chromium: Any, page: Any, shoot: Any
) -> None:
    base = demo.url
    login(page, base, "yuki.vp", "demo-yuki.vp")
    masked = run(page, base)
    assert masked and all(v.startswith("***") for v in masked), masked

    page.goto(f"{base}/products/{PRODUCT}/")
    card = page.locator("#access")
    assert card.get_by_text("masked (last4)").first.is_visible()
    assert card.locator("details.access-request[open]").count() == 1  # open: nothing granted
    card.get_by_label("Purpose").fill("Match the spring campaign's converters with the CRM export")
    card.get_by_label("Days").fill("14")
    card.get_by_role("button", name="Request raw access").click()
    page.wait_for_url(f"**/products/{PRODUCT}/#access")
    assert page.get_by_text("Access request").first.is_visible()
    request = AccessRequest.objects.get(requester__username="yuki.vp")
    assert request.status == AccessStatus.PENDING and request.days == 14
    assert page.locator(f'[data-pending="{request.pk}"]').is_visible()
    shoot(page, "access-requested")

    # The owner decides, in their own browser session.
    owner_context = chromium.new_context(viewport={"width": 1280, "height": 900})
    owner = owner_context.new_page()
    try:
        login(owner, base, "maya.marketing", "demo-maya.marketing")
        owner.goto(f"{base}/access/")
        item = owner.locator(f'[data-request="{request.pk}"]')
        assert "Match the spring campaign" in item.inner_text()
        shoot(owner, "access-inbox")
        item.get_by_role("button", name=f"Approve #{request.pk}").click()
        owner.wait_for_url(f"{base}/access/")
        assert owner.get_by_text(f"Access request {request.pk} approved").is_visible()
    finally:
        owner_context.close()

    raw = run(page, base)
    assert raw and not any(v.startswith("***") for v in raw), raw
    assert raw != masked
    shoot(page, "access-query-raw")
    page.goto(f"{base}/products/{PRODUCT}/")
    grant = page.locator(f'[data-grant="{request.pk}"]')
    assert grant.is_visible() and "until" in grant.inner_text()
    assert page.locator("#access [data-basis]").first.inner_text() == f"(grant:{request.pk})"


def test_the_demo_starts_with_an_active_grant_and_a_pending_request(
    demo: Any, page: Any, shoot: Any
) -> None:
    login(page, demo.url, "ana.analyst", "demo-ana.analyst")
    page.goto(f"{demo.url}/products/finance.invoices/")
    assert page.locator("#access [data-grant]").is_visible()
    login(page, demo.url, "maya.marketing", "demo-maya.marketing")
    page.goto(f"{demo.url}/access/")
    assert page.locator("#pending").get_by_text("max.manager").first.is_visible()
    shoot(page, "access-demo-inbox")
