"""Quality incidents (issue 12): a failing error-severity check opens one, once; it resolves
itself when the checks pass again; owners and consumers are told; it needs attention."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from catalog.models import Consumer, DataProduct, QualityCheck
from catalog.services import product_publish
from quality import selectors, services
from quality.checks import CheckOutcome, CheckStatus
from quality.models import Incident
from tests.factories import contract_document
from tests.quality.test_health_surfaces import write_table

PID = "marketing.campaign_attribution"
TABLE = "marketing_campaign_attribution"


def rebuild(path: Path, **kwargs: Any) -> str:
    """Write the product's table into a fresh DuckDB file at ``path`` (atomic swap)."""
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        if kwargs.pop("missing", False):
            con.execute("CREATE TABLE unrelated (x INTEGER)")
        else:
            write_table(con, TABLE, newest=kwargs.pop("newest", timezone.now()), **kwargs)
    finally:
        con.close()
    tmp.replace(path)
    return f"duckdb:///{path}"


@pytest.fixture
def wh(tmp_path: Path, settings: Any) -> Path:
    path = tmp_path / "wh.duckdb"
    settings.WAREHOUSE_URL = rebuild(path)
    return path


@pytest.fixture
def product(marketing: Any, wh: Path) -> DataProduct:
    doc = contract_document(PID)
    doc["schema"][1]["mask"] = "hash"
    product = product_publish(actor=None, document=doc).product
    Consumer.objects.create(product=product, team="Growth", use_case="ads", contact="g@example.com")
    return product


def run(product: DataProduct) -> None:
    services.check_run(product=product, trigger="manual")


def open_quality(product: DataProduct) -> list[Incident]:
    return list(product.incidents.filter(kind="quality_failure", status="open"))


def test_a_failing_error_check_opens_one_incident_and_tells_owners_and_consumers_once(
    product: DataProduct, wh: Path
) -> None:
    rebuild(wh, nulls=5)
    run(product)
    run(product)  # still failing: nothing new

    incidents = list(product.incidents.all())
    assert [(i.kind, i.status) for i in incidents] == [("quality_failure", "open")]
    incident = incidents[0]
    assert incident.opened_by_run is not None
    assert incident.message.startswith(f"{PID}: ")
    assert "no_null_campaign_ids (failed)" in incident.message
    assert incident.notified_open_at is not None
    opened = [m for m in mail.outbox if m.subject == f"[data portal] failing checks: {PID}"]
    assert len(opened) == 1
    assert opened[0].to == [product.owner_contact] and opened[0].bcc == ["g@example.com"]
    assert "no_null_campaign_ids" in opened[0].body
    # The incident names the failing checks: no second "checks failing" mail for the same run.
    assert [m.subject for m in mail.outbox] == [opened[0].subject]


def test_the_incident_resolves_itself_when_the_checks_pass_again_and_says_so(
    product: DataProduct, wh: Path
) -> None:
    rebuild(wh, nulls=5)
    run(product)
    rebuild(wh)
    run(product)
    run(product)

    incident = product.incidents.get(kind="quality_failure")
    assert incident.status == "resolved"
    assert incident.resolved_at is not None and incident.notified_resolved_at is not None
    assert incident.resolution.startswith("all ") and "error-severity checks pass again" in (
        incident.resolution
    )
    resolved = [m for m in mail.outbox if "passes its checks again" in m.subject]
    assert [m.subject for m in resolved] == [
        f"[data portal] resolved: {PID} passes its checks again"
    ]
    assert resolved[0].bcc == ["g@example.com"]


def test_failing_again_after_recovering_opens_a_new_incident(
    product: DataProduct, wh: Path
) -> None:
    for nulls in (5, 0, 5):
        rebuild(wh, nulls=nulls)
        run(product)
    assert list(product.incidents.order_by("id").values_list("status", flat=True)) == [
        "resolved",
        "open",
    ]


def test_a_check_that_starts_failing_while_the_incident_is_open_is_still_announced(
    product: DataProduct, wh: Path
) -> None:
    rebuild(wh, nulls=5)
    run(product)
    QualityCheck.objects.create(
        product=product, position=9, name="tiny_revenue", type="range", column="revenue_cents",
        params={"max": 10}, severity="error",
    )  # fmt: skip
    mail.outbox.clear()
    run(product)

    assert len(open_quality(product)) == 1
    assert [m.subject for m in mail.outbox] == [
        f"[data portal] {PID}: 1 check(s) failing: tiny_revenue"
    ]


def test_an_unreachable_table_opens_a_quality_incident(product: DataProduct, wh: Path) -> None:
    rebuild(wh, missing=True)
    run(product)
    [incident] = open_quality(product)
    assert "does not exist" in incident.message


def test_warning_checks_alone_open_no_incident(product: DataProduct, wh: Path) -> None:
    QualityCheck.objects.filter(product=product, type="row_count").update(
        params={"minRows": 1_000_000}
    )
    run(product)
    assert product.check_runs.get().status == "failed"
    assert not product.incidents.exists()
    assert selectors.product_health(product, now=timezone.now()).state == "warning"


def test_stale_data_is_one_incident_not_two(product: DataProduct, wh: Path) -> None:
    rebuild(wh, newest=timezone.now() - timedelta(hours=30))
    run(product)
    # The freshness check fails too; the stale-data incident covers it.
    assert list(product.incidents.values_list("kind", flat=True)) == ["stale_data"]
    rebuild(wh, newest=timezone.now() - timedelta(hours=30), nulls=5)
    run(product)
    assert sorted(product.incidents.filter(status="open").values_list("kind", flat=True)) == [
        "quality_failure",
        "stale_data",
    ]


def test_opening_twice_keeps_one_open_incident(product: DataProduct, wh: Path) -> None:
    failing = [
        CheckOutcome(
            check_name="x",
            type="not_null",
            status=CheckStatus.FAILED,
            passed=False,
            severity="error",
            message="3 NULL values",
        )
    ]
    now = timezone.now()
    run_row, _ = services.check_request(product=product, trigger="manual", enqueue=False)
    first = services._sync_quality_incident(product=product, run=run_row, outcomes=failing, now=now)
    second = services._sync_quality_incident(
        product=product, run=run_row, outcomes=failing, now=now
    )
    assert first.opened is not None and second.opened is None
    assert len(open_quality(product)) == 1


def test_a_failing_product_needs_attention_until_it_recovers(
    product: DataProduct, wh: Path, analyst: Any, api_as: Any
) -> None:
    client = Client()
    client.force_login(analyst)
    rebuild(wh, nulls=5)
    run(product)
    home = client.get("/").content.decode()
    section = home[home.index('id="attention-h"') :]
    assert f'href="/products/{PID}/"' in section.split("</section>")[0]
    card = api_as(analyst).get("/v1/governance/domains/marketing/scorecard").json()
    assert (card["openIncidents"], card["needsAttention"]) == (1, 1)

    rebuild(wh)
    run(product)
    home = client.get("/").content.decode()
    assert "Nothing is stale or failing." in home
    card = api_as(analyst).get("/v1/governance/domains/marketing/scorecard").json()
    assert (card["openIncidents"], card["needsAttention"]) == (0, 0)
