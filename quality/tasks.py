"""Celery tasks for quality: thin wrappers that load ids and call a service.

Safe to retry and to deliver twice (``acks_late``): the run row exists before the task is
queued and ``check_run`` claims it with a conditional UPDATE, so a second delivery finds it
finished (or running elsewhere) and stops.
"""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from . import services
from .models import CheckRun
from .rollups import quality_rollup


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    # The portal database down: retry over minutes (30 s, 60 s, 120 s, ... up to 10 min), not
    # seconds; a run the retries cannot save is recovered by the dispatcher at its deadline.
    autoretry_for=(OperationalError,),
    retry_backoff=30,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=6,
)
def check_run_task(run_id: int) -> str | None:
    """Run the queued CheckRun ``run_id``; returns its final status."""
    run = CheckRun.objects.select_related("product").filter(pk=run_id).first()
    if run is None:  # pruned or deleted with its product: nothing to do
        return None
    return services.check_run(product=run.product, trigger=run.trigger, run=run).status


@shared_task(acks_late=True)
def checks_dispatch_due_task() -> int:
    """Claim the products whose checks are due and queue one run each (beat, every minute)."""
    return len(services.checks_dispatch_due())


@shared_task(acks_late=True)
def history_prune_task() -> int:
    """Drop check history past the retention (beat, daily), after summing every day not yet
    in the daily rollup, so the metrics keep what the prune drops (issue 16)."""
    quality_rollup()
    return services.history_prune()


@shared_task(name="quality.rollup", acks_late=True)
def quality_rollup_task() -> int:
    """Sum finished runs per product and UTC day (beat, every 10 minutes); returns the days."""
    return len(quality_rollup())


@shared_task(acks_late=True)
def health_refresh_task() -> int:
    """Store every product's health facts again (beat, every two minutes): the availability and
    latency windows move, and a missed refresh after a run is caught up."""
    return services.product_health_refresh()
