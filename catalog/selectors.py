"""Reads for the catalog: every selector takes the acting user and goes through ``restrict``.

Health and SLA figures are the ones quality stored on each product (``DataProduct.health_now``
and ``sla_now`` judge them at the time of the request); the product page's quality history and
incidents are read through quality's models. The catalog never imports quality's selectors,
services or notifications (the layer order in README.md).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone

from accounts.models import TeamMembership
from accounts.permissions import can, restrict
from quality.health import HEALTH_RANK, HEALTH_STATES, NEEDS_ATTENTION, Health, SlaStatus
from quality.models import CheckResult, CheckRun, Incident, IncidentStatus, RunProfile
from querying.models import SavedQuery

from .api.filters import ProductFilterSet, freshness_filter, with_freshness
from .contract import FRESHNESS_HOURS
from .models import Column, Consumer, ContractVersion, DataProduct, Domain, ProductStatus


class SearchInvalid(ValueError):
    """Bad search parameters; ``errors`` maps each parameter to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        first = next(iter(errors.items()))
        super().__init__(f"{first[0]}: {first[1][0]}")


def _search_hits() -> QuerySet[DataProduct]:
    """Products as search results load them: with their domain, without the search vector
    (which is only for the database to match and rank on)."""
    return DataProduct.objects.select_related("domain").defer("search_vector")


def product_search(
    *, user: Any, params: Mapping[str, Any], now: datetime | None = None
) -> QuerySet[DataProduct]:
    """Products ``user`` may view that match ``params`` (ProductFilterSet), best first.

    Raises SearchInvalid naming the bad parameter.
    """
    now = now or timezone.now()
    base = with_freshness(restrict(_search_hits(), user, "view"), now)
    filterset = ProductFilterSet(params, queryset=base, now=now)
    if not filterset.is_valid():
        raise SearchInvalid({k: [str(m) for m in v] for k, v in filterset.errors.items()})
    return filterset.qs


def search_status_counts(*, user: Any, params: Mapping[str, Any]) -> list[tuple[str, int]]:
    """``[(status, count)]`` of the products matching ``params`` whatever their status.

    Raises SearchInvalid as ``product_search`` does.
    """
    everything = {key: params[key] for key in params if key not in ("status", "page")}
    everything["status"] = "all"
    rows = (
        product_search(user=user, params=everything)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by("status")
    )
    return [(status, n) for status, n in rows]


# The annotations product_search computes that a page of results shows.
PAGE_ANNOTATIONS = ("relevance", "freshness_state")
# What a page of hits reads of each product: the API's summary and the search page's card,
# and what the health verdict is judged from (tests/catalog/test_request_cost.py counts the
# statements, so a field read that is not here shows up as one query per hit).
HIT_FIELDS = (
    "product_id",
    "domain__slug",
    "name",
    "description",
    "owner_team",
    "owner_contact",
    "owner_slack_channel",
    "sla_freshness",
    "sla_availability",
    "sla_query_latency_p95_ms",
    "tags",
    "version",
    "status",
    "published_at",
    "last_validated_at",
    "quality_score",
    "newest_data_at",
    "health_facts",
    "deprecation_sunset_at",
    "deprecation_replaced_by",
    "deprecation_reason",
    "queries_30d",
)


def product_search_page(
    qs: QuerySet[DataProduct], *, offset: int, limit: int, total: int | None = None
) -> tuple[int, list[DataProduct]]:
    """The total and one page (``offset``, ``limit``) of a ``product_search`` result, in order.

    The ordered query selects only primary keys and the page's annotations, so the database
    sorts narrow rows (or walks the listing index) instead of sorting whole products; the page's
    products are then read by primary key alone, and given the annotations of the ranked query.
    (Re-running the search's filters on that read would send PostgreSQL back through the text
    index for every match.) The total costs a COUNT only when the page is full and the caller
    does not know it yet: a short page already says how many there are.
    """
    rows = list(qs.values_list("pk", *PAGE_ANNOTATIONS)[offset : offset + limit])
    if total is None:
        full_or_past_the_end = len(rows) == limit or (offset and not rows)
        total = qs.count() if full_or_past_the_end else offset + len(rows)
    loaded = _search_hits().only(*HIT_FIELDS).in_bulk([row[0] for row in rows])
    page = []
    for pk, *values in rows:
        product = loaded.get(pk)
        if product is None:  # deleted between the two reads
            continue
        for name, value in zip(PAGE_ANNOTATIONS, values, strict=True):
            setattr(product, name, value)
        page.append(product)
    return total, attach_health(page)


