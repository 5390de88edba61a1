"""Shared fixtures for the governor tests: policies and real DuckDB / PostgreSQL warehouses.

Both warehouses hold the same tables with known raw PII values; RAW_FRAGMENTS lists what must
never show up in a cell or an error message for a masked caller.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from querying.governor import ColumnPolicy, Policy, ProductPolicy
from querying.warehouses import Warehouse, warehouse_from_url

HASH_KEY = "HASHKEY-s3cr3t-9d41"
ROWS = 12
EVENTS = 2000


def user_id(i: int) -> str:
    return f"UIDZQ-9371-{i:04d}"


def email(i: int) -> str:
    return f"zelda{i}.quix@privmail{i % 3}.test"


def phone(i: int) -> str:
    return f"+1-555-7{i:03d}-4242"


def ssn(i: int) -> str:
    return f"078-05-{1120 + i}"


def note(i: int) -> str:
    return f"diagnosis-confidential-{i}"


# Substrings of raw values (and the hash key) that a masked caller must never see, in any case
# and reversed too. The last four characters of user_id are shown by design (mask last4).
RAW_FRAGMENTS: tuple[str, ...] = (
    "UIDZQ",
    "9371-",
    "zelda",
    "quix",
    "555-7",
    "-4242",
    "078-05",
    "confidential",
    "TOPSECRET",
    "SALARY-9999",
    "LEDGERSECRET",
    "RETIREDSECRET",
    HASH_KEY,
    "s3cr3t",
)

CAMPAIGN_COLUMNS = (
    ("user_id", "last4"),
    ("email", "email"),
    ("phone", "hash"),
    ("ssn", "null"),
    ("notes", "redact"),
    ("campaign", None),
    ("revenue", None),
    ("event_date", None),
)
ORDER_COLUMNS = (
    ("order_id", None),
    ("user_id", "last4"),
    ("customer_phone", "hash"),
    ("amount", None),
)
EVENT_COLUMNS = (("id", None), ("page", None))
LEGACY_COLUMNS = (("click_id", None), ("user_id", "last4"))
LEGACY_WARNING = "marketing.legacy_clicks is deprecated and will be retired on 2027-01-01"
DRAFT_REFUSAL = "data product finance.ledger is a draft and cannot be queried yet"
RETIRED_REFUSAL = "data product ops.retired was retired"
FORBIDDEN = frozenset({"hr.salaries", "hr_salaries"})
PII = frozenset(
    {
        "marketing.campaign_attribution.user_id",
        "marketing.campaign_attribution.email",
        "marketing.campaign_attribution.phone",
        "marketing.campaign_attribution.ssn",
        "marketing.campaign_attribution.notes",
        "sales.orders.user_id",
        "sales.orders.customer_phone",
    }
)


def _product(
    product_id: str,
    table: str,
    columns: tuple[tuple[str, str | None], ...],
    *,
    raw: bool,
    **extra: object,
) -> ProductPolicy:
    cols = tuple(ColumnPolicy(name, None if raw else mask) for name, mask in columns)
    return ProductPolicy(product_id=product_id, table=table, columns=cols, **extra)  # type: ignore[arg-type]


def make_policy(*, raw: bool = False, max_rows: int | None = 10000) -> Policy:
    """The masked caller's policy (raw=True: an admin who sees every column raw)."""
    return Policy(
        products=(
            _product(
                "marketing.campaign_attribution",
                "marketing_campaign_attribution",
                CAMPAIGN_COLUMNS,
                raw=raw,
                names=("campaign_attribution",),
            ),
            _product("sales.orders", "sales_orders", ORDER_COLUMNS, raw=raw, names=("orders",)),
            _product("web.events", "web_events", EVENT_COLUMNS, raw=raw),
            _product(
                "marketing.legacy_clicks",
                "marketing_legacy_clicks",
                LEGACY_COLUMNS,
                raw=raw,
                warning=LEGACY_WARNING,
            ),
            _product(
                "finance.ledger",
                "finance_ledger",
                (("entry", None),),
                raw=raw,
                refusal=DRAFT_REFUSAL,
            ),
            _product(
                "ops.retired",
                "ops_retired",
                (("thing", None),),
                raw=raw,
                refusal=RETIRED_REFUSAL,
                refusal_code="PRODUCT_RETIRED",
            ),
        ),
        hash_key=HASH_KEY,
        max_rows=max_rows,
    )


