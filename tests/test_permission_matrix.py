"""Who gets what, on every route the URL resolver knows: the permission matrix (issue 14).

Routes come from ``tests.support.routes`` (Django's resolver), so a new endpoint is in the
matrix the day its URL is added. What each role may do comes from the README's "Who may do
what" table, written out below independently of ``accounts/permissions.py``; which permission
an API method needs comes from its view's declaration (``actions``, ``admin_only`` on
``config.api.PortalAPIView``). The rows are written directly (no publish), so this runs in the
fast suite.

- Anonymous callers: 401 on the API (with ``WWW-Authenticate``), a redirect to the login page
  on pages, except the README's **No login** endpoints and the login page itself.
- A product a role may not see (another domain's draft): 404 on reads; on every method the
  same answer as for a product that does not exist (nothing tells the two apart).
- An action a role may not do on a product or domain it sees: 403.
- Everything else: not 401, 403 or 404 (an empty body may well be 400), and never a 5xx.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.access_models import AccessRequest
from accounts.models import User
from catalog.governance.policies import POLICIES
from catalog.models import Column, Consumer, DataProduct, Domain
from config.api import PortalAPIView
from querying.models import SavedQuery
from tests.factories import contract_document
from tests.support.clients import api_client, page_client
from tests.support.routes import Route, admin_urls, public_routes_in_readme, routes

pytestmark = pytest.mark.django_db

PUBLISHED = "marketing.matrix_published"
DRAFT = "marketing.matrix_draft"
MISSING = "marketing.matrix_missing"
ROLES = ("outsider", "member", "owner", "admin")
ROUTES = routes()
API = [r for r in ROUTES if r.is_api]
PAGES = [r for r in ROUTES if not r.is_api]
# The login page, logging out, /favicon.ico (unnamed), and signing in with the identity
# provider (404 while OIDC is off, as in these tests; issue 19).
PUBLIC_PAGES = {"login", "logout", "", "oidc_authentication_init", "oidc_authentication_callback"}

# The README's "Who may do what", for the marketing domain: outsider owns finance, member is
# on marketing's team, owner owns marketing, admin is a platform admin.
SEES_DRAFTS = {"member", "owner", "admin"}
OWNER_ACTIONS = {"change", "create", "deprecate", "run_checks"}
MAY_OWNER_ACTIONS = {"owner", "admin"}
SEES_ACCESS_REQUESTS = {"owner", "admin"}  # of another person's request on a marketing product

# A body that passes validation, for the one write that validates before it authorizes
# (publishing parses the contract first, and may create the product). Without it, a role
# that may not publish would get 400, not the 403 the matrix expects. A new write that also
# validates first fails the matrix until it checks permissions first or is listed here.
VALID_BODIES: dict[tuple[str, str], Callable[[str], Any]] = {
    ("catalog-api:product-detail", "PUT"): lambda product_id: contract_document(product_id),
    # Drafting reads the body's domain first (it names no object in the URL), issue 15.
    ("catalog-api:drafts", "POST"): lambda product_id: {
        "table": "marketing_anything",
        "domain": "marketing",
    },
}


def make_product(domain: Domain, product_id: str, status: str) -> DataProduct:
    product = DataProduct.objects.create(
        product_id=product_id,
        domain=domain,
        name=product_id.split(".")[1].replace("_", " ").title(),
        owner_team="Marketing Analytics",
        owner_contact="owners@example.com",
        sla_freshness="24h",
        sla_availability=99.0,
        sla_query_latency_p95_ms=2000,
        status=status,
        table=product_id.replace(".", "_"),
    )
    Column.objects.create(product=product, name="id", type="string", nullable=False)
    # One registration nobody is recorded for: owners and admins withdraw it (the pages).
    Consumer.objects.create(product=product, team="Finance BI", contact="bi@example.com")
    return product


@pytest.fixture
def world(
    marketing: Domain, finance: Domain, outsider: Any, member: Any, owner: Any, admin_user: Any
) -> dict[str, Any]:
    """A published and a draft marketing product, written as rows; the four roles."""
    products = {
        "published": make_product(marketing, PUBLISHED, "published"),
        "draft": make_product(marketing, DRAFT, "draft"),
    }
    users = {"outsider": outsider, "member": member, "owner": owner, "admin": admin_user}
    return {"products": products, "users": users}


def saved_query(world: dict[str, Any]) -> SavedQuery:
    """A new shared saved query of the owner's over the published product (issue 19), one per
    request (a DELETE removes it): everyone sees and runs it, its author and admins change it.
    Its SQL does not parse, so running it answers 400 without a warehouse."""
    saved = SavedQuery.objects.create(
        author=world["users"]["owner"],
        name=f"Matrix query {SavedQuery.objects.count()}",
        sql="SELECT FROM WHERE",
        is_shared=True,
    )
    saved.products.set([world["products"]["published"]])
    return saved


def values(product_id: str, world: dict[str, Any]) -> dict[str, str]:
    """What fills a route's parameters: the product, marketing, a real policy, a consumer."""
    product = world["products"].get(
        {PUBLISHED: "published", DRAFT: "draft"}.get(product_id, ""), None
    )
    consumer = product.consumers.first() if product is not None else None
    return {
        "product_id": product_id,
        "slug": "marketing",
        "key": next(iter(POLICIES)),
        "consumer_id": str(consumer.pk if consumer is not None else 999_999),
        "pk": str(saved_query(world).pk),  # /v1/queries/<pk>
        # /v1/access-requests/<request_id>...: a new pending request on the product.
        "request_id": str(access_request(product).pk if product is not None else 999_999),
    }


