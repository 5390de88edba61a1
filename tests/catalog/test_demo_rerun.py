"""The demo is rerunnable and alive (issue 12): a rerun keeps people's work, --reset starts
over, and the demo warehouse keeps its fresh products fresh while the demo runs."""

from __future__ import annotations

import copy
import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from catalog.demo import load_demo_contracts
from catalog.demo.warehouse import build_demo_warehouse, duckdb_path
from catalog.governance.services import product_deprecate
from catalog.models import Consumer, ContractVersion, DataProduct, Domain
from catalog.services import product_document, product_publish
from catalog.tasks import demo_warehouse_refresh_task
from quality.management.commands import seed_demo

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def warehouse_file(tmp_path: Path, settings: Any) -> Path:
    path = tmp_path / "warehouse.duckdb"
    settings.WAREHOUSE_URL = f"duckdb://{path}"
    return path


def seed(*args: str) -> str:
    """The demo without its past: rerunning keeps or resets the catalog the same way with it
    (tests/catalog/test_seed_demo_command.py seeds the 120 days and checks them)."""
    out = io.StringIO()
    call_command(
        "seed_demo", "--no-checks", "--history-days", "0", *args, stdout=out, stderr=io.StringIO()
    )
    return out.getvalue()


def owner_changes() -> None:
    """What owners do between two runs: a new version, a deprecation, a domain and a consumer
    edited, a registration withdrawn."""
    maya = User.objects.get(username="maya.marketing")
    attribution = DataProduct.objects.get(product_id="marketing.campaign_attribution")
    document = product_document(attribution)
    document["version"] = attribution.version + 1
    document["description"] = "Maya's own words about attribution."
    product_publish(actor=maya, document=document, source="api")
    fiona = User.objects.get(username="fiona.finance")
    product_deprecate(
        actor=fiona,
        product=DataProduct.objects.get(product_id="finance.invoices"),
        sunset_at=timezone.now() + timedelta(days=60),
        replaced_by=None,
        reason="moving to the ERP export",
    )
    Domain.objects.filter(slug="ops").update(description="Ops, as the ops team describes it.")
    Consumer.objects.filter(team="SRE").update(use_case="Paging on latency burn only")
    Consumer.objects.filter(team="Growth Marketing").delete()


def test_a_rerun_after_owners_changed_products_keeps_their_work_and_says_which(
    warehouse_file: Path,
) -> None:
    seed()
    owner_changes()
    versions = set(ContractVersion.objects.values_list("pk", flat=True))

    out = seed()

    attribution = DataProduct.objects.get(product_id="marketing.campaign_attribution")
    assert attribution.version == 4
    assert attribution.description == "Maya's own words about attribution."
    invoices = DataProduct.objects.get(product_id="finance.invoices")
    assert invoices.status == "deprecated"
    # Nothing was published over anyone: the demo's own products were unchanged.
    assert set(ContractVersion.objects.values_list("pk", flat=True)) == versions
    assert Domain.objects.get(slug="ops").description == "Ops, as the ops team describes it."
    assert Consumer.objects.get(team="SRE").use_case == "Paging on latency burn only"
    # A registration withdrawn from a product its owner changed is not brought back.
    assert not Consumer.objects.filter(team="Growth Marketing").exists()
    assert "left alone: 2 products changed in the portal" in out
    assert (
        "marketing.campaign_attribution: changed since the demo published it (v4 via api by "
        "maya.marketing)" in out
    )
    assert (
        "finance.invoices: changed since the demo published it (v2 via deprecate by "
        "fiona.finance)" in out
    )
    assert "catalog: 21 products published" in out
    # The demo users' printed passwords work again.
    assert User.objects.get(username="maya.marketing").check_password("demo-maya.marketing")


def test_changed_since_demo_reads_the_latest_version(warehouse_file: Path) -> None:
    seed()
    product = DataProduct.objects.get(product_id="ops.shipments")
    assert seed_demo.changed_since_demo(product) is None
    document = product_document(product)
    product_publish(actor=None, document={**document, "version": product.version + 1}, source="cli")
    assert seed_demo.changed_since_demo(product) == f"v{product.version + 1} via cli"


