"""Issue 12 where a person sees it, in Chromium over the seeded demo: the search page at 390 px
(results before filters), the product page's owners and dates, the consumer registration flow
(errors in view, prefilled, registered, withdrawn) and the query page's 1,000-row limit.

One seeded demo for the whole journey (seeding takes seconds; the database is emptied after
each browser test), screenshots in test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from catalog.models import Consumer

from .conftest import login, seed_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PRODUCT = "marketing.campaign_attribution"


@pytest.fixture
def seeded(live_server: Any) -> Any:
    """The demo catalog (no quality run: nothing here needs one) behind a live server."""
    seed_demo("--no-checks")
    return live_server


def box(page: Any, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not displayed"
    return dict(found)


def in_viewport(page: Any, selector: str) -> bool:
    """Is the top of ``selector`` inside the window as scrolled now?"""
    return bool(
        page.evaluate(
            """(selector) => {
                const r = document.querySelector(selector).getBoundingClientRect();
                return r.top >= 0 && r.top < window.innerHeight;
            }""",
            selector,
        )
    )


def no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_search_product_page_and_registration_on_a_phone_and_a_desktop(
    seeded: Any, page: Any, shoot: Any
) -> None:
    base = seeded.url
    login(page, base, "ana.analyst", "demo-ana.analyst")

    # Search at 390 px: the first results are on the first screen, the filters after them.
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/search/?q=revenue")
    results, facets = box(page, "section.results"), box(page, "aside.facets")
    assert results["y"] < facets["y"]
    first_card = box(page, ".product-card")
    assert first_card["y"] < PHONE["height"] - 100, first_card
    assert no_sideways_scroll(page)
    assert page.get_by_text("Also matching, not shown by default:").is_visible()
    shoot(page, "search-390")
    page.get_by_role("link", name=re.compile(r"^Filters")).click()
    assert in_viewport(page, "#filters")
    page.get_by_role("link", name="1 deprecated").click()
    page.wait_for_url("**/search/?q=revenue&status=deprecated")
    assert page.locator(".product-card__title").all_inner_texts() == ["Revenue Daily (legacy)"]

    # On a desktop the filters are a column left of the results.
    page.set_viewport_size(DESKTOP)
    page.goto(f"{base}/search/?q=revenue")
    results, facets = box(page, "section.results"), box(page, "aside.facets")
    assert facets["x"] + facets["width"] <= results["x"] and abs(facets["y"] - results["y"]) < 60
    shoot(page, "search-1280")

    # The product page names its owner and dates itself as its version history does.
    page.goto(f"{base}/products/{PRODUCT}/")
    owner_card = page.locator("section[aria-labelledby=owner-h]")
    assert "Owned by Maya Lindqvist (maya.marketing)" in owner_card.inner_text()
    published = page.locator(".product-head__id .muted").inner_text()
    latest = page.locator(".changelog > li").first.inner_text()
    assert published.startswith("published ")
    assert latest.startswith(f"v3 {published},"), (published, latest)
    versions = re.findall(
        r"^v(\d+) ", "\n".join(page.locator(".changelog > li").all_inner_texts()), re.M
    )
    assert len(versions) == len(set(versions))
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", page.locator("main").inner_text())
    shoot(page, "product-owner-and-dates")

    # Registration on a phone: prefilled, errors shown where the form is, then registered.
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/products/{PRODUCT}/")
    assert page.get_by_label("Contact").input_value() == "ana.analyst@company.com"
    page.get_by_role("link", name="Register as consumer").click()
    page.get_by_label("Contact").fill("not an address")
    page.get_by_role("button", name="Register", exact=True).click()
    page.wait_for_url(f"**/products/{PRODUCT}/consumers/#register")
    assert page.get_by_text("Please fix the fields marked below.").is_visible()
    # The summary of what to fix and the first field to fix are on the screen.
    assert in_viewport(page, "#register p.error[role=alert]")
    assert in_viewport(page, "#id_team")
    page.wait_for_function("document.activeElement && document.activeElement.name === 'team'")
    assert page.locator(".field.has-error").count() == 3
    assert page.get_by_label("Contact").input_value() == "not an address"
    assert no_sideways_scroll(page)
    shoot(page, "register-errors-390")
    page.get_by_label("Team").fill("Pricing")
    page.get_by_label("Use case").fill("Price elasticity model")
    page.get_by_label("Contact").fill("pricing@company.com")
    page.get_by_role("button", name="Register", exact=True).click()
    page.wait_for_url(f"**/products/{PRODUCT}/#consumers")
    assert page.get_by_text("Pricing registered as a consumer").is_visible()
    assert in_viewport(page, "#consumers .messages")  # said where the page lands
    assert page.locator("#register-h .badge").inner_text() == "registered"
    assert page.get_by_role("link", name="✓ Registered as Pricing").is_visible()
    assert page.get_by_role("button", name="Update registration").is_visible()
    shoot(page, "registered-390")

    # ... and withdrawn again.
    page.get_by_role("button", name="Withdraw the registration of Pricing").click()
    page.wait_for_url(f"**/products/{PRODUCT}/#consumers")
    assert page.get_by_text("Pricing is no longer registered as a consumer").is_visible()
    assert in_viewport(page, "#consumers .messages")
    assert not Consumer.objects.filter(team="Pricing").exists()
    assert page.get_by_role("button", name="Register", exact=True).is_visible()
    # Registrations the analyst did not make offer no withdraw button.
    assert page.get_by_role("button", name=re.compile("^Withdraw")).count() == 0


def test_the_query_page_shows_1000_rows_and_sends_the_rest_to_the_csv(
    seeded: Any, page: Any, shoot: Any
) -> None:
    base = seeded.url
    login(page, base, "ana.analyst", "demo-ana.analyst")
    page.goto(f"{base}/query/?product={PRODUCT}")
    page.locator("textarea").fill(f"SELECT attribution_id, channel FROM {PRODUCT}")
    page.get_by_role("button", name="Run query").click()
    note = page.locator("#query-results .page-cap")
    note.wait_for()
    summary = page.locator("#query-results .summary").inner_text()
    total = int(re.match(r"([\d,]+) rows", summary).group(1).replace(",", ""))
    assert total > 1000 and "," in summary
    assert page.locator("table.results tbody tr").count() == 1000
    assert note.inner_text() == (
        f"This page shows the first 1,000 of {total:,} rows; the rest are in the CSV: Download CSV."
    )
    shoot(page, "query-1000-rows")
    with page.expect_download() as download:
        note.get_by_role("button", name="Download CSV").click()
    path = download.value.path()
    with open(path, encoding="utf-8") as csv:
        assert sum(1 for _ in csv) == total + 1  # a header and every row
    # A small answer has no note.
    page.locator("textarea").fill(f"SELECT attribution_id FROM {PRODUCT} LIMIT 5")
    page.get_by_role("button", name="Run query").click()
    page.locator("#query-results .summary", has_text="5 rows").wait_for()
    assert page.locator("#query-results .page-cap").count() == 0
