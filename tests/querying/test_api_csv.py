"""CSV output of governed queries: streamed, masked, formula-safe; errors stay JSON."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.http import StreamingHttpResponse

from querying.api.exports import csv_cell, csv_lines
from tests.querying.fixtures_django import *  # noqa: F403

pytestmark = pytest.mark.django_db
SQL = "SELECT attribution_id, user_id, revenue_cents FROM marketing.campaign_attribution ORDER BY 1"


def read_csv(response: Any) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    # The test client's responses are WSGI ones: their content is a plain iterator of bytes.
    text = b"".join(response.streaming_content).decode("utf-8")  # type: ignore[arg-type]
    return list(csv.reader(io.StringIO(text)))


def test_query_csv_endpoint_streams_masked_rows(api_as, analyst, warehouse, fixed_now):
    response = api_as(analyst).post("/v1/query.csv", {"sql": SQL}, format="json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response["X-Query-Truncated"] == "false"
    assert read_csv(response) == [
        ["attribution_id", "user_id", "revenue_cents"],
        ["a-1", "***2345", "1250"],
        ["a-2", "***7890", ""],
        ["a-3", "***1111", "300"],
    ]


def test_format_query_parameter_selects_csv_too(api_as, member, warehouse, fixed_now):
    response = api_as(member).post("/v1/query?format=csv", {"sql": SQL}, format="json")
    assert response.status_code == 200
    assert read_csv(response)[1] == ["a-1", "user-00012345", "1250"]


def test_csv_errors_are_still_json(api_as, analyst, warehouse, fixed_now):
    response = api_as(analyst).post("/v1/query.csv", {"sql": "DROP TABLE x"}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "NOT_A_SELECT"


def test_csv_truncation_is_flagged_in_a_header(api_as, analyst, warehouse, fixed_now, settings):
    settings.QUERY_MAX_ROWS = 1
    response = api_as(analyst).post("/v1/query.csv", {"sql": SQL}, format="json")
    assert response["X-Query-Truncated"] == "true"
    assert len(read_csv(response)) == 2


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("plain", "plain"),
        (-5, -5),
        (None, ""),
        (True, "true"),
    ],
)
def test_csv_cells_that_spreadsheets_would_run_get_a_quote(value, cell):
    assert csv_cell(value) == cell


def test_csv_lines_quote_commas_and_newlines():
    lines = list(csv_lines(["a", "b"], [["x,y", "line\nbreak"]]))
    assert list(csv.reader(io.StringIO("".join(lines)))) == [["a", "b"], ["x,y", "line\nbreak"]]


def test_accept_header_selects_csv(api_as, analyst, warehouse, fixed_now):
    response = api_as(analyst).post(
        "/v1/query", {"sql": SQL}, format="json", HTTP_ACCEPT="text/csv"
    )
    assert response.status_code == 200
    assert read_csv(response)[0] == ["attribution_id", "user_id", "revenue_cents"]
