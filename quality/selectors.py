"""Reads for quality: history, scores, SLA status, health verdicts, incidents.

Selectors that take a product expect the caller to have fetched it through
``accounts.permissions.restrict(..., "view")``; selectors that take a user scope by it.
The quality score and availability formulas live here and in docs/quality.md (keep them in
step); the health rule lives in ``quality/health.py`` and is fed only by ``health_facts_many``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncMonth

from accounts.permissions import restrict
from catalog.contract import FRESHNESS_HOURS
from catalog.models import DataProduct

from .health import (
    HEALTH_RANK,
    Health,
    HealthFacts,
    IncidentFact,
    ResultFact,
    freshness,
    health_of,
)
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


AVAILABILITY_FORMULA = (
    "Availability = successful answers / attempts on the product over the last 30 days. "
    "Successful: governed queries the warehouse answered, and check runs that reached the "
    "product's table. Attempts: those plus governed queries the warehouse could not answer "
    "(unavailable) and check runs that could not reach the table (missing, or warehouse "
    "down). Refused queries, errors in the caller's own SQL and timeouts are not counted "
    "(timeouts count in the latency p95)."
)


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
    availability_runs_reached: int = 0
    availability_queries_answered: int = 0
    availability_queries_failed: int = 0

    @property
    def availability_formula(self) -> str:
        """How availability is measured (shown on the product page)."""
        return AVAILABILITY_FORMULA

    @property
    def latency_formula(self) -> str:
        """How the latency p95 is measured (shown on the product page)."""
        return _latency_formula()

    @property
    def availability_attempts(self) -> int:
        """Check runs and counted governed queries in the window."""
        return (
            self.availability_runs
            + self.availability_queries_answered
            + (self.availability_queries_failed)
        )

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
                "runsReachedTable": self.availability_runs_reached,
                "queriesAnswered": self.availability_queries_answered,
                "queriesFailed": self.availability_queries_failed,
                "windowDays": AVAILABILITY_WINDOW_DAYS,
                "formula": AVAILABILITY_FORMULA,
            },
            "queryLatencyP95Ms": {
                "value": self.latency_p95_ms,
                "target": self.latency_target_ms,
                "met": self.latency_met,
                "windowDays": LATENCY_WINDOW_DAYS,
                "formula": _latency_formula(),
            },
        }


def _latency_formula() -> str:
    from django.conf import settings

    from querying.selectors import LATENCY_FORMULA

    return LATENCY_FORMULA.format(days=LATENCY_WINDOW_DAYS, cap=float(settings.QUERY_TIMEOUT_S))


def availability_pct(*, runs: int, runs_reached: int, answered: int, failed: int) -> float | None:
    """The availability formula (AVAILABILITY_FORMULA): None when nothing was attempted."""
    attempts = runs + answered + failed
    if not attempts:
        return None
    return round(100.0 * (runs_reached + answered) / attempts, 2)


def _latency_many(product_ids: list[str], *, now: datetime) -> dict[str, float]:
    from querying.selectors import products_latency_p95_ms

    return products_latency_p95_ms(product_ids, days=LATENCY_WINDOW_DAYS, now=now)


def _query_outcomes_many(product_ids: list[str], *, now: datetime) -> dict[str, tuple[int, int]]:
    from querying.selectors import products_query_outcomes

    return products_query_outcomes(product_ids, days=AVAILABILITY_WINDOW_DAYS, now=now)


def sla_status_many(products: Sequence[DataProduct], *, now: datetime) -> dict[int, SlaStatus]:
    """Per product pk: freshness from the newest data seen, availability from check runs and
    governed queries (AVAILABILITY_FORMULA), latency p95 from the query log; four queries."""
    if not products:
        return {}
    since = now - timedelta(days=AVAILABILITY_WINDOW_DAYS)
    run_counts = {
        row["product_id"]: (row["total"], row["reached"])
        for row in CheckRun.objects.filter(
            product__in=[p.pk for p in products],
            status__in=FINISHED_STATUSES,
            finished_at__gte=since,
        )
        .values("product_id")
        .annotate(total=Count("id"), reached=Count("id", filter=Q(table_reachable=True)))
        .order_by()
    }
    ids = [p.product_id for p in products]
    outcomes = _query_outcomes_many(ids, now=now)
    latency = _latency_many(ids, now=now)
    out: dict[int, SlaStatus] = {}
    for product in products:
        limit_h = FRESHNESS_HOURS.get(product.sla_freshness)
        state, hours_stale = freshness(product.newest_data_at, limit_h, now=now)
        runs, reached = run_counts.get(product.pk, (0, 0))
        answered, failed = outcomes.get(product.product_id, (0, 0))
        pct = availability_pct(runs=runs, runs_reached=reached, answered=answered, failed=failed)
        p95 = latency.get(product.product_id)
        out[product.pk] = SlaStatus(
            freshness=product.sla_freshness,
            freshness_state=state,
            hours_stale=hours_stale,
            freshness_limit_h=limit_h,
            newest_data_at=product.newest_data_at,
            availability_pct=pct,
            availability_target=product.sla_availability,
            availability_met=None if pct is None else pct >= product.sla_availability,
            availability_runs=runs,
            latency_p95_ms=p95,
            latency_target_ms=product.sla_query_latency_p95_ms,
            latency_met=None if p95 is None else p95 <= product.sla_query_latency_p95_ms,
            availability_runs_reached=reached,
            availability_queries_answered=answered,
            availability_queries_failed=failed,
        )
    return out


def sla_status(product: DataProduct, *, now: datetime) -> SlaStatus:
    """Freshness from the newest data seen, availability from runs and governed queries,
    latency from the query log (see ``sla_status_many``)."""
    return sla_status_many([product], now=now)[product.pk]


# ---------------------------------------------------------------------------------------------
# Health: one verdict per product (quality/health.py holds the rule)
# ---------------------------------------------------------------------------------------------


def _latest_runs(product_pks: list[int]) -> dict[int, CheckRun]:
    """The newest finished run of each product (two queries)."""
    newest = (
        CheckRun.objects.filter(product_id=OuterRef("pk"), status__in=FINISHED_STATUSES)
        .order_by("-finished_at", "-id")
        .values("pk")[:1]
    )
    run_ids = [
        run_id
        for run_id in DataProduct.objects.filter(pk__in=product_pks)
        .annotate(run_id=Subquery(newest))
        .values_list("run_id", flat=True)
        if run_id is not None
    ]
    runs = CheckRun.objects.filter(pk__in=run_ids).only(
        "pk", "product_id", "finished_at", "table_reachable"
    )
    return {run.product_id: run for run in runs}


def health_facts_many(
    products: Sequence[DataProduct],
    *,
    now: datetime,
    with_sla: bool = True,
    slas: dict[int, SlaStatus] | None = None,
) -> dict[int, HealthFacts]:
    """Per product pk, the facts its verdict depends on (a fixed number of queries).

    ``with_sla=False`` leaves availability and latency unmeasured: the verdict is then the same
    for ``stale``, ``failing`` and ``unknown`` (they never depend on those figures), which is
    all governed-query warnings need.
    """
    pks = [p.pk for p in products]
    if not pks:
        return {}
    runs = _latest_runs(pks)
    results: dict[int, list[ResultFact]] = {}
    for row in (
        CheckResult.objects.filter(run_id__in=[r.pk for r in runs.values()])
        .order_by("run_id", "position")
        .values_list("run_id", "check_name", "status", "severity", "message")
    ):
        results.setdefault(row[0], []).append(
            ResultFact(check_name=row[1], status=row[2], severity=row[3], message=row[4])
        )
    incidents: dict[int, list[IncidentFact]] = {}
    for product_id, kind, message, opened_at in (
        Incident.objects.filter(product_id__in=pks, status=IncidentStatus.OPEN)
        .order_by("opened_at", "id")
        .values_list("product_id", "kind", "message", "opened_at")
    ):
        incidents.setdefault(product_id, []).append(
            IncidentFact(kind=kind, message=message, opened_at=opened_at)
        )
    if slas is None:
        slas = sla_status_many(products, now=now) if with_sla else {}
    out: dict[int, HealthFacts] = {}
    for product in products:
        run = runs.get(product.pk)
        sla = slas.get(product.pk)
        out[product.pk] = HealthFacts(
            product_id=product.product_id,
            freshness_sla=product.sla_freshness,
            freshness_limit_h=FRESHNESS_HOURS.get(product.sla_freshness),
            newest_data_at=product.newest_data_at,
            last_run_at=run.finished_at if run is not None else None,
            table_reachable=run.table_reachable if run is not None else None,
            results=tuple(results.get(run.pk, ())) if run is not None else (),
            open_incidents=tuple(incidents.get(product.pk, ())),
            quality_score=product.quality_score,
            availability_pct=sla.availability_pct if sla else None,
            availability_target=product.sla_availability,
            latency_p95_ms=sla.latency_p95_ms if sla else None,
            latency_target_ms=product.sla_query_latency_p95_ms,
        )
    return out


def products_health(
    products: Sequence[DataProduct],
    *,
    now: datetime,
    with_sla: bool = True,
    slas: dict[int, SlaStatus] | None = None,
) -> dict[int, Health]:
    """Per product pk, its one health verdict (``quality.health.health_of``); ``slas`` from
    ``sla_status_many`` saves measuring them twice."""
    facts = health_facts_many(products, now=now, with_sla=with_sla, slas=slas)
    return {pk: health_of(f, now=now) for pk, f in facts.items()}


def product_health(product: DataProduct, *, now: datetime) -> Health:
    """The product's health verdict with its reasons."""
    return products_health([product], now=now)[product.pk]


