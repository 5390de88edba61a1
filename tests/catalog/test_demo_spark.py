"""The demo on Spark (issue 18): ``seed_demo`` writes Spark tables the portal then reads.

The refusals need no Spark. The seed itself is marked ``spark`` (and ``integration``): it runs
against the real Spark Connect server of tests/support/spark.py (``PORTAL_TEST_SPARK=1``) and
skips without one. One seed (about a minute: the load, the publishes, every product's checks on
Spark) is checked from every side, then run again.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import User
from catalog.demo import DELIBERATE_PROBLEMS
from catalog.demo.spark import SPARK_TYPES, display_url, spark_load_problem
from catalog.demo.warehouse import build_demo_warehouse
from catalog.models import DataProduct
from querying.governor import govern
from querying.selectors import query_policy
from querying.services import query_submit
from querying.warehouses import warehouse_from_url
from tests.support.spark import loader_session, spark_url

REMOTE = "sc://spark.example.com:15002;database=demo"
LOCAL = "spark://local[2];warehouse=/srv/spark;database=demo"
# What fails in the first check runs on DuckDB and PostgreSQL (tests/deploy/test_demo_postgres.py):
# the deliberate problems, and the schema check on the column left nullable for the null
# violation (Spark reports every column nullable, so its NULLs are counted, as elsewhere).
FAILING = {
    ("ops.inventory_levels", "snapshot_at_fresh"),
    ("marketing.email_engagement", "campaign_id_not_null"),
    ("marketing.email_engagement", "schema:campaign_id:nullable"),
    ("finance.revenue_daily_legacy", "revenue_date_fresh"),
}


def test_the_load_goes_where_the_portal_reads() -> None:
    assert spark_load_problem(REMOTE, REMOTE) is None
    assert spark_load_problem(LOCAL, LOCAL) is None
    # Another master is the same warehouse folder: the portal's processes find the tables.
    assert spark_load_problem(LOCAL, LOCAL.replace("local[2]", "local[4]")) is None


@pytest.mark.parametrize(
    ("load", "reader", "message"),
    [
        ("spark://local[2]", "spark://local[2]", "needs ;warehouse=/abs/dir"),
        (REMOTE, "duckdb:///var/warehouse.duckdb", "WAREHOUSE_URL must be the same Spark"),
        (REMOTE, REMOTE.replace("demo", "other"), "but WAREHOUSE_URL reads database other"),
        (REMOTE, "sc://other.example.com:15002;database=demo", "the portal would not see"),
        (LOCAL, REMOTE, "the portal would not see"),
        (LOCAL, LOCAL.replace("/srv/spark", "/srv/else"), "the portal would not see"),
        ("spark://yarn", "spark://yarn", "spark://local[N]"),
        (REMOTE, "spark://local[2];database=a b", "WAREHOUSE_URL: invalid Spark database name"),
    ],
)
def test_loads_the_portal_would_not_see_are_refused(load: str, reader: str, message: str) -> None:
    problem = spark_load_problem(load, reader)
    assert problem is not None and message in problem, problem
    assert "\n" not in problem


def test_messages_never_show_a_token() -> None:
    url = "sc://dbc.example.com:443/;use_ssl=true;token=dapiSECRET;database=demo"
    assert "dapiSECRET" not in display_url(url)
    problem = spark_load_problem(url, url.replace("database=demo", "database=x"))
    assert problem is not None and "dapiSECRET" not in problem


def test_every_demo_column_type_has_a_spark_type(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    build_demo_warehouse(path, now=datetime(2030, 1, 1, tzinfo=UTC))
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("SELECT DISTINCT data_type FROM information_schema.columns").fetchall()
        types = {str(t) for (t,) in rows}
    finally:
        con.close()
    assert types <= set(SPARK_TYPES), types - set(SPARK_TYPES)


@pytest.mark.django_db
def test_seed_demo_refuses_a_spark_load_the_portal_would_not_read(settings: Any) -> None:
    settings.WAREHOUSE_URL = "duckdb:///tmp/never.duckdb"
    with pytest.raises(CommandError) as caught:
        call_command("seed_demo", "--warehouse", REMOTE, stdout=io.StringIO())
    message = str(caught.value)
    assert message.startswith("--warehouse: WAREHOUSE_URL must be the same Spark")
    assert "\n" not in message
    assert not DataProduct.objects.exists()


@pytest.mark.django_db
def test_seed_demo_refuses_an_in_process_spark_without_a_warehouse_folder(settings: Any) -> None:
    settings.WAREHOUSE_URL = "spark://local[2]"
    with pytest.raises(CommandError, match=r"^WAREHOUSE_URL: spark://local\[N\] needs"):
        call_command("seed_demo", stdout=io.StringIO())


# ---------------------------------------------------------------------------- on real Spark


@pytest.fixture
def spark_demo_url(settings: Any) -> Iterator[str]:
    """WAREHOUSE_URL on a fresh database of the test Spark server, dropped afterwards."""
    server = spark_url()  # skips without Spark
    database = "demo_" + secrets.token_hex(4)
    settings.WAREHOUSE_URL = f"{server};database={database}"
    settings.PII_HASH_KEY = "test-hash-key-of-the-spark-demo"
    try:
        yield settings.WAREHOUSE_URL
    finally:
        spark = loader_session(server)
        try:
            spark.sql(f"DROP DATABASE IF EXISTS `{database}` CASCADE")
        finally:
            spark.stop()


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--history-days", "0", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.integration
@pytest.mark.spark
@pytest.mark.spark_stack
@pytest.mark.django_db
def test_the_demo_runs_on_spark(spark_demo_url: str, tmp_path: Path) -> None:
    out = seed("--warehouse", spark_demo_url)
    assert "warehouse: 24 tables, 493,820 rows in Spark, sc://" in out
    assert "catalog: 23 products published" in out
    check_the_reader_sees_the_duckdb_demos_rows(spark_demo_url, tmp_path)
    check_the_first_runs_fail_only_on_purpose()
    check_governed_queries_mask_as_on_duckdb(tmp_path)
    # Again, relative to a new now: every table replaced in place, the catalog unchanged.
    again = seed("--no-checks")
    assert "warehouse: 24 tables, 493,820 rows in Spark" in again
    assert "catalog: 23 products published" in again and "left alone" not in again
    reader = warehouse_from_url(spark_demo_url)
    assert len(reader.tables()) == 24
    rows = reader.execute("SELECT count(*) FROM product_user_signups", timeout_s=60).rows
    assert rows == [(build_counts(tmp_path)["product_user_signups"],)]


def build_counts(tmp_path: Path) -> dict[str, int]:
    path = tmp_path / "w.duckdb"
    return build_demo_warehouse(path, now=timezone.now())


def check_the_reader_sees_the_duckdb_demos_rows(url: str, tmp_path: Path) -> None:
    counts = build_counts(tmp_path)
    reader = warehouse_from_url(url)
    assert reader.tables() == sorted(counts)
    for table, rows in counts.items():
        found = reader.execute(f"SELECT count(*) FROM `{table}`", timeout_s=60).rows
        assert found == [(rows,)], table
    # Values that do not depend on "now" are identical, row for row, Spark's types included.
    query = "SELECT signup_id, email, country_code FROM product_user_signups ORDER BY 1"
    local = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        expected = local.execute(query).fetchall()
        topics = local.execute(
            "SELECT topics FROM ops_support_tickets ORDER BY ticket_id LIMIT 50"
        ).fetchall()
    finally:
        local.close()
    assert reader.execute(query, timeout_s=60).rows == expected
    spark_topics = reader.execute(
        "SELECT topics FROM ops_support_tickets ORDER BY ticket_id LIMIT 50", timeout_s=60
    ).rows
    assert spark_topics == [(list(t),) for (t,) in topics]
    types = {c.name: c.type for c in reader.columns("engineering_error_events") or []}
    assert types["context"] == "MAP<STRING,STRING>"
    assert types["occurred_at"] == "TIMESTAMP"
    context = reader.execute(
        "SELECT context['browser'] FROM engineering_error_events WHERE error_id = 'err-000000001'",
        timeout_s=60,
    ).rows
    assert context[0][0] in {"Chrome", "Safari", "Firefox", "Edge", "iOS app", "Android app"}


def check_the_first_runs_fail_only_on_purpose() -> None:
    from quality.models import CheckResult, CheckRun

    runs = CheckRun.objects.filter(trigger="manual")
    assert runs.count() == 23
    statuses = dict(runs.values_list("product__product_id", "status"))
    assert {p for p, s in statuses.items() if s != "passed"} == set(DELIBERATE_PROBLEMS)
    assert "error" not in statuses.values()
    failing = set(
        CheckResult.objects.filter(run__in=runs, passed=False).values_list(
            "run__product__product_id", "check_name"
        )
    )
    assert failing == FAILING


def check_governed_queries_mask_as_on_duckdb(tmp_path: Path) -> None:
    """The analyst's answer on Spark is the one the governor gives on DuckDB's copy: the same
    masks, the same keyed hash digests (so exports of either engine join)."""
    sql = (
        "SELECT signup_id, user_id, email, full_name, birth_date FROM product.user_signups "
        "ORDER BY signup_id LIMIT 5"
    )
    analyst = User.objects.get(username="ana.analyst")
    on_spark = query_submit(user=analyst, sql=sql)
    assert on_spark.code == "", on_spark.message
    owner = query_submit(user=User.objects.get(username="priya.product"), sql=sql)
    assert owner.code == "", owner.message
    assert [r[0] for r in on_spark.rows] == [r[0] for r in owner.rows]
    for masked, raw in zip(on_spark.rows, owner.rows, strict=True):
        assert masked[1] != raw[1] and masked[2] != raw[2] and masked[4] is None

    policy, pii_columns, forbidden = query_policy(analyst, now=timezone.now())
    governed = govern(
        sql, policy, dialect="duckdb", pii_columns=pii_columns, forbidden_names=forbidden
    )
    duck = warehouse_from_url(f"duckdb://{tmp_path / 'w.duckdb'}")
    on_duckdb = duck.execute(governed.sql, timeout_s=60, session=governed.session)
    assert [list(r[:4]) for r in on_duckdb.rows] == [list(r[:4]) for r in on_spark.rows]
