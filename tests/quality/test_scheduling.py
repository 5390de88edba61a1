"""Scheduling: SLA cadence, atomic claims of due products, retry-safe tasks, publish trigger."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from catalog.models import DataProduct, Domain
from config.celery import app
from quality import services, tasks
from quality.models import CheckRun
from tests.factories import contract_document
from tests.quality.test_services import build_warehouse, make_product


@pytest.fixture
def warehouse(tmp_path: Path, settings: Any) -> str:
    settings.WAREHOUSE_URL = build_warehouse(tmp_path / "w.duckdb", newest=timezone.now())
    return str(settings.WAREHOUSE_URL)


@pytest.mark.parametrize(
    ("freshness", "minutes"), [("realtime", 5), ("1h", 15), ("4h", 60), ("24h", 360)]
)
def test_cadence_catches_a_breach_inside_the_sla_window(freshness: str, minutes: int) -> None:
    assert services.check_cadence(freshness) == timedelta(minutes=minutes)


def test_dispatch_claims_only_due_published_products(
    marketing: Domain, warehouse: str, django_capture_on_commit_callbacks: Any
) -> None:
    now = timezone.now()
    due = make_product(marketing, product_id="marketing.due", table="t1")
    later = make_product(marketing, product_id="marketing.later", table="t2")
    draft = make_product(marketing, product_id="marketing.draft", table="t3", status="draft")
    DataProduct.objects.filter(pk__in=[due.pk, draft.pk]).update(
        next_check_at=now - timedelta(minutes=1)
    )
    DataProduct.objects.filter(pk=later.pk).update(next_check_at=now + timedelta(minutes=5))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run_ids = services.checks_dispatch_due(now=now)

    assert [CheckRun.objects.get(pk=i).product_id for i in run_ids] == [due.pk]
    assert len(callbacks) == 1
    due.refresh_from_db()
    # From the previous due time, not from when the dispatcher happened to look: no drift.
    assert due.next_check_at == now - timedelta(minutes=1) + timedelta(minutes=15)
    run = CheckRun.objects.get()
    assert run.trigger == "schedule" and run.status == "queued"


def test_a_second_dispatch_at_the_same_moment_claims_nothing(
    marketing: Domain, warehouse: str, django_capture_on_commit_callbacks: Any
) -> None:
    now = timezone.now()
    product = make_product(marketing)
    DataProduct.objects.filter(pk=product.pk).update(next_check_at=now - timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=False):
        first = services.checks_dispatch_due(now=now)
        second = services.checks_dispatch_due(now=now)

    assert len(first) == 1 and second == []
    assert CheckRun.objects.count() == 1


def test_a_claim_lost_to_another_worker_creates_no_run(
    marketing: Domain, warehouse: str, django_capture_on_commit_callbacks: Any
) -> None:
    """Two beats read the same due row; the one whose UPDATE matches zero rows backs off."""
    now = timezone.now()
    product = make_product(marketing)
    stale_due = now - timedelta(minutes=2)
    DataProduct.objects.filter(pk=product.pk).update(next_check_at=stale_due)
    # The other worker wins first: it moves next_check_at on.
    won = DataProduct.objects.filter(pk=product.pk, next_check_at=stale_due).update(
        next_check_at=now + timedelta(minutes=15)
    )
    lost = DataProduct.objects.filter(pk=product.pk, next_check_at=stale_due).update(
        next_check_at=now + timedelta(minutes=15)
    )

    with django_capture_on_commit_callbacks(execute=False):
        assert services.checks_dispatch_due(now=now) == []
    assert (won, lost) == (1, 0)


def test_the_dispatch_task_runs_due_products_end_to_end_eagerly(
    marketing: Domain, warehouse: str, django_capture_on_commit_callbacks: Any
) -> None:
    product = make_product(marketing)
    DataProduct.objects.filter(pk=product.pk).update(
        next_check_at=timezone.now() - timedelta(minutes=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.checks_dispatch_due_task.delay().get() == 1

    run = CheckRun.objects.get(product=product)
    assert run.trigger == "schedule" and run.status == "passed"
    assert run.results.exists()


def test_a_redelivered_task_does_not_duplicate_results(marketing: Domain, warehouse: str) -> None:
    product = make_product(marketing)
    run = CheckRun.objects.create(product=product, trigger="schedule", run_key="once")

    assert tasks.check_run_task.apply(args=[run.pk]).get() == "passed"
    count = run.results.count()
    assert tasks.check_run_task.apply(args=[run.pk]).get() == "passed"

    assert count > 0 and run.results.count() == count


def test_a_task_for_a_deleted_run_is_a_no_op(db: Any) -> None:
    assert tasks.check_run_task.apply(args=[987654]).get() is None


def test_check_tasks_ack_late_and_beat_runs_dispatch_every_minute() -> None:
    assert tasks.check_run_task.acks_late is True
    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule["quality.tasks.checks_dispatch_due_task"] == 60.0
    assert schedule["quality.tasks.history_prune_task"] == 24 * 60 * 60.0


def test_publishing_a_contract_makes_it_due_and_the_dispatcher_records_its_publish_run(
    marketing: Domain, owner: Any, tmp_path: Path, settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    from catalog.services import product_publish

    settings.WAREHOUSE_URL = build_warehouse(tmp_path / "w.duckdb", newest=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        outcome = product_publish(actor=owner, document=contract_document())
    # The catalog asks by data, never by calling quality: the product is due now.
    assert not CheckRun.objects.filter(product=outcome.product).exists()
    outcome.product.refresh_from_db()
    assert outcome.product.next_check_at <= timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        [run_id] = services.checks_dispatch_due()

    run = CheckRun.objects.get(pk=run_id)
    assert run.trigger == "publish"
    assert outcome.version is not None and run.run_key == f"publish:{outcome.version.pk}"
    assert run.status in ("passed", "failed", "error")  # eager: finished on commit
    assert run.results.exists()


def test_a_contract_version_gets_one_publish_run_then_the_schedule_takes_over(
    marketing: Domain, warehouse: str, django_capture_on_commit_callbacks: Any
) -> None:
    from catalog.models import ContractVersion

    product = make_product(marketing)
    version = ContractVersion.objects.create(product=product, version=1, document={})

    with django_capture_on_commit_callbacks(execute=True):
        first = services.checks_dispatch_due()
        DataProduct.objects.filter(pk=product.pk).update(next_check_at=timezone.now())
        second = services.checks_dispatch_due()

    runs = list(CheckRun.objects.filter(product=product).order_by("id"))
    assert [r.pk for r in runs] == first + second
    assert [r.trigger for r in runs] == ["publish", "schedule"]
    assert runs[0].run_key == f"publish:{version.pk}"
    assert runs[1].run_key.startswith(f"schedule:{product.pk}:")
    # The next version is new again: its own publish run, once.
    newer = ContractVersion.objects.create(product=product, version=2, document={})
    DataProduct.objects.filter(pk=product.pk).update(next_check_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        [third] = services.checks_dispatch_due()
    assert CheckRun.objects.get(pk=third).run_key == f"publish:{newer.pk}"


def test_a_version_older_than_the_last_run_is_not_new_even_once_its_publish_run_is_pruned(
    marketing: Domain, warehouse: str, django_capture_on_commit_callbacks: Any
) -> None:
    from catalog.models import ContractVersion

    product = make_product(marketing)
    ContractVersion.objects.create(product=product, version=1, document={})
    CheckRun.objects.create(product=product, trigger="schedule", run_key="later", status="passed")

    with django_capture_on_commit_callbacks(execute=False):
        [run_id] = services.checks_dispatch_due()
    assert CheckRun.objects.get(pk=run_id).trigger == "schedule"


@pytest.mark.parametrize("versions", [0, 1])
def test_a_draft_is_checked_once_per_published_version_and_never_on_a_schedule(
    versions: int, marketing: Domain, warehouse: str, django_capture_on_commit_callbacks: Any
) -> None:
    from catalog.models import ContractVersion

    draft = make_product(marketing, status="draft")
    for number in range(1, versions + 1):
        ContractVersion.objects.create(product=draft, version=number, document={})
    DataProduct.objects.filter(pk=draft.pk).update(next_check_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=False):
        created = services.checks_dispatch_due()
        again = services.checks_dispatch_due(now=timezone.now() + timedelta(days=2))

    assert len(created) == versions and again == []
    assert [r.trigger for r in CheckRun.objects.filter(product=draft)] == ["publish"] * versions
    draft.refresh_from_db()
    assert draft.next_check_at is None  # claimed: not due again until the next publish
