"""Quality history: one CheckRun per product run, one CheckResult per check, and incidents.

Runs are created by whoever asks for them (the beat dispatcher, the API, the admin, the CLI,
a publish) and filled by ``quality.services.check_run``; see docs/quality.md.

The QuerySet methods below are the product-level reads both ``quality.selectors`` and the
catalog's product page use (catalog may import these models, never quality's selectors).
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Count, Q
from django.utils import timezone

from catalog.contract.vocabulary import Severity
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
# The quality score (quality.selectors.SCORE_FORMULA): weighted share of passed results over
# the last SCORE_WINDOW_RUNS finished runs; warning-severity results weigh WARNING_WEIGHT.
SCORE_WINDOW_RUNS = 30
WARNING_WEIGHT = 0.5


def score_of(passed: float, total: float) -> float | None:
    """A weighted pass share in percent, one decimal; None without results."""
    return round(100.0 * passed / total, 1) if total else None


def _margin() -> timedelta:
    """Slack on top of the checks' own time cap before an unfinished run counts as lost."""
    return timedelta(seconds=float(settings.CHECK_RUN_MARGIN_S))


def queue_deadline(now: datetime) -> datetime:
    """Until when a queued run may wait for a worker (generous: workers may be busy)."""
    return now + timedelta(seconds=2 * float(settings.CHECK_TIMEOUT_S)) + _margin()


def running_deadline(now: datetime) -> datetime:
    """Until when a claimed run may run: the run's time budget plus a margin."""
    return now + timedelta(seconds=float(settings.CHECK_TIMEOUT_S)) + _margin()


class CheckRunQuerySet(models.QuerySet["CheckRun"]):
    def finished_of(self, product_pk: int) -> CheckRunQuerySet:
        """The product's finished runs, newest first."""
        return self.filter(product_id=product_pk, status__in=FINISHED_STATUSES).order_by(
            "-finished_at", "-id"
        )

    def with_weights(self) -> CheckRunQuerySet:
        """Each run with its weighted results: ``w_passed`` and ``w_total`` (SCORE_FORMULA)."""
        warning = Q(results__severity=Severity.WARNING)
        passed = Q(results__passed=True)
        return self.annotate(
            e_total=Count("results", filter=~warning),
            e_passed=Count("results", filter=~warning & passed),
            w_total=Count("results", filter=warning),
            w_passed=Count("results", filter=warning & passed),
        )

    def score_points(self, product_pk: int, *, since: datetime) -> list[tuple[datetime, float]]:
        """The score as it stood after each finished run since ``since``, oldest first (one
        query: the runs since then, and the runs before it that are still in the window)."""
        fields = ("pk", "finished_at", "e_total", "e_passed", "w_total", "w_passed")
        finished = self.filter(product_id=product_pk, status__in=FINISHED_STATUSES)
        before = (
            finished.filter(finished_at__lt=since)
            .order_by("-finished_at", "-id")
            .values("pk")[: SCORE_WINDOW_RUNS - 1]
        )
        rows = list(
            finished.filter(Q(finished_at__gte=since) | Q(pk__in=before))
            .with_weights()
            .order_by("finished_at", "id")
            .values_list(*fields)
        )
        if not rows or rows[-1][1] < since:
            return []
        earlier = [row for row in rows if row[1] < since]
        runs = rows[len(earlier) :]

        def weights(row: tuple[Any, ...]) -> tuple[float, float]:
            _, _, e_total, e_passed, w_total, w_passed = row
            return (e_passed + WARNING_WEIGHT * w_passed, e_total + WARNING_WEIGHT * w_total)

        window: deque[tuple[float, float]] = deque(maxlen=SCORE_WINDOW_RUNS)
        for row in earlier:
            window.append(weights(row))
        points: list[tuple[datetime, float]] = []
        for row in runs:
            window.append(weights(row))
            score = score_of(sum(p for p, _ in window), sum(t for _, t in window))
            if score is not None:
                points.append((row[1], score))
        return points


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
    # A queued or running run still unfinished at this time was lost (worker killed, broker or
    # database down); the dispatcher re-queues it once, then records it as an error.
    deadline_at = models.DateTimeField(null=True, blank=True, db_index=True)
    requeues = models.PositiveSmallIntegerField(default=0)

    objects = CheckRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["product", "-created_at"], name="checkrun_product_recent")]

    def __str__(self) -> str:
        # ``marketing.email_engagement · run 36 · failed`` (issue 12); reads the product.
        return f"{self.product.product_id} · run {self.pk} · {self.status}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A new unfinished run always has a deadline (services.queue_deadline's rule)."""
        if self.deadline_at is None and not self.is_finished:
            self.deadline_at = queue_deadline(timezone.now())
        super().save(*args, **kwargs)

    @property
    def is_finished(self) -> bool:
        """Whether the run has its results."""
        return self.status in FINISHED_STATUSES