def test_a_demo_contract_edited_without_a_version_bump_is_published_as_the_next_version(
    warehouse_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed()
    before = DataProduct.objects.get(product_id="ops.shipments").version
    edited = copy.deepcopy(load_demo_contracts())
    for document in edited:
        if document["id"] == "ops.shipments":
            document["description"] += " Now with carrier codes explained."
    monkeypatch.setattr(seed_demo, "load_demo_contracts", lambda: edited)

    out = seed()

    shipments = DataProduct.objects.get(product_id="ops.shipments")
    assert shipments.version == before + 1
    assert shipments.description.endswith("Now with carrier codes explained.")
    assert shipments.versions.order_by("-id").first().source == "demo"
    assert "left alone" not in out


@pytest.mark.django_db(transaction=True)  # as bin/demo runs it: flush in its own transaction
def test_reset_starts_over(warehouse_file: Path) -> None:
    seed()
    owner_changes()
    Token = pytest.importorskip("rest_framework.authtoken.models").Token
    Token.objects.create(user=User.objects.get(username="maya.marketing"))

    out = seed("--reset")

    assert "reset: the portal's database was emptied" in out
    assert "left alone" not in out
    attribution = DataProduct.objects.get(product_id="marketing.campaign_attribution")
    assert attribution.version == 3 and "Maya" not in attribution.description
    assert DataProduct.objects.get(product_id="finance.invoices").status == "published"
    assert set(ContractVersion.objects.values_list("source", flat=True)) == {"demo"}
    assert not Token.objects.exists()
    assert Consumer.objects.filter(team="Growth Marketing").exists()
    assert DataProduct.objects.count() == 23


# ---------------------------------------------------------------------------------------------
# Keeping the demo warehouse fresh
# ---------------------------------------------------------------------------------------------


def newest(path: Path, table: str, column: str) -> Any:
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute(f'SELECT max("{column}") FROM "{table}"').fetchone()[0]  # noqa: S608


def test_the_refresh_task_keeps_fresh_products_fresh_and_stale_stories_stale(
    warehouse_file: Path, settings: Any
) -> None:
    settings.DEMO_KEEP_FRESH_S = 300
    long_ago = timezone.now() - timedelta(hours=3)
    build_demo_warehouse(warehouse_file, now=long_ago)
    assert newest(warehouse_file, "engineering_error_events", "occurred_at") < long_ago
    # A reader holds the file open (read-only, as the portal reads it) during the refresh.
    reader = duckdb.connect(str(warehouse_file), read_only=True)
    try:
        rows = demo_warehouse_refresh_task.delay().get()
        assert reader.execute("SELECT count(*) FROM ops_shipments").fetchone()[0] > 0
    finally:
        reader.close()

    now = timezone.now()
    assert rows > 400_000
    # Realtime and hourly products: newest rows within minutes of now.
    assert now - newest(warehouse_file, "engineering_api_latency", "bucket_start") < timedelta(
        minutes=10
    )
    assert now - newest(warehouse_file, "engineering_error_events", "occurred_at") < timedelta(
        minutes=5
    )
    # The deliberately stale stories stay stale: ~30 h and ~90 days old.
    inventory_age = now - newest(warehouse_file, "ops_inventory_levels", "snapshot_at")
    assert timedelta(hours=29) < inventory_age < timedelta(hours=31)
    legacy_age = now - newest(warehouse_file, "finance_revenue_daily_legacy", "revenue_date")
    assert legacy_age > timedelta(days=89)
    assert not list(warehouse_file.parent.glob("*.tmp-*"))


def test_the_refresh_task_does_nothing_outside_the_demo(
    warehouse_file: Path, settings: Any
) -> None:
    settings.DEMO_KEEP_FRESH_S = 0
    long_ago = timezone.now() - timedelta(hours=3)
    build_demo_warehouse(warehouse_file, now=long_ago)
    before = newest(warehouse_file, "engineering_error_events", "occurred_at")
    assert demo_warehouse_refresh_task.delay().get() == 0
    assert newest(warehouse_file, "engineering_error_events", "occurred_at") == before
    # A PostgreSQL warehouse, or a DuckDB file that is not there, is never written either.
    settings.DEMO_KEEP_FRESH_S = 300
    settings.WAREHOUSE_URL = "postgresql://reader@127.0.0.1/warehouse"
    assert demo_warehouse_refresh_task.delay().get() == 0
    missing = warehouse_file.parent / "missing.duckdb"
    settings.WAREHOUSE_URL = f"duckdb://{missing}"
    assert demo_warehouse_refresh_task.delay().get() == 0
    assert not missing.exists()


def beat_schedule(env: dict[str, str]) -> dict[str, Any]:
    code = (
        "import json, config.celery as c; "
        "print(json.dumps({k: v['schedule'] for k, v in c.app.conf.beat_schedule.items()}))"
    )
    clean = {k: v for k, v in os.environ.items() if k != "DEMO_KEEP_FRESH_S"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_beat_refreshes_the_demo_warehouse_only_when_the_demo_asks() -> None:
    assert "demo-keep-warehouse-fresh" not in beat_schedule({})
    assert beat_schedule({"DEMO_KEEP_FRESH_S": "300"})["demo-keep-warehouse-fresh"] == 300.0


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("duckdb:///var/x/warehouse.duckdb", Path("/var/x/warehouse.duckdb")),
        ("duckdb:////tmp/a%20b.duckdb", Path("/tmp/a b.duckdb")),
        ("duckdb://relative.duckdb", Path("relative.duckdb")),
        ("postgresql://u@h/db", None),
    ],
)
def test_duckdb_path_reads_the_file_of_a_duckdb_url(url: str, expected: Path | None) -> None:
    assert duckdb_path(url) == expected
