"""custom_sql checks that are a filtered count fold into the fused scan (issue 15).

``SELECT COUNT(*) FROM <own product> [WHERE <condition>]``, once governed, is computed as
``COUNT(*) FILTER (WHERE <condition over the masked projection>)`` in the run's one scan; every
other shape runs on its own. Pure tests name the shapes; the engine tests run generated
conditions over PII and plain columns on real DuckDB and PostgreSQL and compare each folded
count with the governed statement run on its own: the same number, from one scan.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from quality.checks import CheckSpec, ColumnSpec, ProductSpec, run_product
from quality.checks.gate import CustomSqlRefused, filtered_count, gate_custom_sql
from querying.warehouses.base import Warehouse
from querying.warehouses.duckdb import DuckDBWarehouse
from querying.warehouses.postgres import PostgresWarehouse
from tests.quality.test_checks_duckdb import Recorder
from tests.support.pg import pg_warehouse

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
KEY = "k" * 40
COLUMNS = (
    ColumnSpec("id", "integer", nullable=False),
    ColumnSpec("email", "string", pii=True, mask="email"),
    ColumnSpec("phone", "string", pii=True, mask="hash"),
    ColumnSpec("ssn", "string", pii=True, mask="null"),
    ColumnSpec("card", "string", pii=True, mask="last4"),
    ColumnSpec("notes", "string", pii=True, mask="redact"),
    ColumnSpec("status", "string"),
    ColumnSpec("amount", "float"),
)
SPEC = ProductSpec("shop.orders", "shop_orders", COLUMNS)

SETUP = """
CREATE TABLE shop_orders (id BIGINT NOT NULL, email VARCHAR(60), phone VARCHAR(30),
    ssn VARCHAR(20), card VARCHAR(30), notes VARCHAR(80), status VARCHAR(10),
    amount DOUBLE PRECISION);
