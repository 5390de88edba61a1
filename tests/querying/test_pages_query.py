"""The /query/ page: login, product list with masks, no-JS run, CSV download, history reload."""

from __future__ import annotations

import pytest

from querying.models import QueryLog
from tests.querying.fixtures_django import *  # noqa: F403

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_login(client, warehouse):
    response = client.get("/query/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.post("/query/download.csv", {"sql": "SELECT 1"}).status_code == 302


def test_page_lists_readable_products_with_masks_for_an_analyst(client, analyst, warehouse):
    client.force_login(analyst)
    page = client.get("/query/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "marketing.campaign_attribution" in html
    assert "PII · last4" in html
    assert "raw — your team" not in html
    assert "marketing.draft_attribution" not in html
    assert 'aria-live="polite"' in html
    assert "js/query.js" in html and "css/query.css" in html


def test_page_tells_a_member_they_see_their_teams_pii_raw(client, member, warehouse):
    client.force_login(member)
    html = client.get("/query/").content.decode()
    assert "raw — your team" in html
    assert "marketing.draft_attribution" in html


def test_product_parameter_preselects_and_fills_a_sample_query(client, analyst, warehouse):
    client.force_login(analyst)
    page = client.get("/query/", {"product": "marketing.campaign_attribution"})
    assert (
        page.context["form"].initial["sql"]
        == "SELECT * FROM marketing.campaign_attribution LIMIT 100"
    )
    assert page.context["selected"] == "marketing.campaign_attribution"


def test_product_parameter_for_an_unreadable_product_fills_nothing(client, analyst, warehouse):
    client.force_login(analyst)
    page = client.get("/query/", {"product": "marketing.draft_attribution"})
    assert page.context["form"].initial["sql"] == ""
    assert page.context["selected"] == ""


def test_form_post_renders_masked_results_without_js(client, analyst, warehouse, fixed_now):
    client.force_login(analyst)
    page = client.post(
        "/query/", {"sql": "SELECT user_id FROM marketing.campaign_attribution ORDER BY 1"}
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "***1111" in html
    assert "user-00011111" not in html
    assert "3 rows" in html


def test_form_post_shows_a_refusal_clearly(client, analyst, warehouse, fixed_now):
    client.force_login(analyst)
    page = client.post("/query/", {"sql": "SELECT * FROM marketing.old_attribution"})
    assert page.status_code == 400
    html = page.content.decode()
    assert "PRODUCT_NOT_QUERYABLE" in html
    assert 'role="alert"' in html


def test_download_streams_csv_from_the_page_form(client, analyst, warehouse, fixed_now):
    client.force_login(analyst)
    response = client.post(
        "/query/download.csv",
        {"sql": "SELECT attribution_id, user_id FROM marketing.campaign_attribution ORDER BY 1"},
    )
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    assert text.splitlines()[:2] == ["attribution_id,user_id", "a-1,***2345"]


def test_download_of_a_refused_query_shows_the_page_with_the_error(client, analyst, warehouse):
    client.force_login(analyst)
    response = client.post("/query/download.csv", {"sql": "DROP TABLE x"})
    assert response.status_code == 400
    assert "NOT_A_SELECT" in response.content.decode()


def test_page_form_needs_a_csrf_token(analyst, warehouse):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(analyst)
    assert client.post("/query/", {"sql": "SELECT 1"}).status_code == 403


def test_recent_queries_are_listed_and_reload_into_the_editor(
    client, analyst, member, warehouse, fixed_now
):
    client.force_login(analyst)
    client.post("/query/", {"sql": "SELECT count(*) FROM campaign_attribution"})
    mine = QueryLog.objects.get(user=analyst)
    page = client.get("/query/")
    assert "SELECT count(*) FROM campaign_attribution" in page.content.decode()
    page = client.get("/query/", {"log": mine.pk})
    assert page.context["form"].initial["sql"] == "SELECT count(*) FROM campaign_attribution"
    # Someone else's log id reloads nothing.
    client.force_login(member)
    page = client.get("/query/", {"log": mine.pk})
    assert page.context["form"].initial["sql"] == ""
    assert "SELECT count(*) FROM campaign_attribution" not in page.content.decode()