def access_request(product: DataProduct) -> AccessRequest:
    """A new pending request of a new analyst's (issue 17): the requester is none of the four
    roles, so owners and admins may read and decide it, nobody of them cancel it, and the
    others may not see it."""
    return AccessRequest.objects.create(
        requester=User.objects.create(username=f"asker{AccessRequest.objects.count()}"),
        product=product,
        columns=["id"],
        purpose="the matrix asks for raw values",
        days=30,
        created_at=timezone.now(),
    )


def send(client: Any, method: str, url: str, body: Any = None) -> Any:
    """An API request with a JSON body (``{}`` unless given), a page request with an empty form."""
    if isinstance(client, APIClient):
        data = json.dumps({} if body is None else body)
        return client.generic(method, url, data=data, content_type="application/json")
    return client.generic(method, url, data="", content_type="application/x-www-form-urlencoded")


def declared(route: Route, method: str) -> tuple[str, bool]:
    """The permission ``method`` needs on the route's object, and whether it is admins' only."""
    view = route.view_class
    if view is None or not issubclass(view, PortalAPIView):
        return "view", False
    return view.actions.get(method, "view"), method in view.admin_only


def expected(route: Route, method: str, role: str, target: str) -> str:
    """``hidden`` (404 or as for a missing id), ``forbidden`` (403) or ``allowed``."""
    action, admins_only = declared(route, method)
    if admins_only and role != "admin":
        return "forbidden"
    if "request_id" in route.params:
        # An access request: its requester, the product's domain's owners and admins read it;
        # owners and admins decide it; only its requester cancels it (README, issue 17).
        if role not in SEES_ACCESS_REQUESTS:
            return "hidden"
        return "forbidden" if action == "cancel" else "allowed"
    if "product_id" in route.params and target == "draft" and role not in SEES_DRAFTS:
        return "hidden"
    if action in OWNER_ACTIONS and role not in MAY_OWNER_ACTIONS:
        return "forbidden"
    return "allowed"


def judge(verdict: str, status: int, missing_status: int | None, method: str) -> str | None:
    """Why ``status`` is not what ``verdict`` calls for, or None."""
    if status >= 500:
        return f"{status}: a server error"
    if verdict == "hidden":
        if method == "GET" and status not in (404, 405):
            return f"{status} on a product the role may not see, not 404"
        if status not in (403, 404, 405) or status != missing_status:
            return f"{status} on a product the role may not see, {missing_status} when missing"
    elif verdict == "forbidden" and status != 403:
        return f"{status}, not 403"
    elif verdict == "allowed" and status in (401, 403, 404):
        return f"{status} for an allowed role"
    return None


# ---------------------------------------------------------------------------------------------
# Anonymous callers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", API, ids=lambda r: r.pattern)
def test_anonymous_callers_get_401_on_the_api_but_the_readmes_public_endpoints(
    world: dict[str, Any], route: Route
) -> None:
    public = route.url(values(PUBLISHED, world)) in public_routes_in_readme()
    failures = []
    for method in route.methods():
        response = send(api_client(None), method, route.url(values(PUBLISHED, world)))
        if public:
            if method == "GET" and response.status_code != 200:
                failures.append(f"{method}: {response.status_code} on a public endpoint")
        elif response.status_code != 401 or "WWW-Authenticate" not in response:
            failures.append(f"{method}: {response.status_code}, not 401 with WWW-Authenticate")
        elif response.json()["error"]["code"] != "UNAUTHENTICATED":
            failures.append(f"{method}: {response.json()}")
    assert not failures, failures


