"""quality/checks/gate.py: custom SQL goes through the query governor, PII through its masks."""

from __future__ import annotations

import pytest

from quality.checks import ColumnSpec, ProductSpec
from quality.checks.gate import CustomSqlRefused, gate_custom_sql

SPEC = ProductSpec(
    "marketing.campaign_attribution",
    "marketing_campaign_attribution",
    columns=(
        ColumnSpec("user_id", "string", pii=True, mask="hash"),
        ColumnSpec("email", "string", pii=True, mask="email"),
        ColumnSpec("spend", "float"),
    ),
)


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) FROM campaign_attribution WHERE spend < 0",
        "select count(*) from marketing.campaign_attribution c where c.spend < 0 -- why",
        "SELECT count(*) FROM marketing_campaign_attribution",
        "WITH x AS (SELECT * FROM campaign_attribution) SELECT count(*) FROM x",
        "SELECT count(*) FROM campaign_attribution WHERE user_id IS NULL AND email LIKE '%*'",
    ],
)
def test_the_product_is_read_through_the_governor_projection(sql: str, dialect: str) -> None:
    gated = gate_custom_sql(sql, spec=SPEC, dialect=dialect, hash_key="k" * 32)
    assert '"marketing_campaign_attribution"' in gated.sql
    assert "--" not in gated.sql
    # PII columns are masked in the projection the check reads (those it names, or all of them
    # under a star: the governor leaves out the columns a query does not name); the key is not
    # in the SQL.
    assert '"user_id"' not in gated.sql or "MD5(" in gated.sql
    assert '"email"' not in gated.sql or "'***@'" in gated.sql
    if "SELECT *" in sql or "user_id" in sql:
        assert "MD5(" in gated.sql and "'***@'" in gated.sql
    assert "k" * 32 not in gated.sql and list(gated.session.values()) == ["k" * 32]
    assert gated.masked_columns == ("user_id", "email")


def test_columns_that_are_not_pii_are_read_raw() -> None:
    spec = ProductSpec("shop.orders", "shop_orders", columns=(ColumnSpec("amount", "float"),))
    gated = gate_custom_sql(
        "SELECT count(*) FROM orders WHERE amount < 0", spec=spec, dialect="duckdb"
    )
    assert 'SELECT "amount" FROM "main"."shop_orders"' in gated.sql
    assert gated.session == {} and gated.masked_columns == ()


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("DROP TABLE marketing_campaign_attribution", "only SELECT"),
        ("DELETE FROM campaign_attribution", "only SELECT"),
        ("SELECT * FROM read_csv('/etc/passwd')", "only named tables"),
        ("SELECT * FROM '/etc/passwd'", "unknown table|only named tables"),
        ("SELECT count(*) FROM other_table", "unknown table other_table"),
        ("SELECT 1 UNION ALL SELECT count(*) FROM finance.ledger", "unknown table"),
        ("SELECT count(*) FROM information_schema.tables", "unknown table"),
        ("SELECT * FROM duckdb_tables()", "table functions|not allowed"),
        ("SELECT * FROM range(10)", "table functions|not allowed"),
        ("SELECT getenv('HOME')", "not allowed"),
        ("SELECT getvariable('portal_hash_key')", "not allowed"),
        ("SELECT 1; SELECT 2", "only one statement"),
        ("SELEC 1", "could not parse"),
        ("PRAGMA version", "only SELECT"),
        ("SELECT 1\u202e", "invisible"),
        ("", "needs params.sql"),
        (
            'WITH "mar\u212aeting_campaign_attribution" AS (SELECT 1) '
            "SELECT count(*) FROM marketing_campaign_attribution",
            "look alike",
        ),
    ],
)
def test_duckdb_refusals(sql: str, reason: str) -> None:
    with pytest.raises(CustomSqlRefused, match=reason):
        gate_custom_sql(sql, spec=SPEC, dialect="duckdb")


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT 1 INTO copied", "not allowed"),
        ("SELECT * FROM pg_catalog.pg_class", "unknown table"),
        ("SELECT count(*) FROM pg_shadow", "unknown table"),
        ("SELECT pg_read_file('/etc/passwd')", "not allowed"),
        ("SELECT set_config('statement_timeout', '0', true)", "not allowed"),
        ("SELECT current_setting('portal.hash_key')", "not allowed"),
        ("SELECT query_to_xml('select 1', true, true, '')", "not allowed"),
        ("SELECT * FROM generate_series(1, 3) g", "table functions|not allowed"),
        ("COPY marketing_campaign_attribution TO '/tmp/x'", "only SELECT"),
    ],
)
def test_postgres_refusals(sql: str, reason: str) -> None:
    with pytest.raises(CustomSqlRefused, match=reason):
        gate_custom_sql(sql, spec=SPEC, dialect="postgres")


def test_a_product_without_columns_cannot_be_read() -> None:
    with pytest.raises(CustomSqlRefused, match="declares no columns"):
        gate_custom_sql("SELECT 0", spec=ProductSpec("a.b", "a_b"), dialect="duckdb")
