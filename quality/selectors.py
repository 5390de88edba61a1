"""Reads for quality: history, scores, SLA status, incidents.

Selectors that take a product expect the caller to have fetched it through
``accounts.permissions.restrict(..., "view")``; selectors that take a user scope by it.
The quality score formula lives here and in docs/quality.md (keep them in step).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth

from accounts.permissions import restrict
from catalog.contract import FRESHNESS_HOURS
from catalog.models import DataProduct

from .models import FINISHED_STATUSES, CheckResult, CheckRun, Incident, IncidentStatus

SCORE_WINDOW_RUNS = 30
WARNING_WEIGHT = 0.5
AVAILABILITY_WINDOW_DAYS = 30
LATENCY_WINDOW_DAYS = 7
# Shown on the product page and in the API; keep in step with quality_score_compute.
SCORE_FORMULA = (
    "Share of passed check results over the product's last 30 finished runs, in percent; "
    "error-severity results weigh 1, warning-severity results 0.5; an errored check counts "
    "as failed."
)


def _finished_runs(product: DataProduct) -> QuerySet[CheckRun]:
    return CheckRun.objects.filter(product=product, status__in=FINISHED_STATUSES).order_by(
        "-finished_at", "-id"
    )


def last_finished_run(product: DataProduct) -> CheckRun | None:
    """The product's newest finished run, results prefetched."""
    return _finished_runs(product).prefetch_related("results").first()


