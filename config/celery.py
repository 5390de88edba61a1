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

app.conf.beat_schedule = {
    # Every minute: claim the products whose checks are due and queue one run each.
    "quality-dispatch-due-checks": {
        "task": "quality.tasks.checks_dispatch_due_task",
        "schedule": 60.0,
    },
    # Every day at 03:00 UTC-ish (every 24 h from worker start): drop check history past retention.
    "quality-prune-history": {
        "task": "quality.tasks.history_prune_task",
        "schedule": 24 * 60 * 60.0,
    },
}
