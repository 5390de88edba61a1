"""The query page and product page parts of the workspace (issue 19): saved queries opened by
link, the whole history searchable and paginated, syntax errors pointed at, and "Example
queries" on product pages (only what the viewer may see, with author and last run)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from querying.models import QueryDecision, QueryLog, SavedQuery
from querying.saved.services import saved_query_create
from tests.querying.fixtures_django import *  # noqa: F403 - the DuckDB warehouse fixture

pytestmark = pytest.mark.django_db

SQL = "SELECT channel, sum(revenue_cents) AS revenue FROM marketing.campaign_attribution GROUP BY 1"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_saved_query_opens_by_link_with_its_name_sql_and_chart(
    warehouse: Any, owner: Any, analyst: Any
) -> None:
    chart = {"type": "bar", "x": "channel", "y": ["revenue"]}
    saved = saved_query_create(
        author=owner, name="Revenue <b>", sql=SQL, chart=chart, is_shared=True
    )
    page = client_for(analyst).get(f"/query/?saved={saved.pk}")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="Revenue &lt;b&gt;"' in html
    assert "sum(revenue_cents) AS revenue" in html
    assert '<script id="saved-chart" type="application/json">' in html
    assert '"type": "bar"' in html
    assert "Shared by maya" in html and 'data-saved-mine="0"' in html
    private = saved_query_create(author=owner, name="Mine", sql="SELECT 42 AS secret_sauce")
    hidden = client_for(analyst).get(f"/query/?saved={private.pk}").content.decode()
    assert "secret_sauce" not in hidden and "data-saved-id" not in hidden.split("saved-bar")[1][:80]
    for garbage in ("x", "-1", "²", "9" * 40, ""):
        assert client_for(analyst).get(f"/query/?saved={garbage}").status_code == 200


def test_the_whole_history_is_searchable_and_paginated(analyst: Any, manager: Any) -> None:
    now = timezone.now()
    QueryLog.objects.bulk_create(
        QueryLog(
            user=analyst,
            username=analyst.username,
            submitted_sql=f"SELECT {i} AS n{' -- needle' if i % 10 == 0 else ''}",
            decision=QueryDecision.ALLOWED,
            created_at=now - timedelta(minutes=i),
        )
        for i in range(45)
    )
    QueryLog.objects.create(
        user=manager, submitted_sql="SELECT 'needle' AS theirs", decision="allowed", created_at=now
    )
    client = client_for(analyst)
    first = client.get("/query/").content.decode()
    assert "45 queries" in first and "Page 1 of 3" in first and "SELECT 0 AS n" in first
    third = client.get("/query/?history_page=3").content.decode()
    assert "SELECT 44 AS n" in third and "SELECT 0 AS n" not in third
    found = client.get("/query/?history=NEEDLE").content.decode()
    assert "5 queries" in found and "theirs" not in found
    assert client.get("/query/?history_page=999").status_code == 200  # the last page
    assert client.get("/query/?history=" + "%00").status_code == 400  # RejectNulMiddleware


def test_a_syntax_error_is_pointed_at_on_the_page(warehouse: Any, analyst: Any) -> None:
    sql = "SELECT channel\nFROM marketing.campaign_attribution WHERE ("
    page = client_for(analyst).post("/query/", {"sql": sql})
    html = page.content.decode()
    assert page.status_code == 400
    col = len("FROM marketing.campaign_attribution WHERE (")  # the parser stopped at "("
    assert f'class="error-pointer" data-line="2" data-start="{col}" data-end="{col}"' in html
    assert "FROM marketing.campaign_attribution WHERE (\n" + " " * (col - 1) + "^</pre>" in html


def test_product_pages_list_the_shared_queries_that_read_them(
    warehouse: Any, owner: Any, member: Any, analyst: Any, outsider: Any
) -> None:
    shared = saved_query_create(author=member, name="Paid revenue", sql=SQL, is_shared=True)
    saved_query_create(author=member, name="Private draft", sql=SQL)
    draft_sql = (
        "SELECT count(*) FROM marketing.draft_attribution d JOIN "
        "marketing.campaign_attribution c USING (attribution_id)"
    )
    saved_query_create(author=owner, name="Draft join", sql=draft_sql, is_shared=True)
    SavedQuery.objects.filter(pk=shared.pk).update(last_run_at=timezone.now() - timedelta(hours=3))
    seen = client_for(analyst).get("/products/marketing.campaign_attribution/").content.decode()
    card = seen.split('id="example-queries"')[1].split("</section>")[0]
    assert "Paid revenue" in card and "by mo" in card and "last run" in card and "3" in card
    assert f"/query/?saved={shared.pk}" in card
    assert "Private draft" not in card
    assert "Draft join" not in card and "draft_attribution" not in seen  # another team's draft
    team = client_for(member).get("/products/marketing.campaign_attribution/").content.decode()
    assert "Draft join" in team and "not run yet" in team
    other = client_for(outsider).get("/products/finance.revenue_attribution/").content.decode()
    assert "No shared queries read this product yet" in other
