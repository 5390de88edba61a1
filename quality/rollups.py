"""The daily quality rollup (issue 16): finished check runs summed per product and UTC day.

Days are UTC days, by the run's ``finished_at``. ``quality_rollup`` (beat every 10 minutes,
``quality.tasks.quality_rollup_task``; and before history is pruned) is idempotent: a day is
recomputed whole in one transaction. It sums every day since the first finished run that
``QualityRollupDay`` does not list, plus yesterday always (a run finishing just after midnight
is written then). Because ``QualityDay`` outlives the runs it sums (``history_prune`` drops
runs after ``QUALITY_HISTORY_DAYS``), a day whose runs are gone is never recomputed from
nothing: only missing days and yesterday are summed, and the prune sums first.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from catalog.contract import FRESHNESS_HOURS
from catalog.contract.vocabulary import ProductStatus
from catalog.models import DataProduct
from catalog.usage_rollup import DRAFT, LIVE
from querying.models import day_start, utc_day

from .models import (
    FINISHED_STATUSES,
    WARNING_WEIGHT,
    CheckRun,
    QualityDay,
    QualityDomainDay,
    QualityRollupDay,
    RunStatus,
)

BACKFILL_DAYS = 400
# What a day's sum reads of each run (the weights annotated by CheckRunQuerySet.with_weights).
RUN_FIELDS = (
    "product_id",
    "status",
    "finished_at",
    "newest_data_at",
    "e_total",
    "e_passed",
    "w_total",
    "w_passed",
)


def quality_rollup(
    *, now: datetime | None = None, days: Iterable[date] | None = None
) -> list[date]:
    """Sum the missing days and yesterday (or exactly ``days``) into ``QualityDay``; returns
    the days summed. Today is never stored: it is not over."""
    now = now or timezone.now()
    today = utc_day(now)
    todo = sorted(set(days)) if days is not None else quality_days_to_roll(today)
    todo = [d for d in todo if d < today]
    for day in todo:
        quality_roll_day(day, now=now)
    quality_domains_rebuild()
    return todo


def quality_domains_rebuild() -> int:
    """Rebuild ``QualityDomainDay`` from ``QualityDay`` with each product's domain and status
    now (one read, one transaction); returns the rows written."""
    cells: dict[tuple[date, int, str], QualityDomainDay] = {}
    rows = QualityDay.objects.values_list(
        "day",
        "product__domain_id",
        "product__status",
        "runs",
        "failed_runs",
        "w_passed",
        "w_total",
        "freshness_runs",
        "fresh_runs",
    )
    for day, domain_id, status, runs, failed, w_passed, w_total, f_runs, fresh in rows.iterator(
        chunk_size=5000
    ):
        flag = DRAFT if status == ProductStatus.DRAFT else LIVE
        cell = cells.setdefault(
            (day, domain_id, flag), QualityDomainDay(day=day, domain_id=domain_id, status=flag)
        )
        cell.runs += runs
        cell.failed_runs += failed
        if w_total:
            cell.scored += 1
            cell.score_sum += 100.0 * w_passed / w_total
        cell.freshness_runs += f_runs
        cell.fresh_runs += fresh
    with transaction.atomic():
        QualityDomainDay.objects.all().delete()
        QualityDomainDay.objects.bulk_create(cells.values(), batch_size=2000)
    return len(cells)


def quality_days_to_roll(today: date) -> list[date]:
    """Days before ``today`` with finished runs that are not summed yet, and yesterday."""
    first = (
        CheckRun.objects.filter(status__in=FINISHED_STATUSES, finished_at__isnull=False)
        .order_by("finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    if first is None:
        return []
    start = max(utc_day(first), today - timedelta(days=BACKFILL_DAYS))
    done = set(
        QualityRollupDay.objects.filter(day__gte=start, day__lt=today).values_list("day", flat=True)
    )
    missing = {start + timedelta(days=i) for i in range((today - start).days)} - done
    if today - timedelta(days=1) >= start:
        missing.add(today - timedelta(days=1))
    return sorted(missing)


def quality_roll_day(day: date, *, now: datetime) -> int:
    """Recompute ``QualityDay`` rows of ``day`` from its finished runs; returns the rows."""
    limits = {
        pk: FRESHNESS_HOURS.get(freshness)
        for pk, freshness in DataProduct.objects.values_list("pk", "sla_freshness")
    }
    runs = (
        CheckRun.objects.filter(
            status__in=FINISHED_STATUSES,
            finished_at__gte=day_start(day),
            finished_at__lt=day_start(day + timedelta(days=1)),
        )
        .with_weights()
        .order_by()
        .values_list(*RUN_FIELDS)
    )
    cells: dict[int, QualityDay] = {}
    for pk, status, finished_at, newest, e_total, e_passed, w_total, w_passed in runs:
        cell = cells.setdefault(pk, QualityDay(day=day, product_id=pk))
        cell.runs += 1
        if status in (RunStatus.FAILED, RunStatus.ERROR):
            cell.failed_runs += 1
        cell.w_passed += e_passed + WARNING_WEIGHT * w_passed
        cell.w_total += e_total + WARNING_WEIGHT * w_total
        limit = limits.get(pk)
        if newest is not None and limit is not None:
            cell.freshness_runs += 1
            if (finished_at - newest).total_seconds() <= limit * 3600:
                cell.fresh_runs += 1
    with transaction.atomic():
        QualityDay.objects.filter(day=day).delete()
        QualityDay.objects.bulk_create(cells.values(), batch_size=2000)
        QualityRollupDay.objects.update_or_create(day=day, defaults={"rolled_at": now})
    return len(cells)
