"""The business user's workspace in Chromium (issue 19): charts of results, saving and sharing
a query (a colleague opens it from the product page and runs it: masked for them), the
editor's autocomplete, a syntax error pointed at; no Content-Security-Policy violation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.querying.fixtures_django import *  # noqa: F403 - the DuckDB warehouse fixture

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests"  # tests.factories.UserFactory's


def watch(tab: Any) -> list[str]:
    """Console errors (CSP violations and script errors) and uncaught page errors."""
    seen: list[str] = []
    tab.on("console", lambda m: seen.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda exc: seen.append(str(exc)))
    return seen


def run(tab: Any, sql: str) -> None:
    tab.locator("#id_sql").fill(sql)
    tab.keyboard.press("Escape")  # close the suggestions the typing opened
    tab.get_by_role("button", name="Run query").click()
    tab.locator("#query-status").filter(has_text="rows returned").wait_for()


def chart_state(tab: Any) -> dict[str, Any]:
    """What Chart.js drew: its type, labels, first series, and whether the canvas has ink."""
    return tab.evaluate(
        """() => {
        const canvas = document.getElementById("chart-canvas");
        const chart = window.Chart.getChart(canvas);
        if (!chart) { return null; }
        const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        let ink = 0;
        for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) { ink++; } }
        return {type: chart.config.type, labels: chart.data.labels || [],
                data: chart.data.datasets[0].data, series: chart.data.datasets.length, ink: ink};
    }"""
    )


def test_results_chart_save_and_share_and_a_colleague_runs_them_masked(
    live_server: Any, warehouse: Any, member: Any, analyst: Any, chromium: Any, shoot: Any
) -> None:
    author = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors = watch(author)
    login(author, live_server.url, "mo", PASSWORD)
    author.goto(f"{live_server.url}/query/")
    run(
        author,
        "SELECT channel, sum(revenue_cents) AS revenue FROM marketing.campaign_attribution "
        "GROUP BY 1 ORDER BY 1",
    )
    assert author.locator("#chart-panel").is_visible()
    assert author.locator("#chart-type").input_value() == "bar"  # text + number
    state = chart_state(author)
    assert state["type"] == "bar" and state["labels"] == ["email", "organic", "paid"]
    assert state["data"] == [None, 300, 1250] and state["ink"] > 1000
    author.select_option("#chart-type", "line")
    assert chart_state(author)["type"] == "line"
    run(author, "SELECT touchpoint_at, revenue_cents FROM marketing.campaign_attribution")
    assert chart_state(author)["type"] == "line"  # time + number
    run(
        author,
        "SELECT revenue_cents AS a, revenue_cents * 2 AS b FROM marketing.campaign_attribution",
    )
    state = chart_state(author)
    assert state["type"] == "scatter" and {"x": 300, "y": 600} in state["data"]
    shoot(author, "workspace-scatter")
    # A query with PII, read raw by its author (a member of marketing), saved and shared.
    run(
        author,
        "SELECT user_id, revenue_cents FROM marketing.campaign_attribution ORDER BY attribution_id",
    )
    assert author.locator("table.results tbody tr").first.inner_text().startswith("user-00012345")
    author.locator("#query-name").fill("Revenue per user")
    author.locator("#query-shared").check()
    author.get_by_role("button", name="Save", exact=True).click()
    author.locator("#saved-status").filter(has_text="shared with everyone").wait_for()
    assert "?saved=" in author.url
    assert author.locator("#my-saved").get_by_text("Revenue per user").is_visible()
    # Rename it; the chart on screen (bar) is what is saved.
    author.locator("#query-name").fill("Revenue per user (all channels)")
    author.get_by_role("button", name="Save", exact=True).click()
    author.locator("#saved-status").filter(has_text="Saved,").wait_for()
    shoot(author, "workspace-saved")
    assert not errors, errors

    colleague = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors = watch(colleague)
    login(colleague, live_server.url, "ana", PASSWORD)
    colleague.goto(f"{live_server.url}/products/marketing.campaign_attribution/")
    card = colleague.locator("#example-queries")
    assert "by mo" in card.inner_text() and "not run yet" in card.inner_text()
    card.get_by_role("link", name="Revenue per user (all channels)").click()
    colleague.wait_for_url("**/query/?saved=*")
    assert colleague.locator("#query-name").input_value() == "Revenue per user (all channels)"
    assert "runs with your permissions" in colleague.locator("#saved-status").inner_text()
    colleague.get_by_role("button", name="Run query").click()
    colleague.locator("#query-status").filter(has_text="rows returned").wait_for()
    first = colleague.locator("table.results tbody tr").first.inner_text()
    assert first.startswith("***2345") and "user-0001" not in colleague.content()
    state = chart_state(colleague)
    assert state["type"] == "bar" and state["labels"][0] == "***2345"
    shoot(colleague, "workspace-shared-masked")
    colleague.goto(f"{live_server.url}/products/marketing.campaign_attribution/")
    assert "last run" in colleague.locator("#example-queries").inner_text()
    assert not errors, errors


def test_the_editor_completes_what_you_may_read_and_points_at_syntax_errors(
    live_server: Any, warehouse: Any, analyst: Any, page: Any, shoot: Any
) -> None:
    errors = watch(page)
    login(page, live_server.url, "ana", PASSWORD)
    page.goto(f"{live_server.url}/query/")
    editor = page.locator("#id_sql")
    editor.click()
    editor.press_sequentially("SELECT * FROM marketing.cam")
    suggestions = page.locator("#sql-suggestions")
    suggestions.wait_for()
    assert "marketing.campaign_attribution" in suggestions.inner_text()
    assert "marketing.draft_attribution" not in suggestions.inner_text()  # another team's draft
    editor.press("Enter")
    assert editor.input_value() == "SELECT * FROM marketing.campaign_attribution"
    editor.press_sequentially(" WHERE us")
    option = suggestions.locator('[data-label="user_id"]').first
    option.wait_for()
    assert "PII · masked (last4)" in option.inner_text()
    shoot(page, "workspace-autocomplete")
    editor.press("Tab")
    assert editor.input_value().endswith("WHERE user_id")
    assert suggestions.is_hidden()
    # A syntax error on line 2: pointed at, and the editor selects it.
    editor.fill("SELECT channel\nFROM marketing.campaign_attribution WHERE (")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Run query").click()
    pointer = page.locator("#query-error .error-pointer")
    pointer.wait_for()
    column = len("FROM marketing.campaign_attribution WHERE (")
    assert pointer.get_attribute("data-line") == "2"
    assert pointer.get_attribute("data-start") == str(column)
    page.locator("#show-error").click()
    selected = page.evaluate(
        "() => { const e = document.getElementById('id_sql');"
        " return e.value.slice(e.selectionStart, e.selectionEnd); }"
    )
    assert selected == "("
    shoot(page, "workspace-syntax-error")
    assert not [e for e in errors if "400" not in e], errors
