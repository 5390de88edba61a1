"""Hostile input against every HTTP endpoint: never a 500, never a traceback, never a leak.

Every API answer to bad input must be a 4xx with a JSON body carrying ``error``; every page
must answer < 500 without a traceback. Permission checks: an outsider never sees another
domain's drafts (search, detail, runs, quality, query, scorecard) and cannot act on them.
Anonymous callers and the four roles on every route: tests/test_permission_matrix.py.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.test import Client

from catalog.governance.services import product_deprecate
from catalog.models import DataProduct
from catalog.services import product_publish
from tests.factories import contract_document
from tests.querying.fixtures_django import build_warehouse, publish_fixture_products
from tests.support.clients import api_client, page_client
from tests.support.routes import public_routes_in_readme, routes
from tests.support.shared_catalog import module_catalog, shared_user, users_and_domains

# The whole module is "slow" (~6 minutes): CI runs it once, on PostgreSQL, which is the stricter
# database (NUL, column sizes); `bin/test` runs it everywhere by default.
# Every test here reads status codes and bodies only: templates render as in production
# (tests/conftest.py, uninstrumented_templates), ~30% faster on the admin's forms.
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.slow,
    pytest.mark.usefixtures("uninstrumented_templates"),
]

PUBLISHED = "marketing.campaign_attribution"
DRAFT = "marketing.wip"
FINANCE_DRAFT = "finance.ledger_draft"
FINANCE = "finance.revenue"
DEPRECATED = "marketing.old_clicks"


# ---------------------------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------------------------


def _build_demo() -> dict[str, Any]:
    """A small demo-like catalog: published, draft and deprecated products in two domains,
    over a real DuckDB warehouse (so queries run instead of answering 503)."""
    from datetime import timedelta

    from django.utils import timezone

    made = {}
    for product_id, status in (
        (PUBLISHED, "published"),
        (DRAFT, "draft"),
        (FINANCE, "published"),
        (FINANCE_DRAFT, "draft"),
        (DEPRECATED, "published"),
    ):
        doc = contract_document(product_id, status=status)
        made[product_id] = product_publish(actor=None, document=doc).product
    product_deprecate(
        actor=None,
        product=made[DEPRECATED],
        sunset_at=timezone.now() + timedelta(days=90),
        replaced_by=PUBLISHED,
        reason="replaced",
    )
    return made


# The catalog is built once for the module, inside a transaction that is never committed
# (tests/support/shared_catalog.py): each test runs in a savepoint of it and sees the same rows
# fresh, as if built for it alone. ~400 tests here; building it per test took ~3 minutes.
@pytest.fixture(scope="module")
def _catalog(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Any:
    path = build_warehouse(tmp_path_factory.mktemp("hostile") / "warehouse.duckdb")
    with module_catalog(
        django_db_blocker, WAREHOUSE_URL=f"duckdb:///{path}", PII_HASH_KEY="test-hash-key"
    ):
        users = users_and_domains()
        publish_fixture_products()
        made = _build_demo()
        yield {"users": {k: u.pk for k, u in users.items()}, "demo": made}


@pytest.fixture
def demo(_catalog: Any, db: Any) -> dict[str, Any]:
    return {k: DataProduct.objects.get(pk=p.pk) for k, p in _catalog["demo"].items()}


# tests/conftest.py's users, as the module's catalog made them (fresh from the database).
owner = shared_user("owner")
member = shared_user("member")
outsider = shared_user("outsider")
analyst = shared_user("analyst")
admin_user = shared_user("admin_user")


def problem(response: Any, *, api: bool = True, allow_ok: bool = True) -> str | None:
    """Why ``response`` breaks the rule, or None."""
    body = response.content.decode("utf-8", "replace") if hasattr(response, "content") else ""
    if response.status_code >= 500:
        return f"{response.status_code}: {body[:160]}"
    if "Traceback (most recent call last)" in body:
        return f"traceback in body ({response.status_code})"
    if api and response.status_code >= 400:
        try:
            parsed = json.loads(body)
        except ValueError:
            return f"{response.status_code} without a JSON body: {body[:200]}"
        if not isinstance(parsed, dict) or "error" not in parsed:
            return f"{response.status_code} without 'error': {body[:200]}"
    if not allow_ok and response.status_code < 400:
        return f"accepted hostile input ({response.status_code}): {body[:200]}"
    return None


def send(client: Any, method: str, url: str, body: Any = None, **extra: Any) -> Any:
    """Send ``body`` (bytes / str sent raw, anything else as JSON) with ``method``."""
    content_type = extra.pop("content_type", "application/json")
    if body is None:
        data: Any = b""
    elif isinstance(body, (bytes, str)):
        data = body
    else:
        data = json.dumps(body)
    return client.generic(method, url, data=data, content_type=content_type, **extra)


def deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = {"a": [value]}
    return value


HUGE = "x" * 200_000

# Every JSON value a field or a whole body should refuse (or accept) without failing.
HOSTILE_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    1.5,
    10**30,
    -(10**30),
    1e308,
    "",
    " ",
    "x",
    HUGE,
    "\u0000",
    "nul\u0000inside",
    "\ud800",
    "😀" * 50,
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "'; DROP TABLE catalog_dataproduct; --",
    "(",
    "[a-",
    "*",
    "NaN",
    "Infinity",
    "2025-13-45T99:99:99Z",
    "-999999-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    [],
    [1, 2, 3],
    [None],
    [[[]]],
    {},
    {"a": 1},
    {"": None},
    deep(50),
]

RAW_BODIES: list[tuple[bytes, str]] = [
    (b"", "application/json"),
    (b"{", "application/json"),
    (b"[1,", "application/json"),
    (b"{'single': 'quotes'}", "application/json"),
    (b'{"a": NaN}', "application/json"),
    (b'{"a": Infinity}', "application/json"),
    (b"\xff\xfe\x00garbage", "application/json"),
    (b'{"a": "\\ud800"}', "application/json"),
    (b'{"a": "\\u0000"}', "application/json"),
    (b"[" * 100_000 + b"]" * 100_000, "application/json"),
    (b'{"a":' * 5000 + b"1" + b"}" * 5000, "application/json"),
    (b"null", "application/json"),
    (b"123", "application/json"),
    (b'"string"', "application/json"),
    (b"[]", "application/json"),
    (b'{"sql": "x"}', "application/json; charset=bogus-charset"),
    (b'{"sql": "x"}', "application/json; charset=utf-16"),
    (b'{"sql": "x"}', "text/plain"),
    (b"<xml/>", "application/xml"),
    (b"a=1&b=2&a=3", "application/x-www-form-urlencoded"),
    (b"%%%=%%%&&&", "application/x-www-form-urlencoded"),
    (b"garbage", "multipart/form-data"),
    (b"--x\r\ngarbage", "multipart/form-data; boundary=x"),
    (b"garbage", "multipart/form-data; boundary="),
    (b"{}", ""),
    (b"{}", "*/*"),
    (b"{}", "application/json; charset"),
]

BAD_IDS: list[str] = [
    "nope.nothing",
    "..",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e",
    "marketing.campaign_attribution%2F..",
    "marketing.%00",
    "%00",
    "%ff%fe",
    "%ED%A0%80",  # an encoded lone surrogate
    "a" * 5000,
    "ü.ß",
    "😀.😀",
    "marketing.campaign_attribution%20",
    "marketing.campaign_attribution;drop",
    "'%20OR%201=1--",
    "%25",
    "%",
    "-1",
    "99999999999999999999999",
    "marketing.",
    ".campaign",
    "MARKETING.CAMPAIGN_ATTRIBUTION",
]

QUERY_GARBAGE: list[str] = [
    "page=-1",
    "page=0",
    "page=abc",
    "page=1e10",
    "page=99999999999999999999999",
    "page=%00",
    "page=1&page=2",
    "pageSize=abc",
    "pageSize=0",
    "pageSize=-5",
    "pageSize=100000",
    "pageSize=99999999999999999999999",
    "minQualityScore=NaN",
    "minQualityScore=nan",
    "minQualityScore=Infinity",
    "minQualityScore=-inf",
    "minQualityScore=1e309",
    "minQualityScore=abc",
    "minQualityScore=101",
    "minQualityScore=" + "9" * 400,
    "hasPii=maybe",
    "hasPii=",
    "freshness=rotten",
    "status=bogus",
    "status=,,,",
    "status=any",
    "status=draft",
    "status=draft,published,retired,deprecated",
    "status=%00",
    "q=" + "x" * 10_000,
    "q=%00",
    "q=%ff%fe",
    "q=%ED%A0%80",
    "q=%27%20OR%201%3D1--",
    "q=" + "a%20" * 500,
    "q=😀",
    "domain=%00",
    "domain=" + "d" * 5000,
    "tag=%00",
    "tag=" + "t" * 5000,
    "tag=%27",
    "owner=%00",
    "status=open",
    "status=resolved",
    "status=nonsense",
    "format=csv",
    "format=xml",
    "format=api",
    "product=%00",
    "product=../../x",
    "log=abc",
    "log=-1",
    "log=%C2%B2",  # "²": isdigit() but not an int
    "log=99999999999999999999999",
    "log=%00",
    "%00=%00",
    "&&&==&",
    "a[b][c]=d",
]


def collect(failures: list[str], label: str, response: Any, **kwargs: Any) -> None:
    why = problem(response, **kwargs)
    if why:
        failures.append(f"{label}: {why}")


# ---------------------------------------------------------------------------------------------
# The endpoint inventory
# ---------------------------------------------------------------------------------------------

# (method, url template) for every API route that needs a login, read from the URL resolver
# (a new endpoint is in every test below the day it is added); {id} is a product id, {slug} a
# domain, {key} a policy key, {pk} a saved query's id (or an access request's, issue 17).
PLACEHOLDERS = {
    "product_id": "{id}",
    "slug": "{slug}",
    "key": "{key}",
    "pk": "{pk}",
    "request_id": "{pk}",
}
API_ROUTES: list[tuple[str, str]] = [
    (method, route.url(PLACEHOLDERS))
    for route in routes()
    if route.is_api and route.pattern not in public_routes_in_readme()
    for method in route.methods()
]
assert ("PUT", "/v1/catalog/products/{id}") in API_ROUTES, API_ROUTES

WRITE_ROUTES = [(m, u) for m, u in API_ROUTES if m in ("POST", "PUT", "PATCH")]
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "BREW"]


def fill(
    url: str, product_id: str = PUBLISHED, slug: str = "marketing", key: str = "x", pk: str = "1"
) -> str:
    filled = url.replace("{id}", product_id).replace("{slug}", slug).replace("{key}", key)
    return filled.replace("{pk}", pk)


def first_policy_key() -> str:
    from catalog.governance.selectors import policy_catalog

    return str(policy_catalog()[0]["key"])


# ---------------------------------------------------------------------------------------------
# Methods (anonymous callers and every role: tests/test_permission_matrix.py)
# ---------------------------------------------------------------------------------------------


def test_the_contract_schema_is_public(db: Any) -> None:
    response = api_client(None).get("/v1/contracts/schema.json")
    assert response.status_code == 200
    assert problem(send(api_client(None), "POST", "/v1/contracts/schema.json", {})) is None


@pytest.mark.parametrize("url", sorted({u for _, u in API_ROUTES} | {"/v1/contracts/schema.json"}))
def test_every_method_on_every_api_url_is_never_a_500(demo: Any, owner: Any, url: str) -> None:
    failures: list[str] = []
    for method in ALL_METHODS:
        response = send(api_client(owner), method, fill(url), {})
        collect(failures, method, response, api=method != "HEAD")
    assert not failures, "\n".join(failures[:60])


# ---------------------------------------------------------------------------------------------
# Bodies: wrong JSON types, malformed JSON, wrong content types
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "url"), WRITE_ROUTES)
def test_raw_and_malformed_bodies_are_4xx(
    demo: Any, owner: Any, admin_user: Any, method: str, url: str
) -> None:
    user = admin_user if "policies" in url else owner
    target = fill(url, key=first_policy_key())
    failures: list[str] = []
    for raw, content_type in RAW_BODIES:
        response = send(api_client(user), method, target, raw, content_type=content_type)
        collect(failures, f"{raw[:30]!r} as {content_type!r}", response)
    assert not failures, "\n".join(failures[:60])


@pytest.mark.parametrize(("method", "url"), WRITE_ROUTES)
def test_whole_body_of_the_wrong_type_is_4xx(
    demo: Any, owner: Any, admin_user: Any, method: str, url: str
) -> None:
    user = admin_user if "policies" in url else owner
    target = fill(url, key=first_policy_key())
    failures: list[str] = []
    for value in HOSTILE_VALUES:
        if isinstance(value, dict) and value:
            continue  # a dict may be a legitimate (if odd) object body
        response = send(api_client(user), method, target, json.dumps(value))
        collect(failures, f"{str(value)[:30]!r}", response)
    assert not failures, "\n".join(failures[:60])


FIELD_BODIES: dict[str, dict[str, Any]] = {
    "/v1/catalog/products/{id}/consumers": {
        "team": "Growth",
        "useCase": "dashboards",
        "contact": "growth@example.com",
    },
    "/v1/governance/products/{id}/deprecate": {
        "sunsetAt": "2030-01-01T00:00:00Z",
        "replacedBy": FINANCE,
        "reason": "old",
    },
    "/v1/governance/policies/{key}": {"severity": "warning", "params": {}},
    "/v1/query": {"sql": "SELECT 1"},
    "/v1/query.csv": {"sql": "SELECT 1"},
}


@pytest.mark.parametrize("url", sorted(FIELD_BODIES))
def test_every_field_of_the_wrong_type_is_4xx_or_handled(
    demo: Any, owner: Any, admin_user: Any, url: str
) -> None:
    user = admin_user if "policies" in url else owner
    base = FIELD_BODIES[url]
    method = "PUT" if "policies" in url else "POST"
    failures: list[str] = []
    for field in [*base, "unknownField"]:
        for value in HOSTILE_VALUES:
            body = copy.deepcopy(base)
            body[field] = value
            # Deprecate a fresh published product each time so earlier successes don't matter.
            target = fill(url, product_id=FINANCE, key=first_policy_key())
            response = send(api_client(user), method, target, body)
            collect(failures, f"{field}={str(value)[:30]!r}", response)
    assert not failures, "\n".join(failures[:60])


def test_policy_params_of_every_shape_never_500(demo: Any, admin_user: Any) -> None:
    from catalog.governance.selectors import policy_catalog

    failures: list[str] = []
    for policy in policy_catalog():
        key = policy["key"]
        param_names = list((policy.get("params") or {}).keys()) or ["anything"]
        for name in param_names:
            for value in HOSTILE_VALUES:
                for severity in ("error", "warning", "off"):
                    body = {"severity": severity, "params": {name: value}}
                    response = send(
                        api_client(admin_user), "PUT", f"/v1/governance/policies/{key}", body
                    )
                    collect(failures, f"{key}.{name}={str(value)[:30]!r}", response)
                    break
        # and the pages must still render with whatever was stored
        collect(failures, f"{key} page", page_client(admin_user).get("/governance/"), api=False)
        for url in ("/v1/governance/scorecard", "/v1/governance/domains/marketing/scorecard"):
            collect(failures, f"{key} {url}", api_client(admin_user).get(url))
    assert not failures, "\n".join(failures[:60])


def test_policy_key_garbage(demo: Any, admin_user: Any, owner: Any) -> None:
    failures: list[str] = []
    for key in BAD_IDS:
        for user in (admin_user, owner):
            response = send(
                api_client(user),
                "PUT",
                f"/v1/governance/policies/{key}",
                {"severity": "warning"},
            )
            collect(failures, key[:30], response)
            if response.status_code < 500:
                assert response.status_code >= 400, (key, response.content)
    assert not failures, "\n".join(failures[:60])


# ---------------------------------------------------------------------------------------------
# Contract PUT: every field of the contract document, wrong
# ---------------------------------------------------------------------------------------------


def mutations(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for key in [*doc.keys(), "unknownKey", "deprecation", "table", "apiVersion", "kind"]:
        for value in HOSTILE_VALUES:
            changed = copy.deepcopy(doc)
            changed[key] = value
            out.append((f"{key}={str(value)[:30]!r}", changed))
    for section in ("owner", "sla"):
        for key in [*doc[section].keys(), "extra"]:
            for value in HOSTILE_VALUES:
                changed = copy.deepcopy(doc)
                changed[section][key] = value
                out.append((f"{section}.{key}={str(value)[:30]!r}", changed))
    for section in ("schema", "qualityChecks"):
        for key in [*doc[section][0].keys(), "params", "mask", "extra"]:
            for value in HOSTILE_VALUES:
                changed = copy.deepcopy(doc)
                changed[section][0][key] = value
                out.append((f"{section}[0].{key}={str(value)[:30]!r}", changed))
        for value in HOSTILE_VALUES:
            changed = copy.deepcopy(doc)
            changed[section] = [value]
            out.append((f"{section}=[{str(value)[:30]!r}]", changed))
    for check_type in ("not_null", "unique", "freshness", "row_count", "custom_sql", "range", "x"):
        for params in HOSTILE_VALUES:
            changed = copy.deepcopy(doc)
            changed["qualityChecks"] = [
                {
                    "name": "c",
                    "type": check_type,
                    "column": "campaign_id",
                    "severity": "error",
                    "params": params if isinstance(params, dict) else {"sql": params},
                }
            ]
            out.append((f"check {check_type} params={str(params)[:30]!r}", changed))
    many = copy.deepcopy(doc)
    many["schema"] = many["schema"] * 2000
    out.append(("schema x2000 duplicates", many))
    return out


def test_contract_put_with_every_field_wrong_is_never_a_500(demo: Any, owner: Any) -> None:
    base = contract_document("marketing.hostile")
    failures: list[str] = []
    client = api_client(owner)
    for label, doc in mutations(base):
        response = send(client, "PUT", "/v1/catalog/products/marketing.hostile", doc)
        collect(failures, label, response)
    assert not failures, "\n".join(failures[:60])


def test_odcs_documents_with_garbage_are_never_a_500(demo: Any, owner: Any) -> None:
    import yaml

    from tests.factories import FIXTURES

    base = yaml.safe_load((FIXTURES / "foreign_orders.odcs.yaml").read_text())
    product_id = f"{base.get('domain', 'x')}.{base.get('dataProduct', 'x')}"
    failures: list[str] = []
    client = api_client(owner)

    def walk(node: Any, path: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        paths = [path]
        if isinstance(node, dict):
            for k, v in node.items():
                paths += walk(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node[:2]):
                paths += walk(v, (*path, i))
        return paths

    for path in walk(base, ())[1:]:
        values: tuple[object, ...] = (None, [], {}, 1, "x", HUGE, "\u0000", True, [None], {"": {}})
        for value in values:
            doc = copy.deepcopy(base)
            node = doc
            for step in path[:-1]:
                node = node[step]
            node[path[-1]] = value
            response = send(client, "PUT", f"/v1/catalog/products/{product_id}", doc)
            collect(failures, f"{path}={str(value)[:20]!r}", response)
    assert not failures, "\n".join(failures[:60])


# ---------------------------------------------------------------------------------------------
# URL ids and query strings
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "url"), API_ROUTES)
def test_garbage_ids_in_urls_are_4xx(
    demo: Any, owner: Any, admin_user: Any, method: str, url: str
) -> None:
    if "{" not in url:
        pytest.skip("no id in this url")
    failures: list[str] = []
    for bad in BAD_IDS:
        for user in (owner, admin_user):
            target = fill(url, product_id=bad, slug=bad, key=bad, pk=bad)
            body: Any = {"sunsetAt": "2030-01-01T00:00:00Z", "reason": "r"}
            if "consumers" in url:
                body = FIELD_BODIES["/v1/catalog/products/{id}/consumers"]
            if url == "/v1/catalog/products/{id}" and method == "PUT":
                body = contract_document("marketing.valid")
            response = send(api_client(user), method, target, body)
            collect(failures, f"{bad[:40]} as {user.username}", response)
            if response.status_code < 500:
                assert response.status_code >= 400 or "policies" in url, (bad, response.content)
    assert not failures, "\n".join(failures[:60])


GET_API = [u for m, u in API_ROUTES if m == "GET"]


@pytest.mark.parametrize("url", GET_API)
def test_query_string_garbage_on_every_get_is_never_a_500(
    demo: Any, owner: Any, analyst: Any, url: str
) -> None:
    failures: list[str] = []
    for qs in QUERY_GARBAGE:
        for user in (owner, analyst):
            response = api_client(user).get(f"{fill(url)}?{qs}")
            collect(failures, f"{qs[:40]} as {user.username}", response)
    assert not failures, "\n".join(failures[:60])


@pytest.mark.parametrize(
    "qs",
    [
        "page=-1",
        "page=0",
        "page=abc",
        "pageSize=abc",
        "pageSize=0",
        "minQualityScore=NaN",
        "minQualityScore=abc",
        "minQualityScore=Infinity",
        "hasPii=maybe",
        "freshness=rotten",
        "status=bogus",
    ],
)
def test_search_rejects_bad_filters_with_400_naming_the_field(
    demo: Any, analyst: Any, qs: str
) -> None:
    response = api_client(analyst).get(f"/v1/catalog/search?{qs}")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"]["code"] == "INVALID"
    assert qs.split("=")[0] in body["error"]["fields"]


@pytest.mark.parametrize(
    ("path", "qs"),
    [
        ("/v1/quality/products/marketing.campaign_attribution/runs", "page=-1"),
        ("/v1/quality/products/marketing.campaign_attribution/runs", "page=abc"),
        ("/v1/quality/products/marketing.campaign_attribution/runs", "page=99999"),
        ("/v1/quality/incidents", "page=0"),
        ("/v1/quality/incidents", "status=nonsense"),
    ],
)
def test_quality_pagination_garbage_is_4xx_json(
    demo: Any, analyst: Any, path: str, qs: str
) -> None:
    response = api_client(analyst).get(f"{path}?{qs}")
    assert 400 <= response.status_code < 500, response.content
    assert "error" in response.json()


# ---------------------------------------------------------------------------------------------
# HTML pages
# ---------------------------------------------------------------------------------------------

PAGES = [
    "/",
    "/search/",
    "/domains/marketing/",
    "/domains/finance/",
    f"/products/{PUBLISHED}/",
    f"/products/{DRAFT}/",
    f"/products/{DEPRECATED}/",
    f"/products/{PUBLISHED}/consumers/",
    "/query/",
    "/query/download.csv",
    "/governance/",
    "/governance/domains/marketing/",
    "/accounts/login/",
    "/accounts/logout/",
    "/admin/",
    "/admin/catalog/",
    "/admin/catalog/dataproduct/",
    "/admin/catalog/domain/",
    "/admin/accounts/user/",
    "/v1/docs/",
    "/v1/schema/",
]


@pytest.mark.parametrize("path", PAGES)
def test_pages_with_garbage_query_strings_and_methods(
    demo: Any, owner: Any, admin_user: Any, analyst: Any, path: str
) -> None:
    failures: list[str] = []
    for user in (None, owner, admin_user, analyst):
        client = page_client(user)
        for qs in QUERY_GARBAGE:
            response = client.get(f"{path}?{qs}")
            collect(failures, f"GET ?{qs[:40]} as {user}", response, api=False)
        for method in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS", "BREW"):
            response = send(
                client, method, path, b"a=1", content_type="application/x-www-form-urlencoded"
            )
            collect(failures, f"{method} as {user}", response, api=False)
    assert not failures, "\n".join(failures[:60])


PAGE_POSTS: dict[str, list[dict[str, Any]]] = {
    f"/products/{PUBLISHED}/consumers/": [
        {},
        {"team": "", "use_case": "", "contact": ""},
        {"team": "x" * 10_000, "use_case": "u", "contact": "a@b.co"},
        {"team": "\u0000", "use_case": "\u0000", "contact": "a@b.co"},
        {"team": "t", "use_case": "u", "contact": "not-an-email"},
        {"team": ["a", "b"], "use_case": "u", "contact": "a@b.co"},
        {"team": "T", "use_case": "u", "contact": "a@b.co"},
    ],
    "/query/": [
        {},
        {"sql": ""},
        {"sql": "x" * 200_000},
        {"sql": "\u0000"},
        {"sql": "SELECT * FROM " + FINANCE_DRAFT},
        {"sql": "SELECT * FROM marketing.campaign_attribution"},
        {"sql": "DROP TABLE x"},
        {"sql": ["SELECT 1", "SELECT 2"]},
        {"sql": "SELECT 1; SELECT 2"},
        {"sql": "SELECT '" + "'" * 1000},
    ],
    "/query/download.csv": [
        {},
        {"sql": ""},
        {"sql": "x" * 200_000},
        {"sql": "\u0000"},
        {"sql": "SELECT * FROM " + FINANCE_DRAFT},
        {"sql": "SELECT 1"},
        {"sql": "DROP TABLE x"},
    ],
}


@pytest.mark.parametrize("path", sorted(PAGE_POSTS))
def test_page_posts_with_garbage_bodies(demo: Any, owner: Any, analyst: Any, path: str) -> None:
    failures: list[str] = []
    for user in (owner, analyst):
        client = page_client(user)
        for body in PAGE_POSTS[path]:
            response = client.post(path, body)
            collect(failures, f"{str(body)[:40]} as {user.username}", response, api=False)
        for raw, content_type in RAW_BODIES:
            response = send(client, "POST", path, raw, content_type=content_type)
            collect(failures, f"raw {raw[:20]!r} {content_type}", response, api=False)
    assert not failures, "\n".join(failures[:60])


@pytest.mark.parametrize("bad", BAD_IDS)
def test_pages_with_garbage_ids(demo: Any, owner: Any, bad: str) -> None:
    client = page_client(owner)
    failures: list[str] = []
    for path in (
        f"/products/{bad}/",
        f"/domains/{bad}/",
        f"/governance/domains/{bad}/",
        f"/admin/catalog/dataproduct/{bad}/change/",
        f"/admin/catalog/domain/{bad}/change/",
    ):
        collect(failures, path[:60], client.get(path), api=False)
    collect(failures, "consumer post", client.post(f"/products/{bad}/consumers/", {}), api=False)
    assert not failures, "\n".join(failures[:60])


def test_admin_changelists_with_garbage_filters(demo: Any, admin_user: Any) -> None:
    client = page_client(admin_user)
    failures: list[str] = []
    from django.contrib import admin

    for model in admin.site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for qs in (
            "o=99",
            "o=abc",
            "o=-1.-2",
            "p=-1",
            "p=abc",
            "q=%00",
            "q=" + "x" * 5000,
            "nonexistent_field=1",
            "status__exact=%00",
            "id__gt=abc",
            "_to_field=password",
            "e=1",
            "all=",
        ):
            collect(failures, f"{base}?{qs}", client.get(f"{base}?{qs}"), api=False)
        collect(failures, f"{base}add/", client.get(f"{base}add/"), api=False)
        collect(failures, f"{base}add/ POST", client.post(f"{base}add/", {}), api=False)
        collect(failures, f"{base}abc/change/", client.get(f"{base}abc/change/"), api=False)
        collect(
            failures,
            f"{base} bulk action",
            client.post(base, {"action": "nope", "_selected_action": ["abc", "-1"]}),
            api=False,
        )
    assert not failures, "\n".join(failures[:60])


# ---------------------------------------------------------------------------------------------
# Permissions
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("draft", [DRAFT, "marketing.draft_attribution"])
def test_outsider_cannot_see_another_domains_drafts_anywhere(
    demo: Any, outsider: Any, draft: str
) -> None:
    """Drafts of marketing are invisible to finance's owner on every read path."""
    # Pages first: the query page lists the caller's own past queries, which would echo the
    # outsider's own SQL text back after the API calls below.
    pages = page_client(outsider)
    assert pages.get(f"/products/{draft}/").status_code == 404
    for path in (
        "/",
        f"/search/?status=any&q={draft.split('.')[1]}",
        "/search/?status=draft",
        "/domains/marketing/",
        "/governance/",
        "/governance/domains/marketing/",
        "/query/",
        f"/query/?product={draft}",
    ):
        response: Any = pages.get(path)  # then API responses below
        assert response.status_code == 200, path
        assert draft not in response.content.decode(), path

    client = api_client(outsider)
    for qs in ("status=draft", "status=any", "q=wip", "q=draft", "status=draft&domain=marketing"):
        body = client.get(f"/v1/catalog/search?{qs}").json()
        assert draft not in [p["id"] for p in body["products"]], qs
    for url in (
        f"/v1/catalog/products/{draft}",
        f"/v1/quality/products/{draft}/runs",
        f"/v1/quality/products/{draft}",
    ):
        response = client.get(url)
        assert response.status_code == 404, (url, response.content)
        # The same answer as for an id that does not exist (the write-up's body on GET
        # /v1/catalog/products/<id>, the one error shape elsewhere).
        body = response.json()
        assert body == {"error": "Not found"} or body["error"]["code"] == "NOT_FOUND", body
    for url in (
        "/v1/governance/scorecard",
        "/v1/governance/domains/marketing/scorecard",
        "/v1/catalog/domains",
        "/v1/quality/incidents",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert draft not in response.content.decode(), url
    for sql in (f"SELECT * FROM {draft}", f"SELECT count(*) FROM {draft.replace('.', '_')}"):
        for url in ("/v1/query", "/v1/query.csv"):
            response = client.post(url, {"sql": sql}, format="json")
            assert 400 <= response.status_code < 500, (sql, response.content)
            assert "error" in response.json()
            assert "rows" not in response.json()
        response = pages.post("/query/", {"sql": sql})
        assert 400 <= response.status_code < 500, sql
        assert "user-000" not in response.content.decode()
        response = pages.post("/query/download.csv", {"sql": sql})
        assert 400 <= response.status_code < 500, sql
        assert "user-000" not in response.content.decode()


def test_outsider_cannot_act_on_another_domain(demo: Any, outsider: Any) -> None:
    client = api_client(outsider)
    before = DataProduct.objects.get(product_id=PUBLISHED)
    response = client.post(f"/v1/quality/products/{PUBLISHED}/runs")
    assert response.status_code == 403, response.content
    response = client.post(
        f"/v1/governance/products/{PUBLISHED}/deprecate",
        {"sunsetAt": "2030-01-01T00:00:00Z", "reason": "mine now"},
        format="json",
    )
    assert response.status_code == 403, response.content
    response = client.post(f"/v1/governance/products/{DEPRECATED}/retire")
    assert response.status_code == 403, response.content
    doc = contract_document(PUBLISHED, description="hijacked")
    response = client.put(f"/v1/catalog/products/{PUBLISHED}", doc, format="json")
    assert response.status_code == 403, response.content
    response = client.put(
        "/v1/catalog/products/marketing.new_one",
        contract_document("marketing.new_one"),
        format="json",
    )
    assert response.status_code == 403, response.content
    # Drafts are invisible: 404, not 403 (no existence leak).
    for url in (f"/v1/quality/products/{DRAFT}/runs", f"/v1/governance/products/{DRAFT}/retire"):
        assert client.post(url).status_code == 404, url
    response = client.put(
        "/v1/governance/policies/" + first_policy_key(), {"severity": "off"}, format="json"
    )
    assert response.status_code == 403
    after = DataProduct.objects.get(product_id=PUBLISHED)
    assert (after.status, after.version, after.description) == (
        before.status,
        before.version,
        before.description,
    )
    assert not DataProduct.objects.filter(product_id="marketing.new_one").exists()


def test_member_who_is_not_owner_cannot_publish_or_deprecate(demo: Any, member: Any) -> None:
    client = api_client(member)
    doc = contract_document(PUBLISHED, description="changed by member")
    assert client.put(f"/v1/catalog/products/{PUBLISHED}", doc, format="json").status_code == 403
    response = client.post(
        f"/v1/governance/products/{PUBLISHED}/deprecate",
        {"sunsetAt": "2030-01-01T00:00:00Z", "reason": "r"},
        format="json",
    )
    assert response.status_code == 403


def test_url_id_with_a_body_for_another_domain_is_refused(demo: Any, owner: Any) -> None:
    """An owner of marketing may not publish a finance contract under a marketing URL."""
    client = api_client(owner)
    response = client.put(
        f"/v1/catalog/products/{PUBLISHED}", contract_document(FINANCE), format="json"
    )
    assert response.status_code in (400, 403)
    response = client.put(
        f"/v1/catalog/products/{FINANCE}", contract_document(FINANCE), format="json"
    )
    assert response.status_code == 403


def test_url_id_in_a_publish_must_match_even_for_an_owner_of_both(
    demo: Any, admin_user: Any
) -> None:
    response = api_client(admin_user).put(
        f"/v1/catalog/products/{PUBLISHED}", contract_document(FINANCE), format="json"
    )
    assert response.status_code == 400
    assert "id" in response.json()["error"]["fields"]


def test_oversized_bodies_are_refused_not_crashed(demo: Any, owner: Any) -> None:
    big = json.dumps({"sql": "x" * 3_000_000})
    failures: list[str] = []
    for method, url in WRITE_ROUTES:
        response = send(api_client(owner), method, fill(url, key="x"), big)
        collect(failures, url, response)
    doc = contract_document("marketing.big", description="d" * 3_000_000)
    response = send(api_client(owner), "PUT", "/v1/catalog/products/marketing.big", doc)
    collect(failures, "contract 3MB", response)
    assert response.status_code >= 400
    many_fields = "&".join(f"f{i}=1" for i in range(5000))
    for path in ("/query/", f"/products/{PUBLISHED}/consumers/", "/v1/query"):
        response = send(
            page_client(owner),
            "POST",
            path,
            many_fields,
            content_type="application/x-www-form-urlencoded",
        )
        collect(failures, f"{path} 5000 fields", response, api=path.startswith("/v1/"))
    assert not failures, "\n".join(failures)
    assert not DataProduct.objects.filter(product_id="marketing.big").exists()


# ---------------------------------------------------------------------------------------------
# Regression tests, one per fixed 500
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 5000 + b"1" + b"}" * 5000, b"[" * 70 + b"]" * 70],
)
def test_regression_deeply_nested_json_is_a_400_not_a_500(
    demo: Any, owner: Any, raw: bytes
) -> None:
    """json.load raised RecursionError (not ValueError), which DRF's parser let through."""
    for url in (
        "/v1/query",
        f"/v1/catalog/products/{PUBLISHED}",
        f"/v1/catalog/products/{PUBLISHED}/consumers",
    ):
        method = "PUT" if url.endswith(PUBLISHED) else "POST"
        response = send(api_client(owner), method, url, raw)
        assert response.status_code == 400, (url, response.content)
        assert "nested deeper" in response.json()["error"]["message"]