def attach_health(products: list[DataProduct], now: datetime | None = None) -> list[DataProduct]:
    """Set ``product.verdict`` (quality.health.Health) on each product; returns the list.

    The one verdict every surface shows (issue 12): the facts quality stored on the product,
    judged at ``now``. No query.
    """
    now = now or timezone.now()
    for product in products:
        product.verdict = product.health_now(now)  # type: ignore[attr-defined]
    return products


def health_counts(products: list[DataProduct]) -> dict[str, int]:
    """How many of ``products`` (with ``attach_health`` done) have each verdict."""
    counts = Counter(p.verdict.state for p in products)  # type: ignore[attr-defined]
    return {state: counts.get(state, 0) for state in HEALTH_STATES}


ATTENTION_STATUSES = (ProductStatus.PUBLISHED, ProductStatus.DEPRECATED)
ATTENTION_CANDIDATES = 200


def needs_attention(*, user: Any, limit: int = 10) -> tuple[list[DataProduct], int]:
    """Live products ``user`` may view that are stale or failing (with ``verdict``), most severe
    first, and how many there are.

    Candidates are found in SQL: stored as stale or failing, or with data older than its SLA
    now (time only makes data staler, and only a refresh changes the other facts); the verdict
    itself always comes from ``health_now``.
    """
    now = timezone.now()
    candidates = attach_health(
        list(
            restrict(_search_hits(), user, "view")
            .filter(status__in=ATTENTION_STATUSES)
            .filter(Q(health__in=NEEDS_ATTENTION) | freshness_filter("stale", now))
            .order_by("product_id")[:ATTENTION_CANDIDATES]
        ),
        now,
    )
    flagged = [p for p in candidates if p.verdict.needs_attention]  # type: ignore[attr-defined]
    flagged.sort(key=lambda p: (HEALTH_RANK[p.verdict.state], p.product_id))  # type: ignore[attr-defined]
    return flagged[:limit], len(flagged)


def search_facets(
    qs: QuerySet[DataProduct], *, tag_limit: int = 15
) -> dict[str, list[tuple[str, int]]]:
    """Counts per domain, tag, status and freshness over the matching products."""
    plain = qs.order_by()
    domains = plain.values_list("domain__slug").annotate(n=Count("pk")).order_by("domain__slug")
    statuses = plain.values_list("status").annotate(n=Count("pk")).order_by("status")
    # ``qs`` comes annotated with freshness_state (api.filters.with_freshness); the plugin
    # knows only the model's fields.
    freshness = (
        plain.values_list("freshness_state")  # type: ignore[misc]
        .annotate(n=Count("pk"))
        .order_by("freshness_state")
    )
    tags: Counter[str] = Counter()
    for row in plain.values_list("tags", flat=True)[:5000]:
        tags.update(t for t in row or [] if isinstance(t, str))
    return {
        "domain": [(d, n) for d, n in domains],
        "tag": sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[:tag_limit],
        "status": [(s, n) for s, n in statuses],
        "freshness": [(f, n) for f, n in freshness],
    }


def freshness_state_of(product: DataProduct, now: datetime) -> str:
    """fresh | stale | unknown: ``api.filters.freshness_state_expression``'s rule, in Python
    (for one product already loaded; the two are tested against each other)."""
    if product.newest_data_at is None:
        return "unknown"
    hours = FRESHNESS_HOURS.get(product.sla_freshness)
    if hours is not None and product.newest_data_at >= now - timedelta(hours=hours):
        return "fresh"
    return "stale"


def product_get(*, user: Any, product_id: str) -> DataProduct | None:
    """The product ``user`` may view, with columns, checks and domain loaded, and its
    ``freshness_state``; else None."""
    product = (
        restrict(_search_hits(), user, "view")
        .prefetch_related(
            Prefetch("columns", queryset=Column.objects.order_by("position")), "checks"
        )
        .filter(product_id=product_id)
        .first()
    )
    if product is not None:
        product.freshness_state = freshness_state_of(product, timezone.now())
    return product


