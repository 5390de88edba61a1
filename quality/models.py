"""Quality history: one CheckRun per product run, one CheckResult per check, and incidents.

Runs are created by whoever asks for them (the beat dispatcher, the API, the admin, the CLI,
a publish) and filled by ``quality.services.check_run``; see docs/quality.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from catalog.models import DataProduct


class RunTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Manual"
    PUBLISH = "publish", "Publish"
    API = "api", "API"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    ERROR = "error", "Error"


FINISHED_STATUSES = (RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR)


class CheckRun(models.Model):
    """One run of all of a product's checks; created queued, filled once by ``check_run``."""

    product = models.ForeignKey(DataProduct, on_delete=models.CASCADE, related_name="check_runs")
    trigger = models.CharField(max_length=16, choices=RunTrigger.choices)
    # Unique per request: a redelivered task or a second beat finds this row, never a new one.
    run_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(
        max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    contract_version = models.PositiveIntegerField(null=True, blank=True)
    claim_token = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    table_reachable = models.BooleanField(null=True, blank=True)
    statements_sent = models.PositiveIntegerField(default=0)
    newest_data_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["product", "-created_at"], name="checkrun_product_recent")]

    def __str__(self) -> str:
        return f"{self.product_id} run {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        """Whether the run has its results."""
        return self.status in FINISHED_STATUSES


class CheckResult(models.Model):
    """The outcome of one check (or one schema problem) in one run; `error` counts as failing."""

    run = models.ForeignKey(CheckRun, on_delete=models.CASCADE, related_name="results")
    position = models.PositiveIntegerField(default=0)
    check_name = models.CharField(max_length=200)
    check_type = models.CharField(max_length=32)
    status = models.CharField(max_length=16)  # passed | failed | error
    passed = models.BooleanField()
    severity = models.CharField(max_length=16)
    message = models.TextField(blank=True)
    value = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "position"]

    def __str__(self) -> str:
        return f"{self.check_name}: {self.status}"

    @property
    def product(self) -> DataProduct:
        """The product this result belongs to (permissions walk run.product)."""
        return self.run.product


class IncidentStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Incident(models.Model):
    """A stale-data incident: opened by a freshness breach, resolved when data is fresh again."""

    product = models.ForeignKey(DataProduct, on_delete=models.CASCADE, related_name="incidents")
    kind = models.CharField(max_length=32, default="stale_data")
    status = models.CharField(
        max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.OPEN, db_index=True
    )
    opened_at = models.DateTimeField(db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)
    resolution = models.TextField(blank=True)
    opened_by_run = models.ForeignKey(
        CheckRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notified_open_at = models.DateTimeField(null=True, blank=True)
    notified_resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # At most one open incident of a kind per product, even with two workers racing.
            models.UniqueConstraint(
                fields=["product", "kind"],
                condition=Q(status="open"),
                name="one_open_incident_per_product_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.product_id} {self.kind} ({self.status})"