def last_finished_run_id(product_id: int) -> int | None:
    """Id of the newest finished run of the product with primary key ``product_id``."""
    return (
        CheckRun.objects.filter(product_id=product_id, status__in=FINISHED_STATUSES)
        .order_by("-finished_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )


def product_runs(product: DataProduct) -> QuerySet[CheckRun]:
    """Every run of the product (queued and running ones too), newest first, results prefetched."""
    return (
        CheckRun.objects.filter(product=product)
        .select_related("product")
        .prefetch_related("results")
        .order_by("-created_at", "-id")
    )


def product_quality_history(product: DataProduct, limit: int = 30) -> list[CheckResult]:
    """The product's newest ``limit`` check results, newest first (the seed's qualityHistory)."""
    return list(
        CheckResult.objects.filter(run__product=product)
        .select_related("run")
        .order_by("-created_at", "-run_id", "position")[:limit]
    )


def latest_results(product: DataProduct) -> list[CheckResult]:
    """The results of the product's newest finished run, in check order."""
    run_id = last_finished_run_id(product.pk)
    if run_id is None:
        return []
    return list(CheckResult.objects.filter(run_id=run_id).order_by("position"))


def _weights(run_ids: list[int]) -> dict[int, tuple[float, float]]:
    """Per run: (weighted passed, weighted total); errors weigh 1, warnings ``WARNING_WEIGHT``."""
    rows = (
        CheckResult.objects.filter(run_id__in=run_ids)
        .values("run_id", "severity")
        .annotate(total=Count("id"), passed=Count("id", filter=Q(passed=True)))
    )
    out: dict[int, tuple[float, float]] = {}
    for row in rows:
        weight = WARNING_WEIGHT if row["severity"] == "warning" else 1.0
        passed, total = out.get(row["run_id"], (0.0, 0.0))
        out[row["run_id"]] = (passed + weight * row["passed"], total + weight * row["total"])
    return out


def _score(passed: float, total: float) -> float | None:
    return round(100.0 * passed / total, 1) if total else None


def quality_score_compute(product: DataProduct) -> float | None:
    """Score 0-100: weighted share of passed results over the last 30 finished runs.

    Each result weighs 1 (severity error) or 0.5 (severity warning); a check that errored
    counts as failed. ``None`` until the product has a finished run with results.
    """
    run_ids = list(_finished_runs(product).values_list("pk", flat=True)[:SCORE_WINDOW_RUNS])
    weights = _weights(run_ids)
    passed = sum(p for p, _ in weights.values())
    total = sum(t for _, t in weights.values())
    return _score(passed, total)


def quality_score(product: DataProduct) -> float | None:
    """The product's current quality score (stored after each run; see quality_score_compute)."""
    if product.quality_score is not None:
        return product.quality_score
    return quality_score_compute(product)


def score_history(
    product: DataProduct, days: int = 90, *, now: datetime | None = None
) -> list[tuple[datetime, float]]:
    """The score as it stood after each finished run of the last ``days`` days, oldest first."""
    from django.utils import timezone

    since = (now or timezone.now()) - timedelta(days=days)
    runs = list(
        CheckRun.objects.filter(
            product=product, status__in=FINISHED_STATUSES, finished_at__gte=since
        )
        .order_by("finished_at", "id")
        .values_list("pk", "finished_at")
    )
    if not runs:
        return []
    earlier = list(
        CheckRun.objects.filter(
            product=product, status__in=FINISHED_STATUSES, finished_at__lt=since
        )
        .order_by("-finished_at", "-id")
        .values_list("pk", flat=True)[: SCORE_WINDOW_RUNS - 1]
    )
    ordered = list(reversed(earlier)) + [pk for pk, _ in runs]
    weights = _weights(ordered)
    window: deque[tuple[float, float]] = deque(maxlen=SCORE_WINDOW_RUNS)
    for pk in reversed(earlier):
        window.append(weights.get(pk, (0.0, 0.0)))
    points: list[tuple[datetime, float]] = []
    for pk, finished_at in runs:
        window.append(weights.get(pk, (0.0, 0.0)))
        score = _score(sum(p for p, _ in window), sum(t for _, t in window))
        if score is not None:
            points.append((finished_at, score))
    return points


@dataclass(frozen=True)
class SlaStatus:
    """A product's SLA, measured: freshness, availability and query latency."""

    freshness: str
    freshness_state: str  # fresh | stale | unknown
    hours_stale: float | None
    freshness_limit_h: float | None
    newest_data_at: datetime | None
    availability_pct: float | None
    availability_target: float
    availability_met: bool | None
    availability_runs: int
    latency_p95_ms: float | None
    latency_target_ms: float
    latency_met: bool | None

    def as_dict(self) -> dict[str, Any]:
        """camelCase for the API."""
        return {
            "freshness": {
                "sla": self.freshness,
                "state": self.freshness_state,
                "hoursStale": self.hours_stale,
                "limitHours": self.freshness_limit_h,
                "newestDataAt": self.newest_data_at.isoformat() if self.newest_data_at else None,
            },
            "availability": {
                "pct": self.availability_pct,
                "target": self.availability_target,
                "met": self.availability_met,
                "runs": self.availability_runs,
                "windowDays": AVAILABILITY_WINDOW_DAYS,
            },
            "queryLatencyP95Ms": {
                "value": self.latency_p95_ms,
                "target": self.latency_target_ms,
                "met": self.latency_met,
                "windowDays": LATENCY_WINDOW_DAYS,
            },
        }


def _latency_p95_ms(product_id: str) -> float | None:
    try:
        from querying.selectors import product_latency_p95_ms  # type: ignore[attr-defined]
    except (ImportError, AttributeError):
        return None
    try:
        value = product_latency_p95_ms(product_id, days=LATENCY_WINDOW_DAYS)
    except Exception:  # the query log belongs to another app; "no data" beats a broken page
        return None
    return float(value) if value is not None else None


def sla_status(product: DataProduct, *, now: datetime) -> SlaStatus:
    """Freshness from the newest data seen, availability from runs, latency from the query log."""
    limit_h = FRESHNESS_HOURS.get(product.sla_freshness)
    newest = product.newest_data_at
    hours_stale: float | None = None
    state = "unknown"
    if newest is not None:
        hours_stale = round(max(0.0, (now - newest).total_seconds() / 3600), 2)
        if limit_h is not None:
            state = "stale" if hours_stale > limit_h else "fresh"
    counts = CheckRun.objects.filter(
        product=product,
        status__in=FINISHED_STATUSES,
        finished_at__gte=now - timedelta(days=AVAILABILITY_WINDOW_DAYS),
    ).aggregate(total=Count("id"), reached=Count("id", filter=Q(table_reachable=True)))
    total = counts["total"] or 0
    availability = round(100.0 * (counts["reached"] or 0) / total, 2) if total else None
    latency = _latency_p95_ms(product.product_id)
    return SlaStatus(
        freshness=product.sla_freshness,
        freshness_state=state,
        hours_stale=hours_stale,
        freshness_limit_h=limit_h,
        newest_data_at=newest,
        availability_pct=availability,
        availability_target=product.sla_availability,
        availability_met=None if availability is None else availability >= product.sla_availability,
        availability_runs=total,
        latency_p95_ms=latency,
        latency_target_ms=product.sla_query_latency_p95_ms,
        latency_met=None if latency is None else latency <= product.sla_query_latency_p95_ms,
    )


def open_incidents(user: Any) -> QuerySet[Incident]:
    """Open incidents on products ``user`` may read, newest first."""
    qs = Incident.objects.filter(status=IncidentStatus.OPEN).select_related("product")
    return restrict(qs, user, "view").order_by("-opened_at", "-id")


def product_incidents(product: DataProduct) -> QuerySet[Incident]:
    """Every incident of the product, newest first."""
    return product.incidents.order_by("-opened_at", "-id")


def incidents_per_month(user: Any = None) -> list[dict[str, Any]]:
    """Incidents opened per calendar month (UTC), oldest first; scoped to ``user`` when given."""
    qs = Incident.objects.all()
    if user is not None:
        qs = restrict(qs, user, "view")
    return _per_month(qs)


def incidents_per_month_in(*, domains: QuerySet[Any]) -> list[dict[str, Any]]:
    """Incidents opened per month on the products of ``domains`` (the admin's scope)."""
    return _per_month(Incident.objects.filter(product__domain__in=domains))


def _per_month(qs: QuerySet[Incident]) -> list[dict[str, Any]]:
    rows = (
        qs.annotate(month=TruncMonth("opened_at"))
        .values("month")
        .annotate(count=Count("id"))
        .order_by("month")
    )
    return [{"month": row["month"].strftime("%Y-%m"), "count": row["count"]} for row in rows]


def incidents_visible(user: Any) -> QuerySet[Incident]:
    """Every incident on products ``user`` may read, newest first."""
    return restrict(Incident.objects.select_related("product"), user, "view").order_by(
        "-opened_at", "-id"
    )


__all__ = [
    "SCORE_FORMULA",
    "SlaStatus",
    "incidents_per_month",
    "incidents_per_month_in",
    "latest_results",
    "open_incidents",
    "product_incidents",
    "product_quality_history",
    "product_runs",
    "quality_score",
    "score_history",
    "sla_status",
]
