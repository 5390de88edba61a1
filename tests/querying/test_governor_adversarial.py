"""Adversarial suite: governed queries executed on a real DuckDB file and a real PostgreSQL.

Every case, on every engine, asserts that no raw PII value (nor the hash key) appears in any
cell or in the (scrubbed) error text, that legitimate queries return the right rows, and that the
warehouse is unchanged afterwards. PostgreSQL runs are marked ``integration`` and skip unless
PORTAL_TEST_PG_URL is set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from querying.governor import GovernedQuery, Policy, QueryRefused, govern, scrub_error
from querying.warehouses import QueryTimeout, Result, Warehouse, WarehouseError
from querying.warehouses.spark import CARTESIAN_REFUSED
from tests.querying.conftest import (
    EVENTS,
    FORBIDDEN,
    HASH_KEY,
    PII,
    ROWS,
    TOTAL_CAMPAIGN_ROWS,
    email,
    engine_warehouse,
    leaked,
    make_policy,
    phone,
    snapshot,
    ssn,
    user_id,
)

TIMEOUT_S = 5.0
Check = Callable[[Result], object]


@dataclass(frozen=True)
class Case:
    """One attack or legitimate query and what is acceptable for it."""

    sql: str | dict[str, str]  # per-dialect SQL when the spelling differs
    expect: str = "ok"  # "ok" | "refused" | "error" (engine error) | "safe" (anything, no leak)
    codes: tuple[str, ...] = ()  # acceptable refusal codes (empty: any)
    rows: int | None = None
    check: Check | None = None
    only: str | None = None  # "duckdb" | "postgres"
    # Spark's own outcome where it differs: "cartesian" is the adapter's refusal of a join that
    # relates no tables (querying/warehouses/spark.py, CARTESIAN_REFUSED).
    on_spark: str | None = None
    timeout_s: float = TIMEOUT_S
    allow_timeout: bool = False
    policy: Policy | None = None
    truncated: bool | None = None
    extra: dict[str, object] = field(default_factory=dict)


def ok(sql: str | dict[str, str], **kw: object) -> Case:
    return Case(sql, "ok", **kw)  # type: ignore[arg-type]


def no(sql: str | dict[str, str], *codes: str, **kw: object) -> Case:
    return Case(sql, "refused", codes=codes, **kw)  # type: ignore[arg-type]


def safe(sql: str | dict[str, str], **kw: object) -> Case:
    return Case(sql, "safe", **kw)  # type: ignore[arg-type]


def err(sql: str | dict[str, str], **kw: object) -> Case:
    return Case(sql, "error", **kw)  # type: ignore[arg-type]


def first(value: object) -> Check:
    def check(result: Result) -> None:
        assert result.rows and result.rows[0][0] == value, result.rows[:3]

    return check


def all_cells(predicate: Callable[[object], bool], column: int = 0) -> Check:
    def check(result: Result) -> None:
        assert result.rows
        bad = [r[column] for r in result.rows if not predicate(r[column])]
        assert not bad, bad[:3]

    return check


def is_masked_id(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.startswith("***"))


def is_masked_email(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.startswith("***@privmail"))


def is_hash(value: object) -> bool:
    return value is None or (
        isinstance(value, str) and len(value) == 32 and set(value) <= set("0123456789abcdef")
    )


U1 = user_id(1)
NOT_SPARK = "duckdb,postgres"  # Case.only: what Spark does not support (an engine error there)
ADMIN = make_policy(raw=True)
CAPPED = make_policy(max_rows=100)
ANY_REFUSAL: tuple[str, ...] = ()
UNKNOWN = ("UNKNOWN_TABLE",)
NOT_SELECT = ("NOT_A_SELECT", "PARSE_ERROR", "DISALLOWED_SYNTAX")
FUNC = ("FUNCTION_NOT_ALLOWED", "TABLE_FUNCTION_NOT_ALLOWED", "DISALLOWED_SYNTAX", "PARSE_ERROR")
CATALOG = ("UNKNOWN_TABLE", *FUNC)
# 2000^4 rows and a string predicate no optimizer can prove empty: only the timeout ends it.
EXPENSIVE = (
    "SELECT count(*) FROM web.events a, web.events b, web.events c, web.events d "
    "WHERE a.page || b.page || c.page || d.page = 'x'"
)

CASES: dict[str, Case] = {
    # --- stars, aliases, names -------------------------------------------------------------
    "star_product_id": ok(
        "SELECT * FROM marketing.campaign_attribution",
        rows=TOTAL_CAMPAIGN_ROWS,
        check=all_cells(is_masked_id),
    ),
    "star_extra_name": ok("SELECT * FROM campaign_attribution", rows=TOTAL_CAMPAIGN_ROWS),
    "star_physical_name": ok("SELECT * FROM marketing_campaign_attribution", rows=13),
    "qualified_star": ok("SELECT c.* FROM campaign_attribution c", check=all_cells(is_masked_id)),
    "table_name_star": ok("SELECT campaign_attribution.* FROM campaign_attribution", rows=13),
    "physical_qualified_column": ok(
        "SELECT marketing_campaign_attribution.user_id FROM marketing_campaign_attribution",
        check=all_cells(is_masked_id),
    ),
    "column_aliases": ok(
        "SELECT t.user_id AS u, t.email AS e FROM campaign_attribution AS t",
        check=all_cells(is_masked_email, 1),
    ),
    "self_join_on_masked": ok(
        "SELECT a.user_id FROM campaign_attribution a JOIN campaign_attribution b "
        "ON a.user_id = b.user_id",
        rows=ROWS,
    ),
    "upper_case_names": ok("SELECT USER_ID FROM CAMPAIGN_ATTRIBUTION", rows=13),
    "mixed_case_product_id": ok("SELECT * FROM Marketing.Campaign_Attribution", rows=13),
    "quoted_product_id": ok('SELECT * FROM "marketing"."campaign_attribution"', rows=13),
    # DuckDB compares quoted names case-insensitively, PostgreSQL exactly: so does the governor.
    "quoted_upper_physical": ok(
        'SELECT "user_id" FROM "MARKETING_CAMPAIGN_ATTRIBUTION"', only="duckdb"
    ),
    "quoted_upper_physical_pg": no(
        'SELECT "user_id" FROM "MARKETING_CAMPAIGN_ATTRIBUTION"', "UNKNOWN_TABLE", only="postgres"
    ),
    "quoted_upper_column": safe('SELECT "USER_ID" FROM campaign_attribution'),
    "schema_qualified_physical": ok(
        {
            "duckdb": "SELECT * FROM main.marketing_campaign_attribution",
            "postgres": "SELECT * FROM public.marketing_campaign_attribution",
        },
        rows=13,
    ),
    "three_part_name": no("SELECT * FROM x.main.marketing_campaign_attribution", *UNKNOWN),
    "star_exclude": ok(
        "SELECT * EXCLUDE (email) FROM campaign_attribution",
        only="duckdb",
        check=all_cells(is_masked_id),
    ),
    "star_replace": ok(
        "SELECT * REPLACE (upper(user_id) AS user_id) FROM campaign_attribution",
        only="duckdb",
        check=all_cells(is_masked_id),
    ),
    "columns_regex": ok("SELECT COLUMNS('.*') FROM campaign_attribution", only="duckdb"),
    "alias_column_list": ok(
        "SELECT a, b FROM campaign_attribution AS c(a, b)",
        check=all_cells(is_masked_id),
        only=NOT_SPARK,
    ),
    # Spark wants a name for every column of the table.
    "alias_column_list_spark": err(
        "SELECT a, b FROM campaign_attribution AS c(a, b)", only="spark"
    ),
    "schema_qualified_column": ok(
        "SELECT marketing.campaign_attribution.user_id FROM marketing.campaign_attribution",
        check=all_cells(is_masked_id),
    ),
    "order_by_all": ok(
        "SELECT campaign, count(*) FROM campaign_attribution GROUP BY ALL ORDER BY ALL",
        only="duckdb",
        rows=2,
    ),
    "from_first": ok("FROM campaign_attribution", only="duckdb", rows=13),
    "table_statement": ok("TABLE campaign_attribution", only="postgres", rows=13),
    "only_keyword": ok("SELECT * FROM ONLY campaign_attribution", only="postgres", rows=13),
    # --- functions over PII ----------------------------------------------------------------
    "upper": ok("SELECT upper(user_id) FROM campaign_attribution", check=all_cells(is_masked_id)),
    "lower_email": ok("SELECT lower(email) FROM campaign_attribution"),
    "concat": ok("SELECT concat(user_id, email, phone, ssn, notes) FROM campaign_attribution"),
    "dpipe": ok("SELECT user_id || '|' || email FROM campaign_attribution"),
    "substr": ok("SELECT substr(user_id, 1, 5) FROM campaign_attribution"),
    "substring_from_for": ok(
        "SELECT substring(user_id FROM 1 FOR 20) FROM campaign_attribution", only="postgres"
    ),
    "md5": ok("SELECT md5(user_id) FROM campaign_attribution WHERE user_id IS NOT NULL"),
    "reverse": ok("SELECT reverse(user_id) FROM campaign_attribution"),
    "cast_text": ok("SELECT CAST(user_id AS TEXT), email::varchar FROM campaign_attribution"),
    "length_is_masked_length": ok(
        "SELECT length(user_id) FROM campaign_attribution WHERE user_id IS NOT NULL",
        check=all_cells(lambda v: v == 7),
    ),
    "left_right": ok("SELECT left(email, 8), right(user_id, 12) FROM campaign_attribution"),
    "split_part": ok(
        "SELECT split_part(email, '@', 1) FROM campaign_attribution WHERE email IS NOT NULL",
        check=all_cells(lambda v: v == "***"),
    ),
    "replace_stars": ok("SELECT replace(user_id, '*', '') FROM campaign_attribution"),
    "string_agg": ok("SELECT string_agg(user_id, ',') FROM campaign_attribution", rows=1),
    "array_agg": ok("SELECT array_agg(email) FROM campaign_attribution", rows=1),
    "list_agg_duckdb": ok("SELECT list(email) FROM campaign_attribution", only="duckdb"),
    "to_json_row": ok(
        {
            "duckdb": "SELECT to_json(c) FROM campaign_attribution c",
            "postgres": "SELECT row_to_json(c) FROM campaign_attribution c",
        },
        rows=13,
    ),
    "struct_pack": ok(
        {
            "duckdb": "SELECT {'u': user_id, 'e': email} FROM campaign_attribution",
            "postgres": "SELECT ROW(user_id, email) FROM campaign_attribution",
        },
    ),
    "json_object": ok(
        {
            "duckdb": "SELECT json_object('u', user_id) FROM campaign_attribution",
            "postgres": "SELECT json_build_object('u', user_id) FROM campaign_attribution",
        },
    ),
    "ssn_is_null": ok(
        "SELECT coalesce(ssn, 'none') FROM campaign_attribution",
        check=all_cells(lambda v: v == "none"),
    ),
    "notes_redacted": ok(
        "SELECT DISTINCT notes FROM campaign_attribution", rows=1, check=first("[REDACTED]")
    ),
    "hash_keeps_distinct_count": ok(
        "SELECT count(DISTINCT phone) FROM campaign_attribution", check=first(ROWS)
    ),
    "hash_join_across_products": ok(
        "SELECT count(*) FROM campaign_attribution c JOIN sales.orders o "
        "ON c.phone = o.customer_phone",
        check=first(5),
    ),
    "min_max": ok("SELECT min(user_id), max(email) FROM campaign_attribution"),
    "ascii_of_mask": ok(
        "SELECT DISTINCT ascii(user_id) FROM campaign_attribution WHERE user_id IS NOT NULL",
        check=first(42),
    ),
    "regexp_replace": ok("SELECT regexp_replace(user_id, '[0-9]', 'x') FROM campaign_attribution"),
    "strpos_raw_prefix": ok(
        {
            "duckdb": "SELECT max(strpos(user_id, 'UIDZQ')) FROM campaign_attribution",
            "postgres": "SELECT max(position('UIDZQ' IN user_id)) FROM campaign_attribution",
        },
        check=first(0),
    ),
    "like_raw_prefix": ok(
        "SELECT count(*) FROM campaign_attribution WHERE user_id LIKE 'UIDZQ%'", check=first(0)
    ),
    "case_expression": ok(
        "SELECT CASE WHEN email LIKE '%quix%' THEN 'hit' ELSE 'miss' END FROM campaign_attribution",
        check=all_cells(lambda v: v == "miss"),
    ),
    "coalesce_chain": ok("SELECT coalesce(ssn, notes, user_id) FROM campaign_attribution"),
    "count_filter": ok(
        "SELECT count(*) FILTER (WHERE email LIKE 'zelda%') FROM campaign_attribution",
        check=first(0),
    ),
    "percentile": ok(
        {
            "duckdb": "SELECT quantile_cont(revenue, 0.5) FROM campaign_attribution",
            "postgres": "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY revenue) "
            "FROM campaign_attribution",
        },
    ),
    "date_functions": ok(
        "SELECT date_trunc('month', event_date), extract(year FROM event_date) "
        "FROM campaign_attribution",
    ),
    "interval_arith": ok("SELECT event_date + INTERVAL '1 day' FROM campaign_attribution"),
    "hash_is_hex": ok(
        "SELECT phone FROM campaign_attribution WHERE phone IS NOT NULL",
        check=all_cells(lambda v: isinstance(v, str) and len(v) == 32),
    ),
    # --- CTEs ------------------------------------------------------------------------------
    "cte_simple": ok(
        "WITH x AS (SELECT * FROM campaign_attribution) SELECT user_id FROM x",
        check=all_cells(is_masked_id),
    ),
    "cte_named_like_product": ok(
        "WITH campaign_attribution AS (SELECT * FROM marketing.campaign_attribution) "
        "SELECT user_id FROM campaign_attribution",
        check=all_cells(is_masked_id),
    ),
    "cte_shadows_physical_name": ok(
        "WITH marketing_campaign_attribution AS (SELECT 'fake' AS user_id) "
        "SELECT user_id FROM marketing_campaign_attribution",
        check=first("fake"),
    ),
    "cte_named_secrets": ok(
        "WITH secrets AS (SELECT 1 AS x) SELECT x FROM secrets", check=first(1)
    ),
    "cte_self_reference_is_table": no(
        "WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets", *UNKNOWN
    ),
    "cte_forward_reference": no(
        "WITH a AS (SELECT * FROM b), b AS (SELECT 1 AS x) SELECT * FROM a", *UNKNOWN
    ),
    "cte_quoted_upper_vs_table": safe('WITH "SECRETS" AS (SELECT 1 AS x) SELECT * FROM secrets'),
    "cte_lower_vs_quoted_table": safe('WITH secrets AS (SELECT 1 AS x) SELECT * FROM "SECRETS"'),
    "cte_out_of_scope": no(
        "SELECT * FROM (WITH s AS (SELECT 1 AS x) SELECT * FROM s) q, s", *UNKNOWN
    ),
    "cte_shadow_in_subquery_only": ok(
        "SELECT user_id FROM (WITH campaign_attribution AS (SELECT 'fake' AS user_id) "
        "SELECT user_id FROM campaign_attribution) q UNION ALL "
        "SELECT user_id FROM campaign_attribution",
        rows=TOTAL_CAMPAIGN_ROWS + 1,
    ),
    "cte_column_list": ok(
        "WITH x(a, b) AS (SELECT user_id, email FROM campaign_attribution) SELECT a, b FROM x",
        check=all_cells(is_masked_id),
    ),
    "cte_materialized": ok(
        "WITH x AS MATERIALIZED (SELECT user_id FROM campaign_attribution) SELECT * FROM x",
        rows=13,
        only=NOT_SPARK,
    ),
    "cte_nested": ok(
        "WITH a AS (WITH b AS (SELECT email FROM campaign_attribution) SELECT * FROM b) "
        "SELECT * FROM a",
        check=all_cells(is_masked_email),
    ),
    "cte_smuggles_secrets": no("WITH x AS (SELECT secret FROM secrets) SELECT * FROM x", *UNKNOWN),
    "recursive_bounded": ok(
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) "
        "SELECT n FROM r",
        rows=5,
    ),
    "recursive_unbounded": safe(
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r",
        timeout_s=2.0,
        allow_timeout=True,
    ),
    "recursive_anchor_reads_table": no(
        "WITH RECURSIVE secrets(n) AS (SELECT * FROM secrets UNION ALL "
        "SELECT n + 1 FROM secrets WHERE n < 3) SELECT * FROM secrets",
        *UNKNOWN,
    ),
    "recursive_non_union_body": no(
        "WITH RECURSIVE secrets AS (SELECT * FROM secrets) SELECT * FROM secrets", *UNKNOWN
    ),
    "recursive_over_product": ok(
        "WITH RECURSIVE r(u, n) AS (SELECT user_id, 1 FROM campaign_attribution "
        "UNION ALL SELECT u, n + 1 FROM r WHERE n < 2) SELECT u FROM r",
        rows=2 * TOTAL_CAMPAIGN_ROWS,
        check=all_cells(is_masked_id),
    ),
    # --- subqueries ------------------------------------------------------------------------
    "derived_table": ok("SELECT * FROM (SELECT * FROM campaign_attribution) s", rows=13),
    "scalar_subquery": ok(
        "SELECT (SELECT max(user_id) FROM campaign_attribution)", check=all_cells(is_masked_id)
    ),
    "in_subquery": ok(
        "SELECT count(*) FROM sales.orders WHERE user_id IN "
        "(SELECT user_id FROM campaign_attribution)",
        check=first(5),
    ),
    "exists_secrets": no("SELECT 1 WHERE EXISTS (SELECT 1 FROM secrets)", *UNKNOWN),
    "scalar_secrets": no("SELECT (SELECT secret FROM secrets)", *UNKNOWN),
    "correlated_subquery": ok(
        "SELECT o.order_id, (SELECT c.email FROM campaign_attribution c "
        "WHERE c.phone = o.customer_phone) FROM sales.orders o",
        rows=5,
        check=all_cells(is_masked_email, 1),
    ),
    "any_all": ok(
        "SELECT count(*) FROM sales.orders WHERE amount > ALL (SELECT revenue FROM "
        "campaign_attribution WHERE revenue < 0)",
        check=first(5),
        only=NOT_SPARK,  # Spark has no ALL (subquery)
    ),
    # --- set operations --------------------------------------------------------------------
    "union_products": ok(
        "SELECT user_id FROM campaign_attribution UNION ALL SELECT user_id FROM sales.orders",
        rows=TOTAL_CAMPAIGN_ROWS + 5,
        check=all_cells(is_masked_id),
    ),
    "union_secrets": no(
        "SELECT user_id FROM campaign_attribution UNION SELECT secret FROM secrets", *UNKNOWN
    ),
    "intersect": ok(
        "SELECT user_id FROM campaign_attribution INTERSECT SELECT user_id FROM sales.orders",
        rows=5,
    ),
    "except": ok(
        "SELECT user_id FROM sales.orders EXCEPT SELECT user_id FROM campaign_attribution",
        rows=0,
    ),
    "union_order_limit": ok(
        "SELECT id FROM web.events UNION ALL SELECT id FROM web.events ORDER BY 1 LIMIT 3",
        rows=3,
    ),
    "parenthesized_union": ok(
        "(SELECT id FROM web.events) UNION (SELECT id FROM web.events) LIMIT 2", rows=2
    ),
    "union_by_name": ok(
        "SELECT user_id FROM campaign_attribution UNION ALL BY NAME SELECT user_id FROM "
        "sales.orders",
        only="duckdb",
        rows=18,
    ),
    "union_forbidden": no(
        "SELECT name FROM web.events UNION SELECT salary FROM hr_salaries", "FORBIDDEN_PRODUCT"
    ),
    # --- windows ---------------------------------------------------------------------------
    "row_number": ok(
        "SELECT user_id, row_number() OVER (PARTITION BY campaign ORDER BY user_id) "
        "FROM campaign_attribution",
        check=all_cells(is_masked_id),
    ),
    "lag_lead": ok(
        "SELECT lag(user_id) OVER (ORDER BY event_date), lead(email) OVER (ORDER BY event_date) "
        "FROM campaign_attribution",
        check=all_cells(is_masked_id),
    ),
    "named_window": ok(
        "SELECT first_value(email) OVER w FROM campaign_attribution "
        "WINDOW w AS (PARTITION BY campaign ORDER BY revenue)",
        check=all_cells(is_masked_email),
    ),
    "count_over": ok("SELECT count(*) OVER () FROM campaign_attribution", check=first(13)),
    "qualify": ok(
        "SELECT user_id FROM campaign_attribution QUALIFY row_number() OVER "
        "(ORDER BY revenue DESC) = 1",
        only="duckdb",
        rows=1,
    ),
    "window_frame": ok(
        "SELECT sum(revenue) OVER (ORDER BY event_date ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)"
        " FROM campaign_attribution",
        rows=13,
    ),
    # --- LATERAL and VALUES ----------------------------------------------------------------
    "lateral_subquery": ok(
        "SELECT x.u FROM campaign_attribution c, LATERAL (SELECT c.user_id AS u) x",
        check=all_cells(is_masked_id),
    ),
    "lateral_secrets": no(
        "SELECT * FROM campaign_attribution c, LATERAL (SELECT secret FROM secrets) x", *UNKNOWN
    ),
    "lateral_table_function": no(
        "SELECT * FROM campaign_attribution c CROSS JOIN LATERAL generate_series(1, 2) g", *FUNC
    ),
    "values_in_from": ok("SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(id, name)", rows=2),
    "values_join": ok(
        "SELECT c.user_id FROM campaign_attribution c JOIN (VALUES ('spring')) AS v(k) "
        "ON c.campaign = v.k",
        rows=7,
        check=all_cells(is_masked_id),
    ),
    # --- positional and struct access, whole rows ------------------------------------------
    "positional_columns": ok(
        "SELECT #1, #2 FROM campaign_attribution", only="duckdb", check=all_cells(is_masked_id)
    ),
    "positional_order": ok(
        "SELECT user_id FROM campaign_attribution ORDER BY #1", only="duckdb", rows=13
    ),
    "whole_row": ok("SELECT c FROM campaign_attribution c", rows=13, only=NOT_SPARK),
    "whole_row_by_table_name": ok(
        "SELECT campaign_attribution FROM campaign_attribution", rows=13, only=NOT_SPARK
    ),
    # Spark has no whole-row references: the name is an unknown column there.
    "whole_row_spark": err("SELECT c FROM campaign_attribution c", only="spark"),
    "whole_row_physical_name": safe(
        "SELECT marketing_campaign_attribution FROM marketing.campaign_attribution"
    ),
    "composite_field": ok(
        "SELECT (c).user_id FROM campaign_attribution c",
        only="postgres",
        check=all_cells(is_masked_id),
    ),
    "struct_field": ok(
        "SELECT s.u FROM (SELECT {'u': user_id} AS s FROM campaign_attribution) q",
        only="duckdb",
        check=all_cells(is_masked_id),
    ),
    "struct_bracket": ok(
        "SELECT s['u'] FROM (SELECT {'u': user_id} AS s FROM campaign_attribution) q",
        only="duckdb",
        check=all_cells(is_masked_id),
    ),
    "list_index": ok(
        "SELECT (list(user_id ORDER BY user_id))[1] FROM campaign_attribution",
        only="duckdb",
        check=all_cells(is_masked_id),
    ),
    "row_attr_function_notation": safe(
        "SELECT c.current_setting FROM campaign_attribution c", only="postgres"
    ),
    # --- inference through predicates ------------------------------------------------------
    "where_equals_raw": ok(
        f"SELECT count(*) FROM campaign_attribution WHERE user_id = '{U1}'", check=first(0)
    ),
    "where_email_raw": ok(
        f"SELECT count(*) FROM campaign_attribution WHERE email = '{email(1)}'", check=first(0)
    ),
    "where_ssn_not_null": ok(
        "SELECT count(*) FROM campaign_attribution WHERE ssn IS NOT NULL", check=first(0)
    ),
    "where_phone_unkeyed_md5": ok(
        f"SELECT count(*) FROM campaign_attribution WHERE phone = md5('{phone(1)}')",
        check=first(0),
    ),
    "join_on_raw": ok(
        f"SELECT count(*) FROM campaign_attribution a JOIN sales.orders b ON a.user_id = '{U1}'",
        check=first(0),
        on_spark="cartesian",
    ),
    "having_raw": ok(
        f"SELECT user_id FROM campaign_attribution GROUP BY user_id HAVING user_id = '{U1}'",
        rows=0,
    ),
    "length_probe": ok(
        "SELECT count(*) FROM campaign_attribution WHERE length(user_id) > 7", check=first(0)
    ),
    "case_probe": ok(
        f"SELECT sum(CASE WHEN ssn = '{ssn(1)}' THEN 1 ELSE 0 END) FROM campaign_attribution",
        check=first(0),
    ),
    "substr_probe": ok(
        "SELECT count(*) FROM campaign_attribution WHERE substr(user_id, 1, 5) = 'UIDZQ'",
        check=first(0),
    ),
    "group_by_masked": ok(
        "SELECT user_id, count(*) FROM campaign_attribution GROUP BY 1 ORDER BY 1",
        check=all_cells(is_masked_id),
    ),
    "email_domain_is_visible": ok(
        "SELECT count(DISTINCT email) FROM campaign_attribution", check=first(3)
    ),
    # --- multiple statements ---------------------------------------------------------------
    "two_selects": no("SELECT 1; SELECT 2", "MULTIPLE_STATEMENTS"),
    "select_then_drop": no("SELECT 1; DROP TABLE secrets", "MULTIPLE_STATEMENTS"),
    "select_then_secrets": no(
        "SELECT * FROM campaign_attribution; SELECT * FROM secrets", "MULTIPLE_STATEMENTS"
    ),
    "trailing_semicolon": ok("SELECT 1 AS one;", check=first(1)),
    # --- comments and unicode tricks -------------------------------------------------------
    "line_comment_tail": ok(
        "SELECT count(*) FROM campaign_attribution -- ; DROP TABLE secrets", check=first(13)
    ),
    "block_comment_hides_from": ok("SELECT /* FROM secrets */ 1 AS one", check=first(1)),
    "comment_inside_from": no("SELECT * FROM /* x */ secrets", *UNKNOWN),
    "nested_block_comment": safe("SELECT 1 /* /* */ AS one, (SELECT secret FROM secrets) */"),
    "zero_width_name": no("SELECT * FROM se\u200bcrets", "INVALID_CHARACTER"),
    "bidi_override": no(
        "SELECT '\u202e' || user_id FROM campaign_attribution", "INVALID_CHARACTER"
    ),
    "nul_byte": no("SELECT 1\x00; DROP TABLE secrets", "INVALID_CHARACTER"),
    "bom": no("\ufeffSELECT 1", "INVALID_CHARACTER"),
    "homoglyph_table": no("SELECT * FROM \u0455ecrets", *UNKNOWN, "PARSE_ERROR"),
    "backslash_quote": safe("SELECT 'a\\' AS x, (SELECT secret FROM secrets) --'"),
    "e_string_backslash": safe("SELECT E'\\\\', ' FROM secrets --'", only="postgres"),
    "e_string_quote": safe("SELECT E'\\' FROM secrets --'", only="postgres"),
    "dollar_quote": ok("SELECT $$ FROM secrets $$ AS x", only="postgres", rows=1),
    "unicode_escape_ident": safe('SELECT * FROM U&"\\0073ecrets"', only="postgres"),
    "too_long": no("SELECT 1 " + " " * 100_001, "QUERY_TOO_LONG"),
    "empty": no("   ", "EMPTY_QUERY"),
    "comment_only": no("/* nothing */", "EMPTY_QUERY"),
    "deep_nesting": safe("SELECT " + "(" * 3000 + "1" + ")" * 3000),
    # --- DDL and DML -----------------------------------------------------------------------
    "drop": no("DROP TABLE secrets", *NOT_SELECT),
    "delete": no("DELETE FROM campaign_attribution", *NOT_SELECT),
    "update": no("UPDATE campaign_attribution SET user_id = 'x'", *NOT_SELECT),
    "insert": no("INSERT INTO secrets VALUES ('x')", *NOT_SELECT),
    "insert_select": no(
        "INSERT INTO secrets SELECT user_id FROM campaign_attribution", *NOT_SELECT
    ),
    "ctas": no("CREATE TABLE leak AS SELECT * FROM secrets", *NOT_SELECT),
    "create_view": no("CREATE VIEW v AS SELECT * FROM campaign_attribution", *NOT_SELECT),
    "alter": no("ALTER TABLE secrets ADD COLUMN x INT", *NOT_SELECT),
    "truncate": no("TRUNCATE secrets", *NOT_SELECT),
    "data_modifying_cte": no(
        "WITH x AS (DELETE FROM secrets RETURNING *) SELECT * FROM x",
        *NOT_SELECT,
        only="postgres",
    ),
    "select_into": no("SELECT * INTO leak FROM campaign_attribution", *NOT_SELECT),
    "for_update": no("SELECT * FROM campaign_attribution FOR UPDATE", *NOT_SELECT),
    "grant": no("GRANT SELECT ON secrets TO PUBLIC", *NOT_SELECT),
    "create_macro": no("CREATE MACRO m() AS (SELECT 1)", *NOT_SELECT, only="duckdb"),
    "vacuum": no("VACUUM", *NOT_SELECT),
    # --- COPY / ATTACH / INSTALL / LOAD / PRAGMA / SET / CALL / EXPORT ----------------------
    "copy_to_file": no("COPY secrets TO '/tmp/leak.csv'", *NOT_SELECT),
    "copy_query": no("COPY (SELECT * FROM secrets) TO '/tmp/leak.csv'", *NOT_SELECT),
    "attach": no("ATTACH '/tmp/other.duckdb' AS other", *NOT_SELECT),
    "detach": no("DETACH other", *NOT_SELECT),
    "install": no("INSTALL httpfs", *NOT_SELECT),
    "load": no("LOAD httpfs", *NOT_SELECT),
    "pragma": no("PRAGMA table_info('secrets')", *NOT_SELECT),
    "set": no("SET enable_external_access = true", *NOT_SELECT),
    "set_role": no("SET ROLE postgres", *NOT_SELECT),
    "reset": no("RESET ALL", *NOT_SELECT),
    "call": no("CALL pragma_version()", *NOT_SELECT),
    "export": no("EXPORT DATABASE '/tmp/leak'", *NOT_SELECT),
    "use": no("USE memory", *NOT_SELECT),
    "describe": no("DESCRIBE secrets", *NOT_SELECT),
    "show_tables": no("SHOW TABLES", *NOT_SELECT),
    "summarize": no("SUMMARIZE secrets", *NOT_SELECT),
    "explain": no("EXPLAIN SELECT * FROM secrets", *NOT_SELECT),
    "begin": no("BEGIN", *NOT_SELECT),
    "checkpoint": no("CHECKPOINT", *NOT_SELECT),
    "prepare": no("PREPARE p AS SELECT * FROM secrets", *NOT_SELECT),
    "set_config_fn": no("SELECT set_config('x', 'y', false)", *FUNC),
    # --- table functions and file paths ----------------------------------------------------
    "read_csv": no("SELECT * FROM read_csv('/etc/passwd')", *FUNC),
    "read_csv_auto": no("SELECT * FROM read_csv_auto('/etc/passwd')", *FUNC),
    "path_as_table": no("SELECT * FROM '/etc/passwd'", *CATALOG),
    "csv_as_table": no("SELECT * FROM 'secrets.csv'", *CATALOG),
    "read_parquet": no("SELECT * FROM read_parquet('x.parquet')", *FUNC),
    "read_text": no("SELECT * FROM read_text('/etc/passwd')", *FUNC),
    "glob_fn": no("SELECT * FROM glob('*')", *FUNC),
    "generate_series_table": no("SELECT * FROM generate_series(1, 3)", *FUNC),
    "range_table": no("SELECT * FROM range(10)", *FUNC),
    "query_fn": no("SELECT * FROM query('SELECT * FROM secrets')", *FUNC),
    "query_table_fn": no("SELECT * FROM query_table('secrets')", *FUNC),
    "unnest_table": no("SELECT * FROM unnest(ARRAY[1, 2])", *FUNC),
    "pg_read_file": no("SELECT pg_read_file('/etc/passwd')", *FUNC),
    "pg_ls_dir": no("SELECT * FROM pg_ls_dir('.')", *FUNC),
    "lo_import": no("SELECT lo_import('/etc/passwd')", *FUNC),
    "dblink": no("SELECT * FROM dblink('dbname=x', 'SELECT 1') AS t(x int)", *FUNC),
    "json_each": no("SELECT * FROM json_each('{\"a\": 1}')", *FUNC),
    "sniff_csv": no("SELECT * FROM sniff_csv('x.csv')", *FUNC),
    "read_json": no("SELECT * FROM read_json('/etc/passwd')", *FUNC),
    "query_to_xml": no("SELECT query_to_xml('select * from secrets', true, true, '')", *FUNC),
    # --- system catalogs and settings ------------------------------------------------------
    "information_schema": no("SELECT * FROM information_schema.tables", *CATALOG),
    "pg_catalog": no("SELECT * FROM pg_catalog.pg_tables", *CATALOG),
    "pg_tables": no("SELECT * FROM pg_tables", *CATALOG),
    "pg_stat_activity": no("SELECT query FROM pg_stat_activity", *CATALOG),
    "duckdb_tables": no("SELECT * FROM duckdb_tables()", *CATALOG),
    "duckdb_settings": no("SELECT * FROM duckdb_settings()", *CATALOG),
    "sqlite_master": no("SELECT * FROM sqlite_master", *CATALOG),
    "current_setting": no("SELECT current_setting('search_path')", *FUNC),
    "version": no("SELECT version()", *FUNC),
    "getenv": no("SELECT getenv('HOME')", *FUNC),
    "current_user": no("SELECT current_user", *FUNC),
    "session_user": no("SELECT session_user", *FUNC),
    "bare_user": no("SELECT user", *FUNC, only="postgres"),
    "current_database": no("SELECT current_database()", *FUNC),
    "regclass": no("SELECT 'secrets'::regclass", *FUNC, "TYPE_NOT_ALLOWED"),
    "pg_sleep": no("SELECT pg_sleep(10)", *FUNC),
    "nextval": no("SELECT nextval('s')", *FUNC),
    "schema_qualified_function": no("SELECT pg_catalog.upper('a')", *FUNC),
    "method_call": no("SELECT user_id.upper() FROM campaign_attribution", *FUNC),
    "txid_current": no("SELECT txid_current()", *FUNC),
    "current_query": no("SELECT current_query()", *FUNC),
    "getvariable": no("SELECT getvariable('x')", *FUNC),
    "placeholder": no("SELECT * FROM campaign_attribution WHERE user_id = $1", *FUNC),
    # --- tables that are not published products --------------------------------------------
    "secrets": no("SELECT * FROM secrets", *UNKNOWN),
    "forbidden_product": no("SELECT * FROM hr.salaries", "FORBIDDEN_PRODUCT"),
    "forbidden_physical": no("SELECT * FROM hr_salaries", "FORBIDDEN_PRODUCT"),
    "forbidden_in_join": no(
        "SELECT * FROM campaign_attribution c JOIN hr_salaries h ON true", "FORBIDDEN_PRODUCT"
    ),
    "forbidden_in_subquery": no(
        "SELECT (SELECT max(salary) FROM hr.salaries)", "FORBIDDEN_PRODUCT"
    ),
    "draft_product": no("SELECT * FROM finance.ledger", "PRODUCT_NOT_QUERYABLE"),
    "draft_physical": no("SELECT * FROM finance_ledger", "PRODUCT_NOT_QUERYABLE"),
    "retired_product": no("SELECT * FROM ops.retired", "PRODUCT_RETIRED"),
    "deprecated_product": ok(
        "SELECT user_id FROM marketing.legacy_clicks", rows=1, check=all_cells(is_masked_id)
    ),
    # --- row cap ---------------------------------------------------------------------------
    "cap_truncates": ok("SELECT * FROM web.events", policy=CAPPED, rows=100, truncated=True),
    "cap_small_limit": ok(
        "SELECT * FROM web.events LIMIT 50", policy=CAPPED, rows=50, truncated=False
    ),
    "cap_huge_limit": ok(
        "SELECT * FROM web.events LIMIT 1000000", policy=CAPPED, rows=100, truncated=True
    ),
    "cap_limit_all": ok(
        "SELECT * FROM web.events LIMIT ALL", policy=CAPPED, rows=100, truncated=True
    ),
    "cap_offset": ok(
        f"SELECT * FROM web.events ORDER BY id OFFSET {EVENTS - 10} LIMIT 5000",
        policy=CAPPED,
        rows=10,
        truncated=False,
    ),
    "cap_union": ok(
        "SELECT id FROM web.events UNION ALL SELECT id FROM web.events",
        policy=CAPPED,
        rows=100,
        truncated=True,
    ),
    "cap_fetch": ok("SELECT * FROM web.events FETCH FIRST 5 ROWS ONLY", policy=CAPPED, rows=5),
    "limit_subquery": no("SELECT * FROM web.events LIMIT (SELECT 1)", "LIMIT_NOT_LITERAL"),
    "limit_expression": no("SELECT * FROM web.events LIMIT 1 + 1", "LIMIT_NOT_LITERAL"),
    "inner_limit_uncapped_outer_capped": ok(
        "SELECT count(*) FROM (SELECT * FROM web.events LIMIT 1000) s",
        policy=CAPPED,
        check=first(1000),
    ),
    # --- timeouts --------------------------------------------------------------------------
    "cross_join_timeout": safe(
        EXPENSIVE,
        timeout_s=0.5,
        allow_timeout=True,
        extra={"must_timeout": True},
        on_spark="cartesian",  # a nested loop Spark could not cancel: refused before it runs
    ),
    # --- late hashing: hash columns grouped or counted by their text (pseudonyms.py) --------
    "late_group_shows_hashes": ok(
        "SELECT phone, count(*) FROM campaign_attribution GROUP BY phone",
        rows=TOTAL_CAMPAIGN_ROWS,
        check=all_cells(is_hash),
    ),
    "late_group_by_ordinal": ok(
        "SELECT phone, count(*) FROM campaign_attribution GROUP BY 1 ORDER BY 1",
        rows=TOTAL_CAMPAIGN_ROWS,
        check=all_cells(is_hash),
    ),
    "late_group_by_alias": ok(
        "SELECT phone AS p FROM campaign_attribution GROUP BY p", check=all_cells(is_hash)
    ),
    "late_min_max_of_counted": ok(
        "SELECT min(phone), max(phone), count(DISTINCT phone) FROM campaign_attribution "
        "GROUP BY campaign",
        rows=2,
        check=all_cells(is_hash),
    ),
    "late_having_on_raw_prefix": ok(
        "SELECT phone FROM campaign_attribution GROUP BY phone HAVING phone LIKE '+1%'", rows=0
    ),
    "late_where_on_raw_prefix": ok(
        "SELECT count(DISTINCT phone) FROM campaign_attribution WHERE phone LIKE '%+1-%'",
        check=first(0),
    ),
    "late_expression_over_group": ok(
        "SELECT lower(upper(phone) || ''), count(*) FROM campaign_attribution GROUP BY phone",
        check=all_cells(is_hash),
    ),
    "late_string_agg_per_group": ok(
        "SELECT string_agg(phone, ',') FROM campaign_attribution GROUP BY phone",
        check=all_cells(is_hash),
    ),
    "late_cast_error_quotes_a_hash": err(
        "SELECT CAST(phone AS INTEGER) FROM campaign_attribution GROUP BY phone"
    ),
    "late_whole_row_grouped": safe(
        "SELECT c, count(*) FROM campaign_attribution c GROUP BY phone, c"
    ),
    "late_row_json_grouped": safe(
        {
            "duckdb": "SELECT to_json(c) FROM campaign_attribution c GROUP BY phone, c",
            "postgres": "SELECT row_to_json(c)::text FROM campaign_attribution c GROUP BY phone, c",
        }
    ),
    "late_output_alias_shadows_column": safe(
        "SELECT upper(email) AS phone, count(*) FROM campaign_attribution GROUP BY phone"
    ),
    "late_table_alias_named_like_column": ok(
        "SELECT count(DISTINCT phone) FROM campaign_attribution AS phone", check=first(ROWS)
    ),
    "late_count_whole_row": safe(
        "SELECT count(*) AS c FROM campaign_attribution c GROUP BY phone HAVING count(c) > 0"
    ),
    "late_positional_column": safe(
        "SELECT #3, count(*) FROM campaign_attribution GROUP BY phone", only="duckdb"
    ),
    "late_columns_expression": safe(
        "SELECT COLUMNS('ph.*'), count(*) FROM campaign_attribution GROUP BY phone",
        only="duckdb",
    ),
    "late_correlated_inner_count": ok(
        "SELECT (SELECT count(DISTINCT phone) FROM campaign_attribution "
        "WHERE phone = o.customer_phone) FROM sales.orders o",
        rows=5,
        check=all_cells(lambda v: v == 1),
    ),
    "late_rollup": safe("SELECT phone, count(*) FROM campaign_attribution GROUP BY ROLLUP (phone)"),
    "late_grouped_then_joined": ok(
        "SELECT count(*) FROM (SELECT phone FROM campaign_attribution GROUP BY phone) g "
        "JOIN sales.orders o ON o.customer_phone = g.phone",
        check=first(5),
    ),
    # --- engine-chosen names of rewritten expressions (issue 11, class 2) --------------------
    "late_unaliased_concat": ok(
        "SELECT phone || '' FROM campaign_attribution GROUP BY phone",
        check=lambda r: r.columns == ["col_1"],
    ),
    "late_unaliased_nested": ok(
        "SELECT * FROM (SELECT upper(phone), count(*) FROM campaign_attribution GROUP BY phone) s",
        check=lambda r: r.columns == ["col_1", "col_2"],
    ),
    "late_unaliased_in_cte": ok(
        "WITH g AS (SELECT lower(phone) || '-', count(DISTINCT phone) FROM campaign_attribution "
        "GROUP BY phone) SELECT * FROM g"
    ),
    "late_unaliased_case": ok(
        "SELECT CASE WHEN phone IS NULL THEN 'n' ELSE phone END FROM campaign_attribution "
        "GROUP BY phone"
    ),
    "generated_name_avoids_user_names": ok(
        "SELECT upper(campaign), campaign AS col_1 FROM campaign_attribution",
        check=lambda r: r.columns == ["col_1_2", "col_1"],
    ),
    # --- date parts are a fixed set (sqlglot regenerates them as SQL text) -----------------
    # (PostgreSQL: sqlglot turns date_part's first argument into an EXTRACT keyword; DuckDB keeps
    # the call and its string as they are, so the engine rejects a bad part itself.)
    "date_part_injection": no(
        "SELECT date_part('day'' || x', event_date) FROM campaign_attribution", only="postgres"
    ),
    "date_part_injection_duckdb": err(
        "SELECT date_part('day'' || x', event_date) FROM campaign_attribution", only="duckdb"
    ),
    "date_part_from_column": no(
        "SELECT date_part(campaign, event_date) FROM campaign_attribution", only="postgres"
    ),
    "date_part_from_column_duckdb": err(
        "SELECT date_part(campaign, event_date) FROM campaign_attribution", only="duckdb"
    ),
    "date_trunc_injection": no(
        "SELECT date_trunc('month) FROM secrets --', event_date) FROM campaign_attribution"
    ),
    "interval_unit_injection": no("SELECT INTERVAL '2 x y z' FROM campaign_attribution"),
    "date_part_ok": ok(
        "SELECT date_part('year', event_date), extract(month FROM event_date) "
        "FROM campaign_attribution",
        rows=TOTAL_CAMPAIGN_ROWS,
    ),
    "late_union_of_groups": ok(
        "SELECT phone FROM campaign_attribution GROUP BY phone UNION "
        "SELECT customer_phone FROM sales.orders GROUP BY customer_phone",
        rows=TOTAL_CAMPAIGN_ROWS,
        check=all_cells(is_hash),
    ),
    # --- engine errors that would quote a value --------------------------------------------
    "cast_masked_to_int": err("SELECT CAST(user_id AS INTEGER) FROM campaign_attribution"),
    "cast_email_to_date": err("SELECT CAST(email AS DATE) FROM campaign_attribution"),
    "cast_in_where": err("SELECT 1 FROM campaign_attribution WHERE user_id::int > 0"),
    "division_by_zero": safe("SELECT revenue / 0 FROM campaign_attribution"),
    "admin_cast_error_is_scrubbed": err(
        "SELECT CAST(user_id AS INTEGER) FROM campaign_attribution", policy=ADMIN
    ),
    "admin_cast_email_error_is_scrubbed": err(
        "SELECT CAST(email AS DATE) FROM campaign_attribution", policy=ADMIN
    ),
    # --- Spark: files, table functions, its own functions and names (issue 18) ---------------
    "spark_parquet_path": no("SELECT * FROM parquet.`/tmp`", *CATALOG, only="spark"),
    "spark_csv_path": no("SELECT * FROM csv.`file:///etc/passwd`", *CATALOG, only="spark"),
    "spark_delta_path": no("SELECT * FROM delta.`/tmp/x`", *CATALOG, only="spark"),
    "spark_path_in_join": no(
        "SELECT * FROM campaign_attribution c JOIN json.`/tmp/x` j ON true", *CATALOG, only="spark"
    ),
    "spark_range": no("SELECT * FROM range(10)", *FUNC, only="spark"),
    "spark_read_files": no("SELECT * FROM read_files('/tmp')", *FUNC, only="spark"),
    "spark_explode_from": no("SELECT * FROM explode(array(1, 2))", *FUNC, only="spark"),
    "spark_lateral_view": no(
        "SELECT x FROM campaign_attribution LATERAL VIEW explode(array(1)) t AS x",
        *FUNC,
        only="spark",
    ),
    "spark_identifier_clause": no("SELECT * FROM IDENTIFIER('secrets')", *CATALOG, only="spark"),
    "spark_reflect": no(
        "SELECT reflect('java.lang.System', 'getenv', 'HOME')", *FUNC, only="spark"
    ),
    "spark_java_method": no(
        "SELECT java_method('java.lang.System', 'getenv', 'HOME')", *FUNC, only="spark"
    ),
    "spark_input_file_name": no(
        "SELECT input_file_name() FROM campaign_attribution", *FUNC, only="spark"
    ),
    "spark_current_user_niladic": no("SELECT current_user", *FUNC, only="spark"),
    "spark_secret": no("SELECT secret('scope', 'key')", *FUNC, only="spark"),
    "spark_key_parameter": no(
        "SELECT md5(:portal_hash_key || phone) FROM campaign_attribution",
        *NOT_SELECT,
        *FUNC,
        only="spark",
    ),
    "spark_key_variable": safe(
        "SELECT system.session.portal_hash_key FROM campaign_attribution", only="spark"
    ),
    "spark_set": no("SET spark.sql.runSQLOnFiles=true", *NOT_SELECT, only="spark"),
    "spark_cache_table": no("CACHE TABLE secrets", *NOT_SELECT, only="spark"),
    "spark_backtick_upper": ok(
        "SELECT `USER_ID` FROM `MARKETING_CAMPAIGN_ATTRIBUTION`",
        check=all_cells(is_masked_id),
        only="spark",
    ),
    "spark_double_quotes_are_strings": safe(
        'SELECT "user_id" FROM campaign_attribution', only="spark"
    ),
    "spark_kelvin_cte_name": safe(
        "WITH `\u212aey` AS (SELECT 1 AS x) SELECT * FROM key", only="spark"
    ),
}


def _params() -> list[Any]:
    params = []
    for name, case in CASES.items():
        for dialect in ("duckdb", "postgres", "spark"):
            if case.only and dialect not in case.only.split(","):
                continue
            if isinstance(case.sql, dict) and dialect not in case.sql:
                continue  # spelled for the other engines only
            marks = {
                "duckdb": [],
                "postgres": [pytest.mark.integration],
                "spark": [pytest.mark.integration, pytest.mark.spark],
            }[dialect]
            params.append(pytest.param(name, dialect, id=f"{name}-{dialect}", marks=marks))
    return params


def _warehouse(request: pytest.FixtureRequest, dialect: str) -> Warehouse:
    return engine_warehouse(request, dialect)


def _assert_no_leak(text: str, where: str, *, admin: bool = False) -> None:
    found = leaked(text)
    assert not found, f"raw value fragments {found} leaked in {where}: {text[:300]}"


@pytest.mark.parametrize(("name", "dialect"), _params())
def test_governed_query(request: pytest.FixtureRequest, name: str, dialect: str) -> None:
    case = CASES[name]
    if dialect == "spark" and case.on_spark:
        case = replace(case, expect=case.on_spark)
    warehouse = _warehouse(request, dialect)
    sql = case.sql if isinstance(case.sql, str) else case.sql[dialect]
    policy = case.policy or make_policy()
    is_admin = policy is ADMIN
    # Spark: one snapshot for the whole suite (test_spark_is_unchanged_after_the_suite), as
    # each one is a Spark job; its adapter refuses every statement but a SELECT anyway.
    before = snapshot(warehouse) if dialect != "spark" else None
    if dialect == "spark":
        request.getfixturevalue("spark_before")  # taken before the first Spark case runs
    try:
        governed: GovernedQuery | None = govern(
            sql, policy, dialect=dialect, pii_columns=PII, forbidden_names=FORBIDDEN
        )
    except QueryRefused as refusal:
        _assert_no_leak(refusal.message, "the refusal message")
        assert case.expect in ("refused", "safe"), f"unexpected refusal {refusal.code}: {refusal}"
        if case.codes:
            assert refusal.code in case.codes, (refusal.code, refusal.message)
        assert refusal.http_status == (403 if refusal.code == "FORBIDDEN_PRODUCT" else 400)
        governed = None
    else:
        assert case.expect != "refused", f"expected a refusal, got SQL: {governed.display_sql()}"
    if governed is not None:
        _run(case, governed, warehouse, is_admin=is_admin)
    if before is not None:
        assert snapshot(warehouse) == before


@pytest.fixture(scope="session")
def spark_before(gov_spark: Warehouse) -> list[tuple[str, int]]:
    """The Spark tables' row counts before the suite's first Spark case."""
    return snapshot(gov_spark)


@pytest.mark.integration
@pytest.mark.spark
def test_spark_is_unchanged_after_the_suite(
    gov_spark: Warehouse, spark_before: list[tuple[str, int]]
) -> None:
    assert spark_before and snapshot(gov_spark) == spark_before


def _run(case: Case, governed: GovernedQuery, warehouse: Warehouse, *, is_admin: bool) -> None:
    try:
        result = warehouse.execute(
            governed.sql,
            timeout_s=case.timeout_s,
            max_rows=governed.max_rows,
            session=governed.session,
        )
    except QueryTimeout as exc:
        assert case.allow_timeout, f"unexpected timeout: {exc}"
        _assert_no_leak(str(exc), "the timeout message")
        return
    except WarehouseError as exc:
        if case.expect == "cartesian":
            assert str(exc) == CARTESIAN_REFUSED
            return
        message = scrub_error(str(exc))
        _assert_no_leak(message, "the scrubbed engine error")
        if not is_admin:
            # Masked callers: the engine never saw a raw value, so even the raw text is clean.
            _assert_no_leak(str(exc).replace(governed.sql, ""), "the raw engine error")
        assert case.expect in ("error", "safe"), f"unexpected engine error: {message}"
        return
    assert not case.extra.get("must_timeout"), "the expensive query finished before its timeout"
    assert case.expect in ("ok", "safe"), f"expected {case.expect}, got {len(result.rows)} rows"
    # The key and raw values never name a column, whoever asks (admins included).
    _assert_no_leak(repr(result.columns), "the column names")
    assert "getvariable" not in repr(result.columns).lower()
    if not is_admin:
        _assert_no_leak(repr(result.rows), "the result cells")
    if case.rows is not None:
        assert len(result.rows) == case.rows, result.rows[:5]
    if case.truncated is not None:
        assert result.truncated is case.truncated
    if case.check is not None:
        case.check(result)


# --- admins and owners see raw values ------------------------------------------------------


def test_admin_policy_sees_raw_values(gov_warehouse: Warehouse) -> None:
    governed = govern(
        "SELECT user_id, email, phone, ssn, notes FROM campaign_attribution WHERE revenue = 100",
        ADMIN,
        dialect=gov_warehouse.dialect,
        pii_columns=PII,
    )
    result = gov_warehouse.execute(
        governed.sql, timeout_s=TIMEOUT_S, max_rows=governed.max_rows, session=governed.session
    )
    assert result.rows == [(user_id(1), email(1), phone(1), ssn(1), "diagnosis-confidential-1")]
    assert governed.masked_columns == []
    assert "marketing.campaign_attribution.email" in governed.pii_columns


def test_masks_render_the_same_on_both_engines(gov_warehouse: Warehouse) -> None:
    governed = govern(
        "SELECT user_id, email, ssn, notes FROM campaign_attribution WHERE revenue = 100",
        make_policy(),
        dialect=gov_warehouse.dialect,
    )
    result = gov_warehouse.execute(governed.sql, timeout_s=TIMEOUT_S, session=governed.session)
    assert result.rows == [("***0001", "***@privmail1.test", None, "[REDACTED]")]


def test_hash_mask_is_md5_keyed_with_the_server_secret(gov_warehouse: Warehouse) -> None:
    # The same value on both engines, computable only with the key: joins across engines and
    # exports agree, and without HASH_KEY nobody can hash guessed phone numbers to compare.
    governed = govern(
        "SELECT phone FROM campaign_attribution WHERE revenue = 100",
        make_policy(),
        dialect=gov_warehouse.dialect,
    )
    result = gov_warehouse.execute(governed.sql, timeout_s=TIMEOUT_S, session=governed.session)
    keyed = hashlib.md5((HASH_KEY + phone(1)).encode()).hexdigest()  # noqa: S324 - the mask
    assert result.rows == [(keyed,)]
    assert keyed != hashlib.md5(phone(1).encode()).hexdigest()  # noqa: S324


def test_hashed_values_sort_and_group_as_hex_text(gov_warehouse: Warehouse) -> None:
    governed = govern(
        "SELECT phone, count(*) FROM campaign_attribution WHERE phone IS NOT NULL "
        "GROUP BY phone ORDER BY phone",
        make_policy(),
        dialect=gov_warehouse.dialect,
    )
    result = gov_warehouse.execute(governed.sql, timeout_s=TIMEOUT_S, session=governed.session)
    hashes = [h for row in result.rows if isinstance(h := row[0], str)]
    assert len(hashes) == ROWS and hashes == sorted(hashes)
    assert all(len(h) == 32 and set(h) <= set("0123456789abcdef") for h in hashes)


def test_nulls_stay_null_except_redact(gov_warehouse: Warehouse) -> None:
    governed = govern(
        "SELECT user_id, email, phone, ssn, notes FROM campaign_attribution WHERE revenue = -1",
        make_policy(),
        dialect=gov_warehouse.dialect,
    )
    result = gov_warehouse.execute(governed.sql, timeout_s=TIMEOUT_S, session=governed.session)
    assert result.rows == [(None, None, None, None, "[REDACTED]")]


def test_expensive_cross_join_times_out(gov_warehouse: Warehouse) -> None:
    governed = govern(EXPENSIVE, make_policy(), dialect=gov_warehouse.dialect)
    if gov_warehouse.dialect == "spark":  # refused before it runs (a cancel would not stop it);
        # the time cap on Spark: tests/querying/test_spark_cancel.py
        with pytest.raises(WarehouseError, match="without an equality"):
            gov_warehouse.execute(governed.sql, timeout_s=0.5, session=governed.session)
        return
    with pytest.raises(QueryTimeout):
        gov_warehouse.execute(
            governed.sql, timeout_s=0.5, max_rows=governed.max_rows, session=governed.session
        )


def test_suite_is_big_enough() -> None:
    assert len(CASES) >= 120
