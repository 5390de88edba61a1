"""custom_sql checks pass the same allowlist as governed queries, scoped to their own product."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.utils import timezone

from catalog.models import DataProduct, Domain, QualityCheck
from quality import services
from quality.models import CheckResult
from tests.quality.test_services import build_warehouse, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse(tmp_path: Path, settings: Any) -> Path:
    path = tmp_path / "wh.duckdb"
    settings.WAREHOUSE_URL = build_warehouse(path, newest=timezone.now())
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE secrets (v VARCHAR)")
    con.execute("INSERT INTO secrets VALUES ('hunter2')")
    con.close()
    return path


def custom_result(product: DataProduct, sql: str) -> CheckResult:
    QualityCheck.objects.create(
        product=product, position=99, name="custom", type="custom_sql", params={"sql": sql}
    )
    run = services.check_run(product=product, trigger="manual")
    return run.results.get(check_name="custom")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) FROM campaign_attribution WHERE channel NOT IN ('paid')",
        "SELECT count(*) FROM marketing_campaign_attribution WHERE channel <> 'paid'",
        'SELECT count(*) FROM "marketing"."campaign_attribution" WHERE channel <> \'paid\'',
    ],
)
def test_custom_sql_may_name_its_product_by_short_name_table_or_id(
    marketing: Domain, warehouse: Path, sql: str
) -> None:
    result = custom_result(make_product(marketing), sql)
    assert (result.status, result.value) == ("passed", 0), result.message


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) FROM secrets",
        "SELECT count(*) FROM read_csv('/etc/passwd')",
        "SELECT count(*) FROM '/etc/passwd'",
        "SELECT count(*) FROM information_schema.tables",
        "DROP TABLE marketing_campaign_attribution",
        "SELECT count(*) FROM campaign_attribution; DROP TABLE secrets",
        "SELECT current_setting('threads')",
        "COPY marketing_campaign_attribution TO '/tmp/x.csv'",
    ],
)
def test_custom_sql_outside_the_gate_is_an_error_never_a_pass(
    marketing: Domain, warehouse: Path, sql: str
) -> None:
    result = custom_result(make_product(marketing), sql)
    assert result.status == "error" and result.passed is False
    assert "hunter2" not in result.message
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("SELECT count(*) FROM secrets").fetchone() == (1,)
    con.close()
