"""Admin entry points: "Run checks now" on products, read-only history, incidents per month."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import DataProduct, Domain
from quality.models import CheckRun, Incident
from tests.quality.test_services import build_warehouse, make_product


@pytest.fixture
def products(
    marketing: Domain, finance: Domain, tmp_path: Path, settings: Any
) -> tuple[DataProduct, DataProduct]:
    settings.WAREHOUSE_URL = build_warehouse(tmp_path / "w.duckdb", newest=timezone.now())
    ours = make_product(marketing)
    theirs = make_product(finance, product_id="finance.ledger", table="finance_ledger")
    return ours, theirs


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_run_checks_now_queues_runs_for_the_owners_products(
    owner: Any, products: tuple[DataProduct, DataProduct], django_capture_on_commit_callbacks: Any
) -> None:
    ours, _ = products

    with django_capture_on_commit_callbacks(execute=True):
        response = _client(owner).post(
            "/admin/catalog/dataproduct/",
            {"action": "run_checks_now", "_selected_action": [str(ours.pk)]},
            follow=True,
        )

    assert response.status_code == 200
    assert "Queued checks for 1 product(s)." in response.content.decode()
    run = CheckRun.objects.get(product=ours)
    assert run.trigger == "manual" and run.requested_by == owner
    assert run.status == "passed"  # eager Celery in tests


def test_run_checks_now_skips_products_the_user_may_not_run(
    owner: Any, products: tuple[DataProduct, DataProduct], django_capture_on_commit_callbacks: Any
) -> None:
    _, theirs = products

    with django_capture_on_commit_callbacks(execute=True):
        _client(owner).post(
            "/admin/catalog/dataproduct/",
            {"action": "run_checks_now", "_selected_action": [str(theirs.pk)]},
            follow=True,
        )

    assert not CheckRun.objects.filter(product=theirs).exists()


def test_owners_see_only_their_domains_incidents_and_monthly_counts(
    owner: Any, products: tuple[DataProduct, DataProduct]
) -> None:
    ours, theirs = products
    Incident.objects.create(product=ours, opened_at=timezone.now(), message="ours is stale")
    Incident.objects.create(product=theirs, opened_at=timezone.now(), message="theirs is stale")

    page = _client(owner).get("/admin/quality/incident/").content.decode()

    assert "Incidents opened per month" in page
    assert "marketing.campaign_attribution" in page
    assert "finance.ledger" not in page
    month = timezone.now().strftime("%Y-%m")
    assert f"<td>{month}</td><td>1</td>" in page


def test_check_history_is_read_only_in_the_admin(
    admin_user: Any, products: tuple[DataProduct, DataProduct]
) -> None:
    ours, _ = products
    run = CheckRun.objects.create(product=ours, trigger="manual", run_key="r")

    client = _client(admin_user)
    assert client.get(f"/admin/quality/checkrun/{run.pk}/change/").status_code == 200
    assert client.get("/admin/quality/checkrun/add/").status_code == 403