def _troubled_pks() -> set[int]:
    """Products with an open incident, or whose newest finished run failed or errored."""
    newest_status = (
        CheckRun.objects.filter(product_id=OuterRef("pk"), status__in=FINISHED_STATUSES)
        .order_by("-finished_at", "-id")
        .values("status")[:1]
    )
    open_incident = Incident.objects.filter(product_id=OuterRef("pk"), status=IncidentStatus.OPEN)
    return set(
        DataProduct.objects.annotate(
            newest_run_status=Subquery(newest_status), has_open_incident=Exists(open_incident)
        )
        .filter(Q(newest_run_status__in=["failed", "error"]) | Q(has_open_incident=True))
        .values_list("pk", flat=True)
    )


def attention_verdicts(products: Sequence[DataProduct], *, now: datetime) -> dict[int, Health]:
    """The verdicts of those of ``products`` that are stale or failing, by pk.

    For callers that hold the whole catalog (governed-query policies): only products with
    stale data, an open incident or a failed newest run can be stale or failing, so only those
    are given to ``products_health`` (without SLA figures, which never make a product stale or
    failing).
    """
    troubled = _troubled_pks()
    candidates = [
        p
        for p in products
        if p.pk in troubled
        or freshness(p.newest_data_at, FRESHNESS_HOURS.get(p.sla_freshness), now=now)[0] == "stale"
    ]
    verdicts = products_health(candidates, now=now, with_sla=False)
    return {pk: health for pk, health in verdicts.items() if health.needs_attention}