def _q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def setup_statements(dialect: str) -> list[str]:
    """DDL + data, the same in DuckDB, PostgreSQL and Spark (apart from the row generator and,
    on Spark, STRING for VARCHAR and parquet tables)."""
    campaign_rows = ", ".join(
        f"({_q(user_id(i))}, {_q(email(i))}, {_q(phone(i))}, {_q(ssn(i))}, {_q(note(i))}, "
        f"{_q('spring' if i % 2 else 'autumn')}, {100 * i}, DATE '2025-01-{i + 1:02d}')"
        for i in range(ROWS)
    )
    # Orders 0..4 belong to campaign users 0..4 (same phone, so hashed phones join).
    order_rows = ", ".join(f"({i}, {_q(user_id(i))}, {_q(phone(i))}, {10 * i})" for i in range(5))
    series = {
        "duckdb": f"SELECT i, 'page' || CAST(i % 10 AS VARCHAR) FROM range({EVENTS}) AS t(i)",
        "postgres": f"SELECT i, 'page' || (i % 10)::text FROM generate_series(0, {EVENTS - 1}) "
        "AS t(i)",
        "spark": f"SELECT CAST(id AS INT), 'page' || CAST(id % 10 AS STRING) FROM range({EVENTS})",
    }[dialect]
    statements = [
        "CREATE TABLE marketing_campaign_attribution (user_id VARCHAR, email VARCHAR, "
        "phone VARCHAR, ssn VARCHAR, notes VARCHAR, campaign VARCHAR, revenue INTEGER, "
        "event_date DATE)",
        f"INSERT INTO marketing_campaign_attribution VALUES {campaign_rows}",
        "INSERT INTO marketing_campaign_attribution VALUES "
        "(NULL, NULL, NULL, NULL, NULL, 'spring', -1, DATE '2025-02-01')",
        "CREATE TABLE sales_orders (order_id INTEGER, user_id VARCHAR, customer_phone VARCHAR, "
        "amount INTEGER)",
        f"INSERT INTO sales_orders VALUES {order_rows}",
        "CREATE TABLE web_events (id INTEGER, page VARCHAR)",
        f"INSERT INTO web_events {series}",
        "CREATE TABLE marketing_legacy_clicks (click_id INTEGER, user_id VARCHAR)",
        f"INSERT INTO marketing_legacy_clicks VALUES (1, {_q(user_id(1))})",
        "CREATE TABLE finance_ledger (entry VARCHAR)",
        "INSERT INTO finance_ledger VALUES ('LEDGERSECRET-1')",
        "CREATE TABLE ops_retired (thing VARCHAR)",
        "INSERT INTO ops_retired VALUES ('RETIREDSECRET-1')",
        "CREATE TABLE hr_salaries (name VARCHAR, salary VARCHAR)",
        "INSERT INTO hr_salaries VALUES ('bob', 'SALARY-9999')",
        "CREATE TABLE secrets (secret VARCHAR)",
        "INSERT INTO secrets VALUES ('TOPSECRET-7f3a')",
        # Not a product; its name holds every letter pair a Unicode ligature or sharp s folds to
        # (ss, st, ff, fi, fl, ffi, ffl), for the look-alike identifier tests.
        "CREATE TABLE staff_waffle_fluffiest_class (secret VARCHAR)",
        "INSERT INTO staff_waffle_fluffiest_class VALUES ('TOPSECRET-ligature')",
    ]
    if dialect == "spark":
        return [spark_statement(s) for s in statements]
    return statements


