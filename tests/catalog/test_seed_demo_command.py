"""seed_demo: 23 products across 5 domains, deliberate problems, users, idempotent (issue 2.7)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from accounts import permissions
from accounts.models import User
from catalog.demo.warehouse import RECIPES
from catalog.models import Consumer, ContractVersion, DataProduct
from querying.warehouses import warehouse_from_url
from tests.factories import seed_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse_file(tmp_path: Path, settings: Any) -> Path:
    path = tmp_path / "warehouse.duckdb"
    settings.WAREHOUSE_URL = f"duckdb://{path}"
    return path


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_seed_demo_builds_the_catalog_and_is_safe_to_run_twice(warehouse_file: Path) -> None:
    """One seeded catalog, checked from every side (each seed takes seconds)."""
    out = seed("--no-checks")
    check_products_and_tables(warehouse_file, out)
    check_write_up_product()
    check_deprecated_finance_product()
    check_users(out)
    check_second_run_changes_nothing(warehouse_file)


def check_products_and_tables(warehouse_file: Path, out: str) -> None:
    products = DataProduct.objects.all()
    assert products.count() == 23
    assert set(products.values_list("domain__slug", flat=True)) == {
        "marketing",
        "product",
        "finance",
        "ops",
        "engineering",
    }
    assert "23 products published" in out
    # The warehouse holds every product's table with its declared columns, then the columns
    # the demo puts there on purpose before any contract declares them (a draft finds them).
    warehouse = warehouse_from_url(f"duckdb://{warehouse_file}")
    for product in products:
        columns = warehouse.columns(product.table)
        assert columns is not None, product.table
        recipe = RECIPES.get(product.product_id)
        undeclared = list(recipe.extra) if recipe else []
        declared = [c.name for c in product.columns.all()]
        assert [c.name for c in columns] == declared + undeclared, product.product_id


def check_write_up_product() -> None:
    product = DataProduct.objects.get(product_id="marketing.campaign_attribution")
    written = seed_document()
    assert product.version == 3 and product.status == "published"
    assert product.tags == written["tags"]
    assert [(c.name, c.type, c.pii, c.nullable) for c in product.columns.all()] == [
        (c["column"], c["type"], c["pii"], c["nullable"]) for c in written["schema"]
    ]
    assert [(q.name, q.type, q.params) for q in product.checks.all()] == [
        (q["name"], q["type"], q.get("params", {})) for q in written["qualityChecks"]
    ]
    assert (product.sla_freshness, product.sla_availability, product.sla_query_latency_p95_ms) == (
        "1h",
        99.5,
        2000,
    )


def check_deprecated_finance_product() -> None:
    legacy = DataProduct.objects.get(domain__slug="finance", status="deprecated")
    assert legacy.deprecation_replaced_by and legacy.deprecation_sunset_at
    # The CEO dashboard moved off it (issue 16): gone as a consumer, kept in the history.
    assert not Consumer.objects.filter(product=legacy, name__icontains="CEO").exists()
    assert legacy.consumer_changes.filter(name__icontains="CEO", action="withdrawn").exists()
    moved = Consumer.objects.filter(kind="dashboard", name="Executive / CEO dashboard")
    assert moved.count() == 3


def check_users(out: str) -> None:
    roles = set(User.objects.values_list("role", flat=True))
    assert roles == {"analyst", "manager", "admin"}
    maya = User.objects.get(username="maya.marketing")
    assert "demo-maya.marketing" in out and maya.check_password("demo-maya.marketing")
    marketing = DataProduct.objects.get(product_id="marketing.campaign_attribution")
    finance = DataProduct.objects.filter(domain__slug="finance").first()
    assert finance is not None
    assert permissions.can(maya, "change", marketing)
    assert not permissions.can(maya, "change", finance)


def check_second_run_changes_nothing(warehouse_file: Path) -> None:
    versions = ContractVersion.objects.count()
    users = User.objects.count()
    seed("--no-checks")
    assert DataProduct.objects.count() == 23
    assert ContractVersion.objects.count() == versions
    assert User.objects.count() == users
    assert not list(warehouse_file.parent.glob("*.tmp-*"))


def test_seed_demo_runs_checks_and_shows_the_deliberate_problems(warehouse_file: Path) -> None:
    seed()
    from quality.models import CheckRun

    # The seed's own run (its past, issue 16, has runs of every product, some failed).
    failed = set(
        CheckRun.objects.filter(status="failed", trigger="manual").values_list(
            "product__product_id", flat=True
        )
    )
    assert {"ops.inventory_levels", "marketing.email_engagement"} <= failed
    assert "marketing.campaign_attribution" not in failed
    # Its score counts the last 30 runs, the past's included: high, not perfect.
    score = DataProduct.objects.get(product_id="marketing.campaign_attribution").quality_score
    assert score is not None and 90 <= score <= 100


def test_seed_demo_refuses_a_postgres_warehouse(settings: Any) -> None:
    from django.core.management.base import CommandError

    settings.WAREHOUSE_URL = "postgresql://x@localhost/y"
    with pytest.raises(CommandError, match="DuckDB"):
        seed()


def test_a_second_seed_while_one_runs_is_refused_with_one_line(
    warehouse_file: Path, settings: Any, tmp_path: Path
) -> None:
    import fcntl

    from django.core.management.base import CommandError

    settings.VAR_DIR = tmp_path
    with (tmp_path / "seed_demo.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another seed_demo holds it
        with pytest.raises(CommandError, match="another seed_demo is running"):
            seed("--no-checks")
    assert not DataProduct.objects.exists()


@pytest.mark.slow  # one seed, about ten seconds
def test_a_seed_that_fails_half_way_leaves_the_catalog_as_it_was(
    warehouse_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from quality.management.commands.seed_demo import Command

    def interrupted(self: Any) -> None:
        raise RuntimeError("interrupted after the products were published")

    monkeypatch.setattr(Command, "seed_users", interrupted)
    with pytest.raises(RuntimeError):
        seed("--no-checks")
    # The warehouse was swapped in, but not one product, domain or version half-written.
    assert warehouse_file.exists()
    assert not DataProduct.objects.exists() and not ContractVersion.objects.exists()
