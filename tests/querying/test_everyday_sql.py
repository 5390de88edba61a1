"""SQL analysts write every day works, and errors help (issue 12, item 4; item 2's warning).

Run on a real DuckDB file and a real PostgreSQL: timestamp literals and casts, sampling, errors
that keep the names the user wrote and suggest the closest product, parse errors as sentences
with a position, and the warning that grouping over a collapsing mask is approximate.
"""

from __future__ import annotations

import pytest

from querying.governor import QueryRefused, govern, identifiers_in, scrub_error
from querying.warehouses import Warehouse, WarehouseError
from tests.querying.conftest import PII, TOTAL_CAMPAIGN_ROWS, leaked, make_policy

ENGINES = ["duckdb", pytest.param("postgres", marks=pytest.mark.integration)]


def _warehouse(request: pytest.FixtureRequest, engine: str) -> Warehouse:
    return request.getfixturevalue(f"gov_{engine}")


def _rows(warehouse: Warehouse, sql: str) -> list[tuple[object, ...]]:
    governed = govern(sql, make_policy(), dialect=warehouse.dialect, pii_columns=PII)
    result = warehouse.execute(
        governed.sql, timeout_s=10, max_rows=governed.max_rows, session=governed.session
    )
    return result.rows


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "SELECT count(*) FROM campaign_attribution "
            "WHERE event_date >= TIMESTAMP '2025-01-06 00:00:00'",
            8,  # 2025-01-06 .. 2025-01-12 and 2025-02-01
        ),
        (
            "SELECT count(*) FROM campaign_attribution WHERE CAST(event_date AS TIMESTAMP) "
            "< CAST('2025-01-03' AS TIMESTAMP)",
            2,
        ),
        (
            "SELECT count(*) FROM campaign_attribution WHERE event_date::timestamp "
            "< TIMESTAMP '2025-01-03 00:00:00'",
            2,
        ),
        ("SELECT count(*) FROM campaign_attribution WHERE event_date < DATE '2025-01-03'", 2),
    ],
)
def test_timestamp_literals_and_casts(
    request: pytest.FixtureRequest, engine: str, sql: str, expected: int
) -> None:
    assert _rows(_warehouse(request, engine), sql) == [(expected,)]


@pytest.mark.parametrize("engine", ENGINES)
def test_tablesample_over_a_product(request: pytest.FixtureRequest, engine: str) -> None:
    warehouse = _warehouse(request, engine)
    sql = "SELECT count(*) FROM campaign_attribution TABLESAMPLE BERNOULLI (100) REPEATABLE (1)"
    assert _rows(warehouse, sql) == [(TOTAL_CAMPAIGN_ROWS,)]
    sampled = _rows(warehouse, "SELECT email FROM campaign_attribution TABLESAMPLE SYSTEM (50)")
    assert not leaked(repr(sampled))  # the sample is taken inside the masked projection


def test_using_sample_on_duckdb(gov_duckdb: Warehouse) -> None:
    rows = _rows(gov_duckdb, "SELECT email FROM campaign_attribution USING SAMPLE 5 ROWS")
    assert len(rows) == 5 and not leaked(repr(rows))


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) FROM campaign_attribution TABLESAMPLE foo (10)",
        "SELECT count(*) FROM campaign_attribution TABLESAMPLE SYSTEM ((SELECT 1))",
    ],
)
def test_odd_samples_are_refused(sql: str) -> None:
    for dialect in ("duckdb", "postgres"):
        with pytest.raises(QueryRefused):
            govern(sql, make_policy(), dialect=dialect)


def test_using_sample_is_refused_on_postgres_with_the_spelling_to_use() -> None:
    with pytest.raises(QueryRefused, match="use TABLESAMPLE"):
        govern(
            "SELECT 1 FROM campaign_attribution USING SAMPLE 10%", make_policy(), dialect="postgres"
        )


@pytest.mark.parametrize(
    ("sql", "sentence"),
    [
        (
            "SELECT * FROM campaign_attribution WHERE",
            "the query is incomplete near 'WHERE' (line 1",
        ),
        ("SELECT (revenue FROM campaign_attribution", "a closing parenthesis is missing"),
        ("SELEC 1", "this is not valid SQL here near '1' (line 1, column 7)"),
        ("SELECT 'abc FROM t", "a quoted string or name is not closed"),
    ],
)
def test_parse_errors_are_sentences_with_a_position(sql: str, sentence: str) -> None:
    with pytest.raises(QueryRefused) as refused:
        govern(sql, make_policy(), dialect="duckdb")
    assert refused.value.code == "PARSE_ERROR"
    assert sentence in refused.value.message
    assert "<class" not in refused.value.message and "sqlglot" not in refused.value.message


def test_an_unknown_table_suggests_the_closest_readable_product() -> None:
    with pytest.raises(QueryRefused) as refused:
        govern("SELECT * FROM campaign_atribution", make_policy(), dialect="duckdb")
    assert "did you mean campaign_attribution?" in refused.value.message
    with pytest.raises(QueryRefused) as refused:
        govern("SELECT * FROM hr_salarie", make_policy(), dialect="duckdb")
    assert "did you mean" not in refused.value.message  # never a product the user cannot read


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "sql",
    [
        'SELECT "Camp".revnue FROM campaign_attribution AS "Camp"',
        "SELECT revnue FROM campaign_attribution",
    ],
)
def test_engine_errors_keep_the_names_the_user_wrote(
    request: pytest.FixtureRequest, engine: str, sql: str
) -> None:
    warehouse = _warehouse(request, engine)
    governed = govern(sql, make_policy(), dialect=engine)
    with pytest.raises(WarehouseError) as failed:
        warehouse.execute(governed.sql, timeout_s=10, session=governed.session)
    keep = identifiers_in(sql) | {"revenue", "campaign_attribution"}
    message = scrub_error(str(failed.value), keep=keep)
    assert "revnue" in message, message
    if "Camp" not in sql:
        assert "revenue" in message, message  # the engine's suggestion survives
    assert not leaked(message)


def test_grouping_over_a_collapsing_mask_warns_that_the_result_is_approximate() -> None:
    warned = [
        "SELECT email, count(*) FROM campaign_attribution GROUP BY email",
        "SELECT count(DISTINCT user_id) FROM campaign_attribution",
        "SELECT DISTINCT email FROM campaign_attribution",
        "SELECT count(*) FROM campaign_attribution a JOIN orders o ON a.user_id = o.user_id",
        "SELECT row_number() OVER (PARTITION BY email) FROM campaign_attribution",
    ]
    for sql in warned:
        warnings = govern(sql, make_policy(), dialect="duckdb").warnings
        assert any("approximate" in w for w in warnings), sql
    quiet = [
        "SELECT count(DISTINCT phone) FROM campaign_attribution",  # hash: injective
        "SELECT email FROM campaign_attribution",
        "SELECT count(*) FROM campaign_attribution WHERE email LIKE '%.test'",
    ]
    for sql in quiet:
        assert not govern(sql, make_policy(), dialect="duckdb").warnings, sql
    raw = govern(warned[0], make_policy(raw=True), dialect="duckdb")
    assert not raw.warnings  # raw readers group real values
