"""Catalog background work (scheduled in config/celery.py)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .demo.warehouse import build_demo_warehouse, duckdb_path
from .lifecycle import retire_sunset_products


@shared_task(name="catalog.retire_sunset_products")
def retire_sunset_products_task() -> list[str]:
    """Beat task: retire deprecated products past their sunset."""
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