def test_regression_ordinary_nesting_still_parses(demo: Any, owner: Any) -> None:
    body = {"sql": "SELECT 1", "extra": deep(20)}
    response = api_client(owner).post("/v1/query", body, format="json")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("PUT", f"/v1/catalog/products/{PUBLISHED}", contract_document(PUBLISHED, name="\ud800")),
        ("POST", "/v1/query", {"sql": "SELECT '\ud800'"}),
        ("POST", "/v1/query.csv", {"sql": "\udfff"}),
        ("PUT", "/v1/governance/policies/naming.product_id", {"severity": "\ud800"}),
        (
            "POST",
            f"/v1/catalog/products/{PUBLISHED}/consumers",
            {"team": "t", "useCase": "\ud800", "contact": "a@b.co"},
        ),
        ("POST", f"/v1/governance/products/{FINANCE}/deprecate", {"\ud800": 1}),
    ],
)
def test_regression_lone_surrogates_are_a_400_not_a_500(
    demo: Any, admin_user: Any, method: str, url: str, body: Any
) -> None:
    """ "\\ud800" is valid JSON but unencodable: storing or echoing it raised UnicodeEncodeError."""
    response = send(api_client(admin_user), method, url, body)
    assert response.status_code == 400, response.content
    assert "surrogate" in response.json()["error"]["message"]
    assert DataProduct.objects.get(product_id=PUBLISHED).name == "Campaign Attribution"


