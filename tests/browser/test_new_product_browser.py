"""A new data product from a table, in a real browser (issue 15).

An owner opens "New data product", picks the demo's table no product uses yet, sees the draft
beside the table's profile, breaks a field and sees the publish's own error beside it while
typing (static/js/draft.js), fixes it, publishes; the checks run and pass, and the product page
shows the profile and ten sample rows (static/js/product.js), raw for the owner's team and
masked for an analyst.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from catalog.models import DataProduct
from quality.services import check_run

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLE = "marketing_newsletter_signups"


def test_an_owner_drafts_edits_and_publishes_a_product_whose_checks_pass(
    demo: Any, page: Any, shoot: Any, chromium: Any
) -> None:
    started = time.monotonic()
    login(page, demo.url, "maya.marketing", "demo-maya.marketing")
    page.goto(f"{demo.url}/domains/marketing/")
    page.get_by_role("link", name="New data product").click()
    page.wait_for_url("**/products/new/")
    page.get_by_label("Table", exact=True).select_option(f"marketing/{TABLE}")
    shoot(page, "new-product-pick")
    page.get_by_role("button", name="Draft the contract").click()
    page.wait_for_url(f"**/products/new/?source=marketing%2F{TABLE}*")
    assert page.locator("#draft-form").is_visible()
    assert page.get_by_text("Column profile of").is_visible()
    notes = page.locator(".draft__notes").inner_text()
    assert "signup_note:" in notes and "e-mail addresses" in notes
    assert page.locator("select[name='col-1-mask']").input_value() == "email"
    shoot(page, "new-product-draft")

    # Live validation: the publish's dry run, its message beside the field.
    contact = page.locator("#f-owner\\.contact")
    contact.fill("not-an-address")
    error = page.locator("[data-error-for='owner.contact']")
    error.filter(has_text="e-mail").wait_for()
    assert contact.get_attribute("aria-invalid") == "true"
    shoot(page, "new-product-live-error")
    contact.fill("maya@company.com")
    expect(error).to_have_text("")  # gone once the dry run accepts it
    page.locator("#f-description").fill("Sign-ups to the newsletter, one row per sign-up.")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url("**/products/marketing.newsletter_signups/")
    published_in = time.monotonic() - started
    assert page.get_by_text("marketing.newsletter_signups v1 published").is_visible()

    product = DataProduct.objects.get(product_id="marketing.newsletter_signups")
    run = check_run(product=product)  # what the dispatcher does within a minute
    assert run.status == "passed", [(r.check_name, r.message) for r in run.results.all()]
    page.reload()
    assert page.locator("#profile table.profile").is_visible()
    page.locator("#sample .sample-rows").wait_for()
    assert "@" in page.locator("#sample").inner_text()  # the team reads e-mails raw
    assert "***@" not in page.locator("#sample").inner_text()
    shoot(page, "new-product-published")
    print(f"\nby hand in a browser: page opened to product published in {published_in:.1f} s")

    analyst = chromium.new_context(viewport={"width": 1280, "height": 900})
    tab = analyst.new_page()
    login(tab, demo.url, "ana.analyst", "demo-ana.analyst")
    tab.goto(f"{demo.url}/products/marketing.newsletter_signups/")
    tab.locator("#sample .sample-rows").wait_for()
    sample = tab.locator("#sample").inner_text()
    assert "***@" in sample and "[REDACTED]" in sample
    analyst.close()
