"""Pure unit tests of govern() and scrub_error(): no database, milliseconds each."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from querying.governor import (
    ColumnPolicy,
    GovernedQuery,
    Policy,
    ProductPolicy,
    QueryRefused,
    govern,
    scrub_error,
)
from tests.querying.conftest import (
    DRAFT_REFUSAL,
    FORBIDDEN,
    HASH_KEY,
    LEGACY_WARNING,
    PII,
    leaked,
    make_policy,
    user_id,
)

POLICY = make_policy()


def gov(sql: str, dialect: str = "duckdb", **kwargs: object) -> GovernedQuery:
    kwargs.setdefault("pii_columns", PII)
    kwargs.setdefault("forbidden_names", FORBIDDEN)
    return govern(sql, POLICY, dialect=dialect, **kwargs)  # type: ignore[arg-type]


def refused(sql: str, dialect: str = "duckdb", **kwargs: object) -> QueryRefused:
    with pytest.raises(QueryRefused) as info:
        gov(sql, dialect, **kwargs)
    return info.value


def physical_tables(sql: str, dialect: str) -> list[str]:
    return [t.name for t in sqlglot.parse_one(sql, read=dialect).find_all(exp.Table)]


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_product_reference_becomes_masked_derived_table(dialect: str) -> None:
    governed = gov("SELECT user_id FROM marketing.campaign_attribution", dialect)
    schema = "main" if dialect == "duckdb" else "public"
    assert f'FROM "{schema}"."marketing_campaign_attribution") AS campaign_attribution' in (
        governed.sql
    )
    assert physical_tables(governed.sql, dialect) == ["marketing_campaign_attribution"]
    assert governed.products == ["marketing.campaign_attribution"]
    assert "marketing.campaign_attribution.user_id" in governed.masked_columns
    assert "marketing.campaign_attribution.campaign" not in governed.masked_columns


def test_every_column_is_projected_in_table_order() -> None:
    governed = gov("SELECT * FROM campaign_attribution")
    inner = sqlglot.parse_one(governed.sql, read="duckdb").find(exp.Subquery)
    assert inner is not None
    names = [e.alias_or_name for e in inner.this.expressions]
    assert names == [
        "user_id",
        "email",
        "phone",
        "ssn",
        "notes",
        "campaign",
        "revenue",
        "event_date",
    ]


def test_user_alias_is_kept_for_qualified_references() -> None:
    governed = gov("SELECT t.user_id FROM campaign_attribution AS t WHERE t.revenue > 1")
    assert ") AS t WHERE t.revenue > 1" in governed.sql


def test_pii_columns_include_raw_but_pii_columns() -> None:
    admin = make_policy(raw=True)
    governed = govern(
        "SELECT * FROM campaign_attribution", admin, dialect="duckdb", pii_columns=PII
    )
    assert governed.masked_columns == []
    assert "marketing.campaign_attribution.email" in governed.pii_columns
    assert "marketing.campaign_attribution.campaign" not in governed.pii_columns


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_hash_key_is_never_in_the_sql_only_in_the_session(dialect: str) -> None:
    for sql in (
        "SELECT phone FROM campaign_attribution",
        "SELECT phone, count(*) FROM campaign_attribution GROUP BY phone",  # late hashing
        "SELECT upper(phone) FROM campaign_attribution GROUP BY phone",
    ):
        governed = govern(sql, make_policy(), dialect=dialect)
        assert HASH_KEY not in governed.sql
        assert HASH_KEY not in repr(governed)
        assert list(governed.session.values()) == [HASH_KEY]


def test_no_session_when_no_column_is_hashed() -> None:
    raw = govern("SELECT phone FROM campaign_attribution", make_policy(raw=True), dialect="duckdb")
    assert "MD5" not in raw.sql and raw.session == {}


def test_hash_mask_is_one_keyed_md5_compared_bytewise() -> None:
    pg = govern("SELECT phone FROM campaign_attribution", make_policy(), dialect="postgres").sql
    assert pg.count("MD5(") == 1
    key = "(SELECT CURRENT_SETTING('portal.hash_key'))"
    assert f'MD5({key} || CAST("phone" AS TEXT)) COLLATE "C"' in pg
    duck = govern("SELECT phone FROM campaign_attribution", make_policy(), dialect="duckdb").sql
    assert duck.count("MD5(") == 1
    key = "GETVARIABLE('portal_hash_key')"
    assert f'MD5({key} || CAST("phone" AS TEXT) COLLATE "binary")' in duck


def test_deprecated_product_is_readable_with_a_warning() -> None:
    governed = gov("SELECT * FROM marketing.legacy_clicks")
    assert governed.warnings == [LEGACY_WARNING]


def test_draft_product_is_refused_with_its_message() -> None:
    error = refused("SELECT * FROM finance.ledger")
    assert (error.code, error.message, error.http_status) == (
        "PRODUCT_NOT_QUERYABLE",
        DRAFT_REFUSAL,
        400,
    )


def test_retired_product_uses_its_refusal_code() -> None:
    assert refused("SELECT * FROM ops_retired").code == "PRODUCT_RETIRED"


@pytest.mark.parametrize("name", ["hr.salaries", "hr_salaries", "HR_SALARIES"])
def test_forbidden_product_is_403(name: str) -> None:
    error = refused(f"SELECT * FROM {name}")
    assert (error.code, error.http_status) == ("FORBIDDEN_PRODUCT", 403)


def test_unknown_table_is_400() -> None:
    error = refused("SELECT * FROM secrets")
    assert (error.code, error.http_status) == ("UNKNOWN_TABLE", 400)


@pytest.mark.parametrize(
    ("sql", "limit"),
    [
        ("SELECT * FROM web.events", 10001),
        ("SELECT * FROM web.events LIMIT 5", 5),
        ("SELECT * FROM web.events LIMIT 10000", 10000),
        ("SELECT * FROM web.events LIMIT 999999", 10001),
        ("SELECT * FROM web.events LIMIT ALL", 10001),
        ("SELECT * FROM web.events FETCH FIRST 7 ROWS ONLY", 7),
        ("SELECT id FROM web.events UNION SELECT id FROM web.events LIMIT 20000", 10001),
        ("(SELECT id FROM web.events) LIMIT 3", 3),
    ],
)
def test_top_level_limit_is_capped_at_max_rows_plus_one(sql: str, limit: int) -> None:
    tree = sqlglot.parse_one(gov(sql).sql, read="duckdb")
    assert tree.args["limit"].expression.this == str(limit)


def test_offset_is_kept() -> None:
    assert "LIMIT 10001 OFFSET 5" in gov("SELECT * FROM web.events OFFSET 5").sql


def test_no_cap_when_max_rows_is_none() -> None:
    governed = govern("SELECT * FROM web.events", make_policy(max_rows=None), dialect="duckdb")
    assert "LIMIT" not in governed.sql
    assert governed.max_rows is None


@pytest.mark.parametrize(
    "sql", ["SELECT 1 LIMIT (SELECT 1)", "SELECT 1 LIMIT 10 PERCENT", "SELECT 1 LIMIT 1 + 1"]
)
def test_non_literal_limit_is_refused(sql: str) -> None:
    assert refused(sql).code in {"LIMIT_NOT_LITERAL", "LIMIT_NOT_ALLOWED"}


def test_comments_are_dropped() -> None:
    governed = gov("SELECT /* hello */ id -- bye\nFROM web.events")
    assert "hello" not in governed.sql and "bye" not in governed.sql


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("", "EMPTY_QUERY"),
        ("   \n\t", "EMPTY_QUERY"),
        ("-- only a comment", "EMPTY_QUERY"),
        ("SELECT 1\x00", "INVALID_CHARACTER"),
        ("SELECT 1\x1b", "INVALID_CHARACTER"),
        ("SELECT * FROM se\u200bcrets", "INVALID_CHARACTER"),
        ("SELECT '\u202e' AS x", "INVALID_CHARACTER"),
        ("SELECT 1\u2028", "INVALID_CHARACTER"),
        ("SELECT 1 " + "-" * 100_001, "QUERY_TOO_LONG"),
        ("SELEC 1", "PARSE_ERROR"),
        ("SELECT (1", "PARSE_ERROR"),
        ("SELECT 1; SELECT 2", "MULTIPLE_STATEMENTS"),
        ("DROP TABLE secrets", "NOT_A_SELECT"),
        ("PRAGMA table_info('secrets')", "NOT_A_SELECT"),
    ],
)
def test_text_gate_and_statement_shape(sql: str, code: str) -> None:
    assert refused(sql).code == code


def test_parse_error_message_is_readable() -> None:
    error = refused("SELECT FROM WHERE")
    assert error.message.startswith("could not parse the query")
    assert "Traceback" not in error.message and "\x1b" not in error.message


def test_tabs_and_newlines_are_fine() -> None:
    assert gov("SELECT\tid\r\nFROM web.events").products == ["web.events"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT getenv('HOME')",
        "SELECT current_setting('x')",
        "SELECT version()",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM range(3)",
        "SELECT pg_catalog.upper('a')",
        "SELECT CAST('secrets' AS REGCLASS)",
        "SELECT ?",
    ],
)
def test_allowlist_fails_closed(sql: str) -> None:
    assert refused(sql).code in {
        "FUNCTION_NOT_ALLOWED",
        "TABLE_FUNCTION_NOT_ALLOWED",
        "DISALLOWED_SYNTAX",
        "TYPE_NOT_ALLOWED",
        "PARSE_ERROR",
    }


def test_niladic_postgres_functions_are_refused() -> None:
    for name in ("current_user", "session_user", "user", "current_catalog"):
        assert refused(f"SELECT {name}", "postgres").code in {
            "FUNCTION_NOT_ALLOWED",
            "DISALLOWED_SYNTAX",
        }


def test_cte_self_reference_in_non_recursive_with_is_the_table() -> None:
    assert refused("WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets").code == (
        "UNKNOWN_TABLE"
    )


def test_quoted_cte_name_does_not_capture_an_unquoted_table_in_postgres() -> None:
    sql = 'WITH "SECRETS" AS (SELECT 1 AS x) SELECT * FROM secrets'
    assert refused(sql, "postgres").code == "UNKNOWN_TABLE"


def test_user_cte_cannot_capture_the_physical_table() -> None:
    sql = (
        "WITH marketing_campaign_attribution AS (SELECT 'x' AS user_id) "
        "SELECT * FROM marketing.campaign_attribution"
    )
    governed = gov(sql)
    assert '"main"."marketing_campaign_attribution"' in governed.sql


def test_recursive_anchor_cannot_reach_a_table_named_like_the_cte() -> None:
    sql = (
        "WITH RECURSIVE secrets(n) AS (SELECT * FROM secrets UNION ALL "
        "SELECT n + 1 FROM secrets WHERE n < 3) SELECT * FROM secrets"
    )
    assert refused(sql).code == "UNKNOWN_TABLE"


def test_recursive_cte_is_allowed() -> None:
    sql = (
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) "
        "SELECT * FROM r"
    )
    assert gov(sql).products == []


def test_ambiguous_names_are_refused() -> None:
    policy = Policy(
        products=(
            ProductPolicy("a.x", "a_x", (ColumnPolicy("c", None),), names=("x",)),
            ProductPolicy("b.x", "b_x", (ColumnPolicy("c", None),), names=("x",)),
        ),
        hash_key="k",
    )
    with pytest.raises(QueryRefused) as info:
        govern("SELECT * FROM x", policy, dialect="duckdb")
    assert info.value.code == "AMBIGUOUS_TABLE"


def test_unsupported_dialect_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        govern("SELECT 1", POLICY, dialect="mysql")


def test_governor_does_not_import_django() -> None:
    import sys

    import querying.governor.core as core

    assert "django" not in (core.__dict__.get("__builtins__") or {})
    source = "".join(
        open(m.__file__).read()  # noqa: SIM115 - tiny files, read once
        for name, m in sys.modules.items()
        if name.startswith("querying.governor") and m.__file__
    )
    assert "import django" not in source and "from django" not in source


# scrub_error -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        f"Conversion Error: Could not convert string '{user_id(1)}' to INT32",
        f'invalid input syntax for type integer: "{user_id(2)}"',
        f"duplicate key value\nDETAIL:  Key (user_id)=({user_id(3)}) already exists.",
        f"LINE 1: SELECT md5('{HASH_KEY}' || x)\n               ^",
        "Out of Range Error: value 0785551120 is out of range",
        "some error for zelda1.quix@privmail1.test",
        f"error near $$ {user_id(4)} $$",
    ],
)
def test_scrub_error_removes_values(message: str) -> None:
    cleaned = scrub_error(message)
    assert not leaked(cleaned), cleaned
    assert "0785551120" not in cleaned


def test_scrub_error_keeps_known_identifiers() -> None:
    cleaned = scrub_error('column "user_idd" does not exist', keep=["user_id"])
    assert cleaned == 'column "…" does not exist'
    assert scrub_error('column "revenue" is bad', keep=["revenue"]) == 'column "revenue" is bad'
