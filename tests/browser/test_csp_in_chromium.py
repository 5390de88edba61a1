"""The Content-Security-Policy breaks nothing: Chromium reports no violation on the portal's
pages, the admin, or Swagger UI (served from the portal, no CDN), and their scripts run."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch_violations(page: Any) -> list[str]:
    """Chromium logs every blocked script, style, image or request as a console error."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return seen


def test_pages_admin_and_swagger_work_under_the_policy(demo: Any, page: Any, shoot: Any) -> None:
    violations = watch_violations(page)
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if not request.url.startswith(demo.url) and not request.url.startswith("data:")
            else None
        ),
    )
    login(page, demo.url, "admin", "demo-admin")
    for path in (
        "/",
        "/search/?q=orders",
        "/products/marketing.campaign_attribution/",
        "/domains/finance/",
        "/governance/",
        "/admin/",
        "/admin/catalog/dataproduct/",
        "/no-such-page/",
    ):
        response = page.goto(f"{demo.url}{path}")
        assert response is not None and "content-security-policy" in response.headers, path
    page.goto(f"{demo.url}/admin/catalog/dataproduct/")
    page.locator("#result_list tbody a").first.click()
    page.wait_for_load_state()
    # The query page's script runs: results come back through fetch.
    page.goto(f"{demo.url}/query/?product=marketing.campaign_attribution")
    page.get_by_role("button", name="Run query").click()
    page.locator("table.results tbody tr").first.wait_for()
    # Swagger UI renders the API's operations from the portal's own files.
    page.goto(f"{demo.url}/v1/docs/")
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 5
    shoot(page, "swagger-ui")
    assert violations == []
    assert outside == []