"""


def _rows() -> list[str]:
    rng = random.Random(21)
    out = []
    for i in range(400):
        email = "NULL" if i % 7 == 0 else f"'user{i}@{rng.choice(['a.com', 'b.org'])}'"
        phone = "NULL" if i % 5 == 0 else f"'+1-555-{i:04d}'"
        ssn = f"'{100 + i}-22-{1000 + i}'"
        card = "NULL" if i % 9 == 0 else f"'4111 1111 1111 {i:04d}'"
        notes = rng.choice(["NULL", "'call me'", "'x'"])
        status = rng.choice(["'new'", "'paid'", "'void'", "NULL"])
        amount = "NULL" if i % 11 == 0 else repr(round(rng.uniform(-50, 500), 2))
        out.append(f"({i}, {email}, {phone}, {ssn}, {card}, {notes}, {status}, {amount})")
    return out


INSERT = "INSERT INTO shop_orders VALUES " + ",\n".join(_rows()) + ";"


@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory) -> DuckDBWarehouse:
    path: Path = tmp_path_factory.mktemp("fold") / "w.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute(SETUP + INSERT)
    conn.close()
    return DuckDBWarehouse(path)


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresWarehouse]:
    with pg_warehouse(SETUP + INSERT) as url:
        yield PostgresWarehouse(url)


# --- which shapes fold --------------------------------------------------------------------------

FOLDED = {
    "SELECT count(*) FROM orders": None,
    "SELECT COUNT(*) FROM orders WHERE amount < 0": '("amount") < 0',
    "select count(*) from shop_orders o where o.status = 'void'": "(\"status\") = 'void'",
    "SELECT count(*) FROM shop.orders WHERE AMOUNT > 10 AND status IS NOT NULL": "AND",
    "SELECT count(*) AS n FROM orders WHERE coalesce(status, 'x') IN ('new', 'x')": "IN",
    "SELECT count(*) FROM orders WHERE email LIKE '%@a.com'": "SPLIT_PART",  # the mask
    "SELECT count(*) FROM orders WHERE length(card) > 4": "***",  # last4 mask
}
SEPARATE = [
    "SELECT count(*) FROM orders o JOIN orders p ON o.id = p.id",
    "SELECT count(*) FROM orders, orders AS b",
    "SELECT count(*) FROM orders WHERE amount > (SELECT avg(amount) FROM orders)",
    "SELECT count(*) FROM orders WHERE id IN (SELECT id FROM orders WHERE amount < 0)",
    "SELECT count(*) FROM orders WHERE EXISTS (SELECT 1 FROM orders)",
    "SELECT count(*) FROM orders GROUP BY status",
    "SELECT count(*) FROM orders HAVING count(*) > 1",
    "SELECT count(*) FROM orders LIMIT 1",
    "SELECT count(*) FROM orders OFFSET 1",
    "SELECT count(*) FROM orders ORDER BY 1",
    "SELECT DISTINCT count(*) FROM orders",
    "SELECT count(DISTINCT status) FROM orders",
    "SELECT count(status) FROM orders",
    "SELECT count(1) FROM orders",
    "SELECT count(*) FILTER (WHERE amount > 0) FROM orders",
    "SELECT count(*) OVER () FROM orders",
    "SELECT count(*), count(*) FROM orders",
    "SELECT count(*) + 0 FROM orders",
    "SELECT 0 FROM orders LIMIT 1",
    "WITH t AS (SELECT * FROM orders) SELECT count(*) FROM t",
    "SELECT count(*) FROM (SELECT * FROM orders) AS t",
    "SELECT count(*) FROM orders UNION ALL SELECT count(*) FROM orders",
    "SELECT count(*) FROM orders WHERE random() < 0.5",
    "SELECT count(*) FROM orders WHERE amount > max(amount)",
    "SELECT count(*) FROM orders WHERE row_number() OVER () = 1",
    "SELECT count(*) FROM orders WHERE nope = 1",
    "SELECT count(*) FROM orders AS o WHERE other.amount = 1",
    "SELECT count(*) FROM orders TABLESAMPLE SYSTEM (50)",
    "SELECT count(*) FROM orders WHERE list_filter([amount], x -> x > 0) = []",
]


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
@pytest.mark.parametrize("sql", list(FOLDED))
def test_a_governed_filtered_count_of_its_own_product_folds(sql: str, dialect: str) -> None:
    folded = filtered_count(
        gate_custom_sql(sql, spec=SPEC, dialect=dialect, hash_key=KEY),
        spec=SPEC,
        dialect=dialect,
        hash_key=KEY,
    )
    assert folded is not None, sql
    expected = FOLDED[sql]
    if expected is None:
        assert folded.condition is None
    else:
        assert expected in folded.condition.sql(dialect=dialect), folded.condition.sql(dialect)
    assert not folded.session  # no hash mask read: no key in the scan's session


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
@pytest.mark.parametrize("sql", SEPARATE)
def test_every_other_shape_runs_on_its_own(sql: str, dialect: str) -> None:
    try:
        gated = gate_custom_sql(sql, spec=SPEC, dialect=dialect, hash_key=KEY)
    except CustomSqlRefused as refused:  # never reaches the scan either: an error outcome
        assert str(refused)
        return
    assert filtered_count(gated, spec=SPEC, dialect=dialect, hash_key=KEY) is None, sql


def test_a_condition_over_a_hash_column_reads_it_hashed_with_the_key_in_the_session() -> None:
    sql = "SELECT count(*) FROM orders WHERE phone = 'x'"
    for dialect, setting in (("duckdb", "portal_hash_key"), ("postgres", "portal.hash_key")):
        gated = gate_custom_sql(sql, spec=SPEC, dialect=dialect, hash_key=KEY)
        folded = filtered_count(gated, spec=SPEC, dialect=dialect, hash_key=KEY)
        assert folded is not None and folded.session == {setting: KEY}
        text = folded.condition.sql(dialect=dialect)
        assert "MD5(" in text and KEY not in text  # the key is a session variable, never SQL


def test_a_late_hashed_or_foreign_projection_does_not_fold() -> None:
    gated = gate_custom_sql(
        "SELECT count(*) FROM orders WHERE status = 'void'",
        spec=SPEC,
        dialect="duckdb",
        hash_key=KEY,
    )
    other = ProductSpec("shop.orders", "shop_orders", COLUMNS[:3])  # another projection
    assert filtered_count(gated, spec=other, dialect="duckdb", hash_key=KEY) is None
    tampered = gated.__class__(gated.sql.replace('"main"."shop_orders"', '"main"."other"'))
    assert filtered_count(tampered, spec=SPEC, dialect="duckdb", hash_key=KEY) is None
    assert filtered_count(gated, spec=SPEC, dialect="spark", hash_key=KEY) is None


# --- on the engines: the same count, from the scan -------------------------------------------

ATOMS = [
    "amount < 0",
    "amount BETWEEN 10 AND 100",
    "amount IS NULL",
    "status = 'void'",
    "status IN ('new', 'paid')",
    "coalesce(status, '') = ''",
    "email LIKE '%@a.com'",
    "email = 'user3@a.com'",  # a raw value: the mask never equals it
    "email IS NULL",
    "phone IS NOT NULL",
    "phone = '+1-555-0003'",
    "upper(card) LIKE '%1%'",
    "card = '***0004'",
    "ssn IS NULL",
    "notes = '[REDACTED]'",
    "length(email) > 10",
    "id % 3 = 0",
    "abs(amount) > 100",
]


def _conditions(seed: int) -> list[str]:
    rng = random.Random(seed)
    out = list(ATOMS)
    for _ in range(25):
        a, b = rng.sample(ATOMS, 2)
        op = rng.choice(["AND", "OR"])
        negate = "NOT " if rng.random() < 0.3 else ""
        out.append(f"{negate}({a}) {op} ({b})")
    return out


@pytest.mark.parametrize(
    "engine", ["duckdb", pytest.param("postgres", marks=pytest.mark.integration)]
)
def test_folded_counts_equal_the_governed_statements_and_cost_one_scan(
    request: pytest.FixtureRequest, engine: str
) -> None:
    warehouse: Warehouse = request.getfixturevalue("duck" if engine == "duckdb" else "pg")
    conditions = _conditions(7)
    checks = tuple(
        CheckSpec(
            f"c{i}", "custom_sql", "error", None, {"sql": f"SELECT count(*) FROM orders WHERE {c}"}
        )
        for i, c in enumerate(conditions)
    )
    spec = ProductSpec(SPEC.product_id, SPEC.table, COLUMNS, checks)
    recorder = Recorder(warehouse)
    report = run_product(recorder, spec, now=NOW, hash_key=KEY)
    assert report.statements_sent == 1 == len(recorder.executed)  # everything in the scan
    folded = {o.check_name: o.value for o in report.outcomes}
    for check in checks:
        gated = gate_custom_sql(
            check.params["sql"], spec=spec, dialect=warehouse.dialect, hash_key=KEY
        )
        alone = warehouse.execute(gated.sql, timeout_s=30, session=gated.session).rows[0][0]
        assert folded[check.name] == float(str(alone)), (check.params["sql"], folded[check.name])
    # A raw value is never seen: the masks are what the folded conditions read.
    assert folded["c7"] == 0.0  # email = a raw address
    assert folded["c10"] == 0.0  # phone = a raw number (the column reads hashed)


@pytest.mark.parametrize(
    "engine", ["duckdb", pytest.param("postgres", marks=pytest.mark.integration)]
)
def test_a_folded_check_that_fails_at_run_time_errors_alone(
    request: pytest.FixtureRequest, engine: str
) -> None:
    warehouse: Warehouse = request.getfixturevalue("duck" if engine == "duckdb" else "pg")
    checks = (
        CheckSpec(
            "bad_cast",
            "custom_sql",
            "error",
            None,
            {"sql": "SELECT count(*) FROM orders WHERE CAST(email AS INTEGER) > 0"},
        ),
        CheckSpec(
            "negative",
            "custom_sql",
            "error",
            None,
            {"sql": "SELECT count(*) FROM orders WHERE amount < 0"},
        ),
        CheckSpec("rows", "row_count", "error", None, {"minRows": 1}),
    )
    spec = ProductSpec(SPEC.product_id, SPEC.table, COLUMNS, checks)
    report = run_product(warehouse, spec, now=NOW, hash_key=KEY)
    by_name = {o.check_name: o for o in report.outcomes}
    assert by_name["bad_cast"].status == "error" and "user" not in by_name["bad_cast"].message
    assert (
        by_name["negative"].status == "failed"
        and by_name["negative"].value
        and by_name["negative"].value > 0
    )
    assert by_name["rows"].status == "passed"


def test_a_missing_declared_column_keeps_custom_checks_on_their_own(duck: DuckDBWarehouse) -> None:
    columns = (*COLUMNS, ColumnSpec("gone", "string"))
    check = CheckSpec(
        "negative",
        "custom_sql",
        "error",
        None,
        {"sql": "SELECT count(*) FROM orders WHERE amount < 0"},
    )
    recorder = Recorder(duck)
    report = run_product(
        recorder,
        ProductSpec("shop.orders", "shop_orders", columns, (check,)),
        now=NOW,
        hash_key=KEY,
    )
    # The check's own statement counts (it projects only "amount": the governor leaves out the
    # columns a query does not name); the scan, which would read "gone", does not carry it.
    assert [o.status for o in report.outcomes if o.check_name == "negative"] == ["failed"]
    assert not any(
        ("FILTER" in sql or "COUNT_IF" in sql) and "amount" in sql for sql in recorder.executed
    )
    # A check that names the missing column fails on it, alone.
    naming = CheckSpec(
        "gone_null",
        "custom_sql",
        "error",
        None,
        {"sql": "SELECT count(*) FROM orders WHERE gone IS NULL"},
    )
    report = run_product(
        Recorder(duck),
        ProductSpec("shop.orders", "shop_orders", columns, (naming,)),
        now=NOW,
        hash_key=KEY,
    )
    assert [o.status for o in report.outcomes if o.check_name == "gone_null"] == ["error"]
