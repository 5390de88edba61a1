"""No technical page, with DEBUG off or on: errors answer the app's pages or the JSON shape.

Each attack provokes an error the way a user can (a failing view, an unknown URL, a missing
object, a stale form, a forged Host header) with DEBUG off and on (the demo runs with it on),
and checks the answer carries no traceback, setting, URL list or secret.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from catalog import selectors

WAREHOUSE_URL = "postgresql://warehouse_reader:hunter2-warehouse-pw@db.internal/warehouse"
# Words only Django's technical pages (500, 404, 400) and tracebacks contain.
TECHNICAL = (
    "Traceback",
    "Request Method:",
    "Exception Value",
    "Django Version",
    "settings.py",
    "Using the URLconf",
    "Raised by:",
    "INSTALLED_APPS",
    "DATABASES",
    "DisallowedHost",
    "RuntimeError",
)


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request: Any, settings: Any) -> bool:
    settings.DEBUG = request.param
    settings.WAREHOUSE_URL = WAREHOUSE_URL
    return bool(request.param)


def secrets_in(body: str) -> list[str]:
    """Settings values and technical words found in a response body."""
    values = [
        WAREHOUSE_URL,
        "hunter2-warehouse-pw",
        django_settings.SECRET_KEY,
        django_settings.PII_HASH_KEY,
    ]
    return [v for v in (*values, *TECHNICAL) if v in body]


def boom(**_: Any) -> Any:
    raise RuntimeError(f"cannot reach {WAREHOUSE_URL} (password hunter2-warehouse-pw)")


def client_as(user: Any) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def assert_api_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert secrets_in(response.content.decode()) == []


def assert_app_page(response: Any, status: int, heading: str) -> None:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert 'href="/static/css/base.css"' in html  # the app's base template
    assert re.search(rf"<h1[^>]*>{re.escape(heading)}</h1>", html), html[:2000]
    assert secrets_in(html) == []


def test_an_exception_in_an_api_view_is_a_json_500(
    debug: bool, monkeypatch: Any, owner: Any
) -> None:
    monkeypatch.setattr(selectors, "domain_counts", boom)
    assert_api_error(client_as(owner).get("/v1/catalog/domains"), 500, "INTERNAL")


def test_an_exception_in_a_page_is_the_apps_500_page(
    debug: bool, monkeypatch: Any, owner: Any
) -> None:
    monkeypatch.setattr(selectors, "domain_list", boom)
    assert_app_page(client_as(owner).get("/"), 500, "Something went wrong")


def test_an_exception_while_rendering_a_page_is_the_apps_500_page(
    debug: bool, monkeypatch: Any, owner: Any
) -> None:
    """Raised inside the template (a lazy value evaluated by the renderer), not the view."""

    class Exploding:
        def __iter__(self) -> Any:
            boom()

        def __bool__(self) -> bool:
            boom()
            return False

    monkeypatch.setattr(selectors, "recently_updated", lambda **_: Exploding())
    assert_app_page(client_as(owner).get("/"), 500, "Something went wrong")


@pytest.mark.parametrize("path", ["/v1/nothing-here", "/v1/catalog/products/a/b/c", "/v1/"])
def test_unknown_api_urls_are_json_404s(debug: bool, owner: Any, path: str) -> None:
    assert_api_error(client_as(owner).get(path), 404, "NOT_FOUND")
    assert_api_error(client_as(None).post(path), 404, "NOT_FOUND")


@pytest.mark.parametrize("path", ["/no-such-page/", "/products/no.such_product/", "/domains/x/"])
def test_unknown_pages_and_objects_are_the_apps_404_page(
    debug: bool, owner: Any, marketing: Any, path: str
) -> None:
    assert_app_page(client_as(owner).get(path), 404, "Not found")


def test_a_stale_form_token_is_the_apps_403_page_and_json_under_the_api(
    debug: bool, owner: Any
) -> None:
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(owner)
    assert_app_page(client.post("/query/", {"sql": "select 1"}), 403, "This form has expired")
    assert_api_error(
        client.post("/v1/query", {"sql": "select 1"}, content_type="application/json"),
        403,
        "FORBIDDEN",
    )


def test_a_forged_host_header_shows_nothing_technical(debug: bool, owner: Any) -> None:
    for path in ("/", "/v1/catalog/domains"):
        response = client_as(owner).get(path, HTTP_HOST="attacker.example")
        assert response.status_code == 400
        assert secrets_in(response.content.decode()) == [], response.content[:500]


def test_a_permission_denied_page_uses_the_apps_403_template(
    debug: bool, owner: Any, rf: Any
) -> None:
    from django.core.exceptions import PermissionDenied

    from config.errors import permission_denied

    page = permission_denied(rf.get("/governance/"), PermissionDenied("internal detail"))
    assert page.status_code == 403
    assert "Not allowed" in page.content.decode()
    assert "internal detail" not in page.content.decode()
    assert_api_error(permission_denied(rf.get("/v1/query"), PermissionDenied()), 403, "FORBIDDEN")