@pytest.mark.parametrize("route", PAGES, ids=lambda r: r.pattern)
def test_anonymous_visitors_are_sent_to_log_in_on_every_page(
    world: dict[str, Any], route: Route
) -> None:
    url = route.url(values(PUBLISHED, world))
    for method in route.methods():
        response = send(page_client(None), method, url)
        assert response.status_code < 500, (method, url)
        if route.name.split(":")[-1] in PUBLIC_PAGES:
            continue
        assert response.status_code == 302, (method, url, response.status_code)
        assert response["Location"].startswith("/accounts/login/?next="), (method, url)


def test_anonymous_visitors_are_sent_to_the_admins_login(world: dict[str, Any]) -> None:
    urls = admin_urls()
    assert len(urls) > 10  # the index and two pages per registered model
    for url in urls:
        response = page_client(None).get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url


# ---------------------------------------------------------------------------------------------
# The four roles on a marketing product
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", API, ids=lambda r: r.pattern)
def test_every_role_gets_what_the_readme_says_on_every_api_route(
    world: dict[str, Any], route: Route
) -> None:
    failures: list[str] = []
    targets = ("published", "draft") if "product_id" in route.params else ("published",)
    for role in ROLES:
        client = api_client(world["users"][role])
        for target in targets:
            product_id = PUBLISHED if target == "published" else DRAFT
            for method in route.methods():
                verdict = expected(route, method, role, target)
                make_body = VALID_BODIES.get((route.name, method))
                body = make_body(product_id) if make_body and verdict != "allowed" else None
                url = route.url(values(product_id, world))
                response = send(client, method, url, body)
                missing_status = None
                if verdict == "hidden":
                    missing_body = make_body(MISSING) if make_body else None
                    missing_url = route.url(values(MISSING, world))
                    missing_status = send(client, method, missing_url, missing_body).status_code
                why = judge(verdict, response.status_code, missing_status, method)
                if why:
                    failures.append(f"{role} {method} {url} ({verdict}): {why}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("route", [r for r in PAGES if r.params], ids=lambda r: r.pattern)
def test_pages_hide_what_a_role_may_not_see(world: dict[str, Any], route: Route) -> None:
    failures: list[str] = []
    for role in ROLES:
        client = page_client(world["users"][role])
        for target in ("published", "draft"):
            product_id = PUBLISHED if target == "published" else DRAFT
            verdict = expected(route, "GET", role, target)
            for method in route.methods():
                url = route.url(values(product_id, world))
                status = send(client, method, url).status_code
                missing_status = send(client, method, route.url(values(MISSING, world))).status_code
                if verdict == "hidden":
                    why = judge(verdict, status, missing_status, method)
                elif status >= 500 or (method == "GET" and status in (302, 403, 404)):
                    why = f"{status} on a page the role may see"
                else:
                    why = None
                if why:
                    failures.append(f"{role} {method} {url} ({verdict}): {why}")
    assert not failures, "\n".join(failures)


def test_the_matrix_tells_hidden_from_forbidden_from_allowed(world: dict[str, Any]) -> None:
    """The verdicts the matrix reads from the views: one route of each kind, by hand."""
    by_name = {r.name: r for r in API}
    runs = by_name["quality-api:product-runs"]
    assert expected(runs, "POST", "outsider", "draft") == "hidden"
    assert expected(runs, "POST", "outsider", "published") == "forbidden"
    assert expected(runs, "POST", "member", "draft") == "forbidden"
    assert expected(runs, "POST", "owner", "draft") == "allowed"
    assert expected(runs, "GET", "member", "draft") == "allowed"
    policy = by_name["governance-api:policy-detail"]
    assert expected(policy, "PUT", "owner", "published") == "forbidden"
    assert expected(policy, "PUT", "admin", "published") == "allowed"
    settings = by_name["catalog-api:domain-settings"]
    assert expected(settings, "PATCH", "member", "published") == "forbidden"
    approve = by_name["access-api:approve"]
    assert expected(approve, "POST", "member", "published") == "hidden"
    assert expected(approve, "POST", "outsider", "published") == "hidden"
    assert expected(approve, "POST", "owner", "published") == "allowed"
    assert expected(by_name["access-api:cancel"], "POST", "admin", "published") == "forbidden"
