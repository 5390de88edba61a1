"""Quality services against a real DuckDB warehouse file: runs, history, score, incidents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.core import mail
from django.utils import timezone

from catalog.models import Column, Consumer, DataProduct, Domain, QualityCheck
from quality import selectors, services
from quality.models import CheckResult, CheckRun, Incident

TABLE = "marketing_campaign_attribution"


def build_warehouse(
    path: Path, *, newest: datetime, rows: int = 50, null_campaigns: int = 0, table: str = TABLE
) -> str:
    """Write a DuckDB file with the seed product's table; returns its WAREHOUSE_URL."""
    tmp = path.with_suffix(".tmp")
    if tmp.exists():
        tmp.unlink()
    con = duckdb.connect(str(tmp))
    con.execute(
        f"CREATE TABLE {table} (attribution_id VARCHAR NOT NULL, campaign_id VARCHAR, "
        "channel VARCHAR, touchpoint_at TIMESTAMP, revenue_cents BIGINT)"
    )
    naive = newest.astimezone(UTC).replace(tzinfo=None)
    con.execute(
        f"INSERT INTO {table} SELECT 'a' || i, CASE WHEN i < ? THEN NULL ELSE 'c' || (i % 5) END, "
        "'paid', ?::TIMESTAMP - to_hours(i), i * 10 FROM range(?) t(i)",
        [null_campaigns, naive, rows],
    )
    con.close()
    tmp.replace(path)  # readers never see a half-written file
    return f"duckdb:///{path}"


def make_product(
    domain: Domain,
    *,
    product_id: str = "marketing.campaign_attribution",
    freshness: str = "1h",
    table: str = TABLE,
    status: str = "published",
    contact: str = "owners@example.com",
) -> DataProduct:
    """A product with the seed's checks, written straight to the rows (no publish gates)."""
    product = DataProduct.objects.create(
        product_id=product_id,
        domain=domain,
        name="Campaign Attribution",
        owner_team="Marketing Analytics",
        owner_contact=contact,
        owner_slack_channel="#marketing-data",
        sla_freshness=freshness,
        sla_availability=99.5,
        sla_query_latency_p95_ms=2000,
        status=status,
        table=table,
    )
    for i, (name, type_, nullable) in enumerate(
        [
            ("attribution_id", "string", False),
            ("campaign_id", "string", False),
            ("channel", "string", False),
            ("touchpoint_at", "timestamp", False),
            ("revenue_cents", "integer", True),
        ]
    ):
        Column.objects.create(product=product, position=i, name=name, type=type_, nullable=nullable)
    checks: list[tuple[str, str, str, dict[str, Any], str]] = [
        ("no_null_campaign_ids", "not_null", "campaign_id", {}, "error"),
        ("hourly_freshness", "freshness", "touchpoint_at", {"maxStaleHours": 2}, "error"),
        ("daily_row_count", "row_count", "", {"minRows": 10, "maxRows": 500000}, "warning"),
    ]
    for i, (name, type_, column, params, severity) in enumerate(checks):
        QualityCheck.objects.create(
            product=product,
            position=i,
            name=name,
            type=type_,
            column=column,
            params=params,
            severity=severity,
        )
    return product


@pytest.fixture
def fresh_warehouse(tmp_path: Path, settings: Any) -> Path:
    path = tmp_path / "wh.duckdb"
    settings.WAREHOUSE_URL = build_warehouse(path, newest=timezone.now())
    return path


@pytest.fixture
def product(marketing: Domain) -> DataProduct:
    return make_product(marketing)


def test_a_run_records_one_result_per_check_and_schema_problem(
    product: DataProduct, fresh_warehouse: Path
) -> None:
    run = services.check_run(product=product, trigger="manual")

    assert run.status == "passed"
    assert run.trigger == "manual"
    assert run.table_reachable is True
    assert run.started_at is not None and run.finished_at is not None
    assert run.duration_ms is not None and run.duration_ms >= 0
    names = [r.check_name for r in run.results.order_by("position")]
    assert {"no_null_campaign_ids", "hourly_freshness", "daily_row_count"} <= set(names)
    assert all(r.passed for r in run.results.all())


