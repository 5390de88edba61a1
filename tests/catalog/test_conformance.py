"""catalog.governance.conformance: the warehouse against the contract, and PII value samples.

No database: the module is pure, the warehouses are real (DuckDB files, PostgreSQL when
PORTAL_TEST_PG_URL is set).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot

from catalog.contract import parse_contract
from catalog.governance.conformance import check_conformance, sample_sql, sample_values
from querying.warehouses import warehouse_from_url
from tests.catalog.test_publish_gates import SEED_TABLE, build_warehouse
from tests.factories import contract_document
from tests.support.pg import pg_warehouse

CONTRACT = parse_contract(contract_document())


def test_sample_sql_is_one_quoted_select_of_the_string_columns_with_a_limit() -> None:
    sql = sample_sql(CONTRACT, "duckdb")
    assert sql == (
        'SELECT "attribution_id", "user_id", "campaign_id", "channel", "attribution_model" '
        'FROM "marketing_campaign_attribution" LIMIT 200'
    )
    assert isinstance(sqlglot.parse_one(sql, read="postgres"), sqlglot.exp.Select)


def test_a_contract_without_string_columns_samples_nothing() -> None:
    doc = contract_document()
    doc["schema"] = [c for c in doc["schema"] if c["type"] != "string"]
    doc["qualityChecks"] = [c for c in doc["qualityChecks"] if c.get("column") != "campaign_id"]
    assert sample_sql(parse_contract(doc), "duckdb") is None


def test_sample_values_reads_non_null_strings_per_column(tmp_path: Path) -> None:
    url = build_warehouse(
        tmp_path / "w.duckdb",
        {"marketing_campaign_attribution": SEED_TABLE},
        {
            "marketing_campaign_attribution": [
                ("a1", "u1", "c1", "paid", "2025-03-01", None, 1, "linear"),
                ("a2", None, "c2", "email", "2025-03-01", None, 2, "linear"),
            ]
        },
    )
    samples = sample_values(warehouse_from_url(url), CONTRACT)
    assert samples is not None
    assert samples["user_id"] == ["u1"]
    assert samples["channel"] == ["paid", "email"]
    assert "revenue_cents" not in samples


def test_sample_values_is_none_when_the_table_is_missing(tmp_path: Path) -> None:
    url = build_warehouse(tmp_path / "w.duckdb", {"other": {"x": "INT"}})
    assert sample_values(warehouse_from_url(url), CONTRACT) is None


def test_a_matching_table_conforms(tmp_path: Path) -> None:
    url = build_warehouse(tmp_path / "w.duckdb", {"marketing_campaign_attribution": SEED_TABLE})
    found = check_conformance(warehouse_from_url(url), CONTRACT)
    assert found.reachable and found.table_exists
    assert found.issues == [] and found.notes == []


def test_missing_columns_and_other_type_families_are_issues_with_paths(tmp_path: Path) -> None:
    table = {**SEED_TABLE, "touchpoint_at": "VARCHAR", "revenue_cents": "DOUBLE"}
    del table["channel"]
    url = build_warehouse(tmp_path / "w.duckdb", {"marketing_campaign_attribution": table})
    found = check_conformance(warehouse_from_url(url), CONTRACT)
    assert [(i.path, i.message) for i in found.issues] == [
        (
            "schema[3].column",
            "column channel does not exist in table marketing_campaign_attribution",
        ),
        (
            "schema[4].type",
            "column touchpoint_at is VARCHAR in the warehouse, which is not a timestamp type",
        ),
        (
            "schema[6].type",
            "column revenue_cents is DOUBLE in the warehouse, which is not a integer type",
        ),
    ]


def test_an_unreachable_warehouse_is_reported_not_raised(tmp_path: Path) -> None:
    found = check_conformance(warehouse_from_url(f"duckdb:///{tmp_path}/none.duckdb"), CONTRACT)
    assert not found.reachable
    assert found.issues[0].path == "table"
    assert "cannot be reached" in found.issues[0].message


@pytest.mark.integration
def test_postgres_types_map_to_contract_families() -> None:
    setup = """
        CREATE TABLE marketing_campaign_attribution (
            attribution_id text NOT NULL, user_id varchar(64), campaign_id text, channel text,
            touchpoint_at timestamptz, conversion_at timestamp, revenue_cents bigint,
            attribution_model text
        );
        INSERT INTO marketing_campaign_attribution VALUES
            ('a1', 'someone@example.org', 'c1', 'paid', now(), NULL, 5, 'linear');
    """
    with pg_warehouse(setup) as dsn:
        warehouse = warehouse_from_url(dsn)
        found = check_conformance(warehouse, CONTRACT)
        assert found.table_exists and found.issues == []
        samples = sample_values(warehouse, CONTRACT)
        assert samples is not None and samples["user_id"] == ["someone@example.org"]