def spark_statement(statement: str) -> str:
    """A DuckDB/PostgreSQL statement of the fixtures as Spark writes it (parquet tables)."""
    if statement.startswith("CREATE TABLE"):
        return statement.replace("VARCHAR", "STRING") + " USING parquet"
    return statement


TOTAL_CAMPAIGN_ROWS = ROWS + 1  # plus one all-NULL row


@pytest.fixture(scope="session")
def gov_duckdb(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """A DuckDB file holding the test tables, opened read-only through the real adapter."""

    return duckdb_warehouse(tmp_path_factory.mktemp("governor"), setup_statements("duckdb"))


def duckdb_warehouse(directory: Path, statements: list[str]) -> Warehouse:
    """A DuckDB file in ``directory`` built by ``statements``, opened through the real adapter."""
    import duckdb

    path = directory / "warehouse.duckdb"
    conn = duckdb.connect(str(path))
    try:
        for statement in statements:
            conn.execute(statement)
    finally:
        conn.close()
    return warehouse_from_url(f"duckdb://{path}")


@pytest.fixture(scope="session")
def gov_postgres() -> Iterator[Warehouse]:
    """A fresh PostgreSQL database with the same tables, read by a SELECT-only role."""
    from tests.support.pg import pg_warehouse

    with pg_warehouse(";\n".join(setup_statements("postgres"))) as dsn:
        yield warehouse_from_url(dsn)


@pytest.fixture(scope="session")
def gov_spark() -> Iterator[Warehouse]:
    """A fresh Spark database with the same tables (parquet), on the run's Spark Connect server."""
    from tests.support.spark import spark_warehouse

    # Spark's default database: the governor suites govern without naming a schema.
    with spark_warehouse(setup_statements("spark"), database="default") as url:
        yield warehouse_from_url(url)


# Every engine the warehouse suites run on: DuckDB always; PostgreSQL and Spark skip cleanly
# unless PORTAL_TEST_PG_URL / PORTAL_TEST_SPARK_URL are set (.ci/run sets both).
ENGINES = [
    "duckdb",
    pytest.param("postgres", marks=pytest.mark.integration),
    pytest.param("spark", marks=[pytest.mark.integration, pytest.mark.spark]),
]
ENGINE_FIXTURES = {"duckdb": "gov_duckdb", "postgres": "gov_postgres", "spark": "gov_spark"}


def engine_warehouse(request: pytest.FixtureRequest, engine: str) -> Warehouse:
    """The session's warehouse for ``engine`` (its fixture skips when it is not configured)."""
    return request.getfixturevalue(ENGINE_FIXTURES[engine])


@pytest.fixture(params=ENGINES)
def gov_warehouse(request: pytest.FixtureRequest) -> Warehouse:
    """Each engine in turn; PostgreSQL and Spark skip cleanly when they are not configured."""
    return engine_warehouse(request, request.param)


def snapshot(warehouse: Warehouse) -> list[tuple[str, int]]:
    """Table names and row counts: must be identical before and after every case."""
    tables = warehouse.tables()
    quote = "`" if warehouse.dialect == "spark" else '"'
    counts = " UNION ALL ".join(
        f"SELECT '{t}' AS t, count(*) AS n FROM {quote}{t}{quote}" for t in tables
    )
    result = warehouse.execute(f"SELECT * FROM ({counts}) s ORDER BY t", timeout_s=10)
    return [(str(t), int(str(n))) for t, n in result.rows]


def leaked(text: str) -> list[str]:
    """RAW_FRAGMENTS found in ``text`` (case-insensitive, forwards or reversed)."""
    low = text.lower()
    return [
        fragment
        for fragment in RAW_FRAGMENTS
        if fragment.lower() in low or fragment.lower()[::-1] in low
    ]