@pytest.mark.parametrize("version", [10**30, 2_147_483_648, 1e308])
def test_regression_huge_contract_version_is_a_400_naming_the_field(
    demo: Any, owner: Any, version: Any
) -> None:
    """A version past the 32-bit column overflowed the database on save."""
    doc = contract_document("marketing.huge_version", version=version)
    response = send(api_client(owner), "PUT", "/v1/catalog/products/marketing.huge_version", doc)
    assert response.status_code == 400, response.content
    assert "version" in response.json()["error"]["fields"]
    assert not DataProduct.objects.filter(product_id="marketing.huge_version").exists()


def test_regression_largest_version_still_publishes(demo: Any, owner: Any) -> None:
    doc = contract_document("marketing.max_version", version=2_147_483_647)
    response = send(api_client(owner), "PUT", "/v1/catalog/products/marketing.max_version", doc)
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("log", ["²", "١٢", "99999999999999999999999", "-1", "1.0", "abc"])
def test_regression_query_page_log_parameter_garbage(demo: Any, owner: Any, log: str) -> None:
    """``?log=²`` passed str.isdigit() and then int() raised ValueError."""
    response = page_client(owner).get("/query/", {"log": log})
    assert response.status_code == 200


def test_regression_query_page_log_still_reloads_own_query(demo: Any, owner: Any) -> None:
    from querying.models import QueryLog

    api_client(owner).post("/v1/query", {"sql": "SELECT 42 AS answer"}, format="json")
    entry = QueryLog.objects.filter(user=owner).latest("pk")
    response = page_client(owner).get("/query/", {"log": str(entry.pk)})
    assert "SELECT 42 AS answer" in response.content.decode()