def product_named(*, user: Any, product_id: str) -> DataProduct | None:
    """The product ``user`` may view, with its domain and nothing more (a page about it that
    only names it: lineage); else None."""
    return restrict(_search_hits(), user, "view").filter(product_id=product_id).first()


def product_versions(*, user: Any, product: DataProduct, limit: int = 50) -> list[ContractVersion]:
    """The product's contract versions, newest first (the changelog), each listed once.

    Rows kept from before versions were unique (``is_legacy_duplicate``) repeat a version a
    later row holds, so they are left out (issue 12).
    """
    qs = restrict(
        ContractVersion.objects.filter(product=product, is_legacy_duplicate=False), user, "view"
    )
    # The documents (whole contracts) stay in the database: the changelog shows only their
    # publishedAt (ContractVersion.published_at reads the annotation).
    return list(
        qs.select_related("published_by")
        .defer("document")
        .annotate(stated_published_at=KeyTextTransform("publishedAt", "document"))
        .order_by("-id")[:limit]
    )


def product_consumers(*, user: Any, product: DataProduct) -> list[Consumer]:
    """Teams registered as consumers of the product (each given the product already loaded,
    so permission checks on them read no more rows)."""
    consumers = list(
        restrict(Consumer.objects.filter(product=product), user, "view").order_by("team")
    )
    for consumer in consumers:
        consumer.product = product
    return consumers


def product_example_queries(
    *, user: Any, product: DataProduct, limit: int = 10
) -> list[SavedQuery]:
    """Shared saved queries reading the product that ``user`` may see (issue 19: "Example
    queries"), last run first, with their authors."""
    return list(restrict(SavedQuery.objects.shared_on(product.pk), user, "view")[:limit])


def domain_counts(*, user: Any) -> list[dict[str, Any]]:
    """``[{"domain", "productCount"}]`` over the published products ``user`` may view."""
    rows = (
        restrict(DataProduct.objects.published(), user, "view")
        .order_by()
        .values("domain__slug")
        .annotate(n=Count("pk"))
        .order_by("domain__slug")
    )
    return [{"domain": r["domain__slug"], "productCount": r["n"]} for r in rows]


def domain_list(*, user: Any) -> list[Domain]:
    """Every domain ``user`` may see, with ``product_count`` of its published products."""
    counts = {d["domain"]: d["productCount"] for d in domain_counts(user=user)}
    domains = list(restrict(Domain.objects.all(), user, "view").order_by("slug"))
    for domain in domains:
        domain.product_count = counts.get(domain.slug, 0)
    return domains


def domain_choices(*, user: Any) -> list[Domain]:
    """Every domain ``user`` may see, by slug, without counts (a filter's options)."""
    return list(restrict(Domain.objects.all(), user, "view").order_by("slug"))


def domain_get(*, user: Any, slug: str) -> Domain | None:
    """The domain called ``slug``, if ``user`` may see it."""
    return restrict(Domain.objects.all(), user, "view").filter(slug=slug).first()


def domain_products(*, user: Any, domain: Domain) -> QuerySet[DataProduct]:
    """The domain's products ``user`` may view (drafts only for its team): current ones first."""
    order = Case(
        *(When(status=s, then=Value(i)) for i, s in enumerate(STATUS_ORDER)),
        default=Value(len(STATUS_ORDER)),
        output_field=IntegerField(),
    )
    return (
        with_freshness(restrict(DataProduct.objects.filter(domain=domain), user, "view"))
        .select_related("domain")
        .order_by(order, "product_id")
    )


STATUS_ORDER = (
    ProductStatus.PUBLISHED,
    ProductStatus.DRAFT,
    ProductStatus.DEPRECATED,
    ProductStatus.RETIRED,
)


def domain_owners(*, user: Any, domain: Domain) -> list[TeamMembership]:
    """The domain team's owners (a team list is not secret inside the company)."""
    if not can(user, "view", domain):
        return []
    return list(
        TeamMembership.objects.filter(domain=domain, is_owner=True)
        .select_related("user")
        .order_by("user__username")
    )


