"""Catalog background work: what a publish queues on commit, and beat tasks (config/celery.py).

Thin tasks: each loads ids and calls one function. ``queue`` is how a service sends one after
its transaction commits (``catalog/services/publish.py``): a broker that cannot take the task
is logged, never turned into an error of the request that already committed. Tasks that call
the services import them when they run: the services import this module to queue its tasks.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from .demo.warehouse import build_demo_warehouse, duckdb_path
from .search import search_index_refresh

log = logging.getLogger(__name__)


def queue(task: Any, *args: Any) -> bool:
    """Send ``task(*args)`` to the broker; False (logged) when the broker cannot take it."""
    try:
        task.delay(*args)
    except (BrokerError, OSError) as exc:
        log.warning("could not queue %s%r (broker unavailable): %s", task.name, args, exc)
        return False
    return True


@shared_task(name="catalog.consumers_notify", acks_late=True)
def consumers_notify_task(version_id: int) -> int:
    """After a publish commits: e-mail the product's consumers what the new version changes
    for them (deprecated, retired, breaking); returns how many were sent."""
    from .services.consumers import consumers_notify

    return consumers_notify(version_id=version_id)


@shared_task(name="catalog.search_index_refresh", acks_late=True)
def search_index_refresh_task(product_ids: list[int] | None = None) -> int:
    """After a publish commits (those products), and on beat (every product): rebuild the
    search index; returns the rows updated (0 but on PostgreSQL)."""
    return search_index_refresh(product_ids)


@shared_task(name="catalog.usage_rollup", acks_late=True)
def usage_rollup_task() -> int:
    """Beat task (every 10 minutes; idempotent): sum the governed-query audit log per product
    and UTC day and store each product's 30-day usage; returns how many days were summed."""
    from .usage_rollup import usage_rollup

    return len(usage_rollup().days)


@shared_task(name="catalog.retire_sunset_products")
def retire_sunset_products_task() -> list[str]:
    """Beat task: retire deprecated products past their sunset."""
    from .governance.services import retire_sunset_products

    return retire_sunset_products(now=timezone.now())


@shared_task(name="catalog.demo_warehouse_refresh")
def demo_warehouse_refresh_task() -> int:
    """Beat task, demo only: rebuild the demo warehouse relative to now; returns its row count.

    Does nothing (returns 0) unless ``DEMO_KEEP_FRESH_S`` is set (bin/demo sets it) and the
    warehouse is a DuckDB file that exists: this replaces the whole file with demo data. The
    fresh products stay fresh and the deliberately stale ones stay stale, since every
    timestamp is relative to now; the new file is built aside and swapped in with one
    ``os.replace``, so readers never see a half-written warehouse and never wait for a lock.
    """
    if getattr(settings, "DEMO_KEEP_FRESH_S", 0) <= 0:
        return 0
    path = duckdb_path(settings.WAREHOUSE_URL)
    if path is None or not path.exists():
        return 0
    return sum(build_demo_warehouse(path, now=timezone.now()).values())
