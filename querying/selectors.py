"""Reads for governed queries: the caller's policy, the audit log, latency statistics.

The policy is resolved here, from the ORM, before the pure governor is called; the governor
never looks anything up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from accounts import permissions
from catalog.models import DataProduct, ProductStatus
from querying.governor import ColumnPolicy, Policy, ProductPolicy
from querying.governor.policy import NULL_MASK_TYPES

from .models import QueryDecision, QueryLog, QueryProductUse

# Schemas an unqualified physical table can be written with (DuckDB main, PostgreSQL public).
SCHEMAS = ("main", "public")


@dataclass(frozen=True)
class QueryableColumn:
    """A column as the query page shows it to one user."""

    name: str
    type: str
    description: str
    pii: bool
    mask: str | None  # None: the user sees raw values


@dataclass(frozen=True)
class QueryableProduct:
    """A product the query page lists for one user, with how its columns will read."""

    product_id: str
    name: str
    table: str
    status: str
    columns: tuple[QueryableColumn, ...]
    warning: str | None
    refusal: str | None
    sees_raw_pii: bool


def _date(value: datetime) -> str:
    return timezone.localtime(value).date().isoformat()


def _status_rule(product: DataProduct, now: datetime) -> tuple[str | None, str | None]:
    """(refusal, warning) for a product the user may read, from its lifecycle state."""
    pid = product.product_id
    replaced = f", use {product.deprecation_replaced_by}" if product.deprecation_replaced_by else ""
    if product.status == ProductStatus.RETIRED:
        return f"{pid} is retired and can no longer be queried{replaced}", None
    if product.status == ProductStatus.DEPRECATED:
        sunset = product.deprecation_sunset_at
        if sunset is not None and sunset <= now:
            ended = f"{pid} reached its sunset on {_date(sunset)}"
            return f"{ended} and can no longer be queried{replaced}", None
        when = f" (sunset {_date(sunset)})" if sunset is not None else ""
        return None, f"{pid} is deprecated{when}{replaced}"
    if product.status == ProductStatus.DRAFT:
        # Only members reach here (restrict(..., "view") hides other teams' drafts).
        return None, f"{pid} is a draft: its contract may still change"
    return None, None


def _products(user: Any) -> tuple[QuerySet[DataProduct], set[int], set[int]]:
    """Every product, and the ids of those ``user`` may read and may read raw PII of."""
    everything = DataProduct.objects.select_related("domain").prefetch_related("columns")
    readable = set(
        permissions.restrict(DataProduct.objects.all(), user, "view").values_list("pk", flat=True)
    )
    raw = set(
        permissions.restrict(DataProduct.objects.all(), user, "view_pii").values_list(
            "pk", flat=True
        )
    )
    return everything, readable, raw


def _names(product: DataProduct) -> set[str]:
    return {
        product.product_id.lower(),
        product.table.lower(),
        product.product_name.lower(),
        *(f"{schema}.{product.table.lower()}" for schema in SCHEMAS),
    }


def query_policy(user: Any, *, now: datetime) -> tuple[Policy, frozenset[str], frozenset[str]]:
    """The governor's inputs for ``user``: (policy, PII column names, forbidden names).

    Steps: load every product with its columns; products the user may read become a
    ProductPolicy (PII masked unless the user may view it raw; retired, past-sunset products
    carry a refusal, deprecated ones a warning); every name of a product the user may not read,
    and no readable product answers to, is forbidden (403 rather than "unknown table").
    """
    everything, readable, raw = _products(user)
    policies: list[ProductPolicy] = []
    pii: set[str] = set()
    hidden: set[str] = set()
    for product in everything:
        if product.pk not in readable:
            hidden |= _names(product)
            continue
        sees_raw = product.pk in raw
        columns = []
        for column in product.columns.all():
            if column.pii:
                pii.add(f"{product.product_id}.{column.name}")
            columns.append(
                ColumnPolicy(
                    name=column.name,
                    mask=None if sees_raw else column.effective_mask,
                    type=NULL_MASK_TYPES.get(column.type),
                )
            )
        refusal, warning = _status_rule(product, now)
        policies.append(
            ProductPolicy(
                product_id=product.product_id,
                table=product.table,
                columns=tuple(columns),
                names=(product.product_name,),
                refusal=refusal,
                warning=warning,
            )
        )
    visible: set[str] = set()
    for product in everything:
        if product.pk in readable:
            visible |= _names(product)
    policy = Policy(
        products=tuple(policies),
        hash_key=settings.PII_HASH_KEY,
        max_rows=settings.QUERY_MAX_ROWS,
    )
    return policy, frozenset(pii), frozenset(hidden - visible)


def queryable_products(user: Any, *, now: datetime) -> list[QueryableProduct]:
    """The products ``user`` may read, with each column's mask as it applies to them."""
    everything, readable, raw = _products(user)
    out = []
    for product in everything:
        if product.pk not in readable:
            continue
        sees_raw = product.pk in raw
        refusal, warning = _status_rule(product, now)
        out.append(
            QueryableProduct(
                product_id=product.product_id,
                name=product.name,
                table=product.table,
                status=product.status,
                columns=tuple(
                    QueryableColumn(
                        name=c.name,
                        type=c.type,
                        description=c.description,
                        pii=c.pii,
                        mask=None if sees_raw else c.effective_mask,
                    )
                    for c in product.columns.all()
                ),
                warning=warning,
                refusal=refusal,
                sees_raw_pii=sees_raw,
            )
        )
    return out


def recent_queries(user: Any, limit: int = 20) -> QuerySet[QueryLog]:
    """The user's own latest queries, newest first."""
    if not getattr(user, "is_authenticated", False):
        return QueryLog.objects.none()
    return QueryLog.objects.filter(user=user).order_by("-created_at", "-id")[:limit]


def own_query(user: Any, log_id: object) -> QueryLog | None:
    """One of the user's own logged queries (to reload it), or None."""
    text = str(log_id)
    # isdigit() alone lets "²" through (int() then fails); 18 digits always fit a bigint.
    if not getattr(user, "is_authenticated", False) or not (
        text.isascii() and text.isdigit() and len(text) <= 18
    ):
        return None
    return QueryLog.objects.filter(user=user, pk=int(text)).first()


def product_latency_p95_ms(
    product_id: str, days: int = 7, *, now: datetime | None = None
) -> float | None:
    """Nearest-rank p95 of allowed queries' durations that touched ``product_id``, or None."""
    since = (now or timezone.now()) - timedelta(days=days)
    uses = QueryProductUse.objects.filter(
        product_id=product_id,
        decision=QueryDecision.ALLOWED,
        created_at__gte=since,
        duration_ms__isnull=False,
    )
    count = uses.count()
    if count == 0:
        return None
    rank = math.ceil(0.95 * count) - 1
    value = uses.order_by("duration_ms").values_list("duration_ms", flat=True)[rank]
    return float(value)
