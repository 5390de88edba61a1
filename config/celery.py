"""The Celery app and the whole beat schedule.

Per-product check cadence is data (``DataProduct.next_check_at``), not beat entries: one beat
task every minute claims the products that are due (see quality/services.py).
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Packages with tasks that are not an app's ``tasks`` module (issue 17's access requests).
app.autodiscover_tasks(["querying.access"])

# The dispatcher's period; only the worker integration test shortens it (to a few seconds).
DISPATCH_EVERY_S = float(os.environ.get("QUALITY_DISPATCH_EVERY_S", "") or 60.0)
# The demo only: bin/demo sets DEMO_KEEP_FRESH_S (config/settings.py checks the value).
try:
    DEMO_KEEP_FRESH_S = float(os.environ.get("DEMO_KEEP_FRESH_S", "") or 0)
except ValueError:
    DEMO_KEEP_FRESH_S = 0.0

app.conf.beat_schedule = {
    # Every minute: claim the products whose checks are due (per-product cadence from the SLA:
    # realtime 5 min, 1h 15 min, 4h 1 h, 24h 6 h) and queue one run each.
    "quality-dispatch-due-checks": {
        "task": "quality.tasks.checks_dispatch_due_task",
        "schedule": DISPATCH_EVERY_S,
    },
    # Every two minutes: measure every product's health facts again and store them on the
    # product (what catalog pages show): the availability and latency windows move even when no
    # check runs. Runs and incident changes store them at once as well.
    "quality-refresh-health": {
        "task": "quality.tasks.health_refresh_task",
        "schedule": 120.0,
    },
    # Once a day (every 24 h from beat start): drop check history older than the retention
    # (QUALITY_HISTORY_DAYS, never under 90 days); each product's last run is kept.
    "quality-prune-history": {
        "task": "quality.tasks.history_prune_task",
        "schedule": 24 * 60 * 60.0,
    },
    # Every 15 minutes: rebuild the search index (PostgreSQL; a no-op elsewhere). Each publish
    # queues its own refresh on commit; this catches up one the broker lost.
    "catalog-refresh-search-index": {
        "task": "catalog.search_index_refresh",
        "schedule": 15 * 60.0,
    },
    # Every 10 minutes: sum the audit log per product and UTC day (backfilling missing days,
    # yesterday again) and store each product's 30-day usage for search (issue 16).
    "catalog-usage-rollup": {
        "task": "catalog.usage_rollup",
        "schedule": 10 * 60.0,
    },
    # Every 10 minutes: sum finished check runs per product and UTC day, the same way (the
    # metrics' quality figures; kept after runs are pruned).
    "quality-daily-rollup": {
        "task": "quality.rollup",
        "schedule": 10 * 60.0,
    },
    # Every hour: retire deprecated products whose sunset has passed (they stop being queryable
    # at sunset anyway; this makes the catalog say so).
    "catalog-retire-sunset-products": {
        "task": "catalog.retire_sunset_products",
        "schedule": 60 * 60.0,
    },
    # Every 15 minutes: record access grants past their end as expired. Queries stopped
    # unmasking at that second already (checked at query time); this makes the pages say so.
    "querying-expire-access-grants": {
        "task": "querying.access_grants_expire",
        "schedule": 15 * 60.0,
    },
    # Every hour: warn each grant holder once (a conditional UPDATE claims it), three days
    # before the grant ends.
    "querying-warn-expiring-access": {
        "task": "querying.access_expiry_warn",
        "schedule": 60 * 60.0,
    },
}

if DEMO_KEEP_FRESH_S > 0:
    # The demo only, every DEMO_KEEP_FRESH_S seconds (bin/demo: 5 minutes): rebuild the demo
    # warehouse relative to now, so its fresh products stay fresh while the demo runs (the
    # deliberately stale ones stay stale).
    app.conf.beat_schedule["demo-keep-warehouse-fresh"] = {
        "task": "catalog.demo_warehouse_refresh",
        "schedule": DEMO_KEEP_FRESH_S,
    }