class CheckResultQuerySet(models.QuerySet["CheckResult"]):
    def history_of(self, product_pk: int) -> CheckResultQuerySet:
        """The product's check results, newest first (the seed's qualityHistory), with runs."""
        return (
            self.filter(run__product_id=product_pk)
            .select_related("run")
            .order_by("-created_at", "-run_id", "position")
        )

    def run_weights(self, run_ids: list[int]) -> dict[int, tuple[float, float]]:
        """Per run: (weighted passed, weighted total); errors weigh 1, warnings WARNING_WEIGHT."""
        rows = (
            self.filter(run_id__in=run_ids)
            .values("run_id", "severity")
            .annotate(total=Count("id"), passed=Count("id", filter=Q(passed=True)))
            .order_by()
        )
        out: dict[int, tuple[float, float]] = {}
        for row in rows:
            weight = WARNING_WEIGHT if row["severity"] == Severity.WARNING else 1.0
            passed, total = out.get(row["run_id"], (0.0, 0.0))
            out[row["run_id"]] = (passed + weight * row["passed"], total + weight * row["total"])
        return out


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

    objects = CheckResultQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "position"]

    def __str__(self) -> str:
        return f"{self.check_name} · {self.status}"

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
    # People handling it (issue 12): an owner acknowledges ("we are on it") and may resolve it
    # with a note; an automatic resolution (data fresh again) has no resolved_by.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledgement = models.TextField(blank=True, help_text="The acknowledging owner's note")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # At most one open incident of a kind per product, even with two workers racing.
            models.UniqueConstraint(
                fields=["product", "kind"],
                condition=Q(status=IncidentStatus.OPEN),
                name="one_open_incident_per_product_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.product.product_id} · {self.kind} · {self.status}"


# --- Daily quality rollup (issue 16): check runs summed per product and UTC day ---------------
# Written only by quality.rollups.quality_rollup (beat, idempotent); read by the metrics. Kept
# after the runs themselves are pruned (QUALITY_HISTORY_DAYS), so the metrics keep their past.


class QualityDay(models.Model):
    """One UTC day of one product's finished check runs (by ``finished_at``).

    ``w_passed`` / ``w_total`` are the day's weighted results (the score's weights: errors 1,
    warnings WARNING_WEIGHT, an errored check counts as failed), so the day's score is their
    ratio. ``fresh_runs`` of ``freshness_runs``: runs that measured the data's age and found it
    within the SLA's freshness.
    """

    day = models.DateField()
    product = models.ForeignKey(DataProduct, on_delete=models.CASCADE, related_name="+")
    runs = models.PositiveIntegerField(default=0)
    failed_runs = models.PositiveIntegerField(default=0)
    w_passed = models.FloatField(default=0.0)
    w_total = models.FloatField(default=0.0)
    freshness_runs = models.PositiveIntegerField(default=0)
    fresh_runs = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day", "product"]
        constraints = [models.UniqueConstraint(fields=["day", "product"], name="qualityday_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.product_id}: {self.runs} runs"


class QualityDomainDay(models.Model):
    """``QualityDay`` summed per domain and whether the products are drafts (now), for the
    metrics: ``scored`` products had results that day, ``score_sum`` adds their day scores (so
    the average is ``score_sum / scored``). ``status`` is ``draft`` or ``live`` so
    ``accounts.permissions.restrict`` narrows the rows as it narrows products. Rebuilt from
    ``QualityDay`` by every rollup."""

    day = models.DateField()
    domain = models.ForeignKey("catalog.Domain", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16)
    runs = models.PositiveIntegerField(default=0)
    failed_runs = models.PositiveIntegerField(default=0)
    scored = models.PositiveIntegerField(default=0)
    score_sum = models.FloatField(default=0.0)
    freshness_runs = models.PositiveIntegerField(default=0)
    fresh_runs = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day", "domain", "status"]
        indexes = [models.Index(fields=["day", "domain"], name="qualitydomainday_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.domain_id} {self.status}: {self.runs} runs"


class QualityRollupDay(models.Model):
    """A UTC day the quality rollup has summed (the rollup backfills the days missing here)."""

    day = models.DateField(unique=True)
    rolled_at = models.DateTimeField()

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return f"quality {self.day}"


class RunProfileQuerySet(models.QuerySet["RunProfile"]):
    def latest_of(self, product_pk: int) -> RunProfile | None:
        """The product's newest profile (its last run that computed one), or None."""
        return self.filter(product_id=product_pk).order_by("-computed_at", "-id").first()


class RunProfile(models.Model):
    """The column profile one run computed (issue 15): NULL shares, extremes, distinct values.

    ``data`` is ``quality.checks.profile.build_profile``'s document. It never holds a raw value
    of a PII column (those are counted through their keyed hash and shown through their mask),
    so every reader of the product may see it. Deleted with its run (history_prune keeps each
    product's last run, so the newest profile stays).
    """

    run = models.OneToOneField(CheckRun, on_delete=models.CASCADE, related_name="profile")
    product = models.ForeignKey(DataProduct, on_delete=models.CASCADE, related_name="profiles")
    computed_at = models.DateTimeField()
    data = models.JSONField(default=dict)

    objects = RunProfileQuerySet.as_manager()

    class Meta:
        ordering = ["-computed_at", "-id"]
        indexes = [
            models.Index(fields=["product", "-computed_at"], name="runprofile_product_recent")
        ]

    def __str__(self) -> str:
        return f"profile of run {self.run_id}"