def test_a_run_updates_last_validated_score_newest_data_and_next_check(
    product: DataProduct, fresh_warehouse: Path
) -> None:
    now = timezone.now()
    services.check_run(product=product, trigger="manual", now=now)

    product.refresh_from_db()
    assert product.last_validated_at is not None and product.last_validated_at >= now
    assert product.quality_score == 100.0
    assert product.newest_data_at is not None
    assert abs((product.newest_data_at - now).total_seconds()) < 5
    assert product.next_check_at is not None
    assert product.next_check_at >= now + timedelta(minutes=15)


def test_null_values_fail_the_error_check_and_lower_the_score(
    product: DataProduct, tmp_path: Path, settings: Any
) -> None:
    settings.WAREHOUSE_URL = build_warehouse(
        tmp_path / "w.duckdb", newest=timezone.now(), null_campaigns=3
    )
    run = services.check_run(product=product, trigger="manual")

    assert run.status == "failed"
    failing = run.results.get(check_name="no_null_campaign_ids")
    assert failing.passed is False and failing.status == "failed"
    assert failing.value == 3
    product.refresh_from_db()
    assert product.quality_score is not None and product.quality_score < 100


def test_a_missing_table_is_an_error_run_never_a_pass(
    product: DataProduct, tmp_path: Path, settings: Any
) -> None:
    settings.WAREHOUSE_URL = build_warehouse(
        tmp_path / "w.duckdb", newest=timezone.now(), table="something_else"
    )
    run = services.check_run(product=product, trigger="manual")

    assert run.status == "error"
    assert run.table_reachable is False
    assert not run.results.filter(passed=True).exists()
    assert run.results.filter(status="error").count() >= 3


def test_an_unusable_warehouse_url_records_an_error_run(
    product: DataProduct, settings: Any
) -> None:
    settings.WAREHOUSE_URL = "mysql://nowhere/db"
    run = services.check_run(product=product, trigger="manual")

    assert run.status == "error"
    result = run.results.get()
    assert result.status == "error" and "could not start" in result.message


def test_quality_score_weighs_warnings_half(product: DataProduct, fresh_warehouse: Path) -> None:
    run = CheckRun.objects.create(
        product=product, trigger="manual", run_key="k1", status="failed",
        finished_at=timezone.now(),
    )  # fmt: skip
    for i, (passed, severity) in enumerate(
        [(True, "error"), (False, "warning"), (True, "warning")]
    ):
        CheckResult.objects.create(
            run=run, position=i, check_name=f"c{i}", check_type="not_null",
            status="passed" if passed else "failed", passed=passed, severity=severity,
            created_at=timezone.now(),
        )  # fmt: skip

    # passed weight 1 + 0.5 = 1.5 out of 1 + 0.5 + 0.5 = 2.0
    assert selectors.quality_score_compute(product) == 75.0


def test_quality_score_only_counts_the_last_30_runs(product: DataProduct) -> None:
    base = timezone.now() - timedelta(days=10)
    for i in range(31):
        run = CheckRun.objects.create(
            product=product, trigger="schedule", run_key=f"r{i}", status="passed",
            finished_at=base + timedelta(hours=i),
        )  # fmt: skip
        CheckResult.objects.create(
            run=run, check_name="c", check_type="not_null", status="passed" if i else "failed",
            passed=i > 0, severity="error", created_at=base + timedelta(hours=i),
        )  # fmt: skip

    assert selectors.quality_score_compute(product) == 100.0
    history = selectors.score_history(product, days=90)
    assert len(history) == 31
    assert history[0][1] == 0.0
    assert history[-1][1] == 100.0


def test_a_finished_run_is_not_run_again(product: DataProduct, fresh_warehouse: Path) -> None:
    run = services.check_run(product=product, trigger="manual")
    count = CheckResult.objects.filter(run=run).count()

    again = services.check_run(product=product, trigger="manual", run=run)

    assert again.pk == run.pk
    assert CheckResult.objects.filter(run=run).count() == count
    assert CheckRun.objects.filter(product=product).count() == 1


