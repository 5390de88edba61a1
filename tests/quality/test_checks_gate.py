"""quality/checks/gate.py: the default custom-SQL gate (pure, no database)."""

from __future__ import annotations

import pytest

from quality.checks import ProductSpec
from quality.checks.gate import CustomSqlRefused, gate_custom_sql

SPEC = ProductSpec("marketing.campaign_attribution", "marketing_campaign_attribution")


@pytest.mark.parametrize(
    ("sql", "dialect", "expected"),
    [
        (
            "SELECT count(*) FROM campaign_attribution WHERE spend < 0",
            "duckdb",
            'SELECT COUNT(*) FROM "marketing_campaign_attribution" AS campaign_attribution '
            "WHERE spend < 0",
        ),
        (
            "select count(*) from marketing.campaign_attribution c where c.spend < 0 -- why",
            "postgres",
            'SELECT COUNT(*) FROM "marketing_campaign_attribution" AS c WHERE c.spend < 0',
        ),
        (
            "SELECT count(*) FROM marketing_campaign_attribution",
            "postgres",
            'SELECT COUNT(*) FROM "marketing_campaign_attribution"',
        ),
        (
            "WITH x AS (SELECT * FROM campaign_attribution) SELECT count(*) FROM x",
            "duckdb",
            'WITH x AS (SELECT * FROM "marketing_campaign_attribution" AS campaign_attribution) '
            "SELECT COUNT(*) FROM x",
        ),
    ],
)
def test_product_references_are_rewritten_to_the_physical_table(
    sql: str, dialect: str, expected: str
) -> None:
    assert gate_custom_sql(sql, spec=SPEC, dialect=dialect) == expected


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("DROP TABLE marketing_campaign_attribution", "must be a SELECT"),
        ("DELETE FROM campaign_attribution", "must be a SELECT"),
        ("SELECT * FROM read_csv('/etc/passwd')", "table function read_csv"),
        ("SELECT * FROM '/etc/passwd'", "may read only"),
        ("SELECT count(*) FROM other_table", "may read only"),
        ("SELECT 1 UNION ALL SELECT count(*) FROM finance.ledger", "may read only"),
        ("SELECT count(*) FROM information_schema.tables", "system catalog"),
        ("SELECT * FROM duckdb_tables()", "table function duckdb_tables"),
        ("SELECT * FROM range(10)", "table function"),
        ("SELECT getenv('HOME')", "function getenv"),
        ("SELECT 1; SELECT 2", "exactly one statement"),
        ("SELEC 1", "does not parse"),
        ("PRAGMA version", "must be a SELECT"),
        ("SELECT 1\u202e", "invisible"),
    ],
)
def test_duckdb_refusals(sql: str, reason: str) -> None:
    with pytest.raises(CustomSqlRefused, match=reason):
        gate_custom_sql(sql, spec=SPEC, dialect="duckdb")


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT 1 INTO copied", "INTO"),
        ("SELECT * FROM pg_catalog.pg_class", "system catalog"),
        ("SELECT count(*) FROM pg_shadow", "system catalog"),
        ("SELECT pg_read_file('/etc/passwd')", "function pg_read_file"),
        ("SELECT set_config('statement_timeout', '0', true)", "function set_config"),
        ("SELECT query_to_xml('select 1', true, true, '')", "function query_to_xml"),
        ("SELECT * FROM generate_series(1, 3) g", "table function"),
        ("COPY marketing_campaign_attribution TO '/tmp/x'", "SELECT"),
    ],
)
def test_postgres_refusals(sql: str, reason: str) -> None:
    with pytest.raises(CustomSqlRefused, match=reason):
        gate_custom_sql(sql, spec=SPEC, dialect="postgres")