def test_regression_options_on_the_swagger_page_is_not_a_500(db: Any, owner: Any) -> None:
    """OPTIONS rendered metadata through the Swagger template renderer (TemplateDoesNotExist)."""
    for user in (None, owner):
        response = page_client(user).options("/v1/docs/")
        assert response.status_code < 500
    assert page_client(owner).get("/v1/docs/").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/v1/nothing-here",
        "/v1/catalog/products/a/b/c",
        "/v1/catalog/products/..%2F..%2Fetc%2Fpasswd",
        "/v1/governance/domains/not.a.slug/scorecard",
        "/v1/governance/policies/a/b",
    ],
)
def test_regression_unknown_api_paths_are_json_404s(db: Any, owner: Any, path: str) -> None:
    """No route matched, so Django's HTML 404 page answered an API client."""
    response = api_client(owner).get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "NOT_FOUND"
    # Pages keep the HTML page.
    page = page_client(owner).get("/no-such-page/x/y")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")


def test_regression_api_server_errors_outside_views_are_json(db: Any, rf: Any) -> None:
    from config.api import server_error

    response = server_error(rf.get("/v1/query"))
    assert response.status_code == 500
    assert json.loads(response.content)["error"]["code"] == "INTERNAL"
    assert server_error(rf.get("/query/"))["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("url", ["/v1/query", f"/v1/catalog/products/{PUBLISHED}/consumers"])
def test_regression_too_many_form_fields_is_a_400_not_a_500(
    demo: Any, owner: Any, url: str
) -> None:
    """DRF's FormParser raised Django's TooManyFieldsSent, which DRF's handler does not map."""
    body = "&".join(f"f{i}=1" for i in range(5000))
    response = send(
        api_client(owner), "POST", url, body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "INVALID"


# ---------------------------------------------------------------------------------------------
# Admin forms: every posted field, wrong
# ---------------------------------------------------------------------------------------------


def form_fields(html: str) -> dict[str, list[str]]:
    """The named inputs, selects and textareas of the page's main form, with their values."""
    from html.parser import HTMLParser

    fields: dict[str, list[str]] = {}

    class Parser(HTMLParser):
        current: str | None = None
        select: str | None = None
        text: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            name = a.get("name")
            if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
                if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                    return
                fields.setdefault(name, []).append(a.get("value") or "")
            elif tag == "textarea" and name:
                self.current, self.text = name, []
            elif tag == "select" and name:
                self.select = name
            elif tag == "option" and self.select and "selected" in a:
                fields.setdefault(self.select, []).append(a.get("value") or "")

        def handle_data(self, data: str) -> None:
            if self.current:
                self.text.append(data)

        def handle_endtag(self, tag: str) -> None:
            if tag == "textarea" and self.current:
                fields.setdefault(self.current, []).append("".join(self.text).lstrip("\n"))
                self.current = None
            elif tag == "select":
                self.select = None

    Parser().feed(html)
    fields.pop("csrfmiddlewaretoken", None)
    return fields


ADMIN_GARBAGE = [
    "",
    "-1",
    "99999999999999999999999",
    "NaN",
    "\u0000",
    "x" * 70_000,
    "[]",
    "{",
    '{"a": {"b": [1, {"c": null}]}}',
    "null",
    "(",
]


def admin_garbage_for(url: str, index: int) -> list[str]:
    """The wrong values the ``index``-th field of a page gets: the empty value, NUL and an
    unclosed brace on every field, and the others in turn (four a field; one on the product
    forms, whose every answer renders ~250 widgets and which have more fields than there are
    other values), so every value reaches every page."""
    common = ["", "\u0000", "{"]
    rest = [v for v in ADMIN_GARBAGE if v not in common]
    share = 1 if "dataproduct" in url else 4
    start = (index * share) % len(rest)
    return common + (rest + rest)[start : start + share]


@pytest.mark.slow  # ~1 minute: CI runs it once, on PostgreSQL (.ci/run)
def test_admin_forms_with_every_field_wrong_never_500(
    demo: Any, owner: Any, admin_user: Any
) -> None:
    from catalog.models import Consumer, Domain, GovernancePolicy
    from tests.factories import UserFactory

    Consumer.objects.get_or_create(
        product=demo[PUBLISHED], team="T", defaults={"use_case": "u", "contact": "a@b.co"}
    )
    GovernancePolicy.objects.all()  # rows appear once the catalog is read
    from catalog.governance.selectors import policy_catalog

    policy_catalog()
    pages = [
        (owner, f"/admin/catalog/dataproduct/{demo[PUBLISHED].pk}/change/"),
        (owner, "/admin/catalog/dataproduct/add/"),
        (admin_user, f"/admin/catalog/domain/{Domain.objects.get(slug='marketing').pk}/change/"),
        (owner, f"/admin/catalog/consumer/{Consumer.objects.first().pk}/change/"),
    ]
    policy = GovernancePolicy.objects.first()
    if policy is not None:
        pages.append((admin_user, f"/admin/catalog/governancepolicy/{policy.pk}/change/"))
    pages.append(
        (admin_user, f"/admin/accounts/user/{UserFactory.create(username='victim').pk}/change/")
    )
    failures: list[str] = []
    before = {p.product_id: (p.version, p.status, p.name) for p in DataProduct.objects.all()}
    for user, url in pages:
        client = page_client(user)
        page = client.get(url)
        if page.status_code != 200:
            failures.append(f"{url}: GET {page.status_code}")
            continue
        fields = form_fields(page.content.decode())
        # Inline rows repeat the same fields: the first row (and the management form) is enough.
        import re

        names = [n for n in fields if not re.search(r"-[1-9]\d*-", n) and "__prefix__" not in n]
        sent = {v for index in range(len(names)) for v in admin_garbage_for(url, index)}
        assert sent == set(ADMIN_GARBAGE), f"{url}: {set(ADMIN_GARBAGE) - sent} never sent"
        for index, name in enumerate(names):
            for value in admin_garbage_for(url, index):
                data = {k: list(v) for k, v in fields.items()}
                data[name] = [value]
                response = client.post(url, data)
                collect(failures, f"{url} {name}={value[:20]!r}", response, api=False)
    assert not failures, "\n".join(failures[:60])
    # An owner's failed admin edits leave other domains' products alone.
    after = {p.product_id: (p.version, p.status, p.name) for p in DataProduct.objects.all()}
    for product_id in (FINANCE, FINANCE_DRAFT):
        assert after[product_id] == before[product_id]


@pytest.mark.parametrize("value", ["", "null"])
def test_regression_admin_blank_json_fields_are_form_errors_not_500(
    demo: Any, admin_user: Any, value: str
) -> None:
    """A blank (or "null") JSON field became None and hit the NOT NULL column on save."""
    from catalog.governance.selectors import policy_catalog
    from catalog.models import Domain, GovernancePolicy

    policy_catalog()
    client = page_client(admin_user)
    domain = Domain.objects.get(slug="marketing")
    fields = form_fields(client.get(f"/admin/catalog/domain/{domain.pk}/change/").content.decode())
    fields["policy_overrides"] = [value]
    response = client.post(f"/admin/catalog/domain/{domain.pk}/change/", fields)
    assert response.status_code == 302, response.content[:500]
    domain.refresh_from_db()
    assert domain.policy_overrides == []

    policy = GovernancePolicy.objects.first()
    url = f"/admin/catalog/governancepolicy/{policy.pk}/change/"
    fields = form_fields(client.get(url).content.decode())
    fields["params"] = [value]
    response = client.post(url, fields)
    assert response.status_code in (200, 302), response.content[:500]
    policy.refresh_from_db()
    assert policy.params is not None


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        (
            "PUT",
            "/v1/governance/policies/naming.product_id",
            {"severity": "error", "params": {"pattern": "\x00"}},
        ),
        ("POST", "/v1/query", {"sql": "SELECT 1\x00"}),
        (
            "POST",
            f"/v1/catalog/products/{PUBLISHED}/consumers",
            {"team": "t\x00", "useCase": "u", "contact": "a@b.co"},
        ),
    ],
)
def test_regression_nul_in_json_strings_is_a_400_on_every_database(
    demo: Any, admin_user: Any, method: str, url: str, body: Any
) -> None:
    """PostgreSQL cannot store NUL in text or JSON: it raised DataError (a 500) there only."""
    response = send(api_client(admin_user), method, url, body)
    assert response.status_code == 400, response.content
    assert "NUL" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "path",
    [
        f"/v1/catalog/products/{PUBLISHED}%00",
        "/v1/catalog/search?q=a%00b",
        "/v1/catalog/search?domain=%00",
        "/search/?q=%00",
        "/products/x%00/",
    ],
)
def test_regression_nul_in_paths_and_query_strings_is_a_400(
    demo: Any, admin_user: Any, path: str
) -> None:
    client = Client()
    client.force_login(admin_user)
    response = client.get(path)
    assert response.status_code == 400
    assert b"NUL" in response.content and b"Traceback" not in response.content


def test_regression_nul_in_form_fields_is_a_400(demo: Any, admin_user: Any) -> None:
    client = Client()
    client.force_login(admin_user)
    response = client.post("/query/", {"sql": "SELECT 1\x00"})
    assert response.status_code == 400
