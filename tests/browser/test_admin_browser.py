"""The admin as a domain owner and an admin see it in a 1280 px window (issue 12).

Real Chromium on the demo catalog: every page fits the window (no horizontal scrolling), the
help texts and the check-type table are on screen, runs list their results, and the incident
form takes an acknowledgement. Screenshots land in test-artifacts/screenshots/.
"""

from __future__ import annotations

from typing import Any

import pytest

from catalog.models import DataProduct
from quality.models import CheckRun, Incident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 1280


def admin_login(page: Any, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"demo-{username}")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base_url}/admin/")


def page_width(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_an_owners_admin_pages_fit_1280_px(demo: Any, page: Any, shoot: Any) -> None:
    product = DataProduct.objects.get(product_id="marketing.email_engagement")
    run = CheckRun.objects.filter(product=product).exclude(status="queued").first()
    assert run is not None, "seed_demo runs the checks once"
    incident = Incident.objects.create(
        product=product, kind="stale_data", opened_at=run.created_at, message="stale for 30 h"
    )
    admin_login(page, demo.url, "maya.marketing")
    pages = {
        "admin-product-change": f"/admin/catalog/dataproduct/{product.pk}/change/",
        "admin-checkrun-list": "/admin/quality/checkrun/",
        "admin-checkrun-change": f"/admin/quality/checkrun/{run.pk}/change/",
        "admin-check-history": f"/admin/quality/checkresult/?product={product.product_id}"
        "&check=known_engagement_events",
        "admin-incident-change": f"/admin/quality/incident/{incident.pk}/change/",
        "admin-querylog-list": "/admin/querying/querylog/",
    }
    for name, path in pages.items():
        response = page.goto(f"{demo.url}{path}")
        assert response is not None and response.status == 200, path
        shoot(page, name)
        assert page_width(page) <= WIDTH, (name, page_width(page))

    page.goto(f"{demo.url}{pages['admin-product-change']}")
    # Help texts are on screen, as written (not swallowed as HTML).
    table_help = page.locator(".field-table .help").inner_text()
    assert "marketing.campaign_attribution reads marketing_campaign_attribution" in table_help
    guide = page.locator("details.portal-check-guide")
    assert guide.is_visible() and "maxStaleHours" in guide.inner_text()
    # The checks table's last column (delete) is inside the window.
    box = page.locator("#checks-group table").bounding_box()
    assert box is not None and box["x"] + box["width"] <= WIDTH

    page.goto(f"{demo.url}{pages['admin-checkrun-change']}")
    assert page.locator("#results-group tbody tr.has_original").count() == run.results.count()
    assert page.get_by_role("heading", name=str(run)).is_visible()

    page.goto(f"{demo.url}{pages['admin-incident-change']}")
    page.select_option("#id_action", "acknowledge")
    page.fill("#id_note", "looking into the loader")
    page.click("input[name=_save]")
    page.wait_for_url(f"{demo.url}/admin/quality/incident/")
    assert "acknowledged" in page.locator(".messagelist").inner_text()
    incident.refresh_from_db()
    assert incident.acknowledgement == "looking into the loader"


def test_the_users_list_fits_and_reads_as_roles_and_teams(demo: Any, page: Any, shoot: Any) -> None:
    admin_login(page, demo.url, "admin")
    page.goto(f"{demo.url}/admin/accounts/user/")
    shoot(page, "admin-user-list")
    assert page_width(page) <= WIDTH
    row = page.locator("#result_list tbody tr", has_text="maya.marketing")
    assert "marketing (owner)" in row.inner_text() and "Manager" in row.inner_text()
    assert "domain:marketing" not in page.content()
