"""Reads for quality: history, scores, SLA status, health verdicts, incidents.

Selectors that take a product expect the caller to have fetched it through
``accounts.permissions.restrict(..., "view")``; selectors that take a user scope by it.
The quality score formula lives here, the availability formula in ``quality/health.py``, both
in docs/quality.md (keep them in step). The health rule lives in ``quality/health.py``; its
facts are measured here (``health_measure_many``), stored on the product by
``quality.services.product_health_refresh`` and read back by every surface.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncMonth

from accounts.permissions import restrict
from catalog.contract import FRESHNESS_HOURS
from catalog.models import DataProduct
from querying.models import QueryProductUse

from .health import (
    AVAILABILITY_FORMULA,
    AVAILABILITY_WINDOW_DAYS,
    LATENCY_WINDOW_DAYS,
    Health,
    HealthFacts,
    IncidentFact,
    ResultFact,
    SlaStatus,
    availability_pct,
    sla_status_of,
)
from .models import (
    FINISHED_STATUSES,
    SCORE_WINDOW_RUNS,
    CheckResult,
    CheckRun,
    Incident,
    IncidentStatus,
    score_of,
)

# Shown on the product page and in the API; keep in step with quality_score_compute.
SCORE_FORMULA = (
    "Share of passed check results over the product's last 30 finished runs, in percent; "
    "error-severity results weigh 1, warning-severity results 0.5; an errored check counts "
    "as failed."
)


def _finished_runs(product: DataProduct) -> QuerySet[CheckRun]:
    return CheckRun.objects.finished_of(product.pk)


def last_finished_run(product: DataProduct) -> CheckRun | None:
    """The product's newest finished run, results prefetched."""
    return _finished_runs(product).prefetch_related("results").first()


def last_finished_run_id(product_id: int) -> int | None:
    """Id of the newest finished run of the product with primary key ``product_id``."""
    return CheckRun.objects.finished_of(product_id).values_list("pk", flat=True).first()


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
    return list(CheckResult.objects.history_of(product.pk)[:limit])


def latest_results(product: DataProduct) -> list[CheckResult]:
    """The results of the product's newest finished run, in check order."""
    run_id = last_finished_run_id(product.pk)
    if run_id is None:
        return []
    return list(CheckResult.objects.filter(run_id=run_id).order_by("position"))


def quality_score_compute(product: DataProduct) -> float | None:
    """Score 0-100: weighted share of passed results over the last 30 finished runs.

    Each result weighs 1 (severity error) or 0.5 (severity warning); a check that errored
    counts as failed. ``None`` until the product has a finished run with results.
    """
    run_ids = list(_finished_runs(product).values_list("pk", flat=True)[:SCORE_WINDOW_RUNS])
    weights = CheckResult.objects.run_weights(run_ids)
    passed = sum(p for p, _ in weights.values())
    total = sum(t for _, t in weights.values())
    return score_of(passed, total)


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
    return CheckRun.objects.score_points(product.pk, since=since)


def _cap_s() -> float:
    from django.conf import settings

    return float(settings.QUERY_TIMEOUT_S)


def _latency_many(product_ids: list[str], *, now: datetime) -> dict[str, float]:
    since = now - timedelta(days=LATENCY_WINDOW_DAYS)
    return QueryProductUse.objects.latency_p95_ms(product_ids, since=since)


def _query_outcomes_many(product_ids: list[str], *, now: datetime) -> dict[str, tuple[int, int]]:
    since = now - timedelta(days=AVAILABILITY_WINDOW_DAYS)
    return QueryProductUse.objects.outcomes(product_ids, since=since)


def sla_status_many(products: Sequence[DataProduct], *, now: datetime) -> dict[int, SlaStatus]:
    """Per product pk: freshness from the newest data seen, availability from check runs and
    governed queries (AVAILABILITY_FORMULA), latency p95 from the query log; four queries.

    Measured now, from the history (the writer's view); pages read the figures stored by
    ``quality.services.product_health_refresh`` (``DataProduct.sla_now``).
    """
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
    cap_s = _cap_s()
    out: dict[int, SlaStatus] = {}
    for product in products:
        runs, reached = run_counts.get(product.pk, (0, 0))
        answered, failed = outcomes.get(product.product_id, (0, 0))
        out[product.pk] = sla_status_of(
            freshness_sla=product.sla_freshness,
            freshness_limit_h=FRESHNESS_HOURS.get(product.sla_freshness),
            newest_data_at=product.newest_data_at,
            availability_target=product.sla_availability,
            latency_target_ms=product.sla_query_latency_p95_ms,
            runs=runs,
            runs_reached=reached,
            answered=answered,
            failed=failed,
            latency_p95_ms=latency.get(product.product_id),
            latency_cap_s=cap_s,
            now=now,
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


@dataclass(frozen=True)
class MeasuredHealth:
    """A product's health facts as measured from the history, and what was measured with."""

    facts: HealthFacts
    last_run_id: int | None
    sla: SlaStatus | None


def health_measure_many(
    products: Sequence[DataProduct], *, now: datetime, with_sla: bool = True
) -> dict[int, MeasuredHealth]:
    """Per product pk, the facts its verdict depends on, read from quality's tables now (a
    fixed number of queries). The writer's view: ``quality.services.product_health_refresh``
    stores them; every surface reads them back from the product (``DataProduct.health_now``).

    ``with_sla=False`` leaves availability and latency unmeasured.
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
    slas = sla_status_many(products, now=now) if with_sla else {}
    out: dict[int, MeasuredHealth] = {}
    for product in products:
        run = runs.get(product.pk)
        sla = slas.get(product.pk)
        facts = HealthFacts(
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
        out[product.pk] = MeasuredHealth(
            facts=facts, last_run_id=run.pk if run is not None else None, sla=sla
        )
    return out


def health_facts_many(
    products: Sequence[DataProduct], *, now: datetime, with_sla: bool = True
) -> dict[int, HealthFacts]:
    """Per product pk, the facts measured from quality's tables now (``health_measure_many``)."""
    return {
        pk: measured.facts
        for pk, measured in health_measure_many(products, now=now, with_sla=with_sla).items()
    }


# What the verdict needs from a product row besides its stored facts.
HEALTH_FIELDS = (
    "pk",
    "product_id",
    "sla_freshness",
    "sla_availability",
    "sla_query_latency_p95_ms",
    "newest_data_at",
    "quality_score",
    "health_facts",
)


def products_health(products: Sequence[DataProduct], *, now: datetime) -> dict[int, Health]:
    """Per product pk, its one health verdict at ``now``: the facts quality stored on the
    product, judged by ``quality.health.health_of`` (as every surface does). One query: the
    stored facts are read again, so a product object loaded before a run is not out of date.
    """
    pks = [p.pk for p in products]
    if not pks:
        return {}
    rows = DataProduct.objects.filter(pk__in=pks).only(*HEALTH_FIELDS)
    return {row.pk: row.health_now(now) for row in rows}


def product_health(product: DataProduct, *, now: datetime) -> Health:
    """The product's health verdict with its reasons (``products_health``)."""
    return products_health([product], now=now)[product.pk]


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
    "HEALTH_FIELDS",
    "SCORE_FORMULA",
    "MeasuredHealth",
    "SlaStatus",
    "availability_pct",
    "health_facts_many",
    "health_measure_many",
    "product_health",
    "products_health",
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