def test_a_run_claimed_by_a_live_worker_is_left_alone(
    product: DataProduct, fresh_warehouse: Path
) -> None:
    run = CheckRun.objects.create(
        product=product, trigger="schedule", run_key="busy", status="running",
        started_at=timezone.now(), claim_token="other-worker",
    )  # fmt: skip

    same = services.check_run(product=product, trigger="schedule", run=run)

    assert same.status == "running"
    assert not same.results.exists()


def test_a_run_whose_worker_died_is_claimed_again(
    product: DataProduct, fresh_warehouse: Path
) -> None:
    run = CheckRun.objects.create(
        product=product, trigger="schedule", run_key="dead", status="running",
        claim_token="dead-worker",
    )  # fmt: skip
    CheckRun.objects.filter(pk=run.pk).update(
        started_at=timezone.now() - timedelta(hours=2),
        deadline_at=timezone.now() - timedelta(minutes=1),  # its time cap and margin are up
    )

    done = services.check_run(product=product, trigger="schedule", run=run)

    assert done.status == "passed"
    assert done.results.exists()


def test_stale_data_opens_one_incident_and_notifies_once(
    product: DataProduct, tmp_path: Path, settings: Any
) -> None:
    Consumer.objects.create(product=product, team="Growth", use_case="ads", contact="g@example.com")
    settings.WAREHOUSE_URL = build_warehouse(
        tmp_path / "w.duckdb", newest=timezone.now() - timedelta(hours=5)
    )

    services.check_run(product=product, trigger="manual")
    services.check_run(product=product, trigger="manual")

    incidents = Incident.objects.filter(product=product)
    assert incidents.count() == 1
    incident = incidents.get()
    assert incident.status == "open" and incident.kind == "stale_data"
    assert incident.notified_open_at is not None
    assert "5 h old" in incident.message
    stale_mails = [m for m in mail.outbox if "stale data" in m.subject]
    assert len(stale_mails) == 1
    assert stale_mails[0].to == ["owners@example.com"]
    assert stale_mails[0].bcc == ["g@example.com"]
    # The freshness check failed too; it is mailed once, not on every run.
    failing_mails = [m for m in mail.outbox if "failing" in m.subject]
    assert len(failing_mails) == 1
    assert "hourly_freshness" in failing_mails[0].subject


def test_fresh_data_resolves_the_open_incident_and_says_so(
    product: DataProduct, tmp_path: Path, settings: Any
) -> None:
    path = tmp_path / "w.duckdb"
    settings.WAREHOUSE_URL = build_warehouse(path, newest=timezone.now() - timedelta(hours=5))
    services.check_run(product=product, trigger="manual")
    build_warehouse(path, newest=timezone.now())

    services.check_run(product=product, trigger="manual")

    incident = Incident.objects.get(product=product)
    assert incident.status == "resolved"
    assert incident.resolved_at is not None and incident.notified_resolved_at is not None
    assert sum("resolved" in m.subject for m in mail.outbox) == 1


def test_a_check_failing_again_after_recovering_is_notified_again(
    product: DataProduct, tmp_path: Path, settings: Any
) -> None:
    path = tmp_path / "w.duckdb"
    settings.WAREHOUSE_URL = build_warehouse(path, newest=timezone.now(), null_campaigns=2)
    services.check_run(product=product, trigger="manual")
    build_warehouse(path, newest=timezone.now())
    services.check_run(product=product, trigger="manual")
    build_warehouse(path, newest=timezone.now(), null_campaigns=2)
    services.check_run(product=product, trigger="manual")

    # Each failure opens a quality incident whose message names the check (issue 12).
    failing = [
        m
        for m in mail.outbox
        if m.subject.endswith("failing checks: marketing.campaign_attribution")
        and "no_null_campaign_ids" in m.body
    ]
    assert len(failing) == 2


def test_a_failing_warning_check_sends_no_mail(
    marketing: Domain, tmp_path: Path, settings: Any
) -> None:
    product = make_product(marketing)
    QualityCheck.objects.filter(product=product, name="daily_row_count").update(
        params={"minRows": 1000}
    )
    settings.WAREHOUSE_URL = build_warehouse(tmp_path / "w.duckdb", newest=timezone.now())

    run = services.check_run(product=product, trigger="manual")

    assert run.status == "failed"
    assert run.results.get(check_name="daily_row_count").passed is False
    assert mail.outbox == []


