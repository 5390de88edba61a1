"""Saved and shared queries over the API (issue 19), on DuckDB and on PostgreSQL.

A saved query runs with the permissions of whoever runs it: the author's rights are never
borrowed. The cast (tests/conftest.py): ``owner`` owns marketing, ``member`` is on its team
(both read its PII raw), ``analyst`` has no team, ``outsider`` owns finance, ``admin_user`` is
a platform admin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from catalog.models import DataProduct
from querying.models import QueryLog, SavedQuery
from tests.querying.fixtures_django import (
    ATTRIBUTION_COLUMNS,
    ATTRIBUTION_ROWS,
    ENGINES,
    PRODUCTS,
    publish,
    read_only_warehouses,
)

pytestmark = pytest.mark.django_db

SQL = (
    "SELECT attribution_id, user_id, channel, revenue_cents FROM marketing.campaign_attribution "
    "ORDER BY attribution_id"
)
RAW_USER = "user-00012345"
MASKED_USER = "***2345"
CHART = {"type": "bar", "x": "channel", "y": ["revenue_cents"]}


def _pg_setup() -> str:
    statements = []
    columns = ATTRIBUTION_COLUMNS.replace("VARCHAR", "text")
    for product_id in PRODUCTS:
        table = product_id.replace(".", "_")
        statements.append(f"CREATE TABLE {table} ({columns})")
        for row in ATTRIBUTION_ROWS:
            values = ", ".join(
                "NULL" if v is None else repr(v) if isinstance(v, str) else str(v) for v in row
            )
            statements.append(f"INSERT INTO {table} VALUES ({values})")
    return ";\n".join(statements)


@pytest.fixture(scope="module")
def warehouse_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    with read_only_warehouses(tmp_path_factory.mktemp("saved"), _pg_setup()) as url:
        yield url


@pytest.fixture(params=ENGINES)
def engine(
    request: pytest.FixtureRequest, warehouse_url: Any, settings: Any, marketing: Any, finance: Any
) -> str:
    """Every fixture product published against each warehouse in turn."""
    settings.PII_HASH_KEY = "test-hash-key"
    settings.WAREHOUSE_URL = warehouse_url(request.param)
    _publish_all()
    return str(request.param)


def _publish_all() -> None:
    for product_id, status in PRODUCTS.items():
        if status != "deprecated":
            publish(product_id, status)


def save(api_as: Any, user: Any, **fields: Any) -> Any:
    body = {"name": "Revenue by channel", "sql": SQL, "shared": True, "chart": CHART, **fields}
    return api_as(user).post("/v1/queries", body, format="json")


def run(api_as: Any, user: Any, pk: int) -> Any:
    return api_as(user).post(f"/v1/queries/{pk}/run", format="json")


def users_column(response: Any) -> list[str]:
    body = response.json()
    index = body["columns"].index("user_id")
    return [row[index] for row in body["rows"]]


# --- Running: the runner's permissions, never the author's --------------------------------


def test_an_owners_shared_query_comes_back_masked_for_an_analyst_and_raw_for_the_team(
    engine: str, api_as: Any, owner: Any, member: Any, analyst: Any, outsider: Any, admin_user: Any
) -> None:
    created = save(api_as, owner)
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["products"] == ["marketing.campaign_attribution"]
    for user, expected in (
        (owner, RAW_USER),
        (member, RAW_USER),
        (admin_user, RAW_USER),
        (analyst, MASKED_USER),
        (outsider, MASKED_USER),
    ):
        response = run(api_as, user, pk)
        assert response.status_code == 200, (user.username, response.json())
        assert users_column(response)[0] == expected, user.username
        masked = response.json()["maskedColumns"]
        assert (masked != []) == (expected == MASKED_USER), (user.username, masked)
        assert response.json()["savedQuery"]["chart"] == CHART
        assert response.json()["types"][3].upper() in ("BIGINT", "INT8")


def test_each_run_is_audited_as_the_runner_and_recorded_as_the_last_run(
    engine: str, api_as: Any, owner: Any, analyst: Any
) -> None:
    pk = save(api_as, owner).json()["id"]
    assert SavedQuery.objects.get(pk=pk).last_run_at is None
    run(api_as, analyst, pk)
    entry = QueryLog.objects.latest("id")
    assert (entry.user, entry.submitted_sql, entry.decision) == (analyst, SQL, "allowed")
    assert entry.masked_columns  # the analyst's policy masked it, not the owner's
    assert SavedQuery.objects.get(pk=pk).last_run_at is not None
    listed = api_as(analyst).get(f"/v1/queries/{pk}").json()
    assert listed["lastRunAt"] is not None


def test_a_query_over_a_product_the_runner_cannot_read_is_refused(
    engine: str, api_as: Any, owner: Any, outsider: Any, analyst: Any, admin_user: Any
) -> None:
    # The owner reads marketing's draft; a shared query over it would name it to everyone.
    sql = "SELECT count(*) AS n FROM marketing.draft_attribution"
    pk = save(api_as, owner, name="Draft count", sql=sql, chart=None).json()["id"]
    for user in (outsider, analyst):
        assert api_as(user).get(f"/v1/queries/{pk}").status_code == 404
        refused = run(api_as, user, pk)
        assert refused.status_code == 404, refused.json()
        assert refused.json()["error"]["code"] == "NOT_FOUND"
        listed = api_as(user).get("/v1/queries?scope=shared").json()["queries"]
        assert pk not in [q["id"] for q in listed]
    assert run(api_as, admin_user, pk).json()["rows"] == [[3]]
    # A product the runner may see but no longer query: refused by the governor, audited.
    pk = save(api_as, owner, name="Gone").json()["id"]
    # As the admin's retire does: updated_at moves, so the policy's catalog snapshot renews.
    DataProduct.objects.filter(product_id="marketing.campaign_attribution").update(
        status="retired", updated_at=timezone.now()
    )
    refused = run(api_as, analyst, pk)
    assert refused.status_code in (400, 403, 410), refused.json()
    assert refused.json()["error"]["code"] != "NOT_FOUND"
    last = QueryLog.objects.latest("id")
    assert (last.user, last.decision) == (analyst, "refused")


def test_a_private_query_is_its_authors_alone(
    engine: str, api_as: Any, owner: Any, member: Any, admin_user: Any
) -> None:
    pk = save(api_as, owner, shared=False).json()["id"]
    assert api_as(member).get(f"/v1/queries/{pk}").status_code == 404
    assert run(api_as, member, pk).status_code == 404
    assert api_as(owner).get(f"/v1/queries/{pk}").status_code == 200
    assert api_as(admin_user).get(f"/v1/queries/{pk}").status_code == 200


# --- Writes: the author's (and platform admins') ------------------------------------------


def test_only_the_author_or_an_admin_renames_shares_or_deletes(
    engine: str, api_as: Any, owner: Any, member: Any, outsider: Any, admin_user: Any
) -> None:
    pk = save(api_as, owner).json()["id"]
    for user in (member, outsider):
        patched = api_as(user).patch(f"/v1/queries/{pk}", {"name": "Mine now"}, format="json")
        assert patched.status_code == 403, patched.json()
        assert "author" in patched.json()["error"]["message"]
        assert api_as(user).delete(f"/v1/queries/{pk}").status_code == 403
    renamed = api_as(owner).patch(
        f"/v1/queries/{pk}", {"name": "  Revenue   per channel ", "shared": False}, format="json"
    )
    assert renamed.status_code == 200, renamed.json()
    assert (renamed.json()["name"], renamed.json()["shared"]) == ("Revenue per channel", False)
    assert renamed.json()["chart"] == CHART  # untouched fields stay
    assert api_as(member).get(f"/v1/queries/{pk}").status_code == 404  # unshared
    by_admin = api_as(admin_user).patch(f"/v1/queries/{pk}", {"chart": None}, format="json")
    assert by_admin.status_code == 200 and by_admin.json()["author"] == "maya"
    assert api_as(owner).delete(f"/v1/queries/{pk}").status_code == 204
    assert not SavedQuery.objects.filter(pk=pk).exists()


def test_new_sql_is_governed_for_the_author_and_its_products_follow(
    engine: str, api_as: Any, owner: Any, outsider: Any
) -> None:
    pk = save(api_as, owner).json()["id"]
    join = (
        "SELECT f.channel, count(*) AS n FROM finance.revenue_attribution f "
        "JOIN marketing.campaign_attribution m USING (attribution_id) GROUP BY 1"
    )
    changed = api_as(owner).patch(f"/v1/queries/{pk}", {"sql": join}, format="json")
    assert changed.status_code == 200, changed.json()
    assert changed.json()["products"] == [
        "finance.revenue_attribution",
        "marketing.campaign_attribution",
    ]
    by_product = api_as(outsider).get("/v1/queries?product=finance.revenue_attribution")
    assert [q["id"] for q in by_product.json()["queries"]] == [pk]
    # SQL its author may not run is refused with the governor's code, and nothing changes.
    bad = api_as(outsider).post(
        "/v1/queries",
        {"name": "peek", "sql": "SELECT * FROM marketing.draft_attribution", "shared": True},
        format="json",
    )
    assert bad.status_code in (403, 404), bad.json()
    assert not SavedQuery.objects.filter(name="peek").exists()


# --- Input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "status", "field"),
    [
        ({"name": ""}, 400, "name"),
        ({"name": "x" * 201}, 400, "name"),
        ({"sql": ""}, 400, "sql"),
        ({"sql": 42}, 400, "sql"),
        ({"shared": "yes"}, 400, "shared"),
        ({"chart": {"type": "pie", "x": "a", "y": ["b"]}}, 400, "chart.type"),
        ({"chart": {"type": "bar", "x": "", "y": ["b"]}}, 400, "chart.x"),
        ({"chart": {"type": "bar", "x": "a", "y": []}}, 400, "chart.y"),
        ({"chart": {"type": "bar", "x": "a", "y": ["b"], "colour": "red"}}, 400, "chart.colour"),
        ({"chart": "bar"}, 400, "chart"),
        ({"owner": "root"}, 400, "owner"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    engine: str, api_as: Any, owner: Any, fields: dict[str, Any], status: int, field: str
) -> None:
    response = save(api_as, owner, **fields)
    assert response.status_code == status, response.json()
    assert field in response.json()["error"].get("fields", {}), response.json()
    assert not SavedQuery.objects.exists()


def test_sql_with_a_syntax_error_is_refused_at_its_position(
    engine: str, api_as: Any, owner: Any
) -> None:
    response = save(
        api_as, owner, sql="SELECT channel\nFROM marketing.campaign_attribution WHERE ("
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "PARSE_ERROR"
    assert "line 2, column" in response.json()["error"]["message"]


def test_a_second_query_of_the_same_name_is_a_409(
    engine: str, api_as: Any, owner: Any, member: Any
) -> None:
    assert save(api_as, owner).status_code == 201
    again = save(api_as, owner)
    assert again.status_code == 409 and again.json()["error"]["code"] == "NAME_TAKEN"
    assert save(api_as, member).status_code == 201  # names are per author


@hsettings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.text(min_size=1, max_size=60), description=st.text(max_size=80))
def test_any_name_and_description_round_trip_or_are_refused_cleanly(
    engine: str, api_as: Any, owner: Any, name: str, description: str
) -> None:
    SavedQuery.objects.all().delete()
    response = save(api_as, owner, name=name, description=description)
    assert response.status_code in (201, 400), response.content
    if response.status_code == 201:
        assert response.json()["name"] == " ".join(name.split())
        assert response.json()["description"] == description.strip()
    else:
        # A NUL anywhere in the body is refused by the JSON parser itself (no field named).
        fields = response.json()["error"].get("fields", {})
        assert set(fields) <= {"name", "description"}
        assert fields or "\x00" in name + description


# --- Lists -----------------------------------------------------------------------------------


def test_lists_are_mine_shared_with_me_by_product_searchable_and_paginated(
    engine: str, api_as: Any, owner: Any, member: Any, analyst: Any
) -> None:
    for i in range(7):
        assert save(api_as, owner, name=f"Owner query {i}", shared=i % 2 == 0).status_code == 201
    assert save(api_as, member, name="Member query", shared=False).status_code == 201
    mine = api_as(member).get("/v1/queries?scope=mine").json()
    assert [q["name"] for q in mine["queries"]] == ["Member query"]
    shared = api_as(member).get("/v1/queries?scope=shared").json()
    assert shared["count"] == 4 and all(not q["mine"] for q in shared["queries"])
    page = api_as(analyst).get("/v1/queries?pageSize=3&page=2").json()
    assert (page["count"], len(page["queries"]), page["next"], page["previous"] is not None) == (
        4,
        1,
        None,
        True,
    )
    found = api_as(analyst).get("/v1/queries?q=query 4").json()
    assert [q["name"] for q in found["queries"]] == ["Owner query 4"]
    none = api_as(analyst).get("/v1/queries?product=finance.revenue_attribution").json()
    assert none["count"] == 0
    bad = api_as(analyst).get("/v1/queries?scope=everyone")
    assert bad.status_code == 400 and "scope" in bad.json()["error"]["fields"]
    unknown = api_as(analyst).get("/v1/queries?author=maya")
    assert unknown.status_code == 400 and "author" in unknown.json()["error"]["fields"]


def test_the_editor_catalog_lists_what_the_caller_may_read_with_pii_marked(
    engine: str, api_as: Any, outsider: Any, member: Any
) -> None:
    body = api_as(outsider).get("/v1/query/catalog").json()
    ids = {p["id"] for p in body["products"]}
    assert "marketing.campaign_attribution" in ids
    assert "marketing.draft_attribution" not in ids  # another team's draft
    campaign = next(p for p in body["products"] if p["id"] == "marketing.campaign_attribution")
    user_id = next(c for c in campaign["columns"] if c["name"] == "user_id")
    assert (user_id["pii"], user_id["mask"]) == (True, "last4")
    assert campaign["table"] == "marketing_campaign_attribution"
    member_view = api_as(member).get("/v1/query/catalog").json()
    assert "marketing.draft_attribution" in {p["id"] for p in member_view["products"]}
    raw = next(p for p in member_view["products"] if p["id"] == "marketing.campaign_attribution")
    assert next(c for c in raw["columns"] if c["name"] == "user_id")["mask"] is None