def recently_updated(*, user: Any, limit: int = 8) -> list[DataProduct]:
    """The products ``user`` may view that changed most recently (drafts excluded)."""
    qs = with_freshness(
        restrict(DataProduct.objects.select_related("domain"), user, "view").exclude(
            status__in=[ProductStatus.DRAFT, ProductStatus.RETIRED]
        )
    )
    return attach_health(list(qs.order_by("-updated_at")[:limit]))


def open_incidents(*, user: Any, limit: int = 10) -> list[Incident]:
    """Open incidents on products ``user`` may view, newest first."""
    qs = Incident.objects.filter(status=IncidentStatus.OPEN).select_related("product")
    return list(restrict(qs, user, "view").order_by("-opened_at", "-id")[:limit])


@dataclass
class QualityPanel:
    """What the product page and API show about quality; empty lists mean "no data yet"."""

    history: list[CheckResult] = field(default_factory=list)
    latest: list[CheckResult] = field(default_factory=list)
    scores: list[tuple[datetime, float]] = field(default_factory=list)
    sla: SlaStatus | None = None
    incidents: list[Incident] = field(default_factory=list)
    health: Health | None = None
    profile: RunProfile | None = None  # the newest column profile (issue 15; catalog/profiles.py)


SCORE_HISTORY_DAYS = 90
INCIDENTS_SHOWN = 50
# The product page's quality history (results, score chart, incidents) changes only when quality
# records a run or an incident changes, and quality then stores the product's health again
# (``health_at``): each process keeps the history it read per (product, health_at) for this
# long. A product quality has never refreshed is always read afresh.
HISTORY_KEPT_S = 30.0
HISTORIES_KEPT = 2_000
_histories: dict[tuple[Any, ...], tuple[float, tuple[Any, ...]]] = {}


def _latest_results(product: DataProduct, history: list[CheckResult]) -> list[CheckResult]:
    """The results of the newest finished run quality recorded (its stored ``lastRunId``), in
    check order: taken from ``history`` when it holds all of them, else read."""
    facts = product.health_facts if isinstance(product.health_facts, dict) else {}
    run_id, count = facts.get("lastRunId"), facts.get("results")
    if not isinstance(run_id, int):
        return []
    mine = [r for r in history if r.run_id == run_id]
    if isinstance(count, int) and len(mine) == count:
        return sorted(mine, key=lambda r: r.position)
    return list(
        CheckResult.objects.filter(run_id=run_id, run__product=product).order_by("position")
    )


def _quality_history(
    product: DataProduct, *, now: datetime, history_limit: int
) -> tuple[
    list[CheckResult],
    list[CheckResult],
    list[tuple[datetime, float]],
    list[Incident],
    RunProfile | None,
]:
    """(history, latest results, score points, incidents, profile) of the product, kept briefly."""
    key = (product.pk, product.health_at, history_limit)
    clock = time.monotonic()
    hit = _histories.get(key) if product.health_at is not None else None
    if hit is not None and hit[0] > clock:
        return hit[1]
    history = list(CheckResult.objects.history_of(product.pk)[:history_limit])
    read = (
        history,
        _latest_results(product, history),
        CheckRun.objects.score_points(product.pk, since=now - timedelta(days=SCORE_HISTORY_DAYS)),
        list(
            Incident.objects.filter(product=product).order_by("-opened_at", "-id")[:INCIDENTS_SHOWN]
        ),
        RunProfile.objects.latest_of(product.pk),
    )
    if product.health_at is not None:
        if len(_histories) >= HISTORIES_KEPT:
            _histories.clear()
        _histories[key] = (clock + HISTORY_KEPT_S, read)
    return read


def quality_panel(
    *, user: Any, product: DataProduct, now: datetime | None = None, history_limit: int = 30
) -> QualityPanel:
    """Quality history, last results, score history, SLA status, incidents and the verdict."""
    if not can(user, "view", product):
        return QualityPanel()
    now = now or timezone.now()
    history, latest, scores, incidents, profile = _quality_history(
        product, now=now, history_limit=history_limit
    )
    return QualityPanel(
        history=list(history),
        latest=list(latest),
        scores=list(scores),
        sla=product.sla_now(now),
        incidents=list(incidents),
        health=product.health_now(now),
        profile=profile,
    )