def test_sla_status_reports_freshness_availability_and_latency(
    product: DataProduct, tmp_path: Path, settings: Any
) -> None:
    now = timezone.now()
    settings.WAREHOUSE_URL = build_warehouse(tmp_path / "w.duckdb", newest=now - timedelta(hours=3))
    services.check_run(product=product, trigger="manual", now=now)
    CheckRun.objects.create(
        product=product, trigger="schedule", run_key="down", status="error",
        table_reachable=False, finished_at=now - timedelta(days=1),
    )  # fmt: skip
    product.refresh_from_db()

    status = selectors.sla_status(product, now=now)

    assert status.freshness_state == "stale"
    assert status.freshness_limit_h == 1
    assert status.hours_stale is not None and 2.9 < status.hours_stale < 3.1
    assert status.availability_pct == 50.0
    assert status.availability_met is False
    body = status.as_dict()
    assert body["freshness"]["state"] == "stale"
    assert body["availability"]["runs"] == 2
    assert set(body["queryLatencyP95Ms"]) == {"value", "target", "met", "windowDays", "formula"}
    assert body["queryLatencyP95Ms"]["target"] == 2000


def test_sla_status_is_unknown_before_any_data(product: DataProduct) -> None:
    status = selectors.sla_status(product, now=timezone.now())

    assert status.freshness_state == "unknown"
    assert status.availability_pct is None and status.availability_met is None


def test_incident_selectors_scope_by_user_and_count_per_month(
    product: DataProduct, finance: Domain, member: Any, outsider: Any, admin_user: Any
) -> None:
    other = make_product(finance, product_id="finance.ledger", table="finance_ledger")
    DataProduct.objects.filter(pk=other.pk).update(status="draft")
    Incident.objects.create(product=product, opened_at=datetime(2025, 1, 5, tzinfo=UTC))
    Incident.objects.create(
        product=product, opened_at=datetime(2025, 1, 20, tzinfo=UTC), status="resolved"
    )
    Incident.objects.create(product=other, opened_at=datetime(2025, 2, 1, tzinfo=UTC))

    assert selectors.incidents_per_month() == [
        {"month": "2025-01", "count": 2},
        {"month": "2025-02", "count": 1},
    ]
    assert selectors.incidents_per_month(member) == [{"month": "2025-01", "count": 2}]
    assert [i.product_id for i in selectors.open_incidents(member)] == [product.pk]
    assert [i.product_id for i in selectors.open_incidents(outsider)] == [other.pk, product.pk]
    assert selectors.open_incidents(None).count() == 0
    assert selectors.product_incidents(product).count() == 2


def test_history_selectors_return_newest_first(product: DataProduct, fresh_warehouse: Path) -> None:
    first = services.check_run(product=product, trigger="manual")
    second = services.check_run(product=product, trigger="manual")

    history = selectors.product_quality_history(product, limit=4)
    assert len(history) == 4
    assert history[0].run_id == second.pk
    latest = selectors.latest_results(product)
    assert {r.run_id for r in latest} == {second.pk}
    assert first.pk != second.pk


def test_prune_keeps_90_days_and_each_products_last_run(product: DataProduct) -> None:
    now = timezone.now()
    ages = {"old": 120, "older": 200, "recent": 30}
    for key, days in ages.items():
        CheckRun.objects.create(
            product=product, trigger="schedule", run_key=key, status="passed",
            finished_at=now - timedelta(days=days),
        )  # fmt: skip
    lonely = make_product(product.domain, product_id="marketing.lonely", table="lonely")
    CheckRun.objects.create(
        product=lonely, trigger="schedule", run_key="only", status="passed",
        finished_at=now - timedelta(days=300),
    )  # fmt: skip

    deleted = services.history_prune(now=now)

    assert deleted == 2
    assert set(CheckRun.objects.values_list("run_key", flat=True)) == {"recent", "only"}


def test_retention_is_never_below_90_days(settings: Any) -> None:
    settings.QUALITY_HISTORY_DAYS = 7
    assert services.retention_days() == 90
    settings.QUALITY_HISTORY_DAYS = 365
    assert services.retention_days() == 365