ATTENTION_STATUSES = ("published", "deprecated")
ATTENTION_CANDIDATES = 200


def products_needing_attention(
    user: Any, *, now: datetime, limit: int = 10
) -> tuple[list[tuple[DataProduct, Health]], int]:
    """Live products ``user`` may read whose health is stale or failing, most severe first.

    Returns (up to ``limit`` of them, how many there are). Candidates are found in SQL (data
    older than its SLA, an open incident, or a newest run that failed or errored); the verdict
    itself always comes from ``health_of``.
    """
    from catalog.api.filters import freshness_filter

    newest_status = (
        CheckRun.objects.filter(product_id=OuterRef("pk"), status__in=FINISHED_STATUSES)
        .order_by("-finished_at", "-id")
        .values("status")[:1]
    )
    open_incident = Incident.objects.filter(product_id=OuterRef("pk"), status=IncidentStatus.OPEN)
    candidates = list(
        restrict(DataProduct.objects.select_related("domain"), user, "view")
        .filter(status__in=ATTENTION_STATUSES)
        .annotate(
            newest_run_status=Subquery(newest_status), has_open_incident=Exists(open_incident)
        )
        .filter(
            freshness_filter("stale", now)
            | Q(newest_run_status__in=["failed", "error"])
            | Q(has_open_incident=True)
        )
        .order_by("product_id")[:ATTENTION_CANDIDATES]
    )
    verdicts = products_health(candidates, now=now)
    flagged = [(p, verdicts[p.pk]) for p in candidates if verdicts[p.pk].needs_attention]
    flagged.sort(key=lambda pair: (HEALTH_RANK[pair[1].state], pair[0].product_id))
    return flagged[:limit], len(flagged)


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
    "AVAILABILITY_FORMULA",
    "SCORE_FORMULA",
    "SlaStatus",
    "attention_verdicts",
    "availability_pct",
    "health_facts_many",
    "product_health",
    "products_health",
    "products_needing_attention",
    "sla_status_many",
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
