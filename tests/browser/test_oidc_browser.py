"""Sign-in with the company's identity provider in Chromium (issue 19): the login page's
button, the provider's own login form (django-oauth-toolkit in a second process), back in the
portal as a new user with the teams the groups map to, logout through the provider's
RP-initiated logout (allowed by the portal's Content-Security-Policy), and a stopped provider
answered with a readable page."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import TeamMembership, User
from tests.support.oidc_provider.process import (
    PASSWORD,
    PROVIDER_NAME,
    Provider,
    oidc_on,
    oidc_provider,
    portal_configure,
    provider_running,
)

from .conftest import login

__all__ = ["oidc_on", "oidc_provider"]  # fixtures, imported for pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch(tab: Any) -> list[str]:
    """Console errors (CSP violations among them) and uncaught page errors."""
    seen: list[str] = []
    tab.on("console", lambda m: seen.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda exc: seen.append(str(exc)))
    tab.on("response", lambda r: seen.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return seen


def test_sign_in_with_the_provider_first_login_and_logout(
    live_server: Any, oidc_on: Provider, marketing: Any, finance: Any, page: Any, shoot: Any
) -> None:
    errors = watch(page)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()

    # The provider's own page, on its own origin.
    page.wait_for_url(f"{oidc_on.base}/accounts/login/**")
    page.get_by_label("Username").fill("dana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(f"{live_server.url}/")
    assert page.locator(".userbox span").inner_text().startswith("dana")
    shoot(page, "oidc-signed-in")
    dana = User.objects.get(username="dana")
    assert {m.domain.slug: m.is_owner for m in TeamMembership.objects.filter(user=dana)} == {
        "marketing": True,
        "finance": False,
    }

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    assert page.locator(".userbox").count() == 0

    # The provider's session ended with the portal's: it asks for the password again.
    page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()
    page.wait_for_url(f"{oidc_on.base}/accounts/login/**")
    assert errors == []


def test_local_accounts_still_log_in_next_to_the_provider(
    live_server: Any, oidc_on: Provider, member: Any, page: Any
) -> None:
    errors = watch(page)
    login(page, live_server.url, "mo", "pw-for-tests")
    assert page.locator(".userbox span").inner_text().startswith("mo")
    assert errors == []


def test_a_stopped_provider_is_a_readable_page(
    live_server: Any, settings: Any, tmp_path: Any, page: Any, shoot: Any
) -> None:
    with provider_running(tmp_path / "gone", live_server.url) as gone:
        portal_configure(settings, gone)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()
    page.get_by_role("heading", name=f"Signing in with {PROVIDER_NAME} did not complete").wait_for()
    assert f"cannot reach {PROVIDER_NAME}" in page.locator("#oidc-failure-reason").inner_text()
    shoot(page, "oidc-provider-down")
    page.get_by_role("link", name="Back to the login page").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/")
