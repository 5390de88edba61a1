"""``GET /v1/query/log``: admins read every row, owners their products' queries, everyone their own.

The rows are made by the real governed-query service over a real DuckDB warehouse, each at its
own time, so the time filters have something to tell apart.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from querying.models import QueryLog
from querying.services import query_submit
from tests.querying.fixtures_django import *  # noqa: F403
from tests.querying.fixtures_django import NOW

pytestmark = pytest.mark.django_db

URL = "/v1/query/log"


@pytest.fixture
def logged(warehouse: Any, analyst: Any, member: Any, outsider: Any) -> dict[str, int]:
    """Five audited requests, one minute apart, by three people over two domains."""
    runs = [
        ("analyst_marketing", analyst, "SELECT count(*) FROM marketing.campaign_attribution"),
        ("analyst_finance", analyst, "SELECT count(*) FROM finance.revenue_attribution"),
        ("analyst_refused", analyst, "SELECT * FROM nowhere"),
        ("member_draft", member, "SELECT count(*) FROM marketing.draft_attribution"),
        ("outsider_finance", outsider, "SELECT channel FROM finance.revenue_attribution"),
    ]
    ids = {}
    for minute, (name, user, sql) in enumerate(runs):
        outcome = query_submit(user=user, sql=sql, now=NOW + timedelta(minutes=minute))
        assert outcome.log_id is not None, name
        ids[name] = outcome.log_id
    assert QueryLog.objects.get(pk=ids["analyst_refused"]).decision == "refused"
    assert QueryLog.objects.get(pk=ids["member_draft"]).decision == "allowed"
    return ids


def ids_seen(api_as: Any, reader: Any, **params: Any) -> list[int]:
    response = api_as(reader).get(URL, params)
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["queries"]]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (
            "admin_user",
            [
                "outsider_finance",
                "member_draft",
                "analyst_refused",
                "analyst_finance",
                "analyst_marketing",
            ],
        ),
        ("owner", ["member_draft", "analyst_marketing"]),  # marketing's products, anyone's query
        ("outsider", ["outsider_finance", "analyst_finance"]),  # finance's, and their own
        ("analyst", ["analyst_refused", "analyst_finance", "analyst_marketing"]),  # their own
        ("member", ["member_draft"]),  # a member (not owner) reads only their own
        ("manager", []),
    ],
)
def test_each_reader_sees_the_rows_that_are_theirs_to_see_newest_first(
    request: Any, api_as: Any, logged: dict[str, int], who: str, expected: list[str]
) -> None:
    assert ids_seen(api_as, request.getfixturevalue(who)) == [logged[name] for name in expected]


def test_anonymous_callers_get_401_in_the_error_shape(api_as: Any) -> None:
    response = api_as(None).get(URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"


def test_another_users_sql_reaches_only_owners_and_admins(
    api_as: Any, logged: dict[str, int], analyst: Any, member: Any, owner: Any, admin_user: Any
) -> None:
    draft_sql = "marketing.draft_attribution"
    assert draft_sql not in api_as(analyst).get(URL).content.decode()
    for reader in (owner, admin_user):
        rows = {r["id"]: r for r in api_as(reader).get(URL).json()["queries"]}
        assert draft_sql in rows[logged["member_draft"]]["sql"]
        assert rows[logged["member_draft"]]["user"] == "mo"


def test_a_row_reads_like_the_audit_it_is(
    api_as: Any, logged: dict[str, int], analyst: Any
) -> None:
    rows = {r["id"]: r for r in api_as(analyst).get(URL).json()["queries"]}
    row = rows[logged["analyst_marketing"]]
    assert row["decision"] == "allowed" and row["code"] == ""
    assert row["products"] == ["marketing.campaign_attribution"]
    assert row["rowCount"] == 1 and row["truncated"] is False
    assert row["createdAt"].startswith("2026-06-01T12:00:00")
    assert "marketing_campaign_attribution" in row["executedSql"]
    refused = rows[logged["analyst_refused"]]
    assert refused["decision"] == "refused" and refused["code"] == "UNKNOWN_TABLE"
    assert refused["executedSql"] is None and refused["rowCount"] is None


def test_filters_narrow_by_user_product_decision_code_and_time(
    api_as: Any, logged: dict[str, int], admin_user: Any
) -> None:
    def seen(**params: Any) -> set[str]:
        names = {v: k for k, v in logged.items()}
        return {names[i] for i in ids_seen(api_as, admin_user, **params)}

    assert seen(user="ana") == {"analyst_marketing", "analyst_finance", "analyst_refused"}
    assert seen(product="finance.revenue_attribution") == {"analyst_finance", "outsider_finance"}
    assert seen(decision="refused") == {"analyst_refused"}
    assert seen(code="unknown_table") == {"analyst_refused"}  # codes match in any case
    start = NOW + timedelta(minutes=1)
    assert seen(since=start.isoformat(), until=(start + timedelta(minutes=2)).isoformat()) == {
        "analyst_finance",
        "analyst_refused",
    }
    assert seen(since="2026-06-02") == set()  # a date alone means its midnight
    assert seen(user="ana", product="marketing.campaign_attribution") == {"analyst_marketing"}


def test_filters_never_widen_what_a_reader_may_see(
    api_as: Any, logged: dict[str, int], owner: Any
) -> None:
    assert ids_seen(api_as, owner, user="fiona") == []
    assert ids_seen(api_as, owner, product="finance.revenue_attribution") == []


def test_pages_count_and_link_to_each_other(
    api_as: Any, logged: dict[str, int], admin_user: Any
) -> None:
    first = api_as(admin_user).get(URL, {"pageSize": 2}).json()
    assert first["count"] == 5 and first["page"] == 1 and first["pageSize"] == 2
    assert len(first["queries"]) == 2 and first["previous"] is None
    assert "page=2" in first["next"] and "pageSize=2" in first["next"]
    last = api_as(admin_user).get(URL, {"pageSize": 2, "page": 3}).json()
    assert [r["id"] for r in last["queries"]] == [logged["analyst_marketing"]]
    assert last["next"] is None and "page=2" in last["previous"]
    beyond = api_as(admin_user).get(URL, {"pageSize": 2, "page": 9}).json()
    assert beyond["queries"] == [] and beyond["count"] == 5


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"decision": "bogus"}, "decision"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-40T00:00:00"}, "until"),
        ({"since": "2026-06-02T00:00:00Z", "until": "2026-06-01T00:00:00Z"}, "until"),
        ({"page": "0"}, "page"),
        ({"page": "abc"}, "page"),
        ({"pageSize": "201"}, "pageSize"),
        ({"user": "u" * 151}, "user"),
        ({"product": "p" * 201}, "product"),
        ({"decison": "refused"}, "decison"),  # a misspelt filter is not silently ignored
    ],
)
def test_bad_filters_answer_400_naming_the_field(
    api_as: Any, analyst: Any, params: dict[str, str], field: str
) -> None:
    response = api_as(analyst).get(URL, params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID"
    assert field in error["fields"]
    assert error["message"].startswith(f"{field}:")


HOSTILE = [
    "",
    " ",
    "'; DROP TABLE querying_querylog; --",
    "%",
    "_",
    "\u212a",  # KELVIN SIGN
    "\u202eevil",  # right-to-left override
    "ｍａｒｋｅｔｉｎｇ",  # fullwidth letters
    "𝔪𝔞𝔯𝔨𝔢𝔱",
    "٣",  # Arabic-Indic digit
    "9" * 40,
    "-1",
    "1e999",
    "2026-06-01T12:00:00+25:00",
    "0000-01-01",
    "9999-12-31T23:59:59",
    "x" * 5000,
]


@pytest.mark.parametrize("name", ["user", "product", "decision", "code", "since", "until",
                                  "page", "pageSize"])  # fmt: skip
def test_hostile_filter_values_answer_200_or_a_400_naming_the_field(
    api_as: Any, logged: dict[str, int], admin_user: Any, name: str
) -> None:
    client = api_as(admin_user)
    for value in HOSTILE:
        response = client.get(URL, {name: value})
        assert response.status_code in (200, 400), (name, value, response.status_code)
        body = response.json()
        if response.status_code == 400:
            assert name in body["error"]["fields"], (name, value, body)
        else:
            assert set(body) == {"count", "page", "pageSize", "next", "previous", "queries"}


def test_the_pii_hash_key_never_appears_even_in_rows_that_held_it(
    api_as: Any, logged: dict[str, int], admin_user: Any, analyst: Any, settings: Any
) -> None:
    key = settings.PII_HASH_KEY
    QueryLog.objects.filter(pk=logged["analyst_marketing"]).update(
        executed_sql=f"SELECT md5('{key}' || user_id) FROM t",
        submitted_sql=f"SELECT '{key}'",
    )
    for reader in (admin_user, analyst):
        body = api_as(reader).get(URL).content.decode()
        assert key not in body
        assert "<PII hash key>" in body


def test_owners_read_the_same_rows_in_the_admin_as_in_the_api(
    api_as: Any, logged: dict[str, int], owner: Any
) -> None:
    client = Client()
    client.force_login(owner)
    page = client.get("/admin/querying/querylog/")
    assert page.status_code == 200
    assert [e.pk for e in page.context["cl"].result_list] == ids_seen(api_as, owner)
    others = logged["outsider_finance"]
    assert client.get(f"/admin/querying/querylog/{others}/change/").status_code == 302
    mine = client.get(f"/admin/querying/querylog/{logged['member_draft']}/change/")
    assert mine.status_code == 200 and "marketing.draft_attribution" in mine.content.decode()
