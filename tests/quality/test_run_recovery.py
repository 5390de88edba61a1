"""No run is stuck (issue 13): deadlines, recovery by the dispatcher, broker failures, no drift.

A run past its deadline (queued: the time it may wait for a worker; running: its checks' time
cap plus a margin) is queued again once by the dispatcher, then recorded as ``error`` with the
reason; a broker that cannot take a task leaves no orphan behind; the API never hands back a
lost run as if it were in progress; due times follow from the previous due time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from celery.utils.time import get_exponential_backoff_interval
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from catalog.models import DataProduct, Domain
from quality import services
from quality.models import CheckRun
from quality.tasks import check_run_task
from tests.quality.test_services import build_warehouse, make_product

pytestmark = pytest.mark.django_db
RUNS = "/v1/quality/products/marketing.campaign_attribution/runs"


@pytest.fixture
def product(marketing: Domain, tmp_path: Path, settings: Any) -> DataProduct:
    settings.WAREHOUSE_URL = build_warehouse(tmp_path / "w.duckdb", newest=timezone.now())
    return make_product(marketing)


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The broker refuses every task (as kombu does when Redis is down); records the tries."""
    tries: list[int] = []

    def refuse(run_id: int) -> None:
        tries.append(run_id)
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(check_run_task, "delay", refuse)
    return tries


def _lost(product: DataProduct, status: str, **fields: Any) -> CheckRun:
    run = CheckRun.objects.create(product=product, trigger="schedule", run_key=f"lost-{status}")
    CheckRun.objects.filter(pk=run.pk).update(
        status=status, deadline_at=timezone.now() - timedelta(seconds=1), **fields
    )
    return run


@pytest.mark.parametrize("status", ["queued", "running"])
def test_a_lost_run_is_queued_again_once_then_recorded_as_an_error(
    product: DataProduct, status: str, django_capture_on_commit_callbacks: Any
) -> None:
    run = _lost(product, status, claim_token="dead-worker" if status == "running" else "")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.checks_dispatch_due(now=timezone.now())
    run.refresh_from_db()
    assert (run.status, run.requeues, run.claim_token) == ("queued", 1, "")
    assert run.deadline_at is not None and run.deadline_at > timezone.now()
    assert len(callbacks) >= 1  # its task is sent again on commit

    # Lost again (the broker swallowed it too): the next dispatch after the deadline ends it.
    CheckRun.objects.filter(pk=run.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
    services.runs_recover(now=timezone.now())
    run.refresh_from_db()
    assert run.status == "error" and run.finished_at is not None
    assert "lost twice" in run.message
    (result,) = run.results.all()
    assert (result.check_name, result.status, result.passed) == ("run", "error", False)


def test_a_requeued_run_is_run_by_its_task(
    product: DataProduct, django_capture_on_commit_callbacks: Any
) -> None:
    run = _lost(product, "running", claim_token="dead-worker")
    with django_capture_on_commit_callbacks(execute=True):  # eager Celery: runs on commit
        services.runs_recover(now=timezone.now())

    run.refresh_from_db()
    assert run.status == "passed" and run.results.exists()


def test_runs_within_their_deadline_are_left_alone(product: DataProduct) -> None:
    run = CheckRun.objects.create(product=product, trigger="schedule", run_key="waiting")
    assert services.runs_recover(now=timezone.now()) == []
    run.refresh_from_db()
    assert (run.status, run.requeues) == ("queued", 0)


def test_two_dispatchers_recover_a_lost_run_once(product: DataProduct) -> None:
    run = _lost(product, "queued")
    first = services.runs_recover(now=timezone.now())
    second = services.runs_recover(now=timezone.now())
    assert first == [run.pk] and second == []


def test_broker_down_on_an_api_run_answers_503_and_leaves_no_row(
    api_as: Any, owner: Any, product: DataProduct, broker_down: list[int]
) -> None:
    response = api_as(owner).post(RUNS)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "QUEUE_UNAVAILABLE"
    assert len(broker_down) == 1
    assert not CheckRun.objects.exists()


def test_broker_down_on_publish_keeps_the_run_for_the_dispatcher(
    product: DataProduct,
    broker_down: list[int],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        run, created = services.check_request(product=product, trigger="publish", run_key="pub:1")
    assert created and broker_down == [run.pk]  # tried on commit, refused, no exception
    run.refresh_from_db()
    assert run.status == "queued" and run.deadline_at is not None

    monkeypatch.undo()  # the broker is back
    CheckRun.objects.filter(pk=run.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        services.checks_dispatch_due(now=timezone.now())
    run.refresh_from_db()
    assert run.status == "passed" and run.requeues == 1


def test_the_api_never_hands_back_a_lost_run(api_as: Any, owner: Any, product: DataProduct) -> None:
    lost = _lost(product, "queued")

    body = api_as(owner).post(RUNS).json()

    assert body["id"] != lost.pk and body["created"] is True


def test_a_run_in_progress_is_handed_back_instead_of_a_second_one(
    api_as: Any, owner: Any, product: DataProduct
) -> None:
    waiting = CheckRun.objects.create(product=product, trigger="schedule", run_key="waiting")
    body = api_as(owner).post(RUNS).json()
    assert body["id"] == waiting.pk and body["created"] is False


def test_task_retries_back_off_over_minutes_not_seconds() -> None:
    task = check_run_task
    delays = [
        get_exponential_backoff_interval(
            factor=task.retry_backoff, retries=n, maximum=task.retry_backoff_max, full_jitter=False
        )
        for n in range(task.max_retries)
    ]
    assert delays[0] >= 30 and sum(delays) >= 15 * 60, delays


T0 = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
FIVE = timedelta(minutes=5)


@pytest.mark.parametrize(
    ("due", "now", "expected"),
    [
        (T0, T0 + timedelta(seconds=59), T0 + FIVE),  # seen late: still 10:05
        (T0, T0 + FIVE, T0 + 2 * FIVE),  # exactly on the next slot: the one after
        (T0, T0 + timedelta(minutes=23), T0 + timedelta(minutes=25)),  # after a pause
        (None, T0, T0 + FIVE),  # never scheduled: from now
    ],
)
def test_due_times_follow_from_the_previous_due_time(
    due: datetime | None, now: datetime, expected: datetime
) -> None:
    assert services.next_due(due, FIVE, now) == expected


def test_a_product_checked_every_5_minutes_runs_12_times_an_hour(
    product: DataProduct, django_capture_on_commit_callbacks: Any
) -> None:
    DataProduct.objects.filter(pk=product.pk).update(sla_freshness="realtime", next_check_at=T0)
    created = 0
    with django_capture_on_commit_callbacks(execute=False):
        for second in range(0, 3600, 61):  # a dispatcher that is always a little late
            created += len(services.checks_dispatch_due(now=T0 + timedelta(seconds=second)))
    assert created == 12
