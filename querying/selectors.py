"""Reads for governed queries: the caller's policy, the audit log, latency statistics.

The policy is resolved here, from the ORM, before the pure governor is called; the governor
never looks anything up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    Count,
    Max,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
)
from django.utils import timezone

from accounts import permissions
from catalog.contract.vocabulary import Access
from catalog.models import Column, DataProduct, ProductStatus, WarehouseConnection
from catalog.warehouses import Connection, product_connection
from querying.governor import ColumnPolicy, Policy, ProductPolicy, unmasked
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
    basis: str | None = None  # why a PII column reads raw (role, domain, grant; issue 17)


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
    # PII column -> why the user reads it raw (role, domain or grant; issue 17).
    raw_basis: dict[str, str] = field(default_factory=dict)


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
# any product saved, added or deleted, its health stored again, or its domain's settings
# changed), and each caller's readable and raw sets per (catalog version,
# ``permissions.scope_key``). What depends on the time (a sunset passed, data gone stale, a
# grant expired) is judged again on every query, and the caller's access grants are read from
# the database on every query (issue 17: a revocation counts from the next query).


@dataclass(frozen=True)
class _Entry:
    """One product as policies read it; ``product`` is never changed once cached."""

    product: DataProduct
    names: frozenset[str]
    columns_masked: tuple[ColumnPolicy, ...]
    listed_masked: tuple[QueryableColumn, ...]
    pii: tuple[str, ...]  # "product_id.column"
    pii_names: frozenset[str]  # the PII columns' names
    # Per role/domain basis (permissions.PRIVILEGED_BASES): every PII column raw with it.
    columns_by_basis: dict[str, tuple[ColumnPolicy, ...]]
    listed_raw: tuple[QueryableColumn, ...]

    def columns(self, basis: str | None, granted: dict[str, str]) -> tuple[ColumnPolicy, ...]:
        """The columns as a caller with ``basis`` (or these grants) reads them."""
        if basis is not None:
            return self.columns_by_basis[basis]
        return unmasked(self.columns_masked, granted)

    def listed(self, basis: str | None, granted: dict[str, str]) -> tuple[QueryableColumn, ...]:
        """The columns as the query page lists them for that caller."""
        if basis is not None:
            return tuple(replace(c, basis=basis) if c.pii else c for c in self.listed_raw)
        if not granted:
            return self.listed_masked
        return tuple(
            replace(c, mask=None, basis=granted[c.name]) if c.name in granted else c
            for c in self.listed_masked
        )


@dataclass(frozen=True)
class _Scope:
    """What one caller may read of a snapshot: readable and raw pks, PII and forbidden names."""

    readable: frozenset[int]
    raw: dict[int, str]  # product pk -> the role/domain basis the caller reads its PII raw by
    pii: frozenset[str]
    forbidden: frozenset[str]


@dataclass
class _Snapshot:
    version: tuple[Any, ...]
    built: float
    entries: tuple[_Entry, ...]
    scopes: dict[tuple[Any, ...], _Scope]
    # product id -> the warehouse connection it is read on (issue 18), kept with the catalog.
    connections: dict[str, Connection] = field(default_factory=dict)


SCOPES_KEPT = 5_000
# A snapshot is rebuilt at least this often, whatever the version says: a bound on how long a
# write that bypasses the version (a bulk UPDATE of products or columns outside the catalog's
# services) can go unseen.
SNAPSHOT_MAX_AGE_S = 60.0
_snapshot_lock = threading.Lock()
_snapshot: _Snapshot | None = None


def _catalog_version() -> tuple[Any, ...]:
    """Changes whenever a product is saved (``updated_at``: every publish, deprecation and
    admin save; columns are only written with their product), added or deleted, its health
    facts are stored again (``health_at``: every run and incident change), its domain's
    settings change (``Domain.updated_at``: who reads PII raw, issue 17), or a warehouse
    connection is added, changed or removed (issue 18). One statement."""
    connections = (
        WarehouseConnection.objects.order_by()
        .annotate(one=Value(1))
        .values("one")
        .annotate(latest=Max("updated_at"), n=Count("pk"))
    )
    row = DataProduct.objects.aggregate(
        changed=Max("updated_at"),
        health=Max("health_at"),
        count=Count("pk"),
        domains=Max("domain__updated_at"),
        connections_at=Max(Subquery(connections.values("latest")[:1])),
        connections=Max(Subquery(connections.values("n")[:1])),
    )
    return (
        row["changed"],
        row["health"],
        row["count"],
        row["domains"],
        row["connections_at"],
        row["connections"],
    )


def _entry(product: DataProduct) -> _Entry:
    columns = list(product.columns.all())
    pii_names = frozenset(c.name for c in columns if c.pii)
    masked = tuple(
        ColumnPolicy(name=c.name, mask=c.effective_mask, type=NULL_MASK_TYPES.get(c.type))
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
        columns_masked=masked,
        listed_masked=listed(False),
        pii=tuple(f"{product.product_id}.{c.name}" for c in columns if c.pii),
        pii_names=pii_names,
        columns_by_basis={
            basis: unmasked(masked, dict.fromkeys(pii_names, basis))
            for basis in sorted(permissions.PRIVILEGED_BASES)
        },
        listed_raw=listed(True),
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
    products = list(
        DataProduct.objects.defer("search_vector")
        .select_related("domain", "warehouse", "domain__warehouse")
        .prefetch_related(Prefetch("columns", queryset=Column.objects.order_by("position")))
    )
    fresh = _Snapshot(
        version=version,
        built=time.monotonic(),
        entries=tuple(_entry(p) for p in products),
        scopes={},
        connections={p.product_id: product_connection(p) for p in products},
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
    # The one raw-PII rule (accounts.permissions), applied to the snapshot's domains.
    pii_scope = permissions.pii_scope(user)
    raw: dict[int, str] = {}
    for entry in snapshot.entries:
        domain = entry.product.domain
        basis = pii_scope.basis(domain.pk, domain.members_see_raw)
        if basis is not None and entry.product.pk in readable:
            raw[entry.product.pk] = basis
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


def product_connections(product_ids: Sequence[str]) -> dict[str, Connection]:
    """product id -> the warehouse connection it is read on, from the process's snapshot of
    the catalog: the one ``query_policy`` has just checked is current (governed queries ask
    right after it, so no second version query), else a current one."""
    snapshot = _snapshot if _snapshot is not None else _catalog()
    connections = snapshot.connections
    return {pid: connections[pid] for pid in product_ids if pid in connections}


def query_policy(
    user: Any, *, now: datetime, preview: str | None = None
) -> tuple[Policy, frozenset[str], frozenset[str]]:
    """The governor's inputs for ``user``: (policy, PII column names, forbidden names).

    Steps: every product with its columns (the process's snapshot of the catalog); the
    user's active access grants at ``now`` (read now, never kept); products the user may read
    become a ProductPolicy (PII masked, except all of it for a role or domain basis and exactly
    the granted columns of a granted product, each raw column carrying its justification;
    retired, past-sunset products carry a refusal, restricted ones without raw access or a
    grant a 403 refusal, deprecated ones a warning, stale or failing ones a health warning,
    judged at ``now``); every name of a product the user may not read, and no readable product
    answers to, is forbidden (403 rather than "unknown table").

    ``preview``: a product id whose restriction is not applied (its columns stay masked as
    usual): only for the product page's sample rows, whose SQL the portal writes itself
    (issue 17: a restricted product is "listed and previewable masked").
    """
    snapshot = _catalog()
    scope = _scope(snapshot, user)
    grants = permissions.active_grants(user, now=now)
    policies: list[ProductPolicy] = []
    for entry in snapshot.entries:
        product = entry.product
        if product.pk not in scope.readable:
            continue
        basis = scope.raw.get(product.pk)
        held = [g for g in grants if g.product_pk == product.pk] if basis is None else []
        granted = _granted(entry, held)
        refusal, warning = _status_rule(product, now)
        code, status = "PRODUCT_NOT_QUERYABLE", 400
        if refusal is None and basis is None and not held and product.product_id != preview:
            refusal = _restricted_refusal(product)
            if refusal is not None:
                code, status = "ACCESS_REQUIRED", 403
        policies.append(
            ProductPolicy(
                product_id=product.product_id,
                table=product.table,
                columns=entry.columns(basis, granted),
                names=(product.product_name,),
                refusal=refusal,
                refusal_code=code,
                refusal_status=status,
                warning=_warning(warning, _health_warning(product, now)),
            )
        )
    policy = Policy(
        products=tuple(policies),
        hash_key=settings.PII_HASH_KEY,
        max_rows=settings.QUERY_MAX_ROWS,
    )
    return policy, scope.pii, scope.forbidden


def _granted(entry: _Entry, grants: Sequence[permissions.Grant]) -> dict[str, str]:
    """The PII columns of ``entry`` the grants unmask, with the grant's justification (a grant
    names columns; only the product's PII columns are ever unmasked by one)."""
    if not grants:
        return {}
    granted = permissions.granted_columns(grants, entry.product.pk)
    return {name: basis for name, basis in granted.items() if name in entry.pii_names}


def _restricted_refusal(product: DataProduct) -> str | None:
    """Why a restricted product refuses a caller with neither raw access nor a grant."""
    if product.access != Access.RESTRICTED:
        return None
    return (
        f"{product.product_id} is restricted: querying it needs an access grant "
        "(request raw access on its page)"
    )


def queryable_products(user: Any, *, now: datetime) -> list[QueryableProduct]:
    """The products ``user`` may read, with each column's mask as it applies to them."""
    snapshot = _catalog()
    scope = _scope(snapshot, user)
    grants = permissions.active_grants(user, now=now)
    out = []
    for entry in snapshot.entries:
        product = entry.product
        if product.pk not in scope.readable:
            continue
        basis = scope.raw.get(product.pk)
        held = [g for g in grants if g.product_pk == product.pk] if basis is None else []
        granted = _granted(entry, held)
        refusal, warning = _status_rule(product, now)
        if refusal is None and basis is None and not held:
            refusal = _restricted_refusal(product)
        out.append(
            QueryableProduct(
                product_id=product.product_id,
                name=product.name,
                table=product.table,
                status=product.status,
                columns=entry.listed(basis, granted),
                warning=_warning(warning, _health_warning(product, now)),
                refusal=refusal,
                sees_raw_pii=basis is not None,
                raw_basis=dict.fromkeys(entry.pii_names, basis) if basis else granted,
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
