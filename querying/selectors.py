"""Reads for governed queries: the caller's policy, the audit log, latency statistics.

The policy is resolved here, from the ORM, before the pure governor is called; the governor
never looks anything up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    Count,
    Max,
    Prefetch,
    QuerySet,
)
from django.utils import timezone

from accounts import permissions
from catalog.models import Column, DataProduct, ProductStatus
from querying.governor import ColumnPolicy, Policy, ProductPolicy
from querying.governor.policy import NULL_MASK_TYPES

from .models import QueryLog, QueryProductUse

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


def _health_warning(product: DataProduct, now: datetime) -> str | None:
    """A warning when the product's health verdict is stale or failing (issue 12).

    The verdict every page shows: the facts quality stored on the product, judged at ``now``
    (``DataProduct.health_now``); no query.
    """
    health = product.health_now(now)
    if not health.needs_attention:
        return None
    summary = health.summary
    return f"{product.product_id} is {health.state}: {summary[:1].lower()}{summary[1:]}"


def _warning(lifecycle: str | None, health: str | None) -> str | None:
    """The lifecycle warning and the health warning of one product, as one text."""
    if lifecycle and health:
        return f"{lifecycle}. {health}"
    return lifecycle or health


def _names(product: DataProduct) -> frozenset[str]:
    return frozenset(
        {
            product.product_id.lower(),
            product.table.lower(),
            product.product_name.lower(),
            *(f"{schema}.{product.table.lower()}" for schema in SCHEMAS),
        }
    )


# --- The catalog as governed queries read it, kept per process between catalog changes -------
#
# Every governed query needs every product with its columns, and which of them the caller may
# read (raw or masked). Building that from the ORM cost more than the rest of a light query, so
# each process keeps it: the catalog snapshot until the catalog changes (``_catalog_version``:
# any product saved, added or deleted, or its health stored again), and each caller's readable
# and raw sets per (catalog version, ``permissions.scope_key``). What depends on the time (a
# sunset passed, data gone stale) is judged again on every query.


@dataclass(frozen=True)
class _Entry:
    """One product as policies read it; ``product`` is never changed once cached."""

    product: DataProduct
    names: frozenset[str]
    columns_masked: tuple[ColumnPolicy, ...]
    columns_raw: tuple[ColumnPolicy, ...]
    listed_masked: tuple[QueryableColumn, ...]
    listed_raw: tuple[QueryableColumn, ...]
    pii: tuple[str, ...]


@dataclass(frozen=True)
class _Scope:
    """What one caller may read of a snapshot: readable and raw pks, PII and forbidden names."""

    readable: frozenset[int]
    raw: frozenset[int]
    pii: frozenset[str]
    forbidden: frozenset[str]


@dataclass
class _Snapshot:
    version: tuple[Any, ...]
    built: float
    entries: tuple[_Entry, ...]
    scopes: dict[tuple[Any, ...], _Scope]


SCOPES_KEPT = 5_000
# A snapshot is rebuilt at least this often, whatever the version says: a bound on how long a
# write that bypasses the version (a bulk UPDATE of products or columns outside the catalog's
# services) can go unseen.
SNAPSHOT_MAX_AGE_S = 60.0
_snapshot_lock = threading.Lock()
_snapshot: _Snapshot | None = None


def _catalog_version() -> tuple[Any, ...]:
    """Changes whenever a product is saved (``updated_at``: every publish, deprecation and
    admin save; columns are only written with their product), added or deleted, or its health
    facts are stored again (``health_at``: every run and incident change). One aggregate."""
    row = DataProduct.objects.aggregate(
        changed=Max("updated_at"), health=Max("health_at"), count=Count("pk")
    )
    return (row["changed"], row["health"], row["count"])


def _entry(product: DataProduct) -> _Entry:
    columns = list(product.columns.all())

    def policies(raw: bool) -> tuple[ColumnPolicy, ...]:
        return tuple(
            ColumnPolicy(
                name=c.name,
                mask=None if raw else c.effective_mask,
                type=NULL_MASK_TYPES.get(c.type),
            )
            for c in columns
        )

    def listed(raw: bool) -> tuple[QueryableColumn, ...]:
        return tuple(
            QueryableColumn(
                name=c.name,
                type=c.type,
                description=c.description,
                pii=c.pii,
                mask=None if raw else c.effective_mask,
            )
            for c in columns
        )

    return _Entry(
        product=product,
        names=_names(product),
        columns_masked=policies(False),
        columns_raw=policies(True),
        listed_masked=listed(False),
        listed_raw=listed(True),
        pii=tuple(f"{product.product_id}.{c.name}" for c in columns if c.pii),
    )


def _catalog() -> _Snapshot:
    """The current snapshot (one aggregate query when it is still current)."""
    global _snapshot
    version = _catalog_version()
    snapshot = _snapshot
    if (
        snapshot is not None
        and snapshot.version == version
        and time.monotonic() - snapshot.built < SNAPSHOT_MAX_AGE_S
    ):
        return snapshot
    products = DataProduct.objects.defer("search_vector").prefetch_related(
        Prefetch("columns", queryset=Column.objects.order_by("position"))
    )
    fresh = _Snapshot(
        version=version,
        built=time.monotonic(),
        entries=tuple(_entry(p) for p in products),
        scopes={},
    )
    with _snapshot_lock:
        _snapshot = fresh
    return fresh


def _scope(snapshot: _Snapshot, user: Any) -> _Scope:
    """Which products of ``snapshot`` ``user`` may read, and raw; kept per permission scope."""
    key = permissions.scope_key(user)
    scope = snapshot.scopes.get(key)
    if scope is not None:
        return scope
    pks = [e.product.pk for e in snapshot.entries]
    everything = DataProduct.objects.filter(pk__in=pks)
    readable = frozenset(
        permissions.restrict(everything, user, "view").values_list("pk", flat=True)
    )
    raw = frozenset(permissions.restrict(everything, user, "view_pii").values_list("pk", flat=True))
    visible: set[str] = set()
    hidden: set[str] = set()
    pii: set[str] = set()
    for entry in snapshot.entries:
        if entry.product.pk in readable:
            visible |= entry.names
            pii.update(entry.pii)
        else:
            hidden |= entry.names
    scope = _Scope(
        readable=readable,
        raw=raw,
        pii=frozenset(pii),
        forbidden=frozenset(hidden - visible),
    )
    if len(snapshot.scopes) >= SCOPES_KEPT:
        snapshot.scopes.clear()
    snapshot.scopes[key] = scope
    return scope


def query_policy(user: Any, *, now: datetime) -> tuple[Policy, frozenset[str], frozenset[str]]:
    """The governor's inputs for ``user``: (policy, PII column names, forbidden names).

    Steps: every product with its columns (the process's snapshot of the catalog); products
    the user may read become a ProductPolicy (PII masked unless the user may view it raw;
    retired, past-sunset products carry a refusal, deprecated ones a warning, stale or failing
    ones a health warning, judged at ``now``); every name of a product the user may not read,
    and no readable product answers to, is forbidden (403 rather than "unknown table").
    """
    snapshot = _catalog()
    scope = _scope(snapshot, user)
    policies: list[ProductPolicy] = []
    for entry in snapshot.entries:
        product = entry.product
        if product.pk not in scope.readable:
            continue
        refusal, warning = _status_rule(product, now)
        policies.append(
            ProductPolicy(
                product_id=product.product_id,
                table=product.table,
                columns=entry.columns_raw if product.pk in scope.raw else entry.columns_masked,
                names=(product.product_name,),
                refusal=refusal,
                warning=_warning(warning, _health_warning(product, now)),
            )
        )
    policy = Policy(
        products=tuple(policies),
        hash_key=settings.PII_HASH_KEY,
        max_rows=settings.QUERY_MAX_ROWS,
    )
    return policy, scope.pii, scope.forbidden


def queryable_products(user: Any, *, now: datetime) -> list[QueryableProduct]:
    """The products ``user`` may read, with each column's mask as it applies to them."""
    snapshot = _catalog()
    scope = _scope(snapshot, user)
    out = []
    for entry in snapshot.entries:
        product = entry.product
        if product.pk not in scope.readable:
            continue
        sees_raw = product.pk in scope.raw
        refusal, warning = _status_rule(product, now)
        out.append(
            QueryableProduct(
                product_id=product.product_id,
                name=product.name,
                table=product.table,
                status=product.status,
                columns=entry.listed_raw if sees_raw else entry.listed_masked,
                warning=_warning(warning, _health_warning(product, now)),
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


def products_latency_p95_ms(
    product_ids: Sequence[str], days: int = 7, *, now: datetime | None = None
) -> dict[str, float]:
    """Nearest-rank p95 latency per product id over ``days`` (ids without queries are absent);
    the rule is ``QueryProductUseQuerySet.latency_p95_ms``'s."""
    since = (now or timezone.now()) - timedelta(days=days)
    return QueryProductUse.objects.latency_p95_ms(product_ids, since=since)


def product_latency_p95_ms(
    product_id: str, days: int = 7, *, now: datetime | None = None
) -> float | None:
    """Nearest-rank p95 latency of governed queries on ``product_id`` (see the plural), or None."""
    return products_latency_p95_ms([product_id], days, now=now).get(product_id)


def products_query_outcomes(
    product_ids: Sequence[str], days: int = 30, *, now: datetime | None = None
) -> dict[str, tuple[int, int]]:
    """Per product id: (governed queries answered, queries the warehouse could not answer) over
    ``days``; the rule is ``QueryProductUseQuerySet.outcomes``'s."""
    since = (now or timezone.now()) - timedelta(days=days)
    return QueryProductUse.objects.outcomes(product_ids, since=since)


# --- The audit log, for the people it is for (issue 12) -----------------------------------


def query_log_visible(user: Any) -> QuerySet[QueryLog]:
    """The audit rows ``user`` may read, newest first.

    Platform admins read every row; owners read every query that used one of their domain's
    products (whoever ran it, with its SQL as written); everyone reads their own queries.
    Refused requests that named no readable product used none, so only their author and
    admins see them.
    """
    # Imported here: this section is self-contained (the module's imports serve the policy).
    from django.db.models import Exists, OuterRef
    from django.db.models import Q as Where

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return QueryLog.objects.none()
    logs = QueryLog.objects.order_by("-created_at", "-id")
    if permissions.is_admin(user):
        return logs
    owned = permissions.restrict(DataProduct.objects.all(), user, "change").values("product_id")
    on_owned = QueryProductUse.objects.filter(log=OuterRef("pk"), product_id__in=owned)
    return logs.filter(Where(user=user) | Where(Exists(on_owned)))


def without_hash_key(text: str) -> str:
    """``text`` with the PII hash key replaced, for audit text shown to people.

    The executed SQL names the key as a session variable and never holds it (issue 11); rows
    written before that change, or SQL that quoted the key, must still not show it.
    """
    key = str(getattr(settings, "PII_HASH_KEY", "") or "")
    return text.replace(key, "<PII hash key>") if key and key in text else text
