"""Catalog background work (scheduled in config/celery.py)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .lifecycle import retire_sunset_products


@shared_task(name="catalog.retire_sunset_products")
def retire_sunset_products_task() -> list[str]:
    """Beat task: retire deprecated products past their sunset."""
    return retire_sunset_products(now=timezone.now())
