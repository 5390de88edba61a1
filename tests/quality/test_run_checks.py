"""``manage.py run_checks``: JSON output, exit codes, progress on stderr."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from catalog.models import Domain
from quality.models import CheckRun
from tests.quality.test_services import build_warehouse, make_product


def run(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("run_checks", *args, stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def product(marketing: Domain, tmp_path: Path, settings: Any) -> Any:
    settings.WAREHOUSE_URL = build_warehouse(tmp_path / "w.duckdb", newest=timezone.now())
    return make_product(marketing)


def test_json_prints_one_run_per_product_and_exits_0_when_all_pass(product: Any) -> None:
    code, out, _ = run("marketing.campaign_attribution", "--json")

    assert code == 0
    runs = json.loads(out)
    assert len(runs) == 1
    assert runs[0]["product"] == "marketing.campaign_attribution"
    assert runs[0]["status"] == "passed"
    assert runs[0]["startedAt"]
    assert set(runs[0]["results"][0]) == {
        "checkName", "type", "passed", "severity", "message", "value",
    }  # fmt: skip
    assert CheckRun.objects.get().trigger == "manual"


def test_an_error_severity_failure_exits_1(product: Any, tmp_path: Path, settings: Any) -> None:
    settings.WAREHOUSE_URL = build_warehouse(
        tmp_path / "bad.duckdb", newest=timezone.now(), null_campaigns=4
    )

    code, out, err = run("marketing.campaign_attribution")

    assert code == 1
    assert "marketing.campaign_attribution: failed" in out
    assert "no_null_campaign_ids" in out
    assert err.strip().count("\n") == 0 and "error-severity" in err


def test_a_failing_warning_check_still_exits_0(product: Any) -> None:
    product.checks.filter(name="daily_row_count").update(params={"minRows": 100000})

    code, out, _ = run("marketing.campaign_attribution", "--json")

    assert code == 0
    results = {r["checkName"]: r for r in json.loads(out)[0]["results"]}
    assert results["daily_row_count"]["passed"] is False
    assert results["daily_row_count"]["severity"] == "warning"


def test_an_unknown_product_id_exits_2_with_one_line(product: Any) -> None:
    code, out, err = run("marketing.campaign_attribution", "marketing.nope")

    assert code == 2
    assert err.strip() == "unknown product id: marketing.nope"
    assert out == ""
    assert not CheckRun.objects.exists()


def test_no_ids_runs_every_published_product_with_a_progress_bar(
    product: Any, marketing: Domain
) -> None:
    make_product(marketing, product_id="marketing.b", table="marketing_campaign_attribution")
    make_product(marketing, product_id="marketing.c", table="marketing_campaign_attribution")
    make_product(marketing, product_id="marketing.d", table="x", status="draft")

    code, out, err = run("--json")

    assert code == 0
    assert sorted(r["product"] for r in json.loads(out)) == [
        "marketing.b", "marketing.c", "marketing.campaign_attribution",
    ]  # fmt: skip
    assert "3/3" in err and "#" in err


def test_an_unreachable_table_exits_1(marketing: Domain, tmp_path: Path, settings: Any) -> None:
    settings.WAREHOUSE_URL = build_warehouse(tmp_path / "w.duckdb", newest=timezone.now())
    make_product(marketing, table="missing_table")

    code, out, _ = run("--json")

    assert code == 1
    assert json.loads(out)[0]["status"] == "error"
