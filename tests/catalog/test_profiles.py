"""Column profiles and sample rows on the product page and API (issue 15).

Each check run stores a profile of the product's columns, computed in the run's scan (NULLs,
extremes) plus one bounded sample (distinct and top values). No raw value of a PII column is
ever stored: its distinct count comes from its keyed hash, its top values are its masked
readings. A column flagged PII after the run keeps its older (raw) figures hidden from readers
who may not see it raw, until the next run. The ten sample rows go through the governor with
the reader's own policy: masked for an analyst, raw for the domain's team, audited.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.test import Client

from accounts.models import User
from catalog.models import DataProduct, Domain
from catalog.services import product_publish
from quality.models import RunProfile
from quality.services import check_run
from querying.models import QueryLog
from tests.support.clients import api_client

pytestmark = pytest.mark.django_db

ROWS = 300
RAW = ("lead1@", "lead2@", "+1-555-", "Olivia")  # raw values; masked readings keep the domain


def _document(version: int = 1, *, status_pii: bool = False) -> dict[str, Any]:
    status: dict[str, Any] = {"column": "status", "type": "string", "description": "State"}
    status.update({"pii": status_pii, "nullable": False})
    if status_pii:
        status["mask"] = "last4"
    return {
        "id": "marketing.leads",
        "domain": "marketing",
        "name": "Leads",
        "description": "Leads.",
        "owner": {"team": "Marketing", "contact": "m@example.com", "slackChannel": "#m"},
        "schema": [
            {
                "column": "lead_id",
                "type": "integer",
                "description": "Id",
                "pii": False,
                "nullable": False,
            },
            {
                "column": "email",
                "type": "string",
                "description": "E-mail",
                "pii": True,
                "nullable": True,
                "mask": "email",
            },
            {
                "column": "phone",
                "type": "string",
                "description": "Phone",
                "pii": True,
                "nullable": True,
                "mask": "hash",
            },
            {
                "column": "full_name",
                "type": "string",
                "description": "Name",
                "pii": True,
                "nullable": True,
                "mask": "redact",
            },
            status,
            {
                "column": "amount",
                "type": "float",
                "description": "Amount",
                "pii": False,
                "nullable": True,
            },
            {
                "column": "created_at",
                "type": "timestamp",
                "description": "When",
                "pii": False,
                "nullable": False,
            },
        ],
        "sla": {"freshness": "24h", "availability": 99.0, "queryLatencyP95Ms": 1000},
        "qualityChecks": [
            {"name": "lead_unique", "type": "unique", "column": "lead_id", "severity": "error"},
            {"name": "rows", "type": "row_count", "params": {"minRows": 1}, "severity": "error"},
            {
                "name": "no_negative",
                "type": "custom_sql",
                "params": {"sql": "SELECT count(*) FROM leads WHERE amount < 0"},
                "severity": "warning",
            },
        ],
        "tags": ["marketing"],
        "version": version,
        "status": "published",
        "table": "marketing_leads",
    }


@pytest.fixture
def leads(tmp_path: Path, settings: Any, marketing: Domain) -> DataProduct:
    path = tmp_path / "w.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute(
        "CREATE TABLE marketing_leads (lead_id BIGINT NOT NULL, email VARCHAR, phone VARCHAR, "
        "full_name VARCHAR, status VARCHAR NOT NULL, amount DOUBLE, created_at TIMESTAMP NOT NULL)"
    )
    conn.execute(
        f"""INSERT INTO marketing_leads SELECT i,
            CASE WHEN i % 10 = 0 THEN NULL ELSE 'lead' || i || CASE WHEN i % 3 = 0
                 THEN '@a.example' ELSE '@b.example' END END,
            CASE WHEN i % 4 = 0 THEN NULL
                 ELSE '+1-555-' || lpad(CAST(i % 120 AS VARCHAR), 4, '0') END,
            'Olivia Smith', (['new', 'won', 'lost'])[1 + i % 3], i * 1.5,
            now()::TIMESTAMP - INTERVAL 1 HOUR
            FROM range({ROWS}) r(i)"""
    )
    conn.close()
    settings.WAREHOUSE_URL = f"duckdb:///{path}"
    settings.PUBLISH_REQUIRE_WAREHOUSE = True
    return product_publish(actor=None, document=_document(), source="test").product


def _profile(product: DataProduct) -> dict[str, dict[str, Any]]:
    row = RunProfile.objects.latest_of(product.pk)
    assert row is not None
    return {c["name"]: c for c in row.data["columns"]}


def test_a_run_stores_a_profile_from_its_scan_and_one_sample(leads: DataProduct) -> None:
    run = check_run(product=leads)
    assert run.status == "passed", [(r.check_name, r.message) for r in run.results.all()]
    # one scan (custom SQL folded in), its extremes (DuckDB: apart), the unique statement,
    # the profile's sample
    assert run.statements_sent == 4
    columns = _profile(leads)
    assert columns["lead_id"]["distinct"] == ROWS and columns["lead_id"]["distinctExact"]
    assert (columns["lead_id"]["min"], columns["lead_id"]["max"]) == (0, ROWS - 1)
    assert columns["amount"]["max"] == (ROWS - 1) * 1.5
    assert columns["email"]["nulls"] == ROWS // 10 and columns["email"]["nullShare"] == 0.1
    assert columns["phone"]["distinct"] == 90  # counted through the keyed hash: exact here
    assert {t["value"] for t in columns["email"]["top"]} == {"***@a.example", "***@b.example"}
    assert columns["phone"]["top"] == [] and columns["full_name"]["top"] == []
    assert [t["value"] for t in columns["status"]["top"]] == ["new", "won", "lost"]
    assert columns["email"]["min"] is None and columns["created_at"]["max"]
    stored = json.dumps(RunProfile.objects.get(run=run).data)
    assert not any(raw in stored for raw in RAW), stored


def test_the_api_and_page_show_the_profile_to_every_reader(
    leads: DataProduct, analyst: User, owner: User
) -> None:
    check_run(product=leads)
    for user in (analyst, owner):
        body = api_client(user).get("/v1/catalog/products/marketing.leads").json()
        profile = body["profile"]
        assert profile["rows"] == ROWS
        assert [c["name"] for c in profile["columns"]][:3] == ["lead_id", "email", "phone"]
        client = Client()
        client.force_login(user)
        html = client.get("/products/marketing.leads/").content.decode()
        assert 'id="profile"' in html and 'data-column="status"' in html
        assert "***@a.example" in html and "lead1@" not in html
        assert 'data-sample-url="/query/products/marketing.leads/sample/"' in html


def test_a_column_flagged_pii_after_the_run_is_withheld_from_masked_readers(
    leads: DataProduct, analyst: User, owner: User
) -> None:
    check_run(product=leads)
    product_publish(actor=None, document=_document(2, status_pii=True), source="test")
    seen = {}
    for user in (analyst, owner):
        body = api_client(user).get("/v1/catalog/products/marketing.leads").json()
        seen[user.username] = {c["name"]: c for c in body["profile"]["columns"]}["status"]
    assert seen["ana"]["top"] == [] and seen["ana"]["withheld"] == "masked"
    assert seen["ana"]["pii"] is True and seen["ana"]["nulls"] == 0  # counts stay
    assert [t["value"] for t in seen["maya"]["top"]] == ["new", "won", "lost"]  # the team: raw
    leads.refresh_from_db()
    check_run(product=leads)  # the next run reads it through its mask, for everyone
    body = api_client(analyst).get("/v1/catalog/products/marketing.leads").json()
    status = {c["name"]: c for c in body["profile"]["columns"]}["status"]
    assert [t["value"] for t in status["top"]] == ["***"] and "withheld" not in status


def test_no_profile_before_the_first_run(leads: DataProduct, analyst: User) -> None:
    body = api_client(analyst).get("/v1/catalog/products/marketing.leads").json()
    assert body["profile"] is None


def test_ten_sample_rows_are_masked_exactly_as_a_query_and_audited(
    leads: DataProduct, analyst: User, member: User
) -> None:
    sampled: dict[str, str] = {}
    for user in (analyst, member):
        client = Client()
        client.force_login(user)
        fragment = client.get(
            "/query/products/marketing.leads/sample/", HTTP_X_REQUESTED_WITH="fetch"
        )
        assert fragment.status_code == 200
        html = fragment.content.decode()
        assert html.count("<tr>") == 11  # the header and ten rows
        assert "<html" not in html
        sampled[user.username] = html
    assert "***@b.example" in sampled["ana"] and "[REDACTED]" in sampled["ana"]
    assert "lead1@b.example" not in sampled["ana"] and "Olivia Smith" not in sampled["ana"]
    assert "lead1@b.example" in sampled["mo"] and "Olivia Smith" in sampled["mo"]
    logs = [log for log in QueryLog.objects.all() if log.products == ["marketing.leads"]]
    assert sorted(log.username for log in logs) == ["ana", "mo"]
    assert all(log.decision == "allowed" and log.row_count == 10 for log in logs)
    page = Client()
    page.force_login(analyst)
    full = page.get("/query/products/marketing.leads/sample/").content.decode()
    assert "<html" in full and "Ten rows of Leads" in full


def test_the_sample_of_a_product_the_reader_may_not_see_is_404(
    leads: DataProduct, analyst: User, member: User
) -> None:
    DataProduct.objects.filter(pk=leads.pk).update(status="draft")
    client = Client()
    client.force_login(analyst)
    assert client.get("/query/products/marketing.leads/sample/").status_code == 404
    assert client.get("/query/products/nope.none/sample/").status_code == 404
    client.force_login(member)
    assert client.get("/query/products/marketing.leads/sample/").status_code == 200
