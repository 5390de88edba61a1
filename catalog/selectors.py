"""Reads for the catalog: every selector takes the acting user and goes through ``restrict``.

Quality history, SLA status and incidents come from ``quality.selectors``; until that module
is importable the catalog shows "no data yet" instead of failing (``quality_panel``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType
from typing import Any

from django.db.models import Case, Count, IntegerField, Prefetch, QuerySet, Value, When
from django.utils import timezone

from accounts.models import TeamMembership
from accounts.permissions import can, restrict

from .api.filters import ProductFilterSet, with_freshness
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
    loaded = _search_hits().in_bulk([row[0] for row in rows])
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
    """Set ``product.health`` (quality.health.Health) on each product; returns the list.

    The one verdict every surface shows (issue 12), computed for the whole list at once.
    """
    from quality.selectors import products_health

    verdicts = products_health(products, now=now or timezone.now())
    for product in products:
        product.health = verdicts[product.pk]  # type: ignore[attr-defined]
    return products


def health_counts(products: list[DataProduct]) -> dict[str, int]:
    """How many of ``products`` (with ``attach_health`` done) have each verdict."""
    from quality.health import HEALTH_STATES

    counts = Counter(p.health.state for p in products)  # type: ignore[attr-defined]
    return {state: counts.get(state, 0) for state in HEALTH_STATES}


def needs_attention(*, user: Any, limit: int = 10) -> tuple[list[DataProduct], int]:
    """Live products ``user`` may view that are stale or failing (with ``health``), and how many."""
    from quality.selectors import products_needing_attention

    pairs, total = products_needing_attention(user, now=timezone.now(), limit=limit)
    for product, health in pairs:
        product.health = health  # type: ignore[attr-defined]
    return [product for product, _ in pairs], total


def search_facets(
    qs: QuerySet[DataProduct], *, tag_limit: int = 15
) -> dict[str, list[tuple[str, int]]]:
    """Counts per domain, tag, status and freshness over the matching products."""
    plain = qs.order_by()
    domains = plain.values_list("domain__slug").annotate(n=Count("pk")).order_by("domain__slug")
    statuses = plain.values_list("status").annotate(n=Count("pk")).order_by("status")
    freshness = (
        plain.values_list("freshness_state").annotate(n=Count("pk")).order_by("freshness_state")
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


def product_get(*, user: Any, product_id: str) -> DataProduct | None:
    """The product ``user`` may view, with columns, checks and domain loaded; else None."""
    return (
        with_freshness(restrict(DataProduct.objects.select_related("domain"), user, "view"))
        .prefetch_related(
            Prefetch("columns", queryset=Column.objects.order_by("position")), "checks"
        )
        .filter(product_id=product_id)
        .first()
    )


def product_versions(*, user: Any, product: DataProduct, limit: int = 50) -> list[ContractVersion]:
    """The product's contract versions, newest first (the changelog), each listed once.

    Rows kept from before versions were unique (``is_legacy_duplicate``) repeat a version a
    later row holds, so they are left out (issue 12).
    """
    qs = restrict(
        ContractVersion.objects.filter(product=product, is_legacy_duplicate=False), user, "view"
    )
    return list(qs.select_related("published_by").order_by("-id")[:limit])


def product_consumers(*, user: Any, product: DataProduct) -> list[Consumer]:
    """Teams registered as consumers of the product."""
    return list(restrict(Consumer.objects.filter(product=product), user, "view").order_by("team"))


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
        domain.product_count = counts.get(domain.slug, 0)  # type: ignore[attr-defined]
    return domains


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


STATUS_ORDER = ("published", "draft", "deprecated", "retired")


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


def _quality() -> ModuleType | None:
    try:
        from quality import selectors
    except ImportError:
        return None
    return selectors


def _call(name: str, *args: Any, **kwargs: Any) -> Any:
    module = _quality()
    func = getattr(module, name, None) if module is not None else None
    if func is None:
        return None
    return func(*args, **kwargs)


def open_incidents(*, user: Any, limit: int = 10) -> list[Any]:
    """Open incidents on products ``user`` may view ([] until quality lands)."""
    incidents = _call("open_incidents", user)
    return list(incidents[:limit]) if incidents is not None else []


@dataclass
class QualityPanel:
    """What the product page and API show about quality; empty lists mean "no data yet"."""

    history: list[Any] = field(default_factory=list)
    latest: list[Any] = field(default_factory=list)
    scores: list[tuple[datetime, float]] = field(default_factory=list)
    sla: Any = None
    incidents: list[Any] = field(default_factory=list)
    health: Any = None


def quality_panel(
    *, user: Any, product: DataProduct, now: datetime | None = None, history_limit: int = 30
) -> QualityPanel:
    """Quality history, last results, score history, SLA status and incidents of a product."""
    if not can(user, "view", product):
        return QualityPanel()
    now = now or timezone.now()
    sla = _call("sla_status", product, now=now)
    verdicts = _call("products_health", [product], now=now, slas={product.pk: sla}) or {}
    return QualityPanel(
        history=list(_call("product_quality_history", product, limit=history_limit) or []),
        latest=list(_call("latest_results", product) or []),
        scores=list(_call("score_history", product, days=90) or []),
        sla=sla,
        incidents=list(_call("product_incidents", product) or [])[:50],
        health=verdicts.get(product.pk),
    )
